"""The beta-binomial family's array functions against scipy (exact algebra: 1e-10 relative)."""

import numpy as np
import pytest
from scipy import special, stats

from poolwise.families import beta_binomial as fam


def test_log_beta_binomial_matches_scipy():
    n = np.array([0, 1, 5, 304, 9, 10**6])
    y = np.array([0, 1, 2, 301, 9, 123_456])
    a, b = 0.7, 3.2
    np.testing.assert_allclose(
        fam.log_beta_binomial(y, n, a, b), stats.betabinom.logpmf(y, n, a, b), rtol=1e-10
    )


@pytest.mark.parametrize(
    ("trials", "successes"),
    [
        ([5, 304, 9, 9], [2, 301, 9, 5]),  # SpaceX
        ([10, 0, 7, 10], [3, 0, 5, 3]),  # a zero-trial group and a repeated pair
        ([3_000_000_000, 2_000_000_000, 10], [1_500_000_000, 1_200_000_000, 4]),  # betaln path
        ([200_000, 50, 50], [199_999, 50, 0]),  # mixed: one pair above LARGE_TRIALS
    ],
)
def test_log_likelihood_equals_the_sum_of_beta_binomials(trials, successes):
    trials, successes = np.array(trials), np.array(successes)
    pairs = fam.Pairs.from_counts(trials, successes)
    u = np.array([-3.0, 0.0, 2.5, 8.0])
    v = np.array([-6.0, 0.5, 3.0, 12.0])
    alpha, beta = fam.alpha_beta(u, v)
    direct = np.array(
        [stats.betabinom.logpmf(successes, trials, a, b).sum() for a, b in zip(alpha, beta, strict=True)]
    )
    # lgamma sums of ~n log n terms: relative 1e-10 of the largest term they combine.
    scale = np.maximum(1.0, special.gammaln(trials.max() + 1.0))
    np.testing.assert_allclose(fam.log_likelihood(pairs)(u, v), direct, atol=1e-10 * scale, rtol=1e-10)


def test_all_success_group_keeps_precision_at_tiny_beta():
    # beta + n - y must be beta + 0, not (beta + n) - y: the likelihood of 9/9 at beta ~ 1e-12 is
    pairs = fam.Pairs.from_counts(np.array([9]), np.array([9]))
    u, v = np.array([27.6]), np.array([0.0])  # kappa = 1, beta = expit(-27.6) ~ 1e-12
    alpha, beta = fam.alpha_beta(u, v)
    expected = special.betaln(alpha + 9, beta) - special.betaln(alpha, beta)
    # What matters is the absolute error of a log-density (it scales the posterior): 1e-12 nats.
    np.testing.assert_allclose(fam.log_likelihood(pairs)(u, v), expected, rtol=0, atol=1e-12)
    # Forming (beta + n) - y instead would lose beta entirely: 9 + 1e-12 - 9 is not 1e-12.
    assert (beta + 9) - 9 != beta


def test_pairs_compress_and_restore_every_group():
    rng = np.random.default_rng(3)
    trials = rng.integers(0, 20, 1000)
    successes = rng.integers(0, trials + 1)
    for scale in (1, 2**33):  # small counts use one int64 key; huge ones sort rows
        pairs = fam.Pairs.from_counts(trials * scale, successes * scale)
        np.testing.assert_array_equal(pairs.trials[pairs.inverse], trials * scale)
        np.testing.assert_array_equal(pairs.successes[pairs.inverse], successes * scale)
        assert pairs.count.sum() == 1000
        assert len(set(zip(pairs.trials, pairs.successes, strict=True))) == pairs.trials.size
