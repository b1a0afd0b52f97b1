"""The families poolwise fits, each described once: what the layers above ask instead of its name.

A :class:`Family` gathers the facts about one family that used to live in per-family tables across
the code (the scale of ``theta``, the group table's data columns, the names its DataTree reserves,
how its densities are smoothed, what a reader is told): the layers above ``families/`` look a
family up here (:func:`get`) and read its fields rather than comparing its name.
:data:`REGISTRY` is the one list of families; the command line's ``--family`` choices and
:func:`poolwise.fit`'s check come from it. :data:`KINDS` says how each kind of data is read and which
family it calls for, :data:`DEFAULT` which family binomial counts get when ``family=`` does not say.
A new family is a module of its maths, its PyMC twin (:mod:`poolwise.families.twins`) and one entry
here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from ..data import BinomialData, EstimateData, RateData, binomial_data, estimate_data, rate_data
from . import beta_binomial, gamma_poisson, logit_normal, normal_normal, twins
from .display import FAMILIES as DISPLAYS
from .display import FamilyDisplay
from .likelihoods import Binomial, Likelihood, Normal, Poisson


@dataclass(frozen=True)
class Family:
    """One family of models: the population of ``theta`` and the likelihood of a group's data.

    Attributes
    ----------
    name : str
        The name users give (``family="logit-normal"``, ``--family logit-normal``).
    data : {"binomial", "estimates", "rates"}
        The kind of data a group has: successes of trials, an estimate with its standard error,
        events in an exposure (:mod:`poolwise.data` validates each).
    maths : module
        The family's maths: likelihood, priors on the unconstrained scale, group posteriors.
    likelihood : Likelihood
        ``p(y_i | theta_i)``: the observed columns, pointwise log-likelihoods, replicates.
    theta_scale : {"probability", "effect", "rate"}
        What ``theta`` is, which sets the figures' axes: a probability (on [0, 1]), an effect on the
        estimates' own scale (unbounded) or a rate per unit of exposure (from 0, log axes when the
        rates span decades).
    raw : str
        The observed value a group's posterior mean moves from (``raw_rate``, ``estimate``).
    reserved : frozenset of str
        Variable names of this family's DataTree besides the ones all families share: a group
        column so named is called ``group`` instead.
    grid_axes : tuple of (str, str)
        The exact engine's 2-D grid coordinates as ``(hyperparameter, transform)``, the transform
        ``"logit"`` or ``"log"``; empty when the family's grid is not over two of its reported
        hyperparameters.
    kde : tuple of (dict, str)
        Where a kernel density of draws is made: ``(scale per parameter, default)``, a scale
        ``"logit"``, ``"log"``, ``"linear"`` or ``"reflect"`` (reflected at 0).
    roles : tuple of (str, str)
        A group's data as ``(count, size)`` columns: ``("successes", "trials")``,
        ``("events", "exposure")``, ``("estimate", "std_error")``. The predictive questions speak
        of a "size" (trials, exposure, standard error) and a "count" whatever the family calls them.
    spread : str
        The hyperparameter that measures how much the groups differ (``kappa``, ``tau``, ``sigma``,
        ``alpha``); large ``kappa`` and ``alpha`` mean little spread, large ``tau`` and ``sigma`` much.
    conjugate : str or None
        The distribution of a group's ``theta`` given the hyperparameters and its data ("Beta",
        "Normal", "Gamma"), or None where there is none (logit-normal: quadrature instead).
    links : dict
        The unconstrained scale of ``theta``, ``theta_new`` and ``mu`` (``"logit"``, ``"log"`` or
        ``"identity"``): where NUTS samples them and where their draws are compared.
    exact : {"exact", "exact_normal", "exact_logit"}
        The module of :mod:`poolwise.engines` that fits partial pooling exactly: ``exact`` takes the
        family's maths as a parameter (a grid over two hyperparameters), the others are the
        family's own (a line over ``tau``; a grid over ``(mu, sigma)`` with quadrature per group).
    twin : callable
        The model written in PyMC, ``twin(pm, model, data, dim, parametrization, predictive)``
        (:mod:`poolwise.families.twins`), which the NUTS engine samples.
    non_centred : str or None
        How NUTS always samples partial pooling when the family takes no ``parametrization=``
        (``"theta = mu + tau * eta"``); None when it reads one (``"centered"`` or ``"marginal"``).
    pooled_by : str or None
        The family whose conjugate closed forms fit no and complete pooling, when not this one's
        own: the logit-normal family's are the beta-binomial's (the same ``Beta(1/2, 1/2)`` on each
        rate); see :meth:`for_pooling`.
    fine : frozenset of str
        Exact densities drawn finer than the engine tabulates them (lines spanning decades).
    """

    name: str
    data: str
    maths: ModuleType
    likelihood: Likelihood
    theta_scale: str
    raw: str
    reserved: frozenset[str]
    grid_axes: tuple[tuple[str, str], ...]
    kde: tuple[dict[str, str], str]
    roles: tuple[str, str]
    spread: str
    conjugate: str | None
    links: dict[str, str]
    exact: str
    twin: Callable
    non_centred: str | None = None
    pooled_by: str | None = None
    fine: frozenset[str] = frozenset()

    @property
    def display(self) -> FamilyDisplay:
        """What a reader is told about the family (:mod:`poolwise.families.display`)."""
        return DISPLAYS[self.name]

    @property
    def observed(self) -> tuple[str, ...]:
        """A group's own data in the group and shrinkage tables (the display's columns)."""
        return tuple(column for column, _, _ in self.display.observed)

    @property
    def binomial(self) -> bool:
        """Whether a group's data are successes of trials."""
        return self.data == "binomial"

    @property
    def kind(self) -> DataKind:
        """The kind of data the family fits (:data:`KINDS`)."""
        return KINDS[self.data]

    @property
    def columns(self) -> tuple[str, ...]:
        """The keyword arguments of :func:`poolwise.fit` that name a group's data columns."""
        return (*self.roles, *self.kind.alternatives)

    def for_pooling(self, pooling: str) -> Family:
        """Return the family whose maths fit ``pooling`` (this one, or :attr:`pooled_by`'s)."""
        return REGISTRY[self.pooled_by] if self.pooled_by and pooling != "partial" else self


@dataclass(frozen=True)
class DataKind:
    """One kind of data a group has (:attr:`Family.data`), and how a table of it is read.

    Attributes
    ----------
    name : {"binomial", "estimates", "rates"}
        As :attr:`Family.data` names it.
    words : str
        What the data are, in words ("binomial counts").
    table : type
        The validated data (:class:`poolwise.data.BinomialData`, ...).
    read : callable
        The validator that makes one from a table (:func:`poolwise.data.binomial_data`, ...),
        taking the data columns by their roles' names.
    family : str
        The family the data call for when ``family=`` does not say.
    alternatives : tuple of str
        Keyword arguments that name a column in place of a role's (``variance`` for ``std_error``).
    required : tuple of str
        Roles whose column has no default name and must be given (``estimate``).
    """

    name: str
    words: str
    table: type
    read: Callable
    family: str
    alternatives: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


_FAMILIES = (
    Family(
        name="beta-binomial",
        data="binomial",
        maths=beta_binomial,
        likelihood=Binomial(),
        theta_scale="probability",
        raw="raw_rate",
        reserved=frozenset(),
        grid_axes=(("mu", "logit"), ("kappa", "log")),
        kde=({"theta": "logit", "theta_new": "logit", "mu": "logit"}, "log"),
        roles=("successes", "trials"),
        spread="kappa",
        conjugate="Beta",
        links={"theta": "logit", "theta_new": "logit", "mu": "logit"},
        exact="exact",
        twin=twins.beta_binomial,
    ),
    Family(
        name="normal-normal",
        data="estimates",
        maths=normal_normal,
        likelihood=Normal(),
        theta_scale="effect",
        raw="estimate",
        reserved=frozenset({"tau", "sigma"}),
        grid_axes=(),
        kde=({"tau": "reflect"}, "linear"),
        roles=("estimate", "std_error"),
        spread="tau",
        conjugate="Normal",
        links={"theta": "identity", "theta_new": "identity", "mu": "identity"},
        exact="exact_normal",
        twin=twins.normal_normal,
        non_centred="theta = mu + tau * eta",
    ),
    Family(
        name="logit-normal",
        data="binomial",
        maths=logit_normal,
        likelihood=Binomial(),
        theta_scale="probability",
        raw="raw_rate",
        reserved=frozenset({"sigma"}),
        grid_axes=(),
        kde=({"theta": "logit", "theta_new": "logit", "mu": "linear", "sigma": "reflect"}, "log"),
        roles=("successes", "trials"),
        spread="sigma",
        conjugate=None,
        links={"theta": "logit", "theta_new": "logit", "mu": "identity"},
        exact="exact_logit",
        twin=twins.logit_normal,
        non_centred="logit theta = mu + sigma * eta",
        pooled_by="beta-binomial",
    ),
    Family(
        name="gamma-poisson",
        data="rates",
        maths=gamma_poisson,
        likelihood=Poisson(),
        theta_scale="rate",
        raw="raw_rate",
        reserved=frozenset({"exposure"}),
        grid_axes=(("mu", "log"), ("alpha", "log")),
        kde=({}, "log"),
        roles=("events", "exposure"),
        spread="alpha",
        conjugate="Gamma",
        links={"theta": "log", "theta_new": "log", "mu": "log"},
        exact="exact",
        twin=twins.gamma_poisson,
        # the population's lines span decades (mu's heavy tail reaches 1e3 and more) and a new
        # group's rate mixture runs from 1e-69 to 1e5, so the engine's nodes are 15-30% apart
        fine=frozenset({"mu", "alpha", "beta", "theta_new"}),
    ),
)

#: Every family, by name, in the order the documentation lists them.
REGISTRY: dict[str, Family] = {f.name: f for f in _FAMILIES}

#: The family of binomial counts when ``family=`` does not say: the seed analysis's Beta population.
DEFAULT = "beta-binomial"

#: Every kind of data, by :attr:`Family.data`.
KINDS: dict[str, DataKind] = {
    kind.name: kind
    for kind in (
        DataKind("binomial", "binomial counts", BinomialData, binomial_data, DEFAULT),
        DataKind(
            "estimates",
            "estimates with standard errors",
            EstimateData,
            estimate_data,
            "normal-normal",
            alternatives=("variance",),
            required=("estimate",),
        ),
        DataKind("rates", "event counts with exposure", RateData, rate_data, "gamma-poisson"),
    )
}


def names() -> tuple[str, ...]:
    """Return the names of every family, as users write them."""
    return tuple(REGISTRY)


def get(name: str) -> Family:
    """Return the family called ``name``.

    Parameters
    ----------
    name : str
        A family's name (see :func:`names`).

    Returns
    -------
    Family

    Raises
    ------
    ValueError
        For a name no family has, listing the ones there are.
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"family must be one of {', '.join(map(repr, REGISTRY))}, got {name!r}") from None
