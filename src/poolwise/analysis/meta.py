"""Frequentist random-effects meta-analysis, as metafor's ``rma()`` reports it.

Beside the Bayesian normal-normal model, the estimators users compare against: the between-study
variance tau2 by restricted maximum likelihood (REML), DerSimonian–Laird (DL), Paule–Mandel (PM),
maximum likelihood (ML), empirical Bayes (EB), Sidik–Jonkman (SJ) or Hedges (HE), the pooled
effect mu with its confidence interval, the prediction interval for a new study's true
effect, the heterogeneity statistics Q, I^2 and H^2, and the common-effect (fixed-effect) estimate.

The estimators are plain functions on arrays (:func:`tau2_dl`, :func:`tau2_reml`, :func:`tau2_pm`,
:func:`tau2_ml`, :func:`tau2_eb`, :func:`tau2_sj`, :func:`tau2_he`); :func:`meta_analysis`
validates a table with :func:`poolwise.data.estimate_data` and returns a :class:`MetaAnalysis`.
Effect sizes from two-arm counts (log odds ratio, log risk ratio, risk difference) come from
:func:`poolwise.analysis.escalc.escalc`.  Only NumPy and SciPy are used.
"""

from __future__ import annotations

import functools
import html
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..data import EstimateData, estimate_data
from ..errors import PoolwiseWarning

__all__ = [
    "METHODS",
    "MetaAnalysis",
    "meta_analysis",
    "tau2_dl",
    "tau2_eb",
    "tau2_he",
    "tau2_ml",
    "tau2_pm",
    "tau2_reml",
    "tau2_sj",
]

#: The tau2 estimators, by metafor's names.
METHODS: Final = ("REML", "DL", "PM", "ML", "EB", "SJ", "HE")
_METHOD_NAMES: Final = {
    "REML": "restricted maximum likelihood",
    "DL": "DerSimonian-Laird",
    "PM": "Paule-Mandel",
    "ML": "maximum likelihood",
    "EB": "empirical Bayes",
    "SJ": "Sidik-Jonkman",
    "HE": "Hedges",
}
_TESTS: Final = ("z", "knha")
# Fisher scoring stops when a step moves tau2 by less than this fraction of (tau2 + the median
# sampling variance): far below any digit a meta-analysis reports, yet well above the rounding
# error of the score's sums (a few 1e-16 per study), so the stopping rule is always reachable.
_REML_RTOL: Final = 1e-12
_REML_MAXITER: Final = 1000


# ---------------------------------------------------------------------------------------------
# Array layer
# ---------------------------------------------------------------------------------------------


def _standardise(y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Return the data in units where the median variance is 1 (and the median estimate 0).

    tau2 estimators do not depend on the origin and scale as variances, so they can run in these
    units, where the weights, their squares and cubes stay far from float64's limits however
    small or large the user's variances (down to 2.2e-308) are.  Multiply tau2 by the returned
    unit**2 to convert back.
    """
    unit2 = float(np.median(v))
    return (y - np.median(y)) / math.sqrt(unit2), v / unit2, unit2


def _unit_free(
    estimator: Callable[[np.ndarray, np.ndarray], float],
) -> Callable[[np.ndarray, np.ndarray], float]:
    """Run a tau2 estimator on standardised data and return tau2 in the data's units."""

    @functools.wraps(estimator)
    def in_units(y: np.ndarray, v: np.ndarray) -> float:
        ys, vs, unit2 = _standardise(np.asarray(y, dtype=float), np.asarray(v, dtype=float))
        return unit2 * estimator(ys, vs)

    return in_units


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    u = w / w.max()  # at most 1: the sums cannot overflow, and the mean does not change
    return float(np.sum(u * y) / np.sum(u))


def _q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Generalised Q: ``sum w_i (y_i - mu_w)^2`` with ``w_i = 1/(v_i + tau2)``."""
    w = 1.0 / (v + tau2)
    return float(np.sum(w * (y - _weighted_mean(y, w)) ** 2))


def _traces(w: np.ndarray) -> tuple[float, float]:
    """``tr(P)`` and ``tr(P P)`` for ``P = W - w w'/sum(w)``, the intercept-only projection."""
    total = np.sum(w)
    squares = np.sum(w**2)
    trace = total - squares / total
    trace_pp = squares - 2.0 * np.sum(w**3) / total + (squares / total) ** 2
    return float(trace), float(trace_pp)


@_unit_free
def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian–Laird estimate of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        ``max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))`` with ``w = 1/v`` and Q the
        common-effect heterogeneity statistic (DerSimonian & Laird 1986).
    """
    trace, _ = _traces(1.0 / v)
    return max(0.0, (_q(y, v, 0.0) - (len(y) - 1)) / trace)


@_unit_free
def tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule–Mandel estimate: the tau2 at which the generalised Q equals its expectation k - 1.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        The root of ``Q(tau2) = k - 1``, or 0 when ``Q(0) <= k - 1`` (truncated like metafor).

    Notes
    -----
    ``Q(tau2)`` decreases strictly in tau2, so the root is unique.  It lies below
    ``S = sum (y_i - ybar)^2 / (k - 1)`` (unweighted mean): ``Q(tau2)`` is at most
    ``sum (y_i - ybar)^2 / (v_i + tau2) < (k - 1) S / tau2``, which is ``k - 1`` at ``tau2 = S``.
    Brent's method on ``[0, S]`` therefore always brackets it.
    """
    df = len(y) - 1
    if _q(y, v, 0.0) <= df:
        return 0.0
    upper = float(np.sum((y - np.mean(y)) ** 2)) / df
    return _root(lambda tau2: _q(y, v, tau2) - df, upper)


def _root(func, upper: float) -> float:
    # xtol relative to the bracket: tau2 may be on any scale (variances of 1e-12 or 1e12).
    return float(optimize.brentq(func, 0.0, upper, xtol=upper * 1e-15, rtol=4 * np.finfo(float).eps))


def tau2_eb(y: np.ndarray, v: np.ndarray) -> float:
    """Empirical Bayes estimate (Morris 1983; metafor's ``method="EB"``) of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        The root of metafor's EB estimating equation ``Q(tau2) k / (k - 1) = k``, or 0 when
        ``Q(0) <= k - 1``.

    Notes
    -----
    Without moderators that equation is ``Q(tau2) = k - 1``, Paule and Mandel's: the two
    estimators are the same number (Viechtbauer et al. 2015), so this solves it as
    :func:`tau2_pm` does (to machine precision, where metafor's Fisher scoring stops at its
    ``threshold``).  metafor's standard error for EB is PM's formula as well.
    """
    return tau2_pm(y, v)


def _hedges(y: np.ndarray, v: np.ndarray) -> float:
    # Method of moments with unit weights: E[sum (y - ybar)^2] = (k - 1) tau2 + (1 - 1/k) sum v.
    k = len(y)
    return max(0.0, (float(np.sum((y - np.mean(y)) ** 2)) - (1 - 1 / k) * float(np.sum(v))) / (k - 1))


@_unit_free
def tau2_he(y: np.ndarray, v: np.ndarray) -> float:
    """Hedges' (unweighted method-of-moments) estimate of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        ``max(0, (sum (y_i - ybar)^2 - (1 - 1/k) sum v_i) / (k - 1))`` with ``ybar`` the
        unweighted mean (Hedges 1983; metafor's ``method="HE"``).
    """
    return _hedges(y, v)


@_unit_free
def tau2_sj(y: np.ndarray, v: np.ndarray) -> float:
    """Sidik–Jonkman estimate of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        ``tau2_0 Q(tau2_0) / (k - 1)`` with ``tau2_0 = sum (y_i - ybar)^2 / k`` (unweighted mean)
        and ``Q`` the generalised Q statistic: one step from the crude start (Sidik & Jonkman
        2005; metafor's ``method="SJ"`` with its default start).  Never negative, so never
        truncated.
    """
    tau2_0 = float(np.mean((y - np.mean(y)) ** 2))
    return tau2_0 * _q(y, v, tau2_0) / (len(y) - 1)


def _loglik(y: np.ndarray, v: np.ndarray, tau2: float, *, restricted: bool) -> float:
    """Return the (restricted) log-likelihood of tau2, up to a constant, with mu profiled out."""
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    ll = float(np.sum(np.log(v + tau2))) + float(np.sum(w * (y - mu) ** 2))
    return -0.5 * (ll + float(np.log(np.sum(w))) if restricted else ll)


def _score(y: np.ndarray, v: np.ndarray, tau2: float, *, restricted: bool) -> tuple[float, float]:
    """Return the (restricted) log-likelihood's derivative and expected information at tau2.

    ML: ``(sum w^2 r^2 - sum w) / 2`` and ``sum w^2 / 2`` with ``r = y - mu``; REML replaces
    ``sum w`` and ``sum w^2`` by ``tr(P)`` and ``tr(P P)`` (metafor's scoring steps).
    """
    w = 1.0 / (v + tau2)
    residual = w * (y - _weighted_mean(y, w))  # P y
    trace, trace_pp = _traces(w) if restricted else (float(np.sum(w)), float(np.sum(w**2)))
    return 0.5 * (float(np.sum(residual**2)) - trace), 0.5 * trace_pp


def _likelihood_maximum(y: np.ndarray, v: np.ndarray, *, restricted: bool) -> float:
    """Maximise the (restricted) likelihood over ``tau2 >= 0``, as the docstring of tau2_reml says."""
    scale = float(np.median(v))
    tau2 = _hedges(y, v)
    for _ in range(_REML_MAXITER):
        score, information = _score(y, v, tau2, restricted=restricted)
        step = score / information
        while tau2 + step < 0:
            step /= 2
            if abs(step) <= _REML_RTOL * scale:  # the maximum is at the boundary
                step = -tau2
        tau2 += step
        if abs(step) <= _REML_RTOL * (tau2 + scale):
            break
    else:
        tau2 = _score_root(y, v, restricted=restricted)
    if _loglik(y, v, 0.0, restricted=restricted) > _loglik(y, v, tau2, restricted=restricted):
        tau2 = 0.0
    return tau2


def _score_root(y: np.ndarray, v: np.ndarray, *, restricted: bool) -> float:
    def score(tau2: float) -> float:
        return _score(y, v, tau2, restricted=restricted)[0]

    if score(0.0) <= 0:
        return 0.0
    upper = float(np.sum((y - np.mean(y)) ** 2)) + float(np.max(v))
    while score(upper) > 0:
        upper *= 2
    return _root(score, upper)


@_unit_free
def tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Restricted maximum-likelihood estimate of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        The maximiser of the restricted log-likelihood over ``tau2 >= 0``.

    Notes
    -----
    As metafor: Fisher scoring from the Hedges (method-of-moments, unweighted) estimate, steps
    halved to stay at or above 0.  Should scoring not converge, the root of the score is found by
    Brent's method instead.  Last, the restricted likelihood at ``tau2 = 0`` is compared with the
    one found and the larger wins, so that a boundary maximum is not missed (metafor's
    ``ll0check``).  Scoring stops at a relative step of 1e-12, not at metafor's absolute
    ``threshold`` of 1e-5.
    """
    return _likelihood_maximum(y, v, restricted=True)


@_unit_free
def tau2_ml(y: np.ndarray, v: np.ndarray) -> float:
    """Maximum-likelihood estimate of the between-study variance.

    Parameters
    ----------
    y, v : numpy.ndarray
        Estimates and their sampling variances (> 0), one per study; at least two studies.

    Returns
    -------
    float
        The maximiser over ``tau2 >= 0`` of the log-likelihood with mu profiled out,
        ``-1/2 [sum log(v_i + tau2) + sum (y_i - mu)^2 / (v_i + tau2)]``.

    Notes
    -----
    Found as :func:`tau2_reml` is (Fisher scoring from the Hedges estimate, Brent's method as
    the fallback, the likelihood at 0 checked), with the ordinary likelihood's score.  ML does
    not correct for estimating mu, so it is biased downwards: below REML for few studies.
    """
    return _likelihood_maximum(y, v, restricted=False)


def _se_tau2(method: str, y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Return the standard error of the tau2 estimate, by metafor's formula for each estimator."""
    k = len(v)
    if method == "DL":
        # Variance of (Q - (k-1)) / tr(P) with P at tau2 = 0 (metafor's rma.uni).
        trace, trace_pp = _traces(1.0 / v)
        return math.sqrt(2 * (k - 1) + 4 * tau2 * trace + 2 * tau2**2 * trace_pp) / trace
    if method == "HE":
        # Variance of the unweighted moment estimator: P = I - J/k, unit weights.
        trace_pv, trace_pvpv, _ = _traces_v(np.ones(k), v)
        return math.sqrt(2 * trace_pvpv + 4 * tau2 * trace_pv + 2 * tau2**2 * (k - 1)) / (k - 1)
    if method == "SJ":
        # Variance of tau2_0 Q(tau2_0) / (k - 1), P at the start tau2_0 (metafor's rma.uni).
        tau2_0 = float(np.mean((y - np.mean(y)) ** 2))
        w0 = 1.0 / (v + tau2_0)
        _, trace_pvpv, trace_pvp = _traces_v(w0, v)
        spread = 2 * trace_pvpv + 4 * tau2 * trace_pvp + 2 * tau2**2 * _traces(w0)[1]
        return tau2_0 * math.sqrt(spread) / (k - 1)
    w = 1.0 / (v + tau2)
    if method == "REML":
        return math.sqrt(2.0 / _traces(w)[1])  # inverse expected information
    if method == "ML":
        return math.sqrt(2.0 / float(np.sum(w**2)))  # inverse expected information
    return math.sqrt(2.0 * k**2 / (k - 1)) / float(np.sum(w))  # PM, EB


def _traces_v(w: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """``tr(P V)``, ``tr(P V P V)`` and ``tr(P V P)`` for ``P = W - w w'/sum(w)``, ``V = diag(v)``.

    From ``P_ij^2 = w_i^2 w_j^2 / s^2 + [i = j] (w_i^2 - 2 w_i^3 / s)`` with ``s = sum w``.
    """
    total = np.sum(w)
    wv = w**2 * v
    diagonal = w**2 - 2 * w**3 / total
    trace_pv = float(np.sum(v * (w - w**2 / total)))
    trace_pvpv = float(np.sum(wv) ** 2 / total**2 + np.sum(v**2 * diagonal))
    trace_pvp = float(np.sum(wv) * np.sum(w**2) / total**2 + np.sum(v * diagonal))
    return trace_pv, trace_pvpv, trace_pvp


_ESTIMATORS: Final = {
    "DL": tau2_dl,
    "REML": tau2_reml,
    "PM": tau2_pm,
    "ML": tau2_ml,
    "EB": tau2_eb,
    "SJ": tau2_sj,
    "HE": tau2_he,
}


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PooledEstimate:
    """One pooled effect with its standard error, test and confidence interval.

    Attributes
    ----------
    estimate, se : float
        The inverse-variance weighted mean and its standard error.
    statistic : float
        ``estimate / se``: a z value, or a t value with `df` degrees of freedom (Knapp–Hartung).
    df : float
        Degrees of freedom of the t distribution; ``inf`` for the normal distribution.
    p_value : float
        Two-sided p-value of ``estimate = 0``.
    ci_lower, ci_upper : float
        Confidence interval at the analysis' level.
    """

    estimate: float
    se: float
    statistic: float
    df: float
    p_value: float
    ci_lower: float
    ci_upper: float

    def to_dict(self) -> dict:
        """Return the fields as a JSON-ready dict (non-finite numbers as None)."""
        return {name: _json_number(value) for name, value in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class MetaAnalysis:
    """A random-effects meta-analysis, with the common-effect analysis beside it.

    Build it with :func:`meta_analysis`.  Names follow the field (and metafor).

    Attributes
    ----------
    data : EstimateData
        The validated studies.
    method : {"REML", "DL", "PM", "ML", "EB", "SJ", "HE"}
        The tau2 estimator.
    test : {"z", "knha"}
        Normal-theory inference, or Knapp–Hartung (t with k - 1 degrees of freedom).
    level : float
        Confidence level of the intervals, e.g. 0.95.
    tau2, se_tau2, tau : float
        Between-study variance, its standard error (metafor's formula for the estimator; NaN for
        one study), and its square root.
    random : PooledEstimate
        The random-effects estimate of mu, weights ``1/(v_i + tau2)``.
    pi_lower, pi_upper : float
        Prediction interval for the true effect of a new study.
    common : PooledEstimate
        The common-effect (fixed-effect) estimate, weights ``1/v_i``, always by the z test.
    Q, Q_df, Q_p : float
        Cochran's heterogeneity statistic (common-effect weights), its degrees of freedom
        ``k - 1`` and its chi-squared p-value (NaN for one study).
    I2, H2 : float
        ``I2 = 100 tau2 / (tau2 + s2)`` in percent and ``H2 = (tau2 + s2) / s2``, with ``s2`` the
        typical within-study variance of Higgins & Thompson (2002), as metafor computes them
        (for DL they equal ``(Q - df)/Q`` and ``Q/df``); NaN for one study.
    weights, weights_common : numpy.ndarray
        Each study's weight in percent under the random- and the common-effect model.
    """

    data: EstimateData
    method: str
    test: str
    level: float
    tau2: float
    se_tau2: float
    random: PooledEstimate
    pi_lower: float
    pi_upper: float
    common: PooledEstimate
    Q: float
    Q_df: int
    Q_p: float
    I2: float
    H2: float
    weights: np.ndarray
    weights_common: np.ndarray

    @property
    def k(self) -> int:
        """Number of studies."""
        return self.data.n_groups

    @property
    def tau(self) -> float:
        """Square root of tau2."""
        return math.sqrt(self.tau2)

    @property
    def mu(self) -> float:
        """The random-effects pooled estimate (``random.estimate``)."""
        return self.random.estimate

    def studies(self) -> pd.DataFrame:
        """Return one row per study: estimate, standard error, its own CI and the two weights.

        Returns
        -------
        pandas.DataFrame
            Indexed by the study labels (named as the data's group column), in input order, with
            columns ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` (at the analysis'
            level, normal quantile), ``weight`` and ``weight_common`` (percent).
        """
        z = stats.norm.ppf(0.5 + self.level / 2)
        y, se = self.data.estimate, self.data.std_error
        return pd.DataFrame(
            {
                "estimate": y,
                "std_error": se,
                "ci_lower": y - z * se,
                "ci_upper": y + z * se,
                "weight": self.weights,
                "weight_common": self.weights_common,
            },
            index=pd.Index(self.data.groups, name=self.data.group_column),
        )

    def summary(self) -> str:
        """Return the analysis as text, laid out like metafor's print of an ``rma`` object."""
        return "\n".join(self._lines())

    def _lines(self) -> list[str]:
        percent = f"{self.level * 100:.10g}%"
        r, c = self.random, self.common
        se_tau2 = f" (SE = {_fixed(self.se_tau2)})" if math.isfinite(self.se_tau2) else ""
        test = "tval" if self.test == "knha" else "zval"
        df_col = f"{'df':>4}" if self.test == "knha" else ""
        df_val = f"{r.df:>4.0f}" if self.test == "knha" else ""
        return [
            f"Random-Effects Model (k = {self.k}; tau^2 estimator: {self.method})",
            "",
            f"tau^2 (estimated amount of total heterogeneity): {_fixed(self.tau2)}{se_tau2}",
            f"tau (square root of estimated tau^2 value):      {_fixed(self.tau)}",
            f"I^2 (total heterogeneity / total variability):   {_fixed(self.I2, 2)}%",
            f"H^2 (total variability / sampling variability):  {_fixed(self.H2, 2)}",
            "",
            "Test for Heterogeneity:",
            f"Q(df = {self.Q_df}) = {_fixed(self.Q)}, p-val {_p(self.Q_p, relation=True)}",
            "",
            "Model Results:",
            "",
            f"{'estimate':>8}  {'se':>7}  {test:>7}{df_col}  {'pval':>7}  {'ci.lb':>8}  {'ci.ub':>8}",
            f"{_fixed(r.estimate):>8}  {_fixed(r.se):>7}  {_fixed(r.statistic):>7}{df_val}  "
            f"{_p(r.p_value):>7}  {_fixed(r.ci_lower):>8}  {_fixed(r.ci_upper):>8}",
            "",
            f"{percent} prediction interval for a new study's true effect: "
            f"[{_fixed(self.pi_lower)}, {_fixed(self.pi_upper)}]"
            + (f" (t, df = {r.df:.0f})" if self.test == "knha" else " (normal quantile)"),
            f"Common-effect model: estimate {_fixed(c.estimate)} (se {_fixed(c.se)}, zval "
            f"{_fixed(c.statistic)}, pval {_p(c.p_value)}), {percent} CI [{_fixed(c.ci_lower)}, "
            f"{_fixed(c.ci_upper)}]",
        ]

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(label))}</td>"
            + "".join(f"<td>{_fixed(value)}</td>" for value in values[:2])
            + f"<td>[{_fixed(values[2])}, {_fixed(values[3])}]</td>"
            + f"<td>{_fixed(values[4], 1)}%</td></tr>"
            for label, *values in self.studies().itertuples()
        )
        header = "".join(
            f"<th>{html.escape(name)}</th>"
            for name in (self.data.group_column, "estimate", "se", f"{self.level * 100:.10g}% CI", "weight")
        )
        return (
            f"<div><pre>{html.escape(self.summary())}</pre>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def to_dict(self) -> dict:
        """Return the analysis as a JSON-ready dict (non-finite numbers as None).

        Returns
        -------
        dict
            ``method``, ``test``, ``level``, ``k``, ``tau2``, ``se_tau2``, ``tau``, ``I2``, ``H2``,
            ``Q`` (``statistic``, ``df``, ``p_value``), ``random`` and ``common`` (see
            :class:`PooledEstimate`), ``prediction_interval`` and ``studies`` (one dict per
            study, as :meth:`studies`, with its ``label``).
        """
        table = self.studies().reset_index()
        studies = [
            {
                "label": row[0],
                **{name: _json_number(value) for name, value in zip(table.columns[1:], row[1:], strict=True)},
            }
            for row in table.itertuples(index=False)
        ]
        return {
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "k": self.k,
            "tau2": _json_number(self.tau2),
            "se_tau2": _json_number(self.se_tau2),
            "tau": _json_number(self.tau),
            "I2": _json_number(self.I2),
            "H2": _json_number(self.H2),
            "Q": {"statistic": _json_number(self.Q), "df": self.Q_df, "p_value": _json_number(self.Q_p)},
            "random": self.random.to_dict(),
            "prediction_interval": [_json_number(self.pi_lower), _json_number(self.pi_upper)],
            "common": self.common.to_dict(),
            "studies": studies,
        }


def _json_number(value: float) -> float | None:
    # JSON has no NaN or infinity (the common estimate's df is inf: normal distribution).
    value = float(value)
    return value if math.isfinite(value) else None


def _fixed(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "NA"


def _p(value: float, relation: bool = False) -> str:
    """p-values as metafor prints them: 4 decimals, ``<.0001`` below."""
    if not math.isfinite(value):
        return "NA"
    if value < 1e-4:
        return "< .0001" if relation else "<.0001"
    return f"= {value:.4f}" if relation else f"{value:.4f}"


# ---------------------------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------------------------


def meta_analysis(
    data: pd.DataFrame | str | os.PathLike | EstimateData,
    *,
    estimate: str | None = None,
    std_error: str | None = None,
    variance: str | None = None,
    group: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> MetaAnalysis:
    """Random-effects meta-analysis of estimates with standard errors (or variances).

    Parameters
    ----------
    data : pandas.DataFrame, str, os.PathLike or EstimateData
        The studies: a table (or the path of a CSV or Parquet file) validated with
        :func:`poolwise.data.estimate_data`, or data validated already.
    estimate, std_error, variance, group : str, optional
        Column names, as for :func:`~poolwise.data.estimate_data` (give exactly one of `std_error`
        and `variance`); not used with an :class:`~poolwise.data.EstimateData`.
    method : {"REML", "DL", "PM", "ML", "EB", "SJ", "HE"}
        The tau2 estimator, by metafor's names: restricted maximum likelihood (metafor's
        default), DerSimonian–Laird, Paule–Mandel, maximum likelihood, empirical Bayes (the same
        number as PM without moderators), Sidik–Jonkman, or Hedges (unweighted moments).
    test : {"z", "knha"}
        ``"z"``: the pooled estimate's test and intervals use the normal distribution (metafor's
        default).  ``"knha"``: the Knapp–Hartung adjustment, with its standard error
        ``sqrt(sum w_i (y_i - mu)^2 / ((k - 1) sum w_i))`` and the t distribution with k - 1
        degrees of freedom (metafor's ``test="knha"``, not truncated).
    level : float
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    MetaAnalysis

    Raises
    ------
    DataError
        If the table is not valid (see :func:`~poolwise.data.estimate_data`).
    ValueError
        For an unknown `method` or `test`, a `level` outside (0, 1), or Knapp–Hartung with one
        study.

    Warns
    -----
    PoolwiseWarning
        With one study: tau2 cannot be estimated and is set to 0, so the result is that study.

    Notes
    -----
    Model: ``y_i ~ N(theta_i, v_i)`` with known ``v_i``, ``theta_i ~ N(mu, tau2)``.  Given the
    tau2 estimate, ``mu = sum w_i y_i / sum w_i`` with ``w_i = 1/(v_i + tau2)`` and
    ``se(mu) = 1/sqrt(sum w_i)``.

    The prediction interval is metafor's (``predict.rma``):
    ``mu +- q sqrt(se(mu)^2 + tau2)``, with q the normal quantile under ``test="z"`` and the
    t quantile with k - 1 degrees of freedom under ``test="knha"`` (W. Viechtbauer,
    r-sig-meta-analysis, 5 June 2018).  Some authors (Higgins, Thompson & Spiegelhalter 2009) use
    t with k - 2 degrees of freedom instead, which is wider for few studies.

    Standard errors of tau2 follow metafor's ``rma.uni``: for REML and ML the inverse expected
    information, ``sqrt(2 / tr(P P))`` and ``sqrt(2 / sum w_i^2)``; for DL, HE and SJ the
    variance of the moment estimator (for SJ with the weights at its start value); for PM and
    EB ``sqrt(2 k^2 / (k - 1)) / sum w_i``.

    References
    ----------
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials 7.
    Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res NBS 87.
    Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
    random-effects model. J Educ Behav Stat 30.
    Hedges LV (1983). A random effects model for effect sizes. Psychol Bull 93.
    Morris CN (1983). Parametric empirical Bayes inference. J Am Stat Assoc 78.
    Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis.
    J R Stat Soc C 54.
    Viechtbauer W, López-López JA, Sánchez-Meca J, Marín-Martínez F (2015). A comparison of
    procedures to test for moderators in mixed-effects meta-regression models. Psychol Methods
    20.
    Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single
    covariate. Stat Med 22.

    Examples
    --------
    >>> import poolwise as pw
    >>> bcg = pw.datasets.load("bcg")  # log risk ratios yi with variances vi
    >>> res = pw.meta_analysis(bcg, group="study", estimate="yi", variance="vi")
    >>> round(res.tau2, 4), round(res.mu, 4)
    (0.3132, -0.7145)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    if test not in _TESTS:
        raise ValueError(f"test must be 'z' (normal) or 'knha' (Knapp-Hartung); got {test!r}")
    if isinstance(level, bool) or not isinstance(level, float | int) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), e.g. 0.95; got {level!r}")
    if isinstance(data, EstimateData):
        studies = data
    else:
        if estimate is None:
            raise TypeError("meta_analysis() needs estimate= (the column of estimates)")
        studies = estimate_data(data, group=group, estimate=estimate, std_error=std_error, variance=variance)

    y, v = studies.estimate, studies.variance
    k = len(y)
    ys, vs, unit2 = _standardise(y, v)
    if k == 1:
        if test == "knha":
            raise ValueError("test='knha' needs at least two studies (its t distribution has k - 1 df)")
        warnings.warn(
            "meta_analysis: only one study, so the between-study variance tau2 cannot be estimated; "
            "it is set to 0 and the pooled estimate is that study's. Add studies to estimate it.",
            PoolwiseWarning,
            stacklevel=2,
        )
        tau2s, se_tau2s = 0.0, math.nan
    else:
        tau2s = _ESTIMATORS[method](ys, vs)
        se_tau2s = _se_tau2(method, ys, vs, tau2s)
    tau2 = tau2s * unit2

    common = _pooled(y, v, level, df=math.inf)
    random = _pooled(
        y, v + tau2, level, df=k - 1 if test == "knha" else math.inf, knapp_hartung=test == "knha"
    )
    half = critical_value(level, random.df) * math.sqrt(random.se**2 + tau2)

    Q = _q(ys, vs, 0.0)  # unit-free
    if k > 1:
        s2 = (k - 1) / _traces(1.0 / vs)[0]  # Higgins & Thompson's typical within-study variance
        I2, H2, Q_p = 100 * tau2s / (tau2s + s2), (tau2s + s2) / s2, float(stats.chi2.sf(Q, k - 1))
    else:
        I2 = H2 = Q_p = math.nan
    return MetaAnalysis(
        data=studies,
        method=method,
        test=test,
        level=float(level),
        tau2=tau2,
        se_tau2=se_tau2s * unit2,
        random=random,
        pi_lower=random.estimate - half,
        pi_upper=random.estimate + half,
        common=common,
        Q=Q,
        Q_df=k - 1,
        Q_p=Q_p,
        I2=I2,
        H2=H2,
        weights=_percent(v + tau2),
        weights_common=_percent(v),
    )


def _percent(total_variance: np.ndarray) -> np.ndarray:
    u = total_variance.min() / total_variance  # weights scaled to at most 1: no overflow
    out = 100 * u / np.sum(u)
    out.flags.writeable = False
    return out


def critical_value(level: float, df: float) -> float:
    """Two-sided critical value of a ``level`` interval: normal when ``df`` is infinite, else t(df)."""
    upper = 0.5 + level / 2
    return float(stats.norm.ppf(upper) if math.isinf(df) else stats.t.ppf(upper, df))


def _pooled(
    y: np.ndarray, total_variance: np.ndarray, level: float, *, df: float, knapp_hartung: bool = False
) -> PooledEstimate:
    """Return the inverse-variance weighted mean with its test and CI.

    The standard error is ``1/sqrt(sum w)``, or Knapp and Hartung's
    ``sqrt(sum w (y - mu)^2 / ((k - 1) sum w))``.
    """
    smallest = float(total_variance.min())
    u = smallest / total_variance  # w / max(w): sums of the weights cannot overflow
    estimate = float(np.sum(u * y) / np.sum(u))
    if knapp_hartung:
        se = math.sqrt(float(np.sum(u * (y - estimate) ** 2)) / ((len(y) - 1) * float(np.sum(u))))
    else:
        se = math.sqrt(smallest / float(np.sum(u)))
    # Knapp-Hartung's se is 0 when every estimate is the same: the statistic is then +-inf (or
    # NaN for an estimate of 0), not an exception.
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = float(np.float64(estimate) / se)
    if math.isinf(df):
        p_value = float(2 * stats.norm.sf(abs(statistic)))
    else:
        p_value = float(2 * stats.t.sf(abs(statistic), df))
    half = critical_value(level, df) * se
    return PooledEstimate(estimate, se, statistic, float(df), p_value, estimate - half, estimate + half)
