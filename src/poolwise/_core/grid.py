"""Deterministic integration of a two-dimensional log-density on an adaptive uniform grid.

The density is given in unconstrained coordinates ``(u, v)``. The grid is centred on the mode,
its box grown until the log-density on every edge is ``threshold`` nats below the maximum (or a hard
limit is reached, which signals an improper or prior-dominated posterior), then trimmed to the
region that holds mass. On such a box the integrand and all its derivatives vanish at the edges, so
the equal-weight (midpoint/trapezoid) rule converges faster than any power of the spacing; the
caller refines the number of nodes until its summaries stop moving.

NumPy/SciPy only; nothing here knows about a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from .line import tail_share

LogDensity = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Relative density (in nats below the maximum) at which the box edge is placed: e^-30 ≈ 1e-13.
THRESHOLD = 30.0


@dataclass(frozen=True)
class Box:
    """Axis-aligned rectangle ``[u_lo, u_hi] x [v_lo, v_hi]``."""

    u_lo: float
    u_hi: float
    v_lo: float
    v_hi: float

    def nodes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres of an ``n x n`` partition of the box."""
        hu = (self.u_hi - self.u_lo) / n
        hv = (self.v_hi - self.v_lo) / n
        u = self.u_lo + hu * (np.arange(n) + 0.5)
        v = self.v_lo + hv * (np.arange(n) + 0.5)
        return u, v


def log_posterior(log_prior: LogDensity, log_likelihood: LogDensity) -> LogDensity:
    """Add a log prior and a log-likelihood of ``(u, v)`` into one vectorised log density.

    The arguments broadcast. At the far corners of the plane a term may overflow or be ``-inf``;
    the warnings are silenced because the sum is then ``-inf`` (or NaN), which the grid takes as no
    mass.
    """

    def logp(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        with np.errstate(invalid="ignore", over="ignore"):
            return log_prior(u, v) + log_likelihood(u, v)

    return logp


@dataclass(frozen=True)
class HyperLine:
    """A reported hyperparameter as a line through the ``(u, v)`` plane.

    The value is ``natural(s)`` for a coordinate ``s(u, v)`` that, with ``t`` (running along ``v``
    if ``t_along_v``, else along ``u``), parametrises the plane with unit Jacobian:
    ``(u, v) = to_uv(s, t)``. ``log_jacobian(s)`` is ``log |d natural / d s|`` and ``inverse`` maps
    a value back to ``s``.
    """

    s: Callable[[np.ndarray, np.ndarray], np.ndarray]
    to_uv: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    t_along_v: bool
    natural: Callable[[np.ndarray], np.ndarray]
    log_jacobian: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    moments_exist: bool = True


@dataclass(frozen=True)
class Grid2D:
    """A log-density evaluated at the cell centres of a uniform grid.

    Attributes
    ----------
    u, v : ndarray
        Cell centres along each axis, shapes ``(nu,)`` and ``(nv,)``.
    logp : ndarray
        Unnormalised log-density at the nodes, shape ``(nu, nv)``; ``-inf`` where it vanishes.
    at_limit : bool
        True when the box could not be grown far enough for the density to vanish at an edge.
    """

    u: np.ndarray
    v: np.ndarray
    logp: np.ndarray
    at_limit: bool

    @property
    def hu(self) -> float:
        """Cell width along ``u``."""
        return float(self.u[1] - self.u[0])

    @property
    def hv(self) -> float:
        """Cell width along ``v``."""
        return float(self.v[1] - self.v[0])

    @property
    def weights(self) -> np.ndarray:
        """Posterior probability of each cell, shape ``(nu, nv)``, summing to one."""
        w = np.exp(self.logp - np.max(self.logp))
        return w / w.sum()

    @property
    def log_integral(self) -> float:
        """Log of the integral of ``exp(logp)`` over the box (the log evidence, for a posterior)."""
        return float(special.logsumexp(self.logp) + np.log(self.hu * self.hv))

    @property
    def edge_mass(self) -> float:
        """Probability in the outermost ring of cells: near zero when the box holds the posterior."""
        w = self.weights
        inner = w[1:-1, 1:-1].sum()
        return float(max(0.0, 1.0 - inner))


def moment_tail(grid: Grid2D, x: np.ndarray, k: int, *, closed_v_lo: bool = False) -> float:
    """Estimate the share of ``E[|x|^k]`` that lies beyond the grid's box.

    The integrand ``|x|^k p`` is summed over each outermost slice of cells (the four sides of the
    box) and over the slice just inside it, and the tail beyond extrapolated from them
    (:func:`poolwise._core.line.tail_share`). In the grid's log and logit coordinates a power-law
    tail (``p(kappa) ~ kappa^-a``) is geometric, so the estimate is the tail's own.

    Parameters
    ----------
    grid : Grid2D
        The posterior's grid; its weights are the cells' probabilities.
    x : ndarray
        The quantity at every cell, shape ``(nu, nv)``.
    k : int
        The moment's order.
    closed_v_lo : bool
        The box's lower ``v`` side is the coordinate's natural end (``sigma = 0``), where mass
        may lie legitimately: not a tail.

    Returns
    -------
    float
        The estimated tail share, relative to the moment over the box (``inf`` when not decaying).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.abs(x) ** k * grid.weights
    sides = [(m[0], m[1]), (m[-1], m[-2]), (m[:, -1], m[:, -2])]
    if not closed_v_lo:
        sides.append((m[:, 0], m[:, 1]))
    return tail_share([(float(a.sum()), float(b.sum())) for a, b in sides], float(m.sum()))


def find_mode(logp: LogDensity, limits: Box) -> np.ndarray:
    """Locate the mode of ``logp`` inside ``limits`` by nested scans (41x41, then twice 21x21).

    The mode only centres the grid, so vectorised scans to a small fraction of the limits beat a
    scalar optimiser's per-call overhead.
    """
    box = limits
    for n in (41, 21, 21):
        u, v = box.nodes(n)
        uu, vv = np.meshgrid(u, v, indexing="ij")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # far corners: -inf or nan
            values = np.asarray(logp(uu, vv), dtype=float)
        values = np.where(np.isfinite(values), values, -np.inf)
        if not np.any(np.isfinite(values)):
            raise FloatingPointError("the log posterior is -inf or nan everywhere on the search box")
        best = np.unravel_index(np.argmax(values), values.shape)
        cu, cv = uu[best], vv[best]
        hu, hv = (box.u_hi - box.u_lo) / n, (box.v_hi - box.v_lo) / n
        box = Box(
            max(limits.u_lo, cu - 2 * hu),
            min(limits.u_hi, cu + 2 * hu),
            max(limits.v_lo, cv - 2 * hv),
            min(limits.v_hi, cv + 2 * hv),
        )
    return np.array([cu, cv])


def _scale(logp: LogDensity, mode: np.ndarray, limits: Box) -> np.ndarray:
    """Per-axis standard deviations from the curvature at the mode, with a fallback where flat."""
    step = 1e-3
    sd = np.ones(2)
    for axis in range(2):
        e = np.zeros(2)
        e[axis] = step
        f0 = logp(np.array(mode[0]), np.array(mode[1]))
        fp = logp(np.array(mode[0] + e[0]), np.array(mode[1] + e[1]))
        fm = logp(np.array(mode[0] - e[0]), np.array(mode[1] - e[1]))
        curvature = -(fp - 2 * f0 + fm) / step**2
        if np.isfinite(curvature) and curvature > 1e-8:
            sd[axis] = 1.0 / np.sqrt(curvature)
    width = np.array([limits.u_hi - limits.u_lo, limits.v_hi - limits.v_lo])
    return np.clip(sd, 1e-6 * width, width / 4)


def _evaluate(logp: LogDensity, box: Box, n: int) -> Grid2D:
    u, v = box.nodes(n)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    values = np.asarray(logp(uu, vv), dtype=float)
    values = np.where(np.isnan(values), -np.inf, values)
    return Grid2D(u=u, v=v, logp=values, at_limit=False)


def locate(logp: LogDensity, limits: Box, *, n: int = 48, threshold: float = THRESHOLD) -> tuple[Box, bool]:
    """Find a box that holds the posterior mass of ``logp``.

    Returns the box and whether it had to stop at ``limits`` with density still above the
    threshold on that edge (an improper or prior-dominated direction).
    """
    mode = find_mode(logp, limits)
    sd = _scale(logp, mode, limits)
    box = Box(
        max(limits.u_lo, mode[0] - 8 * sd[0]),
        min(limits.u_hi, mode[0] + 8 * sd[0]),
        max(limits.v_lo, mode[1] - 8 * sd[1]),
        min(limits.v_hi, mode[1] + 8 * sd[1]),
    )
    at_limit = False
    for _ in range(60):
        grid = _evaluate(logp, box, n)
        top = np.max(grid.logp)
        cut = top - threshold
        edges = {
            "u_lo": grid.logp[0, :].max(),
            "u_hi": grid.logp[-1, :].max(),
            "v_lo": grid.logp[:, 0].max(),
            "v_hi": grid.logp[:, -1].max(),
        }
        grow = {side: value > cut for side, value in edges.items()}
        wu, wv = box.u_hi - box.u_lo, box.v_hi - box.v_lo
        new = Box(
            max(limits.u_lo, box.u_lo - 0.5 * wu) if grow["u_lo"] else box.u_lo,
            min(limits.u_hi, box.u_hi + 0.5 * wu) if grow["u_hi"] else box.u_hi,
            max(limits.v_lo, box.v_lo - 0.5 * wv) if grow["v_lo"] else box.v_lo,
            min(limits.v_hi, box.v_hi + 0.5 * wv) if grow["v_hi"] else box.v_hi,
        )
        if new == box:
            at_limit = any(grow.values())
            break
        box = new
    # Trim to the rows and columns that hold mass, keeping one cell of margin, so that the
    # resolution goes where the posterior is.
    # >=: where the log density is ~1e300 below zero, subtracting the threshold changes nothing
    keep = grid.logp >= cut
    rows = np.flatnonzero(keep.any(axis=1))
    cols = np.flatnonzero(keep.any(axis=0))
    hu, hv = grid.hu, grid.hv
    trimmed = Box(
        max(box.u_lo, grid.u[rows[0]] - 1.5 * hu),
        min(box.u_hi, grid.u[rows[-1]] + 1.5 * hu),
        max(box.v_lo, grid.v[cols[0]] - 1.5 * hv),
        min(box.v_hi, grid.v[cols[-1]] + 1.5 * hv),
    )
    return trimmed, at_limit


def evaluate(logp: LogDensity, box: Box, n: int, *, at_limit: bool = False) -> Grid2D:
    """Evaluate ``logp`` on an ``n x n`` grid of cell centres in ``box``."""
    grid = _evaluate(logp, box, n)
    return Grid2D(u=grid.u, v=grid.v, logp=grid.logp, at_limit=at_limit)
