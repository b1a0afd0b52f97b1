"""Model comparison: exact LOGO-CV against closed forms and against refitting without the group."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import poolwise as pw
from poolwise.analysis.comparison import exact_logo, stacking_weights

SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
SURGICAL = {"group": "hospital", "successes": "r", "trials": "n"}


@pytest.fixture(scope="module")
def spacex():
    return pw.datasets.load("spacex")


def test_no_and_complete_pooling_logo_are_beta_binomials(spacex):
    fits = pw.fit_all(spacex, **SPACEX, random_seed=0)
    y, n = spacex["y"].to_numpy(), spacex["N"].to_numpy()
    logo, lpd = exact_logo(fits["none"])
    np.testing.assert_allclose(logo, stats.betabinom.logpmf(y, n, 0.5, 0.5), rtol=1e-10)
    np.testing.assert_allclose(lpd, stats.betabinom.logpmf(y, n, 0.5 + y, 0.5 + n - y), rtol=1e-10)
    logo, _ = exact_logo(fits["complete"])
    rest_y, rest_f = y.sum() - y, (n - y).sum() - (n - y)
    np.testing.assert_allclose(logo, stats.betabinom.logpmf(y, n, 0.5 + rest_y, 0.5 + rest_f), rtol=1e-10)


# Some leave-one-out datasets (e.g. SpaceX without Falcon 9) cannot tell partial from complete
# pooling; the engine rightly says so, which is not what this test is about.
@pytest.mark.filterwarnings("ignore:prior-dominated:poolwise.PoolwiseWarning")
@pytest.mark.parametrize(("name", "cols"), [("spacex", SPACEX), ("surgical", SURGICAL)])
def test_partial_logo_equals_refitting_without_the_group(name, cols):
    df = pw.datasets.load(name)
    logo, _ = exact_logo(pw.fit(df, **cols, random_seed=0))
    for i in range(len(df)):
        grid = pw.fit(df.drop(index=df.index[i]), **cols, random_seed=0).hyper_grid()
        y, n = df[cols["successes"]].iloc[i], df[cols["trials"]].iloc[i]
        terms = stats.betabinom.logpmf(y, n, grid["alpha"], grid["beta"])
        refit = special.logsumexp(terms, b=grid["weight"])
        # Both sides are grid quadratures converged to the engine's tolerance (1e-4).
        assert logo[i] == pytest.approx(refit, abs=1e-4), df[cols["group"]].iloc[i]


def test_comparison_table_ranks_and_weights(spacex):
    result = pw.compare(spacex, **SPACEX, random_seed=0)
    assert callable(pw.compare)  # the function, not the module
    table = result.table
    assert list(table["rank"]) == [0, 1, 2]
    assert table["elpd_logo"].is_monotonic_decreasing
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-8)
    assert table.iloc[0]["elpd_diff"] == 0.0
    assert set(table.columns) >= {"elpd_psis", "se_psis", "pareto_k_max", "n_bad_k", "p_logo"}
    groups = result.pointwise.index.get_level_values("Mission")
    assert sorted(set(groups)) == sorted(spacex["Mission"])
    assert len(result.pointwise) == 3 * len(spacex)


def test_stacking_puts_all_weight_on_a_model_that_dominates_every_point():
    lpd = np.column_stack([np.full(20, -1.0), np.full(20, -3.0)])
    np.testing.assert_allclose(stacking_weights(lpd), [1.0, 0.0], atol=1e-4)
    # Two models each better on half the points share the weight.
    lpd = np.column_stack(
        [np.r_[np.full(10, -1.0), np.full(10, -5.0)], np.r_[np.full(10, -5.0), np.full(10, -1.0)]]
    )
    np.testing.assert_allclose(stacking_weights(lpd), [0.5, 0.5], atol=1e-4)


@pytest.mark.filterwarnings("ignore:prior-dominated:poolwise.PoolwiseWarning")
@pytest.mark.parametrize("family", ["beta-binomial", "logit-normal"])
def test_reweighting_and_refitting_paths_agree(monkeypatch, family):
    from poolwise.analysis import comparison as cmp

    fit = pw.fit(pw.datasets.load("surgical"), **SURGICAL, family=family, random_seed=0)
    reweighted, refits = cmp._grid_logo(fit)
    assert refits == 0  # every leave-one-out posterior sits well inside surgical's grid
    monkeypatch.setattr(cmp.exact, "EDGE_MASS", -1.0)  # force a refit for every group
    refitted, refits = cmp._grid_logo(fit)
    assert refits == len(reweighted)
    np.testing.assert_allclose(reweighted, refitted, atol=1e-4)


def test_compare_takes_the_family_from_a_dataframe():
    # issue 14: a logit-normal comparison asked from the table itself is the comparison of the
    # logit-normal fits (same seed, so the PSIS columns agree too), not the beta-binomial one
    data = pw.datasets.load("spacex")
    columns = {"group": "Mission", "successes": "y", "trials": "N"}
    asked = pw.compare(data, **columns, family="logit-normal", random_seed=7)
    fits = pw.fit_all(data, **columns, family="logit-normal", random_seed=7)
    assert {f.family for f in fits.values()} == {"logit-normal"}
    pd.testing.assert_frame_equal(asked.table, pw.compare(fits).table)
    beta = pw.compare(data, **columns, random_seed=7).table
    assert not np.allclose(asked.table.loc["partial", "elpd_logo"], beta.loc["partial", "elpd_logo"])
