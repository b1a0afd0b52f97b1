"""Every reported interval against the fit's own independent draws, on edge data, for every family.

The exact engine's intervals come from tabulated mixture densities; its draws (``Fit.idata``) come
from a different path (a grid cell by its weight, a uniform point in it, then the conjugate or
exact conditional draw). Both describe the same posterior, so a 94% interval must hold 94% of the
draws, and an equal-tailed one must leave 3% on each side. The data below are where the
tabulation once failed (issue 20): every group at 0 successes or at n (mass piled at a bound),
a group of 1e9 trials beside one of 10 (very narrow components), groups with no trials or no
exposure (the posterior is the population's prediction), exposures from 1e-9 to 1e300, a standard
error of 1e-6 beside ones of 1 (a spike in tau), and the usual data sets for contrast.

Tolerance (Monte Carlo error only: the draws are independent): with N = 20,000 draws, the
fraction inside a 94% interval has sd sqrt(0.94 * 0.06 / N) = 0.0017 and a 3% tail
sqrt(0.03 * 0.97 / N) = 0.0012; a check fails beyond 5 sds (0.0084 and 0.0060). Each check then
fails by chance with probability 5.7e-7; over the ~2,500 checks here, the suite raises a false alarm
about once in 700 runs (the seeds are fixed, so a run that passes keeps passing).

Where an end of an interval is a bound in floating point (a rate's 0, a probability's 1:
``expit(40) == 1.0``), draws pile up on that value too (more than 1% of them equal it) and the
tail beyond it cannot be counted: that tail is not checked, and an equal-tailed interval's content
is then not checked either (it holds the tail too). A posterior whose draws lie within a few ulps
(an effect of 1e140 with sd 1) is below float64's resolution and not checked at all.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import poolwise as pw

DRAWS = 20_000
PROB = 0.94
SD_INSIDE = np.sqrt(PROB * (1 - PROB) / DRAWS)
SD_TAIL = np.sqrt(0.03 * 0.97 / DRAWS)
SDS = 5.0

BINOMIAL = {
    "all-zero": ([0, 0, 0, 0, 0], [10, 20, 30, 5, 8]),
    "all-n": ([10, 20, 30, 5, 8], [10, 20, 30, 5, 8]),
    "billion-trials": ([3, 500_000_000], [10, 1_000_000_000]),
    "zero-trials": ([0, 0, 0], [0, 0, 0]),
    "some-zero-trials": ([0, 0, 5, 0], [0, 20, 20, 1]),
    "one-group": ([3], [10]),
    "spacex": ([2, 301, 9, 5], [5, 304, 9, 9]),
}
RATES = {
    "all-zero": ([0, 0, 0, 0, 0], [1.0, 2.0, 3.0, 0.5, 10.0]),
    "pumps": (
        [5, 1, 5, 14, 3, 19, 1, 1, 4, 22],
        [94.3, 15.7, 62.9, 126, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5],
    ),
    "exposure-1e300": ([3, 5], [1e300, 2.0]),
    "exposure-1e-9": ([0, 1, 0], [1e-9, 1e-9, 2.0]),
    "no-exposure": ([0, 0, 3], [0.0, 0.0, 2.0]),
}
ESTIMATES = {
    "eight-schools": ([28, 8, -3, 7, -1, 1, 18, 12], [15, 10, 16, 11, 9, 11, 10, 18]),
    "identical": ([1.0] * 5, [1.0] * 5),
    "tiny-se": ([1.0, 2.0, 3.0], [1e-6, 1.0, 1.0]),
    "far-apart": ([1e140, -1e140, 0.0], [1.0, 1.0, 1.0]),
}


def frame(values, sizes, size_name):
    return pd.DataFrame({"g": [f"g{i}" for i in range(len(values))], "y": values, size_name: sizes})


def fits():
    """(label, thunk) for every family x data set x pooling."""
    out = []
    for name, (y, n) in BINOMIAL.items():
        for family in ("beta-binomial", "logit-normal"):
            for pooling in ("partial", "none", "complete"):
                kw = dict(group="g", successes="y", trials="n", family=family, pooling=pooling)
                out.append((f"{family}-{name}-{pooling}", frame(y, n, "n"), kw))
    for name, (y, e) in RATES.items():
        poolings = ("partial",) if name == "no-exposure" else ("partial", "none", "complete")
        for pooling in poolings:
            kw = dict(group="g", events="y", exposure="n", pooling=pooling)
            out.append((f"gamma-poisson-{name}-{pooling}", frame(y, e, "n"), kw))
    for name, (y, s) in ESTIMATES.items():
        for pooling in ("partial", "none", "complete"):
            kw = dict(group="g", estimate="y", std_error="n", pooling=pooling)
            out.append((f"normal-normal-{name}-{pooling}", frame(y, s, "n"), kw))
    return out


CASES = fits()


def draws_of(fit, row_name):
    post = fit.idata["posterior"]
    if row_name.startswith("theta["):
        dim = fit.dim
        return post["theta"].sel({dim: row_name[len("theta[") : -1]}).values.ravel()
    return post[row_name].values.ravel()


@pytest.mark.parametrize(("label", "data", "kw"), CASES, ids=[c[0] for c in CASES])
def test_intervals_hold_their_draws(label, data, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)  # edge data warn (prior-dominated ...)
        fit = pw.fit(data, **kw, draws=DRAWS // 4, chains=4, random_seed=20261203)
        summaries = {kind: fit.summary(ci_kind=kind, ci_prob=PROB) for kind in ("eti", "hdi")}
        fit.idata  # noqa: B018 (the draws, made once)
    failures = []
    for kind, summary in summaries.items():
        lb, ub = f"{kind}94_lb", f"{kind}94_ub"
        for row in summary.index:
            d = draws_of(fit, row)
            lo, hi = summary.loc[row, lb], summary.loc[row, ub]
            spread = np.subtract(*np.quantile(d, [0.97, 0.03]))
            if spread <= 8 * np.spacing(max(abs(lo), abs(hi))):
                continue  # draws within a few ulps: float64 cannot resolve this posterior
            # draws piled on an end: a bound in floating point (see the module docstring)
            at_lo, at_hi = np.mean(d == lo) > 0.01, np.mean(d == hi) > 0.01
            inside, below, above = np.mean((d >= lo) & (d <= hi)), np.mean(d < lo), np.mean(d > hi)
            if kind == "eti":
                if not at_lo and abs(below - 0.03) > SDS * SD_TAIL:
                    failures.append(f"{kind} {row} [{lo:.4g}, {hi:.4g}]: {below:.4f} of the draws below")
                if not at_hi and abs(above - 0.03) > SDS * SD_TAIL:
                    failures.append(f"{kind} {row} [{lo:.4g}, {hi:.4g}]: {above:.4f} of the draws above")
                if at_lo or at_hi:
                    continue
            if abs(inside - PROB) > SDS * SD_INSIDE:
                failures.append(f"{kind} {row} [{lo:.4g}, {hi:.4g}]: holds {inside:.4f} of the draws")
    assert not failures, f"{label}:\n" + "\n".join(failures)


def test_new_group_interval_holds_its_draws():
    """theta_new's interval (a mixture of populations piled at 0) against its own draws."""
    data = frame(*BINOMIAL["all-zero"], "n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        fit = pw.fit(data, group="g", successes="y", trials="n", draws=DRAWS // 4, random_seed=7)
    d = fit.new_group().draws.ravel()
    lo, hi = fit.new_group(ci_kind="eti").summary[["eti94_lb", "eti94_ub"]]
    assert abs(np.mean(d > hi) - 0.03) <= SDS * SD_TAIL
    assert lo > 0.0 or np.mean(d <= lo) >= 0.03 - SDS * SD_TAIL
