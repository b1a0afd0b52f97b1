"""Fitting, and the result a user works with.

:func:`fit` fits one pooling, :func:`fit_all` the three side by side. A :class:`Fit` holds the exact
posterior: :meth:`Fit.summary` (a table like ``az.summary``, but exact), :attr:`Fit.idata` (an
ArviZ-compatible :class:`xarray.DataTree` of independent draws), :meth:`Fit.new_group` (the
predictive of an unseen group) and :meth:`Fit.mode`. ``engine="nuts"`` samples the same models with
PyMC instead (the ``mcmc`` extra) and returns the same :class:`Fit`.

The family follows from the columns given: ``successes=`` and ``trials=`` fit binomial counts
(beta-binomial), ``estimate=`` with ``std_error=`` or ``variance=`` fit estimates with known standard
errors (normal-normal: random-effects meta-analysis, BDA3's eight schools). Binomial counts fit the
logit-normal family instead with ``family="logit-normal"`` (``logit theta_i ~ N(mu, sigma^2)``, the
varying intercept of Bambi, brms and lme4). ``events=`` with ``exposure=`` fit event counts in an
exposure (gamma-Poisson: failures per operating hour, cases per person-year).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator, Mapping
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from .._core.validation import check_ci, check_tol, ci_columns
from ..data import BinomialData, EstimateData, RateData
from ..engines import exact, exact_logit, exact_normal
from ..engines.posterior import OnGrid, Posterior
from ..families import registry
from ..families.models import Model, PriorSpec, build

#: Groups above which the CLI and the report skip what needs every group's draws (P(best), PSIS-LOO,
#: posterior predictive checks): 4 x 1000 draws of three arrays per group would not fit in memory.
DRAWS_GROUP_LIMIT = 2000

_RESERVED = {"chain", "draw", "theta", "theta_new", "alpha", "beta", "mu", "kappa", "y", "n"}
ENGINES = ("exact", "nuts")
#: Most draws (all chains together) a fit keeps: 8 bytes x 1e8 = 0.75 GiB per variable per group.
MAX_DRAWS = 10**8
#: Draws per chain when ``draws`` is not given: the exact engine's independent draws, and the seed
#: analysis's ``pm.sample(5000, ...)`` for NUTS.
DEFAULT_DRAWS = {"exact": 1000, "nuts": 5000}


class NewGroup:
    """The predictive distribution of ``theta`` for a group not in the data.

    Attributes
    ----------
    summary : pandas.Series
        Exact mean, sd and credible interval.
    """

    def __init__(self, summary: pd.Series, fit: Fit) -> None:
        self.summary = summary
        self._fit = fit

    @property
    def draws(self) -> np.ndarray:
        """Independent draws of ``theta_new``, shape ``(chains, draws)`` (from :attr:`Fit.idata`)."""
        return self._fit.idata["posterior_predictive"]["theta_new"].values

    def __repr__(self) -> str:
        return f"<poolwise.NewGroup>\n{self.summary.to_string()}"


class Fit:
    """One fitted model. Build it with :func:`fit`.

    Attributes
    ----------
    model : Model
        Family, pooling and priors.
    data : BinomialData, EstimateData or RateData
        The validated data: binomial counts, estimates with standard errors, or event counts with
        exposure.
    engine : str
        ``"exact"`` or ``"nuts"``.
    diagnostics : dict
        What the engine checked: grid size, convergence and edge mass (exact); divergences, r_hat,
        bulk and tail ESS, tree-depth hits (nuts).
    warnings : tuple of str
        Conditions the user should know about (prior-dominated, improper, not converged;
        divergences, disagreeing chains, few effective draws).
    random_seed : int
        Seed of the draws in :attr:`idata`.
    """

    def __init__(
        self,
        model: Model,
        data: BinomialData | EstimateData | RateData,
        posterior: Posterior,
        *,
        draws: int,
        chains: int,
        random_seed: int,
    ) -> None:
        self.model = model
        self.data = data
        self.engine = posterior.engine
        self._posterior = posterior
        self.n_draws = draws
        self.chains = chains
        self.random_seed = random_seed
        self.warnings = posterior.warnings
        self.diagnostics = posterior.diagnostics

    @property
    def posterior(self) -> Posterior:
        """The engine's posterior (read-only): quantities, new group, draws, diagnostics, warnings."""
        return self._posterior

    @property
    def pooling(self) -> str:
        """``"none"``, ``"complete"`` or ``"partial"``."""
        return self.model.pooling

    @property
    def family(self) -> str:
        """``"beta-binomial"``, ``"normal-normal"``, ``"logit-normal"`` or ``"gamma-poisson"``."""
        return self.model.family

    def require_binomial(self, what: str) -> None:
        """Refuse, by name (``what``), a question that only binomial counts can answer."""
        if not registry.get(self.family).binomial:
            raise NotImplementedError(f"{what} is for binomial counts; this fit is {self.family}")

    def require_beta_population(self, what: str) -> None:
        """Refuse, by name, a question answered through the Beta population's ``alpha`` and ``beta``."""
        if registry.get(self.family).for_pooling(self.pooling).conjugate != "Beta":
            beta = " and ".join(f.name for f in registry.REGISTRY.values() if f.conjugate == "Beta")
            raise NotImplementedError(
                f"{what} is for the {beta} family (a Beta population); this fit is {self.family}"
            )

    @property
    def dim(self) -> str:
        """Name of the group dimension: the group column, unless that clashes with a variable."""
        return _group_dim(self.data, self.family)

    @property
    def pymc_model(self):
        """A copy of this fit's PyMC model, to inspect or extend (needs the ``mcmc`` extra).

        With ``engine="nuts"`` the model that was sampled; with the exact engine the same model
        as the seed analysis writes it (centred). Each access returns a new copy, so extending it
        leaves this fit unchanged; sampling it unchanged (``pm.sample(model=fit.pymc_model)``)
        reproduces this fit's posterior up to Monte Carlo error.
        """
        sampled = getattr(self.posterior, "pymc_model", None)
        if sampled is not None:
            return sampled.copy()
        from ..engines import nuts

        return nuts.build_model(self.model, self.data, self.dim)

    def summary(self, ci_kind: str | None = None, ci_prob: float | None = None) -> pd.DataFrame:
        """Exact posterior summary, one row per parameter, like :func:`arviz.summary`.

        Parameters
        ----------
        ci_kind : {"hdi", "eti"}, default "hdi"
            Highest-density (shortest) or equal-tailed interval.
        ci_prob : float, default 0.94
            Probability inside the interval.

        Returns
        -------
        pandas.DataFrame
            Index ``theta[<group>]`` (or ``theta`` for complete pooling) then, for partial pooling,
            ``alpha``, ``beta``, ``mu``, ``kappa`` (beta-binomial), ``mu``, ``tau``
            (normal-normal) or ``mu``, ``sigma`` (logit-normal); columns ``mean``, ``sd`` and the
            interval bounds named as ArviZ names them (``hdi94_lb``, ``hdi94_ub``). No Monte Carlo
            error: these are integrals, not draws.
        """
        kind, prob = check_ci(ci_kind, ci_prob)
        lb, ub = ci_columns(kind, prob)
        frames = []
        for name, q in self.posterior.quantities.items():
            lo, hi = q.interval(kind, prob)
            if name == "theta" and self.pooling != "complete":
                index = [f"theta[{g}]" for g in self.data.groups]
            else:
                index = [name]
            frames.append(
                pd.DataFrame({"mean": q.mean[q.index], "sd": q.sd[q.index], lb: lo, ub: hi}, index=index)
            )
        return pd.concat(frames)

    def group_table(self, ci_kind: str | None = None, ci_prob: float | None = None) -> pd.DataFrame:
        """Per-group table: the data and the posterior of ``theta_i``.

        Binomial counts: ``successes``, ``trials`` and the raw rate ``y/n`` (a group with no trials
        has no raw rate, NaN, and the population's prediction as posterior). Estimates:
        ``estimate`` and ``std_error``. Event counts: ``events``, ``exposure`` and the raw rate
        ``y/E`` (NaN for no exposure). Then ``mean``, ``sd`` and the interval bounds.
        """
        kind, prob = check_ci(ci_kind, ci_prob)
        lb, ub = ci_columns(kind, prob)
        q = self.posterior.quantities["theta"]
        lo, hi = q.interval(kind, prob)
        index = np.zeros(self.data.n_groups, np.int64) if self.pooling == "complete" else slice(None)
        posterior = {"mean": q.mean[q.index][index], "sd": q.sd[q.index][index], lb: lo[index], ub: hi[index]}
        rows = pd.Index(self.data.groups, name=self.data.group_column)
        observed = registry.get(self.family).likelihood.observed(self.data)
        return pd.DataFrame({**observed, **posterior}, index=rows)

    def new_group(self, ci_kind: str | None = None, ci_prob: float | None = None) -> NewGroup:
        """Predictive of ``theta_new`` for an unseen group.

        Partial pooling: ``theta_new ~ Beta(alpha, beta)`` (``Normal(mu, tau^2)``; ``expit`` of
        ``Normal(mu, sigma^2)``; ``Gamma(alpha, beta)``) averaged over the
        posterior of the hyperparameters; complete pooling: the shared ``theta``; no pooling: the
        prior, since no group informs another.

        Raises
        ------
        ValueError
            No pooling with an improper prior on ``theta`` (flat for normal-normal, Jeffreys'
            ``Gamma(1/2, 0)`` for gamma-Poisson): the prediction is improper.
        """
        kind, prob = check_ci(ci_kind, ci_prob)
        lb, ub = ci_columns(kind, prob)
        q = self._new_group_quantity()
        lo, hi = q.interval(kind, prob)
        summary = pd.Series(
            {"mean": q.mean[q.index][0], "sd": q.sd[q.index][0], lb: lo[0], ub: hi[0]},
            name="theta_new",
        )
        return NewGroup(summary, self)

    def _new_group_quantity(self) -> exact.Quantity:
        q = self.posterior.new_group
        if q is None:
            raise ValueError(
                f"{self.model.title} with the improper prior theta ~ {self.model.priors['theta']}: an "
                "unseen group's parameter has no proper distribution; give theta a proper prior, or "
                "ask a partial-pooling fit"
            )
        return q

    def new_group_median(self) -> float:
        """Return the median of an unseen group's ``theta`` (what to quote where its mean may not exist).

        Raises
        ------
        ValueError
            Where it has no proper distribution (no pooling under an improper prior on theta).
        """
        return float(self._new_group_quantity().quantile(0.5)[0])

    def mode(self, name: str) -> float:
        """Posterior mode of a hyperparameter (``"mu"``, ``"kappa"``, ``"alpha"``, ``"beta"``, ``"tau"``...).

        Exact engine: found on the exact marginal density (parabolic refinement of its tabulated
        maximum), unlike the seed's histogram of draws at 1/100 resolution. NUTS engine: the
        maximum of a kernel density estimate of the draws, so it carries Monte Carlo error.
        """
        quantities = self.posterior.quantities
        if name == "theta" or name not in quantities:
            options = [k for k in quantities if k != "theta"]
            raise ValueError(
                f"mode is available for {', '.join(options) or 'no parameter'} here, not {name!r}"
            )
        return float(quantities[name].marginal.mode()[0])

    def density(self, name: str, group: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact posterior density of a parameter, for plotting.

        Parameters
        ----------
        name : str
            ``"theta"`` (then ``group`` is required unless pooling is complete), ``"theta_new"``,
            or a hyperparameter ``"alpha"``, ``"beta"``, ``"mu"``, ``"kappa"`` (``"mu"``, ``"tau"``;
            ``"mu"``, ``"sigma"``).
        group : str, optional
            Group label, for ``theta``.

        Returns
        -------
        x, density : numpy.ndarray
            Points on the parameter's own scale and the normalised density there.
        """
        if name == "theta_new":
            q = self._new_group_quantity()
            return q.marginal.density(int(q.index[0]))
        if name not in self.posterior.quantities:
            known = ["theta_new", *self.posterior.quantities]
            raise ValueError(f"no parameter {name!r} in this model; known: {', '.join(known)}")
        q = self.posterior.quantities[name]
        if name == "theta" and self.pooling != "complete":
            where = np.flatnonzero(self.data.groups == str(group))
            if where.size != 1:
                raise ValueError(f"group {group!r} is not in the data ({self.data.n_groups} groups)")
            return q.marginal.density(int(q.index[where[0]]))
        return q.marginal.density(int(q.index[0]))

    def hyper_grid(self) -> dict[str, np.ndarray]:
        """Return the exact engine's grid over the hyperparameters (partial pooling only).

        Returns
        -------
        dict
            ``u`` = logit(mu) and ``v`` = log(kappa) node coordinates (1-D; for gamma-Poisson
            ``u`` = log(mu), ``v`` = log(alpha)), ``weight`` (2-D, ``(len(u), len(v))``, summing to
            one), and ``alpha``, ``beta`` at the nodes (2-D).
        """
        if not registry.get(self.family).for_pooling(self.pooling).grid_axes:  # Beta's, Gamma's
            self.require_beta_population("hyper_grid (the grid over alpha and beta)")
        grid = self.posterior.grid if isinstance(self.posterior, OnGrid) else None
        if grid is None and self.engine != "exact":
            raise ValueError(f"engine={self.engine!r} samples the hyperparameters; it has no grid")
        if grid is None:
            raise ValueError(f"{self.model.title} has no hyperparameters, hence no grid")
        uu, vv = np.meshgrid(grid.u, grid.v, indexing="ij")
        values = self.posterior.family.hyper_draws(uu, vv)
        return {
            "u": grid.u,
            "v": grid.v,
            "weight": grid.weights,
            "alpha": values["alpha"],
            "beta": values["beta"],
        }

    @cached_property
    def idata(self) -> xr.DataTree:
        """Independent posterior draws as an ArviZ-compatible :class:`xarray.DataTree`.

        Groups: ``posterior`` (``theta`` with dims ``(chain, draw, <group>)``, and the
        hyperparameters), ``posterior_predictive`` (replicated ``y`` and ``theta_new``),
        ``log_likelihood`` (pointwise ``y``), ``observed_data`` (``y``) and ``constant_data``
        (``n`` for counts, ``sigma``, the standard errors, for estimates, ``exposure`` for event
        counts). Draws are made on first access, seeded by :attr:`random_seed`. Under no pooling
        with an improper prior on ``theta`` there is no ``theta_new`` (its distribution is improper).
        """
        prebuilt = getattr(self.posterior, "idata", None)
        if prebuilt is not None:  # a sampling engine brings its own draws
            return prebuilt
        rng = np.random.default_rng(self.random_seed)
        total = self.chains * self.n_draws
        raw = self.posterior.draws(total, rng)
        shape = (self.chains, self.n_draws)
        g = self.dim
        coords = {
            g: self.data.groups.astype(str),
            "chain": np.arange(self.chains),
            "draw": np.arange(self.n_draws),
        }
        theta = raw["theta"]
        posterior = {}
        if theta.ndim == 1:
            posterior["theta"] = (("chain", "draw"), theta.reshape(shape))
            theta_g = np.repeat(theta[:, None], self.data.n_groups, axis=1)
        else:
            posterior["theta"] = (("chain", "draw", g), theta.reshape(*shape, -1))
            theta_g = theta
        for name in ("alpha", "beta", "mu", "kappa", "tau", "sigma"):
            if name in raw:
                posterior[name] = (("chain", "draw"), raw[name].reshape(shape))
        likelihood = registry.get(self.family).likelihood
        y, constant = likelihood.y(self.data), likelihood.constants(self.data)
        y_rep = likelihood.replicate(rng, self.data, theta_g)
        loglik = likelihood.log_likelihood(self.data, theta_g)
        theta_new = self._theta_new_draws(raw, total, rng)
        attrs = {
            "created_at": _dt.datetime.now(_dt.UTC).isoformat(),
            "inference_library": "poolwise",
            "inference_library_version": __version__,
            "engine": self.engine,
            "pooling": self.pooling,
            "model": "; ".join(self.model.equations()),
            "random_seed": self.random_seed,
        }

        def ds(variables: dict, with_draws: bool = True) -> xr.Dataset:
            used = {k: v for k, v in coords.items() if with_draws or k == g}
            return xr.Dataset(variables, coords=used, attrs=attrs)

        predictive = {"y": (("chain", "draw", g), y_rep.reshape(*shape, -1))}
        if theta_new is not None:
            predictive["theta_new"] = (("chain", "draw"), np.asarray(theta_new).reshape(shape))
        return xr.DataTree.from_dict(
            {
                "posterior": ds(posterior),
                "posterior_predictive": ds(predictive),
                "log_likelihood": ds({"y": (("chain", "draw", g), loglik.reshape(*shape, -1))}),
                "observed_data": ds({"y": ((g,), y)}, with_draws=False),
                "constant_data": ds({k: ((g,), v) for k, v in constant.items()}, with_draws=False),
            }
        )

    def _theta_new_draws(self, raw: dict, total: int, rng: np.random.Generator) -> np.ndarray | None:
        """Draws of a new group's ``theta``; None where its distribution is improper."""
        if self.pooling == "complete":
            return raw["theta"]
        if self.pooling == "partial":
            return registry.get(self.family).maths.draw_new_group(rng, raw)
        prior = self.model.priors["theta"]  # no group informs another: a new group's theta is the prior
        return prior.sample(rng, total) if prior.proper else None

    def _repr_html_(self) -> str:
        """Show a compact summary in Jupyter: the model, its warnings and the summary table."""
        import html

        equations = "<br>".join(html.escape(line) for line in self.model.equations())
        notes = "".join(f"<p style='color:#B03A2E'>⚠ {html.escape(w)}</p>" for w in self.warnings)
        table = self.summary().to_html(float_format=lambda v: f"{v:.4g}", escape=True)
        return (
            f"<div><p><b>poolwise.Fit</b> — {html.escape(self.model.title)}, {self.data.n_groups} groups, "
            f"engine {html.escape(self.engine)}</p><p style='font-family:monospace'>{equations}</p>"
            f"{notes}{table}</div>"
        )

    def __repr__(self) -> str:
        head = f"<poolwise.Fit: {self.model.title}, {self.data.n_groups} groups, engine={self.engine}>"
        body = self.summary().to_string(float_format=lambda v: f"{v:.4g}")
        return f"{head}\n" + "\n".join(f"  {line}" for line in self.model.equations()) + f"\n{body}"


class FitSet(Mapping[str, Fit]):
    """Fits of the same data under several poolings, keyed by pooling name."""

    def __init__(self, fits: dict[str, Fit]) -> None:
        self._fits = fits

    def __getitem__(self, pooling: str) -> Fit:
        return self._fits[pooling]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fits)

    def __len__(self) -> int:
        return len(self._fits)

    @property
    def data(self) -> BinomialData | EstimateData | RateData:
        """The data all fits share."""
        return next(iter(self._fits.values())).data

    def summary(self, ci_kind: str | None = None, ci_prob: float | None = None) -> pd.DataFrame:
        """All summaries stacked, with the pooling as the outer index level."""
        return pd.concat(
            {name: f.summary(ci_kind, ci_prob) for name, f in self._fits.items()},
            names=["pooling", "parameter"],
        )

    def _repr_html_(self) -> str:
        """Each fit's compact summary, side by side in Jupyter."""
        cells = "".join(f"<td style='vertical-align:top'>{f._repr_html_()}</td>" for f in self._fits.values())
        return f"<table><tr>{cells}</tr></table>"

    def __repr__(self) -> str:
        return "\n\n".join(repr(f) for f in self._fits.values())


def _new_seed() -> int:
    return int(np.random.SeedSequence().entropy % (2**32))


def _check_sampling(draws: int, chains: int, random_seed: int | None) -> int:
    for name, value in (("draws", draws), ("chains", chains)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if draws * chains > MAX_DRAWS:
        raise ValueError(
            f"draws x chains = {draws * chains:,} is more than {MAX_DRAWS:,}: each group's draws alone "
            f"would take {8 * draws * chains / 2**30:,.3g} GiB; ask for fewer"
        )
    if random_seed is None:
        return _new_seed()
    if isinstance(random_seed, bool) or not isinstance(random_seed, int | np.integer) or random_seed < 0:
        raise ValueError(f"random_seed must be a whole number >= 0 or None, got {random_seed!r}")
    return int(random_seed)


def _group_dim(data: BinomialData | EstimateData | RateData, family: str = registry.DEFAULT) -> str:
    name = data.group_column
    reserved = _RESERVED | registry.get(family).reserved
    # A variable's name, and xarray's DataTree forbids "/" in those.
    return "group" if name in reserved or "/" in name else name


def _check_nuts(engine: str, nuts: dict) -> dict:
    """Validate the NUTS settings, filling in the seed analysis's; refuse them for the exact engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    given = [k for k, v in nuts.items() if v is not None]
    if engine == "exact":
        if given:
            raise ValueError(f"{', '.join(given)}: only for engine='nuts', but engine is 'exact'")
        return {}
    from ..engines.nuts import PARAMETRIZATIONS, SEED_SETTINGS

    out = {
        "tune": SEED_SETTINGS["tune"] if nuts["tune"] is None else nuts["tune"],
        "target_accept": SEED_SETTINGS["target_accept"]
        if nuts["target_accept"] is None
        else nuts["target_accept"],
        "nuts_sampler": nuts["nuts_sampler"] or "pymc",
        "parametrization": nuts["parametrization"] or "centered",
    }
    tune = out["tune"]
    if isinstance(tune, bool) or not isinstance(tune, int | np.integer) or tune < 0:
        raise ValueError(f"tune must be a whole number >= 0, got {tune!r}")
    accept = out["target_accept"]
    if isinstance(accept, bool) or not isinstance(accept, int | float) or not 0 < accept < 1:
        raise ValueError(f"target_accept must be a probability strictly between 0 and 1, got {accept!r}")
    if out["parametrization"] not in PARAMETRIZATIONS:
        raise ValueError(
            f"parametrization must be one of {', '.join(map(repr, PARAMETRIZATIONS))}, "
            f"got {out['parametrization']!r}"
        )
    if not isinstance(out["nuts_sampler"], str):
        raise ValueError(
            f"nuts_sampler must be a name such as 'pymc' or 'nutpie', got {out['nuts_sampler']!r}"
        )
    return out


def _fit_model(
    model: Model,
    data: BinomialData | EstimateData | RateData,
    *,
    tol: float,
    draws: int,
    chains: int,
    seed: int,
    engine: str = "exact",
    nuts: dict | None = None,
    progressbar: bool = True,
) -> Fit:
    if engine == "nuts":
        from ..engines import nuts as nuts_engine

        posterior = nuts_engine.fit_nuts(
            model,
            data,
            _group_dim(data, model.family),
            draws=draws,
            chains=chains,
            random_seed=seed,
            progressbar=progressbar,
            **(nuts or {}),
        )
    else:
        family = registry.get(model.family).for_pooling(model.pooling)
        posterior = _EXACT[family.exact](model, data, family, tol)
    return Fit(model, data, posterior, draws=draws, chains=chains, random_seed=seed)


def _family(data, columns: dict[str, str | None], family: str | None) -> str:
    """Return the family that the data and columns call for, checked against ``family=``."""
    named = {
        kind.name: [c for c in registry.get(kind.family).columns if columns[c] is not None]
        for kind in registry.KINDS.values()
    }
    given = {kind: names for kind, names in named.items() if names}
    if len(given) > 1:
        parts = [f"{', '.join(names)} ({registry.KINDS[kind].words})" for kind, names in given.items()]
        raise ValueError(f"{' and '.join(parts)} belong to different families; give one or the other")
    validated = [kind for kind in registry.KINDS.values() if isinstance(data, kind.table)]
    implied = next(iter(validated or [registry.KINDS[kind] for kind in given]), None)
    if family is None:
        return registry.DEFAULT if implied is None else implied.family
    chosen = registry.get(family)  # an unknown name fails here, listing the families
    if implied is not None and chosen.data != implied.name:
        raise ValueError(f"family={family!r} does not fit the data given, which call for {implied.family!r}")
    return family  # any family of the data's kind: counts fit either binomial family


def _data(
    data, family: str, group, columns: dict[str, str | None], sep
) -> BinomialData | EstimateData | RateData:
    if isinstance(data, BinomialData | EstimateData | RateData):
        return data
    chosen = registry.get(family)
    kind = chosen.kind
    missing = [c for c in kind.required if columns[c] is None]
    if missing:
        others = [c for c in chosen.columns if c not in kind.required]
        raise ValueError(
            f"the {family} family needs {', '.join(f'{c}=' for c in missing)} "
            f"(with {' or '.join(f'{c}=' for c in others)})"
        )
    # a column not given keeps the validator's default name (the role's; "group")
    given = {c: columns[c] for c in chosen.columns if columns[c] is not None}
    if group is not None:
        given["group"] = group
    return kind.read(data, **given, sep=sep)


def _grid(model: Model, data, family: registry.Family, tol: float):
    """Fit with :mod:`poolwise.engines.exact`, the family's maths as a parameter."""
    count, size = (getattr(data, role) for role in family.roles)
    pairs = family.maths.Pairs.from_counts(size, count)
    if model.pooling == "partial":
        return exact.fit_partial_pairs(model.priors, pairs, tol=tol, family=family.maths)
    return exact.fit_closed_form_pairs(model.pooling, model.priors["theta"], pairs, family=family.maths)


def _line(model: Model, data, family: registry.Family, tol: float):
    """Fit estimates with known standard errors exactly (a line over ``tau``)."""
    estimates = family.maths.Estimates(*(getattr(data, role) for role in family.roles))
    if model.pooling == "partial":
        return exact_normal.fit_partial(model.priors, estimates, tol=tol)
    return exact_normal.fit_closed_form(model.pooling, model.priors["theta"], estimates)


def _logit(model: Model, data, family: registry.Family, tol: float):
    """Fit a logit-normal population exactly (partial pooling only)."""
    count, size = (getattr(data, role) for role in family.roles)
    return exact_logit.fit_partial(model.priors, size, count, tol=tol)


#: The exact fit of each engine module a family names (:attr:`Family.exact`).
_EXACT = {"exact": _grid, "exact_normal": _line, "exact_logit": _logit}


def fit(
    data: pd.DataFrame | str | os.PathLike | BinomialData | EstimateData | RateData,
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
    pooling: str = "partial",
    priors: PriorSpec | None = None,
    engine: str = "exact",
    draws: int | None = None,
    chains: int = 4,
    random_seed: int | None = None,
    tol: float = 1e-4,
    sep: str | None = None,
    tune: int | None = None,
    target_accept: float | None = None,
    nuts_sampler: str | None = None,
    parametrization: str | None = None,
    progressbar: bool = True,
) -> Fit:
    r"""Fit a pooling model to per-group binomial counts, estimates with standard errors, or event rates.

    Parameters
    ----------
    data : DataFrame, path to a CSV or Parquet file, BinomialData or EstimateData
        One row per group.
    group : str, optional
        Column of group labels (default ``"group"`` for counts; estimates without one are labelled
        ``"study 1"``, ``"study 2"``, ...).
    successes, trials : str, optional
        Binomial counts (the beta-binomial family): columns of ``y_i`` and ``n_i`` (default
        ``"successes"`` and ``"trials"``).
    estimate, std_error, variance : str, optional
        Estimates with known standard errors (the normal-normal family): the column of ``y_i`` and
        that of ``s_i`` or of ``s_i^2``; give ``estimate`` and one of the other two.
    events, exposure : str, optional
        Event counts in an exposure (the gamma-Poisson family): columns of ``y_i`` and ``E_i``
        (default ``"events"`` and ``"exposure"``); the rates ``theta_i`` are events per unit of
        exposure.
    family : {"beta-binomial", "normal-normal", "logit-normal", "gamma-poisson"}, optional
        Follows from the columns given (binomial counts: ``"beta-binomial"``); a value that
        contradicts them is an error. ``"logit-normal"`` fits binomial counts with
        :math:`\operatorname{logit} \theta_i \sim N(\mu, \sigma^2)` instead of a Beta population
        (the varying intercept of Bambi, brms, lme4 and INLA).
    pooling : {"partial", "none", "complete"}
        Beta-binomial: ``partial``: :math:`y_i \sim \mathrm{Binomial}(n_i, \theta_i)`,
        :math:`\theta_i \sim \mathrm{Beta}(\alpha, \beta)`, :math:`\alpha, \beta \sim
        \mathrm{HalfNormal}(10)`; ``none``: :math:`\theta_i \sim \mathrm{Beta}(1/2, 1/2)`
        independently; ``complete``: one :math:`\theta \sim \mathrm{Beta}(1/2, 1/2)`.
        Normal-normal: ``partial``: :math:`y_i \sim N(\theta_i, s_i^2)`, :math:`\theta_i \sim
        N(\mu, \tau^2)`, :math:`\mu` flat and :math:`\tau` uniform on :math:`[0, \infty)`
        (BDA3 §5.5; proper in the posterior for 3 or more groups); ``none``: each
        :math:`\theta_i` flat, so :math:`\theta_i \mid y \sim N(y_i, s_i^2)`; ``complete``: one
        flat :math:`\theta`, the precision-weighted mean. Logit-normal: ``partial``:
        :math:`\operatorname{logit} \theta_i \sim N(\mu, \sigma^2)`, :math:`\mu \sim N(0, 1.5^2)`,
        :math:`\sigma \sim \mathrm{HalfNormal}(1)` (weakly informative on the logit scale; see
        :mod:`poolwise.families.models`); ``none`` and ``complete`` as for the beta-binomial.
        Gamma-Poisson: ``partial``: :math:`y_i \sim \mathrm{Poisson}(E_i \theta_i)`,
        :math:`\theta_i \sim \mathrm{Gamma}(\alpha, \beta)`, :math:`\alpha \sim
        \mathrm{Exponential}(1)`, :math:`\beta \sim \mathrm{Gamma}(0.1, 1)` (the BUGS Pumps
        example); ``none`` and ``complete``: Jeffreys' :math:`\mathrm{Gamma}(1/2, 0)` on each rate
        or the shared one.
    priors : mapping, optional
        Parameter -> prior, as objects (``pw.priors.Gamma(2, 0.5)``) or text (``"Gamma(2, 0.5)"``).
        Beta-binomial partial pooling takes ``alpha`` and ``beta``, or ``mu`` and ``kappa``, or a
        joint ``"alpha,beta"`` (``pw.priors.BDA3()``); the others take ``theta`` (a Beta).
        Normal-normal partial pooling takes ``mu`` (``"flat"`` or ``Normal(m, s)``) and ``tau``
        (``"uniform"`` for BDA3's improper uniform, ``HalfCauchy(25)``, ``HalfNormal(10)``,
        ``Uniform(0, 100)``, ...); the others take ``theta`` (flat or Normal). Logit-normal partial
        pooling takes ``mu`` (``Normal(m, s)`` or ``"flat"``) and ``sigma`` (``HalfNormal(1)``,
        ``Exponential(1)``, ``HalfCauchy(1)``, ...). Gamma-Poisson partial pooling takes ``alpha``
        and ``beta``, or ``mu = alpha / beta`` and ``alpha``; the others take ``theta`` (a Gamma).
    engine : {"exact", "nuts"}
        ``"exact"``: closed forms, and for partial pooling a grid over the hyperparameters (a line
        over ``tau`` for the normal-normal family) refined until every summary moves less than
        ``tol``. ``"nuts"``: the seed analysis's PyMC models
        sampled with NUTS (needs ``pip install 'poolwise[mcmc]'``); summaries come from the draws.
    draws, chains : int
        Draws per chain and chains: the independent draws in :attr:`Fit.idata` (exact, made on
        first access; default 1000 x 4), or ``pm.sample``'s (nuts; default the seed's 5000 x 4).
    random_seed : int, optional
        Seed of the draws (and of the sampler); a fresh one is chosen (and kept in
        :attr:`Fit.random_seed`) if None.
    tol : float
        Convergence tolerance of the summaries (absolute; relative for values above one).
    sep : str, optional
        CSV delimiter, when ``data`` is a CSV file.
    tune, target_accept : optional
        NUTS only: tuning steps per chain and target acceptance rate (default the seed's 5000 and
        0.95).
    nuts_sampler : {"pymc", "nutpie", "numpyro", "blackjax"}, optional
        NUTS only: passed to ``pm.sample`` (default ``"pymc"``, the seed's; the others must be
        installed).
    parametrization : {"centered", "marginal"}, optional
        NUTS, partial pooling only: ``theta`` sampled with ``alpha``, ``beta`` (the seed's,
        default), or ``alpha``, ``beta`` sampled against the beta-binomial likelihood and each
        ``theta_i`` drawn afterwards from its conjugate Beta (no divergences from the funnel).
    progressbar : bool
        NUTS only: show PyMC's progress bars and log lines (poolwise's warnings report the
        diagnostics either way).

    Returns
    -------
    Fit

    Examples
    --------
    >>> import poolwise as pw
    >>> df = pw.datasets.load("spacex")
    >>> fit = pw.fit(df, group="Mission", successes="y", trials="N", random_seed=1)
    >>> round(fit.summary().loc["mu", "mean"], 3)
    0.807

    The eight schools of BDA3 §5.5:

    >>> schools = pd.DataFrame({"school": list("ABCDEFGH"),
    ...                         "y": [28, 8, -3, 7, -1, 1, 18, 12],
    ...                         "sigma": [15, 10, 16, 11, 9, 11, 10, 18]})
    >>> fit = pw.fit(schools, group="school", estimate="y", std_error="sigma",
    ...              priors={"mu": "flat", "tau": "uniform"}, random_seed=1)
    >>> round(fit.summary().loc["mu", "mean"], 1)
    7.9
    """
    if pooling == "all":
        raise ValueError("fit() fits one pooling; use fit_all() for 'all'")
    fits = fit_all(
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
        poolings=(pooling,),
        priors=priors,
        engine=engine,
        draws=draws,
        chains=chains,
        random_seed=random_seed,
        tol=tol,
        sep=sep,
        tune=tune,
        target_accept=target_accept,
        nuts_sampler=nuts_sampler,
        parametrization=parametrization,
        progressbar=progressbar,
    )
    return fits[pooling]


def fit_all(
    data: pd.DataFrame | str | os.PathLike | BinomialData | EstimateData | RateData,
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
    poolings: str | tuple[str, ...] = "all",
    priors: PriorSpec | None = None,
    engine: str = "exact",
    draws: int | None = None,
    chains: int = 4,
    random_seed: int | None = None,
    tol: float = 1e-4,
    sep: str | None = None,
    tune: int | None = None,
    target_accept: float | None = None,
    nuts_sampler: str | None = None,
    parametrization: str | None = None,
    progressbar: bool = True,
) -> FitSet:
    """Fit no, complete and partial pooling (or the ``poolings`` given) to the same data.

    Takes the arguments of :func:`fit`; ``priors`` are handed to the models that have those
    parameters. All fits share one ``random_seed``.

    Returns
    -------
    FitSet
        Mapping pooling name -> :class:`Fit`.
    """
    settings = dict(
        tune=tune, target_accept=target_accept, nuts_sampler=nuts_sampler, parametrization=parametrization
    )
    nuts = _check_nuts(engine, settings)
    draws = DEFAULT_DRAWS[engine] if draws is None else draws
    columns = {
        "successes": successes,
        "trials": trials,
        "estimate": estimate,
        "std_error": std_error,
        "variance": variance,
        "events": events,
        "exposure": exposure,
    }
    chosen = _family(data, columns, family)
    non_centred = registry.get(chosen).non_centred
    if non_centred and parametrization is not None:
        takes = " and ".join(f.name for f in registry.REGISTRY.values() if not f.non_centred)
        raise ValueError(
            f"parametrization chooses how NUTS samples the {takes} models; the {chosen} model is "
            f"always sampled non-centred ({non_centred})"
        )
    tol = check_tol(tol)
    models = build(poolings, priors, chosen)
    seed = _check_sampling(draws, chains, random_seed)
    if engine == "nuts":
        from ..engines.nuts import import_pymc

        import_pymc()  # before reading data: a missing extra is the first thing to say
    validated = _data(data, chosen, group, columns, sep)
    return FitSet(
        {
            m.pooling: _fit_model(
                m,
                validated,
                tol=tol,
                draws=draws,
                chains=chains,
                seed=seed,
                engine=engine,
                nuts=nuts,
                progressbar=progressbar,
            )
            for m in models
        }
    )
