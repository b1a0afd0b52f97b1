"""A prior that holds the hyperparameters where the data reject them says so (issue 18.7).

Batting averages of a few hundred players (at-bats 1 + LogNormal(log 300, 1.2), abilities
Beta(97, 277), as in ebbr's Lahman fit of alpha 101, beta 287) under the default HalfNormal(10)
on alpha and beta: the prior puts alpha = 97 ten of its sds out, so the posterior settles near a
third of it. The engine compares the likelihood at the posterior's mode with its maximum (found by
scans and Nelder-Mead): a drop above chi2(2).ppf(0.95) / 2 = 3.0 nats is reported as
"prior-pulled". Under HalfNormal(1000) the data speak and nothing is said.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import poolwise as pw


@pytest.fixture(scope="module")
def batting():
    rng = np.random.default_rng(2026)
    n = 400
    at_bats = np.minimum(1 + np.round(rng.lognormal(np.log(300), 1.2, n)), 12000).astype(int)
    hits = rng.binomial(at_bats, rng.beta(97, 277, n))
    return pd.DataFrame({"player": [f"p{i}" for i in range(n)], "H": hits, "AB": at_bats})


def _fit(data, priors):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = pw.fit(data, group="player", successes="H", trials="AB", pooling="partial", priors=priors)
    return f, [str(w.message) for w in caught]


def _maximum_likelihood(data):
    """alpha, beta maximising the beta-binomial likelihood, by scipy alone."""

    def minus(p):
        a, b = np.exp(p)
        return -stats.betabinom.logpmf(data.H, data.AB, a, b).sum()

    return np.exp(optimize.minimize(minus, np.log([50.0, 150.0]), method="Nelder-Mead", tol=1e-10).x)


def test_the_default_prior_pulls_and_says_so(batting):
    f, messages = _fit(batting, {})
    pulled = [m for m in messages if m.startswith("prior-pulled")]
    assert len(pulled) == 1, messages
    alpha_ml, _ = _maximum_likelihood(batting)
    # the note quotes the likelihood's maximum to 3 figures
    assert f"alpha {alpha_ml:.3g}" in pulled[0], (alpha_ml, pulled[0])
    assert f.summary().loc["alpha", "hdi94_ub"] < alpha_ml / 2  # the pull the note is about
    assert pulled[0] in f.warnings


def test_a_wide_prior_lets_the_data_speak(batting):
    f, messages = _fit(batting, {"alpha": "HalfNormal(1000)", "beta": "HalfNormal(1000)"})
    assert messages == []
    alpha_ml, beta_ml = _maximum_likelihood(batting)
    lo, hi = f.summary().loc["alpha", ["hdi94_lb", "hdi94_ub"]]
    assert lo < alpha_ml < hi
