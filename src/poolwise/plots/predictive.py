"""A new, unseen group: the predictive of its rate (effect) theta_new and of its count (estimate) y_new."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..fitting import Fit, _check_ci
from . import _compute as compute
from ._common import COLORS, INK, LABELS, MUTED, interval_name, new_figure, number, styled

_NOTHING = (
    "no pooling with a flat prior on theta predicts no proper new group, and there is no other "
    "pooling to draw; pass a FitSet with partial or complete pooling"
)


@styled
def plot_theta_new(
    fits: Fit | Mapping[str, Fit],
    *,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Predictive density of a new group's success probability (effect) under each pooling.

    Partial pooling's ``theta_new ~ Beta(alpha, beta)`` averaged over the hyperparameters (filled,
    with its interval), no pooling's prior (dashed), and complete pooling's shared ``theta`` (a
    band, as in the forest plot). For the normal-normal family, ``theta_new ~ N(mu, tau^2)`` on
    the effect's scale; no pooling with its default flat prior predicts nothing proper, and is
    left out with a note in the legend.

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
    kind, prob = _check_ci(ci_kind, ci_prob)
    what = interval_name(kind, prob)
    normal = compute.is_normal(next(iter(found.values())))
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    cap = 0.0
    curves = {}
    improper = normal and "none" in found and not found["none"].model.priors["theta"].proper
    window: list[float] = []  # the effect scale's extent (normal-normal)
    for p in ("partial", "none"):
        if p in found and not (p == "none" and improper):
            x, f, _ = compute.density(found[p], "theta_new")
            order = np.argsort(x)
            x, f = x[order], f[order]
            curves[p] = (x, f)
            if normal:  # smooth and bounded: the peak sets the scale, the central 99% the axis
                cap = max(cap, float(f.max()))
                window += compute.mass_window(x, f, 0.005, 0.995)
                continue
            # Scale the axis to the body of the density: it may be unbounded at 0 or 1, and
            # mass piled at an edge (SpaceX: beta < 1 is plausible) must not flatten the rest.
            lo, hi = compute.mass_window(x, f, 0.05, 0.80)
            central = (x >= lo) & (x <= hi)
            inner = central & (x >= 0.01) & (x <= 0.99)
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
    if "partial" in curves:
        x, f = curves["partial"]
        s = found["partial"].new_group(kind, prob).summary
        lb, ub = float(s.iloc[2]), float(s.iloc[3])
        shown = np.minimum(f, cap * 1.05)
        ax.plot(x, shown, color=COLORS["partial"], lw=1.8, label=LABELS["partial"])
        ax.fill_between(x, 0, shown, where=(x >= lb) & (x <= ub), color=COLORS["partial"], alpha=0.18, lw=0)
        ax.vlines(s["mean"], 0, min(float(np.interp(s["mean"], x, f)), cap), color=INK, lw=1.1, ls="--")
        ax.text(
            0.03,
            0.95,
            f"partial pooling\nmean {number(s['mean'])}, sd {number(s['sd'])}\n"
            f"{what} [{number(lb)}, {number(ub)}]",
            transform=ax.transAxes,
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
    if normal:
        if not window:
            raise ValueError(_NOTHING)
        lo, hi = min(window), max(window)
        ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_xlabel("θ_new: effect of a new group")
        ax.set_title("A new group's effect θ_new", fontsize=10.5)
    else:
        ax.set_xlim(0, 1)
        ax.set_xlabel("θ_new: success probability of a new group (per trial)")
        ax.set_title("A new group's success probability θ_new", fontsize=10.5)
    ax.set_ylabel("predictive density (per unit of θ)")
    handles, names = _legend_entries(ax, improper)
    if normal:  # on the effect scale the complete-pooling band may run under the legend: back it
        ax.legend(
            handles, names, loc="upper right", fontsize=8, frameon=True, facecolor="white", edgecolor="none"
        )
    else:
        ax.legend(handles, names, loc="center left", fontsize=8)
    return ax


def _legend_entries(ax, skipped: bool) -> tuple[list, list]:
    """Return the axes' legend entries, with a note when no pooling was left out (its flat prior)."""
    handles, names = ax.get_legend_handles_labels()
    if skipped:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], ls="none"))
        names.append(f"{LABELS['none']}: not drawn (flat prior,\nno proper prediction)")
    return handles, names


@styled
def plot_y_new(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    std_error: float | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Predictive distribution of a new group's successes in ``trials`` trials, under each pooling.

    Exact mixtures of beta-binomials (see :func:`poolwise.plots.predictive_counts`): partial
    pooling as bars, the other poolings as outlines.

    For the normal-normal family, the predictive density of a new group's *estimate* measured
    with standard error ``std_error``, ``y_new ~ N(theta_new, s^2)``: an exact mixture of normals
    (see :func:`poolwise.plots._compute.new_estimate`), partial pooling filled, complete pooling
    solid, no pooling dashed (left out, with a note, under its default flat prior).

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's (binomial counts only).
    std_error : float, optional
        Standard error of the new estimate; by default the median study's (normal-normal only).
    ci_prob : float, optional
        Probability of the equal-tailed interval written on the plot (0.94 by default).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    found = compute.as_fits(fits)
    _, prob = _check_ci(None, ci_prob)
    first = next(iter(found.values()))
    if compute.is_normal(first):
        if trials is not None:
            raise ValueError("trials= is for binomial counts; give a new estimate's std_error= instead")
        s = compute.default_std_error(first) if std_error is None else std_error
        return _y_new_normal(found, s, prob, ax)
    if std_error is not None:
        raise ValueError("std_error= is for estimates (normal-normal); give a new group's trials= instead")
    n = compute.default_trials(first) if trials is None else trials
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


def _y_new_normal(found: dict[str, Fit], s: float, prob: float, ax):
    """:func:`plot_y_new` for estimates: the predictive density of a new estimate with error ``s``."""
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
    handles, names = _legend_entries(ax, skipped)
    ax.legend(handles, names, loc="upper right", fontsize=8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.45 * top)
    ax.set_xlabel(f"y_new: a new group's estimate, standard error s = {number(s)}")
    ax.set_ylabel("predictive density (per unit of y)")
    ax.set_title(f"A new group's estimate, measured with s = {number(s)}", fontsize=10.5)
    return ax


@styled
def plot_new_group(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    std_error: float | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
):
    """Draw a new, unseen group in one figure: ``theta_new``, and ``y_new`` for ``trials`` trials.

    For the normal-normal family, ``theta_new`` and a new estimate with standard error
    ``std_error`` (see :func:`plot_y_new`).

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's (binomial counts only).
    std_error : float, optional
        Standard error of the new estimate; by default the median study's (normal-normal only).
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: :func:`plot_theta_new` and :func:`plot_y_new`.
    """
    fig, axes = new_figure((13.0, 4.4), 1, 2)
    plot_theta_new(fits, ci_kind=ci_kind, ci_prob=ci_prob, ax=axes[0, 0])
    plot_y_new(fits, trials=trials, std_error=std_error, ci_prob=ci_prob, ax=axes[0, 1])
    return fig
