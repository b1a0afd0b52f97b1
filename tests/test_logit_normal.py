"""The logit-normal binomial family (logit theta_i ~ N(mu, sigma^2)).

Expected values come from the model's equations, computed here without poolwise's formulas:

- no and complete pooling: the conjugate Beta posteriors, to 1e-10 (exact algebra), and the same
  fits as the beta-binomial family's;
- each group's marginal likelihood and conditional moments against ``scipy.integrate.quad`` on an
  integrand written here (mode and range found by ``brentq``);
- the exact conditional sampler against those moments, within Monte Carlo error;
- partial pooling on the BUGS "surgical" data (12 hospitals) against an independent brute-force
  integral on a dense (mu, sigma, z) grid, at the engine's tolerance plus the reference's own error;
- the same for ten groups that hardly differ (sigma's posterior piled up at 0), where the groups'
  mixtures are sums of components narrower than the grid's spacing, and the grid that takes;
- NUTS (slow) within Monte Carlo error of the exact engine.
"""

import functools
import math
import warnings
from functools import cached_property

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, interpolate, optimize, special, stats

import poolwise as pw
from poolwise import priors as pr
from poolwise.families import logit_normal as family

EXACT = 1e-10  # exact algebra in float64
ENGINE_TOL = 1e-4  # pw.fit's default tol: every summary within 1e-4 * max(1, |x|)
REF_ERR = 2e-6  # bound on the brute force's own error (asserted below by halving its spacing)
COLUMNS = {"group": "hospital", "successes": "r", "trials": "n", "family": "logit-normal"}


def surgical():
    return pw.datasets.load("surgical")


def fit(data=None, **kwargs):
    return pw.fit(surgical() if data is None else data, **{**COLUMNS, **kwargs}, random_seed=1)


# --------------------------------------------------------------------------------------------
# Closed forms: no and complete pooling are the conjugate Beta(1/2, 1/2) models
# --------------------------------------------------------------------------------------------


def test_no_pooling_is_the_conjugate_beta():
    df = surgical()
    f = fit(pooling="none")
    y, n = df["r"].to_numpy(), df["n"].to_numpy()
    post = stats.beta(0.5 + y, 0.5 + n - y)
    summary = f.summary(ci_kind="eti", ci_prob=0.95)
    np.testing.assert_allclose(summary["mean"], post.mean(), rtol=EXACT)
    np.testing.assert_allclose(summary["sd"], post.std(), rtol=EXACT)
    np.testing.assert_allclose(summary["eti95_lb"], post.ppf(0.025), rtol=1e-8)
    beta_binomial = pw.fit(df, group="hospital", successes="r", trials="n", pooling="none")
    pd.testing.assert_frame_equal(f.summary(), beta_binomial.summary(), rtol=EXACT)
    assert f.family == "logit-normal" and beta_binomial.family == "beta-binomial"


def test_complete_pooling_is_the_conjugate_beta():
    df = surgical()
    f = fit(pooling="complete")
    y, n = df["r"].sum(), df["n"].sum()
    row = f.summary().loc["theta"]
    assert row["mean"] == pytest.approx((0.5 + y) / (1 + n), rel=EXACT)
    assert row["sd"] == pytest.approx(stats.beta(0.5 + y, 0.5 + n - y).std(), rel=EXACT)
    assert f.new_group().summary["mean"] == row["mean"]


# --------------------------------------------------------------------------------------------
# One group's integral against scipy.integrate.quad
# --------------------------------------------------------------------------------------------


def h(z, n, y, mu, sigma):
    """log of expit(z)^y (1 - expit(z))^(n - y) exp(-(z - mu)^2 / (2 sigma^2)), written afresh."""
    return -y * np.logaddexp(0, -z) - (n - y) * np.logaddexp(0, z) - 0.5 * ((z - mu) / sigma) ** 2


def quad_reference(n, y, mu, sigma):
    """log ∫ e^h, E[expit z] and E[expit(z)^2] by quad, on [mode - a, mode + b] where h is 45 nats down.

    h'' <= -1/sigma^2, so h drops 45 nats within sqrt(90) sigma of the mode: the bracket holds the ends.
    """

    def dh(z):
        return y * special.expit(-z) - (n - y) * special.expit(z) - (z - mu) / sigma**2

    mode = optimize.brentq(dh, mu - (n - y) * sigma**2 - 1, mu + y * sigma**2 + 1, xtol=1e-15, rtol=1e-15)
    top = h(mode, n, y, mu, sigma)
    reach = math.sqrt(90) * sigma + 1
    lo = optimize.brentq(lambda z: h(z, n, y, mu, sigma) - top + 45, mode - reach, mode)
    hi = optimize.brentq(lambda z: h(z, n, y, mu, sigma) - top + 45, mode, mode + reach)
    out = []
    for power in (0, 1, 2):
        total = 0.0
        for a, b in ((lo, mode), (mode, hi)):
            points = list(a + (b - a) * np.array([1e-4, 1e-3, 1e-2, 0.1, 0.3, 0.6]))
            value, _ = integrate.quad(
                lambda z, power=power: math.exp(h(z, n, y, mu, sigma) - top) * special.expit(z) ** power,
                a,
                b,
                points=points,
                epsabs=0,
                epsrel=1e-13,
                limit=2000,
            )
            total += value
        out.append(total)
    return math.log(out[0]) + top, out[1] / out[0], out[2] / out[0]


CASES = [
    (n, y, mu, sigma)
    for n, y in [(0, 0), (1, 0), (1, 1), (5, 2), (47, 0), (20, 19), (1000, 0), (1000, 1000), (1000, 3)]
    + [(10**6, 0), (10**6, 10**6), (10**6, 500_000)]
    for mu in (-8.0, -2.0, 0.0, 3.0)
    for sigma in (1e-4, 0.1, 1.0, 3.0, 5.0)
]


@pytest.mark.parametrize(("n", "y", "mu", "sigma"), CASES)
def test_group_marginal_matches_quad(n, y, mu, sigma):
    """Within 1e-7 nats (measured worst 2e-8, at n = 1, sigma = 5) for logit-scale spreads up to 5;
    the moments of theta within 5e-6 (measured worst 4.3e-6, E[theta^2] at n = 0, mu = -8, sigma = 5,
    where the mass of theta^2 sits 1.6 sds out in the normal's tail: 20 times below the engine's
    1e-4). quad's own error here is below 1e-12."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)  # quad's roundoff notes at 1e-13
        log_z, m1, m2 = quad_reference(n, y, mu, sigma)
    got = family.log_group_marginal(n, y, mu, sigma)
    want = log_z + special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    want -= math.log(sigma) + 0.5 * math.log(2 * math.pi)
    assert abs(got - want) <= 1e-7
    _, e1, e2 = family.conditional_moments(n, y, mu, sigma)
    assert abs(e1 - m1) <= 5e-6 and abs(e2 - m2) <= 5e-6


@pytest.mark.parametrize(
    ("n", "y", "mu", "sigma"), [(47, 0, -2.5, 0.5), (1000, 1000, 0.0, 3.0), (5, 2, 1.0, 2.0)]
)
def test_conditional_sampler_has_the_conditional_moments(n, y, mu, sigma):
    # 200,000 exact draws: mean of theta within 4 standard errors of quad's, and its sd within 4
    # standard errors of the sd (sd of the sample sd ~ sd * sqrt((kurtosis - 1) / (4N)); 4 covers it)
    rng = np.random.default_rng(7)
    z = family.sample_conditional(np.full(200_000, n), y, mu, sigma, rng)
    theta = special.expit(z)
    _, m1, m2 = quad_reference(n, y, mu, sigma)
    sd = math.sqrt(m2 - m1**2)
    assert abs(theta.mean() - m1) <= 4 * sd / math.sqrt(theta.size)
    assert abs(theta.std() - sd) <= 4 * sd * math.sqrt(2 / theta.size) * 2


# --------------------------------------------------------------------------------------------
# Partial pooling against a brute-force integral
# --------------------------------------------------------------------------------------------


class Reference:
    """p(mu, sigma, z | y) of the surgical data integrated on dense uniform grids, from the equations.

    - z (each group's logit): the trapezoid rule on [-14, 4] (spacing h_z); the integrand
      Binomial(y_i | n_i, expit z) N(z | mu, sigma^2) is negligible at both ends for every (mu,
      sigma) with posterior mass (asserted through the halving check).
    - mu on [-4.5, -0.5] and sigma on [0, 3.2], trapezoid: the posterior vanishes at mu's ends and
      at sigma = 3.2 (17 posterior sds out), and at sigma = 0 it is an even function of sigma
      (HalfNormal prior, likelihood a function of sigma^2), so the trapezoid rule from 0 is exact
      to all orders there. At sigma = 0 the normal is a point mass: the binomial at expit(mu).
    - CDFs: the cubic spline of a density on its grid integrated exactly, inverted by brentq.

    ``scale=2`` doubles every spacing; the two must agree to REF_ERR.
    """

    def __init__(self, scale=1):
        df = surgical()
        self.y, self.n = df["r"].to_numpy(float), df["n"].to_numpy(float)
        self.z = np.linspace(-14, 4, 3601 // scale + (scale == 2))
        self.mu = np.linspace(-4.5, -0.5, 401 // scale + (scale == 2))
        self.sigma = np.linspace(0, 3.2, 321 // scale + (scale == 2))

    @staticmethod
    def trapezoid(x):
        w = np.full(x.size, x[1] - x[0])
        w[[0, -1]] /= 2
        return w

    @cached_property
    def tables(self):
        z, y, n = self.z, self.y[:, None], self.n[:, None]
        log_lik_z = (
            y * -np.logaddexp(0, -z)
            + (n - y) * -np.logaddexp(0, z)
            + (special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1))
        )
        lik_z = np.exp(log_lik_z)  # (groups, Z)
        wz = self.trapezoid(z)
        theta = special.expit(z)
        log_post = np.empty((self.sigma.size, self.mu.size))
        first = np.empty((self.sigma.size, self.mu.size, self.y.size))
        second = np.empty_like(first)
        marg = np.empty_like(first)
        for k, s in enumerate(self.sigma):
            if s == 0:  # a point mass at z = mu
                lik_mu = np.exp(
                    self.y[:, None] * -np.logaddexp(0, -self.mu)
                    + (self.n - self.y)[:, None] * -np.logaddexp(0, self.mu)
                    + (
                        special.gammaln(self.n + 1)
                        - special.gammaln(self.y + 1)
                        - special.gammaln(self.n - self.y + 1)
                    )[:, None]
                ).T
                m = lik_mu
                e1, e2 = (
                    special.expit(self.mu)[:, None] * np.ones_like(m),
                    special.expit(self.mu)[:, None] ** 2,
                )
            else:
                normal = stats.norm.pdf(z[:, None], self.mu[None, :], s) * wz[:, None]  # (Z, M)
                m = (lik_z @ normal).T  # (M, groups)
                e1 = ((lik_z * theta) @ normal).T / m
                e2 = ((lik_z * theta**2) @ normal).T / m
            marg[k], first[k], second[k] = m, e1, e2 * np.ones_like(m)
            log_post[k] = np.log(m).sum(axis=1)
        log_post += (
            stats.norm.logpdf(self.mu, 0, 1.5)[None, :] + stats.halfnorm.logpdf(self.sigma, scale=1)[:, None]
        )
        w = np.exp(log_post - log_post.max()) * np.outer(self.trapezoid(self.sigma), self.trapezoid(self.mu))
        return w / w.sum(), first, second, marg

    def edge_mass(self):
        w = self.tables[0]
        return w[-1, :].sum() + w[:, 0].sum() + w[:, -1].sum()

    def moments(self):
        w, first, second, _ = self.tables
        out = {}
        for name, x in (("mu", self.mu[None, :]), ("sigma", self.sigma[:, None])):
            m = float(np.sum(w * x))
            out[name] = (m, math.sqrt(np.sum(w * (x - m) ** 2)))
        e1 = np.einsum("km,kmi->i", w, first)
        e2 = np.einsum("km,kmi->i", w, second)
        for i in range(self.y.size):
            out[f"theta[{i}]"] = (e1[i], math.sqrt(e2[i] - e1[i] ** 2))
        return out

    def quantile(self, name, q):
        x, cdf, masses = self.cdf(name)

        def below(t):
            return cdf(t) + masses[self.mu <= t].sum()

        total = below(x[-1])
        value = optimize.brentq(lambda t: below(t) - q * total, x[0], x[-1], xtol=1e-12)
        return special.expit(value) if name.startswith("theta") else value

    @cached_property
    def theta_densities(self):
        """p(z_i | y) = lik_i(z) sum_k w_k N(z | mu_k, sigma_k) / m_ik on the z grid, shape (Z, groups).

        The sigma = 0 row is a point mass at z = mu (added by :meth:`cdf`).
        """
        w, _, _, marg = self.tables
        z, y, n = self.z, self.y[:, None], self.n[:, None]
        lik = np.exp(
            -y * np.logaddexp(0, -z)
            - (n - y) * np.logaddexp(0, z)
            + special.gammaln(n + 1)
            - special.gammaln(y + 1)
            - special.gammaln(n - y + 1)
        ).T
        density = np.zeros((z.size, self.y.size))
        for k, s in enumerate(self.sigma[1:], start=1):
            normal = np.exp(-0.5 * ((z[:, None] - self.mu[None, :]) / s) ** 2) / (s * math.sqrt(2 * math.pi))
            density += normal @ (w[k][:, None] / marg[k])
        return density * lik

    @functools.cache  # noqa: B019 (two references per test module)
    def cdf(self, name):
        """Grid, the CDF of the density there (cubic spline integrated: O(h^4)) and point masses."""
        w, _, _, marg = self.tables
        if name == "mu":
            x, density = self.mu, w.sum(axis=0) / self.trapezoid(self.mu)
        elif name == "sigma":
            x, density = self.sigma, w.sum(axis=1) / self.trapezoid(self.sigma)
        else:
            x, density = self.z, self.theta_densities[:, int(name[6:-1])]
        masses = np.zeros(self.mu.size)
        if name.startswith("theta"):  # sigma = 0: z_i = mu, a point mass of w[0, m] at each mu_m
            masses = w[0]
        return x, interpolate.CubicSpline(x, density).antiderivative(), masses


@pytest.fixture(scope="module")
def reference():
    return Reference(), Reference(scale=2)


@pytest.fixture(scope="module")
def partial():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = fit(pooling="partial")
    return f, caught


def labels():
    hospitals = surgical()["hospital"].tolist()
    return [
        ("mu", "mu"),
        ("sigma", "sigma"),
        *((f"theta[{i}]", f"theta[{g}]") for i, g in enumerate(hospitals)),
    ]


def close(got, want):
    return abs(got - want) <= (ENGINE_TOL + REF_ERR) * max(1.0, abs(want))


def test_reference_is_converged(reference):
    fine, coarse = reference
    # The outer rows hold < 1e-8 and the density falls off beyond them: the mass left outside moves
    # a mean by < 1e-8 times its range (< 5), far below REF_ERR.
    assert fine.edge_mass() < 1e-8
    a, b = fine.moments(), coarse.moments()
    for key in a:
        for x, x2 in zip(a[key], b[key], strict=True):
            assert abs(x - x2) <= REF_ERR * max(1.0, abs(x)), (key, x, x2)
    for name in ("mu", "sigma", "theta[0]", "theta[3]"):
        for q in (0.025, 0.975):
            x, x2 = fine.quantile(name, q), coarse.quantile(name, q)
            assert abs(x - x2) <= REF_ERR * max(1.0, abs(x)), (name, q, x, x2)


def test_fits_without_warnings(partial):
    f, caught = partial
    assert [str(w.message) for w in caught] == []
    assert f.diagnostics["converged"]
    assert list(f.summary().index[-2:]) == ["mu", "sigma"]


def test_moments_match_brute_force(partial, reference):
    f, _ = partial
    want = reference[0].moments()
    summary = f.summary()
    bad = []
    for key, label in labels():
        for column, value in zip(("mean", "sd"), want[key], strict=True):
            got = summary.loc[label, column]
            if not close(got, value):
                bad.append(f"{label} {column}: poolwise {got:.7g}, brute force {value:.7g}")
    assert not bad, "\n".join(bad)


def test_quantiles_match_brute_force(partial, reference):
    f, _ = partial
    summary = f.summary(ci_kind="eti", ci_prob=0.95)
    bad = []
    for key, label in labels():
        for column, q in (("eti95_lb", 0.025), ("eti95_ub", 0.975)):
            got, want = summary.loc[label, column], reference[0].quantile(key, q)
            if not close(got, want):
                bad.append(f"{label} {column}: poolwise {got:.7g}, brute force {want:.7g}")
    assert not bad, "\n".join(bad)


def test_exact_draws_agree_with_exact_summaries(partial):
    # 4000 independent draws: each mean within 4 standard errors sd / sqrt(4000)
    f, _ = partial
    post = f.idata["posterior"]
    summary = f.summary()
    for name in ("mu", "sigma"):
        draws = post[name].values.ravel()
        mean, sd = summary.loc[name, ["mean", "sd"]]
        assert abs(draws.mean() - mean) <= 4 * sd / math.sqrt(draws.size), name
    theta = post["theta"].values.reshape(-1, 12)
    mean, sd = summary["mean"].iloc[:12].to_numpy(), summary["sd"].iloc[:12].to_numpy()
    assert np.all(np.abs(theta.mean(axis=0) - mean) <= 4 * sd / math.sqrt(theta.shape[0]))
    new = f.idata["posterior_predictive"]["theta_new"].values.ravel()
    ref = f.new_group().summary
    assert abs(new.mean() - ref["mean"]) <= 4 * ref["sd"] / math.sqrt(new.size)


# --------------------------------------------------------------------------------------------
# Groups that hardly differ: the posterior of sigma piles up at 0
# --------------------------------------------------------------------------------------------

# Drawn as logit theta_i ~ N(-1.5, 0.5^2), n_i ~ 1 + Poisson(30) (numpy default_rng(0)), written out so
# that no generator's stream can change them. The best hierarchical fit gains 0 nats over complete
# pooling: sigma's posterior has its mode at 0 (mean 0.21, sd 0.16).
NEAR_ZERO = pd.DataFrame(
    {
        "group": [f"g{i}" for i in range(10)],
        "y": [4, 4, 8, 6, 5, 5, 7, 5, 6, 10],
        "n": [33, 17, 33, 37, 38, 35, 38, 28, 34, 33],
    }
)


class NearZeroReference:
    """p(z_i | y) for NEAR_ZERO by brute force on dense uniform grids, from the model's equations.

    p(z_i | y) = lik_i(z) sum_sigma sum_mu G_i(mu, sigma) N(z | mu, sigma^2), with G_i the prior
    times every other group's marginal likelihood m_j(mu, sigma) = sum_z lik_j(z) N(z | mu, sigma^2):

    - sigma on [0, 3] (spacing h; P(sigma > 2.6) = 3e-8) and mu on [-4, 1], trapezoid. At sigma = 0
      the sum over mu is the limit, exact: the joint density at mu = z (N is a point mass). Off it,
      the mu spacing is 2h/3, so even the narrowest normal (sigma = h) is summed over mu without
      aliasing (relative error 2 exp(-2 pi^2 (3/2)^2) ~ 1e-19): no comb of spikes at the mu nodes.
      In sigma the integrand is smooth and even at 0 (prior HalfNormal, likelihood a function of
      sigma^2), so the trapezoid from 0 converges fast.
    - z on [-11, 8] (spacing h/2: the trapezoid of a normal of sd >= h is exact to e^-79); the
      densities at its ends are < 1e-10 of their peaks (theta_new's; the groups' far less).
    - quantiles: the cubic spline of the density integrated exactly, inverted by brentq.

    ``scale=2`` doubles every spacing; the two must agree to REF_ERR.
    """

    def __init__(self, scale=1):
        self.y, self.n = NEAR_ZERO["y"].to_numpy(float), NEAR_ZERO["n"].to_numpy(float)
        h = 0.02 * scale
        self.sigma = np.linspace(0.0, 3.0, round(3.0 / h) + 1)
        self.mu = np.linspace(-4.0, 1.0, round(5.0 / (h / 1.5)) + 1)
        self.z = np.linspace(-11.0, 8.0, round(19.0 / (h / 2)) + 1)

    trapezoid = staticmethod(Reference.trapezoid)

    def log_lik(self, x):
        """log Binomial(y_i | n_i, expit x), shape (groups, x)."""
        y, n = self.y[:, None], self.n[:, None]
        return (
            -y * np.logaddexp(0, -x)
            - (n - y) * np.logaddexp(0, x)
            + special.gammaln(n + 1)
            - special.gammaln(y + 1)
            - special.gammaln(n - y + 1)
        )

    @cached_property
    def tables(self):
        """Posterior weights over (sigma, mu) and the densities of z_i (rows: groups, then theta_new)."""
        z, mu, sigma = self.z, self.mu, self.sigma
        lik_z = np.exp(self.log_lik(z))
        log_m = np.empty((sigma.size, self.y.size, mu.size))
        normals = {}
        for k, s in enumerate(sigma):
            if s == 0:  # a point mass at z = mu
                log_m[k] = self.log_lik(mu)
            else:
                normals[k] = np.exp(-0.5 * ((z[:, None] - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))
                log_m[k] = np.log(lik_z @ (normals[k] * self.trapezoid(z)[:, None]))
        log_prior = stats.norm.logpdf(mu, 0, 1.5) + stats.halfnorm.logpdf(sigma)[:, None]
        log_post = log_m.sum(axis=1) + log_prior
        top = log_post.max()
        w_sigma = self.trapezoid(sigma)
        w = np.exp(log_post - top) * np.outer(w_sigma, self.trapezoid(mu))
        density = np.zeros((self.y.size + 1, z.size))
        for k in range(sigma.size):
            if k in normals:  # G_i = posterior / m_i; theta_new's is the posterior
                log_g = log_post[k] - top - np.vstack([log_m[k], np.zeros(mu.size)])
                density += w_sigma[k] * (normals[k] @ (np.exp(log_g) * self.trapezoid(mu)).T).T
            else:  # sum over mu of G_i(mu, 0) delta(z - mu): G_i at mu = z
                log_at_z = self.log_lik(z).sum(axis=0) + stats.norm.logpdf(z, 0, 1.5) - top
                log_at_z += stats.halfnorm.logpdf(sigma[k])
                log_g = log_at_z - np.vstack([self.log_lik(z), np.zeros(z.size)])
                density += w_sigma[k] * np.exp(log_g)
        density[:-1] *= lik_z
        return w / w.sum(), density

    def edge_mass(self):
        w, density = self.tables
        ends = density[:, [0, -1]].max(axis=1) / density.max(axis=1)
        return max(w[-1].sum(), w[:, 0].sum(), w[:, -1].sum()), float(ends.max())

    def moments(self):
        """Mean and sd of each theta_i and of theta_new."""
        _, density = self.tables
        p = density * self.trapezoid(self.z)
        p /= p.sum(axis=1, keepdims=True)
        theta = special.expit(self.z)
        mean = p @ theta
        return mean, np.sqrt(p @ theta**2 - mean**2)

    @functools.cache  # noqa: B019 (two references per test)
    def cdf(self, row):
        return interpolate.CubicSpline(self.z, self.tables[1][row]).antiderivative()

    def quantile(self, row, q):
        cdf = self.cdf(row)
        total = cdf(self.z[-1])
        return special.expit(optimize.brentq(lambda t: cdf(t) - q * total, self.z[0], self.z[-1], xtol=1e-13))


@pytest.fixture(scope="module")
def near_zero():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = pw.fit(NEAR_ZERO, group="group", successes="y", trials="n", family="logit-normal")
    return f, caught


def test_near_zero_sigma_converges_on_a_coarse_grid(near_zero):
    """Each group's posterior is a mixture over the grid of conditionals of width ~sigma; near
    sigma = 0 these are narrower than the grid's spacing in mu. Summed over the nodes they made a
    comb whose quantiles converged only as fast as the spacing shrank: 256x256 nodes and a 4097-node
    tabulation per group (~70 s). Integrated over mu, they converge with the moments."""
    f, caught = near_zero
    # The data cannot tell the groups apart: that note, and no other (convergence, edge mass).
    assert [str(w.message).split(":")[0] for w in caught] == ["prior-dominated"]
    assert f.diagnostics["converged"]
    assert int(f.diagnostics["group_grid_nodes"].split("x")[0]) <= 48
    assert f.posterior.quantities["theta"].marginal.pdf.shape[1] <= 2048


def test_near_zero_reference_is_converged():
    fine, coarse = NearZeroReference(), NearZeroReference(scale=2)
    mass, ends = fine.edge_mass()
    assert mass < 1e-8 and ends < 1e-9
    for a, b in zip(fine.moments(), coarse.moments(), strict=True):
        assert np.all(np.abs(a - b) <= REF_ERR)
    for row in (0, 4, 9, 10):
        for q in (0.005, 0.025, 0.5, 0.975, 0.995):
            assert abs(fine.quantile(row, q) - coarse.quantile(row, q)) <= REF_ERR, (row, q)


def test_near_zero_sigma_matches_brute_force(near_zero):
    """Means, sds and the 2.5%, 50% and 97.5% quantiles of every theta_i and theta_new within the
    engine's tolerance plus the reference's error (measured: within 4e-7 of it; the comb was off by
    1e-3 at 32x32 nodes)."""
    f, _ = near_zero
    ref = NearZeroReference()
    mean, sd = ref.moments()
    summary = f.summary(ci_kind="eti", ci_prob=0.95)
    new = f.new_group(ci_kind="eti", ci_prob=0.95).summary
    theta = f.posterior.quantities["theta"]
    median = np.append(theta.quantile(0.5), f.posterior.new_group.quantile(0.5))
    rows = [summary.loc[f"theta[g{i}]"] for i in range(10)] + [new]
    bad = []
    for i, row in enumerate(rows):
        for what, got, want in (
            ("mean", row["mean"], mean[i]),
            ("sd", row["sd"], sd[i]),
            ("q2.5%", row["eti95_lb"], ref.quantile(i, 0.025)),
            ("q50%", median[i], ref.quantile(i, 0.5)),
            ("q97.5%", row["eti95_ub"], ref.quantile(i, 0.975)),
        ):
            if not close(got, want):
                bad.append(f"row {i} {what}: poolwise {got:.7g}, brute force {want:.7g}")
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------


def test_family_is_chosen_by_name_and_priors_are_checked():
    f = fit(pooling="partial", priors={"mu": "Normal(-2, 1)", "sigma": pr.Exponential(1.0)})
    assert f.model.equations() == [
        "y_i ~ Binomial(n_i, theta_i)",
        "logit(theta_i) ~ Normal(mu, sigma^2)",
        "mu ~ Normal(mu=-2, sigma=1)",
        "sigma ~ Exponential(lam=1)",
    ]
    assert pw.fit(surgical(), group="hospital", successes="r", trials="n").family == "beta-binomial"
    with pytest.raises(pr.PriorError, match="whole real line"):
        fit(priors={"mu": "HalfNormal(1)"})
    with pytest.raises(pr.PriorError, match=r"\[0, inf\)"):
        fit(priors={"sigma": "Normal(0, 1)"})
    with pytest.raises(pr.PriorError, match="its priors are: mu, sigma"):
        fit(priors={"tau": "HalfNormal(1)"})
    with pytest.raises(ValueError, match="non-centred"):
        fit(engine="nuts", parametrization="marginal")


def test_idata_holds_what_arviz_needs(partial):
    f, _ = partial
    idata = f.idata
    assert set(idata["posterior"].data_vars) == {"theta", "mu", "sigma"}
    assert idata["posterior"]["theta"].dims == ("chain", "draw", "hospital")
    assert set(idata["posterior_predictive"].data_vars) == {"y", "theta_new"}
    df = surgical()
    np.testing.assert_array_equal(idata["observed_data"]["y"].values, df["r"])
    np.testing.assert_array_equal(idata["constant_data"]["n"].values, df["n"])
    theta = idata["posterior"]["theta"].values
    want = stats.binom.logpmf(df["r"].to_numpy(), df["n"].to_numpy(), theta)
    np.testing.assert_allclose(idata["log_likelihood"]["y"].values, want, rtol=1e-9)


def test_questions_from_draws_and_marginals(partial):
    f, _ = partial
    table = f.group_table()
    assert list(table.columns[:5]) == ["successes", "trials", "raw_rate", "mean", "sd"]
    above = f.prob_above(0.1)
    cdf = f.posterior.quantities["theta"].marginal.cdf(np.full((13, 1), 0.1))[:, 0]
    np.testing.assert_allclose(above.to_numpy(), 1 - cdf[f.posterior.quantities["theta"].index], rtol=EXACT)
    assert f.prob_best()["prob"].sum() == pytest.approx(1.0)
    assert f.ranks()["mean_rank"].between(1, 12).all()
    pairs = f.pairwise().to_numpy()
    np.testing.assert_allclose(pairs + pairs.T + np.eye(12), 1.0)
    x, density = f.density("theta", "D")
    assert np.sum(np.diff(x) * (density[1:] + density[:-1]) / 2) == pytest.approx(1.0, abs=1e-3)
    assert 0.2 < f.mode("sigma") < f.summary().loc["sigma", "mean"]
    assert "prob_eb" not in f.threshold_test(0.1).columns  # no Beta population to plug in
    assert set(f.ppc().index) >= {"sd_rate", "min_rate", "max_rate"}


def test_beta_population_questions_name_the_family(partial):
    f, _ = partial
    with pytest.raises(NotImplementedError, match="logit-normal"):
        f.hyper_grid()


def test_a_new_group_with_data_is_the_group_it_would_be_in_a_refit(partial):
    """A new hospital that has seen 2 deaths in 30 operations: reweighting the grid by its marginal
    likelihood must give what a refit with it as a thirteenth hospital gives its theta. Both are exact
    to the engine's tol (1e-4 relative above 1), hence within 2e-4."""
    f, _ = partial
    got = f.predict_new(2, 30)
    data = pd.concat([surgical(), pd.DataFrame({"hospital": ["new"], "n": [30], "r": [2]})])
    refit = fit(data, pooling="partial").summary(ci_kind="hdi", ci_prob=0.94).loc["theta[new]"]
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub"):
        assert got[column] == pytest.approx(refit[column], abs=2e-4), column


def test_predictive_counts_match_the_draws(partial):
    # P(y_new = k | n = 20) against the binomial averaged over the 4000 exact draws of theta_new:
    # within 4 Monte Carlo standard errors (sd of the binomial pmf over draws / sqrt(N)) where
    # P >= 1e-3. Beyond, the probability comes from the posterior's far tail (large sigma, mass
    # ~1e-6) that 4000 draws do not reach, so their standard error says nothing there.
    f, _ = partial
    pmf = f.predictive_counts(20).to_numpy()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    theta = f.idata["posterior_predictive"]["theta_new"].values.ravel()
    terms = stats.binom.pmf(np.arange(21)[:, None], 20, theta[None, :])
    mcse = terms.std(axis=1) / math.sqrt(theta.size)
    bulk = pmf >= 1e-3
    assert bulk.sum() >= 6
    assert np.all(np.abs(pmf - terms.mean(axis=1))[bulk] <= 4 * mcse[bulk])


def test_a_group_called_sigma_does_not_clash():
    df = surgical().rename(columns={"hospital": "sigma"})
    f = pw.fit(df, group="sigma", successes="r", trials="n", family="logit-normal", draws=50, chains=1)
    assert f.idata["posterior"]["theta"].dims == ("chain", "draw", "group")


# --------------------------------------------------------------------------------------------
# NUTS agrees with the exact engine
# --------------------------------------------------------------------------------------------

Z = 4.0  # Monte Carlo standard errors: P(|Z| > 4) = 6.3e-5 per comparison
NUTS_SETTINGS = {"draws": 2500, "tune": 1000, "chains": 4, "target_accept": 0.95}


@pytest.mark.slow
def test_nuts_agrees_with_exact_within_4_mcse(partial):
    """Every mean and 2.5%/97.5% quantile of theta_i, mu, sigma and theta_new from non-centred NUTS
    (4 x 2500 draws, ~10 s) within Z = 4 of ArviZ's MCSE of the exact value: 45 comparisons, so a
    false alarm has probability at most 45 * 6.3e-5 = 0.3% (union bound); the seed is fixed. The
    exact values are converged to 1e-4, far below the smallest MCSE here (~1e-4 for theta[D])."""
    import arviz as az

    pytest.importorskip("pymc")
    exact, _ = partial
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nuts = fit(pooling="partial", engine="nuts", progressbar=False, **NUTS_SETTINGS)
    assert [str(w.message) for w in caught if issubclass(w.category, pw.PoolwiseWarning)] == []
    assert nuts.diagnostics["parametrization"] == "non-centered"
    post, pp = nuts.idata["posterior"], nuts.idata["posterior_predictive"]
    summary = exact.summary(ci_kind="eti", ci_prob=0.95)
    hospitals = surgical()["hospital"]
    items = [
        (f"theta[{g}]", post["theta"].values[..., k], summary.loc[f"theta[{g}]"])
        for k, g in enumerate(hospitals)
    ]
    items += [(name, post[name].values, summary.loc[name]) for name in ("mu", "sigma")]
    items.append(("theta_new", pp["theta_new"].values, exact.new_group(ci_kind="eti", ci_prob=0.95).summary))
    bad = []
    for label, draws, ref in items:
        for what, got, want, mcse in (
            ("mean", draws.mean(), ref["mean"], az.mcse(draws, method="mean")),
            (
                "q2.5%",
                np.quantile(draws, 0.025),
                ref["eti95_lb"],
                az.mcse(draws, method="quantile", prob=0.025),
            ),
            (
                "q97.5%",
                np.quantile(draws, 0.975),
                ref["eti95_ub"],
                az.mcse(draws, method="quantile", prob=0.975),
            ),
        ):
            if not abs(got - want) <= Z * float(mcse):
                bad.append(
                    f"{label} {what}: nuts {got:.5g}, exact {want:.5g}, {abs(got - want) / mcse:.1f} MCSE"
                )
    assert not bad, "\n".join(bad)


def test_nuts_fit_has_the_exact_engines_shape(partial):
    """Wiring (fast, few draws): the same groups, variables and dims as the exact engine's."""
    pytest.importorskip("pymc")
    exact, _ = partial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)  # 100 draws: few effective draws, said
        nuts = fit(pooling="partial", engine="nuts", draws=100, tune=100, chains=2, progressbar=False)
    for group in ("posterior", "posterior_predictive", "log_likelihood", "observed_data", "constant_data"):
        a, b = exact.idata[group], nuts.idata[group]
        assert set(a.data_vars) == set(b.data_vars), group
        for name in a.data_vars:
            assert a[name].dims == b[name].dims, (group, name)
    assert list(nuts.summary().index) == list(exact.summary().index)
    assert set(nuts.pymc_model.named_vars) == {"mu", "sigma", "eta", "theta", "y"}
    assert set(exact.pymc_model.named_vars) == {"mu", "sigma", "eta", "theta", "y"}
    assert 0.0 < nuts.mode("sigma") and nuts.prob_above(0.1).between(0, 1).all()
