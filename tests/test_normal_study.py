"""The study of estimates with standard errors: comparison, prior sensitivity and the command line.

Leave-one-group-out predictive densities are checked against closed forms (complete pooling) and an
independent two-dimensional quadrature over (mu, tau) written here (partial pooling).
"""

import json
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import poolwise as pw
from poolwise.analysis.comparison import compare, exact_logo
from poolwise.cli import main

SCHOOLS = pw.datasets.info("eight_schools").columns


@pytest.fixture(scope="module")
def schools():
    return pw.datasets.load("eight_schools")


@pytest.fixture(scope="module")
def fits(schools):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        return pw.fit_all(schools, **SCHOOLS, random_seed=1)


def _logo_by_quadrature(y, s, i):
    """log p(y_i | y_-i) under mu flat, tau uniform: a 2-D trapezoid over (mu, t), tau = 20 t / (1 - t)."""
    keep = np.arange(y.size) != i
    t = np.linspace(0.0, 0.999, 1200)
    tau = 20 * t / (1 - t)
    dtau = 20 / (1 - t) ** 2  # the Jacobian of t -> tau
    mu = np.linspace(-120, 140, 1500)
    var = s[keep][None, None, :] ** 2 + tau[:, None, None] ** 2
    loglik = stats.norm.logpdf(y[keep][None, None, :], mu[None, :, None], np.sqrt(var)).sum(axis=2)
    predictive = stats.norm.logpdf(y[i], mu[None, :], np.sqrt(s[i] ** 2 + tau[:, None] ** 2))
    log_joint = loglik + np.log(dtau)[:, None]
    top = log_joint.max()
    evidence = integrate.trapezoid(integrate.trapezoid(np.exp(log_joint - top), mu, axis=1), t)
    numerator = integrate.trapezoid(integrate.trapezoid(np.exp(log_joint + predictive - top), mu, axis=1), t)
    return float(np.log(numerator / evidence))


def test_partial_pooling_logo_against_an_independent_quadrature(fits, schools):
    y, s = schools["y"].to_numpy(float), schools["sigma"].to_numpy(float)
    logo, _ = exact_logo(fits["partial"])
    direct = [_logo_by_quadrature(y, s, i) for i in (0, 2, 6)]
    # Both are quadratures converged far below this: 1e-3 in a log density is a 0.1% error.
    np.testing.assert_allclose(logo[[0, 2, 6]], direct, atol=1e-3)


def test_complete_pooling_logo_is_the_precision_weighted_mean_of_the_others(fits, schools):
    y, s = schools["y"].to_numpy(float), schools["sigma"].to_numpy(float)
    logo, lpd = exact_logo(fits["complete"])
    for i in range(y.size):
        w = np.delete(1 / s**2, i)
        mean, var = np.delete(y, i) @ w / w.sum(), 1 / w.sum()
        assert logo[i] == pytest.approx(stats.norm.logpdf(y[i], mean, np.sqrt(var + s[i] ** 2)), rel=1e-12)
    w = 1 / s**2
    mean, var = y @ w / w.sum(), 1 / w.sum()
    np.testing.assert_allclose(lpd, stats.norm.logpdf(y, mean, np.sqrt(var + s**2)), rtol=1e-12)


def test_no_pooling_under_a_flat_prior_is_left_out_of_the_comparison(fits):
    table = compare(fits, psis=False).table
    assert set(table.index) == {"complete", "partial"}
    assert "none" in table.attrs["excluded"] and "improper" in table.attrs["excluded"]["none"]
    # The eight estimates vary less than their standard errors alone would make them (Q = 4.7 on 7
    # degrees of freedom), so one shared effect predicts a held-out school best, if narrowly.
    assert list(table.index) == ["complete", "partial"]
    logo = {k: exact_logo(fits[k])[0] for k in ("complete", "partial")}
    assert table.loc["partial", "elpd_diff"] == pytest.approx((logo["partial"] - logo["complete"]).sum())


def test_no_pooling_with_a_normal_prior_predicts_from_the_prior(schools):
    fit = pw.fit(schools, **SCHOOLS, pooling="none", priors={"theta": "Normal(0, 20)"})
    logo, _ = exact_logo(fit)
    y, s = schools["y"].to_numpy(float), schools["sigma"].to_numpy(float)
    np.testing.assert_allclose(logo, stats.norm.logpdf(y, 0, np.hypot(20, s)), rtol=1e-12)


def test_compare_from_a_table_of_estimates(schools):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        table = pw.compare(schools, group="school", estimate="y", std_error="sigma").table
    assert {"elpd_logo", "elpd_psis", "weight"} <= set(table.columns)
    assert table["weight"].sum() == pytest.approx(1.0)


def test_prior_sensitivity_moves_tau_priors_on_the_data_scale(fits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        table = pw.sensitivity.prior_sensitivity(fits["partial"])
    assert len(table) == 4 and {"tau_median", "tau_lb", "tau_ub", "mu_mean"} <= set(table.columns)
    # The median standard error of the eight schools is 11: the Gelman (2006) half-Cauchy's scale.
    assert any(label.startswith("HalfCauchy(11)") for label in table.index)
    # Under BDA3's uniform prior the reference itself is refitted: nothing moves.
    assert table.loc["uniform on tau (BDA3)", "max_shift"] == pytest.approx(0.0, abs=1e-9)


def test_cli_fits_estimates_and_prints_mu_and_tau(capsys):
    assert main(["fit", "--dataset", "eight_schools"]) == 0
    out = capsys.readouterr().out
    assert "estimates with known standard errors" in out
    for part in ("estimate", "s.e.", "tau", "theta_new ~ N(mu, tau^2)", "which pooling?", "findings"):
        assert part in out
    assert "no proper prediction" in out  # no pooling under the flat prior


def test_cli_json_for_a_file_of_estimates(tmp_path, capsys, schools):
    path = tmp_path / "schools.csv"
    schools.to_csv(path, index=False)
    args = ["fit", str(path), "--group", "school", "--estimate", "y", "--std-error", "sigma", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["columns"] == {"group": "school", "estimate": "y", "std_error": "sigma"}
    assert set(doc["models"]["partial"]["hyperparameters"]) == {"mu", "tau"}
    assert doc["models"]["none"]["new_group"] is None
    assert [g["group"] for g in doc["models"]["partial"]["groups"]] == list("ABCDEFGH")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--estimate", "y"], "needs --std-error or --variance"),
        (["--estimate", "y", "--std-error", "sigma", "--trials", "n"], "not both"),
        (["--estimate", "y", "--std-error", "sigma", "--new-group", "2/3"], "for binomial counts"),
    ],
)
def test_cli_refuses_mixed_or_binomial_only_options(tmp_path, capsys, schools, extra, expected):
    path = tmp_path / "schools.csv"
    schools.to_csv(path, index=False)
    assert main(["fit", str(path), "--group", "school", *extra]) == 2
    assert expected in capsys.readouterr().err


def test_threshold_calls_have_no_plug_in_columns_for_estimates(fits):
    calls = fits["partial"].threshold_test(0.0)
    assert list(calls.columns) == ["prob", "pep", "q_value"]
    np.testing.assert_allclose(calls["prob"], fits["partial"].prob_above(0.0), rtol=1e-12)
    assert calls.attrs == {"threshold": 0.0, "direction": "above"}


def test_the_mode_of_mu_is_a_number_at_the_peak_of_its_density(fits):
    # A regression: with per-row centres and scales, mode() returned a matrix instead of one value.
    x, density = fits["partial"].density("mu")
    mode = fits["partial"].mode("mu")
    assert isinstance(mode, float)
    # The tabulated density's best node is within one node spacing of the refined mode.
    assert abs(mode - x[np.argmax(density)]) <= np.max(np.diff(x))


def test_describe_states_the_normal_normal_model(capsys):
    assert main(["describe", "--family", "normal-normal", "--pooling", "partial"]) == 0
    out = capsys.readouterr().out
    assert "theta_i ~ Normal(mu, tau^2)" in out and "tau ~ HalfFlat()" in out
