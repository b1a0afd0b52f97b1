"""Figures of the normal-normal family (eight schools, BCG): what each figure draws, against the fit."""

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import poolwise as pw
from poolwise import plots

matplotlib.use("Agg", force=True)


def fit_dataset(name):
    info = pw.datasets.info(name)
    return pw.fit_all(pw.datasets.load(name), random_seed=7, **info.columns)


@pytest.fixture(scope="module")
def schools():
    """BDA3's eight schools, the three poolings (flat prior on mu, uniform on tau)."""
    return fit_dataset("eight_schools")


@pytest.fixture(scope="module")
def bcg():
    """13 BCG trials, log risk ratios."""
    return fit_dataset("bcg")


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


# --- forest ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_forest_rows_intervals_and_observed_estimates(dataset, request):
    fits = request.getfixturevalue(dataset)
    data = fits.data
    ax = plots.plot_forest(fits)
    drawn(ax.figure)
    # Highest estimate first, each row labelled with the group's estimate ± standard error.
    order = np.argsort(-data.estimate, kind="stable")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split("  (")[0] for label in labels] == list(data.groups[order])
    assert labels[0].endswith(f"({data.estimate[order[0]]:.3g} ± {data.std_error[order[0]]:.3g})")
    g = data.n_groups
    segments = [c for c in ax.collections if len(c.get_segments()) == g]
    assert len(segments) == 2
    # No pooling under its flat prior is N(y, s^2): the 94% HDI is y ± z s, z the 97% normal
    # quantile. The engine's HDI is found to 1e-8 in probability: endpoints within 1e-6 s.
    z = stats.norm.ppf(0.97)
    ends = np.array([s[:, 0] for s in segments[0].get_segments()])
    y, s = data.estimate[order], data.std_error[order]
    np.testing.assert_allclose(ends[:, 0], y - z * s, atol=1e-6 * s.max())
    np.testing.assert_allclose(ends[:, 1], y + z * s, atol=1e-6 * s.max())
    partial = fits["partial"].group_table().iloc[order]
    ends = np.array([s[:, 0] for s in segments[1].get_segments()])
    np.testing.assert_array_equal(ends, partial[["hdi94_lb", "hdi94_ub"]].to_numpy())
    # The observed estimates, one tick per row, top row first.
    ticks = next(line for line in ax.lines if line.get_marker() == "|")
    np.testing.assert_array_equal(ticks.get_xdata(), y)
    np.testing.assert_array_equal(ticks.get_ydata(), np.arange(g)[::-1])
    # The effect scale, not [0, 1]: every interval and estimate inside the axis.
    lo, hi = ax.get_xlim()
    assert lo < (y - z * s).min() and hi > (y + z * s).max()
    legend = legend_texts(ax)
    assert "no pooling (= estimate ± 1.88·s)" in legend and "observed estimate" in legend
    assert "complete pooling (94% HDI)" in legend
    assert "effect" in ax.get_xlabel() and "estimate ± standard error" in ax.get_ylabel()


def test_forest_orders_by_precision(bcg):
    ax = plots.plot_forest(bcg, order="trials", ci_kind="eti", ci_prob=0.5)
    first = bcg.data.groups[np.argmin(bcg.data.std_error)]
    assert ax.get_yticklabels()[0].get_text().startswith(first)
    assert "most precise" in " ".join(texts(ax))
    assert "50% ETI" in ax.get_xlabel()
    pages = plots.forest_pages(bcg, per_page=5)
    assert len(pages) == 3


# --- shrinkage ------------------------------------------------------------------------------------


def mu_hat(tau, y, s):
    """``mu_hat(tau)`` and ``V_mu(tau)`` under a flat prior on mu (BDA3 eq. 5.20)."""
    v = s**2 + tau**2
    v_mu = 1.0 / np.sum(1.0 / v)
    return v_mu * np.sum(y / v), v_mu


def tau_posterior(y, s):
    """``p(tau | y)`` and an integrator over ``[0, inf)``, written from BDA3 independently.

    Flat prior on mu, uniform on tau: p(tau | y) ∝ V_mu^(1/2) prod v_i^(-1/2)
    exp(-sum (y_i - mu_hat)^2 / (2 v_i)), v_i = s_i^2 + tau^2 (BDA3 eqs. 5.20-5.21).
    """

    def unnormalised(tau):
        m, v_mu = mu_hat(tau, y, s)
        v = s**2 + tau**2
        return np.sqrt(v_mu) * np.prod(v**-0.5) * np.exp(-0.5 * np.sum((y - m) ** 2 / v))

    def integral(f):
        # Split at many standard errors: the mass sits below, the tail beyond is a power of tau.
        edge = 20 * np.max(s)
        head = integrate.quad(f, 0, edge, epsabs=0, epsrel=1e-12, limit=200)[0]
        return head + integrate.quad(f, edge, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]

    norm = integral(unnormalised)
    return (lambda tau: unnormalised(tau) / norm), integral


def expected_shrinkage(y, s):
    """``E[s_i^2 / (s_i^2 + tau^2) | y]`` by adaptive quadrature."""
    posterior, integral = tau_posterior(y, s)
    return np.array([integral(lambda t, si=si: si**2 / (si**2 + t**2) * posterior(t)) for si in s])


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_shrinkage_factor_is_the_expected_weight_of_the_population(dataset, request):
    fits = request.getfixturevalue(dataset)
    priors = fits["partial"].model.priors
    assert (str(priors["mu"]), str(priors["tau"])) == ("Flat()", "HalfFlat()")  # as the reference assumes
    table = plots.shrinkage_table(fits)
    y, s = fits.data.estimate, fits.data.std_error
    # The trapezoid rule on the engine's line in u = asinh(tau/c) converges faster than any power
    # of the spacing for this smooth integrand, even in u at tau = 0 (the line starts there, or
    # where the density is below e^-30): far below the refinement's 1e-4 on the summaries. 1e-10
    # leaves room for quad's own 1e-12 relative error.
    np.testing.assert_allclose(table["shrinkage"].to_numpy(), expected_shrinkage(y, s), rtol=0, atol=1e-10)
    assert list(table.columns[:2]) == ["estimate", "std_error"]
    np.testing.assert_array_equal(table["moved"], table["partial_mean"] - y)
    # Larger standard error, more shrinkage (B is increasing in s for every tau).
    order = np.argsort(s, kind="stable")
    assert np.all(np.diff(table["shrinkage"].to_numpy()[order]) >= -1e-15)


def test_shrinkage_plot_draws_estimates_to_means_sized_by_precision(schools):
    ax = plots.plot_shrinkage(schools)
    fig = ax.figure
    drawn(fig)
    table = schools["partial"].group_table()
    points = ax.collections[-1]
    np.testing.assert_array_equal(points.get_offsets(), table[["estimate", "mean"]].to_numpy())
    # Marker area proportional to the precision 1/s.
    areas = points.get_sizes()
    np.testing.assert_allclose(areas * table["std_error"], areas[0] * table["std_error"].iloc[0], rtol=1e-12)
    assert "observed estimate" in ax.get_xlabel()
    lo, hi = ax.get_xlim()
    assert lo < -3 and hi > 28  # the effect scale, schools C (-3) to A (28)
    legend = legend_texts(ax)
    assert "no shrinkage (mean = estimate)" in legend
    assert {"s = 18", "s = 9"} <= set(legend)
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in fig.axes[1].tables[0].get_celld().items()}
    assert [cells[(0, c)] for c in range(4)] == ["school", "y ± s", "partial", "shrinkage B"]
    shrink = plots.shrinkage_table(schools)["shrinkage"]
    assert cells[(1, 0)] == shrink.idxmax() and cells[(1, 3)] == f"{shrink.max():.2f}"
    assert "E[s²/(s²+τ²) | y]" in title(fig.axes[1])


# --- hyperparameters ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_tau_density_is_the_exact_posterior_with_its_numbers(dataset, request):
    fits = request.getfixturevalue(dataset)
    fit = fits["partial"]
    ax = plots.plot_hyper_density(fits, "tau")
    drawn(ax.figure)
    x, f = ax.lines[0].get_data()
    posterior, _ = tau_posterior(fits.data.estimate, fits.data.std_error)
    # The curve is the exact density, normalised by the engine's trapezoid integral over its line
    # (spectrally accurate): within 1e-8 of the reference's peak.
    reference = np.array([posterior(t) for t in x])
    np.testing.assert_allclose(f, reference, rtol=0, atol=1e-8 * reference.max())
    tau = fit.summary().loc["tau"]
    assert x[0] <= tau["hdi94_lb"] and x[-1] >= tau["hdi94_ub"]  # the whole interval is shown
    box = next(t for t in texts(ax) if t.startswith("mode (MAP)"))
    assert f"mean {plots._common.number(tau['mean'])}" in box
    assert "τ" in ax.get_xlabel() and "between groups" in ax.get_xlabel()
    with pytest.raises(ValueError, match="mu, tau for the normal-normal family"):
        plots.plot_hyper_density(fits, "kappa")


def test_eight_schools_tau_peaks_at_zero(schools):
    """BDA3 Fig. 5.5: under the uniform prior, p(tau | y) is largest at tau = 0."""
    ax = plots.plot_hyper_density(schools, "tau")
    x, f = ax.lines[0].get_data()
    assert x[0] == 0.0 and np.argmax(f) == 0
    assert "mode (MAP) 0.000" in " ".join(texts(ax))


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_hyperparameters_figure_has_mu_tau_and_their_joint(dataset, request):
    fits = request.getfixturevalue(dataset)
    fig = plots.plot_hyperparameters(fits)
    drawn(fig)
    mu_ax, tau_ax, joint = fig.axes[:3]
    assert "μ" in mu_ax.get_xlabel() and "τ" in tau_ax.get_xlabel()
    mu = fits["partial"].summary().loc["mu"]
    x, f = mu_ax.lines[0].get_data()
    # The density of mu as drawn: the plot trims 0.1% of the mass in each tail, and the trapezoid
    # rule on its points (spaced up to ~sd/12 near the peak) errs by about (h/sd)^2/12 < 1e-3.
    mass = np.trapezoid(f, x)
    assert 0.997 < mass < 1.001
    assert np.trapezoid(x * f, x) / mass == pytest.approx(mu["mean"], abs=0.02 * mu["sd"])
    # mu | y mixes N(mu_hat(tau), V_mu(tau)) over p(tau | y): the curve at a few of its points.
    # The engine mixes over every node of its line with trapezoid weights, spectrally accurate
    # for this smooth integrand: about 4e-14 of the peak here; 1e-9 allowed.
    pick = np.linspace(0, x.size - 1, 7).astype(int)
    reference = mixed_over_tau(fits.data.estimate, fits.data.std_error, x[pick], 0.0, new_group=False)
    np.testing.assert_allclose(f[pick], reference, rtol=0, atol=1e-9 * f.max())
    assert joint.get_yscale() == "linear" and joint.get_ylim()[0] == 0.0
    assert "(μ, τ)" in title(joint)
    assert {"50%", "95%"} <= {t.get_text() for t in joint.texts}
    # The joint mode sits at mu_hat(tau) of its tau (mu | tau, y is normal with that mean),
    # to within the mu grid's spacing.
    (mode_mu,), (mode_tau,) = joint.lines[0].get_data()
    centre, _ = mu_hat(mode_tau, fits.data.estimate, fits.data.std_error)
    spacing = np.diff(joint.get_xlim())[0] / 50
    assert abs(mode_mu - centre) <= spacing


# --- a new group ----------------------------------------------------------------------------------


def mixed_over_tau(y, s, x, extra_var, *, new_group=True):
    """``∫ N(x; mu_hat(tau), V_mu(tau) [+ tau^2] + extra_var) p(tau | y) dtau`` by quadrature.

    With ``new_group`` the density of a new group's effect (plus ``extra_var``), else of ``mu``.
    """
    posterior, integral = tau_posterior(y, s)

    def component(tau, point):
        m, v_mu = mu_hat(tau, y, s)
        return stats.norm.pdf(point, m, np.sqrt(v_mu + new_group * tau**2 + extra_var)) * posterior(tau)

    return np.array([integral(lambda t, p=p: component(t, p)) for p in x])


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_new_group_figure_effect_and_new_estimate(dataset, request):
    fits = request.getfixturevalue(dataset)
    y, s = fits.data.estimate, fits.data.std_error
    fig = plots.plot_new_group(fits)
    drawn(fig)
    theta_ax, y_ax = fig.axes
    # theta_new ~ N(mu, tau^2), mu and tau integrated out: its drawn density at a few of its points.
    # The engine mixes over its coarser line for the groups (refined until summaries move < 1e-4),
    # pruned of its lightest nodes: about 1e-7 of the peak here; 1e-6 allowed.
    x, f = next(
        line for line in theta_ax.lines if line.get_label() == "partial pooling (hierarchical)"
    ).get_data()
    pick = np.linspace(0, x.size - 1, 7).astype(int)
    reference = mixed_over_tau(y, s, x[pick], 0.0)
    np.testing.assert_allclose(f[pick], reference, rtol=0, atol=1e-6 * f.max())
    note = "no pooling: not drawn (flat prior,\nno proper prediction)"
    assert note in legend_texts(theta_ax) and note in legend_texts(y_ax)
    lo, hi = theta_ax.get_xlim()
    assert lo < float(fits["partial"].new_group().summary["hdi94_lb"]) and hi > 0  # the effect scale
    # y_new ~ N(theta_new, s^2) with s the median study's: partial and complete pooling's curves.
    s_new = float(np.median(s))
    assert f"s = {plots._common.number(s_new)}" in y_ax.get_xlabel()
    lines = {line.get_label(): line.get_data() for line in y_ax.lines}
    x, f = lines["partial pooling (hierarchical)"]
    pick = np.linspace(0, x.size - 1, 7).astype(int)
    reference = mixed_over_tau(y, s, x[pick], s_new**2)
    # The figure mixes over the line's nodes with their trapezoid weights: spectrally accurate.
    np.testing.assert_allclose(f[pick], reference, rtol=0, atol=1e-8 * f.max())
    # Complete pooling: theta ~ N(sum(y/s^2)/sum(1/s^2), 1/sum(1/s^2)) exactly (flat prior).
    x, f = lines["complete pooling"]
    precision = np.sum(1 / s**2)
    np.testing.assert_allclose(
        f, stats.norm.pdf(x, np.sum(y / s**2) / precision, np.sqrt(1 / precision + s_new**2)), rtol=1e-10
    )
    box = next(t for t in texts(y_ax) if t.startswith("partial pooling"))
    assert "94% equal-tailed" in box


def test_new_estimate_with_a_given_standard_error_and_binomial_only_counts(schools):
    ax = plots.plot_y_new(schools, std_error=2.5)
    assert "s = 2.500" in ax.get_xlabel()
    with pytest.raises(ValueError, match="std_error="):
        plots.plot_y_new(schools, trials=10)
    with pytest.raises(ValueError, match="std_error must be"):
        plots.plot_y_new(schools, std_error=0.0)
    with pytest.raises(NotImplementedError, match="binomial counts"):
        plots.predictive_counts(schools["partial"], 10)
    with pytest.raises(ValueError, match="no proper new group"):
        plots.plot_theta_new({"none": schools["none"]})


# --- diagnostics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_exact_diagnostics_show_the_line_over_tau(dataset, request):
    fits = request.getfixturevalue(dataset)
    fit = fits["partial"]
    d = fit.diagnostics
    fig = plots.plot_diagnostics(fits)
    drawn(fig)
    line_ax, level_ax = fig.axes[:2]
    assert d["grid_nodes"] in title(line_ax) and "u = asinh(τ / c)" in line_ax.get_xlabel()
    assert line_ax.get_yscale() == "log"
    u, mass = line_ax.lines[0].get_data()
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    # The ends: tau = 0 is a natural bound (eight schools peaks there); any other end of the line
    # must hold less than the warning level, as the engine's edge mass says.
    ends = [mass[-1]] + ([] if u[0] == 0.0 else [mass[0]])
    assert max(ends) < 1e-8 and d["edge_mass"] < 1e-8
    assert (u[0] == 0.0) == (dataset == "schools")
    # One curve per resolution the engine tried, each the exact density of tau on its nodes,
    # normalised by its own trapezoid rule in u, which converges spectrally: even the coarsest
    # (33 nodes) is within 5e-12 of the reference's peak here; 1e-9 allowed.
    assert legend_texts(level_ax) == [f"{n + 1} nodes" for n in d["levels"]]
    posterior, _ = tau_posterior(fits.data.estimate, fits.data.std_error)
    for curve in level_ax.lines:
        tau, f = curve.get_data()
        reference = np.array([posterior(t) for t in tau])
        np.testing.assert_allclose(f, reference, rtol=0, atol=1e-9 * reference.max())
    assert any(f"edge mass {plots._common.number(d['edge_mass'])}" in t for t in texts(level_ax))
    with pytest.raises(ValueError, match="conjugate Normal .* nothing to diagnose"):
        plots.plot_diagnostics(fits["complete"])


class FakeNuts:
    """A normal-normal fit as a sampling engine returns it: draws and sample stats, no line."""

    engine = "nuts"

    def __init__(self, fit):
        import xarray as xr

        self._fit = fit
        self.model, self.data, self.dim, self.family = fit.model, fit.data, fit.dim, fit.family
        self.chains, self.n_draws = fit.chains, fit.n_draws
        self.posterior = type("Drawn", (), {"line": None})()
        tree = fit.idata.copy()
        tree["sample_stats"] = xr.Dataset(
            {"diverging": (("chain", "draw"), np.zeros((fit.chains, fit.n_draws), bool))},
            coords={"chain": np.arange(fit.chains), "draw": np.arange(fit.n_draws)},
        )
        self.idata = tree
        self.diagnostics = {"divergences": 0}

    def __getattr__(self, name):
        return getattr(self._fit, name)

    def density(self, name, group=None):
        raise NotImplementedError

    def mode(self, name):
        raise NotImplementedError


def test_sampling_engine_works_from_the_draws(schools):
    fake = {"partial": FakeNuts(schools["partial"]), "complete": schools["complete"]}
    fig = plots.plot_diagnostics(fake["partial"])
    drawn(fig)
    assert {"mu", "tau"} <= {ax.get_title() for ax in fig.axes} | {
        ax.get_xlabel().split(" ")[0] for ax in fig.axes
    }
    table = plots.shrinkage_table(fake)
    exact = plots.shrinkage_table(schools)
    # Mean of s^2/(s^2+tau^2) in [0, 1] over 4000 independent draws: sd <= 0.5, 4 se < 0.032.
    np.testing.assert_allclose(table["shrinkage"], exact["shrinkage"], atol=0.032)
    ax = plots.plot_hyper_density(fake, "tau")
    assert "kernel density" in " ".join(texts(ax))
    x, _ = ax.lines[0].get_data()
    assert x.min() >= 0.0  # reflected at 0, not spilling below
    joint = plots.plot_hyper_joint(fake)
    assert "kernel density" in " ".join(texts(joint))
    y_ax = plots.plot_y_new(fake)
    x, f = next(line for line in y_ax.lines if line.get_label().startswith("partial")).get_data()
    exact_ax = plots.plot_y_new(schools)
    x0, f0 = next(line for line in exact_ax.lines if line.get_label().startswith("partial")).get_data()
    # A mixture over 4000 draws of (mu, tau): Monte Carlo error of a few % of the peak.
    np.testing.assert_allclose(np.interp(x0, x, f), f0, atol=0.05 * f0.max())


# --- posterior predictive checks ------------------------------------------------------------------


def test_ppc_figure_for_estimates(bcg):
    from poolwise.analysis.checks import NORMAL_STATISTICS, ppc

    fig = plots.plot_ppc(bcg)
    drawn(fig)
    names = list(NORMAL_STATISTICS)
    assert len(fig.axes) == 3 * len(names)
    y, s = bcg.data.estimate, bcg.data.std_error
    # The data's values, computed here from the estimates: sd (ddof 0), lowest, highest, and the
    # number of studies significant on their own at 5% (two-sided).
    observed = [np.std(y), y.min(), y.max(), float(np.sum(np.abs(y / s) > 1.96))]
    assert observed[3] == 8  # BCG: 8 of the 13 trials
    row = list(bcg).index("partial")
    y_rep = bcg["partial"].idata["posterior_predictive"]["y"].values.reshape(-1, y.size)
    replicated_sd = np.std(y_rep, axis=1)
    for col, (name, value) in enumerate(zip(names, observed, strict=True)):
        ax = fig.axes[row * len(names) + col]
        assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(value, rel=1e-12)
        if name == "sd_estimate":
            p = np.mean(replicated_sd > value) + 0.5 * np.mean(replicated_sd == value)
            assert ax.get_title(loc="right") == f"p = {plots._common.number(p, 2)}"
    assert fig.axes[-1].get_xlabel() == "estimates with |y/s| > 1.96"
    table = ppc(bcg["partial"])
    assert list(table.index) == names and table.loc["significant", "observed"] == 8


# --- pairwise, and many studies -------------------------------------------------------------------


def test_pairwise_from_the_draws_of_theta(bcg):
    fit = bcg["partial"]
    ax = plots.plot_pairwise(fit)
    drawn(ax.figure)
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(order) == sorted(bcg.data.groups)  # whole names: 1974 and 1976 told apart
    theta = fit.idata["posterior"]["theta"].transpose(..., fit.dim).values.reshape(-1, bcg.data.n_groups)
    where = {g: i for i, g in enumerate(bcg.data.groups)}
    shown = np.asarray(ax.images[0].get_array())
    a, b = where[order[0]], where[order[-1]]
    # Exactly the share of draws in which the top-ranked study's theta beats the last one's.
    assert shown[0, -1] == pytest.approx(np.mean(theta[:, a] > theta[:, b]), abs=1e-12)


def test_many_studies_forest_overview_and_shrinkage_without_table():
    rng = np.random.default_rng(20261125)
    n = 120
    s = rng.uniform(0.05, 0.6, n)
    y = rng.normal(rng.normal(0.3, 0.2, n), s)
    frame = pd.DataFrame({"trial": [f"trial {i:03d}" for i in range(n)], "effect": y, "se": s})
    fits = pw.fit_all(frame, group="trial", estimate="effect", std_error="se", random_seed=1)
    ax = plots.plot_forest(fits)
    drawn(ax.figure)
    assert any("120 groups" in t for t in texts(ax))
    ticks = next(line for line in ax.lines if line.get_marker() == "|")
    assert len(ticks.get_xdata()) == n
    shrink = plots.plot_shrinkage(fits)
    drawn(shrink.figure)
    assert len(shrink.figure.axes) == 1 and len(shrink.collections[-1].get_offsets()) == n


def test_no_pooling_with_a_proper_prior_predicts_from_its_prior():
    info = pw.datasets.info("eight_schools")
    prior = pw.priors.Normal(0, 30)
    fits = pw.fit_all(
        pw.datasets.load("eight_schools"), priors={"theta": prior}, random_seed=2, **info.columns
    )
    fig = plots.plot_new_group(fits, std_error=5.0)
    theta_ax, y_ax = fig.axes
    assert "no pooling: the prior" in legend_texts(theta_ax)
    # An unseen group under no pooling learns nothing from the others: theta_new ~ N(0, 30^2), so
    # y_new ~ N(0, 30^2 + 5^2), exactly.
    x, f = next(line for line in y_ax.lines if line.get_label() == "no pooling").get_data()
    np.testing.assert_allclose(f, stats.norm.pdf(x, 0.0, np.hypot(30.0, 5.0)), rtol=1e-10)
    forest = plots.plot_forest(fits)
    assert "no pooling" in legend_texts(forest)  # its interval is no longer the estimate ± z s
