"""The numbers behind the figures (NumPy, SciPy and pandas only; no matplotlib).

Shared by the figures and the HTML report: group ordering, the shrinkage table, the predictive of
a new group's successes, highest-density regions of the hyperparameter grid, and fall-backs for
engines that only have draws.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from .._core.validation import check_ci
from ..families import registry
from ..families.display import display
from ..families.normal_normal import log_dtau_du, log_posterior, to_tau
from ..fitting.fit import Fit
from .predict import (  # noqa: F401 (the figures' numbers, read here as compute.<name>)
    NOT_EXACT,
    count_summary,
    draws_of,
    events_summary,
    hyper_mixture,
    mixture_pdf,
    mixture_summary,
    new_estimate,
    predictive_events,
    tau_line,
)
from .predict import predictive_counts as _predictive_counts

ORDERS = ("raw_rate", "trials", "mean", "name", "data")

#: Rates whose largest is at least this many times their smallest are drawn on log axes (the
#: pumps' failure rates run from 0.05 to 2.1 per thousand hours: on a linear axis the four
#: lowest share its first tenth).
LOG_SPAN = 10.0


def as_fits(fits: Fit | Mapping[str, Fit]) -> dict[str, Fit]:
    """Accept one :class:`~poolwise.Fit`, a :class:`~poolwise.FitSet` or a mapping of them."""
    if isinstance(fits, Fit) or (hasattr(fits, "model") and hasattr(fits, "group_table")):
        return {fits.model.pooling: fits}
    if isinstance(fits, Mapping) and len(fits) > 0:
        return dict(fits)
    raise TypeError(f"expected a Fit, a FitSet or a mapping pooling -> Fit, got {type(fits).__name__}")


def partial_fit(fits: Fit | Mapping[str, Fit], what: str) -> Fit:
    """Return the partial-pooling fit, or say clearly which figure needs it."""
    found = as_fits(fits)
    if "partial" not in found:
        raise ValueError(
            f"{what} needs a partial-pooling fit; got {', '.join(found)} "
            "(use pw.fit_all(...) or pw.fit(..., pooling='partial'))"
        )
    return found["partial"]


def _family(fit: Fit) -> registry.Family:
    """Return the fit's family (a fit-like object without one: the default family's)."""
    return registry.get(getattr(fit, "family", registry.DEFAULT))


def is_normal(fit: Fit) -> bool:
    """Whether the fit's data are estimates with standard errors (the exact engine's line over ``tau``)."""
    return _family(fit).data == "estimates"


def scale(fit: Fit) -> str:
    """Return what the fit's ``theta`` is: ``"probability"``, ``"effect"`` or ``"rate"``.

    The family's :attr:`~poolwise.families.registry.Family.theta_scale`: it sets the figures' axes
    (a rate from 0, on a log axis when the rates span decades: see :func:`log_rates`).
    """
    return _family(fit).theta_scale


def log_rates(rates: np.ndarray) -> bool:
    """Whether rates read better on a log axis: all positive, the largest :data:`LOG_SPAN` times the smallest.

    NaN (a group with no exposure) is left out; a rate of 0 has no place on a log axis, so any
    keeps the axis linear.
    """
    r = np.asarray(rates, float)
    r = r[~np.isnan(r)]
    return bool(r.size > 1 and np.all(r > 0) and np.all(np.isfinite(r)) and r.max() >= LOG_SPAN * r.min())


def group_size(table: pd.DataFrame) -> np.ndarray:
    """How much data each group has: its trials, its exposure, or the precision ``1/s`` of its estimate."""
    if "std_error" in table.columns:
        return 1.0 / table["std_error"].to_numpy(float)
    return table["exposure" if "exposure" in table.columns else "trials"].to_numpy(float)


def order_groups(table: pd.DataFrame, order: str, means: pd.Series | None = None) -> np.ndarray:
    """Positions of the groups in display order, first row at the top of a forest.

    ``raw_rate`` and ``mean`` put the highest first, ``trials`` the largest, ``name`` sorts
    alphabetically and ``data`` keeps the input order. Groups without a raw rate (no trials) come
    last; ties are broken by the input order, so the ordering is deterministic. For estimates
    (a table with ``estimate`` and ``std_error``), ``raw_rate`` orders by the estimate and
    ``trials`` by the precision ``1/s``, their counterparts; for event counts (``events`` and
    ``exposure``), ``raw_rate`` is ``y/E`` and ``trials`` orders by the exposure.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    position = np.arange(len(table))
    if order == "data":
        return position
    if order == "name":
        return np.array(sorted(position, key=lambda i: (str(table.index[i]), i)), dtype=np.int64)
    if order == "trials":
        key = group_size(table)
    elif order == "raw_rate":
        key = table["estimate" if "estimate" in table.columns else "raw_rate"].to_numpy(float)
    else:
        key = (table["mean"] if means is None else means).to_numpy(float)
    key = np.where(np.isfinite(key), key, -np.inf)
    return np.lexsort((position, -key))


def shrinkage_table(
    fits: Fit | Mapping[str, Fit], ci_kind: str | None = None, ci_prob: float | None = None
) -> pd.DataFrame:
    r"""Per-group shrinkage under partial pooling, with the other poolings' estimates beside it.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        Must contain the partial-pooling fit; no and complete pooling are added when present.
    ci_kind, ci_prob : optional
        Interval of the partial-pooling posterior (``hdi``, 0.94 by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by group, in the data's order: ``successes``, ``trials``, ``raw_rate``
        (``estimate``, ``std_error`` for the normal-normal family; ``events``, ``exposure``,
        ``raw_rate`` for the gamma-Poisson family), ``none_mean``,
        ``partial_mean`` with its interval, ``complete_mean``, ``shrinkage`` and ``moved``
        (``partial_mean - raw_rate``, or ``partial_mean - estimate``).

    Notes
    -----
    Given the hyperparameters, the posterior mean of group :math:`i` is exactly
    :math:`(1 - B_i)\,y_i/n_i + B_i\,\mu` with :math:`B_i = \kappa / (\kappa + n_i)`, the weight the
    population gets against the group's own data. ``shrinkage`` is its posterior expectation
    :math:`E[\kappa / (\kappa + n_i) \mid y]`: 0 is no pooling, 1 complete pooling. It is computed
    on the exact engine's grid (the quadrature behind every other summary), or averaged over
    posterior draws for a sampling engine. A group with no trials has :math:`B_i = 1`.

    For estimates :math:`y_i` with standard errors :math:`s_i` (normal-normal), the posterior mean
    given :math:`(\mu, \tau)` is :math:`(1 - B_i)\,y_i + B_i\,\mu` with
    :math:`B_i = s_i^2 / (s_i^2 + \tau^2)` (BDA3 eq. 5.17), and ``shrinkage`` is
    :math:`E[s_i^2 / (s_i^2 + \tau^2) \mid y]`, integrated over the exact engine's line in
    :math:`u = \operatorname{asinh}(\tau / c)` by the trapezoid rule (its integrand is even in
    :math:`u` at :math:`\tau = 0`, so the rule is as accurate as for the posterior itself), or
    averaged over the draws of :math:`\tau`.

    For the logit-normal family no such weight exists in closed form; ``shrinkage`` is then, on the
    log-odds scale :math:`z_i = \mathrm{logit}\,\theta_i` where the population is normal,
    :math:`1 - \mathrm{Var}(z_i \mid y) / \mathrm{Var}(z_i \mid y_i)`, the share of the own-data
    variance (under no pooling's :math:`\mathrm{Beta}(1/2 + y_i, 1/2 + n_i - y_i)`) that pooling
    removed, clipped to [0, 1]: for a normal population and a normal likelihood this is
    exactly the weight of the population, :math:`\sigma_i^2 / (\sigma_i^2 + \sigma^2)`.

    For event counts in an exposure :math:`E_i` with a Gamma population (gamma-Poisson), the
    posterior of :math:`\theta_i` given :math:`(\alpha, \beta)` is
    :math:`\mathrm{Gamma}(\alpha + y_i, \beta + E_i)`, whose mean is
    :math:`(1 - B_i)\,y_i/E_i + B_i\,\alpha/\beta` with :math:`B_i = \beta / (\beta + E_i)`:
    exposure plays the part of trials, and :math:`\beta` that of :math:`\kappa`. ``shrinkage``
    is :math:`E[\beta / (\beta + E_i) \mid y]` on the exact engine's grid over
    :math:`(\log\mu, \log\alpha)`, or over the draws; a group with no exposure has :math:`B_i = 1`.
    """
    found = as_fits(fits)
    partial = partial_fit(found, "the shrinkage table")
    kind, prob = check_ci(ci_kind, ci_prob)
    table = partial.group_table(kind, prob)
    lb, ub = table.columns[-2], table.columns[-1]
    # a group's own data, and the observed value its posterior mean moves from
    family = registry.get(partial.family)
    columns, observed = family.observed, family.raw
    out = table[list(columns)].copy()
    if "none" in found:
        out["none_mean"] = found["none"].group_table(kind, prob)["mean"].to_numpy()
    out["partial_mean"] = table["mean"]
    out[f"partial_{lb}"] = table[lb]
    out[f"partial_{ub}"] = table[ub]
    if "complete" in found:
        out["complete_mean"] = found["complete"].group_table(kind, prob)["mean"].to_numpy()
    out["shrinkage"] = family.maths.shrinkage_weight(table, PopulationPosterior(partial))
    out["moved"] = table["mean"] - table[observed]
    return out


class PopulationPosterior:
    """What a family's ``shrinkage_weight`` reads of a partial fit, each computed when asked.

    Parameters
    ----------
    fit : Fit
        The partial-pooling fit.
    """

    def __init__(self, fit: Fit) -> None:
        self.fit = fit

    def hyper_mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Return the nodes of a 2-D population's hyperparameters (:func:`~.predict.hyper_mixture`)."""
        return hyper_mixture(self.fit)

    def tau_mixture(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """Return the nodes of ``tau`` of a normal population (:func:`tau_mixture`)."""
        return tau_mixture(self.fit)

    def logit_variance(self) -> np.ndarray:
        """Return each group's ``Var(logit theta_i | y)`` (:func:`logit_variance`)."""
        return logit_variance(self.fit)


def logit_variance(fit: Fit) -> np.ndarray:
    """``Var(logit theta_i | y)`` per group, from the exact engine's tabulated densities (or draws)."""
    if fit.engine != "exact":
        theta = fit.idata["posterior"]["theta"].values
        return special.logit(theta.reshape(-1, theta.shape[-1])).var(axis=0)
    q = fit.posterior.quantities["theta"]
    m = q.marginal
    # The rows are tabulated on the log-odds themselves (theta = expit(z)), at uniform nodes.
    z = m.z
    w = m.pdf / m.pdf.sum(axis=1, keepdims=True)
    mean = (w * z).sum(axis=1)
    return ((w * (z - mean[:, None]) ** 2).sum(axis=1))[q.index]


def tau_mixture(fit: Fit) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(tau, weight, exact)`` over the posterior of ``tau`` (normal-normal partial pooling).

    The exact engine's line: its nodes in ``u = asinh(tau / c)`` mapped to ``tau``, with their
    trapezoid probabilities (``exact=True``); otherwise the posterior draws with equal weights.
    """
    line = tau_line(fit)
    if line is None:
        tau = draws_of(fit, "tau")
        return tau, np.full(tau.size, 1.0 / tau.size), False
    return line[0], line[1], True


def default_trials(fit: Fit) -> int:
    """Return the default trials of a new group: the median group's, at least 1."""
    trials = np.asarray(fit.data.trials)
    return max(1, int(np.round(np.median(trials)))) if trials.size else 1


#: What is predicted of a new group's data other than counts out of trials, by the kind of data.
_COUNTS_INSTEAD = {
    "estimates": "plots.plot_y_new(fits, std_error=...) draws the predictive of a new estimate",
    "rates": "plots.predictive_events(fit, exposure) gives a new group's events in an exposure, and "
    "plots.plot_y_new(fits, exposure=...) draws them",
}


@functools.wraps(_predictive_counts)
def predictive_counts(fit: Fit, trials: int) -> pd.Series:  # noqa: D103 (the wrapped docstring)
    family = registry.get(fit.family)
    if not family.binomial:
        binomial = " and ".join(f.name for f in registry.REGISTRY.values() if f.binomial)
        raise NotImplementedError(
            f"predictive_counts is for binomial counts (the {binomial} families); this fit is "
            f"{fit.family}: {_COUNTS_INSTEAD[family.data]}"
        )
    return _predictive_counts(fit, trials)


def default_exposure(fit: Fit) -> float:
    """Return the default exposure of a new group: the median exposure of the groups that have one."""
    exposure = np.asarray(fit.data.exposure, float)
    exposure = exposure[exposure > 0]
    return float(np.median(exposure)) if exposure.size else 1.0


def default_std_error(fit: Fit) -> float:
    """Return the default standard error of a new estimate: the median study's."""
    return float(np.median(np.asarray(fit.data.std_error, float)))


def hpd_thresholds(weight: np.ndarray, masses: tuple[float, ...]) -> np.ndarray:
    """Cell probabilities above which the cells hold each mass (highest-density regions).

    On a grid of equal cells the cells with the largest probability form the highest-density
    region; ``thresholds[i]`` is the smallest cell probability inside the region of ``masses[i]``.
    """
    flat = np.sort(np.asarray(weight, float).ravel())[::-1]
    cum = np.cumsum(flat) / flat.sum()
    return np.array([flat[min(int(np.searchsorted(cum, m)), flat.size - 1)] for m in masses])


def _logit(x: np.ndarray) -> np.ndarray:
    # Draws that rounded to a bound (mu = 1.0 in float) still carry their mass, just inside it.
    x = np.clip(x, 1e-12, 1 - 1e-12)
    return np.log(x) - np.log1p(-x)


def _log(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, 1e-300))


#: The transforms of the family's grid axes (:attr:`~poolwise.families.registry.Family.grid_axes`).
_TO_AXIS = {"logit": _logit, "log": _log}


def joint_grid(fit: Fit, size: int = 90) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(u, v, weight, exact)``: posterior mass of the exact grid's coordinates on a regular grid.

    The coordinates are (logit mu, log kappa) for the beta-binomial family and (log mu, log alpha)
    for the gamma-Poisson family (the family's ``grid_axes``). The exact engine's own grid when it has
    one; otherwise a Gaussian kernel density estimate of the draws on those coordinates,
    tabulated on a ``size x size`` grid.
    """
    try:
        grid = fit.hyper_grid()
    except NOT_EXACT:
        pass
    else:
        return grid["u"], grid["v"], grid["weight"], True
    from scipy import stats

    (x_name, to_u), (y_name, to_v) = ((n, _TO_AXIS[t]) for n, t in registry.get(fit.family).grid_axes)
    pts = np.vstack([to_u(draws_of(fit, x_name)), to_v(draws_of(fit, y_name))])
    pts = pts[:, np.all(np.isfinite(pts), axis=0)]
    kde = stats.gaussian_kde(pts)
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    pad = 0.15 * (hi - lo)
    u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], size)
    v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], size)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    dens = kde(np.vstack([uu.ravel(), vv.ravel()])).reshape(uu.shape)
    return u, v, dens / dens.sum(), False


def joint_normal(fit: Fit, size: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(mu, tau, weight, exact)``: posterior mass of (mu, u = asinh(tau / c)) on a regular grid.

    ``weight[j, k]`` is the probability of the cell at ``mu[j]`` and ``tau[k]``; the cells are
    equal in ``(mu, u)``, so that the largest ones form highest-density regions there. The exact
    engine's line gives the nodes in ``u`` and their probabilities, and ``mu | tau, y`` is
    ``N(mu_hat(tau), V_mu(tau))`` (BDA3 eq. 5.20) on ``size`` points of ``mu`` spanning its central
    99.98%. A sampling engine's draws give a kernel density estimate on ``size x size`` points of
    ``(mu, u)``, reflected at ``u = 0`` (the density of ``tau`` need not vanish at 0).
    """
    x, f, _ = density(fit, "mu")
    left, right = mass_window(x, f, 1e-4, 1 - 1e-4)
    mu = np.linspace(left, right, size)
    line = tau_line(fit)
    if line is not None:
        tau, nodes, mu_hat, v_mu = line
        weight = mixture_pdf(mu, mu_hat, np.sqrt(v_mu), nodes, each=True)
        return mu, tau, weight / weight.sum(), True
    from scipy import stats

    scale = default_std_error(fit)  # the engine's c: the median standard error
    draws_mu = draws_of(fit, "mu")
    draws_u = np.arcsinh(draws_of(fit, "tau") / scale)
    kde = stats.gaussian_kde(np.vstack([np.append(draws_mu, draws_mu), np.append(draws_u, -draws_u)]))
    u = np.linspace(0.0, 1.1 * float(np.quantile(draws_u, 0.999)), size)
    mm, uu = np.meshgrid(mu, u, indexing="ij")
    dens = kde(np.vstack([mm.ravel(), uu.ravel()])).reshape(mm.shape)
    return mu, to_tau(u, scale), dens / dens.sum(), False


def density(fit: Fit, name: str, group: str | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(x, density, exact)`` of a parameter: the exact density, or a KDE of the draws.

    ``exact`` is whether the density is the exact engine's (a sampling engine's own density is a
    kernel estimate too).

    The kernel density estimate is made on the scale the family's ``kde`` gives and the
    parameter: the logit of probabilities, the log of positive parameters (mapped back with the
    Jacobian, so it respects the bounds), an effect's own scale, reflected at 0 for ``tau``.

    ``tau``'s exact density is evaluated afresh at eight points per cell of the engine's line
    (the engine tabulates it at the nodes only, which draws a visibly polygonal curve), and
    normalised by the line's integral.
    """
    line = getattr(getattr(fit, "posterior", None), "line", None)
    if name == "tau" and line is not None:
        post = fit.posterior
        u = np.linspace(line.lo, line.nodes[-1], 8 * (line.logp.size - 1) + 1)
        logp = log_posterior(post.priors["tau"], post.priors["mu"], post.data)(u)
        f = np.exp(logp - line.log_integral - log_dtau_du(u, post.data.scale))
        return to_tau(u, post.data.scale), f, True
    fine = _fine_density(fit, name)
    if fine is not None:
        return (*fine, True)
    # A sampler's own density of tau is a kernel estimate on log(tau), which spikes at 0 when the
    # posterior holds mass there (eight schools): the estimate below reflects at 0 instead.
    if not (name == "tau" and is_normal(fit)):
        try:
            # A density unbounded at 0 or 1 can overflow at its outermost points: leave those out.
            with np.errstate(over="ignore", invalid="ignore"):
                x, f = fit.density(name, group)
                x, f = np.asarray(x, float), np.asarray(f, float)
            keep = np.isfinite(x) & np.isfinite(f)
            return x[keep], f[keep], fit.engine == "exact"
        except NOT_EXACT:
            pass
    from scipy import stats

    if name == "theta_new":
        draws = fit.idata["posterior_predictive"]["theta_new"].values
    elif name == "theta" and group is not None and fit.model.pooling != "complete":
        draws = fit.idata["posterior"]["theta"].sel({fit.dim: str(group)}).values
    else:
        draws = fit.idata["posterior"][name].values
    draws = np.asarray(draws, float).ravel()
    # On the log-odds for probabilities and the log for positive parameters (mapped back with the
    # Jacobian, so the density respects the bounds), on the parameter's own scale for unbounded
    # ones, and reflected at 0 for spreads whose density need not vanish there (eight schools' tau).
    named, default = registry.get(fit.family).kde
    how = named.get(name, default)
    if how == "linear":
        kde = stats.gaussian_kde(draws)
        x = np.linspace(draws.min() - 0.5 * draws.std(), draws.max() + 0.5 * draws.std(), 400)
        return x, kde(x), False
    if how == "reflect":
        kde = stats.gaussian_kde(np.append(draws, -draws))
        x = np.linspace(0.0, draws.max() + 0.5 * draws.std(), 400)
        return x, 2 * kde(x), False
    z = _logit(draws) if how == "logit" else _log(draws)
    z = z[np.isfinite(z)]
    kde = stats.gaussian_kde(z)
    grid = np.linspace(z.min() - 0.5 * z.std(), z.max() + 0.5 * z.std(), 400)
    dens = kde(grid)
    if how == "logit":
        x = 1 / (1 + np.exp(-grid))
        return x, dens / (x * (1 - x)), False
    x = np.exp(grid)
    return x, dens / x, False


def _fine_density(fit: Fit, name: str, per_node: int = 8) -> tuple[np.ndarray, np.ndarray] | None:
    """``(x, density)`` of an exact marginal at ``per_node`` points per node spacing, or None.

    The engine's marginal is a cubic spline of the density over its nodes, whose integral gives
    every quantile; the density drawn is that integral's slope over each sub-interval (public
    ``cdf``, no private coefficients), at the sub-interval's middle on the unconstrained scale.
    None where the family's ``fine`` does not ask for it (lines spanning decades, see
    :class:`~poolwise.families.registry.Family`), or the marginal is not such a spline (a closed form,
    a sampler's draws).
    """
    if name not in registry.get(fit.family).fine or fit.engine != "exact" or fit.model.pooling != "partial":
        return None
    q = _quantity(fit, name)
    marginal, row = q.marginal, int(q.index[0])
    if not hasattr(marginal, "z") or getattr(marginal, "loc", None) is not None:
        return None
    z = marginal.z[row]
    fine = np.linspace(z[0], z[-1], per_node * (z.size - 1) + 1)
    with np.errstate(over="ignore"):
        edges = marginal.to_natural(fine)
        middle = marginal.to_natural(0.5 * (fine[1:] + fine[:-1]))
    cdf = np.asarray(marginal.cdf(np.broadcast_to(edges, (marginal.z.shape[0], edges.size))), float)[row]
    mass, width = np.diff(cdf), np.diff(edges)
    keep = np.isfinite(middle) & np.isfinite(width) & (width > 0)
    return middle[keep], mass[keep] / width[keep]


def _quantity(fit: Fit, name: str):
    post = fit.posterior
    q = post.new_group if name == "theta_new" else post.quantities.get(name)
    if q is None:
        raise ValueError(f"{fit.model.title} has no posterior of {name} to summarise")
    return q


def means_exist(fit: Fit, name: str) -> np.ndarray:
    """Whether each reported entry of ``name`` (every group's ``theta``, else one) has a finite mean.

    Where it may not (the gamma-Poisson population's mean rate ``mu`` under the default priors,
    a new group's rate, a group with no exposure), a figure shows the median instead: a mean
    computed on a grid or from draws would be a finite number for an infinite quantity.
    """
    if fit.engine == "exact":
        q = _quantity(fit, name)
        return np.broadcast_to(q.moments_exist, q.mean.shape)[q.index].copy()
    # A sampler's means are always finite numbers: ask the family. Under partial pooling with a
    # Gamma population, mu = alpha/beta and a new group's rate (mu's mean) may have none, nor a
    # group with no exposure (predicted as a new one).
    size = fit.data.n_groups if name == "theta" and fit.model.pooling != "complete" else 1
    if fit.model.pooling != "partial" or not display(fit.family).mean_may_be_infinite:
        return np.ones(size, bool)
    if name == "theta":
        return np.asarray(fit.data.exposure, float) > 0
    return np.full(size, name not in ("mu", "theta_new"))


def medians(fit: Fit, name: str) -> np.ndarray:
    """Posterior median of each reported entry of ``name``: the fit's own marginal's."""
    return np.asarray(_quantity(fit, name).quantile(0.5), float)


def centre(fit: Fit, name: str, mean: float) -> tuple[str, float]:
    """``("mean", mean)``, or ``("median", its median)`` where the mean may be infinite."""
    if bool(np.all(means_exist(fit, name))):
        return "mean", float(mean)
    return "median", float(medians(fit, name)[0])


def mode(fit: Fit, name: str, x: np.ndarray, f: np.ndarray) -> float:
    """Return the exact engine's mode when it has one, else the peak of the tabulated density.

    A sampler's mode is that of the density drawn (``x``, ``f``), so that the two agree. The peak
    is refined by the parabola through the log-density at the largest value and its two
    neighbours (``x`` sorted), so that it is not limited to the tabulation's spacing.
    """
    if fit.engine == "exact":
        try:
            return float(fit.mode(name))
        except NOT_EXACT:
            pass
    top = int(np.argmax(f))
    if top == 0 or top == f.size - 1:
        return float(x[top])
    (x0, x1, x2), (f0, f1, f2) = x[top - 1 : top + 2], np.log(np.maximum(f[top - 1 : top + 2], 1e-300))
    # Vertex of the parabola through three points (not necessarily evenly spaced).
    num = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
    den = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
    return float(x1 - 0.5 * num / den) if den != 0 else float(x1)


def mass_window(x: np.ndarray, f: np.ndarray, lower: float, upper: float) -> tuple[float, float]:
    """Points between which the tabulated density holds the central mass ``upper - lower``."""
    order = np.argsort(x)
    x, f = x[order], f[order]
    cells = np.diff(x) * 0.5 * (f[1:] + f[:-1])
    cum = np.concatenate([[0.0], np.cumsum(cells)])
    cum /= cum[-1]
    return float(np.interp(lower, cum, x)), float(np.interp(upper, cum, x))
