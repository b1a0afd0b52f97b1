"""Long work shows progress on standard error, which --quiet silences; stdout carries only the result.

Also the options of the long commands: check-calibration's help, and report's output file.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolwise.cli import main

#: tqdm's bar: the percentage done, then the bar itself.
BAR = "%|"


def test_check_calibration_progress_bar_on_stderr_and_quiet(capsys):
    args = ["check-calibration", "--trials", "5,10", "--simulations", "3"]
    assert main(args) in (0, 1)  # three simulations are too few to pass the chi-square test
    out, err = capsys.readouterr()
    assert "simulations: 100%|" in err and "3/3" in err
    assert BAR not in out and "calibrated" in out
    assert main([*args, "--quiet"]) in (0, 1)
    out, err = capsys.readouterr()
    assert err == "" and "calibrated" in out


def test_check_calibration_options_have_help(capsys):
    assert main(["check-calibration", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("the model calibrated", "it must be proper", "data sets simulated", "correct engine fails"):
        assert words in text
    assert "random seed of the simulations" in text and "no progress bar" in text


def test_stream_progress_bar_per_pass_and_quiet(tmp_path, capsys):
    rng = np.random.default_rng(1)
    trials = rng.integers(1, 40, 3000)
    table = pd.DataFrame({"group": [f"g{i}" for i in range(3000)], "trials": trials})
    table["successes"] = rng.binomial(trials, 0.4)
    source = tmp_path / "in.parquet"
    table.to_parquet(source)
    args = ["stream", str(source), "-o", str(tmp_path / "out.parquet"), "--batch-rows", "1000"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    for step in (1, 2):
        assert f"pass {step} of 2: 3,000 rows of 3,000 |" in err and "100%" in err
    assert "pass 1 of 2: 1,000 rows of 3,000 |" in err  # drawn per batch, not only at the end
    assert BAR not in out and "3,000 groups" in out
    assert main([*args, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "3,000 groups" in out


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pymc") is None, reason="needs the mcmc extra")
def test_nuts_progress_on_stderr_json_on_stdout(capsys):
    args = ["fit", "--dataset", "spacex", "--engine", "nuts", "--pooling", "complete"]
    args += ["--draws", "50", "--tune", "50", "--chains", "1", "--json"]
    for quiet in (False, True):
        assert main(args + ["--quiet"] * quiet) == 0
        out, err = capsys.readouterr()
        assert json.loads(out)["models"]["complete"]["engine"] == "nuts"
        # PyMC's own bar (rich): a table headed Progress, Draw, ..., redirected from stdout to stderr
        assert ("Progress" in err and "Draw" in err) is not quiet


def test_report_output_given_twice_is_refused_or_used(capsys):
    args = ["report", "--dataset", "spacex", "--pooling", "complete", "-q"]
    assert main([*args, "--report", "a.html", "-o", "b.html"]) == 2
    assert "-o 'b.html' and --report 'a.html'; give one" in capsys.readouterr().err
    assert main([*args, "--report", "a.html"]) == 0  # --report alone names the file
    assert main([*args, "--report", "c.html", "-o", "c.html"]) == 0
    files = sorted(p.name for p in Path().glob("*.html"))
    assert files == ["a.html", "c.html"]
