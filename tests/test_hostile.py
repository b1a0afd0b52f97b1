"""Valid but extreme input: a fit with warnings, or exit 2 with a one-line message; never a traceback."""

import json

import numpy as np
import pandas as pd
import pytest

import poolwise as pw
from poolwise import priors
from poolwise.analysis.calibration import check_calibration
from poolwise.cli import main
from poolwise.data import binomial_data
from poolwise.errors import DataError, PriorError

SPACEX = ["--dataset", "spacex", "--group", "Mission", "--successes", "y", "--trials", "N"]


@pytest.fixture
def counts_csv(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("group,successes,trials\nA,2,5\nB,3,4\n", encoding="utf-8")
    return path


def _error(capsys) -> str:
    """The one error line on stderr (argparse prints its usage above it)."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0] == err.splitlines()[-1], err
    return lines[0]


@pytest.mark.parametrize("spec", ["LogNormal(0, 1e-300)", "Uniform(0, 1e-300)"])
def test_prior_too_narrow_for_float64_exits_2_naming_it(counts_csv, capsys, spec):
    assert main(["fit", str(counts_csv), "--pooling", "partial", "--prior", f"alpha={spec}"]) == 2
    err = _error(capsys)
    assert spec.split("(")[0] in err and "1e-300" in err


@pytest.mark.parametrize(
    ("spec", "word"),
    [("HalfNormal(1e-300)", "sigma"), ("Exponential(1e300)", "lam"), ("Gamma(2, 1e300)", "beta")],
)
def test_degenerate_scales_and_rates_are_refused(spec, word):
    with pytest.raises(PriorError, match=word):
        priors.parse(spec)


def test_trials_beyond_int64_exit_2(capsys):
    assert main(["check-calibration", "--trials", "99999999999999999999"]) == 2
    assert "2**63 - 1" in _error(capsys)
    with pytest.raises(ValueError, match="2\\*\\*63 - 1"):
        check_calibration([99999999999999999999], pooling="none", n_simulations=1)


def test_deeply_nested_prior_text_is_a_prior_error(counts_csv, capsys):
    spec = "Normal(" + "-" * 1000 + "1, 1)"
    with pytest.raises(PriorError):
        priors.parse(spec)
    assert main(["fit", str(counts_csv), "--prior", f"alpha={spec}"]) == 2
    err = _error(capsys)
    assert len(err) < 300  # the thousand minus signs are not echoed


@pytest.mark.parametrize(
    ("spec", "keyword"), [("Beta(alpha=2, alpha=3)", "alpha"), ("Normal(mu=0, mu=1, sigma=1)", "mu")]
)
def test_repeated_keyword_is_refused(spec, keyword):
    with pytest.raises(PriorError, match=f"keyword '{keyword}' is given more than once"):
        priors.parse(spec)


@pytest.mark.parametrize("tol", ["0", "-1", "nan", "inf", "1", "abc"])
def test_tol_outside_0_1_exits_2(counts_csv, capsys, tol):
    assert main(["fit", str(counts_csv), "--tol", tol]) == 2
    err = capsys.readouterr().err
    assert "--tol" in err and "strictly between 0 and 1" in err


@pytest.mark.parametrize("tol", [0, -1, float("nan"), float("inf"), 1, "1e-4", True])
def test_fit_refuses_tol_outside_0_1(tol):
    data = pw.datasets.load("spacex")
    with pytest.raises(ValueError, match="tol must be a finite number strictly between 0 and 1"):
        pw.fit(data, group="Mission", successes="y", trials="N", tol=tol)


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "DATA", "--out", ""],
        ["fit", "DATA", "--report", ""],
        ["report", "DATA", "-o", ""],
        ["describe", "-o", ""],
    ],
)
def test_empty_output_path_exits_2(counts_csv, capsys, args):
    args = [str(counts_csv) if a == "DATA" else a for a in args]
    assert main(args) == 2
    assert "path is empty" in _error(capsys)


@pytest.mark.parametrize("option", ["--out", "--report", "-o"])
def test_output_in_missing_directory_fails_before_the_fit(counts_csv, tmp_path, capsys, monkeypatch, option):
    import poolwise.study.fits as fits_module

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before checking the output path")

    monkeypatch.setattr(fits_module, "fit_all", no_fit)
    target = str(tmp_path / "missing" / "x.csv")
    command = "report" if option == "-o" else "fit"
    assert main([command, str(counts_csv), option, target]) == 2
    err = _error(capsys)
    assert target in err and ".tmp" not in err


def test_stream_output_in_missing_directory_exits_2(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source = tmp_path / "d.parquet"
    pq.write_table(pa.table({"group": ["A"], "successes": [1], "trials": [2]}), source)
    target = str(tmp_path / "missing" / "o.parquet")
    assert main(["stream", str(source), "-o", target, "--quiet"]) == 2
    assert target in _error(capsys)


def test_parquet_bytes_labels_are_decoded_as_utf8(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "bytes.parquet"
    labels = pa.array([b"A", "Zürich".encode()], pa.binary())
    pq.write_table(pa.table({"group": labels, "successes": [1, 2], "trials": [3, 4]}), path)
    assert list(binomial_data(path).groups) == ["A", "Zürich"]


def test_parquet_bytes_labels_not_utf8_name_file_column_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "latin.parquet"
    labels = pa.array([b"A", "München".encode("latin-1")], pa.binary())
    pq.write_table(pa.table({"group": labels, "successes": [1, 2], "trials": [3, 4]}), path)
    with pytest.raises(DataError, match="UTF-8") as info:
        binomial_data(path)
    assert (info.value.file, info.value.column, info.value.row) == (str(path), "group", 2)
    assert str(path) in str(info.value)


def _corrupt_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 2000
    table = pa.table(
        {"group": [f"g{i}" for i in range(n)], "successes": np.arange(n) % 5, "trials": [10] * n}
    )
    path = tmp_path / "corrupt.parquet"
    pq.write_table(table, path, compression="none")
    raw = bytearray(path.read_bytes())
    raw[8:24] = b"\xff" * 16  # the first data page's header
    path.write_bytes(bytes(raw))
    return path


def test_corrupt_parquet_page_names_the_file_on_one_line(tmp_path, capsys):
    path = _corrupt_parquet(tmp_path)
    assert main(["fit", str(path), "--pooling", "none"]) == 2
    assert str(path) in _error(capsys)
    assert main(["stream", str(path), "-o", str(tmp_path / "o.parquet"), "--quiet"]) == 2
    assert str(path) in _error(capsys)


def test_corrupt_parquet_page_is_a_data_error_naming_the_file_in_python(tmp_path):
    from poolwise.errors import DataError
    from poolwise.fitting.stream import fit_parquet

    path = _corrupt_parquet(tmp_path)
    with pytest.raises(DataError, match="cannot read as Parquet") as caught:
        fit_parquet(path, tmp_path / "o.parquet")
    assert caught.value.file == str(path) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_group_with_zero_trials_runs_and_says_posterior_is_prior(tmp_path, capsys):
    path = tmp_path / "zero.csv"
    path.write_text("group,successes,trials\nA,0,0\nB,0,0\nC,0,0\n", encoding="utf-8")
    assert main(["fit", str(path), "--new-trials", "5"]) == 0
    out = capsys.readouterr().out
    assert "every posterior is its prior" in out and "successes in 5 trials" in out
    assert main(["fit", str(path), "--pooling", "partial", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any("every posterior is its prior" in f["text"] for f in doc["findings"])


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_calibration_with_zero_trials_passes(pooling):
    # The posterior is the prior, so the PIT of a truth drawn from the prior is exactly uniform.
    assert check_calibration([0, 0], pooling=pooling, n_simulations=400, random_seed=1).passed


@pytest.mark.parametrize("prior", ["Uniform(1, 1.01)", "Uniform(0, 1e-30)"])
def test_prior_support_the_search_cannot_find_is_a_prior_error(counts_csv, capsys, prior):
    # a valid prior whose support is too narrow for the grid's coarse search: refused by name
    # (FloatingPointError before), in Python and at the command line
    data = pw.datasets.load("spacex")
    with pytest.raises(pw.priors.PriorError, match=r"cannot fit with these priors \(alpha: Uniform"):
        pw.fit(data, group="Mission", successes="y", trials="N", priors={"alpha": prior})
    assert main(["fit", str(counts_csv), "--pooling", "partial", "--prior", f"alpha={prior}"]) == 2
    assert "cannot fit with these priors" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--draws", "--chains"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e308", "99999999999999999999", "200000000"])
def test_sampling_options_out_of_range_exit_2(option, value, capsys):
    # huge whole numbers raised OverflowError from NumPy (or would allocate terabytes)
    assert main(["--no-report", "fit", "--dataset", "spacex", option, value]) == 2
    err = capsys.readouterr().err
    # argparse's message for what is not a whole number >= 1, poolwise's for too many draws
    assert "error" in err and option.lstrip("-") in err and "Traceback" not in err


def test_draws_times_chains_beyond_the_limit_is_refused_in_python():
    data = pw.datasets.load("spacex")
    with pytest.raises(ValueError, match=r"draws x chains = 400,000,000 is more than 100,000,000"):
        pw.fit(data, group="Mission", successes="y", trials="N", draws=100_000_000, chains=4)


# Every numeric option of every command, at the values that broke options before: the command
# exits 0 or 2 and nothing escapes as an exception. The options are read from the parser, so a new
# one is covered when it is added. One fast command line per command (no pooling where it can).
HOSTILE_NUMBERS = ["0", "-1", "nan", "inf", "1e308", "99999999999999999999"]
COMMAND_LINES = {
    "fit": ["--no-report", "fit", "--dataset", "spacex", "--pooling", "none"],
    "meta": ["meta", "--dataset", "bcg"],
    "check-calibration": ["check-calibration", "--trials", "3,5", "--pooling", "none", "--simulations", "20"],
}


def _numeric_options():
    import argparse

    from poolwise.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for command in COMMAND_LINES:
        for action in commands[command]._actions:
            if action.option_strings and action.type is not None and not action.choices:
                if action.nargs in (None, "?") and action.dest != "prior":
                    yield command, action.option_strings[0]


@pytest.mark.parametrize(("command", "option"), sorted(set(_numeric_options())))
def test_every_numeric_option_at_hostile_values_exits_0_or_2(command, option, capsys):
    for value in HOSTILE_NUMBERS:
        line = COMMAND_LINES[command]
        argv = [*line, option, value]
        if option == "--simulations":
            argv = [*line[:-2], option, value]
        assert main(argv) in (0, 2), (argv, capsys.readouterr().err[-300:])
        assert "Traceback" not in capsys.readouterr().err


# Extreme but valid magnitudes of every numeric column of every family (issue 20's class test):
# a fit whose every interval is finite (its means too, or a warning says why not), or a DataError
# naming the column. Nothing else may come out.
def _binomial(successes, trials):
    return {"group": [f"g{i}" for i in range(len(trials))], "successes": successes, "trials": trials}


EXTREME_DATA = {
    "trials at zero": ("binomial", _binomial([0, 0, 3], [0, 0, 10])),
    "trials of one": ("binomial", _binomial([0, 1, 1], [1, 1, 1])),
    "trials in the billions": ("binomial", _binomial([7, 3 * 10**9], [10, 5 * 10**9])),
    "trials at 2**53": ("binomial", _binomial([2**52, 5], [2**53, 10])),
    "trials beyond 2**63": ("binomial", _binomial([1, 5], [2**64, 10])),
    "exposure of 1e-300": ("rates", {"group": ["a", "b"], "events": [1, 4], "exposure": [1e-300, 2.0]}),
    "exposure of 1e300": ("rates", {"group": ["a", "b"], "events": [1, 4], "exposure": [1e300, 2.0]}),
    "events at 2**53": ("rates", {"group": ["a", "b"], "events": [2**53, 4], "exposure": [1e6, 2.0]}),
    "estimates of 1e-300": (
        "estimates",
        {"group": ["a", "b", "c"], "y": [1e-300, 0.0, -1e-300], "se": [1.0] * 3},
    ),
    "estimates of 1e150": (
        "estimates",
        {"group": ["a", "b", "c"], "y": [1e150, 0.0, -1e150], "se": [1.0] * 3},
    ),
    "estimates of 1e300": ("estimates", {"group": ["a", "b", "c"], "y": [1e300, 0.0, 1.0], "se": [1.0] * 3}),
    "standard errors of 1e-300": (
        "estimates",
        {"group": ["a", "b", "c"], "y": [1.0, 2.0, 3.0], "se": [1e-300, 1.0, 1.0]},
    ),
    "standard errors of 1e300": (
        "estimates",
        {"group": ["a", "b", "c"], "y": [1.0, 2.0, 3.0], "se": [1e300, 1.0, 1.0]},
    ),
}
FAMILIES_OF = {
    "binomial": (
        ("beta-binomial", {"successes": "successes", "trials": "trials"}),
        ("logit-normal", {"successes": "successes", "trials": "trials"}),
    ),
    "rates": (("gamma-poisson", {"events": "events", "exposure": "exposure"}),),
    "estimates": (("normal-normal", {"estimate": "y", "std_error": "se"}),),
}


@pytest.mark.slow  # 13 cases x every family x three poolings: about a minute, logit-normal's partial fits
@pytest.mark.parametrize("case", list(EXTREME_DATA))
def test_extreme_magnitudes_fit_or_name_the_column(case):
    import warnings

    from poolwise.errors import DataError

    kind, table = EXTREME_DATA[case]
    for family, columns in FAMILIES_OF[kind]:
        for pooling in ("none", "complete", "partial"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    fit = pw.fit(
                        pd.DataFrame(table), group="group", **columns, family=family, pooling=pooling
                    )
                except DataError as err:
                    assert err.column in columns.values(), (case, family, pooling, str(err))
                    continue
                summary = fit.summary()
            where = (case, family, pooling)
            assert np.isfinite(summary.iloc[:, 2:].to_numpy(float)).all(), where
            means_finite = np.isfinite(summary[["mean", "sd"]].to_numpy(float)).all()
            # an infinite mean (a heavy tail) must be said, not printed as a number
            assert means_finite or any(issubclass(w.category, pw.PoolwiseWarning) for w in caught), where
