"""Regenerate docs/input-errors.md: what poolwise does with each kind of bad or odd input.

Every row is produced by running the case through poolwise's own reader and validator, so the table
cannot drift from the code (tests/test_docs.py regenerates it and compares).

    python docs/make_input_table.py > docs/input-errors.md
"""

from __future__ import annotations

import os
import tempfile

from poolwise.data import DataError, binomial_data, estimate_data, rate_data

HEADER = "group,successes,trials\n"

CASES: list[tuple[str, str | bytes]] = [
    ("negative count", HEADER + "A,2,-5\n"),
    ("non-integer count", HEADER + "A,2.5,5\n"),
    ("3.0 in a count column", HEADER + "A,3.0,5\n"),
    ("successes above trials", HEADER + "A,7,4\n"),
    ("missing value", HEADER + "A,,5\n"),
    ("text in a count column", HEADER + "A,abc,5\n"),
    ("infinite value", HEADER + "A,inf,5\n"),
    ("count above 2**53", HEADER + "A,1,9007199254740993\n"),
    ("10**12 trials", HEADER + "A,1,1000000000000\n"),
    ("duplicate group", HEADER + "A,1,5\nA,2,5\n"),
    ("missing group label", HEADER + ",1,5\n"),
    ("wrong column names", "name,y,n\nA,1,5\n"),
    ("semicolon-delimited file", "group;successes;trials\nA;1;5\n"),
    ("header only", HEADER),
    ("empty file", ""),
    ("UTF-8 with BOM", "\ufeff" + HEADER + "A,1,5\n"),
    ("Latin-1 encoded file", ("group,successes,trials\nMünchen,1,5\n").encode("latin-1")),
    ("leading '#' comment lines", "# source: somewhere\n" + HEADER + "A,1,5\n"),
    ("'#' inside a group name", HEADER + "Team #1,1,5\n"),
    ("unicode and HTML in group names", HEADER + "<script>alert(1)</script>,1,5\nZürich ✓,2,5\n"),
    ("group with zero trials", HEADER + "A,0,0\nB,1,5\n"),
    ("cell starting with '='", HEADER + "=SUM(A1),1,5\n"),
]


ESTIMATES = "study,yi,sei\n"
VARIANCES = "study,yi,vi\n"

# Estimates with standard errors (meta-analysis, normal-normal model), read with
# estimate_data(path, group="study", estimate="yi", std_error="sei") -- or variance="vi" when the
# header names a vi column.
ESTIMATE_CASES: list[tuple[str, str]] = [
    ("zero standard error", ESTIMATES + "A,0.5,0\n"),
    ("negative variance", VARIANCES + "A,0.5,-0.1\n"),
    ("standard error whose square underflows", ESTIMATES + "A,0.5,1e-200\n"),
    ("missing estimate", ESTIMATES + "A,,0.2\n"),
    ("text in an estimate", ESTIMATES + "A,n/a?,0.2\n"),
    ("decimal comma", ESTIMATES + 'A,"0,5",0.2\n'),
    ("infinite estimate", ESTIMATES + "A,-inf,0.2\n"),
    ("duplicate study", ESTIMATES + "A,0.5,0.2\nA,0.1,0.3\n"),
    ("wrong column names", "study,y,se\nA,0.5,0.2\n"),
    ("negative and exponent notation", ESTIMATES + "A,-1.5e-1,2E-2\n"),
]


RATES = "group,events,exposure\n"

# Event counts with exposure (gamma-Poisson family), read with rate_data(path): columns group,
# events and exposure.
RATE_CASES: list[tuple[str, str]] = [
    ("events in zero exposure", RATES + "A,3,0\n"),
    ("zero events in zero exposure", RATES + "A,0,0\nB,3,2.5\n"),
    ("negative exposure", RATES + "A,1,-2\n"),
    ("exposure below 1e-300", RATES + "A,1,1e-310\n"),
    ("exposure above 1e300", RATES + "A,1,1e301\n"),
    ("text in an exposure", RATES + "A,1,abc\n"),
    ("decimal comma in an exposure", RATES + 'A,1,"2,5"\n'),
    ("infinite exposure", RATES + "A,1,inf\n"),
    ("fractional events", RATES + "A,2.5,10\n"),
    ("missing exposure", RATES + "A,1,\n"),
    ("boolean events", RATES + "A,True,10\n"),
    ("spaces and exponent notation", RATES + "A, 12 ,1e3\n"),
]


def _written(content: str | bytes, tmp: str) -> str:
    path = os.path.join(tmp, "data.csv")
    with open(path, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _error(err: DataError, tmp: str) -> str:
    return "error: " + str(err).replace(tmp + os.sep, "").replace("|", "\\|").replace("\n", " ")


def _labels(groups) -> str:
    return ", ".join(f"`{g}`" for g in groups).replace("|", "\\|")


def _outcome(content: str | bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = binomial_data(_written(content, tmp))
        except DataError as err:
            return _error(err, tmp)
        return f"accepted: {data.n_groups} group(s) {_labels(data.groups)}, trials {data.trials.tolist()}"


def _estimate_outcome(content: str) -> str:
    spread = {"variance": "vi"} if content.startswith(VARIANCES) else {"std_error": "sei"}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = estimate_data(_written(content, tmp), group="study", estimate="yi", **spread)
        except DataError as err:
            return _error(err, tmp)
        return (
            f"accepted: {data.n_groups} study(ies) {_labels(data.groups)}, estimates "
            f"{data.estimate.tolist()}, standard errors {data.std_error.tolist()}"
        )


def _rate_outcome(content: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = rate_data(_written(content, tmp))
        except DataError as err:
            return _error(err, tmp)
        return (
            f"accepted: {data.n_groups} group(s) {_labels(data.groups)}, events {data.events.tolist()}, "
            f"exposure {data.exposure.tolist()}"
        )


def table() -> str:
    """Build the Markdown page."""
    lines = [
        "# What poolwise does with bad or odd input",
        "",
        "Generated by `python docs/make_input_table.py` from the code itself (a test checks it is current).",
        "Each case is a CSV file `data.csv`; the same rules apply to DataFrames and Parquet files. Errors",
        "exit the CLI with status 2. CSV outputs quote cells that start with `=`, `+`, `-` or `@`, so that",
        "a spreadsheet shows them instead of running them; HTML reports escape every user string.",
        "",
        "| input | outcome |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_outcome(content)} |" for name, content in CASES]
    lines += [
        "",
        "## Estimates with standard errors (meta-analysis, normal-normal model)",
        "",
        'Read with `estimate_data(path, group="study", estimate="yi", std_error="sei")`, or',
        '`variance="vi"` when the file has a `vi` column; the reading rules above apply as well.',
        "",
        "| input | outcome |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_estimate_outcome(content)} |" for name, content in ESTIMATE_CASES]
    lines += [
        "",
        "## Event counts with exposure (gamma-Poisson family)",
        "",
        "Read with `rate_data(path)` (columns `group`, `events`, `exposure`; others with the `group=`,",
        "`events=` and `exposure=` arguments); the reading rules above apply as well, and events follow",
        "the rules of a count column.",
        "",
        "| input | outcome |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_rate_outcome(content)} |" for name, content in RATE_CASES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table(), end="")
