"""Plain-text, JSON and table renderings of a set of fits, shared by the CLI and the report."""

from __future__ import annotations

import math
import unicodedata

import numpy as np
import pandas as pd

from .. import __version__
from .._core.validation import check_ci, ci_columns
from ..data import BinomialData, RateData
from ..families.display import display
from ..study.fits import Fit, FitSet

#: Hyperparameters reported under partial pooling, by family.


def data_columns(data) -> dict[str, str]:
    """Name the data's columns by role: group, successes, trials; estimate, std_error; events, exposure."""
    if isinstance(data, BinomialData):
        return {"group": data.group_column, "successes": data.successes_column, "trials": data.trials_column}
    if isinstance(data, RateData):
        return {"group": data.group_column, "events": data.events_column, "exposure": data.exposure_column}
    return {"group": data.group_column, "estimate": data.estimate_column, data.spread: data.spread_column}


def data_line(data) -> str:
    """One line saying what the data hold."""
    if isinstance(data, BinomialData):
        return (
            f"{data.n_groups} groups, {int(data.trials.sum())} trials, {int(data.successes.sum())} successes."
        )
    if isinstance(data, RateData):
        return (
            f"{data.n_groups} groups, {int(data.events.sum())} events in {data.exposure.sum():.6g} exposure."
        )
    return f"{data.n_groups} groups: estimates with known standard errors."


def printable(label: object) -> str:
    """Make a label safe to print on a terminal: control characters shown as escapes, not obeyed."""
    text = str(label)
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch).startswith("C") else ch
        for ch in text
    )


def format_number(value: float, digits: int = 3) -> str:
    """Write ``value`` to ``digits`` significant digits; a dash when it is missing or infinite."""
    if value is None or not math.isfinite(value):
        return "—"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}" if abs(value) < 10 else f"{value:.{max(digits - 1, 1)}f}"


def listed(names, limit: int = 5) -> str:
    """List group names for a sentence, printable: the first ``limit``, then how many more."""
    names = list(names)
    shown = ", ".join(printable(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def bounds(lo: float, hi: float) -> tuple[str, str]:
    """Format an interval's two ends; an end below 1e-6 of the larger one's size prints as zero.

    An HDI that starts at a bound (a rate's or a scale's zero, where the density is largest) is found
    to the search's precision, 1e-8 in probability, so it may end at 4.7e-50 or 3.6e-8: the zero it
    means, far below the three digits printed.
    """
    size = max(abs(lo), abs(hi))
    lo, hi = (0.0 if abs(end) < 1e-6 * size else end for end in (lo, hi))
    return format_number(lo), format_number(hi)


def _heading(title: str) -> str:
    return f"── {title} ".ljust(62, "─")


def long_table(fits: FitSet, ci_kind: str | None = None, ci_prob: float | None = None) -> pd.DataFrame:
    """One row per (pooling, group): the data, the raw rate and the posterior of theta_i."""
    frames = []
    for pooling, f in fits.items():
        table = f.group_table(ci_kind, ci_prob).reset_index()
        table.insert(0, "pooling", pooling)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _optional_dict(series: pd.Series | None) -> dict | None:
    return None if series is None else series.to_dict()


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def to_dict(fits: FitSet, ci_kind: str | None = None, ci_prob: float | None = None) -> dict:
    """Everything the text output shows, as plain JSON-ready data (NaN becomes None)."""
    kind, prob = check_ci(ci_kind, ci_prob)
    lb, ub = ci_columns(kind, prob)
    data = fits.data
    out = {
        "poolwise_version": __version__,
        "data": {
            "source": data.source,
            "columns": data_columns(data),
            "n_groups": data.n_groups,
        },
        "ci": {"kind": kind, "prob": prob, "columns": [lb, ub]},
        "models": {},
    }
    for pooling, f in fits.items():
        summary = f.summary(kind, prob)
        groups = f.group_table(kind, prob).reset_index().rename(columns={data.group_column: "group"})
        model = {
            "title": f.model.title,
            "equations": f.model.equations(),
            "priors": {k: str(v) for k, v in f.model.priors.items()},
            "engine": f.engine,
            "random_seed": f.random_seed,
            "groups": _records(groups),
            "new_group": _jsonable(_optional_dict(new_group_summary(f, kind, prob))),
            "diagnostics": _jsonable(f.diagnostics),
            "warnings": list(f.warnings),
        }
        if pooling == "partial":
            hyper = summary.loc[list(display(f.family).hyperparameters)]
            model["hyperparameters"] = {
                name: {
                    **_jsonable(row.to_dict()),
                    "mode": f.mode(name),
                    "mean_exists": moments_exist(f, name),
                }
                for name, row in hyper.iterrows()
            }
        out["models"][pooling] = model
    return _jsonable(out)


def _observed_cell(value, fmt: str, width: int) -> str:
    return f"{int(value):>{width}}" if fmt == "int" else f"{format_number(value):>{width}}"


def _group_lines(f: Fit, kind: str, prob: float) -> list[str]:
    lb, ub = ci_columns(kind, prob)
    table = f.group_table(kind, prob)
    header_group = printable(f.data.group_column)
    names = [printable(g) for g in table.index]
    width = max(len(header_group), *(len(n) for n in names), 5)
    columns = display(f.family).observed
    cell = 7 if len(columns) == 3 else 9
    observed = " ".join(f"{header:>{cell}}" for _, header, _ in columns)
    lines = [f"  {header_group:<{width}} {observed} {'mean':>7} {'sd':>7} {lb:>9} {ub:>9}"]
    for name, (_, row) in zip(names, table.iterrows(), strict=True):
        observed = " ".join(_observed_cell(row[column], fmt, cell) for column, _, fmt in columns)
        lines.append(
            f"  {name:<{width}} {observed} {format_number(row['mean']):>7} {format_number(row['sd']):>7} "
            f"{format_number(row[lb]):>9} {format_number(row[ub]):>9}"
        )
    return lines


def new_group_summary(f: Fit, kind: str, prob: float):
    """Summarise the new group; None where it has no proper distribution (improper prior, no pooling)."""
    try:
        return f.new_group(kind, prob).summary
    except ValueError:
        if f.pooling == "none" and not f.model.priors["theta"].proper:
            return None
        raise


def moments_exist(f: Fit, name: str) -> bool:
    """Whether a parameter's posterior mean is sure to exist (False: only its quantiles are shown)."""
    q = f.posterior.quantities.get(name)
    return q is None or bool(np.all(q.moments_exist))


def _engine_line(fits: FitSet) -> str:
    if all(f.engine == "exact" for f in fits.values()):
        return "Exact engine: integrals, no Monte Carlo error."
    return "NUTS engine (PyMC): summaries of posterior draws, with Monte Carlo error."


def _diagnostics_line(f: Fit) -> str:
    d = f.diagnostics
    if f.engine == "exact":
        state = "converged" if d["converged"] else "NOT converged"
        return (
            f"  grid: {d['grid_nodes']} nodes, {state} (largest change {d['max_change']:.1e}), "
            f"edge mass {d['edge_mass']:.1e}"
        )
    return (
        f"  nuts ({d['parametrization']}): {d['chains']} chains x {d['draws']} draws after {d['tune']} "
        f"tuning, {d['divergences']} divergences, max r_hat {d['r_hat_max']:.3f}, "
        f"min ESS bulk {d['ess_bulk_min']:.0f} / tail {d['ess_tail_min']:.0f}"
    )


def to_text(
    fits: FitSet,
    ci_kind: str | None = None,
    ci_prob: float | None = None,
    *,
    title: str | None = None,
) -> str:
    """Write the readable report printed by the CLI: one block per model."""
    kind, prob = check_ci(ci_kind, ci_prob)
    lb, ub = ci_columns(kind, prob)
    data = fits.data
    what = {"hdi": "highest-density (shortest) interval", "eti": "equal-tailed interval"}[kind]
    pct = f"{prob * 100:.10g}%"
    lines = [
        f"poolwise {__version__} — {printable(title or data.source or 'data')}",
        f"{data_line(data)} Intervals: {pct} {what}. {_engine_line(fits)}",
    ]
    for pooling, f in fits.items():
        lines += ["", _heading(f.model.title)]
        lines += [f"  {eq}" for eq in f.model.equations()]
        lines.append("")
        lines += _group_lines(f, kind, prob)
        summary = f.summary(kind, prob)
        if pooling == "partial":
            lines += [
                "",
                f"  {'hyperparameter':<15} {'mean':>8} {'sd':>8} {lb:>9} {ub:>9} {'mode':>8}",
            ]
            for name in display(f.family).hyperparameters:
                row = summary.loc[name]
                # A mean that may be infinite (the box's value) is not printed as if it were one.
                mean, sd = (row["mean"], row["sd"]) if moments_exist(f, name) else (math.nan, math.nan)
                lo, hi = bounds(row[lb], row[ub])
                mode = format_number(f.mode(name))
                mean, sd = format_number(mean), format_number(sd)
                lines.append(f"  {name:<15} {mean:>8} {sd:>8} {lo:>9} {hi:>9} {mode:>8}")
            lines.append(f"  {display(f.family).hyper_note}")
        new = new_group_summary(f, kind, prob)
        rule = display(f.family).new_group_rule[pooling]
        if new is None:
            lines += ["", f"  new group: no proper prediction ({display(f.family).improper_new_group})"]
        else:
            if display(f.family).mean_may_be_infinite and f.pooling == "partial":
                center = f"median {format_number(f.new_group_median())}"
            else:
                center = f"mean {format_number(new['mean'])}, sd {format_number(new['sd'])}"
            lines += [
                "",
                f"  new group ({rule}): {center}, "
                f"{pct} {kind.upper()} [{', '.join(bounds(new[lb], new[ub]))}]",
            ]
        if pooling == "partial":
            mu = summary.loc["mu"]
            lines.append(
                f"  mode of mu: {format_number(f.mode('mu'))}, {pct} {kind.upper()} "
                f"[{format_number(mu[lb])}, {format_number(mu[ub])}]"
            )
            lines.append(_diagnostics_line(f))
        for warning in f.warnings:
            lines.append(f"  WARNING: {warning}")
    return "\n".join(lines) + "\n"


def comparison_lines(comparison) -> list[str]:
    """Write the model comparison as aligned text lines (exact LOGO first, PSIS-LOO beside it)."""
    table = comparison.table
    head = f"  {'pooling':<10} {'elpd_logo':>10} {'se':>7} {'diff':>8} {'se_diff':>8} {'weight':>7}"
    has_psis = "elpd_psis" in table
    if has_psis:
        head += f" {'elpd_psis':>10} {'k>0.7':>6}"
    lines = [head]
    for name, row in table.iterrows():
        line = (
            f"  {name:<10} {row['elpd_logo']:>10.2f} {row['se']:>7.2f} {row['elpd_diff']:>8.2f} "
            f"{row['se_diff']:>8.2f} {row['weight']:>7.2f}"
        )
        if has_psis:
            line += f" {row['elpd_psis']:>10.2f} {int(row['n_bad_k']):>6}"
        lines.append(line)
    return lines


#: Rows of a per-group table printed as text; ``--json`` has every row.
TEXT_ROWS = 15

#: Groups up to which the text output prints the pairwise matrix.
PAIRWISE_TEXT_GROUPS = 12


def _more(total: int) -> list[str]:
    return [f"  ... {total - TEXT_ROWS} more groups (all of them in --json)"] if total > TEXT_ROWS else []


def _rank_lines(ranks: pd.DataFrame) -> list[str]:
    top = next(c for c in ranks.columns if c.startswith("prob_top"))
    k = top.removeprefix("prob_top")
    lines = [f"  {'group':<20} {'mean rank':>9} {'rank interval':>13} {'P(best)':>8} {f'P(top {k})':>9}"]
    for group, row in ranks.head(TEXT_ROWS).iterrows():
        interval = f"{int(row['rank_lb'])}–{int(row['rank_ub'])}"
        lines.append(
            f"  {printable(group)[:20]:<20} {row['mean_rank']:>9.2f} {interval:>13} "
            f"{row['prob_best']:>8.3f} {row[top]:>9.3f}"
        )
    return lines + _more(len(ranks))


def _pairwise_lines(pairwise: pd.DataFrame) -> list[str]:
    names = [printable(g)[:8] for g in pairwise.index]
    lines = ["  " + " " * 20 + "".join(f"{n:>9}" for n in names)]
    for group, row in pairwise.iterrows():
        cells = "".join(f"{'':>9}" if g == group else f"{p:>9.2f}" for g, p in row.items())
        lines.append(f"  {printable(group)[:20]:<20}{cells}".rstrip())
    return lines


def study_text(answers, *, pairwise: bool = False) -> str:
    """Write a :class:`poolwise.presentation.explain.Study` as text.

    Which pooling the data support, who is best (ranks; the pairwise matrix when asked and small),
    threshold calls, new groups, held-out scores, the prior's role and the findings.
    """
    lines = []
    comparison = answers.comparison
    if comparison is not None:
        lines += ["", _heading("which pooling?")]
        lines.append("  exact leave-one-group-out CV (elpd_logo: higher is better), stacking weights")
        lines += comparison_lines(comparison)
        if "n_bad_k" in comparison.table and comparison.table["n_bad_k"].sum() > 0:
            lines.append("  (PSIS-LOO is unreliable where Pareto k > 0.7; the exact column is not)")
        for pooling, reason in comparison.table.attrs.get("excluded", {}).items():
            lines.append(f"  {pooling} pooling is not compared: {reason}")
    if answers.heldout is not None:
        lines += ["", _heading("held-out counts: how well did each pooling predict them?")]
        lines.append(f"  {'pooling':<10} {'lpd':>10} {'se':>7} {'mse':>10} {'groups':>7}")
        for name, row in answers.heldout.iterrows():
            lines.append(
                f"  {name:<10} {row['lpd']:>10.2f} {row['lpd_se']:>7.2f} {row['mse']:>10.3g} "
                f"{int(row['groups_scored']):>7}"
            )
        lines.append("  lpd: log predictive density of the later counts (higher is better); mse: squared")
        lines.append("  error of the posterior means against the later rates (lower is better)")
    if answers.ranks is not None:
        lines += ["", _heading("who is best? (partial pooling; rank 1 = highest theta)")]
        lines += _rank_lines(answers.ranks)
        if answers.no_data:
            lines.append(
                f"  (no data, so ranked as a new group would be and listed last: {listed(answers.no_data)})"
            )
    if pairwise and answers.pairwise is not None:
        if len(answers.pairwise) <= PAIRWISE_TEXT_GROUPS:
            lines += ["", "  P(row's theta > column's theta):"]
            lines += _pairwise_lines(answers.pairwise)
        else:
            lines.append(
                f"  (the pairwise table has {len(answers.pairwise)} groups: too wide to print; see --json)"
            )
    calls = answers.calls
    if calls is not None:
        lines += ["", _heading("threshold calls (partial pooling)")]
        lines.append(f"  {'group':<20} {'prob':>7} {'q_value':>8} {'prob_eb':>8} {'q_value_eb':>11}")
        for group, row in calls.sort_values("q_value").head(TEXT_ROWS).iterrows():
            lines.append(
                f"  {printable(group)[:20]:<20} {row['prob']:>7.3f} {row['q_value']:>8.3g} "
                f"{row['prob_eb']:>8.3f} {row['q_value_eb']:>11.3g}"
            )
        lines += _more(len(calls))
    if answers.counts is not None and "exposure" in answers.counts:
        lines += _events_lines(answers.counts)
    elif answers.counts is not None:
        counts = answers.counts
        m = int(counts["trials"].iloc[0])
        lines += ["", _heading(f"a new group's successes in {m:,} trials")]
        label = f"{counts.attrs['prob'] * 100:.10g}% equal-tailed"
        lines.append(f"  {'pooling':<10} {'mean':>9} {'sd':>8} {label:>22}")
        for pooling, row in counts.iterrows():
            interval = f"{int(row['lb']):,} – {int(row['ub']):,}"
            lines.append(f"  {pooling:<10} {row['mean']:>9.2f} {row['sd']:>8.2f} {interval:>22}")
    if answers.new_groups is not None:
        table = answers.new_groups
        lb, ub = table.columns[-2], table.columns[-1]
        lines += ["", _heading("a new group with observed data")]
        lines.append(f"  {'observed':>10} {'pooling':<10} {'mean':>8} {'sd':>8} {lb + ' – ' + ub:>24}")
        for _, row in table.iterrows():
            observed = f"{int(row.iloc[0])}/{row.iloc[1]:g}"  # y/n, or y/E: an exposure need not be whole
            interval = f"{format_number(row[lb])} – {format_number(row[ub])}"
            lines.append(
                f"  {observed:>10} {row['pooling']:<10} {format_number(row['mean']):>8} "
                f"{format_number(row['sd']):>8} "
                f"{interval:>24}"
            )
    sensitivity = answers.sensitivity
    if sensitivity is not None:
        worst = sensitivity["max_shift"].idxmax()
        verdict = "PRIOR-DRIVEN" if sensitivity.attrs.get("prior_driven") else "robust"
        lines += [
            "",
            _heading("how much did the prior matter?"),
            f"  {verdict}: the largest move of a posterior mean under other hyperpriors is "
            f"{sensitivity.loc[worst, 'max_shift']:.2f} posterior sd ({worst})",
        ]
    if answers.findings:
        lines += ["", _heading("findings")]
        lines += [f"  • {f.text}" for f in answers.findings]
    return "\n".join(lines) + ("\n" if lines else "")


def _events_lines(events: pd.DataFrame) -> list[str]:
    """Write a new group's events in an exposure, per pooling: median, interval and P(no event)."""
    exposure = float(events["exposure"].iloc[0]) if len(events) else math.nan
    label = f"{events.attrs['prob'] * 100:.10g}% equal-tailed"
    lines = ["", _heading(f"a new group's events in exposure {exposure:g}")]
    lines.append(f"  {'pooling':<10} {'median':>8} {label:>22} {'P(none)':>8}")
    for pooling, row in events.iterrows():
        interval = f"{int(row['lb']):,} – {int(row['ub']):,}"
        lines.append(f"  {pooling:<10} {int(row['median']):>8,} {interval:>22} {row['p0']:>8.3f}")
    for pooling, reason in events.attrs.get("excluded", {}).items():
        lines.append(f"  {pooling} pooling: {reason}")
    lines.append("  (a mean may be infinite under these priors: the median and interval are exact)")
    return lines


def _group_records(frame: pd.DataFrame) -> list[dict]:
    return _records(frame.reset_index().rename(columns={frame.index.name: "group"}))


def study_dict(answers) -> dict:
    """Return a :class:`poolwise.presentation.explain.Study` as JSON-ready data (every group, every table)."""
    out = {}
    if answers.calls is not None:
        out["threshold_calls"] = _group_records(answers.calls)
    if answers.ranks is not None:
        out["ranks"] = _group_records(answers.ranks)
    if answers.no_data:
        out["no_data"] = [str(g) for g in answers.no_data]
    if answers.pairwise is not None:
        pairwise = answers.pairwise
        out["pairwise"] = {
            "groups": [str(g) for g in pairwise.index],
            "prob_row_above_column": pairwise.to_numpy().tolist(),
        }
    if answers.new_groups is not None:
        out["new_groups"] = _records(answers.new_groups)
    if answers.heldout is not None:
        out["heldout"] = _records(answers.heldout.reset_index())
    if answers.counts is not None:
        pmf = answers.counts.attrs["pmf"]
        out["new_group_counts"] = [
            {**row, "pmf": pmf[row["pooling"]].tolist()} for row in _records(answers.counts.reset_index())
        ]
        if answers.counts.attrs.get("excluded"):
            out["new_group_counts_excluded"] = dict(answers.counts.attrs["excluded"])
    if answers.sensitivity is not None:
        out["prior_sensitivity"] = _records(answers.sensitivity.reset_index())
    if answers.comparison is not None:
        out["comparison"] = _records(answers.comparison.table.reset_index())
        out["comparison_excluded"] = dict(answers.comparison.table.attrs.get("excluded", {}))
    if answers.findings:
        out["findings"] = [
            {"topic": f.topic, "text": f.text, "numbers": _jsonable(dict(f.numbers)), "figure": f.figure}
            for f in answers.findings
        ]
    return _jsonable(out)
