"""Issue 15's budgets, each beside its peers measured in the same run, printed as one table.

Run ``python benchmarks/bench_budgets.py`` (minutes: PyMC samples SpaceX with the seed's settings)
or ``--quick`` (a smoke run: small data, short chains, PyMC and nutpie skipped). Every row is the
best of ``--repeat`` warm runs in this process, except the main job, timed as a whole process.

Rows, with the data shapes users have:

- SpaceX, the three poolings with their summaries; beside it ``pm.sample`` on the partial model with
  the seed's settings (4 chains x (5000 tuning + 5000 draws), target_accept 0.95) and nutpie with
  the same draws, compiled once and timed warm;
- the BUGS surgical data under the logit-normal family (partial pooling), beside nutpie with
  4 x (1000 + 1000);
- 10,000 groups with trials ``1 + LogNormal(log 300, 1.2)`` (heavy-tailed: thousands of distinct
  (n, y) pairs), beta-binomial, every group's summary included; the same number of groups of
  gamma-Poisson counts with real-valued exposures ``LogNormal(log 50, 1.5)``;
- ``predict.new_group_with_data`` for 10,000 new groups at once;
- the ``poolwise`` main job (report included) and ``poolwise fit --no-report`` as whole processes.

The table says OVER where a budget is missed; the script does not fail (budgets are not tests).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from bench_exact import _fmt_time, _machine, _table

import poolwise as pw

SPACEX = {"group": "Mission", "successes": "y", "trials": "N"}
SURGICAL = {"group": "hospital", "successes": "r", "trials": "n"}
SEED_SETTINGS = {"draws": 5000, "tune": 5000, "chains": 4, "target_accept": 0.95}
NUTPIE_SURGICAL = {"draws": 1000, "tune": 1000, "chains": 4}


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` calls (after one untimed call that warms caches)."""
    work()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def once(work: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    work()
    return time.perf_counter() - t0


def lognormal_trials(groups: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 1 + np.floor(rng.lognormal(np.log(300), 1.2, groups)).astype(np.int64)
    y = rng.binomial(n, rng.beta(2.0, 8.0, groups))
    return pd.DataFrame({"group": [f"g{i}" for i in range(groups)], "successes": y, "trials": n})


def real_exposures(groups: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    exposure = rng.lognormal(np.log(50.0), 1.5, groups)
    events = rng.poisson(exposure * rng.gamma(2.0, 0.05, groups))
    return pd.DataFrame({"group": [f"g{i}" for i in range(groups)], "events": events, "exposure": exposure})


def fit_and_summarise(data: pd.DataFrame, **columns) -> Callable[[], object]:
    def work():
        fits = pw.fit_all(data, **columns, random_seed=1)
        return [f.summary() for f in fits.values()]

    return work


def peers(model, *, draws: int, tune: int, chains: int, target_accept: float | None, pymc: bool) -> dict:
    """Wall times of ``pm.sample`` and of nutpie (compiled once, then timed warm) on ``model``."""
    out = {}
    try:
        import pymc as pm
    except ImportError:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pymc:
            kwargs = {"target_accept": target_accept} if target_accept else {}
            out["pymc"] = once(
                lambda: pm.sample(
                    draws, tune=tune, chains=chains, model=model, progressbar=False, random_seed=1, **kwargs
                )
            )
        try:
            import nutpie
        except ImportError:
            return out
        compiled = nutpie.compile_pymc_model(model)

        def sample():
            return nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, progress_bar=False, seed=1)

        sample()
        out["nutpie"] = once(sample)
    return out


def whole_process(args: Sequence[str]) -> float:
    with tempfile.TemporaryDirectory() as where:
        t0 = time.perf_counter()
        subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "poolwise"), *args],
            cwd=where,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0


def status(value: float, budget: float) -> str:
    return "ok" if value <= budget else "OVER"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, no PyMC or nutpie")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--groups", type=int, default=10_000)
    args = parser.parse_args(argv)
    groups = 300 if args.quick else args.groups
    repeat = 1 if args.quick else args.repeat
    rows = []

    spacex = pw.datasets.load("spacex")
    t = best_of(repeat, fit_and_summarise(spacex, **SPACEX))
    rows.append(["SpaceX, 3 poolings + summaries", _fmt_time(t), "10 ms", status(t, 0.010)])
    if not args.quick:
        model = pw.fit(spacex, **SPACEX).pymc_model
        times = peers(model, **SEED_SETTINGS, pymc=True)
        for peer, need in (("pymc", 1000), ("nutpie", 100)):
            if peer in times:
                ratio = times[peer] / t
                rows.append(
                    [
                        f"  {peer}, 4 x (5000 + 5000)",
                        _fmt_time(times[peer]),
                        f"{ratio:.3g}x (need {need}x)",
                        status(need, ratio),
                    ]
                )

    surgical = pw.datasets.load("surgical")
    t = best_of(repeat, lambda: pw.fit(surgical, **SURGICAL, family="logit-normal").summary())
    rows.append(["surgical, logit-normal partial", _fmt_time(t), "50 ms", status(t, 0.050)])
    if not args.quick:
        model = pw.fit(surgical, **SURGICAL, family="logit-normal").pymc_model
        times = peers(model, **NUTPIE_SURGICAL, target_accept=None, pymc=False)
        if "nutpie" in times:
            ratio = times["nutpie"] / t
            rows.append(
                [
                    "  nutpie, 4 x (1000 + 1000)",
                    _fmt_time(times["nutpie"]),
                    f"{ratio:.2g}x (need 20x)",
                    status(20, ratio),
                ]
            )

    counts = lognormal_trials(groups, seed=0)
    pairs = len(counts[["trials", "successes"]].drop_duplicates())
    columns = {"group": "group", "successes": "successes", "trials": "trials"}
    t = best_of(min(repeat, 2), lambda: pw.fit(counts, **columns).summary())
    rows.append(
        [f"{groups:,} groups, LogNormal trials ({pairs:,} pairs)", _fmt_time(t), "1 s", status(t, 1.0)]
    )

    rates = real_exposures(groups, seed=0)
    t = best_of(
        min(repeat, 2), lambda: pw.fit(rates, group="group", events="events", exposure="exposure").summary()
    )
    rows.append([f"{groups:,} groups, gamma-Poisson, real exposures", _fmt_time(t), "1 s", status(t, 1.0)])

    fit = pw.fit(spacex, **SPACEX)
    rng = np.random.default_rng(1)
    new_n = 1 + rng.poisson(20, groups)
    new_y = rng.binomial(new_n, 0.8)
    # one call per new group: the function takes one group at a time (the budget asks for all at once)
    t = once(
        lambda: [
            pw.predict.new_group_with_data(fit, int(y), int(n)) for y, n in zip(new_y, new_n, strict=True)
        ]
    )
    rows.append([f"new_group_with_data x {groups:,} (one call each)", _fmt_time(t), "1 s", status(t, 1.0)])

    if not args.quick:
        t = min(whole_process([]) for _ in range(2))
        rows.append(["`poolwise` main job, whole process", _fmt_time(t), "2 s", status(t, 2.0)])
        t = min(whole_process(["--no-report", "fit", "--dataset", "spacex"]) for _ in range(2))
        rows.append(["`poolwise --no-report fit`, whole process", _fmt_time(t), "1 s", status(t, 1.0)])

    print(_machine())
    print(_table(["work", "time", "budget", "status"], rows, right={1}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
