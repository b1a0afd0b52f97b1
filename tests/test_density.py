"""Exact densities for plots: closed forms to 1e-10, mixtures integrate to one and to their means."""

import numpy as np
import pytest
from scipy import integrate, stats

import poolwise as pw

COLS = {"group": "Mission", "successes": "y", "trials": "N"}


@pytest.fixture(scope="module")
def fits():
    return pw.fit_all(pw.datasets.load("spacex"), **COLS, random_seed=0)


def test_closed_form_density_is_the_beta_pdf(fits):
    x, f = fits["none"].density("theta", group="Falcon 1")
    np.testing.assert_allclose(f, stats.beta(0.5 + 2, 0.5 + 3).pdf(x), rtol=1e-10)
    x, f = fits["complete"].density("theta")
    np.testing.assert_allclose(f, stats.beta(0.5 + 317, 0.5 + 10).pdf(x), rtol=1e-10)


# theta_new is left out: under small beta a few percent of its mass lies within 1e-16 of 1, where
# float64 rounds x to 1 and the nodes' logit scale cannot be recovered from x.
@pytest.mark.parametrize("name", ["theta", "alpha", "beta", "mu", "kappa"])
def test_mixture_density_integrates_to_one_and_to_its_mean(fits, name):
    fit = fits["partial"]
    x, f = fit.density(name, group="Starship")
    # Simpson on the tabulation nodes, which are uniform on the logit/log scale, so integrate there:
    # dx = x'(z) dz with z = logit(x) (rates) or log(x) (positive parameters).
    z = np.log(x / (1 - x)) if name in ("theta", "mu") else np.log(x)
    dxdz = x * (1 - x) if name in ("theta", "mu") else x
    mass = integrate.simpson(f * dxdz, x=z)
    mean = integrate.simpson(x * f * dxdz, x=z)
    expected = fit.summary().loc["theta[Starship]" if name == "theta" else name, "mean"]
    # The nodes resolve the density to O(h^4); 1e-5 bounds Simpson's error on them.
    assert mass == pytest.approx(1.0, abs=1e-5)
    assert mean == pytest.approx(expected, rel=1e-4)


def test_unknown_parameter_and_group(fits):
    with pytest.raises(ValueError, match="no parameter 'mu'"):
        fits["none"].density("mu")
    with pytest.raises(ValueError, match="not in the data"):
        fits["partial"].density("theta", group="Saturn V")
    with pytest.raises(ValueError, match="no hyperparameters"):
        fits["none"].hyper_grid()


def test_hyper_grid_weights_reproduce_the_exact_means(fits):
    grid = fits["partial"].hyper_grid()
    assert grid["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    mean_alpha = float((grid["weight"] * grid["alpha"]).sum())
    assert mean_alpha == pytest.approx(fits["partial"].summary().loc["alpha", "mean"], rel=1e-12)
