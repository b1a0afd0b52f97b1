"""Figures of the gamma-Poisson family (the BUGS pumps): what each figure draws, against the fit."""

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import poolwise as pw
from poolwise import plots
from poolwise.analysis import shrinkage as compute
from poolwise.families.models import build
from poolwise.presentation.plots._common import number

matplotlib.use("Agg", force=True)

COLUMNS = {"group": "pump", "events": "failures", "exposure": "hours"}
#: Words of the binomial families that a figure of rates must not use (a rate is no probability).
BINOMIAL_WORDS = ("success", "trial", "y/n", "κ", "probability")


@pytest.fixture(scope="module")
def pumps():
    """The three poolings of the pumps: Jeffreys' prior, and the BUGS hyperpriors."""
    return pw.fit_all(pw.datasets.load("pumps"), **COLUMNS, random_seed=3)


@pytest.fixture(scope="module")
def spare():
    """The pumps and a spare with no exposure yet (no pooling then needs a proper prior)."""
    data = pd.concat(
        [pw.datasets.load("pumps"), pd.DataFrame({"pump": ["spare"], "failures": [0], "hours": [0.0]})],
        ignore_index=True,
    )
    return pw.fit_all(data, **COLUMNS, priors={"theta": pw.priors.Gamma(0.5, 0.001)}, random_seed=3)


@pytest.fixture(scope="module")
def weights():
    """The posterior of (alpha, beta) by brute force on a (log alpha, log beta) grid, with scipy.

    Not the engine's parametrisation (log mu, log alpha) nor its grid: exponential prior on alpha,
    Gamma(0.1, 1) on beta, the negative-binomial likelihood, the Jacobian alpha * beta. The grid
    holds all but 1e-12 of the mass at its edges.
    """
    data = pw.datasets.load("pumps")
    y, e = data["failures"].to_numpy(float), data["hours"].to_numpy(float)
    alpha, beta = np.meshgrid(
        np.exp(np.linspace(-9, 4, 651)), np.exp(np.linspace(-16, 6, 1101)), indexing="ij"
    )
    logp = stats.expon.logpdf(alpha) + stats.gamma.logpdf(beta, 0.1) + np.log(alpha * beta)
    for yi, ei in zip(y, e, strict=True):
        logp += stats.nbinom.logpmf(yi, alpha, beta / (beta + ei))
    w = np.exp(logp - logp.max())
    return alpha, beta, w / w.sum(), y, e


def drawn(fig):
    """Render to SVG in memory: layout and every text are really drawn."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    assert buffer.tell() > 1000


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def title(ax):
    return " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)


def words(fig):
    """Every label, title, text and legend entry of a figure, lower-cased."""
    out = [fig.get_suptitle()]
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), *(ax.get_title(loc) for loc in ("left", "center", "right"))]
        out += texts(ax) + legend_texts(ax)
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [cell.get_text().get_text() for table in ax.tables for cell in table.get_celld().values()]
    return " | ".join(out).lower()


def median(fit, name):
    return float(compute.medians(fit, name)[0])


# --- forest ---------------------------------------------------------------------------------------


def test_forest_draws_raw_rates_and_intervals_on_a_log_axis(pumps):
    ax = plots.plot_forest(pumps)
    drawn(ax.figure)
    table = pumps["partial"].group_table()
    # Highest raw rate y/E first; each row labelled with its events/exposure.
    order = np.argsort(-table["raw_rate"].to_numpy(), kind="stable")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split("  (")[0] for label in labels] == list(table.index[order])
    assert labels[0] == "10  (22/10.5)" and labels[-1] == "1  (5/94.3)"
    # The pumps' rates run from 0.053 to 2.1 failures per thousand hours: a log axis.
    assert ax.get_xscale() == "log"
    left, right = ax.get_xlim()
    # Each row's raw rate as a tick, at y/E.
    ticks = next(line for line in ax.lines if line.get_marker() == "|")
    np.testing.assert_allclose(ticks.get_xdata(), table["raw_rate"].to_numpy()[order], rtol=1e-15)
    # Partial pooling's HDIs, drawn from the axis' edge where they start further out (pump 2:
    # one failure in 15.7 thousand hours, its HDI reaches down to 2.5e-4).
    segments = [c for c in ax.collections if len(c.get_segments()) == len(table)]
    ends = np.array([s[:, 0] for s in segments[1].get_segments()])
    expected = np.clip(table[["hdi94_lb", "hdi94_ub"]].to_numpy()[order], left, right)
    np.testing.assert_allclose(ends, expected, rtol=1e-12)
    assert table.loc["2", "hdi94_lb"] < left  # ... so it ends in an arrowhead at the edge
    assert "interval runs on past the axis" in legend_texts(ax)
    label = ax.get_xlabel()
    assert "rate" in label and "events per unit exposure" in label and "failures/hours" in label
    assert "log scale" in label and "pump (events/exposure)" == ax.get_ylabel()
    assert {"raw rate y/E", "complete pooling (94% HDI)"} <= set(legend_texts(ax))
    assert not any(word in words(ax.figure) for word in BINOMIAL_WORDS)


def test_forest_orders_by_exposure(pumps):
    ax = plots.plot_forest(pumps, order="trials", ci_kind="eti")
    exposure = pumps.data.exposure
    labels = [t.get_text().split("  (")[0] for t in ax.get_yticklabels()]
    assert labels == list(pumps.data.groups[np.argsort(-exposure, kind="stable")])
    assert "most exposure first" in texts(ax)


def test_forest_of_a_group_without_exposure(spare):
    ax = plots.plot_forest(spare)
    drawn(ax.figure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "spare  (0/0)"  # no raw rate: last
    # Its intervals (the population's; no pooling's vague prior) do not set the axis: the others'
    # do, and it runs past both ends.
    left, right = ax.get_xlim()
    assert right < 10 and spare["none"].group_table().loc["spare", "hdi94_ub"] > 1000
    # Its partial-pooling mean may be infinite (that of mu = alpha/beta): the median, hollow.
    partial = spare["partial"]
    assert not compute.means_exist(partial, "theta")[-1] and compute.means_exist(partial, "theta")[:-1].all()
    hollow = [line for line in ax.lines if line.get_marker() == "o" and line.get_markerfacecolor() == "white"]
    assert len(hollow) == 1
    np.testing.assert_allclose(hollow[0].get_xdata(), [median(partial, "theta_new")], rtol=1e-12)
    assert "median (mean may be infinite)" in legend_texts(ax)


# --- shrinkage ------------------------------------------------------------------------------------


def test_shrinkage_factor_is_the_expected_weight_of_the_population(pumps, weights):
    table = plots.shrinkage_table(pumps)
    assert list(table.columns[:3]) == ["events", "exposure", "raw_rate"]
    alpha, beta, w, y, e = weights
    # E[beta / (beta + E_i) | y] by brute force: the engine's grid (a midpoint rule over the cells
    # of (log mu, log alpha), refined until summaries move < 1e-4) agrees to 7e-11; 1e-8 allowed.
    reference = np.array([np.sum(w * beta / (beta + ei)) for ei in e])
    np.testing.assert_allclose(table["shrinkage"].to_numpy(), reference, rtol=0, atol=1e-8)
    # ... and the posterior mean it shrinks, E[(alpha + y_i) / (beta + E_i) | y], to 1e-7.
    means = np.array([np.sum(w * (alpha + yi) / (beta + ei)) for yi, ei in zip(y, e, strict=True)])
    np.testing.assert_allclose(table["partial_mean"].to_numpy(), means, rtol=1e-7)
    # Against the exact engine's independent draws of beta: within 4 Monte Carlo standard errors.
    draws = pumps["partial"].idata["posterior"]["beta"].values.ravel()
    values = draws[:, None] / (draws[:, None] + e[None, :])
    se = values.std(axis=0) / np.sqrt(draws.size)
    assert np.all(np.abs(table["shrinkage"].to_numpy() - values.mean(axis=0)) <= 4 * se)
    # Less exposure, more shrinkage: pumps 7 and 8 (1.05 thousand hours) most, pump 4 (126) least.
    order = np.argsort(e, kind="stable")
    assert np.all(np.diff(table["shrinkage"].to_numpy()[order]) <= 1e-15)
    np.testing.assert_array_equal(table["moved"], table["partial_mean"] - table["raw_rate"])


def test_shrinkage_plot_draws_raw_rates_to_means_on_log_axes(pumps):
    ax = plots.plot_shrinkage(pumps)
    fig = ax.figure
    drawn(fig)
    table = pumps["partial"].group_table()
    points = ax.collections[-1]
    np.testing.assert_array_equal(points.get_offsets(), table[["raw_rate", "mean"]].to_numpy())
    # Marker area grows with the square root of the exposure (the most exposed: the largest).
    areas = points.get_sizes()
    np.testing.assert_allclose(areas**2 / table["exposure"], areas[0] ** 2 / table["exposure"].iloc[0])
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "raw rate y/E" in ax.get_xlabel() and "rate" in ax.get_ylabel()
    legend = legend_texts(ax)
    # The population's line at mu's median: E[mu] = E[alpha/beta] is infinite here.
    assert f"population mean rate μ (median): {number(median(pumps['partial'], 'mu'))}" in legend
    assert not any("E[μ]" in entry for entry in legend)
    assert "no shrinkage (mean = y/E)" in legend and "E = 130 hours" in legend
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in fig.axes[1].tables[0].get_celld().items()}
    assert [cells[(0, c)] for c in range(5)] == ["pump", "y/E", "raw", "partial", "shrinkage B"]
    assert cells[(1, 0)] in {"7", "8"} and cells[(1, 1)] == "1/1.05"
    assert "E[β/(β+E) | y]" in title(fig.axes[1])
    assert not any(word in words(fig) for word in BINOMIAL_WORDS)


def test_shrinkage_of_a_group_without_exposure(spare):
    table = plots.shrinkage_table(spare)
    assert table.loc["spare", "shrinkage"] == pytest.approx(1.0, abs=1e-12)  # beta/(beta + 0): the population
    assert np.isnan(table.loc["spare", "raw_rate"])
    ax = plots.plot_shrinkage(spare)
    drawn(ax.figure)
    assert len(ax.collections[-1].get_offsets()) == 10
    assert "1 group with no exposure not shown" in legend_texts(ax)
    cells = [c.get_text().get_text() for c in ax.figure.axes[1].tables[0].get_celld().values()]
    assert f"{number(median(spare['partial'], 'theta_new'))} (median)" in cells


# --- hyperparameters ------------------------------------------------------------------------------


def test_mu_shows_its_median_not_its_infinite_mean(pumps):
    fit = pumps["partial"]
    ax = plots.plot_hyper_density(pumps, "mu")
    drawn(ax.figure)
    mu = fit.summary().loc["mu"]
    box = next(t for t in texts(ax) if t.startswith("mode (MAP)"))
    assert box == (
        f"mode (MAP) {number(fit.mode('mu'))}\nmedian {number(median(fit, 'mu'))}\n"
        f"94% HDI [{number(mu['hdi94_lb'])}, {number(mu['hdi94_ub'])}]"
    )
    assert "mean" not in box and "dashed: median" in " ".join(texts(ax))
    x, f = ax.lines[0].get_data()
    # The exact density (the engine's spline, from its integral): mass 0.94 inside the HDI, the
    # trapezoid rule on points 2% apart at most erring by far less than 1e-3.
    inside = (x >= mu["hdi94_lb"]) & (x <= mu["hdi94_ub"])
    assert np.trapezoid(f[inside], x[inside]) == pytest.approx(0.94, abs=2e-3)
    assert abs(x[np.argmax(f)] - fit.mode("mu")) <= np.max(np.diff(x[inside]))
    # The axis holds the central 99% (a tail too heavy for a mean would take the rest).
    assert x[-1] == pytest.approx(float(fit.posterior.quantities["mu"].quantile(0.99)[0]), rel=0.05)
    assert "population mean rate" in ax.get_xlabel() and "per unit exposure" in ax.get_xlabel()
    # alpha has a mean: it is written.
    box = next(t for t in texts(plots.plot_hyper_density(pumps, "alpha")) if t.startswith("mode (MAP)"))
    assert f"mean {number(fit.summary().loc['alpha', 'mean'])}" in box
    with pytest.raises(ValueError, match="mu, alpha, beta for the gamma-poisson family"):
        plots.plot_hyper_density(pumps, "kappa")


def test_hyperparameters_figure_has_mu_alpha_and_their_joint_on_log_axes(pumps):
    fig = plots.plot_hyperparameters(pumps)
    drawn(fig)
    mu_ax, alpha_ax, joint = fig.axes[:3]
    assert "μ" in mu_ax.get_xlabel() and "α" in alpha_ax.get_xlabel() and "shape" in alpha_ax.get_xlabel()
    assert joint.get_xscale() == joint.get_yscale() == "log"
    assert "μ" in joint.get_xlabel() and "α" in joint.get_ylabel()
    assert "(μ, α)" in title(joint)
    assert {"50%", "95%"} <= set(texts(joint))
    assert any("exact grid over (log μ, log α)" in t for t in texts(joint))
    # The joint mode is the grid's heaviest cell, at its (mu, alpha).
    (mode_mu,), (mode_alpha,) = joint.lines[0].get_data()
    grid = pumps["partial"].hyper_grid()
    best = np.unravel_index(np.argmax(grid["weight"]), grid["weight"].shape)
    assert mode_mu == pytest.approx(np.exp(grid["u"][best[0]])) and mode_alpha == pytest.approx(
        grid["alpha"][best]
    )
    summary = pumps["partial"].summary()
    assert summary.loc["alpha", "hdi94_lb"] < mode_alpha < summary.loc["alpha", "hdi94_ub"]
    assert not any(word in words(fig) for word in BINOMIAL_WORDS)


# --- a new group ----------------------------------------------------------------------------------


def test_new_group_rate_and_events(pumps):
    fig = plots.plot_new_group(pumps)
    drawn(fig)
    theta_ax, y_ax = fig.axes
    note = "no pooling: not drawn (Jeffreys' prior,\nno proper prediction)"
    assert note in legend_texts(theta_ax) and note in legend_texts(y_ax)
    assert "rate" in title(theta_ax) and "events per unit exposure" in theta_ax.get_xlabel()
    box = next(t for t in texts(theta_ax) if t.startswith("partial pooling"))
    assert f"median {number(median(pumps['partial'], 'theta_new'))}" in box and "mean" not in box
    # The events of a new pump in the median exposure, 13.1 thousand hours.
    e = float(np.median(pumps.data.exposure))
    assert f"E = {e:.3g} hours" in y_ax.get_xlabel()
    bars = np.array([b.get_height() for b in y_ax.patches])
    pmf = compute.predictive_events(pumps["partial"], e, upto=bars.size - 1)
    np.testing.assert_allclose(bars, pmf.to_numpy(), rtol=1e-12)
    assert pmf.sum() + pmf.attrs["tail"] == pytest.approx(1.0, abs=1e-12)
    # Partial pooling: Poisson(E theta_new) averaged over the exact engine's independent draws of
    # theta_new, within 4 Monte Carlo standard errors (plus the grid's 1e-6).
    theta = pumps["partial"].idata["posterior_predictive"]["theta_new"].values.ravel()
    k = np.arange(bars.size)
    values = stats.poisson.pmf(k[None, :], e * theta[:, None])
    se = values.std(axis=0) / np.sqrt(theta.size)
    assert np.all(np.abs(bars - values.mean(axis=0)) <= 4 * se + 1e-6)
    # Complete pooling: theta ~ Gamma(1/2 + sum y, sum E), so y_new is negative binomial.
    step = next(line for line in y_ax.lines if line.get_label() == "complete pooling")
    y, exposure = pumps.data.events.sum(), pumps.data.exposure.sum()
    np.testing.assert_allclose(
        step.get_ydata(), stats.nbinom.pmf(k, 0.5 + y, exposure / (exposure + e)), rtol=1e-10, atol=1e-300
    )
    text = next(t for t in texts(y_ax) if t.startswith("partial pooling"))
    summary = compute.events_summary(compute.predictive_events(pumps["partial"], e, mass=0.99), 0.94)
    assert f"median {summary['median']:.0f}" in text and "94% equal-tailed" in text
    # The counts' axis is a probability (of k events); nothing else is.
    assert y_ax.get_ylabel() == "predictive probability P(y_new = k)"
    rest = words(fig).replace("predictive probability p(y_new = k)", "")
    assert not any(word in rest for word in BINOMIAL_WORDS)


def test_new_group_events_in_a_given_exposure_and_wrong_keywords(pumps):
    ax = plots.plot_y_new(pumps, exposure=100.0)
    assert "E = 100 hours" in ax.get_xlabel()
    with pytest.raises(ValueError, match="exposure="):
        plots.plot_y_new(pumps, trials=10)
    with pytest.raises(ValueError, match="exposure must be"):
        plots.plot_y_new(pumps, exposure=0.0)
    with pytest.raises(NotImplementedError, match="predictive_events"):
        plots.predictive_counts(pumps["partial"], 10)
    with pytest.raises(ValueError, match="no proper new group"):
        plots.plot_theta_new({"none": pumps["none"]})


def test_new_group_with_a_proper_prior_under_no_pooling(spare):
    fig = plots.plot_new_group(spare)
    drawn(fig)
    theta_ax, y_ax = fig.axes
    assert "no pooling: the prior" in legend_texts(theta_ax) and "no pooling" in legend_texts(y_ax)
    # The prior Gamma(1/2, 0.001), vague (median 230), draws on the others' axis, not its own.
    assert theta_ax.get_xlim()[1] < 10


# --- diagnostics, diagram, pairwise ---------------------------------------------------------------


def test_exact_diagnostics_show_the_grid_over_log_mu_and_log_alpha(pumps):
    fig = plots.plot_diagnostics(pumps)
    drawn(fig)
    grid_ax = fig.axes[0]
    mass_ax = next(ax for ax in fig.axes if ax.get_legend() is not None)
    assert grid_ax.get_xlabel().startswith("u = log μ") and grid_ax.get_ylabel().startswith("v = log α")
    assert {"mass per column (u = log μ)", "mass per row (v = log α)"} <= set(legend_texts(mass_ax))
    assert any("μ's tail is heavy" in t for t in texts(grid_ax))
    with pytest.raises(ValueError, match="closed-form conjugate Gamma"):
        plots.plot_diagnostics(pumps["complete"])


@pytest.mark.parametrize(
    ("priors", "nodes"),
    [
        (None, {r"$\alpha$", r"$\beta$"}),
        ({"mu": "Gamma(1, 1)", "alpha": "Exponential(1)"}, {r"$\mu$", r"$\alpha$"}),
    ],
)
def test_diagram_of_event_counts_in_an_exposure(priors, nodes):
    for model in build("all", priors, family="gamma-poisson"):
        ax = plots.plot_model_diagram(model, n_groups=10, group_name="pump")
        found = texts(ax)
        assert "$E_i$" in found and "$n_i$" not in found
        assert any("Poisson($E_i" in t for t in found) and not any("Binomial" in t for t in found)
        if model.pooling == "partial":
            assert nodes <= set(found) and any(r"Gamma($\alpha$, $\beta$)" in t for t in found)
        else:
            assert any("Gamma(alpha=0.5, beta=0)" in t for t in found)


def test_ppc_figure_for_event_counts(pumps):
    from poolwise.analysis.checks import COUNTS, RATE_STATISTICS, ppc

    fig = plots.plot_ppc(pumps)
    drawn(fig)
    names = list(RATE_STATISTICS)
    assert len(fig.axes) == 3 * len(names)
    row = list(pumps).index("partial")
    table = ppc(pumps["partial"])
    for col, name in enumerate(names):
        ax = fig.axes[row * len(names) + col]
        assert table.loc[name, "observed"] in [line.get_xdata()[0] for line in ax.get_lines()]
        assert ax.get_title(loc="right") == f"p = {number(table.loc[name, 'p_value'], 2)}"
        if name in COUNTS:  # whole-number bins for a count of groups
            edges = [patch.get_x() for patch in ax.patches]
            assert np.allclose(np.mod(edges, 1.0), 0.5)
    assert [ax.get_xlabel() for ax in fig.axes[-len(names) :]] == [RATE_STATISTICS[n][0] for n in names]
    assert "y/E" in fig.axes[-len(names)].get_xlabel()


def test_pairwise_of_rates(pumps):
    ax = plots.plot_pairwise(pumps["partial"])
    drawn(ax.figure)
    assert len(ax.get_xticklabels()) == 10


# --- a sampler ------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:the chains disagree")  # 300 draws: r-hat may exceed 1.01
def test_every_figure_from_nuts_draws(pumps):
    """NUTS (300 draws per chain): the figures work from draws and agree with the exact engine."""
    sampled = pw.fit(
        pw.datasets.load("pumps"),
        **COLUMNS,
        engine="nuts",
        draws=300,
        tune=300,
        random_seed=5,
        progressbar=False,
    )
    # Partial pooling sampled; the closed forms beside it (NUTS on Jeffreys' improper prior is not
    # what this is about).
    nuts = {"partial": sampled, "complete": pumps["complete"], "none": pumps["none"]}
    for fig in (
        plots.plot_forest(nuts).figure,
        plots.plot_shrinkage(nuts).figure,
        plots.plot_hyperparameters(nuts),
        plots.plot_new_group(nuts),
        plots.plot_diagnostics(sampled),
    ):
        drawn(fig)
    hyper = plots.plot_hyperparameters(nuts)
    assert any("kernel density" in t for t in texts(hyper.axes[0]))
    assert any(t.startswith("mode (MAP)") and "\nmedian " in t for t in texts(hyper.axes[0]))
    traced = plots.plot_diagnostics(sampled)
    assert {"mu (value)", "alpha (value)", "beta (value)"} <= {ax.get_xlabel() for ax in traced.axes}
    # E[beta/(beta+E_i)] from 1200 draws: each value in [0, 1] (sd <= 0.5), draws correlated a
    # little (ESS above 500): 4 standard errors of 0.5 / sqrt(500) is 0.09; they agree far better.
    exact = plots.shrinkage_table(pumps)["shrinkage"]
    np.testing.assert_allclose(plots.shrinkage_table(nuts)["shrinkage"], exact, atol=0.09)
    assert (
        not compute.means_exist(sampled, "mu").any() and not compute.means_exist(sampled, "theta_new").any()
    )
    assert compute.means_exist(sampled, "alpha").all() and compute.means_exist(sampled, "theta").all()
