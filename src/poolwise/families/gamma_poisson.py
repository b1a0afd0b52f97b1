r"""Event counts with exposure and a Gamma population: the gamma-Poisson family.

Model (partial pooling)::

    y_i | lambda_i   ~ Poisson(E_i * lambda_i)     # events in exposure E_i (hours, person-years)
    lambda_i | a, b  ~ Gamma(alpha, beta)          # shape alpha, rate beta
    (alpha, beta)    ~ p(alpha, beta)              # or priors on mu = alpha / beta and alpha

Integrating ``lambda_i`` out gives the negative-binomial marginal likelihood

.. math::

    p(y | \alpha, \beta) = \prod_i \frac{\Gamma(\alpha + y_i)}{\Gamma(\alpha)\, y_i!}
        \frac{\beta^\alpha E_i^{y_i}}{(\beta + E_i)^{\alpha + y_i}},

and given ``(alpha, beta)`` each group's posterior is ``Gamma(alpha + y_i, beta + E_i)``. The
hyperparameters are integrated in ``u = log(mu)`` (the population's mean rate) and ``v = log(alpha)``
(its shape: the squared inverse of the rates' coefficient of variation; ``alpha -> inf`` is complete
pooling, as ``kappa`` is for the beta-binomial). Then ``beta = exp(v - u)`` and the Jacobian of
``(u, v) -> (alpha, beta)`` is ``alpha * beta``.

No and complete pooling are conjugate: ``lambda_i ~ Gamma(a0 + y_i, b0 + E_i)`` and
``lambda ~ Gamma(a0 + sum y, b0 + sum E)``.

The rates are in events per unit of exposure; a rate prior's scale (``beta``, ``mu``) is in the
same units.

What the analysis layer asks every family by the same name: ``shrinkage_weight``,
``prior_alternatives``, ``new_group`` (see :mod:`poolwise.families.beta_binomial`) and the constant
:data:`CENTRED_ON_DATA`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from .. import priors as pr
from .._core import mixture as mixturelib
from .._core.grid import Box, HyperLine
from .._core.grid import log_posterior as log_posterior_of
from .._core.marginal import GammaRows, GridMarginal
from ..priors import Gamma, JointPrior, Prior
from .beta_binomial import population_weight

#: Half-width, in ``log(mu)``, of the search box around the pooled rate; and the range of
#: ``log(alpha)``: the same 2e-9 to 7e10 as the beta-binomial's ``kappa``.
_LOG_RATE_HALF_WIDTH = 30.0
_LOG_SHAPE_LIMITS = (-20.0, 25.0)


@dataclass(frozen=True)
class Pairs:
    """Distinct ``(exposure, events)`` pairs: the likelihood depends on the data only through them.

    ``inverse[i]`` is the pair of group ``i``; ``count[p]`` the number of groups with pair ``p``.
    """

    exposure: np.ndarray
    events: np.ndarray
    count: np.ndarray
    inverse: np.ndarray

    @classmethod
    def from_counts(cls, exposure: np.ndarray, events: np.ndarray) -> Pairs:
        """Compress per-group counts (exact: events below 2^53 are exact as floats)."""
        stacked = np.stack([np.asarray(exposure, float), np.asarray(events, float)], axis=1)
        unique, inverse, count = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
        return cls(unique[:, 0], unique[:, 1].astype(np.int64), count, inverse.ravel())

    @property
    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """``(exposure, events)``, in the order :meth:`from_counts` takes them."""
        return self.exposure, self.events

    def with_new_group(self) -> Pairs:
        """Add a last pair with no exposure: the predictive of an unseen group."""
        return Pairs(
            np.append(self.exposure, 0.0), np.append(self.events, 0), np.append(self.count, 0), self.inverse
        )


def pooled_rate(pairs: Pairs) -> float:
    """Events per unit of exposure over all groups (half an event when there are none)."""
    events, exposure = float(pairs.count @ pairs.events), float(pairs.count @ pairs.exposure)
    # Without any exposure the data say nothing about the rate's scale: centre on 1 per unit.
    return max(events, 0.5) / exposure if exposure > 0 else 1.0


def limits(pairs: Pairs) -> Box:
    """Search limits for ``(log mu, log alpha)``: the pooled rate and every group's raw rate, widened.

    A population's mean rate lies among its groups' rates; an exposure of 1e300 beside one of 2
    puts them 300 decades apart, far beyond any fixed width around the pooled rate.
    """
    centre = np.log(pooled_rate(pairs))
    seen = pairs.exposure > 0
    raw = np.log(np.maximum(pairs.events[seen], 0.5)) - np.log(pairs.exposure[seen])
    lo, hi = min(centre, raw.min(initial=centre)), max(centre, raw.max(initial=centre))
    return Box(lo - _LOG_RATE_HALF_WIDTH, hi + _LOG_RATE_HALF_WIDTH, *_LOG_SHAPE_LIMITS)


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def alpha_beta(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)`` from ``u = log(mu)``, ``v = log(alpha)``."""
    return np.exp(v), np.exp(v - u)


def hyper_draws(u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Compute the reported hyperparameters at points ``(u, v)``."""
    alpha, beta = alpha_beta(u, v)
    return {"alpha": alpha, "beta": beta, "mu": np.exp(u)}


#: The shape hyperparameter (complete pooling is its limit at infinity), as warnings name it.
SHAPE_NAME = "alpha"

#: The reported hyperparameters as lines of the plane, each ``exp`` of a coordinate:
#: ``alpha = exp(v)``, ``beta = exp(v - u)``, ``mu = exp(u)``.
HYPER_LINES = {
    "alpha": HyperLine(lambda u, v: v, lambda s, t: (t, s), False, np.exp, _identity, np.log),
    "beta": HyperLine(lambda u, v: v - u, lambda s, t: (t, s + t), False, np.exp, _identity, np.log),
    # alpha / beta: as alpha -> 0 the likelihood no longer bounds beta away from 0, and a prior
    # density that does not vanish there (Gamma(0.1, 1), the BUGS choice) leaves E[mu] infinite.
    "mu": HyperLine(
        lambda u, v: u, lambda s, t: (s, t), True, np.exp, _identity, np.log, moments_exist=False
    ),
}


def log_prior_uv(priors: dict[str, Prior | JointPrior], u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Log prior density of ``(u, v)``, Jacobian included.

    ``priors`` holds ``alpha`` and ``beta``, or ``mu`` and ``alpha``.
    """
    if "mu" in priors:
        # p(u, v) = p_mu(mu) p_alpha(alpha) * mu * alpha
        return priors["mu"].logpdf(np.exp(u)) + priors["alpha"].logpdf(np.exp(v)) + u + v
    # p(u, v) = p(alpha) p(beta) * alpha * beta
    return priors["alpha"].logpdf(np.exp(v)) + priors["beta"].logpdf(np.exp(v - u)) + 2 * v - u


def log_negative_binomial(
    events: np.ndarray, exposure: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Gamma-Poisson (negative-binomial) log-pmf of ``y`` events in exposure ``E``."""
    y = np.asarray(events, float)
    e = np.asarray(exposure, float)
    return (
        special.gammaln(alpha + y)
        - special.gammaln(alpha)
        - special.gammaln(y + 1)
        + special.xlogy(alpha, beta)
        + special.xlogy(y, e)
        - (alpha + y) * np.log(beta + e)
    )


def log_likelihood(pairs: Pairs):
    """Build the negative-binomial log marginal likelihood of ``(u, v)`` as a vectorised function.

    Summed over groups, ``lgamma(alpha + y) - lgamma(alpha)`` costs one ``lgamma`` per distinct
    non-zero ``y``; the rest, ``alpha * sum log(beta / (beta + E)) - sum y log(beta + E)``, one
    logarithm per distinct exposure.
    """
    count = pairs.count.astype(float)
    keep = pairs.events > 0
    ys, inverse = np.unique(pairs.events[keep], return_inverse=True)
    cy = np.bincount(inverse, weights=count[keep], minlength=ys.size)
    es, e_inverse = np.unique(pairs.exposure, return_inverse=True)
    ce = np.bincount(e_inverse, weights=count, minlength=es.size)
    ye = np.bincount(e_inverse, weights=count * pairs.events, minlength=es.size)
    const = float(count @ (special.xlogy(pairs.events, pairs.exposure) - special.gammaln(pairs.events + 1.0)))
    ys = ys.astype(float)

    def loglik(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        alpha, beta = alpha_beta(u, v)
        a, log_b = alpha[..., None], (v - u)[..., None]
        # log(beta + E) - log(beta) = log1p(E / beta), accurate when beta dwarfs E.
        log_ratio = np.log1p(es * np.exp(-log_b))
        total = (
            special.gammaln(a + ys) @ cy
            - special.gammaln(alpha) * cy.sum()
            - (a * log_ratio) @ ce
            - (log_ratio + log_b) @ ye
        )
        return total + const

    return loglik


def log_posterior(priors: dict[str, Prior | JointPrior], pairs: Pairs):
    """Build the unnormalised log posterior of ``(u, v)`` as a vectorised function."""
    return log_posterior_of(functools.partial(log_prior_uv, priors), log_likelihood(pairs))


def pooled_log_likelihood(pairs: Pairs) -> float:
    """Log-likelihood in the complete-pooling limit (alpha -> inf) at the best shared rate."""
    y, e = pairs.events.astype(float), pairs.exposure
    events, exposure = float(pairs.count @ y), float(pairs.count @ e)
    rate = events / exposure if exposure > 0 else 0.0  # no exposure: no events, likelihood 1
    terms = special.xlogy(y, e * rate) - e * rate - special.gammaln(y + 1)
    return float(pairs.count @ terms)


def moments_exist(pairs: Pairs) -> np.ndarray:
    """Per pair, whether its rate's posterior mean is sure to be finite: only with exposure.

    ``E[lambda | y] = E[(alpha + y) / (beta + E)]`` is bounded by ``E[alpha + y] / E`` when
    ``E > 0``; without exposure it is ``E[alpha / beta]``, that of ``mu``, which may be infinite.
    """
    return pairs.exposure > 0


def posterior_params(alpha: np.ndarray, beta: np.ndarray, pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's conjugate ``Gamma(alpha + y, beta + E)`` at every node, shapes ``(P, K)``."""
    return alpha[None, :] + pairs.events[:, None], beta[None, :] + pairs.exposure[:, None]


def conjugate(prior: Gamma, exposure: np.ndarray, events: np.ndarray) -> GammaRows:
    """Closed-form posterior ``Gamma(a0 + y, b0 + E)`` for each row."""
    return GammaRows(prior.alpha + np.asarray(events, float), prior.beta + np.asarray(exposure, float))


def draw(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, size=None) -> np.ndarray:
    """Draws of the rate from ``Gamma(a, b)`` (shape, rate)."""
    return rng.gamma(a, 1.0 / np.asarray(b), size=size)


def mixture(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Mixtures of ``Gamma(a[p, k], b[p, k])`` with weights ``weight[k]``, tabulated in ``log lambda``.

    Each Gamma is log-concave in ``log lambda``; the tabulation is
    :func:`poolwise._core.mixture.stretch`'s (heavy left tails where ``a`` is near 0 resolved beside
    narrow components).

    Returns
    -------
    mean, sd : ndarray
        Exact mixture moments, shape ``(P,)``.
    marginal : GridMarginal
        The mixture density on the log scale (see :mod:`poolwise._core.mixture`).
    """
    m = a / b
    mean = m @ weight
    var = (m / b + (m - mean[:, None]) ** 2) @ weight  # a / b^2, which overflows for b of 1e300
    log_b = np.log(b)
    lgamma_a = special.gammaln(a)
    # Moments of z = log(lambda): E = digamma(a) - log b, Var = trigamma(a).
    mz = special.digamma(a) - log_b
    sz = np.sqrt(special.polygamma(1, a))
    nodes = mixturelib.stretch(mz, sz, weight)

    # log density of z under Gamma(a, b) is a z - b e^z + a log b - lgamma(a): one product.
    def log_density(z: np.ndarray, row: int, k: np.ndarray) -> np.ndarray:
        # e^z capped below overflow: -inf * b would be nan where b underflowed to 0
        basis = np.stack([z, -np.exp(np.minimum(z, 709.0)), np.ones(z.size)], axis=1)
        return basis @ np.stack([a[row, k], b[row, k], a[row, k] * log_b[row, k] - lgamma_a[row, k]])

    pdf = mixturelib.tabulate(nodes, log_density, weight, mz, sz)
    marginal = GridMarginal(
        nodes.y0, nodes.h, pdf, np.exp, _identity, np.log, loc=nodes.centre, scale=nodes.scale
    )
    return mean, np.sqrt(np.maximum(var, 0.0)), marginal


def poisson_logpmf(events: np.ndarray, exposure: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Pointwise ``log Poisson(y | E lambda)``, broadcasting over draws."""
    y = np.asarray(events, float)
    mean = np.asarray(exposure, float) * rate
    return special.xlogy(y, mean) - mean - special.gammaln(y + 1)


#: The marginal pmf of a group's counts given the hyperparameters (the name every family shares).
log_marginal = log_negative_binomial


def component_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of ``Gamma(a, b)`` (shape, rate)."""
    return a / b


# --- The family contract (issue 14): what the fitting layer asks of every family by this name. ---


def draw_new_group(rng: np.random.Generator, hyper: dict[str, np.ndarray]) -> np.ndarray:
    """Draw an unseen group's ``theta`` once per draw of the hyperparameters ``hyper`` (by name)."""
    return draw(rng, hyper["alpha"], hyper["beta"])


#: Whether the exact engine centres its grid on the data (so that a partial fit needs a group with
#: data): yes, on the pooled rate (:func:`limits`), which needs exposure.
CENTRED_ON_DATA = True


def prior_alternatives(exposure: np.ndarray, events: np.ndarray) -> dict[str, dict]:
    """Hyperpriors to refit a gamma-Poisson model under, scaled by the pooled rate ``r``.

    ``r`` is the events per unit of exposure over all groups (half an event when there are none),
    the centre of the engine's own search. The alternatives, and what each asks:

    - the BUGS Pumps priors, ``alpha ~ Exponential(1)``, ``beta ~ Gamma(0.1, 1)`` (the default,
      hence the usual reference: nothing moves);
    - the same prior on ``r * beta`` (``beta ~ Gamma(0.1, r)``): ``beta`` is in units of exposure per
      event, so ``Gamma(0.1, 1)`` means something else in hours than in thousands of hours; this is
      the BUGS prior in the units where the pooled rate is 1, and says whether the choice of units
      mattered;
    - ``mu ~ LogNormal(log r, 2)`` with ``alpha ~ Exponential(1)``: a prior on the population's
      mean rate instead of ``beta``, within a factor ``exp(1.96 * 2) = 50`` of the pooled rate
      either way (95%), as an analyst who knows the order of magnitude would state it;
    - the same ``mu`` with ``alpha ~ HalfCauchy(1)``: ``1 / alpha`` is the rates' squared
      coefficient of variation, and a half-Cauchy's heavy tail lets the data pull ``alpha`` up
      towards complete pooling, or down, where ``Exponential(1)`` favours ``alpha < 1`` (a
      coefficient of variation above 1);
    - the same ``mu`` with a flatter ``alpha ~ Exponential(0.1)`` (mean 10): nearly flat over the
      shapes the data can tell apart, so it says how much ``Exponential(1)``'s pull to small
      ``alpha``, i.e. to less pooling, did.

    ``alpha`` is scale-free (a shape) and needs no scaling.

    Parameters
    ----------
    exposure, events : ndarray
        The data's size and count columns.

    Returns
    -------
    dict
        Label -> priors, as :func:`poolwise.fit` takes them.
    """
    r = pooled_rate(Pairs.from_counts(exposure, events))
    mu = pr.LogNormal(float(np.log(r)), 2.0)
    return {
        "BUGS: alpha ~ Exponential(1), beta ~ Gamma(0.1, 1)": {
            "alpha": pr.Exponential(1.0),
            "beta": pr.Gamma(0.1, 1.0),
        },
        f"BUGS in units of the pooled rate: beta ~ Gamma(0.1, {r:.3g})": {
            "alpha": pr.Exponential(1.0),
            "beta": pr.Gamma(0.1, r),
        },
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ Exponential(1)": {"mu": mu, "alpha": pr.Exponential(1.0)},
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ HalfCauchy(1)": {"mu": mu, "alpha": pr.HalfCauchy(1.0)},
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ Exponential(0.1) (flatter)": {
            "mu": mu,
            "alpha": pr.Exponential(0.1),
        },
    }


def shrinkage_weight(table, posterior) -> np.ndarray:
    """``E[beta / (beta + E_i) | y]``: the Gamma population's weight against exposure ``E_i``.

    Given ``(alpha, beta)`` a group's posterior is ``Gamma(alpha + y_i, beta + E_i)``, whose mean is
    ``(1 - B_i) y_i / E_i + B_i alpha / beta`` with ``B_i = beta / (beta + E_i)``: exposure plays the
    part of trials, and ``beta`` that of ``kappa``. A group with no exposure has ``B_i = 1``.

    Parameters
    ----------
    table : pandas.DataFrame
        The group table (its ``exposure``).
    posterior : poolwise.analysis.shrinkage.PopulationPosterior
        The partial fit's hyperparameters (``hyper_mixture()``: nodes of ``alpha``, ``beta`` and weights).

    Returns
    -------
    ndarray
        One weight per group, in the table's order.
    """
    _, beta, weight, _ = posterior.hyper_mixture()
    return population_weight(beta, weight, table["exposure"].to_numpy(float))


def new_group(
    alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray, exposure: np.ndarray, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Posterior of the rate of a group with ``events`` in ``exposure``, over the nodes' weights.

    Parameters
    ----------
    alpha, beta, weight : ndarray
        The hyperparameters' nodes, with the weights the group's own data gave them.
    exposure, events : ndarray
        The group's data, shape ``(1,)``.

    Returns
    -------
    mean, sd, marginal
        As :func:`mixture`, of the conjugate ``Gamma(alpha + y, beta + E)`` at every node.
    """
    return mixture(*posterior_params(alpha, beta, Pairs.from_counts(exposure, events)), weight)
