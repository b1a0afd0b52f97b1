"""Tests for poolwise.data.rate_data: validating event counts with their exposures."""

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolwise.data import RateData, rate_data
from poolwise.errors import DataError

# The BUGS Pumps example: failures of ten power-plant pumps in thousands of operating hours.
PUMPS = pd.DataFrame(
    {
        "pump": [f"P{i}" for i in range(1, 11)],
        "failures": [5, 1, 5, 14, 3, 19, 1, 1, 4, 22],
        "khours": [94.3, 15.7, 62.9, 126.0, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5],
    }
)
PUMPS_CSV = "pump,failures,khours\n" + "".join(
    f"{g},{y},{e}\n" for g, y, e in zip(PUMPS["pump"], PUMPS["failures"], PUMPS["khours"], strict=True)
)
COLS = {"group": "pump", "events": "failures", "exposure": "khours"}
RANGE_RULE = (
    "exposures must be 0 or from 1e-300 to 1e+300 (so that the exposure and 1/exposure are normal "
    "float64 numbers, with room for a rate prior's arithmetic)"
)


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def table(events: list, exposure: list, groups: list | None = None) -> pd.DataFrame:
    groups = groups if groups is not None else [f"g{i}" for i in range(len(events))]
    return pd.DataFrame({"group": groups, "events": events, "exposure": exposure})


def everything(*parts: str) -> str:
    """A regex that matches a message containing every part, in any order."""
    return "".join(f"(?=.*{re.escape(part)})" for part in parts)


# ---------------------------------------------------------------------------------------------
# Good input
# ---------------------------------------------------------------------------------------------


def test_dataframe_round_trip() -> None:
    data = rate_data(PUMPS, **COLS)
    assert isinstance(data, RateData)
    assert data.n_groups == 10
    assert data.groups.dtype == object and list(data.groups) == PUMPS["pump"].tolist()
    assert data.events.dtype == np.int64 and data.exposure.dtype == np.float64
    assert data.events.tolist() == PUMPS["failures"].tolist()
    assert data.exposure.tolist() == PUMPS["khours"].tolist()
    assert (data.group_column, data.events_column, data.exposure_column, data.source) == (
        "pump",
        "failures",
        "khours",
        None,
    )
    out = data.to_frame()
    assert list(out.columns) == ["pump", "failures", "khours"]
    assert isinstance(out.index, pd.RangeIndex)
    assert rate_data(out, **COLS) == data


def test_default_column_names() -> None:
    data = rate_data(table([0, 3], [1.5, 2]))
    assert (data.group_column, data.events_column, data.exposure_column) == ("group", "events", "exposure")
    assert data.events.tolist() == [0, 3] and data.exposure.tolist() == [1.5, 2.0]


def test_csv_matches_dataframe(tmp_path: Path) -> None:
    path = write(tmp_path, "# BUGS Pumps\n" + PUMPS_CSV)
    from_file = rate_data(path, **COLS)
    assert from_file.source == str(path)
    expected = rate_data(PUMPS, **COLS)
    assert np.array_equal(from_file.groups, expected.groups)
    assert np.array_equal(from_file.events, expected.events)
    assert np.array_equal(from_file.exposure, expected.exposure)
    assert from_file != expected  # the source differs
    assert from_file == rate_data(PUMPS, **COLS, source=str(path))


def test_other_separator(tmp_path: Path) -> None:
    path = write(tmp_path, PUMPS_CSV.replace(",", ";"))
    assert rate_data(path, **COLS, sep=";").events.tolist() == PUMPS["failures"].tolist()


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"pumps{suffix}"
    PUMPS.to_parquet(path)
    data = rate_data(path, **COLS)
    assert data.source == str(path)
    assert data.events.tolist() == PUMPS["failures"].tolist()
    assert data.exposure.tolist() == PUMPS["khours"].tolist()


def test_parquet_with_group_as_index(tmp_path: Path) -> None:
    path = tmp_path / "pumps.parquet"
    PUMPS.set_index("pump").to_parquet(path)
    assert list(rate_data(path, **COLS).groups) == PUMPS["pump"].tolist()


@pytest.mark.parametrize(
    ("value", "expected"), [(" 12 ", 12), ("1e3", 1000), ("3.0", 3), ("+4", 4), ("-0", 0)]
)
def test_event_text_in_any_notation(value: str, expected: int) -> None:
    data = rate_data(table([value], ["1"]).astype("string"))
    assert data.events.tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 12 ", 12.0), ("1e3", 1000.0), ("2.5", 2.5), (".5", 0.5), ("1E-3", 1e-3), ("+7.", 7.0)],
)
def test_exposure_decimal_text(value: str, expected: float) -> None:
    data = rate_data(table(["1"], [value]).astype("string"))
    assert data.exposure.tolist() == [expected]


@pytest.mark.parametrize("value", [2, 2.0, Decimal("2"), np.int8(2), np.float32(2.0), "2"])
def test_object_columns_accept_numbers_of_any_type(value: object) -> None:
    frame = table(pd.Series([value], dtype=object), pd.Series([value], dtype=object))
    data = rate_data(frame)
    assert data.events.tolist() == [2] and data.exposure.tolist() == [2.0]


def test_nullable_integer_and_float_columns() -> None:
    frame = table(pd.array([1, 0], dtype="Int64"), pd.array([0.5, 0.0], dtype="Float64"))
    data = rate_data(frame)
    assert data.events.tolist() == [1, 0] and data.exposure.tolist() == [0.5, 0.0]


def test_integer_exposure_column_becomes_float() -> None:
    data = rate_data(table([1, 2], [10, 20]))
    assert data.exposure.dtype == np.float64 and data.exposure.tolist() == [10.0, 20.0]


def test_zero_exposure_with_zero_events_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "group,events,exposure\nA,0,0\nB,3,2.5\nC,0,0.0\nD,0,-0\n")
    data = rate_data(path)
    assert data.events.tolist() == [0, 3, 0, 0]
    assert data.exposure.tolist() == [0.0, 2.5, 0.0, 0.0]
    assert not np.signbit(data.exposure).any()  # "-0" is stored as 0, not as a negative zero


def test_zero_events_with_positive_exposure_accepted() -> None:
    assert rate_data(table([0, 0], [1.0, 1e-3])).events.tolist() == [0, 0]


def test_extreme_but_representable_exposures_accepted() -> None:
    data = rate_data(table([1, 1, 2**53], [1e-300, 1e300, 1.0]))
    assert data.exposure.tolist() == [1e-300, 1e300, 1.0]
    assert np.all(np.isfinite(1 / data.exposure)) and np.all(data.exposure >= np.finfo(float).tiny)
    assert data.events[-1] == 2**53


def test_labels_kept_verbatim_and_numbers_become_str() -> None:
    data = rate_data(table([1, 1, 1], [1, 1, 1], [" a ", 7, "Zürich ✓"]))
    assert list(data.groups) == [" a ", "7", "Zürich ✓"]
    assert all(type(label) is str for label in data.groups)


def test_other_columns_ignored_and_input_not_modified() -> None:
    frame = PUMPS.assign(note=["x"] * 10)
    before = frame.copy()
    rate_data(frame, **COLS)
    pd.testing.assert_frame_equal(frame, before)


def test_dataframe_index_does_not_matter() -> None:
    frame = PUMPS.set_axis(range(100, 110))
    assert rate_data(frame, **COLS) == rate_data(PUMPS, **COLS)


def test_arrays_are_read_only_and_to_frame_is_independent() -> None:
    data = rate_data(PUMPS, **COLS)
    for array in (data.groups, data.events, data.exposure):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[1]
    out = data.to_frame()
    out.loc[0, "khours"] = -1.0
    assert data.exposure[0] == 94.3


def test_rate_data_is_frozen_unhashable_and_compares_values() -> None:
    data = rate_data(PUMPS, **COLS)
    with pytest.raises(AttributeError):
        data.source = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(data)
    other = rate_data(PUMPS.assign(khours=PUMPS["khours"] * 2), **COLS)
    assert data != other
    assert data != "not data"
    built = RateData(
        groups=data.groups,
        events=data.events,
        exposure=data.exposure,
        group_column="pump",
        events_column="failures",
        exposure_column="khours",
    )
    assert built.source is None and built == data


def test_first_row_offsets_messages() -> None:
    with pytest.raises(DataError, match=r"column 'events', row 12:") as err:
        rate_data(table([1, -1], [1, 1]), first_row=11)
    assert err.value.row == 12


# ---------------------------------------------------------------------------------------------
# Bad input: columns and shape
# ---------------------------------------------------------------------------------------------


def test_missing_column_lists_existing_and_suggests_near_name() -> None:
    with pytest.raises(
        DataError,
        match=everything(
            "'Khours' not found",
            "the table has columns: 'pump', 'failures', 'khours'",
            "Did you mean 'khours' for 'Khours'?",
        ),
    ) as err:
        rate_data(PUMPS, group="pump", events="failures", exposure="Khours")
    assert err.value.column == "Khours" and err.value.file is None
    assert str(err.value).endswith("Choose the columns with the group=, events= and exposure= arguments.")


def test_missing_columns_from_file_name_the_file_and_the_options(tmp_path: Path) -> None:
    path = write(tmp_path, "name,y,E\nA,1,2\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    message = str(err.value)
    assert message.startswith(
        f"{path}: columns 'group', 'events', 'exposure' not found "
        "(looked for group='group', events='events', exposure='exposure')"
    )
    assert "the table has columns: 'name', 'y', 'E'" in message
    assert message.endswith("Choose the columns with the group, events and exposure options.")
    assert err.value.file == str(path)


def test_wrong_delimiter_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "group;events;exposure\nA;1;2\n")
    with pytest.raises(DataError, match=re.escape("read it with sep=';'")):
        rate_data(path)


def test_duplicate_column_name(tmp_path: Path) -> None:
    path = write(tmp_path, "group,events,exposure,events\nA,1,2,3\n")
    with pytest.raises(
        DataError, match=everything("data.csv", "column 'events' appears 2 times", "(positions 2, 4)")
    ):
        rate_data(path)


def test_empty_table() -> None:
    with pytest.raises(DataError, match="no data rows: the table is empty"):
        rate_data(PUMPS.iloc[:0], **COLS)


@pytest.mark.parametrize("text", ["", "group,events,exposure\n"])
def test_file_without_data_rows(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match=everything("data.csv", "no data rows")):
        rate_data(write(tmp_path, text))


def test_source_names_a_dataframe_read_elsewhere() -> None:
    frame = PUMPS.assign(failures=[5, None, 5, 14, 3, 19, 1, 1, 4, 22])
    with pytest.raises(DataError, match=r"^pumps\.csv: column 'failures', row 2") as err:
        rate_data(frame, **COLS, source="pumps.csv")
    assert err.value.file == "pumps.csv"


# ---------------------------------------------------------------------------------------------
# Bad input: values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["", "NA", "nan", "None", "null", "N/A", "  "])
@pytest.mark.parametrize("column", ["events", "exposure"])
def test_missing_number_text(tmp_path: Path, missing: str, column: str) -> None:
    row = {"events": f"b,{missing},2", "exposure": f"b,1,{missing}"}[column]
    path = write(tmp_path, f"group,events,exposure\na,1,2\n{row}\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    assert str(err.value) == (
        f"{path}: column '{column}', row 2: value {missing!r} is missing; every row needs a value in each "
        "of the columns 'group', 'events', 'exposure'"
    )
    assert (err.value.file, err.value.column, err.value.row, err.value.value) == (
        str(path),
        column,
        2,
        missing,
    )


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
@pytest.mark.parametrize("column", ["group", "events", "exposure"])
def test_missing_value_objects(missing: object, column: str) -> None:
    frame = table([1, 1], [2, 2]).astype(object)
    frame.loc[1, column] = missing
    with pytest.raises(DataError, match=everything(f"column '{column}', row 2", "is missing")):
        rate_data(frame)


def test_nan_in_a_float_exposure_column_is_missing() -> None:
    with pytest.raises(DataError, match=everything("column 'exposure', row 2", "value nan is missing")):
        rate_data(table([1, 1], [2.0, np.nan]))


def test_blank_label_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, 'group,events,exposure\na,1,2\n" ",1,2\n')
    with pytest.raises(DataError, match=everything("data.csv", "column 'group', row 2", "is missing")):
        rate_data(path)


def test_many_missing_values_listed_with_count(tmp_path: Path) -> None:
    lines = [f"g{i},1,{'' if i % 2 else 5}" for i in range(20)]
    path = write(tmp_path, "group,events,exposure\n" + "\n".join(lines) + "\n")
    with pytest.raises(
        DataError,
        match=everything(
            "data.csv", "column 'exposure' has 10 missing values", "the first 5", "row 2:", "row 10:"
        ),
    ) as err:
        rate_data(path)
    assert "row 12:" not in str(err.value)
    assert err.value.row == 2


def test_duplicate_labels_name_label_and_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "group,events,exposure\nA,1,2\nB,1,2\nA,3,4\nC,0,0\nB,1,1\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    assert str(err.value) == (
        f"{path}: column 'group': label 'A' appears 2 times (rows 1, 3); label 'B' appears 2 times "
        "(rows 2, 5); group labels must be unique, one row per group (add up the rows of a group first "
        "if they are parts of it)"
    )
    assert (err.value.column, err.value.row, err.value.value) == ("group", 1, "A")


def test_duplicate_labels_after_str_conversion() -> None:
    with pytest.raises(DataError, match=re.escape("label '1' appears 2 times (rows 1, 2)")):
        rate_data(table([1, 1], [2, 2], [1, "1"]))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-2", "is negative"),
        ("2.5", "is not a whole number"),
        ("abc", "is not a number"),
        ("1,000", "is not a number (remove the thousands separators)"),
        ("inf", "is infinite"),
        ("9007199254740993", "is above 2**53, the largest count a float64 holds exactly"),
    ],
)
def test_bad_event_text_message_exactly(tmp_path: Path, value: str, reason: str) -> None:
    path = write(tmp_path, f'group,events,exposure\na,1,2\nb,1,2\nc,"{value}",3\n')
    with pytest.raises(DataError) as err:
        rate_data(path)
    rule = "events must be whole numbers >= 0"
    if "2**53" in reason:
        rule += " and <= 2**53 = 9007199254740992"
    assert str(err.value) == f"{path}: column 'events', row 3: value '{value}' {reason}; {rule}"
    assert (err.value.file, err.value.column, err.value.row, err.value.value) == (
        str(path),
        "events",
        3,
        value,
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "is negative"),
        (3.5, "is not a whole number"),
        (np.inf, "is infinite"),
        (2**53 + 1, "above 2**53"),
    ],
)
def test_bad_event_numbers(value: object, reason: str) -> None:
    with pytest.raises(DataError, match=everything("column 'events', row 1", reason)):
        rate_data(table(pd.Series([value], dtype=object), [1.0]))


@pytest.mark.parametrize(
    "column",
    [[True, False], pd.array([True, False], dtype="boolean"), np.array([True, False], dtype=object)],
)
def test_boolean_events_rejected(column: object) -> None:
    with pytest.raises(
        DataError, match=everything("column 'events' has 2 invalid values", "row 1: value True is a boolean")
    ):
        rate_data(table(column, [2.0, 2.0]))


@pytest.mark.parametrize(
    "column",
    [[True, False], pd.array([True, False], dtype="boolean"), np.array([True, False], dtype=object)],
)
def test_boolean_exposure_rejected(column: object) -> None:
    with pytest.raises(
        DataError,
        match=everything("column 'exposure' has 2 invalid values", "row 1: value True is a boolean", ">= 0"),
    ):
        rate_data(table([0, 0], column))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "is not a number"),
        ("1,5", "is not a number (use '.' for decimals and no thousands separators)"),
        ("1_000", "is not a number"),
        ("inf", "is infinite"),
        ("-Infinity", "is infinite"),
        ("1e999", "is too large for a float64"),
    ],
)
def test_bad_exposure_text_message_exactly(tmp_path: Path, value: str, reason: str) -> None:
    path = write(tmp_path, f'group,events,exposure\na,1,2\nb,1,"{value}"\n')
    with pytest.raises(DataError) as err:
        rate_data(path)
    assert str(err.value) == (
        f"{path}: column 'exposure', row 2: value '{value}' {reason}; exposures must be finite numbers >= 0"
    )
    assert (err.value.file, err.value.column, err.value.row, err.value.value) == (
        str(path),
        "exposure",
        2,
        value,
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [(np.inf, "is infinite"), (10**400, "is too large for a float64"), (1 + 2j, "not a number")],
)
def test_bad_exposure_objects(value: object, reason: str) -> None:
    with pytest.raises(DataError, match=everything("column 'exposure', row 1", reason)):
        rate_data(table([1], pd.Series([value], dtype=object)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1", "is negative"),
        ("-1e-310", "is negative"),
        ("1e-301", "is below 1e-300"),
        ("4.9e-324", "is below 1e-300"),
        ("1e301", "is above 1e+300"),
        ("1.7e308", "is above 1e+300"),
    ],
)
def test_exposure_out_of_range_message_exactly(tmp_path: Path, text: str, reason: str) -> None:
    path = write(tmp_path, f"group,events,exposure\na,1,2\nb,0,{text}\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    assert str(err.value) == f"{path}: column 'exposure', row 2: value '{text}' {reason}; {RANGE_RULE}"
    assert (err.value.file, err.value.column, err.value.row, err.value.value) == (
        str(path),
        "exposure",
        2,
        text,
    )


def test_negative_exposure_numeric() -> None:
    with pytest.raises(
        DataError, match=everything("column 'exposure', row 2", "value -0.5 is negative", "must be 0 or")
    ):
        rate_data(table([0, 0], [1.0, -0.5]))


def test_events_in_zero_exposure_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "group,events,exposure\na,0,0\nb,3,0.0\nc,1,2\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    assert str(err.value) == (
        f"{path}: column 'events', row 2: value 3 is greater than 0 but exposure is 0 (column 'exposure'); "
        "events > 0 need exposure > 0"
    )
    assert (err.value.file, err.value.column, err.value.row, err.value.value) == (str(path), "events", 2, 3)


def test_events_in_zero_exposure_uses_the_users_column_names() -> None:
    frame = PUMPS.assign(khours=[0.0] + PUMPS["khours"].tolist()[1:])
    with pytest.raises(
        DataError,
        match=everything(
            "column 'failures', row 1: value 5", "exposure is 0 (column 'khours')", "need exposure > 0"
        ),
    ):
        rate_data(frame, **COLS)


def test_several_bad_rows_first_five_and_total(tmp_path: Path) -> None:
    lines = ["a,1,2", "b,1,-1", "c,1,x", "d,1,2", "e,1,inf", "f,1,-3", "g,1,y", "h,1,-4", "i,1,z"]
    lines += ['j,1,"1,5"', "k,1,w"]
    path = write(tmp_path, "group,events,exposure\n" + "\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        rate_data(path)
    message = str(err.value)
    assert message == (
        f"{path}: column 'exposure' has 6 invalid values (the first 5: row 3: value 'x' is not a number; "
        "row 5: value 'inf' is infinite; row 7: value 'y' is not a number; "
        "row 9: value 'z' is not a number; row 10: value '1,5' is not a number (use '.' for decimals and "
        "no thousands separators)); exposures must be finite numbers >= 0"
    )
    # Negative exposures break a later rule (the range): they are not listed with the unreadable ones.
    assert "row 2" not in message and "row 6" not in message and "row 11" not in message
    assert (err.value.row, err.value.value) == (3, "x")


def test_more_than_five_bad_rows_shows_the_first_five_and_the_total() -> None:
    frame = table([0] * 8, [-1.0] * 7 + [1.0])
    with pytest.raises(DataError) as err:
        rate_data(frame)
    message = str(err.value)
    assert message.startswith(
        "column 'exposure' has 7 values out of range (the first 5: row 1: value -1.0 is negative; row 2:"
    )
    assert "row 5: value -1.0 is negative" in message and "row 6" not in message
    assert message.endswith(RANGE_RULE)
    assert (err.value.column, err.value.row, err.value.value) == ("exposure", 1, -1.0)


def test_many_rows_with_events_in_zero_exposure() -> None:
    frame = table([2] * 7 + [0], [0.0] * 8)
    with pytest.raises(DataError) as err:
        rate_data(frame)
    message = str(err.value)
    assert message.startswith(
        "column 'events' has 7 rows with events but exposure 0 (the first 5: row 1: value 2 is greater "
        "than 0 but exposure is 0 (column 'exposure'); row 2:"
    )
    assert "row 6" not in message and message.endswith("; events > 0 need exposure > 0")


def test_rules_are_checked_in_order() -> None:
    # Missing beats duplicate beats bad count beats bad exposure beats range beats zero exposure.
    frame = table(["x", 1, 5], [0.0, -1.0, None], ["a", "a", "b"])
    with pytest.raises(DataError, match="column 'exposure', row 3: value nan is missing"):
        rate_data(frame)
    frame = table(["x", 1, 5], [0.0, -1.0, "y"], ["a", "a", "b"])
    with pytest.raises(DataError, match="label 'a' appears 2 times"):
        rate_data(frame)
    frame = table(["x", 1, 5], [0.0, -1.0, "y"], ["a", "b", "c"])
    with pytest.raises(DataError, match="column 'events', row 1: value 'x' is not a number"):
        rate_data(frame)
    frame = table([0, 1, 5], [0.0, -1.0, "y"], ["a", "b", "c"])
    with pytest.raises(DataError, match="column 'exposure', row 3: value 'y' is not a number"):
        rate_data(frame)
    frame = table([5, 1, 5], [0.0, -1.0, 1.0], ["a", "b", "c"])
    with pytest.raises(DataError, match="column 'exposure', row 2: value -1.0 is negative"):
        rate_data(frame)
    frame = table([5, 1, 5], [0.0, 1.0, 1.0], ["a", "b", "c"])
    with pytest.raises(
        DataError, match="column 'events', row 1: value 5 is greater than 0 but exposure is 0"
    ):
        rate_data(frame)


# ---------------------------------------------------------------------------------------------
# Bad arguments (programming errors, not data errors)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["group", "events", "exposure"])
def test_non_string_column_name(argument: str) -> None:
    with pytest.raises(TypeError, match=f"{argument} must be a column name \\(str\\); got 2"):
        rate_data(PUMPS, **{argument: 2})  # type: ignore[arg-type]


def test_same_column_twice() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "group, events and exposure must name three different columns; got group='pump', "
            "events='khours', exposure='khours'"
        ),
    ):
        rate_data(PUMPS, group="pump", events="khours", exposure="khours")


def test_bad_data_type() -> None:
    with pytest.raises(TypeError, match="data must be a pandas DataFrame or the path"):
        rate_data({"group": ["a"]})  # type: ignore[arg-type]


def test_sep_with_dataframe() -> None:
    with pytest.raises(ValueError, match="only applies when data is a file path"):
        rate_data(PUMPS, **COLS, sep=";")


def test_source_with_a_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="source= only applies when data is a DataFrame"):
        rate_data(write(tmp_path, PUMPS_CSV), **COLS, source="other.csv")


# ---------------------------------------------------------------------------------------------
# Robustness: random tables either validate, keeping every row and every invariant, or raise
# DataError naming one of the columns.  Seeded, so failures reproduce.
# ---------------------------------------------------------------------------------------------

CELLS = [
    "0",
    "1",
    "3",
    "-1",
    "2.5",
    "3.0",
    "",
    " ",
    "NA",
    "inf",
    "1e3",
    " 4 ",
    "abc",
    "-0",
    "1e-301",
    "1e400",
]


@pytest.mark.parametrize("seed", range(50))
def test_random_tables_only_raise_data_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    frame = pd.DataFrame(
        {
            "group": rng.choice(["a", "b", "c", "d", "e", ""], size=n),
            "events": rng.choice(CELLS, size=n),
            "exposure": rng.choice(CELLS, size=n),
        }
    ).astype("string")
    try:
        data = rate_data(frame)
    except DataError as error:
        assert error.column in {"group", "events", "exposure"}
        return
    assert data.n_groups == n
    assert np.all(data.events >= 0)
    positive = data.exposure > 0
    assert np.all(positive | (data.exposure == 0)) and np.all(data.events[~positive] == 0)
    assert np.all(np.isfinite(1 / data.exposure[positive]))
