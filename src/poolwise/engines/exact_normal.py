"""The exact engine for the normal-normal family: closed forms, and a refined line over ``tau``.

No and complete pooling are closed-form normals. Partial pooling integrates every ``theta_i`` and
``mu`` out analytically (:mod:`poolwise.families.normal_normal`) and ``tau`` on a uniform grid of
``u = asinh(tau / c)`` (an :class:`~poolwise.engines.lattice.Axis`), refined by the pipeline every
family shares (:func:`poolwise.engines.refinement.integrate`, given a :class:`TauLine`): until every
summary (mean, sd and the quantiles in :data:`~poolwise.engines.refinement.CHECKED_QUANTILES` of
``mu``, ``tau``, each ``theta_i`` and a new group's ``theta_new``) moves less than ``tol`` (relative
above one) between two resolutions. Given ``tau`` everything is normal, so ``mu``, every ``theta_i``
and ``theta_new`` are mixtures of normals over the nodes, tabulated as
:class:`~poolwise._core.marginal.GridMarginal` rows.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._core import line as linelib
from .._core.marginal import GridMarginal, NormalRows
from ..errors import PriorError
from ..families import normal_normal as family
from ..priors import HalfFlat, Jeffreys
from .lattice import Axis
from .moments import which_moments_exist
from .quantity import Quantity
from .refinement import EDGE_MASS, GridInfo, Located, grid_diagnostics, integrate

#: Fewest groups for which BDA3's uniform prior on ``tau`` gives a proper posterior.
MIN_GROUPS_UNIFORM_TAU = 3


@dataclass(frozen=True)
class NormalPosterior:
    """Everything the exact engine knows about one fitted normal-normal model.

    ``new_group`` is None under no pooling with a flat prior on ``theta``: an unseen group's
    effect then has an improper distribution. ``line`` and ``grid_info`` are partial pooling's.
    """

    pooling: str
    quantities: dict[str, Quantity]
    new_group: Quantity | None
    data: family.Estimates
    priors: dict
    line: linelib.Line | None = None
    grid_info: GridInfo | None = None
    warnings: tuple[str, ...] = field(default=())
    engine: str = "exact"

    @property
    def diagnostics(self) -> dict:
        """What the line over ``tau`` did (empty for the closed forms)."""
        return grid_diagnostics(self.grid_info, dims=Axis.dims)

    def draws(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent draws: ``theta`` ``(n, groups)`` or ``(n,)``, and ``mu``, ``tau`` ``(n,)``.

        Partial pooling picks a node of the line by its probability and a uniform point in its cell
        (reflected at the line's ends), then ``mu | tau, y`` and each ``theta_i | mu, tau, y``.
        """
        if self.pooling != "partial":
            post = self.quantities["theta"].marginal
            size = (n, post.mean.size) if self.pooling == "none" else n
            return {"theta": rng.normal(post.mean, post.sd, size=size)}
        data = self.data
        (u,) = Axis.draw(self.line, n, rng)
        tau = family.to_tau(u, data.scale)
        mu_hat, v_mu = family.mu_given_tau(tau, data, self.priors["mu"])
        mu = rng.normal(mu_hat, np.sqrt(v_mu))
        s2, t2 = data.s[None, :] ** 2, tau[:, None] ** 2
        v = s2 + t2
        # theta_i | mu, tau, y ~ N((1 - B) y + B mu, (1 - B) s^2), B = s^2 / (s^2 + tau^2)
        keep, shrink = t2 / v, s2 / v  # as ratios: t2 * y overflows for estimates of 1e140
        theta = rng.normal(keep * data.y[None, :] + shrink * mu[:, None], np.sqrt(keep * s2))
        return {"theta": theta, "mu": mu, "tau": tau}


def fit_closed_form(pooling: str, theta_prior, data: family.Estimates) -> NormalPosterior:
    """No pooling (a normal per group) or complete pooling (one precision-weighted normal)."""
    if pooling == "none":
        post = family.conjugate(theta_prior, data.y, data.s)
        index = np.arange(data.y.size)
    else:
        post = family.pooled(theta_prior, data)
        index = np.zeros(1, np.int64)
    theta = Quantity("theta", post.mean, post.sd, post, index)
    one = np.zeros(1, np.int64)
    if pooling == "complete":
        new = Quantity("theta_new", post.mean, post.sd, post, one)
    elif theta_prior.proper:  # an unseen group learns nothing from the others: the prior
        prior = NormalRows(np.array([theta_prior.mu]), np.array([theta_prior.sigma]))
        new = Quantity("theta_new", prior.mean, prior.sd, prior, one)
    else:
        new = None
    return NormalPosterior(pooling, {"theta": theta}, new, data, {"theta": theta_prior})


def _check_proper(priors: dict, data: family.Estimates) -> None:
    if isinstance(priors["tau"], Jeffreys):
        # p(y | tau) tends to a positive constant as tau -> 0, so 1/tau is not integrable there
        raise PriorError(
            "Jeffreys' prior 1/tau on tau gives an improper posterior (its mass piles at tau = 0, "
            "where the likelihood stays positive); give tau a proper prior, e.g. HalfCauchy(<typical "
            "effect size>), or Uniform(0, <bound>)"
        )
    if isinstance(priors["tau"], HalfFlat) and data.y.size < MIN_GROUPS_UNIFORM_TAU:
        raise PriorError(
            f"the uniform prior on tau (HalfFlat) gives an improper posterior with fewer than "
            f"{MIN_GROUPS_UNIFORM_TAU} groups (BDA3 §5.4), and there are {data.y.size}; give tau a "
            "proper prior on the scale of the estimates, e.g. HalfCauchy(<typical effect size>)"
        )


def _tau_quantity(grid: linelib.Line, logp, scale: float, natural_start: bool, tol: float) -> Quantity:
    """``tau``'s moments and marginal; ``natural_start`` when the line starts at ``tau = 0``.

    ``logp`` is the line's log density, on which the marginal's mode is found.
    """
    tau = family.to_tau(grid.nodes, scale)
    # tau is odd in u, so its moments' integrands are not even at u = 0: Boole's rule, not trapezoid.
    w = grid.boole_weights
    mean = tau @ w
    sd = math.sqrt(max(((tau - mean) ** 2) @ w, 0.0))
    tail = functools.partial(linelib.moment_tail, grid.weights, closed_lo=natural_start)
    has_mean, has_sd = which_moments_exist(tail, tau, tau - mean, tol)
    mean, sd = (mean if has_mean else math.nan), (sd if has_sd else math.nan)
    density = np.exp(grid.logp - grid.logp.max())[None, :]
    marginal = GridMarginal(
        np.array([grid.lo]),
        np.array([grid.h]),
        density,
        functools.partial(family.to_tau, scale=scale),
        functools.partial(family.log_dtau_du, scale=scale),
        functools.partial(family.to_u, scale=scale),
        even_start=natural_start,
        exact=logp,
    )
    return Quantity("tau", np.array([mean]), np.array([sd]), marginal, np.zeros(1, np.int64), has_mean)


def _mixture_log_density(mean: np.ndarray, var: np.ndarray, weight: np.ndarray):
    """Return the log density of the normal mixture ``sum_k weight_k N(mean_k, var_k)``, anywhere."""
    with np.errstate(divide="ignore"):  # nodes whose weight underflows to 0 add nothing
        log_w = np.log(weight) - 0.5 * np.log(2 * np.pi * var)

    def log_density(x: np.ndarray) -> np.ndarray:
        standard = (x[:, None] - mean[None, :]) ** 2 / var[None, :]
        return special.logsumexp(log_w[None, :] - 0.5 * standard, axis=1)

    return log_density


def _mixture_moments(
    centre: np.ndarray, var: np.ndarray, weight: np.ndarray, natural_start: bool, tol: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return the mean and sd of ``sum_k weight_k N(centre_k, var_k)`` over the line's nodes.

    NaN where the line's tail leaves them undetermined (:func:`~.moments.which_moments_exist`):
    ``var`` grows like ``tau^2`` (mu's ``V_mu ~ tau^2 / J``, a new group's ``+ tau^2``), so these
    moments exist only where tau's do (BDA3's uniform prior: 3 groups no mean, 4 no variance).
    ``weight`` covers every node, not the pruned ones a mixture is drawn from: under such tails
    the pruned probability (1e-7) still holds 1e-4 of the mean.
    """
    mean = float(centre @ weight)
    spread = var + (centre - mean) ** 2
    sd = math.sqrt(max(float(spread @ weight), 0.0))
    tail = functools.partial(linelib.moment_tail, weight, closed_lo=natural_start)
    has_mean, has_sd = which_moments_exist(tail, np.abs(centre) + np.sqrt(var), np.sqrt(spread), tol)
    return np.array([mean if has_mean else np.nan]), np.array([sd if has_sd else np.nan]), has_mean


@dataclass(frozen=True)
class TauLine:
    """Normal-normal partial pooling, as :func:`~poolwise.engines.refinement.integrate` asks it.

    ``limit_lo`` and ``limit_hi`` bound the line by ``tau``'s support (0, or the prior's bounds)
    and, above, by ``u_max``, where the line stops short of a support without end.
    """

    data: family.Estimates
    priors: dict
    tol: float
    logp: Callable
    limit_lo: float
    limit_hi: float
    u_max: float
    what = "line over tau"
    subject = "posterior of tau"

    def locate(self) -> Located:
        """Find the interval that holds the posterior; its ends are edges unless they are tau's bounds."""
        lo, hi, _, at_hi = linelib.locate(self.logp, self.limit_lo, self.limit_hi)
        # Mass at tau's natural bounds (0, or the prior's) is legitimate; at u_max it is not.
        at_limit = at_hi and self.limit_hi == self.u_max
        open_lo, open_hi = lo > self.limit_lo, hi < self.limit_hi or at_limit

        def edge_mass(line: linelib.Line) -> float:
            """Return the ends' mass, except at a natural bound of tau (0, or the prior's support)."""
            w = line.weights
            return float((w[0] if open_lo else 0.0) + (w[-1] if open_hi else 0.0))

        return Located(Axis(lo, hi), at_limit, edge_mass)

    def hyperparameters(self, line: linelib.Line) -> dict[str, Quantity]:
        """``mu`` (a normal mixture over the nodes) and ``tau``."""
        data, priors, tol = self.data, self.priors, self.tol
        natural_start = line.lo == 0.0
        tau = family.to_tau(line.nodes, data.scale)
        mu_hat, v_mu = family.mu_given_tau(tau, data, priors["mu"])
        _, _, marginal = family.mixture(mu_hat[None, :], v_mu[None, :], line.weights)
        marginal = dataclasses.replace(marginal, exact=_mixture_log_density(mu_hat, v_mu, line.weights))
        mean, sd, has_mean = _mixture_moments(mu_hat, v_mu, line.weights, natural_start, tol)
        one = np.zeros(1, np.int64)
        mu = Quantity("mu", mean, sd, marginal, one, has_mean)
        return {"mu": mu, "tau": _tau_quantity(line, self.logp, data.scale, natural_start, tol)}

    def groups(self, line: linelib.Line) -> dict[str, Quantity]:
        """Every group's ``theta`` and a new group's: normal mixtures over the nodes that carry mass."""
        data, priors = self.data, self.priors
        (u,), w = Axis.prune(line)
        tau = family.to_tau(u, data.scale)
        mu_hat, v_mu = family.mu_given_tau(tau, data, priors["mu"])
        theta_mean, theta_var = family.theta_given_tau(tau, data, mu_hat, v_mu)
        mean, sd, marginal = family.mixture(theta_mean, theta_var, w)
        _, _, new_marginal = family.mixture(mu_hat[None, :], (v_mu + tau**2)[None, :], w)
        tau_all = family.to_tau(line.nodes, data.scale)
        mu_all, v_all = family.mu_given_tau(tau_all, data, priors["mu"])
        new_mean, new_sd, has_mean = _mixture_moments(
            mu_all, v_all + tau_all**2, line.weights, line.lo == 0.0, self.tol
        )
        one = np.zeros(1, np.int64)
        return {
            "theta": Quantity("theta", mean, sd, marginal, np.arange(data.y.size)),
            "theta_new": Quantity("theta_new", new_mean, new_sd, new_marginal, one, has_mean),
        }

    def notes(self, line: linelib.Line, info: GridInfo) -> list[str]:
        """Mass at an end of the line that is not a bound of tau."""
        if not (info.at_limit or info.edge_mass > EDGE_MASS):
            return []
        top = family.to_tau(self.u_max, self.data.scale)
        return [
            f"posterior mass {info.edge_mass:.2g} lies at the edge of the line over tau (up to "
            f"{top:.2g}): the posterior is improper or dominated by the "
            "prior there; choose a proper, informative prior on tau"
        ]

    def posterior(
        self, quantities: dict[str, Quantity], new: Quantity, line, info: GridInfo, notes: tuple[str, ...]
    ) -> NormalPosterior:
        """Return the partial fit's posterior."""
        return NormalPosterior(
            "partial", quantities, new, self.data, self.priors, line=line, grid_info=info, warnings=notes
        )


def fit_partial(priors: dict, data: family.Estimates, *, tol: float = 1e-4) -> NormalPosterior:
    """Partial pooling: ``tau`` on a refined line, the rest as normal mixtures; see the module docstring.

    Raises
    ------
    poolwise.priors.PriorError
        BDA3's uniform prior on ``tau`` with fewer than 3 groups (an improper posterior).
    """
    _check_proper(priors, data)
    scale = data.scale
    logp = family.log_posterior(priors["tau"], priors["mu"], data)
    lower, upper = priors["tau"].bounds
    limit_lo = float(family.to_u(max(lower, 0.0), scale))
    u_max = data.u_max
    limit_hi = float(min(family.to_u(upper, scale), u_max))
    return integrate(TauLine(data, priors, tol, logp, limit_lo, limit_hi, u_max))
