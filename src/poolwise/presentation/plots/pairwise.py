"""Who beats whom: ``P(theta_i > theta_j)`` for every pair of groups as a heat map."""

from __future__ import annotations

import numpy as np

from ...study.fits import Fit
from ._common import INK, MUTED, new_figure, styled, text

#: Groups up to which each cell is written as a number (beyond, the colours alone carry it).
ANNOTATE_LIMIT = 16

#: Most groups drawn: beyond, the cells are too small to read (the report's tables list them all).
PAIRWISE_PLOT_LIMIT = 60


@styled
def plot_pairwise(fit: Fit, ax=None):
    """Draw ``P(theta_row > theta_column)`` for every pair of groups, ordered by mean rank.

    Dark purple cells are pairs the data order surely (row above column), dark orange the reverse;
    pale cells near 0.5 are pairs the data cannot order. Rows and columns follow the posterior mean
    rank, so the upper triangle is mostly purple.

    Parameters
    ----------
    fit : Fit
        Usually the partial-pooling fit (the probabilities come from its draws).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    g = fit.data.n_groups
    if g > PAIRWISE_PLOT_LIMIT:
        raise ValueError(f"{g} groups are too many to draw pairwise (at most {PAIRWISE_PLOT_LIMIT})")
    order = fit.ranks()["mean_rank"].sort_values(kind="stable").index
    p = fit.pairwise().loc[order, order].to_numpy(copy=True)
    np.fill_diagonal(p, np.nan)
    if ax is None:
        side = min(max(3.2, 1.6 + 0.36 * g), 11.0)
        _, axes = new_figure((side + 2.6, side + 0.9))  # room for the labels and the colour bar
        ax = axes[0, 0]
    image = ax.imshow(p, cmap="PuOr", vmin=0.0, vmax=1.0, interpolation="nearest")
    # Long enough to tell "Comstock et al, 1974" from "Comstock et al, 1976" (BCG).
    labels = [text(name, 26) for name in order]
    ax.set_xticks(range(g), labels, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(g), labels)
    ax.grid(False)
    ax.tick_params(length=0)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    if g <= ANNOTATE_LIMIT:
        for i in range(g):
            for j in range(g):
                if i != j:
                    dark = abs(p[i, j] - 0.5) > 0.3
                    ax.text(
                        j, i, f"{p[i, j]:.2f}", ha="center", va="center", fontsize=7.5,
                        color="white" if dark else INK,
                    )  # fmt: skip
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
    bar.set_label("P(row's θ > column's θ)", color=MUTED)
    ax.set_title("Who beats whom (by mean rank)")
    return ax
