"""How much did the prior matter? Refit partial pooling under other hyperpriors and compare.

The exact engine refits in milliseconds, so the sensitivity analysis is a set of full refits, not an
approximation. The default alternatives are the seed's ``HalfNormal(10)`` on ``alpha`` and ``beta``,
the BDA3 prior ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)``, a narrower ``HalfNormal(1)`` and a wider
``HalfNormal(100)``, and a prior on the population instead (``mu ~ Beta(1, 1)``,
``kappa ~ Exponential(0.01)``). A summary that moves by more than :data:`SHIFT_WARNING` of its posterior
standard deviation across them is reported as prior-driven.

For estimates with standard errors (normal-normal) the alternatives concern ``tau``, on the scale of
the data's median standard error ``c``: BDA3's uniform on ``tau``, ``HalfCauchy(c)`` (Gelman 2006),
a narrower ``HalfNormal(c / 2)`` and a wider ``HalfNormal(10 c)``, with ``mu`` flat throughout.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import priors as pr
from .engines.exact import PoolwiseWarning
from .fitting import Fit, fit

#: Shift of a posterior mean, in posterior sds of the reference fit, above which it is prior-driven.
SHIFT_WARNING = 0.5

ALTERNATIVES: dict[str, dict] = {
    "HalfNormal(10) (seed)": {"alpha": pr.HalfNormal(10), "beta": pr.HalfNormal(10)},
    "BDA3": {"alpha,beta": pr.BDA3()},
    "HalfNormal(1) (narrower)": {"alpha": pr.HalfNormal(1), "beta": pr.HalfNormal(1)},
    "HalfNormal(100) (wider)": {"alpha": pr.HalfNormal(100), "beta": pr.HalfNormal(100)},
    "mu ~ Beta(1, 1), kappa ~ Exponential(0.01)": {"mu": pr.Beta(1, 1), "kappa": pr.Exponential(0.01)},
}


def normal_alternatives(std_error: np.ndarray) -> dict[str, dict]:
    """Hyperpriors on ``tau`` to refit a normal-normal model under, scaled by the median standard error."""
    c = float(np.median(std_error))
    return {
        "uniform on tau (BDA3)": {"mu": pr.Flat(), "tau": pr.HalfFlat()},
        f"HalfCauchy({c:.3g}) (Gelman 2006)": {"mu": pr.Flat(), "tau": pr.HalfCauchy(c)},
        f"HalfNormal({c / 2:.3g}) (narrower)": {"mu": pr.Flat(), "tau": pr.HalfNormal(c / 2)},
        f"HalfNormal({10 * c:.3g}) (wider)": {"mu": pr.Flat(), "tau": pr.HalfNormal(10 * c)},
    }


def prior_sensitivity(reference: Fit, alternatives: dict[str, dict] | None = None) -> pd.DataFrame:
    """Refit a partial-pooling fit under each alternative hyperprior and tabulate what moves.

    Parameters
    ----------
    reference : Fit
        A partial-pooling fit; its data are refitted.
    alternatives : dict, optional
        Label -> priors (as for :func:`poolwise.fit`); :data:`ALTERNATIVES` by default, or
        :func:`normal_alternatives` for estimates with standard errors.

    Returns
    -------
    pandas.DataFrame
        One row per prior: ``mu`` mean and interval bounds, ``kappa`` (``tau`` for estimates with
        standard errors) median and interval bounds,
        ``theta_new`` mean, ``max_shift`` (largest move of any group's or mu's mean, in the
        reference's posterior sds), ``prior_driven`` (max_shift > SHIFT_WARNING) and the engine's
        ``warnings`` for that prior. ``DataFrame.attrs["prior_driven"]`` is True when any row is.
    """
    if reference.pooling != "partial":
        raise ValueError("prior sensitivity concerns the hyperpriors: give a partial-pooling fit")
    ref = reference.summary()
    theta_rows = [r for r in ref.index if r.startswith("theta[")] + ["mu"]
    if alternatives is None:
        counts = reference.family == "beta-binomial"
        alternatives = ALTERNATIVES if counts else normal_alternatives(reference.data.std_error)
    spread = "kappa" if reference.family == "beta-binomial" else "tau"
    rows = {}
    for label, priors in alternatives.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PoolwiseWarning)
            alt = fit(reference.data, pooling="partial", priors=priors, random_seed=reference.random_seed)
        s = alt.summary()
        lb, ub = s.columns[2], s.columns[3]
        shift = np.abs(s.loc[theta_rows, "mean"] - ref.loc[theta_rows, "mean"]) / ref.loc[theta_rows, "sd"]
        median = alt._posterior.quantities[spread].marginal.ppf(np.array([[0.5]]))[0, 0]
        rows[label] = {
            "mu_mean": s.loc["mu", "mean"],
            "mu_lb": s.loc["mu", lb],
            "mu_ub": s.loc["mu", ub],
            f"{spread}_median": median,
            f"{spread}_lb": s.loc[spread, lb],
            f"{spread}_ub": s.loc[spread, ub],
            "theta_new_mean": alt.new_group().summary["mean"],
            "max_shift": float(shift.max()),
            "prior_driven": bool(shift.max() > SHIFT_WARNING),
            "warnings": "; ".join(str(w.message) for w in caught),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("prior")
    table.attrs["prior_driven"] = bool(table["prior_driven"].any())
    if table.attrs["prior_driven"]:
        moved = ", ".join(table.index[table["prior_driven"]])
        warnings.warn(
            f"prior-driven: with {reference.data.n_groups} groups, posterior means move by more than "
            f"{SHIFT_WARNING} posterior sd under other hyperpriors ({moved}); report the prior with the "
            "answer, or collect more groups",
            PoolwiseWarning,
            stacklevel=2,
        )
    return table
