r"""Which pooling do the data support? Exact leave-one-group-out CV beside PSIS-LOO.

For each pooling, the expected log predictive density of a held-out group,

.. math:: \mathrm{elpd}_{\mathrm{logo}} = \sum_i \log p(y_i \mid y_{-i}),

is computed *exactly*: no pooling gives the prior predictive ``BetaBinomial(n_i, a0, b0)``; complete
pooling ``BetaBinomial(n_i, a0 + Y - y_i, b0 + F - f_i)``; partial pooling reweights the hyperparameter
grid by ``1 / p(y_i | alpha, beta)`` (the posterior without group ``i``) and refits without the group
whenever that reweighted posterior is not well inside the grid. Beside it, ArviZ's PSIS-LOO from the
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

from .data import BinomialData
from .engines import exact
from .families import beta_binomial as family
from .families import normal_normal
from .fitting import Fit, FitSet, fit_all
from .models import PriorSpec


@dataclass(frozen=True)
class Comparison:
    """Model comparison of several poolings on the same data.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pooling, best first: ``rank``, ``elpd_logo`` (exact), ``se``, ``elpd_diff``,
        ``se_diff`` (against the best), ``p_logo`` (in-sample lpd minus elpd_logo), ``weight``
        (stacking on the exact values), and PSIS-LOO's ``elpd_psis``, ``se_psis``,
        ``pareto_k_max`` and ``n_bad_k`` (k > 0.7); NaN where ArviZ cannot compute PSIS (a
        log-likelihood that no draw changes, as for a group with no trials).
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


def _beta_binomial(fit: Fit, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return family.log_beta_binomial(fit.data.successes, fit.data.trials, a, b)


def _nodes_likelihood(fit: Fit, grid, p) -> tuple[np.ndarray, np.ndarray]:
    """``log p(y_p | phi_k)`` for pairs ``p`` at every node ``phi_k`` of a grid, and the nodes' log-weights.

    The hyperparameters ``phi`` are ``(alpha, beta)`` for the beta-binomial family (the
    beta-binomial likelihood) and ``(mu, sigma)`` for the logit-normal (its quadrature).
    """
    pairs = fit._posterior.pairs
    y, n = pairs.successes[p, None], pairs.trials[p, None]
    if fit.family == "logit-normal":
        from .engines import exact_logit
        from .families import logit_normal

        mu, sigma, log_w = exact_logit.grid_nodes(grid)
        return logit_normal.log_group_marginal(n, y, mu, sigma), log_w
    alpha, beta, log_w = exact.grid_nodes(grid)
    return family.log_beta_binomial(y, n, alpha, beta), log_w


def _refit_without(fit: Fit, pairs: family.Pairs, p: int):
    """Fit partial pooling to the data without one group of pair ``p``; return its grid."""
    count = pairs.count.copy()
    count[p] -= 1
    trials = np.repeat(pairs.trials, count)
    successes = np.repeat(pairs.successes, count)
    with warnings.catch_warnings():
        # Warnings about a leave-one-out data set are not about the user's fit.
        warnings.simplefilter("ignore", exact.PoolwiseWarning)
        if fit.family == "logit-normal":
            from .engines import exact_logit

            return exact_logit.fit_partial(fit.model.priors, trials, successes).grid
        return exact.fit_partial(fit.model.priors, trials, successes).grid


def _grid_logo(fit: Fit) -> tuple[np.ndarray, int]:
    """Exact ``log p(y_i | y_-i)`` per distinct pair of a partial fit, and how many pairs were refitted.

    ``p(phi | y_-i) ∝ p(phi | y) / p(y_i | phi)``, so ``p(y_i | y_-i) = 1 / E[1 / p(y_i | phi) | y]``
    on the fit's own grid; a pair whose reweighted posterior reaches the grid's edge is refitted
    without the group instead.
    """
    post = fit._posterior
    grid, pairs = post.grid, post.pairs
    lik, log_w = _nodes_likelihood(fit, grid, slice(None))
    loo_w = log_w - lik
    logo = -special.logsumexp(loo_w, axis=1)
    bounded = False
    if fit.family == "logit-normal":
        from .engines import exact_logit

        bounded = exact_logit.starts_at_zero(grid)
    edge = exact.ring_mass(grid, loo_w + logo[:, None], bounded_v=bounded)
    refits = np.flatnonzero(edge > exact.EDGE_MASS)
    for p in refits:
        lik_p, log_w_p = _nodes_likelihood(fit, _refit_without(fit, pairs, p), [p])
        logo[p] = float(special.logsumexp(log_w_p + lik_p[0]))
    return logo, refits.size


def _in_sample(fit: Fit) -> np.ndarray:
    """``log p(y_i | y)`` per distinct pair of a partial fit: the posterior predictive of the data."""
    post = fit._posterior
    pairs = post.pairs
    if fit.family == "logit-normal":
        # No closed form given (mu, sigma): the binomial averaged over the independent draws of theta
        # (only the effective number of parameters, p_logo, uses it).
        theta = fit.idata["posterior"]["theta"].values
        theta = theta.reshape(-1, theta.shape[-1])
        first = np.zeros(pairs.count.size, np.int64)
        first[pairs.inverse[::-1]] = np.arange(pairs.inverse.size)[::-1]  # a group of each pair
        loglik = family.binomial_logpmf(pairs.successes, pairs.trials, theta[:, first])
        return special.logsumexp(loglik, axis=0) - np.log(theta.shape[0])
    alpha, beta, log_w = exact.grid_nodes(post.grid)
    terms = family.log_beta_binomial(
        pairs.successes[:, None],
        pairs.trials[:, None],
        alpha + pairs.successes[:, None],
        beta + pairs.failures[:, None],
    )
    return special.logsumexp(log_w + terms, axis=1)


def exact_logo(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Exact leave-one-group-out log predictive densities of a fit, and the in-sample ones.

    Parameters
    ----------
    fit : Fit
        A fit by the exact engine.

    Returns
    -------
    logo, lpd : numpy.ndarray
        ``log p(y_i | y_-i)`` and ``log p(y_i | y)`` per group, in the data's order.
    """
    if fit.engine != "exact":
        raise ValueError("exact leave-one-group-out CV needs a fit by the exact engine")
    if fit.family == "normal-normal":
        return _normal_logo(fit)
    data = fit.data
    y, n = data.successes, data.trials
    if fit.pooling == "none":
        prior = fit.model.priors["theta"]
        logo = _beta_binomial(fit, prior.alpha, prior.beta)
        lpd = _beta_binomial(fit, prior.alpha + y, prior.beta + (n - y))
        return logo, lpd
    if fit.pooling == "complete":
        prior = fit.model.priors["theta"]
        total_y, total_f = y.sum(), (n - y).sum()
        logo = _beta_binomial(fit, prior.alpha + (total_y - y), prior.beta + (total_f - (n - y)))
        lpd = _beta_binomial(fit, prior.alpha + total_y, prior.beta + total_f)
        return logo, lpd
    logo, _ = _grid_logo(fit)
    inverse = fit._posterior.pairs.inverse
    return logo[inverse], _in_sample(fit)[inverse]


def _normal_logo(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_logo` for estimates with standard errors; NaN where the predictive is improper."""
    from .engines import exact_normal
    from .priors import Flat, PriorError

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
                warnings.simplefilter("ignore", exact.PoolwiseWarning)
                refit = exact_normal.fit_partial(priors, rest)
        except PriorError:  # too few groups left for an improper prior on tau
            logo[i] = np.nan
            continue
        logo[i] = _normal_predictive(refit, rest, priors, y[i], s[i])
    everyone = normal_normal.Estimates(y, s)
    for i in range(y.size):
        if fit.pooling == "complete":
            post = fit._posterior.quantities["theta"].marginal
            lpd[i] = normal_normal.normal_logpdf(y[i], post.mean[0], np.hypot(post.sd[0], s[i]))
        else:
            lpd[i] = _normal_predictive(fit._posterior, everyone, priors, y[i], s[i])
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


def _psis(fit: Fit):
    import arviz as az

    with warnings.catch_warnings():
        # Pareto k above 0.7 is reported in the table; ArviZ's warning would only repeat it.
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        try:
            return az.loo(fit.idata, pointwise=True)
        except ValueError:
            # ArviZ cannot smooth a log-likelihood that no draw changes (a group with no trials);
            # the exact column does not need it, so PSIS is reported as unavailable.
            return None


def compare(
    data: pd.DataFrame | str | os.PathLike | BinomialData | FitSet,
    *,
    group: str | None = None,
    successes: str | None = None,
    trials: str | None = None,
    estimate: str | None = None,
    std_error: str | None = None,
    variance: str | None = None,
    priors: PriorSpec | None = None,
    random_seed: int | None = None,
    psis: bool = True,
) -> Comparison:
    """Compare no, complete and partial pooling by exact leave-one-group-out CV and PSIS-LOO.

    Parameters
    ----------
    data : DataFrame, path, BinomialData or FitSet
        The data (fitted here with :func:`poolwise.fit_all`), or fits already made.
    group, successes, trials, estimate, std_error, variance, priors, random_seed
        As for :func:`poolwise.fit_all`.
    psis : bool
        Also compute ArviZ's PSIS-LOO (needs the draws; skip it for very many groups).

    Returns
    -------
    Comparison
        A pooling whose held-out predictive is improper (no pooling under a flat prior) is left out;
        ``table.attrs["excluded"]`` says which and why.
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
            priors=priors,
            random_seed=random_seed,
        )
    )
    scores = {k: exact_logo(fits[k]) for k in fits}
    # A pooling whose held-out predictive is improper somewhere (a flat prior) has no elpd.
    excluded = [k for k, (logo_k, _) in scores.items() if np.isnan(logo_k).any()]
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
    table.attrs["excluded"] = {
        k: "its prior is improper, so it cannot predict a held-out group" for k in excluded
    }
    long = pd.concat(
        {
            name: pd.DataFrame({key: values[:, j] for key, values in pointwise.items()}, index=groups)
            for j, name in enumerate(names)
        },
        names=["pooling", fits.data.group_column],
    )
    return Comparison(table, long, fits)
