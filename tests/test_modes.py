"""Modes found on the exact density, to the fit's tolerance and better (issue 18.5).

`Fit.mode` used to fit a parabola through a tabulated marginal: on crins2014 under HalfNormal(0.5)
on tau it was 5e-4 off at tol=1e-4 and 1e-4 off at tol=1e-7. The references are computed here
without poolwise: BDA3 §5.4's p(tau | y) (flat prior on mu) maximised by scipy, and the marginal
density of mu, a quad over tau of p(tau | y) N(mu; mu_hat(tau), V(tau)), maximised likewise.
"""

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import poolwise as pw

MODE_ERR = 1e-7  # Brent to 1e-10 of a node spacing on the exact density; the references to 1e-10


def _crins():
    d = pw.datasets.load("crins2014")
    return d, d.yi.to_numpy(), d.vi.to_numpy()


def _log_tau_posterior(tau, y, s2):
    v = s2 + tau**2
    V = 1 / np.sum(1 / v)
    m = V * np.sum(y / v)
    return (
        stats.halfnorm.logpdf(tau, scale=0.5) + 0.5 * np.log(V) - 0.5 * np.sum(np.log(v) + (y - m) ** 2 / v)
    )


def _mu_density(mu, y, s2):
    def integrand(tau):
        v = s2 + tau**2
        V = 1 / np.sum(1 / v)
        return np.exp(_log_tau_posterior(tau, y, s2)) * stats.norm.pdf(mu, V * np.sum(y / v), np.sqrt(V))

    return integrate.quad(integrand, 0, 5, epsabs=0, epsrel=1e-12, limit=200)[0]


@pytest.fixture(scope="module")
def references():
    _, y, s2 = _crins()
    bounded = {"method": "bounded", "options": {"xatol": 1e-11}}
    tau = optimize.minimize_scalar(lambda t: -_log_tau_posterior(t, y, s2), bounds=(1e-6, 2), **bounded).x
    mu = optimize.minimize_scalar(lambda m: -_mu_density(m, y, s2), bounds=(-2.5, -1.0), **bounded).x
    return {"tau": tau, "mu": mu}


@pytest.mark.parametrize("tol", [1e-4, 1e-7])
def test_normal_normal_modes_are_the_densitys_maxima(references, tol):
    d, _, _ = _crins()
    f = pw.fit(
        d,
        group="study",
        estimate="yi",
        variance="vi",
        pooling="partial",
        priors={"tau": "HalfNormal(0.5)"},
        tol=tol,
    )
    for name, want in references.items():
        assert f.mode(name) == pytest.approx(want, abs=MODE_ERR), name


def test_a_mode_at_zero_stays_there():
    # eight schools under the uniform prior on tau: p(tau | y) falls from tau = 0 (BDA3 fig. 5.5)
    d = pw.datasets.load("eight_schools")
    cols = dict(pw.datasets.info("eight_schools").roles)
    f = pw.fit(
        d, group=cols["group"], estimate=cols["estimate"], std_error=cols["std_error"], pooling="partial"
    )
    assert f.mode("tau") == 0.0


@pytest.mark.parametrize(
    "name, columns, family, parameters",
    [
        (
            "rat_tumors",
            {"group": "experiment", "successes": "y", "trials": "n"},
            "beta-binomial",
            ("mu", "kappa"),
        ),
        ("surgical", {"group": "hospital", "successes": "r", "trials": "n"}, "logit-normal", ("mu", "sigma")),
        (
            "pumps",
            {"group": "pump", "events": "failures", "exposure": "hours"},
            "gamma-poisson",
            ("alpha", "mu"),
        ),
    ],
)
def test_grid_modes_do_not_move_with_the_tolerance(name, columns, family, parameters):
    """On the 2-D grids the line's density sums the other axis at the grid's nodes, so a mode is as
    good as that quadrature: tightening tol from 1e-4 to 1e-6 may move it by no more than 1e-5."""
    data = pw.datasets.load(name)
    loose, tight = (pw.fit(data, **columns, family=family, pooling="partial", tol=t) for t in (1e-4, 1e-6))
    for p in parameters:
        assert loose.mode(p) == pytest.approx(tight.mode(p), rel=1e-5), p
