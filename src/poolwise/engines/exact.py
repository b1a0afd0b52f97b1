"""The exact engine: conjugate closed forms, and a refined grid over the hyperparameters.

No and complete pooling are closed-form Betas. Partial pooling integrates the group parameters out
analytically and the two hyperparameters on an adaptive grid (:mod:`poolwise._core.grid`), refining
the grid until every summary moves less than ``tol`` between two successive resolutions. The summaries
checked are each reported parameter's mean, standard deviation and the quantiles in
:data:`CHECKED_QUANTILES` (which bound every interval a user is likely to ask for); a change counts
relative to the value's size where that exceeds one (``|change| <= tol * max(1, |value|)``).

The engine knows nothing of a family's formulas: it asks the family (a module such as
:mod:`poolwise.families.beta_binomial` or :mod:`poolwise.families.gamma_poisson`: a conjugate
population of two hyperparameters) for the log posterior, the conjugate group posteriors and the
hyperparameters' transforms.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
from scipy import special

from .._core import grid as gridlib
from .._core.marginal import BetaRows, GammaRows, GridMarginal, Marginal
from ..errors import PoolwiseWarning, PriorError
from ..families import beta_binomial

#: Quantiles compared between grid resolutions.
CHECKED_QUANTILES = np.array([0.005, 0.025, 0.03, 0.05, 0.25, 0.5, 0.75, 0.95, 0.97, 0.975, 0.995])

#: Grid resolutions tried in turn (nodes per axis).
LEVELS = (24, 32, 48, 64, 96, 128, 192, 256)

#: Edge-ring probability above which the posterior is reported as improper or prior-dominated, and
#: a reweighted posterior (a group left out or added) is refitted on a grid of its own.
EDGE_MASS = 1e-8

#: Likelihood gain (nats) of the best hierarchical fit over complete pooling below which the data
#: cannot tell the two apart: 1.92 = chi2(1).ppf(0.95) / 2, the likelihood-ratio bound.
POOLING_EVIDENCE = 1.92

#: Likelihood drop (nats) from its maximum to the posterior's mode above which the data reject the
#: posterior's centre: chi2(2).ppf(0.95) / 2, the likelihood-ratio bound for two hyperparameters.
PRIOR_PULL = 2.996

#: Probability below which the smallest grid cells are left out of mixtures (their total mass).
PRUNE_MASS = 1e-7


@dataclass(frozen=True)
class Quantity:
    """One reported parameter: exact moments and a marginal for each distinct row.

    ``index`` maps each reported entry (a group, or the single entry of a scalar) to its row.
    """

    name: str
    mean: np.ndarray
    sd: np.ndarray
    marginal: Marginal
    index: np.ndarray
    #: False (for all rows, or per row) where the mean may be infinite: only the quantiles are
    #: then checked for convergence.
    moments_exist: bool | np.ndarray = True

    def interval(self, kind: str, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Credible interval for every reported entry."""
        from .._core.marginal import interval

        lo, hi = interval(self.marginal, kind, prob)
        return lo[self.index], hi[self.index]

    def quantile(self, prob: float) -> np.ndarray:
        """Return the ``prob`` quantile of every reported entry."""
        return self.marginal.ppf(np.full((self.mean.size, 1), float(prob)))[self.index, 0]


@dataclass(frozen=True)
class GridInfo:
    """What the grid did: resolution, convergence and edge checks."""

    n: int
    group_n: int
    levels: tuple[int, ...]
    max_change: float
    converged: bool
    edge_mass: float
    at_limit: bool
    log_evidence: float


def grid_diagnostics(info: GridInfo | None, dims: int) -> dict:
    """Report what a refined grid did, as ``Fit.diagnostics`` shows it (empty for the closed forms)."""
    if info is None:
        return {}
    return {
        "grid_nodes": "x".join([str(info.n)] * dims),
        "group_grid_nodes": "x".join([str(info.group_n)] * dims),
        "levels": list(info.levels),
        "max_change": info.max_change,
        "converged": info.converged,
        "edge_mass": info.edge_mass,
        "at_limit": info.at_limit,
        "log_evidence": info.log_evidence,
    }


@dataclass(frozen=True)
class ExactPosterior:
    """Everything the exact engine knows about one fitted model."""

    pooling: str
    quantities: dict[str, Quantity]
    new_group: Quantity | None
    pairs: beta_binomial.Pairs
    grid: gridlib.Grid2D | None = None
    grid_info: GridInfo | None = None
    conjugate: BetaRows | GammaRows | None = None
    warnings: tuple[str, ...] = field(default=())
    engine: str = "exact"
    family: ModuleType = beta_binomial

    @property
    def diagnostics(self) -> dict:
        """What the grid did (empty for the closed forms)."""
        return grid_diagnostics(self.grid_info, dims=2)

    def draws(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw from the posterior: ``theta`` ``(n, groups)`` or ``(n,)``, hyperparameters ``(n,)``.

        Partial pooling picks a grid cell by its probability, a uniform point inside it, then each
        ``theta_i`` from its conjugate posterior given that point.
        """
        inverse, family = self.pairs.inverse, self.family
        if self.pooling == "none":
            a, b = self.conjugate.a[inverse], self.conjugate.b[inverse]
            return {"theta": family.draw(rng, a, b, size=(n, a.size))}
        if self.pooling == "complete":
            return {"theta": family.draw(rng, self.conjugate.a[0], self.conjugate.b[0], size=n)}
        g = self.grid
        flat = g.weights.ravel()
        cell = rng.choice(flat.size, size=n, p=flat)
        iu, iv = np.unravel_index(cell, g.logp.shape)
        u = g.u[iu] + g.hu * (rng.random(n) - 0.5)
        v = g.v[iv] + g.hv * (rng.random(n) - 0.5)
        out = family.hyper_draws(u, v)
        a, b = family.posterior_params(out["alpha"], out["beta"], self.pairs)  # (pairs, n)
        out["theta"] = family.draw(rng, a[inverse].T, b[inverse].T)
        return out


def _quantiles(q: Quantity) -> np.ndarray:
    rows = np.ones((q.mean.size, 1)) * CHECKED_QUANTILES
    return q.marginal.ppf(rows)


def _change(old: dict[str, Quantity], new: dict[str, Quantity]) -> float:
    worst = 0.0
    for name, q in new.items():
        p = old[name]
        rows = np.unique(q.index)  # the new group's row may sit in theta's table, unreported there
        rows = rows[np.broadcast_to(q.moments_exist, q.mean.shape)[rows]]
        pairs = [(p.mean[rows], q.mean[rows]), (p.sd[rows], q.sd[rows])]
        for a, b in [*pairs, (_quantiles(p), _quantiles(q))]:
            scale = np.maximum(1.0, np.abs(b))
            moved = np.abs(a - b) / scale
            # an sd that does not exist at one level (NaN) has nothing to converge to
            worst = max(worst, float(np.max(moved[~np.isnan(moved)], initial=0.0)))
    return worst


def fit_closed_form(pooling: str, theta_prior, trials: np.ndarray, successes: np.ndarray) -> ExactPosterior:
    """No pooling (a Beta per group) or complete pooling (one Beta for all)."""
    return fit_closed_form_pairs(pooling, theta_prior, beta_binomial.Pairs.from_counts(trials, successes))


def fit_closed_form_pairs(
    pooling: str, theta_prior, pairs, *, family: ModuleType = beta_binomial
) -> ExactPosterior:
    """No pooling (a conjugate posterior per group) or complete pooling (one for all)."""
    if pooling == "none":
        post = family.conjugate(theta_prior, *pairs.columns)
        index = pairs.inverse
        _check_proper(post, theta_prior, pooling)
    else:
        post = family.conjugate(theta_prior, *(np.array([pairs.count @ c]) for c in pairs.columns))
        index = np.zeros(1, dtype=np.int64)
        _check_proper(post, theta_prior, pooling)
    theta = Quantity("theta", post.mean, post.sd, post, index)
    if pooling == "complete":
        new = Quantity("theta_new", theta.mean, theta.sd, post, np.zeros(1, np.int64))
    elif theta_prior.proper:
        # An unseen group learns nothing from the others: its predictive is the prior.
        prior = family.conjugate(theta_prior, *(np.zeros(1, c.dtype) for c in pairs.columns))
        new = Quantity("theta_new", prior.mean, prior.sd, prior, np.zeros(1, np.int64))
    else:
        new = None
    return ExactPosterior(pooling, {"theta": theta}, new, pairs, conjugate=post, family=family)


def _check_proper(post, theta_prior, pooling: str) -> None:
    """Refuse a closed form whose posterior is improper: an improper prior met no data."""
    if np.all(post.b > 0):
        return
    where = "a group with no exposure has" if pooling == "none" else "with no exposure at all, theta has"
    raise ValueError(
        f"{pooling} pooling with the improper prior theta ~ {theta_prior}: {where} no proper "
        "posterior; give theta a proper prior (e.g. Gamma(0.5, 0.001)), or use partial pooling, "
        "which predicts such a group from the others"
    )


def prune(grid: gridlib.Grid2D) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells that carry all but PRUNE_MASS of the probability, as ``(u, v, weight)``."""
    w = grid.weights.ravel()
    order = np.argsort(w)
    dropped = np.cumsum(w[order]) < PRUNE_MASS
    keep = np.sort(order[~dropped])
    iu, iv = np.unravel_index(keep, grid.logp.shape)
    kept = w[keep]
    return grid.u[iu], grid.v[iv], kept / kept.sum()


#: Nodes of the one-dimensional grids on which hyperparameter marginals are tabulated.
LINE_NODES = 129


def _hyper_quantities(
    grid: gridlib.Grid2D, logp, u, v, family: ModuleType, tol: float
) -> dict[str, Quantity]:
    """Marginals of the hyperparameters, each tabulated on its own fine one-dimensional grid.

    Every reported hyperparameter is a line of the family (:class:`poolwise._core.grid.HyperLine`):
    a function of a coordinate ``s`` that, with one of the grid axes, parametrises the plane with
    unit Jacobian. The integral over the other axis uses the grid's own nodes; ``s`` gets
    :data:`LINE_NODES` nodes over the range held by the grid cells that carry mass.
    """
    # Moments use every cell: a heavy tail (a mean that does not exist) must show up as a mean
    # that keeps moving with the grid, not be pruned away. ``u, v`` (the pruned cells) only set ranges.
    uu_all, vv_all = np.meshgrid(grid.u, grid.v, indexing="ij")
    values = family.hyper_draws(uu_all.ravel(), vv_all.ravel())
    top = grid.logp.max()
    # The box as (centre, half-width) along each axis, cells included.
    box_u = ((grid.u[0] + grid.u[-1]) / 2, (grid.u[-1] - grid.u[0] + grid.hu) / 2)
    box_v = ((grid.v[0] + grid.v[-1]) / 2, (grid.v[-1] - grid.v[0] + grid.hv) / 2)
    out: dict[str, Quantity] = {}
    for name, line in family.HYPER_LINES.items():
        mean, sd, exist = moments(grid, values[name].reshape(grid.logp.shape), tol)
        s_cells = line.s(u, v)
        other = grid.v if line.t_along_v else grid.u
        half = 0.5 * (grid.hu if line.t_along_v else grid.hv) + 0.5 * grid.hu
        lo, hi = s_cells.min() - half, s_cells.max() + half
        h = (hi - lo) / (LINE_NODES - 1)
        s_nodes = lo + h * np.arange(LINE_NODES)

        def log_density(s: np.ndarray, line=line, other=other) -> np.ndarray:
            """``log`` of the line's density at ``s``, summed over the other axis's grid nodes."""
            uu, vv = line.to_uv(s[:, None], other[None, :])
            # Only the grid's box: every other summary integrates over it, and outside it an
            # improper posterior can exceed the box's peak (its warning is raised below).
            inside = (np.abs(uu - box_u[0]) <= box_u[1]) & (np.abs(vv - box_v[0]) <= box_v[1])
            return special.logsumexp(np.where(inside, logp(uu, vv), -np.inf) - top, axis=1)

        density = np.exp(log_density(s_nodes))
        marginal = GridMarginal(
            np.array([lo]),
            np.array([h]),
            density[None, :],
            line.natural,
            line.log_jacobian,
            line.inverse,
            exact=log_density,
        )
        exist = exist and line.moments_exist
        out[name] = Quantity(name, np.array([mean]), np.array([sd]), marginal, np.zeros(1, np.int64), exist)
    return out


def moments(
    grid: gridlib.Grid2D, x: np.ndarray, tol: float, *, closed_v_lo: bool = False
) -> tuple[float, float, bool]:
    """Mean and standard deviation of ``x`` over the grid's cells, NaN where they do not exist.

    A moment exists here when the part of its integral beyond the box, as
    :func:`poolwise._core.grid.moment_tail` estimates it from the box's outer cells, is at most
    ``tol`` of it, or no heavier than the probability's own tail there (a box that does not hold
    the posterior spoils every summary alike, and the engine's edge warnings say so). Under BDA3's
    prior on the rat tumours ``p(kappa | y) ~ kappa^(-3/2)``: the probability beyond the box is
    1e-9, but ``E[kappa]`` is infinite, and a sum over any box reports a number that grows with it.

    Parameters
    ----------
    grid : Grid2D
        The posterior's grid.
    x : ndarray
        The quantity at every cell, shape ``(nu, nv)``.
    tol : float
        The fit's tolerance.
    closed_v_lo : bool
        The box's lower ``v`` side is a natural end of the coordinate (see ``moment_tail``).

    Returns
    -------
    mean, sd : float
        NaN where the mean (the variance) does not exist.
    exist : bool
        Whether the mean exists.
    """
    w = grid.weights
    mean = float(np.sum(x * w))
    sd = math.sqrt(max(float(np.sum((x - mean) ** 2 * w)), 0.0))
    tail = functools.partial(gridlib.moment_tail, grid, closed_v_lo=closed_v_lo)
    has_mean, has_sd = which_moments_exist(tail, x, x - mean, tol)
    return (mean if has_mean else math.nan), (sd if has_sd else math.nan), has_mean


def which_moments_exist(tail, first: np.ndarray, second: np.ndarray, tol: float) -> tuple[bool, bool]:
    """Whether a quantity's mean and variance exist, judged by the tails of their integrands.

    Parameters
    ----------
    tail : callable
        ``tail(values, k)``: the share of ``E[|values|^k]`` estimated to lie beyond the tabulated
        range (:func:`poolwise._core.grid.moment_tail`, :func:`poolwise._core.line.moment_tail`).
    first, second : ndarray
        At every node, a bound on the quantity's size and its deviation from the mean.
    tol : float
        The fit's tolerance.

    Returns
    -------
    mean, variance : bool
    """
    # 10x: a moment's tail must be markedly heavier than the probability's to be its own
    allowed = max(tol, 10 * tail(np.ones_like(first), 0))
    has_mean = tail(first, 1) <= allowed
    return has_mean, has_mean and tail(second, 2) <= allowed


def _group_level(grid: gridlib.Grid2D, pairs, family: ModuleType) -> dict[str, Quantity]:
    """Every group's theta (and a new group's): mixtures of conjugate posteriors over the grid's cells."""
    u, v, w = prune(grid)
    alpha, beta = family.alpha_beta(u, v)
    a, b = family.posterior_params(alpha, beta, pairs.with_new_group())
    mean, sd, marginal = family.mixture(a, b, w)
    new_row = np.array([pairs.count.size])
    exist = family.moments_exist(pairs.with_new_group())
    return {
        "theta": Quantity("theta", mean, sd, marginal, pairs.inverse, exist),
        "theta_new": Quantity("theta_new", mean, sd, marginal, new_row, exist),
    }


def refine(levels, evaluate, summarise, tol: float):
    """Refine until the summaries of two successive levels differ by less than ``tol``.

    Returns the last level's grid and summaries, the levels tried and the last change.
    """
    previous, change, tried = None, np.inf, []
    for n in levels:
        grid = evaluate(n)
        current = summarise(grid)
        tried.append(n)
        if previous is not None:
            change = _change(previous, current)
            if change < tol:
                break
        previous = current
    return grid, current, tried, change


def fit_partial(
    priors: dict, trials: np.ndarray, successes: np.ndarray, *, tol: float = 1e-4
) -> ExactPosterior:
    """Beta-binomial partial pooling on a refined grid over ``(logit mu, log kappa)``.

    See :func:`fit_partial_pairs`.
    """
    return fit_partial_pairs(priors, beta_binomial.Pairs.from_counts(trials, successes), tol=tol)


@contextlib.contextmanager
def reachable(priors: dict):
    """Turn the search's "no finite log posterior anywhere" into a PriorError naming the priors.

    The search scans the hyperparameters' region on a coarse grid: a prior whose support is too
    narrow for it (``Uniform(1, 1.01)`` on alpha) leaves every node at zero density.
    """
    try:
        yield
    except FloatingPointError as err:
        given = ", ".join(f"{name}: {prior}" for name, prior in priors.items())
        raise PriorError(
            f"cannot fit with these priors ({given}): {err}; a support too narrow for the grid's "
            "search to find: widen it"
        ) from None


def fit_partial_pairs(
    priors: dict, pairs, *, tol: float = 1e-4, family: ModuleType = beta_binomial
) -> ExactPosterior:
    """Partial pooling from distinct pairs and their counts; see the module docstring.

    The hyperparameters' summaries and the groups' (mixtures, the costly part) are refined
    separately: the groups' usually converge on a coarser grid, which then serves them.
    """
    logp = family.log_posterior(priors, pairs)
    limits = family.limits(pairs)
    with reachable(priors):
        box, at_limit = gridlib.locate(logp, limits)
    levels = LEVELS if not at_limit else LEVELS[:6]

    @functools.cache  # the two refinements below share their grids
    def evaluate(n: int) -> gridlib.Grid2D:
        return gridlib.evaluate(logp, box, n, at_limit=at_limit)

    def hyperparameters(grid: gridlib.Grid2D) -> dict[str, Quantity]:
        u, v, _ = prune(grid)
        return _hyper_quantities(grid, logp, u, v, family, tol)

    grid, quantities, tried, change = refine(levels, evaluate, hyperparameters, tol)
    group_grid, groups, group_tried, group_change = refine(
        levels, evaluate, lambda g: _group_level(g, pairs, family), tol
    )
    new = groups.pop("theta_new")
    quantities = {**groups, **quantities}
    change = max(change, group_change)
    info = GridInfo(
        n=grid.u.size,
        group_n=group_grid.u.size,
        levels=tuple(tried),
        max_change=float(change),
        converged=bool(change < tol),
        edge_mass=grid.edge_mass,
        at_limit=at_limit,
        log_evidence=grid.log_integral,
    )
    notes = []
    if not info.converged:
        notes.append(not_converged_note("grid", change, tol, f"{info.n}x{info.n} nodes"))
    if info.edge_mass > EDGE_MASS:
        notes.append(
            f"posterior mass {info.edge_mass:.2g} lies at the edge of the hyperparameter grid "
            f"({family.SHAPE_NAME} from 2e-9 to 7e10): the posterior is improper or dominated by the "
            "prior in that direction; choose a proper, informative prior on the hyperparameters"
        )
    # Complete pooling is the limit of an infinite shape, just beyond the search limits.
    notes += prior_dominated_notes(
        family.log_likelihood(pairs),
        limits,
        family.pooled_log_likelihood(pairs),
        f"{family.SHAPE_NAME}'s upper tail",
        "other hyperpriors",
        grid,
        describe_point(family.hyper_draws),
    )
    for note in notes:
        warnings.warn(note, PoolwiseWarning, stacklevel=3)
    return ExactPosterior(
        "partial", quantities, new, pairs, grid=grid, grid_info=info, warnings=tuple(notes), family=family
    )


def not_converged_note(what: str, change: float, tol: float, where: str, subject: str = "posterior") -> str:
    """Say that a refinement stopped before its summaries stopped moving by ``tol``."""
    return (
        f"the {what} did not converge: summaries still moved by {change:.2g} (> tol={tol:g}) at "
        f"{where}; the {subject} may be improper or too heavy-tailed for a mean"
    )


def prior_dominated_notes(
    loglik, limits: gridlib.Box, pooled: float, tail: str, others: str, grid: gridlib.Grid2D, describe
) -> list[str]:
    """Say when the prior, not the data, decides the hyperparameters (``[]`` when the data do).

    ``loglik`` is the hyperparameters' log-likelihood, searched over the whole plane within
    ``limits`` (its maximum may lie where the prior put no grid); ``pooled`` is complete pooling's,
    a limit just beyond them, so the gain is >= 0. Two ways the prior can decide:

    - below :data:`POOLING_EVIDENCE` the data cannot tell partial from complete pooling, so the
      prior sets how strongly groups are pooled: ``tail`` names that part of it, ``others`` what
      to try instead;
    - above :data:`PRIOR_PULL` the likelihood at the posterior's mode (the grid's top cell) falls
      short of its maximum: the prior holds the hyperparameters where the data reject them (a
      default HalfNormal(10) on alpha and beta against 4,000 batting averages whose maximum
      likelihood has alpha near 97). ``describe(u, v)`` words a point of the plane.
    """
    top = np.unravel_index(np.argmax(grid.logp), grid.logp.shape)
    mode = np.array([grid.u[top[0]], grid.v[top[1]]])
    best, at_best = _maximise_likelihood(loglik, limits, mode)
    gain = max(0.0, at_best - pooled)
    notes = []
    if gain < POOLING_EVIDENCE:
        notes.append(
            f"prior-dominated: the data are consistent with no variation between groups (the best "
            f"hierarchical fit beats complete pooling by only {gain:.2g} nats of likelihood), so how "
            f"strongly groups are pooled ({tail}) comes from the prior; check how the answer moves "
            f"under {others}"
        )
    drop = at_best - float(loglik(mode[:1], mode[1:])[0])
    if drop > PRIOR_PULL:
        notes.append(
            f"prior-pulled: the data put the hyperparameters elsewhere than the prior lets them go: "
            f"the likelihood's maximum ({describe(best[:1], best[1:])}) is {drop:.3g} nats above its "
            f"value at the posterior's mode ({describe(mode[:1], mode[1:])}), so the data reject the "
            "posterior's centre (likelihood ratio, 2 degrees of freedom, 5% level); widen the "
            "hyperpriors, or say why they should hold"
        )
    return notes


def _maximise_likelihood(loglik, limits: gridlib.Box, mode: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the maximum of ``loglik`` within ``limits`` and its value.

    Nested scans over the limits find a broad maximum (or one at a limit, complete pooling); with
    thousands of groups the likelihood is a narrow ridge they can miss, so Nelder-Mead climbs
    from the better of their best node and the posterior's mode.
    """
    from scipy import optimize

    def value(point: np.ndarray) -> float:
        return float(loglik(point[:1], point[1:])[0])

    start = max((gridlib.find_mode(loglik, limits), mode), key=value)
    bounds = [(limits.u_lo, limits.u_hi), (limits.v_lo, limits.v_hi)]
    with np.errstate(all="ignore"):
        found = optimize.minimize(
            lambda p: -value(p),
            start,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-6, "fatol": 1e-9},
        )
    return (found.x, -float(found.fun)) if -found.fun > value(start) else (start, value(start))


def describe_point(hyper_draws):
    """Word a point ``(u, v)`` of a family's plane by its reported hyperparameters ("alpha 97.1, ...")."""

    def describe(u: np.ndarray, v: np.ndarray) -> str:
        return ", ".join(f"{name} {float(x[0]):.3g}" for name, x in hyper_draws(u, v).items())

    return describe


def ring_mass(grid: gridlib.Grid2D, log_weight: np.ndarray, *, bounded_v: bool = False) -> np.ndarray:
    """Probability on the grid's outermost ring under (rows of) normalised log-weights over its cells.

    A reweighted posterior (a group left out or added) that puts more than a negligible mass there
    is not well inside the grid and must be refitted on its own. ``bounded_v``: the first column is
    a natural boundary of the parameter (the logit-normal's ``sigma = 0``), where mass may lie.
    """
    ring = np.ones(grid.logp.shape, bool)
    ring[1:-1, 1:-1] = False
    if bounded_v:
        ring[1:-1, 0] = False
    return np.exp(special.logsumexp(log_weight[..., ring.ravel()], axis=-1))


def components(post: ExactPosterior) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each group's posterior of ``theta`` as a mixture of conjugate posteriors (Betas, Gammas).

    Returns
    -------
    a, b : numpy.ndarray
        Their parameters, shape ``(rows, K)``.
    log_weight : numpy.ndarray
        Normalised log-weights of the K components, shape ``(K,)``.
    index : numpy.ndarray
        Row of each group, shape ``(groups,)``.
    """
    pairs = post.pairs
    if post.pooling != "partial":
        index = pairs.inverse if post.pooling == "none" else np.zeros(pairs.inverse.size, np.int64)
        return post.conjugate.a[:, None], post.conjugate.b[:, None], np.zeros(1), index
    alpha, beta, log_weight = grid_nodes(post.grid, post.family)
    a, b = post.family.posterior_params(alpha, beta, pairs)
    return a, b, log_weight, pairs.inverse


def grid_nodes(
    grid: gridlib.Grid2D, family: ModuleType = beta_binomial
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``alpha``, ``beta`` and normalised log-weights at every grid cell (flattened)."""
    uu, vv = np.meshgrid(grid.u, grid.v, indexing="ij")
    alpha, beta = family.alpha_beta(uu.ravel(), vv.ravel())
    return alpha, beta, grid.logp.ravel() - special.logsumexp(grid.logp)
