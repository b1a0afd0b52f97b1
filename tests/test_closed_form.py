"""No and complete pooling against scipy.stats.beta: the posteriors are closed-form Betas.

Reference (conjugacy of the Beta prior and the binomial likelihood, e.g. BDA3 §2.4):

    none:     theta_i | y ~ Beta(a0 + y_i, b0 + n_i - y_i), independently
    complete: theta   | y ~ Beta(a0 + sum_i y_i, b0 + sum_i (n_i - y_i))

with the prior Beta(a0, b0) = Beta(1/2, 1/2) unless given. Means, sds and equal-tailed intervals
are exact algebra on both sides (poolwise: a/(a+b) and betaincinv; here: scipy.stats.beta), so
they must agree to 1e-10. The HDI is found by poolwise numerically (a golden-section search for
the shortest interval), so it is checked by its defining properties instead, with tolerances
derived from that search (see check_hdi).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import poolwise as pw

EXACT = 1e-10  # exact algebra on both sides
PROB = 0.94
SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}


def spacex():
    return pw.datasets.load("spacex")


def fit(data, pooling, priors=None, **columns):
    return pw.fit(data, **(columns or SPACEX), pooling=pooling, priors=priors, random_seed=1)


def posterior_params(data, pooling, a0=0.5, b0=0.5, successes="y", trials="N"):
    y, n = data[successes].to_numpy(), data[trials].to_numpy()
    if pooling == "none":
        return a0 + y, b0 + (n - y)
    return np.array([a0 + y.sum()]), np.array([b0 + (n - y).sum()])


def reference_hdi(a, b, prob=PROB):
    """The shortest interval of Beta(a, b) holding ``prob``, from its shape and scipy alone.

    Interior mode (a > 1, b > 1): the l in (0, ppf(1 - prob)) where the density at l equals the
    density at u = ppf(cdf(l) + prob) (brentq). Density increasing (a >= 1 >= b, not both 1):
    [ppf(1 - prob), 1]; decreasing: [0, ppf(prob)]; U-shaped (a, b < 1): the shorter of those two.
    """
    d = stats.beta(a, b)
    left, right = (0.0, d.ppf(prob)), (d.ppf(1 - prob), 1.0)
    if a > 1 and b > 1:

        def gap(lo):
            return d.logpdf(lo) - d.logpdf(d.ppf(d.cdf(lo) + prob))

        top = d.ppf(1 - prob)
        lo = optimize.brentq(gap, top * 1e-12, top * (1 - 1e-12), xtol=1e-15, rtol=1e-15)
        return lo, d.ppf(d.cdf(lo) + prob)
    if a >= 1 and b <= 1:
        return right
    if a <= 1 and b >= 1:
        return left
    return left if left[1] - left[0] <= right[1] - right[0] else right


def check_hdi(a, b, lo, hi, prob=PROB):
    """Check poolwise's HDI [lo, hi] of Beta(a, b) by its defining properties.

    1. It holds ``prob``: cdf(hi) - cdf(lo) = prob to 1e-8 (poolwise takes both ends from its
       quantile function, and stops its search for q = cdf(lo) within 1e-9).
    2. It is the shortest: at an interior optimum the density is equal at both ends; where the
       density is monotone or U-shaped an end is at 0 or 1.
    3. It is no longer than the ETI, and shorter unless the Beta is symmetric.

    Tolerance of 2: poolwise's golden-section search brackets q = cdf(lo) to 1e-9, but the width
    w(q) = ppf(q + prob) - ppf(q) is flat at its minimum, so once width differences fall below
    the rounding of ppf (taken as 1e-13, about 500 ulp) the comparisons are noise and q is known
    only to dq = 1e-9 + sqrt(2e-13 / w''(q)). The ends then move by dq / f and the log densities at
    the ends by dq * |(log f)'| / f; that (times 2) is the tolerance.
    """
    d = stats.beta(a, b)
    assert 0.0 <= lo < hi <= 1.0
    assert abs(d.cdf(hi) - d.cdf(lo) - prob) <= 1e-8
    want = reference_hdi(a, b, prob)
    if a > 1 and b > 1:

        def dlogf(x):
            return (a - 1) / x - (b - 1) / (1 - x)

        f_lo, f_hi = d.pdf(want[0]), d.pdf(want[1])
        # w''(q) = (log f)'(l) / f(l)^2 - (log f)'(u) / f(u)^2
        curvature = dlogf(want[0]) / f_lo**2 - dlogf(want[1]) / f_hi**2
        dq = 1e-9 + np.sqrt(2e-13 / curvature)
        assert abs(lo - want[0]) <= 2 * dq / f_lo
        assert abs(hi - want[1]) <= 2 * dq / f_hi
        tol_log_density = 2 * dq * (abs(dlogf(want[0])) / f_lo + abs(dlogf(want[1])) / f_hi)
        assert abs(d.logpdf(lo) - d.logpdf(hi)) <= tol_log_density
    else:
        # an end at 0 or 1: within 1e-8 of probability of it (the mass check's bound on the error
        # of q), so the other end is within 1e-8 / f of the reference. A symmetric U-shaped Beta
        # has two shortest intervals, [0, ppf(prob)] and [ppf(1 - prob), 1]; either will do.
        ends = [(0.0, d.ppf(prob)), (d.ppf(1 - prob), 1.0)]
        shortest = [e for e in ends if e[1] - e[0] <= want[1] - want[0] + 1e-12]
        matches = [
            (d.cdf(lo) <= 1e-8 and abs(hi - e[1]) <= 1e-8 / d.pdf(e[1]))
            if e[0] == 0.0
            else (d.sf(hi) <= 1e-8 and abs(lo - e[0]) <= 1e-8 / d.pdf(e[0]))
            for e in shortest
        ]
        assert any(matches), (lo, hi, shortest)
    eti = d.ppf([(1 - prob) / 2, (1 + prob) / 2])
    if a == b:
        assert hi - lo <= eti[1] - eti[0] + 1e-12
    else:
        assert hi - lo < eti[1] - eti[0]


def check_summary(summary, index, a, b):
    """Mean, sd and 94% ETI of each row against scipy (1e-10) and the HDI by its properties."""
    d = stats.beta(a, b)
    np.testing.assert_allclose(summary.loc[index, "mean"], d.mean(), rtol=EXACT, atol=0)
    np.testing.assert_allclose(summary.loc[index, "sd"], d.std(), rtol=EXACT, atol=0)
    for lo, hi, a_, b_ in zip(
        summary.loc[index, "hdi94_lb"], summary.loc[index, "hdi94_ub"], a, b, strict=True
    ):
        check_hdi(a_, b_, lo, hi)


def check_eti(summary, index, a, b, prob=PROB):
    d = stats.beta(a, b)
    lb, ub = f"eti{prob * 100:g}_lb", f"eti{prob * 100:g}_ub"
    np.testing.assert_allclose(summary.loc[index, lb], d.ppf((1 - prob) / 2), rtol=EXACT, atol=0)
    np.testing.assert_allclose(summary.loc[index, ub], d.ppf((1 + prob) / 2), rtol=EXACT, atol=0)


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", ["none", "complete"])
@pytest.mark.parametrize("prior", [None, (2.0, 3.0)], ids=["Beta(0.5,0.5)", "Beta(2,3)"])
def test_spacex_against_scipy(pooling, prior):
    data = spacex()
    a0, b0 = prior or (0.5, 0.5)
    priors = None if prior is None else {"theta": pw.priors.Beta(a0, b0)}
    f = fit(data, pooling, priors)
    a, b = posterior_params(data, pooling, a0, b0)
    index = [f"theta[{g}]" for g in data["Mission"]] if pooling == "none" else ["theta"]
    summary = f.summary()
    assert list(summary.index) == index
    check_summary(summary, index, a, b)
    check_eti(f.summary(ci_kind="eti"), index, a, b)
    for prob in (0.5, 0.89, 0.99):
        check_eti(f.summary(ci_kind="eti", ci_prob=prob), index, a, b, prob)


def test_spacex_posteriors_by_hand():
    # Written out: Falcon 1 2/5 -> Beta(2.5, 3.5); Falcon Heavy 9/9 -> Beta(9.5, 0.5), whose density
    # rises to infinity at 1, so its HDI is [ppf(0.06), 1]; complete: 317 of 327 ->
    # Beta(317.5, 10.5).
    none = fit(spacex(), "none").summary()
    assert none.loc["theta[Falcon 1]", "mean"] == pytest.approx(2.5 / 6, rel=EXACT)
    heavy = stats.beta(9.5, 0.5)
    assert none.loc["theta[Falcon Heavy]", "hdi94_ub"] == 1.0
    assert none.loc["theta[Falcon Heavy]", "hdi94_lb"] == pytest.approx(
        heavy.ppf(0.06), abs=1e-8 / heavy.pdf(heavy.ppf(0.06))
    )
    complete = fit(spacex(), "complete").summary()
    assert complete.loc["theta", "mean"] == pytest.approx(317.5 / 328, rel=EXACT)


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_group_table_matches_summary(pooling):
    data = spacex()
    f = fit(data, pooling)
    table = f.group_table()
    summary = f.summary()
    assert list(table.index) == list(data["Mission"])
    np.testing.assert_array_equal(table["successes"], data["y"])
    np.testing.assert_array_equal(table["trials"], data["N"])
    np.testing.assert_allclose(table["raw_rate"], data["y"] / data["N"], rtol=EXACT)
    rows = [f"theta[{g}]" for g in data["Mission"]] if pooling == "none" else ["theta"] * len(data)
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub"):
        np.testing.assert_array_equal(table[column].to_numpy(), summary.loc[rows, column].to_numpy())


def test_zero_trials_gives_the_prior_under_no_pooling():
    # a group with n = 0 learns nothing: its posterior is the prior Beta(1/2, 1/2) (U-shaped, so
    # its shortest 94% interval has an end at 0 or 1), and with Beta(2, 3) it is Beta(2, 3)
    data = pd.DataFrame({"g": ["empty", "some"], "y": [0, 3], "n": [0, 10]})
    columns = {"group": "g", "successes": "y", "trials": "n"}
    for a0, b0 in ((0.5, 0.5), (2.0, 3.0)):
        f = fit(data, "none", {"theta": pw.priors.Beta(a0, b0)}, **columns)
        a, b = posterior_params(data, "none", a0, b0, successes="y", trials="n")
        assert (a[0], b[0]) == (a0, b0)
        index = ["theta[empty]", "theta[some]"]
        check_summary(f.summary(), index, a, b)
        check_eti(f.summary(ci_kind="eti"), index, a, b)
        table = f.group_table()
        assert np.isnan(table.loc["empty", "raw_rate"])
        assert table.loc["some", "raw_rate"] == pytest.approx(0.3, rel=EXACT)


@pytest.mark.parametrize("prior", [(0.5, 0.5), (2.0, 3.0)])
def test_new_group_is_the_prior_under_no_pooling(prior):
    a0, b0 = prior
    f = fit(spacex(), "none", {"theta": pw.priors.Beta(a0, b0)})
    d = stats.beta(a0, b0)
    new = f.new_group().summary
    assert new["mean"] == pytest.approx(d.mean(), rel=EXACT)
    assert new["sd"] == pytest.approx(d.std(), rel=EXACT)
    check_hdi(a0, b0, new["hdi94_lb"], new["hdi94_ub"])
    eti = f.new_group(ci_kind="eti").summary
    np.testing.assert_allclose(eti[["eti94_lb", "eti94_ub"]], d.ppf([0.03, 0.97]), rtol=EXACT)
    assert f.new_group().draws.shape == (4, 1000)


def test_new_group_is_theta_under_complete_pooling():
    f = fit(spacex(), "complete")
    theta = f.summary().loc["theta"]
    new = f.new_group().summary
    np.testing.assert_array_equal(new[["mean", "sd", "hdi94_lb", "hdi94_ub"]].to_numpy(), theta.to_numpy())
    eti = f.new_group(ci_kind="eti").summary
    np.testing.assert_array_equal(eti.to_numpy(), f.summary(ci_kind="eti").loc["theta"].to_numpy())
    np.testing.assert_array_equal(f.new_group().draws, f.idata["posterior"]["theta"].to_numpy())


def test_fit_all_gives_the_single_fits():
    fits = pw.fit_all(spacex(), **SPACEX, random_seed=1)
    assert set(fits) == {"none", "complete", "partial"}
    for pooling in ("none", "complete"):
        pd.testing.assert_frame_equal(fits[pooling].summary(), fit(spacex(), pooling).summary())
