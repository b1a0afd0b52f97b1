"""Whether a posterior's moments exist, judged on the lattice the engine integrated it on."""

from __future__ import annotations

import functools
import math

import numpy as np

from .._core import grid as gridlib


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
