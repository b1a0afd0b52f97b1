r"""Predictions: a new group with a few observed trials, future counts, and held-out evaluation.

Everything here is exact. Under partial pooling a new group's data ``(y*, n*)`` also update the
hyperparameters, ``p(alpha, beta | y, y*) ∝ p(alpha, beta | y) BetaBinomial(y* | n*, alpha, beta)``:
the fitted grid is reweighted instead of refitting every group (and refitted only if the reweighted
posterior is not well inside it). Counts in ``m`` future trials follow a mixture of beta-binomials.

Event counts in an exposure are answered the same way, a group's exposure in place of its trials
and the negative binomial in place of the beta-binomial: a new group that has shown ``y*`` events
in exposure ``E*``, and later events of the same groups in later exposures. A new estimate with a
given standard error is a mixture of normals. The family supplies the maths (its ``log_marginal``,
``new_group`` and ``predictive_pmf``); :func:`predictive` and :func:`predictive_table` ask every
family the same question in its data's roles, a count and a size.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from .._core.validation import check_ci, ci_columns
from ..engines import exact, exact_logit
from ..families import registry
from ..families.normal_normal import mu_given_tau, to_tau
from ..fitting.fit import Fit

#: What ``Fit.hyper_grid`` raises for a fit without an exact grid (a sampling engine).
NOT_EXACT = (ValueError, NotImplementedError, AttributeError, KeyError, TypeError)


def _check_data(fit: Fit, y, size, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate new counts: successes of trials, or events in an exposure."""
    if registry.get(fit.family).data != "rates":
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
    pooling: ``Beta(a0 + y, b0 + n - y)``, the others are irrelevant. For event counts in an
    exposure ``successes`` are the group's events and ``trials`` its exposure, and the
    posteriors are Gammas (``Gamma(a0 + y, b0 + E)`` under no pooling).

    The exact engine reweights its grid (and refits if the reweighted posterior reaches the grid's
    edge); a sampling engine's draws of ``(alpha, beta)`` are reweighted the same way (importance
    sampling, accurate while the new group's few trials move the hyperparameters little). No and
    complete pooling are conjugate under either engine.

    Parameters
    ----------
    fit : Fit
        A fit of binomial counts or of event counts, any pooling, either engine.
    successes, trials : int or float
        What the new group has shown: its count and its size (events and exposure for rates).
    ci_kind, ci_prob : optional
        The interval (``hdi``, 0.94 by default).

    Returns
    -------
    pandas.Series
        ``mean``, ``sd`` and the interval, as in :meth:`Fit.new_group`.
    """
    kind, prob = check_ci(ci_kind, ci_prob)
    y, n = _check_data(fit, successes, trials, "new group")
    y, n = y[:1], n[:1]
    # the logit-normal family's no and complete pooling are the beta-binomial's closed forms
    maths = registry.get(fit.family).for_pooling(fit.pooling).maths
    if fit.pooling in ("none", "complete"):
        # Conjugate for either engine: the prior updated by the new counts (and, pooled, by all).
        prior = fit.model.priors["theta"]
        columns = maths.Pairs.from_counts(n, y).columns
        if fit.pooling == "complete":
            data = maths.Pairs.from_counts(*_data_columns(fit))
            columns = [c + data.count @ d for c, d in zip(columns, data.columns, strict=True)]
        marginal = maths.conjugate(prior, *columns)
        if not np.all(marginal.b > 0):
            raise ValueError(
                f"{fit.model.title} with the improper prior theta ~ {prior}: a new group with no exposure "
                "has no proper posterior"
            )
        mean, sd = marginal.mean, marginal.sd
    else:
        # The hyperparameters' posterior (grid nodes, or a sampler's draws) reweighted by the new
        # group's marginal likelihood; the grid refitted with the group if that reaches its edge.
        first, second, weight, is_exact = hyper_mixture(fit)
        with np.errstate(divide="ignore"):
            log_w = np.log(weight) + maths.log_marginal(y[0], n[0], first, second)
        log_w -= special.logsumexp(log_w)
        if is_exact and edge_mass(fit, fit.posterior.grid, log_w) > exact.EDGE_MASS:
            size_all, y_all = (np.append(c, v) for c, v in zip(_data_columns(fit), (n, y), strict=True))
            first, second, log_w = grid_nodes(fit, refit_grid(fit, size_all, y_all))
        mean, sd, marginal = maths.new_group(first, second, np.exp(log_w), n, y)
    lo, hi = exact.Quantity("theta_new", mean, sd, marginal, np.zeros(1, np.int64)).interval(kind, prob)
    lb, ub = ci_columns(kind, prob)
    return pd.Series(
        {"mean": mean[0], "sd": sd[0], lb: lo[0], ub: hi[0]}, name=f"theta_new | {y[0]}/{n[0]:g}"
    )


def _data_columns(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Return the fit's data as ``(size, count)``: ``(trials, successes)`` or ``(exposure, events)``."""
    count, size = registry.get(fit.family).roles
    return getattr(fit.data, size), getattr(fit.data, count)


def grid_nodes(fit: Fit, grid=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the hyperparameters at every cell of a partial fit's exact grid, with normalised log-weights.

    Parameters
    ----------
    fit : Fit
        A partial-pooling fit of a family with a 2-D grid.
    grid : optional
        Another grid of the same family (a refit); the fit's own by default.

    Returns
    -------
    first, second, log_weight : numpy.ndarray
        ``(alpha, beta)`` of a conjugate population, ``(mu, sigma)`` of the logit-normal's.
    """
    fam = registry.get(fit.family)
    grid = fit.posterior.grid if grid is None else grid
    if fam.conjugate is None:  # no conjugate population: the quadrature engine's grid over (mu, sigma)
        return exact_logit.grid_nodes(grid)
    return exact.grid_nodes(grid, fam.maths)


def edge_mass(fit: Fit, grid, log_weight: np.ndarray) -> np.ndarray:
    """Mass in the outermost ring of ``grid``'s cells under ``log_weight`` (rows of them, or one).

    Parameters
    ----------
    fit : Fit
        The partial fit whose family the grid is of.
    grid : Grid2D
        Its grid (or a refit's).
    log_weight : numpy.ndarray
        Log-weights of the cells, flattened, one row per reweighting.

    Returns
    -------
    numpy.ndarray
        The mass, per row. A logit-normal grid starting at ``sigma = 0`` is bounded there (no edge).
    """
    bounded = registry.get(fit.family).conjugate is None and exact_logit.starts_at_zero(grid)
    return exact.ring_mass(grid, log_weight, bounded_v=bounded)


def refit_grid(fit: Fit, size: np.ndarray, count: np.ndarray):
    """Fit partial pooling with ``fit``'s priors to other data, by the exact engine; return its grid.

    Parameters
    ----------
    fit : Fit
        A partial-pooling fit (its family and priors).
    size, count : numpy.ndarray
        Each group's size and count (trials and successes, exposure and events).

    Returns
    -------
    Grid2D
        The refit's grid, for :func:`grid_nodes`.
    """
    fam = registry.get(fit.family)
    if fam.conjugate is None:  # no conjugate population: the quadrature engine
        return exact_logit.fit_partial(fit.model.priors, size, count).grid
    pairs = fam.maths.Pairs.from_counts(size, count)
    return exact.fit_partial_pairs(fit.model.priors, pairs, family=fam.maths).grid


def hyper_mixture(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(first, second, weight, exact)`` over the hyperparameters' posterior of a partial fit.

    The hyperparameters are ``(alpha, beta)`` of a conjugate population and ``(mu, sigma)`` of the
    logit-normal's: the exact engine's grid nodes with their probabilities (``exact=True``);
    otherwise the posterior draws with equal weights.

    Parameters
    ----------
    fit : Fit
        A partial-pooling fit of a family with a 2-D grid.

    Returns
    -------
    first, second, weight : numpy.ndarray
    exact : bool
    """
    if fit.engine == "exact" and fit.pooling == "partial":
        first, second, log_w = grid_nodes(fit)
        return first, second, np.exp(log_w), True
    names = ("mu", "sigma") if registry.get(fit.family).conjugate is None else ("alpha", "beta")
    post = fit.idata["posterior"]
    first, second = (np.asarray(post[name].values, float).ravel() for name in names)
    return first, second, np.full(first.size, 1.0 / first.size), False


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
    if pooling == "partial":  # the family's mixture over the hyperparameters' nodes
        pmf = registry.get(fit.family).maths.predictive_pmf(n, *hyper_mixture(fit)[:3])
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
    if registry.get(fit.family).data != "rates":
        raise NotImplementedError(
            f"predictive_events is for event counts in an exposure; this fit is {fit.family}"
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
    fam = registry.get(fit.family)
    if fit.engine == "exact" and fam.conjugate is not None:
        a, b, log_w, index = exact.components(fit.posterior)
        a, b = a[index], b[index]  # (groups, K)
        lpd = special.logsumexp(fam.maths.log_marginal(y[:, None], n[:, None], a, b) + log_w, axis=1)
        mean = np.exp(special.logsumexp(np.log(fam.maths.component_mean(a, b)) + log_w, axis=1))
    else:
        # Draws of theta (a sampler's, or the logit-normal's, which has no conjugate mixture):
        # p(y_later | y) = E[Binomial(y_later | n_later, theta)] (Poisson(y_later | E_later theta)).
        theta = fit.idata["posterior"]["theta"].values
        theta = theta.reshape(theta.shape[0] * theta.shape[1], -1)  # (draws, groups), or (draws, 1)
        loglik = fam.likelihood.log_density(y[None, :], n[None, :], theta)
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
        One row per (record, pooling): the family's count and size (``successes``, ``trials``;
        ``events``, ``exposure``), ``pooling``, ``mean``, ``sd`` and the interval bounds.
    """
    rows = []
    for y, n in observed:
        for pooling, fit in fits.items():
            s = new_group_with_data(fit, y, n, ci_kind, ci_prob)
            count, size = registry.get(fit.family).roles
            rows.append({count: y, size: n, "pooling": pooling, **s.to_dict()})
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


def estimates_table(fits: Mapping[str, Fit], std_error: float, prob: float | None = None) -> pd.DataFrame:
    """Summarise a new estimate with standard error ``std_error`` under every pooling.

    Parameters
    ----------
    fits : mapping of pooling -> Fit
        Fits of estimates with standard errors.
    std_error : float
        The new estimate's standard error (> 0).
    prob : float, optional
        Probability of the equal-tailed interval (default 0.94).

    Returns
    -------
    pandas.DataFrame
        One row per pooling that has a proper prediction: ``std_error``, ``mean``, ``sd``, ``lb`` and
        ``ub`` of the mixture of normals of :func:`new_estimate` (exact). Its ``attrs`` hold
        ``"prob"`` and the poolings left out with why (``"excluded"``).
    """
    _, prob = check_ci(None, prob)
    rows, excluded = {}, {}
    for pooling, fit in fits.items():
        try:
            mixture = new_estimate(fit, std_error)[:3]
        except ValueError as err:  # no pooling under the flat prior has no prediction
            excluded[pooling] = str(err)
            continue
        rows[pooling] = {"std_error": float(std_error), **mixture_summary(*mixture, prob)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "pooling"
    table.attrs.update(prob=prob, excluded=excluded)
    return table


def estimate_density(fit: Fit, std_error: float, *, points: int = 401) -> pd.Series:
    """Predictive density of a new estimate with standard error ``std_error``, over its central 99.9%.

    Parameters
    ----------
    fit : Fit
        A fit of estimates with standard errors.
    std_error : float
        The new estimate's standard error (> 0).
    points : int
        How many evenly spaced points the density is tabulated at.

    Returns
    -------
    pandas.Series
        The density of the mixture of normals of :func:`new_estimate`, indexed by ``estimate``; its
        ``attrs`` hold ``mean``, ``sd`` and ``std_error``.
    """
    mixture = new_estimate(fit, std_error)[:3]
    summary = mixture_summary(*mixture, 0.999)
    x = np.linspace(summary["lb"], summary["ub"], points)
    out = pd.Series(mixture_pdf(x, *mixture), index=pd.Index(x, name="estimate"), name="p")
    out.attrs.update(mean=summary["mean"], sd=summary["sd"], std_error=float(std_error))
    return out


#: A new group's data given its size, by the kind of data (:attr:`~poolwise.families.registry.Family.data`).
_PREDICTIVE = {"binomial": predictive_counts, "rates": predictive_events, "estimates": estimate_density}
_TABLES = {"binomial": counts_table, "rates": events_table, "estimates": estimates_table}


def predictive(fit: Fit, size: float, **options) -> pd.Series:
    """Predictive distribution of a new group's count given its size, for every family.

    The count and the size are the family's data roles
    (:attr:`~poolwise.families.registry.Family.roles`): successes in ``size`` trials
    (:func:`predictive_counts`), events in an exposure ``size`` (:func:`predictive_events`), or an
    estimate with standard error ``size`` (:func:`estimate_density`).

    Parameters
    ----------
    fit : Fit
        Any family, any pooling.
    size : int or float
        The new group's trials, exposure or standard error.
    **options
        Passed on: ``mass`` and ``upto`` for event counts, ``points`` for estimates.

    Returns
    -------
    pandas.Series
        ``P(y_new = k)`` indexed by ``k`` for counts; the density of a new estimate, indexed by it.
    """
    return _PREDICTIVE[registry.get(fit.family).data](fit, size, **options)


def predictive_table(fits: Mapping[str, Fit], size: float, prob: float | None = None) -> pd.DataFrame:
    """Summarise a new group's count given its size under every pooling, for every family.

    Parameters
    ----------
    fits : mapping of pooling -> Fit
        Fits of the same data (``pw.fit_all``).
    size : int or float
        The new group's trials, exposure or standard error.
    prob : float, optional
        Probability of the intervals (default 0.94).

    Returns
    -------
    pandas.DataFrame
        :func:`counts_table`, :func:`events_table` or :func:`estimates_table`, by the kind of data.
    """
    family = registry.get(next(iter(fits.values())).family)
    return _TABLES[family.data](fits, size, prob)


def tau_line(fit: Fit) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``(tau, weight, mu_hat, v_mu)`` at the exact engine's nodes over ``tau``; None without a line.

    The nodes of the line in ``u = asinh(tau / c)`` with their trapezoid probabilities, and
    ``mu | tau, y ~ N(mu_hat, v_mu)`` there (BDA3 eq. 5.20).

    Parameters
    ----------
    fit : Fit
        A normal-normal fit.

    Returns
    -------
    tuple of numpy.ndarray, or None
        None for a fit without the exact engine's line (closed forms, a sampler).
    """
    post = getattr(fit, "posterior", None)
    line = getattr(post, "line", None)
    if line is None:
        return None
    tau = to_tau(line.nodes, post.data.scale)
    mu_hat, v_mu = mu_given_tau(tau, post.data, post.priors["mu"])
    return tau, line.weights, mu_hat, v_mu


def draws_of(fit: Fit, name: str) -> np.ndarray:
    """Return all posterior draws of a scalar parameter, chains pooled.

    Parameters
    ----------
    fit : Fit
    name : str
        The parameter (``mu``, ``tau``, ...).

    Returns
    -------
    numpy.ndarray
        Shape ``(chains * draws,)``.
    """
    return np.asarray(fit.idata["posterior"][name].values, float).ravel()


def new_estimate(fit: Fit, std_error: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    r"""``(mean, sd, weight, exact)``: a new group's estimate as a mixture of normals.

    A new estimate with standard error :math:`s` is :math:`y_\mathrm{new} \sim
    N(\theta_\mathrm{new}, s^2)`, its effect :math:`\theta_\mathrm{new}` predicted as for
    :meth:`~poolwise.Fit.new_group`. Partial pooling integrates :math:`\mu` and
    :math:`\theta_\mathrm{new}` out given :math:`\tau`:
    :math:`N(\hat\mu(\tau), V_\mu(\tau) + \tau^2 + s^2)` (BDA3 eq. 5.20), mixed over the exact
    engine's line in :math:`\tau` (or over a sampler's draws of :math:`(\mu, \tau)`:
    :math:`N(\mu, \tau^2 + s^2)`, Rao-Blackwellised). Complete pooling, and no pooling with a
    proper prior, are one normal: :math:`N(m, \sigma^2 + s^2)` with :math:`\theta_\mathrm{new}
    \sim N(m, \sigma^2)`.

    Raises
    ------
    ValueError
        ``std_error`` not a positive finite number, or no pooling with a flat prior (improper).
    """
    if isinstance(std_error, bool) or not (np.isfinite(std_error) and std_error > 0):
        raise ValueError(f"std_error must be a finite number > 0, got {std_error!r}")
    s2 = float(std_error) ** 2
    if fit.model.pooling != "partial":
        theta_new = fit.new_group().summary
        return (
            np.array([theta_new["mean"]]),
            np.array([np.hypot(theta_new["sd"], std_error)]),
            np.ones(1),
            True,
        )
    line = tau_line(fit)
    if line is None:
        mu, tau = draws_of(fit, "mu"), draws_of(fit, "tau")
        return mu, np.sqrt(tau**2 + s2), np.full(mu.size, 1.0 / mu.size), False
    tau, weight, mu_hat, v_mu = line
    return mu_hat, np.sqrt(v_mu + tau**2 + s2), weight, True


def mixture_summary(mean: np.ndarray, sd: np.ndarray, weight: np.ndarray, prob: float) -> dict[str, float]:
    """Mean, sd and the equal-tailed interval holding ``prob`` of a mixture of normals."""
    from scipy import optimize, special

    weight = weight / weight.sum()
    centre = float(weight @ mean)
    spread = float(np.sqrt(weight @ (sd**2 + (mean - centre) ** 2)))

    def quantile(q: float) -> float:
        def excess(x: float) -> float:
            return float(weight @ special.ndtr((x - mean) / sd)) - q

        # Every component's q-quantile lies between the extremes': so does the mixture's.
        z = special.ndtri(q)
        lo, hi = float(np.min(mean + z * sd)), float(np.max(mean + z * sd))
        return lo if hi - lo <= 0 else optimize.brentq(excess, lo, hi, xtol=1e-12 * (1 + abs(hi)))

    tail = (1 - prob) / 2
    return {"mean": centre, "sd": spread, "lb": quantile(tail), "ub": quantile(1 - tail)}


def mixture_pdf(
    x: np.ndarray, mean: np.ndarray, sd: np.ndarray, weight: np.ndarray, *, each: bool = False
) -> np.ndarray:
    """Density at ``x`` of the mixture of normals ``sum_k weight_k N(mean_k, sd_k^2)``.

    With ``each``, the weighted components apart, shape ``(len(x), len(mean))``.
    """
    z = (np.asarray(x, float)[:, None] - mean[None, :]) / sd[None, :]
    parts = np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * sd[None, :]) * (weight / weight.sum())[None, :]
    return parts if each else parts.sum(axis=1)
