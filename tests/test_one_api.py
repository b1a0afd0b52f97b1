"""One API across families (issue 14, item 5): predictive(fit, size=), compare(family=), long sensitivity.

The new names must give the numbers the per-family names give (those are checked against closed
forms and brute force elsewhere), and ask the family rather than its name.
"""

import ast
import pathlib
import warnings

import numpy as np
import pytest
from scipy import stats

import poolwise as pw
from poolwise import predict, sensitivity
from poolwise.analysis import comparison
from poolwise.analysis import shrinkage as compute
from poolwise.families import registry

SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
SURGICAL = {"group": "hospital", "successes": "r", "trials": "n"}
PUMPS = {"group": "pump", "events": "failures", "exposure": "hours"}


def _quiet_fit_all(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        return pw.fit_all(data, random_seed=4, **kwargs)


@pytest.fixture(scope="module")
def spacex():
    return _quiet_fit_all(pw.datasets.load("spacex"), **SPACEX)


@pytest.fixture(scope="module")
def surgical():
    return _quiet_fit_all(pw.datasets.load("surgical"), **SURGICAL, family="logit-normal")


@pytest.fixture(scope="module")
def pumps():
    return _quiet_fit_all(pw.datasets.load("pumps"), **PUMPS)


@pytest.fixture(scope="module")
def schools():
    return _quiet_fit_all(pw.datasets.load("eight_schools"), **pw.datasets.info("eight_schools").columns)


@pytest.mark.parametrize("name", ["spacex", "surgical"])
def test_predictive_is_predictive_counts_for_binomial_counts(name, request):
    fits = request.getfixturevalue(name)
    for pooling, fit in fits.items():
        new = pw.predictive(fit, size=12)
        old = predict.predictive_counts(fit, 12)
        np.testing.assert_array_equal(new.index, np.arange(13))
        np.testing.assert_allclose(new.to_numpy(), old.to_numpy(), rtol=0, atol=0, err_msg=pooling)
        np.testing.assert_allclose(new.to_numpy(), compute.predictive_counts(fit, 12).to_numpy(), rtol=0)
    table = pw.predictive_table(fits, 12)
    old_table = predict.counts_table(fits, 12)
    np.testing.assert_allclose(table[["mean", "sd", "lb", "ub"]], old_table[["mean", "sd", "lb", "ub"]])


def test_predictive_counts_under_complete_pooling_is_the_closed_form(spacex):
    # theta ~ Beta(a0 + sum y, b0 + sum (n - y)): y_new | n is beta-binomial
    fit = spacex["complete"]
    prior = fit.model.priors["theta"]
    y, n = fit.data.successes, fit.data.trials
    a, b = prior.alpha + y.sum(), prior.beta + (n - y).sum()
    np.testing.assert_allclose(
        pw.predictive(fit, size=7).to_numpy(), stats.betabinom.pmf(np.arange(8), 7, a, b)
    )


def test_predictive_is_predictive_events_for_rates(pumps):
    for pooling, fit in pumps.items():
        try:
            old = predict.predictive_events(fit, 50.0, mass=0.995)
        except ValueError:  # no pooling under Jeffreys' improper prior: no prediction, either way
            with pytest.raises(ValueError):
                pw.predictive(fit, size=50.0, mass=0.995)
            continue
        new = pw.predictive(fit, size=50.0, mass=0.995)
        np.testing.assert_array_equal(new.to_numpy(), old.to_numpy(), err_msg=pooling)
        assert new.attrs == old.attrs
    table, old_table = pw.predictive_table(pumps, 50.0), predict.events_table(pumps, 50.0)
    np.testing.assert_allclose(table.to_numpy(float), old_table.to_numpy(float))
    assert table.attrs["excluded"] == old_table.attrs["excluded"]


def test_predictive_events_under_complete_pooling_is_the_negative_binomial(pumps):
    fit = pumps["complete"]
    prior = fit.model.priors["theta"]
    a, b = prior.alpha + fit.data.events.sum(), prior.beta + fit.data.exposure.sum()
    pmf = pw.predictive(fit, size=10.0, upto=30)
    np.testing.assert_allclose(pmf.to_numpy(), stats.nbinom.pmf(np.arange(31), a, b / (b + 10.0)), rtol=1e-12)


def test_predictive_of_a_new_estimate_is_the_normal_mixture(schools):
    s = 10.0
    for pooling, fit in schools.items():
        try:
            mean, sd, weight, _ = compute.new_estimate(fit, s)
        except ValueError:  # no pooling under the flat prior
            with pytest.raises(ValueError):
                pw.predictive(fit, size=s)
            continue
        density = pw.predictive(fit, size=s)
        x = density.index.to_numpy()
        np.testing.assert_allclose(
            density.to_numpy(), compute.mixture_pdf(x, mean, sd, weight), err_msg=pooling
        )
        # it spans the central 99.9%, so the trapezoid rule finds that mass, and the mixture's mean
        assert np.trapezoid(density.to_numpy(), x) == pytest.approx(0.999, abs=2e-4)
        assert density.attrs["mean"] == pytest.approx(float(weight @ mean / weight.sum()))
    table = pw.predictive_table(schools, s, prob=0.9)
    for pooling in table.index:
        expected = compute.mixture_summary(*compute.new_estimate(schools[pooling], s)[:3], 0.9)
        np.testing.assert_allclose(
            table.loc[pooling, ["mean", "sd", "lb", "ub"]].to_numpy(float), list(expected.values())
        )
    assert set(table.index) | set(table.attrs["excluded"]) == set(schools)


def test_every_family_answers_the_analysis_layer_by_the_same_names():
    for family in registry.REGISTRY.values():
        maths = family.maths
        assert isinstance(maths.CENTRED_ON_DATA, bool), family.name
        assert callable(maths.shrinkage_weight) and callable(maths.prior_alternatives), family.name
        if family.grid_axes or family.conjugate is None:  # a 2-D grid over the hyperparameters
            assert callable(maths.new_group) and callable(maths.log_marginal), family.name


def test_no_analysis_module_names_a_family():
    root = pathlib.Path(pw.__file__).parent / "analysis"
    names = set(registry.names())
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted(root.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert found == []


def test_compare_asks_for_the_logit_normal_family_from_a_data_frame():
    df = pw.datasets.load("spacex")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        logit = pw.compare(df, **SPACEX, family="logit-normal", random_seed=5, psis=False)
        fits = pw.fit_all(df, **SPACEX, family="logit-normal", random_seed=5)
        beta = pw.compare(df, **SPACEX, random_seed=5, psis=False)
    assert {fit.family for fit in logit.fits.values()} == {"logit-normal"}
    by_fits = comparison.compare(fits, psis=False)
    np.testing.assert_allclose(logit.table["elpd_logo"], by_fits.table.loc[logit.table.index, "elpd_logo"])
    # the logit-normal population is another model: its partial pooling's elpd is not the Beta one's
    assert logit.table.loc["partial", "elpd_logo"] != pytest.approx(beta.table.loc["partial", "elpd_logo"])


@pytest.mark.parametrize(
    ("name", "centre"),
    [("spacex", "mean"), ("pumps", "median")],
)
def test_sensitivity_long_form_holds_the_wide_numbers(name, centre, request):
    reference = request.getfixturevalue(name)["partial"]
    family = registry.get(reference.family)
    count, size = (getattr(reference.data, role) for role in family.roles)
    alternatives = dict(list(family.maths.prior_alternatives(size, count).items())[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        wide = sensitivity.prior_sensitivity(reference, alternatives)
        long = sensitivity.prior_sensitivity(reference, alternatives, form="long")
    parameters = ("mu", family.spread, "theta_new")
    assert long.index.names == ["prior", "parameter", "statistic"]
    assert len(long) == len(wide) * 7
    assert set(long.index.get_level_values("parameter")) == set(parameters)
    for (prior, parameter, statistic), value in long["value"].items():
        assert value == wide.loc[prior, f"{parameter}_{statistic}"]
    for prior in wide.index:
        assert long.loc[(prior, "mu", centre), "value"] == wide.loc[prior, f"mu_{centre}"]
    assert long.attrs["prior_driven"] == wide.attrs["prior_driven"]
    assert long.attrs["max_shift"] == wide["max_shift"].to_dict()
    with pytest.raises(ValueError, match="form must be"):
        sensitivity.prior_sensitivity(reference, alternatives, form="tall")
