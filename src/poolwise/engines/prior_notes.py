"""When the prior, not the data, decides a grid's hyperparameters: the notes that say so."""

from __future__ import annotations

import numpy as np

from .._core import grid as gridlib

#: Likelihood gain (nats) of the best hierarchical fit over complete pooling below which the data
#: cannot tell the two apart: 1.92 = chi2(1).ppf(0.95) / 2, the likelihood-ratio bound.
POOLING_EVIDENCE = 1.92

#: Likelihood drop (nats) from its maximum to the posterior's mode above which the data reject the
#: posterior's centre: chi2(2).ppf(0.95) / 2, the likelihood-ratio bound for two hyperparameters.
PRIOR_PULL = 2.996


def prior_dominated_notes(
    loglik, limits: gridlib.Box, pooled: float, tail: str, others: str, grid: gridlib.Grid2D, describe
) -> list[str]:
    """Say when the prior, not the data, decides the hyperparameters (``[]`` when the data do).

    ``loglik`` is the hyperparameters' log-likelihood, searched over the whole plane within
    ``limits`` (its maximum may lie where the prior put no grid); ``pooled`` is complete pooling's,
    a limit just beyond them, so the gain is >= 0. Two ways the prior can decide:

    - below :data:`POOLING_EVIDENCE` the data cannot tell partial from complete pooling, so the
      prior sets how strongly groups are pooled: ``tail`` names that part of it, ``others`` what
      to try instead;
    - otherwise, above :data:`PRIOR_PULL` the likelihood at the posterior's mode (the grid's top
      cell) falls short of its maximum: the prior holds the hyperparameters where the data reject them (a
      default HalfNormal(10) on alpha and beta against 4,000 batting averages whose maximum
      likelihood has alpha near 97). ``describe(u, v)`` words a point of the plane.
    """
    top = np.unravel_index(np.argmax(grid.logp), grid.logp.shape)
    mode = np.array([grid.u[top[0]], grid.v[top[1]]])
    best, at_best = _maximise_likelihood(loglik, limits, mode)
    gain = max(0.0, at_best - pooled)
    notes = []
    if gain < POOLING_EVIDENCE:
        notes.append(
            f"prior-dominated: the data are consistent with no variation between groups (the best "
            f"hierarchical fit beats complete pooling by only {gain:.2g} nats of likelihood), so how "
            f"strongly groups are pooled ({tail}) comes from the prior; check how the answer moves "
            f"under {others}"
        )
    drop = at_best - float(loglik(mode[:1], mode[1:])[0])
    # Where the data cannot tell the poolings apart, their best fit lies far out along a flat ridge
    # toward complete pooling, and the note above already says the prior sets the pooling.
    if drop > PRIOR_PULL and not notes:
        notes.append(
            f"prior-pulled: the data put the hyperparameters elsewhere than the prior lets them go: "
            f"the likelihood's maximum ({describe(best[:1], best[1:])}) is {drop:.3g} nats above its "
            f"value at the posterior's mode ({describe(mode[:1], mode[1:])}), so the data reject the "
            "posterior's centre (likelihood ratio, 2 degrees of freedom, 5% level); widen the "
            "hyperpriors, or say why they should hold"
        )
    return notes


def _maximise_likelihood(loglik, limits: gridlib.Box, mode: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the maximum of ``loglik`` within ``limits`` and its value.

    Nested scans over the limits find a broad maximum (or one at a limit, complete pooling); with
    thousands of groups the likelihood is a narrow ridge they can miss, so Nelder-Mead climbs
    from the better of their best node and the posterior's mode.
    """
    from scipy import optimize

    def value(point: np.ndarray) -> float:
        return float(loglik(point[:1], point[1:])[0])

    start = max((gridlib.find_mode(loglik, limits), mode), key=value)
    bounds = [(limits.u_lo, limits.u_hi), (limits.v_lo, limits.v_hi)]
    with np.errstate(all="ignore"):
        found = optimize.minimize(
            lambda p: -value(p),
            start,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-6, "fatol": 1e-9},
        )
    return (found.x, -float(found.fun)) if -found.fun > value(start) else (start, value(start))


def describe_point(hyper_draws):
    """Word a point ``(u, v)`` of a family's plane by its reported hyperparameters ("alpha 97.1, ...")."""

    def describe(u: np.ndarray, v: np.ndarray) -> str:
        return ", ".join(f"{name} {float(x[0]):.3g}" for name, x in hyper_draws(u, v).items())

    return describe
