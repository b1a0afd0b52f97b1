r"""Simulation-based calibration (Talts et al. 2018) of the exact engine, on a design of your own.

Each simulation draws the hyperparameters from their prior, the group rates from the population, and
counts for the given trials; fits; and records where each true value falls in its posterior. With
draws, SBC counts how many posterior draws lie below the truth; the exact engine has each posterior's
distribution function, so it records the probability integral transform ``F(truth | y)`` directly,
which is uniform on ``[0, 1]`` for every parameter when the engine is right. Uniformity is tested per
parameter with a chi-square test on :data:`BINS` equal bins, at a stated false-alarm rate corrected
for the number of parameters (Bonferroni).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .engines import exact
from .models import build

#: Equal-width bins of the PIT values in the chi-square test.
BINS = 10


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`check_calibration`.

    Attributes
    ----------
    pit : pandas.DataFrame
        One row per simulation, one column per parameter: ``F(true value | simulated data)``.
    tests : pandas.DataFrame
        Per parameter: chi-square statistic, p-value, and ``calibrated`` (p-value above the
        Bonferroni-corrected false-alarm rate).
    false_alarm : float
        Probability that a correct engine fails the check (over all parameters together).
    """

    pit: pd.DataFrame
    tests: pd.DataFrame
    false_alarm: float

    @property
    def passed(self) -> bool:
        """True when every parameter's PIT values look uniform."""
        return bool(self.tests["calibrated"].all())


def check_calibration(
    trials,
    *,
    pooling: str = "partial",
    priors=None,
    n_simulations: int = 200,
    random_seed: int = 0,
    false_alarm: float = 0.01,
    groups_checked: int = 3,
) -> Calibration:
    """Run simulation-based calibration of the exact engine for a design.

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
        Seed of the simulations.
    false_alarm : float
        Probability that a correct engine is flagged, over all parameters checked together.
    groups_checked : int
        How many groups' ``theta`` are checked (the first ones), besides the hyperparameters.

    Returns
    -------
    Calibration
    """
    (model,) = build(pooling, priors)
    n = np.asarray(trials, dtype=np.int64)
    if n.ndim != 1 or n.size == 0 or np.any(n < 0):
        raise ValueError(f"trials must be a non-empty list of counts >= 0, got {trials!r}")
    for prior in model.priors.values():
        if not getattr(prior, "proper", False):
            raise ValueError(f"calibration draws the truth from the prior; {prior} is improper")
    rng = np.random.default_rng(random_seed)
    checked = min(groups_checked, n.size)
    rows = []
    for _ in range(n_simulations):
        truth, y = _simulate(model, n, rng)
        with warnings.catch_warnings():
            # Prior-dominated data sets are part of an honest calibration; their warning is not news.
            warnings.simplefilter("ignore", exact.PoolwiseWarning)
            if pooling == "partial":
                post = exact.fit_partial(model.priors, n, y)
            else:
                post = exact.fit_closed_form(pooling, model.priors["theta"], n, y)
        rows.append(_pit(post, truth, checked))
    pit = pd.DataFrame(rows)
    per_test = false_alarm / pit.shape[1]
    expected = len(pit) / BINS
    tests = {}
    for name in pit.columns:
        counts = np.histogram(pit[name], bins=BINS, range=(0.0, 1.0))[0]
        statistic = float(np.sum((counts - expected) ** 2 / expected))
        p_value = float(stats.chi2.sf(statistic, BINS - 1))
        tests[name] = {"chi2": statistic, "p_value": p_value, "calibrated": p_value > per_test}
    return Calibration(pit, pd.DataFrame.from_dict(tests, orient="index"), false_alarm)


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


def _pit(post: exact.ExactPosterior, truth: dict, checked: int) -> dict[str, float]:
    out = {}
    for name, value in truth.items():
        if name != "theta":
            out[name] = float(post.quantities[name].marginal.cdf(np.array([[value]]))[0, 0])
            continue
        q = post.quantities["theta"]
        if post.pooling == "complete":  # one shared theta
            out["theta"] = float(q.marginal.cdf(np.array([[value[0]]]))[0, 0])
            continue
        rows = q.mean.size
        # Column j holds group j's true theta for every row; group j reads its own row.
        cdf = q.marginal.cdf(np.tile(value[:checked], (rows, 1)))
        for j in range(checked):
            out[f"theta[{j}]"] = float(cdf[q.index[j], j])
    return out
