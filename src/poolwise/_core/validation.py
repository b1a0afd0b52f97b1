"""Checking the arguments every layer takes: the credible interval, the grid's tolerance.

Lives at the bottom so that fitting, analysis and presentation check them the same way.
"""

from __future__ import annotations

import math

#: The interval reported when none is asked for: ArviZ's default, a 94% HDI.
CI_KIND = "hdi"
CI_PROB = 0.94


def check_ci(ci_kind: str | None, ci_prob: float | None) -> tuple[str, float]:
    """Return the interval asked for, defaults filled in; raise ValueError saying what is wrong.

    Parameters
    ----------
    ci_kind : {"hdi", "eti"} or None
        Highest-density or equal-tailed; None for :data:`CI_KIND`.
    ci_prob : float or None
        Probability strictly between 0 and 1; None for :data:`CI_PROB`.

    Returns
    -------
    tuple of (str, float)
    """
    kind = CI_KIND if ci_kind is None else ci_kind
    prob = CI_PROB if ci_prob is None else ci_prob
    if kind not in ("hdi", "eti"):
        raise ValueError(f"ci_kind must be 'hdi' or 'eti', got {kind!r}")
    if not (isinstance(prob, int | float) and 0 < prob < 1):
        raise ValueError(f"ci_prob must be a probability strictly between 0 and 1, got {prob!r}")
    return kind, float(prob)


def ci_columns(ci_kind: str, ci_prob: float) -> tuple[str, str]:
    """Interval column names as ArviZ 1.x writes them (``hdi94_lb``, ``eti89.5_ub``)."""
    label = f"{ci_kind}{ci_prob * 100:.10g}"
    return f"{label}_lb", f"{label}_ub"


def check_tol(tol: object) -> float:
    """Return the grid's convergence tolerance as a float, or raise ValueError saying what is wrong.

    The exact engines refine their grid until every summary moves by less than ``tol`` (absolute;
    relative above one): ``tol <= 0`` can never be met, so every fit would end unconverged, and
    ``tol >= 1`` would accept the coarsest grid whatever it says.

    Parameters
    ----------
    tol : float
        A finite number strictly between 0 and 1.

    Returns
    -------
    float
    """
    value = float(tol) if isinstance(tol, int | float) and not isinstance(tol, bool) else math.nan
    if not (math.isfinite(value) and 0 < value < 1):
        raise ValueError(f"tol must be a finite number strictly between 0 and 1 (such as 1e-4), got {tol!r}")
    return value
