"""The exact engine for the logit-normal binomial family's partial pooling.

Each group's ``z_i = logit(theta_i)`` is integrated out by quadrature
(:mod:`poolwise.families.logit_normal`), once per distinct ``(n, y)`` pair, and the hyperparameters
on a two-dimensional grid over ``(mu, asinh(sigma / c))`` (:mod:`poolwise._core.grid`; the
coordinate is explained in the family's module), refined by the
pipeline every family shares (:func:`poolwise.engines.refinement.integrate`, given a
:class:`LogitGrid`): until every summary (mean, sd and the quantiles in
:data:`~poolwise.engines.refinement.CHECKED_QUANTILES` of ``mu``, ``sigma``, each ``theta_i`` and a
new group's ``theta_new``) moves less than ``tol`` between two resolutions, with the beta-binomial
grid's edge-mass and prior-domination checks (``sigma = 0``, complete pooling, is a natural
boundary of the grid, not an edge). Every ``theta_i`` is a mixture over the grid cells
of its non-conjugate conditional ``p(z | y_i, mu, sigma)``, tabulated on the logit scale as a
:class:`~poolwise._core.marginal.GridMarginal`; ``theta_new`` is the mixture of the
``N(mu, sigma^2)`` populations on that scale. Where ``sigma`` is below the grid's spacing in ``mu``
(groups that hardly differ pile sigma's posterior up there) the conditionals are narrower than the
cells, and their sum over the nodes a comb whose quantiles would converge only as the spacing
shrinks (a 256 x 256 grid for ten such groups): those columns of cells are integrated over ``mu``
instead (:func:`poolwise.families.logit_normal.theta_mixture`), and converge with the moments.

No and complete pooling are the beta-binomial family's conjugate closed forms
(:func:`poolwise.engines.exact.fit_closed_form`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._core import grid as gridlib
from .._core.marginal import GridMarginal
from ..families import logit_normal as family
from ..families.beta_binomial import Pairs
from ..priors import HalfCauchy, HalfFlat, HalfNormal, Uniform
from .lattice import Plane
from .moments import moments
from .prior_notes import describe_point, prior_dominated_notes
from .quantity import Quantity
from .refinement import EDGE_MASS, GridInfo, Located, grid_diagnostics, integrate

#: Nats below the peak at which the grid's box ends (e^-20 ~ 2e-9; the beta-binomial's 30 would
#: reach far into the funnel of large sigma and vague mu, and double the nodes the bulk needs). The
#: edge-mass check still reports any posterior whose ring of cells holds more than EDGE_MASS.
BOX_NATS = 20.0

#: Nodes per axis of the scans that place the box (the beta-binomial's 48 cost 2.25 times as much;
#: each likelihood evaluation here is a quadrature per distinct pair, not a few log-gammas).
LOCATE_NODES = 32

#: Priors on sigma whose density is an even function of sigma at 0.
EVEN_AT_ZERO = (HalfNormal, HalfCauchy, HalfFlat, Uniform)

#: Elements (draws x groups) sampled at once, which bounds the draws' memory with many groups.
DRAW_CHUNK = 2**20


@dataclass(frozen=True)
class LogitPosterior:
    """Everything the exact engine knows about one partial-pooling logit-normal fit."""

    pooling: str
    quantities: dict[str, Quantity]
    new_group: Quantity
    pairs: Pairs
    grid: gridlib.Grid2D
    grid_info: GridInfo
    priors: dict
    warnings: tuple[str, ...] = field(default=())
    engine: str = "exact"

    @property
    def diagnostics(self) -> dict:
        """What the grid over ``(mu, asinh(sigma / c))`` did."""
        return grid_diagnostics(self.grid_info, dims=Plane.dims)

    def draws(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent draws: ``theta`` ``(n, groups)``, ``mu`` and ``sigma`` ``(n,)``.

        A grid cell by its probability and a uniform point in it give ``(mu, sigma)``; then each
        ``logit theta_i`` is drawn exactly from ``p(z | y_i, mu, sigma)``
        (:func:`poolwise.families.logit_normal.sample_conditional`).
        """
        mu, w = Plane.draw(self.grid, n, rng)
        # a cell at sigma = 0 spans [0, hv]: its uniform point stays in sigma >= 0
        sigma = family.to_sigma(w)
        trials = self.pairs.trials[self.pairs.inverse]
        successes = self.pairs.successes[self.pairs.inverse]
        theta = np.empty((n, trials.size))
        step = max(1, DRAW_CHUNK // max(trials.size, 1))
        for start in range(0, n, step):
            part = slice(start, start + step)
            z = family.sample_conditional(trials, successes, mu[part, None], sigma[part, None], rng)
            theta[part] = special.expit(z)
        return {"theta": theta, "mu": mu, "sigma": sigma}


@dataclass(frozen=True)
class LogitGrid:
    """Logit-normal partial pooling, as :func:`~poolwise.engines.refinement.integrate` asks it."""

    pairs: Pairs
    priors: dict
    tol: float
    logp: Callable
    what = "grid"
    subject = "posterior"

    def locate(self) -> Located:
        """Find the box that holds the posterior; mass at ``sigma = 0`` (complete pooling) is no edge."""
        limits = family.LIMITS
        box, at_limit = gridlib.locate(self.logp, limits, n=LOCATE_NODES, threshold=BOX_NATS)
        # Mass at sigma = 0 (complete pooling) is legitimate; at any other limit it is not.
        natural = box.v_lo == limits.v_lo
        others = (box.u_lo == limits.u_lo, box.u_hi == limits.u_hi, box.v_hi == limits.v_hi)
        at_limit = at_limit and any(others)
        return Located(Plane(box, at_limit), at_limit, functools.partial(_edge_mass, natural=natural))

    def hyperparameters(self, grid: gridlib.Grid2D) -> dict[str, Quantity]:
        """Summarise ``mu`` and ``sigma``: :func:`_hyper_quantities`."""
        return _hyper_quantities(grid, self.logp, self.priors, self.tol)

    def groups(self, grid: gridlib.Grid2D) -> dict[str, Quantity]:
        """Every group's theta (and a new group's: the pair ``(0, 0)``) as mixtures over the cells."""
        (u, v), w = Plane.prune(grid)
        pairs = self.pairs
        trials = np.append(pairs.trials, 0)
        successes = np.append(pairs.successes, 0)
        sigma = family.to_sigma(v)
        mean, sd, marginal = family.theta_mixture(u, sigma, w, trials, successes, spacing=grid.hu)
        return {
            "theta": Quantity("theta", mean, sd, marginal, pairs.inverse),
            "theta_new": Quantity("theta_new", mean, sd, marginal, np.array([pairs.trials.size])),
        }

    def notes(self, grid: gridlib.Grid2D, info: GridInfo) -> list[str]:
        """Mass at the grid's edge (or a limit reached); the prior deciding, or pulling."""
        limits = family.LIMITS
        notes = []
        if info.edge_mass > EDGE_MASS or info.at_limit:
            top = family.to_sigma(limits.v_hi)
            notes.append(
                f"posterior mass {info.edge_mass:.2g} lies at the edge of the hyperparameter grid (mu from "
                f"{limits.u_lo:g} to {limits.u_hi:g}, sigma up to {top:.3g}): the posterior is improper or "
                "dominated by the prior in that direction; choose a proper, informative prior on mu and sigma"
            )
        # Complete pooling is the limit sigma -> 0, just beyond the search limits.
        return notes + prior_dominated_notes(
            family.log_likelihood(self.pairs),
            limits,
            family.pooled_log_likelihood(self.pairs),
            "sigma's lower tail",
            "other priors on sigma",
            grid,
            describe_point(lambda u, v: {"mu": u, "sigma": family.to_sigma(v)}),
        )

    def posterior(
        self, quantities: dict[str, Quantity], new: Quantity, grid, info: GridInfo, notes: tuple[str, ...]
    ) -> LogitPosterior:
        """Return the partial fit's posterior."""
        return LogitPosterior("partial", quantities, new, self.pairs, grid, info, self.priors, warnings=notes)


def _hyper_quantities(grid: gridlib.Grid2D, logp, priors: dict, tol: float) -> dict[str, Quantity]:
    """``mu`` and ``sigma``: exact moments over the grid, marginals on fine lines.

    ``mu`` is the grid's first coordinate and ``asinh(sigma / c)`` its second, so each marginal is
    ``logp`` on a line along one axis (over the range of the cells that carry mass) summed over the
    grid's nodes of the other. The line has ``2n + 1`` nodes for an ``n x n`` grid: it refines with
    the grid, so the refinement's convergence check covers its resolution too (a fixed line, as the
    beta-binomial engine's :data:`~poolwise.engines.exact.LINE_NODES`, leaves an error floor that
    no level removes), and costs no more than twice the grid.
    """
    (u, v), _ = Plane.prune(grid)
    top = grid.logp.max()
    out: dict[str, Quantity] = {}
    axes = {
        # name: (values at the grid's nodes, kept coordinates, spacing, other axis, natural scale)
        "mu": (grid.u[:, None], u, grid.hu, grid.v, (_identity, np.zeros_like, _identity)),
        "sigma": (
            family.to_sigma(grid.v)[None, :],
            v,
            grid.hv,
            grid.u,
            (family.to_sigma, family.log_dsigma_dw, family.to_w),
        ),
    }
    for name, (x, kept, h_axis, other, (to_natural, log_dx_dz, inverse)) in axes.items():
        mean, sd, exist = moments(
            grid, np.broadcast_to(x, grid.logp.shape), tol, closed_v_lo=starts_at_zero(grid)
        )
        lo, hi = kept.min() - h_axis / 2, kept.max() + h_axis / 2
        start = name == "sigma" and lo <= 1e-9 * h_axis  # the first cell's edge: sigma = 0
        lo = 0.0 if start else lo
        nodes = 2 * grid.u.size + 1
        h = (hi - lo) / (nodes - 1)
        line = lo + h * np.arange(nodes)

        def log_density(z: np.ndarray, mu_line: bool = name == "mu", other=other) -> np.ndarray:
            """``log`` of the line's density at ``z``, summed over the other axis's grid nodes."""
            values = logp(z[:, None], other[None, :]) if mu_line else logp(other[None, :], z[:, None])
            return special.logsumexp(values - top, axis=1)

        density = np.exp(log_density(line))
        # At sigma = 0 the likelihood is even in w (it depends on sigma^2); so is the density if the
        # prior's is (zero slope there): the spline keeps its accuracy up to that boundary.
        even = start and isinstance(priors["sigma"], EVEN_AT_ZERO)
        marginal = GridMarginal(
            np.array([lo]),
            np.array([h]),
            density[None, :],
            to_natural,
            log_dx_dz,
            inverse,
            even_start=even,
            exact=log_density,
        )
        out[name] = Quantity(name, np.array([mean]), np.array([sd]), marginal, np.zeros(1, np.int64), exist)
    return out


def grid_nodes(grid: gridlib.Grid2D) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``mu``, ``sigma`` and normalised log-weights at every grid cell, flattened.

    The logit-normal twin of :func:`poolwise.engines.exact.grid_nodes`.
    """
    uu, vv = np.meshgrid(grid.u, grid.v, indexing="ij")
    return uu.ravel(), family.to_sigma(vv.ravel()), grid.logp.ravel() - special.logsumexp(grid.logp)


def starts_at_zero(grid: gridlib.Grid2D) -> bool:
    """Whether the grid's first column is ``sigma = 0``, a bound of sigma where mass may lie."""
    return bool(np.isclose(grid.v[0] - grid.hv / 2, family.LIMITS.v_lo))


def _edge_mass(grid: gridlib.Grid2D, natural: bool) -> float:
    """Probability in the outermost ring of cells, less the column at ``sigma = 0`` if ``natural``."""
    w = grid.weights
    inner = w[1:-1, (0 if natural else 1) : -1].sum()
    return float(max(0.0, 1.0 - inner))


def _identity(z):
    return z


def fit_partial(
    priors: dict, trials: np.ndarray, successes: np.ndarray, *, tol: float = 1e-4
) -> LogitPosterior:
    """Partial pooling on a refined grid over ``(mu, asinh(sigma / c))``; see the module docstring."""
    pairs = Pairs.from_counts(trials, successes)
    return integrate(LogitGrid(pairs, priors, tol, family.log_posterior(priors, pairs)))
