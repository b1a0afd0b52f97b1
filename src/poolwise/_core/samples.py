"""One-dimensional marginals of posterior draws, vectorised over rows.

The sample counterpart of :mod:`poolwise._core.marginal`, for engines that return draws rather than
densities (MCMC). A :class:`SampleMarginal` holds one row of draws per reported entry and offers the
same ``ppf(q)`` (quantiles of the draws, linear interpolation as :func:`numpy.quantile`) and
``density(row)``, plus the intervals ArviZ computes from draws: equal-tailed (quantiles) and the
shortest interval holding ``prob`` of the draws (``arviz_stats`` ``hdi(method="nearest")``).

The density is a Gaussian kernel estimate on an unconstrained scale (logit for rates, log for
positive values), mapped back with its Jacobian, so that it does not leak past a bound the way a
kernel estimate on the natural scale does (a rate with mass piled at 1, a scale near 0).

NumPy/SciPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

#: Points at which a density is tabulated.
DENSITY_POINTS = 512

_TRANSFORMS = {
    # scale: (to unconstrained z, back to natural x, log dx/dz)
    "logit": (special.logit, special.expit, lambda z: -np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)),
    "log": (np.log, np.exp, lambda z: z),
    "identity": (lambda x: x, lambda z: z, np.zeros_like),
}


@dataclass(frozen=True)
class SampleMarginal:
    """Rows of draws, each the sample of one univariate posterior.

    Parameters
    ----------
    draws : ndarray
        Shape ``(P, N)``: ``N`` draws (chains flattened) for each of ``P`` rows.
    scale : {"logit", "log", "identity"}
        The unconstrained scale the kernel density works on: ``"logit"`` for values in (0, 1),
        ``"log"`` for positive values, ``"identity"`` for values on the whole real line.
    """

    draws: np.ndarray
    scale: str = "logit"

    def __post_init__(self) -> None:
        draws = np.asarray(self.draws, dtype=float)
        if draws.ndim != 2 or draws.shape[1] < 2:
            raise ValueError(f"draws must have shape (rows, draws) with >= 2 draws, got {draws.shape}")
        if self.scale not in _TRANSFORMS:
            raise ValueError(f"scale must be one of {', '.join(_TRANSFORMS)}, got {self.scale!r}")
        object.__setattr__(self, "draws", draws)
        object.__setattr__(self, "_sorted", np.sort(draws, axis=1))

    @property
    def mean(self) -> np.ndarray:
        """Sample means, shape ``(P,)``."""
        return self.draws.mean(axis=1)

    @property
    def sd(self) -> np.ndarray:
        """Sample standard deviations, shape ``(P,)``."""
        return self.draws.std(axis=1, ddof=1)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantiles of the draws, ``q`` of shape ``(P, m)`` (as ``np.quantile``, linear)."""
        q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)
        n = self._sorted.shape[1]
        position = q * (n - 1)
        below = np.minimum(np.floor(position).astype(np.int64), n - 2)
        rows = np.arange(q.shape[0])[:, None]
        lo, hi = self._sorted[rows, below], self._sorted[rows, below + 1]
        return lo + (position - below) * (hi - lo)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Fraction of each row's draws at or below ``x``, of shape ``(P, m)``."""
        x = np.asarray(x, dtype=float)
        n = self._sorted.shape[1]
        return (
            np.stack([np.searchsorted(s, xs, side="right") for s, xs in zip(self._sorted, x, strict=True)])
            / n
        )

    def eti(self, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Equal-tailed interval holding ``prob`` of each row's draws."""
        tail = (1.0 - prob) / 2.0
        q = self.ppf(np.array([[tail, 1.0 - tail]]) * np.ones((self.draws.shape[0], 1)))
        return q[:, 0], q[:, 1]

    def hdi(self, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Shortest interval between two draws that holds ``prob`` of each row's draws."""
        x = self._sorted
        n = x.shape[1]
        span = min(int(np.floor(prob * n)), n - 1)
        width = x[:, span:] - x[:, : n - span]
        start = np.argmin(width, axis=1)
        rows = np.arange(x.shape[0])
        return x[rows, start], x[rows, start + span]

    def interval(self, kind: str, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Credible interval of ``kind`` ``"hdi"`` or ``"eti"`` for every row."""
        if kind == "hdi":
            return self.hdi(prob)
        if kind == "eti":
            return self.eti(prob)
        raise ValueError(f"ci_kind must be 'hdi' or 'eti', got {kind!r}")

    def _unconstrained(self, row: int) -> np.ndarray:
        to_z = _TRANSFORMS[self.scale][0]
        # Draws can sit exactly on a bound in floating point (a rate of 1.0 when beta is tiny).
        if self.scale == "identity":
            return self.draws[row]
        tiny = np.finfo(float).tiny
        upper = 1.0 - np.finfo(float).epsneg if self.scale == "logit" else np.inf
        with np.errstate(divide="ignore"):
            return to_z(np.clip(self.draws[row], tiny, upper))

    def density(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Kernel density estimate of one row on the natural scale.

        Returns
        -------
        x, density : numpy.ndarray
            :data:`DENSITY_POINTS` points spanning the row's draws, and the density there
            (integrating to one over the natural scale).
        """
        z = self._unconstrained(row)
        _, to_x, log_dx_dz = _TRANSFORMS[self.scale]
        spread = np.ptp(z)
        if spread == 0.0:  # every draw equal: no density to estimate, a point mass
            return to_x(z[:1]), np.array([np.inf])
        kde = stats.gaussian_kde(z)
        pad = 3.0 * kde.factor * z.std()
        grid = np.linspace(z.min() - pad, z.max() + pad, DENSITY_POINTS)
        return to_x(grid), kde(grid) * np.exp(-log_dx_dz(grid))

    def mode(self) -> np.ndarray:
        """Mode of each row's kernel density on the natural scale, shape ``(P,)``.

        Like the seed's histogram of draws, this carries Monte Carlo error and the kernel's
        smoothing bias; it is not the exact mode.
        """
        modes = []
        for row in range(self.draws.shape[0]):
            x, f = self.density(row)
            modes.append(x[np.argmax(f)])
        return np.array(modes)
