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

Most families' components are exponential families in ``z``: ``log f_pk(z) = phi(z) . (g_k + d_p)
+ c_pk``, hyperparameter coefficients ``g_k`` plus data coefficients ``d_p`` (``Beta(alpha_k + y_p,
beta_k + n_p - y_p)``). :func:`tabulate_linear` tabulates those on nodes shared by rows of similar
centre and scale, so that ``sum_k w_k exp(phi(z) . g_k + c_pk)`` is one matrix product per set of
rows, ``exp(c + g . phi(z0))`` times ``exp(g . (phi(z) - phi(z0)))``, instead of ``exp`` of every
(node, component) of every row. The shared nodes are at least as fine as each row's own, everywhere
on its range; a row whose product underflowed where its density is not negligible is tabulated
alone by :func:`tabulate`, as is a row with spikes or with ends in far heavy tails.

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

#: Rows share nodes when their scales lie within this ratio and their centres within one scale.
BIN_RATIO = 1.5

#: Rows reaching beyond ``|y|`` of this (far heavy tails) are tabulated on their own nodes.
SHARED_Y = 30.0

#: A shared product below this lost precision to underflow; the row is redone alone unless the
#: density there is below :data:`NEGLIGIBLE` of its peak anyway.
UNDERFLOW = 1e-200
NEGLIGIBLE = 1e-30


def trigamma(x: np.ndarray) -> np.ndarray:
    """``polygamma(1, x)`` for ``x > 0``, to about 1e-14 relative, several times faster than SciPy's.

    The recurrence ``psi1(x) = psi1(x + 1) + 1 / x^2`` lifts ``x`` below 10 by 10, where the
    asymptotic series to ``x^-11`` is accurate to 3e-14 (its next term, ``691 / 2730 x^-13``).
    """
    x = np.array(x, dtype=float)
    total = np.zeros_like(x)
    small = x < 10.0
    lifted = x[small]
    total[small] = sum(1.0 / ((lifted + i) * (lifted + i)) for i in range(10))
    x[small] = lifted + 10.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = 1.0 / 6.0 + inv2 * (-1.0 / 30.0 + inv2 * (1.0 / 42.0 + inv2 * (-1.0 / 30.0 + inv2 * 5.0 / 66.0)))
    return total + inv + inv2 * (0.5 + inv * series)


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

    def subset(self, rows: np.ndarray) -> Stretch:
        """Keep the nodes of ``rows`` only."""
        return Stretch(
            self.centre[rows],
            self.scale[rows],
            self.y0[rows],
            self.h[rows],
            self.count[rows],
            self.spike[rows],
        )

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


@dataclass(frozen=True)
class LinearComponents:
    """Components with ``log f_pk(z) = basis(z) @ (hyper[k] + data[p]) + const[p, k]``.

    ``basis`` maps nodes of shape ``(X,)`` to shape ``(X, B)``; ``hyper`` has shape ``(K, B)``,
    ``data`` shape ``(P, B)``, ``const`` shape ``(P, K)``.
    """

    basis: Callable[[np.ndarray], np.ndarray]
    hyper: np.ndarray
    data: np.ndarray
    const: np.ndarray

    def log_density(self, z: np.ndarray, row: int, columns: np.ndarray) -> np.ndarray:
        """Log densities of ``columns`` of ``row`` at ``z``, shape ``(X, len(columns))``."""
        return self.basis(z) @ (self.hyper[columns] + self.data[row]).T + self.const[row, columns]


def additive(coefficient: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Split ``coefficient[p, k]`` into ``hyper[k] + data[p]``, or None where it is not such a sum.

    ``hyper`` is the row of the least coefficients (a group with no data: ``alpha_k`` itself), so
    that ``data`` is never negative and the sum keeps every coefficient to a few units in its
    last place, however small: a coefficient of 1e-20 beside data of 1e5 multiplies ``e^z`` in a
    heavy tail, where an absolute error of the data's rounding would move the density.
    """
    reference = int(np.argmin(coefficient[:, 0]))
    hyper = coefficient[reference]
    data = coefficient[:, 0] - coefficient[reference, 0]
    residual = np.abs(hyper[None, :] + data[:, None] - coefficient)
    if not np.all(residual <= 8 * np.finfo(float).eps * np.abs(coefficient)):
        return None
    return hyper, data


def tabulate_components(
    nodes: Stretch,
    basis: Callable[[np.ndarray], np.ndarray],
    coefficients: list[np.ndarray],
    const: np.ndarray,
    weight: np.ndarray,
    mz: np.ndarray,
    sz: np.ndarray,
) -> tuple[Stretch, np.ndarray]:
    """Tabulate mixtures of ``log f_pk(z) = sum_b basis(z)[:, b] coefficients[b][p, k] + const[p, k]``.

    By :func:`tabulate_linear` where every coefficient is a hyperparameter's plus a group's
    (:func:`additive`), else row by row (:func:`tabulate`) on ``nodes``.

    Returns
    -------
    Stretch, numpy.ndarray
        The nodes used and the tabulated densities, as :func:`tabulate_linear`.
    """
    split = [additive(c) for c in coefficients]
    if all(part is not None for part in split):
        hyper = np.stack([part[0] for part in split], axis=1)
        data = np.stack([part[1] for part in split], axis=1)
        return tabulate_linear(nodes, LinearComponents(basis, hyper, data, const), weight, mz, sz)
    stacked = np.stack(coefficients, axis=2)  # (P, K, B)

    def log_density(z: np.ndarray, row: int, columns: np.ndarray) -> np.ndarray:
        return basis(z) @ stacked[row, columns].T + const[row, columns]

    return nodes, tabulate(nodes, log_density, weight, mz, sz)


def tabulate_linear(
    nodes: Stretch, components: LinearComponents, weight: np.ndarray, mz: np.ndarray, sz: np.ndarray
) -> tuple[Stretch, np.ndarray]:
    """Tabulate mixtures of :class:`LinearComponents` on nodes shared by similar rows.

    Rows whose scales lie within :data:`BIN_RATIO` of each other and whose centres lie within one
    scale share a map ``z = c + s sinh(y)`` (their mean centre, their least scale) and a lattice in
    ``y`` whose spacing is, at every point of each row's range, at most the spacing its own nodes
    (``nodes``, from :func:`stretch`) have there; each row keeps the stretch of the lattice that
    covers its own range. Per set of rows, with ``z0`` the shared centre, the mixture is
    ``exp(d_p . phi(z)) * sum_k [w_k exp(c_pk + g_k . phi(z0))] [exp(g_k . (phi(z) - phi(z0)))]``:
    one matrix product, each factor scaled by its largest entry per row and per node. Rows the
    product cannot serve (see the module docstring) are tabulated alone on their own nodes.

    Returns
    -------
    Stretch
        Each row's nodes (``spike`` set only for rows tabulated alone).
    numpy.ndarray
        Shape ``(P, max count)``, as :func:`tabulate`.
    """
    live = np.flatnonzero(weight > 0)
    hyper, log_weight, const = components.hyper[live], np.log(weight[live]), components.const[:, live]
    y_end = nodes.y0 + nodes.h * (nodes.count - 1)
    alone = nodes.spike.any(axis=1) | (nodes.y0 < -SHARED_Y) | (y_end > SHARED_Y)
    level = np.floor(np.log(nodes.scale) / np.log(BIN_RATIO))
    slot = np.floor(nodes.centre / BIN_RATIO**level)
    shared = np.flatnonzero(~alone)
    _, which = np.unique(np.stack([level[shared], slot[shared]], axis=1), axis=0, return_inverse=True)
    centre, scale = nodes.centre.copy(), nodes.scale.copy()
    y0, h, count = nodes.y0.copy(), nodes.h.copy(), nodes.count.copy()
    tables = []
    bins = np.split(shared[np.argsort(which, kind="stable")], np.cumsum(np.bincount(which))[:-1])
    for members in bins if shared.size else []:
        placed = _shared_lattice(nodes, members)
        if placed is None:
            alone[members] = True
            continue
        c, s, lattice, first, last = placed
        log_f, served = _product(
            components.basis,
            hyper,
            components.data[members],
            const[members],
            log_weight,
            c,
            s,
            lattice,
            first,
            last,
        )
        alone[members[~served]] = True
        kept = members[served]
        centre[kept], scale[kept], h[kept] = c, s, lattice[1] - lattice[0]
        y0[kept], count[kept] = lattice[first[served]], last[served] - first[served] + 1
        tables.append((kept, first[served], log_f[served]))
    spike = np.where(alone[:, None], nodes.spike, False)
    out = Stretch(centre, scale, y0, h, count, spike)
    pdf = np.zeros((count.size, int(count.max())))
    for kept, first, log_f in tables:
        # each row's part of the lattice, moved to the row's first column
        column = first[:, None] + np.arange(pdf.shape[1])[None, :]
        inside = column < first[:, None] + count[kept][:, None]
        values = np.take_along_axis(log_f, np.minimum(column, log_f.shape[1] - 1), axis=1)
        with np.errstate(under="ignore"):
            pdf[kept] = np.where(
                inside, np.exp(values - np.max(np.where(inside, values, -np.inf), axis=1)[:, None]), 0.0
            )
    by_itself = np.flatnonzero(alone)
    if by_itself.size:

        def log_density(z: np.ndarray, row: int, columns: np.ndarray) -> np.ndarray:
            return components.log_density(z, by_itself[row], columns)

        part = tabulate(nodes.subset(by_itself), log_density, weight, mz[by_itself], sz[by_itself])
        pdf[by_itself] = 0.0
        pdf[by_itself, : part.shape[1]] = part
    return out, pdf


def _shared_lattice(nodes: Stretch, members: np.ndarray):
    """Place the shared map and lattice of ``members`` (:func:`tabulate_linear`); None if too fine.

    Returns the centre, the scale, the lattice's nodes in ``y``, and each row's first and last node.
    """
    c, s = float(np.mean(nodes.centre[members])), float(np.min(nodes.scale[members]))
    width = int(nodes.count[members].max())
    j = np.arange(width)[None, :]
    own_y = nodes.y0[members, None] + nodes.h[members, None] * np.minimum(j, nodes.count[members, None] - 1)
    own_c, own_s = nodes.centre[members, None], nodes.scale[members, None]
    own_z = own_c + own_s * np.sinh(own_y)
    # spacing in z: own h_p sqrt(s_p^2 + (z - c_p)^2), shared h sqrt(s^2 + (z - c)^2)
    ratio = np.sqrt(own_s**2 + (own_z - own_c) ** 2) / np.sqrt(s * s + (own_z - c) ** 2)
    step = float(np.min(nodes.h[members] * np.min(ratio, axis=1)))
    ends = np.arcsinh((own_z[:, [0]] - c) / s)[:, 0], np.arcsinh((np.max(own_z, axis=1) - c) / s)
    start = float(np.min(ends[0]))
    first = np.floor((ends[0] - start) / step * (1.0 + 1e-12)).astype(int)
    last = np.ceil((ends[1] - start) / step * (1.0 - 1e-12)).astype(int)
    if not np.isfinite(step) or step <= 0 or np.max(last - first) + 1 > MAX_NODES:
        return None
    return c, s, start + step * np.arange(int(last.max()) + 1), first, last


def _product(basis, hyper, data, const, log_weight, c, s, lattice, first, last):
    """Rows' log mixture densities per unit ``y`` on the lattice, and which rows they serve.

    ``data`` and ``const`` are the rows' (live components only). A row is not served where its
    product underflowed (below :data:`UNDERFLOW` of its scaled factors) at a node of its range
    whose density could exceed :data:`NEGLIGIBLE` of its peak.
    """
    z = c + s * np.sinh(lattice)
    phi, phi0 = basis(z), basis(np.array([c]))
    with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
        log_g = hyper @ (phi - phi0).T  # (K, J)
        node_top = np.max(log_g, axis=0)
        log_c = const + log_weight + hyper @ phi0[0]  # (rows, K)
        row_top = np.max(log_c, axis=1)
        total = np.exp(log_c - row_top[:, None]) @ np.exp(log_g - node_top)
        shift = row_top[:, None] + node_top + data @ phi.T + np.log(np.cosh(lattice))
        log_f = np.log(total) + shift
    column = np.arange(lattice.size)[None, :]
    inside = (column >= first[:, None]) & (column <= last[:, None])
    lost = total < UNDERFLOW
    top = np.max(np.where(inside & ~lost & np.isfinite(log_f), log_f, -np.inf), axis=1)
    doubt = inside & lost & (np.log(UNDERFLOW) + shift > top[:, None] + np.log(NEGLIGIBLE))
    served = np.isfinite(top) & ~np.any(doubt, axis=1) & np.all(~inside | ~np.isnan(log_f), axis=1)
    return np.where(inside, log_f, -np.inf), served
