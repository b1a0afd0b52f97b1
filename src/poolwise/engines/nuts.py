"""The PyMC engine: the seed analysis's own models, sampled with NUTS.

For users who trust PyMC, to cross-check the exact engine, and as a starting point for models the
exact engine cannot express (:attr:`poolwise.Fit.pymc_model`). The models are the families' PyMC
twins (:attr:`poolwise.families.registry.Family.twin`), written as the seed analysis writes them
(``theta``, ``alpha``, ``beta``, ``mu = alpha / (alpha + beta)``, dims named after the group
column) and sampled with its settings by default: 5000 draws after 5000 tuning steps in each of 4
chains, ``target_accept=0.95``, seeded.

Partial pooling comes in two parametrisations:

- ``"centered"`` (the seed's): ``theta_i ~ Beta(alpha, beta)`` sampled jointly with ``alpha`` and
  ``beta``. Where the data push ``beta`` towards zero (SpaceX: a 9-of-9 vehicle) the posterior
  becomes a funnel and NUTS diverges.
- ``"marginal"``: ``alpha`` and ``beta`` sampled against the beta-binomial likelihood (the
  ``theta_i`` integrated out), then each ``theta_i`` drawn from its conjugate
  ``Beta(alpha + y_i, beta + n_i - y_i)`` once per draw. Two dimensions instead of ``2 + groups``,
  and no funnel.

The normal-normal family (estimates ``y_i`` with standard errors ``s_i``) is sampled non-centred,
``theta_i = mu + tau * eta_i`` with ``eta_i ~ N(0, 1)``: the centred form's funnel at small ``tau``
(the eight schools' classic divergences) does not arise. So is the logit-normal family's partial
pooling, ``logit theta_i = mu + sigma * eta_i`` with ``y_i ~ Binomial(n_i, theta_i)`` (the varying
intercept as brms and Bambi write it); its no and complete pooling are the beta-binomial family's
conjugate models. The gamma-Poisson family is written as the BUGS Pumps example writes it,
``theta_i ~ Gamma(alpha, beta)``, ``y_i ~ Poisson(E_i theta_i)`` (``"centered"``), or with the
``theta_i`` integrated out, ``y_i ~ NegativeBinomial(mu = E_i alpha / beta, alpha)`` (``"marginal"``).

The result has the exact engine's shape: the same quantities (means and sds of the draws, a
:class:`~poolwise._core.samples.SampleMarginal` for quantiles, intervals and densities) and the same
DataTree layout, plus PyMC's ``sample_stats``. PyMC is imported only here, when the engine is used.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .. import __version__
from .._core.samples import SampleMarginal
from ..data import BinomialData, EstimateData, RateData
from ..errors import PoolwiseWarning
from ..families import registry
from ..families.models import Model
from .quantity import Quantity

#: The seed analysis's ``pm.sample`` settings, the defaults of ``engine="nuts"``.
SEED_SETTINGS = {"draws": 5000, "tune": 5000, "chains": 4, "target_accept": 0.95}

PARAMETRIZATIONS = ("centered", "marginal")

INSTALL_HINT = "pip install 'poolwise[mcmc]'"

#: Largest acceptable rank-normalised split r_hat (Vehtari et al. 2021).
RHAT_MAX = 1.01

#: Smallest acceptable bulk and tail ESS per chain (Vehtari et al. 2021: 100 per chain).
ESS_PER_CHAIN = 100

_HYPER = ("alpha", "beta", "mu", "kappa", "tau", "sigma")

#: How the NUTS engine samples the normal-normal and logit-normal models' partial pooling.
NON_CENTERED = "non-centered"


def import_pymc():
    """Import PyMC, or explain how to install it.

    Raises
    ------
    ImportError
        PyMC is not installed; the message gives the ``pip`` command.
    """
    try:
        import pymc
    except ImportError as err:
        raise ImportError(
            f"engine='nuts' needs PyMC, which is not installed; install it with: {INSTALL_HINT}"
        ) from err
    return pymc


def build_model(
    model: Model,
    data: BinomialData | EstimateData | RateData,
    dim: str,
    parametrization: str = "centered",
    *,
    predictive: bool = False,
):
    """Write a poolwise model as the seed analysis writes it in PyMC.

    Parameters
    ----------
    model : Model
        Family, pooling and priors.
    data : BinomialData, EstimateData or RateData
        The counts (estimates, event counts); the group labels become the coordinates of ``dim``.
    dim : str
        Name of the group dimension (the group column's name).
    parametrization : {"centered", "marginal"}
        For beta-binomial and gamma-Poisson partial pooling: ``theta`` sampled with ``alpha`` and
        ``beta`` (the seed's), or integrated out (``y ~ BetaBinomial(n, alpha, beta)``;
        ``NegativeBinomial``). The normal-normal and logit-normal families ignore it: they are
        always non-centred.
    predictive : bool
        Add what :func:`pymc.sample_posterior_predictive` draws after sampling: ``theta_new`` (a
        new group's rate) and, in the marginal parametrisation, ``theta`` from its conjugate Beta.

    Returns
    -------
    pymc.Model
    """
    family = registry.get(model.family).for_pooling(model.pooling)
    return family.twin(import_pymc(), model, data, dim, parametrization, predictive)


@dataclass(frozen=True)
class SampleQuantity(Quantity):
    """A reported parameter known through draws: intervals as ArviZ computes them from draws."""

    def interval(self, kind: str, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Credible interval for every reported entry."""
        lo, hi = self.marginal.interval(kind, prob)
        return lo[self.index], hi[self.index]


def _quantity(name: str, draws: np.ndarray, scale: str, index: np.ndarray) -> SampleQuantity:
    marginal = SampleMarginal(draws, scale)
    return SampleQuantity(name, marginal.mean, marginal.sd, marginal, index)


@dataclass(frozen=True)
class NutsPosterior:
    """Everything the NUTS engine returns for one fitted model (a :class:`~.posterior.Posterior`)."""

    pooling: str
    quantities: dict[str, Quantity]
    new_group: Quantity | None
    idata: xr.DataTree
    pymc_model: Any
    diagnostics: dict
    warnings: tuple[str, ...] = field(default=())
    engine: str = "nuts"

    def draws(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Return ``n`` of the draws at random: ``theta`` ``(n, groups)`` or ``(n,)``, the others ``(n,)``.

        The draws are those of :attr:`idata` (chains pooled), without replacement while there are
        enough: they are correlated within a chain, so ``n`` of them are not ``n`` independent draws.
        """
        posterior = self.idata["posterior"]
        total = posterior.sizes["chain"] * posterior.sizes["draw"]
        pick = rng.choice(total, size=n, replace=n > total)
        out = {}
        for name in ("theta", *_HYPER):
            if name in posterior:
                values = posterior[name].values
                out[name] = values.reshape(total, *values.shape[2:])[pick]
        return out


@contextlib.contextmanager
def pymc_logging(quiet: bool):
    """Silence PyMC's INFO lines ("Sampling: [y]") when the user asked for quiet."""
    logger = logging.getLogger("pymc")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING + 10)
    try:
        yield
    finally:
        logger.setLevel(level)


def _diagnose(idata: xr.DataTree, chains: int, settings: dict, pooling: str) -> tuple[dict, list[str]]:
    """Sampler diagnostics, and plain-language warnings when they are bad."""
    import arviz as az

    stats = idata["sample_stats"]
    posterior = idata["posterior"].to_dataset()

    def total(*names: str) -> int:
        for name in names:  # PyMC's names, then nutpie's
            if name in stats:
                return int(stats[name].values.sum())
        return 0

    def extreme(result, reduce) -> float:
        result = result.to_dataset() if isinstance(result, xr.DataTree) else result
        values = [np.asarray(v) for v in result.data_vars.values()]
        return float(reduce(np.concatenate([v.ravel() for v in values])))

    n_draws = chains * settings["draws"]
    diag = {
        "sampler": settings["nuts_sampler"],
        "parametrization": settings["parametrization"] if pooling == "partial" else "centered",
        "draws": settings["draws"],
        "tune": settings["tune"],
        "chains": chains,
        "target_accept": settings["target_accept"],
        "divergences": total("diverging"),
        "max_tree_depth_hits": total("reached_max_treedepth", "maxdepth_reached"),
        "r_hat_max": extreme(az.rhat(posterior), np.nanmax),
        "ess_bulk_min": extreme(az.ess(posterior, method="bulk"), np.nanmin),
        "ess_tail_min": extreme(az.ess(posterior, method="tail"), np.nanmin),
        "sampling_time": float(idata["posterior"].attrs.get("sampling_time", np.nan)),
    }
    notes = []
    if diag["divergences"]:
        advice = f"raise target_accept (now {settings['target_accept']:g})"
        if pooling == "partial" and diag["parametrization"] == "centered":
            advice += (
                ", or use parametrization='marginal', which samples alpha and beta against the "
                "marginal likelihood (theta integrated out) and has no funnel"
            )
        notes.append(
            f"{diag['divergences']} of {n_draws} NUTS transitions diverged after tuning: the sampler "
            f"could not follow the posterior everywhere, so the draws may be biased; {advice}"
        )
    if diag["r_hat_max"] > RHAT_MAX:
        notes.append(
            f"the chains disagree (largest r_hat {diag['r_hat_max']:.3f} > {RHAT_MAX}): the draws do "
            "not represent the posterior yet; sample longer (more tune and draws)"
        )
    floor = ESS_PER_CHAIN * chains
    if min(diag["ess_bulk_min"], diag["ess_tail_min"]) < floor:
        notes.append(
            f"few effective draws (smallest bulk ESS {diag['ess_bulk_min']:.0f}, tail ESS "
            f"{diag['ess_tail_min']:.0f}, below {floor} = {ESS_PER_CHAIN} per chain): means and "
            "intervals carry large Monte Carlo error; draw more"
        )
    if diag["max_tree_depth_hits"]:
        notes.append(
            f"{diag['max_tree_depth_hits']} of {n_draws} transitions stopped at the maximum tree "
            "depth: the sampler was inefficient, and long runs may still not explore the posterior"
        )
    return diag, notes


def _flat(values: np.ndarray) -> np.ndarray:
    """``(chain, draw, ...)`` -> ``(entries, chain * draw)``: one row of draws per entry."""
    n = values.shape[0] * values.shape[1]
    return values.reshape(n, -1).T


def fit_nuts(
    model: Model,
    data: BinomialData | EstimateData | RateData,
    dim: str,
    *,
    draws: int = SEED_SETTINGS["draws"],
    tune: int = SEED_SETTINGS["tune"],
    chains: int = SEED_SETTINGS["chains"],
    target_accept: float = SEED_SETTINGS["target_accept"],
    nuts_sampler: str = "pymc",
    parametrization: str = "centered",
    random_seed: int | None = None,
    progressbar: bool = True,
) -> NutsPosterior:
    """Sample one poolwise model with NUTS and summarise it as the exact engine does.

    Parameters
    ----------
    model : Model
        Family, pooling and priors.
    data : BinomialData, EstimateData or RateData
        The counts, the estimates with their standard errors, or the events with their exposure.
    dim : str
        Name of the group dimension.
    draws, tune, chains, target_accept
        Passed to :func:`pymc.sample`; defaults are the seed analysis's (:data:`SEED_SETTINGS`).
    nuts_sampler : {"pymc", "nutpie", "numpyro", "blackjax"}
        Passed to :func:`pymc.sample`; the others must be installed.
    parametrization : {"centered", "marginal"}
        Beta-binomial and gamma-Poisson partial pooling only; see the module docstring.
    random_seed : int, optional
        Seeds both the sampler and :func:`pymc.sample_posterior_predictive`.
    progressbar : bool
        Show PyMC's progress bars and log lines; poolwise's own warnings report the diagnostics
        either way.

    Returns
    -------
    NutsPosterior
    """
    pm = import_pymc()
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(
            f"parametrization must be one of {', '.join(PARAMETRIZATIONS)}, got {parametrization!r}"
        )
    family = registry.get(model.family)
    if family.non_centred:
        parametrization = NON_CENTERED
    marginal = model.pooling == "partial" and parametrization == "marginal"
    pm_model = build_model(model, data, dim, parametrization)
    # One generator seeds both steps, as in the seed analysis (random_seed=rng).
    rng = np.random.default_rng(random_seed)
    with pymc_logging(quiet=not progressbar):
        trace = pm.sample(
            draws,
            tune=tune,
            chains=chains,
            target_accept=target_accept,
            random_seed=rng,
            nuts_sampler=nuts_sampler,
            progressbar=progressbar,
            quiet=not progressbar,
            compute_convergence_checks=False,  # poolwise's own diagnostics below
            model=pm_model,
        )
        predictive_model = build_model(model, data, dim, parametrization, predictive=True)
        var_names = ["theta", "y", "theta_new"] if marginal else ["y", "theta_new"]
        predicted = pm.sample_posterior_predictive(
            trace,
            model=predictive_model,
            var_names=[v for v in var_names if v in predictive_model.named_vars],
            random_seed=rng,
            progressbar=progressbar,
        )["posterior_predictive"].to_dataset()
    sampled = trace["posterior"].to_dataset()
    theta = predicted["theta"] if marginal else sampled["theta"]

    # The exact engine's layout: theta first, then the hyperparameters; log-likelihood and
    # observed data as the exact engine writes them (the likelihood of y given theta).
    n_groups = data.n_groups
    theta_g = theta.values if theta.ndim == 3 else np.repeat(theta.values[..., None], n_groups, axis=-1)
    likelihood = family.likelihood
    y, constant = likelihood.y(data), likelihood.constants(data)
    loglik = likelihood.log_likelihood(data, theta_g)
    attrs = {
        **trace["posterior"].attrs,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(),
        "inference_library": "pymc",
        "inference_library_version": pm.__version__,
        "poolwise_version": __version__,
        "engine": "nuts",
        "nuts_sampler": nuts_sampler,
        "parametrization": parametrization if model.pooling == "partial" else "centered",
        "family": model.family,
        "pooling": model.pooling,
        "model": "; ".join(model.equations()),
    }
    if random_seed is not None:
        attrs["random_seed"] = random_seed
    groups = {dim: data.groups.astype(str)}
    posterior = xr.Dataset(
        {"theta": theta, **{k: sampled[k] for k in _HYPER if k in sampled}}, coords=groups, attrs=attrs
    )
    draw_coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values, **groups}
    idata = xr.DataTree.from_dict(
        {
            "posterior": posterior,
            "posterior_predictive": xr.Dataset(
                {k: predicted[k] for k in ("y", "theta_new") if k in predicted}, coords=groups, attrs=attrs
            ),
            "log_likelihood": xr.Dataset(
                {"y": (("chain", "draw", dim), loglik)}, coords=draw_coords, attrs=attrs
            ),
            "observed_data": xr.Dataset({"y": ((dim,), y)}, coords=groups, attrs=attrs),
            "constant_data": xr.Dataset(
                {k: ((dim,), v) for k, v in constant.items()}, coords=groups, attrs=attrs
            ),
            "sample_stats": trace["sample_stats"].to_dataset(),
        }
    )

    settings = {
        "draws": draws,
        "tune": tune,
        "target_accept": target_accept,
        "nuts_sampler": nuts_sampler,
        "parametrization": parametrization,
    }
    diagnostics, notes = _diagnose(idata, chains, settings, model.pooling)
    for note in notes:
        warnings.warn(note, PoolwiseWarning, stacklevel=3)

    # One row of draws per group (or one row for a shared theta); hyperparameters one row each.
    scales = family.links  # where each parameter is unconstrained; the other hyperparameters are positive
    rows = _flat(theta.values)
    quantities = {"theta": _quantity("theta", rows, scales["theta"], np.arange(rows.shape[0]))}
    one = np.zeros(1, np.int64)
    for name in _HYPER:
        if name in sampled:
            quantities[name] = _quantity(name, _flat(sampled[name].values), scales.get(name, "log"), one)
    new = None  # no pooling with an improper prior: a new group's effect has no distribution
    if "theta_new" in predicted:
        new = _quantity("theta_new", _flat(predicted["theta_new"].values), scales["theta_new"], one)
    return NutsPosterior(model.pooling, quantities, new, idata, pm_model, diagnostics, warnings=tuple(notes))
