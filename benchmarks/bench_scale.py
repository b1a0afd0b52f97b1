"""Scaling of the exact engine with the number of groups: in memory, and streamed from Parquet.

Each size runs in its own Python process, so that its peak memory (ru_maxrss) is its own. Rows:
groups, distinct (n, y) pairs, wall time of the fit with every group's summary, peak resident
memory. Also: exact leave-one-group-out CV of the three poolings on 1,000 groups (issue 5).

    python benchmarks/bench_scale.py                   # 1e3 .. 1e6 in memory, 1e6 streamed
    python benchmarks/bench_scale.py --max-groups 1e7  # adds 1e7 (streamed only; ~1 GB of disk)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
mode, groups, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import poolwise as pw
rng = np.random.default_rng(0)
if mode == "memory":
    n = 1 + rng.poisson(30, groups)
    y = rng.binomial(n, rng.beta(2, 8, groups))
    df = pd.DataFrame({"group": np.arange(groups).astype(str), "successes": y, "trials": n})
    start = time.perf_counter()
    fit = pw.fit(df, random_seed=0)
    table = fit.group_table()
    seconds = time.perf_counter() - start
    pairs = int(fit._posterior.pairs.count.size)
elif mode == "stream":
    from poolwise.stream import fit_parquet
    start = time.perf_counter()
    result = fit_parquet(path, path + ".out.parquet")
    seconds = time.perf_counter() - start
    pairs = result.n_pairs
else:  # logo
    from poolwise.comparison import compare
    n = 1 + rng.poisson(30, groups)
    y = rng.binomial(n, rng.beta(2, 8, groups))
    df = pd.DataFrame({"group": np.arange(groups).astype(str), "successes": y, "trials": n})
    fits = pw.fit_all(df, random_seed=0)
    start = time.perf_counter()
    compare(fits, psis=False)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    compare(fits, psis=True)
    psis = time.perf_counter() - start - seconds
    pairs = int(fits["partial"]._posterior.pairs.count.size)
    print(json.dumps({"seconds": seconds, "psis_seconds": psis, "pairs": pairs,
                      "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    sys.exit()
print(json.dumps({"seconds": seconds, "pairs": pairs,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _write_parquet(path: str, groups: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    schema = pa.schema([("group", pa.string()), ("successes", pa.int64()), ("trials", pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, groups, 1_000_000):
            m = min(1_000_000, groups - start)
            n = 1 + rng.poisson(30, m)
            y = rng.binomial(n, rng.beta(2, 8, m))
            labels = np.char.add("g", np.arange(start, start + m).astype(str))
            writer.write_table(pa.table({"group": labels, "successes": y, "trials": n}))


def _run(mode: str, groups: int, path: str = "-") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(groups), path], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Print the scaling table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-groups", type=float, default=1e6, help="largest size (default 1e6)")
    args = parser.parse_args(argv)
    sizes = [10**k for k in range(3, 8) if 10**k <= args.max_groups]
    print(f"{'groups':>12} {'path':>8} {'pairs':>7} {'seconds':>9} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for groups in sizes:
            if groups <= 1_000_000:
                r = _run("memory", groups)
                print(
                    f"{groups:>12,} {'memory':>8} {r['pairs']:>7,} {r['seconds']:>9.2f} {r['rss_mib']:>9.0f}"
                )
            if groups >= 1_000_000:
                path = os.path.join(tmp, f"groups_{groups}.parquet")
                _write_parquet(path, groups)
                r = _run("stream", groups, path)
                print(
                    f"{groups:>12,} {'stream':>8} {r['pairs']:>7,} {r['seconds']:>9.2f} {r['rss_mib']:>9.0f}"
                )
    r = _run("logo", 1000)
    print(
        f"\nexact LOGO-CV, 3 poolings, 1,000 groups ({r['pairs']} pairs): {r['seconds']:.2f} s; "
        f"PSIS-LOO of the same (needs the draws): {r['psis_seconds']:.2f} s"
    )
    print("budget: 1,000,000 groups in memory under 5 s and 2 GiB (DESIGN.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
