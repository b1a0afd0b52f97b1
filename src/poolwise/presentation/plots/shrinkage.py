"""Shrinkage plot: raw rate y/n (estimate, y/E) to partial-pooling posterior mean, with a shrinkage table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from ...analysis import shrinkage as compute
from ...families import registry
from ...study.fits import Fit
from ._common import COLORS, FAINT, LABELS, MUTED, log_ticks, new_figure, number, styled, text

#: Most groups named next to their marker (the rest: the most-moved ones only).
LABEL_ALL = 12
#: Most rows of the table drawn beside the plot.
TABLE_ROWS = 20


def _sizes(trials: np.ndarray, top: float, biggest: float = 400.0) -> np.ndarray:
    """Marker area in points², growing with the square root of the trials (the standard error's scale).

    Proportional area would make a group with 5 trials invisible next to one with 300.
    """
    area = biggest * np.sqrt(np.asarray(trials, float) / (top if top > 0 else 1.0))
    return np.clip(area, min(14.0, biggest), biggest)


def _count_refs(st, top: float, data) -> dict[str, float]:
    """Marker legend for trials: a tenth, half and all of the most trials."""
    return {
        f"n = {n} trials": float(n)
        for n in sorted({max(1, int(top) // 10), max(1, int(top) // 2), max(1, int(top))})
    }


def _error_refs(st, top: float, data) -> dict[str, float]:
    """Marker legend for estimates: the largest, median and smallest standard errors."""
    errors = st["std_error"].to_numpy(float)
    return {f"s = {e:.3g}": 1.0 / e**2 for e in np.quantile(errors, [1.0, 0.5, 0.0])}


def _exposure_refs(st, top: float, data) -> dict[str, float]:
    """Marker legend for exposures: a tenth, half and all of the largest, to two significant figures."""
    rounded = sorted({float(f"{top * k:.2g}") for k in (0.1, 0.5, 1.0)} - {0.0})
    unit = text(data.exposure_column, 20)  # the data's unit of exposure
    return {f"E = {e:g} {unit}": e for e in rounded}


def _population_mean(fit: Fit) -> tuple[str, float]:
    return "population mean E[μ]", float(fit.summary().loc["mu", "mean"])


def _population_logit(fit: Fit) -> tuple[str, float]:
    # mu is the mean log-odds: the population's median probability is expit(mu).
    return "population median expit(μ)", float(special.expit(compute.medians(fit, "mu")[0]))


def _population_rate(fit: Fit) -> tuple[str, float]:
    # E[mu] = E[alpha / beta] may be infinite (the default priors): then its median.
    how, value = compute.centre(fit, "mu", float(fit.summary().loc["mu", "mean"]))
    return ("population mean rate E[μ]" if how == "mean" else "population mean rate μ (median)"), value


def _count_cells(r) -> list[str]:
    return [f"{int(r.successes)}/{int(r.trials)}", number(r.raw_rate)]


def _event_cells(r) -> list[str]:
    return [f"{int(r.events)}/{r.exposure:.3g}", number(r.raw_rate)]


def _estimate_cells(r) -> list[str]:
    return [f"{r.estimate:.3g} ± {r.std_error:.3g}"]


@dataclass(frozen=True)
class _Terms:
    """What a family's shrinkage figure draws and writes."""

    raw: str  # the column an arrow starts from
    information: Callable  # shrinkage table -> a group's data (marker area grows as its square root)
    refs: Callable  # (table, largest information, data) -> marker legend: label -> information
    population: Callable  # partial fit -> (label, value) of the population's line
    xlabel: Callable  # data -> x label
    ylabel: str
    diagonal: str
    empty: str  # a group with no data, in the "not shown" note
    formula: str
    cells: Callable  # a table row -> the cells between its name and its partial mean
    columns: tuple[str, ...]
    widths: tuple[float, ...] | None = None
    name_limit: int = 22
    width: float = 11.5  # of a new figure with the table


_COUNTS = _Terms(
    "raw_rate",
    lambda st: st["trials"].to_numpy(float),
    _count_refs,
    _population_mean,
    lambda data: "raw rate y/n (successes per trial)",
    "posterior mean of θ (success probability)",
    "no shrinkage (mean = y/n)",
    "trials",
    "E[κ/(κ+n) | y]",
    _count_cells,
    ("y/n", "raw"),
)
#: Each kind of data's terms (:attr:`~poolwise.families.registry.Family.data`).
_TERMS = {
    "binomial": _COUNTS,
    "estimates": _Terms(
        "estimate",
        # The information 1/s^2 is to an estimate what trials are to a rate.
        lambda st: 1.0 / st["std_error"].to_numpy(float) ** 2,
        _error_refs,
        _population_mean,
        lambda data: f"observed estimate ({text(data.estimate_column, 30)})",
        "posterior mean of θ (effect)",
        "no shrinkage (mean = estimate)",
        "standard errors",
        "E[s²/(s²+τ²) | y]",
        _estimate_cells,
        ("y ± s",),
        # The estimate is in "y ± s": no separate raw column, room for longer names.
        (0.43, 0.23, 0.13, 0.21),
        24,
        12.8,
    ),
    "rates": _Terms(
        "raw_rate",
        lambda st: st["exposure"].to_numpy(float),
        _exposure_refs,
        _population_rate,
        lambda data: (
            f"raw rate y/E ({text(data.events_column, 24)} per unit of {text(data.exposure_column, 24)})"
        ),
        "posterior mean of θ (rate)",
        "no shrinkage (mean = y/E)",
        "exposure",
        "E[β/(β+E) | y]",
        _event_cells,
        ("y/E", "raw"),
    ),
}


@styled
def plot_shrinkage(
    fits: Fit | Mapping[str, Fit],
    *,
    labels: bool | int | None = None,
    table: bool | None = None,
    ax=None,
):
    """Draw the shrinkage of every group: raw rate ``y/n`` to its partial-pooling posterior mean.

    Each group is an arrow from the diagonal (where its raw rate sits, no shrinkage) to its
    posterior mean under partial pooling, towards the population mean; marker area grows with the
    square root of the group's trials. Horizontal lines mark complete pooling's rate and the
    population mean ``E[mu]``. For estimates with standard errors (normal-normal), the arrow goes
    from the observed estimate ``y_i``, marker area is proportional to the precision ``1/s_i``
    (the square root of the information ``1/s_i^2``, as for trials), and the table's factor is
    ``E[s_i^2/(s_i^2 + tau^2) | y]`` (see :func:`shrinkage_table`). For event counts
    (gamma-Poisson), the arrow goes from the raw rate ``y_i/E_i``, marker area grows with the
    square root of the exposure, the table's factor is ``E[beta/(beta + E_i) | y]``, both axes
    are logarithmic when the rates span a factor of 10 or more (and none is 0), and the
    population's line is the median of ``mu = alpha/beta`` when its mean may be infinite.

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
    family = registry.get(partial.family)
    terms = _TERMS[family.data]
    # A probability theta whose mu is unconstrained: mu is a mean log-odds, not a probability.
    if (family.links["theta"], family.links["mu"]) == ("logit", "identity"):
        terms = replace(terms, population=_population_logit)
    if ax is None:
        if table:
            fig, axes = new_figure((terms.width, 5.6), 1, 2, width_ratios=[1.15, 1.0])
            ax, tax = axes[0, 0], axes[0, 1]
        else:
            fig, axes = new_figure((7.6, 6.4))
            ax, tax = axes[0, 0], None
    else:
        tax = None

    raw = st[terms.raw].to_numpy(float)
    post = st["partial_mean"].to_numpy(float)
    information = terms.information(st)
    seen = np.isfinite(raw)
    population, mu = terms.population(partial)
    values = [raw[seen], post[seen], [mu]]
    if "complete" in found:
        complete = float(found["complete"].summary().loc["theta", "mean"])
        values.append([complete])
    lo = min(float(np.min(v)) for v in values if len(v))
    hi = max(float(np.max(v)) for v in values if len(v))
    theta_scale = compute.scale(partial)
    # Rates spanning decades on log axes (arrows then show shrinkage by a factor); the
    # diagonal stays the line of no shrinkage.
    log = theta_scale == "rate" and compute.log_rates(np.concatenate(values))
    if log:
        pad = (hi / lo) ** 0.06
        lim = (lo / pad, hi * pad)
    elif theta_scale == "effect":  # unbounded
        pad = 0.06 * max(hi - lo, 1e-12 + 1e-6 * abs(hi))
        lim = (lo - pad, hi + pad)
    elif theta_scale == "rate":  # from 0
        pad = 0.06 * max(hi - lo, 1e-300)
        lim = (max(lo - pad, -0.02 * hi), hi + pad)
    else:
        pad = 0.06 * max(hi - lo, 0.05)
        lim = (max(lo - pad, -0.02), min(hi + pad, 1.02))

    def place(x):
        # Where a value sits along the (square) axis: spacing is judged there.
        return np.log10(x) if log else np.asarray(x, float)

    span = float(place(lim[1]) - place(lim[0]))
    ax.plot(lim, lim, ls=(0, (2, 2)), color=FAINT, lw=1, zorder=1, label=terms.diagonal)
    if "complete" in found:
        ax.axhline(
            complete,
            color=COLORS["complete"],
            lw=1.4,
            zorder=1,
            label=f"{LABELS['complete']}: {number(complete)}",
        )
    ax.axhline(mu, color=COLORS["partial"], lw=1.1, ls="--", zorder=1, label=f"{population}: {number(mu)}")
    for r, p in zip(raw[seen], post[seen], strict=True):
        if abs(place(p) - place(r)) > 1e-3 * span:
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
    top = float(np.max(information)) if information.size else 1.0
    # Many groups: smaller markers, so that they overlap less.
    biggest = 400.0 * min(1.0, np.sqrt(30.0 / max(n_groups, 1)))
    sizes = _sizes(information, top, biggest)
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
        with np.errstate(divide="ignore", invalid="ignore"):
            moved = np.where(seen, np.abs(place(post) - place(raw)), -1.0)
        chosen = np.arange(n_groups) if labels is True else np.argsort(moved)[::-1][: int(labels)]
        placed: list[tuple[float, float, float]] = []  # (y, x where a label starts, where it ends)
        for i in chosen:
            name = text(st.index[i], 24)
            if not seen[i]:
                continue  # no data: not drawn
            x, y = float(place(raw[i])), float(place(post[i]))
            # A label runs right of its marker, about 0.014 of the (square) axis per character.
            start, end = x - 0.03 * span, x + 0.014 * span * len(name)
            if any(
                abs(y - other) < 0.03 * span and start < right and left < end for other, left, right in placed
            ):
                continue  # another label on the same line
            placed.append((y, start, end))
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

    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_ticks(ax.xaxis, *lim)
        log_ticks(ax.yaxis, *lim)
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(terms.xlabel(partial.data) + (", log scale" if log else ""))
    ax.set_ylabel(terms.ylabel + (", log scale" if log else ""))
    group = text(partial.data.group_column, 30)
    ax.set_title(f"Shrinkage of each {group} under partial pooling (hierarchical)", fontsize=10.5)

    from matplotlib.lines import Line2D

    handles, names = ax.get_legend_handles_labels()
    for name, ref in terms.refs(st, top, partial.data).items():
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
        names.append(f"{hidden} group{'s' if hidden > 1 else ''} with no {terms.empty} not shown")
    # Where the markers and lines leave room: shrinkage pulls the highest raw rates into the lower
    # right, where a fixed legend would hide them. Backed, since a label may still run under it.
    ax.legend(
        handles,
        names,
        loc="best",
        fontsize=7.5,
        labelspacing=0.9,
        borderpad=0.6,
        frameon=True,
        facecolor="white",
        edgecolor="none",
        framealpha=0.85,
    )

    if tax is not None:
        _draw_table(tax, st, terms, partial)
    return ax


def _draw_table(tax, st, terms: _Terms, partial: Fit) -> None:
    """Draw the shrinkage-factor table as a matplotlib table (most-shrunk groups first)."""
    tax.axis("off")
    rows = st.sort_values("shrinkage", ascending=False, kind="stable").head(TABLE_ROWS)
    # A group whose mean may be infinite (a rate with no exposure) shows its median, marked so.
    finite = dict(zip(st.index, compute.means_exist(partial, "theta"), strict=True))
    medians = (
        dict(zip(st.index, compute.medians(partial, "theta"), strict=True))
        if not all(finite.values())
        else {}
    )
    cells = [
        [
            text(name, terms.name_limit),
            *terms.cells(r),
            number(r.partial_mean) if finite[name] else f"{number(medians[name])} (median)",
            f"{r.shrinkage:.2f}",
        ]
        for name, r in rows.iterrows()
    ]
    columns = [text(st.index.name or "group", terms.name_limit), *terms.columns, "partial", "shrinkage B"]
    widths = list(terms.widths) if terms.widths else None
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
    tax.set_title(f"Shrinkage factor B = {terms.formula}{more}", fontsize=10.5)
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
