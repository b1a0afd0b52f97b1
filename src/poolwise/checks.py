"""Do the models fit? Posterior predictive checks with statistics that matter for grouped data.

For each statistic ``T``, the replicated data ``y_rep`` (``posterior_predictive`` in the fit's
DataTree, one binomial draw per group per posterior draw, or one normal draw
``y_rep ~ N(theta_i, s_i^2)`` for estimates) give the distribution of ``T(y_rep)``, and the
posterior predictive p-value ``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2`` (the mid-p value, so that
discrete statistics such as counts of groups are not biased towards 1). Values near 0 or 1 say the
model does not reproduce that feature of the data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .fitting import Fit


def _rates(y: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, y / np.maximum(n, 1), np.nan)


#: The statistics: name -> (description, function of (y, n) with y of shape (..., groups)).
STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "all_successes": ("groups with every trial a success", lambda y, n: np.sum((y == n) & (n > 0), axis=-1)),
    "no_successes": ("groups with no success", lambda y, n: np.sum((y == 0) & (n > 0), axis=-1)),
    "sd_rate": ("spread (sd) of the groups' rates y/n", lambda y, n: np.nanstd(_rates(y, n), axis=-1)),
    "min_rate": ("lowest rate y/n", lambda y, n: np.nanmin(_rates(y, n), axis=-1)),
    "max_rate": ("highest rate y/n", lambda y, n: np.nanmax(_rates(y, n), axis=-1)),
}


#: The statistics of estimates ``y`` with standard errors ``s`` (the normal-normal family), as
#: name -> (description, function of (y, s)). The count of ``|y/s| > 1.96`` is the number of studies
#: "significant" on their own at the two-sided 5% level: a model whose groups vary too little, or too
#: much, misses it.
NORMAL_STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "sd_estimate": ("spread (sd) of the estimates", lambda y, s: np.std(y, axis=-1)),
    "min_estimate": ("lowest estimate", lambda y, s: np.min(y, axis=-1)),
    "max_estimate": ("highest estimate", lambda y, s: np.max(y, axis=-1)),
    "significant": ("estimates with |y/s| > 1.96", lambda y, s: np.sum(np.abs(y / s) > 1.96, axis=-1)),
}

#: Statistics that count groups (discrete: the figures bin them by whole numbers).
COUNTS = frozenset({"all_successes", "no_successes", "significant"})


def statistics_for(fit: Fit) -> dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]]:
    """Return the statistics that suit the fit's family: :data:`STATISTICS` or :data:`NORMAL_STATISTICS`."""
    return NORMAL_STATISTICS if fit.family == "normal-normal" else STATISTICS


def replicated(fit: Fit) -> dict[str, tuple[float, np.ndarray]]:
    """Each statistic's observed value and its values on the replicated data sets."""
    if fit.family == "normal-normal":
        y, spread = fit.data.estimate, fit.data.std_error
    else:
        y, spread = fit.data.successes, fit.data.trials
        if not np.any(spread > 0):
            raise ValueError("no group has any trials: there is nothing to check")
    y_rep = fit.idata["posterior_predictive"]["y"].values
    y_rep = y_rep.reshape(-1, y_rep.shape[-1])
    return {
        name: (float(statistic(y, spread)), statistic(y_rep, spread).astype(float))
        for name, (_, statistic) in statistics_for(fit).items()
    }


def p_value(observed: float, values: np.ndarray) -> float:
    """Mid-p posterior predictive p-value ``P(T_rep > T) + P(T_rep = T) / 2``."""
    return float(np.mean(values > observed) + 0.5 * np.mean(values == observed))


def ppc(fit: Fit) -> pd.DataFrame:
    """Posterior predictive checks of a fit.

    Returns
    -------
    pandas.DataFrame
        One row per statistic (:data:`STATISTICS` for counts, :data:`NORMAL_STATISTICS` for
        estimates): ``description``, ``observed``, ``mean_rep``, ``sd_rep``, the 3% and 97%
        quantiles of the replicated statistic, and ``p_value`` (mid-p). Groups with no trials are
        left out of the rate statistics.
    """
    described = statistics_for(fit)
    rows = {}
    for name, (observed, values) in replicated(fit).items():
        rows[name] = {
            "description": described[name][0],
            "observed": observed,
            "mean_rep": values.mean(),
            "sd_rep": values.std(),
            "rep_3%": np.quantile(values, 0.03),
            "rep_97%": np.quantile(values, 0.97),
            "p_value": p_value(observed, values),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("statistic")
