"""The family contract: every registered family's description against what its fits really hold.

The layers above ``families/`` read these fields instead of naming a family, so each field is
checked against a real fit of that family on a bundled dataset: a field that says something the
fit does not do fails here, not in a figure.
"""

import numpy as np
import pytest

import poolwise as pw
from poolwise.families import registry
from poolwise.families.models import BINOMIAL_FAMILIES, FAMILIES

# A bundled dataset of each kind of data, with the columns that play each role.
DATA = {
    "binomial": ("spacex", {"group": "Mission", "successes": "y", "trials": "N"}),
    "estimates": ("eight_schools", {"group": "school", "estimate": "y", "std_error": "sigma"}),
    "rates": ("pumps", {"group": "pump", "events": "failures", "exposure": "hours"}),
}


@pytest.fixture(scope="module", params=registry.names())
def family_and_fits(request):
    family = registry.get(request.param)
    dataset, columns = DATA[family.data]
    fits = pw.fit_all(pw.datasets.load(dataset), **columns, family=family.name, random_seed=3)
    return family, fits


def test_the_registry_is_the_one_list_of_families():
    assert FAMILIES == registry.names()
    assert BINOMIAL_FAMILIES == tuple(n for n in registry.names() if registry.get(n).binomial)
    with pytest.raises(ValueError, match="family must be one of 'beta-binomial'"):
        registry.get("poisson-gamma")


def test_every_family_fits_its_kind_of_data(family_and_fits):
    family, fits = family_and_fits
    assert {f.family for f in fits.values()} == {family.name}
    assert family.data in DATA


def test_observed_columns_and_raw_value_are_in_the_group_table(family_and_fits):
    family, fits = family_and_fits
    table = fits["partial"].group_table()
    assert set(family.observed) <= set(table.columns)
    assert family.raw in family.observed


def test_hyperparameters_shown_are_the_ones_the_fit_reports(family_and_fits):
    family, fits = family_and_fits
    summary = fits["partial"].summary()
    assert set(family.display.hyperparameters) <= set(summary.index)


def test_theta_scale_matches_the_support_of_theta(family_and_fits):
    family, fits = family_and_fits
    draws = fits["partial"].idata["posterior"]["theta"].values
    if family.theta_scale == "probability":
        assert np.all((draws >= 0) & (draws <= 1))
    elif family.theta_scale == "rate":
        assert np.all(draws >= 0)
    else:  # an effect on the estimates' scale: unbounded, negative values occur in eight schools
        assert family.theta_scale == "effect" and np.any(draws < 0)


def test_grid_axes_kde_and_fine_name_real_posterior_quantities(family_and_fits):
    family, fits = family_and_fits
    partial = fits["partial"]
    names = set(partial.posterior.quantities) | {"theta_new"}
    scales, default = family.kde
    assert set(scales) <= names
    assert {default, *scales.values()} <= {"logit", "log", "linear", "reflect"}
    assert family.fine <= names
    for name, transform in family.grid_axes:
        assert name in names and transform in {"logit", "log"}
    if family.grid_axes:
        # the grid the exact engine integrated over is that of these axes
        grid = partial.hyper_grid()
        assert grid["weight"].sum() == pytest.approx(1.0, abs=1e-9)


def test_a_group_column_named_like_any_variable_of_the_fits_is_renamed(family_and_fits):
    """Every variable name the family's DataTrees use (under any pooling) is reserved: a group
    column so named becomes the dimension ``group``, and the DataTree still builds."""
    family, fits = family_and_fits
    dataset, columns = DATA[family.data]
    names = set()
    for fit in fits.values():
        tree = fit.idata
        for node in tree.subtree:
            names |= set(node.ds.data_vars) | set(node.ds.coords)
    names -= {fits["partial"].dim}
    assert names, "no variables found"
    for name in sorted(names):
        # the data columns renamed out of the way first (eight schools' standard error is "sigma")
        roles = {role: f"column_{role}" for role in columns} | {"group": name}
        data = pw.datasets.load(dataset).rename(columns={columns[r]: c for r, c in roles.items()})
        fit = pw.fit(data, **roles, family=family.name, pooling="complete")
        assert fit.dim == "group", name
        assert any("group" in node.ds.dims for node in fit.idata.subtree), name


def test_engines_twins_and_data_kinds_name_what_the_fits_use(family_and_fits):
    """The exact engine, the closed forms' family, the NUTS twin and the kind of data each family
    names are what its fits were made with."""
    family, fits = family_and_fits
    assert family.exact in {"exact", "exact_normal", "exact_logit"}
    assert callable(family.twin) and callable(family.maths.draw_new_group)
    for pooling, fit in fits.items():
        used = family.for_pooling(pooling)
        assert used.data == family.data and used.for_pooling(pooling) is used
        # the exact posterior carries the maths module that made it, where the engine takes one
        assert getattr(fit.posterior, "family", used.maths) is used.maths, pooling
    kind = registry.KINDS[family.data]
    assert isinstance(fits.data, kind.table)
    assert registry.get(kind.family).data == kind.name
    assert set(family.roles) <= set(family.columns)
    assert (family.non_centred is None) == (family.name in ("beta-binomial", "gamma-poisson"))


def test_the_default_family_fits_counts_given_without_a_family():
    assert registry.get(registry.DEFAULT).binomial
    assert registry.KINDS["binomial"].family == registry.DEFAULT
    fit = pw.fit(pw.datasets.load("spacex"), **DATA["binomial"][1], pooling="complete")
    assert fit.family == registry.DEFAULT
