"""The gamma-Poisson family through the study: model comparison, prior sensitivity and the checks.

Leave-one-group-out predictive densities are checked against closed forms (no and complete pooling,
negative binomials written here with scipy.stats) and against an independent brute-force integral
(partial pooling): every leave-one-out posterior refitted on a dense (log alpha, log beta) grid from
scipy.stats densities, the held-out group's negative binomial averaged over it.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

import poolwise as pw
from poolwise import checks
from poolwise.analysis.comparison import _grid_logo, compare, exact_logo
from poolwise.analysis.sensitivity import gamma_alternatives, prior_sensitivity
from poolwise.engines import exact

PUMPS = {"group": "pump", "events": "failures", "exposure": "hours"}

#: The engine's convergence tolerance (pw.fit's default tol): every summary it reports is converged
#: to it, and a log predictive density is such a summary of the same grid.
ENGINE_TOL = 1e-4

#: The brute-force reference's own error, measured: on the box below, 300 and 1200 nodes per axis
#: agree to 4e-15 (the trapezoid converges fast on a smooth integrand decaying at both ends), and a
#: box wider by 2-5 units each way moves the result by 1.3e-11 (the tails cut off); 1e-10 bounds both.
REFERENCE_ERROR = 1e-10
REFERENCE_BOX = ((-12.0, 8.0), (-25.0, 10.0))  # log alpha, log beta
REFERENCE_NODES = 400


@pytest.fixture(scope="module")
def pumps():
    return pw.datasets.load("pumps")


@pytest.fixture(scope="module")
def fits(pumps):
    return pw.fit_all(pumps, **PUMPS, random_seed=3)


def _counts(df):
    return df["failures"].to_numpy(), df["hours"].to_numpy(float)


def _with_rows(df, rows):
    """The pumps with extra rows ``(pump, failures, hours)``."""
    extra = pd.DataFrame(rows, columns=["pump", "failures", "hours"])
    return pd.concat([df, extra], ignore_index=True)


def _nb(y, exposure, a, b):
    """``log NB(y | E, a, b)``: ``y ~ Poisson(E theta)``, ``theta ~ Gamma(a, b)``, from scipy.stats."""
    return stats.nbinom.logpmf(y, a, b / (b + exposure))


# --------------------------------------------------------------------------------------------
# The brute-force reference for partial pooling
# --------------------------------------------------------------------------------------------


def _log_prior(alpha, beta, priors):
    """``log p(log alpha, log beta)`` from scipy.stats densities (the Jacobian alpha * beta included)."""
    if priors == "bugs":  # alpha ~ Exponential(1), beta ~ Gamma(0.1, 1)
        return stats.expon.logpdf(alpha) + stats.gamma.logpdf(beta, 0.1) + np.log(alpha) + np.log(beta)
    # mu = alpha / beta ~ LogNormal(log 0.2, 2), alpha ~ HalfCauchy(1): p(alpha, beta) =
    # p_mu(alpha / beta) p_alpha(alpha) alpha / beta^2, times alpha * beta for the log scale.
    mu = alpha / beta
    return (
        stats.lognorm.logpdf(mu, 2.0, scale=0.2)
        + stats.halfcauchy.logpdf(alpha)
        + 2 * np.log(alpha)
        - np.log(beta)
    )


def _reference(y, exposure, priors):
    """``log p(y_i | y_-i)`` and ``log p(y_i | y)`` for every group, by brute force.

    Each leave-one-out posterior of (alpha, beta) is tabulated on a dense (log alpha, log beta)
    grid from the negative-binomial likelihood of the other groups and the prior, normalised by a
    2-D trapezoid, and the held-out group's negative binomial averaged over it. The in-sample
    value averages ``NB(y_i | E_i, alpha + y_i, beta + E_i)`` over the full posterior.
    """
    la = np.linspace(*REFERENCE_BOX[0], REFERENCE_NODES)
    lb = np.linspace(*REFERENCE_BOX[1], REFERENCE_NODES)
    alpha, beta = np.exp(la)[:, None], np.exp(lb)[None, :]
    loglik = _nb(y, exposure, alpha[..., None], beta[..., None])  # (alpha, beta, group)
    prior = _log_prior(alpha, beta, priors)

    def integral(log_f):
        return integrate.trapezoid(integrate.trapezoid(np.exp(log_f), lb, axis=1), la)

    logo, lpd = [], []
    full = prior + loglik.sum(axis=2)
    for i in range(y.size):
        rest = full - loglik[..., i]
        top = rest.max()
        logo.append(np.log(integral(rest + loglik[..., i] - top) / integral(rest - top)))
        own = _nb(y[i], exposure[i], alpha + y[i], beta + exposure[i])
        lpd.append(np.log(integral(full + own - full.max()) / integral(full - full.max())))
    return np.array(logo), np.array(lpd)


@pytest.mark.parametrize("priors", ["bugs", "mu"])
def test_partial_pooling_logo_against_a_brute_force_refit_of_every_leave_one_out_posterior(pumps, priors):
    y, e = _counts(pumps)
    given = (
        None if priors == "bugs" else {"mu": pw.priors.LogNormal(np.log(0.2), 2.0), "alpha": "HalfCauchy(1)"}
    )
    fit = pw.fit(pumps, **PUMPS, priors=given, random_seed=3)
    logo, lpd = exact_logo(fit)
    ref_logo, ref_lpd = _reference(y, e, priors)
    # Measured: the two agree to 1.4e-11 under the BUGS priors; the bound is what the engine promises.
    np.testing.assert_allclose(logo, ref_logo, rtol=0, atol=ENGINE_TOL + REFERENCE_ERROR)
    np.testing.assert_allclose(lpd, ref_lpd, rtol=0, atol=ENGINE_TOL + REFERENCE_ERROR)
    # What the check can see: holding a pump out moves its predictive by 0.3 to 2.9 nats here.
    assert np.min(np.abs(ref_lpd - ref_logo)) > 500 * ENGINE_TOL


def test_the_reference_tells_priors_apart():
    # Mutation check of the test above: the reference under the other hyperprior (the engine's
    # answer with a wrong prior or Jacobian would look like this) is far outside the tolerance.
    y, e = _counts(pw.datasets.load("pumps"))
    bugs, _ = _reference(y, e, "bugs")
    other, _ = _reference(y, e, "mu")
    assert np.max(np.abs(bugs - other)) > 100 * ENGINE_TOL


def test_logo_elpd_per_pooling_on_pumps(fits):
    table = compare(fits).table
    # Jeffreys' Gamma(1/2, 0) predicts no held-out pump: no pooling is left out, with the reason.
    assert list(table.index) == ["partial", "complete"]
    assert set(table.attrs["excluded"]) == {"none"}
    reason = table.attrs["excluded"]["none"]
    assert "improper" in reason and "Gamma(alpha=0.5, beta=0)" in reason
    # The ten failure rates differ far beyond Poisson noise: one shared rate predicts a held-out
    # pump terribly (pump 10's 22 failures in 10.5 thousand hours: -35.9 nats alone).
    assert table.loc["partial", "elpd_logo"] == pytest.approx(-33.8, abs=0.05)
    assert table.loc["complete", "elpd_logo"] == pytest.approx(-88.0, abs=0.05)
    assert table.loc["partial", "weight"] > 0.99


# --------------------------------------------------------------------------------------------
# Closed forms: no and complete pooling
# --------------------------------------------------------------------------------------------


def test_complete_pooling_logo_is_the_negative_binomial_of_the_others_pooled_posterior(fits, pumps):
    y, e = _counts(pumps)
    logo, lpd = exact_logo(fits["complete"])
    rest_y, rest_e = y.sum() - y, e.sum() - e
    np.testing.assert_allclose(logo, _nb(y, e, 0.5 + rest_y, rest_e), rtol=1e-12)
    np.testing.assert_allclose(lpd, _nb(y, e, 0.5 + y.sum(), e.sum()), rtol=1e-12)


def test_complete_pooling_when_the_others_have_no_events_or_one_exposure_dwarfs_the_rest():
    # The others' pooled posterior under Jeffreys' prior is Gamma(1/2 + 0, E_rest): proper with no
    # events, as long as the others have exposure. Group D's exposure dwarfs the others' (13.5 in
    # all) beyond float64's digits (its spacing there is 128): sum(E) - E_D loses them to rounding.
    df = pd.DataFrame({"g": list("ABCD"), "y": [4, 0, 0, 7], "E": [10.0, 3.0, 0.5, 1e18]})
    fit = pw.fit(df, group="g", events="y", exposure="E", pooling="complete")
    logo, _ = exact_logo(fit)
    rest_y = np.array([7, 11, 11, 4])
    rest_e = np.array([3.5 + 1e18, 10.5 + 1e18, 13.0 + 1e18, 13.5])
    # scipy's nbinom underflows at p = 1e-17; its log-pmf written out in log space instead.
    a, b, y, e = 0.5 + rest_y, rest_e, df["y"].to_numpy(), df["E"].to_numpy()
    direct = (
        special.gammaln(a + y)
        - special.gammaln(a)
        - special.gammaln(y + 1)
        - a * np.log1p(e / b)
        - y * np.log1p(b / e)
    )
    # B and C's log p(0 | ...) = -a log1p(E / b) is -3e-17: 0 within rounding of a log-gamma sum.
    np.testing.assert_allclose(logo, direct, rtol=1e-9, atol=1e-15)
    only_a = pw.fit(df.iloc[:3], group="g", events="y", exposure="E", pooling="complete")
    # Held out, A's 4 events meet the others' zero: Gamma(1/2, 3.5) for the rate.
    assert exact_logo(only_a)[0][0] == pytest.approx(_nb(4, 10.0, 0.5, 3.5), rel=1e-12)


def test_no_pooling_with_a_proper_prior_predicts_from_the_prior(pumps):
    fit = pw.fit(pumps, **PUMPS, pooling="none", priors={"theta": "Gamma(0.5, 0.001)"})
    y, e = _counts(pumps)
    logo, lpd = exact_logo(fit)
    np.testing.assert_allclose(logo, _nb(y, e, 0.5, 0.001), rtol=1e-12)
    np.testing.assert_allclose(lpd, _nb(y, e, 0.5 + y, 0.001 + e), rtol=1e-12)


def test_no_pooling_under_jeffreys_prior_has_no_held_out_predictive(fits):
    logo, lpd = exact_logo(fits["none"])
    assert np.isnan(logo).all()
    y, e = _counts(pw.datasets.load("pumps"))
    np.testing.assert_allclose(lpd, _nb(y, e, 0.5 + y, e), rtol=1e-12)  # the posterior is proper


# --------------------------------------------------------------------------------------------
# Reweighting the grid, and refitting without the group
# --------------------------------------------------------------------------------------------


def test_reweighting_and_refitting_paths_agree(monkeypatch, fits):
    from poolwise.analysis import comparison as cmp

    reweighted, refits = _grid_logo(fits["partial"])
    assert refits == 0  # every leave-one-out posterior sits well inside the pumps' grid
    monkeypatch.setattr(cmp.exact, "EDGE_MASS", -1.0)  # force a refit for every pair
    refitted, refits = _grid_logo(fits["partial"])
    assert refits == len(reweighted) == 9  # pumps 7 and 8 share (1 failure, 1.05 hours): one pair
    # Two grids, each converged to the engine's tolerance (measured: 3e-11 apart).
    np.testing.assert_allclose(reweighted, refitted, rtol=0, atol=ENGINE_TOL)


# --------------------------------------------------------------------------------------------
# Groups with no exposure: y = 0 surely
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_idle_pump(pumps):
    """The pumps and an eleventh that has not run; no pooling needs a proper prior to fit it."""
    df = _with_rows(pumps, [(11, 0, 0.0)])
    return pw.fit_all(df, **PUMPS, priors={"theta": "Gamma(0.5, 0.001)"}, random_seed=3)


def test_a_group_with_no_exposure_adds_log_one_to_every_pooling(with_idle_pump, pumps):
    alone = pw.fit_all(pumps, **PUMPS, priors={"theta": "Gamma(0.5, 0.001)"}, random_seed=3)
    for pooling, fit in with_idle_pump.items():
        logo, lpd = exact_logo(fit)
        assert logo[-1] == 0.0 and lpd[-1] == 0.0, pooling
        # The idle pump tells nothing: the others' held-out predictives are those without it.
        np.testing.assert_allclose(logo[:-1], exact_logo(alone[pooling])[0], rtol=1e-12, atol=1e-12)


def test_psis_beside_the_exact_values_with_an_idle_group(with_idle_pump):
    result = compare(with_idle_pump)
    idle = result.pointwise.xs("11", level="pump")
    # Its log-likelihood is log 1 in every draw: exact without importance sampling, no k.
    assert (idle["elpd_logo"] == 0.0).all() and (idle["elpd_psis"] == 0.0).all()
    assert idle["pareto_k"].isna().all()
    assert np.isfinite(result.table["elpd_psis"]).all()
    for pooling in result.table.index:
        rows = result.pointwise.xs(pooling, level="pooling")
        assert result.table.loc[pooling, "elpd_psis"] == pytest.approx(rows["elpd_psis"].sum(), rel=1e-12)


def test_jeffreys_no_pooling_refuses_an_idle_group_but_the_comparison_goes_on(pumps):
    df = _with_rows(pumps, [(11, 0, 0.0)])
    with pytest.raises(ValueError, match="no exposure"):
        pw.fit_all(df, **PUMPS)
    table = compare(pw.fit_all(df, **PUMPS, poolings=("complete", "partial"), random_seed=3)).table
    assert set(table.index) == {"complete", "partial"}


def test_poolings_are_left_out_when_the_others_have_no_exposure():
    # Only A has run. Held out, it leaves Jeffreys' prior improper (complete pooling) and the
    # hyperprior alone (partial pooling: the engine cannot centre a grid without exposure); a proper
    # prior on each rate (no pooling) still predicts it.
    df = pd.DataFrame({"g": list("ABC"), "y": [3, 0, 0], "E": [2.0, 0.0, 0.0]})
    cols = {"group": "g", "events": "y", "exposure": "E"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)  # one informative group: prior-dominated
        fits = pw.FitSet(
            {
                "none": pw.fit(df, **cols, pooling="none", priors={"theta": "Gamma(0.5, 0.001)"}),
                "complete": pw.fit(df, **cols, pooling="complete"),
                "partial": pw.fit(df, **cols),
            }
        )
        table = compare(fits, psis=False).table
    for pooling in ("complete", "partial"):
        np.testing.assert_array_equal(exact_logo(fits[pooling])[0], [np.nan, 0.0, 0.0])
    np.testing.assert_allclose(exact_logo(fits["none"])[0], [_nb(3, 2.0, 0.5, 0.001), 0.0, 0.0], rtol=1e-12)
    assert list(table.index) == ["none"]
    excluded = table.attrs["excluded"]
    assert "improper" in excluded["complete"] and "when A is held out" in excluded["complete"]
    assert "no exposure when A is held out" in excluded["partial"]


# --------------------------------------------------------------------------------------------
# PSIS-LOO beside the exact values
# --------------------------------------------------------------------------------------------


def test_psis_columns_are_arviz_loo(fits):
    import arviz as az

    result = compare(fits)
    for pooling in ("complete", "partial"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ArviZ's Pareto-k warning
            loo = az.loo(fits[pooling].idata, pointwise=True)
        row = result.table.loc[pooling]
        assert row["elpd_psis"] == pytest.approx(loo.elpd, rel=1e-12)
        assert row["se_psis"] == pytest.approx(loo.se, rel=1e-12)
        assert row["pareto_k_max"] == pytest.approx(float(np.max(loo.pareto_k)), rel=1e-12)
    # One count per pump: holding one out moves its rate far, so PSIS cannot be trusted
    # for partial pooling (k > 0.7 for most pumps) and the exact value is 6.4 nats lower.
    assert result.table.loc["partial", "n_bad_k"] >= 5
    assert result.table.loc["partial", "elpd_psis"] - result.table.loc["partial", "elpd_logo"] > 3


# --------------------------------------------------------------------------------------------
# Prior sensitivity
# --------------------------------------------------------------------------------------------

SENSITIVITY_COLUMNS = [
    "mu_median",
    "mu_lb",
    "mu_ub",
    "alpha_median",
    "alpha_lb",
    "alpha_ub",
    "theta_new_median",
    "max_shift",
    "prior_driven",
    "warnings",
]


@pytest.fixture(scope="module")
def sensitivity(fits):
    with pytest.warns(pw.PoolwiseWarning, match="prior-driven: with 10 groups"):
        return prior_sensitivity(fits["partial"])


def _log_mu_moments(fit):
    """Mean and sd of ``log mu`` from the public density of ``mu`` (its nodes are uniform in log mu)."""
    x, density = fit.density("mu")
    z, f = np.log(x), density * x  # the density of log mu
    total = integrate.trapezoid(f, z)
    mean = integrate.trapezoid(z * f, z) / total
    return mean, np.sqrt(integrate.trapezoid((z - mean) ** 2 * f, z) / total)


def _median(summary_of_tiny_interval: pd.Series) -> float:
    """The midpoint of an equal-tailed interval of probability 1e-9: the median, to ~1e-9."""
    lb, ub = summary_of_tiny_interval.iloc[2], summary_of_tiny_interval.iloc[3]
    return (lb + ub) / 2


def test_sensitivity_table_shape_and_scaled_labels(sensitivity, pumps):
    assert list(sensitivity.columns) == SENSITIVITY_COLUMNS
    assert len(sensitivity) == 5
    rate = 75 / pumps["hours"].sum()  # 0.214 failures per thousand hours
    assert f"beta ~ Gamma(0.1, {rate:.3g})" in sensitivity.index[1]
    assert sum(f"mu ~ LogNormal(log {rate:.3g}, 2)" in label for label in sensitivity.index) == 3
    # The BUGS priors are the default: the first row is the reference refitted, nothing moves.
    assert sensitivity.iloc[0]["max_shift"] == 0.0
    assert (sensitivity["warnings"] == "").all()


def test_each_row_is_the_refit_that_pw_fit_gives(sensitivity, fits, pumps):
    alternatives = gamma_alternatives(pumps["hours"].to_numpy(), pumps["failures"].to_numpy())
    assert list(alternatives) == list(sensitivity.index)
    reference = fits["partial"].summary()
    ref_log_mu = _log_mu_moments(fits["partial"])
    for label, priors in alternatives.items():
        direct = pw.fit(pumps, **PUMPS, priors=priors, random_seed=3)
        summary, row = direct.summary(), sensitivity.loc[label]
        for name in ("mu", "alpha"):
            assert row[f"{name}_lb"] == pytest.approx(summary.loc[name, "hdi94_lb"], rel=1e-12)
            assert row[f"{name}_ub"] == pytest.approx(summary.loc[name, "hdi94_ub"], rel=1e-12)
            tiny = direct.summary(ci_kind="eti", ci_prob=1e-9).loc[name]
            assert row[f"{name}_median"] == pytest.approx(_median(tiny), rel=1e-6)
        tiny = direct.new_group(ci_kind="eti", ci_prob=1e-9).summary
        assert row["theta_new_median"] == pytest.approx(_median(tiny), rel=1e-6)
        # max_shift: the pumps' means (all have exposure), and log mu's mean (mu's own may not exist)
        thetas = [r for r in summary.index if r.startswith("theta[")]
        theta_shift = np.max(
            np.abs(summary.loc[thetas, "mean"] - reference.loc[thetas, "mean"]) / reference.loc[thetas, "sd"]
        )
        mu_shift = abs(_log_mu_moments(direct)[0] - ref_log_mu[0]) / ref_log_mu[1]
        # Here log mu moves most (0.34 to 0.56 sd; the pumps' means 0.13 to 0.26): a shift that left
        # it out would fail. Two quadratures of the same posterior (measured: 2e-7 apart).
        assert row["max_shift"] == pytest.approx(max(theta_shift, mu_shift), abs=ENGINE_TOL)


def test_scaled_alternatives_do_not_depend_on_the_units_of_exposure(sensitivity, pumps):
    # In hours instead of thousands of hours every rate is 1000 times smaller. The priors set from
    # the pooled rate follow; the BUGS prior on beta, in fixed units, does not.
    hours = pumps.assign(hours=pumps["hours"] * 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        table = prior_sensitivity(pw.fit(hours, **PUMPS, random_seed=3))
    for i in range(1, 5):
        # Two grids, each converged to the engine's tolerance (relative above 1: alpha's median).
        assert table.iloc[i]["mu_median"] * 1000 == pytest.approx(sensitivity.iloc[i]["mu_median"], rel=1e-3)
        assert table.iloc[i]["alpha_median"] == pytest.approx(sensitivity.iloc[i]["alpha_median"], abs=1e-3)
    assert abs(table.iloc[0]["alpha_median"] / sensitivity.iloc[0]["alpha_median"] - 1) > 0.05


# --------------------------------------------------------------------------------------------
# Posterior predictive checks
# --------------------------------------------------------------------------------------------


def _statistics_by_hand(y, e):
    """The four statistics of one data set, written out group by group."""
    rates = [yi / ei for yi, ei in zip(y, e, strict=True) if ei > 0]
    seen = [(yi, ei) for yi, ei in zip(y, e, strict=True) if ei > 0]
    total_y, total_e = sum(yi for yi, _ in seen), sum(ei for _, ei in seen)
    pearson = 0.0
    if total_y > 0:
        for yi, ei in seen:
            expected = ei * total_y / total_e
            pearson += (yi - expected) ** 2 / expected
    return {
        "sd_rate": float(np.std(rates)),
        "max_rate": max(rates),
        "no_events": sum(yi == 0 for yi, _ in seen),
        "dispersion": pearson,
    }


def test_ppc_observed_statistics_by_hand(fits, pumps):
    table = fits["partial"].ppc()
    assert list(table.index) == list(checks.RATE_STATISTICS)
    y, e = _counts(pumps)
    for name, value in _statistics_by_hand(y, e).items():
        assert table.loc[name, "observed"] == pytest.approx(value, rel=1e-12), name
    assert table.loc["dispersion", "observed"] == pytest.approx(257.1, abs=0.05)  # on 9 degrees of freedom


def test_ppc_replicated_statistics_are_those_of_the_idata_draws(fits, pumps):
    fit = fits["partial"]
    y_rep = fit.idata["posterior_predictive"]["y"].values.reshape(-1, 10)
    _, e = _counts(pumps)
    values = checks.replicated(fit)
    for j in (0, 1, 17, 3999):
        for name, value in _statistics_by_hand(y_rep[j], e).items():
            assert values[name][1][j] == pytest.approx(value, rel=1e-12), (name, j)


def test_ppc_statistics_with_small_and_zero_exposure():
    # Exposures below 1 are rates above the counts; a group with no exposure has no rate and no
    # say in the counts of groups without events.
    df = pd.DataFrame({"g": list("ABCDE"), "y": [2, 0, 0, 5, 0], "E": [0.25, 0.5, 3.0, 10.0, 0.0]})
    fit = pw.fit(df, group="g", events="y", exposure="E", pooling="complete", random_seed=1)
    table = fit.ppc()
    for name, value in _statistics_by_hand(df["y"].to_numpy(), df["E"].to_numpy()).items():
        assert table.loc[name, "observed"] == pytest.approx(value, rel=1e-12), name
    assert table.loc["max_rate", "observed"] == 8.0
    assert table.loc["no_events", "observed"] == 2
    # Replicated data sets with no event anywhere have nothing to disperse: X^2 = 0, not NaN.
    assert checks._dispersion(np.zeros((2, 5)), df["E"].to_numpy()).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("pooling", ["none", "complete", "partial"])
def test_expected_groups_without_events_match_the_exact_posterior(fits, pooling):
    # E[#groups with y_rep = 0] = sum_i E[exp(-E_i theta_i)], and for theta ~ Gamma(a, b) that is
    # (b / (b + E_i))^a: exact from the engine's components, against the replicated draws.
    fit = fits[pooling]
    a, b, log_w, index = exact.components(fit.posterior)
    e = fit.data.exposure
    p_zero = (b[index] / (b[index] + e[:, None])) ** a[index] @ np.exp(log_w)
    expected = p_zero.sum()
    row = fit.ppc().loc["no_events"]
    n_draws = fit.chains * fit.n_draws
    # Independent draws: 4.5 Monte Carlo standard errors. A count of rare events can have a sample
    # sd of 0 by chance; its variance is then about its mean, so the larger bounds the error.
    var = max(row["sd_rep"] ** 2, expected)
    assert abs(row["mean_rep"] - expected) <= 4.5 * np.sqrt(var / n_draws)


def test_complete_pooling_fails_the_dispersion_check_it_should(fits):
    # One shared rate cannot make ten pumps' failures as overdispersed as they are (X^2 = 257 on 9
    # degrees of freedom); the Gamma population can.
    assert fits["complete"].ppc().loc["dispersion", "p_value"] < 0.01
    assert fits["complete"].ppc().loc["sd_rate", "p_value"] < 0.01
    partial = fits["partial"].ppc()
    assert partial["p_value"].between(0.05, 0.95).all()


def test_the_ppc_figure_draws_the_rate_statistics(fits):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from poolwise.presentation.plots import plot_ppc

    fig = plot_ppc(fits)
    titles = [ax.get_title(loc="right") for ax in fig.axes if ax.get_title(loc="right")]
    assert len(titles) == 3 * len(checks.RATE_STATISTICS)
    assert "Pearson X² about the pooled rate" in [ax.get_xlabel() for ax in fig.axes]


def test_estimates_are_still_refused_by_fit_ppc():
    schools = pw.datasets.load("eight_schools")
    fit = pw.fit(schools, **pw.datasets.info("eight_schools").columns, pooling="complete")
    with pytest.raises(NotImplementedError, match="normal-normal"):
        fit.ppc()
