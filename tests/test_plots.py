"""Figures: rendered for SpaceX and for 300 groups, and checked for what they draw."""

import io
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import poolwise as pw
from poolwise import plots
from poolwise.presentation.plots._common import number

matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

SPACEX_ORDER = ["Falcon Heavy", "Falcon 9", "Starship", "Falcon 1"]  # highest raw rate first


def many_groups(n=300, seed=20240611):
    """300 groups of very different sizes; one with no trials, names that are hard to draw."""
    rng = np.random.default_rng(seed)
    trials = rng.integers(1, 400, n)
    trials[7] = 0
    successes = rng.binomial(trials, rng.beta(8, 3, n))
    names = [f"clinic {i:03d}" for i in range(n)]
    names[3] = "$\\frac$ 50% off"  # would be mathtext (and a parse error) if not escaped
    names[4] = "<b>bold</b> & co"
    names[5] = "a very long group name that a figure has to shorten somehow, or it runs off"
    return pd.DataFrame({"clinic": names, "cured": successes, "patients": trials})


@pytest.fixture(scope="module")
def many():
    return pw.fit_all(many_groups(), group="clinic", successes="cured", trials="patients", random_seed=3)


def drawn(fig):
    """Render to SVG in memory: layout and every text are really drawn (mathtext errors surface here)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    assert buffer.tell() > 1000
    return buffer


def title(ax):
    """The axes' title, wherever it is placed (poolwise puts titles on the left)."""
    return " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


# --- forest ---------------------------------------------------------------------------------------


def test_forest_spacex_draws_every_group_under_each_pooling(spacex):
    ax = plots.plot_forest(spacex)
    drawn(ax.figure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Falcon Heavy  (9/9)", "Falcon 9  (301/304)", "Starship  (5/9)", "Falcon 1  (2/5)"]
    # One interval per group for no and for partial pooling, at the table's bounds.
    segments = [c for c in ax.collections if len(c.get_segments()) == 4]
    assert len(segments) == 2
    partial = spacex["partial"].group_table().loc[SPACEX_ORDER]
    ends = sorted(tuple(np.round(s[:, 0], 12)) for s in segments[1].get_segments())
    expected = sorted(tuple(np.round(r, 12)) for r in partial[["hdi94_lb", "hdi94_ub"]].to_numpy())
    assert ends == expected
    # Complete pooling as a band at its interval.
    complete = spacex["complete"].summary().loc["theta"]
    band = [p for p in ax.patches if p.get_width() > 0]
    assert any(np.isclose(p.get_x(), complete["hdi94_lb"]) for p in band)
    assert legend_texts(ax) == ["no pooling", "partial pooling (hierarchical)", "complete pooling (94% HDI)"]
    assert "94% HDI" in ax.get_xlabel() and "success probability" in ax.get_xlabel()
    assert "Mission" in ax.get_ylabel()
    assert "no pooling" in title(ax) and "partial pooling" in title(ax)


def test_forest_orders_by_size_and_takes_an_axes(spacex):
    fig, ax = plt.subplots()
    out = plots.plot_forest(spacex, order="trials", ci_kind="eti", ci_prob=0.5, ax=ax)
    assert out is ax
    assert ax.get_yticklabels()[0].get_text().startswith("Falcon 9")
    assert "50% ETI" in ax.get_xlabel()
    with pytest.raises(ValueError, match="order must be one of"):
        plots.plot_forest(spacex, order="size")


def test_forest_of_300_groups_is_an_overview_with_every_group(many):
    ax = plots.plot_forest(many)
    drawn(ax.figure)
    n = many.data.n_groups
    assert sum(len(c.get_segments()) for c in ax.collections if len(c.get_segments()) == n) == 2 * n
    labels = ax.get_yticklabels()
    assert 10 <= len(labels) <= 40  # readable: every k-th row labelled
    assert any("300 groups" in t for t in texts(ax))


def test_forest_pages_cover_every_group_once_on_one_axis(many):
    figs = plots.forest_pages(many, per_page=40)
    assert len(figs) == 8
    names = []
    limits = set()
    for fig in figs:
        ax = fig.axes[0]
        page = [t.get_text() for t in ax.get_yticklabels()]
        assert len(page) <= 40
        names += page
        limits.add(tuple(np.round(ax.get_xlim(), 12)))
    assert len(limits) == 1  # the same x-axis on every page
    assert len(names) == many.data.n_groups == len(set(names))
    assert names[-1].startswith("clinic 007")  # no trials, hence no raw rate: last
    assert names[-1].endswith("(0/0)")
    assert any(name.startswith(r"\$\frac\$ 50% off") for name in names)  # $ escaped, not mathtext
    assert any(name.startswith("a very long group name") and "…" in name for name in names)
    drawn(figs[0])
    with pytest.raises(ValueError, match="page must be"):
        plots.plot_forest(many, page=8)


# --- shrinkage ------------------------------------------------------------------------------------


def test_shrinkage_spacex_arrows_sizes_lines_and_table(spacex):
    ax = plots.plot_shrinkage(spacex)
    fig = ax.figure
    drawn(fig)
    table = spacex["partial"].group_table()
    points = ax.collections[-1]
    np.testing.assert_allclose(
        np.sort(points.get_offsets(), axis=0),
        np.sort(table[["raw_rate", "mean"]].to_numpy(), axis=0),
        rtol=1e-12,
    )
    sizes = dict(zip(table.index, points.get_sizes(), strict=True))
    assert sizes["Falcon 9"] > sizes["Starship"] > sizes["Falcon 1"]  # by trials
    arrows = [a for a in ax.texts if a.get_text() == "" and a.arrow_patch is not None]
    assert len(arrows) == 4
    assert sorted(t for t in texts(ax) if t) == sorted(table.index)
    legend = legend_texts(ax)
    assert f"complete pooling: {number(spacex['complete'].summary().loc['theta', 'mean'])}" in legend
    assert "population mean E[μ]: 0.807" in legend
    assert any(t.startswith("n = ") for t in legend)
    assert "raw rate" in ax.get_xlabel() and "posterior mean" in ax.get_ylabel()
    assert "partial pooling" in title(ax)
    # The shrinkage-factor table beside it, most shrunk first.
    tax = fig.axes[1]
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in tax.tables[0].get_celld().items()}
    assert cells[(0, 4)] == "shrinkage B"
    assert [cells[(r, 0)] for r in range(1, 5)][0] == "Falcon 1"
    assert cells[(4, 0)] == "Falcon 9"


def test_shrinkage_of_300_groups(many):
    ax = plots.plot_shrinkage(many)
    drawn(ax.figure)
    assert len(ax.figure.axes) == 1  # no table beside: too many rows
    assert len(ax.collections[-1].get_offsets()) == many.data.n_groups - 1  # the 0-trial group
    assert "1 group with no trials not shown" in legend_texts(ax)
    named = [t for t in texts(ax) if t]
    assert 1 <= len(named) <= 6


def test_shrinkage_table_is_the_expected_weight_of_the_population(spacex, many):
    table = plots.shrinkage_table(spacex)
    assert list(table.index) == list(spacex.data.groups)
    grid = spacex["partial"].hyper_grid()
    kappa, w = (grid["alpha"] + grid["beta"]).ravel(), grid["weight"].ravel()
    for name, n in zip(table.index, table["trials"], strict=True):
        assert table.loc[name, "shrinkage"] == pytest.approx(np.sum(w * kappa / (kappa + n)), rel=1e-12)
    assert table.loc["Falcon 9", "shrinkage"] < 0.05 < table.loc["Falcon 1", "shrinkage"]
    big = plots.shrinkage_table(many)
    assert big.loc["clinic 007", "shrinkage"] == pytest.approx(1.0)  # no trials: all population
    order = np.argsort(big["trials"].to_numpy())
    assert np.all(np.diff(big["shrinkage"].to_numpy()[order]) <= 1e-15)  # more trials, less shrinkage
    with pytest.raises(ValueError, match="needs a partial-pooling fit"):
        plots.shrinkage_table({"none": spacex["none"]})


# --- hyperparameters ------------------------------------------------------------------------------


def test_mu_has_its_mode_mean_and_hdi_written_on_it(spacex):
    fit = spacex["partial"]
    ax = plots.plot_hyper_density(spacex, "mu")
    drawn(ax.figure)
    mu = fit.summary().loc["mu"]
    box = next(t for t in texts(ax) if t.startswith("mode (MAP)"))
    assert box == (
        f"mode (MAP) {number(fit.mode('mu'))}\nmean {number(mu['mean'])}\n"
        f"94% HDI [{number(mu['hdi94_lb'])}, {number(mu['hdi94_ub'])}]"
    )
    assert "mode (MAP) 0.859" in box  # the seed's MAP, exactly
    assert "μ" in ax.get_xlabel() and "density" in ax.get_ylabel()
    assert "partial pooling" in title(ax)
    x, f = ax.lines[0].get_data()
    # The mode sits at the drawn curve's peak, to within the tabulation's spacing.
    assert abs(x[np.argmax(f)] - fit.mode("mu")) <= np.max(np.diff(x))


def test_hyperparameters_figure(spacex, many):
    for fits in (spacex, many):
        fig = plots.plot_hyperparameters(fits)
        drawn(fig)
        mu_ax, kappa_ax, joint = fig.axes[:3]
        assert any(t.startswith("mode (MAP)") for t in texts(kappa_ax))
        assert "κ" in kappa_ax.get_xlabel()
        assert joint.get_yscale() == "log"
        assert "μ" in joint.get_xlabel() and "κ" in joint.get_ylabel()
        labels = {t.get_text() for t in joint.texts}
        assert {"50%", "95%"} <= labels
        assert legend_texts(joint) == ["joint mode"]
        mode_x, mode_y = joint.lines[0].get_data()
        mu = fits["partial"].summary().loc["mu"]
        assert mu["hdi94_lb"] <= mode_x[0] <= mu["hdi94_ub"]
        assert "Joint posterior" in title(joint)


# --- new group ------------------------------------------------------------------------------------


def test_new_group_figure(spacex):
    fig = plots.plot_new_group(spacex)
    drawn(fig)
    theta_ax, y_ax = fig.axes
    assert legend_texts(theta_ax) == [
        "complete pooling (94% HDI)",
        "no pooling: the prior",
        "partial pooling (hierarchical)",
    ]
    assert any("mean 0.807" in t for t in texts(theta_ax))
    assert "θ_new" in theta_ax.get_xlabel()
    bars = [p for p in y_ax.patches if p.get_height() > 0]
    assert len(bars) == 10  # y_new = 0..9 for the median vehicle's 9 launches
    assert "n = 9 trials" in y_ax.get_xlabel()
    heights = np.array([b.get_height() for b in bars])
    np.testing.assert_allclose(heights, plots.predictive_counts(spacex["partial"], 9).to_numpy(), rtol=1e-12)
    assert set(legend_texts(y_ax)) == {"complete pooling", "no pooling", "partial pooling (hierarchical)"}


def test_new_group_with_many_trials(many):
    ax = plots.plot_y_new(many, trials=250)
    drawn(ax.figure)
    assert "n = 250 trials" in ax.get_xlabel()


@pytest.mark.parametrize("pooling", ["none", "complete", "partial"])
def test_predictive_counts_mean_is_n_times_theta_new(spacex, pooling):
    fit = spacex[pooling]
    pmf = plots.predictive_counts(fit, 9)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    mean = float(np.sum(pmf.index * pmf.to_numpy()))
    # E[y_new] = n E[theta_new]: exact algebra for the closed forms, the grid's tolerance for partial.
    tol = 1e-10 if pooling != "partial" else 1e-4
    assert mean == pytest.approx(9 * fit.new_group().summary["mean"], abs=9 * tol)


def test_predictive_counts_match_binomial_draws(spacex):
    """Against the Monte Carlo route (a binomial per theta_new draw): within 4 standard errors."""
    fit = spacex["partial"]
    theta = fit.new_group().draws.ravel()
    rng = np.random.default_rng(1)
    y = rng.binomial(9, theta)
    freq = np.bincount(y, minlength=10) / y.size
    pmf = plots.predictive_counts(fit, 9).to_numpy()
    se = np.sqrt(pmf * (1 - pmf) / y.size)
    # 10 cells at 4 standard errors: false alarm rate about 10 * 6e-5.
    assert np.all(np.abs(freq - pmf) <= 4 * se + 1e-12)


def test_predictive_counts_closed_form_complete_pooling(spacex):
    pmf = plots.predictive_counts(spacex["complete"], 5)
    a, b = 0.5 + 317, 0.5 + 10  # Beta(1/2, 1/2) prior, 317 successes in 327 trials
    np.testing.assert_allclose(pmf.to_numpy(), stats.betabinom.pmf(np.arange(6), 5, a, b), rtol=1e-10)
    with pytest.raises(ValueError, match="trials must be"):
        plots.predictive_counts(spacex["complete"], 0)


# --- diagnostics ----------------------------------------------------------------------------------


def test_exact_diagnostics_show_the_grid_and_its_edge_mass(spacex):
    fig = plots.plot_diagnostics(spacex)
    drawn(fig)
    grid_ax = fig.axes[0]
    d = spacex["partial"].diagnostics
    assert d["grid_nodes"] in title(grid_ax)
    assert "logit μ" in grid_ax.get_xlabel() and "log κ" in grid_ax.get_ylabel()
    mass_ax = next(ax for ax in fig.axes if ax.get_yscale() == "log")
    assert any(f"edge mass {number(d['edge_mass'])}" in t for t in texts(mass_ax))
    assert any("warning level" in t for t in legend_texts(mass_ax))
    with pytest.raises(ValueError, match="nothing to diagnose"):
        plots.plot_diagnostics(spacex["none"])


class FakeNuts:
    """A fit as a sampling engine returns it: draws and sample stats, no grid, no exact density."""

    engine = "nuts"

    def __init__(self, fit, divergent=3):
        self._fit = fit
        self.model, self.data, self.dim = fit.model, fit.data, fit.dim
        self.random_seed, self.n_draws, self.chains = fit.random_seed, fit.n_draws, fit.chains
        self.warnings = ()
        tree = fit.idata.copy()
        diverging = np.zeros((fit.chains, fit.n_draws), bool)
        diverging.flat[:divergent] = True
        import xarray as xr

        tree["sample_stats"] = xr.Dataset(
            {"diverging": (("chain", "draw"), diverging)},
            coords={"chain": np.arange(fit.chains), "draw": np.arange(fit.n_draws)},
        )
        self.idata = tree
        self.diagnostics = {"divergences": divergent, "r_hat_max": 1.002, "ess_bulk_min": 3900.0}

    def __getattr__(self, name):
        # Questions a real NUTS fit answers from its draws (ranks, P(best), ...): ask the wrapped fit.
        return getattr(self._fit, name)

    def hyper_grid(self):
        raise ValueError("engine='nuts' samples the hyperparameters; it has no grid")

    def density(self, name, group=None):
        raise NotImplementedError

    def mode(self, name):
        raise NotImplementedError

    def summary(self, *args):
        return self._fit.summary(*args)

    def group_table(self, *args):
        return self._fit.group_table(*args)

    def new_group(self, *args):
        return self._fit.new_group(*args)


def test_sampler_diagnostics_traces_ranks_and_divergences(spacex, many):
    fake = FakeNuts(spacex["partial"], divergent=3)
    fig = plots.plot_diagnostics(fake)
    drawn(fig)
    assert "3 divergent transitions" in fig.get_suptitle()
    assert any("draw" in ax.get_xlabel() for ax in fig.axes)
    rank = plots.plot_diagnostics(fake, kind="rank")
    assert {ax.get_xlabel() for ax in rank.axes if ax.get_xlabel()} == {"fractional rank among all chains"}
    # No pooling with 300 groups: the traces of the 4 worst groups, named in a legend.
    none = FakeNuts(many["none"], divergent=0)
    fig = plots.plot_diagnostics(none)
    drawn(fig)
    entries = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert len(entries) == 4 and all(e.startswith("theta[") for e in entries)


def test_sampling_engine_falls_back_to_draws(spacex):
    fake = {"partial": FakeNuts(spacex["partial"]), "complete": spacex["complete"]}
    ax = plots.plot_hyper_density(fake, "mu")
    assert "kernel density" in " ".join(texts(ax))
    box = next(t for t in texts(ax) if t.startswith("mode (MAP)"))
    mode = float(box.split("\n")[0].split()[-1])
    assert mode == pytest.approx(spacex["partial"].mode("mu"), abs=0.05)  # KDE of 4000 draws
    joint = plots.plot_hyper_joint(fake)
    assert "kernel density" in " ".join(texts(joint))
    table = plots.shrinkage_table(fake)
    exact = plots.shrinkage_table(spacex)
    # Mean of kappa/(kappa+n) over 4000 independent draws: sd < 0.5, so 4 se < 0.035.
    np.testing.assert_allclose(table["shrinkage"], exact["shrinkage"], atol=0.035)
    pmf = plots.predictive_counts(fake["partial"], 9)
    np.testing.assert_allclose(pmf, plots.predictive_counts(spacex["partial"], 9), atol=0.02)


# --- conventions ----------------------------------------------------------------------------------


def test_pairwise_heat_map_shows_the_probabilities_in_rank_order(spacex, many):
    fit = spacex["partial"]
    ax = plots.plot_pairwise(fit)
    drawn(ax.figure)
    order = fit.ranks()["mean_rank"].sort_values().index
    assert [t.get_text() for t in ax.get_yticklabels()] == list(order)
    shown = np.asarray(ax.images[0].get_array())
    expected = fit.pairwise().loc[order, order].to_numpy()
    off = ~np.eye(len(order), dtype=bool)
    np.testing.assert_array_equal(shown[off], expected[off])
    assert np.ma.getmaskarray(shown).diagonal().all() or np.isnan(shown.diagonal()).all()
    assert len(ax.texts) == len(order) * (len(order) - 1)  # every off-diagonal cell is written
    with pytest.raises(ValueError, match="too many"):
        plots.plot_pairwise(many["partial"])
    plt.close("all")


def test_colours_are_the_same_for_a_pooling_in_every_figure(spacex):
    forest = plots.plot_forest(spacex)
    shrink = plots.plot_shrinkage(spacex, table=False)
    new = plots.plot_theta_new(spacex)
    partial = matplotlib.colors.to_hex(plots.COLORS["partial"])
    assert partial in {matplotlib.colors.to_hex(c.get_color()[0]) for c in forest.collections}
    assert matplotlib.colors.to_hex(shrink.collections[-1].get_facecolor()[0]) == partial
    assert partial in {matplotlib.colors.to_hex(line.get_color()) for line in new.lines}


def test_importing_plots_does_not_import_matplotlib():
    code = (
        "import sys, poolwise.presentation.plots, poolwise.presentation.report; "
        "print([m for m in ('matplotlib', 'arviz_plots') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
