"""Read and validate tables of groups.

This module is the boundary between a user's data and poolwise: everything a model sees has passed
through :func:`binomial_data` (counts), :func:`estimate_data` (estimates with standard errors) or
:func:`rate_data` (event counts with exposure), which check the table once and report every problem as a
:class:`DataError` that names the file, the column, the 1-based data row and the offending value.
Nothing is dropped, coerced or reordered silently: the validated table has exactly the input's rows,
in the input's order.

Only NumPy and pandas are used here (plus the standard library).
"""

import codecs
import csv
import difflib
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Final

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "BinomialData",
    "EstimateData",
    "RateData",
    "binomial_data",
    "estimate_data",
    "rate_data",
    "read_table",
]

# Counts are used as float64 downstream (log-gamma, Beta parameters); above 2**53 float64 can no
# longer represent every whole number, so a larger count would be changed without anyone noticing.
_MAX_COUNT: Final = 2**53
# How many bad rows (and duplicated labels) one message shows before "and N more".
_SHOWN: Final = 5
# How many rows of one duplicated label are listed; a label repeated 10,000 times must not produce
# a 10,000-number message.
_SHOWN_DUPLICATE_ROWS: Final = 10
_PARQUET_SUFFIXES: Final = (".parquet", ".pq")

# Text that spreadsheets, R and pandas write for "no value".  Only used for the count columns: a
# group may legitimately be called "NA" (Namibia, sodium), so labels are kept verbatim.
_MISSING_TEXT: Final = frozenset({"", "na", "nan", "none", "null", "n/a", "<na>"})
_INFINITE_TEXT: Final = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
# Plain whole numbers that cannot exceed 2**53 (at most 15 digits): the common case, parsed in bulk.
_PLAIN_INTEGER: Final = r"[ \t]*\+?[0-9]{1,15}[ \t]*"
# Decimal notation, ASCII digits only: Python's int() and numpy would also accept "1_000" and
# non-ASCII digits, which a CSV count column should not contain.
_NUMBER: Final = re.compile(
    r"(?P<sign>[+-]?)(?:(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?|\.(?P<frac2>[0-9]+))"
    r"(?:[eE](?P<exp>[+-]?[0-9]+))?",
    re.ASCII,
)
_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
# Decimal numbers in a text column that float() reads exactly as written (the fast path of _reals).
_PLAIN_DECIMAL: Final = r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
# Allowed standard errors and variances: the variance s**2 and the weight 1/s**2 must both be
# normal float64 numbers, or the weights of a meta-analysis overflow or lose all precision.
_TINY: Final = float(np.finfo(np.float64).tiny)
#: Largest magnitude of an estimate: squared differences of two such estimates stay finite.
ESTIMATE_LIMIT: Final = 1e150

_SPREAD_RANGE: Final = {
    "variance": (_TINY, 1 / _TINY),
    "std_error": (float(np.sqrt(_TINY)), float(np.sqrt(1 / _TINY))),
}
# Allowed exposures besides 0: a rate prior's arithmetic (beta + E, E * lambda, log E) needs E and
# 1/E to be normal float64 numbers, with room to spare (a factor of about 1e8 inside the float64
# limits) for the rates and prior parameters they are added to or multiplied by.
_EXPOSURE_RANGE: Final = (1e-300, 1e300)


class _GroupTable:
    """What the validated tables share: one row per group, read-only arrays, equality by value."""

    def _columns(self) -> dict[str, np.ndarray]:
        """Return the user's column names and the arrays they hold, in order."""
        raise NotImplementedError

    @property
    def n_groups(self) -> int:
        """Number of groups (rows)."""
        return len(self.groups)

    def to_frame(self) -> pd.DataFrame:
        """Return the table as a new DataFrame.

        Returns
        -------
        pandas.DataFrame
            The columns under the user's names (for estimates, the standard errors or variances,
            whichever the input gave), rows in input order, with a fresh ``RangeIndex``.  The frame
            owns its data; changing it does not change this object.
        """
        return pd.DataFrame({name: values.copy() for name, values in self._columns().items()})

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            np.array_equal(mine, theirs) if isinstance(mine, np.ndarray) else mine == theirs
            for mine, theirs in ((getattr(self, f.name), getattr(other, f.name)) for f in fields(self))
        )

    # Equal objects must hash equally, and arrays are mutable in principle: not hashable.
    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)  # eq=False: the generated __eq__ cannot compare arrays
class BinomialData(_GroupTable):
    """A validated table of binomial counts, one row per group.

    Build it with :func:`binomial_data`, which guarantees the invariants below; the arrays are
    read-only.

    Parameters
    ----------
    groups : numpy.ndarray
        Object array of ``str`` group labels: unique, non-blank, in input order.
    successes : numpy.ndarray
        int64 array, ``0 <= successes <= trials``.
    trials : numpy.ndarray
        int64 array, ``0 <= trials <= 2**53``.
    group_column, successes_column, trials_column : str
        The column names as the user gave them, so that outputs can use the user's names.
    source : str or None
        The file the table was read from, or None for a DataFrame.
    """

    groups: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    group_column: str
    successes_column: str
    trials_column: str
    source: str | None

    def _columns(self) -> dict[str, np.ndarray]:
        return {
            self.group_column: self.groups,
            self.successes_column: self.successes,
            self.trials_column: self.trials,
        }


@dataclass(frozen=True, eq=False)  # eq=False: the generated __eq__ cannot compare arrays
class EstimateData(_GroupTable):
    """A validated table of estimates and their standard errors, one row per study (group).

    Build it with :func:`estimate_data`, which guarantees the invariants below; the arrays are
    read-only.

    Parameters
    ----------
    groups : numpy.ndarray
        Object array of ``str`` labels: unique, non-blank, in input order.  Without a group column
        they are ``"study 1"``, ``"study 2"``, ... (numbered by data row).
    estimate : numpy.ndarray
        float64 array of finite estimates ``y_i``.
    std_error : numpy.ndarray
        float64 array of standard errors ``s_i``, finite and > 0; ``sqrt(variance)`` when the table
        gave variances.
    variance : numpy.ndarray
        float64 array of sampling variances ``s_i**2``, a positive normal float64 (so that the
        weights ``1/s_i**2`` are finite); exactly the table's values when it gave variances.
    group_column, estimate_column, spread_column : str
        The column names as the user gave them (``group_column`` is ``"study"`` when there was
        none), so that outputs can use the user's names.
    spread : {"std_error", "variance"}
        Which of the two the table's `spread_column` holds.
    source : str or None
        The file the table was read from, or None.
    """

    groups: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    variance: np.ndarray
    group_column: str
    estimate_column: str
    spread_column: str
    spread: str
    source: str | None

    def _columns(self) -> dict[str, np.ndarray]:
        # The standard errors or the variances, whichever the input gave.
        spread = self.std_error if self.spread == "std_error" else self.variance
        return {
            self.group_column: self.groups,
            self.estimate_column: self.estimate,
            self.spread_column: spread,
        }


@dataclass(frozen=True, eq=False)  # eq=False: the generated __eq__ cannot compare arrays
class RateData(_GroupTable):
    """A validated table of event counts with their exposures, one row per group.

    The input of the gamma-Poisson family, ``y_i ~ Poisson(E_i * lambda_i)``.  Build it with
    :func:`rate_data`, which guarantees the invariants below; the arrays are read-only.

    Parameters
    ----------
    groups : numpy.ndarray
        Object array of ``str`` group labels: unique, non-blank, in input order.
    events : numpy.ndarray
        int64 array of event counts ``y_i``, ``0 <= events <= 2**53``.
    exposure : numpy.ndarray
        float64 array of exposures ``E_i`` (operating hours, person-years): 0, or from 1e-300 to
        1e300; 0 only in rows with 0 events.
    group_column, events_column, exposure_column : str
        The column names as the user gave them, so that outputs can use the user's names.
    source : str or None, optional
        The file the table was read from, or None.
    """

    groups: np.ndarray
    events: np.ndarray
    exposure: np.ndarray
    group_column: str
    events_column: str
    exposure_column: str
    source: str | None = None

    def _columns(self) -> dict[str, np.ndarray]:
        return {
            self.group_column: self.groups,
            self.events_column: self.events,
            self.exposure_column: self.exposure,
        }


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def read_table(path: str | os.PathLike, *, sep: str | None = None) -> pd.DataFrame:
    r"""Read a CSV or Parquet file into a DataFrame, without interpreting its values.

    Parameters
    ----------
    path : str or os.PathLike
        ``.parquet`` and ``.pq`` files (case-insensitive) are read with
        :func:`pandas.read_parquet`; anything else is read as CSV.
    sep : str or None, optional
        CSV field separator, one character (default ``","``).  The two-character text ``\t``
        (as typed on a command line) means a tab.  Ignored for Parquet.

    Returns
    -------
    pandas.DataFrame
        For CSV, every column holds the text exactly as written (``str``); nothing is converted to
        numbers or to missing values, so that :func:`binomial_data`, not pandas, decides what is a
        valid count.  The header row gives the column names verbatim (duplicates are kept).  For
        Parquet, the stored types are kept; a named index is turned back into columns.

    Raises
    ------
    DataError
        If the file does not exist or cannot be read, is not UTF-8, has no data rows, or cannot be
        parsed.  The message starts with the file name.
    ValueError
        If `sep` is not a single character.

    Notes
    -----
    CSV files are decoded as UTF-8, with or without a byte-order mark.  Leading lines that start
    with ``#`` are comments and are skipped (as are blank lines before the header); a ``#`` later
    in the file is data, so a group called ``Team #1`` is kept.
    """
    name = os.fsdecode(os.fspath(path))
    if name.lower().endswith(_PARQUET_SUFFIXES):
        return _read_parquet(name)
    return _read_csv(name, _check_sep(sep))


def _check_sep(sep: str | None) -> str:
    if sep is None:
        return ","
    if sep == "\\t":  # what a shell passes for --sep '\t'
        return "\t"
    if not isinstance(sep, str) or len(sep) != 1 or sep in '\r\n"':
        # Longer separators would switch pandas to its regex-based parser, where '|' or '.' mean
        # something else; one character covers ',', ';', tab and '|'.
        raise ValueError(f"sep must be a single character such as ',', ';', '|' or '\\t' (tab); got {sep!r}")
    return sep


def _read_parquet(name: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(name)
    except FileNotFoundError as exc:
        raise DataError(f"{name}: file not found", file=name) from exc
    except ImportError:
        # A missing Parquet engine is an installation problem, not bad data.
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many unrelated types for bad files
        # pyarrow's messages can span lines ("...\nDeserializing page header failed."); the
        # command line shows one line per error.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{name}: cannot read as Parquet: {reason}", file=name) from exc
    if not isinstance(frame.index, pd.RangeIndex) and any(level is not None for level in frame.index.names):
        # A frame saved with set_index("group") comes back with the labels in the index; they are
        # data, so put them back among the columns where binomial_data looks for them.
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(f"{name}: no data rows (the Parquet file has 0 rows)", file=name)
    return frame


def _read_csv(name: str, sep: str) -> pd.DataFrame:
    raw = _read_bytes(name)
    text = _decode_utf8(raw, name)
    body, skipped = _skip_leading_comments(text)
    if not body.strip():
        what = "the file is empty" if not text.strip() else "the file has only comment lines"
        raise DataError(f"{name}: no data rows ({what})", file=name)
    try:
        # header=None: the header is taken by hand below, so that pandas neither renames duplicate
        # names ('a', 'a.1') nor turns a surplus first column into the index.  dtype=str and no NA
        # detection: every cell stays the text that was written.
        table = pd.read_csv(
            io.StringIO(body),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name}: no data rows (the file is empty)", file=name) from exc
    except (ValueError, csv.Error) as exc:  # pandas.errors.ParserError is a ValueError
        # pandas counts lines from the start of what it was given; add the skipped comment lines
        # so that the number matches what the user sees in an editor.
        detail = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + skipped}", str(exc).strip())
        raise DataError(f"{name}: cannot parse as CSV with sep={sep!r}: {detail}", file=name) from exc
    if len(table) <= 1:
        raise DataError(f"{name}: no data rows (only a header line)", file=name)
    header = [str(cell) for cell in table.iloc[0]]
    frame = table.iloc[1:].reset_index(drop=True)
    frame.columns = pd.Index(header, dtype=object)
    return frame


def _read_bytes(name: str) -> bytes:
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise DataError(f"{name}: file not found", file=name) from exc
    except IsADirectoryError as exc:
        raise DataError(f"{name}: is a directory, not a file", file=name) from exc
    except OSError as exc:
        raise DataError(f"{name}: cannot read file: {exc.strerror or exc}", file=name) from exc


def _decode_utf8(raw: bytes, name: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(
            f"{name}: the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')",
            file=name,
            row=None,
            value=raw[:2],
        )
    # Strip the BOM by hand rather than decoding with 'utf-8-sig', whose error offsets do not
    # count the BOM's three bytes.
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = raw.count(b"\n", 0, offset) + 1
        bad = raw[offset : offset + 1]
        raise DataError(
            f"{name}: not valid UTF-8: byte {bad!r} at byte offset {offset} (line {line}); "
            "save the file as UTF-8 (with or without BOM)",
            file=name,
            value=bad,
        ) from exc


def _skip_leading_comments(text: str) -> tuple[str, int]:
    """Drop leading '#' lines and blank lines; return the rest and the number of lines dropped."""
    # pandas' comment='#' would also cut "Team #1" down to "Team ", so only leading lines go.
    position = 0
    skipped = 0
    while position < len(text):
        match = _LINE.match(text, position)
        line = match.group(0)
        if not (line.startswith("#") or not line.strip()):
            break
        position = match.end()
        skipped += 1
    return text[position:], skipped


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def binomial_data(
    data: pd.DataFrame | str | os.PathLike,
    *,
    group: str = "group",
    successes: str = "successes",
    trials: str = "trials",
    sep: str | None = None,
    first_row: int = 1,
) -> BinomialData:
    """Validate a table of binomial counts, one row per group.

    Parameters
    ----------
    data : pandas.DataFrame or str or os.PathLike
        A DataFrame, or the path of a CSV or Parquet file (read with :func:`read_table`).
        Columns may hold numbers (int, float, nullable ``Int64``) or text; the same rules apply.
        Other columns are ignored.
    group, successes, trials : str, optional
        Names of the columns holding the group label, the number of successes and the number of
        trials.
    sep : str or None, optional
        CSV field separator when `data` is a path; see :func:`read_table`.
    first_row : int, optional
        Number of the table's first row in messages, when it is a chunk of a larger table.

    Returns
    -------
    BinomialData
        One entry per input row, in input order.  Labels are converted to ``str`` (``1`` becomes
        ``"1"``) and otherwise kept verbatim; counts are int64.

    Raises
    ------
    DataError
        If the data break a rule below.  The message names the file (when read from one), the
        column, the 1-based data row (row 1 is the first row after the header, whatever the
        DataFrame's index) and the value; when several rows are bad it shows the first five and
        the total.
    TypeError
        If `data` or a column name has the wrong type.
    ValueError
        If two of `group`, `successes`, `trials` are the same column, or `sep` is given with a
        DataFrame.

    Notes
    -----
    The rules, checked in this order:

    1. the three columns exist (exactly once each) and the table has at least one row;
    2. no value is missing: ``None``, NaN, ``pd.NA``, an empty or all-whitespace cell, or (in the
       count columns) the text ``NA``, ``NaN``, ``None``, ``null`` or ``N/A``;
    3. group labels are unique;
    4. counts are whole numbers from 0 to 2**53: booleans, text that is not a decimal number,
       infinities and fractions are rejected, while ``3``, ``3.0`` and ``"3.0"`` are all 3.
       Surrounding spaces in a count are ignored;
    5. successes do not exceed trials.

    A group with 0 trials is valid.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"vehicle": ["Falcon 1", "Falcon 9"], "y": [2, 301], "n": [5, 304]})
    >>> data = binomial_data(frame, group="vehicle", successes="y", trials="n")
    >>> data.n_groups, list(data.groups), data.trials.tolist()
    (2, ['Falcon 1', 'Falcon 9'], [5, 304])
    """
    columns = {"group": group, "successes": successes, "trials": trials}
    for argument, column in columns.items():
        if not isinstance(column, str):
            raise TypeError(f"{argument} must be a column name (str); got {column!r}")
    if len(set(columns.values())) < 3:
        raise ValueError(
            "group, successes and trials must name three different columns; got "
            f"group={group!r}, successes={successes!r}, trials={trials!r}"
        )

    check, found, source = _read_columns(data, sep, columns, None, first_row)
    group_col, successes_col, trials_col = found["group"], found["successes"], found["trials"]

    labels, label_missing = check.labels(group, group_col)
    succ_values, succ_status = _counts(successes_col)
    trial_values, trial_status = _counts(trials_col)

    check.missing(group, label_missing, group_col)
    check.missing(successes, succ_status == _MISSING, successes_col)
    check.missing(trials, trial_status == _MISSING, trials_col)
    check.unique(group, labels)
    check.counts(successes, "successes", succ_status == _BAD, successes_col)
    check.counts(trials, "trials", trial_status == _BAD, trials_col)
    check.at_most_trials(successes, trials, succ_values, trial_values)

    for array in (labels, succ_values, trial_values):
        array.flags.writeable = False  # the dataclass is frozen; make its contents so too
    return BinomialData(
        groups=labels,
        successes=succ_values,
        trials=trial_values,
        group_column=group,
        successes_column=successes,
        trials_column=trials,
        source=source,
    )


def estimate_data(
    data: pd.DataFrame | str | os.PathLike,
    *,
    group: str | None = None,
    estimate: str,
    std_error: str | None = None,
    variance: str | None = None,
    sep: str | None = None,
    source: str | None = None,
    first_row: int = 1,
) -> EstimateData:
    """Validate a table of estimates with their standard errors (or variances), one row per study.

    The input of a random-effects meta-analysis (:func:`poolwise.meta_analysis`) and of the
    normal-normal model: study ``i`` reports an estimate ``y_i`` with standard error ``s_i``.

    Parameters
    ----------
    data : pandas.DataFrame or str or os.PathLike
        A DataFrame, or the path of a CSV or Parquet file (read with :func:`read_table`).
        Columns may hold numbers or text; the same rules apply.  Other columns are ignored.
    group : str or None, optional
        Column of study labels.  Without one, the studies are labelled ``"study 1"``,
        ``"study 2"``, ... by data row, and the labels' column is called ``"study"``.
    estimate : str
        Column of estimates (e.g. log odds ratios, mean differences).
    std_error, variance : str or None, optional
        Column of standard errors, or column of sampling variances (as metafor's ``vi``): give
        exactly one.
    sep : str or None, optional
        CSV field separator when `data` is a path; see :func:`read_table`.
    source : str or None, optional
        When `data` is a DataFrame read from a file elsewhere, that file's name, for messages.
    first_row : int, optional
        Number of the table's first row in messages (and in default labels), when it is a chunk
        of a larger table.

    Returns
    -------
    EstimateData
        One entry per input row, in input order.

    Raises
    ------
    DataError
        If the data break a rule below.  The message names the file (when known), the column,
        the 1-based data row and the value; when several rows are bad it shows the first five and
        the total.
    TypeError
        If `data` or a column name has the wrong type.
    ValueError
        If both or neither of `std_error` and `variance` are given, two arguments name the same
        column, or `sep` is given with a DataFrame, or `source` with a path.

    Notes
    -----
    The rules, checked in this order:

    1. the columns exist (exactly once each) and the table has at least one row;
    2. no value is missing: ``None``, NaN, ``pd.NA``, an empty or all-whitespace cell, or (in the
       number columns) the text ``NA``, ``NaN``, ``None``, ``null`` or ``N/A``;
    3. labels are unique;
    4. estimates, standard errors and variances are finite decimal numbers (``-0.25``, ``1e-3``);
       booleans, infinities and other text are rejected;
    5. standard errors and variances are > 0, and small or large enough that the variance and
       its inverse (the inverse-variance weight) are normal float64 numbers: variances from
       about 2.2e-308 to 4.5e307, standard errors from about 1.5e-154 to 6.7e153.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"school": ["A", "B"], "y": [28.0, 8.0], "sigma": [15.0, 10.0]})
    >>> data = estimate_data(frame, group="school", estimate="y", std_error="sigma")
    >>> data.n_groups, list(data.groups), data.variance.tolist()
    (2, ['A', 'B'], [225.0, 100.0])
    """
    if (std_error is None) == (variance is None):
        given = "both" if std_error is not None else "neither"
        raise ValueError(
            "give exactly one of std_error= (standard errors) and variance= (sampling variances); "
            f"got {given}"
        )
    spread, spread_column = ("std_error", std_error) if std_error is not None else ("variance", variance)
    columns = {"group": group} if group is not None else {}
    columns |= {"estimate": estimate, spread: spread_column}
    for argument, column in columns.items():
        if not isinstance(column, str):
            raise TypeError(f"{argument} must be a column name (str); got {column!r}")
    if len(set(columns.values())) < len(columns):
        given = ", ".join(f"{arg}={col!r}" for arg, col in columns.items())
        raise ValueError(f"{_and(columns)} must name different columns; got {given}")
    check, found, origin = _read_columns(data, sep, columns, source, first_row)
    group_col, estimate_col, spread_col = found.get("group"), found["estimate"], found[spread]

    if group_col is not None:
        labels, label_missing = check.labels(group, group_col)
        check.missing(group, label_missing, group_col)
    else:
        labels = np.array([f"study {first_row + i}" for i in range(len(estimate_col))], dtype=object)
    y, y_status = _reals(estimate_col)
    values, spread_status = _reals(spread_col)
    check.missing(estimate, y_status == _MISSING, estimate_col)
    check.missing(spread_column, spread_status == _MISSING, spread_col)
    if group_col is not None:
        check.unique(group, labels)
    check.numbers(estimate, "estimates must be finite numbers", y_status == _BAD, estimate_col)
    check.in_range(
        estimate,
        y,
        estimate_col,
        -ESTIMATE_LIMIT,
        ESTIMATE_LIMIT,
        rule=f"estimates must lie within ±{ESTIMATE_LIMIT:.3g}, where the spread between them and its "
        "square are float64 numbers; rescale the column (e.g. to thousands or millions)",
        signed=True,
    )
    what = "standard errors" if spread == "std_error" else "variances"
    check.numbers(spread_column, f"{what} must be finite numbers > 0", spread_status == _BAD, spread_col)
    low, high = _SPREAD_RANGE[spread]
    check.in_range(
        spread_column,
        values,
        spread_col,
        low,
        high,
        rule=f"{what} must be > 0, from {low:.3g} to {high:.3g} (so that the variance and the "
        "weight 1/variance are normal float64 numbers)",
    )

    if spread == "std_error":
        std_errors, variances = values, values**2
    else:
        std_errors, variances = np.sqrt(values), values
    for array in (labels, y, std_errors, variances):
        array.flags.writeable = False
    return EstimateData(
        groups=labels,
        estimate=y,
        std_error=std_errors,
        variance=variances,
        group_column=group if group is not None else _default_group_column(estimate, spread_column),
        estimate_column=estimate,
        spread_column=spread_column,
        spread=spread,
        source=origin,
    )


def rate_data(
    data: pd.DataFrame | str | os.PathLike,
    *,
    group: str = "group",
    events: str = "events",
    exposure: str = "exposure",
    sep: str | None = None,
    source: str | None = None,
    first_row: int = 1,
) -> RateData:
    """Validate a table of event counts with their exposures, one row per group.

    The input of the gamma-Poisson family: group ``i`` had ``y_i`` events in an exposure ``E_i``
    (operating hours, person-years), ``y_i ~ Poisson(E_i * lambda_i)``.

    Parameters
    ----------
    data : pandas.DataFrame or str or os.PathLike
        A DataFrame, or the path of a CSV or Parquet file (read with :func:`read_table`).
        Columns may hold numbers or text; the same rules apply.  Other columns are ignored.
    group, events, exposure : str, optional
        Names of the columns holding the group label, the number of events and the exposure.
    sep : str or None, optional
        CSV field separator when `data` is a path; see :func:`read_table`.
    source : str or None, optional
        When `data` is a DataFrame read from a file elsewhere, that file's name, for messages.
    first_row : int, optional
        Number of the table's first row in messages, when it is a chunk of a larger table.

    Returns
    -------
    RateData
        One entry per input row, in input order.  Labels are converted to ``str`` and otherwise
        kept verbatim; events are int64, exposures float64.

    Raises
    ------
    DataError
        If the data break a rule below.  The message names the file (when known), the column,
        the 1-based data row and the value; when several rows are bad it shows the first five and
        the total.
    TypeError
        If `data` or a column name has the wrong type.
    ValueError
        If two of `group`, `events`, `exposure` are the same column, or `sep` is given with a
        DataFrame, or `source` with a path.

    Notes
    -----
    The rules, checked in this order:

    1. the three columns exist (exactly once each) and the table has at least one row;
    2. no value is missing: ``None``, NaN, ``pd.NA``, an empty or all-whitespace cell, or (in the
       number columns) the text ``NA``, ``NaN``, ``None``, ``null`` or ``N/A``;
    3. group labels are unique;
    4. events are whole numbers from 0 to 2**53, exactly as a binomial count: booleans, text that
       is not a decimal number, infinities and fractions are rejected, while ``3``, ``3.0``,
       ``" 3 "`` and ``"3e0"`` are all 3;
    5. exposures are finite decimal numbers (``2.5``, ``1e3``); booleans, infinities and other
       text are rejected;
    6. exposures are 0 or from 1e-300 to 1e300, so that ``E`` and ``1/E`` are normal float64
       numbers with room to spare for a rate prior's arithmetic (``beta + E``, ``E * lambda``);
       negative exposures are rejected;
    7. a row with exposure 0 has 0 events (events > 0 need exposure > 0).

    A group with 0 events, or with 0 events in exposure 0, is valid.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"pump": ["P1", "P2"], "failures": [5, 1], "khours": [94.3, 15.7]})
    >>> data = rate_data(frame, group="pump", events="failures", exposure="khours")
    >>> data.n_groups, list(data.groups), data.events.tolist(), data.exposure.tolist()
    (2, ['P1', 'P2'], [5, 1], [94.3, 15.7])
    """
    columns = {"group": group, "events": events, "exposure": exposure}
    for argument, column in columns.items():
        if not isinstance(column, str):
            raise TypeError(f"{argument} must be a column name (str); got {column!r}")
    if len(set(columns.values())) < len(columns):
        given = ", ".join(f"{arg}={col!r}" for arg, col in columns.items())
        raise ValueError(f"{_and(columns)} must name three different columns; got {given}")
    check, found, origin = _read_columns(data, sep, columns, source, first_row)
    group_col, events_col, exposure_col = found["group"], found["events"], found["exposure"]

    labels, label_missing = check.labels(group, group_col)
    event_values, event_status = _counts(events_col)
    exposure_values, exposure_status = _reals(exposure_col)

    check.missing(group, label_missing, group_col)
    check.missing(events, event_status == _MISSING, events_col)
    check.missing(exposure, exposure_status == _MISSING, exposure_col)
    check.unique(group, labels)
    check.counts(events, "events", event_status == _BAD, events_col)
    check.numbers(exposure, "exposures must be finite numbers >= 0", exposure_status == _BAD, exposure_col)
    low, high = _EXPOSURE_RANGE
    check.in_range(
        exposure,
        exposure_values,
        exposure_col,
        low,
        high,
        allow_zero=True,
        rule=f"exposures must be 0 or from {low:.3g} to {high:.3g} (so that the exposure and "
        "1/exposure are normal float64 numbers, with room for a rate prior's arithmetic)",
    )
    exposure_values += 0.0  # "-0" is 0: no negative zero downstream
    check.events_need_exposure(events, exposure, event_values, exposure_values)

    for array in (labels, event_values, exposure_values):
        array.flags.writeable = False
    return RateData(
        groups=labels,
        events=event_values,
        exposure=exposure_values,
        group_column=group,
        events_column=events,
        exposure_column=exposure,
        source=origin,
    )


def _read_columns(
    data, sep: str | None, columns: dict[str, str], source: str | None, first_row: int
) -> tuple["_Checker", dict[str, pd.Series], str | None]:
    """Read the table and find its columns: the opening every validator shares.

    Returns the checker (whose errors name the file, or ``source`` for a DataFrame read elsewhere),
    the columns by role, and that file's name.
    """
    if source is not None and not isinstance(data, pd.DataFrame):
        raise ValueError("source= only applies when data is a DataFrame; a file names itself")
    frame, read_from = _frame(data, sep)
    origin = read_from or source
    check = _Checker(origin, columns, first_row)
    found = {role: check.column(frame, name) for role, name in columns.items()}
    check.found_all(frame)
    check.not_empty(frame)
    return check, found, origin


def _default_group_column(*taken: str) -> str:
    # "study" unless the user's own columns already use the name (to_frame needs distinct names).
    return next(name for name in ("study", "study_label", "row") if name not in taken)


def _frame(data: pd.DataFrame | str | os.PathLike, sep: str | None) -> tuple[pd.DataFrame, str | None]:
    """Return the table and the file it came from (None for a DataFrame)."""
    if isinstance(data, pd.DataFrame):
        if sep is not None:
            raise ValueError(f"sep={sep!r} only applies when data is a file path, not a DataFrame")
        return data, None
    if isinstance(data, (str, os.PathLike)):
        return read_table(data, sep=sep), os.fsdecode(os.fspath(data))
    raise TypeError(
        f"data must be a pandas DataFrame or the path of a CSV or Parquet file; got {type(data).__name__}"
    )


class _Checker:
    """Build and raise the DataError messages for one table."""

    def __init__(self, source: str | None, columns: dict[str, str], first_row: int = 1) -> None:
        self.source = source
        self.first_row = first_row
        self.prefix = f"{source}: " if source else ""
        self.columns = columns
        self.not_found: list[str] = []

    def column(self, frame: pd.DataFrame, name: str) -> pd.Series:
        # Compare labels one by one: `name in frame.columns` is True for a partial MultiIndex key
        # and frame[name] returns a DataFrame for a duplicated name.
        positions = [i for i, label in enumerate(frame.columns) if _same_label(label, name)]
        if len(positions) > 1:
            raise DataError(
                f"{self.prefix}column {name!r} appears {len(positions)} times in the table "
                f"(positions {_join(p + 1 for p in positions)}); column names must be unique",
                file=self.source,
                column=name,
            )
        if not positions:
            self.not_found.append(name)
            return pd.Series(dtype=object)
        return frame.iloc[:, positions[0]]

    def found_all(self, frame: pd.DataFrame) -> None:
        if not self.not_found:
            return
        existing = [str(label) for label in frame.columns]
        shown = _join(repr(label) for label in list(frame.columns)[:20])
        if len(existing) > 20:
            shown += f", ... ({len(existing)} columns in all)"
        what = "column" if len(self.not_found) == 1 else "columns"
        looked_for = ", ".join(f"{arg}={col!r}" for arg, col in self.columns.items())
        message = (
            f"{self.prefix}{what} {_join(repr(c) for c in self.not_found)} not found "
            f"(looked for {looked_for}); the table has columns: {shown or '(none)'}"
        )
        hints = [_delimiter_hint(existing, from_file=self.source is not None)]
        index_names = [level for level in frame.index.names if level is not None]
        for name in self.not_found:
            hints.append(_name_hint(name, existing))
            if name in index_names:
                hints.append(f"{name!r} is the DataFrame's index: call .reset_index() first.")
        arguments = list(self.columns)
        hints.append(
            f"Choose the columns with the {_and(f'{arg}=' for arg in arguments)} arguments."
            if self.source is None
            else f"Choose the columns with the {_and(arguments)} options."
        )
        message += ". " + " ".join(hint for hint in hints if hint)
        raise DataError(message, file=self.source, column=self.not_found[0])

    def not_empty(self, frame: pd.DataFrame) -> None:
        if len(frame) == 0:
            raise DataError(
                f"{self.prefix}no data rows: the table is empty; need at least one group",
                file=self.source,
            )

    def missing(self, column: str, mask: np.ndarray, raw: pd.Series) -> None:
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return
        needed = _join(repr(c) for c in self.columns.values())
        self._raise_rows(
            column,
            rows,
            raw,
            ["is missing"] * min(rows.size, _SHOWN),
            noun="missing values",
            rule=f"every row needs a value in each of the columns {needed}",
        )

    def labels(self, column: str, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Read a label column (see :func:`_labels`), refusing bytes that are not UTF-8."""
        labels, missing, undecodable = _labels(raw)
        rows = np.flatnonzero(undecodable)
        if rows.size:
            reasons = ["is raw bytes that are not valid UTF-8"] * min(rows.size, _SHOWN)
            self._raise_rows(
                column, rows, raw, reasons, noun="undecodable labels", rule="byte labels must be UTF-8 text"
            )
        return labels, missing

    def unique(self, column: str, labels: np.ndarray) -> None:
        # An object Index hashes Python str faster than a Series, which would convert to Arrow.
        duplicated = pd.Index(labels, dtype=object).duplicated(keep=False)
        if not duplicated.any():
            return
        rows = pd.Series(np.flatnonzero(duplicated) + self.first_row, index=labels[duplicated])
        # sort=False: report labels in order of first appearance.
        by_label = list(rows.groupby(level=0, sort=False))
        parts = []
        for label, group_rows in by_label[:_SHOWN]:
            numbers = group_rows.tolist()
            listed = _join(str(r) for r in numbers[:_SHOWN_DUPLICATE_ROWS])
            if len(numbers) > _SHOWN_DUPLICATE_ROWS:
                listed += f", ... ({len(numbers)} rows in all)"
            parts.append(f"label {_show(label)} appears {len(numbers)} times (rows {listed})")
        detail = "; ".join(parts)
        if len(by_label) > _SHOWN:
            detail += f"; and {len(by_label) - _SHOWN} more duplicated labels"
        first_label, first_rows = by_label[0]
        raise DataError(
            f"{self.prefix}column {column!r}: {detail}; group labels must be unique, one row per "
            "group (add up the rows of a group first if they are parts of it)",
            file=self.source,
            column=column,
            row=int(first_rows.iloc[0]),
            value=first_label,
        )

    def counts(self, column: str, role: str, bad: np.ndarray, raw: pd.Series) -> None:
        rows = np.flatnonzero(bad)
        if rows.size == 0:
            return
        # Explain only the rows that are shown; detection was vectorised where possible.
        reasons = [str(_parse_count(raw.iloc[i])[1]) for i in rows[:_SHOWN]]
        rule = f"{role} must be whole numbers >= 0"
        if any("2**53" in reason for reason in reasons):
            rule += f" and <= 2**53 = {_MAX_COUNT}"
        self._raise_rows(column, rows, raw, reasons, noun="invalid values", rule=rule)

    def numbers(self, column: str, rule: str, bad: np.ndarray, raw: pd.Series) -> None:
        rows = np.flatnonzero(bad)
        if rows.size == 0:
            return
        reasons = [str(_parse_real(raw.iloc[i])[1]) for i in rows[:_SHOWN]]
        self._raise_rows(column, rows, raw, reasons, noun="invalid values", rule=rule)

    def in_range(
        self,
        column: str,
        values: np.ndarray,
        raw: pd.Series,
        low: float,
        high: float,
        *,
        rule: str,
        allow_zero: bool = False,
        signed: bool = False,
    ) -> None:
        """Refuse values outside ``[low, high]`` (``signed``: magnitudes above ``high``)."""
        if signed:
            rows = np.flatnonzero(np.abs(values) > high)
            reasons = [f"is beyond ±{high:.3g}" for _ in rows[:_SHOWN]]
            if rows.size:
                self._raise_rows(column, rows, raw, reasons, noun="values out of range", rule=rule)
            return
        outside = (values < low) | (values > high)
        if allow_zero:
            outside &= values != 0
        rows = np.flatnonzero(outside)
        if rows.size == 0:
            return
        reasons = [
            "is zero"
            if values[i] == 0
            else "is negative"
            if values[i] < 0
            else f"is below {low:.3g}"
            if values[i] < low
            else f"is above {high:.3g}"
            for i in rows[:_SHOWN]
        ]
        self._raise_rows(column, rows, raw, reasons, noun="values out of range", rule=rule)

    def at_most_trials(self, successes: str, trials: str, succ: np.ndarray, tri: np.ndarray) -> None:
        rows = np.flatnonzero(succ > tri)
        if rows.size == 0:
            return
        reasons = [f"is greater than trials {tri[i]} (column {trials!r})" for i in rows[:_SHOWN]]
        self._raise_rows(
            successes,
            rows,
            pd.Series(succ),
            reasons,
            noun="rows with successes greater than trials",
            rule="successes must be between 0 and trials",
        )

    def events_need_exposure(self, events: str, exposure: str, ev: np.ndarray, ex: np.ndarray) -> None:
        rows = np.flatnonzero((ev > 0) & (ex == 0))
        if rows.size == 0:
            return
        reasons = [
            f"is greater than 0 but exposure is {ex[i]:g} (column {exposure!r})" for i in rows[:_SHOWN]
        ]
        self._raise_rows(
            events,
            rows,
            pd.Series(ev),
            reasons,
            noun="rows with events but exposure 0",
            rule="events > 0 need exposure > 0",
        )

    def _raise_rows(
        self,
        column: str,
        rows: np.ndarray,
        raw: pd.Series,
        reasons: Sequence[str],
        *,
        noun: str,
        rule: str,
    ) -> None:
        shown = [
            f"row {i + self.first_row}: value {_show(raw.iloc[i])} {reason}"
            for i, reason in zip(rows[:_SHOWN], reasons, strict=True)
        ]
        if rows.size == 1:
            message = f"{self.prefix}column {column!r}, {shown[0]}; {rule}"
        else:
            lead = f"the first {_SHOWN}: " if rows.size > _SHOWN else ""
            message = (
                f"{self.prefix}column {column!r} has {rows.size} {noun} ({lead}{'; '.join(shown)}); {rule}"
            )
        first = int(rows[0])
        raise DataError(
            message,
            file=self.source,
            column=column,
            row=first + self.first_row,
            value=_plain(raw.iloc[first]),
        )


def _same_label(label: object, name: str) -> bool:
    return isinstance(label, str) and label == name


def _delimiter_hint(existing: list[str], *, from_file: bool) -> str:
    # A ';'- or tab-separated file read with ',' gives one column whose name is the whole header.
    if len(existing) != 1:
        return ""
    for sep, shown, what in ((";", ";", "';'-separated"), ("\t", "\\t", "tab-separated")):
        if sep in existing[0]:
            how = (
                f"read it with sep='{shown}' (command line: --sep '{shown}')"
                if from_file
                else f"read the file with pandas.read_csv(..., sep='{shown}')"
            )
            return f"The header looks {what}: {how}."
    return ""


def _name_hint(name: str, existing: list[str]) -> str:
    key = name.strip().casefold()
    close = [c for c in existing if c.strip().casefold() == key]
    if not close:
        close = difflib.get_close_matches(name, existing, n=1, cutoff=0.8)
    return f"Did you mean {close[0]!r} for {name!r}?" if close else ""


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(item) for item in items)


def _and(items: Iterable[object]) -> str:
    """Join words as ``"a, b and c"``."""
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _plain(value: object) -> object:
    """NumPy scalar to the Python equivalent, so messages show 3.5, not np.float64(3.5)."""
    return value.item() if isinstance(value, np.generic) else value


def _show(value: object) -> str:
    value = _plain(value)
    if value is pd.NA:
        return "<NA>"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:60]) + "..."  # a stray paragraph must not swamp the message
    return repr(value)


# ---------------------------------------------------------------------------------------------
# Labels and counts
# ---------------------------------------------------------------------------------------------


def _labels(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the labels as an object array of str, the mask of missing labels and of undecodable ones.

    Bytes (a Parquet ``binary`` column) are decoded as UTF-8, so that ``b"A"`` is the group ``A``,
    not ``"b'A'"``; bytes that are not UTF-8 are flagged in the third array.
    """
    missing = column.isna().to_numpy(dtype=bool, copy=True)  # written to below
    undecodable = np.zeros(len(column), dtype=bool)
    values = column.to_numpy(dtype=object)
    if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(column.dtype):
        # Text columns (every CSV column) already hold str: only blanks need finding, and pandas
        # does that in bulk.
        blank = (column.str.len() == 0) | column.str.isspace()
        missing |= blank.fillna(False).to_numpy(dtype=bool)
        values[missing] = ""
        return values, missing, undecodable
    labels = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if missing[i]:
            labels[i] = ""
            continue
        if isinstance(value, bytes | bytearray | memoryview):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                undecodable[i] = True
                labels[i] = ""
                continue
        text = value if isinstance(value, str) else str(_plain(value))
        labels[i] = str(text)  # str(): a str subclass (np.str_) becomes a plain str
        if not text or text.isspace():
            missing[i] = True
    return labels, missing, undecodable


# Status of each count: parsed, missing, or present but not a valid count.
_OK: Final = 0
_MISSING: Final = 1
_BAD: Final = 2


def _counts(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a count column.

    Returns
    -------
    values : numpy.ndarray
        int64; 0 where the status is not OK.
    status : numpy.ndarray
        int8 codes ``_OK``, ``_MISSING`` or ``_BAD`` per row.
    """
    n = len(column)
    dtype = column.dtype
    values = np.zeros(n, dtype=np.int64)
    status = np.full(n, _OK, dtype=np.int8)
    missing = column.isna().to_numpy(dtype=bool, copy=True)  # written to below

    if pd.api.types.is_bool_dtype(dtype):
        status[:] = _BAD  # True/False are not counts, even though numpy calls them 1 and 0
        status[missing] = _MISSING
        return values, status
    if pd.api.types.is_integer_dtype(dtype):
        numbers = column.to_numpy(dtype=_numpy_dtype(dtype), na_value=0)
        bad = (numbers < 0) | (numbers > _MAX_COUNT)
        status[bad] = _BAD
        status[missing] = _MISSING
        values[status == _OK] = numbers[status == _OK]
        return values, status
    if pd.api.types.is_float_dtype(dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing |= np.isnan(numbers)
        with np.errstate(invalid="ignore"):
            bad = (
                ~np.isfinite(numbers)
                | (numbers != np.floor(numbers))
                | (numbers < 0)
                | (numbers > _MAX_COUNT)
            )
        status[bad] = _BAD
        status[missing] = _MISSING
        ok = status == _OK
        values[ok] = numbers[ok].astype(np.int64)
        return values, status

    todo = np.ones(n, dtype=bool)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        # Fast path for text columns (every CSV column): plain integers of up to 15 digits are
        # exact in int64 and below 2**53, so pandas can convert them all at once.
        plain = column.str.fullmatch(_PLAIN_INTEGER).fillna(False).to_numpy(dtype=bool)
        if plain.any():
            integers = column[plain].str.strip().astype("int64")
            values[plain] = integers.to_numpy(dtype=np.int64)
            todo = ~plain
    rows = np.flatnonzero(todo)
    for i, value in zip(rows, column.iloc[rows].to_numpy(dtype=object), strict=True):
        # pandas' isna knows more kinds of missing (np.datetime64('NaT'), Decimal('NaN')) than
        # _parse_count does; trust it first.
        state, result = (_MISSING, 0) if missing[i] else _parse_count(value)
        status[i] = state
        if state == _OK:
            values[i] = result
    return values, status


def _numpy_dtype(dtype: object) -> np.dtype:
    # Nullable and Arrow-backed integer dtypes expose the matching NumPy dtype; keep it (not
    # int64) so that uint64 values above 2**63 are compared, not wrapped around.
    return np.dtype(getattr(dtype, "numpy_dtype", dtype))


def _parse_count(value: object) -> tuple[int, int | str]:
    """Parse one count: ``(_OK, number)``, or ``(_MISSING | _BAD, reason)`` with reason text."""
    value = _plain(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return _MISSING, "is missing"
    if isinstance(value, bool):
        return _BAD, "is a boolean (True/False), not a count"
    if isinstance(value, int):
        return _check_range(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return _MISSING, "is missing"
        if value in (float("inf"), float("-inf")):
            return _BAD, "is infinite"
        if not value.is_integer():
            return _BAD, "is not a whole number"
        return _check_range(int(value))
    if isinstance(value, str | Decimal):
        return _parse_count_text(str(value))  # Decimal: exact, so treat it as its text
    return _BAD, f"is not a number (it is a {type(value).__name__})"


def _parse_count_text(value: str) -> tuple[int, int | str]:
    text = value.strip()
    lowered = text.lower()
    if lowered in _MISSING_TEXT:
        return _MISSING, "is missing"
    if lowered in _INFINITE_TEXT:
        return _BAD, "is infinite"
    match = _NUMBER.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", text):
            return _BAD, "is not a number (remove the thousands separators)"
        return _BAD, "is not a number"
    # Work on the digits exactly: float('9007199254740993') would round to 2**53 and slip through,
    # and 10**exponent for '1e999999999' would never finish.
    integer = match.group("int") or ""
    fraction = match.group("frac") or match.group("frac2") or ""
    exponent = int(match.group("exp") or 0) - len(fraction)
    digits = (integer + fraction).lstrip("0")
    if not digits:
        return _OK, 0
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    if exponent < 0:
        return _BAD, "is not a whole number"
    if match.group("sign") == "-":
        return _BAD, "is negative"
    if len(stripped) + exponent > 16:  # at least 10**16 > 2**53
        return _check_range(_MAX_COUNT + 1)
    return _check_range(int(stripped) * 10**exponent)


def _check_range(number: int) -> tuple[int, int | str]:
    if number < 0:
        return _BAD, "is negative"
    if number > _MAX_COUNT:
        return _BAD, "is above 2**53, the largest count a float64 holds exactly"
    return _OK, number


def _reals(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of real numbers: float64 values (0 where not OK) and per-row status codes."""
    n = len(column)
    dtype = column.dtype
    values = np.zeros(n, dtype=np.float64)
    status = np.full(n, _OK, dtype=np.int8)
    missing = column.isna().to_numpy(dtype=bool, copy=True)  # written to below

    if pd.api.types.is_bool_dtype(dtype):
        status[:] = _BAD  # True/False are not measurements, even though numpy calls them 1 and 0
        status[missing] = _MISSING
        return values, status
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing |= np.isnan(numbers)
        status[~np.isfinite(numbers)] = _BAD
        status[missing] = _MISSING
        ok = status == _OK
        values[ok] = numbers[ok]
        return values, status

    todo = np.ones(n, dtype=bool)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        # Fast path for text columns (every CSV column): plain decimals convert all at once.
        plain = column.str.fullmatch(_PLAIN_DECIMAL).fillna(False).to_numpy(dtype=bool)
        if plain.any():
            values[plain] = column[plain].str.strip().astype("float64").to_numpy(dtype=np.float64)
            todo = ~plain | ~np.isfinite(values)  # "1e999" overflows: explain it one by one
            values[todo] = 0.0
    rows = np.flatnonzero(todo)
    for i, value in zip(rows, column.iloc[rows].to_numpy(dtype=object), strict=True):
        state, result = (_MISSING, 0.0) if missing[i] else _parse_real(value)
        status[i] = state
        if state == _OK:
            values[i] = result
    return values, status


def _parse_real(value: object) -> tuple[int, float | str]:
    """Parse one number: ``(_OK, number)``, or ``(_MISSING | _BAD, reason)`` with reason text."""
    value = _plain(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return _MISSING, "is missing"
    if isinstance(value, bool):
        return _BAD, "is a boolean (True/False), not a number"
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int above 1.8e308
            return _BAD, "is too large for a float64"
        if number != number:  # NaN
            return _MISSING, "is missing"
        return (_OK, number) if np.isfinite(number) else (_BAD, "is infinite")
    if not isinstance(value, str | Decimal):
        return _BAD, f"is not a number (it is a {type(value).__name__})"
    text = str(value).strip()  # Decimal: its text, so that Decimal('Infinity') reads as 'infinity'

    lowered = text.lower()
    if lowered in _MISSING_TEXT:
        return _MISSING, "is missing"
    if lowered in _INFINITE_TEXT:
        return _BAD, "is infinite"
    if _NUMBER.fullmatch(text) is None:
        if re.fullmatch(r"[+-]?[0-9][0-9,]*,[0-9]+", text):
            return _BAD, "is not a number (use '.' for decimals and no thousands separators)"
        return _BAD, "is not a number"
    number = float(text)
    if not np.isfinite(number):
        return _BAD, "is too large for a float64"
    return _OK, number
