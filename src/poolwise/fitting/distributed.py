"""Partial pooling of a Dask DataFrame on a ``dask.distributed`` cluster, one partition at a time.

The same two passes as :mod:`poolwise.stream`, spread over a cluster, after a count of each
partition's rows that gives every row its global number:

1. every partition is validated (errors name the column, the dataset's global row and the value) and
   reduced to its ``(n, y)`` pair keys and 64-bit hashes of its group labels; the pair counts are
   combined across partitions by a tree reduction, and the hashes are shuffled by value to count
   repeated labels, so that no worker ever holds more than its share of either;
2. the grid is fitted once, on the driver, from the distinct pairs (:func:`poolwise.stream.fit_pairs`;
   no and complete pooling, closed forms, need the same counts);
3. every partition is validated again and its groups' posterior summaries are looked up in the fitted
   pair table and written as one Parquet file per partition, into a temporary directory that is
   renamed to the output only when every partition has been written.

A worker's memory is bounded by the partitions it holds, not by the data; the driver holds one row
per distinct pair. Tasks are pure functions of their partition, so a worker lost mid-run only makes
the scheduler recompute what it held: the result does not change.

Needs the ``dask`` extra (``pip install 'poolwise[dask]'``); importing :mod:`poolwise` does not
import Dask.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._core.validation import check_ci
from ..data import BinomialData
from ..errors import DataError
from ..families.models import PriorSpec, build
from .stream import (
    PairTable,
    StreamedFit,
    check_columns,
    check_unique,
    fit_pairs,
    label_hashes,
    pair_keys,
    source_prefix,
    validated,
)

if TYPE_CHECKING:
    import dask.dataframe as dd
    import distributed

INSTALL_HINT = "pip install 'poolwise[dask]'"


def _import_dask():
    """Import the Dask pieces the path needs, with the install hint if they are missing."""
    try:
        import dask
        import dask.dataframe
        import distributed
    except ImportError as err:
        raise ImportError(f"the Dask path needs dask and distributed: {INSTALL_HINT}") from err
    return dask, distributed


def read_parquet(path: str | os.PathLike, columns: list[str]) -> dd.DataFrame:
    """Open a Parquet file, a directory of them or a glob as a Dask DataFrame of ``columns``.

    Parameters
    ----------
    path : str or os.PathLike
        A Parquet file, a directory of Parquet files, or a glob such as ``data/*.parquet``.
    columns : list of str
        Columns to read.

    Returns
    -------
    dask.dataframe.DataFrame

    Raises
    ------
    DataError
        If nothing readable is there, or a column is missing (the message lists those that exist).
    """
    _import_dask()
    import dask.dataframe as dd

    source = os.fsdecode(os.fspath(path))
    try:
        frame = dd.read_parquet(source)
    except (OSError, ValueError) as err:  # pyarrow's errors subclass these
        # Dask prefixes the reader's message with its own line; the reader's says what is wrong.
        reason = str(err).splitlines()[-1].removeprefix("Original Message: ")
        raise DataError(f"{source}: cannot read as Parquet ({reason})", file=source) from None
    if frame.columns.empty:  # a glob that matches no file reads as a table without columns
        raise DataError(f"{source}: no Parquet file there", file=source)
    check_columns(source, columns, list(frame.columns))
    return frame[columns]


def _partition(
    frame: pd.DataFrame,
    offsets: np.ndarray,
    columns: list[str],
    source: str | None,
    partition_info: dict | None = None,
):
    """Validate one partition with its global row numbers (None if it is empty).

    ``offsets[i]`` and ``offsets[i + 1]`` bound partition ``i``'s rows, as counted by the first pass.
    """
    number = partition_info["number"]
    if len(frame) != offsets[number + 1] - offsets[number]:
        # Row numbers would be wrong, and silently: refuse rather than mislabel.
        raise RuntimeError(
            f"partition {number} has {len(frame)} rows, but {offsets[number + 1] - offsets[number]} when "
            "counted first: Dask partitioned the data differently between passes"
        )
    if frame.empty:  # a Dask DataFrame may hold empty partitions; the whole table is checked below
        return None
    return validated(frame, int(offsets[number]) + 1, *columns, source=source)


def _keys_and_hashes(frame: pd.DataFrame, offsets, columns, source, partition_info=None) -> pd.DataFrame:
    data = _partition(frame, offsets, columns, source, partition_info)
    if data is None:
        return _KEYS_META
    return pd.DataFrame({"key": pair_keys(data.trials, data.successes), "label": label_hashes(data)})


_KEYS_META = pd.DataFrame({"key": np.array([], np.int64), "label": np.array([], np.uint64)})


def _posteriors(
    frame: pd.DataFrame, table: PairTable, meta: pd.DataFrame, offsets, columns, source, partition_info=None
) -> pd.DataFrame:
    data = _partition(frame, offsets, columns, source, partition_info)
    return meta if data is None else table.group_table(data, *columns)


def fit_dask(
    ddf: dd.DataFrame,
    out: str | os.PathLike,
    *,
    group: str = "group",
    successes: str = "successes",
    trials: str = "trials",
    priors: PriorSpec | None = None,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    tol: float = 1e-4,
    client: distributed.Client | None = None,
    source: str | None = None,
    progress: bool = False,
    pooling: str = "partial",
) -> StreamedFit:
    """Fit pooling (partial by default) to a Dask DataFrame on a cluster; write each group's posterior.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per group, e.g. ``dd.read_parquet("groups/*.parquet")`` or :func:`read_parquet`.
    out : str or os.PathLike
        Directory to write, one Parquet file per partition (``part.0.parquet``, ...), with the group
        column, successes, trials, raw_rate, mean, sd and the interval bounds, rows in the input's
        order. It must be a path that the workers and this process both see (a shared file system
        on a real cluster). Written atomically: into a temporary directory beside it, renamed at
        the end; an existing ``out`` is replaced only then.
    group, successes, trials, priors, tol
        As for :func:`poolwise.fit` (partial pooling, exact engine).
    ci_kind, ci_prob
        Interval of the per-group summaries (default 94% HDI).
    client : distributed.Client or None, optional
        The cluster's client; by default the current one (``distributed.default_client()``).
    source : str or None, optional
        Name of the data (e.g. its path) at the start of error messages.
    progress : bool, optional
        Show ``dask.distributed``'s progress bar (on standard error) while the cluster works.
    pooling : {"partial", "none", "complete"}, optional
        Partial pooling, or one of the closed forms, which need the same pair counts.

    Returns
    -------
    poolwise.stream.StreamedFit
        ``out`` is the directory written.

    Raises
    ------
    DataError
        If a column is missing, the table is empty, a value is bad (the message names the column,
        the global 1-based row, counting partitions in order, and the value) or group labels repeat.
    ImportError
        If Dask is not installed.
    ValueError
        If there is no client.

    Notes
    -----
    The result equals :func:`poolwise.stream.fit_parquet` and the in-memory ``pw.fit`` on the same
    data to rounding: all three fit the same grid to the same distinct pairs.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> from poolwise.distributed import fit_dask, read_parquet  # doctest: +SKIP
    >>> with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     ddf = read_parquet("groups/*.parquet", ["group", "successes", "trials"])
    ...     result = fit_dask(ddf, "posteriors", client=client)
    """
    dask, distributed = _import_dask()
    kind, prob = check_ci(ci_kind, ci_prob)
    build(pooling, priors)  # bad priors or pooling fail now, not after the cluster's first pass
    if client is None:
        try:
            client = distributed.default_client()
        except ValueError:
            raise ValueError(
                "fit_dask needs a dask.distributed cluster: pass client=Client(address), or start one "
                "(e.g. Client(LocalCluster())) before calling it"
            ) from None
    columns = [group, successes, trials]
    check_columns(source, columns, list(ddf.columns))
    ddf = ddf[columns]

    def run(*collections):
        futures = client.compute(list(collections))
        if progress:
            # The bar is for people; stdout stays for the results.
            with contextlib.redirect_stdout(sys.stderr):
                distributed.progress(futures, multi=False)
        return client.gather(futures)

    # Global row numbers need every partition's length first. Counted on the same three columns as
    # the passes below, so that Dask partitions the data the same way (it may fuse the Parquet files
    # of a narrower projection into fewer partitions, which would shift every offset).
    (lengths,) = run(ddf.map_partitions(len, meta=(None, "int64")))
    offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, np.int64))])
    n_groups = int(offsets[-1])
    if n_groups == 0:
        raise DataError(
            f"{source_prefix(source)}no data rows: the table is empty; need at least one group", file=source
        )

    rows = ddf.map_partitions(_keys_and_hashes, offsets, columns, source, meta=_KEYS_META)
    pair_counts, distinct_labels = run(
        rows["key"].value_counts(split_out=1),
        # A task-based shuffle: plain tasks, recomputed like any other if a worker is lost.
        rows["label"].drop_duplicates(split_out=True, shuffle_method="tasks", ignore_index=True).size,
    )
    check_unique(source, group, n_groups - int(distinct_labels))
    pair_counts = pair_counts.sort_index()
    table, hyperparameters, diagnostics, caught = fit_pairs(
        priors,
        pair_counts.index.to_numpy(np.int64),
        pair_counts.to_numpy(np.int64),
        tol=tol,
        kind=kind,
        prob=prob,
        pooling=pooling,
    )

    target = Path(out).absolute()
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    meta = table.group_table(_no_rows(columns), *columns)
    # One copy of the pair table in the graph, shared by every partition's task.
    shared = dask.delayed(table, pure=True)
    posteriors = ddf.map_partitions(_posteriors, shared, meta, offsets, columns, source, meta=meta)
    try:
        run(posteriors.to_parquet(temporary, write_index=False, compute=False))
        _replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
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


def _no_rows(columns: list[str]) -> BinomialData:
    """Make a validated table with no rows: it gives the output's columns and dtypes."""
    empty = np.array([], np.int64)
    return BinomialData(np.array([], object), empty, empty, *columns, None)


def _replace(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; an existing ``target`` is moved aside first and removed after."""
    aside = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, aside)
    os.replace(new, target)
    if aside.is_dir():
        shutil.rmtree(aside)
    else:
        aside.unlink(missing_ok=True)


def fit_on_cluster(data: str | os.PathLike, out: str | os.PathLike, address: str, **options) -> StreamedFit:
    """Fit Parquet data on the cluster at ``address`` (or a new local one): what ``--dask`` runs.

    Parameters
    ----------
    data : str or os.PathLike
        A Parquet file, a directory of Parquet files, or a glob.
    out : str or os.PathLike
        Directory to write (see :func:`fit_dask`).
    address : str
        The scheduler's address (``tcp://host:8786``), or ``"local"`` for a :class:`distributed.LocalCluster`
        on this machine (one worker process per core), closed at the end.
    **options
        Passed to :func:`fit_dask` (column names, priors, interval, ``progress``).

    Returns
    -------
    poolwise.stream.StreamedFit
    """
    _, distributed = _import_dask()
    columns = [options.get(name, name) for name in ("group", "successes", "trials")]
    source = os.fsdecode(os.fspath(data))
    with contextlib.ExitStack() as stack:
        if address == "local":
            # Any free port for the scheduler's web server: the default (8787) may be taken, by
            # another cluster for instance, and the cluster would then fail to start.
            cluster = stack.enter_context(distributed.LocalCluster(dashboard_address=":0"))
            address = cluster.scheduler_address
        client = stack.enter_context(distributed.Client(address))
        return fit_dask(read_parquet(source, columns), out, client=client, source=source, **options)
