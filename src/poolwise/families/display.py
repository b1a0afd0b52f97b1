"""How each family is shown to a reader: its data, its parameters and their meaning, in one place.

The text output, the JSON, the findings, the figures and the report say the same things about every
family (what a group's data are, what ``theta`` means, which hyperparameters to print and how a new
group follows from each pooling, how its hyperparameters' axes and its exact grid are labelled, what
the report says of its population); they read them here instead of branching on the family's name.
What depends only on the kind of data (``Family.data``: the likelihood, a group's own numbers) the
presentation layer keys by that kind instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .logit_normal import SIGMA_SCALE

#: How a parameter is written for a reader (figures, the report).
SYMBOLS: dict[str, str] = {"mu": "μ", "kappa": "κ", "alpha": "α", "beta": "β", "tau": "τ", "sigma": "σ"}


@dataclass(frozen=True)
class GridLabels:
    """How the exact engine's 2-D grid is labelled (its diagnostics figure and the report's caption).

    Attributes
    ----------
    x, y : str
        The axis labels of the grid's two coordinates ``u`` and ``v``.
    u, v : str
        Their short names, for a legend ("logit μ", "log κ").
    words : str
        Both coordinates, as the report's caption names the grid ("(logit μ, log κ)").
    note : str
        What to add to the figure's key about the grid's edges, if anything.
    """

    x: str
    y: str
    u: str
    v: str
    words: str
    note: str = ""


@dataclass(frozen=True)
class ReportWords:
    """What the HTML report says about a family's population (HTML where it writes subscripts).

    Attributes
    ----------
    spread : str
        The spread parameter in words, ending a sentence ("concentration κ.").
    partial : str
        Partial pooling in a paragraph, ``{group}`` standing for what a group is called.
    shrinkage_weight : str
        The shrinkage factor B of a group as a formula.
    new_group : str
        How a new group's theta follows from partial pooling.
    meaning : dict
        Hyperparameter -> what it is, in the table of hyperparameters.
    shrinkage_meaning : str
        What B is, after the formula.
    """

    spread: str
    partial: str
    shrinkage_weight: str
    new_group: str
    meaning: dict[str, str]
    shrinkage_meaning: str = (
        "the weight of the population mean μ in a group's estimate given the hyperparameters: 0 is "
        "its own data only (no pooling), 1 the population only (complete pooling)"
    )


@dataclass(frozen=True)
class FamilyDisplay:
    """What a reader is told about one family.

    Attributes
    ----------
    theta : str
        What ``theta_i`` is, in words ("success probability", "rate").
    hyperparameters : tuple of str
        Reported under partial pooling, in order.
    hyper_note : str
        What they mean, printed under their table.
    new_group_rule : dict
        Pooling -> how an unseen group's ``theta`` follows from it.
    observed : tuple of (str, str, str)
        The data columns of the group table as ``(column, text header, format)``, the format
        ``"int"`` or ``"number"``.
    amount : str or None
        The column that measures how much data a group has (trials, exposure), or None when
        precision is a standard error (larger is less).
    amount_words : tuple of (str, str)
        "it has the fewest trials", "with few trials to hold it there".
    counts : bool
        Whether the data are counts (successes, events), as the predictive questions need.
    hyper_axes : dict
        Hyperparameter -> ``(axis label, unit of its density)`` in the figures of its posterior;
        its keys are the hyperparameters those figures draw.
    joint_axes : tuple of (str, str)
        The axis labels of the joint posterior of ``mu`` and the spread.
    population_tex : str
        The population of the ``theta_i`` in the model diagram (matplotlib mathtext).
    traced : tuple of str
        The hyperparameters a sampler's diagnostics show under partial pooling.
    grid : GridLabels or None
        How the exact engine's 2-D grid is labelled; None where it integrates over a line instead.
    report : ReportWords
        What the HTML report says about the population.
    improper_new_group : str
        Why no pooling has no proper prediction when its prior on ``theta`` is improper.
    mean_may_be_infinite : bool
        Whether a new group's mean may not exist (so findings quote its interval, not its mean).
    """

    theta: str
    hyperparameters: tuple[str, ...]
    hyper_note: str
    new_group_rule: dict[str, str]
    observed: tuple[tuple[str, str, str], ...]
    amount: str | None
    amount_words: tuple[str, str]
    counts: bool
    hyper_axes: dict[str, tuple[str, str]]
    joint_axes: tuple[str, str]
    population_tex: str
    traced: tuple[str, ...]
    grid: GridLabels | None
    report: ReportWords
    improper_new_group: str = ""
    mean_may_be_infinite: bool = False


def _rule(partial: str) -> dict[str, str]:
    return {
        "none": "the prior, since no group informs another",
        "complete": "the shared theta",
        "partial": partial,
    }


_BINOMIAL_OBSERVED = (("successes", "y", "int"), ("trials", "n", "int"), ("raw_rate", "y/n", "number"))
_FEW_TRIALS = ("it has the fewest trials", "with few trials to hold it there")

FAMILIES: dict[str, FamilyDisplay] = {
    "beta-binomial": FamilyDisplay(
        theta="success probability",
        hyperparameters=("alpha", "beta", "mu", "kappa"),
        hyper_note="(mu = alpha/(alpha+beta), the population's mean rate; kappa = alpha+beta, its prior "
        "sample size)",
        new_group_rule=_rule("theta_new ~ Beta(alpha, beta)"),
        observed=_BINOMIAL_OBSERVED,
        amount="trials",
        amount_words=_FEW_TRIALS,
        counts=True,
        hyper_axes={
            "mu": ("μ = α/(α+β): population mean success probability", "per unit of μ"),
            "kappa": ("κ = α+β: population's prior sample size (trials)", "per trial of κ"),
            "alpha": ("α: prior successes of the population (trials)", "per trial of α"),
            "beta": ("β: prior failures of the population (trials)", "per trial of β"),
        },
        joint_axes=(
            "μ = α/(α+β): population mean success probability",
            "κ = α+β: prior sample size (trials, log scale)",
        ),
        population_tex=r"$\sim$ Beta($\alpha$, $\beta$)",
        traced=("mu", "kappa"),
        grid=GridLabels(
            "u = logit μ (grid axis; μ = population mean success probability)",
            "v = log κ (grid axis; κ = prior sample size in trials)",
            "logit μ",
            "log κ",
            "(logit μ, log κ)",
        ),
        report=ReportWords(
            spread="concentration κ.",
            partial="Each {group} has its own θ<sub>i</sub>, drawn from a common Beta(α, β) population "
            "whose mean μ = α/(α+β) and concentration κ = α+β are learned from the data. A group with "
            "few trials is pulled towards μ, one with many trials stays near its own rate. No pooling "
            "(κ → 0) and complete pooling (κ → ∞) are its limits.",
            shrinkage_weight="E[κ/(κ+n) | y]",
            new_group="θ<sub>new</sub> ∼ Beta(α, β), averaged over α, β",
            meaning={
                "alpha": "prior successes of the population",
                "beta": "prior failures of the population",
                "mu": "population mean success probability, α/(α+β)",
                "kappa": "prior sample size, α+β (trials)",
            },
        ),
    ),
    "logit-normal": FamilyDisplay(
        theta="success probability",
        hyperparameters=("mu", "sigma"),
        hyper_note="(mu, the population's mean log-odds; sigma, the standard deviation of the groups' "
        "log-odds)",
        new_group_rule=_rule("logit theta_new ~ N(mu, sigma^2)"),
        observed=_BINOMIAL_OBSERVED,
        amount="trials",
        amount_words=_FEW_TRIALS,
        counts=True,
        hyper_axes={
            "mu": ("μ: population mean log-odds", "per unit of μ"),
            "sigma": ("σ: population sd of the log-odds (between groups)", "per unit of σ"),
        },
        joint_axes=("μ: population mean log-odds", "σ: population sd of the log-odds (between groups)"),
        population_tex=r"logit $\sim$ N($\mu$, $\sigma^2$)",
        traced=("mu", "sigma"),
        grid=GridLabels(
            "u = μ (grid axis; μ = population mean log-odds)",
            f"v = asinh(σ / {SIGMA_SCALE:g}) (grid axis; σ = sd of the log-odds)",
            "μ",
            "asinh σ/c",
            "(μ, asinh(σ / c))",
            note="\n(σ = 0, the bottom edge, is a bound of σ: mass may lie there)",
        ),
        report=ReportWords(
            spread="spread σ of the log-odds.",
            partial="Each {group} has its own θ<sub>i</sub>, whose log-odds are drawn from a normal "
            "population with mean μ and standard deviation σ learned from the data (the model of lme4, "
            "brms and INLA). A {group} with few trials is pulled towards the population, one with many "
            "trials stays near its own rate. Complete pooling (σ = 0) is its limit.",
            # No conjugate posterior: B compares a group's posterior variance with its own data's.
            shrinkage_weight="1 − Var(θ<sub>i</sub> | y) / Var(θ<sub>i</sub> | y<sub>i</sub>)",
            shrinkage_meaning="the share of the group's own-data variance that pooling removed (about "
            "κ/(κ+n) for a Beta population): 0 is its own data only, 1 the population only",
            new_group="logit θ<sub>new</sub> ∼ N(μ, σ²), averaged over μ, σ",
            meaning={"mu": "population mean log-odds", "sigma": "standard deviation of the log-odds"},
        ),
    ),
    "normal-normal": FamilyDisplay(
        theta="true effect",
        hyperparameters=("mu", "tau"),
        hyper_note="(mu, the population's mean effect; tau, the standard deviation of the true effects "
        "between groups)",
        new_group_rule=_rule("theta_new ~ N(mu, tau^2)"),
        observed=(("estimate", "estimate", "number"), ("std_error", "s.e.", "number")),
        amount=None,
        amount_words=(
            "its standard error is the largest",
            "with too large a standard error to hold it there",
        ),
        counts=False,
        hyper_axes={
            "mu": ("μ: population mean effect", "per unit of μ"),
            "tau": ("τ: population sd of the effects (between groups)", "per unit of τ"),
        },
        joint_axes=("μ: population mean effect", "τ: population sd of the effects (between groups)"),
        population_tex=r"$\sim$ N($\mu$, $\tau^2$)",
        traced=("mu", "tau"),
        grid=None,
        report=ReportWords(
            spread="spread τ.",
            partial="Each {group} has its own true effect θ<sub>i</sub>, drawn from a normal population "
            "with mean μ and standard deviation τ learned from the data (a random-effects meta-analysis). "
            "An imprecise estimate is pulled towards μ, a precise one stays near itself. No pooling "
            "(τ → ∞) and complete pooling (τ = 0) are its limits.",
            shrinkage_weight="E[s²/(s²+τ²) | y]",
            new_group="θ<sub>new</sub> ∼ N(μ, τ²), averaged over μ, τ",
            meaning={"mu": "population mean effect", "tau": "standard deviation of the true effects"},
        ),
        improper_new_group="the flat prior on theta is improper",
    ),
    "gamma-poisson": FamilyDisplay(
        theta="rate",
        hyperparameters=("alpha", "beta", "mu"),
        hyper_note="(rates in events per unit of exposure; mu = alpha/beta, the population's mean rate, "
        "whose mean may not exist: read its interval; alpha, the shape: 1/sqrt(alpha) is the rates' "
        "coefficient of variation)",
        new_group_rule=_rule("theta_new ~ Gamma(alpha, beta)"),
        observed=(("events", "y", "int"), ("exposure", "E", "number"), ("raw_rate", "y/E", "number")),
        amount="exposure",
        amount_words=("it has the least exposure", "with little exposure to hold it there"),
        counts=True,
        hyper_axes={
            "mu": ("μ = α/β: population mean rate (events per unit exposure)", "per unit of μ"),
            "alpha": ("α: shape of the rates' population (their CV is 1/√α)", "per unit of α"),
            "beta": ("β: rate of the population's Gamma (per unit of exposure)", "per unit of β"),
        },
        # Shorter than the densities' labels: the shape's runs along the joint's (shorter) vertical axis.
        joint_axes=(
            "μ = α/β: population mean rate (events per unit exposure), log scale",
            "α: shape (the rates' CV is 1/√α), log scale",
        ),
        population_tex=r"$\sim$ Gamma($\alpha$, $\beta$)",
        traced=("mu", "alpha", "beta"),
        grid=GridLabels(
            "u = log μ (grid axis; μ = α/β = population mean rate)",
            "v = log α (grid axis; α = shape of the rates' population)",
            "log μ",
            "log α",
            "(log μ, log α)",
            note="\n(it reaches far along u: μ's tail is heavy, its mean may be infinite)",
        ),
        report=ReportWords(
            spread="shape α (the rates' coefficient of variation is 1/√α).",
            partial="Each {group} has its own rate θ<sub>i</sub>, drawn from a common Gamma(α, β) "
            "population whose mean μ = α/β and shape α are learned from the data (the BUGS Pumps model). "
            "A {group} with little exposure is pulled towards μ, one with much exposure stays near its "
            "own rate. No pooling (α → 0) and complete pooling (α → ∞) are its limits.",
            shrinkage_weight="E[β/(β+E) | y]",
            new_group="θ<sub>new</sub> ∼ Gamma(α, β), averaged over α, β",
            meaning={
                "alpha": "shape of the population's Gamma: 1/√α is the rates' coefficient of variation",
                "beta": "rate of the population's Gamma (in units of exposure): its prior exposure",
                "mu": "population mean rate, α/β (its mean may not exist: read the interval)",
            },
        ),
        improper_new_group="Jeffreys' prior Gamma(1/2, 0) on theta is improper",
        mean_may_be_infinite=True,
    ),
}


def display(family: str) -> FamilyDisplay:
    """Return what a reader is told about ``family``."""
    return FAMILIES[family]


def least_data(family: str, table) -> np.ndarray:
    """Per row of a group table, how little data the group has: larger means less."""
    shown = display(family)
    if shown.amount is None:
        return table["std_error"].to_numpy(float)
    return -table[shown.amount].to_numpy(float)
