"""The lattices the exact engine integrates hyperparameters on: a 2-D grid and a 1-D line.

A lattice is where :func:`poolwise.engines.refinement.integrate` evaluates a log posterior at a
given resolution, and what it asks of the evaluated nodes: how many there are per axis, the nodes
that carry the probability (for mixtures), and points drawn from the cells. :class:`Plane` wraps
:mod:`poolwise._core.grid` (cell centres of a box), :class:`Axis` wraps :mod:`poolwise._core.line`
(nodes from one end to the other, trapezoid weights). A third coordinate (more hyperparameters, or
the coefficients of a linear predictor) is one more class with the same methods; the pipeline does
not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .._core import grid as gridlib
from .._core import line as linelib

#: Probability below which the smallest cells are left out of mixtures (their total mass).
PRUNE_MASS = 1e-7


class Lattice(Protocol):
    """A region of the hyperparameters' coordinates, evaluated at successive resolutions."""

    dims: int

    def levels(self, at_limit: bool) -> tuple[int, ...]:
        """Resolutions to try in turn, fewer where the posterior runs into a limit."""

    def evaluate(self, n: int, logp):
        """Evaluate ``logp`` at resolution ``n``: a :class:`~poolwise._core.grid.Grid2D` or a Line."""

    @staticmethod
    def size(nodes) -> int:
        """Nodes per axis of an evaluated lattice."""

    @staticmethod
    def prune(nodes) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """Coordinates of the cells that carry all but :data:`PRUNE_MASS`, and their weights."""

    @staticmethod
    def draw(nodes, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``n`` points: a cell by its probability, then a uniform point in it."""


def _keep(weights: np.ndarray) -> np.ndarray:
    """Flat indices, in order, of the cells that carry all but PRUNE_MASS of the probability."""
    order = np.argsort(weights)
    return np.sort(order[~(np.cumsum(weights[order]) < PRUNE_MASS)])


@dataclass(frozen=True)
class Plane:
    """An ``n x n`` grid of cell centres over ``box`` (:mod:`poolwise._core.grid`).

    ``at_limit`` is recorded on every grid evaluated: the box stops at a limit with mass beyond it.
    """

    box: gridlib.Box
    at_limit: bool

    dims = 2
    #: Nodes per axis tried in turn.
    LEVELS = (24, 32, 48, 64, 96, 128, 192, 256)

    def levels(self, at_limit: bool) -> tuple[int, ...]:
        """Every level; up to 128 nodes per axis at a limit, where no resolution converges."""
        return self.LEVELS if not at_limit else self.LEVELS[:6]

    def evaluate(self, n: int, logp) -> gridlib.Grid2D:
        """Evaluate ``logp`` on the ``n x n`` cell centres of the box."""
        return gridlib.evaluate(logp, self.box, n, at_limit=self.at_limit)

    @staticmethod
    def size(nodes: gridlib.Grid2D) -> int:
        """Cells per axis."""
        return nodes.u.size

    @staticmethod
    def prune(nodes: gridlib.Grid2D) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """Cells that carry all but PRUNE_MASS of the probability, as ``((u, v), weight)``."""
        w = nodes.weights.ravel()
        keep = _keep(w)
        iu, iv = np.unravel_index(keep, nodes.logp.shape)
        kept = w[keep]
        return (nodes.u[iu], nodes.v[iv]), kept / kept.sum()

    @staticmethod
    def draw(nodes: gridlib.Grid2D, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points ``(u, v)``: a cell by its probability, a uniform point inside it."""
        flat = nodes.weights.ravel()
        cell = rng.choice(flat.size, size=n, p=flat)
        iu, iv = np.unravel_index(cell, nodes.logp.shape)
        u = nodes.u[iu] + nodes.hu * (rng.random(n) - 0.5)
        v = nodes.v[iv] + nodes.hv * (rng.random(n) - 0.5)
        return u, v


@dataclass(frozen=True)
class Axis:
    """``n + 1`` equally spaced nodes from ``lo`` to ``hi``, ends included (:mod:`poolwise._core.line`)."""

    lo: float
    hi: float

    dims = 1
    #: Intervals tried in turn (the nodes are one more): a line is cheap, so it refines further.
    LEVELS = (32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)

    def levels(self, at_limit: bool) -> tuple[int, ...]:
        """Every level, at a limit too: a finer line costs little."""
        return self.LEVELS

    def evaluate(self, n: int, logp) -> linelib.Line:
        """Evaluate ``logp`` at ``n + 1`` nodes from ``lo`` to ``hi``."""
        return linelib.evaluate(logp, self.lo, self.hi, n)

    @staticmethod
    def size(nodes: linelib.Line) -> int:
        """Nodes of the line."""
        return nodes.logp.size

    @staticmethod
    def prune(nodes: linelib.Line) -> tuple[tuple[np.ndarray], np.ndarray]:
        """Nodes that carry all but PRUNE_MASS of the probability, as ``((u,), weight)``."""
        w = nodes.weights
        keep = _keep(w)
        return (nodes.nodes[keep],), w[keep] / w[keep].sum()

    @staticmethod
    def draw(nodes: linelib.Line, n: int, rng: np.random.Generator) -> tuple[np.ndarray]:
        """``n`` points ``(u,)``: a node by its probability, a uniform point in its cell (ends reflect)."""
        node = rng.choice(nodes.logp.size, size=n, p=nodes.weights)
        lo, hi = nodes.lo, nodes.nodes[-1]
        u = nodes.nodes[node] + nodes.h * (rng.random(n) - 0.5)
        return (hi - np.abs(hi - (lo + np.abs(u - lo))),)
