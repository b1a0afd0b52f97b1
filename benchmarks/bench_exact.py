"""Timing and memory of poolwise's exact engine, printed as plain-text tables.

Run ``python benchmarks/bench_exact.py`` (``make bench``); ``--quick`` is a tiny smoke run (seconds)
for the test suite. See ``benchmarks/README.md`` for what each row means and for the budgets
(``DESIGN.md``, section "Budgets").

Cold figures and every synthetic size run in their own fresh interpreter (``sys.executable -c``),
so a cold time includes the lazy imports ``poolwise`` does on first use and a peak RSS belongs to
one size only. PyMC is not imported. A last table times the normal-normal family (estimates with
standard errors, partial pooling) on 10 and 10,000 groups, and another the logit-normal binomial
family and the gamma-Poisson family (partial pooling) on 10 and 10,000 groups each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
POOLINGS = ("none", "complete", "partial")
SUBPROCESS_TIMEOUT = 1800  # seconds, per fresh interpreter

# Budgets from DESIGN.md ("Budgets"); the synthetic one is stated for 1,000,000 groups on 2 cores.
SPACEX_WARM_BUDGET_S = 0.050
LARGE_GROUPS = 1_000_000
LARGE_TIME_BUDGET_S = 5.0
LARGE_RSS_BUDGET_KIB = 2 * 1024 * 1024

# --------------------------------------------------------------------------- fresh interpreters
# Both snippets print one JSON object on their last line of stdout.

COLD_SPACEX = r"""
import json, time
t0 = time.perf_counter()
import poolwise as pw
t1 = time.perf_counter()
df = pw.datasets.load("spacex")
t2 = time.perf_counter()
fits = pw.fit_all(df, group="Mission", successes="y", trials="N", random_seed=0)
for f in fits.values():
    f.summary()
t3 = time.perf_counter()
fits["partial"].idata
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "fit": t3 - t2, "idata": t4 - t3}))
"""

SYNTHETIC = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd

groups, seed, repeat = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
trials_dist = sys.argv[3]
KIB = 1024 if sys.platform == "darwin" else 1   # ru_maxrss is bytes on macOS, KiB on Linux

def rss_kib():
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * (resource.getpagesize() // 1024)
    except OSError:
        return None

import poolwise as pw
# Warm up on SpaceX so the timed fit excludes poolwise's lazy imports.
pw.fit(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N",
       pooling="partial", random_seed=0).summary()

rng = np.random.default_rng(seed)
if trials_dist == "poisson":
    n = 1 + rng.poisson(30, size=groups)
else:   # lognormal spread: median 30 trials, long right tail
    n = 1 + np.floor(rng.lognormal(np.log(30), 1.0, size=groups)).astype(np.int64)
theta = rng.beta(2.0, 8.0, size=groups)
y = rng.binomial(n, theta)
df = pd.DataFrame({"group": np.char.add("g", np.arange(groups).astype(str)),
                   "successes": y, "trials": n})
distinct = int(np.unique(np.stack([n, y], axis=1), axis=0).shape[0])
rss_before = rss_kib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // KIB

times, fit_only = [], []
for _ in range(repeat):
    t0 = time.perf_counter()
    fit = pw.fit(df, group="group", successes="successes", trials="trials",
                 pooling="partial", random_seed=0)
    t1 = time.perf_counter()
    fit.summary()
    t2 = time.perf_counter()
    times.append(t2 - t0)
    fit_only.append(t1 - t0)
    diagnostics = fit.diagnostics
    del fit

peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // KIB
print(json.dumps({
    "groups": groups, "distinct": distinct, "times": times, "fit_only": fit_only,
    "rss_before_kib": rss_before, "peak_before_kib": peak_before, "peak_kib": peak,
    "grid_nodes": diagnostics.get("grid_nodes"), "converged": diagnostics.get("converged"),
    "max_change": diagnostics.get("max_change"), "edge_mass": diagnostics.get("edge_mass"),
}, default=str))
"""


NORMAL = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd

groups, seed, repeat = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
KIB = 1024 if sys.platform == "darwin" else 1

import poolwise as pw
schools = pd.DataFrame({"y": [28.0, 8, -3, 7, -1, 1, 18, 12], "s": [15.0, 10, 16, 11, 9, 11, 10, 18]})
pw.fit(schools, estimate="y", std_error="s", random_seed=0).summary()  # warm-up: lazy imports

rng = np.random.default_rng(seed)
s = rng.uniform(5.0, 20.0, size=groups)
y = rng.normal(rng.normal(5.0, 8.0, size=groups), s)
df = pd.DataFrame({"study": np.char.add("s", np.arange(groups).astype(str)), "y": y, "s": s})
times, fit_only = [], []
for _ in range(repeat):
    t0 = time.perf_counter()
    fit = pw.fit(df, group="study", estimate="y", std_error="s", random_seed=0)
    t1 = time.perf_counter()
    fit.summary()
    t2 = time.perf_counter()
    times.append(t2 - t0)
    fit_only.append(t1 - t0)
    diagnostics = fit.diagnostics
    del fit
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // KIB
print(json.dumps({
    "groups": groups, "times": times, "fit_only": fit_only, "peak_kib": peak,
    "grid_nodes": diagnostics.get("grid_nodes"), "group_grid_nodes": diagnostics.get("group_grid_nodes"),
    "converged": diagnostics.get("converged"), "max_change": diagnostics.get("max_change"),
}, default=str))
"""


FAMILY = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd

groups, seed, repeat, family = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
KIB = 1024 if sys.platform == "darwin" else 1

import poolwise as pw
rng = np.random.default_rng(seed)
labels = np.char.add("g", np.arange(groups).astype(str))
if family == "logit-normal":
    columns = {"group": "group", "successes": "y", "trials": "n", "family": "logit-normal"}
    pw.fit(pw.datasets.load("surgical"), group="hospital", successes="r", trials="n",
           family="logit-normal", random_seed=0).summary()  # warm-up: lazy imports
    n = 1 + rng.poisson(30, size=groups)
    y = rng.binomial(n, 1 / (1 + np.exp(-rng.normal(-1.5, 0.5, size=groups))))
    df = pd.DataFrame({"group": labels, "y": y, "n": n})
    distinct = len(set(zip(n.tolist(), y.tolist())))
else:
    columns = {"group": "group", "events": "y", "exposure": "e"}
    pw.fit(pw.datasets.load("pumps"), group="pump", events="failures", exposure="hours",
           random_seed=0).summary()  # warm-up: lazy imports
    e = np.round(rng.lognormal(np.log(10.0), 1.0, size=groups), 2)  # exposures as a log would record them
    y = rng.poisson(e * rng.gamma(2.0, 1 / 4.0, size=groups))
    df = pd.DataFrame({"group": labels, "y": y, "e": e})
    distinct = len(set(zip(e.tolist(), y.tolist())))
times, fit_only = [], []
for _ in range(repeat):
    t0 = time.perf_counter()
    fit = pw.fit(df, **columns, random_seed=0)
    t1 = time.perf_counter()
    fit.summary()
    t2 = time.perf_counter()
    times.append(t2 - t0)
    fit_only.append(t1 - t0)
    diagnostics = fit.diagnostics
    del fit
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // KIB
print(json.dumps({
    "groups": groups, "distinct": distinct, "times": times, "fit_only": fit_only, "peak_kib": peak,
    "grid_nodes": diagnostics.get("grid_nodes"), "group_grid_nodes": diagnostics.get("group_grid_nodes"),
    "converged": diagnostics.get("converged"), "max_change": diagnostics.get("max_change"),
}, default=str))
"""

#: The families timed by :data:`FAMILY`: the title of their table and their distinct-data column.
FAMILY_TABLES = {
    "logit-normal": (
        "Logit-normal, partial pooling (mu ~ Normal(0, 1.5), sigma ~ HalfNormal(1)): n_i ~ 1 + Poisson(30), "
        "logit theta_i ~ N(-1.5, 0.5^2), y_i ~ Binomial(n_i, theta_i)",
        "distinct (n,y)",
    ),
    "gamma-poisson": (
        "Gamma-Poisson, partial pooling (alpha ~ Exponential(1), beta ~ Gamma(0.1, 1)): "
        "E_i ~ LogNormal(log 10, 1) rounded to 0.01, theta_i ~ Gamma(2, 4), y_i ~ Poisson(E_i theta_i)",
        "distinct (E,y)",
    ),
}


def _run_fresh(code: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter; return its JSON result and the process wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


# --------------------------------------------------------------------------- in-process timing


def _time(func: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> list[float]:
    """Wall times of ``repeat`` calls of ``func(setup())`` (or ``func()``), after one warm-up."""

    def once() -> float:
        arg = setup() if setup is not None else None
        gc.collect()
        t0 = time.perf_counter()
        func(arg) if setup is not None else func()
        return time.perf_counter() - t0

    once()
    return [once() for _ in range(repeat)]


def _spacex_warm(repeat: int) -> dict[str, list[float]]:
    import poolwise as pw

    df = pw.datasets.load("spacex")

    def all_three() -> None:
        for f in pw.fit_all(df, **SPACEX, random_seed=0).values():
            f.summary()

    def one(pooling: str) -> Callable[[], None]:
        return lambda: pw.fit(df, **SPACEX, pooling=pooling, random_seed=0).summary()

    def fresh_partial():
        return pw.fit(df, **SPACEX, pooling="partial", random_seed=0)

    out = {"all": _time(all_three, repeat)}
    for pooling in POOLINGS:
        out[pooling] = _time(one(pooling), repeat)
    out["idata"] = _time(lambda fit: fit.idata, repeat, setup=fresh_partial)
    return out


# --------------------------------------------------------------------------- formatting


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _fmt_kib(kib: float | None) -> str:
    if kib is None:
        return "-"
    if kib >= 1024 * 1024:
        return f"{kib / 1024 / 1024:.2f} GiB"
    return f"{kib / 1024:.0f} MiB"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _fmt_budget(seconds: float) -> str:
    return f"< {seconds * 1e3:g} ms" if seconds < 1.0 else f"< {seconds:g} s"


def _status(value: float, budget: float) -> str:
    return "ok" if value < budget else "OVER"


def _machine() -> str:
    import numpy
    import pandas
    import scipy

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = os.cpu_count()
    try:
        from importlib.metadata import version

        poolwise_version = version("poolwise")
    except Exception:  # noqa: BLE001 - informative only
        poolwise_version = "?"
    threads = {
        k: os.environ[k]
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    }
    lines = [
        f"machine : {platform.platform()} ({platform.machine()}), nproc {affinity} "
        f"(cpu_count {os.cpu_count()})"
        + (f", {' '.join(f'{k}={v}' for k, v in threads.items())}" if threads else ""),
        f"python  : {platform.python_version()} ({platform.python_implementation()}) {sys.executable}",
        f"versions: poolwise {poolwise_version}, numpy {numpy.__version__}, "
        f"scipy {scipy.__version__}, pandas {pandas.__version__}",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time poolwise's exact engine on SpaceX (all three poolings, warm and cold) "
        "and on synthetic data with many groups (partial pooling, time and peak RSS)."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny smoke run (seconds): 200 groups, 2 warm repeats, 1 cold run",
    )
    parser.add_argument(
        "--groups",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="synthetic group counts, each fitted in its own fresh interpreter "
        "(default 10000; e.g. --groups 10000 1000000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="R",
        help="warm in-process repeats of each SpaceX measurement (default 20)",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=None,
        metavar="K",
        help="fresh interpreters for the cold SpaceX figures (default 3)",
    )
    parser.add_argument(
        "--synthetic-repeat",
        type=int,
        default=None,
        metavar="S",
        help="timed fits per synthetic size, in its interpreter (default 3)",
    )
    parser.add_argument(
        "--trials",
        choices=("poisson", "lognormal"),
        default="poisson",
        help="synthetic trials: 1 + Poisson(30), or 1 + floor(LogNormal(log 30, 1))",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument(
        "--normal-groups",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="normal-normal group counts, each fitted in its own fresh interpreter (default 10 10000)",
    )
    parser.add_argument(
        "--logit-groups",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="logit-normal group counts, each fitted in its own fresh interpreter (default 10 10000)",
    )
    parser.add_argument(
        "--gamma-groups",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="gamma-Poisson group counts, each fitted in its own fresh interpreter (default 10 10000)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    quick = args.quick
    groups = args.groups or ([200] if quick else [10_000])
    normal_groups = args.normal_groups or ([10, 200] if quick else [10, 10_000])
    logit_groups = args.logit_groups or ([10, 200] if quick else [10, 10_000])
    gamma_groups = args.gamma_groups or ([10, 200] if quick else [10, 10_000])
    repeat = args.repeat if args.repeat is not None else (2 if quick else 20)
    cold_runs = args.cold_runs if args.cold_runs is not None else (1 if quick else 3)
    syn_repeat = args.synthetic_repeat if args.synthetic_repeat is not None else (1 if quick else 3)
    for name, value in (
        ("--repeat", repeat),
        ("--cold-runs", cold_runs),
        ("--synthetic-repeat", syn_repeat),
        *(("--groups", g) for g in groups),
        *(("--normal-groups", g) for g in normal_groups),
        *(("--logit-groups", g) for g in logit_groups),
        *(("--gamma-groups", g) for g in gamma_groups),
    ):
        if value < 1:
            parser.error(f"{name} must be >= 1, got {value}")

    started = time.perf_counter()
    print("poolwise exact-engine benchmark" + (" (--quick smoke run)" if quick else ""))
    print(_machine())
    print(
        f"settings: warm repeats {repeat}, cold runs {cold_runs}, synthetic groups "
        f"{', '.join(f'{g:,}' for g in groups)} x {syn_repeat} fits, trials {args.trials}, "
        f"seed {args.seed}"
    )
    print()

    # 1. SpaceX --------------------------------------------------------------------------------
    cold = [_run_fresh(COLD_SPACEX) for _ in range(cold_runs)]
    warm = _spacex_warm(repeat)

    def timed_row(label: str, values: list[float], budget: float | None = None) -> list[str]:
        med, low = statistics.median(values), min(values)
        return [
            label,
            _fmt_time(med),
            _fmt_time(low),
            str(len(values)),
            _fmt_budget(budget) if budget else "-",
            _status(med, budget) if budget else "",
        ]

    c = [r for r, _ in cold]
    rows = [
        timed_row("warm: fit_all + 3 summaries", warm["all"], SPACEX_WARM_BUDGET_S),
        *(timed_row(f"warm: fit + summary, {p}", warm[p]) for p in POOLINGS),
        timed_row("warm: partial fit.idata (4x1000 draws)", warm["idata"]),
        timed_row("cold: fit_all + 3 summaries", [r["fit"] for r in c]),
        timed_row(
            "cold: import + load + fit_all + summaries",
            [r["import"] + r["load"] + r["fit"] for r in c],
        ),
        timed_row("cold: import poolwise alone", [r["import"] for r in c]),
        timed_row("cold: pw.datasets.load('spacex')", [r["load"] for r in c]),
        timed_row("cold: partial fit.idata, first access", [r["idata"] for r in c]),
        timed_row("cold: whole `python -c` process", [w for _, w in cold]),
    ]
    print("SpaceX (4 groups), pw.fit_all(...) then .summary() on each fit")
    print(_table(["measurement", "median", "min", "runs", "budget", "status"], rows, right={1, 2, 3}))
    print()

    # 2. Synthetic -----------------------------------------------------------------------------
    trials_text = {"poisson": "1 + Poisson(30)", "lognormal": "1 + floor(LogNormal(log 30, 1))"}[args.trials]
    syn_rows = []
    for g in groups:
        r, _ = _run_fresh(SYNTHETIC, str(g), str(args.seed), args.trials, str(syn_repeat))
        med = statistics.median(r["times"])
        if g >= LARGE_GROUPS:
            status = "/".join(
                [_status(med, LARGE_TIME_BUDGET_S), _status(r["peak_kib"], LARGE_RSS_BUDGET_KIB)]
            )
        elif med >= LARGE_TIME_BUDGET_S or r["peak_kib"] >= LARGE_RSS_BUDGET_KIB:
            status = "OVER"  # already over the 1e6-group budget with fewer groups
        else:
            status = "(1e6 only)"
        max_change = r["max_change"]
        syn_rows.append(
            [
                f"{g:,}",
                f"{r['distinct']:,}",
                _fmt_time(med),
                _fmt_time(min(r["times"])),
                _fmt_time(statistics.median(r["fit_only"])),
                str(r["grid_nodes"]),
                str(r["converged"]),
                f"{max_change:.1e}" if isinstance(max_change, float) else str(max_change),
                f"{r['edge_mass']:.1e}" if isinstance(r["edge_mass"], float) else str(r["edge_mass"]),
                _fmt_kib(r["rss_before_kib"]),
                _fmt_kib(r["peak_kib"]),
                status,
            ]
        )
    print(
        f"Synthetic, partial pooling: theta_i ~ Beta(2, 8), n_i ~ {trials_text}, "
        f"y_i ~ Binomial(n_i, theta_i), seed {args.seed}"
    )
    print(
        f"budget at {LARGE_GROUPS:,} groups: fit + summary < {LARGE_TIME_BUDGET_S:g} s and "
        f"peak RSS < {LARGE_RSS_BUDGET_KIB / 1024**2:g} GiB on 2 cores"
    )
    print(
        _table(
            [
                "groups",
                "distinct (n,y)",
                "fit+summary",
                "min",
                "fit only",
                "grid",
                "converged",
                "max_change",
                "edge_mass",
                "RSS before",
                "peak RSS",
                "status",
            ],
            syn_rows,
            right={0, 1, 2, 3, 4, 7, 8, 9, 10},
        )
    )
    print()

    # 3. Normal-normal --------------------------------------------------------------------------
    normal_rows = []
    for g in normal_groups:
        r, _ = _run_fresh(NORMAL, str(g), str(args.seed), str(syn_repeat))
        normal_rows.append(
            [
                f"{g:,}",
                _fmt_time(statistics.median(r["times"])),
                _fmt_time(min(r["times"])),
                _fmt_time(statistics.median(r["fit_only"])),
                f"{r['grid_nodes']} / {r['group_grid_nodes']}",
                str(r["converged"]),
                f"{r['max_change']:.1e}" if isinstance(r["max_change"], float) else str(r["max_change"]),
                _fmt_kib(r["peak_kib"]),
            ]
        )
    print(
        "Normal-normal, partial pooling (mu flat, tau uniform): s_i ~ Uniform(5, 20), "
        f"theta_i ~ N(5, 8^2), y_i ~ N(theta_i, s_i^2), seed {args.seed}"
    )
    print(
        _table(
            [
                "groups",
                "fit+summary",
                "min",
                "fit only",
                "tau nodes (hyper / groups)",
                "converged",
                "max_change",
                "peak RSS",
            ],
            normal_rows,
            right={0, 1, 2, 3, 6, 7},
        )
    )
    print()

    # 4. Logit-normal and gamma-Poisson ---------------------------------------------------------
    for family, sizes in (("logit-normal", logit_groups), ("gamma-poisson", gamma_groups)):
        rows = []
        for g in sizes:
            r, _ = _run_fresh(FAMILY, str(g), str(args.seed), str(syn_repeat), family)
            rows.append(
                [
                    f"{g:,}",
                    f"{r['distinct']:,}",
                    _fmt_time(statistics.median(r["times"])),
                    _fmt_time(min(r["times"])),
                    _fmt_time(statistics.median(r["fit_only"])),
                    f"{r['grid_nodes']} / {r['group_grid_nodes']}",
                    str(r["converged"]),
                    f"{r['max_change']:.1e}" if isinstance(r["max_change"], float) else str(r["max_change"]),
                    _fmt_kib(r["peak_kib"]),
                ]
            )
        title, distinct = FAMILY_TABLES[family]
        print(f"{title}, seed {args.seed}")
        print(
            _table(
                [
                    "groups",
                    distinct,
                    "fit+summary",
                    "min",
                    "fit only",
                    "grid (hyper / groups)",
                    "converged",
                    "max_change",
                    "peak RSS",
                ],
                rows,
                right={0, 1, 2, 3, 4, 7, 8},
            )
        )
        print()
    print(f"total benchmark wall time: {_fmt_time(time.perf_counter() - started)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
