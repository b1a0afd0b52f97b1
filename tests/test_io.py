"""Tests for poolwise._core.io: atomic writes and CSV-injection defence."""

import io
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolwise._core.io import atomic_write_bytes, atomic_write_text, csv_safe


def test_write_text_creates_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "héllo\nwörld\n")
    assert path.read_bytes() == "héllo\nwörld\n".encode()
    assert os.listdir(tmp_path) == ["out.txt"]


def test_write_text_line_endings_not_translated(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(str(path), "a\nb\r\n")
    assert path.read_bytes() == b"a\nb\r\n"


def test_write_text_encoding(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "é", encoding="latin-1")
    assert path.read_bytes() == b"\xe9"


def test_write_bytes_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    atomic_write_bytes(path, b"\x00new")
    assert path.read_bytes() == b"\x00new"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_write_bytes_accepts_bytes_like(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, bytearray(b"ab"))
    atomic_write_bytes(path, memoryview(b"cd"))
    assert path.read_bytes() == b"cd"


def test_failed_replace_keeps_old_file_and_removes_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_write_keeps_old_file_and_removes_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def fail(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_interrupt_removes_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "out.bin", b"x")
    assert os.listdir(tmp_path) == []


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "no" / "out.txt", "x")


def test_destination_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "d", "x")
    assert os.listdir(tmp_path) == ["d"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_file_gets_umask_permissions_not_private(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644


def test_wrong_types() -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        atomic_write_text("x.txt", b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be bytes"):
        atomic_write_bytes("x.bin", "x")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# csv_safe
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_safe_prefixes_formula_starts(start: str) -> None:
    frame = pd.DataFrame({"group": [f"{start}SUM(A1:A9)", "plain"]})
    assert csv_safe(frame)["group"].tolist() == [f"'{start}SUM(A1:A9)", "plain"]


def test_csv_safe_leaves_numbers_and_missing_alone() -> None:
    frame = pd.DataFrame(
        {
            "int": [-1, 2],
            "float": [-1.5, np.nan],
            "nullable": pd.array([-3, None], dtype="Int64"),
            "bool": [True, False],
            "mixed": pd.Series([-4, None], dtype=object),
            "text": ["-5", None],
        }
    )
    safe = csv_safe(frame)
    for name in ["int", "float", "nullable", "bool"]:
        pd.testing.assert_series_equal(safe[name], frame[name])
    assert safe["mixed"].tolist() == [-4, None]
    assert safe["text"].iloc[0] == "'-5"
    assert safe["text"].isna().iloc[1]


def test_csv_safe_does_not_modify_input() -> None:
    frame = pd.DataFrame({"group": ["=x"]})
    csv_safe(frame)
    assert frame["group"].tolist() == ["=x"]


def test_csv_safe_only_first_character_matters() -> None:
    frame = pd.DataFrame({"group": ["a=b", " =b", "'=b", "", "Team #1"]})
    assert csv_safe(frame)["group"].tolist() == ["a=b", " =b", "'=b", "", "Team #1"]


def test_csv_safe_column_names_and_categoricals() -> None:
    frame = pd.DataFrame({"=cmd": pd.Categorical(["@x", "y"]), "ok": ["+1", "z"]})
    safe = csv_safe(frame)
    assert list(safe.columns) == ["'=cmd", "ok"]
    assert safe["'=cmd"].tolist() == ["'@x", "y"]
    assert safe["ok"].tolist() == ["'+1", "z"]


def test_csv_safe_duplicate_column_names() -> None:
    frame = pd.DataFrame([["=a", "-b"]], columns=["c", "c"])
    assert csv_safe(frame).iloc[0].tolist() == ["'=a", "'-b"]


def test_csv_safe_written_csv() -> None:
    frame = pd.DataFrame({"group": ['=HYPERLINK("http://x")', "b"], "y": [-1, 2]})
    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False)
    lines = buffer.getvalue().splitlines()
    assert lines[1].startswith("\"'=HYPERLINK")
    assert lines[2] == "b,2"
    assert lines[1].endswith(",-1")


def test_csv_safe_type_check() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        csv_safe(pd.Series(["=x"]))  # type: ignore[arg-type]
