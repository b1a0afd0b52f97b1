"""Extreme data: the engine converges or warns with the reason; it never returns NaN silently."""

import warnings

import numpy as np
import pandas as pd
import pytest

import poolwise as pw


def _fit(trials, successes, **kwargs):
    df = pd.DataFrame(
        {"group": [f"g{i}" for i in range(len(trials))], "successes": successes, "trials": trials}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pw.PoolwiseWarning)
        fit = pw.fit(df, random_seed=0, **kwargs)
        summary = fit.summary()
    assert np.isfinite(summary.to_numpy()).all()
    return fit, summary, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    ("case", "trials", "successes", "expected"),
    [
        # The data cannot tell these from "no variation between groups": kappa's tail is the prior's.
        ("identical groups", [10] * 5, [5] * 5, "prior-dominated"),
        ("all successes", [10, 20, 5], [10, 20, 5], "prior-dominated"),
        ("all failures", [10, 20, 5], [0, 0, 0], "prior-dominated"),
        ("one group", [10], [3], "prior-dominated"),
    ],
)
def test_data_that_cannot_pin_the_population_are_reported(case, trials, successes, expected):
    fit, _, messages = _fit(trials, successes)
    assert fit.diagnostics["converged"]
    assert any(expected in m for m in messages), (case, messages)


def test_all_successes_put_every_rate_near_one_and_all_failures_near_zero():
    _, high, _ = _fit([10, 20, 5], [10, 20, 5])
    _, low, _ = _fit([10, 20, 5], [0, 0, 0])
    assert (high.loc[["theta[g0]", "theta[g1]", "theta[g2]"], "mean"] > 0.9).all()
    np.testing.assert_allclose(
        low.loc[["theta[g0]", "theta[g1]", "theta[g2]"], "mean"],
        1 - high.loc[["theta[g0]", "theta[g1]", "theta[g2]"], "mean"],
        atol=1e-4,  # the seed's priors are symmetric in alpha and beta: an exact mirror, to the grid's tol
    )


def test_improper_posterior_under_an_improper_prior_is_reported():
    # All successes under BDA3's prior: p(alpha, beta) ~ (alpha+beta)^(-5/2) does not vanish fast
    # enough as kappa -> 0 when no group has a failure (BDA3 section 5.3).
    fit, _, messages = _fit([10, 20, 5], [10, 20, 5], priors={"alpha,beta": pw.priors.BDA3()})
    assert any("edge of the hyperparameter grid" in m for m in messages)
    assert fit.diagnostics["edge_mass"] > 1e-8


def test_heterogeneous_data_fit_without_any_warning():
    fit, _, messages = _fit([5, 304, 9, 9], [2, 301, 9, 5])
    assert messages == [] and fit.diagnostics["converged"]


def test_zero_trial_group_gets_the_population_prediction():
    fit, summary, _ = _fit([10, 0, 7, 12], [3, 0, 5, 9])
    new = fit.new_group().summary
    np.testing.assert_allclose(summary.loc["theta[g1]"].to_numpy(), new.to_numpy(), rtol=1e-10)


def test_huge_group_beside_tiny_ones_and_trials_in_the_billions():
    _, summary, _ = _fit([3_000_000_000, 3, 4], [1_500_000_000, 1, 4])
    assert summary.loc["theta[g0]", "mean"] == pytest.approx(0.5, abs=1e-6)
    assert summary.loc["theta[g0]", "sd"] < 1e-4


def test_two_groups():
    fit, summary, _ = _fit([40, 40], [4, 36])
    assert summary.loc["theta[g0]", "mean"] < summary.loc["theta[g1]", "mean"]
    assert fit.diagnostics["converged"]
