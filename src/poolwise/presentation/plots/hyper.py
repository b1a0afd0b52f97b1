"""Hyperparameter posterior: mu and its spread (kappa, tau, sigma, alpha) with mode, mean, interval; joint."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..._core.validation import check_ci
from ...analysis import shrinkage as compute
from ...families import registry
from ...families.display import SYMBOLS
from ...study.fits import Fit
from ._common import COLORS, INK, MUTED, interval_name, log_ticks, new_figure, number, styled

#: Probability masses of the joint plot's highest-density regions.
MASSES = (0.5, 0.8, 0.95, 0.99)

#: What a sampling engine's densities are drawn from.
_KDE = "kernel density of the draws"


@styled
def plot_hyper_density(
    fits: Fit | Mapping[str, Fit],
    name: str = "mu",
    *,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    ax=None,
):
    """Posterior density of one hyperparameter, with its mode, mean and interval written on it.

    As the seed analysis writes the MAP of ``mu`` on ``az.plot_posterior``, but exact: the mode is
    found on the exact density, not on a 1/100-wide histogram of draws. Where the posterior mean
    may be infinite (the gamma-Poisson population's mean rate ``mu = alpha / beta`` under the
    default priors), the median is drawn and written instead.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        Must contain the partial-pooling fit.
    name : {"mu", "kappa", "alpha", "beta"}, {"mu", "tau"}, {"mu", "sigma"} or {"mu", "alpha", "beta"}
        A hyperparameter of the fit's family (beta-binomial, normal-normal, logit-normal,
        gamma-Poisson).
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default), shaded under the curve.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    fit = compute.partial_fit(fits, f"the posterior of {name}")
    family = registry.get(fit.family)
    labels = family.display.hyper_axes
    if name not in labels:
        raise ValueError(f"name must be one of {', '.join(labels)} for the {fit.family} family, got {name!r}")
    kind, prob = check_ci(ci_kind, ci_prob)
    row = fit.summary(kind, prob).loc[name]
    lb, ub = float(row.iloc[2]), float(row.iloc[3])
    x, f, exact = compute.density(fit, name)
    order = np.argsort(x)
    x, f = x[order], f[order]
    mode = compute.mode(fit, name, x, f)
    if ax is None:
        _, axes = new_figure((6.4, 4.0))
        ax = axes[0, 0]
    color = COLORS["partial"]
    # Long tails: show the central 99.8% and the whole interval; but a mu sampled on the logit
    # scale is a probability, drawn on the whole of [0, 1].
    if name != "mu" or family.links["mu"] != "logit":
        # A tail too heavy for a mean (mu = alpha/beta of the Gamma) would take most of the axis
        # (pumps: 99.9% below 6, 95% below 1.9): its central 99% then.
        heavy = not compute.means_exist(fit, name).all()
        left, right = compute.mass_window(x, f, 0.001, 0.99 if heavy else 0.999)
        # From the last point at or below the window's start to the first at or above its end.
        first = max(int(np.searchsorted(x, min(left, lb), side="right")) - 1, 0)
        last = int(np.searchsorted(x, max(right, ub), side="left")) + 1
        x, f = x[first:last], f[first:last]
    ax.plot(x, f, color=color, lw=1.8)
    # The interval's ends as points of the shaded curve (linear between the drawn points, as the
    # line is): its edges are then upright, not a slant to the next point outside it.
    ends = np.array([v for v in (lb, ub) if x[0] < v < x[-1]])
    xs = np.sort(np.concatenate([x, ends]))
    fs = np.interp(xs, x, f)
    inside = (xs >= lb) & (xs <= ub)
    ax.fill_between(xs, 0, fs, where=inside, color=color, alpha=0.18, lw=0)
    peak = float(np.interp(mode, x, f))
    ax.vlines(mode, 0, peak, color=INK, lw=1.3)
    how, centre = compute.centre(fit, name, float(row["mean"]))
    ax.vlines(centre, 0, float(np.interp(centre, x, f)), color=INK, lw=1.1, ls="--")
    sym = SYMBOLS[name]
    what = interval_name(kind, prob)
    label = f"mode (MAP) {number(mode)}\n{how} {number(centre)}\n{what} [{number(lb)}, {number(ub)}]"
    # Write the numbers on the side away from the bulk of the density.
    left_side = mode > x[0] + 0.55 * (x[-1] - x[0])
    ax.text(
        0.03 if left_side else 0.97,
        0.95,
        label,
        transform=ax.transAxes,
        ha="left" if left_side else "right",
        va="top",
        fontsize=9.5,
        linespacing=1.5,
        bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#dddddd", "lw": 0.8},
        gid=f"poolwise-{name}-numbers",
    )
    where = (mode - x[0]) / (x[-1] - x[0]) if x[-1] > x[0] else 0.5
    ax.annotate(
        f"mode {number(mode)}",
        (mode, peak),
        xytext=(0, 4),
        textcoords="offset points",
        # Centred over the peak, unless that is at an end of the axis (tau's at 0): then inside it.
        ha="left" if where < 0.08 else "right" if where > 0.92 else "center",
        va="bottom",
        fontsize=8,
        color=INK,
    )
    ax.set_ylim(0, peak * 1.32 if np.isfinite(peak) and peak > 0 else None)
    ax.set_xlim(float(x[0]), float(x[-1]))
    xlabel, unit = labels[name]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"posterior density ({unit})")
    source = "exact density" if exact else _KDE
    ax.set_title(f"Posterior of {sym} — partial pooling (hierarchical)", fontsize=10.5, pad=15)
    ax.text(
        1.0,
        1.008,
        f"{source}; solid: mode, dashed: {how}, shaded: {what}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7.5,
        color=MUTED,
    )
    return ax


@styled
def plot_hyper_joint(
    fits: Fit | Mapping[str, Fit],
    *,
    masses: tuple[float, ...] = MASSES,
    ax=None,
):
    """Draw the joint posterior of (mu, kappa) as the exact engine sees it: its highest-density regions.

    The grid lives on (logit mu, log kappa); the regions holding 50%, 80%, 95% and 99% of the
    posterior mass are drawn at their (mu, kappa) positions, kappa on a log axis. A sampling
    engine's draws are shown through a kernel density estimate on the same scales.

    For the normal-normal family the joint of (mu, tau): the engine's line over
    ``u = asinh(tau / c)`` times ``mu | tau, y ~ N(mu_hat(tau), V_mu(tau))`` (BDA3 eq. 5.20), its
    regions found on cells of (mu, u) and drawn at their (mu, tau) positions, tau on a linear
    axis from 0 (where the posterior of tau often peaks). For the gamma-Poisson family the joint of
    the population's mean rate and shape (mu, alpha), from the grid over (log mu, log alpha), on
    two log axes.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        Must contain the partial-pooling fit.
    masses : tuple of float
        Probability masses of the regions drawn.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    fit = compute.partial_fit(fits, "the joint posterior of (mu, kappa)")
    masses = tuple(sorted(float(m) for m in masses))
    if not masses or not all(0 < m < 1 for m in masses):
        raise ValueError(f"masses must be probabilities strictly between 0 and 1, got {masses!r}")
    if ax is None:
        _, axes = new_figure((6.4, 4.6))
        ax = axes[0, 0]
    family = registry.get(fit.family)
    draw = _JOINTS[tuple(transform for _, transform in family.grid_axes)]
    names, source = draw(ax, fit, masses)
    ax.set_xlabel(family.display.joint_axes[0])
    ax.set_ylabel(family.display.joint_axes[1])
    symbols = f"(μ, {SYMBOLS[family.spread]})"
    # Shorter than the densities' titles: the joint panel has a legend and a caption to fit.
    ax.set_title(f"Joint posterior of {symbols} — partial pooling", fontsize=10.5, pad=15)
    ax.text(
        1.0,
        1.008,
        f"highest-density regions ({', '.join(names.values())}) on the {source}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7.5,
        color=MUTED,
    )
    ax.legend(loc="upper right", fontsize=8)
    return ax


def _joint_logit(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(mu, sigma, weight, exact)`` on a 2-D grid: the exact engine's, or a histogram of the draws."""
    from ...engines.exact_logit import grid_nodes

    if fit.engine == "exact":
        grid = fit.posterior.grid
        mu, sigma, log_w = grid_nodes(grid)
        shape = grid.logp.shape
        return mu.reshape(shape), sigma.reshape(shape), np.exp(log_w).reshape(shape), True
    post = fit.idata["posterior"]
    mu, sigma = np.ravel(post["mu"].values), np.ravel(post["sigma"].values)
    counts, xe, ye = np.histogram2d(mu, sigma, bins=40)
    xx, yy = np.meshgrid((xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2, indexing="ij")
    return xx, yy, counts / counts.sum(), False


def _joint_spread(ax, fit: Fit, masses: tuple[float, ...]) -> tuple[dict, str]:
    """Draw the joint of mu (on the real line) and a spread (from 0): the exact engine's line or grid."""
    if registry.get(fit.family).display.grid is None:  # a line over the spread, mu given it
        mu, spread, weight, exact = compute.joint_normal(fit)
        mu, spread = np.meshgrid(mu, spread, indexing="ij")
        source = "exact line over τ" if exact else _KDE
    else:
        mu, spread, weight, exact = _joint_logit(fit)
        source = "exact grid" if exact else "histogram of the draws"
    names = _regions(ax, mu, spread, weight, masses)
    region = weight >= compute.hpd_thresholds(weight, (0.999,))[0]
    x0, x1 = float(mu[region].min()), float(mu[region].max())
    ax.set_xlim(x0 - 0.04 * (x1 - x0), x1 + 0.04 * (x1 - x0))
    ax.set_ylim(0.0, 1.04 * float(spread[region].max()))
    return names, source


def _joint_kappa(ax, fit: Fit, masses: tuple[float, ...]) -> tuple[dict, str]:
    """Draw the joint of (mu, kappa) from the grid over (logit mu, log kappa)."""
    u, v, weight, exact = compute.joint_grid(fit)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    mu, kappa = 1.0 / (1.0 + np.exp(-uu)), np.exp(vv)
    names = _regions(ax, mu, kappa, weight, masses)
    _kappa_axis(ax, mu, kappa, weight)
    return names, "exact grid" if exact else _KDE


def _joint_rate(ax, fit: Fit, masses: tuple[float, ...]) -> tuple[dict, str]:
    """Draw the joint of (mu, alpha) on log axes from the grid over (log mu, log alpha).

    The grid's cells are equal in (log mu, log alpha), so its highest-density regions are those of
    the density on the log axes drawn.
    """
    u, v, weight, exact = compute.joint_grid(fit)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    mu, alpha = np.exp(uu), np.exp(vv)
    names = _regions(ax, mu, alpha, weight, masses)
    ax.set_xscale("log")
    ax.set_yscale("log")
    region = weight >= compute.hpd_thresholds(weight, (0.999,))[0]
    for values, limits, axis in ((mu, ax.set_xlim, ax.xaxis), (alpha, ax.set_ylim, ax.yaxis)):
        lo, hi = float(values[region].min()), float(values[region].max())
        pad = max(hi / lo, 1.5) ** 0.05
        limits(lo / pad, hi * pad)
        log_ticks(axis, lo / pad, hi * pad)
    return names, "exact grid over (log μ, log α)" if exact else _KDE


#: How the joint posterior of the hyperparameters is drawn, by the transforms of the exact grid's
#: axes (:attr:`~poolwise.families.registry.Family.grid_axes`; none: the engine's own line or grid
#: over mu and a spread from 0). Each view returns the regions' names and what they were found on.
_JOINTS = {
    ("logit", "log"): _joint_kappa,
    ("log", "log"): _joint_rate,
    (): _joint_spread,
}


def _regions(ax, x: np.ndarray, y: np.ndarray, weight: np.ndarray, masses: tuple[float, ...]) -> dict:
    """Fill and outline the highest-density regions of the cells ``weight``, mark the joint mode."""
    thresholds = compute.hpd_thresholds(weight, masses)  # decreasing as the mass grows
    levels = np.unique(np.append(thresholds, weight.max() * (1 + 1e-9)))
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("poolwise_partial", ["#e8f1f8", COLORS["partial"]])
    ax.contourf(x, y, weight, levels=levels, cmap=cmap, alpha=0.9)
    lines = ax.contour(x, y, weight, levels=levels[:-1], colors=[COLORS["partial"]], linewidths=0.8)
    names = {t: f"{m * 100:.0f}%" for t, m in zip(thresholds, masses, strict=True)}
    ax.clabel(lines, fmt=lambda t: names.get(t, ""), fontsize=7.5, inline=True)
    best = np.unravel_index(np.argmax(weight), weight.shape)
    ax.plot(x[best], y[best], "+", color=INK, ms=9, mew=1.4, label="joint mode")
    return names


def _kappa_axis(ax, mu: np.ndarray, kappa: np.ndarray, weight: np.ndarray) -> None:
    """Limits and log scale of the (mu, kappa) plot: the region holding 99.9%."""
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

    region = weight >= compute.hpd_thresholds(weight, (0.999,))[0]
    x0, x1 = float(mu[region].min()), float(mu[region].max())
    y0, y1 = float(kappa[region].min()), float(kappa[region].max())
    px = 0.06 * max(x1 - x0, 0.02)
    ax.set_xlim(max(x0 - px, 0.0), min(x1 + px, 1.0))
    ax.set_ylim(y0 / 1.3, y1 * 1.3)
    if y1 / y0 < 8:  # less than a decade: evenly spaced ticks read better than powers of ten
        ax.yaxis.set_major_locator(MaxNLocator(6))
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))


@styled
def plot_hyperparameters(
    fits: Fit | Mapping[str, Fit],
    *,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
):
    """Hyperparameters of partial pooling in one figure: mu, kappa (tau), and their joint posterior.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        Must contain the partial-pooling fit.
    ci_kind, ci_prob : optional
        Interval kind and probability (94% HDI by default).

    Returns
    -------
    matplotlib.figure.Figure
        Three axes: mu (:func:`plot_hyper_density`), kappa, and (mu, kappa)
        (:func:`plot_hyper_joint`); for the normal-normal family tau and (mu, tau).
    """
    spread = registry.get(compute.partial_fit(fits, "the hyperparameters' figure").family).spread
    fig, axes = new_figure((15.0, 4.6), 1, 3)
    plot_hyper_density(fits, "mu", ci_kind=ci_kind, ci_prob=ci_prob, ax=axes[0, 0])
    plot_hyper_density(fits, spread, ci_kind=ci_kind, ci_prob=ci_prob, ax=axes[0, 1])
    plot_hyper_joint(fits, ax=axes[0, 2])
    return fig
