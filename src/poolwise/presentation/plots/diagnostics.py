"""Diagnostics: the exact engine's grid and its edge mass, or a sampler's traces, ranks and divergences."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from ...analysis import shrinkage as compute
from ...engines.exact import EDGE_MASS
from ...families import registry
from ...families.normal_normal import log_dtau_du, log_posterior, to_tau, to_u
from ...study.fits import Fit
from ._common import ALERT, COLORS, INK, LABELS, MUTED, new_figure, number, styled, text

#: Most groups whose theta a sampler's trace plot shows (those with the largest R-hat).
TRACE_GROUPS = 4


def _expit(s):
    return 1.0 / (1.0 + np.exp(-np.clip(s, -700, 700)))


def _logit(m):
    m = np.clip(m, 1e-300, 1 - 1e-16)
    return np.log(m) - np.log1p(-m)


def _exp(s):
    return np.exp(np.clip(s, -700, 700))


def _log(m):
    # matplotlib asks the inverse of a secondary axis at 0 as well.
    return np.log(np.maximum(m, 1e-300))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float) -> str:
    if value <= 0:
        return ""
    exponent = int(np.round(np.log10(value)))
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _mu_ticks(lo: float, hi: float) -> list[float]:
    """Ticks for mu on an axis that is linear in logit(mu)."""
    from matplotlib.ticker import MaxNLocator

    wide = [t for t in (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999) if lo < t < hi]
    if len(wide) >= 3:
        return wide
    return [float(t) for t in MaxNLocator(5).tick_values(lo, hi) if lo < t < hi]


def _tau_ticks(scale: float, u0: float, u1: float) -> list[float]:
    """Round values of tau (1, 2, 5 times powers of ten, and 0) spread evenly along u = asinh(tau/c)."""
    lo, hi = to_tau(u0, scale), to_tau(u1, scale)
    decades = range(int(np.floor(np.log10(max(hi, 1e-300)))) - 6, int(np.ceil(np.log10(max(hi, 1e-300)))) + 1)
    nice = [0.0] + [m * 10.0**e for e in decades for m in (1, 2, 5)]
    ticks, last = [], -np.inf
    for t in sorted(t for t in nice if lo <= t <= hi):
        u = float(to_u(t, scale))
        if u - last >= (u1 - u0) / 8:  # at most about eight, none crowding its neighbour
            ticks.append(t)
            last = u
    return ticks


def _pick(fits: Fit | Mapping[str, Fit]) -> Fit:
    found = compute.as_fits(fits)
    if len(found) == 1:
        return next(iter(found.values()))
    for p in ("partial", "none", "complete"):
        if p in found:
            return found[p]
    return next(iter(found.values()))


def has_diagnostics_figure(fit: Fit) -> bool:
    """Whether :func:`plot_diagnostics` has something to draw for this fit."""
    if fit.engine == "exact":
        return fit.model.pooling == "partial"
    try:
        return "sample_stats" in fit.idata
    except Exception:  # noqa: BLE001 - a fit without draws has nothing to show
        return False


@styled
def plot_diagnostics(fits: Fit | Mapping[str, Fit], *, kind: str = "trace"):
    """Draw what the engine checked.

    Exact engine (partial pooling): the grid over (logit mu, log kappa) coloured by each cell's
    posterior probability (log scale), with the outer ring of cells outlined, and the marginal
    mass along each axis of the grid, which must fall far below the warning level at the edges.
    For the normal-normal family the engine integrates over a line in ``u = asinh(tau / c)``
    instead: each node's posterior probability (log scale) with the warning level for the line's
    ends, and the density of ``tau`` on each resolution the engine tried until its summaries
    stopped moving.
    Sampling engine: ArviZ's trace (with divergences marked under the traces) or rank plots of the
    hyperparameters (partial pooling) or of the groups with the largest R-hat.

    Parameters
    ----------
    fits : FitSet, mapping or Fit
        A FitSet gives its partial-pooling fit.
    kind : {"trace", "rank"}
        For a sampling engine: trace and marginal density per chain, or rank ECDF plots.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For a closed-form fit (no or complete pooling, exact engine): it has nothing to diagnose.
    """
    fit = _pick(fits)
    if kind not in ("trace", "rank"):
        raise ValueError(f"kind must be 'trace' or 'rank', got {kind!r}")
    family = registry.get(fit.family)
    if fit.engine == "exact":
        if fit.model.pooling != "partial":
            raise ValueError(
                f"{fit.model.title} is a closed-form conjugate {_CLOSED_FORM[family.data]} under the exact "
                "engine: no grid, no sampler, nothing to diagnose"
            )
        return _line_figure(fit) if family.display.grid is None else _grid_figure(fit, family)
    return _sampler_figure(fit, kind)


def _line_figure(fit: Fit):
    """Draw the normal-normal engine's line over ``u = asinh(tau / c)``: node masses and resolutions."""
    post = fit.posterior
    line, d = post.line, fit.diagnostics
    scale = post.data.scale
    fig, axes = new_figure((13.0, 4.6), 1, 2)
    ax, rx = axes[0, 0], axes[0, 1]
    u, w = line.nodes, line.weights
    ax.semilogy(
        u,
        np.maximum(w, 1e-300),
        color=COLORS["partial"],
        lw=1.4,
        marker="o",
        ms=2.8,
        label="mass per node (the ends weigh half: trapezoid rule)",
    )
    ax.axhline(EDGE_MASS, color=ALERT, lw=1.2, label=f"warning level for the ends ({EDGE_MASS:g})")
    # An end at a bound of tau's support (0, or the prior's) may hold mass; any other end may not.
    lower, upper = post.priors["tau"].bounds
    natural = (u[0] <= to_u(max(lower, 0.0), scale), np.isfinite(upper) and u[-1] >= to_u(upper, scale))
    for end, bound in zip((u[0], u[-1]), natural, strict=True):
        ax.axvline(end, color=MUTED if bound else ALERT, lw=1.0, ls=":" if bound else "--")
    smallest = min(float(w.min()), EDGE_MASS)
    ax.set_ylim(max(smallest / 10, 1e-40), 1.5)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _power_of_ten(value)))
    span = " to ".join(number(float(to_tau(e, scale))) for e in (u[0], u[-1]))
    ax.set_xlabel(f"u = asinh(τ / c), c = {number(scale)} (the median standard error); τ from {span}")
    ax.set_ylabel("posterior probability of the node (log scale)")
    top = ax.secondary_xaxis(
        "top", functions=(functools.partial(to_tau, scale=scale), functools.partial(to_u, scale=scale))
    )
    top.set_xticks(_tau_ticks(scale, float(u[0]), float(u[-1])))
    top.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    top.set_xlabel("τ", fontsize=8.5)
    top.tick_params(labelsize=7.5)
    ax.set_title(f"Exact engine's line over τ: {d.get('grid_nodes', u.size)} nodes", fontsize=10.5, pad=28)
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    if any(natural):
        handles.append(
            Line2D([], [], color=MUTED, lw=1.0, ls=":", label="end at a bound of τ (mass allowed)")
        )
    if not all(natural):
        handles.append(Line2D([], [], color=ALERT, lw=1.0, ls="--", label="end where the mass must vanish"))
    ax.legend(handles=handles, loc="best", fontsize=7.5)

    # The resolutions tried: the same log-density on each level's nodes, as the engine evaluated it.
    logp = log_posterior(post.priors["tau"], post.priors["mu"], post.data)
    levels = list(d.get("levels", [])) or [u.size - 1]
    hi = float(u[-1])
    shades = np.linspace(0.25, 1.0, len(levels))
    for n, shade in zip(levels, shades, strict=True):
        nodes = np.linspace(line.lo, hi, n + 1)
        value = logp(nodes)
        tau = to_tau(nodes, scale)
        # Normalised by the trapezoid rule in u, as the engine does (spectrally accurate there).
        relative = np.exp(value - value.max())
        density = relative * np.exp(-log_dtau_du(nodes, scale)) / np.trapezoid(relative, nodes)
        rx.plot(
            tau,
            density,
            color=COLORS["partial"],
            alpha=float(shade),
            lw=1.0 + 0.6 * shade,
            marker="o",
            ms=2.2,
            label=f"{n + 1} nodes",
        )
    q = fit.summary().loc["tau"]
    rx.set_xlim(float(to_tau(line.lo, scale)), float(q.iloc[3]) * 2.0)
    rx.set_ylim(bottom=0)
    rx.set_xlabel("τ (population sd of the effects)")
    rx.set_ylabel("posterior density of τ")
    state = "converged" if d.get("converged") else "NOT converged"
    verdict = "agree" if d.get("converged") else "still disagree"
    rx.set_title(f"The resolutions tried {verdict}", fontsize=10.5, pad=28)
    note = (
        f"edge mass {number(d.get('edge_mass', float('nan')))} (warning above {EDGE_MASS:g}); "
        f"{state} over {'→'.join(str(n + 1) for n in levels)} nodes, "
        f"largest change {number(d.get('max_change', float('nan')))}"
    )
    rx.text(0.0, 1.02, note, transform=rx.transAxes, fontsize=7.5, color=MUTED, va="bottom")
    rx.legend(loc="upper right", fontsize=7.5)
    fig.suptitle(f"Diagnostics — {LABELS['partial']}, exact engine", x=0.01, ha="left", fontsize=11)
    return fig


def _grid_figure(fit: Fit, family: registry.Family):
    g = fit.posterior.grid  # every family's grid: cell centres u, v and their probabilities
    u, v, w = g.u, g.v, g.weights
    labels = family.display.grid
    mu = dict(family.grid_axes).get("mu")  # the transform of a grid axis over mu, if one is
    d = fit.diagnostics
    fig, axes = new_figure((13.0, 4.6), 1, 2, width_ratios=[1.05, 1.0])
    ax, mx = axes[0, 0], axes[0, 1]

    hu = float(u[1] - u[0]) if u.size > 1 else 1.0
    hv = float(v[1] - v[0]) if v.size > 1 else 1.0
    ue = np.append(u - hu / 2, u[-1] + hu / 2)
    ve = np.append(v - hv / 2, v[-1] + hv / 2)
    logw = np.log10(np.maximum(w, 1e-300))
    floor = -16.0
    mesh = ax.pcolormesh(
        ue,
        ve,
        np.maximum(logw, floor).T,
        cmap="Blues",
        vmin=floor,
        vmax=0.0,
        shading="flat",
        rasterized=True,  # thousands of cells: an image inside the SVG, not a path each
    )
    bar = fig.colorbar(mesh, ax=ax, pad=0.01, fraction=0.05)
    bar.set_label("log10 posterior probability of the cell", fontsize=8.5)
    bar.ax.tick_params(labelsize=7.5)
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter

    ring = Rectangle((ue[0], ve[0]), ue[-1] - ue[0], ve[-1] - ve[0], fill=False, ec=ALERT, lw=3.0)
    ax.add_patch(ring)
    inner = Rectangle((ue[1], ve[1]), ue[-2] - ue[1], ve[-2] - ve[1], fill=False, ec=ALERT, lw=0.8, ls="--")
    ax.add_patch(inner)
    t95 = compute.hpd_thresholds(w, (0.95,))[0]
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ax.contour(uu, vv, w, levels=[t95], colors=[INK], linewidths=1.0)
    ax.set_xlim(ue[0], ue[-1])
    ax.set_ylim(ve[0], ve[-1])
    ax.grid(False)
    ax.set_xlabel(labels.x)
    ax.set_ylabel(labels.y)
    if mu is not None:  # mu itself along the top
        to_mu, from_mu, ticks, label = _MU_AXIS[mu]
        top = ax.secondary_xaxis("top", functions=(to_mu, from_mu))
        top.set_xticks(ticks(float(ue[0]), float(ue[-1])))
        top.xaxis.set_major_formatter(FuncFormatter(lambda value, _: label(value)))
        top.set_xlabel("μ", fontsize=8.5)
        top.tick_params(labelsize=7.5)
    nodes = d.get("grid_nodes", f"{u.size}x{v.size}")
    ax.set_title(f"Exact engine's grid, partial pooling (hierarchical): {nodes} nodes", fontsize=10.5, pad=28)
    ax.text(
        0.02,
        0.02,
        "black: 95% highest-density region\nred: the edge ring of cells" + labels.note,
        transform=ax.transAxes,
        fontsize=7.5,
        color=MUTED,
        va="bottom",
    )

    total = w.sum()
    along_u, along_v = w.sum(axis=1) / total, w.sum(axis=0) / total
    pos_u = np.linspace(0, 1, u.size)
    pos_v = np.linspace(0, 1, v.size)
    mx.semilogy(
        pos_u,
        np.maximum(along_u, 1e-300),
        color=COLORS["partial"],
        lw=1.6,
        marker="o",
        ms=2.5,
        label=f"mass per column (u = {labels.u})",
    )
    mx.semilogy(
        pos_v,
        np.maximum(along_v, 1e-300),
        color=INK,
        lw=1.2,
        ls="--",
        marker="s",
        ms=2.2,
        label=f"mass per row (v = {labels.v})",
    )
    mx.axhline(EDGE_MASS, color=ALERT, lw=1.2, label=f"warning level for the edge ring ({EDGE_MASS:g})")
    smallest = min(float(along_u.min()), float(along_v.min()), EDGE_MASS)
    mx.set_ylim(max(smallest / 10, 1e-40), 1.5)
    # Powers of ten in plain Unicode: mathtext labels are slow to lay out in SVG.
    mx.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _power_of_ten(value)))
    mx.set_xlim(-0.02, 1.02)
    mx.set_xlabel("position across the grid (0 and 1 are its edges)")
    mx.set_ylabel("posterior probability (log scale)")
    state = "converged" if d.get("converged") else "NOT converged"
    levels = "→".join(str(n) for n in d.get("levels", []))
    mx.set_title("The posterior mass has vanished at the grid's edges", fontsize=10.5, pad=28)
    note = (
        f"edge mass {number(d.get('edge_mass', float('nan')))} (warning above {EDGE_MASS:g}); "
        f"{state} over {levels} nodes per axis, largest change {number(d.get('max_change', float('nan')))}"
    )
    mx.text(0.0, 1.02, note, transform=mx.transAxes, fontsize=7.5, color=MUTED, va="bottom")
    mx.legend(loc="lower center", fontsize=7.5)
    fig.suptitle(f"Diagnostics — {LABELS['partial']}, exact engine", x=0.01, ha="left", fontsize=11)
    return fig


def _exp_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten for mu on an axis that is linear in log(mu), at most about eight of them."""
    first, last = int(np.ceil(lo / np.log(10))), int(np.floor(hi / np.log(10)))
    step = max(1, int(np.ceil((last - first + 1) / 8)))
    return [10.0**e for e in range(first, last + 1, step)]


#: The top axis of mu over a grid axis ``u`` = transform(mu), by the transform: (u -> mu,
#: mu -> u, ticks of mu between two u, tick label).
_MU_AXIS = {
    "logit": (_expit, _logit, lambda lo, hi: _mu_ticks(_expit(lo), _expit(hi)), lambda value: f"{value:g}"),
    "log": (_exp, _log, _exp_ticks, _power_of_ten),
}

#: The closed form of no and complete pooling, by the kind of data: its likelihood's conjugate.
_CLOSED_FORM = {"binomial": "Beta", "estimates": "Normal", "rates": "Gamma"}


def _sampler_vars(fit: Fit) -> tuple[list[str], dict | None]:
    post = fit.idata["posterior"]
    if fit.model.pooling == "partial":
        names = [n for n in registry.get(fit.family).display.traced if n in post] or [
            n for n in ("alpha", "beta") if n in post
        ]
        return names, None
    theta = post["theta"]
    if fit.dim not in theta.dims or theta.sizes[fit.dim] <= TRACE_GROUPS:
        return ["theta"], None
    import arviz_stats as azs

    rhat = azs.rhat(theta).values
    worst = np.argsort(np.nan_to_num(rhat, nan=np.inf))[::-1][:TRACE_GROUPS]
    return ["theta"], {fit.dim: list(theta[fit.dim].values[np.sort(worst)])}


def _sampler_figure(fit: Fit, kind: str):
    import arviz_plots as azp
    import xarray as xr

    dt = fit.idata
    names, coords = _sampler_vars(fit)
    # A small tree with just what is drawn, group names made safe to draw (arviz-plots writes
    # them as titles and legend entries).
    post = dt["posterior"].to_dataset()[names]
    if coords:
        post = post.sel(coords)
    grouped = fit.dim in post.dims
    if grouped:
        post = post.assign_coords({fit.dim: [text(g, 28) for g in post[fit.dim].values]})
    parts = {"posterior": post}
    if "sample_stats" in dt and "diverging" in dt["sample_stats"]:
        parts["sample_stats"] = dt["sample_stats"].to_dataset()[["diverging"]]
    small = xr.DataTree.from_dict(parts)
    if kind == "trace":
        pc = azp.plot_trace_dist(small, var_names=names, backend="matplotlib")
        if grouped:
            pc.add_legend([fit.dim, "__variable__"], title=text(fit.data.group_column, 28))
    else:
        pc = azp.plot_rank(small, var_names=names, backend="matplotlib")
    fig = pc.viz["figure"].item()
    fig.set_facecolor("white")
    for ax in fig.axes:
        if kind == "rank":
            ax.set_xlabel("fractional rank among all chains")
            ax.set_ylabel("ECDF minus uniform")
        elif ax.get_xlabel() == "Draw":
            ax.set_xlabel("draw (iteration after tuning)")
        elif ax.get_xlabel() in names:
            ax.set_xlabel(f"{ax.get_xlabel()} (value)")
            ax.set_ylabel("density per chain")
    divergences = 0
    if "sample_stats" in parts:
        divergences = int(np.asarray(parts["sample_stats"]["diverging"].values).sum())
    what = "traces and densities per chain" if kind == "trace" else "rank plots per chain"
    rows = max(1, len({round(ax.get_position().y0, 3) for ax in fig.axes}))
    fig.set_size_inches(12.0, 0.9 + 2.5 * rows)
    fig.set_layout_engine("constrained")
    fig.suptitle(
        f"Diagnostics — {fit.model.title}, {text(fit.engine)} engine: {what}\n"
        f"{divergences} divergent transitions"
        + (" (marked below the traces)" if kind == "trace" and divergences else ""),
        x=0.01,
        ha="left",
        fontsize=11,
        fontweight="bold",
    )
    return fig
