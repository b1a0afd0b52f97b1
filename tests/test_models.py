"""Models: the seed's defaults, and clear errors for priors that do not fit the model."""

import pytest

from poolwise import priors as pr
from poolwise.families.models import build, resolve_priors


def test_defaults_are_the_seed_analysis():
    none, complete, partial = build("all")
    assert none.priors == {"theta": pr.Beta(0.5, 0.5)}
    assert complete.priors == {"theta": pr.Beta(0.5, 0.5)}
    assert partial.priors == {"alpha": pr.HalfNormal(10), "beta": pr.HalfNormal(10)}


def test_one_hyperprior_overrides_only_itself():
    priors = resolve_priors("partial", {"beta": "Gamma(2, 0.5)"})
    assert priors == {"alpha": pr.HalfNormal(10), "beta": pr.Gamma(2, 0.5)}


def test_mu_kappa_and_joint_priors():
    assert set(resolve_priors("partial", {"mu": pr.Beta(1, 1), "kappa": "Exponential(0.1)"})) == {
        "mu",
        "kappa",
    }
    assert resolve_priors("partial", {"alpha, beta": "BDA3"}) == {"alpha,beta": pr.BDA3()}


@pytest.mark.parametrize(
    ("pooling", "priors", "message"),
    [
        ("partial", {"theta": pr.Beta(1, 1)}, "partial pooling has no parameter 'theta'"),
        ("none", {"alpha": pr.HalfNormal(1)}, "its priors are: theta"),
        ("none", {"theta": pr.HalfNormal(1)}, "must be a Beta"),
        ("partial", {"mu": pr.Beta(1, 1)}, "'kappa' is missing"),
        (
            "partial",
            {"mu": pr.Beta(1, 1), "kappa": pr.HalfNormal(1), "alpha": pr.HalfNormal(1)},
            "not a mixture",
        ),
        ("partial", {"mu": pr.HalfNormal(1), "kappa": pr.HalfNormal(1)}, "mu must live on"),
        ("partial", {"alpha": pr.Uniform(-1, 1)}, "alpha must be positive"),
        ("partial", {"alpha,beta": pr.HalfNormal(1)}, "joint prior"),
        ("partial", {"alpha,beta": pr.BDA3(), "beta": pr.HalfNormal(1)}, "cannot be combined"),
    ],
)
def test_prior_errors(pooling, priors, message):
    with pytest.raises(pr.PriorError, match=message):
        resolve_priors(pooling, priors)


def test_fit_all_rejects_a_name_no_model_has():
    with pytest.raises(pr.PriorError, match="no model has a parameter 'gamma'"):
        build("all", {"gamma": pr.HalfNormal(1)})
    # theta belongs to none/complete, alpha to partial: both accepted for "all".
    models = build("all", {"theta": pr.Beta(1, 1), "alpha": pr.HalfNormal(5)})
    assert models[0].priors["theta"] == pr.Beta(1, 1) and models[2].priors["alpha"] == pr.HalfNormal(5)


def test_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be one of"):
        build("some")


# --------------------------------------------------------------------------- normal-normal


def test_normal_defaults_are_bda3():
    none, complete, partial = build("all", family="normal-normal")
    assert none.priors == {"theta": pr.Flat()} and complete.priors == {"theta": pr.Flat()}
    # BDA3 §5.5: flat on mu, uniform on tau (no scale to choose; proper posterior for J >= 3)
    assert partial.priors == {"mu": pr.Flat(), "tau": pr.HalfFlat()}
    assert {m.family for m in (none, complete, partial)} == {"normal-normal"}
    assert none.equations() == ["y_i ~ Normal(theta_i, s_i^2)", "theta_i ~ Flat()  (independently)"]
    assert complete.equations() == ["y_i ~ Normal(theta, s_i^2)", "theta ~ Flat()"]


@pytest.mark.parametrize(
    ("text", "prior"),
    [
        ("uniform", pr.HalfFlat()),
        (" Uniform() ", pr.HalfFlat()),
        ("HalfFlat", pr.HalfFlat()),
        ("Uniform(0, 100)", pr.Uniform(0, 100)),
        ("HalfCauchy(25)", pr.HalfCauchy(25)),
    ],
)
def test_uniform_on_tau_is_bda3s_unless_bounded(text, prior):
    assert resolve_priors("partial", {"tau": text}, family="normal-normal")["tau"] == prior


@pytest.mark.parametrize(
    ("pooling", "priors", "message"),
    [
        ("partial", {"kappa": pr.HalfNormal(1)}, "its priors are: mu, tau"),
        ("partial", {"mu": pr.Beta(1, 1)}, "must be Flat"),
        ("partial", {"tau": pr.Normal(0, 1)}, "tau must be positive"),
        ("partial", {"tau": pr.Flat()}, "tau must be positive"),
        ("none", {"theta": pr.Beta(1, 1)}, "must be Flat"),
        ("complete", {"theta": "uniform"}, "must be Flat"),  # Uniform(0, 1): not conjugate
    ],
)
def test_normal_prior_errors(pooling, priors, message):
    with pytest.raises(pr.PriorError, match=message):
        resolve_priors(pooling, priors, family="normal-normal")


def test_unknown_family():
    with pytest.raises(ValueError, match="family must be one of"):
        build("partial", family="poisson")
