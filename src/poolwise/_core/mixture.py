"""Mixtures of one-parameter-pair conjugate posteriors, tabulated on an unconstrained scale.

Given hyperparameter nodes with weights, each group's posterior is a mixture of K conjugate
densities (Betas of a rate, Gammas of a Poisson rate). Its moments are exact; its quantiles need the
mixture density, which these helpers tabulate on a uniform grid of ``z`` (the logit or the log of
the rate), where every component is smooth with exponential tails. The family supplies the
components' log-densities as a linear combination of basis functions of ``z`` (one matrix product
per row) and upper bounds on their tail masses (to place the ends of the grid).

NumPy/SciPy only; nothing here knows about a model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Weight of the narrowest mixture components that the spacing may leave coarse.
NARROW_MASS = 0.01

#: Tail mass left out at each end of a tabulated mixture.
TAIL_MASS = 1e-12


def tail_point(
    log_bound: Callable[[np.ndarray], np.ndarray],
    weight: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    log_mass: float = float(np.log(TAIL_MASS)),
) -> np.ndarray:
    """Per row, a ``z`` in ``[lo, hi]`` below which the mixture holds at most ``exp(log_mass)``.

    ``log_bound(z)`` gives, for ``z`` of shape ``(P,)``, upper bounds on the components'
    ``log P(Z < z)``, shape ``(P, K)``, non-decreasing in ``z``. Bisection to 1e-6 of the bracket on
    their weighted sum.
    """
    with np.errstate(divide="ignore"):  # a component of weight 0 (underflowed) bounds nothing
        log_weight = np.log(weight)[None, :]
    for _ in range(20):
        mid = (lo + hi) / 2
        bound = np.minimum(log_bound(mid), 0.0) + log_weight
        top = bound.max(axis=1)
        mass = top + np.log(np.exp(bound - top[:, None]).sum(axis=1))
        below = mass <= log_mass
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return lo


def spacing(mz: np.ndarray, vz: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and sd of the mixture in ``z``, and the node spacing that resolves it.

    ``mz``, ``vz``: the components' means and variances in ``z``, shape ``(P, K)``. The spacing is
    at most 1/8 of the mixture's sd and 1/4 of the sd below which only :data:`NARROW_MASS` of the
    components' weight lies: it must resolve the components that carry the mass, and a weighted
    mean of their sds would be inflated by a few very wide ones.
    """
    mean_z = mz @ weight
    sd_mix = np.sqrt(np.maximum((vz + (mz - mean_z[:, None]) ** 2) @ weight, 0.0))
    return mean_z, sd_mix, np.minimum(sd_mix / 8, narrow_width(np.sqrt(vz), weight) / 4)


def narrow_width(width: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per row, the component width below which only :data:`NARROW_MASS` of the weight lies.

    ``width`` has shape ``(P, K)``, ``weight`` shape ``(K,)``; the result shape ``(P,)``.
    """
    order = np.argsort(width, axis=1)
    first = np.argmax(np.cumsum(weight[order], axis=1) >= NARROW_MASS, axis=1)
    return np.take_along_axis(width, np.take_along_axis(order, first[:, None], axis=1), axis=1)[:, 0]


def node_count(lo: np.ndarray, hi: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count the nodes per row (129 to 4097) covering ``[lo, hi]`` at most ``step`` apart.

    Returns the counts and the spacing per row.
    """
    need = np.clip(np.ceil((hi - lo) / step), 128, 4096).astype(int) + 1
    return need, (hi - lo) / (need - 1)


def tabulate(
    lo: np.ndarray,
    hi: np.ndarray,
    step: np.ndarray,
    basis: Callable[[np.ndarray], np.ndarray],
    coef: np.ndarray,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate each row's mixture density on ``[lo, hi]`` at a spacing of at most ``step``.

    ``basis(z)`` gives the basis functions at nodes ``z``, shape ``(X, B)``; ``coef`` the
    components' coefficients, shape ``(P, B, K)``, so that ``basis(z) @ coef[p]`` is the log-density
    of each component. Rows get between 129 and 4097 nodes; shorter rows are padded with zero
    density beyond their end.

    Returns
    -------
    h, pdf : numpy.ndarray
        Spacing per row, and the density at ``lo[p] + h[p] * j``, shape ``(P, X)``.
    """
    need, h = node_count(lo, hi, step)
    pdf = np.zeros((lo.size, need.max()))
    for p in range(lo.size):  # rows one at a time keep memory at X*K, not P*X*K
        z = lo[p] + h[p] * np.arange(need[p])
        pdf[p, : z.size] = np.exp(basis(z) @ coef[p]) @ weight
    return h, pdf
