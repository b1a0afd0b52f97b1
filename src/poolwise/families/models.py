"""Models: a family, a pooling, and the priors, with the seed analysis's defaults.

Poolings of the beta-binomial family (``y_i ~ Binomial(n_i, theta_i)``), the default:

- ``"none"``: ``theta_i ~ Beta(1/2, 1/2)`` independently (each group on its own);
- ``"complete"``: one ``theta ~ Beta(1/2, 1/2)`` shared by all groups;
- ``"partial"``: ``theta_i ~ Beta(alpha, beta)`` with ``alpha, beta ~ HalfNormal(10)``.

Partial pooling also accepts priors on ``mu = alpha / (alpha + beta)`` and ``kappa = alpha + beta``
instead, or a joint prior on ``"alpha,beta"`` such as :class:`poolwise.priors.BDA3`.

Poolings of the normal-normal family (``y_i ~ Normal(theta_i, s_i^2)``, ``s_i`` known; random-effects
meta-analysis, BDA3's eight schools):

- ``"none"``: ``theta_i ~ Flat()`` independently, so ``theta_i | y ~ N(y_i, s_i^2)``;
- ``"complete"``: one ``theta ~ Flat()``: the precision-weighted mean;
- ``"partial"``: ``theta_i ~ Normal(mu, tau^2)`` with ``mu ~ Flat()`` and ``tau ~ HalfFlat()``, the
  uniform prior on ``tau`` of BDA3 §5.4-5.5 (proper in the posterior for 3 or more groups).

``theta`` and ``mu`` take ``Flat()`` or ``Normal(m, s)``; ``tau`` any prior on ``[0, inf)``, e.g.
``HalfCauchy(25)`` (Gelman 2006), ``HalfNormal(10)``, ``Uniform(0, 100)``; the text ``"uniform"``
(no bounds) means ``HalfFlat()``. The default on ``tau`` is BDA3's uniform rather than a half-Cauchy
because it needs no scale: a half-Cauchy's scale must be chosen in the estimates' units, which a
default cannot know, and with 3 or more groups the uniform prior's posterior is proper.

Poolings of the logit-normal binomial family (``y_i ~ Binomial(n_i, theta_i)``, the varying intercept
of Bambi, brms, lme4 and INLA; chosen with ``family="logit-normal"``):

- ``"none"`` and ``"complete"``: the beta-binomial family's conjugate ``Beta(1/2, 1/2)`` on ``theta``
  (a logit-normal population says nothing about one rate, and the same prior keeps the two binomial
  families' no- and complete-pooling answers identical);
- ``"partial"``: ``logit theta_i ~ Normal(mu, sigma^2)`` with ``mu ~ Normal(0, 1.5)`` and
  ``sigma ~ HalfNormal(1)``, both on the logit scale.

``Normal(0, 1.5)`` on ``mu`` is the weakly-informative intercept prior of McElreath's *Statistical
Rethinking* (2nd ed., §11.1): ``expit(mu)`` is then close to uniform on (0, 1), whereas the wider
``Normal(0, 2.5)`` (rstanarm's intercept) or a flat prior piles the population's rate near 0 and 1.
``HalfNormal(1)`` on ``sigma`` (the Stan prior-choice recommendations' weakly-informative scale for a
logit-scale standard deviation, a common brms choice ``normal(0, 1)`` on ``sd``) keeps 95% of its mass
below 1.96, i.e. groups' odds differing by up to a factor of ~50 between the 2.5% and 97.5% of the
population, and lets the data pull ``sigma`` to 0 (its density is largest there, and even: the exact
engine's grid is most accurate for such priors). ``mu`` takes ``Normal(m, s)`` or ``Flat()``;
``sigma`` any prior on ``[0, inf)``, e.g. ``Exponential(1)`` (rstanarm's ``decov`` for one
varying intercept) or ``HalfCauchy(1)``.

Poolings of the gamma-Poisson family (``y_i ~ Poisson(E_i lambda_i)``: events in an exposure such as
operating hours or person-years; the BUGS *Pumps* example):

- ``"none"``: ``lambda_i ~ Gamma(1/2, 0)`` independently, Jeffreys' prior ``p(lambda) ∝ lambda^(-1/2)``
  for a Poisson rate (the counterpart of the binomial families' ``Beta(1/2, 1/2)``; improper, but
  every posterior with exposure > 0 is proper), so ``lambda_i | y ~ Gamma(y_i + 1/2, E_i)``;
- ``"complete"``: one ``lambda ~ Gamma(1/2, 0)`` shared by all groups;
- ``"partial"``: ``lambda_i ~ Gamma(alpha, beta)`` (shape, rate) with the BUGS example's
  ``alpha ~ Exponential(1)`` and ``beta ~ Gamma(0.1, 1)``.

``beta`` is a rate in the units of exposure, so its prior depends on them: the BUGS priors suit
rates and exposures of order one (pumps: failures per thousand hours). Priors may be given on the
population's mean rate ``mu = alpha / beta`` and on ``alpha`` instead (``alpha`` defaults to
``Exponential(1)`` then); ``theta`` takes any ``Gamma(a, b)``, ``b = 0`` included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .. import priors as pr
from . import registry

POOLINGS = ("none", "complete", "partial")
FAMILIES = registry.names()

#: The families of binomial counts (successes of trials per group).
BINOMIAL_FAMILIES = tuple(name for name, f in registry.REGISTRY.items() if f.binomial)

#: The seed analysis's priors.
DEFAULT_PRIORS: dict[str, dict[str, pr.Prior]] = {
    "none": {"theta": pr.Beta(0.5, 0.5)},
    "complete": {"theta": pr.Beta(0.5, 0.5)},
    "partial": {"alpha": pr.HalfNormal(10.0), "beta": pr.HalfNormal(10.0)},
}

#: BDA3's priors (§5.5): flat on the effects' mean, uniform on their spread.
NORMAL_DEFAULT_PRIORS: dict[str, dict[str, pr.Prior]] = {
    "none": {"theta": pr.Flat()},
    "complete": {"theta": pr.Flat()},
    "partial": {"mu": pr.Flat(), "tau": pr.HalfFlat()},
}

#: Weakly-informative priors on the logit scale (see the module docstring).
LOGIT_DEFAULT_PRIORS: dict[str, pr.Prior] = {"mu": pr.Normal(0.0, 1.5), "sigma": pr.HalfNormal(1.0)}

#: Jeffreys' prior on each rate; the BUGS Pumps example's hyperpriors.
GAMMA_DEFAULT_PRIORS: dict[str, dict[str, pr.Prior]] = {
    "none": {"theta": pr.Gamma(0.5, 0.0)},
    "complete": {"theta": pr.Gamma(0.5, 0.0)},
    "partial": {"alpha": pr.Exponential(1.0), "beta": pr.Gamma(0.1, 1.0)},
}

_VALID = {
    "none": ("theta",),
    "complete": ("theta",),
    "partial": ("alpha", "beta", "mu", "kappa", "alpha,beta"),
}

_NORMAL_VALID = {"none": ("theta",), "complete": ("theta",), "partial": ("mu", "tau")}

_LOGIT_VALID = {"none": ("theta",), "complete": ("theta",), "partial": ("mu", "sigma")}

_GAMMA_VALID = {"none": ("theta",), "complete": ("theta",), "partial": ("alpha", "beta", "mu")}


def valid_priors(pooling: str, family: str = registry.DEFAULT) -> tuple[str, ...]:
    """Names of the parameters that take a prior under ``pooling`` in ``family``."""
    per_family = {"normal-normal": _NORMAL_VALID, "logit-normal": _LOGIT_VALID, "gamma-poisson": _GAMMA_VALID}
    return per_family.get(family, _VALID)[pooling]


PriorSpec = Mapping[str, "str | pr.Prior | pr.JointPrior"]


@dataclass(frozen=True)
class Model:
    """A fully specified model: family, pooling and priors.

    Attributes
    ----------
    pooling : {"none", "complete", "partial"}
    priors : dict
        Name -> prior, complete (defaults filled in).
    family : {"beta-binomial", "normal-normal", "logit-normal", "gamma-poisson"}
    """

    pooling: str
    priors: dict
    family: str = registry.DEFAULT

    @property
    def title(self) -> str:
        """Short human name, as in the seed analysis."""
        return {
            "none": "no pooling",
            "complete": "complete pooling",
            "partial": "partial pooling (hierarchical)",
        }[self.pooling]

    def equations(self) -> list[str]:
        """Write the model out, one line per statement."""
        if self.family == "normal-normal":
            return self._normal_equations()
        if self.family == "gamma-poisson":
            return self._gamma_equations()
        if self.family == "logit-normal" and self.pooling == "partial":
            return [
                "y_i ~ Binomial(n_i, theta_i)",
                "logit(theta_i) ~ Normal(mu, sigma^2)",
                f"mu ~ {self.priors['mu']}",
                f"sigma ~ {self.priors['sigma']}",
            ]
        if self.pooling == "none":
            return [
                "y_i ~ Binomial(n_i, theta_i)",
                f"theta_i ~ {self.priors['theta']}  (independently)",
            ]
        if self.pooling == "complete":
            return ["y_i ~ Binomial(n_i, theta)", f"theta ~ {self.priors['theta']}"]
        lines = ["y_i ~ Binomial(n_i, theta_i)", "theta_i ~ Beta(alpha, beta)"]
        if "alpha,beta" in self.priors:
            joint = self.priors["alpha,beta"]
            lines.append(
                f"p(alpha, beta) = {joint}: {joint.formula}" if joint.formula else f"p(alpha, beta) = {joint}"
            )
        elif "mu" in self.priors:
            lines += [
                f"mu = alpha / (alpha + beta) ~ {self.priors['mu']}",
                f"kappa = alpha + beta ~ {self.priors['kappa']}",
            ]
        else:
            lines += [f"alpha ~ {self.priors['alpha']}", f"beta ~ {self.priors['beta']}"]
        return lines

    def _gamma_equations(self) -> list[str]:
        if self.pooling == "none":
            return ["y_i ~ Poisson(E_i theta_i)", f"theta_i ~ {self.priors['theta']}  (independently)"]
        if self.pooling == "complete":
            return ["y_i ~ Poisson(E_i theta)", f"theta ~ {self.priors['theta']}"]
        lines = ["y_i ~ Poisson(E_i theta_i)", "theta_i ~ Gamma(alpha, beta)"]
        if "mu" in self.priors:
            return [*lines, f"mu = alpha / beta ~ {self.priors['mu']}", f"alpha ~ {self.priors['alpha']}"]
        return [*lines, f"alpha ~ {self.priors['alpha']}", f"beta ~ {self.priors['beta']}"]

    def _normal_equations(self) -> list[str]:
        if self.pooling == "none":
            return ["y_i ~ Normal(theta_i, s_i^2)", f"theta_i ~ {self.priors['theta']}  (independently)"]
        if self.pooling == "complete":
            return ["y_i ~ Normal(theta, s_i^2)", f"theta ~ {self.priors['theta']}"]
        return [
            "y_i ~ Normal(theta_i, s_i^2)",
            "theta_i ~ Normal(mu, tau^2)",
            f"mu ~ {self.priors['mu']}",
            f"tau ~ {self.priors['tau']}",
        ]


def _normalise_key(key: str) -> str:
    return ",".join(part.strip() for part in str(key).split(","))


def resolve_priors(
    pooling: str, priors: PriorSpec | None, *, strict: bool = True, family: str = registry.DEFAULT
) -> dict:
    """Complete a user's prior specification for one pooling, with the defaults.

    Parameters
    ----------
    pooling : {"none", "complete", "partial"}
    priors : mapping, optional
        Parameter name -> prior object or text (``"HalfNormal(10)"``).
    strict : bool
        Reject names that do not belong to this pooling (``fit``); ``fit_all`` passes False and
        checks that every name belongs to some pooling.
    family : {"beta-binomial", "normal-normal", "logit-normal", "gamma-poisson"}

    Raises
    ------
    poolwise.priors.PriorError
        Unknown parameter, incompatible combination, or a prior outside the parameter's range.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)} or 'all', got {pooling!r}")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    if family == "normal-normal":
        given = {_normalise_key(k): _parse_normal(_normalise_key(k), v) for k, v in (priors or {}).items()}
    else:
        given = {_normalise_key(k): pr.parse(v) for k, v in (priors or {}).items()}
    valid = valid_priors(pooling, family)
    unknown = [k for k in given if k not in valid]
    if unknown and strict:
        raise pr.PriorError(
            f"{pooling} pooling has no parameter {', '.join(map(repr, unknown))}; "
            f"its priors are: {', '.join(valid)}"
        )
    given = {k: v for k, v in given.items() if k in valid}
    if family == "normal-normal":
        return _normal_priors(pooling, given)
    if family == "logit-normal" and pooling == "partial":
        return _logit_priors(given)
    if family == "gamma-poisson":
        return _gamma_priors(pooling, given)
    if pooling != "partial":
        theta = given.get("theta", DEFAULT_PRIORS[pooling]["theta"])
        if not isinstance(theta, pr.Beta):
            raise pr.PriorError(
                f"the prior on theta must be a Beta (conjugate to the binomial), got {theta}; "
                "a uniform prior is Beta(1, 1)"
            )
        return {"theta": theta}
    return _partial_priors(given)


def _partial_priors(given: dict) -> dict:
    kinds = [k for k in ("alpha,beta", "mu", "kappa") if k in given]
    if "alpha,beta" in given:
        joint = given["alpha,beta"]
        if not isinstance(joint, pr.JointPrior):
            raise pr.PriorError(f"'alpha,beta' needs a joint prior such as BDA3(), got {joint}")
        marginals = {k: v for k, v in given.items() if k != "alpha,beta"}
        if not marginals:
            return given
        others = sorted(set(marginals) - {"alpha", "beta"})
        if others:
            raise pr.PriorError(
                f"a joint prior on 'alpha,beta' cannot be combined with {', '.join(map(repr, others))}: only "
                "with priors on both alpha and beta (their product is the prior)"
            )
        missing = sorted({"alpha", "beta"} - set(marginals))
        if missing:
            raise pr.PriorError(
                f"a joint prior on 'alpha,beta' cannot be combined with a prior on one of alpha and beta "
                f"alone: give both (their product is the prior); {missing[0]!r} is missing"
            )
        for name in ("alpha", "beta"):
            _check_positive(name, marginals[name])
        return {"alpha,beta": pr.Product(joint, marginals["alpha"], marginals["beta"])}
    if kinds:
        if {"alpha", "beta"} & set(given):
            raise pr.PriorError("give priors on (alpha, beta) or on (mu, kappa), not a mixture of both")
        if set(kinds) != {"mu", "kappa"}:
            missing = "kappa" if "mu" in given else "mu"
            raise pr.PriorError(f"priors on (mu, kappa) need both; {missing!r} is missing")
        mu, kappa = given["mu"], given["kappa"]
        if isinstance(mu, pr.JointPrior) or not (mu.bounds[0] >= 0 and mu.bounds[1] <= 1):
            raise pr.PriorError(f"the prior on mu must live on [0, 1] (Beta or Uniform), got {mu}")
        _check_positive("kappa", kappa)
        return {"mu": mu, "kappa": kappa}
    out = {**DEFAULT_PRIORS["partial"], **given}
    for name in ("alpha", "beta"):
        _check_positive(name, out[name])
    return out


def _parse_normal(name: str, spec) -> pr.Prior | pr.JointPrior:
    """Parse a prior of the normal-normal family: bare ``"uniform"`` on ``tau`` is BDA3's HalfFlat."""
    if name == "tau" and isinstance(spec, str) and spec.strip().lower() in ("uniform", "uniform()"):
        return pr.HalfFlat()
    return pr.parse(spec)


def _normal_priors(pooling: str, given: dict) -> dict:
    out = {**NORMAL_DEFAULT_PRIORS[pooling], **given}
    for name in ("theta", "mu"):
        if name in out and not isinstance(out[name], pr.Flat | pr.Normal):
            raise pr.PriorError(
                f"the prior on {name} must be Flat() or Normal(mu, sigma) (conjugate to the normal "
                f"likelihood), got {out[name]}"
            )
    if "tau" in out:
        _check_positive("tau", out["tau"])
    return out


def _logit_priors(given: dict) -> dict:
    out = {**LOGIT_DEFAULT_PRIORS, **given}
    mu = out["mu"]
    if isinstance(mu, pr.JointPrior) or mu.bounds != (-math.inf, math.inf):
        raise pr.PriorError(
            f"the prior on mu (the mean of logit theta) must live on the whole real line, e.g. "
            f"Normal(0, 1.5) or Flat(), got {mu}"
        )
    _check_positive("sigma", out["sigma"])
    return out


def _gamma_priors(pooling: str, given: dict) -> dict:
    if pooling != "partial":
        theta = given.get("theta", GAMMA_DEFAULT_PRIORS[pooling]["theta"])
        if not isinstance(theta, pr.Gamma):
            raise pr.PriorError(
                f"the prior on theta must be a Gamma (conjugate to the Poisson), got {theta}; "
                "Jeffreys' prior is Gamma(0.5, 0), a flat one Gamma(1, 0)"
            )
        return {"theta": theta}
    if "mu" in given:
        if "beta" in given:
            raise pr.PriorError("give priors on (alpha, beta) or on (mu, alpha), not on mu and beta")
        out = {"mu": given["mu"], "alpha": given.get("alpha", GAMMA_DEFAULT_PRIORS["partial"]["alpha"])}
    else:
        out = {**GAMMA_DEFAULT_PRIORS["partial"], **given}
    for name, prior in out.items():
        _check_positive(name, prior)
    return out


def _check_positive(name: str, prior) -> None:
    if isinstance(prior, pr.JointPrior) or prior.bounds[0] < 0:
        raise pr.PriorError(f"{name} must be positive; its prior must live on [0, inf), got {prior}")


def build(
    pooling: str | list[str] | tuple[str, ...],
    priors: PriorSpec | None = None,
    family: str = registry.DEFAULT,
) -> list[Model]:
    """Models for one pooling, a list of them, or ``"all"``, with the priors distributed by name."""
    poolings = (
        list(POOLINGS) if pooling == "all" else [pooling] if isinstance(pooling, str) else list(pooling)
    )
    for p in poolings:
        if p not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)} or 'all', got {p!r}")
    if len(poolings) > 1 and priors:
        everything = {k for p in poolings for k in valid_priors(p, family)}
        unknown = [k for k in map(_normalise_key, priors) if k not in everything]
        if unknown:
            raise pr.PriorError(
                f"no model has a parameter {', '.join(map(repr, unknown))}; "
                f"priors can be given on: {', '.join(sorted(everything))}"
            )
    strict = len(poolings) == 1
    return [Model(p, resolve_priors(p, priors, strict=strict, family=family), family) for p in poolings]
