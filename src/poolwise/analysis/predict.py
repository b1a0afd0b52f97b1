r"""Predictions: a new group with a few observed trials, future counts, and held-out evaluation.

Everything here is exact. Under partial pooling a new group's data ``(y*, n*)`` also update the
hyperparameters, ``p(alpha, beta | y, y*) ∝ p(alpha, beta | y) BetaBinomial(y* | n*, alpha, beta)``:
the fitted grid is reweighted instead of refitting every group (and refitted only if the reweighted
posterior is not well inside it). Counts in ``m`` future trials follow a mixture of beta-binomials.

Event counts (the gamma-Poisson family) are answered the same way, a group's exposure in place of its
trials and the negative binomial in place of the beta-binomial: a new group that has shown ``y*``
events in exposure ``E*``, and later events of the same groups in later exposures.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from .._core.validation import check_ci, ci_columns
from ..engines import exact
from ..families import beta_binomial as family
from ..families import gamma_poisson
from ..fitting.fit import Fit

#: What ``Fit.hyper_grid`` raises for a fit without an exact grid (a sampling engine).
NOT_EXACT = (ValueError, NotImplementedError, AttributeError, KeyError, TypeError)


def _conjugate_family(fit: Fit):
    """Return the family module whose conjugate posteriors answer ``fit``'s predictions."""
    return gamma_poisson if fit.family == "gamma-poisson" else family


def _check_data(fit: Fit, y, size, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate new counts: successes of trials, or events in an exposure (gamma-Poisson)."""
    if fit.family != "gamma-poisson":
        return _check_counts(y, size, what)
    events = np.atleast_1d(np.asarray(y))
    exposure = np.atleast_1d(np.asarray(size))
    if (
        events.dtype.kind not in "iuf"
        or not np.all(np.isfinite(events))
        or np.any(events != np.round(events))
        or np.any(events < 0)
    ):
        raise ValueError(f"{what}: events must be whole numbers >= 0, got {events.tolist()!r}")
    if exposure.dtype.kind not in "iuf" or not np.all(np.isfinite(exposure)) or np.any(exposure < 0):
        raise ValueError(f"{what}: exposures must be finite numbers >= 0, got {exposure.tolist()!r}")
    if np.any((events > 0) & (exposure == 0)):
        raise ValueError(f"{what}: events {events.tolist()!r} need exposure > 0, got {exposure.tolist()!r}")
    return events.astype(np.int64), exposure.astype(float)


def _check_counts(successes, trials, what: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.atleast_1d(np.asarray(successes))
    n = np.atleast_1d(np.asarray(trials))
    for name, values in (("successes", y), ("trials", n)):
        if (
            values.dtype.kind not in "iuf"
            or not np.all(np.isfinite(values))
            or np.any(values != np.round(values))
        ):
            raise ValueError(f"{what}: {name} must be whole numbers, got {values.tolist()!r}")
        if np.any(values < 0):
            raise ValueError(f"{what}: {name} must be >= 0, got {values.tolist()!r}")
    if np.any(y > n):
        raise ValueError(f"{what}: successes {y.tolist()!r} exceed trials {n.tolist()!r}")
    return y.astype(np.int64), n.astype(np.int64)


def new_group_with_data(
    fit: Fit, successes: int, trials: float, ci_kind: str | None = None, ci_prob: float | None = None
) -> pd.Series:
    """Posterior of ``theta`` for a new group that has shown ``successes`` in ``trials``.

    Partial pooling: the group joins the population (the hyperparameters are updated by its data, and
    it borrows strength from the others). Complete pooling: its counts join the shared rate's. No
    pooling: ``Beta(a0 + y, b0 + n - y)``, the others are irrelevant. For event counts
    (gamma-Poisson) ``successes`` are the group's events and ``trials`` its exposure, and the
    posteriors are Gammas (``Gamma(a0 + y, b0 + E)`` under no pooling).

    The exact engine reweights its grid (and refits if the reweighted posterior reaches the grid's
    edge); a sampling engine's draws of ``(alpha, beta)`` are reweighted the same way (importance
    sampling, accurate while the new group's few trials move the hyperparameters little). No and
    complete pooling are conjugate under either engine.

    Returns
    -------
    pandas.Series
        ``mean``, ``sd`` and the interval, as in :meth:`Fit.new_group`.
    """
    kind, prob = check_ci(ci_kind, ci_prob)
    y, n = _check_data(fit, successes, trials, "new group")
    y, n = y[:1], n[:1]
    fam = _conjugate_family(fit)
    new = fam.Pairs.from_counts(n, y)
    if fit.pooling in ("none", "complete"):
        # Conjugate for either engine: the prior updated by the new counts (and, pooled, by all).
        prior = fit.model.priors["theta"]
        columns = new.columns
        if fit.pooling == "complete":
            data = fam.Pairs.from_counts(*_data_columns(fit))
            columns = [c + data.count @ d for c, d in zip(columns, data.columns, strict=True)]
        marginal = fam.conjugate(prior, *columns)
        if not np.all(marginal.b > 0):
            raise ValueError(
                f"{fit.model.title} with the improper prior theta ~ {prior}: a new group with no exposure "
                "has no proper posterior"
            )
        mean, sd = marginal.mean, marginal.sd
    elif fit.family == "logit-normal":
        mean, sd, marginal = _logit_normal_new_group(fit, y, n)
    else:
        # The hyperparameters' posterior (grid nodes, or a sampler's draws) reweighted by the new data.
        alpha, beta, weight, is_exact = hyper_mixture(fit)
        with np.errstate(divide="ignore"):
            log_w = np.log(weight) + fam.log_marginal(y[0], n[0], alpha, beta)
        log_w -= special.logsumexp(log_w)
        if is_exact and exact.ring_mass(fit.posterior.grid, log_w) > exact.EDGE_MASS:
            size_all, y_all = (np.append(c, v) for c, v in zip(_data_columns(fit), (n, y), strict=True))
            pairs = fam.Pairs.from_counts(size_all, y_all)
            refit = exact.fit_partial_pairs(fit.model.priors, pairs, family=fam)
            alpha, beta, log_w = exact.grid_nodes(refit.grid, fam)
        mean, sd, marginal = fam.mixture(*fam.posterior_params(alpha, beta, new), np.exp(log_w))
    lo, hi = exact.Quantity("theta_new", mean, sd, marginal, np.zeros(1, np.int64)).interval(kind, prob)
    lb, ub = ci_columns(kind, prob)
    return pd.Series(
        {"mean": mean[0], "sd": sd[0], lb: lo[0], ub: hi[0]}, name=f"theta_new | {y[0]}/{n[0]:g}"
    )


def _logit_normal_new_group(fit: Fit, y: np.ndarray, n: np.ndarray):
    """Predict a new group's theta under logit-normal partial pooling, its counts joining the data.

    The nodes of ``(mu, sigma)`` (the exact grid's, or a sampler's draws) are reweighted by the new
    group's marginal likelihood (the family's quadrature); the grid is refitted with the new group if
    the reweighted posterior reaches its edge. Then ``theta`` is the family's mixture over the nodes.
    """
    from ..engines import exact_logit
    from ..families import logit_normal

    mu, sigma, weight, is_exact = _logit_nodes(fit)
    with np.errstate(divide="ignore"):
        log_w = np.log(weight) + logit_normal.log_group_marginal(n[0], y[0], mu, sigma)
    log_w -= special.logsumexp(log_w)
    if is_exact:
        grid = fit.posterior.grid
        edge = exact.ring_mass(grid, log_w, bounded_v=exact_logit.starts_at_zero(grid))
        if edge > exact.EDGE_MASS:
            trials_all, successes_all = np.append(fit.data.trials, n), np.append(fit.data.successes, y)
            refit = exact_logit.fit_partial(fit.model.priors, trials_all, successes_all)
            mu, sigma, log_w = exact_logit.grid_nodes(refit.grid)
    weight = np.exp(log_w)
    keep = weight > 1e-14 * weight.max()  # nodes that cannot move any probability
    return logit_normal.theta_mixture(mu[keep], sigma[keep], weight[keep] / weight[keep].sum(), n, y)


def _logit_nodes(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(mu, sigma, weight, exact)`` over a logit-normal fit's hyperparameters: grid or draws."""
    from ..engines import exact_logit

    if fit.engine == "exact":
        mu, sigma, log_w = exact_logit.grid_nodes(fit.posterior.grid)
        return mu, sigma, np.exp(log_w), True
    post = fit.idata["posterior"]
    mu = np.asarray(post["mu"].values, float).ravel()
    sigma = np.asarray(post["sigma"].values, float).ravel()
    return mu, sigma, np.full(mu.size, 1.0 / mu.size), False


def _data_columns(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Return the fit's data as ``(size, count)``: ``(trials, successes)`` or ``(exposure, events)``."""
    if fit.family == "gamma-poisson":
        return fit.data.exposure, fit.data.events
    return fit.data.trials, fit.data.successes


def hyper_mixture(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(alpha, beta, weight, exact)`` over the hyperparameters' posterior.

    The exact engine's grid nodes with their probabilities (``exact=True``); otherwise the
    posterior draws with equal weights.
    """
    if (
        fit.engine == "exact"
        and fit.family in ("beta-binomial", "gamma-poisson")
        and fit.pooling == "partial"
    ):
        alpha, beta, log_w = exact.grid_nodes(fit.posterior.grid, fit.posterior.family)
        return alpha, beta, np.exp(log_w), True
    post = fit.idata["posterior"]
    alpha = np.asarray(post["alpha"].values, float).ravel()
    beta = np.asarray(post["beta"].values, float).ravel()
    return alpha, beta, np.full(alpha.size, 1.0 / alpha.size), False


def predictive_counts(fit: Fit, trials: int) -> pd.Series:
    r"""Predictive distribution of a new group's successes in ``trials`` trials.

    Parameters
    ----------
    fit : Fit
        Any pooling.
    trials : int
        Number of trials :math:`n` of the new group.

    Returns
    -------
    pandas.Series
        :math:`P(y_\mathrm{new} = k)` for :math:`k = 0, \dots, n`, indexed by ``k``; sums to one.

    Notes
    -----
    Given :math:`\theta_\mathrm{new} \sim \mathrm{Beta}(a, b)`, the count is beta-binomial, so the
    predictive is a mixture of beta-binomials, computed without sampling:

    - partial pooling, exact engine: over the engine's grid,
      :math:`\sum_j w_j\,\mathrm{BetaBinomial}(k \mid n, \alpha_j, \beta_j)`, the quadrature behind
      every other exact summary (converged to the fit's ``tol``). Integrating the tabulated
      :math:`\theta_\mathrm{new}` density against the binomial instead would be less accurate: that
      density is unbounded at 0 or 1 whenever :math:`\alpha < 1` or :math:`\beta < 1` is plausible
      (as for SpaceX). Binomial draws per :math:`\theta_\mathrm{new}` draw would add Monte Carlo error;
    - complete pooling: :math:`\mathrm{BetaBinomial}(n, a_0 + \sum y, b_0 + \sum (n - y))` with the
      prior :math:`\mathrm{Beta}(a_0, b_0)`;
    - no pooling: the prior's beta-binomial, since no group informs another;
    - a sampling engine: the beta-binomial averaged over the posterior draws of
      :math:`(\alpha, \beta)` (Rao-Blackwellised: less Monte Carlo error than binomial draws).
    """
    from scipy import stats

    if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1:
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    n = int(trials)
    k = np.arange(n + 1)
    pooling = fit.model.pooling
    if pooling == "partial" and fit.family == "logit-normal":
        pmf = _logit_normal_counts(fit, n)
    elif pooling == "partial":
        alpha, beta, weight, _ = hyper_mixture(fit)
        keep = np.argsort(weight)[::-1]
        mass = np.cumsum(weight[keep])
        keep = keep[: int(np.searchsorted(mass, mass[-1] * (1 - 1e-12))) + 1]
        alpha, beta, weight = alpha[keep], beta[keep], weight[keep] / weight[keep].sum()
        pmf = np.zeros(n + 1)
        chunk = max(1, 2_000_000 // (n + 1))
        for start in range(0, alpha.size, chunk):
            a = alpha[start : start + chunk, None]
            b = beta[start : start + chunk, None]
            logp = stats.betabinom.logpmf(k[None, :], n, a, b)
            pmf += weight[start : start + chunk] @ np.exp(logp)
    else:
        prior = fit.model.priors["theta"]
        a, b = float(prior.alpha), float(prior.beta)
        if pooling == "complete":
            y, m = np.asarray(fit.data.successes), np.asarray(fit.data.trials)
            a, b = a + float(y.sum()), b + float((m - y).sum())
        pmf = np.exp(stats.betabinom.logpmf(k, n, a, b))
    pmf = pmf / pmf.sum()
    return pd.Series(pmf, index=pd.Index(k, name="k"), name=f"P(y_new = k | n = {n})")


def _rate_components(fit: Fit) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Return a new group's rate as a mixture: ``("gamma", a, b, weight)`` or ``("point", theta, _, weight)``.

    Partial pooling: the Gamma population ``Gamma(alpha, beta)`` at the exact grid's cells (or the
    draws), its lightest cells holding 1e-12 of the mass left out; the closed forms: their one
    conjugate Gamma; a sampler's other poolings: the draws of ``theta_new`` themselves.
    """
    if fit.model.pooling == "partial":
        alpha, beta, weight, _ = hyper_mixture(fit)
        order = np.argsort(weight)
        light = order[np.cumsum(weight[order]) < 1e-12 * weight.sum()]
        keep = np.ones(weight.size, bool)
        keep[light] = False
        return "gamma", alpha[keep], beta[keep], weight[keep] / weight[keep].sum()
    q = fit.posterior.new_group
    if q is None:
        raise ValueError(
            f"{fit.model.title} with the improper prior theta ~ {fit.model.priors['theta']}: an unseen "
            "group's rate has no proper distribution, nor have its events"
        )
    marginal = q.marginal
    if hasattr(marginal, "a") and hasattr(marginal, "b"):  # a conjugate Gamma (exact engine)
        row = int(q.index[0])
        return "gamma", marginal.a[row : row + 1], marginal.b[row : row + 1], np.ones(1)
    theta = np.asarray(fit.idata["posterior_predictive"]["theta_new"].values, float).ravel()
    return "point", theta, theta, np.full(theta.size, 1.0 / theta.size)


def _events_cdf(kind: str, a: np.ndarray, b: np.ndarray, w: np.ndarray, exposure: float):
    from scipy import stats

    if kind == "gamma":  # y | theta ~ Poisson(E theta), theta ~ Gamma(a, b): negative binomial
        p = b / (b + exposure)
        return lambda k: float(w @ stats.nbinom.cdf(k, a, p))
    return lambda k: float(w @ stats.poisson.cdf(k, exposure * a))


def predictive_events(fit: Fit, exposure: float, *, mass: float = 0.99, upto: int | None = None) -> pd.Series:
    r"""Predictive distribution of a new group's events in ``exposure``, up to its ``mass`` quantile.

    Parameters
    ----------
    fit : Fit
        A gamma-Poisson fit, any pooling (no pooling needs a proper prior on ``theta``).
    exposure : float
        Exposure :math:`E` of the new group (> 0), in the data's units.
    mass : float
        The series runs from 0 to the smallest :math:`K` with :math:`P(y_\mathrm{new} \le K)
        \ge` ``mass``: the tail has no end, and may be heavy.
    upto : int, optional
        Run the series to this :math:`K` instead (to draw several poolings on one axis).

    Returns
    -------
    pandas.Series
        :math:`P(y_\mathrm{new} = k)` for :math:`k = 0, \dots, K`, indexed by ``k``; its ``attrs``
        hold ``tail`` (:math:`P(y_\mathrm{new} > K)`) and ``exposure``.

    Notes
    -----
    Given :math:`\theta_\mathrm{new} \sim \mathrm{Gamma}(a, b)`, the count
    :math:`y_\mathrm{new} \sim \mathrm{Poisson}(E\,\theta_\mathrm{new})` is negative binomial with
    :math:`a` and :math:`p = b / (b + E)`, so the predictive is a mixture of negative binomials,
    computed without sampling: over the exact engine's grid of :math:`(\alpha, \beta)` (partial
    pooling), or the conjugate :math:`\mathrm{Gamma}(a_0 + \sum y, b_0 + \sum E)` (complete
    pooling), or the prior (no pooling); a sampler averages over its draws of :math:`(\alpha,
    \beta)`. Under the default priors :math:`E[y_\mathrm{new}] = E\,E[\mu]` may be infinite:
    summarise it by quantiles (:func:`events_summary`), not by its mean.

    Raises
    ------
    ValueError
        ``exposure`` not a positive finite number, or no pooling with an improper prior.
    """
    from scipy import stats

    if isinstance(exposure, bool) or not (np.isfinite(exposure) and exposure > 0):
        raise ValueError(f"exposure must be a finite number > 0, got {exposure!r}")
    if fit.family != "gamma-poisson":
        raise NotImplementedError(
            f"predictive_events is for event counts (gamma-poisson); this fit is {fit.family}"
        )
    kind, a, b, w = _rate_components(fit)
    cdf = _events_cdf(kind, a, b, w, float(exposure))
    if upto is not None:
        top = int(upto)
    else:  # the quantile: doubling, then bisection over whole numbers (the cdf is monotone)
        top = 16
        while cdf(top) < mass and top < 2**40:
            top *= 2
        low = top // 2 if top > 16 else -1
        while top - low > 1:
            middle = (low + top) // 2
            low, top = (middle, top) if cdf(middle) < mass else (low, middle)
    k = np.arange(top + 1)
    pmf = np.zeros(k.size)
    block = max(1, 2**22 // max(a.size, 1))
    for start in range(0, k.size, block):
        part = k[start : start + block, None]
        if kind == "gamma":
            values = stats.nbinom.pmf(part, a[None, :], (b / (b + exposure))[None, :])
        else:
            values = stats.poisson.pmf(part, exposure * a[None, :])
        pmf[start : start + block] = values @ w
    out = pd.Series(pmf, index=pd.RangeIndex(k.size, name="k"), name="p")
    out.attrs.update(tail=max(0.0, 1.0 - cdf(top)), exposure=float(exposure))
    return out


def events_summary(pmf: pd.Series, prob: float) -> dict[str, float]:
    """Median, equal-tailed interval holding ``prob`` and ``P(y = 0)`` of :func:`predictive_events`.

    The quantiles are exact as long as the series reaches beyond the interval's upper end (its
    ``mass`` above ``1 - (1 - prob) / 2``); an upper end past the series is reported as NaN.
    """
    cum = np.cumsum(pmf.to_numpy())
    k = pmf.index.to_numpy()

    def quantile(q: float) -> float:
        at = int(np.searchsorted(cum, q - 1e-12))
        return float(k[at]) if at < k.size else float("nan")

    tail = (1 - prob) / 2
    return {"median": quantile(0.5), "lb": quantile(tail), "ub": quantile(1 - tail), "p0": float(pmf.iloc[0])}


def count_summary(pmf: pd.Series, prob: float) -> dict[str, float]:
    """Mean, sd and the equal-tailed interval of a distribution over counts ``0..n``."""
    k = pmf.index.to_numpy(float)
    p = pmf.to_numpy(float)
    mean = float(np.sum(k * p))
    sd = float(np.sqrt(max(np.sum((k - mean) ** 2 * p), 0.0)))
    cdf = np.cumsum(p)
    tail = (1 - prob) / 2
    lo = int(k[min(np.searchsorted(cdf, tail, side="left"), k.size - 1)])
    hi = int(k[min(np.searchsorted(cdf, 1 - tail, side="left"), k.size - 1)])
    return {"mean": mean, "sd": sd, "lb": lo, "ub": hi}


def _logit_normal_counts(fit: Fit, n: int) -> np.ndarray:
    """``P(y_new = k)`` under logit-normal partial pooling: ``sum_g w_g p(k | n, mu_g, sigma_g)``.

    Each term is the family's quadrature of the binomial over ``logit theta ~ N(mu_g, sigma_g^2)``,
    on the exact engine's grid; a sampling engine's draws of ``(mu, sigma)`` with equal weights.
    """
    from ..families import logit_normal

    mu, sigma, weight, _ = _logit_nodes(fit)
    keep = weight > 1e-14 * weight.max()  # nodes that cannot move any probability
    mu, sigma, weight = mu[keep], sigma[keep], weight[keep]
    k = np.arange(n + 1)
    pmf = np.zeros(n + 1)
    chunk = max(1, 200_000 // (n + 1))
    for start in range(0, mu.size, chunk):
        part = slice(start, start + chunk)
        log_p = logit_normal.log_group_marginal(n, k[None, :], mu[part, None], sigma[part, None])
        pmf += weight[part] @ np.exp(log_p)
    return pmf


def heldout(fit: Fit, successes, trials) -> pd.DataFrame:
    """Score the fit on later counts for the same groups (e.g. the rest of a season).

    Parameters
    ----------
    fit : Fit
    successes, trials : array-like
        Later counts, one per group in the data's order.

    Returns
    -------
    pandas.DataFrame
        Per group: ``lpd`` = ``log p(y_later | y)`` (the exact posterior predictive; with a sampling
        engine, the binomial averaged over the draws of theta), ``mean`` (the
        posterior mean of theta), ``observed_rate`` = y_later / n_later and ``squared_error`` of the
        mean against it (NaN where there are no later trials). ``DataFrame.sum()`` gives the totals.
    """
    y, n = _check_data(fit, successes, trials, "held-out counts")
    if y.size != fit.data.n_groups:
        raise ValueError(f"held-out counts: need one per group ({fit.data.n_groups}), got {y.size}")
    fam = _conjugate_family(fit)
    if fit.engine == "exact" and fit.family in ("beta-binomial", "gamma-poisson"):
        a, b, log_w, index = exact.components(fit.posterior)
        a, b = a[index], b[index]  # (groups, K)
        lpd = special.logsumexp(fam.log_marginal(y[:, None], n[:, None], a, b) + log_w, axis=1)
        mean = np.exp(special.logsumexp(np.log(fam.component_mean(a, b)) + log_w, axis=1))
    else:
        # Draws of theta (a sampler's, or the logit-normal's, which has no conjugate mixture):
        # p(y_later | y) = E[Binomial(y_later | n_later, theta)] (Poisson(y_later | E_later theta)).
        theta = fit.idata["posterior"]["theta"].values
        theta = theta.reshape(theta.shape[0] * theta.shape[1], -1)  # (draws, groups), or (draws, 1)
        if fit.family == "gamma-poisson":
            loglik = gamma_poisson.poisson_logpmf(y[None, :], n[None, :], theta)
        else:
            loglik = family.binomial_logpmf(y[None, :], n[None, :], theta)
        lpd = special.logsumexp(loglik, axis=0) - np.log(theta.shape[0])
        mean = np.broadcast_to(theta.mean(axis=0), y.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, y / np.where(n > 0, n, 1), np.nan)  # exposures may be below 1
    return pd.DataFrame(
        {"lpd": lpd, "mean": mean, "observed_rate": rate, "squared_error": (mean - rate) ** 2},
        index=pd.Index(fit.data.groups, name=fit.data.group_column),
    )


def heldout_table(fits: Mapping[str, Fit], successes, trials) -> pd.DataFrame:
    """Score every pooling on later counts for the same groups, one row per pooling.

    Parameters
    ----------
    fits : mapping of pooling -> Fit
        Fits of the same data (``pw.fit_all``), with either engine.
    successes, trials : array-like
        Later counts, one per group in the data's order (see :func:`heldout`).

    Returns
    -------
    pandas.DataFrame
        ``lpd`` (the sum over groups of ``log p(y_later | y)``; higher is better), ``lpd_se`` (its
        standard error across groups, ``sqrt(G) * sd``, as for elpd), ``mse`` (mean squared error of
        the posterior means against the later rates, over the groups with later trials) and
        ``groups_scored`` (those groups), sorted by ``lpd``.
    """
    rows = {}
    for pooling, fit in fits.items():
        per_group = heldout(fit, successes, trials)
        scored = per_group["squared_error"].notna()
        rows[pooling] = {
            "lpd": per_group["lpd"].sum(),
            "lpd_se": np.sqrt(len(per_group)) * per_group["lpd"].std(ddof=1)
            if len(per_group) > 1
            else np.nan,
            "mse": per_group.loc[scored, "squared_error"].mean() if scored.any() else np.nan,
            "groups_scored": int(scored.sum()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "pooling"
    return table.sort_values("lpd", ascending=False)


def new_groups_table(
    fits: Mapping[str, Fit],
    observed: list[tuple[int, int]],
    ci_kind: str | None = None,
    ci_prob: float | None = None,
) -> pd.DataFrame:
    """:func:`new_group_with_data` for several observed records under every pooling.

    Parameters
    ----------
    fits : mapping of pooling -> Fit
    observed : list of (successes, trials)
        What each new group has shown, e.g. ``[(2, 3)]``.

    Returns
    -------
    pandas.DataFrame
        One row per (record, pooling): ``successes``, ``trials`` (``events``, ``exposure`` for
        gamma-Poisson fits), ``pooling``, ``mean``, ``sd`` and the interval bounds.
    """
    rows = []
    for y, n in observed:
        for pooling, fit in fits.items():
            s = new_group_with_data(fit, y, n, ci_kind, ci_prob)
            names = ("events", "exposure") if fit.family == "gamma-poisson" else ("successes", "trials")
            rows.append({names[0]: y, names[1]: n, "pooling": pooling, **s.to_dict()})
    return pd.DataFrame(rows)


def counts_table(fits: Mapping[str, Fit], trials: int, prob: float | None = None) -> pd.DataFrame:
    """Summarise a new group's successes in ``trials`` trials under every pooling.

    Returns
    -------
    pandas.DataFrame
        One row per pooling: ``trials``, ``mean``, ``sd`` and the equal-tailed interval ``lb``, ``ub``
        of :func:`predictive_counts` (exact), at probability ``prob`` (default 0.94). Its ``attrs``
        hold each pooling's whole distribution (``"pmf"``) and ``"prob"``.
    """
    _, prob = check_ci(None, prob)
    pmfs = {pooling: predictive_counts(fit, trials) for pooling, fit in fits.items()}
    table = pd.DataFrame.from_dict(
        {pooling: {"trials": trials, **count_summary(pmf, prob)} for pooling, pmf in pmfs.items()},
        orient="index",
    )
    table.index.name = "pooling"
    table.attrs.update(pmf=pmfs, prob=prob)
    return table


def events_table(fits: Mapping[str, Fit], exposure: float, prob: float | None = None) -> pd.DataFrame:
    """Summarise a new group's events in ``exposure`` under every pooling (gamma-Poisson fits).

    Returns
    -------
    pandas.DataFrame
        One row per pooling that has a proper prediction: ``exposure``, ``median``, the equal-tailed
        interval ``lb``, ``ub`` at probability ``prob`` (default 0.94) and ``p0`` = P(no event), from
        :func:`predictive_events` (exact; the mean may be infinite, so it is not reported). Its
        ``attrs`` hold each pooling's distribution up to its 0.999 quantile (``"pmf"``), ``"prob"``
        and the poolings left out with why (``"excluded"``).
    """
    _, prob = check_ci(None, prob)
    mass = max(0.999, 1 - (1 - prob) / 4)  # beyond the interval's upper end, so that it is exact
    pmfs, excluded = {}, {}
    for pooling, fit in fits.items():
        try:
            pmfs[pooling] = predictive_events(fit, exposure, mass=mass)
        except ValueError as err:  # no pooling under an improper prior has no prediction
            excluded[pooling] = str(err)
    table = pd.DataFrame.from_dict(
        {
            pooling: {"exposure": float(exposure), **events_summary(pmf, prob)}
            for pooling, pmf in pmfs.items()
        },
        orient="index",
    )
    table.index.name = "pooling"
    table.attrs.update(pmf=pmfs, prob=prob, excluded=excluded)
    return table
