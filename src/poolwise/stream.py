"""Partial pooling of a Parquet file too large to hold: two passes, bounded memory.

The posterior of the hyperparameters depends on the data only through the counts of distinct
``(n, y)`` pairs, and every group with the same pair has the same posterior. So pass 1 reads the file
in batches, validates each (errors name the file, column, global row and value), counts the distinct
pairs and checks that group labels are unique (by 64-bit hashes, 8 bytes a group); the grid is fitted
once on the pairs; pass 2 reads the batches again and writes each group's posterior summary to an
output Parquet file, batch by batch. Memory is one batch plus one row per distinct pair, not the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DataError, binomial_data
from .engines import exact
from .families import beta_binomial as family
from .fitting import CI_KIND, CI_PROB, _check_ci, ci_columns
from .models import PriorSpec, build

#: Rows read at a time.
BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class StreamedFit:
    """What :func:`fit_parquet` returns; the per-group table is in the output file.

    Attributes
    ----------
    hyperparameters : pandas.DataFrame
        Exact summary of alpha, beta, mu, kappa and theta_new.
    n_groups, n_pairs : int
        Groups read, and distinct ``(n, y)`` pairs among them.
    out : pathlib.Path
        The Parquet file written: the group column, successes, trials, raw_rate, mean, sd and the
        interval bounds.
    diagnostics : dict
        The exact engine's grid diagnostics.
    warnings : tuple of str
    """

    hyperparameters: pd.DataFrame
    n_groups: int
    n_pairs: int
    out: Path
    diagnostics: dict
    warnings: tuple[str, ...]


def _batches(path: str, columns: list[str], batch_rows: int):
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read as Parquet ({err})", file=path) from None
    missing = [c for c in columns if c not in source.schema_arrow.names]
    if missing:
        raise DataError(
            f"{path}: no column {', '.join(map(repr, missing))}; the file has: "
            f"{', '.join(map(repr, source.schema_arrow.names))}",
            file=path,
            column=missing[0],
        )
    first = 1
    for batch in source.iter_batches(batch_size=batch_rows, columns=columns):
        frame = batch.to_pandas()
        yield first, frame
        first += len(frame)


def _validated(path: str, frame: pd.DataFrame, first: int, group: str, successes: str, trials: str):
    try:
        return binomial_data(frame, group=group, successes=successes, trials=trials, first_row=first)
    except DataError as err:
        raise DataError(
            f"{path}: {err}", file=path, column=err.column, row=err.row, value=err.value
        ) from None


def fit_parquet(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    group: str = "group",
    successes: str = "successes",
    trials: str = "trials",
    priors: PriorSpec | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    tol: float = 1e-4,
    batch_rows: int = BATCH_ROWS,
) -> StreamedFit:
    """Fit partial pooling to a Parquet file in two bounded-memory passes; write per-group results.

    Parameters
    ----------
    path : str or os.PathLike
        Parquet file, one row per group.
    out : str or os.PathLike
        Parquet file to write (atomically: a temporary file renamed at the end).
    group, successes, trials, priors, tol
        As for :func:`poolwise.fit` (partial pooling, exact engine).
    ci_kind, ci_prob
        Interval of the per-group summaries (default 94% HDI).
    batch_rows : int
        Rows held in memory at a time.

    Returns
    -------
    StreamedFit
    """
    import warnings

    import pyarrow as pa
    import pyarrow.parquet as pq

    kind, prob = _check_ci(ci_kind or CI_KIND, ci_prob or CI_PROB)
    path = os.fsdecode(os.fspath(path))
    (model,) = build("partial", priors)
    columns = [group, successes, trials]

    keys, counts, hashes = [], [], []
    n_groups = 0
    for first, frame in _batches(path, columns, batch_rows):
        data = _validated(path, frame, first, group, successes, trials)
        key = _keys(data.trials, data.successes)
        k, c = np.unique(key, return_counts=True)
        keys.append(k)
        counts.append(c)
        hashes.append(pd.util.hash_array(data.groups.astype(object)))
        n_groups += data.n_groups
        # Fold the batches' pair counts together so memory stays one row per distinct pair.
        merged, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        keys, counts = [merged], [np.bincount(inverse, weights=np.concatenate(counts)).astype(np.int64)]
    if n_groups == 0:
        raise DataError(f"{path}: no data rows: the table is empty; need at least one group", file=path)
    _check_unique(path, group, np.concatenate(hashes))
    del hashes

    key, count = keys[0], counts[0]
    pair_trials, pair_successes = _unkey(key)
    pairs = family.Pairs(pair_trials, pair_successes, count, np.arange(key.size))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", exact.PoolwiseWarning)
        post = exact.fit_partial_pairs(model.priors, pairs, tol=tol)
    theta = post.quantities["theta"]
    lo, hi = theta.interval(kind, prob)
    lb, ub = ci_columns(kind, prob)

    target = Path(out)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    writer = None
    try:
        for first, frame in _batches(path, columns, batch_rows):
            data = _validated(path, frame, first, group, successes, trials)
            row = np.searchsorted(key, _keys(data.trials, data.successes))
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = np.where(data.trials > 0, data.successes / np.maximum(data.trials, 1), np.nan)
            table = pa.table(
                {
                    group: data.groups.astype(str),
                    successes: data.successes,
                    trials: data.trials,
                    "raw_rate": raw,
                    "mean": theta.mean[row],
                    "sd": theta.sd[row],
                    lb: lo[row],
                    ub: hi[row],
                }
            )
            writer = writer or pq.ParquetWriter(temporary, table.schema)
            writer.write_table(table)
        writer.close()
        os.replace(temporary, target)
    except BaseException:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
        raise

    summary = []
    for name in ("alpha", "beta", "mu", "kappa"):
        q = post.quantities[name]
        a, b = q.interval(kind, prob)
        summary.append(pd.Series({"mean": q.mean[0], "sd": q.sd[0], lb: a[0], ub: b[0]}, name=name))
    q = post.new_group
    a, b = q.interval(kind, prob)
    row = q.index[0]
    summary.append(pd.Series({"mean": q.mean[row], "sd": q.sd[row], lb: a[0], ub: b[0]}, name="theta_new"))
    return StreamedFit(
        hyperparameters=pd.DataFrame(summary),
        n_groups=n_groups,
        n_pairs=int(key.size),
        out=target,
        diagnostics=post.diagnostics,
        warnings=tuple(str(w.message) for w in caught),
    )


def _keys(trials: np.ndarray, successes: np.ndarray) -> np.ndarray:
    """One sortable integer per ``(n, y)`` pair; exact for counts below 2**31."""
    if trials.size and trials.max() >= 2**31:
        raise ValueError("streaming supports trials below 2**31 per group; use pw.fit for larger counts")
    return (trials.astype(np.int64) << 32) | successes.astype(np.int64)


def _unkey(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return key >> 32, key & (2**32 - 1)


def _check_unique(path: str, group: str, hashes: np.ndarray) -> None:
    ordered = np.sort(hashes)
    duplicated = ordered[1:] == ordered[:-1]
    if duplicated.any():
        raise DataError(
            f"{path}: column {group!r}: {int(duplicated.sum())} group labels appear more than once "
            "(found by hashing; load the rows with poolwise.data.read_table to see which); group labels "
            "must be unique, one row per group",
            file=path,
            column=group,
        )
