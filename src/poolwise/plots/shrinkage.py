"""Shrinkage plot: raw rate y/n (or estimate) to partial-pooling posterior mean, with a shrinkage table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..fitting import Fit
from . import _compute as compute
from ._common import COLORS, FAINT, LABELS, MUTED, new_figure, number, styled, text

#: Most groups named next to their marker (the rest: the most-moved ones only).
LABEL_ALL = 12
#: Most rows of the table drawn beside the plot.
TABLE_ROWS = 20


def _sizes(trials: np.ndarray, top: float, biggest: float = 400.0) -> np.ndarray:
    """Marker area in points², growing with the square root of the trials (the standard error's scale).

    Proportional area would make a group with 5 trials invisible next to one with 300.
    """
    area = biggest * np.sqrt(np.asarray(trials, float) / max(top, 1.0))
    return np.clip(area, min(14.0, biggest), biggest)


@styled
def plot_shrinkage(
    fits: Fit | Mapping[str, Fit],
    *,
    labels: bool | int | None = None,
    table: bool | None = None,
    ax=None,
):
    """Shrinkage of every group: raw rate ``y/n`` to its partial-pooling posterior mean.

    Each group is an arrow from the diagonal (where its raw rate sits, no shrinkage) to its
    posterior mean under partial pooling, towards the population mean; marker area grows with the
    square root of the group's trials. Horizontal lines mark complete pooling's rate and the
    population mean ``E[mu]``. For estimates with standard errors (normal-normal), the arrow goes
    from the observed estimate ``y_i``, marker area is proportional to the precision ``1/s_i``
    (the square root of the information ``1/s_i^2``, as for trials), and the table's factor is
    ``E[s_i^2/(s_i^2 + tau^2) | y]`` (see :func:`shrinkage_table`).

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        Must contain the partial-pooling fit; complete pooling adds its line.
    labels : bool or int, optional
        Name the groups next to their markers: all (True), none (False), or the ``labels``
        groups moved furthest. Default: all up to 12 groups, else the 6 moved furthest.
    table : bool, optional
        Draw the shrinkage-factor table beside the plot (the 20 most-shrunk groups). Default:
        when the figure is new and there are at most 20 groups. The whole table is
        :func:`shrinkage_table`.
    ax : matplotlib.axes.Axes, optional
        Where to draw the plot (the table is then left out).

    Returns
    -------
    matplotlib.axes.Axes
        The plot's axes (the table, if drawn, is a second axes of the same figure).
    """
    found = compute.as_fits(fits)
    partial = compute.partial_fit(found, "the shrinkage plot")
    st = compute.shrinkage_table(found)
    n_groups = len(st)
    if table is None:
        table = ax is None and n_groups <= TABLE_ROWS
    normal = compute.is_normal(partial)
    if ax is None:
        if table:
            # Estimates' table has a wider "y ± s" column: a wider figure for it.
            fig, axes = new_figure((12.8 if normal else 11.5, 5.6), 1, 2, width_ratios=[1.15, 1.0])
            ax, tax = axes[0, 0], axes[0, 1]
        else:
            fig, axes = new_figure((7.6, 6.4))
            ax, tax = axes[0, 0], None
    else:
        tax = None

    raw = st["estimate" if normal else "raw_rate"].to_numpy(float)
    post = st["partial_mean"].to_numpy(float)
    # The information of a group: trials, or 1/s^2 for an estimate (what trials are to a rate).
    trials = 1.0 / st["std_error"].to_numpy(float) ** 2 if normal else st["trials"].to_numpy(float)
    seen = np.isfinite(raw)
    mu = float(partial.summary().loc["mu", "mean"])
    values = [raw[seen], post, [mu]]
    if "complete" in found:
        complete = float(found["complete"].summary().loc["theta", "mean"])
        values.append([complete])
    lo = min(float(np.min(v)) for v in values if len(v))
    hi = max(float(np.max(v)) for v in values if len(v))
    if normal:  # an effect scale, unbounded
        pad = 0.06 * max(hi - lo, 1e-12 + 1e-6 * abs(hi))
        lim = (lo - pad, hi + pad)
    else:
        pad = 0.06 * max(hi - lo, 0.05)
        lim = (max(lo - pad, -0.02), min(hi + pad, 1.02))

    diagonal = "no shrinkage (mean = estimate)" if normal else "no shrinkage (mean = y/n)"
    ax.plot(lim, lim, ls=(0, (2, 2)), color=FAINT, lw=1, zorder=1, label=diagonal)
    if "complete" in found:
        ax.axhline(
            complete,
            color=COLORS["complete"],
            lw=1.4,
            zorder=1,
            label=f"{LABELS['complete']}: {number(complete)}",
        )
    ax.axhline(
        mu, color=COLORS["partial"], lw=1.1, ls="--", zorder=1, label=f"population mean E[μ]: {number(mu)}"
    )
    for r, p in zip(raw[seen], post[seen], strict=True):
        if abs(p - r) > 1e-3 * (lim[1] - lim[0]):
            ax.annotate(
                "",
                xy=(r, p),
                xytext=(r, r),
                arrowprops={
                    "arrowstyle": "-|>,head_length=0.5,head_width=0.22",
                    "color": COLORS["partial"],
                    "alpha": 0.55,
                    "lw": 1.0,
                    "shrinkA": 0,
                    "shrinkB": 2,
                },
                zorder=2,
            )
    top = float(np.max(trials)) if trials.size else 1.0
    # Many groups: smaller markers, so that they overlap less.
    biggest = 400.0 * min(1.0, np.sqrt(30.0 / max(n_groups, 1)))
    sizes = _sizes(trials, top, biggest)
    ax.scatter(
        raw[seen],
        post[seen],
        s=sizes[seen],
        color=COLORS["partial"],
        alpha=0.85 if n_groups <= 30 else 0.6,
        edgecolor="white",
        linewidth=0.6,
        zorder=3,
        label=f"{LABELS['partial']} mean",
    )

    if labels is None:
        labels = True if n_groups <= LABEL_ALL else 6
    if labels is not False:
        moved = np.where(seen, np.abs(post - raw), -1.0)
        chosen = np.arange(n_groups) if labels is True else np.argsort(moved)[::-1][: int(labels)]
        placed: list[tuple[float, float, float]] = []  # (y, x where a label starts, where it ends)
        span = lim[1] - lim[0]
        for i in chosen:
            name = text(st.index[i], 24)
            # A label runs right of its marker, about 0.014 of the (square) axis per character.
            start, end = raw[i] - 0.03 * span, raw[i] + 0.014 * span * len(name)
            if not seen[i] or any(
                abs(post[i] - y) < 0.03 * span and start < right and left < end for y, left, right in placed
            ):
                continue  # no data, or another label on the same line
            placed.append((post[i], start, end))
            ax.annotate(
                name,
                (raw[i], post[i]),
                xytext=(np.sqrt(sizes[i]) / 2 + 4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color="#333333",
                zorder=4,
            )

    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_aspect("equal", adjustable="box")
    if normal:
        ax.set_xlabel(f"observed estimate ({text(partial.data.estimate_column, 30)})")
        ax.set_ylabel("posterior mean of θ (effect)")
    else:
        ax.set_xlabel("raw rate y/n (successes per trial)")
        ax.set_ylabel("posterior mean of θ (success probability)")
    group = text(partial.data.group_column, 30)
    ax.set_title(f"Shrinkage of each {group} under partial pooling (hierarchical)", fontsize=10.5)

    from matplotlib.lines import Line2D

    handles, names = ax.get_legend_handles_labels()
    if normal:  # the largest, median and smallest standard errors
        errors = st["std_error"].to_numpy(float)
        refs = {f"s = {e:.3g}": 1.0 / e**2 for e in np.quantile(errors, [1.0, 0.5, 0.0])}
    else:
        refs = {
            f"n = {n} trials": float(n)
            for n in sorted({max(1, int(top) // 10), max(1, int(top) // 2), max(1, int(top))})
        }
    for name, ref in refs.items():
        area = float(_sizes(np.array([ref]), top, biggest)[0])
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=np.sqrt(area),
                color=COLORS["partial"],
                alpha=0.6,
                mec="white",
            )
        )
        names.append(name)
    hidden = int((~seen).sum())
    if hidden:
        handles.append(Line2D([], [], ls="none"))
        names.append(f"{hidden} group{'s' if hidden > 1 else ''} with no trials not shown")
    ax.legend(handles, names, loc="lower right", fontsize=7.5, labelspacing=0.9, borderpad=0.6)

    if tax is not None:
        _draw_table(tax, st, normal)
    return ax


def _draw_table(tax, st, normal: bool) -> None:
    """Draw the shrinkage-factor table as a matplotlib table (most-shrunk groups first)."""
    tax.axis("off")
    rows = st.sort_values("shrinkage", ascending=False, kind="stable").head(TABLE_ROWS)
    if normal:  # the estimate is in "y ± s": no separate raw column, room for longer names
        cells = [
            [
                text(name, 24),
                f"{r.estimate:.3g} ± {r.std_error:.3g}",
                number(r.partial_mean),
                f"{r.shrinkage:.2f}",
            ]
            for name, r in rows.iterrows()
        ]
        columns = [text(st.index.name or "group", 24), "y ± s", "partial", "shrinkage B"]
        widths = [0.43, 0.23, 0.13, 0.21]
    else:
        cells = [
            [
                text(name, 22),
                f"{int(r.successes)}/{int(r.trials)}",
                number(r.raw_rate),
                number(r.partial_mean),
                f"{r.shrinkage:.2f}",
            ]
            for name, r in rows.iterrows()
        ]
        columns = [text(st.index.name or "group", 22), "y/n", "raw", "partial", "shrinkage B"]
        widths = None
    height = 0.052 * (len(cells) + 1)
    tab = tax.table(
        cellText=cells,
        colLabels=columns,
        cellLoc="right",
        colLoc="right",
        colWidths=widths,
        bbox=[0.0, 0.98 - height, 1.0, height],
    )
    tab.auto_set_font_size(False)
    tab.set_fontsize(8.5)
    for (r, c), cell in tab.get_celld().items():
        cell.set_edgecolor("#e3e3e3")
        cell.visible_edges = "B"
        if c == 0:
            cell.set_text_props(ha="left")
            cell._loc = "left"
        if r == 0:
            cell.set_text_props(weight="bold", color="#333333")
            cell.visible_edges = "B"
            cell.set_edgecolor("#9a9a9a")
    more = "" if len(st) <= TABLE_ROWS else f" ({TABLE_ROWS} most shrunk of {len(st)})"
    formula = "E[s²/(s²+τ²) | y]" if normal else "E[κ/(κ+n) | y]"
    tax.set_title(f"Shrinkage factor B = {formula}{more}", fontsize=10.5)
    tax.text(
        0.0,
        0.95 - height,
        "B = the weight of the population mean in a group's estimate:\n"
        "0 = its own data only (no pooling), 1 = the population only (complete pooling).",
        transform=tax.transAxes,
        fontsize=8,
        color=MUTED,
        va="top",
    )
