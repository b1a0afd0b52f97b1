"""Property tests over random valid tables (Hypothesis, derandomized: the examples are fixed).

The exact engine never returns NaN or impossible values, its answers to questions are probabilities,
row order and compression by distinct (n, y) pairs change nothing, and partial pooling lies between
no pooling and complete pooling in the precise sense theory gives (see
:func:`assert_shrunk_toward_a_common_centre`).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import poolwise as pw


@st.composite
def tables(draw):
    size = draw(st.integers(1, 7))
    trials = draw(st.lists(st.integers(0, 60), min_size=size, max_size=size))
    successes = [draw(st.integers(0, n)) for n in trials]
    return pd.DataFrame({"group": [f"g{i}" for i in range(size)], "successes": successes, "trials": trials})


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_summaries_are_finite_and_in_range(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)  # degenerate tables are warned about
        fits = pw.fit_all(df, random_seed=0, draws=50, chains=2)
    for fit in fits.values():
        s = fit.summary()
        assert np.isfinite(s.to_numpy()).all()
        theta = s.loc[[i for i in s.index if i.startswith("theta")]]
        assert (theta[["mean", "hdi94_lb", "hdi94_ub"]].to_numpy() >= 0).all()
        assert (theta[["mean", "hdi94_lb", "hdi94_ub"]].to_numpy() <= 1).all()
        assert (s["hdi94_lb"] <= s["hdi94_ub"]).all() and (s["sd"] >= 0).all()
        table = fit.group_table()
        assert list(table.index) == list(df["group"])  # every group, in order
        new = fit.new_group().summary
        assert 0 <= new["mean"] <= 1 and np.isfinite(new.to_numpy()).all()


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.randoms(use_true_random=False))
def test_row_order_and_duplicated_pairs_change_nothing(df, random):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        base = pw.fit(df, random_seed=0).group_table()
        order = list(range(len(df)))
        random.shuffle(order)
        shuffled = pw.fit(df.iloc[order], random_seed=0).group_table().loc[base.index]
    # HDI ends come from a search that stops within 1e-8 in probability, run per batch of rows.
    np.testing.assert_allclose(shuffled.to_numpy(), base.to_numpy(), rtol=0, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Partial pooling lies between no pooling and complete pooling, where theory says it must
# --------------------------------------------------------------------------------------------

# Each group mean is a dot product over at most 256 x 256 grid cells of terms in [0, 1]: float64
# rounding moves it by at most cells * eps ~ 7e-12; a residual below combines three such means.
MIXTURE_ROUNDING = 1e-10


@st.composite
def tables_with_shared_trials(draw):
    """Groups in classes of equal trials (2 to 4 groups each, not all alike), rows shuffled."""
    rows = []
    for trials in draw(st.lists(st.integers(1, 60), min_size=1, max_size=3, unique=True)):
        successes = draw(
            st.lists(st.integers(0, trials), min_size=2, max_size=4).filter(lambda s: len(set(s)) > 1)
        )
        rows += [(y, trials) for y in successes]
    rows = draw(st.permutations(rows))
    return pd.DataFrame(
        {
            "group": [f"g{i}" for i in range(len(rows))],
            "successes": [y for y, _ in rows],
            "trials": [n for _, n in rows],
        }
    )


def assert_shrunk_toward_a_common_centre(df: pd.DataFrame, means: pd.Series) -> None:
    r"""Within a class of equal trials, partial pooling is no pooling shrunk by one common factor.

    Given the hyperparameters, group i's posterior mean is
    ``E[theta_i | alpha, beta, y] = (alpha + y_i) / (kappa + n_i) = w r_i + (1 - w) mu`` with
    ``r_i = y_i / n_i`` (the raw rate, no pooling's answer as its prior fades), ``mu = alpha / kappa``
    (complete pooling's, the population mean) and ``w = n_i / (kappa + n_i)`` in (0, 1): between
    the two. Averaging over the posterior of (alpha, beta) keeps this only in a weaker form. In
    general the marginal mean need not lie between ``r_i`` and the posterior mean of ``mu``,
    because ``w`` and ``mu`` are correlated a posteriori: 5 of 10 beside 45/51, 1/8 and 5/18 gives
    a raw rate 0.5, E[mu] = 0.5021 and a posterior mean 0.5032. Nor need it lie between poolwise's
    no- and complete-pooling answers, which use another prior (one group of 1/1: both are 0.75,
    partial pooling's is not). What does hold exactly, for the marginal too, is that groups with
    the same ``n`` share one (alpha, beta) posterior, so that with ``E`` over it

        E[theta_i | y] = lambda r_i + (1 - lambda) c,   lambda = E[n / (kappa + n)] in (0, 1),
        c = E[kappa / (kappa + n) mu] / E[kappa / (kappa + n)],

    the same ``lambda`` and ``c`` for every group of the class: the points ``(r_i, E[theta_i])``
    lie on one line of slope ``lambda`` strictly between 0 (complete pooling) and 1 (no pooling),
    so each mean lies strictly between its raw rate and the common centre ``c``, the order of the
    raw rates is kept, and every gap between them shrinks by the same factor. The grid engine
    computes each mean as the same weighted sum over one set of cells, so the identity holds for
    its answers up to rounding.
    """
    for trials, members in df.groupby("trials"):
        raw = members["successes"].to_numpy() / trials
        mean = means.loc[members["group"]].to_numpy()
        lo, hi = np.argmin(raw), np.argmax(raw)
        slope = (mean[hi] - mean[lo]) / (raw[hi] - raw[lo])
        assert 0 < slope < 1, (trials, slope)
        np.testing.assert_allclose(mean, mean[lo] + slope * (raw - raw[lo]), rtol=0, atol=MIXTURE_ROUNDING)


def partial_means(df: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        summary = pw.fit(df, random_seed=0).summary()
    return pd.Series(summary.loc[[f"theta[{g}]" for g in df["group"]], "mean"].to_numpy(), index=df["group"])


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables_with_shared_trials())
def test_partial_pooling_shrinks_equal_trials_toward_a_common_centre(df):
    assert_shrunk_toward_a_common_centre(df, partial_means(df))


def test_the_shrinkage_check_catches_an_engine_that_swaps_successes_and_failures(monkeypatch):
    # Mutation: the group posteriors read n - y for y (the hyperparameters still see y). The
    # slope of each class turns negative, so the check above must fail.
    from poolwise.families import beta_binomial

    original = beta_binomial.posterior_params

    def swapped(alpha, beta, pairs):
        flipped = beta_binomial.Pairs(pairs.trials, pairs.failures, pairs.count, pairs.inverse)
        return original(alpha, beta, flipped)

    df = pd.DataFrame({"group": list("abcd"), "successes": [1, 7, 2, 9], "trials": [10, 10, 20, 20]})
    assert_shrunk_toward_a_common_centre(df, partial_means(df))
    monkeypatch.setattr(beta_binomial, "posterior_params", swapped)
    with pytest.raises(AssertionError):
        assert_shrunk_toward_a_common_centre(df, partial_means(df))


def test_the_marginal_mean_need_not_lie_between_the_raw_rate_and_the_mean_of_mu():
    # The counterexample quoted above: why the check is about classes of equal trials.
    df = pd.DataFrame({"group": list("abcd"), "successes": [45, 1, 5, 5], "trials": [51, 8, 18, 10]})
    summary = pw.fit(df).summary()
    raw, mu, mean = 0.5, summary.loc["mu", "mean"], summary.loc["theta[d]", "mean"]
    # The gaps (1.1e-3 above E[mu], 2.1e-3 above the raw rate) are 11 and 21 times the engine's
    # tolerance, 1e-4: the thresholds below hold with room.
    assert mean > mu + 5e-4 and mu > raw + 1e-3


# --------------------------------------------------------------------------------------------
# Compression by distinct (n, y) pairs is exact
# --------------------------------------------------------------------------------------------


@st.composite
def tables_with_repeated_pairs(draw):
    """2 to 12 groups drawn from at most 4 distinct (trials, successes) pairs."""
    pairs = draw(
        st.lists(
            st.integers(0, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
            min_size=1,
            max_size=4,
        )
    )
    return draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=12))


# The compressed and the row-by-row fit add the same terms in another order; rounding alone
# (~1e-13 here) separates them. A real difference (a wrong count, a group read from another pair)
# moves a summary by far more than the engine's own tolerance, 1e-4.
COMPRESSION_ROUNDING = 1e-9


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables_with_repeated_pairs())
def test_compressing_repeated_pairs_changes_no_group(rows):
    from poolwise.engines import exact
    from poolwise.families.beta_binomial import Pairs
    from poolwise.families.models import build

    trials, successes = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    priors = build("partial")[0].priors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        compressed = exact.fit_partial(priors, trials, successes)
        # Every row its own pair with count one: the likelihood as a product over rows.
        one_by_one = exact.fit_partial_pairs(
            priors, Pairs(trials, successes, np.ones(trials.size, np.int64), np.arange(trials.size))
        )
    assert compressed.pairs.trials.size == len(set(rows))  # the fit really was compressed
    assert compressed.grid_info.levels == one_by_one.grid_info.levels
    compressed_q = {**compressed.quantities, "theta_new": compressed.new_group}
    one_by_one_q = {**one_by_one.quantities, "theta_new": one_by_one.new_group}
    for name, q in compressed_q.items():
        for summary in (by_entry_mean, by_entry_sd, by_entry_quantiles):
            np.testing.assert_allclose(
                summary(q),
                summary(one_by_one_q[name]),
                rtol=COMPRESSION_ROUNDING,
                atol=COMPRESSION_ROUNDING,
                err_msg=name,
            )


def by_entry_mean(q):
    return q.mean[q.index]


def by_entry_sd(q):
    return q.sd[q.index]


def by_entry_quantiles(q):
    return q.marginal.ppf(np.tile([0.025, 0.5, 0.975], (q.mean.size, 1)))[q.index]


# --------------------------------------------------------------------------------------------
# The questions' answers are probabilities, never NaN
# --------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.floats(0, 1))
def test_answers_to_questions_are_probabilities(df, threshold):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        fits = pw.fit_all(df, random_seed=0, draws=50, chains=2)
    for fit in fits.values():
        above = fit.prob_above(threshold)
        best = fit.prob_best()
        ranks = fit.ranks()
        assert list(above.index) == list(best.index) == list(ranks.index) == list(df["group"])
        for values in [
            above.to_numpy(),
            best["prob"].to_numpy(),
            ranks.drop(columns=["mean_rank", "mean_rank_mcse"]).to_numpy(),
        ]:
            assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
        assert np.isfinite(best.to_numpy()).all() and np.isfinite(ranks.to_numpy()).all()
        assert np.all((ranks["mean_rank"] >= 1) & (ranks["mean_rank"] <= len(df)))
        # Each draw gives every group one rank; it has one best group, except under complete
        # pooling, where all groups share one theta and each counts as best (prob_top's rule).
        np.testing.assert_allclose(ranks[list(range(1, len(df) + 1))].sum(axis=1), 1, rtol=0, atol=1e-12)
        if fit.pooling == "complete":
            assert (best["prob"] == 1).all()
        else:
            np.testing.assert_allclose(best["prob"].sum(), 1, rtol=0, atol=1e-12)
