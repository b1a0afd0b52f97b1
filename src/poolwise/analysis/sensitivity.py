"""How much did the prior matter? Refit partial pooling under other hyperpriors and compare.

The exact engine refits in milliseconds, so the sensitivity analysis is a set of full refits, not an
approximation. Each family says which hyperpriors to try (its ``prior_alternatives``): for binomial
counts with a Beta population the seed's ``HalfNormal(10)`` on ``alpha`` and ``beta``, the BDA3
prior, a narrower and a wider half-normal and a prior on the population instead
(:data:`ALTERNATIVES`); for estimates with standard errors priors on ``tau`` on the scale of the
median standard error (:func:`normal_alternatives`); for event counts in an exposure priors scaled
by the pooled rate (:func:`gamma_alternatives`); for the logit-normal binomial the
weakly-informative priors other packages use on the logit scale (:data:`LOGIT_ALTERNATIVES`). A
summary that moves by more than :data:`SHIFT_WARNING` of its posterior standard deviation across
them is reported as prior-driven.

Where a new group's mean may be infinite (a Gamma population of rates: the BUGS prior on ``beta``
leaves ``E[1 / beta]`` infinite) the table gives the medians of ``mu`` and ``theta_new``, and a move
of ``mu`` is measured on ``log mu``.

The table is wide (one row per prior) or long (:func:`prior_sensitivity`'s ``form="long"``: one row
per prior, parameter and statistic).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special

from .. import priors as pr
from .._core.validation import CI_PROB
from ..errors import PoolwiseWarning
from ..families import beta_binomial, gamma_poisson, logit_normal, normal_normal, registry
from ..families.models import resolve_priors
from ..fitting.fit import Fit, fit

#: Shift of a posterior mean, in posterior sds of the reference fit, above which it is prior-driven.
SHIFT_WARNING = 0.5

#: The beta-binomial family's alternatives (:data:`poolwise.families.beta_binomial.ALTERNATIVES`).
ALTERNATIVES = beta_binomial.ALTERNATIVES

#: The logit-normal family's (:data:`poolwise.families.logit_normal.ALTERNATIVES`).
LOGIT_ALTERNATIVES = logit_normal.ALTERNATIVES

#: The gamma-Poisson family's, scaled by the pooled rate of ``(exposure, events)``.
gamma_alternatives = gamma_poisson.prior_alternatives


def normal_alternatives(std_error: np.ndarray) -> dict[str, dict]:
    """Hyperpriors on ``tau`` to refit a normal-normal model under, scaled by the median standard error.

    Parameters
    ----------
    std_error : numpy.ndarray
        The studies' standard errors.

    Returns
    -------
    dict
        :func:`poolwise.families.normal_normal.prior_alternatives`.
    """
    return normal_normal.prior_alternatives(std_error, None)


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


def _largest_move(reference: Fit, ref: pd.DataFrame, alt: Fit, s: pd.DataFrame, rows: list[str]) -> float:
    """Return the largest move of the ``rows``' centres between two fits, in the reference's sds.

    A centre is the mean; where either fit's mean does not exist (NaN: BDA3's uniform prior on tau
    with 3 groups leaves mu without one), the median. A scale is the reference's sd; where it does
    not exist, the half-width of its interval over the normal's for the same probability (the
    summaries' default, :data:`~poolwise._core.validation.CI_PROB`).
    """
    if not rows:
        return 0.0
    ref_mean, alt_mean = ref.loc[rows, "mean"].to_numpy(float), s.loc[rows, "mean"].to_numpy(float)
    means = np.isfinite(ref_mean) & np.isfinite(alt_mean)
    centres = [np.where(means, m, _medians(f, rows)) for f, m in ((reference, ref_mean), (alt, alt_mean))]
    sd = ref.loc[rows, "sd"].to_numpy(float)
    lb, ub = ref.columns[2], ref.columns[3]
    half = (ref.loc[rows, ub].to_numpy(float) - ref.loc[rows, lb].to_numpy(float)) / 2
    scale = np.where(np.isfinite(sd), sd, half / special.ndtri(0.5 + CI_PROB / 2))
    return float(np.max(np.abs(centres[1] - centres[0]) / scale, initial=0.0))


def _medians(f: Fit, rows: list[str]) -> np.ndarray:
    """Medians of summary rows ``theta[<group>]`` and ``mu``, in their order."""
    quantities = f.posterior.quantities
    theta = quantities["theta"].quantile(0.5)
    where = {f"theta[{g}]": i for i, g in enumerate(f.data.groups)}
    return np.array([_median(quantities["mu"]) if r == "mu" else theta[where[r]] for r in rows])


def _median(q) -> float:
    """Median of a reported quantity's (single) entry."""
    rows = q.mean.size
    return float(q.marginal.ppf(np.full((rows, 1), 0.5))[q.index[0], 0])


def prior_sensitivity(
    reference: Fit, alternatives: dict[str, dict] | None = None, *, form: str = "wide"
) -> pd.DataFrame:
    """Refit a partial-pooling fit under each alternative hyperprior and tabulate what moves.

    Parameters
    ----------
    reference : Fit
        A partial-pooling fit; its data are refitted.
    alternatives : dict, optional
        Label -> priors (as for :func:`poolwise.fit`); the family's ``prior_alternatives`` by
        default (:data:`ALTERNATIVES`, :data:`LOGIT_ALTERNATIVES`, :func:`normal_alternatives`,
        :func:`gamma_alternatives`).
    form : {"wide", "long"}
        The table's shape (below).

    Returns
    -------
    pandas.DataFrame
        Wide (the default), one row per prior: ``mu`` mean and interval bounds, the family's
        spread (``kappa``; ``tau`` for estimates with standard errors, ``sigma`` for the
        logit-normal, ``alpha`` for rates) median and interval bounds, ``theta_new`` mean,
        ``max_shift`` (largest move of any group's or mu's mean, in the reference's posterior
        sds), ``prior_driven`` (max_shift > SHIFT_WARNING) and the engine's ``warnings`` for that
        prior. ``DataFrame.attrs["prior_driven"]`` is True when any row is. For rates,
        ``mu_median`` and ``theta_new_median`` replace the means (which may be infinite), a
        group's move counts only where its mean exists (it has exposure), and mu's is that of
        the mean of ``log mu``, in its posterior sds.

        Long: the same numbers, one row per ``prior``, ``parameter`` (``mu``, the spread,
        ``theta_new``) and ``statistic`` (``mean`` or ``median``, ``lb``, ``ub``), indexed by the
        three, in a column ``value``; its ``attrs`` hold ``prior_driven`` and, per prior,
        ``max_shift`` and ``warnings``.
    """
    if reference.pooling != "partial":
        raise ValueError("prior sensitivity concerns the hyperpriors: give a partial-pooling fit")
    if form not in ("wide", "long"):
        raise ValueError(f"form must be 'wide' or 'long', got {form!r}")
    family = registry.get(reference.family)
    # E[mu] and E[theta_new] may be infinite: medians, and mu's move on log mu (the grid's first axis)
    rates = family.display.mean_may_be_infinite
    if alternatives is None:
        count, size = (getattr(reference.data, role) for role in family.roles)
        alternatives = family.maths.prior_alternatives(size, count)
    spread = family.spread
    centre = "median" if rates else "mean"
    ref = reference.summary()
    # Groups whose mean exists (a rate with no exposure has the mean of mu, which may not).
    theta = reference.posterior.quantities["theta"]
    exist = np.broadcast_to(theta.moments_exist, theta.mean.shape)[theta.index]
    theta_rows = [r for r in ref.index if r.startswith("theta[")]
    theta_rows = [r for r, ok in zip(theta_rows, exist, strict=True) if ok] + ([] if rates else ["mu"])
    ref_log_mu = _log_mu_moments(reference.posterior) if rates else None
    rows, values = {}, {}
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
        shift = _largest_move(reference, ref, alt, s, theta_rows)
        quantities = alt.posterior.quantities
        if rates:
            log_mu, _ = _log_mu_moments(alt.posterior)
            shift = max(shift, abs(log_mu - ref_log_mu[0]) / ref_log_mu[1])
            mu, new = _median(quantities["mu"]), _median(alt.posterior.new_group)
        else:
            mu, new = s.loc["mu", "mean"], alt.new_group().summary["mean"]
        values[label] = {
            ("mu", centre): mu,
            ("mu", "lb"): s.loc["mu", lb],
            ("mu", "ub"): s.loc["mu", ub],
            (spread, "median"): _median(quantities[spread]),
            (spread, "lb"): s.loc[spread, lb],
            (spread, "ub"): s.loc[spread, ub],
            ("theta_new", centre): new,
        }
        rows[label] = {
            **{f"{parameter}_{statistic}": v for (parameter, statistic), v in values[label].items()},
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
    if form == "wide":
        return table
    long = pd.DataFrame(
        [
            {"prior": label, "parameter": parameter, "statistic": statistic, "value": v}
            for label, numbers in values.items()
            for (parameter, statistic), v in numbers.items()
        ]
    ).set_index(["prior", "parameter", "statistic"])
    long.attrs.update(
        prior_driven=table.attrs["prior_driven"],
        max_shift=table["max_shift"].to_dict(),
        warnings=table["warnings"].to_dict(),
    )
    return long
