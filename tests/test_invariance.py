"""Results depend on the data, not on how the table is laid out.

Row order, group names, the name of the group column and added empty groups change nothing but
labels; groups with the same counts get the same posterior. Means, sds and ETIs are deterministic
functions of the distinct (n, y) pairs, so "the same" is 1e-10 (exact algebra). An HDI comes
from a golden-section search run for all rows together until the widest bracket is below 1e-9 in
probability, so a row's HDI can move when other rows change the number of iterations: by
dq / f at each end, dq <= 1e-8 (bounded in test_closed_form.check_hdi) and f >= 0.1 at the ends
of the intervals here, hence HDI_TOL = 1e-7 where the set of rows differs.
"""

import numpy as np
import pandas as pd
import pytest

import poolwise as pw

EXACT = 1e-10
HDI_TOL = 1e-7
POOLINGS = ["none", "complete", "partial"]
SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
RATS = {"group": "experiment", "successes": "y", "trials": "n"}
IDATA_GROUPS = (
    "posterior",
    "posterior_predictive",
    "log_likelihood",
    "observed_data",
    "constant_data",
)


def fit(data, columns, pooling, **kwargs):
    return pw.fit(data, **columns, pooling=pooling, random_seed=3, **kwargs)


def by_group(f, groups, kind="eti"):
    """Summary rows (mean, sd, interval) for ``groups`` in that order, then the hyperparameters."""
    summary = f.summary(ci_kind=kind)
    if f.pooling == "complete":
        return summary.to_numpy()
    rows = [f"theta[{g}]" for g in groups]
    rows += [r for r in summary.index if not r.startswith("theta[")]
    return summary.loc[rows].to_numpy()


def assert_same(f, g, groups_f, groups_g, hdi_tol=EXACT):
    """Fits f and g agree group by group: mean, sd and ETI to 1e-10, HDI to ``hdi_tol``."""
    np.testing.assert_allclose(by_group(g, groups_g), by_group(f, groups_f), rtol=EXACT, atol=EXACT)
    np.testing.assert_allclose(
        by_group(g, groups_g, "hdi")[:, 2:],
        by_group(f, groups_f, "hdi")[:, 2:],
        rtol=0,
        atol=hdi_tol,
    )


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize(
    ("dataset", "columns"), [("spacex", SPACEX), ("rat_tumors", RATS)], ids=["spacex", "rats"]
)
def test_row_order_does_not_matter(dataset, columns, pooling):
    data = pw.datasets.load(dataset)
    shuffled = data.sample(frac=1.0, random_state=np.random.default_rng(11)).reset_index(drop=True)
    assert not shuffled[columns["group"]].equals(data[columns["group"]])
    f, g = fit(data, columns, pooling), fit(shuffled, columns, pooling)
    # align the shuffled fit to the original order of groups; the same rows, so HDIs too to 1e-10
    assert_same(f, g, data[columns["group"]], data[columns["group"]])
    for kind in ("hdi", "eti"):
        a = f.group_table(ci_kind=kind)
        b = g.group_table(ci_kind=kind).loc[a.index]
        np.testing.assert_allclose(
            b.to_numpy(float), a.to_numpy(float), rtol=EXACT, atol=EXACT, equal_nan=True
        )
    np.testing.assert_allclose(g.new_group().summary, f.new_group().summary, rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_group_names_do_not_matter(pooling):
    data = pw.datasets.load("spacex")
    # names that sort in another order than the originals, one numeric-looking, one with spaces
    renamed = data.assign(Mission=["zz top", "10", "a", "Ω"])
    f, g = fit(data, SPACEX, pooling), fit(renamed, SPACEX, pooling)
    assert_same(f, g, data["Mission"], renamed["Mission"])
    assert list(g.group_table().index) == ["zz top", "10", "a", "Ω"]


@pytest.mark.parametrize("pooling", POOLINGS)
def test_group_column_name_does_not_matter(pooling):
    data = pw.datasets.load("spacex")
    other = data.rename(columns={"Mission": "vehicle", "y": "wins", "N": "tries"})
    f = fit(data, SPACEX, pooling)
    g = fit(other, {"group": "vehicle", "successes": "wins", "trials": "tries"}, pooling)
    np.testing.assert_allclose(g.summary().to_numpy(), f.summary().to_numpy(), rtol=EXACT, atol=EXACT)
    for name in IDATA_GROUPS:
        assert "vehicle" in g.idata[name].dims and "Mission" not in g.idata[name].dims


@pytest.mark.parametrize("pooling", POOLINGS)
def test_identical_counts_get_identical_posteriors(pooling):
    data = pw.datasets.load("spacex")
    twin = pd.concat(
        [data, pd.DataFrame({"Mission": ["Starship twin"], "N": [9], "y": [5]})], ignore_index=True
    )
    f = fit(twin, SPACEX, pooling)
    summary = f.summary()
    if pooling != "complete":
        np.testing.assert_allclose(
            summary.loc["theta[Starship twin]"],
            summary.loc["theta[Starship]"],
            rtol=EXACT,
            atol=EXACT,
        )
    table = f.group_table()
    np.testing.assert_allclose(table.loc["Starship twin"], table.loc["Starship"], rtol=EXACT, atol=EXACT)
    theta = f.idata["posterior"]["theta"]
    if pooling != "complete":
        # same distribution, but independent draws given the hyperparameters, not copies
        assert not np.array_equal(
            theta.sel(Mission="Starship").values, theta.sel(Mission="Starship twin").values
        )


@pytest.mark.parametrize("pooling", POOLINGS)
def test_duplicated_rat_experiments_agree(pooling):
    # the rat data repeat many (n, y) pairs (71 groups, 39 distinct pairs)
    data = pw.datasets.load("rat_tumors")
    table = fit(data, RATS, pooling).group_table()
    for _, same in data.groupby(["n", "y"]):
        rows = table.loc[same["experiment"].astype(str)].to_numpy(float)
        np.testing.assert_allclose(rows, rows[[0] * len(rows)], rtol=EXACT, atol=EXACT)


def test_an_empty_group_changes_nothing_else_and_is_the_new_group():
    # n = 0 contributes a factor 1 to the likelihood: the other groups and the hyperparameters are
    # unchanged, and the empty group's posterior is the population prediction, the new group
    data = pw.datasets.load("spacex")
    empty = pd.concat(
        [data, pd.DataFrame({"Mission": ["Not yet flown"], "N": [0], "y": [0]})], ignore_index=True
    )
    for pooling in POOLINGS:
        f, g = fit(data, SPACEX, pooling), fit(empty, SPACEX, pooling)
        assert_same(f, g, data["Mission"], data["Mission"], hdi_tol=HDI_TOL)
        if pooling != "complete":
            for kind, tol in (("eti", EXACT), ("hdi", HDI_TOL)):
                row = g.summary(ci_kind=kind).loc["theta[Not yet flown]"].to_numpy()
                new = g.new_group(ci_kind=kind).summary.to_numpy()
                np.testing.assert_allclose(row[:2], new[:2], rtol=EXACT, atol=EXACT)
                np.testing.assert_allclose(row[2:], new[2:], rtol=0, atol=tol)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize(
    ("dataset", "columns"), [("spacex", SPACEX), ("rat_tumors", RATS)], ids=["spacex", "rats"]
)
def test_every_group_appears_everywhere_under_the_group_column(dataset, columns, pooling):
    data = pw.datasets.load(dataset)
    f = fit(data, columns, pooling)
    labels = [str(g) for g in data[columns["group"]]]
    dim = columns["group"]
    assert f.dim == dim
    if pooling != "complete":
        assert [r for r in f.summary().index if r.startswith("theta[")] == [f"theta[{g}]" for g in labels]
    assert [str(g) for g in f.group_table().index] == labels
    assert f.group_table().index.name == dim
    for name in IDATA_GROUPS:
        ds = f.idata[name]
        assert list(ds[dim].values) == labels, name
    assert f.idata["posterior"]["theta"].dims == (
        ("chain", "draw") if pooling == "complete" else ("chain", "draw", dim)
    )
    for name in ("posterior_predictive", "log_likelihood"):
        assert f.idata[name]["y"].dims == ("chain", "draw", dim)


def test_a_group_column_named_like_a_variable_becomes_group():
    # a dimension called "theta" would clash with the variable theta (Fit.dim documents "group")
    data = pw.datasets.load("spacex").rename(columns={"Mission": "theta"})
    f = pw.fit(data, group="theta", successes="y", trials="N", pooling="none", random_seed=1)
    assert f.dim == "group"
    assert list(f.idata["posterior"]["theta"].dims) == ["chain", "draw", "group"]
    assert list(f.idata["posterior"]["group"].values) == list(data["theta"])


def test_pw_fit_stays_the_function():
    # regression: importing the submodule poolwise.fit once rebound pw.fit to the module
    first = pw.fit
    pw.fit(pw.datasets.load("spacex"), **SPACEX, pooling="none", random_seed=1)
    assert pw.fit is first and callable(pw.fit) and callable(pw.fit_all)
