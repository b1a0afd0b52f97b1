"""Priors: log-densities against scipy.stats (exact algebra, 1e-10), parsing, and validation."""

import numpy as np
import pytest
from scipy import stats

from poolwise import priors as pr

X = np.array([1e-6, 0.1, 0.5, 0.9, 1.0, 2.5, 10.0, 40.0])

# Each prior beside its scipy twin, with PyMC's parametrisation (Gamma and Exponential use rates).


def _id(value):
    """A prior's text as the test id; the default (argname and index) for its scipy twin, whose
    text holds a memory address that differs between processes (pytest-xdist compares ids)."""
    return str(value) if isinstance(value, pr.Prior) else None


TWINS = [
    (pr.HalfNormal(10), stats.halfnorm(scale=10)),
    (pr.HalfCauchy(25), stats.halfcauchy(scale=25)),
    (pr.Exponential(0.1), stats.expon(scale=10)),
    (pr.Gamma(2, 0.5), stats.gamma(2, scale=2)),
    (pr.LogNormal(1, 0.5), stats.lognorm(0.5, scale=np.exp(1))),
    (pr.Uniform(0, 20), stats.uniform(0, 20)),
    (pr.Beta(0.5, 0.5), stats.beta(0.5, 0.5)),
    (pr.Beta(2, 3), stats.beta(2, 3)),
]


@pytest.mark.parametrize(("prior", "twin"), TWINS, ids=_id)
def test_logpdf_matches_scipy(prior, twin):
    inside = X[(X > prior.bounds[0]) & (X < prior.bounds[1])]
    np.testing.assert_allclose(prior.logpdf(inside), twin.logpdf(inside), rtol=1e-10)
    assert np.all(prior.logpdf(np.array([-1.0, prior.bounds[1] + 1])) == -np.inf)


@pytest.mark.parametrize(("prior", "twin"), TWINS, ids=_id)
def test_sampling_matches_distribution(prior, twin):
    draws = prior.sample(np.random.default_rng(0), 20_000)
    # Kolmogorov-Smirnov at the 1e-4 level: a false alarm in 1 of 10,000 runs per prior.
    assert stats.kstest(draws, twin.cdf).pvalue > 1e-4


def test_bda3_is_the_gelman_prior():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 10.0])
    np.testing.assert_allclose(pr.BDA3().logpdf(a, b), -2.5 * np.log(a + b), rtol=1e-12)
    assert not pr.BDA3.proper


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HalfNormal(10)", pr.HalfNormal(10)),
        ("HalfNormal(sigma=10)", pr.HalfNormal(10)),
        ("halfnormal(sigma=10)", pr.HalfNormal(10)),
        ("Gamma(2, 0.5)", pr.Gamma(2, 0.5)),
        ("Beta(alpha=1, beta=1)", pr.Beta(1, 1)),
        ("BDA3", pr.BDA3()),
        ("BDA3()", pr.BDA3()),
    ],
)
def test_parse(text, expected):
    assert pr.parse(text) == expected


def test_str_round_trips():
    for prior, _ in TWINS:
        assert pr.parse(str(prior)) == prior


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Wobbly(1)", "unknown prior 'Wobbly'"),
        ("HalfNormal(-1)", "sigma must be a finite number > 0"),
        ("HalfNormal(sigma=x)", "arguments must be numbers"),
        ("HalfNormal(__import__('os'))", "arguments must be numbers"),
        ("HalfNormal(1, 2)", "HalfNormal takes: sigma"),
        ("Uniform(3, 1)", "lower < upper"),
        ("1 +", "cannot read prior"),
    ],
)
def test_parse_errors_say_what_is_wrong(text, message):
    with pytest.raises(pr.PriorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pr.parse(text)


def test_normal_matches_scipy_on_the_real_line():
    x = np.array([-40.0, -2.5, 0.0, 0.1, 3.0, 40.0])
    np.testing.assert_allclose(pr.Normal(1, 2).logpdf(x), stats.norm(1, 2).logpdf(x), rtol=1e-10)
    draws = pr.Normal(1, 2).sample(np.random.default_rng(0), 20_000)
    assert stats.kstest(draws, stats.norm(1, 2).cdf).pvalue > 1e-4  # as test_sampling_matches_distribution
    assert pr.parse("Normal(mu=1, sigma=2)") == pr.Normal(1, 2) == pr.parse(str(pr.Normal(1, 2)))


def test_flat_priors_are_improper_constants():
    x = np.array([-3.0, 0.0, 7.5])
    np.testing.assert_array_equal(pr.Flat().logpdf(x), 0.0)
    np.testing.assert_array_equal(pr.HalfFlat().logpdf(x), [-np.inf, 0.0, 0.0])
    assert not pr.Flat.proper and not pr.HalfFlat.proper and pr.Normal.proper
    assert pr.parse("flat") == pr.Flat() and pr.parse("HalfFlat()") == pr.HalfFlat()
    for prior in (pr.Flat(), pr.HalfFlat()):
        with pytest.raises(pr.PriorError, match="improper"):
            prior.sample(np.random.default_rng(0), 3)
