"""Do the models fit? Posterior predictive checks with statistics that matter for grouped counts.

For each statistic ``T``, the replicated data ``y_rep`` (``posterior_predictive`` in the fit's
DataTree, one binomial draw per group per posterior draw) give the distribution of ``T(y_rep)``, and the
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


def replicated(fit: Fit) -> dict[str, tuple[float, np.ndarray]]:
    """Each statistic's observed value and its values on the replicated data sets."""
    y, n = fit.data.successes, fit.data.trials
    if not np.any(n > 0):
        raise ValueError("no group has any trials: there is nothing to check")
    y_rep = fit.idata["posterior_predictive"]["y"].values
    y_rep = y_rep.reshape(-1, y_rep.shape[-1])
    return {
        name: (float(statistic(y, n)), statistic(y_rep, n).astype(float))
        for name, (_, statistic) in STATISTICS.items()
    }


def p_value(observed: float, values: np.ndarray) -> float:
    """Mid-p posterior predictive p-value ``P(T_rep > T) + P(T_rep = T) / 2``."""
    return float(np.mean(values > observed) + 0.5 * np.mean(values == observed))


def ppc(fit: Fit) -> pd.DataFrame:
    """Posterior predictive checks of a fit.

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``description``, ``observed``, ``mean_rep``, ``sd_rep``, the 3% and
        97% quantiles of the replicated statistic, and ``p_value`` (mid-p). Groups with no trials are
        left out of the rate statistics.
    """
    rows = {}
    for name, (observed, values) in replicated(fit).items():
        rows[name] = {
            "description": STATISTICS[name][0],
            "observed": observed,
            "mean_rep": values.mean(),
            "sd_rep": values.std(),
            "rep_3%": np.quantile(values, 0.03),
            "rep_97%": np.quantile(values, 0.97),
            "p_value": p_value(observed, values),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("statistic")
