"""Do the models fit? Posterior predictive checks with statistics that matter for grouped data.

For each statistic ``T``, the replicated data ``y_rep`` (``posterior_predictive`` in the fit's
DataTree, one binomial draw per group per posterior draw, one normal draw ``y_rep ~ N(theta_i,
s_i^2)`` for estimates, or one Poisson draw ``y_rep ~ Poisson(E_i theta_i)`` for event counts in an
exposure) give the distribution of ``T(y_rep)``, and the posterior predictive p-value
``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2`` (the mid-p value, so that
discrete statistics such as counts of groups are not biased towards 1). Values near 0 or 1 say the
model does not reproduce that feature of the data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..families import registry
from ..fitting.fit import Fit


def _rates(y: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, y / np.maximum(n, 1), np.nan)


#: The statistics: name -> (description, function of (y, n) with y of shape (..., groups)).
STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "all_successes": ("groups with every trial a success", lambda y, n: np.sum((y == n) & (n > 0), axis=-1)),
    "no_successes": ("groups with no success", lambda y, n: np.sum((y == 0) & (n > 0), axis=-1)),
    "sd_rate": ("spread (sd) of the groups' rates y/n", lambda y, n: np.nanstd(_rates(y, n), axis=-1)),
    "min_rate": ("lowest rate y/n", lambda y, n: np.nanmin(_rates(y, n), axis=-1)),
    "max_rate": ("highest rate y/n", lambda y, n: np.nanmax(_rates(y, n), axis=-1)),
}


#: The statistics of estimates ``y`` with standard errors ``s`` (the normal-normal family), as
#: name -> (description, function of (y, s)). The count of ``|y/s| > 1.96`` is the number of studies
#: "significant" on their own at the two-sided 5% level: a model whose groups vary too little, or too
#: much, misses it.
NORMAL_STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "sd_estimate": ("spread (sd) of the estimates", lambda y, s: np.std(y, axis=-1)),
    "min_estimate": ("lowest estimate", lambda y, s: np.min(y, axis=-1)),
    "max_estimate": ("highest estimate", lambda y, s: np.max(y, axis=-1)),
    "significant": ("estimates with |y/s| > 1.96", lambda y, s: np.sum(np.abs(y / s) > 1.96, axis=-1)),
}


def _event_rates(y: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Raw rates ``y / E``; NaN where there is no exposure (any positive exposure, below 1 too)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(exposure > 0, y / np.where(exposure > 0, exposure, 1.0), np.nan)


def _dispersion(y: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Pearson's ``X^2 = sum_i (y_i - E_i r)^2 / (E_i r)`` about the pooled rate ``r = sum y / sum E``.

    Over the groups with exposure; about ``G - 1`` (its degrees of freedom) for Poisson counts that
    share one rate, far above when the rates vary. No event anywhere: nothing varies, ``X^2 = 0``.
    """
    seen = exposure > 0
    e = exposure[seen]
    y = y[..., seen].astype(float)
    total = y.sum(axis=-1, keepdims=True)
    expected = e * total / e.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (y - expected) ** 2 / np.where(expected > 0, expected, 1.0), 0.0)
    return terms.sum(axis=-1)


#: The statistics of event counts ``y`` in exposures ``E`` (the gamma-Poisson family), as
#: name -> (description, function of (y, E)). The rates ``y / E`` are those of the groups with
#: exposure. Their spread and largest value are what partial pooling shrinks; the groups with no
#: event test the population's lower tail (a Gamma of small shape puts mass near 0); Pearson's
#: dispersion about the pooled rate is the classical test of extra-Poisson variation, which one
#: shared rate (complete pooling) cannot reproduce when the rates differ.
RATE_STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "sd_rate": ("spread (sd) of the groups' rates y/E", lambda y, e: np.nanstd(_event_rates(y, e), axis=-1)),
    "max_rate": ("highest rate y/E", lambda y, e: np.nanmax(_event_rates(y, e), axis=-1)),
    "no_events": ("groups with no event", lambda y, e: np.sum((y == 0) & (e > 0), axis=-1)),
    "dispersion": ("Pearson X² about the pooled rate", _dispersion),
}

#: Statistics that count groups (discrete: the figures bin them by whole numbers).
COUNTS = frozenset({"all_successes", "no_successes", "significant", "no_events"})


#: The statistics of each kind of data (:attr:`~poolwise.families.registry.Family.data`).
BY_DATA = {"binomial": STATISTICS, "estimates": NORMAL_STATISTICS, "rates": RATE_STATISTICS}


def statistics_for(fit: Fit) -> dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]]:
    """Return the statistics that suit the fit's data.

    :data:`NORMAL_STATISTICS` for estimates, :data:`RATE_STATISTICS` for event counts in an
    exposure, :data:`STATISTICS` for binomial counts (:data:`BY_DATA`).

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    dict
        Name -> (description, function of the data's count and size columns).
    """
    return BY_DATA[registry.get(fit.family).data]


def replicated(fit: Fit) -> dict[str, tuple[float, np.ndarray]]:
    """Each statistic's observed value and its values on the replicated data sets."""
    count, size = registry.get(fit.family).roles
    y, spread = getattr(fit.data, count), getattr(fit.data, size)
    # a standard error is never 0; trials and exposure may all be
    if not np.any(spread > 0):
        raise ValueError(f"no group has any {size}: there is nothing to check")
    y_rep = fit.idata["posterior_predictive"]["y"].values
    y_rep = y_rep.reshape(-1, y_rep.shape[-1])
    return {
        name: (float(statistic(y, spread)), statistic(y_rep, spread).astype(float))
        for name, (_, statistic) in statistics_for(fit).items()
    }


def p_value(observed: float, values: np.ndarray) -> float:
    """Mid-p posterior predictive p-value ``P(T_rep > T) + P(T_rep = T) / 2``."""
    return float(np.mean(values > observed) + 0.5 * np.mean(values == observed))


def ppc(fit: Fit) -> pd.DataFrame:
    """Posterior predictive checks of a fit.

    Returns
    -------
    pandas.DataFrame
        One row per statistic (:data:`STATISTICS` for counts, :data:`NORMAL_STATISTICS` for
        estimates, :data:`RATE_STATISTICS` for event counts in an exposure): ``description``,
        ``observed``, ``mean_rep``, ``sd_rep``, the 3% and 97% quantiles of the replicated
        statistic, and ``p_value`` (mid-p). Groups with no trials (no exposure) are left out of the
        rate statistics.
    """
    described = statistics_for(fit)
    rows = {}
    for name, (observed, values) in replicated(fit).items():
        rows[name] = {
            "description": described[name][0],
            "observed": observed,
            "mean_rep": values.mean(),
            "sd_rep": values.std(),
            "rep_3%": np.quantile(values, 0.03),
            "rep_97%": np.quantile(values, 0.97),
            "p_value": p_value(observed, values),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("statistic")
