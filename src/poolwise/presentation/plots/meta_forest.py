"""Meta-analysis forest plot: each study's estimate and CI, the pooled diamonds, the prediction interval."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ...analysis.meta import MetaAnalysis
from ._common import COLORS, FAINT, INK, MUTED, new_figure, styled, text

# The studies are shown in the no-pooling colour (each on its own), the common-effect estimate
# in complete pooling's and the random-effects estimate in partial pooling's: the frequentist
# counterparts of the three poolings, coloured as in every other poolwise figure.
_STUDY = COLORS["none"]
_COMMON = COLORS["complete"]
_RANDOM = COLORS["partial"]
# Marker side (points) of the study with the largest weight; areas are proportional to weight.
_LARGEST_SQUARE = 11.0
_SMALLEST_SQUARE = 2.5
# Ratios shown on an exponentiated axis, as metafor's atransf=exp with at=log(...) does.
_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


@styled
def plot_meta_forest(
    result: MetaAnalysis,
    *,
    common: bool = True,
    prediction: bool = True,
    null: float = 0.0,
    exp: bool = False,
    xlabel: str | None = None,
    ax=None,
):
    """Forest plot of a meta-analysis.

    One row per study (input order): its estimate as a square whose area is proportional to its
    random-effects weight, and its confidence interval; then the pooled estimates as diamonds
    spanning their confidence intervals, and the prediction interval for a new study's true effect.
    The right margin lists each study's weight and estimate with its interval.

    Parameters
    ----------
    result : MetaAnalysis
        From :func:`poolwise.meta_analysis`.
    common : bool
        Also draw the common-effect (fixed-effect) diamond.
    prediction : bool
        Draw the prediction interval (below the random-effects diamond).
    null : float
        Where the vertical reference line goes, on the scale of the estimates (0 for differences
        and log ratios).
    exp : bool
        For log ratios (log odds ratios, log risk ratios): label the axis and the numbers with
        ``exp(value)``, i.e. as ratios, keeping the log scale for the geometry.
    xlabel : str, optional
        The x-axis label; by default the estimate column's name and the interval level.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized to the studies otherwise.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The studies' intervals are ``y_i +- z s_i`` at the analysis' level (normal quantile), as
    metafor's ``forest()`` draws them; the diamonds and the prediction interval are those of the
    result (t quantiles under Knapp–Hartung).
    """
    if not isinstance(result, MetaAnalysis):
        raise TypeError(
            f"plot_meta_forest needs a MetaAnalysis (pw.meta_analysis(...)); got {type(result).__name__}"
        )
    studies = result.studies()
    k = len(studies)
    show = math.exp if exp else float

    # Rows from the bottom: prediction interval, random-effects diamond, common-effect diamond,
    # a gap, then the studies with the first one at the top.
    pooled_rows = {"prediction": 0.0} if prediction else {}
    pooled_rows["random"] = len(pooled_rows)
    if common:
        pooled_rows["common"] = len(pooled_rows)
    first_study = len(pooled_rows) + 0.8
    ypos = first_study + np.arange(k)[::-1]
    top = first_study + k - 1

    if ax is None:
        # An empty second column keeps room for the numbers written to the right of the plot.
        _, axes = new_figure((9.5, 1.5 + 0.27 * (top + 2.5)), 1, 2, gridspec_kw={"width_ratios": [2.7, 1]})
        ax = axes[0, 0]
        axes[0, 1].set_axis_off()

    lower, upper = studies["ci_lower"].to_numpy(), studies["ci_upper"].to_numpy()
    ax.hlines(ypos, lower, upper, color=INK, lw=1.1, zorder=2)
    weights = studies["weight"].to_numpy()
    sides = np.maximum(_SMALLEST_SQUARE, _LARGEST_SQUARE * np.sqrt(weights / weights.max()))
    for x, y, side in zip(studies["estimate"], ypos, sides, strict=True):
        ax.plot(x, y, "s", ms=side, color=_STUDY, mec=INK, mew=0.6, zorder=3)

    diamonds = [("random", result.random, _RANDOM, f"Random effects ({result.method})")]
    if common:
        diamonds.append(("common", result.common, _COMMON, "Common effect"))
    for key, est, colour, _ in diamonds:
        y = pooled_rows[key]
        ax.fill(
            [est.ci_lower, est.estimate, est.ci_upper, est.estimate],
            [y, y + 0.32, y, y - 0.32],
            color=colour,
            ec=INK,
            lw=0.6,
            zorder=3,
        )
    if prediction:
        y = pooled_rows["prediction"]
        ax.hlines(y, result.pi_lower, result.pi_upper, color=_RANDOM, lw=1.6, zorder=2)
        ax.vlines([result.pi_lower, result.pi_upper], y - 0.18, y + 0.18, color=_RANDOM, lw=1.6, zorder=2)
        ax.plot(result.mu, y, "|", ms=8, mew=1.6, color=_RANDOM, zorder=3)
    ax.axhline(first_study - 0.6, color=FAINT, lw=0.6, zorder=1)
    ax.axvline(null, color=MUTED, lw=0.9, ls="--", zorder=1)
    ax.axvline(result.mu, color=_RANDOM, lw=0.7, ls=":", zorder=1)

    labels = {
        "prediction": "Prediction interval",
        **{key: name for key, _, _, name in diamonds},
    }
    ticks = [*ypos, *(pooled_rows[key] for key in labels if key in pooled_rows)]
    names = [text(label, 30) for label in studies.index] + [
        labels[key] for key in labels if key in pooled_rows
    ]
    ax.set_yticks(ticks, labels=names)
    for tick in ax.get_yticklabels()[k:]:
        tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_ylim(-0.7, top + 1.2)

    xs = [lower.min(), upper.max(), null]
    if prediction:
        xs += [result.pi_lower, result.pi_upper]
    lo, hi = float(min(xs)), float(max(xs))
    pad = 0.04 * max(hi - lo, 1e-12)
    ax.set_xlim(lo - pad, hi + pad)
    if exp:
        _ratio_axis(ax, lo - pad, hi + pad)

    # The numbers to the right of the plot: weight, then estimate [CI].
    percent = f"{result.level * 100:.10g}%"
    number = _formatter(studies, show)
    blended = ax.get_yaxis_transform()  # x in axes fraction, y in data
    # Out of the layout: the texts live in the room the figure keeps beside the axes.
    right = {"transform": blended, "va": "center", "fontsize": 8.5, "in_layout": False}
    weight_x, interval_x = 1.03, 1.14
    ax.text(weight_x, top + 0.9, "Weight", fontweight="bold", **right)
    ax.text(interval_x, top + 0.9, f"Estimate [{percent} CI]", fontweight="bold", **right)
    for (_, row), y in zip(studies.iterrows(), ypos, strict=True):
        ax.text(weight_x, y, f"{row['weight']:.1f}%", **right)
        interval = f"{number(row['estimate'])} [{number(row['ci_lower'])}, {number(row['ci_upper'])}]"
        ax.text(interval_x, y, interval, **right)
    for key, est, _, _ in diamonds:
        ax.text(weight_x, pooled_rows[key], "100%", fontweight="bold", **right)
        interval = f"{number(est.estimate)} [{number(est.ci_lower)}, {number(est.ci_upper)}]"
        ax.text(interval_x, pooled_rows[key], interval, fontweight="bold", **right)
    if prediction:
        interval = f"[{number(result.pi_lower)}, {number(result.pi_upper)}]"
        ax.text(interval_x, pooled_rows["prediction"], interval, color=MUTED, **right)

    what = text(result.data.estimate_column, 30)
    default = (
        f"exp({what}) — estimate and {percent} CI, log scale"
        if exp
        else f"{what} — estimate and {percent} CI"
    )
    ax.set_xlabel(xlabel if xlabel is not None else default)
    tau = f"{result.tau:.3g}" if result.tau2 > 0 else "0"
    ax.set_title(
        f"Random-effects meta-analysis of {result.k} studies: "
        f"{'exp(μ)' if exp else 'μ'} = {number(result.mu)}, τ = {tau}",
        fontsize=10.5,
        pad=18,
    )
    heterogeneity = (
        f"τ² estimator {result.method}; Q = {result.Q:.2f} on {result.Q_df} df ({_p(result.Q_p)}), "
        f"I² = {result.I2:.1f}%"
        if result.k > 1
        else "one study: heterogeneity cannot be estimated"
    )
    ax.annotate(
        heterogeneity + ("; Knapp–Hartung" if result.test == "knha" else ""),
        (0.0, 1.0),
        xycoords="axes fraction",
        xytext=(0, 5),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=7.5,
        color=MUTED,
    )
    return ax


def _formatter(studies: pd.DataFrame, show: Callable[[float], float]) -> Callable[[float], str]:
    """Return a number format with about three significant figures at the widest interval's end."""
    spread = float(np.nanmax(np.abs([show(x) for x in studies[["ci_lower", "ci_upper"]].to_numpy().ravel()])))
    # About three significant figures for the widest interval: 2 decimals for values below 10,
    # 1 below 100, none above; more for small values.
    decimals = 0 if spread == 0 else max(0, min(6, 2 - int(math.floor(math.log10(spread)))))

    def number(value: float) -> str:
        shown = show(value)
        if shown != 0 and abs(shown) < 10.0**-decimals:  # e.g. a ratio of 0.0045: two digits
            return f"{shown:.2g}"
        return f"{shown:.{decimals}f}"

    return number


def _p(value: float) -> str:
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.3g}"


def _ratio_axis(ax, lo: float, hi: float) -> None:
    ticks = [math.log(r) for r in _RATIO_TICKS if lo <= math.log(r) <= hi]
    if len(ticks) >= 2:
        ax.set_xticks(ticks, labels=[f"{math.exp(t):g}" for t in ticks])
