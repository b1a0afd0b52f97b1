r"""Simulation-based calibration (Talts et al. 2018) of either engine, on a design of your own.

Each simulation draws the hyperparameters from their prior, the group rates from the population, and
counts for the given trials; fits; and records where each true value falls in its posterior, as a
value in ``[0, 1]`` that is uniform for every parameter when the engine is right:

- the exact engine has each posterior's distribution function, so it records the probability
  integral transform ``F(truth | y)`` directly;
- the NUTS engine has draws, so it records the rank of the truth among them, thinned to roughly
  independent draws and spread evenly over ``[0, 1]`` (see :func:`check_calibration`).

Uniformity is tested per parameter with a chi-square test on :data:`BINS` equal bins, at a stated
false-alarm rate corrected for the number of parameters (Bonferroni).
"""

from __future__ import annotations

import math
import sys
import types
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..engines import exact
from ..errors import PoolwiseWarning
from ..families.models import Model, build

#: Equal-width bins of the PIT values in the chi-square test.
BINS = 10

ENGINES = ("exact", "nuts")

#: Sampler settings of a NUTS calibration run. Short chains: SBC fits hundreds of data sets, and
#: thins each to its effective draws anyway. ``target_accept`` and the parametrisation are the
#: engine's defaults, so that it is the default engine that is calibrated.
NUTS_SETTINGS = {"draws": 500, "tune": 500, "chains": 2, "target_accept": 0.95, "parametrization": "centered"}

#: Tail probabilities of the tail ESS (ArviZ's for ``method="tail"``).
TAIL_PROB = (0.05, 0.95)


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`check_calibration`.

    Attributes
    ----------
    pit : pandas.DataFrame
        One row per simulation, one column per parameter: ``F(true value | simulated data)`` (the
        exact engine), or the truth's uniformised rank among thinned draws (NUTS).
    tests : pandas.DataFrame
        Per parameter: chi-square statistic, p-value, and ``calibrated`` (p-value above the
        Bonferroni-corrected false-alarm rate).
    false_alarm : float
        Probability that a correct engine fails the check (over all parameters together).
    sampler : pandas.DataFrame or None
        NUTS only, one row per simulation: ``divergences`` after tuning, ``ess`` (the smallest bulk
        or tail ESS of the checked parameters) and ``ranked_among`` (the draws kept by thinning).
    """

    pit: pd.DataFrame
    tests: pd.DataFrame
    false_alarm: float
    sampler: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        """True when every parameter's PIT values look uniform."""
        return bool(self.tests["calibrated"].all())


#: Most simulated data sets one check runs.
MAX_SIMULATIONS = 1_000_000


def check_calibration(
    trials,
    *,
    pooling: str = "partial",
    priors=None,
    n_simulations: int = 200,
    random_seed: int = 0,
    false_alarm: float = 0.01,
    groups_checked: int = 3,
    engine: str = "exact",
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    target_accept: float | None = None,
    parametrization: str | None = None,
    progress: bool = False,
) -> Calibration:
    """Run simulation-based calibration of an engine for a design.

    Parameters
    ----------
    trials : array-like of int
        The number of trials of each group: the design (few or many groups, tiny or huge counts).
    pooling : {"partial", "none", "complete"}
    priors : mapping, optional
        As for :func:`poolwise.fit`; they must be proper, since the truth is drawn from them.
    n_simulations : int
        Datasets simulated and fitted.
    random_seed : int
        Seed of the simulations and, with ``engine="nuts"``, of the sampler.
    false_alarm : float
        Probability that a correct engine is flagged, over all parameters checked together.
    groups_checked : int
        How many groups' ``theta`` are checked (the first ones), besides the hyperparameters.
    engine : {"exact", "nuts"}
        The engine calibrated. ``"nuts"`` needs PyMC and takes about a second per simulation.
    draws, tune, chains, target_accept, parametrization : optional
        ``engine="nuts"`` only, as for :func:`poolwise.fit`; defaults in :data:`NUTS_SETTINGS`.
    progress : bool, optional
        Show a progress bar of the simulations, with the time left, on standard error (tqdm).

    Returns
    -------
    Calibration

    Raises
    ------
    ValueError
        An unknown engine, sampler settings given to the exact engine, a bad design, or an
        improper prior.

    Notes
    -----
    With ``engine="nuts"`` the truth is ranked among the posterior draws (Talts et al. 2018): given
    ``L`` independent draws from a correct posterior, the number ``r`` of them below the truth is
    uniform on ``0, ..., L`` (their Theorem 1). NUTS draws are autocorrelated, which makes ranks
    pile up at the ends even for a correct sampler, so each simulation's chains are first thinned
    to roughly independent draws: every ``k``-th draw, ``k`` being the number of draws over the
    smallest bulk or tail ESS of the checked parameters. ``L`` then varies between simulations,
    so ``r`` is recorded as ``(r + v) / (L + 1)`` with ``v`` uniform on ``[0, 1)``, which is
    exactly uniform on ``[0, 1]`` when ``r`` is uniform on its ``L + 1`` values: the distribution
    of the exact engine's PIT, so the same chi-square test serves both. The fraction of all draws
    below the truth (a PIT from unthinned draws) needs no jitter but, with autocorrelated draws,
    has no exact null distribution.

    The PyMC model is built and compiled once for the design, with the observed counts in a shared
    variable that each simulation overwrites, and one NUTS step method serves every simulation
    (:func:`pymc.sample` restarts its adaptation). Divergent transitions are counted in
    :attr:`Calibration.sampler`, not hidden: a sampler they bias shows up as miscalibration.

    References
    ----------
    Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018). Validating Bayesian
    inference algorithms with simulation-based calibration. arXiv:1804.06788.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if isinstance(n_simulations, bool) or not isinstance(n_simulations, int | np.integer):
        raise ValueError(f"n_simulations must be a whole number, got {n_simulations!r}")
    if not 1 <= n_simulations <= MAX_SIMULATIONS:
        # each simulation is a fit: a million at ~10 ms is hours already
        raise ValueError(f"n_simulations must be between 1 and {MAX_SIMULATIONS:,}, got {n_simulations:,}")
    given = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": target_accept,
        "parametrization": parametrization,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if engine == "exact" and given:
        raise ValueError(f"{', '.join(given)} apply to engine='nuts' only; the exact engine does not sample")
    (model,) = build(pooling, priors)
    n = _design(trials)
    for prior in model.priors.values():
        if not getattr(prior, "proper", False):
            raise ValueError(f"calibration draws the truth from the prior; {prior} is improper")
    rng = np.random.default_rng(random_seed)
    checked = min(groups_checked, n.size)
    ranks = _NutsRanks(model, n, {**NUTS_SETTINGS, **given}) if engine == "nuts" else None
    rows = []
    for _ in _simulations(n_simulations, progress):
        truth, y = _simulate(model, n, rng)
        values = _checked(truth, model.pooling, checked)
        if ranks is not None:
            rows.append(ranks(values, y, rng))
            continue
        with warnings.catch_warnings():
            # Prior-dominated data sets are part of an honest calibration; their warning is not news.
            warnings.simplefilter("ignore", PoolwiseWarning)
            if pooling == "partial":
                post = exact.fit_partial(model.priors, n, y)
            else:
                post = exact.fit_closed_form(pooling, model.priors["theta"], n, y)
        rows.append(_pit(post, values))
    pit = pd.DataFrame(rows)
    per_test = false_alarm / pit.shape[1]
    expected = len(pit) / BINS
    tests = {}
    for name in pit.columns:
        counts = np.histogram(pit[name], bins=BINS, range=(0.0, 1.0))[0]
        statistic = float(np.sum((counts - expected) ** 2 / expected))
        p_value = float(stats.chi2.sf(statistic, BINS - 1))
        tests[name] = {"chi2": statistic, "p_value": p_value, "calibrated": p_value > per_test}
    sampler = None if ranks is None else pd.DataFrame(ranks.stats)
    return Calibration(pit, pd.DataFrame.from_dict(tests, orient="index"), false_alarm, sampler)


def _simulations(n_simulations: int, progress: bool):
    """Count the simulations, through a tqdm bar on standard error when ``progress`` is true."""
    if not progress:
        return range(n_simulations)
    from tqdm import tqdm  # only when asked: ``import poolwise`` stays light

    return tqdm(range(n_simulations), desc="simulations", unit="fit", file=sys.stderr)


def _design(trials) -> np.ndarray:
    """Return the trials per group as int64, refusing what does not fit (numpy raises OverflowError)."""
    try:
        n = np.asarray(trials, dtype=np.int64)
    except OverflowError:
        raise ValueError(
            f"trials must be counts between 0 and 2**63 - 1 = {np.iinfo(np.int64).max} (64-bit), "
            f"got {trials!r}"
        ) from None
    except (TypeError, ValueError):
        n = np.empty(0, dtype=np.int64)
    if n.ndim != 1 or n.size == 0 or np.any(n < 0):
        raise ValueError(f"trials must be a non-empty list of counts >= 0, got {trials!r}")
    return n


def _simulate(model, n: np.ndarray, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    priors = model.priors
    if model.pooling == "partial":
        if "mu" in priors:
            mu, kappa = priors["mu"].sample(rng, 1)[0], priors["kappa"].sample(rng, 1)[0]
            alpha, beta = mu * kappa, (1 - mu) * kappa
        else:
            alpha, beta = priors["alpha"].sample(rng, 1)[0], priors["beta"].sample(rng, 1)[0]
        theta = rng.beta(alpha, beta, n.size)
        truth = {"alpha": alpha, "beta": beta, "mu": alpha / (alpha + beta), "kappa": alpha + beta}
    elif model.pooling == "none":
        theta, truth = priors["theta"].sample(rng, n.size), {}
    else:
        theta, truth = np.full(n.size, priors["theta"].sample(rng, 1)[0]), {}
    truth["theta"] = theta
    return truth, rng.binomial(n, theta)


def _checked(truth: dict, pooling: str, checked: int) -> dict[str, float]:
    """Return the true values checked by result column: hyperparameters, ``theta[j]`` or one ``theta``."""
    values = {name: float(value) for name, value in truth.items() if name != "theta"}
    if pooling == "complete":
        values["theta"] = float(truth["theta"][0])
    else:
        values.update({f"theta[{j}]": float(truth["theta"][j]) for j in range(checked)})
    return values


def _pit(post: exact.ExactPosterior, values: dict[str, float]) -> dict[str, float]:
    out = {}
    groups = [value for name, value in values.items() if name.startswith("theta[")]
    for name, value in values.items():
        if not name.startswith("theta["):
            out[name] = float(post.quantities[name].marginal.cdf(np.array([[value]]))[0, 0])
    if groups:
        q = post.quantities["theta"]
        # Column j holds group j's true theta for every row; group j reads its own row.
        cdf = q.marginal.cdf(np.tile(groups, (q.mean.size, 1)))
        out.update({f"theta[{j}]": float(cdf[q.index[j], j]) for j in range(len(groups))})
    return out


class _NutsRanks:
    """Uniformised ranks of the truth among NUTS draws, from a model compiled once for the design."""

    def __init__(self, model: Model, n: np.ndarray, settings: dict) -> None:
        import pytensor

        from ..engines import nuts

        self.pm = nuts.import_pymc()
        self.n, self.settings, self.stats = n, settings, []
        self.quiet = nuts.pymc_logging
        # build_model reads only these three fields. Successes in a shared variable let every
        # simulation put its counts into the one compiled model; compiling anew costs seconds.
        self.successes = pytensor.shared(np.zeros(n.size, np.int64), name="successes")
        design = types.SimpleNamespace(
            groups=np.array([f"g{i}" for i in range(n.size)], dtype=object),
            trials=n,
            successes=self.successes,
        )
        self.marginal = model.pooling == "partial" and settings["parametrization"] == "marginal"
        self.pm_model = nuts.build_model(model, design, "group", settings["parametrization"])
        with self.pm_model:
            self.step = self.pm.NUTS(target_accept=settings["target_accept"])

    def __call__(self, values: dict[str, float], y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        import arviz as az

        self.successes.set_value(y)
        s = self.settings
        # A trajectory that runs off to infinite energy is a divergence, which PyMC records (and
        # the result reports); numpy's warning about the inf - inf inside it says nothing more.
        with self.quiet(quiet=True), np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            trace = self.pm.sample(
                s["draws"],
                tune=s["tune"],
                chains=s["chains"],
                cores=1,  # worker processes cost more than the short chains they would run
                step=self.step,
                model=self.pm_model,
                random_seed=rng,
                progressbar=False,
                quiet=True,
                compute_convergence_checks=False,
            )
        draws = self._draws(trace["posterior"].to_dataset(), list(values), y, rng)  # (chain, draw, p)
        ess = min(
            float(np.min(az.ess(draws, method="bulk"))),
            float(np.min(az.ess(draws, method="tail", prob=TAIL_PROB))),
        )
        every = max(1, math.ceil(draws.shape[0] * draws.shape[1] / ess))
        kept = draws[:, ::every].reshape(-1, draws.shape[2])
        below = np.sum(kept < np.array(list(values.values())), axis=0)
        self.stats.append(
            {
                "divergences": int(trace["sample_stats"]["diverging"].values.sum()),
                "ess": ess,
                "ranked_among": kept.shape[0],
            }
        )
        uniform = (below + rng.random(below.size)) / (kept.shape[0] + 1)
        return dict(zip(values, uniform.tolist(), strict=True))

    def _draws(self, posterior, names: list[str], y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draws of the checked parameters, shape ``(chain, draw, parameter)``."""
        if self.marginal:
            # theta integrated out of the sampled model: draw it from its conjugate Beta given each
            # draw of (alpha, beta), as the engine does after sampling.
            a, b = posterior["alpha"].values[..., None], posterior["beta"].values[..., None]
            theta = rng.beta(a + y, b + (self.n - y))
        else:
            theta = posterior["theta"].values
        columns = []
        for name in names:
            if name.startswith("theta["):
                columns.append(theta[..., int(name[6:-1])])
            else:
                columns.append(theta if name == "theta" else posterior[name].values)
        return np.stack(columns, axis=-1)
