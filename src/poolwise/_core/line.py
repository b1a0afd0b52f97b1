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
