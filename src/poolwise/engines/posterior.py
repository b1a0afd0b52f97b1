"""What every engine's posterior offers: the contract the fitting layer and the questions read.

:class:`Posterior` is met by the exact engine's posteriors
(:class:`poolwise.engines.exact.ExactPosterior`, :class:`~poolwise.engines.exact_logit.LogitPosterior`,
:class:`~poolwise.engines.exact_normal.NormalPosterior`) and by the NUTS engine's
(:class:`poolwise.engines.nuts.NutsPosterior`). What only some have is a capability a reader asks
for (``isinstance(post, OnGrid)``) instead of a field the others fill with None: :class:`OnGrid`
(the hyperparameters' 2-D grid) and :class:`OnLine` (the normal-normal family's line over ``tau``),
which the exact posteriors of a family have, set for partial pooling and None for its closed forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from .._core.grid import Grid2D
from .._core.line import Line
from .quantity import Quantity


@runtime_checkable
class Posterior(Protocol):
    """One fitted model, as an engine returns it.

    Attributes
    ----------
    pooling : {"none", "complete", "partial"}
    quantities : mapping of str to Quantity
        ``theta`` first (its ``index`` maps every group to a row; one row under complete pooling),
        then the hyperparameters of partial pooling.
    new_group : Quantity or None
        ``theta_new``, an unseen group's parameter; None where its distribution is improper.
    warnings : tuple of str
        What the user should know (improper, prior-dominated, not converged; divergences).
    engine : {"exact", "nuts"}
    """

    pooling: str
    quantities: Mapping[str, Quantity]
    new_group: Quantity | None
    warnings: tuple[str, ...]
    engine: str

    @property
    def diagnostics(self) -> dict:
        """What the engine checked: the lattice's resolution and edges, or the sampler's health."""

    def draws(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Return ``n`` draws: ``theta`` ``(n, groups)`` (``(n,)`` when shared), hyperparameters ``(n,)``."""


@runtime_checkable
class OnGrid(Protocol):
    """A posterior whose hyperparameters were integrated on a 2-D grid (None for its closed forms)."""

    grid: Grid2D | None


@runtime_checkable
class OnLine(Protocol):
    """A posterior whose hyperparameter was integrated on a 1-D line (None for its closed forms)."""

    line: Line | None
