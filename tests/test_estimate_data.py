"""Tests for poolwise.data.estimate_data: validating estimates with standard errors or variances."""

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolwise.data import EstimateData, estimate_data
from poolwise.errors import DataError

# BDA3 Table 5.2, the rounded eight schools.
SCHOOLS = pd.DataFrame(
    {
        "school": list("ABCDEFGH"),
        "y": [28, 8, -3, 7, -1, 1, 18, 12],
        "sigma": [15, 10, 16, 11, 9, 11, 10, 18],
    }
)
SCHOOLS_CSV = "school,y,sigma\n" + "".join(
    f"{g},{y},{s}\n" for g, y, s in zip(SCHOOLS["school"], SCHOOLS["y"], SCHOOLS["sigma"], strict=True)
)
COLS = {"group": "school", "estimate": "y", "std_error": "sigma"}


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def everything(*parts: str) -> str:
    """A regex that matches a message containing every part, in any order."""
    return "".join(f"(?=.*{re.escape(part)})" for part in parts)


# ---------------------------------------------------------------------------------------------
# Good input
# ---------------------------------------------------------------------------------------------


def test_dataframe_round_trip() -> None:
    data = estimate_data(SCHOOLS, **COLS)
    assert isinstance(data, EstimateData)
    assert data.n_groups == 8
    assert list(data.groups) == list("ABCDEFGH")
    assert data.estimate.dtype == np.float64 and data.std_error.dtype == np.float64
    assert data.estimate.tolist() == SCHOOLS["y"].tolist()
    assert data.std_error.tolist() == SCHOOLS["sigma"].tolist()
    assert data.variance.tolist() == (SCHOOLS["sigma"] ** 2).tolist()
    assert (data.group_column, data.estimate_column, data.spread_column, data.spread) == (
        "school",
        "y",
        "sigma",
        "std_error",
    )
    out = data.to_frame()
    assert list(out.columns) == ["school", "y", "sigma"]
    assert estimate_data(out, **COLS) == data


def test_csv_matches_dataframe(tmp_path: Path) -> None:
    path = write(tmp_path, "# BDA3 Table 5.2\n" + SCHOOLS_CSV)
    from_file = estimate_data(path, **COLS)
    assert from_file.source == str(path)
    assert np.array_equal(from_file.estimate, estimate_data(SCHOOLS, **COLS).estimate)


def test_variance_column_kept_exactly_and_std_error_is_its_root() -> None:
    frame = pd.DataFrame({"yi": [-0.8893, -1.5854], "vi": [0.3256, 0.1946]})
    data = estimate_data(frame, estimate="yi", variance="vi")
    assert data.spread == "variance"
    assert data.variance.tolist() == [0.3256, 0.1946]  # exactly as given, not sqrt then squared
    assert data.std_error.tolist() == [np.sqrt(0.3256), np.sqrt(0.1946)]
    assert list(data.to_frame().columns) == ["study", "yi", "vi"]
    assert data.to_frame()["vi"].tolist() == [0.3256, 0.1946]


def test_without_group_column_studies_are_numbered_by_row() -> None:
    frame = SCHOOLS[["y", "sigma"]]
    data = estimate_data(frame, estimate="y", std_error="sigma")
    assert list(data.groups) == [f"study {i}" for i in range(1, 9)]
    assert data.group_column == "study"
    # In a chunk of a larger table the numbers continue from first_row.
    chunk = estimate_data(frame.iloc[4:], estimate="y", std_error="sigma", first_row=5)
    assert list(chunk.groups) == [f"study {i}" for i in range(5, 9)]


def test_default_label_column_does_not_clash_with_the_users_columns() -> None:
    frame = pd.DataFrame({"study": [0.1, 0.2], "se": [1.0, 2.0]})
    data = estimate_data(frame, estimate="study", std_error="se")
    assert data.group_column != "study"
    assert list(data.to_frame().columns) == [data.group_column, "study", "se"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("-0.25", -0.25), (" 1e-3 ", 1e-3), ("+2.", 2.0), (".5", 0.5), ("3", 3.0), ("1E2", 100.0)],
)
def test_decimal_text_accepted(value: str, expected: float) -> None:
    frame = pd.DataFrame({"y": [value], "se": ["1"]}, dtype="string")
    assert estimate_data(frame, estimate="y", std_error="se").estimate.tolist() == [expected]


@pytest.mark.parametrize("value", [0.5, 1, Decimal("0.5"), np.float32(0.5), "0.5"])
def test_object_columns_accept_numbers_of_any_type(value: object) -> None:
    frame = pd.DataFrame({"y": pd.Series([value], dtype=object), "se": pd.Series([value], dtype=object)})
    data = estimate_data(frame, estimate="y", std_error="se")
    assert data.estimate.tolist() == [float(value)]


def test_nullable_and_integer_columns() -> None:
    frame = pd.DataFrame({"y": pd.array([1, -2], dtype="Int64"), "v": pd.array([0.5, 2.0], dtype="Float64")})
    data = estimate_data(frame, estimate="y", variance="v")
    assert data.estimate.tolist() == [1.0, -2.0] and data.variance.tolist() == [0.5, 2.0]


def test_extreme_but_representable_spreads_accepted() -> None:
    frame = pd.DataFrame({"y": [0.0, 1.0], "se": [1e-150, 1e150]})
    data = estimate_data(frame, estimate="y", std_error="se")
    assert np.all(np.isfinite(1 / data.variance)) and np.all(data.variance > 0)


def test_arrays_are_read_only() -> None:
    data = estimate_data(SCHOOLS, **COLS)
    for array in (data.groups, data.estimate, data.std_error, data.variance):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[1]


def test_data_frame_not_modified() -> None:
    frame = SCHOOLS.copy()
    estimate_data(frame, **COLS)
    pd.testing.assert_frame_equal(frame, SCHOOLS)


# ---------------------------------------------------------------------------------------------
# Bad input: columns and shape
# ---------------------------------------------------------------------------------------------


def test_missing_column_lists_existing_and_suggests_near_name() -> None:
    with pytest.raises(DataError, match=everything("'Sigma' not found", "'sigma'", "Did you mean")) as err:
        estimate_data(SCHOOLS, group="school", estimate="y", std_error="Sigma")
    assert err.value.column == "Sigma"
    assert str(err.value).endswith("Choose the columns with the group=, estimate= and std_error= arguments.")


def test_missing_columns_from_file_name_the_file_and_the_options(tmp_path: Path) -> None:
    path = write(tmp_path, "name,est,se\nA,1,2\n")
    with pytest.raises(DataError) as err:
        estimate_data(path, group="study", estimate="yi", variance="vi")
    message = str(err.value)
    assert message.startswith(f"{path}: columns 'study', 'yi', 'vi' not found")
    assert "the table has columns: 'name', 'est', 'se'" in message
    assert message.endswith("Choose the columns with the group, estimate and variance options.")
    assert err.value.file == str(path)


def test_source_names_a_dataframe_read_elsewhere() -> None:
    with pytest.raises(DataError, match=r"^schools\.csv: column 'y', row 2"):
        estimate_data(SCHOOLS.assign(y=[1, None, 3, 4, 5, 6, 7, 8]), **COLS, source="schools.csv")


def test_empty_table() -> None:
    with pytest.raises(DataError, match="no data rows: the table is empty"):
        estimate_data(SCHOOLS.iloc[:0], **COLS)


def test_both_or_neither_spread() -> None:
    with pytest.raises(ValueError, match="exactly one of std_error= .* and variance= .*got both"):
        estimate_data(SCHOOLS, estimate="y", std_error="sigma", variance="sigma")
    with pytest.raises(ValueError, match="got neither"):
        estimate_data(SCHOOLS, estimate="y")


def test_same_column_twice() -> None:
    with pytest.raises(ValueError, match="must name different columns"):
        estimate_data(SCHOOLS, group="y", estimate="y", std_error="sigma")


def test_column_name_not_str_and_bad_data_type() -> None:
    with pytest.raises(TypeError, match="estimate must be a column name"):
        estimate_data(SCHOOLS, estimate=1, std_error="sigma")
    with pytest.raises(TypeError, match="data must be a pandas DataFrame"):
        estimate_data([1, 2], estimate="y", std_error="sigma")


def test_source_with_a_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="source= only applies"):
        estimate_data(write(tmp_path, SCHOOLS_CSV), **COLS, source="other.csv")


# ---------------------------------------------------------------------------------------------
# Bad input: values
# ---------------------------------------------------------------------------------------------


def test_duplicate_labels_name_label_and_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "school,y,sigma\nA,1,2\nB,1,2\nA,3,4\n")
    with pytest.raises(DataError) as err:
        estimate_data(path, **COLS)
    assert str(err.value) == (
        f"{path}: column 'school': label 'A' appears 2 times (rows 1, 3); group labels must be unique, "
        "one row per group (add up the rows of a group first if they are parts of it)"
    )
    assert (err.value.column, err.value.row, err.value.value) == ("school", 1, "A")


@pytest.mark.parametrize("missing", ["", "NA", "nan", "null", " "])
def test_missing_number_text(tmp_path: Path, missing: str) -> None:
    path = write(tmp_path, f"school,y,sigma\nA,1,2\nB,{missing},2\n")
    with pytest.raises(DataError, match=everything("column 'y', row 2", "is missing")) as err:
        estimate_data(path, **COLS)
    assert (err.value.row, err.value.column) == (2, "y")


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_values_in_dataframes(missing: object) -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0], "v": pd.Series([1.0, missing], dtype=object)})
    with pytest.raises(DataError, match=everything("column 'v', row 2", "is missing")):
        estimate_data(frame, estimate="y", variance="v")


def test_nan_in_a_float_column_is_missing() -> None:
    frame = SCHOOLS.assign(sigma=[15, 10, np.nan, 11, 9, 11, 10, 18])
    with pytest.raises(DataError, match=everything("column 'sigma', row 3", "is missing")):
        estimate_data(frame, **COLS)


def test_missing_label() -> None:
    with pytest.raises(DataError, match=everything("column 'school', row 2", "is missing")):
        estimate_data(SCHOOLS.assign(school=["A", " "] + list("CDEFGH")), **COLS)


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
def test_non_numeric_or_infinite_text(tmp_path: Path, value: str, reason: str) -> None:
    path = write(tmp_path, f'school,y,sigma\nA,"{value}",2\n')
    with pytest.raises(DataError) as err:
        estimate_data(path, **COLS)
    assert (
        str(err.value)
        == f"{path}: column 'y', row 1: value '{value}' {reason}; estimates must be finite numbers"
    )
    assert (err.value.column, err.value.row, err.value.value) == ("y", 1, value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [(np.inf, "is infinite"), (-np.inf, "is infinite"), (True, "is a boolean"), (10**400, "too large")],
)
def test_bad_objects(value: object, reason: str) -> None:
    frame = pd.DataFrame({"y": pd.Series([value], dtype=object), "se": [1.0]})
    with pytest.raises(DataError, match=everything("column 'y', row 1", reason)):
        estimate_data(frame, estimate="y", std_error="se")


def test_boolean_column_rejected() -> None:
    frame = pd.DataFrame({"y": [True, False], "se": [1.0, 1.0]})
    with pytest.raises(DataError, match=everything("column 'y' has 2 invalid values", "is a boolean")):
        estimate_data(frame, estimate="y", std_error="se")


def test_infinite_float_column() -> None:
    frame = pd.DataFrame({"y": [1.0, np.inf], "se": [1.0, 1.0]})
    with pytest.raises(DataError, match=everything("column 'y', row 2", "value inf is infinite")):
        estimate_data(frame, estimate="y", std_error="se")


@pytest.mark.parametrize(
    ("spread", "value", "reason"),
    [
        ("std_error", 0.0, "is zero"),
        ("std_error", -1.0, "is negative"),
        ("variance", 0.0, "is zero"),
        ("variance", -0.2, "is negative"),
        ("std_error", 1e-160, "is below 1.49e-154"),
        ("std_error", 1e160, "is above 6.7e+153"),
        ("variance", 1e-310, "is below 2.23e-308"),
    ],
)
def test_spread_must_be_positive_and_representable(spread: str, value: float, reason: str) -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0], "s": [1.0, value]})
    with pytest.raises(DataError, match=everything("column 's', row 2", reason, "must be > 0")) as err:
        estimate_data(frame, estimate="y", **{spread: "s"})
    assert (err.value.column, err.value.row, err.value.value) == ("s", 2, value)


def test_non_positive_std_error_message_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, "school,y,sigma\nA,1,0\n")
    with pytest.raises(DataError) as err:
        estimate_data(path, **COLS)
    assert str(err.value) == (
        f"{path}: column 'sigma', row 1: value '0' is zero; standard errors must be > 0, from 1.49e-154 "
        "to 6.7e+153 (so that the variance and the weight 1/variance are normal float64 numbers)"
    )


def test_several_bad_rows_first_five_and_total() -> None:
    frame = pd.DataFrame({"y": [0.0] * 8, "se": [-1.0] * 7 + [1.0]})
    with pytest.raises(DataError) as err:
        estimate_data(frame, estimate="y", std_error="se")
    message = str(err.value)
    assert message.startswith("column 'se' has 7 values out of range (the first 5: row 1: value -1.0")
    assert "row 6" not in message


@pytest.mark.parametrize("seed", range(20))
def test_random_tables_only_raise_data_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cells = ["1", "-2.5", "", "x", "inf", "0", "1e-200", "NA", "3", " 4 ", "1e400", "-0"]
    n = int(rng.integers(1, 6))
    frame = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c", "d", "e", ""], size=n),
            "y": rng.choice(cells, size=n),
            "v": rng.choice(cells, size=n),
        }
    ).astype("string")
    try:
        data = estimate_data(frame, group="g", estimate="y", variance="v")
    except DataError:
        return
    assert np.all(np.isfinite(data.estimate)) and np.all(data.variance > 0)
    assert np.all(np.isfinite(1 / data.variance))
