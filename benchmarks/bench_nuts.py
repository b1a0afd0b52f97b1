"""Exact engine against PyMC's NUTS, side by side in one run, printed as plain-text tables.

Run ``python benchmarks/bench_nuts.py`` (the seed's settings: 5000 draws after 5000 tuning steps,
4 chains, target_accept 0.95; slow) or ``--quick`` (a smoke run). For SpaceX and a synthetic set of
1,000 groups, all three poolings are fitted by the exact engine and by NUTS in both
parametrisations of partial pooling (the seed's centred model, and the marginal one); no and
complete pooling are the same model in both.

Each engine runs in its own fresh interpreter (``sys.executable -c``): ``cold`` is ``import
poolwise``, the first fit of each pooling and its summaries, PyMC's import and compilation
included; ``warm`` the same fits again in that process (the median of several passes for the exact
engine, one pass for NUTS). PyTensor's on-disk compilation cache is warm after the first NUTS run,
as it is for a user who has used PyMC before.

Errors are the largest absolute difference, over every reported quantity (theta of each group,
alpha, beta, mu, kappa, theta_new) and every statistic (mean, 2.5% and 97.5% quantiles), from a
converged exact reference (the exact engine at ``tol=1e-7``), split into rates (theta, mu,
theta_new) and the unbounded alpha, beta, kappa.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence

from bench_exact import _fmt_time, _machine, _run_fresh, _table

# Partial first, so that its first fit in a fresh interpreter is its cold time.
POOLINGS = ("partial", "none", "complete")
SEED_SETTINGS = {"draws": 5000, "tune": 5000, "chains": 4, "target_accept": 0.95}
QUICK_SETTINGS = {"draws": 200, "tune": 200, "chains": 2, "target_accept": 0.95}
DESIGN_RATIO = 1000  # DESIGN.md: exact at least 1000x faster than pm.sample, seed settings, SpaceX
RATES = ("theta", "mu", "theta_new")

# One engine in a fresh interpreter; prints one JSON object on its last line of stdout.
CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
import poolwise as pw
import numpy as np, pandas as pd
t_import = time.perf_counter() - t0
spec = json.loads(sys.argv[1])

def load(spec):
    if spec["dataset"] == "spacex":
        return pw.datasets.load("spacex"), {"group": "Mission", "successes": "y", "trials": "N"}
    rng = np.random.default_rng(spec["seed"])
    n = 1 + rng.poisson(30, size=spec["groups"])
    y = rng.binomial(n, rng.beta(2.0, 8.0, size=spec["groups"]))
    df = pd.DataFrame({"group": np.char.add("g", np.arange(n.size).astype(str)), "successes": y, "trials": n})
    return df, {"group": "group", "successes": "successes", "trials": "trials"}

def values(fit):
    table = fit.summary(ci_kind="eti", ci_prob=0.95)
    out = {k: [r["mean"], r["eti95_lb"], r["eti95_ub"]] for k, r in table.iterrows()}
    new = fit.new_group(ci_kind="eti", ci_prob=0.95).summary
    out["theta_new"] = [new["mean"], new["eti95_lb"], new["eti95_ub"]]
    return out

data, cols = load(spec)
kwargs = dict(engine=spec["engine"], random_seed=0, **spec["settings"])
if spec["engine"] == "nuts":
    kwargs["progressbar"] = False
passes, result = [], {"import": t_import, "values": {}, "diagnostics": {}}
for _ in range(spec["passes"]):
    times = {}
    for pooling in spec["poolings"]:
        t = time.perf_counter()
        with warnings.catch_warnings(record=True):  # the diagnostics carry what they say
            warnings.simplefilter("always")
            fit = pw.fit(data, **cols, pooling=pooling, **kwargs)
        result["values"][pooling] = values(fit)
        times[pooling] = time.perf_counter() - t
        result["diagnostics"][pooling] = fit.diagnostics
    passes.append(times)
result["passes"] = passes
print(json.dumps(result, default=float))
"""


def _reference(dataset: str, groups: int, seed: int) -> tuple[dict, dict]:
    """The converged exact answers (tol=1e-7), in the children's format, and how far they moved."""
    spec = {"dataset": dataset, "groups": groups, "seed": seed, "engine": "exact", "passes": 1}
    spec["settings"] = {"tol": 1e-7}
    spec["poolings"] = list(POOLINGS)
    result, _ = _run_fresh(CHILD, json.dumps(spec))
    return result["values"], result["diagnostics"]["partial"]


def _errors(values: dict, reference: dict, poolings: Sequence[str]) -> tuple[float, float]:
    """Largest absolute error over rates, and over alpha, beta, kappa."""
    rates, scales = 0.0, 0.0
    for pooling in poolings:
        for label, got in values[pooling].items():
            err = max(abs(a - b) for a, b in zip(got, reference[pooling][label], strict=True))
            if label.split("[")[0] in RATES:
                rates = max(rates, err)
            else:
                scales = max(scales, err)
    return rates, scales


def _run_engine(
    dataset: str, groups: int, seed: int, engine: str, settings: dict, passes: int, poolings=POOLINGS
) -> dict:
    spec = {"dataset": dataset, "groups": groups, "seed": seed, "engine": engine, "passes": passes}
    spec["settings"] = settings
    spec["poolings"] = list(poolings)
    result, _ = _run_fresh(CHILD, json.dumps(spec))
    first, warm = result["passes"][0], result["passes"][1:]
    result["cold"] = result["import"] + sum(first.values())
    result["warm"] = statistics.median(sum(p.values()) for p in warm)
    result["cold_partial"] = result["import"] + first["partial"]
    result["warm_partial"] = statistics.median(p["partial"] for p in warm)
    return result


def _dataset_tables(label: str, dataset: str, groups: int, seed: int, settings: dict, repeat: int) -> str:
    reference, grid = _reference(dataset, groups, seed)
    runs = {
        "exact": _run_engine(dataset, groups, seed, "exact", {}, 1 + repeat),
        "centered": _run_engine(
            dataset, groups, seed, "nuts", {**settings, "parametrization": "centered"}, 2
        ),
        # No and complete pooling are the same model in both parametrisations: sampled once, above.
        "marginal": _run_engine(
            dataset, groups, seed, "nuts", {**settings, "parametrization": "marginal"}, 2, ("partial",)
        ),
    }
    exact_warm = runs["exact"]["warm"]
    rows = []
    for name in ("exact", "centered"):
        run = runs[name]
        rates, scales = _errors(run["values"], reference, POOLINGS)
        row = [
            "exact" if name == "exact" else f"nuts, {name}" + (" (seed)" if name == "centered" else ""),
            _fmt_time(run["cold"]),
            _fmt_time(run["warm"]),
            f"{rates:.1e}",
            f"{scales:.1e}",
        ]
        if name == "exact":
            row += ["-", "-", "-", "1"]
        else:
            d = run["diagnostics"]
            ess = min(d[p]["ess_bulk_min"] for p in POOLINGS)
            row += [
                f"{ess:.0f}",
                "/".join(str(d[p]["divergences"]) for p in ("none", "complete", "partial")),
                f"{ess / run['warm']:.0f}",
                f"{run['warm'] / exact_warm:,.0f}x",
            ]
        rows.append(row)
    out = [
        f"{label}: reference = exact engine at tol=1e-7 (grid {grid['grid_nodes']}, last change "
        f"{grid['max_change']:.1e}; an exact error of 0 means the default run stopped on that grid)",
        "",
        f"{label}: all three poolings (fit + summaries of each)",
        _table(
            [
                "engine",
                "cold",
                "warm",
                "max |err| rates",
                "max |err| a,b,kappa",
                "min ESS",
                "divergences n/c/p",
                "ESS/s",
                "warm time / exact",
            ],
            rows,
            right={1, 2, 3, 4, 5, 7, 8},
        ),
    ]
    exact_partial = runs["exact"]["warm_partial"]
    rates, scales = _errors(runs["exact"]["values"], reference, ("partial",))
    partial = [
        ["exact", _fmt_time(runs["exact"]["cold_partial"]), _fmt_time(exact_partial)]
        + ["-"] * 6
        + [f"{rates:.1e}", f"{scales:.1e}", "1"]
    ]
    for name in ("centered", "marginal"):
        run = runs[name]
        d = run["diagnostics"]["partial"]
        rates, scales = _errors(run["values"], reference, ("partial",))
        partial.append(
            [
                f"nuts, {name}" + (" (seed)" if name == "centered" else ""),
                _fmt_time(run["cold_partial"]),
                _fmt_time(run["warm_partial"]),
                str(d["divergences"]),
                f"{d['ess_bulk_min']:.0f}",
                f"{d['ess_tail_min']:.0f}",
                f"{d['r_hat_max']:.3f}",
                f"{d['sampling_time']:.1f} s",
                f"{d['ess_bulk_min'] / run['warm_partial']:.0f}",
                f"{rates:.1e}",
                f"{scales:.1e}",
                f"{run['warm_partial'] / exact_partial:,.0f}x",
            ]
        )
    out += [
        "",
        f"{label}: partial pooling, the two parametrisations",
        _table(
            [
                "engine",
                "cold",
                "warm",
                "divergences",
                "min ESS bulk",
                "min ESS tail",
                "max r_hat",
                "pm.sample",
                "ESS/s",
                "max |err| rates",
                "max |err| a,b,kappa",
                "warm time / exact",
            ],
            partial,
            right=set(range(1, 12)),
        ),
    ]
    ratio = runs["centered"]["warm"] / exact_warm
    return "\n".join(out), ratio


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 200 draws after 200 tuning steps, 2 chains, 100 synthetic groups",
    )
    parser.add_argument("--groups", type=int, default=None, help="synthetic groups (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="warm passes of the exact engine (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = QUICK_SETTINGS if args.quick else SEED_SETTINGS
    groups = args.groups or (100 if args.quick else 1000)
    started = time.perf_counter()
    print("poolwise: exact engine vs PyMC NUTS" + (" (--quick smoke run)" if args.quick else ""))
    print(_machine())
    print(
        f"settings: NUTS draws {settings['draws']}, tune {settings['tune']}, chains {settings['chains']}, "
        f"target_accept {settings['target_accept']} ({'quick' if args.quick else 'the seed analysis'}'s); "
        f"exact warm = median of {args.repeat} passes; errors against exact at tol=1e-7"
    )
    print()
    text, ratio = _dataset_tables("SpaceX (4 groups)", "spacex", 0, args.seed, settings, args.repeat)
    print(text)
    status = "ok" if ratio >= DESIGN_RATIO else "OVER"
    print(
        f"  DESIGN budget: exact >= {DESIGN_RATIO}x faster than the seed's NUTS, warm: {ratio:,.0f}x {status}"
    )
    print()
    text, _ = _dataset_tables(
        f"Synthetic ({groups:,} groups; theta ~ Beta(2, 8), n ~ 1 + Poisson(30), seed {args.seed})",
        "synthetic",
        groups,
        args.seed,
        settings,
        args.repeat,
    )
    print(text)
    print()
    print(f"total benchmark wall time: {_fmt_time(time.perf_counter() - started)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
