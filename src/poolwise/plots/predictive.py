"""A new, unseen group: the predictive of its rate theta_new and of its successes y_new."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..fitting import Fit, _check_ci
from . import _compute as compute
from ._common import COLORS, INK, LABELS, MUTED, interval_name, new_figure, number, styled


@styled
def plot_theta_new(
    fits: Fit | Mapping[str, Fit],
    *,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Predictive density of a new group's success probability under each pooling.

    Partial pooling's ``theta_new ~ Beta(alpha, beta)`` averaged over the hyperparameters (filled,
    with its interval), no pooling's prior (dashed), and complete pooling's shared ``theta`` (a
    band, as in the forest plot).

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
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    cap = 0.0
    curves = {}
    for p in ("partial", "none"):
        if p in found:
            x, f, _ = compute.density(found[p], "theta_new")
            order = np.argsort(x)
            x, f = x[order], f[order]
            curves[p] = (x, f)
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
    ax.set_xlim(0, 1)
    ax.set_xlabel("θ_new: success probability of a new group (per trial)")
    ax.set_ylabel("predictive density (per unit of θ)")
    ax.set_title("A new group's success probability θ_new", fontsize=10.5)
    ax.legend(loc="center left", fontsize=8)
    return ax


@styled
def plot_y_new(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Predictive distribution of a new group's successes in ``trials`` trials, under each pooling.

    Exact mixtures of beta-binomials (see :func:`poolwise.plots.predictive_counts`): partial
    pooling as bars, the other poolings as outlines.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's.
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


@styled
def plot_new_group(
    fits: Fit | Mapping[str, Fit],
    *,
    trials: int | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
):
    """Draw a new, unseen group in one figure: ``theta_new``, and ``y_new`` for ``trials`` trials.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
    trials : int, optional
        Trials of the new group; by default the median group's.
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: :func:`plot_theta_new` and :func:`plot_y_new`.
    """
    fig, axes = new_figure((13.0, 4.4), 1, 2)
    plot_theta_new(fits, ci_kind=ci_kind, ci_prob=ci_prob, ax=axes[0, 0])
    plot_y_new(fits, trials=trials, ci_prob=ci_prob, ax=axes[0, 1])
    return fig
