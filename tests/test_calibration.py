"""Simulation-based calibration of the exact engine: PIT values of the truth are uniform.

Each check fails a correct engine with probability ``false_alarm`` (Bonferroni over its parameters);
seeds are fixed, so a run is deterministic.
"""

import numpy as np
import pytest

from poolwise.calibration import check_calibration

DESIGNS = {
    "few groups": [10, 10, 10, 10],
    "tiny trials": [1, 2, 3, 1, 2] * 4,
    "many groups": list(np.random.default_rng(1).integers(1, 300, 50)),
    "huge trials": [10_000] * 5,
}


def test_partial_pooling_is_calibrated_on_a_small_design():
    result = check_calibration([10, 10, 10, 10], n_simulations=60, random_seed=0, false_alarm=0.01)
    assert set(result.pit.columns) == {"alpha", "beta", "mu", "kappa", "theta[0]", "theta[1]", "theta[2]"}
    assert result.pit.to_numpy().min() >= 0 and result.pit.to_numpy().max() <= 1
    assert result.passed, result.tests


@pytest.mark.parametrize("pooling", ["none", "complete"])
@pytest.mark.parametrize("design", list(DESIGNS), ids=list(DESIGNS))
def test_conjugate_poolings_are_calibrated(design, pooling):
    result = check_calibration(DESIGNS[design], pooling=pooling, n_simulations=400, random_seed=0)
    assert result.passed, result.tests


@pytest.mark.slow
@pytest.mark.parametrize("design", list(DESIGNS), ids=list(DESIGNS))
def test_partial_pooling_is_calibrated(design):
    result = check_calibration(DESIGNS[design], n_simulations=200, random_seed=0, false_alarm=0.01)
    assert result.passed, result.tests


def test_a_miscalibrated_engine_is_caught(monkeypatch):
    # The check must be able to fail: a posterior 10% off the truth, as an engine bug would make it.
    from poolwise import calibration

    original = calibration._simulate

    def shifted_truth(model, n, rng):
        truth, y = original(model, n, rng)
        return {**truth, "theta": truth["theta"] * 0.9}, y

    monkeypatch.setattr(calibration, "_simulate", shifted_truth)
    result = check_calibration([20] * 4, pooling="none", n_simulations=400, random_seed=0)
    assert not result.passed


def test_improper_prior_is_refused():
    with pytest.raises(ValueError, match="improper"):
        check_calibration([10] * 4, priors={"alpha,beta": "BDA3"}, n_simulations=2)
