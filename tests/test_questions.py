"""Questions of a fit, each against an independent computation (closed form, quadrature, optimiser)."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

import poolwise as pw
from poolwise import questions as q

COLS = {"group": "Mission", "successes": "y", "trials": "N"}


@pytest.fixture(scope="module")
def fits():
    return pw.fit_all(pw.datasets.load("spacex"), **COLS, random_seed=0, draws=5000)


@pytest.fixture(scope="module")
def data():
    df = pw.datasets.load("spacex")
    return df["y"].to_numpy(), df["N"].to_numpy()


def test_prob_above_closed_form(fits, data):
    y, n = data
    np.testing.assert_allclose(
        q.prob_above(fits["none"], 0.9), stats.beta(0.5 + y, 0.5 + n - y).sf(0.9), rtol=1e-10
    )
    expected = stats.beta(0.5 + y.sum(), 0.5 + (n - y).sum()).sf(0.9)
    np.testing.assert_allclose(q.prob_above(fits["complete"], 0.9), expected, rtol=1e-10)


def test_prob_above_partial_equals_the_grid_mixture(fits, data):
    y, n = data
    grid = fits["partial"].hyper_grid()
    a, b, w = grid["alpha"].ravel(), grid["beta"].ravel(), grid["weight"].ravel()
    mixture = [float(w @ stats.beta(a + yi, b + ni - yi).sf(0.9)) for yi, ni in zip(y, n, strict=True)]
    # The spline CDF of the tabulated mixture against a direct node-by-node sum on the same grid:
    # both converge to the engine's tolerance (1e-4).
    np.testing.assert_allclose(q.prob_above(fits["partial"], 0.9), mixture, atol=1e-4)


def test_prob_best_no_pooling_against_quadrature(fits, data):
    y, n = data
    dists = [stats.beta(0.5 + yi, 0.5 + ni - yi) for yi, ni in zip(y, n, strict=True)]

    def p_best(i):
        def integrand(x):
            return dists[i].pdf(x) * np.prod([d.cdf(x) for j, d in enumerate(dists) if j != i])

        return integrate.quad(integrand, 0, 1, limit=200, points=[0.99, 0.999])[0]

    exact = np.array([p_best(i) for i in range(len(dists))])
    got = q.prob_best(fits["none"])
    # Independent draws: 4.5 Monte Carlo standard errors (plus 1e-9 where p is 0 or 1).
    assert np.all(np.abs(got["prob"].to_numpy() - exact) <= 4.5 * np.sqrt(exact * (1 - exact) / 20000) + 1e-9)


def test_ranks_and_pairwise_are_consistent(fits):
    fit = fits["partial"]
    r = q.ranks(fit)
    probs = r.drop(columns=["mean_rank", "mean_rank_mcse"]).to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs.sum(axis=0), 1.0)
    np.testing.assert_allclose(probs[:, 0], q.prob_best(fit)["prob"])
    p = q.pairwise(fit).to_numpy()
    off = ~np.eye(len(p), dtype=bool)
    np.testing.assert_allclose((p + p.T)[off], 1.0)
    assert q.prob_top(fit, 4)["prob"].eq(1.0).all()


def test_q_values_are_running_means_of_sorted_peps():
    pep = np.array([0.5, 0.01, 0.2, 0.0])
    # sorted: 0.0, 0.01, 0.2, 0.5 -> running means 0, 0.005, 0.07, 0.1775
    np.testing.assert_allclose(q._q_values(pep), [0.1775, 0.005, 0.07, 0.0])


def test_empirical_bayes_is_the_marginal_maximum_likelihood(fits, data):
    y, n = data

    def negative(x):
        return -stats.betabinom.logpmf(y, n, np.exp(x[0]), np.exp(x[1])).sum()

    best = optimize.minimize(
        negative, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
    )
    alpha, beta = q.empirical_bayes(fits["partial"])
    np.testing.assert_allclose([np.log(alpha), np.log(beta)], best.x, atol=1e-4)


def test_threshold_test_columns_and_direction(fits):
    above = q.threshold_test(fits["partial"], 0.9)
    below = q.threshold_test(fits["partial"], 0.9, direction="below")
    np.testing.assert_allclose(above["prob"] + below["prob"], 1.0)
    assert list(above.columns) == ["prob", "pep", "q_value", "prob_eb", "q_value_eb"]
    assert isinstance(above.index, pd.Index) and list(above.index) == list(
        pw.datasets.load("spacex")["Mission"]
    )
    with pytest.raises(ValueError, match="direction"):
        q.threshold_test(fits["partial"], 0.9, direction="sideways")
    with pytest.raises(ValueError, match="threshold"):
        q.prob_above(fits["partial"], 1.5)


def test_fit_methods_are_the_module_functions(fits):
    fit = fits["partial"]
    pd.testing.assert_series_equal(fit.prob_above(0.9), q.prob_above(fit, 0.9))
    pd.testing.assert_frame_equal(fit.prob_best(), q.prob_best(fit))
    pd.testing.assert_frame_equal(fit.ranks(), q.ranks(fit))
    assert fit.predict_new(2, 3)["mean"] == pytest.approx(pw.predict.new_group_with_data(fit, 2, 3)["mean"])
    assert fit.predictive_counts(5).sum() == pytest.approx(1.0)
    assert list(fit.ppc().index)[0] == "all_successes"


def test_notebook_display_escapes_and_summarises(fits):
    html = fits["partial"]._repr_html_()
    assert "poolwise.Fit" in html and "theta[Falcon 1]" in html and "HalfNormal(sigma=10)" in html
    assert "<table" in fits._repr_html_()
    df = pd.DataFrame({"group": ["<script>x</script>", "b"], "successes": [1, 2], "trials": [3, 4]})
    page = pw.fit(df, pooling="none")._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_rank_table_against_ranks_computed_directly_from_the_draws(fits):
    fit = fits["partial"]
    theta = fit.idata["posterior"]["theta"].values.reshape(-1, fit.data.n_groups)
    # Rank 1 = highest: rankdata of -theta, independently of the library's argsort-of-argsort.
    rank = stats.rankdata(-theta, axis=1, method="ordinal")
    table = q.rank_table(fit, prob=0.9, top=2)
    assert list(table.index) == list(fit.data.groups[np.argsort(rank.mean(axis=0), kind="stable")])
    direct = pd.DataFrame(
        {
            "mean_rank": rank.mean(axis=0),
            # The equal-tailed interval of a discrete distribution: the inverted-CDF quantiles.
            "rank_lb": np.quantile(rank, 0.05, axis=0, method="inverted_cdf"),
            "rank_ub": np.quantile(rank, 0.95, axis=0, method="inverted_cdf"),
            "prob_best": (rank == 1).mean(axis=0),
            "prob_top2": (rank <= 2).mean(axis=0),
        },
        index=fit.data.groups,
    ).loc[table.index]
    for column in direct:
        np.testing.assert_allclose(table[column], direct[column], rtol=1e-12, err_msg=column)
    n = theta.shape[0]
    np.testing.assert_allclose(
        table["prob_best_mcse"], np.sqrt(direct["prob_best"] * (1 - direct["prob_best"]) / n)
    )


def test_rank_table_refuses_a_bad_probability(fits):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        q.rank_table(fits["partial"], prob=1.0)


def test_threshold_test_records_its_question(fits):
    calls = q.threshold_test(fits["partial"], 0.8, direction="below")
    assert calls.attrs == {"threshold": 0.8, "direction": "below"}
