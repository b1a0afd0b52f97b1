"""Priors as published models write them (issue 18): Student's t, inverse gamma, Pareto, Jeffreys',
and BUGS's priors on a precision or a variance; and a prior written by the user.

Log-densities equal scipy.stats' to 1e-10 (relative: exact algebra in float64); proper densities
integrate to 1 to 1e-8 (scipy.integrate.quad); the transformed priors' Jacobians are checked by
integrating their density on the standard deviation ``s`` against the base distribution's CDF,
``P(s <= x) = P(precision >= x^-2)`` and ``P(s <= x) = P(variance <= x^2)``, to 1e-8. Draws pass
a Kolmogorov-Smirnov test at the 1e-4 level, as in test_priors.py. Fits use pw.fit's default
tol, so summaries of different but equal models agree to the engine's 1e-4 (relative to
max(1, |x|)); the same model with a user-written prior class is the same computation, to 1e-10.
"""

import itertools
import math
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import poolwise as pw
from poolwise import priors as pr
from poolwise.errors import PoolwiseWarning, PriorError

EXACT = 1e-10  # exact algebra in float64
QUAD = 1e-8  # scipy.integrate.quad's achievable accuracy on these integrals
ENGINE_TOL = 1e-4  # pw.fit's default tol: every summary within 1e-4 * max(1, |x|)
EIGHT = {"group": "school", "estimate": "y", "std_error": "sigma"}
SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
SURGICAL = {"group": "hospital", "successes": "r", "trials": "n", "family": "logit-normal"}


def half_t(nu: float, sigma: float) -> SimpleNamespace:
    """scipy has no half Student's t: twice the t density on [0, inf)."""
    t = stats.t(nu, scale=sigma)
    return SimpleNamespace(logpdf=lambda x: math.log(2) + t.logpdf(x), cdf=lambda x: 2 * t.cdf(x) - 1)


# Each new prior beside its scipy twin. A Gamma(a, rate b) on the precision s^-2 (equally an
# InverseGamma(a, b) on the variance s^2) is scipy's generalised gamma with c = -2, scale sqrt(b):
# s = sqrt(b) Y^(-1/2) with Y ~ Gamma(a).


def _id(value):
    """A prior's text as the test id; the default (argname and index) for its scipy twin, whose
    text holds a memory address that differs between processes (pytest-xdist compares ids)."""
    return str(value) if isinstance(value, pr.Prior) else None


TWINS = [
    (pr.InverseGamma(2, 3), stats.invgamma(2, scale=3)),
    (pr.InverseGamma(0.5, 0.1), stats.invgamma(0.5, scale=0.1)),
    (pr.Pareto(1, 1.5), stats.pareto(1.5, scale=1)),
    (pr.Pareto(m=0.5, alpha=3), stats.pareto(3, scale=0.5)),
    (pr.StudentT(3, 1, 2), stats.t(3, 1, 2)),
    (pr.StudentT(30, -2, 0.5), stats.t(30, -2, 0.5)),
    (pr.HalfStudentT(3, 2), half_t(3, 2)),
    (pr.HalfStudentT(1, 25), stats.halfcauchy(scale=25)),
    (pr.OnPrecision(pr.Gamma(2, 3)), stats.gengamma(2, -2, scale=math.sqrt(3))),
    (pr.OnPrecision(pr.Gamma(0.5, 4)), stats.gengamma(0.5, -2, scale=2)),
    (pr.OnVariance(pr.InverseGamma(2, 3)), stats.gengamma(2, -2, scale=math.sqrt(3))),
]

X = np.array([1e-3, 0.1, 0.5, 0.9, 1.0, 1.7, 2.5, 10.0, 40.0, 1e4])


@pytest.mark.parametrize(("prior", "twin"), TWINS, ids=_id)
def test_logpdf_matches_scipy(prior, twin):
    lo, hi = prior.bounds
    inside = X[(X > lo) & (X < hi)]
    np.testing.assert_allclose(prior.logpdf(inside), twin.logpdf(inside), rtol=EXACT)
    outside = np.array([lo - 1, -np.inf, np.inf, np.nan]) if lo > -np.inf else np.array([np.nan])
    assert np.all(prior.logpdf(outside) == -np.inf)


def test_student_t_on_the_real_line_and_in_its_far_tails():
    x = np.array([-1e300, -40.0, -2.5, 0.0, 0.1, 3.0, 40.0, 1e300])
    prior, twin = pr.StudentT(3, 1, 2), stats.t(3, 1, 2)
    # scipy overflows (x - mu)^2 at 1e300 to -inf; the exact value is finite: compare the rest.
    np.testing.assert_allclose(prior.logpdf(x[1:-1]), twin.logpdf(x[1:-1]), rtol=EXACT)
    # At |z| = 5e299, log(1 + z^2 / 3) is log(z^2 / 3) to 1e-600.
    log_kernel = 2 * math.log(1e300 / 2) - math.log(3)
    big = math.lgamma(2) - math.lgamma(1.5) - 0.5 * math.log(3 * math.pi) - math.log(2) - 2 * log_kernel
    np.testing.assert_allclose(prior.logpdf(x[[0, -1]]), big, rtol=EXACT)


PROPER = [p for p, _ in TWINS] + [
    pr.OnVariance(pr.Uniform(0, 100)),
    pr.OnPrecision(pr.HalfNormal(2)),
    pr.OnVariance(pr.Exponential(0.5)),
]


@pytest.mark.parametrize("prior", PROPER, ids=str)
def test_proper_priors_integrate_to_one(prior):
    assert prior.proper
    lo, hi = prior.bounds
    density = lambda x: math.exp(prior.logpdf(np.array([x]))[0])  # noqa: E731
    # Split where the density has its bulk, so that quad sees the peak and the tails separately.
    cuts = [c for c in (0.0, 0.1, 1.0, 10.0) if lo < c < hi]
    edges = [lo, *cuts, hi]
    total = sum(
        integrate.quad(density, a, b, limit=200, epsabs=1e-13)[0] for a, b in itertools.pairwise(edges)
    )
    assert total == pytest.approx(1.0, abs=QUAD)


# The Jacobian, checked against the base distribution alone: P(s <= x) from the density on s
# (quad) equals P(precision >= x^-2) = base.sf(x^-2), or P(variance <= x^2) = base.cdf(x^2).
TRANSFORMED = [
    (pr.OnPrecision(pr.Gamma(2, 3)), lambda x: stats.gamma(2, scale=1 / 3).sf(x**-2.0)),
    (pr.OnPrecision(pr.Gamma(0.5, 0.2)), lambda x: stats.gamma(0.5, scale=5).sf(x**-2.0)),
    (pr.OnPrecision(pr.HalfNormal(2)), lambda x: stats.halfnorm(scale=2).sf(x**-2.0)),
    (pr.OnVariance(pr.InverseGamma(1, 1)), lambda x: stats.invgamma(1, scale=1).cdf(x**2)),
    (pr.OnVariance(pr.Uniform(0, 100)), lambda x: stats.uniform(0, 100).cdf(x**2)),
    (pr.OnVariance(pr.Exponential(0.5)), lambda x: stats.expon(scale=2).cdf(x**2)),
]


@pytest.mark.parametrize(("prior", "cdf"), TRANSFORMED, ids=_id)
def test_transformed_density_integrates_to_the_base_cdf(prior, cdf):
    density = lambda s: math.exp(prior.logpdf(np.array([s]))[0])  # noqa: E731
    lo = prior.bounds[0]
    for x in (0.3, 0.8, 1.5, 4.0, 9.0):
        if x < prior.bounds[1]:
            got = integrate.quad(density, lo, x, limit=200, epsabs=1e-13)[0]
            assert got == pytest.approx(cdf(x), abs=QUAD), x


def test_gamma_on_precision_is_inverse_gamma_on_variance():
    # precision ~ Gamma(a, b) is variance ~ InverseGamma(a, b): one density on s, two routes to it.
    s = np.array([1e-3, 0.05, 0.3, 1.0, 4.0, 100.0])
    for a, b in ((0.001, 0.001), (1, 1), (2.5, 7)):
        on_p, on_v = pr.OnPrecision(pr.Gamma(a, b)), pr.OnVariance(pr.InverseGamma(a, b))
        np.testing.assert_allclose(on_p.logpdf(s), on_v.logpdf(s), rtol=EXACT)


def test_transformed_supports_and_propriety_follow_the_base():
    assert pr.OnVariance(pr.Uniform(4, 100)).bounds == (2.0, 10.0)
    assert pr.OnPrecision(pr.Uniform(4, 100)).bounds == (0.1, 0.5)
    assert pr.OnPrecision(pr.Gamma(1, 1)).bounds == (0.0, math.inf)
    assert not pr.OnPrecision(pr.Gamma(0.5, 0)).proper and pr.OnVariance(pr.Gamma(1, 1)).proper
    # at s = 0 the precision is inf (density 0) and the Jacobian s^-3 inf: the density is 0, not nan
    assert pr.OnPrecision(pr.Gamma(1, 1)).logpdf(np.array([0.0]))[0] == -np.inf
    assert np.all(pr.OnVariance(pr.Uniform(4, 100)).logpdf(np.array([1.9, 10.1])) == -np.inf)


def test_jeffreys_is_one_over_s_and_improper():
    s = np.array([1e-8, 0.5, 3.0, 1e8])
    np.testing.assert_allclose(pr.Jeffreys().logpdf(s), -np.log(s), rtol=EXACT)
    assert pr.Jeffreys().logpdf(np.array([-1.0]))[0] == -np.inf
    assert not pr.Jeffreys.proper
    with pytest.raises(PriorError, match="improper"):
        pr.Jeffreys().sample(np.random.default_rng(0), 3)
    # Jeffreys' prior is invariant under powers of s: on the precision it is again 1/s.
    np.testing.assert_allclose(
        pr.OnPrecision(pr.Jeffreys()).logpdf(s), math.log(2) + pr.Jeffreys().logpdf(s), rtol=EXACT
    )


@pytest.mark.parametrize(("prior", "twin"), TWINS, ids=_id)
def test_sampling_matches_distribution(prior, twin):
    draws = prior.sample(np.random.default_rng(0), 20_000)
    # Kolmogorov-Smirnov at the 1e-4 level: a false alarm in 1 of 10,000 runs per prior.
    assert stats.kstest(draws, twin.cdf).pvalue > 1e-4


# --- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("InverseGamma(2, 3)", pr.InverseGamma(2, 3)),
        ("inversegamma(alpha=2, beta=3)", pr.InverseGamma(2, 3)),
        ("Pareto(1, 1.5)", pr.Pareto(m=1, alpha=1.5)),
        ("Pareto(alpha=1.5, m=1)", pr.Pareto(1, 1.5)),
        ("StudentT(3, 0, 2.5)", pr.StudentT(3, 0, 2.5)),
        ("StudentT(nu=3, sigma=2.5)", pr.StudentT(3, 0, 2.5)),
        ("HalfStudentT(3, 10)", pr.HalfStudentT(3, 10)),
        ("Jeffreys", pr.Jeffreys()),
        ("Jeffreys()", pr.Jeffreys()),
        ("Gamma(0.001, 0.001) on precision", pr.OnPrecision(pr.Gamma(0.001, 0.001))),
        ("  Gamma(alpha=0.001, beta=0.001)   ON   Precision ", pr.OnPrecision(pr.Gamma(0.001, 0.001))),
        ("InverseGamma(0.001, 0.001) on variance", pr.OnVariance(pr.InverseGamma(0.001, 0.001))),
        ("Uniform(0, 100) on variance", pr.OnVariance(pr.Uniform(0, 100))),
        ("Jeffreys on precision", pr.OnPrecision(pr.Jeffreys())),
    ],
)
def test_parse(text, expected):
    assert pr.parse(text) == expected


@pytest.mark.parametrize("prior", [p for p, _ in TWINS] + PROPER + [pr.Jeffreys()], ids=str)
def test_str_round_trips(prior):
    assert pr.parse(str(prior)) == prior


def test_str_reads_like_the_text():
    assert str(pr.OnPrecision(pr.Gamma(0.001, 0.001))) == "Gamma(alpha=0.001, beta=0.001) on precision"
    assert str(pr.OnVariance(pr.InverseGamma(1, 2))) == "InverseGamma(alpha=1, beta=2) on variance"
    assert str(pr.Pareto(1, 1.5)) == "Pareto(m=1, alpha=1.5)"
    assert str(pr.HalfStudentT(3, 2.5)) == "HalfStudentT(nu=3, sigma=2.5)"
    assert str(pr.Jeffreys()) == "Jeffreys()"
    assert {"InverseGamma", "Pareto", "StudentT", "HalfStudentT", "Jeffreys"} <= set(pr.names())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("InverseGamma(0, 1)", "InverseGamma: parameter alpha must be a finite number > 0"),
        ("InverseGamma(1, -1)", "InverseGamma: parameter beta must be a finite number > 0"),
        ("Pareto(0, 1.5)", "Pareto: parameter m must be a finite number > 0"),
        ("Pareto(1, inf)", "arguments must be numbers"),
        ("Pareto(1, 1e999)", "Pareto: parameter alpha must be a finite number > 0"),
        ("StudentT(0, 0, 1)", "StudentT: parameter nu must be a finite number > 0"),
        ("StudentT(3, 1e999, 1)", "StudentT: parameter mu must be a finite number, got inf"),
        ("StudentT(3, 0, 1e-200)", "StudentT: parameter sigma=1e-200 is too small"),
        ("HalfStudentT(3, 1e-200)", "HalfStudentT: parameter sigma=1e-200 is too small"),
        ("HalfStudentT(3, 1, 2)", "HalfStudentT takes: nu, sigma"),
        ("Jeffreys(1)", "Jeffreys takes: none"),
        ("StudentT(nu=3, nu=4)", "keyword 'nu' is given more than once"),
        ("Gamma(alpha=1, alpha=2) on precision", "keyword 'alpha' is given more than once"),
        ("Gamma(0.001, 0) on precision", None),  # improper but valid: no error
        ("Gamma(1, 1) on prec", "unknown transform 'prec'.*'<prior> on precision'"),
        ("Gamma(1, 1) on", "cannot read prior.*'<prior> on precision' or '<prior> on variance'"),
        ("on precision", "cannot read prior.*'<prior> on precision'"),
        ("precision ~ Gamma(0.001, 0.001)", "cannot read prior.*'Gamma\\(0.001, 0.001\\) on precision'"),
        ("~Gamma(1, 1)", "cannot read prior.*on precision"),
        (
            "OnPrecision(Gamma(0.001, 0.001))",
            "in text, a prior on the precision is written 'Gamma\\(0.001, 0.001\\) on precision'",
        ),
        ("onvariance(base=Gamma(1, 1))", "a prior on the variance is written 'Gamma\\(1, 1\\) on variance'"),
        ("OnVariance()", "a prior on the variance is written '<prior> on variance'"),
        ("Normal(0, 1) on variance", "the variance is positive.*got Normal"),
        ("StudentT(3, 0, 1) on precision", "the precision is positive.*got StudentT"),
        ("BDA3 on precision", "base must be one univariate prior.*got BDA3\\(\\)"),
        ("Gamma(1, 1) on precision on variance", "base must be one univariate prior.*on precision"),
        ("Wobbly(1) on precision", "unknown prior 'Wobbly'"),
        ("Gamma(__import__('os'), 1) on variance", "arguments must be numbers"),
        ("Gamma(1, 1) on precision" + " " * 190 + "x", "more than 200"),
    ],
)
def test_parse_errors_say_what_is_wrong(text, message):
    if message is None:
        assert not pr.parse(text).proper
        return
    with pytest.raises(PriorError, match=message):
        pr.parse(text)


def test_long_transformed_text_is_refused_before_it_is_read():
    spec = "Gamma(1, 1) " + "on precision " * 20
    with pytest.raises(PriorError, match=f"{len(spec.strip())} characters long, more than 200"):
        pr.parse(spec)


def test_transform_objects_refuse_bad_bases():
    with pytest.raises(PriorError, match="OnPrecision: its base must be one univariate prior.*'Gamma"):
        pr.OnPrecision("Gamma(1, 1)")
    with pytest.raises(PriorError, match="OnVariance: the variance is positive"):
        pr.OnVariance(pr.Flat())
    with pytest.raises(PriorError, match="base must be one univariate prior"):
        pr.OnVariance(pr.OnPrecision(pr.Gamma(1, 1)))


# --- fits ----------------------------------------------------------------------------------------


def _eight_schools() -> pd.DataFrame:
    return pw.datasets.load("eight_schools")


def _tau_moments(prior: pr.Prior) -> tuple[float, float]:
    """Mean and sd of tau | y for eight schools with mu flat, by quad on log tau (BDA3 eq. 5.21)."""
    data = _eight_schools()
    y, s = data["y"].to_numpy(float), data["sigma"].to_numpy(float)

    def log_post(log_tau: float) -> float:
        tau = math.exp(log_tau)
        v = s**2 + tau**2
        w = 1 / v
        mu_hat = (w @ y) / w.sum()
        log_marginal = -0.5 * math.log(w.sum()) - 0.5 * np.log(v).sum() - 0.5 * ((y - mu_hat) ** 2 * w).sum()
        return prior.logpdf(np.array([tau]))[0] + log_marginal + log_tau

    shift = max(log_post(t) for t in np.linspace(-8, 6, 281))

    def moment(k: int) -> float:
        f = lambda t: math.exp(log_post(t) - shift + k * t)  # noqa: E731
        return integrate.quad(f, -30, 10, points=[-5, -2, 0, 2, 4], limit=500, epsabs=0, epsrel=1e-12)[0]

    z = moment(0)
    mean = moment(1) / z
    return mean, math.sqrt(moment(2) / z - mean**2)


@pytest.mark.parametrize(
    "text", ["Gamma(1, 20) on precision", "InverseGamma(2, 30) on variance", "HalfStudentT(3, 10)"]
)
def test_eight_schools_with_a_published_tau_prior_matches_quadrature(text):
    fit = pw.fit(_eight_schools(), **EIGHT, priors={"tau": text}, random_seed=1)
    assert fit.model.priors["tau"] == pr.parse(text)
    mean, sd = _tau_moments(pr.parse(text))
    summary = fit.summary()
    assert summary.loc["tau", "mean"] == pytest.approx(mean, abs=ENGINE_TOL * max(1, mean))
    assert summary.loc["tau", "sd"] == pytest.approx(sd, abs=ENGINE_TOL * max(1, sd))


def test_bugs_precision_prior_on_eight_schools_runs():
    # Gamma(0.001, 0.001) on the precision puts a 1/tau spike just above tau = sqrt(0.001): the
    # engine's line over tau (asinh(tau / c), linear near 0) does not resolve it within its node
    # budget and says so; what is checked here is that the fit runs and stays near quadrature.
    prior = pr.parse("Gamma(0.001, 0.001) on precision")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoolwiseWarning)
        fit = pw.fit(_eight_schools(), **EIGHT, priors={"tau": "Gamma(0.001, 0.001) on precision"})
    mean, _ = _tau_moments(prior)
    assert np.all(np.isfinite(fit.summary()["mean"]))
    assert fit.summary().loc["tau", "mean"] == pytest.approx(mean, rel=0.02)


def test_equal_priors_on_precision_and_variance_give_equal_fits():
    def summary(data, columns, name, text):
        return pw.fit(data, **columns, priors={name: text}, random_seed=1).summary()

    eight = _eight_schools()
    a = summary(eight, EIGHT, "tau", "Gamma(1, 1) on precision")
    b = summary(eight, EIGHT, "tau", "InverseGamma(1, 1) on variance")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=ENGINE_TOL, atol=ENGINE_TOL)
    surgical = pw.datasets.load("surgical")
    a = summary(surgical, SURGICAL, "sigma", "Gamma(2, 0.5) on precision")
    b = summary(surgical, SURGICAL, "sigma", "InverseGamma(2, 0.5) on variance")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=ENGINE_TOL, atol=ENGINE_TOL)


def test_student_t_on_the_logit_normal_mean_runs():
    fit = pw.fit(
        pw.datasets.load("surgical"), **SURGICAL, priors={"mu": "StudentT(3, 0, 2.5)"}, random_seed=1
    )
    assert fit.model.priors["mu"] == pr.StudentT(3, 0, 2.5)
    assert np.all(np.isfinite(fit.summary()["mean"]))


# --- a prior of one's own ------------------------------------------------------------------------


def test_a_user_defined_prior_fits_as_the_built_in_one():
    # The protocol of the module docstring: a frozen dataclass subclassing Prior with _logpdf,
    # support, proper and _sample; nothing else.
    @dataclass(frozen=True)
    class MyHalfNormal(pr.Prior):
        sigma: float = 1.0

        support = (0.0, math.inf)
        proper = True

        def _logpdf(self, x):
            return math.log(2) - 0.5 * math.log(2 * math.pi * self.sigma**2) - 0.5 * (x / self.sigma) ** 2

        def _sample(self, rng, size):
            return np.abs(rng.normal(0.0, self.sigma, size))

    spacex = pw.datasets.load("spacex")
    mine = pw.fit(
        spacex, **SPACEX, priors={"alpha": MyHalfNormal(10), "beta": MyHalfNormal(10)}, random_seed=1
    )
    built_in = pw.fit(
        spacex, **SPACEX, priors={"alpha": pr.HalfNormal(10), "beta": pr.HalfNormal(10)}, random_seed=1
    )
    pd.testing.assert_frame_equal(
        mine.summary(), built_in.summary(), check_exact=False, rtol=EXACT, atol=EXACT
    )
    assert mine.model.equations()[2] == "alpha ~ MyHalfNormal(sigma=10)"
    draws = MyHalfNormal(10).sample(np.random.default_rng(0), 20_000)
    assert stats.kstest(draws, stats.halfnorm(scale=10).cdf).pvalue > 1e-4


# --- the NUTS twins ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prior", [pr.InverseGamma(2, 3), pr.Pareto(1, 1.5), pr.StudentT(3, 1, 2), pr.HalfStudentT(3, 2)], ids=str
)
def test_new_priors_have_their_pymc_twin_by_name(prior):
    pm = pytest.importorskip("pymc")
    x = np.array([1.05, 2.0, 7.0, 19.0])
    with pm.Model():
        rv = prior.pymc(pm, "x")
    got, want = pm.logp(rv, x).eval(), prior.logpdf(x)
    # As test_nuts.py's test_every_prior_has_its_pymc_twin: same shape to 1e-10, same level to 1e-7
    # (some of PyMC's normalising constants are float32).
    np.testing.assert_allclose(got - got[0], want - want[0], rtol=EXACT, atol=1e-12)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_transformed_priors_in_pymc_sample_the_transform_as_bugs_does():
    pm = pytest.importorskip("pymc")
    import pytensor

    for prior, name in (
        (pr.OnPrecision(pr.Gamma(2, 3)), "precision"),
        (pr.OnVariance(pr.InverseGamma(2, 3)), "variance"),
    ):
        with pm.Model() as model:
            prior.pymc(pm, "tau")
        assert [v.name for v in model.free_RVs] == [f"tau_{name}"]
        assert [v.name for v in model.deterministics] == ["tau"]
        t = np.array([0.2, 1.0, 5.0])
        # tau as a function of the sampler's unconstrained variable, log(transform)
        tau = pytensor.function(model.value_vars, model.replace_rvs_by_values([model["tau"]])[0])
        got = np.array([tau(math.log(v)) for v in t])
        np.testing.assert_allclose(got, t**-0.5 if name == "precision" else t**0.5, rtol=EXACT)


def test_improper_priors_in_pymc_are_a_flat_variable_and_a_potential():
    pm = pytest.importorskip("pymc")
    s = np.array([0.3, 1.0, 8.0])
    for prior, potential in ((pr.Jeffreys(), "tau_prior"), (pr.Gamma(0.5, 0), "tau_prior")):
        with pm.Model() as model:
            prior.pymc(pm, "tau")
        assert [v.name for v in model.potentials] == [potential]
        logp = model.compile_logp(jacobian=False)
        got = np.array([logp({"tau_log__": math.log(v)}) for v in s])
        np.testing.assert_allclose(got - got[0], prior.logpdf(s) - prior.logpdf(s)[0], rtol=EXACT, atol=1e-12)


def test_a_prior_without_a_pymc_twin_says_how_to_give_it_one():
    pm = pytest.importorskip("pymc")

    @dataclass(frozen=True)
    class Wobbly(pr.Prior):
        def _logpdf(self, x):
            return -x

    with pm.Model(), pytest.raises(NotImplementedError, match=r"Wobbly\(\).*pymc\(pm, name, \*\*kwargs\)"):
        Wobbly().pymc(pm, "kappa")


def test_jeffreys_on_tau_is_refused_as_improper():
    # p(y | tau) -> a positive constant as tau -> 0, so the posterior of 1/tau has infinite mass
    schools = pw.datasets.load("eight_schools")
    with pytest.raises(pr.PriorError, match="Jeffreys' prior 1/tau on tau gives an improper posterior"):
        pw.fit(schools, group="school", estimate="y", std_error="sigma", priors={"tau": pr.Jeffreys()})
