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

For event counts in an exposure (gamma-Poisson) the rates are in events per unit of exposure, so a
prior with a scale (on ``beta`` or on the mean rate ``mu``) is set from the pooled rate ``r``; see
:func:`gamma_alternatives`. The mean of ``mu`` (and of ``theta_new``) may be infinite there (the BUGS
prior on ``beta`` leaves ``E[1 / beta]`` infinite), so the table gives their medians, and a move of
``mu`` is measured on ``log mu``.

For the logit-normal binomial (``logit theta_i ~ N(mu, sigma^2)``) the alternatives are the
weakly-informative priors other packages use on the logit scale; see :data:`LOGIT_ALTERNATIVES`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import priors as pr
from ..errors import PoolwiseWarning
from ..families import gamma_poisson
from ..families.models import resolve_priors
from ..fitting.fit import Fit, fit

#: Shift of a posterior mean, in posterior sds of the reference fit, above which it is prior-driven.
SHIFT_WARNING = 0.5

ALTERNATIVES: dict[str, dict] = {
    "HalfNormal(10) (seed)": {"alpha": pr.HalfNormal(10), "beta": pr.HalfNormal(10)},
    "BDA3": {"alpha,beta": pr.BDA3()},
    "HalfNormal(1) (narrower)": {"alpha": pr.HalfNormal(1), "beta": pr.HalfNormal(1)},
    "HalfNormal(100) (wider)": {"alpha": pr.HalfNormal(100), "beta": pr.HalfNormal(100)},
    "mu ~ Beta(1, 1), kappa ~ Exponential(0.01)": {"mu": pr.Beta(1, 1), "kappa": pr.Exponential(0.01)},
}


#: Logit-normal alternatives: the default (McElreath's intercept, a brms-style HalfNormal(1) on
#: sigma); rstanarm's decov for one varying intercept, Exponential(1); a heavier-tailed
#: HalfCauchy(1); a wider HalfNormal(2.5); and rstanarm's wider intercept prior Normal(0, 2.5).
LOGIT_ALTERNATIVES: dict[str, dict] = {
    "mu ~ Normal(0, 1.5), sigma ~ HalfNormal(1) (default)": {
        "mu": pr.Normal(0, 1.5),
        "sigma": pr.HalfNormal(1),
    },
    "sigma ~ Exponential(1) (rstanarm)": {"mu": pr.Normal(0, 1.5), "sigma": pr.Exponential(1)},
    "sigma ~ HalfCauchy(1) (heavier tail)": {"mu": pr.Normal(0, 1.5), "sigma": pr.HalfCauchy(1)},
    "sigma ~ HalfNormal(2.5) (wider)": {"mu": pr.Normal(0, 1.5), "sigma": pr.HalfNormal(2.5)},
    "mu ~ Normal(0, 2.5) (rstanarm's intercept)": {"mu": pr.Normal(0, 2.5), "sigma": pr.HalfNormal(1)},
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


def gamma_alternatives(exposure: np.ndarray, events: np.ndarray) -> dict[str, dict]:
    """Hyperpriors to refit a gamma-Poisson model under, scaled by the pooled rate ``r``.

    ``r`` is the events per unit of exposure over all groups (half an event when there are none),
    the centre of the engine's own search. The alternatives, and what each asks:

    - the BUGS Pumps priors, ``alpha ~ Exponential(1)``, ``beta ~ Gamma(0.1, 1)`` (the default,
      hence the usual reference: nothing moves);
    - the same prior on ``r * beta`` (``beta ~ Gamma(0.1, r)``): ``beta`` is in units of exposure per
      event, so ``Gamma(0.1, 1)`` means something else in hours than in thousands of hours; this is
      the BUGS prior in the units where the pooled rate is 1, and says whether the choice of units
      mattered;
    - ``mu ~ LogNormal(log r, 2)`` with ``alpha ~ Exponential(1)``: a prior on the population's
      mean rate instead of ``beta``, within a factor ``exp(1.96 * 2) = 50`` of the pooled rate
      either way (95%), as an analyst who knows the order of magnitude would state it;
    - the same ``mu`` with ``alpha ~ HalfCauchy(1)``: ``1 / alpha`` is the rates' squared
      coefficient of variation, and a half-Cauchy's heavy tail lets the data pull ``alpha`` up
      towards complete pooling, or down, where ``Exponential(1)`` favours ``alpha < 1`` (a
      coefficient of variation above 1);
    - the same ``mu`` with a flatter ``alpha ~ Exponential(0.1)`` (mean 10): nearly flat over the
      shapes the data can tell apart, so it says how much ``Exponential(1)``'s pull to small
      ``alpha``, i.e. to less pooling, did.

    ``alpha`` is scale-free (a shape) and needs no scaling.
    """
    r = gamma_poisson.pooled_rate(gamma_poisson.Pairs.from_counts(exposure, events))
    mu = pr.LogNormal(float(np.log(r)), 2.0)
    return {
        "BUGS: alpha ~ Exponential(1), beta ~ Gamma(0.1, 1)": {
            "alpha": pr.Exponential(1.0),
            "beta": pr.Gamma(0.1, 1.0),
        },
        f"BUGS in units of the pooled rate: beta ~ Gamma(0.1, {r:.3g})": {
            "alpha": pr.Exponential(1.0),
            "beta": pr.Gamma(0.1, r),
        },
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ Exponential(1)": {"mu": mu, "alpha": pr.Exponential(1.0)},
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ HalfCauchy(1)": {"mu": mu, "alpha": pr.HalfCauchy(1.0)},
        f"mu ~ LogNormal(log {r:.3g}, 2), alpha ~ Exponential(0.1) (flatter)": {
            "mu": mu,
            "alpha": pr.Exponential(0.1),
        },
    }


def _same_priors(reference: Fit, priors: dict) -> bool:
    """Whether ``priors`` (complete, as objects) are the reference fit's own."""
    try:
        resolved = resolve_priors("partial", priors, family=reference.family)
    except pr.PriorError:
        return False
    return resolved == reference.model.priors


def _log_mu_moments(post) -> tuple[float, float]:
    """Mean and sd of ``log mu`` over a gamma-Poisson grid, whose first coordinate is ``log mu``."""
    grid = post.grid
    w = grid.weights.sum(axis=1)
    mean = float(w @ grid.u)
    return mean, float(np.sqrt(max(w @ (grid.u - mean) ** 2, 0.0)))


def _median(q) -> float:
    """Median of a reported quantity's (single) entry."""
    rows = q.mean.size
    return float(q.marginal.ppf(np.full((rows, 1), 0.5))[q.index[0], 0])


def prior_sensitivity(reference: Fit, alternatives: dict[str, dict] | None = None) -> pd.DataFrame:
    """Refit a partial-pooling fit under each alternative hyperprior and tabulate what moves.

    Parameters
    ----------
    reference : Fit
        A partial-pooling fit; its data are refitted.
    alternatives : dict, optional
        Label -> priors (as for :func:`poolwise.fit`); :data:`ALTERNATIVES` by default,
        :func:`normal_alternatives` for estimates with standard errors, :func:`gamma_alternatives`
        for event counts in an exposure.

    Returns
    -------
    pandas.DataFrame
        One row per prior: ``mu`` mean and interval bounds, ``kappa`` (``tau`` for estimates with
        standard errors, ``alpha`` for rates) median and interval bounds,
        ``theta_new`` mean, ``max_shift`` (largest move of any group's or mu's mean, in the
        reference's posterior sds), ``prior_driven`` (max_shift > SHIFT_WARNING) and the engine's
        ``warnings`` for that prior. ``DataFrame.attrs["prior_driven"]`` is True when any row is.
        For rates, ``mu_median`` and ``theta_new_median`` replace the means (which may be
        infinite), a group's move counts only where its mean exists (it has exposure), and mu's is
        that of the mean of ``log mu``, in its posterior sds.
    """
    if reference.pooling != "partial":
        raise ValueError("prior sensitivity concerns the hyperpriors: give a partial-pooling fit")
    rates = reference.family == "gamma-poisson"
    if alternatives is None:
        if reference.family == "beta-binomial":
            alternatives = ALTERNATIVES
        elif reference.family == "logit-normal":
            alternatives = LOGIT_ALTERNATIVES
        elif rates:
            alternatives = gamma_alternatives(reference.data.exposure, reference.data.events)
        else:
            alternatives = normal_alternatives(reference.data.std_error)
    spread = {"beta-binomial": "kappa", "gamma-poisson": "alpha", "logit-normal": "sigma"}.get(
        reference.family, "tau"
    )
    ref = reference.summary()
    # Groups whose mean exists (a rate with no exposure has the mean of mu, which may not).
    theta = reference.posterior.quantities["theta"]
    exist = np.broadcast_to(theta.moments_exist, theta.mean.shape)[theta.index]
    theta_rows = [r for r in ref.index if r.startswith("theta[")]
    theta_rows = [r for r, ok in zip(theta_rows, exist, strict=True) if ok] + ([] if rates else ["mu"])
    ref_log_mu = _log_mu_moments(reference.posterior) if rates else None
    rows = {}
    for label, priors in alternatives.items():
        if reference.engine == "exact" and _same_priors(reference, priors):
            alt, notes = reference, list(reference.warnings)  # the reference itself: no refit needed
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", PoolwiseWarning)
                alt = fit(
                    reference.data,
                    pooling="partial",
                    priors=priors,
                    family=reference.family,
                    random_seed=reference.random_seed,
                )
            notes = [str(w.message) for w in caught]
        s = alt.summary()
        lb, ub = s.columns[2], s.columns[3]
        shift = np.abs(s.loc[theta_rows, "mean"] - ref.loc[theta_rows, "mean"]) / ref.loc[theta_rows, "sd"]
        shift = float(np.max(shift.to_numpy(), initial=0.0))
        quantities = alt.posterior.quantities
        if rates:
            # E[mu] and E[theta_new] = E[mu] may be infinite: medians, and mu's move on log mu.
            log_mu, _ = _log_mu_moments(alt.posterior)
            shift = max(shift, abs(log_mu - ref_log_mu[0]) / ref_log_mu[1])
            centre = {"mu_median": _median(quantities["mu"])}
            new = {"theta_new_median": _median(alt.posterior.new_group)}
        else:
            centre = {"mu_mean": s.loc["mu", "mean"]}
            new = {"theta_new_mean": alt.new_group().summary["mean"]}
        rows[label] = {
            **centre,
            "mu_lb": s.loc["mu", lb],
            "mu_ub": s.loc["mu", ub],
            f"{spread}_median": _median(quantities[spread]),
            f"{spread}_lb": s.loc[spread, lb],
            f"{spread}_ub": s.loc[spread, ub],
            **new,
            "max_shift": shift,
            "prior_driven": bool(shift > SHIFT_WARNING),
            "warnings": "; ".join(notes),
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
