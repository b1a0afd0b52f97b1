"""Partial pooling of a Parquet file too large to hold: two passes, bounded memory.

The posterior of the hyperparameters depends on the data only through the counts of distinct
``(n, y)`` pairs, and every group with the same pair has the same posterior. So pass 1 reads the file
in batches, validates each (errors name the file, column, global row and value), counts the distinct
pairs and checks that group labels are unique (by 64-bit hashes, 8 bytes a group); the grid is fitted
once on the pairs; pass 2 reads the batches again and writes each group's posterior summary to an
output Parquet file, batch by batch. Memory is one batch plus one row per distinct pair, not the data.

The pieces shared with the Dask path (:mod:`poolwise.fitting.distributed`) live here: validating a chunk with
its global row numbers, the pair keys, the fit of the pair table and the per-group output table.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._core.validation import CI_KIND, CI_PROB, check_ci, ci_columns
from ..data import BinomialData, binomial_data
from ..engines import exact
from ..errors import DataError, PoolwiseWarning
from ..families import beta_binomial as family
from ..families.models import PriorSpec, build

#: Rows read at a time.
BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class StreamedFit:
    """What :func:`fit_parquet` (and :func:`poolwise.distributed.fit_dask`) returns.

    The per-group table is in the output, not in memory.

    Attributes
    ----------
    hyperparameters : pandas.DataFrame
        Exact summary of alpha, beta, mu, kappa and theta_new (partial pooling); of the shared theta
        and theta_new (complete pooling); of theta_new, the prior (no pooling).
    n_groups, n_pairs : int
        Groups read, and distinct ``(n, y)`` pairs among them.
    out : pathlib.Path
        What was written: a Parquet file (:func:`fit_parquet`) or a directory of Parquet files, one
        per partition (:func:`~poolwise.distributed.fit_dask`), holding the group column, successes,
        trials, raw_rate, mean, sd and the interval bounds.
    diagnostics : dict
        The exact engine's grid diagnostics (empty for the closed forms).
    warnings : tuple of str
    pooling : str
        ``"partial"``, or a closed form: ``"none"`` or ``"complete"``.
    """

    hyperparameters: pd.DataFrame
    n_groups: int
    n_pairs: int
    out: Path
    diagnostics: dict
    warnings: tuple[str, ...]
    pooling: str = "partial"


@dataclass(frozen=True)
class PairTable:
    """Every distinct ``(n, y)`` pair's posterior summary of theta, sorted by pair key.

    Attributes
    ----------
    key : numpy.ndarray
        Sorted pair keys (see :func:`pair_keys`).
    summary : dict of str to numpy.ndarray
        ``mean``, ``sd`` and the two interval columns, one entry per pair.
    """

    key: np.ndarray
    summary: dict[str, np.ndarray]

    def group_table(self, data: BinomialData, group: str, successes: str, trials: str) -> pd.DataFrame:
        """Each group's counts, raw rate and posterior summary, looked up by its pair."""
        row = np.searchsorted(self.key, pair_keys(data.trials, data.successes))
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(data.trials > 0, data.successes / np.maximum(data.trials, 1), np.nan)
        columns = {group: data.groups.astype(str), successes: data.successes, trials: data.trials}
        columns["raw_rate"] = raw
        columns.update({name: values[row] for name, values in self.summary.items()})
        return pd.DataFrame(columns)


def validated(
    frame: pd.DataFrame, first_row: int, group: str, successes: str, trials: str, source: str | None = None
) -> BinomialData:
    """Validate one chunk of a larger table; errors name the source and the table's global row.

    Parameters
    ----------
    frame : pandas.DataFrame
        The chunk.
    first_row : int
        Global 1-based row number of the chunk's first row.
    group, successes, trials : str
        Column names.
    source : str or None, optional
        File or dataset named at the start of every error message.

    Returns
    -------
    BinomialData

    Raises
    ------
    DataError
        As :func:`poolwise.data.binomial_data`, with global row numbers.
    """
    try:
        return binomial_data(frame, group=group, successes=successes, trials=trials, first_row=first_row)
    except DataError as err:
        if source is None:
            raise
        raise DataError(
            f"{source_prefix(source)}{err}", file=source, column=err.column, row=err.row, value=err.value
        ) from None


def source_prefix(source: str | None) -> str:
    """Start of a message about data from ``source`` (nothing for an unnamed table)."""
    return "" if source is None else f"{source}: "


def _batches(path: str, columns: list[str], batch_rows: int):
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read as Parquet ({err})", file=path) from None
    check_columns(path, columns, source.schema_arrow.names)
    first = 1
    batches = source.iter_batches(batch_size=batch_rows, columns=columns)
    while True:
        # a corrupt data page surfaces here, as pyarrow's OSError naming no file
        try:
            batch = next(batches, None)
            frame = None if batch is None else batch.to_pandas()
        except (OSError, ValueError) as err:
            reason = " ".join(str(err).split())
            raise DataError(
                f"{path}: cannot read as Parquet near data row {first} ({reason})", file=path, row=first
            ) from None
        if frame is None:
            return
        yield first, frame
        first += len(frame)


def check_columns(source: str | None, wanted: list[str], present: list[str]) -> None:
    """Raise a :class:`DataError` naming the missing columns and those that exist."""
    missing = [c for c in wanted if c not in present]
    if missing:
        raise DataError(
            f"{source_prefix(source)}no column {', '.join(map(repr, missing))}; the data have: "
            f"{', '.join(map(repr, present))}",
            file=source,
            column=missing[0],
        )


def fit_pairs(
    priors: PriorSpec | None,
    key: np.ndarray,
    count: np.ndarray,
    *,
    tol: float,
    kind: str,
    prob: float,
    pooling: str = "partial",
) -> tuple[PairTable, pd.DataFrame, dict, tuple[str, ...]]:
    """Fit one pooling once on the distinct pairs.

    Parameters
    ----------
    priors : dict or None
        As for :func:`poolwise.fit`.
    key, count : numpy.ndarray
        Sorted distinct pair keys and the number of groups with each.
    tol : float
        Grid tolerance (partial pooling).
    kind, prob : str, float
        Interval of the summaries.
    pooling : {"partial", "none", "complete"}, optional
        Partial pooling on the grid, or a closed form: no pooling needs only each pair, complete
        pooling only the totals.

    Returns
    -------
    pairs : PairTable
    hyperparameters : pandas.DataFrame
        Summary of alpha, beta, mu, kappa (partial pooling) or the shared theta (complete pooling),
        and theta_new.
    diagnostics : dict
    warnings : tuple of str
        The engine's warnings, recorded rather than raised so the caller can report them.
    """
    (model,) = build(pooling, priors)
    pair_trials, pair_successes = key >> 32, key & (2**32 - 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PoolwiseWarning)
        if pooling == "partial":
            pairs = family.Pairs(pair_trials, pair_successes, count, np.arange(key.size))
            post = exact.fit_partial_pairs(model.priors, pairs, tol=tol)
        elif pooling == "none":  # the pairs are distinct and sorted: one Beta each, in key order
            post = exact.fit_closed_form("none", model.priors["theta"], pair_trials, pair_successes)
        else:
            totals = np.array([count @ pair_trials]), np.array([count @ pair_successes])
            post = exact.fit_closed_form("complete", model.priors["theta"], *totals)
    theta = post.quantities["theta"]
    lo, hi = theta.interval(kind, prob)
    lb, ub = ci_columns(kind, prob)
    # Complete pooling has one theta for every pair.
    row = np.zeros(key.size, np.int64) if pooling == "complete" else np.arange(key.size)
    table = PairTable(
        key,
        {"mean": theta.mean[theta.index][row], "sd": theta.sd[theta.index][row], lb: lo[row], ub: hi[row]},
    )

    summary = []
    shared = {"partial": ("alpha", "beta", "mu", "kappa"), "complete": ("theta",), "none": ()}[pooling]
    for name in shared:
        q = post.quantities[name]
        a, b = q.interval(kind, prob)
        summary.append(pd.Series({"mean": q.mean[0], "sd": q.sd[0], lb: a[0], ub: b[0]}, name=name))
    q = post.new_group
    a, b = q.interval(kind, prob)
    row = q.index[0]
    summary.append(pd.Series({"mean": q.mean[row], "sd": q.sd[row], lb: a[0], ub: b[0]}, name="theta_new"))
    return table, pd.DataFrame(summary), post.diagnostics, tuple(str(w.message) for w in caught)


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
    progress: Callable[[int, int], None] | None = None,
    pooling: str = "partial",
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
    progress : callable or None, optional
        Called after every batch as ``progress(pass_number, rows_done)`` (pass 1 or 2).
    pooling : {"partial", "none", "complete"}, optional
        Partial pooling, or one of the closed forms (see :func:`fit_pairs`).

    Returns
    -------
    StreamedFit
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind, prob = check_ci(ci_kind or CI_KIND, ci_prob or CI_PROB)
    path = os.fsdecode(os.fspath(path))
    columns = [group, successes, trials]

    keys, counts, hashes = [], [], []
    n_groups = 0
    for first, frame in _batches(path, columns, batch_rows):
        data = validated(frame, first, group, successes, trials, source=path)
        k, c = np.unique(pair_keys(data.trials, data.successes), return_counts=True)
        keys.append(k)
        counts.append(c)
        hashes.append(label_hashes(data))
        n_groups += data.n_groups
        # Fold the batches' pair counts together so memory stays one row per distinct pair.
        merged, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        keys, counts = [merged], [np.bincount(inverse, weights=np.concatenate(counts)).astype(np.int64)]
        if progress is not None:
            progress(1, n_groups)
    if n_groups == 0:
        raise DataError(f"{path}: no data rows: the table is empty; need at least one group", file=path)
    ordered = np.sort(np.concatenate(hashes))
    del hashes
    check_unique(path, group, int(np.count_nonzero(ordered[1:] == ordered[:-1])))
    del ordered

    table, hyperparameters, diagnostics, caught = fit_pairs(
        priors, keys[0], counts[0], tol=tol, kind=kind, prob=prob, pooling=pooling
    )

    target = Path(out)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    writer = None
    try:
        for first, frame in _batches(path, columns, batch_rows):
            data = validated(frame, first, group, successes, trials, source=path)
            chunk = pa.Table.from_pandas(
                table.group_table(data, group, successes, trials), preserve_index=False
            )
            writer = writer or pq.ParquetWriter(temporary, chunk.schema)
            writer.write_table(chunk)
            if progress is not None:
                progress(2, first - 1 + data.n_groups)
        writer.close()
        os.replace(temporary, target)
    except BaseException:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
        raise
    return StreamedFit(
        hyperparameters=hyperparameters,
        n_groups=n_groups,
        n_pairs=int(table.key.size),
        out=target,
        diagnostics=diagnostics,
        warnings=caught,
        pooling=pooling,
    )


def pair_keys(trials: np.ndarray, successes: np.ndarray) -> np.ndarray:
    """One sortable integer per ``(n, y)`` pair; exact for counts below 2**31."""
    if trials.size and trials.max() >= 2**31:
        raise ValueError("streaming supports trials below 2**31 per group; use pw.fit for larger counts")
    return (trials.astype(np.int64) << 32) | successes.astype(np.int64)


def label_hashes(data: BinomialData) -> np.ndarray:
    """Hash each validated group label to 64 bits, for the uniqueness check (8 bytes a group)."""
    return pd.util.hash_array(data.groups.astype(object))


def check_unique(source: str | None, group: str, n_duplicated: int) -> None:
    """Raise a :class:`DataError` if ``n_duplicated`` labels repeat an earlier one (by hash)."""
    if n_duplicated:
        raise DataError(
            f"{source_prefix(source)}column {group!r}: {n_duplicated} group labels appear more than once "
            "(found by hashing; load the rows with poolwise.data.read_table to see which); group labels "
            "must be unique, one row per group",
            file=source,
            column=group,
        )
