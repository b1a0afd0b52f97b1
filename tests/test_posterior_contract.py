"""The posterior contract: every engine's posterior offers what :class:`Posterior` promises.

Every registered family is fitted under every pooling by the exact engine, and its posterior is
checked against the protocol with real values: the draws' shapes, every group mapped to a row of
each quantity, the diagnostics' keys, the warnings' types, and the grid or line a partial fit has
(a capability, :class:`OnGrid` or :class:`OnLine`, not a field the others fill with None).
"""

import warnings

import numpy as np
import pytest

import poolwise as pw
from poolwise.engines.posterior import OnGrid, OnLine, Posterior
from poolwise.engines.quantity import Quantity
from poolwise.errors import PoolwiseWarning
from poolwise.families import registry

# A bundled dataset of each kind of data, with the columns that play each role.
DATA = {
    "binomial": ("surgical", {"group": "hospital", "successes": "r", "trials": "n"}),
    "estimates": ("eight_schools", {"group": "school", "estimate": "y", "std_error": "sigma"}),
    "rates": ("pumps", {"group": "pump", "events": "failures", "exposure": "hours"}),
}
POOLINGS = ("none", "complete", "partial")
# What a refined lattice reports (Fit.diagnostics of a partial fit by the exact engine).
LATTICE_KEYS = {
    "grid_nodes",
    "group_grid_nodes",
    "levels",
    "max_change",
    "converged",
    "edge_mass",
    "at_limit",
    "log_evidence",
}
N_DRAWS = 64


def _fit(family: str, pooling: str, **kwargs):
    dataset, columns = DATA[registry.get(family).data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoolwiseWarning)  # the posterior keeps them: checked below
        return pw.fit(pw.datasets.load(dataset), **columns, family=family, pooling=pooling, **kwargs)


@pytest.fixture(scope="module", params=[(f, p) for f in registry.names() for p in POOLINGS], ids=str)
def fitted(request):
    family, pooling = request.param
    return family, pooling, _fit(family, pooling, random_seed=5)


def _check_quantity(q, rows_reported: int) -> None:
    assert isinstance(q, Quantity)
    assert q.mean.shape == q.sd.shape == (q.mean.size,)
    assert q.index.dtype.kind == "i" and q.index.shape == (rows_reported,)
    assert np.all((q.index >= 0) & (q.index < q.mean.size)), "an entry points at no row"


def test_the_posterior_satisfies_the_protocol(fitted):
    family, pooling, fit = fitted
    post = fit.posterior
    assert isinstance(post, Posterior)
    assert post.pooling == pooling and post.engine == "exact"
    assert fit.posterior is post and fit.warnings == post.warnings


def test_every_group_maps_to_a_row_of_theta(fitted):
    _, pooling, fit = fitted
    quantities = fit.posterior.quantities
    assert next(iter(quantities)) == "theta"
    _check_quantity(quantities["theta"], 1 if pooling == "complete" else fit.data.n_groups)
    hyper = [name for name in quantities if name != "theta"]
    assert bool(hyper) == (pooling == "partial")
    for name in hyper:
        _check_quantity(quantities[name], 1)
    new = fit.posterior.new_group
    if new is not None:
        _check_quantity(new, 1)
    else:  # only where an unseen group's distribution is improper: no pooling under a flat prior
        assert pooling == "none" and not fit.model.priors["theta"].proper


def test_draws_have_the_shapes_promised(fitted):
    _, pooling, fit = fitted
    post = fit.posterior
    draws = post.draws(N_DRAWS, np.random.default_rng(11))
    theta_shape = (N_DRAWS,) if pooling == "complete" else (N_DRAWS, fit.data.n_groups)
    assert draws["theta"].shape == theta_shape
    assert set(post.quantities) <= set(draws)
    for name, values in draws.items():
        if name != "theta":
            assert values.shape == (N_DRAWS,), name
        assert np.all(np.isfinite(values)), name
    again = post.draws(N_DRAWS, np.random.default_rng(11))
    assert all(np.array_equal(draws[k], again[k]) for k in draws), "the same seed gave other draws"


def test_diagnostics_and_warnings(fitted):
    _, pooling, fit = fitted
    post = fit.posterior
    assert isinstance(post.warnings, tuple) and all(isinstance(w, str) for w in post.warnings)
    diagnostics = post.diagnostics
    assert isinstance(diagnostics, dict) and diagnostics == fit.diagnostics
    if pooling != "partial":
        assert diagnostics == {}
        return
    assert set(diagnostics) == LATTICE_KEYS
    assert diagnostics["levels"] and diagnostics["converged"] in (True, False)
    assert diagnostics["edge_mass"] >= 0 and np.isfinite(diagnostics["log_evidence"])


def test_the_lattice_is_a_capability_of_partial_fits(fitted):
    family, pooling, fit = fitted
    post = fit.posterior
    grid = post.grid if isinstance(post, OnGrid) else None
    line = post.line if isinstance(post, OnLine) else None
    assert not (isinstance(post, OnGrid) and isinstance(post, OnLine)), "one lattice per posterior"
    if pooling != "partial":
        assert grid is None and line is None
        return
    nodes = fit.diagnostics["grid_nodes"]
    if registry.get(family).data == "estimates":
        assert line is not None and nodes == str(line.logp.size)
        assert np.isclose(line.weights.sum(), 1.0)
    else:
        assert grid is not None and nodes == f"{grid.u.size}x{grid.v.size}"
        assert np.isclose(grid.weights.sum(), 1.0)


@pytest.mark.slow
def test_the_nuts_posterior_satisfies_the_protocol():
    pytest.importorskip("pymc")
    settings = {"draws": 200, "tune": 200, "chains": 2, "random_seed": 5, "progressbar": False}
    fit = _fit("beta-binomial", "partial", engine="nuts", parametrization="marginal", **settings)
    post = fit.posterior
    assert isinstance(post, Posterior) and post.engine == "nuts"
    assert not isinstance(post, OnGrid | OnLine)
    assert isinstance(post.warnings, tuple) and all(isinstance(w, str) for w in post.warnings)
    assert {"divergences", "r_hat_max", "ess_bulk_min"} <= set(post.diagnostics)
    _check_quantity(post.quantities["theta"], fit.data.n_groups)
    draws = post.draws(N_DRAWS, np.random.default_rng(11))
    assert draws["theta"].shape == (N_DRAWS, fit.data.n_groups)
    assert all(draws[name].shape == (N_DRAWS,) for name in post.quantities if name != "theta")
    with pytest.raises(ValueError, match="samples the hyperparameters"):
        fit.hyper_grid()
