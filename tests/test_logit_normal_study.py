"""The logit-normal family through the study: predictive counts, LOGO, shrinkage, CLI and report."""

import json
import re
import warnings

import numpy as np
import pytest
from scipy import stats

import poolwise as pw
from poolwise import predict, report
from poolwise.cli import main
from poolwise.presentation.plots import shrinkage_table

SURGICAL = {"group": "hospital", "successes": "r", "trials": "n"}


@pytest.fixture(scope="module")
def fits():
    return pw.fit_all(pw.datasets.load("surgical"), **SURGICAL, family="logit-normal", random_seed=2)


def test_predictive_counts_have_the_new_groups_moments(fits):
    fit, m = fits["partial"], 50
    pmf = predict.predictive_counts(fit, m)
    k = pmf.index.to_numpy()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    new = fit.new_group().summary
    mean, var = new["mean"], new["sd"] ** 2
    # y | theta ~ Binomial(m, theta): E[y] = m E[theta], Var[y] = m E[theta (1 - theta)] + m^2 Var[theta],
    # with theta_new's exact moments (the engine's tolerance, 1e-4, relative).
    assert k @ pmf.to_numpy() == pytest.approx(m * mean, rel=1e-4)
    variance = ((k - m * mean) ** 2) @ pmf.to_numpy()
    assert variance == pytest.approx(m * (mean - var - mean**2) + m**2 * var, rel=1e-3)


def test_shrinkage_is_the_share_of_the_own_data_variance_removed(fits):
    table = shrinkage_table(fits)
    data = pw.datasets.load("surgical")
    y, n = data["r"].to_numpy(), data["n"].to_numpy()
    # The log-odds' variance under no pooling's Beta(1/2 + y, 1/2 + n - y), by quadrature here.
    alone = np.array(
        [
            stats.beta(0.5 + yi, 0.5 + ni - yi).expect(lambda t: np.log(t / (1 - t)) ** 2)
            - stats.beta(0.5 + yi, 0.5 + ni - yi).expect(lambda t: np.log(t / (1 - t))) ** 2
            for yi, ni in zip(y, n, strict=True)
        ]
    )
    # ... and under partial pooling from the independent draws: a variance of N draws carries a
    # relative Monte Carlo error of about sqrt(2 / N); 4 of those.
    theta = fits["partial"].idata["posterior"]["theta"].values.reshape(-1, len(y))
    pooled = np.log(theta / (1 - theta)).var(axis=0)
    tol = 4 * np.sqrt(2 / theta.shape[0]) * pooled / alone
    assert np.all(np.abs(table["shrinkage"] - np.clip(1 - pooled / alone, 0, 1)) <= tol)
    assert table["shrinkage"].between(0, 1).all()
    # Hospital A's 0 of 47 says little about its log-odds on its own: it is pooled hardest.
    assert table["shrinkage"].idxmax() == "A"


def test_cli_json_names_mu_and_sigma(capsys):
    assert (
        main(["fit", "--dataset", "surgical", "--family", "logit-normal", "--pooling", "partial", "--json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["models"]["partial"]["hyperparameters"]) == {"mu", "sigma"}
    assert "logit(theta_i) ~ Normal(mu, sigma^2)" in doc["models"]["partial"]["equations"]


def test_cli_predicts_new_groups_and_counts(capsys):
    assert main(["fit", "--dataset", "surgical", "--family", "logit-normal", "--new-group", "2/30"]) == 0
    assert "2/30 partial" in capsys.readouterr().out
    args = ["fit", "--dataset", "surgical", "--family", "logit-normal", "--new-trials", "100", "--json"]
    assert main(args) == 0
    rows = {r["pooling"]: r for r in json.loads(capsys.readouterr().out)["new_group_counts"]}
    assert sum(rows["partial"]["pmf"]) == pytest.approx(1.0, abs=1e-12)


def test_report_draws_every_figure(fits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        page = report.render_html(fits)  # a figure not drawn would warn, and fail the test
    assert "Figure not drawn" not in page
    for part in ("standard deviation of the log-odds", "logit θ<sub>new</sub> ∼ N(μ, σ²)", "asinh(σ / c)"):
        assert part in page
    # diagrams, forest, shrinkage, checks, pairwise, hyperparameters, new group, grid
    assert len(re.findall(r'src="data:image/svg\+xml;base64,', page)) == 8


def test_prior_sensitivity_refits_under_other_logit_scale_priors(fits):
    from poolwise.analysis.sensitivity import LOGIT_ALTERNATIVES, prior_sensitivity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        table = prior_sensitivity(fits["partial"])
    assert list(table.index) == list(LOGIT_ALTERNATIVES)
    assert {"mu_mean", "sigma_median", "sigma_lb", "sigma_ub", "theta_new_mean"} <= set(table.columns)
    # The default is the reference itself (reused, not refitted): nothing moves.
    assert table.iloc[0]["max_shift"] == 0.0
    # Each other row is what pw.fit gives under those priors.
    label = "sigma ~ Exponential(1) (rstanarm)"
    alt = pw.fit(pw.datasets.load("surgical"), **SURGICAL, family="logit-normal",
                 priors=LOGIT_ALTERNATIVES[label], random_seed=2)  # fmt: skip
    assert table.loc[label, "mu_mean"] == pytest.approx(alt.summary().loc["mu", "mean"], rel=1e-12)
    # Twelve hospitals pin sigma down: no prior here moves a mean by half a posterior sd.
    assert not table.attrs["prior_driven"]
