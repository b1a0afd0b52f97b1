"""Predictions against closed forms and against refitting with the new group added."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import poolwise as pw
from poolwise import predict

COLS = {"group": "Mission", "successes": "y", "trials": "N"}


@pytest.fixture(scope="module")
def spacex():
    return pw.datasets.load("spacex")


@pytest.fixture(scope="module")
def fits(spacex):
    return pw.fit_all(spacex, **COLS, random_seed=0)


def test_new_group_with_data_closed_forms(fits, spacex):
    got = predict.new_group_with_data(fits["none"], 2, 3, ci_kind="eti")
    assert got["mean"] == pytest.approx(2.5 / 4, rel=1e-12)
    assert got["eti94_lb"] == pytest.approx(stats.beta(2.5, 1.5).ppf(0.03), rel=1e-10)
    got = predict.new_group_with_data(fits["complete"], 2, 3)
    y, n = spacex["y"].sum() + 2, spacex["N"].sum() + 3
    assert got["mean"] == pytest.approx((0.5 + y) / (1 + n), rel=1e-12)


def test_new_group_with_data_equals_refitting_with_the_group(fits, spacex):
    got = predict.new_group_with_data(fits["partial"], 2, 3, ci_kind="eti")
    bigger = pd.concat([spacex, pd.DataFrame({"Mission": ["New rocket"], "N": [3], "y": [2]})])
    refit = pw.fit(bigger, **COLS, random_seed=0).summary(ci_kind="eti").loc["theta[New rocket]"]
    # Reweighting the fitted grid vs a fresh grid: both converged to the engine's 1e-4.
    np.testing.assert_allclose(got.to_numpy(), refit.to_numpy(), atol=1e-4)


def test_predict_counts(fits):
    pmf = predict.predictive_counts(fits["none"], 5)
    np.testing.assert_allclose(pmf, stats.betabinom.pmf(np.arange(6), 5, 0.5, 0.5), rtol=1e-10)
    pmf = predict.predictive_counts(fits["partial"], 12)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    # E[y_new] = m E[theta_new], exactly.
    expected = 12 * fits["partial"].new_group().summary["mean"]
    assert float(pmf.index.to_numpy() @ pmf.to_numpy()) == pytest.approx(expected, abs=1e-4)


def test_heldout_scores(fits, spacex):
    later_y, later_n = np.array([0, 150, 5, 3]), np.array([0, 151, 5, 6])
    none = predict.heldout(fits["none"], later_y, later_n)
    y, n = spacex["y"].to_numpy(), spacex["N"].to_numpy()
    np.testing.assert_allclose(
        none["lpd"], stats.betabinom.logpmf(later_y, later_n, 0.5 + y, 0.5 + n - y), rtol=1e-10
    )
    assert np.isnan(none["squared_error"].iloc[0])  # no later trials, no rate to compare with
    partial = predict.heldout(fits["partial"], later_y, later_n)
    grid = fits["partial"].hyper_grid()
    a, b, w = grid["alpha"].ravel(), grid["beta"].ravel(), grid["weight"].ravel()
    direct = [
        special.logsumexp(stats.betabinom.logpmf(ly, ln, a + yi, b + ni - yi), b=w)
        for ly, ln, yi, ni in zip(later_y, later_n, y, n, strict=True)
    ]
    np.testing.assert_allclose(partial["lpd"], direct, rtol=1e-10, atol=1e-14)  # log 1 = 0 for n = 0
    np.testing.assert_allclose(partial["mean"], fits["partial"].group_table()["mean"], atol=1e-6)


def test_bad_counts_are_refused(fits):
    with pytest.raises(ValueError, match="successes .* exceed trials"):
        predict.new_group_with_data(fits["partial"], 4, 3)
    with pytest.raises(ValueError, match="one per group"):
        predict.heldout(fits["partial"], [1, 2], [3, 4])
    with pytest.raises(ValueError, match="whole number"):
        predict.predictive_counts(fits["partial"], 2.5)


def test_heldout_table_against_closed_forms(fits, spacex):
    later_y, later_n = np.array([0, 150, 5, 3]), np.array([0, 151, 5, 6])
    table = predict.heldout_table(fits, later_y, later_n)
    assert set(table.index) == {"none", "complete", "partial"}
    assert list(table["lpd"]) == sorted(table["lpd"], reverse=True)
    y, n = spacex["y"].to_numpy(), spacex["N"].to_numpy()
    # No pooling: each group's Beta(1/2 + y, 1/2 + n - y) posterior, written out here.
    lpd = stats.betabinom.logpmf(later_y, later_n, 0.5 + y, 0.5 + n - y)
    mean = (0.5 + y) / (1 + n)
    scored = later_n > 0
    row = table.loc["none"]
    assert row["lpd"] == pytest.approx(lpd.sum(), rel=1e-12)
    assert row["lpd_se"] == pytest.approx(np.sqrt(4) * np.std(lpd, ddof=1), rel=1e-10)
    assert row["mse"] == pytest.approx(
        np.mean((mean - later_y / np.maximum(later_n, 1))[scored] ** 2), rel=1e-10
    )
    assert row["groups_scored"] == 3
    # Complete pooling: one Beta for every group.
    a, b = 0.5 + y.sum(), 0.5 + (n - y).sum()
    expected = stats.betabinom.logpmf(later_y, later_n, a, b).sum()
    assert table.loc["complete", "lpd"] == pytest.approx(expected, rel=1e-12)


def test_new_groups_table_rows(fits):
    table = predict.new_groups_table(fits, [(2, 3), (0, 0)], ci_kind="eti", ci_prob=0.9)
    assert list(table["pooling"]) == ["none", "complete", "partial"] * 2
    assert list(table.columns[-2:]) == ["eti90_lb", "eti90_ub"]
    none = table.iloc[0]
    assert none["mean"] == pytest.approx(2.5 / 4, rel=1e-12)  # Beta(1/2 + 2, 1/2 + 1)
    assert none["eti90_lb"] == pytest.approx(stats.beta(2.5, 1.5).ppf(0.05), rel=1e-8)
    # A new group with no trials is the unseen group's prediction.
    unseen = fits["partial"].new_group("eti", 0.9).summary
    assert table.iloc[5]["mean"] == pytest.approx(unseen["mean"], abs=1e-6)


def test_counts_table_against_beta_binomial_closed_forms(fits, spacex):
    table = predict.counts_table(fits, 10, prob=0.9)
    y, n = spacex["y"].to_numpy(), spacex["N"].to_numpy()
    for pooling, (a, b) in {"none": (0.5, 0.5), "complete": (0.5 + y.sum(), 0.5 + (n - y).sum())}.items():
        dist = stats.betabinom(10, a, b)
        row = table.loc[pooling]
        assert row["mean"] == pytest.approx(dist.mean(), rel=1e-10)
        assert row["sd"] == pytest.approx(dist.std(), rel=1e-8)
        # The equal-tailed interval of a count: the smallest k whose CDF reaches 5% and 95%.
        assert (row["lb"], row["ub"]) == (dist.ppf(0.05), dist.ppf(0.95))
    np.testing.assert_allclose(table.attrs["pmf"]["partial"], predict.predictive_counts(fits["partial"], 10))
    assert table.attrs["prob"] == 0.9 and set(table["trials"]) == {10}


class Sampled:
    """An exact fit seen as a sampling engine sees it: its independent draws, and no grid."""

    engine = "nuts"

    def __init__(self, fit):
        self.model, self.data, self.pooling, self.idata = fit.model, fit.data, fit.pooling, fit.idata
        self.family = fit.family

    def hyper_grid(self):
        raise ValueError("a sampling engine has no grid")


def test_new_group_with_data_from_draws_agrees_with_the_grid(fits):
    exact = predict.new_group_with_data(fits["partial"], 2, 3)
    drawn = predict.new_group_with_data(Sampled(fits["partial"]), 2, 3)
    # Importance-reweighted draws: the Monte Carlo error of the mean is about sd / sqrt(ESS), with
    # ESS = (sum w)^2 / sum w^2 of the weights; 4 of those.
    post = fits["partial"].idata["posterior"]
    alpha, beta = post["alpha"].values.ravel(), post["beta"].values.ravel()
    w = stats.betabinom.pmf(2, 3, alpha, beta)
    ess = w.sum() ** 2 / (w**2).sum()
    assert abs(drawn["mean"] - exact["mean"]) < 4 * exact["sd"] / np.sqrt(ess)
    for pooling in ("none", "complete"):  # conjugate under either engine
        got = predict.new_group_with_data(Sampled(fits[pooling]), 2, 3)
        pd.testing.assert_series_equal(got, predict.new_group_with_data(fits[pooling], 2, 3), rtol=1e-12)


def test_heldout_from_draws_agrees_with_the_exact_predictive(fits):
    later_y, later_n = np.array([0, 150, 5, 3]), np.array([0, 151, 5, 6])
    for pooling in ("none", "complete", "partial"):
        exact = predict.heldout(fits[pooling], later_y, later_n)
        drawn = predict.heldout(Sampled(fits[pooling]), later_y, later_n)
        theta = fits[pooling].idata["posterior"]["theta"].values
        theta = theta.reshape(theta.shape[0] * theta.shape[1], -1)
        lik = stats.binom.pmf(later_y, later_n, theta)
        # log of a mean of N draws: Monte Carlo sd about sd(lik) / (mean(lik) sqrt(N)); 4 of those.
        tol = 4 * lik.std(axis=0) / (lik.mean(axis=0) * np.sqrt(lik.shape[0])) + 1e-12
        assert np.all(np.abs(drawn["lpd"] - exact["lpd"]) < tol), pooling
        mcse = np.broadcast_to(theta.std(axis=0) / np.sqrt(theta.shape[0]), (4,))
        assert np.all(np.abs(drawn["mean"] - exact["mean"]).to_numpy() < 4 * mcse)
