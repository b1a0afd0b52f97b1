"""Posterior predictive checks as a figure: each statistic's replicated values against the data's."""

from __future__ import annotations

from collections.abc import Mapping

from ...analysis.checks import COUNTS, p_value, replicated, statistics_for
from ...analysis.shrinkage import as_fits
from ...study.fits import Fit
from ._common import COLORS, INK, LABELS, new_figure, number, styled


@styled
def plot_ppc(fits: Fit | Mapping[str, Fit]):
    """Draw the posterior predictive checks: one row per pooling, one panel per statistic.

    Each panel is the histogram of the statistic over replicated data sets, the data's value as a
    vertical line, and the mid-p value in its title (near 0 or 1: the model misses that feature).
    The statistics suit the family (:func:`poolwise.checks.statistics_for`): for estimates, the sd,
    lowest and highest of the estimates and the number with ``|y/s| > 1.96``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    found = as_fits(fits)
    statistics = statistics_for(next(iter(found.values())))
    names = list(statistics)
    fig, axes = new_figure((2.6 * len(names), 2.1 * len(found) + 0.4), len(found), len(names))
    for row, (pooling, fit) in enumerate(found.items()):
        values = replicated(fit)
        for col, name in enumerate(names):
            ax = axes[row, col]
            observed, rep = values[name]
            discrete = name in COUNTS
            bins = (
                [v - 0.5 for v in range(int(rep.min()), int(max(rep.max(), observed)) + 2)]
                if discrete
                else 30
            )
            ax.hist(rep, bins=bins, color=COLORS.get(pooling, INK), alpha=0.55, density=True)
            ax.axvline(observed, color=INK, lw=1.6)
            ax.set_title(f"p = {number(p_value(observed, rep), 2)}", fontsize=9, loc="right")
            ax.set_yticks([])
            if row == len(found) - 1:
                ax.set_xlabel(statistics[name][0], fontsize=8)
            if col == 0:
                ax.set_ylabel(LABELS.get(pooling, pooling), fontsize=8.5)
    fig.suptitle("Posterior predictive checks: replicated statistics (histogram) against the data's (line)")
    return fig
