r"""Which pooling do the data support? Exact leave-one-group-out CV beside PSIS-LOO.

For each pooling, the expected log predictive density of a held-out group,

.. math:: \mathrm{elpd}_{\mathrm{logo}} = \sum_i \log p(y_i \mid y_{-i}),

is computed *exactly*: no pooling gives the prior predictive ``BetaBinomial(n_i, a0, b0)``; complete
pooling ``BetaBinomial(n_i, a0 + Y - y_i, b0 + F - f_i)``; partial pooling reweights the hyperparameter
grid by ``1 / p(y_i | alpha, beta)`` (the posterior without group ``i``) and refits without the group
whenever that reweighted posterior is not well inside the grid. Event counts in an exposure (the
gamma-Poisson family) are the same with the negative binomial ``NB(y_i | E_i, a, b)`` of a
``Gamma(a, b)`` rate in place of the beta-binomial: the prior's ``(a0, b0)`` (none; improper under
Jeffreys' ``Gamma(1/2, 0)``, so that pooling is left out), the others' ``(a0 + Y - y_i, b0 + E -
E_i)`` (complete) and ``(alpha, beta)`` on the grid (partial); the logit-normal family reweights its
grid over ``(mu, sigma)`` by its quadrature of ``p(y_i | mu, sigma)``. A group with no trials or no exposure
has ``y_i = 0`` surely: ``log 1 = 0`` under every pooling. Beside it, ArviZ's PSIS-LOO from the
pointwise log-likelihood, whose Pareto-k values show where importance sampling cannot be trusted (with
one observation per group, leaving a group out moves its ``theta_i`` far, so high k is common). Stacking
weights (Yao et al. 2018) are computed on the exact pointwise values.

For estimates with standard errors (the normal-normal family) the held-out predictive is
``N(y_i | m, v + s_i^2)`` with ``(m, v)`` the posterior of the shared ``theta`` without group ``i``
(complete pooling) or the prior (no pooling; undefined under the flat prior, so that pooling is left
out of the comparison), and for partial pooling the refit without group ``i`` (one line over ``tau``,
milliseconds) integrates ``N(y_i | mu_hat(tau), V_mu(tau) + tau^2 + s_i^2)`` over ``p(tau | y_-i)``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..data import BinomialData, EstimateData, RateData
from ..engines import exact
from ..errors import PoolwiseWarning
from ..families import beta_binomial, normal_normal, registry
from ..families.models import PriorSpec
from ..fitting.fit import Fit, FitSet, fit_all
from .predict import edge_mass, grid_nodes, refit_grid


@dataclass(frozen=True)
class Comparison:
    """Model comparison of several poolings on the same data.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pooling, best first: ``rank``, ``elpd_logo`` (exact), ``se``, ``elpd_diff``,
        ``se_diff`` (against the best), ``p_logo`` (in-sample lpd minus elpd_logo), ``weight``
        (stacking on the exact values), and PSIS-LOO's ``elpd_psis``, ``se_psis``,
        ``pareto_k_max`` and ``n_bad_k`` (k > 0.7). A group whose log-likelihood no draw changes
        (no trials, no exposure) is exact without importance sampling: its PSIS value is that
        constant and its k NaN.
    pointwise : pandas.DataFrame
        Per group and pooling: ``elpd_logo``, ``elpd_psis``, ``pareto_k``.
    fits : FitSet
        The fits compared.
    """

    table: pd.DataFrame
    pointwise: pd.DataFrame
    fits: FitSet

    def __repr__(self) -> str:
        return "<poolwise.Comparison>\n" + self.table.to_string(float_format=lambda v: f"{v:.3g}")

    def _repr_html_(self) -> str:
        """Show the comparison table in Jupyter."""
        caption = (
            "<p><b>poolwise.Comparison</b>: exact leave-one-group-out CV (elpd_logo), PSIS-LOO beside it</p>"
        )
        return caption + self.table.to_html(float_format=lambda v: f"{v:.3g}")


def _predictive(post, size: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log p(y | size)`` of a group whose parameter has the family's conjugate ``(a, b)``.

    The beta-binomial pmf for a ``Beta(a, b)``, the negative binomial for a ``Gamma(a, b)`` rate
    (the family's ``log_marginal``). Every predictive below is one of these: the prior's (no pooling),
    the others' pooled posterior (complete), or one per grid node (partial).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # an improper (a, b) gives NaN, handled by callers
        return post.family.log_marginal(y, size, a, b)


def _group_columns(post) -> tuple[np.ndarray, np.ndarray]:
    """Each group's ``(size, y)``: trials and successes, or exposure and events, in the data's order."""
    size, y = post.pairs.columns
    return size[post.pairs.inverse], y[post.pairs.inverse]


def _sum_of_others(x: np.ndarray) -> np.ndarray:
    """``sum(x) - x[i]`` for every ``i``, summed without ``x[i]`` so that no digits cancel.

    A float exposure that dwarfs the others' would otherwise leave them a rounding error of its own
    size; and when every other group has none, the result is exactly 0.
    """
    zero = np.zeros(1, x.dtype)
    before = np.concatenate([zero, np.cumsum(x)[:-1]])
    after = np.concatenate([np.cumsum(x[::-1])[:-1][::-1], zero])
    return before + after


def _nodes_likelihood(fit: Fit, grid, p) -> tuple[np.ndarray, np.ndarray]:
    """``log p(y_p | phi_k)`` for pairs ``p`` at every node ``phi_k`` of a grid, and the nodes' log-weights.

    The hyperparameters ``phi`` are ``(alpha, beta)`` for a conjugate family (the beta-binomial or the
    negative-binomial likelihood) and ``(mu, sigma)`` for the logit-normal (its quadrature).
    """
    post = fit.posterior
    size, y = (column[p, None] for column in post.pairs.columns)
    first, second, log_w = grid_nodes(fit, grid)
    if registry.get(fit.family).conjugate is None:  # the family's quadrature, not a closed form
        return registry.get(fit.family).maths.log_marginal(y, size, first, second), log_w
    return _predictive(post, size, y, first, second), log_w


def _refit_without(fit: Fit, pairs, p: int):
    """Fit partial pooling to the data without one group of pair ``p``; return its grid."""
    count = pairs.count.copy()
    count[p] -= 1
    columns = [np.repeat(column, count) for column in pairs.columns]
    with warnings.catch_warnings():
        # Warnings about a leave-one-out data set are not about the user's fit.
        warnings.simplefilter("ignore", PoolwiseWarning)
        return refit_grid(fit, *columns)


def _grid_logo(fit: Fit) -> tuple[np.ndarray, int]:
    """Exact ``log p(y_i | y_-i)`` per distinct pair of a partial fit, and how many pairs were refitted.

    ``p(phi | y_-i) ∝ p(phi | y) / p(y_i | phi)``, so ``p(y_i | y_-i) = 1 / E[1 / p(y_i | phi) | y]``
    on the fit's own grid; a pair whose reweighted posterior reaches the grid's edge is refitted
    without the group instead. A pair of size 0 (no trials, no exposure) has ``y = 0`` surely:
    ``log 1 = 0``, with nothing to refit.
    """
    post = fit.posterior
    grid, pairs = post.grid, post.pairs
    lik, log_w = _nodes_likelihood(fit, grid, slice(None))
    loo_w = log_w - lik
    logo = -special.logsumexp(loo_w, axis=1)
    edge = edge_mass(fit, grid, loo_w + logo[:, None])
    empty = pairs.columns[0] == 0
    refits = np.flatnonzero((edge > exact.EDGE_MASS) & ~empty)
    others_seen = pairs.count @ ~empty - ~empty  # groups with data besides one of pair p
    for p in refits:
        if registry.get(fit.family).maths.CENTRED_ON_DATA and others_seen[p] == 0:
            # Nothing but the hyperprior is left, and the family centres its grid on the pooled
            # rate, which needs exposure: no grid to integrate it on (the pooling is left out).
            logo[p] = np.nan
            continue
        lik_p, log_w_p = _nodes_likelihood(fit, _refit_without(fit, pairs, p), [p])
        logo[p] = float(special.logsumexp(log_w_p + lik_p[0]))
    logo[empty] = 0.0
    return logo, refits.size


def _in_sample(fit: Fit) -> np.ndarray:
    """``log p(y_i | y)`` per distinct pair of a partial fit: the posterior predictive of the data."""
    post = fit.posterior
    pairs = post.pairs
    if registry.get(fit.family).conjugate is None:
        # No closed form given (mu, sigma): the binomial averaged over the independent draws of theta
        # (only the effective number of parameters, p_logo, uses it).
        theta = fit.idata["posterior"]["theta"].values
        theta = theta.reshape(-1, theta.shape[-1])
        first = np.zeros(pairs.count.size, np.int64)
        first[pairs.inverse[::-1]] = np.arange(pairs.inverse.size)[::-1]  # a group of each pair
        loglik = beta_binomial.binomial_logpmf(pairs.successes, pairs.trials, theta[:, first])
        return special.logsumexp(loglik, axis=0) - np.log(theta.shape[0])
    alpha, beta, log_w = exact.grid_nodes(post.grid, post.family)
    a, b = post.family.posterior_params(alpha, beta, pairs)
    size, y = (column[:, None] for column in pairs.columns)
    return special.logsumexp(log_w + _predictive(post, size, y, a, b), axis=1)


def exact_logo(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Exact leave-one-group-out log predictive densities of a fit, and the in-sample ones.

    Parameters
    ----------
    fit : Fit
        A fit by the exact engine.

    Returns
    -------
    logo, lpd : numpy.ndarray
        ``log p(y_i | y_-i)`` and ``log p(y_i | y)`` per group, in the data's order. ``logo`` is NaN
        where the held-out predictive is improper: no pooling under an improper prior (the flat
        prior of estimates, Jeffreys' ``Gamma(1/2, 0)`` of rates), complete pooling when the others
        leave such a prior unchanged (no exposure among them). A group of size 0 (no trials, no
        exposure) has ``y = 0`` surely: 0 in both, under every pooling.
    """
    if fit.engine != "exact":
        raise ValueError("exact leave-one-group-out CV needs a fit by the exact engine")
    if registry.get(fit.family).data == "estimates":  # a line over tau, not a grid of pairs
        return _normal_logo(fit)
    post = fit.posterior
    if fit.pooling == "partial":
        logo, _ = _grid_logo(fit)
        lpd = _in_sample(fit)
        lpd[post.pairs.columns[0] == 0] = 0.0  # y = 0 surely, exactly (the grid's sum rounds)
        return logo[post.pairs.inverse], lpd[post.pairs.inverse]
    size, y = _group_columns(post)
    prior = fit.model.priors["theta"]
    conjugate = post.family.conjugate
    if fit.pooling == "none":
        # A group learns nothing from the others: its held-out predictive is the prior's.
        held_out = conjugate(prior, np.zeros_like(size), np.zeros_like(y))
        own = conjugate(prior, size, y)
    else:
        # The pooled posterior of the others (sums formed without the group), and of everyone.
        held_out = conjugate(prior, _sum_of_others(size), _sum_of_others(y))
        own = conjugate(prior, np.full_like(size, size.sum()), np.full_like(y, y.sum()))
    logo = np.where(held_out.b > 0, _predictive(post, size, y, held_out.a, held_out.b), np.nan)
    lpd = _predictive(post, size, y, own.a, own.b)
    empty = size == 0
    logo[empty], lpd[empty] = 0.0, 0.0
    return logo, lpd


def _normal_logo(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_logo` for estimates with standard errors; NaN where the predictive is improper."""
    from ..engines import exact_normal
    from ..errors import PriorError
    from ..priors import Flat

    y, s = fit.data.estimate, fit.data.std_error
    priors = fit.model.priors
    if fit.pooling == "none":
        prior = priors["theta"]
        post = normal_normal.conjugate(prior, y, s)
        lpd = normal_normal.normal_logpdf(y, post.mean, np.hypot(post.sd, s))
        if isinstance(prior, Flat):  # a flat prior predicts nothing: no proper p(y_i | y_-i)
            return np.full(y.size, np.nan), lpd
        return normal_normal.normal_logpdf(y, prior.mu, np.hypot(prior.sigma, s)), lpd
    logo, lpd = np.empty(y.size), np.empty(y.size)
    for i in range(y.size):
        rest = normal_normal.Estimates(np.delete(y, i), np.delete(s, i))
        if fit.pooling == "complete":
            post = normal_normal.pooled(priors["theta"], rest)
            logo[i] = normal_normal.normal_logpdf(y[i], post.mean[0], np.hypot(post.sd[0], s[i]))
            continue
        try:
            with warnings.catch_warnings():
                # Warnings about a leave-one-out data set are not about the user's fit.
                warnings.simplefilter("ignore", PoolwiseWarning)
                refit = exact_normal.fit_partial(priors, rest)
        except PriorError:  # too few groups left for an improper prior on tau
            logo[i] = np.nan
            continue
        logo[i] = _normal_predictive(refit, rest, priors, y[i], s[i])
    everyone = normal_normal.Estimates(y, s)
    for i in range(y.size):
        if fit.pooling == "complete":
            post = fit.posterior.quantities["theta"].marginal
            lpd[i] = normal_normal.normal_logpdf(y[i], post.mean[0], np.hypot(post.sd[0], s[i]))
        else:
            lpd[i] = _normal_predictive(fit.posterior, everyone, priors, y[i], s[i])
    return logo, lpd


def _normal_predictive(post, data, priors: dict, y: float, s: float) -> float:
    """``log p(y | data)`` of a new estimate with standard error ``s`` under partial pooling."""
    line = post.line
    tau = normal_normal.to_tau(line.nodes, data.scale)
    mu_hat, v_mu = normal_normal.mu_given_tau(tau, data, priors["mu"])
    spread = np.sqrt(v_mu + tau**2 + s**2)
    return float(special.logsumexp(line.log_weights + normal_normal.normal_logpdf(y, mu_hat, spread)))


def stacking_weights(lpd_points: np.ndarray) -> np.ndarray:
    """Stacking weights maximising ``sum_i log sum_k w_k exp(lpd[i, k])`` over the simplex."""
    n_models = lpd_points.shape[1]

    def objective(z: np.ndarray) -> float:
        log_w = z - special.logsumexp(z)
        return -float(np.sum(special.logsumexp(lpd_points + log_w, axis=1)))

    result = optimize.minimize(objective, np.zeros(n_models), method="BFGS")
    return special.softmax(result.x)


@dataclass(frozen=True)
class _Psis:
    """PSIS-LOO of one fit: the total, its standard error and the pointwise values."""

    elpd: float
    se: float
    elpd_i: np.ndarray
    pareto_k: np.ndarray


def _psis(fit: Fit) -> _Psis | None:
    """ArviZ's PSIS-LOO, with the groups whose log-likelihood no draw changes set aside.

    Such a group (no trials, no exposure: ``log p(y_i | theta) = log 1`` in every draw) needs no
    importance sampling: its leave-one-out value is that constant, exactly, and its ``k`` is NaN.
    ArviZ cannot smooth constant weights, so it sees only the other groups' log-likelihood (and the
    whole posterior, for its relative efficiency); the total and its standard error,
    ``sqrt(n var(elpd_i))`` with ``ddof=1`` as ArviZ computes it, are over all groups.
    """
    import arviz as az

    loglik = fit.idata["log_likelihood"]["y"]
    values = loglik.values.reshape(-1, loglik.shape[-1])
    varies = np.ptp(values, axis=0) > 0
    elpd_i, k = values[0].copy(), np.full(varies.size, np.nan)
    if varies.any():
        data = fit.idata
        if not varies.all():
            data = data.copy()
            data["log_likelihood"] = fit.idata["log_likelihood"].isel({fit.dim: varies})
        with warnings.catch_warnings():
            # Pareto k above 0.7 is reported in the table; ArviZ's warning would only repeat it.
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
            try:
                loo = az.loo(data, pointwise=True)
            except ValueError:
                return None  # ArviZ could not smooth these weights: PSIS is reported as unavailable
        elpd_i[varies] = np.asarray(loo.elpd_i).ravel()
        k[varies] = np.asarray(loo.pareto_k).ravel()
    n = elpd_i.size
    se = float(np.sqrt(n * elpd_i.var(ddof=1))) if n > 1 else 0.0
    return _Psis(float(elpd_i.sum()), se, elpd_i, k)


def _why_excluded(fit: Fit, logo: np.ndarray) -> str:
    """Say why a pooling has no held-out predictive for some group (``logo`` NaN there)."""
    held_out = ", ".join(map(str, fit.data.groups[np.isnan(logo)]))
    if fit.pooling == "partial" and registry.get(fit.family).maths.CENTRED_ON_DATA:
        return (
            f"the other groups have no exposure when {held_out} is held out: its predictive is the "
            "hyperprior's alone, on which the grid cannot be centred (the pooled rate needs exposure)"
        )
    if fit.pooling == "partial":  # estimates: an improper prior on tau needs 3 groups or more
        return "its hyperprior is improper and too few groups are left to make it proper when one is held out"
    prior = fit.model.priors["theta"]
    if fit.pooling == "none":
        return f"its prior is improper (theta ~ {prior}), so it cannot predict a held-out group"
    return (
        f"its prior is improper (theta ~ {prior}), and the other groups have no exposure to make it "
        f"proper when {held_out} is held out, so it cannot predict that group"
    )


def compare(
    data: pd.DataFrame | str | os.PathLike | BinomialData | EstimateData | RateData | FitSet,
    *,
    group: str | None = None,
    successes: str | None = None,
    trials: str | None = None,
    estimate: str | None = None,
    std_error: str | None = None,
    variance: str | None = None,
    events: str | None = None,
    exposure: str | None = None,
    family: str | None = None,
    priors: PriorSpec | None = None,
    random_seed: int | None = None,
    psis: bool = True,
) -> Comparison:
    """Compare no, complete and partial pooling by exact leave-one-group-out CV and PSIS-LOO.

    Parameters
    ----------
    data : DataFrame, path, BinomialData, EstimateData, RateData or FitSet
        The data (fitted here with :func:`poolwise.fit_all`), or fits already made.
    group, successes, trials, estimate, std_error, variance, events, exposure, family, priors, random_seed
        As for :func:`poolwise.fit_all` (``family="logit-normal"`` compares the logit-normal
        poolings of binomial counts).
    psis : bool
        Also compute ArviZ's PSIS-LOO (needs the draws; skip it for very many groups).

    Returns
    -------
    Comparison
        A pooling whose held-out predictive is improper (no pooling under a flat prior, or
        Jeffreys' ``Gamma(1/2, 0)`` for rates) is left out; ``table.attrs["excluded"]`` says which
        and why.
    """
    fits = (
        data
        if isinstance(data, FitSet)
        else fit_all(
            data,
            group=group,
            successes=successes,
            trials=trials,
            estimate=estimate,
            std_error=std_error,
            variance=variance,
            events=events,
            exposure=exposure,
            family=family,
            priors=priors,
            random_seed=random_seed,
        )
    )
    scores = {k: exact_logo(fits[k]) for k in fits}
    # A pooling whose held-out predictive is improper somewhere (a flat prior) has no elpd.
    excluded = {
        k: _why_excluded(fits[k], logo_k) for k, (logo_k, _) in scores.items() if np.isnan(logo_k).any()
    }
    names = [k for k in fits if k not in excluded]
    if not names:
        raise ValueError("no pooling has a proper leave-one-group-out predictive: give proper priors")
    groups = fits.data.groups
    logo = np.column_stack([scores[k][0] for k in names])
    lpd = np.column_stack([scores[k][1] for k in names])
    n = logo.shape[0]
    elpd = logo.sum(axis=0)
    best = int(np.argmax(elpd))
    diff = logo - logo[:, [best]]
    table = pd.DataFrame(
        {
            "elpd_logo": elpd,
            "se": np.sqrt(n * logo.var(axis=0)),
            "elpd_diff": diff.sum(axis=0),
            "se_diff": np.sqrt(n * diff.var(axis=0)),
            "p_logo": lpd.sum(axis=0) - elpd,
            "weight": stacking_weights(logo) if len(names) > 1 else np.ones(1),
        },
        index=pd.Index(names, name="pooling"),
    )
    pointwise = {"elpd_logo": logo}
    if psis:
        loos = [_psis(fits[k]) for k in names]
        missing = np.full(n, np.nan)
        table["elpd_psis"] = [np.nan if loo is None else loo.elpd for loo in loos]
        table["se_psis"] = [np.nan if loo is None else loo.se for loo in loos]
        ks = np.column_stack([missing if loo is None else np.asarray(loo.pareto_k).ravel() for loo in loos])
        table["pareto_k_max"] = np.nanmax(np.where(np.isnan(ks), -np.inf, ks), axis=0)
        table["pareto_k_max"] = table["pareto_k_max"].replace(-np.inf, np.nan)
        table["n_bad_k"] = (ks > 0.7).sum(axis=0)
        pointwise["elpd_psis"] = np.column_stack(
            [missing if loo is None else np.asarray(loo.elpd_i).ravel() for loo in loos]
        )
        pointwise["pareto_k"] = ks
    table = table.sort_values("elpd_logo", ascending=False)
    table.insert(0, "rank", np.arange(len(names)))
    table.attrs["excluded"] = excluded
    long = pd.concat(
        {
            name: pd.DataFrame({key: values[:, j] for key, values in pointwise.items()}, index=groups)
            for j, name in enumerate(names)
        },
        names=["pooling", fits.data.group_column],
    )
    return Comparison(table, long, fits)
