"""The exact engine's partial pooling: one refine-and-integrate pipeline over a lattice.

The group parameters are integrated out (analytically, or by the family's quadrature) and the
hyperparameters on a lattice (:mod:`poolwise.engines.lattice`: a 2-D grid, a 1-D line), refined
until every summary moves less than ``tol`` between two successive resolutions. The summaries
checked are each reported parameter's mean, standard deviation and the quantiles in
:data:`CHECKED_QUANTILES` (which bound every interval a user is likely to ask for); a change counts
relative to the value's size where that exceeds one (``|change| <= tol * max(1, |value|)``).

:func:`integrate` runs the steps every family shares: locate the lattice's region, evaluate it at
successive resolutions (each once: the two refinements share them), refine the hyperparameters'
summaries, then the groups' (mixtures, the costly part, which usually converge on a coarser
lattice), record what the lattice did (:class:`GridInfo`), and warn. What differs between families
is a :class:`LatticeModel`: the log posterior and where it lies, the summaries at a resolution, the
notes on edges and priors, and the posterior it makes. A linear predictor or a third hyperparameter
is a model (and, for a new coordinate, a lattice) of its own; the pipeline stays as it is.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import PoolwiseWarning, PriorError
from .lattice import Lattice
from .posterior import Posterior
from .quantity import Quantity

#: Quantiles compared between resolutions.
CHECKED_QUANTILES = np.array([0.005, 0.025, 0.03, 0.05, 0.25, 0.5, 0.75, 0.95, 0.97, 0.975, 0.995])

#: Edge probability above which the posterior is reported as improper or prior-dominated, and
#: a reweighted posterior (a group left out or added) is refitted on a grid of its own.
EDGE_MASS = 1e-8


@dataclass(frozen=True)
class GridInfo:
    """What the lattice did: resolution, convergence and edge checks."""

    n: int
    group_n: int
    levels: tuple[int, ...]
    max_change: float
    converged: bool
    edge_mass: float
    at_limit: bool
    log_evidence: float


def grid_diagnostics(info: GridInfo | None, dims: int) -> dict:
    """Report what a refined lattice did, as ``Fit.diagnostics`` shows it (empty for the closed forms)."""
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
class Located:
    """Where a model's posterior lies: the lattice's region and how its edges count.

    Attributes
    ----------
    lattice : Lattice
        The region, to be evaluated at the lattice's levels.
    at_limit : bool
        Mass runs into a limit that is not a natural bound of the coordinates.
    edge_mass : callable
        ``edge_mass(nodes)``: the probability at the evaluated lattice's edges that are not
        natural bounds (where mass says the region does not hold the posterior).
    """

    lattice: Lattice
    at_limit: bool
    edge_mass: Callable[[object], float]


class LatticeModel(Protocol):
    """What :func:`integrate` asks of a family's partial pooling (a small per-family engine spec).

    Attributes
    ----------
    priors : dict
        The hyperpriors, named when the posterior cannot be located.
    tol : float
        The fit's tolerance: how far summaries may move between two resolutions.
    logp : callable
        The hyperparameters' log posterior, up to a constant, on the lattice's coordinates.
    what, subject : str
        The lattice and the posterior it integrates, in words ("grid", "posterior").
    """

    priors: dict
    tol: float
    logp: Callable
    what: str
    subject: str

    def locate(self) -> Located:
        """Find the lattice's region (may raise ``FloatingPointError``: no finite density)."""

    def hyperparameters(self, nodes) -> dict[str, Quantity]:
        """Summarise the hyperparameters on an evaluated lattice."""

    def groups(self, nodes) -> dict[str, Quantity]:
        """Summarise every group's ``theta`` and a new group's ``theta_new`` on an evaluated lattice."""

    def notes(self, nodes, info: GridInfo) -> list[str]:
        """Word what the user should know about the edges and the priors, after the refinement."""

    def posterior(
        self, quantities: dict[str, Quantity], new: Quantity, nodes, info: GridInfo, notes: tuple[str, ...]
    ) -> Posterior:
        """Return the fitted posterior."""


def integrate(model: LatticeModel) -> Posterior:
    """Fit partial pooling on a refined lattice; see the module docstring.

    Warnings are raised at the caller of the family's entry point (which calls this directly).
    """
    tol = model.tol
    with reachable(model.priors):
        located = model.locate()
    lattice = located.lattice
    levels = lattice.levels(located.at_limit)

    @functools.cache  # the two refinements below share their lattices
    def evaluate(n: int):
        return lattice.evaluate(n, model.logp)

    nodes, quantities, tried, change = refine(levels, evaluate, model.hyperparameters, tol)
    group_nodes, groups, _, group_change = refine(levels, evaluate, model.groups, tol)
    new = groups.pop("theta_new")
    change = max(change, group_change)
    info = GridInfo(
        n=lattice.size(nodes),
        group_n=lattice.size(group_nodes),
        levels=tuple(tried),
        max_change=float(change),
        converged=bool(change < tol),
        edge_mass=located.edge_mass(nodes),
        at_limit=located.at_limit,
        log_evidence=nodes.log_integral,
    )
    notes = []
    if not info.converged:
        where = "x".join([str(info.n)] * lattice.dims) + " nodes"
        notes.append(not_converged_note(model.what, change, tol, where, model.subject))
    notes += model.notes(nodes, info)
    for note in notes:
        warnings.warn(note, PoolwiseWarning, stacklevel=4)
    return model.posterior({**groups, **quantities}, new, nodes, info, tuple(notes))


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


def refine(levels, evaluate, summarise, tol: float):
    """Refine until the summaries of two successive levels differ by less than ``tol``.

    Returns the last level's lattice and summaries, the levels tried and the last change.
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


def not_converged_note(what: str, change: float, tol: float, where: str, subject: str = "posterior") -> str:
    """Say that a refinement stopped before its summaries stopped moving by ``tol``."""
    return (
        f"the {what} did not converge: summaries still moved by {change:.2g} (> tol={tol:g}) at "
        f"{where}; the {subject} may be improper or too heavy-tailed for a mean"
    )
