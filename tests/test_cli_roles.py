"""One command-line language across families: --new-size, --heldout-count, --heldout-size.

The old spellings (--new-trials, --new-exposure, --heldout-successes, ...) are aliases that still
work: each new spelling gives the same output as the old one, on binomial counts and on events.
"""

import argparse

import pytest

import poolwise as pw
from poolwise.cli import build_parser, main
from poolwise.families import registry

FAST = ["--pooling", "partial", "--seed", "1"]


def _out(capsys, args) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("source", "old"),
    [(["--dataset", "spacex"], "--new-trials"), (["--dataset", "pumps"], "--new-exposure")],
)
@pytest.mark.parametrize("json", [[], ["--json"]])
def test_new_size_is_the_old_spelling(capsys, source, old, json):
    new = _out(capsys, ["fit", *source, *FAST, "--new-size", "7", *json])
    assert new == _out(capsys, ["fit", *source, *FAST, old, "7", *json])
    assert "new group" in new or "new_group_counts" in new


@pytest.fixture
def later_tables(tmp_path):
    """A table of counts and one of events, each with later data of the same groups."""
    spacex = pw.datasets.load("spacex")
    counts = spacex.assign(y_later=spacex["y"] // 2, n_later=spacex["N"] // 2 + 1)
    pumps = pw.datasets.load("pumps")
    events = pumps.assign(later=pumps["failures"] // 2, later_hours=pumps["hours"] / 2)
    paths = {"counts": tmp_path / "counts.csv", "events": tmp_path / "events.csv"}
    counts.to_csv(paths["counts"], index=False)
    events.to_csv(paths["events"], index=False)
    return paths


@pytest.mark.parametrize(
    ("table", "columns", "old", "later"),
    [
        (
            "counts",
            ["--group", "Mission", "--successes", "y", "--trials", "N"],
            ("--heldout-successes", "--heldout-trials"),
            ("y_later", "n_later"),
        ),
        (
            "events",
            ["--group", "pump", "--events", "failures", "--exposure", "hours"],
            ("--heldout-events", "--heldout-exposure"),
            ("later", "later_hours"),
        ),
    ],
)
def test_heldout_count_and_size_are_the_old_spellings(capsys, later_tables, table, columns, old, later):
    args = ["fit", str(later_tables[table]), *columns, *FAST]
    new = _out(capsys, [*args, "--heldout-count", later[0], "--heldout-size", later[1], "--json"])
    assert new == _out(capsys, [*args, old[0], later[0], old[1], later[1], "--json"])
    assert '"heldout"' in new


def test_spellings_of_different_data_are_refused(capsys, later_tables):
    path = str(later_tables["counts"])
    args = ["fit", path, "--group", "Mission", "--successes", "y", "--trials", "N"]
    assert main([*args, "--heldout-successes", "y_later", "--heldout-exposure", "n_later"]) == 2
    assert "in one language" in capsys.readouterr().err
    assert main([*args, "--heldout-count", "y_later"]) == 2
    assert "--heldout-count and --heldout-size must be given together" in capsys.readouterr().err
    assert main(["fit", "--dataset", "eight_schools", "--new-size", "7"]) == 2
    assert "this fit is normal-normal" in capsys.readouterr().err
    assert main(["fit", "--dataset", "spacex", "--new-size", "2.5"]) == 2
    assert "trials are a whole number" in capsys.readouterr().err


def _family_options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if "--family" in action.option_strings:
            yield parser.prog, action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _family_options(sub)


def test_family_choices_are_the_registry_names():
    found = dict(_family_options(build_parser()))
    commands = {f"poolwise {c}" for c in ("fit", "report", "compare", "describe")}
    assert {"poolwise", *commands} <= set(found)
    for action in found.values():
        assert tuple(action.choices) == registry.names()
        assert all(name in action.choices for name in registry.names())
        assert "poisson-gamma" not in action.choices


def test_describe_defaults_to_the_registry_default(capsys):
    assert _out(capsys, ["describe", "--pooling", "partial"]) == _out(
        capsys, ["describe", "--pooling", "partial", "--family", registry.DEFAULT]
    )
