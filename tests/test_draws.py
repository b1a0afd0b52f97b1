"""The draws in ``fit.idata`` against the exact summaries, within Monte Carlo error.

poolwise's draws are independent (a grid cell by its probability, a point in it, then each theta
from its conjugate Beta; closed forms draw the Beta directly), so with N = chains * draws = 4000
draws a sample mean has standard error sd / sqrt(N) and the fraction of draws below a quantile
x_q has standard error sqrt(q (1 - q) / N). Every comparison allows Z = 4.5 standard errors:
two-sided P(|Z| > 4.5) = 6.8e-6 for one comparison. There are about 730 comparisons in this file
(92 quantities: SpaceX under three poolings and the 71 rat groups under partial pooling, with the
hyperparameters and theta_new; each compared by mean, variance, four quantiles, ArviZ's mean and
the replicated counts), so for a random seed the chance that any fails by bad luck is at most
730 * 6.8e-6 = 0.5% (union bound); with the fixed seeds used here the outcome is deterministic.
The exact summaries of partial pooling carry the engine's own error (<= 1e-4), which is a few
percent of the smallest standard error used (sqrt(0.03 * 0.97 / 4000) = 2.7e-3 in probability).
"""

import arviz as az
import numpy as np
import pytest
from scipy import stats

import poolwise as pw

Z = 4.5
SEED = 20260101
SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
RATS = {"group": "experiment", "successes": "y", "trials": "n"}
QUANTILE_PROBS = (0.5, 0.94)  # ETI bounds at q = 0.25, 0.75, 0.03, 0.97

CASES = {
    "spacex-none": ("spacex", SPACEX, "none"),
    "spacex-complete": ("spacex", SPACEX, "complete"),
    "spacex-partial": ("spacex", SPACEX, "partial"),
    "rats-partial": ("rat_tumors", RATS, "partial"),
}


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request):
    dataset, columns, pooling = CASES[request.param]
    data = pw.datasets.load(dataset)
    return data, columns, pw.fit(data, **columns, pooling=pooling, random_seed=SEED)


def draws_and_exact(fit):
    """(name, draws (N,), exact summary row, ETI rows by prob) for every reported quantity."""
    post = fit.idata["posterior"]
    out = []
    etis = {p: fit.summary(ci_kind="eti", ci_prob=p) for p in QUANTILE_PROBS}
    summary = fit.summary()
    theta = post["theta"]
    if fit.pooling == "complete":
        out.append(
            (
                "theta",
                theta.values.ravel(),
                summary.loc["theta"],
                {p: etis[p].loc["theta"] for p in etis},
            )
        )
    else:
        for k, label in enumerate(theta[fit.dim].values):
            row = f"theta[{label}]"
            out.append(
                (
                    row,
                    theta.values[..., k].ravel(),
                    summary.loc[row],
                    {p: etis[p].loc[row] for p in etis},
                )
            )
    for name in ("alpha", "beta", "mu", "kappa"):
        if name in post:
            out.append(
                (
                    name,
                    post[name].values.ravel(),
                    summary.loc[name],
                    {p: etis[p].loc[name] for p in etis},
                )
            )
    new = fit.idata["posterior_predictive"]["theta_new"].values.ravel()
    out.append(
        (
            "theta_new",
            new,
            fit.new_group().summary,
            {p: fit.new_group("eti", p).summary for p in etis},
        )
    )
    return out


def test_shapes(fitted):
    data, columns, fit = fitted
    post = fit.idata["posterior"]
    shape = (4, 1000) if fit.pooling == "complete" else (4, 1000, len(data))
    assert post["theta"].shape == shape
    assert fit.idata["posterior_predictive"]["y"].shape == (4, 1000, len(data))
    assert fit.idata["log_likelihood"]["y"].shape == (4, 1000, len(data))
    assert fit.new_group().draws.shape == (4, 1000)


def test_means_within_monte_carlo_error(fitted):
    fit = fitted[2]
    failures = []
    for name, x, exact, _ in draws_and_exact(fit):
        se = exact["sd"] / np.sqrt(x.size)
        if abs(x.mean() - exact["mean"]) > Z * se:
            failures.append(f"{name}: draws {x.mean():.6g}, exact {exact['mean']:.6g}, {Z} se = {Z * se:.3g}")
    assert not failures, "\n".join(failures)


def test_variances_within_monte_carlo_error(fitted):
    # standard error of the sample variance: sqrt((m4 - sigma^4) / N), m4 the fourth central
    # moment, estimated from the draws
    fit = fitted[2]
    failures = []
    for name, x, exact, _ in draws_and_exact(fit):
        m4 = np.mean((x - x.mean()) ** 4)
        se = np.sqrt(max(m4 - exact["sd"] ** 4, 0.0) / x.size)
        if abs(x.var() - exact["sd"] ** 2) > Z * se:
            failures.append(
                f"{name}: draws var {x.var():.6g}, exact {exact['sd'] ** 2:.6g}, {Z} se = {Z * se:.3g}"
            )
    assert not failures, "\n".join(failures)


def test_fraction_below_exact_quantiles(fitted):
    """KS-style: at each exact ETI bound x_q, the fraction of draws below is q (binomial error)."""
    fit = fitted[2]
    failures = []
    for name, x, _, etis in draws_and_exact(fit):
        for prob, row in etis.items():
            for q, bound in (((1 - prob) / 2, row.iloc[2]), ((1 + prob) / 2, row.iloc[3])):
                frac = np.mean(x < bound)
                se = np.sqrt(q * (1 - q) / x.size)
                if abs(frac - q) > Z * se:
                    failures.append(f"{name}: {frac:.4f} of draws below the exact {q:g}-quantile {bound:.6g}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_closed_form_draws_pass_kolmogorov_smirnov(pooling):
    # Closed forms: the whole CDF is scipy's Beta; KS test of each group's 4000 draws (5 tests;
    # rejecting at p < 1e-5 gives a false-alarm rate of 5e-5 for a random seed)
    data = pw.datasets.load("spacex")
    fit = pw.fit(data, **SPACEX, pooling=pooling, random_seed=SEED)
    theta = fit.idata["posterior"]["theta"].values
    y, n = data["y"].to_numpy(), data["N"].to_numpy()
    if pooling == "none":
        params = [(0.5 + y[k], 0.5 + n[k] - y[k], theta[..., k].ravel()) for k in range(len(data))]
    else:
        params = [(0.5 + y.sum(), 0.5 + (n - y).sum(), theta.ravel())]
    for a, b, x in params:
        assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > 1e-5, (a, b)


def test_hyperparameter_draws_are_consistent(fitted):
    # mu = alpha / (alpha + beta) and kappa = alpha + beta, draw by draw (exact algebra)
    fit = fitted[2]
    post = fit.idata["posterior"]
    if fit.pooling != "partial":
        assert set(post.data_vars) == {"theta"}
        return
    alpha, beta = post["alpha"].values, post["beta"].values
    assert np.all(alpha > 0) and np.all(beta > 0)
    np.testing.assert_allclose(post["mu"].values, alpha / (alpha + beta), rtol=1e-12)
    np.testing.assert_allclose(post["kappa"].values, alpha + beta, rtol=1e-12)


def test_log_likelihood_is_binomial_at_the_draws(fitted):
    data, columns, fit = fitted
    theta = fit.idata["posterior"]["theta"].values
    if theta.ndim == 2:
        theta = np.repeat(theta[..., None], len(data), axis=-1)
    y, n = data[columns["successes"]].to_numpy(), data[columns["trials"]].to_numpy()
    want = stats.binom.logpmf(y, n, theta)
    np.testing.assert_allclose(fit.idata["log_likelihood"]["y"].values, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(fit.idata["observed_data"]["y"].values, y)
    np.testing.assert_array_equal(fit.idata["constant_data"]["n"].values, n)


def test_posterior_predictive_counts(fitted):
    data, columns, fit = fitted
    y_rep = fit.idata["posterior_predictive"]["y"].values
    n = data[columns["trials"]].to_numpy()
    assert np.issubdtype(y_rep.dtype, np.integer)
    assert np.all(y_rep >= 0) and np.all(y_rep <= n)
    # E[y_rep_i] = n_i E[theta_i]; 4.5 Monte Carlo standard errors of the mean count
    summary = fit.summary()
    labels = data[columns["group"]]
    exact = n * (
        summary.loc["theta", "mean"]
        if fit.pooling == "complete"
        else summary.loc[[f"theta[{g}]" for g in labels], "mean"].to_numpy()
    )
    flat = y_rep.reshape(-1, len(data))
    se = flat.std(axis=0) / np.sqrt(flat.shape[0])
    assert np.all(np.abs(flat.mean(axis=0) - exact) <= Z * se + 1e-12)


def test_draws_are_reproducible_and_seeded():
    data = pw.datasets.load("spacex")
    one = pw.fit(data, **SPACEX, random_seed=7).idata
    again = pw.fit(data, **SPACEX, random_seed=7).idata
    other = pw.fit(data, **SPACEX, random_seed=8).idata
    for group in ("posterior", "posterior_predictive", "log_likelihood"):
        for name, var in one[group].data_vars.items():
            np.testing.assert_array_equal(var.values, again[group][name].values)
            assert not np.array_equal(var.values, other[group][name].values), (group, name)
    # without a seed one is chosen, kept, and reproduces the draws
    fresh = pw.fit(data, **SPACEX)
    assert isinstance(fresh.random_seed, int)
    replay = pw.fit(data, **SPACEX, random_seed=fresh.random_seed)
    np.testing.assert_array_equal(
        fresh.idata["posterior"]["theta"].values, replay.idata["posterior"]["theta"].values
    )


def test_arviz_summary_runs_and_matches(fitted):
    fit = fitted[2]
    table = az.summary(fit.idata, round_to="none")
    exact = {
        name: (row["mean"], row["sd"]) for name, _, row, _ in draws_and_exact(fit) if name != "theta_new"
    }
    assert set(exact) <= set(table.index)
    n = fit.idata["posterior"].sizes["chain"] * fit.idata["posterior"].sizes["draw"]
    for name, (mean, sd) in exact.items():
        assert abs(float(table.loc[name, "mean"]) - mean) <= Z * sd / np.sqrt(n), name
        # independent draws: R-hat ~ 1 and ESS ~ N
        assert float(table.loc[name, "r_hat"]) < 1.01, name
        assert float(table.loc[name, "ess_bulk"]) > 0.75 * n, name
    predictive = az.summary(fit.idata, group="posterior_predictive", round_to="none")
    assert "theta_new" in predictive.index
