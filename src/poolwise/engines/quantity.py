"""A reported parameter of a posterior: its moments and a marginal for each distinct row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.marginal import Marginal


@dataclass(frozen=True)
class Quantity:
    """One reported parameter: exact moments and a marginal for each distinct row.

    ``index`` maps each reported entry (a group, or the single entry of a scalar) to its row.
    """

    name: str
    mean: np.ndarray
    sd: np.ndarray
    marginal: Marginal
    index: np.ndarray
    #: False (for all rows, or per row) where the mean may be infinite: only the quantiles are
    #: then checked for convergence.
    moments_exist: bool | np.ndarray = True

    def interval(self, kind: str, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Credible interval for every reported entry."""
        from .._core.marginal import interval

        lo, hi = interval(self.marginal, kind, prob)
        return lo[self.index], hi[self.index]

    def quantile(self, prob: float) -> np.ndarray:
        """Return the ``prob`` quantile of every reported entry."""
        return self.marginal.ppf(np.full((self.mean.size, 1), float(prob)))[self.index, 0]
