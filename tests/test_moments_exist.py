"""Means and standard deviations that do not exist are reported as NaN, not as numbers (issue 18.4).

The exact engine judges a moment by the tail of its integrand beyond the grid
(`poolwise._core.grid.moment_tail`, `poolwise._core.line.moment_tail`): where more than `tol` of
it lies beyond, and the probability's own tail is markedly lighter, the moment is NaN and its
`moments_exist` flag False (the CLI prints a dash, the JSON says `mean_exists: false`); medians
and intervals stay. The references here are computed without poolwise:

- the tail share of a power law, by scipy's quad;
- BDA3 §5.4's marginal posterior of tau under its uniform prior, by quad on [0, inf): with J
  groups p(tau | y) ~ tau^-(J - 1), so with 3 groups tau has no mean, with 4 no variance (and mu,
  whose variance given tau grows like tau^2 / J, neither), with 5 both.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import poolwise as pw
from poolwise import cli
from poolwise._core import grid as gridlib
from poolwise._core import line as linelib

TOL = 1e-4  # pw.fit's default tol: summaries within 1e-4 * max(1, |x|)

# The first schools of BDA3's eight (estimates and standard errors, Rubin 1981).
SCHOOLS = pd.DataFrame(
    {"school": list("ABCDE"), "y": [28.0, 8.0, -3.0, 7.0, -1.0], "s": [15.0, 10.0, 16.0, 11.0, 9.0]}
)


# --------------------------------------------------------------------------------------------
# The tail estimate itself
# --------------------------------------------------------------------------------------------


def _power_law(a: float):
    """log p(v) = 2v - (a + 1) softplus(v): e^(2v) as v -> -inf, kappa^-a (v = log kappa) as v -> inf."""
    return lambda v: 2 * v - (a + 1) * np.logaddexp(0.0, v)


@pytest.mark.parametrize("a", [2.5, 4.0])
def test_tail_share_of_a_power_law_matches_quad(a):
    logp, lo, hi, n = _power_law(a), -20.0, 18.0, 256
    v = lo + (hi - lo) * (np.arange(n) + 0.5) / n
    u = np.linspace(-10, 10, 41)  # sides at e^-50: the v side's tail is all there is
    grid = gridlib.Grid2D(u, v, -0.5 * u[:, None] ** 2 + logp(v)[None, :], at_limit=True)
    x = np.broadcast_to(np.exp(v)[None, :], grid.logp.shape)
    beyond = integrate.quad(lambda t: math.exp(t + logp(t)), hi, np.inf)[0]
    inside = integrate.quad(lambda t: math.exp(t + logp(t)), lo, hi, points=[0.0])[0]
    # midpoint sums against integrals: O(h^2) with h = 0.15, a relative 1e-3
    assert gridlib.moment_tail(grid, x, 1) == pytest.approx(beyond / inside, rel=1e-3)
    # E[kappa^2] needs a > 3
    assert (gridlib.moment_tail(grid, x, 2) == math.inf) == (a < 3)


def test_line_tail_ignores_a_natural_end():
    w = special.softmax(-np.linspace(0, 20, 101))  # mass piles up at the first node: tau = 0
    x = np.linspace(1, 21, 101)
    assert linelib.moment_tail(w, x, 1) == math.inf
    assert linelib.moment_tail(w, x, 1, closed_lo=True) < 1e-6  # the far end: 21 e^-20 / 0.2


# --------------------------------------------------------------------------------------------
# Normal-normal under BDA3's uniform prior on tau, against quad
# --------------------------------------------------------------------------------------------


def _bda3_tau(y, s, variances: bool = True):
    """E[tau], E[mu] (and sd(tau), sd(mu)) under p(mu, tau) flat, by quad over tau (BDA3 eq. 5.21)."""

    def given(tau):
        v = s**2 + tau**2
        V = 1 / np.sum(1 / v)
        m = V * np.sum(y / v)
        return v, V, m

    def post(tau):
        v, V, m = given(tau)
        return math.sqrt(V) * np.prod(v**-0.5) * math.exp(-0.5 * np.sum((y - m) ** 2 / v))

    def expect(f):
        return integrate.quad(lambda t: f(t) * post(t), 0, np.inf, limit=500, epsrel=1e-12)[0]

    z = expect(lambda t: 1.0)
    e_tau, e_mu = expect(lambda t: t) / z, expect(lambda t: given(t)[2]) / z
    if not variances:
        return e_tau, e_mu
    e_tau2 = expect(lambda t: t * t) / z
    e_mu2 = expect(lambda t: given(t)[1] + given(t)[2] ** 2) / z
    return e_tau, e_mu, math.sqrt(e_tau2 - e_tau**2), math.sqrt(e_mu2 - e_mu**2)


def _fit_schools(j: int):
    data = SCHOOLS.head(j)
    return pw.fit(
        data, group="school", estimate="y", std_error="s", pooling="partial", priors={"tau": "HalfFlat"}
    )


def test_three_schools_tau_mu_and_a_new_school_have_no_mean():
    # p(tau | y) ~ tau^-2 leaves 1e-10 beyond the line's end (tau = 3e11), and the engine says so
    with pytest.warns(pw.PoolwiseWarning, match="edge of the line over tau"):
        f = _fit_schools(3)
    summary = f.summary()
    for name in ("mu", "tau"):
        assert np.isnan(summary.loc[name, ["mean", "sd"]].to_numpy(float)).all(), name
        assert np.isfinite(summary.loc[name].iloc[2:].to_numpy(float)).all()  # the interval stays
    new = f.new_group().summary
    assert math.isnan(new["mean"]) and math.isnan(new["sd"])
    assert f.diagnostics["converged"]


def test_four_schools_have_means_but_no_variances():
    f = _fit_schools(4)
    e_tau, e_mu = _bda3_tau(SCHOOLS.y.to_numpy()[:4], SCHOOLS.s.to_numpy()[:4], variances=False)
    summary = f.summary()
    assert summary.loc["tau", "mean"] == pytest.approx(e_tau, abs=TOL * max(1, e_tau))
    assert summary.loc["mu", "mean"] == pytest.approx(e_mu, abs=TOL * max(1, e_mu))
    assert np.isnan(summary.loc[["mu", "tau"], "sd"].to_numpy(float)).all()
    new = f.new_group().summary
    assert new["mean"] == pytest.approx(e_mu, abs=TOL * max(1, e_mu)) and math.isnan(new["sd"])
    assert f.diagnostics["converged"] and f.warnings == ()


def test_five_schools_have_both_and_they_match_quad():
    f = _fit_schools(5)
    e_tau, e_mu, sd_tau, sd_mu = _bda3_tau(SCHOOLS.y.to_numpy(), SCHOOLS.s.to_numpy())
    summary = f.summary()
    for name, mean, sd in (("tau", e_tau, sd_tau), ("mu", e_mu, sd_mu)):
        assert summary.loc[name, "mean"] == pytest.approx(mean, abs=TOL * max(1, mean)), name
        assert summary.loc[name, "sd"] == pytest.approx(sd, abs=TOL * max(1, sd)), name


# --------------------------------------------------------------------------------------------
# The grids: rat tumours under BDA3's prior, the pumps, and light tails left alone
# --------------------------------------------------------------------------------------------


def test_rat_tumours_under_bda3_prior_report_no_mean_for_alpha_beta_kappa():
    """p(kappa | y) ~ kappa^(-3/2) (see test_partial_bruteforce's rats-bda3 case): no mean; mu is bounded."""
    data = pw.datasets.load("rat_tumors")
    f = pw.fit(
        data, group="experiment", successes="y", trials="n", pooling="partial", priors={"alpha,beta": "BDA3"}
    )
    summary = f.summary()
    assert np.isnan(summary.loc[["alpha", "beta", "kappa"], ["mean", "sd"]].to_numpy(float)).all()
    assert np.isfinite(summary.loc["mu"].to_numpy(float)).all()
    assert np.isfinite(summary.loc[["alpha", "beta", "kappa"]].iloc[:, 2:].to_numpy(float)).all()
    assert f.diagnostics["converged"]  # the quantiles converge; the means no longer pretend to


def test_the_command_line_says_the_same(tmp_path, capsys):
    path = tmp_path / "rats.csv"
    pw.datasets.load("rat_tumors").to_csv(path, index=False)
    argv = ["--no-report", "--json", "--pooling", "partial", "--prior", "alpha,beta=BDA3", "fit", str(path)]
    argv += ["--group", "experiment", "--successes", "y", "--trials", "n"]
    assert cli.main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = doc["models"]["partial"]["hyperparameters"]
    assert [rows[p]["mean_exists"] for p in ("alpha", "beta", "mu", "kappa")] == [False, False, True, False]
    assert rows["alpha"]["mean"] is None and rows["mu"]["mean"] == pytest.approx(0.1443, abs=1e-4)


def test_the_pumps_mean_rate_has_no_mean_in_python_either():
    data = pw.datasets.load("pumps")
    f = pw.fit(data, group="pump", events="failures", exposure="hours", pooling="partial")
    summary = f.summary()
    assert np.isnan(summary.loc["mu", ["mean", "sd"]].to_numpy(float)).all()
    assert np.isfinite(summary.loc[["alpha", "beta"], ["mean", "sd"]].to_numpy(float)).all()


@pytest.mark.parametrize(
    "name, columns, family",
    [
        ("spacex", {"group": "Mission", "successes": "y", "trials": "N"}, "beta-binomial"),
        ("surgical", {"group": "hospital", "successes": "r", "trials": "n"}, "logit-normal"),
    ],
)
def test_light_tails_keep_their_moments(name, columns, family):
    data = pw.datasets.load(name)
    f = pw.fit(data, **columns, family=family, pooling="partial")
    assert np.isfinite(f.summary()[["mean", "sd"]].to_numpy(float)).all()
    assert all(np.all(q.moments_exist) for q in f.posterior.quantities.values())
