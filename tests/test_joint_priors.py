"""A joint factor times priors on alpha and beta (issue 18.2): PyMC's rat-tumour notebook prior.

PyMC's "hierarchical binomial model" example writes ``ab = pm.HalfNormal("ab", sigma=10, shape=2)``
and ``pm.Potential("p(a, b)", log((a + b)^(-5/2)))``. poolwise takes it as
``priors={"alpha,beta": "BDA3", "alpha": "HalfNormal(10)", "beta": "HalfNormal(10)"}``. The
reference is a brute-force integral over (log alpha, log beta) with scipy's betaln (checked
against scipy.stats.betabinom) and half-normal density, written here without poolwise's formulas;
its own error is bounded by halving its spacing. The PyMC twin's log density is checked against
the exact engine's in tests/test_nuts.py (test_pymc_model_is_the_exact_engines_model).
"""

import numpy as np
import pytest
from scipy import special, stats

import poolwise as pw
from poolwise import priors as pr

ENGINE_TOL = 1e-4  # pw.fit's default tol, relative to max(1, |x|)
REF_ERR = 1e-5  # the reference's own error (asserted below by halving its spacing)
NOTEBOOK = {"alpha,beta": "BDA3", "alpha": "HalfNormal(10)", "beta": "HalfNormal(10)"}


def _reference(data, n):
    """Posterior means of alpha, beta, mu, kappa on an n x n grid of (log alpha, log beta)."""
    a = np.exp(np.linspace(-3.0, 3.5, n))[:, None]
    b = np.exp(np.linspace(-0.5, 5.0, n))[None, :]
    # the beta-binomial log pmf, log C(n, y) + B(y + a, n - y + b) - B(a, b), once per distinct pair
    pairs, count = np.unique(data[["y", "n"]].to_numpy(), axis=0, return_counts=True)
    loglik = sum(
        c
        * (
            special.betaln(y + a, n - y + b)
            - special.betaln(a, b)
            - np.log(n + 1)
            - special.betaln(y + 1, n - y + 1)
        )
        for (y, n), c in zip(pairs, count, strict=True)
    )
    log_prior = stats.halfnorm.logpdf(a, scale=10) + stats.halfnorm.logpdf(b, scale=10) - 2.5 * np.log(a + b)
    logp = loglik + log_prior + np.log(a) + np.log(b)  # the Jacobian of (log a, log b)
    w = special.softmax(logp)
    assert w[[0, -1], :].sum() + w[:, [0, -1]].sum() < 1e-12  # the box holds the posterior
    alpha, beta = np.broadcast_to(a, w.shape), np.broadcast_to(b, w.shape)
    values = {"alpha": alpha, "beta": beta, "mu": alpha / (alpha + beta), "kappa": alpha + beta}
    return {k: float((v * w).sum()) for k, v in values.items()}


@pytest.fixture(scope="module")
def rats():
    return pw.datasets.load("rat_tumors")


@pytest.fixture(scope="module")
def references(rats):
    return _reference(rats, 300), _reference(rats, 600)


def test_the_reference_is_converged(references):
    y, n, a, b = 3, 14, np.array([0.2, 1.7, 30.0]), np.array([0.9, 9.2, 200.0])
    betaln = (
        special.betaln(y + a, n - y + b)
        - special.betaln(a, b)
        - np.log(n + 1)
        - special.betaln(y + 1, n - y + 1)
    )
    np.testing.assert_allclose(betaln, stats.betabinom.logpmf(y, n, a, b), rtol=1e-12)
    coarse, fine = references
    for name in coarse:
        assert abs(coarse[name] - fine[name]) < REF_ERR * max(1, abs(fine[name])), name


def test_the_notebook_prior_matches_brute_force(rats, references):
    f = pw.fit(rats, group="experiment", successes="y", trials="n", pooling="partial", priors=NOTEBOOK)
    assert isinstance(f.model.priors["alpha,beta"], pr.Product)
    assert f.warnings == ()
    want = references[1]
    summary = f.summary()
    for name, value in want.items():
        assert summary.loc[name, "mean"] == pytest.approx(
            value, abs=(ENGINE_TOL + REF_ERR) * max(1, abs(value))
        )


def test_the_factor_changes_the_answer(rats):
    """Without the factor (HalfNormal alone) or without the marginals (BDA3 alone) the fit differs."""
    columns = {"group": "experiment", "successes": "y", "trials": "n", "pooling": "partial"}
    both = pw.fit(rats, **columns, priors=NOTEBOOK).summary()
    alone = pw.fit(rats, **columns, priors={"alpha": "HalfNormal(10)", "beta": "HalfNormal(10)"}).summary()
    assert abs(both.loc["kappa", "mean"] - alone.loc["kappa", "mean"]) > 0.1
    bda3 = pw.fit(rats, **columns, priors={"alpha,beta": "BDA3"}).summary()
    assert np.isnan(bda3.loc["kappa", "mean"]) and np.isfinite(both.loc["kappa", "mean"])


@pytest.mark.parametrize(
    "priors, match",
    [
        ({"alpha,beta": "BDA3", "alpha": "HalfNormal(10)"}, "'beta' is missing"),
        (
            {"alpha,beta": "BDA3", "mu": "Beta(1, 1)", "kappa": "Exponential(0.1)"},
            "cannot be combined with 'kappa', 'mu'",
        ),
        ({"alpha,beta": "BDA3", "alpha": "Normal(0, 1)", "beta": "HalfNormal(1)"}, "alpha"),
    ],
)
def test_combinations_that_make_no_prior_are_refused(rats, priors, match):
    with pytest.raises(pr.PriorError, match=match):
        pw.fit(rats, group="experiment", successes="y", trials="n", pooling="partial", priors=priors)


def test_the_product_reads_as_its_parts():
    prior = pr.Product(pr.BDA3(), pr.HalfNormal(10), pr.HalfNormal(10))
    assert str(prior) == "BDA3() x alpha ~ HalfNormal(sigma=10) x beta ~ HalfNormal(sigma=10)"
    a, b = np.array([0.5, 3.0]), np.array([2.0, 7.0])
    want = stats.halfnorm.logpdf(a, scale=10) + stats.halfnorm.logpdf(b, scale=10) - 2.5 * np.log(a + b)
    np.testing.assert_allclose(prior.logpdf(a, b), want, rtol=1e-12)


def test_the_model_prints_the_whole_density():
    f = pw.fit(
        pw.datasets.load("rat_tumors"),
        group="experiment",
        successes="y",
        trials="n",
        pooling="partial",
        priors=NOTEBOOK,
    )
    assert f.model.equations()[-1] == (
        "p(alpha, beta) = BDA3() x alpha ~ HalfNormal(sigma=10) x beta ~ HalfNormal(sigma=10): "
        "∝ (alpha + beta)^(-5/2) x p_alpha(alpha) x p_beta(beta)"
    )
