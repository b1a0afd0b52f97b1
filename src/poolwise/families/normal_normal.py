r"""Estimates with known standard errors and a Normal population: the normal-normal family.

Random-effects meta-analysis, or BDA3's eight schools (Gelman et al. 2013, §5.4-5.5)::

    y_i | theta_i     ~ Normal(theta_i, s_i^2)      # s_i known
    theta_i | mu, tau ~ Normal(mu, tau^2)
    mu ~ p(mu)          # Flat() (BDA3) or Normal(m0, s0)
    tau ~ p(tau)        # HalfFlat() (BDA3's uniform), HalfCauchy, HalfNormal, Uniform(0, U), ...

Given ``tau``, write ``v_i = s_i^2 + tau^2``. Integrating ``theta_i`` out gives
``y_i | mu, tau ~ N(mu, v_i)``, and ``mu`` integrates out analytically (BDA3 eqs. 5.20-5.21, with
the Normal prior's pseudo-observation ``m0`` of variance ``s0^2`` when ``mu`` has one):

.. math::

    V_\mu = \Big(\sum_i v_i^{-1} [+ s_0^{-2}]\Big)^{-1}, \qquad
    \hat\mu = V_\mu \Big(\sum_i y_i / v_i [+ m_0 / s_0^2]\Big),

    \log p(y | \tau) = \tfrac12 \log V_\mu - \tfrac12 \sum_i \log v_i
        - \tfrac12 \sum_i (y_i - \hat\mu)^2 / v_i \; [- \tfrac12 (m_0 - \hat\mu)^2 / s_0^2
        - \log s_0] + \text{const},

so ``p(tau | y) ∝ p(tau) p(y | tau)`` is one-dimensional. Given ``tau`` the rest is normal:
``mu | tau, y ~ N(mu_hat, V_mu)``, ``theta_i | mu, tau, y ~ N((1 - B_i) y_i + B_i mu, (1 - B_i) s_i^2)``
with shrinkage ``B_i = s_i^2 / v_i`` (BDA3 eq. 5.17), hence, integrating ``mu``,

.. math::

    \theta_i | \tau, y \sim N\big((1 - B_i) y_i + B_i \hat\mu,\; (1 - B_i) s_i^2 + B_i^2 V_\mu\big),

and a new group's ``theta_new | tau, y ~ N(mu_hat, V_mu + tau^2)``. At ``tau = 0`` every ``B_i = 1``
and all ``theta_i`` equal ``mu`` (complete pooling); as ``tau -> inf``, ``theta_i -> N(y_i, s_i^2)``.

``tau`` is integrated in ``u = asinh(tau / c)`` with ``c`` the median standard error: linear in
``tau`` below ``c``, where the usual priors and the likelihood are even, smooth functions of
``tau`` (so the trapezoid rule from ``u = 0`` is spectrally accurate despite the mode often sitting
at ``tau = 0``), and logarithmic above, where the posterior's tail is a power of ``tau``.

No and complete pooling are conjugate (flat or Normal prior on ``theta``): precision-weighted means.

What the analysis layer asks every family by the same name: ``shrinkage_weight`` and
``prior_alternatives`` (see :mod:`poolwise.families.beta_binomial`) and the constant
:data:`CENTRED_ON_DATA`.

NumPy/SciPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import priors as pr
from .._core import mixture as mixturelib
from .._core.marginal import GridMarginal, NormalRows
from ..priors import Flat, Normal, Prior

#: Upper end of ``u = asinh(tau / c)``: ``tau`` up to ~1e10 median standard errors (or 1e10 times
#: the estimates' spread, when that is larger; see :attr:`Estimates.u_max`). A posterior still holding
#: mass there is improper (BDA3's uniform prior with fewer than 3 groups) or prior-dominated.
U_MAX = 24.0

#: Largest ``tau`` the line reaches, whatever the estimates: ``tau^2`` must stay finite in sums.
TAU_CEILING = 1e150

#: Elements (nodes x groups) evaluated at once, which bounds memory with many groups.
CHUNK = 2**21


@dataclass(frozen=True)
class Estimates:
    """Estimates ``y`` and their standard errors ``s`` (``s > 0``), one per group."""

    y: np.ndarray
    s: np.ndarray

    @property
    def scale(self) -> float:
        """``c`` of the coordinate ``u = asinh(tau / c)``: the median standard error."""
        return float(np.median(self.s))

    @property
    def u_max(self) -> float:
        """Upper end of ``u``: :data:`U_MAX`, or ``tau`` up to 1e10 times the estimates' spread.

        Estimates 1e300 apart need a ``tau`` of that order; it is capped at :data:`TAU_CEILING`
        (a posterior still heavy there is reported at the edge).
        """
        spread = float(np.ptp(self.y)) if self.y.size else 0.0
        tau = min(1e10 * max(self.scale, spread), TAU_CEILING)
        return max(U_MAX, float(np.arcsinh(tau / self.scale)))


def to_tau(u: np.ndarray, scale: float) -> np.ndarray:
    """``tau = c sinh(u)``."""
    return scale * np.sinh(u)


def to_u(tau: np.ndarray, scale: float) -> np.ndarray:
    """``u = asinh(tau / c)``."""
    return np.arcsinh(np.asarray(tau, float) / scale)


def log_dtau_du(u: np.ndarray, scale: float) -> np.ndarray:
    """``log(c cosh u)``, the log-Jacobian of ``u -> tau``, without overflow."""
    return math.log(scale) + _log_cosh(u)


def _mu_prior_terms(mu_prior: Prior) -> tuple[float, float]:
    """Precision and precision-weighted mean that ``mu``'s prior adds (0, 0 when flat)."""
    if isinstance(mu_prior, Flat):
        return 0.0, 0.0
    if isinstance(mu_prior, Normal):
        precision = 1.0 / mu_prior.sigma**2
        return precision, mu_prior.mu * precision
    raise TypeError(f"the prior on mu must be Flat or Normal, got {mu_prior}")


def _chunks(n_nodes: int, n_groups: int) -> list[slice]:
    step = max(1, CHUNK // max(n_groups, 1))
    return [slice(i, min(i + step, n_nodes)) for i in range(0, n_nodes, step)]


def mu_given_tau(tau: np.ndarray, data: Estimates, mu_prior: Prior) -> tuple[np.ndarray, np.ndarray]:
    """``mu_hat(tau)`` and ``V_mu(tau)`` (BDA3 eq. 5.20), one per node of ``tau`` (1-D)."""
    extra_precision, extra_weighted = _mu_prior_terms(mu_prior)
    tau = np.asarray(tau, float)
    precision, weighted = np.empty(tau.size), np.empty(tau.size)
    s2 = data.s**2
    for part in _chunks(tau.size, data.y.size):
        inv_v = 1.0 / (s2[None, :] + tau[part, None] ** 2)
        precision[part] = inv_v.sum(axis=1)
        weighted[part] = inv_v @ data.y
    precision += extra_precision
    weighted += extra_weighted
    return weighted / precision, 1.0 / precision


def log_marginal(tau: np.ndarray, data: Estimates, mu_prior: Prior) -> np.ndarray:
    """``log p(y | tau)``, ``mu`` and every ``theta_i`` integrated out (BDA3 eq. 5.21).

    Up to a constant for a flat ``mu`` (whose prior is improper); exact, constants included, for a
    Normal prior on ``mu``.
    """
    tau = np.asarray(tau, float)
    extra_precision, extra_weighted = _mu_prior_terms(mu_prior)
    s2 = data.s**2
    out = np.empty(tau.size)
    for part in _chunks(tau.size, data.y.size):
        v = s2[None, :] + tau[part, None] ** 2
        precision = (1.0 / v).sum(axis=1) + extra_precision
        mu_hat = ((data.y / v).sum(axis=1) + extra_weighted) / precision
        with np.errstate(over="ignore"):  # a residual beyond 1e154 sds: density 0, -inf honestly
            quad = (((data.y[None, :] - mu_hat[:, None]) / np.sqrt(v)) ** 2).sum(axis=1)
        value = -0.5 * np.log(precision) - 0.5 * np.log(v).sum(axis=1) - 0.5 * quad
        if extra_precision:
            m0, s0 = mu_prior.mu, mu_prior.sigma
            value += -0.5 * (m0 - mu_hat) ** 2 * extra_precision - math.log(s0)
        out[part] = value
    # The Gaussian integrals' 2 pi factors: n for the data, minus one for mu's integral when flat.
    n_pi = data.y.size - (0 if extra_precision else 1)
    return out - 0.5 * n_pi * math.log(2 * math.pi)


def log_posterior(tau_prior: Prior, mu_prior: Prior, data: Estimates):
    """Unnormalised ``log p(u | y)`` on ``u = asinh(tau / c)``, Jacobian included, vectorised."""
    scale = data.scale

    def logp(u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, float)
        # Clipped to the prior's support: a bound mapped to u and back may round just outside it.
        tau = np.clip(to_tau(u, scale), *tau_prior.bounds)
        prior = tau_prior.logpdf(tau)
        out = np.full(u.shape, -np.inf)
        live = np.isfinite(prior)
        out[live] = prior[live] + log_marginal(tau[live], data, mu_prior) + log_dtau_du(u[live], scale)
        return out

    return logp


def theta_given_tau(
    tau: np.ndarray, data: Estimates, mu_hat: np.ndarray, v_mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of ``theta_i | tau, y`` with ``mu`` integrated out, shape ``(groups, nodes)``.

    ``(1 - B) y + B mu_hat`` and ``(1 - B) s^2 + B^2 V_mu`` with ``B = s^2 / (s^2 + tau^2)``;
    ``1 - B = tau^2 / (s^2 + tau^2)`` is computed as such, not by subtraction, so that it stays
    exact when ``tau`` is tiny.
    """
    s2, t2 = data.s[:, None] ** 2, np.asarray(tau, float)[None, :] ** 2
    v = s2 + t2
    shrink, keep = s2 / v, t2 / v
    mean = keep * data.y[:, None] + shrink * mu_hat[None, :]
    var = keep * s2 + shrink**2 * v_mu[None, :]
    return mean, var


def conjugate(prior: Prior, y: np.ndarray, s: np.ndarray) -> NormalRows:
    """Closed-form posterior of a mean seen as ``y_i ~ N(theta, s_i^2)``, one row per entry of ``y``.

    A flat prior gives ``N(y, s^2)``; ``Normal(m0, s0)`` the precision-weighted combination.
    """
    extra_precision, extra_weighted = _mu_prior_terms(prior)
    precision = 1.0 / np.asarray(s, float) ** 2 + extra_precision
    mean = (np.asarray(y, float) / np.asarray(s, float) ** 2 + extra_weighted) / precision
    return NormalRows(mean, 1.0 / np.sqrt(precision))


def pooled(prior: Prior, data: Estimates) -> NormalRows:
    """Complete pooling: one ``theta`` for all groups, the precision-weighted mean (BDA3 §5.5)."""
    precision = 1.0 / data.s**2
    variance = 1.0 / precision.sum()
    return conjugate(prior, np.array([variance * (precision @ data.y)]), np.array([math.sqrt(variance)]))


def normal_logpdf(y: np.ndarray, theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Pointwise ``log N(y | theta, s^2)``, broadcasting over draws."""
    z = (np.asarray(y, float) - theta) / s
    return -0.5 * z * z - np.log(s) - 0.5 * math.log(2 * math.pi)


def mixture(
    mean: np.ndarray, var: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Rows of normal mixtures: exact moments, and the density tabulated for quantiles and intervals.

    Row ``p`` is tabulated by :func:`poolwise._core.mixture.stretch` on a uniform grid of ``y``,
    ``x = c_p + s_p sinh(y)``, linear within ``s_p`` (the sd below which only 1% of the
    components' weight lies) of the narrow components and logarithmic beyond, so that components of
    very different spreads (``tau`` near 0 and far out in its tail) are all resolved.

    Parameters
    ----------
    mean, var : ndarray
        Component means and variances, shape ``(P, K)``.
    weight : ndarray
        Component probabilities, shape ``(K,)``, summing to one.

    Returns
    -------
    mean, sd : ndarray
        Mixture moments, shape ``(P,)``.
    marginal : GridMarginal
        The mixture densities.
    """
    centre = mean @ weight
    sd_mix = np.sqrt(np.maximum((var + (mean - centre[:, None]) ** 2) @ weight, 0.0))
    sd = np.sqrt(var)
    nodes = mixturelib.stretch(mean, sd, weight)
    inv_sd = 1.0 / sd
    log_norm = -np.log(sd) - 0.5 * math.log(2 * math.pi)

    def log_density(x: np.ndarray, row: int, k: np.ndarray) -> np.ndarray:
        standard = (x[:, None] - mean[row, k][None, :]) * inv_sd[row, k][None, :]
        return -0.5 * standard * standard + log_norm[row, k][None, :]

    pdf = mixturelib.tabulate(nodes, log_density, weight, mean, sd)
    marginal = GridMarginal(
        nodes.y0, nodes.h, pdf, _identity, np.zeros_like, _identity, loc=nodes.centre, scale=nodes.scale
    )
    return centre, sd_mix, marginal


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _log_cosh(z: np.ndarray) -> np.ndarray:
    a = np.abs(z)
    return a + np.log1p(np.exp(-2 * a)) - math.log(2.0)


# --- The family contract (issue 14): what the fitting layer asks of every family by this name. ---


def draw_new_group(rng: np.random.Generator, hyper: dict[str, np.ndarray]) -> np.ndarray:
    """Draw an unseen group's ``theta`` once per draw of the hyperparameters ``hyper`` (by name)."""
    return rng.normal(hyper["mu"], hyper["tau"])


# --- What the analysis layer asks of every family by this name (issue 14). ---

#: Whether the exact engine centres its hyperparameters' line on the data (so that a partial fit
#: needs a group with data): no, its scale is the standard errors' (known without any estimate).
CENTRED_ON_DATA = False


def prior_alternatives(std_error: np.ndarray, estimate: np.ndarray) -> dict[str, dict]:
    """Hyperpriors on ``tau`` to refit a normal-normal model under, scaled by the median standard error.

    On the scale ``c`` of the median standard error: BDA3's uniform on ``tau``, ``HalfCauchy(c)``
    (Gelman 2006), a narrower ``HalfNormal(c / 2)`` and a wider ``HalfNormal(10 c)``, with ``mu``
    flat throughout.

    Parameters
    ----------
    std_error, estimate : ndarray
        The data's size and count columns (only the standard errors set the scale).

    Returns
    -------
    dict
        Label -> priors, as :func:`poolwise.fit` takes them.
    """
    c = float(np.median(std_error))
    return {
        "uniform on tau (BDA3)": {"mu": pr.Flat(), "tau": pr.HalfFlat()},
        f"HalfCauchy({c:.3g}) (Gelman 2006)": {"mu": pr.Flat(), "tau": pr.HalfCauchy(c)},
        f"HalfNormal({c / 2:.3g}) (narrower)": {"mu": pr.Flat(), "tau": pr.HalfNormal(c / 2)},
        f"HalfNormal({10 * c:.3g}) (wider)": {"mu": pr.Flat(), "tau": pr.HalfNormal(10 * c)},
    }


def shrinkage_weight(table, posterior) -> np.ndarray:
    """``E[s_i^2 / (s_i^2 + tau^2) | y]``: the normal population's weight against the estimate.

    Given ``(mu, tau)`` the posterior mean is ``(1 - B_i) y_i + B_i mu`` with
    ``B_i = s_i^2 / (s_i^2 + tau^2)`` (BDA3 eq. 5.17), averaged over the posterior of ``tau``.

    Parameters
    ----------
    table : pandas.DataFrame
        The group table (its ``std_error``).
    posterior : poolwise.analysis.shrinkage.PopulationPosterior
        The partial fit (``tau_mixture()``: nodes of ``tau`` and their weights).

    Returns
    -------
    ndarray
        One weight per group, in the table's order.
    """
    tau, weight, _ = posterior.tau_mixture()
    s2 = table["std_error"].to_numpy(float)[:, None] ** 2
    return (s2 / (s2 + tau[None, :] ** 2)) @ weight / np.sum(weight)
