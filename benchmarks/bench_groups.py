"""The group level and the summaries (issue 15): wall times of four fits, before and after.

Run ``python benchmarks/bench_groups.py`` for the table of this checkout; ``--json FILE`` also
writes the figures, and ``--before FILE`` (figures written by an earlier run, e.g. on the parent
commit) adds them beside this run's with the ratio. Every figure is the minimum of ``--repeat``
warm runs in this process (after one untimed run): on a shared machine the minimum is the run
least disturbed by other work, and the table states the load average when it starts and ends.

Rows, with the data shapes they stand for:

- SpaceX (4 groups), the three poolings, each with its summary (HDI);
- 10,000 beta-binomial groups with trials ``1 + LogNormal(log 300, 1.2)`` (heavy-tailed: about
  9,000 distinct (n, y) pairs), partial pooling, summary of every group;
- 10,000 gamma-Poisson groups with real-valued exposures ``LogNormal(log 50, 1.5)`` (every pair
  distinct), partial pooling, summary of every group;
- the BUGS surgical data (12 hospitals) under the logit-normal family, partial pooling, summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence

from bench_budgets import SPACEX, SURGICAL, lognormal_trials, real_exposures
from bench_exact import _fmt_time, _machine, _table

import poolwise as pw


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` calls, after one untimed call that warms caches."""
    work()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def cases(groups: int) -> dict[str, tuple[Callable[[], object], int]]:
    """Each row's work and how many of ``--repeat`` it gets (the 10,000-group fits take seconds)."""
    spacex = pw.datasets.load("spacex")
    surgical = pw.datasets.load("surgical")
    counts = lognormal_trials(groups, seed=0)
    rates = real_exposures(groups, seed=0)
    pairs = len(counts[["trials", "successes"]].drop_duplicates())

    def three_poolings():
        return [f.summary() for f in pw.fit_all(spacex, **SPACEX, random_seed=1).values()]

    return {
        "SpaceX (4 groups), 3 poolings + summaries": (three_poolings, 0),
        f"{groups:,} groups, beta-binomial, trials 1 + LogNormal(log 300, 1.2) ({pairs:,} pairs)": (
            lambda: pw.fit(counts, group="group", successes="successes", trials="trials").summary(),
            3,
        ),
        f"{groups:,} groups, gamma-Poisson, exposures LogNormal(log 50, 1.5)": (
            lambda: pw.fit(rates, group="group", events="events", exposure="exposure").summary(),
            3,
        ),
        "surgical (12 groups), logit-normal partial": (
            lambda: pw.fit(surgical, **SURGICAL, family="logit-normal").summary(),
            3,
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=7, help="timed runs per row (at most 3 for the large ones)"
    )
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--json", help="write this run's figures (seconds per row) to this file")
    parser.add_argument("--before", help="figures of an earlier run (--json), shown beside this run's")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    figures = {}
    for name, (work, cap) in cases(args.groups).items():
        figures[name] = best_of(min(args.repeat, cap) if cap else args.repeat, work)
    load_end = os.getloadavg()
    before = json.load(open(args.before)) if args.before else {}
    rows = []
    for name, after in figures.items():
        earlier = before.get(name)
        ratio = [f"{earlier / after:.1f}x" if earlier else "-"] if before else []
        rows.append([name, *([_fmt_time(earlier)] if before else []), _fmt_time(after), *ratio])
    header = ["work", "before", "after", "speed-up"] if before else ["work", "time"]
    print(_machine())
    print(f"load average (1, 5, 15 min): start {load_start}, end {load_end} on {os.cpu_count()} cores")
    print(_table(header, rows, right=set(range(1, len(header)))))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
