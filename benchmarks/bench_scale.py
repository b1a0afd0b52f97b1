"""Scaling with the number of groups: in memory, streamed from Parquet, on Dask, and PyMC NUTS.

Each measurement runs in its own Python process, so that its peak memory (ru_maxrss) is its own.
One row per size: distinct (n, y) pairs, then wall time and peak resident memory of each path:

- memory: ``pw.fit(df)`` (partial pooling) and ``fit.group_table()`` (every group's summary);
- stream: ``poolwise.fitting.stream.fit_parquet`` on one Parquet file, writing every group's summary;
- dask: ``poolwise.fitting.distributed.fit_dask`` on a LocalCluster of 2 worker processes (1 thread each)
  over a directory of Parquet files (one partition each), writing every group's summary; peak memory
  of the driver and of the larger worker. Cluster start-up is not in the time (printed apart);
- nuts: ``pw.fit(df, engine="nuts")``, the seed's centred model, PyMC compilation included, for the
  sizes up to ``--nuts-max-groups`` (beyond, NUTS is skipped with a note). 1,000 groups take well
  under a minute; 10,000 had not finished after 24 minutes on the 2-core development machine.

Data: ``n_i ~ 1 + Poisson(30)``, ``theta_i ~ Beta(2, 8)``, ``y_i ~ Binomial(n_i, theta_i)``, labels
``g0, g1, ...``, drawn in chunks of at most 250,000 groups (the Parquet files), the same for every path.
Also: exact leave-one-group-out CV of the three poolings on 1,000 groups (issue 5).

    python benchmarks/bench_scale.py                   # 1e3 .. 1e6
    python benchmarks/bench_scale.py --max-groups 1e7  # adds 1e7 (stream and dask; ~1 GB of disk)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

#: Largest Parquet file (and Dask partition) of the generated data, in groups.
CHUNK = 250_000

#: NUTS settings: the seed analysis's target_accept and chains, fewer draws (see --nuts-draws).
NUTS = {"tune": 1000, "chains": 4, "target_accept": 0.95}

CHILD = r"""
import json, resource, sys, time, warnings
mode, groups, path, nuts = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
import pandas as pd
import poolwise as pw

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

out = {}
if mode in ("memory", "nuts", "logo"):
    df = pd.read_parquet(path)
if mode == "memory":
    start = time.perf_counter()
    fit = pw.fit(df, random_seed=0)
    table = fit.group_table()
    out["seconds"] = time.perf_counter() - start
    out["pairs"] = int(fit.posterior.pairs.count.size)
elif mode == "stream":
    from poolwise.fitting.stream import fit_parquet
    start = time.perf_counter()
    out["pairs"] = fit_parquet(path, path + ".out.parquet").n_pairs
    out["seconds"] = time.perf_counter() - start
elif mode == "dask":
    from distributed import Client, LocalCluster
    from poolwise.fitting.distributed import fit_dask, read_parquet
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        out["startup"] = time.perf_counter() - start
        start = time.perf_counter()
        ddf = read_parquet(path, ["group", "successes", "trials"])
        out["pairs"] = fit_dask(ddf, path + ".out", client=client).n_pairs
        out["seconds"] = time.perf_counter() - start
        workers = client.run(peak_mib)
    out["worker_mib"] = max(workers.values())
elif mode == "nuts":
    start = time.perf_counter()
    with warnings.catch_warnings(record=True):  # divergences etc.: the diagnostics carry them
        warnings.simplefilter("always")
        fit = pw.fit(df, engine="nuts", random_seed=0, progressbar=False, **nuts)
        fit.summary()
    out["seconds"] = time.perf_counter() - start
    out["divergences"] = int(fit.diagnostics["divergences"])
    out["r_hat_max"] = float(fit.diagnostics["r_hat_max"])
else:  # logo
    from poolwise.analysis.comparison import compare
    fits = pw.fit_all(df, random_seed=0)
    start = time.perf_counter()
    compare(fits, psis=False)
    out["seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    compare(fits, psis=True)
    out["psis_seconds"] = time.perf_counter() - start - out["seconds"]
    out["pairs"] = int(fits["partial"].posterior.pairs.count.size)
out["rss_mib"] = peak_mib()
print(json.dumps(out))
"""


def _write_data(folder: str, groups: int) -> tuple[str, str]:
    """Write the data as one Parquet file and as a directory of files; return both paths."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    chunk = min(CHUNK, math.ceil(groups / 4))  # at least 4 partitions for the 2 Dask workers
    single, parts = os.path.join(folder, "groups.parquet"), os.path.join(folder, "groups")
    os.makedirs(parts)
    schema = pa.schema([("group", pa.string()), ("successes", pa.int64()), ("trials", pa.int64())])
    with pq.ParquetWriter(single, schema) as writer:
        for i, start in enumerate(range(0, groups, chunk)):
            m = min(chunk, groups - start)
            n = 1 + rng.poisson(30, m)
            y = rng.binomial(n, rng.beta(2, 8, m))
            labels = np.char.add("g", np.arange(start, start + m).astype(str))
            table = pa.table({"group": labels, "successes": y, "trials": n}, schema=schema)
            writer.write_table(table)
            pq.write_table(table, os.path.join(parts, f"part{i:05d}.parquet"))
    return single, parts


def _run(mode: str, groups: int, path: str, nuts: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(groups), path, json.dumps(nuts or {})],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cell(result: dict | None, key: str, fmt: str) -> str:
    """Format ``result[key]``, or a dash as wide, for a path not run at this size."""
    return "-".rjust(int(fmt.split(".")[0])) if result is None else format(result[key], fmt)


def main(argv: list[str] | None = None) -> int:
    """Print the scaling table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-groups", type=float, default=1e6, help="largest size (default 1e6)")
    parser.add_argument(
        "--memory-max-groups", type=float, default=1e6, help="largest size fitted in memory (default 1e6)"
    )
    parser.add_argument(
        "--nuts-max-groups", type=float, default=1e3, help="largest size sampled by NUTS (default 1e3)"
    )
    parser.add_argument("--nuts-draws", type=int, default=1000, help="NUTS draws per chain (default 1000)")
    args = parser.parse_args(argv)
    nuts = {**NUTS, "draws": args.nuts_draws}
    sizes = [10**k for k in range(3, 8) if 10**k <= args.max_groups]
    header = (
        f"{'groups':>12} {'pairs':>6} | {'memory s':>8} {'MiB':>5} | {'stream s':>8} {'MiB':>5} | "
        f"{'dask s':>7} {'driver':>6} {'worker':>6} | {'nuts s':>7} {'MiB':>5}"
    )
    print(header)
    print("-" * len(header))
    startup = []
    with tempfile.TemporaryDirectory() as tmp:
        for groups in sizes:
            folder = os.path.join(tmp, str(groups))
            os.makedirs(folder)
            single, parts = _write_data(folder, groups)
            memory = _run("memory", groups, single) if groups <= args.memory_max_groups else None
            stream = _run("stream", groups, single)
            dask = _run("dask", groups, parts)
            startup.append(dask["startup"])
            nuts_run = _run("nuts", groups, single, nuts) if groups <= args.nuts_max_groups else None
            print(
                f"{groups:>12,} {stream['pairs']:>6,} | {_cell(memory, 'seconds', '8.2f')} "
                f"{_cell(memory, 'rss_mib', '5.0f')} | {stream['seconds']:>8.2f} {stream['rss_mib']:>5.0f} | "
                f"{dask['seconds']:>7.2f} {dask['rss_mib']:>6.0f} {dask['worker_mib']:>6.0f} | "
                f"{_cell(nuts_run, 'seconds', '7.1f')} {_cell(nuts_run, 'rss_mib', '5.0f')}",
                flush=True,
            )
            if nuts_run is not None:
                print(
                    f"{'':>12}   nuts: {nuts_run['divergences']} divergences, max r_hat "
                    f"{nuts_run['r_hat_max']:.3f}",
                    flush=True,
                )
        logo = os.path.join(tmp, "logo")
        os.makedirs(logo)
        r = _run("logo", 1000, _write_data(logo, 1000)[0])
    print(
        f"\nseconds: wall time of the fit with every group's summary; MiB: peak resident memory of the "
        f"process (dask: driver, and the larger of the 2 workers). Dask LocalCluster start-up, not "
        f"timed above: {min(startup):.1f}-{max(startup):.1f} s. NUTS: the seed's centred model, "
        f"{nuts['chains']} chains x ({nuts['tune']} tune + {nuts['draws']} draws), target_accept "
        f"{nuts['target_accept']} (the seed: 5000 + 5000), compilation included; skipped above "
        f"{args.nuts_max_groups:,.0f} groups (each tenfold costs NUTS at least tenfold: every theta_i is "
        "sampled)."
    )
    if args.memory_max_groups < args.max_groups:
        print(f"in memory: skipped above {args.memory_max_groups:,.0f} groups (the streamed paths cover it)")
    print(
        f"exact LOGO-CV, 3 poolings, 1,000 groups ({r['pairs']} pairs): {r['seconds']:.2f} s; "
        f"PSIS-LOO of the same (needs the draws): {r['psis_seconds']:.2f} s"
    )
    print("budget: 1,000,000 groups in memory under 5 s and 2 GiB (DESIGN.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
