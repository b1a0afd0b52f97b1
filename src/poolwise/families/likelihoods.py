"""A group's data given its ``theta``: the three likelihoods the families share.

Binomial counts (beta-binomial, logit-normal), an estimate with a known standard error
(normal-normal) and events in an exposure (gamma-Poisson). Each :class:`Likelihood` says which
columns of the validated data a reader sees, which array is the observed ``y`` and which are
constants, and gives pointwise log-likelihoods and replicated data for draws of ``theta``: what the
fitting layer needs to build the DataTree and the group table without naming a family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..data import BinomialData, EstimateData, RateData
from . import beta_binomial, gamma_poisson, normal_normal


class Likelihood(Protocol):
    """``p(y_i | theta_i)`` for one kind of data (see the module's docstring)."""

    def observed(self, data) -> dict[str, np.ndarray]:
        """Return a group's own data as the group table shows it, by column."""

    def y(self, data) -> np.ndarray:
        """Return the observed ``y_i``."""

    def constants(self, data) -> dict[str, np.ndarray]:
        """Return the known quantities of each group's likelihood (trials, standard errors, exposure)."""

    def log_likelihood(self, data, theta: np.ndarray) -> np.ndarray:
        """Return the pointwise ``log p(y_i | theta_i)`` for draws ``theta`` of shape ``(..., groups)``."""

    def log_density(self, count: np.ndarray, size: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Return ``log p(count | size, theta)`` for arrays in the data's (count, size) roles."""

    def replicate(self, rng: np.random.Generator, data, theta: np.ndarray) -> np.ndarray:
        """Return a replicate of ``y`` drawn given ``theta`` (the posterior predictive)."""


def _ratio(count: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``count / size``, NaN where the size is 0 (no data, no raw rate)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(size > 0, count / np.where(size > 0, size, 1.0), np.nan)


@dataclass(frozen=True)
class Binomial:
    """``y_i ~ Binomial(n_i, theta_i)``: successes of trials."""

    def observed(self, data: BinomialData) -> dict[str, np.ndarray]:  # noqa: D102 (the protocol's)
        return {
            "successes": data.successes,
            "trials": data.trials,
            "raw_rate": _ratio(data.successes, data.trials),
        }

    def y(self, data: BinomialData) -> np.ndarray:  # noqa: D102
        return data.successes

    def constants(self, data: BinomialData) -> dict[str, np.ndarray]:  # noqa: D102
        return {"n": data.trials}

    def log_likelihood(self, data: BinomialData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.log_density(data.successes, data.trials, theta)

    def log_density(self, count: np.ndarray, size: np.ndarray, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return beta_binomial.binomial_logpmf(count, size, theta)

    def replicate(self, rng: np.random.Generator, data: BinomialData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return rng.binomial(data.trials, theta)


@dataclass(frozen=True)
class Normal:
    """``y_i ~ N(theta_i, s_i^2)`` with ``s_i`` known: estimates with standard errors."""

    def observed(self, data: EstimateData) -> dict[str, np.ndarray]:  # noqa: D102
        return {"estimate": data.estimate, "std_error": data.std_error}

    def y(self, data: EstimateData) -> np.ndarray:  # noqa: D102
        return data.estimate

    def constants(self, data: EstimateData) -> dict[str, np.ndarray]:  # noqa: D102
        return {"sigma": data.std_error}

    def log_likelihood(self, data: EstimateData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.log_density(data.estimate, data.std_error, theta)

    def log_density(self, count: np.ndarray, size: np.ndarray, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return normal_normal.normal_logpdf(count, theta, size)

    def replicate(self, rng: np.random.Generator, data: EstimateData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return rng.normal(theta, data.std_error)


@dataclass(frozen=True)
class Poisson:
    """``y_i ~ Poisson(E_i theta_i)``: events in an exposure."""

    def observed(self, data: RateData) -> dict[str, np.ndarray]:  # noqa: D102
        return {
            "events": data.events,
            "exposure": data.exposure,
            "raw_rate": _ratio(data.events, data.exposure),
        }

    def y(self, data: RateData) -> np.ndarray:  # noqa: D102
        return data.events

    def constants(self, data: RateData) -> dict[str, np.ndarray]:  # noqa: D102
        return {"exposure": data.exposure}

    def log_likelihood(self, data: RateData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.log_density(data.events, data.exposure, theta)

    def log_density(self, count: np.ndarray, size: np.ndarray, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return gamma_poisson.poisson_logpmf(count, size, theta)

    def replicate(self, rng: np.random.Generator, data: RateData, theta: np.ndarray) -> np.ndarray:  # noqa: D102
        return rng.poisson(data.exposure * theta)
