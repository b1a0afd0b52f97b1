"""The Dask path on a two-worker LocalCluster: the in-memory answers, global rows in errors, lost workers.

Tolerance: the Dask path hands the exact engine the same distinct (n, y) pairs with the same counts
(integers, so the order partitions are combined in cannot change them) and the engine's grid is
deterministic, so every summary equals the in-memory fit to rounding (rtol 1e-12), far inside the
engine's own tol=1e-4, which bounds the distance of both to the true posterior, not between them.
"""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import poolwise as pw

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

from poolwise.cli import main  # noqa: E402
from poolwise.fitting.distributed import fit_dask, read_parquet  # noqa: E402

COLUMNS = {"group": "unit", "successes": "hits", "trials": "tries"}


@pytest.fixture(scope="module")
def client():
    # Any free port for the scheduler's web server: the default (8787) may be taken.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    n = 1 + rng.poisson(20, 5000)
    y = rng.binomial(n, rng.beta(2, 6, n.size))
    return pd.DataFrame({"unit": [f"u{i}" for i in range(n.size)], "hits": y, "tries": n})


@pytest.fixture(scope="module")
def expected(table):
    fit = pw.fit(table, **COLUMNS, random_seed=0)
    return fit.group_table(), fit.summary().loc[["alpha", "beta", "mu", "kappa"]]


def _check(result, table, expected):
    groups, hyper = expected
    written = pd.read_parquet(result.out)
    assert list(written["unit"]) == list(table["unit"])  # every group, in input order
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub", "raw_rate"):
        np.testing.assert_allclose(written[column], groups[column], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.hyperparameters.loc[hyper.index], hyper, rtol=1e-12)
    assert result.n_groups == len(table)
    assert result.n_pairs == len(set(zip(table.tries, table.hits, strict=True)))
    assert not list(result.out.parent.glob(".*tmp*"))


def test_parquet_files_equal_in_memory(client, table, expected, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for i, start in enumerate(range(0, len(table), 1700)):  # three files of uneven length
        table.iloc[start : start + 1700].to_parquet(source / f"part{i}.parquet")
    ddf = read_parquet(source, list(COLUMNS.values()))
    assert ddf.npartitions == 3
    result = fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client)
    assert sorted(p.name for p in result.out.iterdir()) == [f"part.{i}.parquet" for i in range(3)]
    _check(result, table, expected)
    # A second run replaces the first atomically.
    again = fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client)
    _check(again, table, expected)


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_closed_forms_equal_in_memory(client, table, tmp_path, pooling):
    # Conjugate Betas from the same counts: equal to rounding.
    fit = pw.fit(table, **COLUMNS, pooling=pooling, random_seed=0)
    ddf = dd.from_pandas(table, npartitions=4)
    result = fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client, pooling=pooling)
    written, groups = pd.read_parquet(result.out), fit.group_table()
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub"):
        np.testing.assert_allclose(written[column], groups[column], rtol=1e-12)
    summary = fit.summary()
    shared = {"none": [], "complete": ["theta"]}[pooling]
    np.testing.assert_allclose(result.hyperparameters.loc[shared], summary.loc[shared], rtol=1e-12)
    new = fit.new_group().summary
    np.testing.assert_allclose(result.hyperparameters.loc["theta_new", "mean"], new["mean"], rtol=1e-12)
    assert result.pooling == pooling and result.diagnostics == {} and result.warnings == ()


def test_errors_name_the_global_row(client, table, tmp_path):
    bad = table.copy()
    bad.loc[1234, "hits"] = bad.loc[1234, "tries"] + 1
    ddf = dd.from_pandas(bad, npartitions=7)  # row 1235 is in the second partition
    with pytest.raises(pw.DataError, match=r"^bad: .*column 'hits', row 1235") as caught:
        fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client, source="bad")
    assert (caught.value.column, caught.value.row) == ("hits", 1235)
    assert not list(tmp_path.iterdir())  # nothing written, not even half


def test_duplicates_across_partitions_and_missing_columns(client, table, tmp_path):
    dup = table.copy()
    dup.loc[4000, "unit"] = "u3"
    ddf = dd.from_pandas(dup, npartitions=5)
    with pytest.raises(pw.DataError, match="column 'unit': 1 group labels appear more than once"):
        fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client)
    with pytest.raises(
        pw.DataError, match="no column 'successes', 'trials'; the data have: 'unit', 'hits', 'tries'"
    ):
        fit_dask(ddf, tmp_path / "out", group="unit", client=client)
    assert not list(tmp_path.iterdir())
    with pytest.raises(pw.DataError, match=r"nothere.parquet: cannot read as Parquet \(.*nothere"):
        read_parquet(tmp_path / "nothere.parquet", ["unit"])
    with pytest.raises(pw.DataError, match=r"none\*.parquet: no Parquet file there"):
        read_parquet(tmp_path / "none*.parquet", ["unit"])


def test_refuses_a_partition_that_changed_between_passes(table):
    from poolwise.fitting.distributed import _partition

    with pytest.raises(RuntimeError, match="partitioned the data differently"):
        _partition(table.iloc[:10], np.array([0, 9]), list(COLUMNS.values()), None, {"number": 0})


def test_bad_options_fail_before_the_cluster_works(table, tmp_path):
    ddf = dd.from_pandas(table, npartitions=2)
    with pytest.raises(ValueError, match="pooling must be one of"):
        fit_dask(ddf, tmp_path / "out", **COLUMNS, pooling="some", client=object())


def _die_once(frame, calls, partition_info=None):
    """Pass a partition through; kill this worker's process the third time partition 2 is made.

    Partition 2 is made once for its length, once for its pairs and once for its posteriors, so the
    worker dies in the middle of the last (map) step; the marker keeps the rerun from dying too.
    """
    if partition_info["number"] == 2:
        with open(calls, "a") as log:
            log.write(f"{os.getpid()}\n")
        with open(calls) as log:
            if len(log.readlines()) == 3:
                os._exit(1)
    return frame


def test_a_lost_worker_does_not_change_the_result(client, table, expected, tmp_path):
    calls = tmp_path / "calls.log"
    ddf = dd.from_pandas(table, npartitions=5).map_partitions(_die_once, str(calls), meta=table.iloc[:0])
    result = fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client)
    log = calls.read_text().split()
    assert len(log) >= 4 and len(set(log)) >= 2  # the third call died; the rerun came from a new process
    _check(result, table, expected)
    client.wait_for_workers(2)  # the nanny restarts the worker for the tests that follow


def test_empty_partitions_and_empty_table(client, table, expected, tmp_path):
    empty = dd.from_pandas(table.iloc[:0], npartitions=1)
    ddf = dd.concat([empty, dd.from_pandas(table, npartitions=3), empty])
    _check(fit_dask(ddf, tmp_path / "out", **COLUMNS, client=client), table, expected)
    with pytest.raises(pw.DataError, match="no data rows"):
        fit_dask(empty, tmp_path / "none", **COLUMNS, client=client)


@pytest.mark.parametrize("where", ["address", "local"])
def test_cli_dask(client, table, expected, tmp_path, capsys, where):
    source = tmp_path / "in"
    source.mkdir()
    table.iloc[:2500].to_parquet(source / "a.parquet")
    table.iloc[2500:].to_parquet(source / "b.parquet")
    out = tmp_path / "out"
    # A glob on the running cluster; a directory on a LocalCluster of the command's own.
    data, address = (
        (f"{source}/*.parquet", client.scheduler.address) if where == "address" else (source, "local")
    )
    status = main(
        ["stream", str(data), "-o", str(out), "--group", "unit", "--successes", "hits"]
        + ["--trials", "tries", "--dask", address]
    )
    assert status == 0
    printed = capsys.readouterr()
    assert "5,000 groups" in printed.out and f"written to {out}" in printed.out
    assert "100% Completed" in printed.err  # Dask's progress bar, on stderr
    written = pd.read_parquet(out)
    np.testing.assert_allclose(written["mean"], expected[0]["mean"], rtol=1e-12)


def test_cli_without_dask_says_how_to_install(table, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    source = tmp_path / "in.parquet"
    table.to_parquet(source)
    assert main(["stream", str(source), "-o", str(tmp_path / "out"), "--dask", "local"]) == 2
    assert "pip install 'poolwise[dask]'" in capsys.readouterr().err


def test_importing_poolwise_does_not_import_dask():
    code = "import sys, poolwise, poolwise.cli; print(sorted(m for m in sys.modules if 'dask' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
