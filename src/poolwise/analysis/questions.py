r"""Questions users ask of a fit: is a group above a threshold, who is best, in what order.

- :func:`prob_above` is exact: ``P(theta_i > t | y) = 1 - F_i(t)`` from each group's posterior.
- :func:`threshold_test` adds posterior error probabilities and q-values for the call
  "theta_i is above (below) t" (the proportion test of ebbr, fully Bayesian), with the empirical-Bayes
  plug-in answer beside it (``alpha, beta`` fixed at their marginal maximum likelihood), which shows
  what the hyperparameters' uncertainty changes.
- :func:`ranks`, :func:`prob_best`, :func:`prob_top` and :func:`pairwise` are functions of the joint
  posterior of all groups, computed from the independent draws in ``fit.idata``; each comes with its
  Monte Carlo standard error ``sqrt(p (1 - p) / N)`` (exact for independent draws).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..families import beta_binomial, registry
from ..fitting.fit import Fit


def _theta_draws(fit: Fit) -> np.ndarray:
    """Draws of every group's theta, shape ``(N, groups)``."""
    theta = fit.idata["posterior"]["theta"].values
    n = theta.shape[0] * theta.shape[1]
    if theta.ndim == 2:  # complete pooling: one theta shared by all groups
        return np.repeat(theta.reshape(n, 1), fit.data.n_groups, axis=1)
    return theta.reshape(n, -1)


def _index(fit: Fit) -> pd.Index:
    return pd.Index(fit.data.groups, name=fit.data.group_column)


def without_data(fit: Fit) -> pd.Index:
    """Return the groups with no data (0 trials, 0 exposure): each one's posterior is a new group's.

    Estimates always carry data (a standard error above zero), so none of theirs is returned.
    """
    family = registry.get(fit.family)
    if family.display.amount is None:
        return _index(fit)[:0]
    size = np.asarray(getattr(fit.data, family.display.amount), dtype=float)
    return _index(fit)[size == 0]


def prob_above(fit: Fit, threshold: float) -> pd.Series:
    """Exact ``P(theta_i > threshold | y)`` for every group.

    Parameters
    ----------
    fit : Fit
    threshold : float
        A rate in ``[0, 1]`` (binomial counts), a rate ``>= 0`` in events per unit of exposure
        (gamma-Poisson), or any finite effect size (normal-normal).

    Returns
    -------
    pandas.Series
        Indexed by group.
    """
    theta_scale = registry.get(fit.family).theta_scale
    if theta_scale == "effect":
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    elif theta_scale == "rate":
        if not (np.isfinite(threshold) and threshold >= 0):
            raise ValueError(
                f"threshold must be a rate >= 0 (events per unit of exposure), got {threshold!r}"
            )
    elif not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a rate in [0, 1], got {threshold!r}")
    q = fit.posterior.quantities["theta"]
    rows = q.mean.size
    below = q.marginal.cdf(np.full((rows, 1), float(threshold)))[:, 0]
    index = np.zeros(fit.data.n_groups, int) if fit.pooling == "complete" else q.index
    return pd.Series(1.0 - below[index], index=_index(fit), name=f"P(theta > {threshold:g})")


def _q_values(pep: np.ndarray) -> np.ndarray:
    """q-value of each call: the mean posterior error probability of all calls at least as sure."""
    order = np.argsort(pep, kind="stable")
    running = np.cumsum(pep[order]) / np.arange(1, pep.size + 1)
    q = np.empty_like(pep)
    q[order] = running
    return q


def empirical_bayes(fit: Fit) -> tuple[float, float]:
    """Type-II maximum likelihood ``(alpha, beta)``: the plug-in of empirical Bayes (e.g. ebbr)."""
    # From the data, not the posterior: a sampling engine's posterior keeps no distinct pairs.
    u, v = beta_binomial.type2_ml(beta_binomial.Pairs.from_counts(fit.data.trials, fit.data.successes))
    alpha, beta = beta_binomial.alpha_beta(np.array(u), np.array(v))
    return float(alpha), float(beta)


def threshold_test(fit: Fit, threshold: float, *, direction: str = "above") -> pd.DataFrame:
    """Which groups can be called above (or below) ``threshold``, with error rates.

    Parameters
    ----------
    fit : Fit
        A partial-pooling fit (the plug-in column needs hyperparameters).
    threshold : float
        A rate in ``[0, 1]``.
    direction : {"above", "below"}

    Returns
    -------
    pandas.DataFrame
        Per group: ``prob`` (posterior probability of the call), ``pep`` (posterior error
        probability, ``1 - prob``), ``q_value`` (expected share of false calls among all calls at
        least as sure), and the empirical-Bayes plug-in ``prob_eb``, ``q_value_eb``. Its ``attrs``
        hold the ``threshold`` and ``direction``.
    """
    if direction not in ("above", "below"):
        raise ValueError(f"direction must be 'above' or 'below', got {direction!r}")
    above = prob_above(fit, threshold).to_numpy()
    prob = above if direction == "above" else 1.0 - above
    out = pd.DataFrame({"prob": prob, "pep": 1.0 - prob, "q_value": _q_values(1.0 - prob)}, index=_index(fit))
    # the plug-in is of a Beta population's (alpha, beta): a group's theta given them is a Beta
    if fit.pooling == "partial" and registry.get(fit.family).conjugate == "Beta":
        alpha, beta = empirical_bayes(fit)
        y, n = fit.data.successes, fit.data.trials
        eb_below = special.betainc(alpha + y, beta + (n - y), threshold)
        prob_eb = 1.0 - eb_below if direction == "above" else eb_below
        out["prob_eb"] = prob_eb
        out["q_value_eb"] = _q_values(1.0 - prob_eb)
    out.attrs.update(threshold=float(threshold), direction=direction)
    return out


def ranks(fit: Fit) -> pd.DataFrame:
    """Posterior distribution of each group's rank (1 = highest theta), from the draws.

    Returns
    -------
    pandas.DataFrame
        Groups by rank ``1 .. G``: ``P(rank_i = r)``; plus columns ``mean_rank`` and
        ``mean_rank_mcse``. Ties (complete pooling) share the best rank of their block.
    """
    theta = _theta_draws(fit)
    n, g = theta.shape
    # rank 1 = largest; argsort of argsort gives each group's position in every draw
    position = np.argsort(np.argsort(-theta, axis=1, kind="stable"), axis=1) + 1
    if fit.pooling == "complete":
        position = np.ones_like(position)
    probs = np.stack([np.bincount(position[:, j], minlength=g + 1)[1:] for j in range(g)]) / n
    table = pd.DataFrame(probs, index=_index(fit), columns=pd.RangeIndex(1, g + 1, name="rank"))
    table["mean_rank"] = position.mean(axis=0)
    table["mean_rank_mcse"] = position.std(axis=0) / np.sqrt(n)
    return table


def rank_table(fit: Fit, prob: float = 0.94, top: int = 3) -> pd.DataFrame:
    """Each group's rank summarised: mean rank, an equal-tailed rank interval, P(best), P(top k).

    Parameters
    ----------
    fit : Fit
    prob : float
        Probability inside the rank interval ``[rank_lb, rank_ub]``: the ranks at which the
        posterior rank distribution's CDF first reaches ``(1 - prob) / 2`` and ``(1 + prob) / 2``.
    top : int
        The ``k`` of ``P(top k)`` (clipped to the number of groups).

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by mean rank (1 = highest theta): ``mean_rank``, ``mean_rank_mcse``,
        ``rank_lb``, ``rank_ub``, ``prob_best`` with its ``prob_best_mcse``, and ``prob_top{k}``, all
        from the same draws.
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must be strictly between 0 and 1, got {prob!r}")
    table = ranks(fit)
    g = fit.data.n_groups
    k = max(1, min(int(top), g))
    dist = table[list(range(1, g + 1))].to_numpy()
    cdf = np.cumsum(dist, axis=1)
    # A small slack so that a CDF summing to 0.97 in floating point still counts as reaching 0.97.
    lower = np.argmax(cdf >= (1 - prob) / 2 - 1e-12, axis=1) + 1
    upper = np.argmax(cdf >= (1 + prob) / 2 - 1e-12, axis=1) + 1
    out = pd.DataFrame(
        {
            "mean_rank": table["mean_rank"],
            "mean_rank_mcse": table["mean_rank_mcse"],
            "rank_lb": lower,
            "rank_ub": upper,
            "prob_best": dist[:, 0],
            "prob_best_mcse": np.sqrt(dist[:, 0] * (1 - dist[:, 0]) / (fit.chains * fit.n_draws)),
            f"prob_top{k}": cdf[:, k - 1],
        },
        index=table.index,
    )
    return out.sort_values("mean_rank", kind="stable")


def prob_top(fit: Fit, k: int = 1) -> pd.DataFrame:
    """``P(group i is among the k highest)`` from the draws, with its Monte Carlo standard error.

    Under complete pooling every group shares one theta: all are tied, and each counts as in the top k.
    """
    g = fit.data.n_groups
    if not (isinstance(k, int | np.integer) and 1 <= k <= g):
        raise ValueError(f"k must be a whole number from 1 to the number of groups ({g}), got {k!r}")
    theta = _theta_draws(fit)
    n = theta.shape[0]
    if fit.pooling == "complete":
        p = np.full(g, 1.0)
    else:
        kth = np.partition(theta, g - k, axis=1)[:, g - k][:, None]
        p = (theta >= kth).mean(axis=0)
    return pd.DataFrame({"prob": p, "mcse": np.sqrt(p * (1 - p) / n)}, index=_index(fit))


def prob_best(fit: Fit) -> pd.DataFrame:
    """``P(group i has the highest theta)``, with its Monte Carlo standard error."""
    return prob_top(fit, 1)


def pairwise(fit: Fit) -> pd.DataFrame:
    """``P(theta_i > theta_j)`` for every ordered pair of groups (row i, column j), from the draws."""
    theta = _theta_draws(fit)
    g = theta.shape[1]
    p = np.empty((g, g))
    for i in range(g):  # one row at a time keeps memory at N * G
        p[i] = (theta[:, [i]] > theta).mean(axis=0)
    index = _index(fit)
    return pd.DataFrame(p, index=index, columns=index.rename(None))
