"""Findings in plain words, generated from the fitted numbers and never beyond them.

Each finding is a sentence, the numbers it rests on, and the figure of the report that backs it, so
that a reader can check every claim. The wording follows the numbers: which pooling wins, and by how
much relative to its standard error, decides what is said.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._core.validation import check_ci
from ..analysis.comparison import Comparison, compare
from ..analysis.questions import prob_above
from ..analysis.shrinkage import shrinkage_table
from ..families import registry
from ..families.display import display, least_data
from ..fitting.fit import DRAWS_GROUP_LIMIT
from ..study.fits import FitSet
from .render import bounds, listed, printable

#: Differences in elpd within this many standard errors are called "not clearly different".
SE_MULTIPLE = 2.0


@dataclass(frozen=True)
class Finding:
    """One sentence, the numbers it states (name -> value), and the figure that shows it."""

    topic: str
    text: str
    numbers: dict = field(default_factory=dict)
    figure: str = ""


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _interval_name(lb: str) -> str:
    """Name an interval by its lower bound's column: ``"eti89_lb"`` -> ``"89% ETI"``."""
    label = lb.removesuffix("_lb")
    return f"{label[3:]}% {label[:3].upper()}"


def which_pooling(comparison: Comparison) -> Finding:
    """Which pooling the data support, by exact leave-one-group-out CV."""
    table = comparison.table
    best, second = table.index[0], table.index[1]
    diff, se = -float(table.loc[second, "elpd_diff"]), float(table.loc[second, "se_diff"])
    names = {"none": "no pooling", "complete": "complete pooling", "partial": "partial pooling"}
    if diff > SE_MULTIPLE * se:
        verdict = f"{names[best]} predicts a held-out group best"
        detail = (
            f"it beats {names[second]} by {_fmt(diff)} in expected log predictive density (se {_fmt(se)})"
        )
    else:
        verdict = f"{names[best]} and {names[second]} predict a held-out group about equally well"
        detail = (
            f"{names[best]} is ahead by {_fmt(diff)} in expected log predictive density, within "
            f"{SE_MULTIPLE:g} standard errors ({_fmt(se)})"
        )
    worst = table.index[-1]
    tail = ""
    if len(table) > 2:
        tail = f"; {names[worst]} is worst by {_fmt(-float(table.loc[worst, 'elpd_diff']))}"
    return Finding(
        "which pooling",
        f"Exact leave-one-group-out cross-validation: {verdict} — {detail}{tail}.",
        {"best": best, "second": second, "elpd_diff": diff, "se_diff": se},
        "comparison table",
    )


def shrunk_most(fits: FitSet) -> Finding:
    """Which group partial pooling moves furthest, and why."""
    table = shrinkage_table(fits)
    moved = np.abs(table["moved"].to_numpy(float))
    family = fits["partial"].family
    if np.all(np.isnan(moved)):  # no group has data (0 trials, 0 exposure): nothing to move from
        amount = display(family).amount
        return Finding(
            "shrinkage",
            f"No group has data (every group has 0 {amount}): every posterior is its prior, and "
            "pooling moves nothing.",
            {"group": None},
            "shrinkage table",
        )
    i = int(np.nanargmax(moved))
    row = table.iloc[i]
    name = printable(table.index[i])
    observed, what = ("raw_rate", "raw rate") if "raw_rate" in table else ("estimate", "estimate")
    little_data = least_data(family, table)
    least = little_data[i] == little_data.max() > little_data.min()
    few, little = display(family).amount_words
    if least:
        reason = f"{few} and its {what} is far from the population's"
    else:
        reason = f"its {what} is far from the population's, {little}"
    text = (
        f"Partial pooling moves {name} furthest: from its {what} {_fmt(row[observed])} to "
        f"{_fmt(row['partial_mean'])} (shrinkage factor {_fmt(row['shrinkage'])}), because {reason}."
    )
    return Finding(
        "shrinkage",
        text,
        {
            "group": table.index[i],
            observed: row[observed],
            "mean": row["partial_mean"],
            "B": row["shrinkage"],
        },
        "shrinkage plot",
    )


#: An ordering of two groups less probable than this is called one the data cannot make.
ORDER_CONFIDENCE = 0.8

#: Groups above which the pairwise orderings (G^2 pairs over every draw) are not examined.
PAIRWISE_LIMIT = 200


def indistinct(fits: FitSet) -> Finding:
    """Say which groups the data cannot put in order (under partial pooling, from the draws).

    Pairs of groups with identical data are left out: each is exactly as likely above the other as
    below it, which the data say before any fit, so a probability of 0.50 there is no finding. So
    are pairs with a group that has no data: its place is a new group's, not the data's.
    """
    from ..analysis.questions import pairwise, without_data

    fit = fits["partial"]
    table = pairwise(fit)
    p = table.to_numpy()
    names = table.index
    upper = np.triu_indices_from(p, k=1)
    observed = fit.group_table().loc[names, list(registry.get(fit.family).observed)].to_numpy(float)
    empty = names.isin(without_data(fit))
    trivial = np.all(observed[upper[0]] == observed[upper[1]], axis=1) | empty[upper[0]] | empty[upper[1]]
    upper = (upper[0][~trivial], upper[1][~trivial])
    left_out = ""
    if trivial.any():
        pairs = "pair" if trivial.sum() == 1 else "pairs"
        left_out = f" ({int(trivial.sum())} {pairs} left out: identical data, or a group with none)"
    sure = np.maximum(p[upper], 1 - p[upper])
    unsure = sure < ORDER_CONFIDENCE
    if not unsure.any():
        return Finding(
            "cannot tell apart",
            f"The data order every pair of groups with at least {ORDER_CONFIDENCE:.0%} probability"
            f"{left_out}.",
            {"pairs": 0, "left_out": int(trivial.sum())},
            "forest plot",
        )
    k = int(np.argmin(np.where(unsure, sure, np.inf)))
    i, j = upper[0][k], upper[1][k]
    a, b = (i, j) if p[i, j] >= 0.5 else (j, i)
    closest = f"{printable(names[a])} above {printable(names[b])} has probability {p[a, b]:.2f}"
    count = int(unsure.sum())
    total = unsure.size
    return Finding(
        "cannot tell apart",
        f"The data cannot put {count} of {total} pairs of groups in order with {ORDER_CONFIDENCE:.0%} "
        f"confidence{left_out}; the closest: {closest}.",
        {
            "pairs": count,
            "of": total,
            "left_out": int(trivial.sum()),
            "closest": (names[a], names[b]),
            "probability": float(p[a, b]),
        },
        "forest plot",
    )


def no_data(fits: FitSet, ci_kind: str | None = None, ci_prob: float | None = None) -> Finding | None:
    """Name the groups with no data (0 trials, 0 exposure), whose posterior is a new group's.

    Returns None when every group has data.
    """
    from ..analysis.questions import without_data

    fit = fits["partial"]
    empty = without_data(fit)
    if empty.empty:
        return None
    s = fit.new_group(ci_kind, ci_prob).summary
    lb, ub = s.index[2], s.index[3]
    shown = display(fit.family)
    words = ("has", "its", "it ranks", "it"), ("have", "each one's", "they rank", "them")
    has, its, rank, it = words[len(empty) > 1]
    prior = ", under no pooling the prior" if "none" in fits else ""
    return Finding(
        "no data",
        f"{listed(list(empty))} {has} no data (0 {shown.amount}): under partial pooling {its} "
        f"{shown.theta} is a new group's ({_interval_name(lb)} {' to '.join(bounds(s[lb], s[ub]))})"
        f'{prior}; where {rank} says nothing about {it}, so "who is best?" lists {it} last.',
        {"groups": list(empty)},
        "forest plot",
    )


def new_group(fits: FitSet, ci_kind: str | None = None, ci_prob: float | None = None) -> Finding:
    """Say what an unseen group is expected to do, under partial pooling."""
    fit = fits["partial"]
    s = fit.new_group(ci_kind, ci_prob).summary
    lb, ub = s.index[2], s.index[3]
    interval = _interval_name(lb)
    shown = display(fit.family)
    if shown.mean_may_be_infinite:
        # A heavy-tailed prediction's mean may not exist: quote what does, the interval and median.
        median = fit.new_group_median()
        return Finding(
            "new group",
            f"A new group's {shown.theta} lies between {' and '.join(bounds(s[lb], s[ub]))} under partial "
            f"pooling ({interval}), with median {_fmt(median)}.",
            {"median": median, "lb": s[lb], "ub": s[ub]},
            "new-group figure",
        )
    return Finding(
        "new group",
        f"A new group's {shown.theta} is expected to be {_fmt(s['mean'])} under partial pooling "
        f"({interval} {_fmt(s[lb])} to {_fmt(s[ub])}).",
        {"mean": s["mean"], "lb": s[lb], "ub": s[ub]},
        "new-group figure",
    )


def bet(
    fits: FitSet,
    group: str,
    threshold: float = 0.5,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
) -> Finding:
    """Answer the seed's question: would you bet on ``group``? P(theta > threshold) per pooling."""
    names = {"none": "no pooling", "complete": "complete pooling", "partial": "partial pooling"}
    probs, parts = {}, []
    for name, fit in fits.items():
        probs[name] = float(prob_above(fit, threshold).loc[group])
        row = fit.group_table(ci_kind, ci_prob).loc[group]
        lb, ub = row.index[-2], row.index[-1]
        interval = _interval_name(lb)
        parts.append(
            f"{probs[name]:.2f} under {names[name]} (theta {_fmt(row['mean'])}, {interval} "
            f"{_fmt(row[lb])} to {_fmt(row[ub])})"
        )
    return Finding(
        "bet",
        f"Would you bet that {printable(group)} succeeds more often than not? "
        f"P(theta > {threshold:g}) is {'; '.join(parts)}.",
        probs,
        "forest plot",
    )


def findings(
    fits: FitSet,
    comparison: Comparison | None = None,
    *,
    bet_on: str | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
) -> list[Finding]:
    """All findings for a set of fits (the comparison and the bet when given).

    ``ci_kind`` and ``ci_prob`` name the intervals the findings quote, as the tables' do.
    """
    out = []
    if comparison is not None and len(comparison.table) > 1:
        out.append(which_pooling(comparison))
    if "partial" in fits:
        out.append(shrunk_most(fits))
        empty = no_data(fits, ci_kind, ci_prob)
        if empty is not None:
            out.append(empty)
        if fits.data.n_groups <= PAIRWISE_LIMIT:
            out.append(indistinct(fits))
        out.append(new_group(fits, ci_kind, ci_prob))
    if bet_on is not None:
        out.append(bet(fits, bet_on, ci_kind=ci_kind, ci_prob=ci_prob))
    return out


@dataclass(frozen=True)
class Study:
    """The answers the CLI and the report show beside the fits, computed once.

    Attributes
    ----------
    comparison : Comparison or None
        When the exact engine fitted more than one pooling (PSIS-LOO only up to
        :data:`~poolwise.fitting.DRAWS_GROUP_LIMIT` groups).
    findings : list of Finding
    sensitivity : pandas.DataFrame or None
        Prior sensitivity of an exact partial-pooling fit.
    calls : pandas.DataFrame or None
        Threshold calls with q-values, when a threshold was given.
    ranks : pandas.DataFrame or None
        Rank summaries under partial pooling (:func:`poolwise.questions.rank_table`; up to
        DRAWS_GROUP_LIMIT groups).
    pairwise : pandas.DataFrame or None
        ``P(theta_i > theta_j)`` under partial pooling, up to :data:`PAIRWISE_LIMIT` groups.
    new_groups : pandas.DataFrame or None
        New groups with observed trials under every pooling, when some were given.
    heldout : pandas.DataFrame or None
        Held-out scores of every pooling, when later counts were given.
    counts : pandas.DataFrame or None
        A new group's successes in a chosen number of trials (events in a chosen exposure) under
        every pooling, when asked.
    no_data : tuple
        The groups with no data (0 trials, 0 exposure), listed last in ``ranks``.
    """

    comparison: Comparison | None = None
    findings: list = field(default_factory=list)
    sensitivity: object = None
    calls: object = None
    ranks: object = None
    pairwise: object = None
    new_groups: object = None
    heldout: object = None
    counts: object = None
    no_data: tuple = ()


def study(
    fits: FitSet,
    *,
    threshold: float | None = None,
    direction: str = "above",
    new_groups: list[tuple[int, int]] | None = None,
    heldout: tuple | None = None,
    new_trials: int | None = None,
    new_exposure: float | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
) -> Study:
    """Compare the poolings, ask the questions and state the findings for a set of fits.

    Parameters
    ----------
    fits : FitSet
    threshold, direction : optional
        Call groups above (below) this rate, with q-values (partial pooling).
    new_groups : list of (successes, trials), optional
        New groups that have shown these counts (events and exposures, for gamma-Poisson fits),
        predicted under every pooling.
    heldout : (successes, trials), optional
        Later counts for the same groups (events and exposures, for event counts), one per group in
        the data's order, to score every pooling.
    new_trials : int, optional
        Predict an unseen group's successes in this many trials under every pooling.
    new_exposure : float, optional
        Predict an unseen group's events in this exposure under every pooling (gamma-Poisson).
    ci_kind, ci_prob : optional
        Interval of the new groups' predictions and of the rank intervals (probability only).

    Notes
    -----
    The seed's question, "would you bet on Falcon 1?", is asked of the group with the fewest trials.
    What needs every group's draws is skipped above DRAWS_GROUP_LIMIT groups, the pairwise table above
    PAIRWISE_LIMIT.
    """
    from ..analysis.predict import counts_table, events_table, heldout_table, new_groups_table
    from ..analysis.questions import rank_table, without_data
    from ..analysis.sensitivity import prior_sensitivity

    _, prob = check_ci(ci_kind, ci_prob)
    data = fits.data
    few = data.n_groups <= DRAWS_GROUP_LIMIT
    family = next(iter(fits.values())).family
    kind = registry.get(family).data
    binomial = registry.get(family).binomial
    if kind == "estimates" and heldout is not None:
        raise ValueError("held-out counts are for binomial counts or events; these data are estimates")
    if not binomial and new_trials is not None:
        raise ValueError(f"predicted counts in trials are for binomial counts; this fit is {family}")
    if new_exposure is not None and kind != "rates":
        raise ValueError(f"a new group's events in an exposure are for event counts; this fit is {family}")
    if kind == "estimates" and new_groups:
        raise ValueError(
            "new groups with observed trials are for binomial counts or events; these data are estimates "
            "with standard errors"
        )
    bet_on = None
    if binomial:  # the seed's question: does it succeed more often than not?
        with_trials = np.flatnonzero(data.trials > 0)
        bet_on = data.groups[with_trials[np.argmin(data.trials[with_trials])]] if with_trials.size else None
    partial = fits.get("partial")
    sensitivity = calls = ranked = pairs = None
    empty = ()
    if partial is not None:
        empty = tuple(without_data(partial))
        if few:
            # A group with no data ranks where a new group would: listed last, not among the evidence.
            ranked = rank_table(partial, prob)
            last = ranked.index.isin(empty)
            ranked = pd.concat([ranked[~last], ranked[last]])
        if data.n_groups <= PAIRWISE_LIMIT:
            pairs = partial.pairwise()
        if partial.engine == "exact":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the verdict is shown; the refits' own notes are not
                sensitivity = prior_sensitivity(partial)
        if threshold is not None:
            calls = partial.threshold_test(threshold, direction=direction)
    comparison = None
    if len(fits) > 1 and all(f.engine == "exact" for f in fits.values()):
        comparison = compare(fits, psis=few)
    found = []
    if partial is not None:
        found = findings(fits, comparison, bet_on=bet_on, ci_kind=ci_kind, ci_prob=ci_prob)
    later = heldout_table(fits, *heldout) if heldout is not None else None
    new = new_groups_table(fits, new_groups, ci_kind, ci_prob) if new_groups else None
    predicted = counts_table(fits, new_trials, prob) if new_trials is not None else None
    if new_exposure is not None:
        predicted = events_table(fits, new_exposure, prob)
    return Study(comparison, found, sensitivity, calls, ranked, pairs, new, later, predicted, empty)
