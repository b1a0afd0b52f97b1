"""Forest plot: every group's interval under each pooling on one axis."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import special

from ..fitting import Fit, _check_ci, ci_columns
from . import _compute as compute
from ._common import COLORS, INK, LABELS, MUTED, interval_name, new_figure, styled, text

#: Groups per page (and the most a forest draws with one labelled row per group).
PER_PAGE = 40

_ORDER_WORDS = {
    "raw_rate": "highest raw rate first",
    "trials": "most trials first",
    "mean": "highest partial-pooling mean first",
    "name": "by name",
    "data": "in input order",
}
#: The same orders as the normal-normal family reads them (estimate for raw rate, 1/s for trials).
_ORDER_WORDS_NORMAL = {
    **_ORDER_WORDS,
    "raw_rate": "highest estimate first",
    "trials": "most precise (smallest standard error) first",
}


def _row_labels(table, rows: np.ndarray, normal: bool) -> list[str]:
    """``name  (y/n)`` for counts, ``name  (y ± s)`` for estimates: the group's own data."""
    names = table.index.to_numpy()[rows]
    if normal:
        pairs = zip(table["estimate"].to_numpy()[rows], table["std_error"].to_numpy()[rows], strict=True)
        return [f"{text(g, 28)}  ({y:.3g} ± {s:.3g})" for g, (y, s) in zip(names, pairs, strict=True)]
    pairs = zip(table["successes"].to_numpy()[rows], table["trials"].to_numpy()[rows], strict=True)
    return [f"{text(g, 28)}  ({int(y)}/{int(n)})" for g, (y, n) in zip(names, pairs, strict=True)]


@styled
def plot_forest(
    fits: Fit | Mapping[str, Fit],
    *,
    order: str = "raw_rate",
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    page: int | None = None,
    per_page: int = PER_PAGE,
    ax=None,
):
    """Forest plot of every group's posterior under no and partial pooling, complete pooling as a band.

    Like the seed's ``az.plot_forest([no_pooling, hierarchical])``: one row per group, the two
    poolings' intervals side by side (no pooling above, partial pooling below), and complete
    pooling's single interval as a band across all rows.

    For estimates with standard errors (the normal-normal family) the rows are labelled with the
    group's ``estimate ± standard error``, a black tick marks the observed estimate, and the
    x-axis is the effect's own scale. No pooling with its default flat prior is exactly the
    observed estimate ± z·s at the interval's level (z = 1.88 for 94%), as its legend entry says.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        The fits to show; any subset of the three poolings.
    order : {"raw_rate", "trials", "mean", "name", "data"}
        Row order: highest raw rate ``y/n`` (estimate) first, most trials (smallest standard error)
        first, highest partial-pooling mean first, alphabetical, or the input order.
    ci_kind, ci_prob : optional
        Interval kind (``"hdi"``, ``"eti"``) and probability (0.94 by default).
    page : int, optional
        Draw only the groups of this page (0-based) of ``per_page`` rows, in the chosen order, on
        an x-axis shared by all pages. See :func:`forest_pages`.
    per_page : int
        Rows per page; also the most groups drawn with one labelled row each.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized to the rows otherwise.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    With more than ``per_page`` groups and no ``page``, the plot becomes an overview: every group
    is still drawn, in order, but the two poolings share a row (no pooling as a wide pale bar,
    partial pooling as a thin dark line with its mean) and only every k-th row is labelled. Use
    :func:`forest_pages` for the labelled pages, or the report, which shows both.
    """
    found = compute.as_fits(fits)
    kind, prob = _check_ci(ci_kind, ci_prob)
    lb, ub = ci_columns(kind, prob)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be a whole number >= 1, got {per_page!r}")
    tables = {p: f.group_table(kind, prob) for p, f in found.items()}
    first = next(iter(found.values()))
    normal = compute.is_normal(first)
    ref = next(iter(tables.values()))
    means = tables["partial"]["mean"] if "partial" in tables else None
    rows = compute.order_groups(ref, order, means)
    total = rows.size
    n_pages = max(1, math.ceil(total / per_page))
    if page is not None:
        if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page < n_pages:
            raise ValueError(f"page must be a whole number in [0, {n_pages - 1}], got {page!r}")
        rows = rows[page * per_page : (page + 1) * per_page]
    overview = page is None and total > per_page
    m = rows.size

    lines = [p for p in ("none", "partial") if p in tables]
    band = "complete" in tables
    if ax is None:
        height = (
            min(12.0, 2.5 + 0.03 * m)
            if overview
            else max(3.0, 1.6 + 0.26 * m * (1 if len(lines) < 2 else 1.25))
        )
        _, axes = new_figure((9.0, height))
        ax = axes[0, 0]

    ypos = np.arange(m)[::-1].astype(float)  # first row at the top
    if band:
        c = tables["complete"].iloc[0]
        ax.axvspan(c[lb], c[ub], color=COLORS["complete"], alpha=0.16, lw=0, zorder=0)
        ax.axvline(c["mean"], color=COLORS["complete"], lw=1.2, zorder=1)
    offsets = {"none": 0.0, "partial": 0.0}
    if not overview and len(lines) == 2:
        offsets = {"none": 0.18, "partial": -0.18}
    style = {
        "none": {
            "lw": 6.0 if overview else 1.6,
            "alpha": 0.35 if overview else 1.0,
            "ms": 0 if overview else 4.5,
        },
        "partial": {"lw": 0.7 if overview else 1.6, "alpha": 0.9, "ms": 2.0 if overview else 4.5},
    }
    for p in lines:
        t = tables[p].iloc[rows]
        y = ypos + offsets[p]
        s = style[p]
        ax.hlines(y, t[lb], t[ub], color=COLORS[p], lw=s["lw"], alpha=s["alpha"], zorder=2)
        if s["ms"]:
            ax.plot(
                t["mean"],
                y,
                "o",
                ms=s["ms"],
                color=COLORS[p],
                mec="none" if overview else "white",
                mew=0.5,
                ls="none",
                zorder=3,
            )

    if normal:  # the data themselves: one tick per row at the observed estimate
        ax.plot(
            ref["estimate"].to_numpy()[rows],
            ypos,
            "|",
            ms=5 if overview else 11,
            mew=1.2,
            color=INK,
            ls="none",
            zorder=4,
        )
    labels = _row_labels(ref, rows, normal)
    if overview:
        step = math.ceil(m / 36)
        shown = np.arange(0, m, step)
        ax.set_yticks(ypos[shown], labels=[labels[i] for i in shown], fontsize=7.5)
    else:
        ax.set_yticks(ypos, labels=labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.7, m - 0.3)
    ax.grid(axis="y", visible=False)

    # One x-axis for every page: the extent of all groups' intervals.
    lows = [t[lb].min() for p, t in tables.items()]
    highs = [t[ub].max() for p, t in tables.items()]
    lo, hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    if normal:  # an effect scale: no bounds to respect, and the estimates must show
        lo, hi = min(lo, float(ref["estimate"].min())), max(hi, float(ref["estimate"].max()))
        pad = 0.04 * max(hi - lo, 1e-12 + 1e-6 * abs(hi))
        ax.set_xlim(lo - pad, hi + pad)
    else:
        pad = 0.04 * max(hi - lo, 0.05)
        ax.set_xlim(max(lo - pad, -0.01), min(hi + pad, 1.01))

    what = interval_name(kind, prob)
    group = text(first.data.group_column, 30)
    if normal:
        ax.set_xlabel(
            f"θ: effect, on the scale of {text(first.data.estimate_column, 30)} — {what} and posterior mean"
        )
        ax.set_ylabel(f"{group} (estimate ± standard error)")
    else:
        ax.set_xlabel(f"θ: success probability per trial — {what} and posterior mean")
        ax.set_ylabel(f"{group} (successes/trials)")
    words = _ORDER_WORDS_NORMAL if normal else _ORDER_WORDS
    which = " vs ".join(LABELS[p] for p in lines) or LABELS["complete"]
    title = f"θ per {group}: {which}"
    if overview:
        caption = f"{total} groups, {words[order]}; every {math.ceil(m / 36)}th labelled"
    elif page is not None:
        caption = f"groups {page * per_page + 1}–{page * per_page + m} of {total}, {words[order]}"
    else:
        caption = words[order]
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for p in lines:
        if overview and p == "none":
            handles.append(Line2D([], [], color=COLORS[p], lw=6, alpha=0.35, label=f"{LABELS[p]} ({what})"))
        else:
            label = LABELS[p]
            if normal and p == "none" and not found["none"].model.priors["theta"].proper:
                z = float(special.ndtri(0.5 + prob / 2))
                label += f" (= estimate ± {z:.2f}·s)"
            handles.append(Line2D([], [], color=COLORS[p], lw=1.6, marker="o", ms=4.5, label=label))
    if normal:
        handles.append(
            Line2D([], [], color=INK, marker="|", ms=9, mew=1.2, ls="none", label="observed estimate")
        )
    if band:
        handles.append(
            Patch(color=COLORS["complete"], alpha=0.35, lw=0, label=f"{LABELS['complete']} ({what})")
        )
    # Up to three entries fit on one line above the plot; more wrap to two columns.
    ncol = len(handles) if len(handles) <= 3 else 2
    lift = 13 * (math.ceil(len(handles) / ncol) - 1)
    ax.annotate(
        caption,
        (0.0, 1.0),
        xycoords="axes fraction",
        xytext=(0, 22 + lift),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=7.5,
        color=MUTED,
    )
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0, 1.0, 0.0),
        ncol=ncol,
        fontsize=8,
        borderaxespad=0.3,
        handlelength=1.6,
        columnspacing=1.2,
    )
    ax.set_title(title, fontsize=10.5, pad=35 + lift)
    return ax


def forest_pages(
    fits: Fit | Mapping[str, Fit],
    *,
    order: str = "raw_rate",
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    per_page: int = PER_PAGE,
) -> list:
    """Forest plots of all groups, ``per_page`` labelled rows per figure, on one shared x-axis.

    Parameters
    ----------
    fits, order, ci_kind, ci_prob, per_page
        As for :func:`plot_forest`.

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per page, in order.
    """
    found = compute.as_fits(fits)
    total = next(iter(found.values())).data.n_groups
    n_pages = max(1, math.ceil(total / per_page))
    return [
        plot_forest(found, order=order, ci_kind=ci_kind, ci_prob=ci_prob, page=i, per_page=per_page).figure
        for i in range(n_pages)
    ]
