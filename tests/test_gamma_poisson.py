"""The gamma-Poisson family: events in an exposure, rates with a Gamma population.

Expected values come from the model's equations, computed here without poolwise's formulas:

- no and complete pooling: the conjugate Gamma posteriors (scipy.stats.gamma), to 1e-10;
- the marginal likelihood against scipy.stats.nbinom, group by group;
- partial pooling on the BUGS Pumps data against an independent brute-force integral over
  (log alpha, log beta) on a dense grid, with scipy's densities, at the engine's tolerance plus the
  reference's own error;
- the draws within Monte Carlo error of the exact values;
- NUTS (slow) within Monte Carlo error of the exact engine, in both parametrisations.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import poolwise as pw
from poolwise import priors as pr
from poolwise.families import gamma_poisson as family

EXACT = 1e-10  # exact algebra in float64
ENGINE_TOL = 1e-4  # pw.fit's default tol: every summary within 1e-4 * max(1, |x|)
REF_ERR = 2e-5  # bound on the brute force's own error (asserted below by halving its spacing)
QUANTILE_ERR = 1e-4  # its quantiles' error: O(h^2), so halving h moves them by at most 4 times this

# The BUGS Pumps example (Gaver and O'Muircheartaigh 1987): failures x_i of 10 pumps in t_i
# thousand hours of operation, written here from the source rather than read from the bundle.
HOURS = np.array([94.3, 15.7, 62.9, 126, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5])
FAILURES = np.array([5, 1, 5, 14, 3, 19, 1, 1, 4, 22])
COLUMNS = {"group": "pump", "events": "failures", "exposure": "hours"}
BUGS_PRIORS = {"alpha": "Exponential(1)", "beta": "Gamma(0.1, 1)"}


def pumps() -> pd.DataFrame:
    return pd.DataFrame({"pump": [f"P{i + 1}" for i in range(10)], "failures": FAILURES, "hours": HOURS})


def fit(data=None, **kwargs):
    return pw.fit(pumps() if data is None else data, **{**COLUMNS, **kwargs}, random_seed=1)


# --------------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------------


def test_no_pooling_is_the_conjugate_gamma_under_jeffreys_prior():
    f = fit(pooling="none")
    assert f.family == "gamma-poisson"
    assert str(f.model.priors["theta"]) == "Gamma(alpha=0.5, beta=0)"
    post = stats.gamma(0.5 + FAILURES, scale=1 / HOURS)
    summary = f.summary(ci_kind="eti", ci_prob=0.95)
    np.testing.assert_allclose(summary["mean"], post.mean(), rtol=EXACT)
    np.testing.assert_allclose(summary["sd"], post.std(), rtol=EXACT)
    np.testing.assert_allclose(summary["eti95_lb"], post.ppf(0.025), rtol=1e-8)
    np.testing.assert_allclose(summary["eti95_ub"], post.ppf(0.975), rtol=1e-8)
    # Jeffreys' prior is improper: an unseen group's rate has no distribution.
    with pytest.raises(ValueError, match="improper prior"):
        f.new_group()
    assert "theta_new" not in f.idata["posterior_predictive"]


def test_complete_pooling_with_a_proper_prior_is_one_gamma():
    f = fit(pooling="complete", priors={"theta": "Gamma(2, 0.5)"})
    post = stats.gamma(2 + FAILURES.sum(), scale=1 / (0.5 + HOURS.sum()))
    summary = f.summary(ci_kind="eti", ci_prob=0.9)
    assert list(summary.index) == ["theta"]
    np.testing.assert_allclose(summary.loc["theta", "mean"], post.mean(), rtol=EXACT)
    np.testing.assert_allclose(summary.loc["theta", "eti90_ub"], post.ppf(0.95), rtol=1e-8)
    assert f.new_group().summary["mean"] == pytest.approx(post.mean(), rel=EXACT)


def test_hdi_of_a_gamma_is_the_shortest_interval():
    f = fit(pooling="none")
    lo, hi = f.summary().loc["theta[P2]", ["hdi94_lb", "hdi94_ub"]]
    post = stats.gamma(1.5, scale=1 / 15.7)
    assert post.cdf(hi) - post.cdf(lo) == pytest.approx(0.94, abs=1e-8)
    # Shortest: equal densities at both ends.
    assert post.pdf(lo) == pytest.approx(post.pdf(hi), rel=1e-5)


# --------------------------------------------------------------------------------------------
# The marginal likelihood
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "beta"), [(0.7, 0.9), (1e-6, 1e-3), (50.0, 1e6), (1e8, 1e7), (3.0, 1e-12)])
def test_log_likelihood_is_the_sum_of_negative_binomials(alpha, beta):
    exposure = np.append(HOURS, [0.0, 1e-9, 3e5])
    events = np.append(FAILURES, [0, 0, 7])
    pairs = family.Pairs.from_counts(exposure, events)
    u, v = np.log(alpha / beta), np.log(alpha)
    got = family.log_likelihood(pairs)(np.array([u]), np.array([v]))[0]
    # Gamma-Poisson = negative binomial with n = alpha, p = beta / (beta + E).
    want = stats.nbinom.logpmf(events, alpha, beta / (beta + exposure)).sum()
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_pairs_compress_repeated_groups_exactly():
    exposure = np.array([2.0, 2.0, 3.5, 2.0])
    events = np.array([1, 1, 0, 2])
    pairs = family.Pairs.from_counts(exposure, events)
    assert pairs.count.tolist() == [2, 1, 1]  # (2, 1) twice, (2, 2), (3.5, 0)
    np.testing.assert_array_equal(pairs.exposure[pairs.inverse], exposure)
    np.testing.assert_array_equal(pairs.events[pairs.inverse], events)


# --------------------------------------------------------------------------------------------
# Partial pooling against brute force
# --------------------------------------------------------------------------------------------


class BruteForce:
    """The posterior of (alpha, beta) on a dense grid of (log alpha, log beta), from scipy.stats.

    Midpoint rule on a box where the integrand has fallen below 1e-13 of its peak; every group
    quantity is an average over the grid of its conjugate Gamma's closed forms.
    """

    def __init__(self, log_prior, n: int, box=(-9.0, 4.0, -12.0, 5.0)):
        self.la, self.lb = np.linspace(box[0], box[1], n), np.linspace(box[2], box[3], n)
        self.alpha, self.beta = (np.exp(g).ravel() for g in np.meshgrid(self.la, self.lb, indexing="ij"))
        logp = log_prior(self.alpha, self.beta) + np.log(self.alpha) + np.log(self.beta)
        for y, e in zip(FAILURES, HOURS, strict=True):
            logp += stats.nbinom.logpmf(y, self.alpha, self.beta / (self.beta + e))
        self.w = np.exp(logp - logp.max())
        self.w /= self.w.sum()

    def mean(self, x):
        return float(x @ self.w)

    def quantile(self, name, q):
        """Quantile of alpha or beta: their marginal's cdf at the cell edges of its log axis."""
        n = self.la.size
        marginal = self.w.reshape(n, n).sum(axis=1 if name == "alpha" else 0)
        axis = self.la if name == "alpha" else self.lb
        edges = np.append(axis - (axis[1] - axis[0]) / 2, axis[-1] + (axis[1] - axis[0]) / 2)
        return float(np.exp(np.interp(q, np.append(0.0, np.cumsum(marginal)), edges)))

    def ratio_quantile(self, q):
        """Quantile of mu = alpha / beta, from the weighted cdf of the nodes (coarse: ~1e-2)."""
        mu = self.alpha / self.beta
        order = np.argsort(mu)
        return float(np.interp(q, np.cumsum(self.w[order]), mu[order]))

    def theta_mean(self, i):
        return self.mean((self.alpha + FAILURES[i]) / (self.beta + HOURS[i]))

    def theta_cdf(self, i, x):
        return self.mean(stats.gamma.cdf(x, self.alpha + FAILURES[i], scale=1 / (self.beta + HOURS[i])))

    def new_cdf(self, x):
        return self.mean(stats.gamma.cdf(x, self.alpha, scale=1 / self.beta))


def _bugs_log_prior(alpha, beta):
    return stats.expon.logpdf(alpha) + stats.gamma.logpdf(beta, 0.1, scale=1.0)


@pytest.fixture(scope="module")
def brute():
    return BruteForce(_bugs_log_prior, 1200)


@pytest.fixture(scope="module")
def partial():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = fit(priors=BUGS_PRIORS)
    return f, [str(w.message) for w in caught]


def test_reference_is_converged():
    """Halving the brute force's spacing moves its summaries by less than REF_ERR."""
    coarse, fine = BruteForce(_bugs_log_prior, 600), BruteForce(_bugs_log_prior, 1200)
    for x in ("alpha", "beta"):
        assert abs(coarse.mean(getattr(coarse, x)) - fine.mean(getattr(fine, x))) < REF_ERR
    for i in (0, 9):
        assert abs(coarse.theta_mean(i) - fine.theta_mean(i)) < REF_ERR
    for name in ("alpha", "beta"):
        for q in (0.025, 0.975):
            assert abs(coarse.quantile(name, q) - fine.quantile(name, q)) < 4 * QUANTILE_ERR


def test_partial_pooling_converges_without_warnings(partial):
    f, messages = partial
    assert messages == []
    assert f.diagnostics["converged"] and f.diagnostics["edge_mass"] < 1e-8
    assert [str(p) for p in f.model.priors.values()] == ["Exponential(lam=1)", "Gamma(alpha=0.1, beta=1)"]


def test_hyperparameters_match_brute_force(partial, brute):
    f, _ = partial
    summary = f.summary(ci_kind="eti", ci_prob=0.95)
    tol = ENGINE_TOL + REF_ERR
    for name, x in (("alpha", brute.alpha), ("beta", brute.beta)):
        assert summary.loc[name, "mean"] == pytest.approx(brute.mean(x), abs=tol)
        sd = np.sqrt(brute.mean((x - brute.mean(x)) ** 2))
        assert summary.loc[name, "sd"] == pytest.approx(sd, abs=tol)
        for col, q in (("eti95_lb", 0.025), ("eti95_ub", 0.975)):
            # The reference's cdf is exact at its cell edges and linear between them: O(h^2).
            assert summary.loc[name, col] == pytest.approx(
                brute.quantile(name, q), abs=ENGINE_TOL + QUANTILE_ERR
            )
    # mu's reference quantile is a weighted ECDF of nodes spaced ~1% apart in mu: a coarse check.
    lower_quartile = f.summary(ci_kind="eti", ci_prob=0.5).loc["mu", "eti50_lb"]
    assert lower_quartile == pytest.approx(brute.ratio_quantile(0.25), rel=1e-2)


def test_group_rates_match_brute_force(partial, brute):
    f, _ = partial
    table = f.group_table(ci_kind="eti", ci_prob=0.9)
    for i, pump in enumerate(table.index):
        row = table.loc[pump]
        assert row["mean"] == pytest.approx(brute.theta_mean(i), abs=ENGINE_TOL + REF_ERR)
        # The interval's ends hold 5% and 95% of the reference's mixture of Gammas.
        assert brute.theta_cdf(i, row["eti90_lb"]) == pytest.approx(0.05, abs=ENGINE_TOL + REF_ERR)
        assert brute.theta_cdf(i, row["eti90_ub"]) == pytest.approx(0.95, abs=ENGINE_TOL + REF_ERR)
    assert table["raw_rate"].to_numpy() == pytest.approx(FAILURES / HOURS, rel=EXACT)


def test_new_group_matches_brute_force(partial, brute):
    f, _ = partial
    new = f.new_group(ci_kind="eti", ci_prob=0.8).summary
    assert brute.new_cdf(new["eti80_lb"]) == pytest.approx(0.1, abs=ENGINE_TOL + REF_ERR)
    assert brute.new_cdf(new["eti80_ub"]) == pytest.approx(0.9, abs=ENGINE_TOL + REF_ERR)


def test_a_group_without_exposure_gets_the_new_group_prediction():
    df = pd.concat([pumps(), pd.DataFrame({"pump": ["new"], "failures": [0], "hours": [0.0]})])
    f = fit(df, priors=BUGS_PRIORS)
    row = f.group_table(ci_kind="eti", ci_prob=0.8).loc["new"]
    new = f.new_group(ci_kind="eti", ci_prob=0.8).summary
    assert np.isnan(row["raw_rate"])
    assert row["eti80_lb"] == pytest.approx(new["eti80_lb"], rel=1e-12)
    # A group with no exposure adds nothing to the likelihood: the others are unchanged.
    others = f.summary().loc["theta[P1]", "mean"]
    assert others == pytest.approx(fit(priors=BUGS_PRIORS).summary().loc["theta[P1]", "mean"], abs=ENGINE_TOL)


def test_priors_on_mu_and_alpha_match_brute_force():
    """``mu = alpha / beta ~ LogNormal(0, 2)``: p(alpha, beta) = p_mu(alpha/beta) p(alpha) alpha/beta^2."""
    f = fit(priors={"mu": "LogNormal(0, 2)", "alpha": "Exponential(1)"})

    def log_prior(alpha, beta):
        mu = alpha / beta
        return stats.lognorm.logpdf(mu, 2.0) + stats.expon.logpdf(alpha) + np.log(alpha) - 2 * np.log(beta)

    ref = BruteForce(log_prior, 1000)
    summary = f.summary()
    assert summary.loc["alpha", "mean"] == pytest.approx(ref.mean(ref.alpha), abs=ENGINE_TOL + REF_ERR)
    assert summary.loc["mu", "mean"] == pytest.approx(
        ref.mean(ref.alpha / ref.beta), abs=ENGINE_TOL + REF_ERR
    )
    assert summary.loc["theta[P10]", "mean"] == pytest.approx(ref.theta_mean(9), abs=ENGINE_TOL + REF_ERR)


def test_bugs_published_posterior(partial):
    """MultiBUGS's Pumps example (MultiBUGS/MultiBUGS-txt Examples/Pumps.odc.cp @ be5b5d2, 20,000
    MCMC samples after 1,000) reports means (sd) alpha 0.6919 (0.2684), beta 0.921 (0.5429),
    theta[1] 0.05969 (0.02497), theta[10] 1.995 (0.4259). Its data list prints t[1] as 94.5 where
    the machine-readable copies have 94.3 (ours): a 0.2% change in one exposure, far below the MC
    error. The exact means must lie within 4 MC standard errors, allowing an effective sample
    size of 500 (the Gibbs chains' autocorrelation is not published)."""
    f, _ = partial
    summary = f.summary()
    for name, bugs, sd in (
        ("alpha", 0.6919, 0.2684),
        ("beta", 0.921, 0.5429),
        ("theta[P1]", 0.05969, 0.02497),
        ("theta[P10]", 1.995, 0.4259),
    ):
        assert abs(summary.loc[name, "mean"] - bugs) < 4 * sd / np.sqrt(500), name
        assert summary.loc[name, "sd"] == pytest.approx(sd, rel=0.05), name


def test_the_mean_rate_may_have_no_mean_but_its_quantiles_converge(partial):
    """Under Gamma(0.1, 1) on beta, E[alpha / beta] is infinite (beta -> 0 as alpha -> 0): the grid
    checks mu's quantiles only, and they are stable between resolutions."""
    f, _ = partial
    looser = fit(priors=BUGS_PRIORS, tol=1e-3).summary(ci_kind="eti", ci_prob=0.9).loc["mu"]
    tighter = fit(priors=BUGS_PRIORS, tol=1e-5).summary(ci_kind="eti", ci_prob=0.9).loc["mu"]
    assert tighter["eti90_ub"] == pytest.approx(looser["eti90_ub"], abs=1e-3 * max(1, looser["eti90_ub"]))


def test_draws_agree_with_the_exact_summary(partial):
    f, _ = partial
    post = f.idata["posterior"]
    assert set(post.data_vars) == {"theta", "alpha", "beta", "mu"}
    theta = post["theta"].values.reshape(-1, 10)
    mean, sd = f.summary()["mean"].iloc[:10].to_numpy(), f.summary()["sd"].iloc[:10].to_numpy()
    # 4000 independent draws: each mean within 4.5 standard errors (10 tests, false alarm ~7e-5).
    assert np.all(np.abs(theta.mean(0) - mean) < 4.5 * sd / np.sqrt(theta.shape[0]))
    y_rep = f.idata["posterior_predictive"]["y"].values
    assert y_rep.dtype.kind == "i" and (y_rep >= 0).all()
    loglik = f.idata["log_likelihood"]["y"].values
    np.testing.assert_allclose(
        loglik[0, 0], stats.poisson.logpmf(FAILURES, HOURS * post["theta"].values[0, 0]), rtol=1e-12
    )
    assert f.idata["constant_data"]["exposure"].values.tolist() == HOURS.tolist()


# --------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------


def test_family_follows_from_the_columns():
    assert fit().family == "gamma-poisson"
    assert fit().model.equations()[:2] == ["y_i ~ Poisson(E_i theta_i)", "theta_i ~ Gamma(alpha, beta)"]
    with pytest.raises(ValueError, match="different families"):
        pw.fit(pumps(), group="pump", events="failures", exposure="hours", trials="hours")
    with pytest.raises(ValueError, match="does not fit the data"):
        pw.fit(pumps(), **COLUMNS, family="beta-binomial")


def test_priors_are_checked():
    with pytest.raises(pr.PriorError, match="must be a Gamma"):
        fit(pooling="none", priors={"theta": "Beta(1, 1)"})
    with pytest.raises(pr.PriorError, match="not on mu and beta"):
        fit(priors={"mu": "LogNormal(0, 1)", "beta": "Gamma(1, 1)"})
    with pytest.raises(pr.PriorError, match="kappa"):
        fit(priors={"kappa": "HalfNormal(10)"})


def test_questions_for_binomial_counts_are_refused_by_name():
    f = fit()
    with pytest.raises(NotImplementedError, match="binomial counts"):
        f.predictive_counts(10)


@pytest.mark.slow
@pytest.mark.parametrize("parametrization", ["centered", "marginal"])
def test_nuts_agrees_with_exact_within_4_mcse(partial, parametrization):
    """Every mean and 2.5%/97.5% quantile of theta_i, alpha and beta from NUTS (4 x 2500 draws)
    within Z = 4 of ArviZ's MCSE of the exact value: 36 comparisons per parametrisation, so a false
    alarm has probability at most 36 * 6.3e-5 = 0.2% (union bound); the seed is fixed."""
    import arviz as az

    pytest.importorskip("pymc")
    exact, _ = partial
    nuts = fit(
        priors=BUGS_PRIORS,
        engine="nuts",
        draws=2500,
        tune=2000,
        parametrization=parametrization,
        progressbar=False,
    )
    assert nuts.diagnostics["divergences"] == 0
    post = nuts.idata["posterior"]
    summary = exact.summary(ci_kind="eti", ci_prob=0.95)
    items = [(f"theta[P{k + 1}]", post["theta"].values[..., k]) for k in range(10)]
    items += [(name, post[name].values) for name in ("alpha", "beta")]
    bad = []
    for label, draws in items:
        ref = summary.loc[label]
        for what, got, want, mcse in (
            ("mean", draws.mean(), ref["mean"], az.mcse(draws, method="mean")),
            (
                "q2.5%",
                np.quantile(draws, 0.025),
                ref["eti95_lb"],
                az.mcse(draws, method="quantile", prob=0.025),
            ),
            (
                "q97.5%",
                np.quantile(draws, 0.975),
                ref["eti95_ub"],
                az.mcse(draws, method="quantile", prob=0.975),
            ),
        ):
            if abs(got - want) > 4 * float(mcse):
                bad.append(f"{label} {what}: nuts {got:.5g}, exact {want:.5g}, mcse {float(mcse):.2g}")
    assert bad == []
    loglik = nuts.idata["log_likelihood"]["y"].values
    theta = post["theta"].values
    np.testing.assert_allclose(loglik, stats.poisson.logpmf(FAILURES, HOURS * theta), rtol=1e-10)


def test_no_exposure_under_an_improper_prior_is_refused_not_reported():
    df = pd.concat([pumps(), pd.DataFrame({"pump": ["idle"], "failures": [0], "hours": [0.0]})])
    with pytest.raises(ValueError, match="no exposure has no proper posterior"):
        fit(df, pooling="none")
    # A proper prior gives that group its prior; partial pooling predicts it from the others.
    proper = fit(df, pooling="none", priors={"theta": "Gamma(0.5, 0.001)"})
    assert proper.summary().loc["theta[idle]", "mean"] == pytest.approx(0.5 / 0.001, rel=EXACT)


# --------------------------------------------------------------------------------------------
# Predictions: a new group with observed events, later events of the same groups
# --------------------------------------------------------------------------------------------


def test_new_group_with_events_matches_brute_force(partial, brute):
    """3 events in 5 (thousand) hours also update (alpha, beta): weight the reference's grid by the
    negative binomial of the new data, then average the new group's Gamma(alpha + 3, beta + 5)."""
    f, _ = partial
    got = f.predict_new(3, 5.0)
    w = brute.w * stats.nbinom.pmf(3, brute.alpha, brute.beta / (brute.beta + 5.0))
    w /= w.sum()
    mean = float(((brute.alpha + 3) / (brute.beta + 5.0)) @ w)
    assert got["mean"] == pytest.approx(mean, abs=ENGINE_TOL + REF_ERR)
    lo, hi = got["hdi94_lb"], got["hdi94_ub"]
    mass = stats.gamma.cdf(hi, brute.alpha + 3, scale=1 / (brute.beta + 5.0)) - stats.gamma.cdf(
        lo, brute.alpha + 3, scale=1 / (brute.beta + 5.0)
    )
    assert float(mass @ w) == pytest.approx(0.94, abs=ENGINE_TOL + REF_ERR)


def test_new_group_with_events_in_the_closed_forms():
    none = fit(pooling="none").predict_new(3, 5.0)
    assert none["mean"] == pytest.approx(3.5 / 5.0, rel=EXACT)  # Gamma(1/2 + 3, 0 + 5)
    complete = fit(pooling="complete").predict_new(3, 5.0)
    assert complete["mean"] == pytest.approx((0.5 + FAILURES.sum() + 3) / (HOURS.sum() + 5.0), rel=EXACT)
    with pytest.raises(ValueError, match="no proper posterior"):
        fit(pooling="none").predict_new(0, 0.0)
    with pytest.raises(ValueError, match="need exposure > 0"):
        fit(pooling="none").predict_new(2, 0.0)


def test_heldout_events_score_the_exact_predictive(partial, brute):
    """Later events y' in exposure E' for every pump: log p(y' | y) is the negative binomial of
    Gamma(alpha + y_i, beta + E_i) averaged over the hyperparameters' posterior."""
    from poolwise.analysis.predict import heldout

    f, _ = partial
    later_y, later_e = np.array([2, 0, 3, 9, 1, 12, 0, 2, 1, 15]), HOURS / 2
    got = heldout(f, later_y, later_e)
    for i in (0, 6, 9):
        a, b = brute.alpha + FAILURES[i], brute.beta + HOURS[i]
        want = np.log(stats.nbinom.pmf(later_y[i], a, b / (b + later_e[i])) @ brute.w)
        assert got["lpd"].iloc[i] == pytest.approx(want, abs=1e-3)  # ~1e-4 relative in the pmf
    np.testing.assert_allclose(got["observed_rate"], later_y / later_e, rtol=EXACT)


def test_hyper_grid_is_over_log_mu_and_log_alpha(partial):
    f, _ = partial
    grid = f.hyper_grid()
    u, v = np.meshgrid(grid["u"], grid["v"], indexing="ij")
    np.testing.assert_allclose(grid["alpha"], np.exp(v), rtol=EXACT)
    np.testing.assert_allclose(grid["alpha"] / grid["beta"], np.exp(u), rtol=1e-12)
    assert grid["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    # The grid's mean of alpha is the reported one (the same quadrature).
    assert float(grid["alpha"].ravel() @ grid["weight"].ravel()) == pytest.approx(
        f.summary().loc["alpha", "mean"], rel=1e-12
    )


def test_no_exposure_anywhere_gives_the_prior_with_warnings_not_a_crash():
    df = pd.DataFrame({"pump": ["a", "b"], "failures": [0, 0], "hours": [0.0, 0.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = fit(df, priors=BUGS_PRIORS)
    assert any("prior-dominated" in str(w.message) for w in caught)
    # The data are empty: alpha's posterior is its Exponential(1) prior (mean 1), to the grid's accuracy.
    assert f.summary().loc["alpha", "mean"] == pytest.approx(1.0, abs=0.01)


def test_events_in_a_new_exposure_match_brute_force(partial, brute):
    """A new pump's failures in 10 thousand hours: a mixture of negative binomials. P(no failure)
    and the cdf at the interval's ends against the reference grid."""
    from poolwise.analysis.predict import events_table

    f, _ = partial
    table = events_table({"partial": f}, 10.0, 0.9)
    row = table.loc["partial"]
    p = brute.beta / (brute.beta + 10.0)
    assert row["p0"] == pytest.approx(float((p**brute.alpha) @ brute.w), abs=ENGINE_TOL + REF_ERR)

    def cdf(k):
        return float(stats.nbinom.cdf(k, brute.alpha, p) @ brute.w)

    # Equal-tailed: the lower end is the smallest k with cdf >= 5%, the upper with cdf >= 95%.
    assert cdf(row["lb"]) >= 0.05 - 1e-4 and (row["lb"] == 0 or cdf(row["lb"] - 1) < 0.05 + 1e-4)
    assert cdf(row["ub"]) >= 0.95 - 1e-4 and cdf(row["ub"] - 1) < 0.95 + 1e-4
    assert cdf(row["median"]) >= 0.5 - 1e-4 and cdf(row["median"] - 1) < 0.5 + 1e-4
    pmf = table.attrs["pmf"]["partial"]
    assert pmf.sum() >= 0.999 - 1e-9  # the distribution reaches past the interval


def test_events_in_a_new_exposure_leave_out_an_improper_no_pooling():
    from poolwise.analysis.predict import events_table

    fits = pw.fit_all(pumps(), **COLUMNS, poolings=("none", "complete"), random_seed=1)
    table = events_table(fits, 10.0)
    assert list(table.index) == ["complete"]
    assert "improper" in table.attrs["excluded"]["none"]
    # Complete pooling: one negative binomial, Gamma(1/2 + sum y, sum E) mixed over Poisson(10 theta).
    a, b = 0.5 + FAILURES.sum(), HOURS.sum()
    assert table.loc["complete", "p0"] == pytest.approx((b / (b + 10.0)) ** a, rel=1e-10)
