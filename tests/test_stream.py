"""Streaming a Parquet file: the same answers as the in-memory fit, errors with global row numbers."""

import numpy as np
import pandas as pd
import pytest

import poolwise as pw
from poolwise.fitting.stream import fit_parquet


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    n = 1 + rng.poisson(20, 5000)
    y = rng.binomial(n, rng.beta(2, 6, n.size))
    return pd.DataFrame({"unit": [f"u{i}" for i in range(n.size)], "hits": y, "tries": n})


def test_streamed_equals_in_memory(table, tmp_path):
    source = tmp_path / "in.parquet"
    table.to_parquet(source)
    cols = {"group": "unit", "successes": "hits", "trials": "tries"}
    result = fit_parquet(source, tmp_path / "out.parquet", **cols, batch_rows=700)
    written = pd.read_parquet(result.out)
    fit = pw.fit(table, **cols, random_seed=0)
    expected = fit.group_table()
    assert list(written["unit"]) == list(table["unit"])  # every group, in order
    # Same pairs, same grid: identical to rounding.
    for column in ("mean", "sd", "hdi94_lb", "hdi94_ub", "raw_rate"):
        np.testing.assert_allclose(written[column], expected[column], rtol=1e-12, atol=1e-15)
    hyper = fit.summary().loc[["alpha", "beta", "mu", "kappa"]]
    np.testing.assert_allclose(result.hyperparameters.loc[hyper.index], hyper, rtol=1e-12)
    assert result.n_groups == len(table) and result.n_pairs == len(
        set(zip(table.tries, table.hits, strict=True))
    )
    assert not list(tmp_path.glob(".*tmp*"))


def test_errors_name_the_global_row(table, tmp_path):
    bad = table.copy()
    bad.loc[1234, "hits"] = bad.loc[1234, "tries"] + 1
    source = tmp_path / "bad.parquet"
    bad.to_parquet(source)
    with pytest.raises(pw.DataError, match=r"bad.parquet: .*column 'hits', row 1235") as caught:
        fit_parquet(
            source, tmp_path / "out.parquet", group="unit", successes="hits", trials="tries", batch_rows=500
        )
    assert caught.value.row == 1235
    assert not (tmp_path / "out.parquet").exists()


def test_duplicates_across_batches_and_missing_columns(table, tmp_path):
    dup = table.copy()
    dup.loc[4000, "unit"] = "u3"
    source = tmp_path / "dup.parquet"
    dup.to_parquet(source)
    with pytest.raises(pw.DataError, match="appear more than once"):
        fit_parquet(
            source, tmp_path / "o.parquet", group="unit", successes="hits", trials="tries", batch_rows=1000
        )
    with pytest.raises(pw.DataError, match="no column 'successes'"):
        fit_parquet(source, tmp_path / "o.parquet", group="unit")


def test_cli_progress_per_batch_and_quiet(table, tmp_path, capsys):
    from poolwise.cli import main

    source = tmp_path / "in.parquet"
    table.to_parquet(source)
    args = ["stream", str(source), "-o", str(tmp_path / "out.parquet"), "--group", "unit"]
    args += ["--successes", "hits", "--trials", "tries", "--batch-rows", "2000"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "pass 1 of 2: 2,000 rows" in err and "pass 2 of 2: 5,000 rows" in err
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
