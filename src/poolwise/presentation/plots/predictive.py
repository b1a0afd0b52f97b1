"""A new, unseen group: the predictive of its theta_new and of its data y_new (count, estimate, events)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..._core.validation import check_ci
from ...analysis import shrinkage as compute
from ...families import registry
from ...study.fits import Fit
from ._common import COLORS, INK, LABELS, MUTED, interval_name, new_figure, number, styled, text

_NOTHING = (
    "no pooling with an improper (flat, or Jeffreys') prior on theta predicts no proper new group, and "
    "there is no other pooling to draw; pass a FitSet with partial or complete pooling"
)


#: How a new group's theta is drawn on each family's scale: axis label, title, and which side
#: of the axes the numbers and the legend take (the other side from where the density piles up:
#: a rate's often at 0).
_THETA_NEW = {
    "probability": ("θ_new: success probability of a new group (per trial)", "success probability", "left"),
    "effect": ("θ_new: effect of a new group", "effect", "left"),
    "rate": ("θ_new: rate of a new group (events per unit exposure)", "rate", "right"),
}


def _improper(found: dict[str, Fit]) -> bool:
    """Whether no pooling is there with an improper prior on theta: it predicts nothing proper."""
    return "none" in found and not found["none"].model.priors["theta"].proper


@styled
def plot_theta_new(
    fits: Fit | Mapping[str, Fit],
    *,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Draw the predictive density of a new group's success probability (effect, rate) under each pooling.

    Partial pooling's ``theta_new ~ Beta(alpha, beta)`` averaged over the hyperparameters (filled,
    with its interval), no pooling's prior (dashed), and complete pooling's shared ``theta`` (a
    band, as in the forest plot). For the normal-normal family, ``theta_new ~ N(mu, tau^2)`` on
    the effect's scale; for the gamma-Poisson family, ``theta_new ~ Gamma(alpha, beta)``, a rate,
    summarised by its median (its mean, that of ``mu = alpha / beta``, may be infinite). No
    pooling with an improper prior (normal-normal's flat prior, gamma-Poisson's Jeffreys prior)
    predicts nothing proper, and is left out with a note in the legend.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    found = compute.as_fits(fits)
    kind, prob = check_ci(ci_kind, ci_prob)
    what = interval_name(kind, prob)
    first = next(iter(found.values()))
    theta_scale = compute.scale(first)
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    cap = 0.0
    curves = {}
    improper = _improper(found)
    window: list[float] = []  # the axis' extent (effects, rates)
    for p in ("partial", "none"):
        if p in found and not (p == "none" and improper):
            x, f, _ = compute.density(found[p], "theta_new")
            order = np.argsort(x)
            x, f = x[order], f[order]
            curves[p] = (x, f)
            if (
                theta_scale == "effect"
            ):  # smooth and bounded: the peak sets the scale, the central 99% the axis
                cap = max(cap, float(f.max()))
                window += compute.mass_window(x, f, 0.005, 0.995)
                continue
            # Scale the axis to the body of the density: it may be unbounded at 0 (or 1), and
            # mass piled at an edge (SpaceX: beta < 1 is plausible) must not flatten the rest.
            lo, hi = compute.mass_window(x, f, 0.05, 0.80)
            if theta_scale == "rate":
                # From 0 to the 99% quantile: a rate's tail may be too heavy for a mean. No
                # pooling's prior is often vague (its quantiles far out): it does not set the axis
                # when another pooling is drawn.
                if p == "partial" or len(found) == 1:
                    window.append(compute.mass_window(x, f, 0.0, 0.99)[1])
                edge = (0.01 * window[0] if window else 0.0, np.inf)
            else:
                edge = (0.01, 0.99)
            central = (x >= lo) & (x <= hi)
            inner = central & (x >= edge[0]) & (x <= edge[1])
            body = f[inner] if inner.any() else f[central]
            if body.size:
                cap = max(cap, float(body.max()))
    cap = 1.35 * cap if cap > 0 else 1.0
    if "complete" in found:
        c = found["complete"].new_group(kind, prob).summary
        window += [float(c.iloc[2]), float(c.iloc[3])]
        ax.axvspan(
            c.iloc[2],
            c.iloc[3],
            color=COLORS["complete"],
            alpha=0.2,
            lw=0,
            label=f"{LABELS['complete']} ({what})",
        )
        ax.axvline(c["mean"], color=COLORS["complete"], lw=1.2)
    if "none" in curves:
        x, f = curves["none"]
        ax.plot(
            x,
            np.minimum(f, cap * 1.05),
            color=COLORS["none"],
            lw=1.4,
            ls="--",
            label=f"{LABELS['none']}: the prior",
        )
    xlabel, noun, side = _THETA_NEW[theta_scale]
    if "partial" in curves:
        x, f = curves["partial"]
        fit = found["partial"]
        s = fit.new_group(kind, prob).summary
        lb, ub = float(s.iloc[2]), float(s.iloc[3])
        shown = np.minimum(f, cap * 1.05)
        ax.plot(x, shown, color=COLORS["partial"], lw=1.8, label=LABELS["partial"])
        # The interval's ends as points of the shaded curve: upright edges, not a slant.
        ends = np.array([v for v in (lb, ub) if x[0] < v < x[-1]])
        xs = np.sort(np.concatenate([x, ends]))
        fs = np.minimum(np.interp(xs, x, f), cap * 1.05)
        ax.fill_between(xs, 0, fs, where=(xs >= lb) & (xs <= ub), color=COLORS["partial"], alpha=0.18, lw=0)
        how, centre = compute.centre(fit, "theta_new", float(s["mean"]))
        ax.vlines(centre, 0, min(float(np.interp(centre, x, f)), cap), color=INK, lw=1.1, ls="--")
        # A mean and sd where they exist; else the median alone (no sd of an infinite mean).
        middle = (
            f"mean {number(centre)}, sd {number(s['sd'])}" if how == "mean" else f"median {number(centre)}"
        )
        ax.text(
            0.03 if side == "left" else 0.97,
            0.95,
            f"partial pooling\n{middle}\n{what} [{number(lb)}, {number(ub)}]",
            transform=ax.transAxes,
            ha=side,
            va="top",
            fontsize=9,
            linespacing=1.45,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#dddddd", "lw": 0.8},
        )
        for edge, where in ((0, "left"), (-1, "right")):
            if f[edge] > cap:
                ax.annotate(
                    "↑ off scale",
                    (x[edge], cap),
                    xytext=(4 if where == "left" else -4, -2),
                    textcoords="offset points",
                    ha=where,
                    va="top",
                    fontsize=7.5,
                    color=MUTED,
                )
    ax.set_ylim(0, cap)
    if theta_scale == "probability":
        ax.set_xlim(0, 1)
    elif not window:
        raise ValueError(_NOTHING)
    elif theta_scale == "rate":
        ax.set_xlim(0, 1.05 * max(window))
    else:
        lo, hi = min(window), max(window)
        ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.set_xlabel(xlabel)
    ax.set_title(f"A new group's {noun} θ_new", fontsize=10.5)
    ax.set_ylabel("predictive density (per unit of θ)")
    handles, names = _legend_entries(ax, improper and found["none"].model)
    if theta_scale == "probability":
        ax.legend(handles, names, loc="center left", fontsize=8)
    else:  # a band may run under the legend: back it
        ax.legend(
            handles,
            names,
            loc="upper right" if side == "left" else "center right",
            fontsize=8,
            frameon=True,
            facecolor="white",
            edgecolor="none",
        )
    return ax


def _legend_entries(ax, skipped) -> tuple[list, list]:
    """Return the axes' legend entries, with a note when no pooling was left out (its improper prior).

    ``skipped`` is no pooling's model when it was left out (its prior named in the note), else False.
    """
    handles, names = ax.get_legend_handles_labels()
    if skipped:
        from matplotlib.lines import Line2D

        prior = skipped.priors["theta"]
        # Gamma(1/2, 0) is Jeffreys' prior for a Poisson rate; Flat() the normal mean's flat prior.
        kind = (
            "Jeffreys' prior"
            if (getattr(prior, "alpha", None), getattr(prior, "beta", None)) == (0.5, 0)
            else ("flat prior" if str(prior) == "Flat()" else "improper prior")
        )
        handles.append(Line2D([], [], ls="none"))
        names.append(f"{LABELS['none']}: not drawn ({kind},\nno proper prediction)")
    return handles, names


@styled
def plot_y_new(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    std_error: float | None = None,
    exposure: float | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Draw the predictive distribution of a new group's successes in ``trials`` trials, under each pooling.

    Exact mixtures of beta-binomials (see :func:`poolwise.plots.predictive_counts`): partial
    pooling as bars, the other poolings as outlines.

    For the normal-normal family, the predictive density of a new group's *estimate* measured
    with standard error ``std_error``, ``y_new ~ N(theta_new, s^2)``: an exact mixture of normals
    (see :func:`poolwise.analysis.shrinkage.new_estimate`), partial pooling filled, complete pooling
    solid, no pooling dashed (left out, with a note, under its default flat prior).

    For the gamma-Poisson family, a new group's *events* in ``exposure``,
    ``y_new ~ Poisson(E theta_new)``: exact mixtures of negative binomials (see
    :func:`poolwise.analysis.shrinkage.predictive_events`), drawn to their 99% quantile, partial
    pooling as bars, summarised by median and equal-tailed interval (the mean may be infinite);
    no pooling is left out, with a note, under its improper Jeffreys prior.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's (binomial counts only).
    std_error : float, optional
        Standard error of the new estimate; by default the median study's (normal-normal only).
    exposure : float, optional
        Exposure of the new group; by default the median group's (gamma-Poisson only).
    ci_prob : float, optional
        Probability of the equal-tailed interval written on the plot (0.94 by default).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    found = compute.as_fits(fits)
    _, prob = check_ci(None, ci_prob)
    first = next(iter(found.values()))
    family = registry.get(first.family)
    keyword = family.roles[1]  # the column that sizes a group's data: trials, std_error, exposure
    what, draw = _NEW_DATA[family.data]
    given = {"trials": trials, "std_error": std_error, "exposure": exposure}
    for name, value in given.items():
        if value is not None and name != keyword:
            raise ValueError(
                f"{name}= does not apply to the {first.family} family; give {what} {keyword}= instead"
            )
    return draw(found, given[keyword], prob, ax)


def _y_new_counts(found: dict[str, Fit], trials: int | None, prob: float, ax):
    """:func:`plot_y_new` for binomial counts: a new group's successes in ``trials`` trials."""
    n = compute.default_trials(next(iter(found.values()))) if trials is None else trials
    pmfs = {p: compute.predictive_counts(f, n) for p, f in found.items()}
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    k = np.arange(n + 1)
    if "partial" in pmfs:
        ax.bar(
            k,
            pmfs["partial"].to_numpy(),
            width=0.8 if n <= 60 else 1.0,
            color=COLORS["partial"],
            alpha=0.75,
            lw=0,
            label=LABELS["partial"],
        )
    for p, ls in (("complete", "-"), ("none", "--")):
        if p in pmfs:
            ax.step(k, pmfs[p].to_numpy(), where="mid", color=COLORS[p], lw=1.4, ls=ls, label=LABELS[p])
    if "partial" in pmfs:
        s = compute.count_summary(pmfs["partial"], prob)
        ax.text(
            0.03,
            0.95,
            f"partial pooling\nmean {s['mean']:.1f} of {n}, sd {s['sd']:.1f}\n"
            f"{prob * 100:.10g}% equal-tailed [{s['lb']}, {s['ub']}]",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            linespacing=1.45,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#dddddd", "lw": 0.8},
        )
    ax.set_xlim(-0.6, n + 0.6)
    top = max(float(p.max()) for p in pmfs.values())
    ax.set_ylim(0, top * 1.45)
    if n <= 20:
        ax.set_xticks(k)
    ax.set_xlabel(f"y_new: successes of a new group in n = {n} trials (count)")
    ax.set_ylabel("predictive probability P(y_new = k)")
    ax.set_title(f"A new group's successes in {n} trials", fontsize=10.5)
    ax.legend(loc="upper center", fontsize=8)
    return ax


def _y_new_events(found: dict[str, Fit], exposure: float | None, prob: float, ax):
    """:func:`plot_y_new` for event counts: a new group's events in ``exposure``."""
    first = next(iter(found.values()))
    e = compute.default_exposure(first) if exposure is None else exposure
    skipped = _improper(found)
    drawn = [p for p in ("partial", "complete", "none") if p in found and not (p == "none" and skipped)]
    if not drawn:
        raise ValueError(_NOTHING)
    # The axis runs to the 99% quantile (and beyond the interval's end) of partial and complete
    # pooling; no pooling's prior, often vague, is drawn on that axis without setting it.
    mass = max(0.99, 1 - (1 - prob) / 4)
    setting = [p for p in drawn if p != "none"] or drawn
    reach = max(len(compute.predictive_events(found[p], e, mass=mass)) - 1 for p in setting)
    pmfs = {p: compute.predictive_events(found[p], e, upto=reach) for p in drawn}
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    k = np.arange(reach + 1)
    if "partial" in pmfs:
        heights = pmfs["partial"].to_numpy()
        if reach <= 300:
            ax.bar(
                k,
                heights,
                width=0.8 if reach <= 60 else 1.0,
                color=COLORS["partial"],
                alpha=0.75,
                lw=0,
                label=LABELS["partial"],
            )
        else:  # bars thinner than a pixel: the same as a filled step
            ax.fill_between(
                k, heights, step="mid", color=COLORS["partial"], alpha=0.75, lw=0, label=LABELS["partial"]
            )
    for p, ls in (("complete", "-"), ("none", "--")):
        if p in pmfs:
            ax.step(k, pmfs[p].to_numpy(), where="mid", color=COLORS[p], lw=1.4, ls=ls, label=LABELS[p])
    unit = text(first.data.exposure_column, 24)
    if "partial" in pmfs:
        full = compute.predictive_events(found["partial"], e, mass=mass)
        s = compute.events_summary(full, prob)
        tail = pmfs["partial"].attrs["tail"]
        ax.text(
            0.97,
            0.95,
            f"partial pooling\nmedian {s['median']:.0f}, P(y_new = 0) = {number(s['p0'], 2)}\n"
            f"{prob * 100:.10g}% equal-tailed [{s['lb']:.0f}, {s['ub']:.0f}]\n"
            f"P(y_new > {reach}) = {number(tail, 2)}, beyond the axis",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
            linespacing=1.45,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#dddddd", "lw": 0.8},
        )
    ax.set_xlim(-0.6, reach + 0.6)
    top = max(float(p.max()) for p in pmfs.values())
    ax.set_ylim(0, top * 1.45)
    ax.set_xlabel(f"y_new: events of a new group in E = {e:.3g} {unit} (count)")
    ax.set_ylabel("predictive probability P(y_new = k)")
    ax.set_title(f"A new group's events in E = {e:.3g} {unit}", fontsize=10.5)
    handles, names = _legend_entries(ax, skipped and found["none"].model)
    ax.legend(handles, names, loc="center right", fontsize=8)
    return ax


def _y_new_normal(found: dict[str, Fit], std_error: float | None, prob: float, ax):
    """:func:`plot_y_new` for estimates: the predictive density of a new estimate with error ``s``."""
    s = compute.default_std_error(next(iter(found.values()))) if std_error is None else std_error
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    mixtures, skipped = {}, False
    for p in ("partial", "complete", "none"):
        if p in found:
            if p == "none" and not found[p].model.priors["theta"].proper:
                skipped = True  # a flat prior: an unseen group's effect is improper
                continue
            mixtures[p] = compute.new_estimate(found[p], s)[:3]
    if not mixtures:
        raise ValueError(_NOTHING)
    summaries = {p: compute.mixture_summary(*m, 0.998) for p, m in mixtures.items()}
    lo = min(t["lb"] for t in summaries.values())
    hi = max(t["ub"] for t in summaries.values())
    x = np.linspace(lo, hi, 501)
    top = 0.0
    for p, style in (("complete", "-"), ("none", "--"), ("partial", "-")):
        if p not in mixtures:
            continue
        f = compute.mixture_pdf(x, *mixtures[p])
        top = max(top, float(f.max()))
        ax.plot(x, f, color=COLORS[p], lw=1.8 if p == "partial" else 1.4, ls=style, label=LABELS[p])
        if p == "partial":
            ax.fill_between(x, 0, f, color=COLORS[p], alpha=0.18, lw=0)
    if "partial" in mixtures:
        t = compute.mixture_summary(*mixtures["partial"], prob)
        ax.text(
            0.03,
            0.95,
            f"partial pooling\nmean {number(t['mean'])}, sd {number(t['sd'])}\n"
            f"{prob * 100:.10g}% equal-tailed [{number(t['lb'])}, {number(t['ub'])}]",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            linespacing=1.45,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#dddddd", "lw": 0.8},
        )
    handles, names = _legend_entries(ax, skipped and found["none"].model)
    ax.legend(handles, names, loc="upper right", fontsize=8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.45 * top)
    ax.set_xlabel(f"y_new: a new group's estimate, standard error s = {number(s)}")
    ax.set_ylabel("predictive density (per unit of y)")
    ax.set_title(f"A new group's estimate, measured with s = {number(s)}", fontsize=10.5)
    return ax


#: Each kind of data's new data (:attr:`~poolwise.families.registry.Family.data`): whose it is (in
#: the message naming the keyword that sizes it), and the function drawing it.
_NEW_DATA = {
    "binomial": ("a new group's", _y_new_counts),
    "estimates": ("a new estimate's", _y_new_normal),
    "rates": ("a new group's", _y_new_events),
}


@styled
def plot_new_group(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    std_error: float | None = None,
    exposure: float | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
):
    """Draw a new, unseen group in one figure: ``theta_new``, and ``y_new`` for ``trials`` trials.

    For the normal-normal family, ``theta_new`` and a new estimate with standard error
    ``std_error``; for the gamma-Poisson family, ``theta_new`` (a rate) and the events in
    ``exposure`` (see :func:`plot_y_new`).

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's (binomial counts only).
    std_error : float, optional
        Standard error of the new estimate; by default the median study's (normal-normal only).
    exposure : float, optional
        Exposure of the new group; by default the median group's (gamma-Poisson only).
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: :func:`plot_theta_new` and :func:`plot_y_new`.
    """
    fig, axes = new_figure((13.0, 4.4), 1, 2)
    plot_theta_new(fits, ci_kind=ci_kind, ci_prob=ci_prob, ax=axes[0, 0])
    plot_y_new(fits, trials=trials, std_error=std_error, exposure=exposure, ci_prob=ci_prob, ax=axes[0, 1])
    return fig
