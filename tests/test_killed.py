"""A run killed with SIGKILL while writing leaves the previous output or none, never half a file.

Each test runs the ``poolwise`` command in a child process whose writer is made to stop halfway:
the atomic writer (:mod:`poolwise._core.io`, behind the CSV table and the HTML report) writes half of
its content to the temporary file and then waits, as does the Parquet writer of ``poolwise stream``
after its first batch. The child says so through a file, and only then is it killed, so the kill
always lands mid-write and the test is deterministic. Afterwards the destination must be absent or
the complete previous version, and no visible file may carry part of the new content. SIGKILL
cannot be caught, so the hidden temporary file remains (as ``atomic_write_bytes`` documents): the
tests check that it is hidden and holds exactly the part written, which proves the kill came
mid-write.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CHILD = r"""
import os, sys, time

mode, ready, *argv = sys.argv[1:]


def stop_here(size):
    # Tell the parent how much the whole write was, then wait to be killed. The rename makes the
    # file appear complete.
    with open(ready + ".part", "w") as handle:
        handle.write(str(size))
    os.rename(ready + ".part", ready)
    time.sleep(600)


if mode == "atomic":
    import poolwise._core.io as io_module

    ours = set()
    create = io_module._create_temporary

    def recording(directory, name):
        temporary, descriptor = create(directory, name)
        ours.add(descriptor)
        return temporary, descriptor

    class HalfThenWait:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            stop_here(len(data))

    fdopen = os.fdopen

    def opening(descriptor, *args, **kwargs):
        handle = fdopen(descriptor, *args, **kwargs)
        return HalfThenWait(handle) if descriptor in ours else handle

    io_module._create_temporary = recording
    os.fdopen = opening
else:
    import pyarrow.parquet as pq

    write_table = pq.ParquetWriter.write_table

    def first_batch_then_wait(self, table, *args, **kwargs):
        write_table(self, table, *args, **kwargs)
        stop_here(table.num_rows)

    pq.ParquetWriter.write_table = first_batch_then_wait

if argv[0] == "--table":  # the writer alone: a CSV table of many rows, as the CLI writes it
    import pandas as pd

    from poolwise._core.io import atomic_write_text, csv_safe

    rows = int(argv[2])
    table = pd.DataFrame({"group": [f"=g{i}" for i in range(rows)], "mean": [i / rows for i in range(rows)]})
    atomic_write_text(argv[1], csv_safe(table).to_csv(index=False))
else:
    from poolwise.cli import main

    sys.exit(main(argv))
"""


def kill_mid_write(tmp_path: Path, mode: str, argv: list[str]) -> int:
    """Run the command in a child, SIGKILL it once it is halfway through writing; return its size."""
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(ready), *argv],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120  # the child imports poolwise and fits first: seconds
    try:
        while not ready.exists():
            if child.poll() is not None:
                pytest.fail(
                    f"the child ended (status {child.returncode}) before writing:\n{child.stderr.read()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("the child did not reach its write within 120 s")
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return int(ready.read_text())


def groups(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"group": [f"g{i}" for i in range(n)], "successes": [i % 7 for i in range(n)], "trials": [10] * n}
    )


def assert_only_the_hidden_part(out: Path, name: str, written: int) -> None:
    """No visible file but ``name`` if it was there; one hidden temporary holding the part written."""
    hidden = [p for p in out.iterdir() if p.name.startswith(".")]
    visible = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    assert visible in ([], [name]), visible
    assert [p.name.startswith(f".{name}.") and p.name.endswith(".tmp") for p in hidden] == [True], hidden
    assert hidden[0].stat().st_size == written


def test_killed_table_write_keeps_the_previous_version(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "table.csv").write_bytes(b"the previous table\n")
    size = kill_mid_write(tmp_path, "atomic", ["--table", "out/table.csv", "100000"])
    assert size > 1_000_000
    assert (out / "table.csv").read_bytes() == b"the previous table\n"
    assert_only_the_hidden_part(out, "table.csv", size // 2)


def test_killed_stream_keeps_the_previous_parquet(tmp_path):
    # poolwise stream writes Parquet batch by batch through its own temporary file.
    groups(60).to_parquet(tmp_path / "data.parquet")
    out = tmp_path / "out"
    out.mkdir()
    (out / "fit.parquet").write_bytes(b"the previous result")
    argv = ["stream", "data.parquet", "-o", "out/fit.parquet", "--batch-rows", "20", "-q"]
    assert kill_mid_write(tmp_path, "parquet", argv) == 20  # killed after the first of three batches
    assert (out / "fit.parquet").read_bytes() == b"the previous result"
    hidden = [p for p in out.iterdir() if p.name.startswith(".fit.parquet.")]
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == ["fit.parquet"]
    assert len(hidden) == 1 and hidden[0].stat().st_size > 0


@pytest.mark.slow  # the whole command, a few seconds of fitting and plotting each
@pytest.mark.parametrize("previous", [b"the previous table\n", None], ids=["previous", "none"])
def test_killed_fit_command_csv(tmp_path, previous):
    groups(40).to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    if previous is not None:
        (out / "table.csv").write_bytes(previous)
    size = kill_mid_write(tmp_path, "atomic", ["fit", "data.csv", "--out", "out/table.csv", "-q"])
    if previous is None:
        assert not (out / "table.csv").exists()
    else:
        assert (out / "table.csv").read_bytes() == previous
    assert_only_the_hidden_part(out, "table.csv", size // 2)


@pytest.mark.slow
def test_killed_fit_command_report(tmp_path):
    groups(40).to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_bytes(b"<p>the previous report</p>")
    size = kill_mid_write(tmp_path, "atomic", ["fit", "data.csv", "--report", "out/report.html", "-q"])
    assert size > 10_000  # a real report: the kill came halfway through it
    assert (out / "report.html").read_bytes() == b"<p>the previous report</p>"
    assert_only_the_hidden_part(out, "report.html", size // 2)
