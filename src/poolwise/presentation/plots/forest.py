"""Forest plot: every group's interval under each pooling on one axis."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..._core.validation import check_ci, ci_columns
from ...analysis import shrinkage as compute
from ...families import registry
from ...study.fits import Fit
from ._common import COLORS, INK, LABELS, MUTED, interval_name, log_ticks, new_figure, styled, text

#: Groups per page (and the most a forest draws with one labelled row per group).
PER_PAGE = 40

_ORDER_WORDS = {
    "raw_rate": "highest raw rate first",
    "trials": "most trials first",
    "mean": "highest partial-pooling mean first",
    "name": "by name",
    "data": "in input order",
}


def _counts_labels(table, rows: np.ndarray) -> list[str]:
    pairs = zip(table["successes"].to_numpy()[rows], table["trials"].to_numpy()[rows], strict=True)
    names = table.index.to_numpy()[rows]
    return [f"{text(g, 28)}  ({int(y)}/{int(n)})" for g, (y, n) in zip(names, pairs, strict=True)]


def _estimate_labels(table, rows: np.ndarray) -> list[str]:
    pairs = zip(table["estimate"].to_numpy()[rows], table["std_error"].to_numpy()[rows], strict=True)
    names = table.index.to_numpy()[rows]
    return [f"{text(g, 28)}  ({y:.3g} ± {s:.3g})" for g, (y, s) in zip(names, pairs, strict=True)]


def _event_labels(table, rows: np.ndarray) -> list[str]:
    pairs = zip(table["events"].to_numpy()[rows], table["exposure"].to_numpy()[rows], strict=True)
    names = table.index.to_numpy()[rows]
    return [f"{text(g, 28)}  ({int(y)}/{e:.3g})" for g, (y, e) in zip(names, pairs, strict=True)]


@dataclass(frozen=True)
class _Terms:
    """How a family's forest names its rows and axes, and which observed value it marks."""

    labels: Callable  # (group table, row positions) -> "name  (the group's own data)"
    data: str  # the group's own data, as the y label shows it
    theta: Callable  # data -> what the x axis measures
    observed: str | None = None  # the column marked by a tick on each row
    observed_label: str = ""
    orders: dict[str, str] | None = None  # the order words that differ from _ORDER_WORDS


#: Each kind of data's terms (:attr:`~poolwise.families.registry.Family.data`).
_TERMS = {
    "binomial": _Terms(_counts_labels, "successes/trials", lambda data: "θ: success probability per trial"),
    "estimates": _Terms(
        _estimate_labels,
        "estimate ± standard error",
        lambda data: f"θ: effect, on the scale of {text(data.estimate_column, 30)}",
        "estimate",
        "observed estimate",
        {"raw_rate": "highest estimate first", "trials": "most precise (smallest standard error) first"},
    ),
    "rates": _Terms(
        _event_labels,
        "events/exposure",
        lambda data: (
            f"θ: rate (events per unit exposure: {text(data.events_column, 24)}"
            f"/{text(data.exposure_column, 24)})"
        ),
        "raw_rate",
        "raw rate y/E",
        {"trials": "most exposure first"},
    ),
}

#: Interval ends are clipped to a log axis this many times below the smallest rate drawn (and
#: above the largest): an HDI of a rate with a density unbounded at 0 reaches 1e-50.
_LOG_REACH = 30.0


def _rate_limits(tables: dict, ref, lb: str, ub: str) -> tuple[str, float, float]:
    """``(scale, left, right)`` of a forest of rates: log when the rates span decades.

    Only groups with exposure set the limits (one without has the population's, or the prior's,
    wide interval), with complete pooling's band; intervals beyond are clipped, with an arrow.
    """
    seen = ref["exposure"].to_numpy(float) > 0
    if not seen.any():  # nothing observed: every interval is the population's
        seen[:] = True
    parts = [t[seen] if len(t) == len(ref) and p != "complete" else t.iloc[:1] for p, t in tables.items()]
    means = np.concatenate([t["mean"].to_numpy(float) for t in parts])
    raw = ref["raw_rate"].to_numpy(float)[seen]
    lo = float(np.nanmin([t[lb].min() for t in parts]))
    hi = float(np.nanmax([t[ub].max() for t in parts]))
    if compute.log_rates(means):
        centres = np.concatenate([means, raw[raw > 0]])
        left = max(lo, float(centres.min()) / _LOG_REACH)
        right = min(hi, float(centres.max()) * _LOG_REACH)
        pad = (right / left) ** 0.04
        return "log", left / pad, right * pad
    pad = 0.04 * max(hi, 1e-300)
    return "linear", -pad, hi + pad


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

    For event counts in an exposure (the gamma-Poisson family) the rows are labelled with
    ``events/exposure``, a black tick marks the raw rate ``y/E``, and the x-axis is the rate, on a
    log scale when the rates span a factor of 10 or more. Groups without exposure do not set the
    axis (their intervals are the population's, or the prior's); an interval that runs past the
    axis ends in an arrowhead. Where a group's posterior mean may be infinite (no exposure, under
    priors that leave ``E[alpha / beta]`` infinite) its median is drawn instead, hollow.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        The fits to show; any subset of the three poolings.
    order : {"raw_rate", "trials", "mean", "name", "data"}
        Row order: highest raw rate ``y/n`` (estimate, ``y/E``) first, most trials (smallest
        standard error, most exposure) first, highest partial-pooling mean first, alphabetical, or
        the input order.
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
    kind, prob = check_ci(ci_kind, ci_prob)
    lb, ub = ci_columns(kind, prob)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be a whole number >= 1, got {per_page!r}")
    tables = {p: f.group_table(kind, prob) for p, f in found.items()}
    first = next(iter(found.values()))
    family = registry.get(first.family)
    terms = _TERMS[family.data]
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

    # One x-axis for every page: the extent of all groups' intervals.
    lows = [t[lb].min() for p, t in tables.items()]
    highs = [t[ub].max() for p, t in tables.items()]
    lo, hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    xscale = "linear"
    theta_scale = compute.scale(first)
    if theta_scale == "effect":  # no bounds to respect, and the estimates must show
        lo, hi = min(lo, float(ref["estimate"].min())), max(hi, float(ref["estimate"].max()))
        pad = 0.04 * max(hi - lo, 1e-12 + 1e-6 * abs(hi))
        left, right = lo - pad, hi + pad
    elif theta_scale == "rate":
        xscale, left, right = _rate_limits(tables, ref, lb, ub)
    else:
        pad = 0.04 * max(hi - lo, 0.05)
        left, right = max(lo - pad, -0.01), min(hi + pad, 1.01)
    ax.set_xscale(xscale)
    ax.set_xlim(left, right)

    def inside(values) -> np.ndarray:
        # On a log axis an interval may start at 0 (or 1e-50): draw it from the axis' edge.
        return np.clip(np.asarray(values, float), left, right)

    ypos = np.arange(m)[::-1].astype(float)  # first row at the top
    if band:
        c = tables["complete"].iloc[0]
        ax.axvspan(*inside([c[lb], c[ub]]), color=COLORS["complete"], alpha=0.16, lw=0, zorder=0)
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
    clipped = medians = False
    for p in lines:
        t = tables[p].iloc[rows]
        y = ypos + offsets[p]
        s = style[p]
        low, high = t[lb].to_numpy(float), t[ub].to_numpy(float)
        ax.hlines(y, inside(low), inside(high), color=COLORS[p], lw=s["lw"], alpha=s["alpha"], zorder=2)
        for out, edge, marker in ((low < left, left, "<"), (high > right, right, ">")):
            if out.any():  # the interval runs on past the axis
                clipped = True
                ax.plot(
                    np.full(int(out.sum()), edge),
                    y[out],
                    marker,
                    ms=4,
                    color=COLORS[p],
                    ls="none",
                    clip_on=False,
                )
        if s["ms"]:
            # Where the mean may be infinite (a rate with no exposure), the median, hollow.
            finite = compute.means_exist(found[p], "theta")[rows]
            centre = t["mean"].to_numpy(float)
            if not finite.all():
                medians = True
                centre = np.where(finite, centre, compute.medians(found[p], "theta")[rows])
            for keep, face in ((finite, COLORS[p]), (~finite, "white")):
                if keep.any():
                    ax.plot(
                        centre[keep],
                        y[keep],
                        "o",
                        ms=s["ms"],
                        color=COLORS[p],
                        mfc=face,
                        mec=COLORS[p] if face == "white" else "none" if overview else "white",
                        mew=1.0 if face == "white" else 0.5,
                        ls="none",
                        zorder=3,
                    )

    at_zero = False
    if terms.observed:  # the data themselves: one tick per row at the observed value
        observed = ref[terms.observed].to_numpy(float)[rows]
        if xscale == "log":  # a rate of 0 at the axis' left end
            at_zero = bool(np.any(observed <= 0))
            observed = np.where(observed > 0, observed, left)
        ax.plot(observed, ypos, "|", ms=5 if overview else 11, mew=1.2, color=INK, ls="none", zorder=4)
    labels = terms.labels(ref, rows)
    if overview:
        step = math.ceil(m / 36)
        shown = np.arange(0, m, step)
        ax.set_yticks(ypos[shown], labels=[labels[i] for i in shown], fontsize=7.5)
    else:
        ax.set_yticks(ypos, labels=labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.7, m - 0.3)
    ax.grid(axis="y", visible=False)
    if xscale == "log":
        log_ticks(ax.xaxis, left, right)

    what = interval_name(kind, prob)
    group = text(first.data.group_column, 30)
    ax.set_xlabel(
        f"{terms.theta(first.data)} — {what} and posterior mean" + (", log scale" if xscale == "log" else "")
    )
    ax.set_ylabel(f"{group} ({terms.data})")
    words = {**_ORDER_WORDS, **(terms.orders or {})}
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
            if family.data == "estimates" and p == "none" and not found["none"].model.priors["theta"].proper:
                z = float(special.ndtri(0.5 + prob / 2))
                label += f" (= estimate ± {z:.2f}·s)"
            handles.append(Line2D([], [], color=COLORS[p], lw=1.6, marker="o", ms=4.5, label=label))
    if terms.observed:
        label = terms.observed_label + (" (0 at the left end)" if at_zero else "")
        handles.append(Line2D([], [], color=INK, marker="|", ms=9, mew=1.2, ls="none", label=label))
    if band:
        handles.append(
            Patch(color=COLORS["complete"], alpha=0.35, lw=0, label=f"{LABELS['complete']} ({what})")
        )
    if medians:
        handles.append(
            Line2D(
                [],
                [],
                color=MUTED,
                marker="o",
                mfc="white",
                ms=4.5,
                ls="none",
                label="median (mean may be infinite)",
            )
        )
    if clipped:
        handles.append(
            Line2D([], [], color=MUTED, marker="<", ms=4, ls="none", label="interval runs on past the axis")
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
