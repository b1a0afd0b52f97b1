"""The command line: the main job, file input, JSON/CSV output, and exit status 2 on bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from poolwise import datasets
from poolwise.cli import main

SPACEX = ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"]


@pytest.fixture
def counts_csv(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("group,successes,trials\nA,2,5\nB,301,304\nC,9,9\nD,5,9\n", encoding="utf-8")
    return path


def test_main_job_prints_every_model_group_and_hyperparameter(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "poolwise-report.html"
    assert report.exists() and "report written to poolwise-report.html" in out
    assert "Falcon Heavy" in report.read_text(encoding="utf-8")
    for part in ("which pooling?", "elpd_logo", "findings", "Would you bet that Falcon 1"):
        assert part in out
    for title in ("no pooling", "complete pooling", "partial pooling"):
        assert title in out
    tables = out.split("── which pooling?")[0]  # the findings below name groups too
    for name in SPACEX:
        assert tables.count(name) == 3  # one row per model
    for name in ("alpha", "beta", "mu", "kappa", "mode of mu", "new group", "hdi94_lb"):
        assert name in out


def test_ci_kind_and_prob_follow_arviz_names(capsys):
    assert main(["--ci-kind", "eti", "--ci-prob", "0.9", "--pooling", "none", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "eti90_lb" in out and "90% equal-tailed" in out
    assert "partial pooling" not in out


def test_fit_file_json_has_every_group_and_matches_python(counts_csv, capsys):
    import poolwise as pw

    assert main(["fit", str(counts_csv), "--pooling", "partial", "--json", "--seed", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    groups = doc["models"]["partial"]["groups"]
    assert [g["group"] for g in groups] == ["A", "B", "C", "D"]
    direct = pw.fit(counts_csv, pooling="partial", random_seed=3).summary()
    assert groups[0]["mean"] == pytest.approx(direct.loc["theta[A]", "mean"], rel=1e-12)
    hyper = doc["models"]["partial"]["hyperparameters"]
    assert set(hyper) == {"alpha", "beta", "mu", "kappa"}
    assert hyper["mu"]["mode"] == pytest.approx(pw.fit(counts_csv, random_seed=3).mode("mu"), rel=1e-12)


def test_out_csv_has_every_group_under_every_pooling_and_is_formula_safe(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("team,wins,games\n=SUM(A1),1,4\nplain,3,3\n", encoding="utf-8")
    out = tmp_path / "table.csv"
    code = main(
        [
            "fit",
            str(data),
            "--group",
            "team",
            "--successes",
            "wins",
            "--trials",
            "games",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == ""
    table = pd.read_csv(out)
    assert len(table) == 6 and set(table["pooling"]) == {"none", "complete", "partial"}
    assert set(table["team"]) == {"'=SUM(A1)", "plain"}
    assert not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("group,successes,trials\nA,2,5\nB,7,4\n", [], ["column 'successes'", "row 2", "7"]),
        ("group,successes,trials\nA,2,-5\n", [], ["column 'trials'", "row 1", "-5"]),
        ("group,successes,trials\nA,2,5\nA,1,4\n", [], ["'A'", "row"]),
        ("group,successes,trials\nA,2.5,5\n", [], ["column 'successes'", "row 1", "2.5"]),
        ("group,successes,trials\nA,,5\n", [], ["column 'successes'", "row 1"]),
        ("group,successes,trials\n", [], ["no data rows"]),
        ("name,y,n\nA,1,2\n", [], ["'group'", "name", "y", "n"]),
        (
            "group,successes,trials\nA,1,2\n",
            ["--prior", "alpha=Wobbly(1)"],
            ["Wobbly", "HalfNormal"],
        ),
        ("group,successes,trials\nA,1,2\n", ["--prior", "gamma=HalfNormal(1)"], ["gamma"]),
    ],
)
def test_bad_input_exits_2_naming_file_column_row_value(tmp_path, capsys, content, args, expected):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assert main(["fit", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("poolwise: error:")
    for fragment in expected:
        assert fragment in err
    if not args:
        assert "bad.csv" in err


def test_missing_file_and_bad_option_exit_2(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert main(["--ci-prob", "1.5", "--no-report"]) == 2


def test_group_names_with_control_characters_print_escaped(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text('group,successes,trials\n"evil\x1b[31m",1,3\n<script>x</script>,2,3\n', encoding="utf-8")
    assert main(["fit", str(path), "--pooling", "none"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[31m" in out
    assert "<script>x</script>" in out


def test_datasets_command_lists_bundled_data(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "spacex" in out and "rat_tumors" in out


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "poolwise.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("poolwise ")


def test_import_is_light():
    code = (
        "import sys, poolwise as pw; pw.fit_all(pw.datasets.load('spacex'), group='Mission', "
        "successes='y', trials='N')['partial'].summary(); "
        "heavy = [m for m in ('pymc', 'pytensor', 'dask', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_report_command_writes_the_page(counts_csv, tmp_path, capsys):
    out = tmp_path / "study.html"
    assert main(["report", str(counts_csv), "-o", str(out), "--quiet"]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Which pooling" in page
    assert all(f">{g}<" in page for g in "ABCD")


def test_compare_command_json(counts_csv, capsys):
    assert main(["compare", str(counts_csv), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {row["pooling"] for row in doc["comparison"]} == {"none", "complete", "partial"}
    assert any(f["topic"] == "which pooling" for f in doc["findings"])


def test_stream_command(tmp_path, capsys):
    source, out = tmp_path / "d.parquet", tmp_path / "o.parquet"
    pd.DataFrame(
        {"group": list("abcdef"), "successes": [1, 2, 3, 4, 0, 9], "trials": [5, 5, 9, 9, 3, 10]}
    ).to_parquet(source)
    assert main(["stream", str(source), "-o", str(out)]) == 0
    assert "6 groups" in capsys.readouterr().out
    assert list(pd.read_parquet(out)["group"]) == list("abcdef")


def test_check_calibration_command(capsys):
    assert (
        main(["check-calibration", "--trials", "10,10,10", "--pooling", "none", "--simulations", "200"]) == 0
    )
    assert "calibrated" in capsys.readouterr().out
    assert main(["check-calibration", "--trials", "1,x"]) == 2


def test_describe_command_draws_the_diagram(tmp_path, capsys):
    out = tmp_path / "diagram.png"
    assert main(["describe", "--prior", "alpha,beta=BDA3", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "theta_i ~ Beta(alpha, beta)" in text and "BDA3()" in text
    assert out.read_bytes().startswith(b"\x89PNG")


def test_threshold_calls_with_q_values(counts_csv, capsys):
    assert main(["fit", str(counts_csv), "--threshold", "0.9", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    calls = {row["group"]: row for row in doc["threshold_calls"]}
    assert set(calls) == {"A", "B", "C", "D"}
    assert calls["B"]["prob"] > 0.99 and calls["A"]["prob"] < 0.1
    assert main(["fit", str(counts_csv), "--threshold", "1.5"]) == 2


@pytest.fixture
def later_csv(tmp_path):
    path = tmp_path / "later.csv"
    path.write_text(
        "group,successes,trials,y_later,n_later\nA,2,5,1,4\nB,301,304,99,100\nC,9,9,0,0\nD,5,9,3,9\n",
        encoding="utf-8",
    )
    return path


def test_heldout_new_group_ranks_and_pairwise_in_json_match_python(later_csv, capsys):
    import poolwise as pw

    args = ["fit", str(later_csv), "--heldout-successes", "y_later", "--heldout-trials", "n_later"]
    assert main([*args, "--new-group", "2/3", "--new-group", "0/1", "--json", "--seed", "5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fits = pw.fit_all(later_csv, random_seed=5)
    expected = pw.predict.heldout_table(fits, [1, 99, 0, 3], [4, 100, 0, 9])
    heldout = {row["pooling"]: row for row in doc["heldout"]}
    for pooling in ("none", "complete", "partial"):
        assert heldout[pooling]["lpd"] == pytest.approx(expected.loc[pooling, "lpd"], rel=1e-12)
        assert heldout[pooling]["groups_scored"] == 3  # C has no later trials
    new = [(row["successes"], row["trials"], row["pooling"]) for row in doc["new_groups"]]
    assert new == [(y, n, p) for y, n in ((2, 3), (0, 1)) for p in ("none", "complete", "partial")]
    partial = next(row for row in doc["new_groups"] if row["pooling"] == "partial")
    assert partial["mean"] == pytest.approx(fits["partial"].predict_new(2, 3)["mean"], rel=1e-12)
    ranks = {row["group"]: row for row in doc["ranks"]}
    assert set(ranks) == set("ABCD") and {"rank_lb", "rank_ub", "prob_top3"} <= set(ranks["A"])
    pairwise = doc["pairwise"]
    assert pairwise["groups"] == list("ABCD")
    matrix = pairwise["prob_row_above_column"]
    assert matrix[1][0] == pytest.approx(1 - matrix[0][1], abs=1e-12)  # continuous theta: no ties


def test_text_output_shows_the_new_answers(later_csv, capsys):
    args = ["fit", str(later_csv), "--heldout-successes", "y_later", "--heldout-trials", "n_later"]
    assert main([*args, "--new-group", "2/3", "--pairwise"]) == 0
    out = capsys.readouterr().out
    for part in ("held-out counts", "who is best?", "rank interval", "P(row's theta > column's theta)"):
        assert part in out
    assert "2/3 partial" in out.replace("  ", " ").replace("  ", " ")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--heldout-successes", "y_later"], "must be given together"),
        (["--heldout-successes", "y_later", "--heldout-trials", "n_lat"], "column 'n_lat' not found"),
        (["--new-group", "4/3"], "expected SUCCESSES/TRIALS"),
        (["--new-group", "two/3"], "expected SUCCESSES/TRIALS"),
    ],
)
def test_bad_heldout_or_new_group_exits_2(later_csv, capsys, extra, expected):
    assert main(["fit", str(later_csv), *extra]) == 2
    assert expected in capsys.readouterr().err


def test_heldout_rows_are_validated_with_row_and_value(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("group,successes,trials,y2,n2\nA,1,2,5,4\nB,1,2,0,1\n", encoding="utf-8")
    assert main(["fit", str(path), "--heldout-successes", "y2", "--heldout-trials", "n2"]) == 2
    err = capsys.readouterr().err
    assert "held-out counts" in err and "row 1" in err and "'y2'" in err


def test_new_trials_prediction_in_text_and_json(counts_csv, capsys):
    assert main(["fit", str(counts_csv), "--new-trials", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {row["pooling"]: row for row in doc["new_group_counts"]}
    assert set(rows) == {"none", "complete", "partial"}
    for row in rows.values():
        assert row["trials"] == 7 and len(row["pmf"]) == 8
        assert sum(row["pmf"]) == pytest.approx(1.0, abs=1e-12)
        assert row["mean"] == pytest.approx(sum(k * p for k, p in enumerate(row["pmf"])), rel=1e-12)
    assert main(["fit", str(counts_csv), "--new-trials", "7"]) == 0
    assert "a new group's successes in 7 trials" in capsys.readouterr().out
    assert main(["fit", str(counts_csv), "--new-trials", "0"]) == 2


def test_meta_command_matches_python_and_writes_the_forest_plot(tmp_path, capsys):
    import poolwise as pw

    out = tmp_path / "forest.png"
    assert main(["meta", "--dataset", "bcg", "--method", "DL", "--json", "-o", str(out), "--exp"]) == 0
    doc = json.loads(capsys.readouterr().out)
    direct = pw.meta_analysis(
        pw.datasets.load("bcg"), group="study", estimate="yi", variance="vi", method="DL"
    )
    assert doc["method"] == "DL" and doc["k"] == 13
    assert doc["tau2"] == pytest.approx(direct.tau2, rel=1e-12)
    assert [s["label"] for s in doc["studies"]] == list(pw.datasets.load("bcg")["study"])
    assert out.read_bytes().startswith(b"\x89PNG")
    assert main(["meta", "--dataset", "eight_schools", "--knha"]) == 0
    assert "Random-Effects Model (k = 8" in capsys.readouterr().out


def test_meta_command_from_a_file_and_its_errors(tmp_path, capsys):
    path = tmp_path / "studies.csv"
    path.write_text("trial,lor,se\nA,0.1,0.2\nB,-0.3,0.25\nC,0.5,-1\n", encoding="utf-8")
    assert main(["meta", str(path), "--group", "trial", "--estimate", "lor", "--std-error", "se"]) == 2
    err = capsys.readouterr().err
    assert "'se'" in err and "row 3" in err
    assert main(["meta", str(path), "--group", "trial"]) == 2
    assert "--estimate" in capsys.readouterr().err
    assert main(["meta", "--dataset", "spacex"]) == 2
    assert "binomial data" in capsys.readouterr().err


def test_a_closed_pipe_is_not_an_error():
    script = "import sys; from poolwise.cli import main; sys.exit(main(['meta', '--dataset', 'bcg']))"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before anything is written, like `| head -0`
    with proc.stderr:
        assert proc.wait(timeout=60) == 0
        assert b"Broken pipe" not in proc.stderr.read()


def test_options_before_the_command_are_kept_and_after_it_win(tmp_path, capsys):
    """argparse resets an option given before a command to the command's default unless the
    command's copy has none: `poolwise --json fit data.csv` printed text."""
    path = tmp_path / "spacex.csv"
    datasets.load("spacex").to_csv(path, index=False)
    source = ["fit", str(path), "--group", "Mission", "--successes", "y", "--trials", "N"]
    assert main(["--no-report", "--json", "--pooling", "partial", *source]) == 0
    assert list(json.loads(capsys.readouterr().out)["models"]) == ["partial"]
    assert main(["--no-report", "--json", "--pooling", "partial", *source, "--pooling", "none"]) == 0
    assert list(json.loads(capsys.readouterr().out)["models"]) == ["none"]
