"""The gamma-Poisson family on the command line, in the JSON and in the HTML report.

The numbers shown are checked against the fits they come from (computed here through the library),
and the words against what the family is: events in an exposure, rates, a Gamma population.
"""

import html
import json
import warnings

import pandas as pd
import pytest

import poolwise as pw
from poolwise import report
from poolwise.cli import main

COLUMNS = {"group": "pump", "events": "failures", "exposure": "hours"}


@pytest.fixture(scope="module")
def pumps():
    return pw.datasets.load("pumps")


@pytest.fixture(scope="module")
def fits(pumps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        return pw.fit_all(pumps, **COLUMNS, random_seed=1)


@pytest.fixture(scope="module")
def page(fits):
    return report.render_html(fits, title="Pumps")


def test_cli_fits_the_bundled_pumps(capsys, fits):
    assert main(["fit", "--dataset", "pumps", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "10 groups, 75 events in 350.24 exposure." in out
    for part in ("y/E", "theta_new ~ Gamma(alpha, beta)", "which pooling?", "findings", "Jeffreys"):
        assert part in out, part
    # The text shows the fit's own numbers: pump 10's partial-pooling mean, to 3 digits.
    mean = fits["partial"].summary().loc["theta[10]", "mean"]
    assert f"{mean:.3f}" in out
    # Rates are not success probabilities: the seed's bet (P(theta > 0.5)) is not asked.
    assert "succeeds more often than not" not in out
    # The new rate's HDI starts at zero (its density is unbounded there), printed as zero, and its
    # mean, which may not exist, is not printed: the median is.
    assert "median 0.448, 94% HDI [0.000, 3.095]" in out
    assert "e-50" not in out


def test_cli_json_of_a_file_of_events(tmp_path, capsys, pumps):
    path = tmp_path / "pumps.csv"
    pumps.to_csv(path, index=False)
    args = ["fit", str(path), "--group", "pump", "--events", "failures", "--exposure", "hours", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["columns"] == {"group": "pump", "events": "failures", "exposure": "hours"}
    assert set(doc["models"]["partial"]["hyperparameters"]) == {"alpha", "beta", "mu"}
    assert doc["models"]["none"]["new_group"] is None  # Jeffreys' prior is improper
    groups = doc["models"]["partial"]["groups"]
    assert [g["group"] for g in groups] == [str(i) for i in range(1, 11)]
    assert [g["raw_rate"] for g in groups] == pytest.approx((pumps["failures"] / pumps["hours"]).tolist())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--events", "failures", "--exposure", "hours", "--trials", "hours"], "not both"),
        (["--events", "failures", "--exposure", "hours", "--new-trials", "5"], "for binomial counts"),
        (["--events", "failures"], "column 'exposure' not found"),
    ],
)
def test_cli_refuses_mixed_or_binomial_only_options(tmp_path, capsys, pumps, extra, expected):
    path = tmp_path / "pumps.csv"
    pumps.to_csv(path, index=False)
    assert main(["fit", str(path), "--group", "pump", *extra]) == 2
    assert expected in capsys.readouterr().err


def test_cli_names_the_bad_row(tmp_path, capsys, pumps):
    bad = pumps.copy()
    bad.loc[3, "hours"] = -1.0
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    assert main(["fit", str(path), "--group", "pump", "--events", "failures", "--exposure", "hours"]) == 2
    err = capsys.readouterr().err
    assert "hours" in err and "row 4" in err and "-1" in err


def test_report_describes_events_in_exposure(page, fits):
    text = html.unescape(page)
    assert "Figure not drawn" not in page
    for part in ("events y in an exposure E", "y/E", "Gamma(α, β)", "E[β/(β+E) | y]", "shape α"):
        assert part in text, part
    assert "successes" not in text.replace("new_trials", "")
    # Every pump appears in the data, shrinkage and estimates tables.
    for pump in range(1, 11):
        assert text.count(f">{pump}<") >= 3
    # mu's mean may not exist: not shown in the hyperparameter table.
    assert "7.46e+04" not in text
    # The new group's rate may have no mean: the card shows its median.
    assert "θnew median" in text.replace("<sub>", "").replace("</sub>", "")
    median = float(fits["partial"]._new_group_quantity().quantile(0.5)[0])
    assert f"{median:.3f}" in text


def test_report_with_a_group_without_exposure(pumps):
    """A group with no exposure under partial pooling is predicted from the others, in every table."""
    data = pd.concat([pumps, pd.DataFrame({"pump": ["idle"], "failures": [0], "hours": [0.0]})])
    fits = pw.fit_all(data, **COLUMNS, poolings=("complete", "partial"), random_seed=1)
    page = report.render_html(fits)
    assert "Figure not drawn" not in page
    assert page.count(">idle<") >= 3


def test_cli_predicts_a_new_group_with_events_in_an_exposure(capsys, fits):
    assert main(["fit", "--dataset", "pumps", "--seed", "1", "--new-group", "3/5.2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {row["pooling"]: row for row in doc["new_groups"]}
    assert rows["partial"]["exposure"] == 5.2 and rows["partial"]["events"] == 3
    assert rows["partial"]["mean"] == pytest.approx(fits["partial"].predict_new(3, 5.2)["mean"], rel=1e-12)
    assert rows["none"]["mean"] == pytest.approx(3.5 / 5.2, rel=1e-12)  # Gamma(1/2 + 3, 5.2)


def test_describe_states_the_gamma_poisson_model(capsys, tmp_path):
    out_png = tmp_path / "diagram.png"
    assert main(["describe", "--family", "gamma-poisson", "--pooling", "partial", "-o", str(out_png)]) == 0
    out = capsys.readouterr().out
    for line in ("y_i ~ Poisson(E_i theta_i)", "theta_i ~ Gamma(alpha, beta)", "alpha ~ Exponential(lam=1)"):
        assert line in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_predicts_events_in_a_new_exposure(capsys):
    assert main(["fit", "--dataset", "pumps", "--seed", "1", "--new-exposure", "10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {row["pooling"]: row for row in doc["new_group_counts"]}
    assert set(rows) == {"complete", "partial"} and rows["partial"]["exposure"] == 10.0
    assert "improper" in doc["new_group_counts_excluded"]["none"]
    assert sum(rows["partial"]["pmf"]) == pytest.approx(1.0, abs=1e-3)
    assert main(["fit", "--dataset", "spacex", "--new-exposure", "10"]) == 2
    assert "for event counts" in capsys.readouterr().err


def test_cli_scores_held_out_events(tmp_path, capsys, pumps, fits):
    """Later failures in later hours, columns of the same table: each pooling's summed log predictive
    density is the library's, and the text shows it."""
    from poolwise.analysis.predict import heldout_table

    later = pumps.assign(later=[2, 0, 3, 9, 1, 12, 0, 2, 1, 15], later_hours=pumps["hours"] / 2)
    path = tmp_path / "later.csv"
    later.to_csv(path, index=False)
    args = ["fit", str(path), "--group", "pump", "--events", "failures", "--exposure", "hours", "--seed", "1"]
    assert main([*args, "--heldout-events", "later", "--heldout-exposure", "later_hours", "--json"]) == 0
    rows = {row["pooling"]: row for row in json.loads(capsys.readouterr().out)["heldout"]}
    want = heldout_table(fits, later["later"].to_numpy(), later["later_hours"].to_numpy())
    for pooling in ("none", "complete", "partial"):
        assert rows[pooling]["lpd"] == pytest.approx(want.loc[pooling, "lpd"], rel=1e-10)
    assert main([*args, "--heldout-events", "later"]) == 2
    assert "must be given together" in capsys.readouterr().err
