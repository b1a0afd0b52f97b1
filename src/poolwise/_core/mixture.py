"""Mixtures of log-concave component densities, tabulated for quantiles and intervals.

Given hyperparameter nodes with weights, each group's posterior is a mixture of K component
densities (Betas of a rate, Gammas of a Poisson rate, normals of an effect, a logit-normal group's
conditionals). Its moments are exact sums; its quantiles need the mixture's density, which these
helpers tabulate row by row on an unconstrained coordinate ``z`` (the logit or the log of a rate,
the effect itself) in which every component is log-concave.

The tabulation must be right where the components differ by orders of magnitude: a rate whose
posterior piles mass at 0 (every group at 0 successes: ``Beta(a, b)`` with ``a`` near 0 has an
exponential left tail of scale ``1 / a`` in ``z``, hundreds of units long) beside components of
unit width, or a group of 1e9 trials whose components are 1e-5 wide. A uniform grid in ``z``
cannot resolve both, so each row is tabulated on a uniform grid of ``y`` with

    z = centre + scale * sinh(y),

linear within ``scale`` of ``centre`` (the narrow components' location and width) and logarithmic
beyond, where the wide components live: an exponential tail of any rate is a bump of width ~1 in
``y``. The ends are placed by a bound, not a search: for a log-concave density with mean ``m`` and
standard deviation ``s``, ``P(|Z - m| > t s) < e^(1 - t)`` for ``t > 1`` (Lovász and Vempala 2007,
Lemma 5.7, the one-dimensional case), so component ``k`` of weight ``w_k`` is cut at
``t_k = 1 + log(K w_k / TAIL_MASS)`` and the mixture loses at most :data:`TAIL_MASS` in all. The
spacing resolves every component that carries more than :data:`RESOLVE_MASS` of the weight: a
quarter of its standard deviation over the local stretch ``dz/dy`` of the map across its body.
Where the node cap (:data:`MAX_NODES`) leaves a component narrower than that (a spike: ``tau``
near 0 beside ``tau`` of order one, a billion trials beside ten), its density is not sampled,
which would alias it to a height of its weight over its width: its mass enters the nodes' cells
exactly, through its normal approximation (a component that narrow is nearly normal in ``z``), and
the quantiles it moves are off by at most a cell.

NumPy/SciPy only; nothing here knows about a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

#: Weight of the narrowest mixture components that the spacing may leave coarse.
NARROW_MASS = 0.01

#: Weight of the components that a stretched tabulation may leave unresolved.
RESOLVE_MASS = 1e-6

#: Mixture mass that a stretched tabulation may leave beyond its ends (both together).
TAIL_MASS = 1e-12

#: Largest ``|y|`` of a stretched tabulation: ``sinh`` and ``cosh`` overflow near 710.
Y_LIMIT = 700.0

#: Nodes per row of a tabulation: at least, and at most.
MIN_NODES, MAX_NODES = 129, 4097


def narrow_width(width: np.ndarray, weight: np.ndarray, mass: float = NARROW_MASS) -> np.ndarray:
    """Per row, the component width below which only ``mass`` of the weight lies.

    ``width`` has shape ``(P, K)``, ``weight`` shape ``(K,)``; the result shape ``(P,)``.
    """
    order = np.argsort(width, axis=1)
    first = np.argmax(np.cumsum(weight[order], axis=1) >= mass, axis=1)
    return np.take_along_axis(width, np.take_along_axis(order, first[:, None], axis=1), axis=1)[:, 0]


def node_count(lo: np.ndarray, hi: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count the nodes per row (:data:`MIN_NODES` to :data:`MAX_NODES`) covering ``[lo, hi]``.

    Nodes are at most ``step`` apart where the cap allows. Returns the counts and the spacing.
    """
    need = np.clip(np.ceil((hi - lo) / step), MIN_NODES - 1, MAX_NODES - 1).astype(int) + 1
    return need, (hi - lo) / (need - 1)


@dataclass(frozen=True)
class Stretch:
    """Per-row nodes ``y0 + h * j`` (``j < count``) of the coordinate ``z = centre + scale * sinh(y)``.

    ``spike[p, k]`` marks the components of row ``p`` narrower than a quarter of its spacing (where
    the node cap left it coarser than they need): their mass is added by cells.
    """

    centre: np.ndarray
    scale: np.ndarray
    y0: np.ndarray
    h: np.ndarray
    count: np.ndarray
    spike: np.ndarray

    def y(self, row: int) -> np.ndarray:
        """Nodes of ``y`` in ``row``."""
        return self.y0[row] + self.h[row] * np.arange(self.count[row])

    def z(self, row: int) -> np.ndarray:
        """Nodes of ``z`` in ``row``."""
        return self.centre[row] + self.scale[row] * np.sinh(self.y(row))


def stretch(mz: np.ndarray, sz: np.ndarray, weight: np.ndarray) -> Stretch:
    """Place each row's stretched tabulation from its components' means and sds in ``z``.

    Parameters
    ----------
    mz, sz : numpy.ndarray
        Components' means and standard deviations in ``z``, shape ``(P, K)``; each component's
        density must be log-concave in ``z`` (the tail bound relies on it).
    weight : numpy.ndarray
        Component weights, shape ``(K,)``, summing to one.

    Returns
    -------
    Stretch
        Centre (precision-weighted mean of the components' means), scale (the width below which
        only :data:`NARROW_MASS` of the weight lies), the range in ``y`` that holds all but
        :data:`TAIL_MASS` of the mass, and the spacing.
    """
    live = weight > 0
    w = weight[live]
    m, s = mz[:, live], np.maximum(sz[:, live], np.finfo(float).tiny)
    # Precision weights put the linear part of the map where the narrow components are; mean
    # weights would put it among heavy tails hundreds of units away.
    with np.errstate(over="ignore", under="ignore"):
        precision = w / (s * s)
        precision = np.where(np.isfinite(precision), precision, np.finfo(float).max / w.size)
    centre = np.sum(precision * m, axis=1) / np.sum(precision, axis=1)
    scale = narrow_width(s, w)
    reach = np.maximum(1.0 + np.log(w.size * w / TAIL_MASS), 0.0)
    z_lo = np.min(m - reach * s, axis=1)
    z_hi = np.max(m + reach * s, axis=1)
    # dz/dy = sqrt(scale^2 + (z - centre)^2): the stretch across a component's body (2 sds out).
    stretch_at = np.sqrt(scale[:, None] ** 2 + (np.abs(m - centre[:, None]) + 2.0 * s) ** 2)
    resolution = narrow_width(s / stretch_at, w, RESOLVE_MASS) / 4.0
    # Clipped where cosh(y) would overflow (an end beyond 1e300 scales from the centre).
    with np.errstate(over="ignore", invalid="ignore"):
        y_lo = np.clip(np.nan_to_num(np.arcsinh((z_lo - centre) / scale), nan=-Y_LIMIT), -Y_LIMIT, 0.0)
        y_hi = np.clip(np.nan_to_num(np.arcsinh((z_hi - centre) / scale), nan=Y_LIMIT), 0.0, Y_LIMIT)
    # Components narrower than floating point resolves at their location (sd 1 at 1e140): a
    # point mass, tabulated flat over y in [-1, 1], where every node is that same value.
    point = ~(y_hi - y_lo > 0)
    y_lo, y_hi = np.where(point, -1.0, y_lo), np.where(point, 1.0, y_hi)
    count, h = node_count(y_lo, y_hi, resolution)
    spike = np.zeros(mz.shape, bool)
    spike[:, live] = s / stretch_at < 4.0 * h[:, None] * (1.0 - 1e-9)
    return Stretch(centre, scale, y_lo, h, count, spike)


def tabulate(
    nodes: Stretch,
    log_density: Callable[[np.ndarray, int, np.ndarray], np.ndarray],
    weight: np.ndarray,
    mz: np.ndarray,
    sz: np.ndarray,
) -> np.ndarray:
    """Tabulate each row's mixture density with respect to ``y`` at the nodes of ``nodes``.

    ``log_density(z, row, columns)`` gives the log-densities in ``z`` of the components
    ``columns`` of one row at nodes ``z``, shape ``(X, len(columns))``; ``mz``, ``sz`` (shape
    ``(P, K)``) are the components' means and sds in ``z``, for the spikes (:class:`Stretch`).
    Rows shorter than the longest are padded with zero density.

    Returns
    -------
    numpy.ndarray
        Shape ``(P, max count)``: ``sum_k w_k f_k(z) dz/dy`` at each node (a spike's: its mass in
        the node's cell over ``h``), each row scaled to a maximum of one (normalising follows).
    """
    pdf = np.zeros((nodes.count.size, int(nodes.count.max())))
    log_weight = np.log(np.where(weight > 0, weight, 1.0))
    for p in range(nodes.count.size):  # rows one at a time keep memory at X*K, not P*X*K
        y = nodes.y(p)
        z = nodes.centre[p] + nodes.scale[p] * np.sinh(y)
        spike = nodes.spike[p] & (weight > 0)
        smooth = np.flatnonzero((weight > 0) & ~spike)
        log_row = np.full(y.size, -np.inf)
        with np.errstate(under="ignore", over="ignore", divide="ignore"):
            if smooth.size:
                # shifted by its largest term, so that neither a density of 1e-320 nor of 1e300 is lost
                terms = log_density(z, p, smooth) + log_weight[smooth]
                top = np.max(terms)
                log_row = top + np.log(np.exp(terms - top).sum(axis=1)) + np.log(np.cosh(y))
            if spike.any():
                y_edges = y[0] + nodes.h[p] * (np.arange(y.size + 1) - 0.5)
                edges = nodes.centre[p] + nodes.scale[p] * np.sinh(y_edges)
                cdf = special.ndtr((edges[:, None] - mz[p, spike]) / sz[p, spike])
                cells = np.log(np.diff(cdf, axis=0) @ weight[spike]) - np.log(nodes.h[p] * nodes.scale[p])
                log_row = np.logaddexp(log_row, cells)
        top = np.max(log_row)
        pdf[p, : y.size] = np.exp(log_row - top) if np.isfinite(top) else 1.0
    return pdf
