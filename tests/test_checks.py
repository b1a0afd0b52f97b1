"""Posterior predictive checks and prior sensitivity, against exact moments and direct refits."""

import warnings

import numpy as np
import pytest
from scipy import special

import poolwise as pw
from poolwise.analysis.checks import ppc
from poolwise.analysis.sensitivity import prior_sensitivity

SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
RATS = {"group": "experiment", "successes": "y", "trials": "n"}


@pytest.fixture(scope="module")
def rats():
    return pw.fit_all(pw.datasets.load("rat_tumors"), **RATS, random_seed=0)


def _expected_counts(fit):
    """Exact E[#groups with y_rep = n] and E[#groups with y_rep = 0]: sums of E[theta^n], E[(1-theta)^n]."""
    y, n = fit.data.successes, fit.data.trials
    if fit.pooling == "partial":
        grid = fit.hyper_grid()
        a = grid["alpha"].ravel()[None, :] + y[:, None]
        b = grid["beta"].ravel()[None, :] + (n - y)[:, None]
        w = grid["weight"].ravel()
    else:
        prior = fit.model.priors["theta"]
        ys, fs = (y, n - y) if fit.pooling == "none" else (y.sum() + 0 * y, (n - y).sum() + 0 * y)
        a, b, w = (prior.alpha + ys)[:, None], (prior.beta + fs)[:, None], np.ones(1)
    all_s = np.exp(special.betaln(a + n[:, None], b) - special.betaln(a, b)) @ w
    none_s = np.exp(special.betaln(a, b + n[:, None]) - special.betaln(a, b)) @ w
    return np.sum(all_s * (n > 0)), np.sum(none_s * (n > 0))


@pytest.mark.parametrize("pooling", ["none", "complete", "partial"])
def test_replicated_counts_match_exact_expectations(rats, pooling):
    fit = rats[pooling]
    table = ppc(fit)
    n_draws = fit.chains * fit.n_draws
    for name, expected in zip(["all_successes", "no_successes"], _expected_counts(fit), strict=True):
        row = table.loc[name]
        # Independent draws: 4.5 Monte Carlo standard errors. For a count of rare events the sample
        # sd can be 0 by chance (no event in N draws); its variance is then about its mean, so the
        # larger of the two bounds the standard error.
        var = max(row["sd_rep"] ** 2, expected)
        assert abs(row["mean_rep"] - expected) <= 4.5 * np.sqrt(var / n_draws) + 1e-12, name
    assert table["p_value"].between(0, 1).all()
    rates = fit.data.successes / fit.data.trials
    assert table.loc["sd_rate", "observed"] == pytest.approx(rates.std(), rel=1e-12)
    assert table.loc["no_successes", "observed"] == 14


def test_complete_pooling_fails_the_check_it_should(rats):
    # 14 of 71 rat groups have no tumour; one shared rate of 0.15 almost never produces that many.
    assert ppc(rats["complete"]).loc["no_successes", "p_value"] < 0.01
    assert ppc(rats["partial"]).loc["no_successes", "p_value"] > 0.01


def test_sensitivity_rows_are_refits(rats):
    table = prior_sensitivity(
        rats["partial"], {"wide": {"alpha": "HalfNormal(100)", "beta": "HalfNormal(100)"}}
    )
    direct = pw.fit(
        pw.datasets.load("rat_tumors"), **RATS, priors={"alpha": "HalfNormal(100)", "beta": "HalfNormal(100)"}
    ).summary()
    assert table.loc["wide", "mu_mean"] == pytest.approx(direct.loc["mu", "mean"], rel=1e-12)
    assert table.loc["wide", "kappa_ub"] == pytest.approx(direct.loc["kappa", "hdi94_ub"], rel=1e-12)
    assert not table.attrs["prior_driven"]


def test_few_groups_are_reported_prior_driven():
    fit = pw.fit(pw.datasets.load("spacex"), **SPACEX, random_seed=0)
    with pytest.warns(pw.PoolwiseWarning, match="prior-driven: with 4 groups"):
        table = prior_sensitivity(fit)
    assert table.loc["HalfNormal(10) (seed)", "max_shift"] == 0.0
    assert table.attrs["prior_driven"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        none = pw.fit(pw.datasets.load("spacex"), **SPACEX, pooling="none")
    with pytest.raises(ValueError, match="partial-pooling fit"):
        prior_sensitivity(none)
