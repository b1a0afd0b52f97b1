"""How each family is shown to a reader: its data, its parameters and their meaning, in one place.

The text output, the JSON, the findings and the report say the same things about every family
(what a group's data are, what ``theta`` means, which hyperparameters to print and how a new group
follows from each pooling); they read them here instead of branching on the family's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
