"""The diagnostics a reviewer asks of a random-effects meta-analysis, as metafor reports them.

For a :class:`~poolwise.analysis.meta.MetaAnalysis`: small-study effects (Egger's regression test,
:func:`regtest`; Begg and Mazumdar's rank correlation test, :func:`ranktest`; Duval and Tweedie's
trim-and-fill, :func:`trimfill`), the weight of single studies (:func:`leave1out`,
:func:`influence`, :func:`baujat`) and the evidence as it accrued (:func:`cumul`).  Each function
is named after, and computes what, the metafor function of the same name returns for an
intercept-only ``rma()`` fit (metafor 3.8-1), with the fit's estimator, test and level.

Every refit of the random-effects model goes through :func:`~poolwise.analysis.meta.meta_analysis`.
The one model meta.py does not fit is a meta-regression, which Egger's test (and trim-and-fill's
choice of side) need: the study's standard error as a moderator.  :func:`_metareg` fits it, with
each tau2 estimator in its general (moderator) form as metafor's ``rma.uni`` has it.

No figures here: :func:`baujat` and :func:`trimfill` return the numbers a Baujat or a funnel plot
needs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..data import estimate_data
from ..errors import DataError, PoolwiseWarning
from .meta import MetaAnalysis, critical_value, meta_analysis

__all__ = [
    "RankTest",
    "RegTest",
    "TrimFill",
    "baujat",
    "cumul",
    "influence",
    "leave1out",
    "ranktest",
    "regtest",
    "trimfill",
]

# Fisher scoring of the meta-regression stops at this relative step, as meta.py's does.
_RTOL: Final = 1e-12
_MAXITER: Final = 1000
# metafor sets residuals below 100 machine epsilons to zero (influence.rma.uni) and a Knapp-Hartung
# factor whose residual sum of squares is below one epsilon to zero (rma.uni).
_EPS: Final = np.finfo(float).eps
_LOO_COLUMNS: Final = ("estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper")
_LOO_COLUMNS_HET: Final = ("Q", "Q_p", "tau2", "I2", "H2")


# ---------------------------------------------------------------------------------------------
# Checks and refits
# ---------------------------------------------------------------------------------------------


def _check_fit(fit: object, function: str, *, at_least: int = 3) -> None:
    if not isinstance(fit, MetaAnalysis):
        raise TypeError(f"{function}() needs a MetaAnalysis (from meta_analysis()); got {type(fit).__name__}")
    if fit.k < at_least:
        raise DataError(
            f"{function}() needs at least {at_least} studies; the meta-analysis has {fit.k}. "
            "With fewer there is nothing to compare a study with."
        )


def _refit(
    fit: MetaAnalysis,
    y: np.ndarray,
    v: np.ndarray,
    labels: Sequence[str],
    *,
    test: str | None = None,
    level: float | None = None,
) -> MetaAnalysis:
    """Fit the random-effects model to (a subset of, or additions to) the studies, as `fit` was fit."""
    table = pd.DataFrame({"study": list(labels), "yi": y, "vi": v})
    data = estimate_data(table, group="study", estimate="yi", variance="vi")
    with warnings.catch_warnings():
        # One study (the first step of a cumulative analysis): tau2 = 0 is what metafor reports too.
        warnings.simplefilter("ignore", PoolwiseWarning)
        return meta_analysis(
            data,
            method=fit.method,
            test=fit.test if test is None else test,
            level=fit.level if level is None else level,
        )


def _s2w(fit: MetaAnalysis) -> float:
    """Knapp and Hartung's factor ``sum w (y - mu)^2 / (k - 1)`` (1 under the z test), as rma.uni."""
    if fit.test != "knha":
        return 1.0
    w = 1.0 / (fit.data.variance + fit.tau2)
    rss = float(np.sum(w * (fit.data.estimate - fit.mu) ** 2))
    return 0.0 if rss <= _EPS else rss / (fit.k - 1)


def _row(fit: MetaAnalysis) -> dict[str, float]:
    """One row of a leave-one-out or cumulative table: metafor's columns of the fit."""
    r = fit.random
    het = (fit.Q, fit.Q_p, fit.tau2, fit.I2, fit.H2)
    if fit.k == 1:
        het = (0.0, 1.0, 0.0, 0.0, 1.0)  # what rma() reports for one study (poolwise says NaN)
    return dict(
        zip(
            _LOO_COLUMNS + _LOO_COLUMNS_HET,
            (r.estimate, r.se, r.statistic, r.p_value, r.ci_lower, r.ci_upper, *het),
            strict=True,
        )
    )


def _labels(fit: MetaAnalysis) -> pd.Index:
    return pd.Index(fit.data.groups, name=fit.data.group_column)


# ---------------------------------------------------------------------------------------------
# Meta-regression (for Egger's test and the side of trim-and-fill)
# ---------------------------------------------------------------------------------------------


def _projection(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``P = W - W X (X'WX)^-1 X'W``: the weighted residual projection of a meta-regression."""
    WX = w[:, None] * X
    return np.diag(w) - WX @ np.linalg.solve(X.T @ WX, WX.T)


def _metareg_loglik(y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, *, restricted: bool) -> float:
    """(Restricted) log-likelihood of tau2 up to a constant, the coefficients profiled out."""
    w = 1.0 / (v + tau2)
    ll = float(np.sum(np.log(v + tau2)) + y @ _projection(w, X) @ y)
    if restricted:
        ll += float(np.linalg.slogdet(X.T @ (w[:, None] * X))[1])
    return -0.5 * ll


def _metareg_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str) -> float:
    """Estimate tau2 of ``y = X beta + u + e`` by `method`, in rma.uni's form with moderators.

    The intercept-only cases are meta.py's estimators; these are their generalisations with
    ``k - p`` degrees of freedom and the projection ``P`` in place of centring on the mean.
    """
    k, p = X.shape
    df = k - p
    if method == "DL":
        P = _projection(1.0 / v, X)
        return max(0.0, (float(y @ P @ y) - df) / float(np.trace(P)))
    if method == "SJ":
        tau2_0 = float(np.var(y))  # var(y) (k - 1) / k: metafor's start ignores the moderators
        return tau2_0 * float(y @ _projection(1.0 / (v + tau2_0), X) @ y) / df
    if method in ("PM", "EB"):
        # EB's estimating equation Q(tau2) k / (k - p) = k is PM's Q(tau2) = k - p.
        def excess(tau2: float) -> float:
            return float(y @ _projection(1.0 / (v + tau2), X) @ y) - df

        if excess(0.0) <= 0:
            return 0.0
        upper = float(np.var(y)) + float(np.max(v))
        while excess(upper) > 0:
            upper *= 2
        return float(optimize.brentq(excess, 0.0, upper, xtol=upper * 1e-15, rtol=4 * _EPS))
    # Unweighted method of moments: HE itself, and the start of Fisher scoring for ML and REML.
    residual = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    hedges = (float(y @ residual @ y) - float(np.sum(np.diag(residual) * v))) / df
    if method == "HE":
        return max(0.0, hedges)
    restricted = method == "REML"
    tau2, scale = max(0.0, hedges), float(np.median(v))
    for _ in range(_MAXITER):
        w = 1.0 / (v + tau2)
        P = _projection(w, X)
        Py = P @ y
        if restricted:
            step = (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P))
        else:
            step = (float(Py @ Py) - float(np.sum(w))) / float(np.sum(w**2))
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) <= _RTOL * (tau2 + scale):
            break
    else:
        raise RuntimeError(f"Fisher scoring of the {method} meta-regression did not converge")
    # A boundary maximum that scoring walked past (metafor's ll0check).
    if _metareg_loglik(y, v, X, 0.0, restricted=restricted) > _metareg_loglik(
        y, v, X, tau2, restricted=restricted
    ):
        return 0.0
    return tau2


def _metareg(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str, test: str
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit a mixed-effects meta-regression: coefficients, their covariance, tau2 and the df.

    The covariance is ``(X'WX)^-1`` with ``W = diag(1/(v + tau2))``, times Knapp and Hartung's
    factor ``RSS / (k - p)`` under ``test="knha"`` (then the df are ``k - p``, else infinite).
    """
    k, p = X.shape
    tau2 = _metareg_tau2(y, v, X, method)
    w = 1.0 / (v + tau2)
    vb = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = vb @ (X.T @ (w * y))
    if test == "knha":
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        vb = vb * (0.0 if rss <= _EPS else rss / (k - p))
        return beta, vb, tau2, float(k - p)
    return beta, vb, tau2, math.inf


def _two_sided(statistic: float, df: float) -> float:
    return float(2 * (stats.norm.sf(abs(statistic)) if math.isinf(df) else stats.t.sf(abs(statistic), df)))


# ---------------------------------------------------------------------------------------------
# Small-study effects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegTest:
    """Egger's regression test for funnel-plot asymmetry (metafor's ``regtest``).

    Attributes
    ----------
    model : {"rma", "lm"}
        The regression: the random-effects meta-regression, or Egger's weighted least squares.
    predictor : {"sei", "vi"}
        The moderator: the studies' standard errors or their variances.
    statistic : float
        The test statistic of the predictor's slope (z, or t with `df` degrees of freedom).
    df : float
        Its degrees of freedom; ``inf`` for a z test.
    p_value : float
        Two-sided p-value of "no slope" (no asymmetry).
    slope : float
        The predictor's coefficient.
    estimate, ci_lower, ci_upper : float
        The intercept, the "limit estimate" (the effect of a study with standard error 0), and
        its confidence interval at the fit's level.
    tau2 : float
        The residual between-study variance of the meta-regression (0 for ``model="lm"``).
    """

    model: str
    predictor: str
    statistic: float
    df: float
    p_value: float
    slope: float
    estimate: float
    ci_lower: float
    ci_upper: float
    tau2: float


def regtest(fit: MetaAnalysis, *, model: str = "rma", predictor: str = "sei") -> RegTest:
    """Egger's regression test: test whether the estimates drift with their standard errors.

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis of at least 3 studies.
    model : {"rma", "lm"}
        ``"rma"`` (metafor's default): the meta-regression ``y_i = b0 + b1 x_i + u_i + e_i`` with
        the fit's tau2 estimator and test.  ``"lm"``: Egger's original weighted regression, weights
        ``1/v_i``, with a t test on ``k - 2`` degrees of freedom (the residual variance estimated,
        not fixed at 1).
    predictor : {"sei", "vi"}
        ``x_i``: the standard error (Egger's test) or the variance.

    Returns
    -------
    RegTest

    Raises
    ------
    DataError
        With fewer than 3 studies.
    ValueError
        For an unknown `model` or `predictor`, or when every study has the same standard error
        (the predictor is then the intercept).
    """
    _check_fit(fit, "regtest")
    if model not in ("rma", "lm"):
        raise ValueError(
            f"model must be 'rma' (meta-regression) or 'lm' (weighted regression); got {model!r}"
        )
    if predictor not in ("sei", "vi"):
        raise ValueError(f"predictor must be 'sei' or 'vi'; got {predictor!r}")
    y, v = fit.data.estimate, fit.data.variance
    x = fit.data.std_error if predictor == "sei" else v
    if np.ptp(x) == 0:
        raise ValueError(
            "regtest(): every study has the same standard error, so the slope cannot be estimated"
        )
    X = np.column_stack([np.ones(fit.k), x])
    if model == "rma":
        beta, vb, tau2, df = _metareg(y, v, X, fit.method, fit.test)
    else:
        w = 1.0 / v
        vb = np.linalg.inv(X.T @ (w[:, None] * X))
        beta = vb @ (X.T @ (w * y))
        df = float(fit.k - 2)
        vb = vb * float(np.sum(w * (y - X @ beta) ** 2)) / df  # lm's residual variance
        tau2 = 0.0
    se = np.sqrt(np.diag(vb))
    statistic = float(beta[1] / se[1])
    half = critical_value(fit.level, df) * float(se[0])
    return RegTest(
        model=model,
        predictor=predictor,
        statistic=statistic,
        df=df,
        p_value=_two_sided(statistic, df),
        slope=float(beta[1]),
        estimate=float(beta[0]),
        ci_lower=float(beta[0]) - half,
        ci_upper=float(beta[0]) + half,
        tau2=tau2,
    )


@dataclass(frozen=True)
class RankTest:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    Attributes
    ----------
    tau : float
        Kendall's tau (tau-b with ties) between the standardised estimates and the variances.
    p_value : float
        Two-sided p-value: exact (Kendall's distribution) for fewer than 50 studies without ties,
        else the normal approximation without continuity correction (as R's ``cor.test``).
    exact : bool
        Whether the p-value is the exact one.
    """

    tau: float
    p_value: float
    exact: bool


def ranktest(fit: MetaAnalysis) -> RankTest:
    """Rank correlation test for funnel-plot asymmetry (Begg & Mazumdar 1994).

    Parameters
    ----------
    fit : MetaAnalysis
        A meta-analysis of at least 3 studies.

    Returns
    -------
    RankTest

    Raises
    ------
    DataError
        With fewer than 3 studies.

    Notes
    -----
    Kendall's tau between ``(y_i - mu) / sqrt(v_i - 1/sum w)`` and ``v_i``, with ``mu`` the
    common-effect (weights ``w = 1/v``) estimate: dividing by the variance of ``y_i - mu`` makes
    the deviations comparable.  As metafor, the common-effect mean is used whatever the fit's
    tau2.
    """
    _check_fit(fit, "ranktest")
    y, v = fit.data.estimate, fit.data.variance
    w = 1.0 / v
    theta = float(np.sum(w * y) / np.sum(w))
    standardised = (y - theta) / np.sqrt(v - 1.0 / np.sum(w))
    n = len(y)
    ties = min(len(np.unique(standardised)), len(np.unique(v))) < n
    exact = n < 50 and not ties  # R's cor.test(method="kendall", exact=NULL)
    result = stats.kendalltau(standardised, v, method="exact" if exact else "asymptotic")
    return RankTest(tau=float(result.statistic), p_value=float(result.pvalue), exact=exact)


@dataclass(frozen=True, eq=False)
class TrimFill:
    """Duval and Tweedie's trim-and-fill (metafor's ``trimfill``).

    Attributes
    ----------
    k0, se_k0 : int, float
        Number of studies estimated missing, and metafor's standard error of that estimate.
    side : {"left", "right"}
        The side of the funnel plot the missing studies are on.
    estimator : {"L0", "R0", "Q0"}
        The estimator of `k0`.
    fit : MetaAnalysis
        The meta-analysis of the observed and the imputed studies (the original fit when k0 = 0).
    imputed : pandas.DataFrame
        The imputed studies, columns ``yi`` and ``vi``, labelled ``"Filled 1"``, ... (empty when
        k0 = 0): mirror images of the k0 most extreme studies about the trimmed estimate.
    p_k0 : float
        For R0, the p-value of "no missing studies"; NaN otherwise.
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    fit: MetaAnalysis
    imputed: pd.DataFrame
    p_k0: float

    @property
    def estimate(self) -> float:
        """The filled-in random-effects estimate."""
        return self.fit.random.estimate

    @property
    def se(self) -> float:
        """Its standard error."""
        return self.fit.random.se

    @property
    def ci_lower(self) -> float:
        """Lower end of its confidence interval."""
        return self.fit.random.ci_lower

    @property
    def ci_upper(self) -> float:
        """Upper end of its confidence interval."""
        return self.fit.random.ci_upper

    @property
    def tau2(self) -> float:
        """The filled-in between-study variance."""
        return self.fit.tau2


def _k0(centred: np.ndarray, estimator: str) -> tuple[float, float]:
    """Estimate the number of missing studies from the centred estimates (Duval & Tweedie 2000).

    Ranks of ``|y_i - mu|`` (ties by position, R's ``ties.method="first"``), signed.  L0 and Q0
    come from the Wilcoxon sum of the positive ranks, R0 from the length of the rightmost run.
    """
    k = len(centred)
    ranks = stats.rankdata(np.abs(centred), method="ordinal") * np.sign(centred)
    if estimator == "R0":
        k0 = (k - np.max(-ranks[ranks < 0])) - 1
        return float(k0), math.sqrt(2 * max(0.0, k0) + 2)
    Sr = float(np.sum(ranks[ranks > 0]))
    if estimator == "L0":
        k0 = (4 * Sr - k * (k + 1)) / (2 * k - 1)
    else:
        k0 = k - 0.5 - math.sqrt(2 * k**2 - 4 * Sr + 0.25)
    var_sr = (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0**3
        + 27 * k0**2
        + 17 * k0
        - 18 * k * k0**2
        - 18 * k * k0
        + 6 * k**2 * k0
    ) / 24
    if estimator == "L0":
        se = 4 * math.sqrt(var_sr) / (2 * k - 1)
    else:
        se = 2 * math.sqrt(var_sr) / math.sqrt((k - 0.5) ** 2 - k0 * (2 * k - k0 - 1))
    return k0, se


def trimfill(
    fit: MetaAnalysis, *, side: str | None = None, estimator: str = "L0", maxiter: int = 100
) -> TrimFill:
    """Trim-and-fill: estimate and impute the studies a funnel plot's asymmetry suggests are missing.

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis of at least 3 studies.
    side : {"left", "right"} or None
        Where the missing studies are.  None (metafor's default): opposite the sign of the slope
        in Egger's meta-regression on the standard errors (the fit's tau2 estimator) — a positive
        slope (small studies with larger estimates) means studies are missing on the left.
    estimator : {"L0", "R0", "Q0"}
        Estimator of the number of missing studies (Duval & Tweedie 2000).
    maxiter : int
        Most trim-and-re-estimate rounds.

    Returns
    -------
    TrimFill

    Raises
    ------
    DataError
        With fewer than 3 studies.
    ValueError
        For an unknown `side` or `estimator`.
    RuntimeError
        If the number of missing studies does not settle within `maxiter` rounds.

    Notes
    -----
    Iterates, as metafor: on the studies sorted by estimate (mirrored for ``side="right"``),
    trim the k0 largest, re-estimate mu from the rest, re-estimate k0 from all studies centred on
    that mu, until k0 stops changing.  The filled meta-analysis uses the fit's tau2 estimator but,
    as metafor's (which does not pass the fit's ``test`` and ``level`` on), the z test and 95%
    intervals.
    """
    _check_fit(fit, "trimfill")
    if side not in (None, "left", "right"):
        raise ValueError(f"side must be 'left', 'right' or None (chosen from the data); got {side!r}")
    if estimator not in ("L0", "R0", "Q0"):
        raise ValueError(f"estimator must be 'L0', 'R0' or 'Q0'; got {estimator!r}")
    y, v = fit.data.estimate, fit.data.variance
    if side is None:
        X = np.column_stack([np.ones(fit.k), fit.data.std_error])
        side = "right" if _metareg(y, v, X, fit.method, "z")[0][1] < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * y, kind="stable")
    ys, vs = sign * y[order], v[order]
    labels = fit.data.groups[order]
    k = fit.k
    k0, previous, rounds = 0, -1, 0
    while k0 != previous:
        previous, rounds = k0, rounds + 1
        if rounds > maxiter:
            raise RuntimeError(
                f"trimfill(): the number of missing studies did not settle in {maxiter} rounds"
            )
        trimmed = _refit(fit, sign * ys[: k - k0], vs[: k - k0], labels[: k - k0])
        mu = sign * trimmed.mu
        estimate, se_k0 = _k0(ys - mu, estimator)
        k0 = max(0, round(estimate))  # R's round(): half to even, as Python's
        se_k0 = max(0.0, se_k0)
    p_k0 = math.nan
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1 - np.sum([math.comb(int(j) + 1, int(j) + 1) * 0.5 ** (j + 2) for j in m]))
    names = [f"Filled {j + 1}" for j in range(k0)]
    if k0 == 0:
        return TrimFill(0, se_k0, side, estimator, fit, pd.DataFrame({"yi": [], "vi": []}), p_k0)
    # The k0 most extreme studies mirrored about the trimmed estimate: 2 mu - y_i.
    yi_fill = sign * (2 * mu - ys[k - k0 :])
    vi_fill = vs[k - k0 :]
    imputed = pd.DataFrame({"yi": yi_fill, "vi": vi_fill}, index=pd.Index(names, name=fit.data.group_column))
    filled = _refit(
        fit,
        np.concatenate([y, yi_fill]),
        np.concatenate([v, vi_fill]),
        [*fit.data.groups, *names],
        test="z",
        level=0.95,
    )
    return TrimFill(k0, se_k0, side, estimator, filled, imputed, p_k0)


# ---------------------------------------------------------------------------------------------
# Single studies' influence
# ---------------------------------------------------------------------------------------------


def _deleted(fit: MetaAnalysis) -> list[MetaAnalysis]:
    """Refit the model k times, each time without one study (in the studies' order)."""
    y, v, labels = fit.data.estimate, fit.data.variance, fit.data.groups
    keep = ~np.eye(fit.k, dtype=bool)
    return [_refit(fit, y[row], v[row], labels[row]) for row in keep]


def leave1out(fit: MetaAnalysis) -> pd.DataFrame:
    """Leave-one-out analysis: the meta-analysis refitted without each study in turn.

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis of at least 3 studies.

    Returns
    -------
    pandas.DataFrame
        One row per left-out study (indexed by its label, in input order): ``estimate``, ``se``,
        ``statistic`` (z, or t under Knapp–Hartung), ``p_value``, ``ci_lower``, ``ci_upper``,
        Cochran's ``Q`` with its ``Q_p``, ``tau2``, ``I2`` (percent) and ``H2`` of the other
        studies, with the fit's estimator, test and level.

    Raises
    ------
    DataError
        With fewer than 3 studies.
    """
    _check_fit(fit, "leave1out")
    return pd.DataFrame([_row(refit) for refit in _deleted(fit)], index=_labels(fit))


def influence(fit: MetaAnalysis) -> pd.DataFrame:
    """Case-deletion diagnostics of each study (Viechtbauer & Cheung 2010; metafor's ``influence``).

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis of at least 3 studies.

    Returns
    -------
    pandas.DataFrame
        One row per study (indexed by its label, in input order), with ``mu`` the fit's
        estimate, ``mu_(-i)``, ``tau2_(-i)`` and ``s2_(-i)`` (Knapp–Hartung's factor, 1 under the
        z test) those of the fit without study i, and ``w_i = 1/(v_i + tau2)``:

        ``rstudent``
            Externally studentised residual
            ``(y_i - mu_(-i)) / sqrt((v_i + tau2_(-i)) s2_(-i) + se(mu_(-i))^2)``.
        ``dffits``
            ``(mu - mu_(-i)) / sqrt(s2_(-i) hat_i (tau2_(-i) + v_i))``.
        ``cook_d``
            Cook's distance ``(mu - mu_(-i))^2 / se(mu)^2``.
        ``cov_r``
            Covariance ratio ``se(mu_(-i))^2 / se(mu)^2``.
        ``tau2_del``, ``QE_del``
            tau2 and Cochran's Q without study i.
        ``hat``
            Leverage ``w_i / sum w``.
        ``weight``
            Weight in percent, ``100 hat``.
        ``dfbetas``
            ``(mu - mu_(-i)) / sqrt(s2_(-i) / sum_j 1/(v_j + tau2_(-i)))`` (all k studies).
        ``influential``
            metafor's flag (``is.infl``): ``|dffits| > 3 sqrt(1/(k - 1))``, or the chi-squared(1)
            probability of ``cook_d`` above 0.5, or ``hat > 3/k``, or ``|dfbetas| > 1``.

    Raises
    ------
    DataError
        With fewer than 3 studies.
    """
    _check_fit(fit, "influence")
    y, v, k = fit.data.estimate, fit.data.variance, fit.k
    w = 1.0 / (v + fit.tau2)
    hat = w / np.sum(w)
    vb = fit.random.se**2
    deleted = _deleted(fit)
    mu_del = np.array([d.mu for d in deleted])
    tau2_del = np.array([d.tau2 for d in deleted])
    vb_del = np.array([d.random.se**2 for d in deleted])
    s2w_del = np.array([_s2w(d) for d in deleted])
    change = fit.mu - mu_del
    residual = y - mu_del
    residual[np.abs(residual) < 100 * _EPS] = 0.0
    rstudent = residual / np.sqrt(v * s2w_del + vb_del + tau2_del * s2w_del)
    dffits = change / np.sqrt(s2w_del * hat * (tau2_del + v))
    # The variance of mu with all studies but weights at tau2_(-i).
    vb_full_at_del = 1.0 / np.sum(1.0 / (v[None, :] + tau2_del[:, None]), axis=1)
    dfbetas = change / np.sqrt(s2w_del * vb_full_at_del)
    cook_d = change**2 / vb
    influential = (
        (np.abs(dffits) > 3 * math.sqrt(1 / (k - 1)))
        | (stats.chi2.cdf(cook_d, 1) > 0.5)
        | (hat > 3 / k)
        | (np.abs(dfbetas) > 1)
    )
    return pd.DataFrame(
        {
            "rstudent": rstudent,
            "dffits": dffits,
            "cook_d": cook_d,
            "cov_r": vb_del / vb,
            "tau2_del": tau2_del,
            "QE_del": [d.Q for d in deleted],
            "hat": hat,
            "weight": 100 * hat,
            "dfbetas": dfbetas,
            "influential": influential,
        },
        index=_labels(fit),
    )


def baujat(fit: MetaAnalysis) -> pd.DataFrame:
    """Return the coordinates of a Baujat plot (Baujat et al. 2002), as metafor's ``baujat`` has them.

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis of at least 3 studies.

    Returns
    -------
    pandas.DataFrame
        One row per study (indexed by its label, in input order): ``x``, the study's contribution
        to the heterogeneity, its squared Pearson residual ``(y_i - mu)^2 / (v_i + tau2)``; and
        ``y``, its influence on the overall result, ``(mu_(-i) - mu)^2 / se(mu_(-i))^2``.

    Raises
    ------
    DataError
        With fewer than 3 studies.

    Notes
    -----
    With ``tau2 = 0`` (a common-effect fit) ``x`` is the study's term of Cochran's Q, Baujat's
    original axis; metafor keeps the random-effects tau2 in it, and so does this.
    """
    _check_fit(fit, "baujat")
    y, v = fit.data.estimate, fit.data.variance
    deleted = _deleted(fit)
    mu_del = np.array([d.mu for d in deleted])
    vb_del = np.array([d.random.se**2 for d in deleted])
    return pd.DataFrame(
        {"x": (y - fit.mu) ** 2 / (v + fit.tau2), "y": (mu_del - fit.mu) ** 2 / vb_del},
        index=_labels(fit),
    )


# ---------------------------------------------------------------------------------------------
# Cumulative meta-analysis
# ---------------------------------------------------------------------------------------------


def cumul(
    fit: MetaAnalysis, order: Sequence | np.ndarray | pd.Series | None = None, *, decreasing: bool = False
) -> pd.DataFrame:
    """Cumulative meta-analysis: the studies added one at a time.

    Parameters
    ----------
    fit : MetaAnalysis
        A random-effects meta-analysis.
    order : array-like or None
        One sort key per study, in the data's order (e.g. the publication years); the studies
        are added in increasing order of the key (ties keep the data's order).  None: in the
        data's order.
    decreasing : bool
        Add them in decreasing order of the key instead.

    Returns
    -------
    pandas.DataFrame
        One row per step, indexed by the label of the study added, with the columns of
        :func:`leave1out` for the first 1, 2, ..., k studies.  The first row is the first study
        alone: its own estimate, ``tau2 = Q = I2 = 0``, ``Q_p = H2 = 1`` and, even under
        Knapp–Hartung (which needs two studies), z-test inference: as metafor.

    Raises
    ------
    ValueError
        If `order` does not have one key per study.
    """
    _check_fit(fit, "cumul", at_least=1)
    if order is None:
        index = np.arange(fit.k)
    else:
        keys = pd.Series(np.asarray(order))
        if len(keys) != fit.k:
            raise ValueError(f"cumul(): order needs one key per study ({fit.k}); got {len(keys)}")
        if keys.isna().any():
            raise ValueError("cumul(): order has missing keys; give every study a key")
        index = keys.sort_values(ascending=not decreasing, kind="stable").index.to_numpy()
    y, v, labels = fit.data.estimate[index], fit.data.variance[index], fit.data.groups[index]
    rows = []
    for j in range(1, fit.k + 1):
        # Knapp-Hartung needs two studies; for one, metafor falls back to the z test, and so does this.
        test = "z" if j == 1 else None
        rows.append(_row(_refit(fit, y[:j], v[:j], labels[:j], test=test)))
    return pd.DataFrame(rows, index=pd.Index(labels, name=fit.data.group_column))
