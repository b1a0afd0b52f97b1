"""The exact engine of a conjugate population of two hyperparameters (beta-binomial, gamma-Poisson).

No and complete pooling are conjugate closed forms (a Beta, a Gamma per group or for all). Partial
pooling integrates the group parameters out analytically and the two hyperparameters on a refined
grid (:func:`poolwise.engines.refinement.integrate` over a :class:`~poolwise.engines.lattice.Plane`);
:class:`ConjugateGrid` is what that pipeline asks of these families.

The engine knows nothing of a family's formulas: it asks the family (a module such as
:mod:`poolwise.families.beta_binomial` or :mod:`poolwise.families.gamma_poisson`) for the log
posterior, the conjugate group posteriors and the hyperparameters' transforms.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
from scipy import special

from .._core import grid as gridlib
from .._core.marginal import BetaRows, GammaRows, GridMarginal
from ..families import beta_binomial
from .lattice import Plane
from .moments import moments
from .prior_notes import describe_point, prior_dominated_notes
from .quantity import Quantity
from .refinement import EDGE_MASS, GridInfo, Located, grid_diagnostics, integrate

#: Nodes of the one-dimensional grids on which hyperparameter marginals are tabulated.
LINE_NODES = 129


@dataclass(frozen=True)
class ExactPosterior:
    """Everything the exact engine knows about one fitted model of a conjugate population.

    ``grid`` and ``grid_info`` are those of partial pooling, ``conjugate`` the closed forms' rows
    (None in the other case).
    """

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
        return grid_diagnostics(self.grid_info, dims=Plane.dims)

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
        out = family.hyper_draws(*Plane.draw(self.grid, n, rng))
        a, b = family.posterior_params(out["alpha"], out["beta"], self.pairs)  # (pairs, n)
        out["theta"] = family.draw(rng, a[inverse].T, b[inverse].T)
        return out


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


@dataclass(frozen=True)
class ConjugateGrid:
    """Partial pooling of a conjugate population, as :func:`~poolwise.engines.refinement.integrate` asks it.

    The grid is over the family's ``(u, v)`` plane (``(logit mu, log kappa)``, ``(log mu, log alpha)``);
    every ``theta_i`` is a mixture of conjugate posteriors over its cells.
    """

    family: ModuleType
    pairs: beta_binomial.Pairs
    priors: dict
    tol: float
    logp: Callable
    limits: gridlib.Box
    what = "grid"
    subject = "posterior"

    def locate(self) -> Located:
        """Find the box that holds the posterior; its whole outer ring of cells is edge."""
        box, at_limit = gridlib.locate(self.logp, self.limits)
        return Located(Plane(box, at_limit), at_limit, operator.attrgetter("edge_mass"))

    def hyperparameters(self, grid: gridlib.Grid2D) -> dict[str, Quantity]:
        """Summarise the family's reported hyperparameters (``HYPER_LINES``): :func:`_hyper_quantities`."""
        (u, v), _ = Plane.prune(grid)
        return _hyper_quantities(grid, self.logp, u, v, self.family, self.tol)

    def groups(self, grid: gridlib.Grid2D) -> dict[str, Quantity]:
        """Every group's theta (and a new group's): mixtures of conjugate posteriors over the grid's cells."""
        (u, v), w = Plane.prune(grid)
        family, pairs = self.family, self.pairs
        alpha, beta = family.alpha_beta(u, v)
        a, b = family.posterior_params(alpha, beta, pairs.with_new_group())
        mean, sd, marginal = family.mixture(a, b, w)
        new_row = np.array([pairs.count.size])
        exist = family.moments_exist(pairs.with_new_group())
        # a mean not sure to exist is not printed as a number (a new pump's rate: that of mu)
        mean, sd = np.where(exist, mean, np.nan), np.where(exist, sd, np.nan)
        return {
            "theta": Quantity("theta", mean, sd, marginal, pairs.inverse, exist),
            "theta_new": Quantity("theta_new", mean, sd, marginal, new_row, exist),
        }

    def notes(self, grid: gridlib.Grid2D, info: GridInfo) -> list[str]:
        """Mass at the grid's edge; the prior deciding how strongly groups are pooled, or pulling."""
        family, pairs = self.family, self.pairs
        notes = []
        if info.edge_mass > EDGE_MASS:
            notes.append(
                f"posterior mass {info.edge_mass:.2g} lies at the edge of the hyperparameter grid "
                f"({family.SHAPE_NAME} from 2e-9 to 7e10): the posterior is improper or dominated by the "
                "prior in that direction; choose a proper, informative prior on the hyperparameters"
            )
        # Complete pooling is the limit of an infinite shape, just beyond the search limits.
        return notes + prior_dominated_notes(
            family.log_likelihood(pairs),
            self.limits,
            family.pooled_log_likelihood(pairs),
            f"{family.SHAPE_NAME}'s upper tail",
            "other hyperpriors",
            grid,
            describe_point(family.hyper_draws),
        )

    def posterior(
        self, quantities: dict[str, Quantity], new: Quantity, grid, info: GridInfo, notes: tuple[str, ...]
    ) -> ExactPosterior:
        """Return the partial fit's posterior."""
        pairs, family = self.pairs, self.family
        return ExactPosterior("partial", quantities, new, pairs, grid, info, warnings=notes, family=family)


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


def fit_partial(
    priors: dict, trials: np.ndarray, successes: np.ndarray, *, tol: float = 1e-4
) -> ExactPosterior:
    """Beta-binomial partial pooling on a refined grid over ``(logit mu, log kappa)``.

    See :func:`fit_partial_pairs`.
    """
    return fit_partial_pairs(priors, beta_binomial.Pairs.from_counts(trials, successes), tol=tol)


def fit_partial_pairs(
    priors: dict, pairs, *, tol: float = 1e-4, family: ModuleType = beta_binomial
) -> ExactPosterior:
    """Partial pooling from distinct pairs and their counts; see the module docstring."""
    logp = family.log_posterior(priors, pairs)
    return integrate(ConjugateGrid(family, pairs, priors, tol, logp, family.limits(pairs)))


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
