"""Bundled datasets: families, column roles, sources, and that each validates with its roles."""

import numpy as np
import pytest

import poolwise as pw
import poolwise.data
from poolwise.cli import main
from poolwise.data import binomial_data, estimate_data

VALIDATOR = {
    "binomial": binomial_data,
    "normal-normal": estimate_data,
    # The gamma-Poisson validator (poolwise.data.rate_data) is being added alongside this dataset.
    "gamma-poisson": getattr(poolwise.data, "rate_data", None),
}


def test_every_family_has_a_validator_entry() -> None:
    assert set(VALIDATOR) == set(pw.datasets.FAMILIES)


@pytest.mark.parametrize("name", pw.datasets.list())
def test_every_dataset_validates_with_its_roles_and_cites_a_source(name: str) -> None:
    info = pw.datasets.info(name)
    validator = VALIDATOR[info.family]
    if validator is None:
        pytest.skip(f"{info.family} validation (poolwise.data.rate_data) lands separately")
    data = validator(pw.datasets.load(name), **info.columns)
    assert data.n_groups == len(pw.datasets.load(name))
    assert info.source.strip()  # the '#' header lines that cite where the numbers come from


def test_list_by_family() -> None:
    assert pw.datasets.list("normal-normal") == ["bcg", "beta_blockers", "crins2014", "eight_schools"]
    assert {"spacex", "rat_tumors", "surgical", "efron_morris"} <= set(pw.datasets.list("binomial"))
    assert "pumps" in pw.datasets.list("gamma-poisson")
    assert "pumps" not in pw.datasets.list("binomial") + pw.datasets.list("normal-normal")
    assert sorted(pw.datasets.list()) == pw.datasets.list()
    with pytest.raises(ValueError, match="no dataset family 'poisson'"):
        pw.datasets.list("poisson")


def test_roles_are_attributes_and_keyword_arguments() -> None:
    spacex = pw.datasets.info("spacex")
    assert (spacex.group, spacex.successes, spacex.trials) == ("Mission", "y", "N")
    assert spacex.columns == {"group": "Mission", "successes": "y", "trials": "N"}
    schools = pw.datasets.info("eight_schools")
    assert schools.columns == {"group": "school", "estimate": "y", "std_error": "sigma"}
    with pytest.raises(AttributeError, match="no column role 'trials'"):
        _ = schools.trials
    # columns is a fresh dict: the CLI overrides roles in it.
    spacex.columns["group"] = "other"
    assert spacex.columns["group"] == "Mission"


def test_eight_schools_is_bda3_table_5_2() -> None:
    frame = pw.datasets.load("eight_schools")
    assert frame["y"].tolist() == [28, 8, -3, 7, -1, 1, 18, 12]
    assert frame["sigma"].tolist() == [15, 10, 16, 11, 9, 11, 10, 18]


def test_bcg_log_risk_ratios_are_the_counts_and_round_to_metafors_print() -> None:
    frame = pw.datasets.load("bcg")
    a, b, c, d = (frame[col].to_numpy(float) for col in ("tpos", "tneg", "cpos", "cneg"))
    # One log of a ratio here, a difference of two logs in the file: a few ulp of logs near 1.5 apart.
    np.testing.assert_allclose(frame["yi"], np.log(a / (a + b) / (c / (c + d))), rtol=1e-14, atol=2e-15)
    np.testing.assert_allclose(frame["vi"], 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d), rtol=1e-14)
    # escalc(measure="RR") as printed in the metafor README (4 d.p.), first and last trial.
    assert round(frame["yi"].iloc[0], 4) == -0.8893 and round(frame["vi"].iloc[0], 4) == 0.3256
    assert round(frame["yi"].iloc[12], 4) == -0.0173 and round(frame["vi"].iloc[12], 4) == 0.0714


def test_beta_blockers_log_odds_ratios_keep_the_counts() -> None:
    frame = pw.datasets.load("beta_blockers")
    assert len(frame) == 22 and {"rt", "nt", "rc", "nc"} <= set(frame.columns)
    rt, nt, rc, nc = (frame[col].to_numpy(float) for col in ("rt", "nt", "rc", "nc"))
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    np.testing.assert_allclose(frame["y"], logit(rt / nt) - logit(rc / nc), rtol=1e-12)
    np.testing.assert_allclose(frame["v"], 1 / rt + 1 / (nt - rt) + 1 / rc + 1 / (nc - rc), rtol=1e-14)
    # BDA3 Table 5.4, trial 1: y = 0.028, sd = 0.850.
    assert round(frame["y"].iloc[0], 3) == 0.028 and round(np.sqrt(frame["v"].iloc[0]), 3) == 0.850


def test_crins_zero_cell_gets_the_half_correction() -> None:
    frame = pw.datasets.load("crins2014").set_index("study")
    gras = frame.loc["Gras (2008)"]
    a, b = 0 + 0.5, 50 - 0 + 0.5
    c, d = 3 + 0.5, 34 - 3 + 0.5
    assert gras["yi"] == pytest.approx(np.log(a * d / (b * c)), rel=1e-14)
    assert gras["vi"] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-14)


def test_pumps_is_the_bugs_pumps_example() -> None:
    # BUGS Examples Vol 1 "Pumps" (Gaver & O'Muircheartaigh 1987): t (thousands of operating hours)
    # and x (failures), written out here from stan-dev/example-models
    # bugs_examples/vol1/pump/pump.data.json @ 24ecef1f, identical in cran/rbugs data/pumps.tab.
    t = [94.3, 15.7, 62.9, 126, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5]
    x = [5, 1, 5, 14, 3, 19, 1, 1, 4, 22]
    info = pw.datasets.info("pumps")
    assert info.family == "gamma-poisson"
    assert info.columns == {"group": "pump", "events": "failures", "exposure": "hours"}
    assert (info.group, info.events, info.exposure) == ("pump", "failures", "hours")
    with pytest.raises(AttributeError, match="no column role 'trials'"):
        _ = info.trials
    frame = pw.datasets.load("pumps")
    assert list(frame.columns) == ["pump", "failures", "hours"]
    assert frame["pump"].tolist() == list(range(1, 11))
    assert frame["failures"].tolist() == x
    assert frame["failures"].dtype.kind == "i"
    assert frame["hours"].tolist() == t  # exact: the same decimal literals, parsed the same way
    assert "thousands of hours" in info.source.lower() and "dgamma(0.1, 1.0)" in info.source


def test_a_family_needs_its_own_roles() -> None:
    with pytest.raises(ValueError, match="a gamma-poisson dataset has roles"):
        pw.datasets.Dataset("x", "x", "gamma-poisson", (("group", "g"), ("successes", "y"), ("trials", "n")))


def test_cli_lists_every_dataset_with_its_family(capsys) -> None:
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in pw.datasets.list():
        (line,) = [line for line in lines if line.split()[0] == name]
        assert line.split()[1] == pw.datasets.info(name).family
