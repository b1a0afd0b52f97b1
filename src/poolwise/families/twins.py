"""Each family's model written in PyMC: the twins the NUTS engine samples (:mod:`poolwise.engines.nuts`).

Every twin is called as ``twin(pm, model, data, dim, parametrization, predictive)`` with the PyMC
module ``pm`` (imported by the engine, so that nothing here needs the ``mcmc`` extra), the
:class:`~poolwise.families.models.Model`, the validated data, the name of the group dimension, the
parametrisation of partial pooling and whether to add what
:func:`pymc.sample_posterior_predictive` draws after sampling (``theta_new``, and ``theta`` where the
marginal parametrisation integrated it out). They are written as the seed analysis writes them
(``theta``, ``alpha``, ``beta``, ``mu = alpha / (alpha + beta)``); the families that take no
parametrisation are sampled non-centred (:attr:`poolwise.families.registry.Family.non_centred`).
"""

from __future__ import annotations

from .. import priors as pr


def prior_twin(pm, name: str, prior: pr.Prior, **kwargs):
    """Create the prior's PyMC twin (see :meth:`poolwise.priors.Prior.pymc`).

    By default the PyMC distribution of the same name and parameters; improper and transformed
    priors say their own.
    """
    return prior.pymc(pm, name, **kwargs)


def _theta(pm, model, dim: str):
    """Create the one ``theta`` of complete pooling, or a ``theta_i`` per group of no pooling."""
    return prior_twin(pm, "theta", model.priors["theta"], dims=dim if model.pooling == "none" else None)


def _new_group(pm, model, theta, partial) -> None:
    """``theta_new``: ``partial()`` under partial pooling, the shared theta, or (proper) the prior."""
    if model.pooling == "partial":
        partial()
    elif model.pooling == "complete":
        pm.Deterministic("theta_new", theta)
    elif model.priors["theta"].proper:  # no group informs another: a new group's theta is the prior
        prior_twin(pm, "theta_new", model.priors["theta"])


def _hyperparameters(pm, priors: dict):
    """``alpha`` and ``beta`` with their priors; ``mu`` and ``kappa`` as the other two."""
    if "alpha,beta" in priors:
        alpha, beta = priors["alpha,beta"].pymc(pm)
    elif "mu" in priors:
        mu, kappa = prior_twin(pm, "mu", priors["mu"]), prior_twin(pm, "kappa", priors["kappa"])
        return (
            pm.Deterministic("alpha", mu * kappa),
            pm.Deterministic("beta", (1 - mu) * kappa),
        )
    else:
        alpha, beta = prior_twin(pm, "alpha", priors["alpha"]), prior_twin(pm, "beta", priors["beta"])
    pm.Deterministic("mu", alpha / (alpha + beta))
    pm.Deterministic("kappa", alpha + beta)
    return alpha, beta


def beta_binomial(pm, model, data, dim: str, parametrization: str, predictive: bool):
    """Write the beta-binomial model (and the binomial families' no and complete pooling) in PyMC."""
    n, y = data.trials, data.successes
    marginal = model.pooling == "partial" and parametrization == "marginal"
    with pm.Model(coords={dim: data.groups.astype(str)}) as pm_model:
        if model.pooling == "partial":
            alpha, beta = _hyperparameters(pm, model.priors)
            if not marginal:
                theta = pm.Beta("theta", alpha=alpha, beta=beta, dims=dim)
            elif predictive:
                # n - y in integers first: with a tiny beta, (beta + n) - y would lose it.
                theta = pm.Beta("theta", alpha=alpha + y, beta=beta + (n - y), dims=dim)
        else:
            theta = _theta(pm, model, dim)
        if marginal and not predictive:
            pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y, dims=dim)
        else:
            pm.Binomial("y", n=n, p=theta, observed=y, dims=dim)
        if predictive:
            _new_group(pm, model, theta, lambda: pm.Beta("theta_new", alpha=alpha, beta=beta))
    return pm_model


def normal_normal(pm, model, data, dim: str, parametrization: str, predictive: bool):
    """Write the normal-normal model in PyMC, partial pooling non-centred."""
    priors = model.priors
    with pm.Model(coords={dim: data.groups.astype(str)}) as pm_model:
        if model.pooling == "partial":
            mu, tau = prior_twin(pm, "mu", priors["mu"]), prior_twin(pm, "tau", priors["tau"])
            eta = pm.Normal("eta", 0.0, 1.0, dims=dim)
            theta = pm.Deterministic("theta", mu + tau * eta, dims=dim)
        else:
            theta = _theta(pm, model, dim)
        pm.Normal("y", mu=theta, sigma=data.std_error, observed=data.estimate, dims=dim)
        if predictive:
            _new_group(pm, model, theta, lambda: pm.Normal("theta_new", mu=mu, sigma=tau))
    return pm_model


def logit_normal(pm, model, data, dim: str, parametrization: str, predictive: bool):
    """Write the logit-normal model's partial pooling in PyMC, non-centred.

    Its no and complete pooling are the beta-binomial family's (:func:`beta_binomial`).
    """
    with pm.Model(coords={dim: data.groups.astype(str)}) as pm_model:
        mu, sigma = prior_twin(pm, "mu", model.priors["mu"]), prior_twin(pm, "sigma", model.priors["sigma"])
        eta = pm.Normal("eta", 0.0, 1.0, dims=dim)
        theta = pm.Deterministic("theta", pm.math.invlogit(mu + sigma * eta), dims=dim)
        pm.Binomial("y", n=data.trials, p=theta, observed=data.successes, dims=dim)
        if predictive:
            pm.Deterministic("theta_new", pm.math.invlogit(pm.Normal("z_new", mu=mu, sigma=sigma)))
    return pm_model


def gamma_poisson(pm, model, data, dim: str, parametrization: str, predictive: bool):
    """Write the gamma-Poisson model in PyMC, as the BUGS Pumps example writes it."""
    priors, exposure, events = model.priors, data.exposure, data.events
    marginal = model.pooling == "partial" and parametrization == "marginal"
    with pm.Model(coords={dim: data.groups.astype(str)}) as pm_model:
        if model.pooling == "partial":
            if "mu" in priors:
                mu, alpha = prior_twin(pm, "mu", priors["mu"]), prior_twin(pm, "alpha", priors["alpha"])
                beta = pm.Deterministic("beta", alpha / mu)
            else:
                alpha, beta = prior_twin(pm, "alpha", priors["alpha"]), prior_twin(pm, "beta", priors["beta"])
                pm.Deterministic("mu", alpha / beta)
            if not marginal:
                theta = pm.Gamma("theta", alpha=alpha, beta=beta, dims=dim)
            elif predictive:
                theta = pm.Gamma("theta", alpha=alpha + events, beta=beta + exposure, dims=dim)
        else:
            theta = _theta(pm, model, dim)
        if marginal and not predictive:
            pm.NegativeBinomial("y", mu=exposure * alpha / beta, alpha=alpha, observed=events, dims=dim)
        else:
            pm.Poisson("y", mu=exposure * theta, observed=events, dims=dim)
        if predictive:
            _new_group(pm, model, theta, lambda: pm.Gamma("theta_new", alpha=alpha, beta=beta))
    return pm_model
