"""Tests for poolwise.data: reading tables and validating binomial counts."""

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolwise.data import BinomialData, binomial_data, read_table
from poolwise.errors import DataError

SPACEX = pd.DataFrame(
    {
        "group": ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"],
        "successes": [2, 301, 9, 5],
        "trials": [5, 304, 9, 9],
    }
)
SPACEX_CSV = "group,successes,trials\nFalcon 1,2,5\nFalcon 9,301,304\nFalcon Heavy,9,9\nStarship,5,9\n"


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def frame(successes: list, trials: list, groups: list | None = None) -> pd.DataFrame:
    groups = groups if groups is not None else [f"g{i}" for i in range(len(trials))]
    return pd.DataFrame({"group": groups, "successes": successes, "trials": trials})


def everything(*parts: str) -> str:
    """A regex that matches a message containing every part, in any order."""
    return "".join(f"(?=.*{re.escape(part)})" for part in parts)


# ---------------------------------------------------------------------------------------------
# Good input
# ---------------------------------------------------------------------------------------------


def test_dataframe_round_trip() -> None:
    data = binomial_data(SPACEX)
    assert isinstance(data, BinomialData)
    assert data.n_groups == 4
    assert data.groups.dtype == object
    assert list(data.groups) == ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"]
    assert data.successes.dtype == np.int64 and data.trials.dtype == np.int64
    assert data.successes.tolist() == [2, 301, 9, 5]
    assert data.trials.tolist() == [5, 304, 9, 9]
    assert data.source is None
    out = data.to_frame()
    assert list(out.columns) == ["group", "successes", "trials"]
    assert out["group"].tolist() == SPACEX["group"].tolist()
    assert out["successes"].tolist() == SPACEX["successes"].tolist()


def test_csv_matches_dataframe(tmp_path: Path) -> None:
    path = write(tmp_path, SPACEX_CSV)
    from_file = binomial_data(path)
    assert from_file.source == str(path)
    assert np.array_equal(from_file.groups, binomial_data(SPACEX).groups)
    assert np.array_equal(from_file.trials, binomial_data(SPACEX).trials)
    assert from_file == binomial_data(str(path))
    assert from_file != binomial_data(SPACEX)  # different source


def test_user_column_names_are_kept() -> None:
    df = SPACEX.rename(columns={"group": "vehicle", "successes": "y", "trials": "n"})
    data = binomial_data(df, group="vehicle", successes="y", trials="n")
    assert (data.group_column, data.successes_column, data.trials_column) == ("vehicle", "y", "n")
    assert list(data.to_frame().columns) == ["vehicle", "y", "n"]


def test_other_columns_ignored_and_input_not_modified() -> None:
    df = SPACEX.assign(note=["x", None, "z", "w"])
    before = df.copy()
    binomial_data(df)
    pd.testing.assert_frame_equal(df, before)


def test_arrays_are_read_only_and_to_frame_is_independent() -> None:
    data = binomial_data(SPACEX)
    with pytest.raises(ValueError, match="read-only"):
        data.trials[0] = 99
    out = data.to_frame()
    out.loc[0, "trials"] = 99
    assert data.trials[0] == 5


def test_csv_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + SPACEX_CSV.encode())
    data = binomial_data(path)
    assert data.group_column == "group"  # not '\ufeffgroup'
    assert data.n_groups == 4


def test_leading_comments_skipped_but_hash_in_label_kept(tmp_path: Path) -> None:
    text = "# source: somewhere\n#second comment, with a comma\n\ngroup,successes,trials\n"
    text += "Team #1,1,2\n#2,0,1\n"
    data = binomial_data(write(tmp_path, text))
    assert list(data.groups) == ["Team #1", "#2"]  # a '#' line after the header is data
    assert data.trials.tolist() == [2, 1]


def test_crlf_line_endings(tmp_path: Path) -> None:
    data = binomial_data(write(tmp_path, "# c\r\n" + SPACEX_CSV.replace("\n", "\r\n")))
    assert data.trials.tolist() == [5, 304, 9, 9]
    assert data.groups[-1] == "Starship"


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".PARQUET"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    SPACEX.to_parquet(path)
    data = binomial_data(path)
    assert data == BinomialData(
        groups=SPACEX["group"].to_numpy(dtype=object),
        successes=SPACEX["successes"].to_numpy(dtype=np.int64),
        trials=SPACEX["trials"].to_numpy(dtype=np.int64),
        group_column="group",
        successes_column="successes",
        trials_column="trials",
        source=str(path),
    )


def test_parquet_with_group_as_index(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    SPACEX.set_index("group").to_parquet(path)
    assert list(binomial_data(path).groups) == SPACEX["group"].tolist()


@pytest.mark.parametrize("value", [3.0, "3.0", "3", " 3 ", "3.", "+3", "0.3e1", "30e-1", "003"])
def test_whole_numbers_in_any_notation_accepted(value: object) -> None:
    data = binomial_data(frame([1], [value]))
    assert data.trials.tolist() == [3]


def test_float_column_accepted() -> None:
    data = binomial_data(frame([0.0, 2.0], [3.0, 2.0]))
    assert data.successes.tolist() == [0, 2] and data.trials.tolist() == [3, 2]


def test_nullable_integer_columns_accepted() -> None:
    df = frame(pd.array([1, 2], dtype="Int64"), pd.array([3, 4], dtype="UInt32"))
    assert binomial_data(df).trials.tolist() == [3, 4]


def test_zero_trials_valid() -> None:
    data = binomial_data(frame([0, 1], [0, 1]))
    assert data.trials.tolist() == [0, 1]


def test_trials_in_the_trillions() -> None:
    data = binomial_data(frame([10**12 - 1, "999999999999"], [10**12, "1000000000000"]))
    assert data.trials.tolist() == [10**12, 10**12]
    assert data.successes.tolist() == [10**12 - 1, 10**12 - 1]


def test_two_to_the_53_is_the_largest_count() -> None:
    data = binomial_data(frame([0, 0, 0], [2**53, str(2**53), float(2**53)]))
    assert data.trials.tolist() == [2**53] * 3


@pytest.mark.parametrize(
    "label",
    [
        "Zürich",
        "東京",
        "<script>alert('x')</script>",
        "a & b",
        "  padded  ",
        "NA",
        "=1+1",
        "😀",
        "Team #1",
    ],
)
def test_labels_kept_verbatim(tmp_path: Path, label: str) -> None:
    assert binomial_data(frame([1, 1], [2, 2], [label, "other"])).groups[0] == label
    quoted = '"' + label.replace('"', '""') + '"'
    path = write(tmp_path, f"group,successes,trials\n{quoted},1,2\n")
    assert binomial_data(path).groups[0] == label


def test_numeric_labels_become_str() -> None:
    data = binomial_data(frame([1, 1, 1], [2, 2, 2], [1, 2, 30]))
    assert list(data.groups) == ["1", "2", "30"]
    assert all(type(label) is str for label in data.groups)


def test_numeric_looking_labels_from_csv_keep_their_text(tmp_path: Path) -> None:
    data = binomial_data(write(tmp_path, "group,successes,trials\n007,1,2\n1.50,1,2\n"))
    assert list(data.groups) == ["007", "1.50"]


def test_row_order_preserved() -> None:
    labels = ["z", "a", "m", "b", "y"]
    data = binomial_data(frame([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], labels))
    assert list(data.groups) == labels
    assert data.successes.tolist() == [0, 1, 2, 3, 4]


def test_dataframe_index_does_not_matter() -> None:
    df = SPACEX.set_axis([10, 3, 7, 3])  # unsorted, repeated index
    assert binomial_data(df) == binomial_data(SPACEX)


def test_categorical_and_pyarrow_columns() -> None:
    df = SPACEX.assign(
        group=SPACEX["group"].astype("category"),
        trials=SPACEX["trials"].astype("int64[pyarrow]"),
    )
    assert binomial_data(df) == binomial_data(SPACEX)


@pytest.mark.parametrize("sep", [";", "\t", "\\t", "|"])
def test_other_separators(tmp_path: Path, sep: str) -> None:
    real = "\t" if sep == "\\t" else sep
    path = write(tmp_path, SPACEX_CSV.replace(",", real))
    assert binomial_data(path, sep=sep).trials.tolist() == [5, 304, 9, 9]


def test_quoted_fields(tmp_path: Path) -> None:
    path = write(tmp_path, 'group,successes,trials\n"a, b",1,2\n"say ""hi""",1,"3"\n')
    data = binomial_data(path)
    assert list(data.groups) == ["a, b", 'say "hi"']
    assert data.trials.tolist() == [2, 3]


def test_read_table_keeps_text(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,a\n007,NA,\n"))
    assert list(table.columns) == ["a", "b", "a"]  # duplicates not renamed to 'a.1'
    assert table.iloc[0].tolist() == ["007", "NA", ""]


def test_many_groups_fast_path_matches_slow_path() -> None:
    rng = np.random.default_rng(20240611)
    trials = rng.integers(0, 10**9, size=20_000)
    successes = rng.integers(0, trials + 1)
    as_text = frame([str(s) for s in successes], [f" {t}" for t in trials])
    as_text = as_text.astype({"successes": "str", "trials": "str"})
    data = binomial_data(as_text)
    assert np.array_equal(data.trials, trials)
    assert np.array_equal(data.successes, successes)


# The vectorised numeric paths and the per-value text path must agree on every value.
@pytest.mark.parametrize(
    "value",
    [0, 1, 3.0, 3.5, -1, -0.0, 2**53, 2**53 + 2, 1e20, float("inf"), float("-inf"), 1e-300],
)
def test_numeric_and_text_columns_agree(value: float) -> None:
    def outcome(trials: object) -> object:
        try:
            return binomial_data(frame([0], [trials])).trials.tolist()
        except DataError as error:
            return type(error)

    text = repr(value) if isinstance(value, float) else str(value)
    assert outcome(value) == outcome(text) == outcome(np.array([value]).astype(object)[0])


# ---------------------------------------------------------------------------------------------
# Bad input: columns and shape
# ---------------------------------------------------------------------------------------------


def test_missing_column_lists_existing_columns() -> None:
    df = SPACEX.rename(columns={"trials": "n"})
    with pytest.raises(
        DataError,
        match=everything(
            "column 'trials' not found",
            "group='group', successes='successes', trials='trials'",
            "'group', 'successes', 'n'",
        ),
    ) as info:
        binomial_data(df)
    assert info.value.column == "trials" and info.value.row is None


def test_missing_columns_from_file_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\nx,1,2\n")
    with pytest.raises(
        DataError, match=everything("data.csv", "'group', 'successes', 'trials' not found", "'a'")
    ) as info:
        binomial_data(path)
    assert info.value.file == str(path)


def test_missing_column_suggests_near_name() -> None:
    df = SPACEX.rename(columns={"trials": "Trials "})
    with pytest.raises(DataError, match=re.escape("Did you mean 'Trials ' for 'trials'?")):
        binomial_data(df)


def test_missing_column_that_is_the_index() -> None:
    with pytest.raises(DataError, match=re.escape("'group' is the DataFrame's index")):
        binomial_data(SPACEX.set_index("group"))


@pytest.mark.parametrize(("sep", "shown"), [(";", "--sep ';'"), ("\t", "--sep '\\t'")])
def test_wrong_delimiter_hint(tmp_path: Path, sep: str, shown: str) -> None:
    path = write(tmp_path, SPACEX_CSV.replace(",", sep))
    with pytest.raises(DataError, match=everything("data.csv", "not found", shown)):
        binomial_data(path)


def test_duplicate_column_name(tmp_path: Path) -> None:
    path = write(tmp_path, "group,successes,trials,trials\na,1,2,3\n")
    with pytest.raises(DataError, match=everything("data.csv", "'trials' appears 2 times")):
        binomial_data(path)


def test_empty_dataframe() -> None:
    with pytest.raises(DataError, match="no data rows"):
        binomial_data(SPACEX.iloc[:0])


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "group,successes,trials\n", "# only\n# comments\n", "# c\ngroup,successes,trials"],
)
def test_file_without_data_rows(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match=everything("data.csv", "no data rows")) as info:
        binomial_data(write(tmp_path, text))
    assert info.value.file.endswith("data.csv")


def test_empty_parquet(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    SPACEX.iloc[:0].to_parquet(path)
    with pytest.raises(DataError, match=everything("data.parquet", "no data rows")):
        binomial_data(path)


# ---------------------------------------------------------------------------------------------
# Bad input: files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nope.csv", "nope.parquet"])
def test_file_not_found(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match=everything(name, "file not found")) as info:
        binomial_data(tmp_path / name)
    assert info.value.file == str(tmp_path / name)


def test_directory_instead_of_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory"):
        binomial_data(tmp_path)


def test_not_utf8_names_byte_offset(tmp_path: Path) -> None:
    raw = b"group,successes,trials\nZ\xfcrich,1,2\n"  # Latin-1 'ü'
    with pytest.raises(
        DataError, match=everything("data.csv", "not valid UTF-8", "byte offset 24", "line 2")
    ) as info:
        binomial_data(write(tmp_path, raw))
    assert info.value.value == b"\xfc"


def test_not_utf8_offset_counts_the_bom(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbfgroup,successes,trials\n\xff,1,2\n"
    with pytest.raises(DataError, match="byte offset 26"):
        binomial_data(write(tmp_path, raw))


def test_utf16_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=everything("data.csv", "UTF-16")):
        binomial_data(write(tmp_path, SPACEX_CSV.encode("utf-16")))


def test_parse_error_names_file_and_real_line(tmp_path: Path) -> None:
    text = "# comment\ngroup,successes,trials\na,1,2\nb,1,2,3\n"
    with pytest.raises(
        DataError, match=everything("data.csv", "cannot parse", "Expected 3 fields in line 4")
    ):
        binomial_data(write(tmp_path, text))


def test_unclosed_quote(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=everything("data.csv", "cannot parse")):
        binomial_data(write(tmp_path, 'group,successes,trials\n"a,1,2\n'))


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = write(tmp_path, SPACEX_CSV, name="data.parquet")
    with pytest.raises(DataError, match=everything("data.parquet", "cannot read as Parquet")):
        binomial_data(path)


# ---------------------------------------------------------------------------------------------
# Bad input: values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["", "NA", "NaN", "nan", "None", "null", "  "])
@pytest.mark.parametrize("column", ["successes", "trials"])
def test_missing_count_text(tmp_path: Path, missing: str, column: str) -> None:
    rows = {"successes": f"a,{missing},2", "trials": f"a,1,{missing}"}[column]
    path = write(tmp_path, f"group,successes,trials\nb,1,2\n{rows}\n")
    with pytest.raises(
        DataError,
        match=everything("data.csv", f"column '{column}', row 2", repr(missing), "is missing"),
    ) as info:
        binomial_data(path)
    assert (info.value.column, info.value.row, info.value.value) == (column, 2, missing)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
@pytest.mark.parametrize("column", ["group", "successes", "trials"])
def test_missing_value_objects(missing: object, column: str) -> None:
    df = frame([1, 1], [2, 2]).astype(object)
    df.loc[1, column] = missing
    with pytest.raises(DataError, match=everything(f"column '{column}', row 2", "is missing")):
        binomial_data(df)


def test_missing_in_float_and_nullable_columns() -> None:
    with pytest.raises(DataError, match=everything("column 'trials', row 2", "nan is missing")):
        binomial_data(frame([1, 1], [2.0, np.nan]))
    df = frame(pd.array([1, None], dtype="Int64"), [2, 2])
    with pytest.raises(DataError, match=everything("column 'successes', row 2", "<NA>")):
        binomial_data(df)


@pytest.mark.parametrize("label", ["", " ", "\t", "\u3000"])
def test_blank_label_is_missing(tmp_path: Path, label: str) -> None:
    with pytest.raises(DataError, match=everything("column 'group', row 1", "is missing")):
        binomial_data(frame([1, 1], [2, 2], [label, "b"]))
    path = write(tmp_path, f'group,successes,trials\n"{label}",1,2\n')
    with pytest.raises(DataError, match=everything("data.csv", "column 'group', row 1")):
        binomial_data(path)


def test_many_missing_values_listed_with_count(tmp_path: Path) -> None:
    lines = [f"g{i},1,{'' if i % 2 else 5}" for i in range(20)]
    path = write(tmp_path, "group,successes,trials\n" + "\n".join(lines) + "\n")
    with pytest.raises(
        DataError,
        match=everything(
            "data.csv", "column 'trials' has 10 missing values", "the first 5", "row 2:", "row 10:"
        ),
    ) as info:
        binomial_data(path)
    assert "row 12:" not in str(info.value)  # only five are shown
    assert info.value.row == 2


def test_duplicate_labels_name_label_and_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "group,successes,trials\na,1,2\nb,1,2\na,1,2\nc,1,2\na,0,1\nc,1,1\n")
    with pytest.raises(
        DataError,
        match=everything(
            "data.csv",
            "column 'group'",
            "label 'a' appears 3 times (rows 1, 3, 5)",
            "label 'c' appears 2 times (rows 4, 6)",
            "must be unique",
        ),
    ) as info:
        binomial_data(path)
    assert (info.value.row, info.value.value) == (1, "a")


def test_duplicate_labels_after_str_conversion() -> None:
    with pytest.raises(DataError, match=re.escape("label '1' appears 2 times (rows 1, 2)")):
        binomial_data(frame([1, 1], [2, 2], [1, "1"]))


@pytest.mark.parametrize("value", ["abc", "1e", "1,000", "0x10", "1_000", "٣", "3 4", "--3"])
def test_non_numeric_count(tmp_path: Path, value: str) -> None:
    quoted = '"' + value + '"'
    path = write(tmp_path, f"group,successes,trials\na,1,2\nb,1,{quoted}\n")
    with pytest.raises(
        DataError,
        match=everything("data.csv", "column 'trials', row 2", repr(value), "is not a number"),
    ) as info:
        binomial_data(path)
    assert info.value.value == value


@pytest.mark.parametrize("value", ["inf", "-Infinity", float("inf"), np.float32("inf")])
def test_infinite_count(value: object) -> None:
    with pytest.raises(DataError, match=everything("column 'trials', row 1", "is infinite")):
        binomial_data(frame([1], [value]))


def test_nan_count_from_float_column() -> None:
    with pytest.raises(DataError, match=everything("column 'successes', row 1", "nan")):
        binomial_data(frame([float("nan")], [3]))


@pytest.mark.parametrize("value", [3.5, "3.5", "3.0000000000000001", Decimal("2.5"), 1e-300])
def test_non_integer_count(value: object) -> None:
    with pytest.raises(DataError, match=everything("column 'trials', row 1", "is not a whole number")):
        binomial_data(frame([0], [value]))


def test_non_integer_count_from_file(tmp_path: Path) -> None:
    path = write(tmp_path, "group,successes,trials\na,1,2\nb,1,2\nc,1.5,3\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "data.csv: column 'successes', row 3: value '1.5' is not a whole number; "
            "successes must be whole numbers >= 0"
        ),
    ):
        binomial_data(path)


def test_negative_count_message_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, "group,successes,trials\na,1,2\nb,1,2\nc,0,-2\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "data.csv: column 'trials', row 3: value '-2' is negative; trials must be whole numbers >= 0"
        ),
    ) as info:
        binomial_data(path)
    assert (info.value.column, info.value.row, info.value.value) == ("trials", 3, "-2")


@pytest.mark.parametrize("value", [-1, -1.0, pd.array([-1], dtype="Int64")[0]])
def test_negative_count_numeric(value: object) -> None:
    with pytest.raises(DataError, match=everything("column 'successes', row 1", "is negative")):
        binomial_data(frame([value], [3]))


def test_successes_above_trials_names_both_values(tmp_path: Path) -> None:
    path = write(tmp_path, "group,successes,trials\na,1,2\nb,7,5\n")
    with pytest.raises(
        DataError,
        match=everything("data.csv", "column 'successes', row 2", "value 7", "trials 5", "column 'trials'"),
    ) as info:
        binomial_data(path)
    assert (info.value.row, info.value.value) == (2, 7)


@pytest.mark.parametrize(
    "value", [2**53 + 1, "9007199254740993", 1e20, "1e20", "1e999999999", np.uint64(2**64 - 1)]
)
def test_count_above_2_to_the_53(value: object) -> None:
    with pytest.raises(
        DataError, match=everything("column 'trials', row 1", "above 2**53", "9007199254740992")
    ):
        binomial_data(frame([0], [value]))


def test_uint64_column_above_2_to_the_53() -> None:
    df = frame([0, 0], np.array([1, 2**64 - 1], dtype=np.uint64))
    with pytest.raises(DataError, match=everything("row 2", "18446744073709551615")):
        binomial_data(df)


@pytest.mark.parametrize(
    "column",
    [
        [True, False],
        pd.array([True, False], dtype="boolean"),
        np.array([True, False], dtype=object),
    ],
)
def test_boolean_counts_rejected(column: object) -> None:
    with pytest.raises(DataError, match=everything("column 'successes'", "row 1", "True")):
        binomial_data(frame(column, [2, 2]))


def test_several_bad_rows_first_five_and_total(tmp_path: Path) -> None:
    lines = ["a,1,2", "b,1,-1", "c,1,x", "d,1,2", "e,1,2.5", "f,1,-3", "g,1,y", "h,1,-4", "i,1,z"]
    path = write(tmp_path, "group,successes,trials\n" + "\n".join(lines) + "\n")
    with pytest.raises(
        DataError,
        match=everything(
            "data.csv",
            "column 'trials' has 7 invalid values",
            "the first 5",
            "row 2: value '-1' is negative",
            "row 3: value 'x' is not a number",
            "row 5: value '2.5' is not a whole number",
            "row 7: value 'y'",
        ),
    ) as info:
        binomial_data(path)
    assert "row 8" not in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        1 + 2j,
        [1],
        {"n": 1},
        b"3",
        pd.Timestamp("2020-01-01"),
        np.datetime64("NaT", "ns"),
        object(),
        Decimal("NaN"),
    ],
)
def test_odd_objects_raise_data_error_only(value: object) -> None:
    df = frame([0, 0], [1, 1]).astype(object)
    df.at[1, "trials"] = value
    with pytest.raises(DataError, match="column 'trials', row 2"):
        binomial_data(df)


def test_datetime_column_rejected() -> None:
    df = frame([0], [pd.Timestamp("2020-01-01")])
    with pytest.raises(DataError, match=everything("column 'trials', row 1", "not a number")):
        binomial_data(df)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(DataError, match=r"'x{60}'\.\.\.") as info:
        binomial_data(frame([0], ["x" * 10_000]))
    assert len(str(info.value)) < 500


# ---------------------------------------------------------------------------------------------
# Bad arguments (programming errors, not data errors)
# ---------------------------------------------------------------------------------------------


def test_bad_data_type() -> None:
    with pytest.raises(TypeError, match="DataFrame or the path"):
        binomial_data({"group": ["a"]})  # type: ignore[arg-type]


def test_same_column_twice() -> None:
    with pytest.raises(ValueError, match="three different columns"):
        binomial_data(SPACEX, successes="trials")


def test_non_string_column_name() -> None:
    with pytest.raises(TypeError, match="trials must be a column name"):
        binomial_data(SPACEX, trials=2)  # type: ignore[arg-type]


def test_sep_with_dataframe() -> None:
    with pytest.raises(ValueError, match="only applies when data is a file path"):
        binomial_data(SPACEX, sep=";")


@pytest.mark.parametrize("sep", ["", ";;", "\n", 1])
def test_bad_sep(tmp_path: Path, sep: object) -> None:
    with pytest.raises(ValueError, match="sep must be a single character"):
        read_table(write(tmp_path, SPACEX_CSV), sep=sep)  # type: ignore[arg-type]


def test_data_error_is_value_error_with_attributes() -> None:
    error = DataError("x.csv: bad", file="x.csv", column="trials", row=3, value="-2")
    assert isinstance(error, ValueError)
    assert str(error) == "x.csv: bad"
    assert (error.file, error.column, error.row, error.value) == ("x.csv", "trials", 3, "-2")


def test_binomial_data_is_frozen_and_unhashable() -> None:
    data = binomial_data(SPACEX)
    with pytest.raises(AttributeError):
        data.source = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(data)


def test_many_duplicated_labels_are_summarised() -> None:
    labels = [f"g{i % 7}" for i in range(7 * 12)]  # 7 labels, 12 rows each
    with pytest.raises(
        DataError,
        match=everything(
            "label 'g0' appears 12 times (rows 1, 8, 15",
            "(12 rows in all)",
            "and 2 more duplicated labels",
        ),
    ) as info:
        binomial_data(frame([0] * len(labels), [1] * len(labels), labels))
    assert "g5" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Robustness: random tables built from awkward cells either validate, keeping every row, or
# raise DataError; nothing else escapes.  Seeded, so failures reproduce.
# ---------------------------------------------------------------------------------------------

CELLS = ["1", "2", "0", "-1", "3.5", "3.0", "", " ", "NA", "nan", "inf", "1e", "1e3", "abc"]
CELLS += ['"a,b"', "#", "=1+1", "9007199254740993", "\u00e9", "True", '"', "x;y", "\t"]


@pytest.mark.parametrize("seed", range(200))
def test_random_tables_only_raise_data_error(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows = int(rng.integers(1, 6))
    lines = ["group,successes,trials"]
    for row in range(n_rows):
        width = 3 if rng.random() < 0.8 else int(rng.integers(1, 5))
        cells = [str(rng.choice(CELLS)) for _ in range(width)]
        if rng.random() < 0.7:
            cells[0] = f"g{row}"
        lines.append(",".join(cells))
    path = write(tmp_path, "\n".join(lines) + "\n")
    try:
        data = binomial_data(path)
    except DataError as error:
        assert str(error).startswith(str(path))
    else:
        assert data.n_groups == len(read_table(path))
        assert np.all(data.successes <= data.trials)


OBJECTS = [None, np.nan, pd.NA, 0, 1, 5, -1, 2.5, 3.0, True, "3", " 4 ", "x", "", b"x", 1 + 2j]
OBJECTS += [Decimal("1"), [1], np.int8(3), np.uint64(2**63), np.float32(2.0), pd.Timestamp(0)]


@pytest.mark.parametrize("seed", range(100))
def test_random_object_frames_only_raise_data_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows = int(rng.integers(1, 5))
    columns = {
        name: [OBJECTS[int(i)] for i in rng.integers(0, len(OBJECTS), n_rows)]
        for name in ["group", "successes", "trials"]
    }
    df = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    try:
        data = binomial_data(df)
    except DataError as error:
        assert error.column in {"group", "successes", "trials"}
    else:
        assert data.n_groups == n_rows
