"""Deterministic integration of a one-dimensional log-density on an adaptive uniform grid.

The one-dimensional counterpart of :mod:`poolwise._core.grid`: the box ``[lo, hi]`` is placed by
nested scans where the log-density lies within ``threshold`` nats of its maximum, inside the
``limits`` the caller gives (the support of the coordinate), and the density is evaluated at
``n + 1`` equally spaced nodes, both ends included, weighted by the trapezoid rule. Where the
density vanishes at both ends, or where an end is a natural boundary at which the density is an
even, smooth function of the coordinate (a scale parameter at zero), the trapezoid rule converges
faster than any power of the spacing; the caller refines ``n`` until its summaries stop moving.

NumPy/SciPy only; nothing here knows about a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

LogDensity = Callable[[np.ndarray], np.ndarray]

#: Relative density (in nats below the maximum) at which the box ends: e^-30 ≈ 1e-13.
THRESHOLD = 30.0

#: Nodes of each locating scan.
SCAN_NODES = 401


@dataclass(frozen=True)
class Line:
    """A log-density at the nodes ``lo + h * k``, ``k = 0 .. n``.

    Attributes
    ----------
    lo, h : float
        First node and spacing.
    logp : ndarray
        Unnormalised log-density at the nodes, shape ``(n + 1,)``; ``-inf`` where it vanishes.
    """

    lo: float
    h: float
    logp: np.ndarray

    @property
    def nodes(self) -> np.ndarray:
        """Node coordinates."""
        return self.lo + self.h * np.arange(self.logp.size)

    @property
    def log_weights(self) -> np.ndarray:
        """Normalised log-probabilities of the nodes under the trapezoid rule."""
        log_w = self.logp.copy()
        log_w[[0, -1]] += np.log(0.5)
        return log_w - special.logsumexp(log_w)

    @property
    def weights(self) -> np.ndarray:
        """Probabilities of the nodes under the trapezoid rule, summing to one."""
        return np.exp(self.log_weights)

    @property
    def boole_weights(self) -> np.ndarray:
        """Probabilities of the nodes under Boole's rule (needs a number of intervals divisible by 4).

        For integrands that are smooth but not even at a natural boundary (``tau`` itself, whose
        even extension has a kink at 0), where the trapezoid rule is only O(h^2): O(h^6).
        """
        n = self.logp.size - 1
        if n % 4:
            raise ValueError(f"Boole's rule needs a multiple of 4 intervals, got {n}")
        pattern = np.tile([14.0, 32.0, 12.0, 32.0], n // 4)
        coefficients = np.append(pattern, 7.0)
        coefficients[0] = 7.0
        w = coefficients * np.exp(self.logp - self.logp.max())
        return w / w.sum()

    @property
    def log_integral(self) -> float:
        """Log of the trapezoid integral of ``exp(logp)`` over ``[lo, hi]``."""
        log_w = self.logp.copy()
        log_w[[0, -1]] += np.log(0.5)
        return float(special.logsumexp(log_w) + np.log(self.h))


def locate(
    logp: LogDensity, lo: float, hi: float, *, threshold: float = THRESHOLD, passes: int = 3
) -> tuple[float, float, bool, bool]:
    """Find the interval within ``[lo, hi]`` where ``logp`` is within ``threshold`` of its maximum.

    Each pass scans :data:`SCAN_NODES` nodes and keeps the hull of those above the cut, one node
    of margin either side; the next pass rescans that hull.

    Returns
    -------
    lo, hi : float
        The interval.
    at_lo, at_hi : bool
        Whether the density is still above the cut at the limit ``lo`` (``hi``): mass runs up to it.
    """
    limit_lo, limit_hi = lo, hi
    for _ in range(passes):
        x = np.linspace(lo, hi, SCAN_NODES)
        values = np.asarray(logp(x), dtype=float)
        values = np.where(np.isnan(values), -np.inf, values)
        if not np.any(np.isfinite(values)):
            raise FloatingPointError("the log posterior is -inf or nan everywhere on the search interval")
        keep = np.flatnonzero(values > values.max() - threshold)
        lo, hi = x[max(keep[0] - 1, 0)], x[min(keep[-1] + 1, x.size - 1)]
    at_lo = bool(lo == limit_lo and values[0] > values.max() - threshold)
    at_hi = bool(hi == limit_hi and values[-1] > values.max() - threshold)
    return float(lo), float(hi), at_lo, at_hi


def evaluate(logp: LogDensity, lo: float, hi: float, n: int) -> Line:
    """Evaluate ``logp`` at ``n + 1`` equally spaced nodes from ``lo`` to ``hi``."""
    h = (hi - lo) / n
    values = np.asarray(logp(lo + h * np.arange(n + 1)), dtype=float)
    return Line(lo, h, np.where(np.isnan(values), -np.inf, values))


def tail_share(sides: list[tuple[float, float]], total: float) -> float:
    """Extrapolate an integral's tail beyond a tabulated range from its outermost slices.

    Parameters
    ----------
    sides : list of (float, float)
        Per end of the range, the integrand summed over the outermost slice of nodes and over the
        slice just inside it.
    total : float
        The integral over the range, in the same units.

    Returns
    -------
    float
        The largest share of ``total`` estimated to lie beyond an end: where the integrand falls
        by a ratio ``r`` per slice, ``r / (1 - r)`` times the outer slice (a geometric tail, which
        a power law is in log coordinates); ``inf`` where it does not fall.
    """
    if not math.isfinite(total):
        return math.inf
    if total == 0.0:
        return 0.0
    worst = 0.0
    for outer, inside in sides:
        if outer == 0.0:
            continue
        if outer >= inside:
            return math.inf
        r = outer / inside
        worst = max(worst, outer * r / (1.0 - r) / total)
    return worst


def moment_tail(weights: np.ndarray, x: np.ndarray, k: int, *, closed_lo: bool = False) -> float:
    """Estimate the share of ``E[|x|^k]`` beyond the ends of a line (see :func:`tail_share`).

    Parameters
    ----------
    weights : ndarray
        The nodes' probabilities.
    x : ndarray
        The quantity's ``k``-th absolute moment integrand's base at every node (``|x|^k`` is taken).
    k : int
        The moment's order.
    closed_lo : bool
        The line's first node is the coordinate's natural end (``tau = 0``): not a tail.

    Returns
    -------
    float
    """
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.abs(x) ** k * weights
    sides = [(float(m[-1]), float(m[-2]))]
    if not closed_lo:
        sides.append((float(m[0]), float(m[1])))
    return tail_share(sides, float(m.sum()))
