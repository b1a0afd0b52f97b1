"""The HTML report: the whole study on one self-contained page.

:func:`render_html` builds the page, :func:`write_report` writes it atomically. The page needs no
network: figures are inline SVG images (``data:`` URIs), the style sheet is inline, and there is no
script at all. A Content-Security-Policy forbids every other source, so even a browser that met
an unescaped string would not run or fetch anything. Every user-supplied string (group names,
column names, the title, file names) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
import platform
import re
import string
import warnings
from collections.abc import Callable, Mapping
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from .. import __version__
from .._core.io import atomic_write_text
from .._core.validation import check_ci, ci_columns
from ..analysis import shrinkage as compute
from ..data import BinomialData, RateData
from ..families import registry
from ..families.display import SYMBOLS, display
from ..fitting.fit import DRAWS_GROUP_LIMIT
from ..study.fits import Fit, FitSet
from . import explain
from .plots.pairwise import PAIRWISE_PLOT_LIMIT
from .render import (
    bounds,
    data_columns,
    format_number,
    listed,
    moments_exist,
    new_group_summary,
    printable,
)

__all__ = ["render_html", "write_report"]

_POOLINGS = ("none", "complete", "partial")
_TITLES = {"none": "No pooling", "complete": "Complete pooling", "partial": "Partial pooling"}

#: The report's words (HTML) for each kind of data (:attr:`~poolwise.families.registry.Family.data`);
#: those about the population are the family's (``display.report``).
_DATA_WORDS = {
    "binomial": {
        "data": "successes y of n trials.",
        "raw": "raw rate",
        "marker": "marker area grows with the square root of the trials",
        "conjugate": "Beta",
    },
    "estimates": {
        "data": "an estimate and its standard error.",
        "raw": "estimate",
        "marker": "marker area grows with the estimate's precision",
        "conjugate": "normal",
    },
    "rates": {
        "data": "events y in an exposure E; the rate θ is events per unit of exposure.",
        "raw": "raw rate",
        "marker": "marker area grows with the square root of the exposure",
        "conjugate": "Gamma",
    },
}
_VERSIONED = (
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "arviz",
    "arviz-base",
    "arviz-stats",
    "arviz-plots",
    "matplotlib",
)


def _e(value: object) -> str:
    """Escape any value for HTML text or attributes (control characters shown as escapes)."""
    return html.escape(printable(value), quote=True)


def _n(value: float, digits: int = 3) -> str:
    return _e(format_number(float(value), digits)) if value is not None else "—"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pct(prob: float) -> str:
    return f"{prob * 100:.10g}%"


# --------------------------------------------------------------------------------------------------
# Figures


def _svg_uri(fig) -> str:
    import matplotlib

    from .plots._common import RC

    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(make: Callable[[], object], alt: str, caption: str) -> str:
    """Draw one figure into an ``<img>``; a figure that fails becomes a visible note and a warning."""
    from .plots._common import close, detached_figures

    fig = None
    try:
        with warnings.catch_warnings():
            # Fonts without a glyph for a group name draw a box; the tables show the name itself.
            warnings.filterwarnings("ignore", message=r"Glyph .* missing from font", category=UserWarning)
            with detached_figures():
                fig = make()
                if hasattr(fig, "figure") and not hasattr(fig, "savefig"):
                    fig = fig.figure  # an Axes
                uri = _svg_uri(fig)
                width = int(round(fig.get_size_inches()[0] * 96))
    except Exception as err:  # noqa: BLE001 - one figure must not take the whole report down
        warnings.warn(
            f"the report could not draw the figure '{alt}': {type(err).__name__}: {err}",
            RuntimeWarning,
            stacklevel=3,
        )
        return (
            f'<div class="callout"><b>Figure not drawn.</b> {_e(alt)}: '
            f"{_e(type(err).__name__)}: {_e(err)}</div>"
        )
    finally:
        if fig is not None:
            close(fig)
    return (
        f'<figure><img src="{uri}" alt="{_e(alt)}" style="--natural: {width}px" loading="lazy">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------------------
# Small HTML helpers


def _table(
    head: list[str],
    rows: list[list[str]],
    *,
    classes: list[str] | None = None,
    sticky: bool = True,
    caption: str | None = None,
    fit: bool = False,
) -> str:
    """Build an HTML table from escaped cells; the first cell of each row is a row header."""
    classes = classes or [""] * len(head)
    th = "".join(f'<th scope="col" class="{c}">{h}</th>' for h, c in zip(head, classes, strict=True))
    body = []
    for row in rows:
        first, rest = row[0], row[1:]
        cells = "".join(
            f'<td class="{c}">{v}</td>' if c else f"<td>{v}</td>"
            for v, c in zip(rest, classes[1:], strict=True)
        )
        body.append(f'<tr><th scope="row"{_hover(first)}>{first}</th>{cells}</tr>')
    short = (" short" if len(rows) <= 14 else "") + (" fit" if fit else "")
    table_class = ' class="sticky-col"' if sticky else ""
    cap = f'<p class="note">{caption}</p>' if caption else ""
    return (
        f'<div class="table-wrap{short}"><table{table_class}><thead><tr>{th}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{cap}"
    )


def _hover(cell: str) -> str:
    """Return a ``title`` attribute with the whole row name, for names cut short by the column."""
    if "<" in cell or len(cell) < 24:
        return ""
    return f' title="{cell}"'  # already escaped


def _kv(pairs: list[tuple[str, str]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def _swatch(pooling: str) -> str:
    return f'<span class="sw {pooling}" aria-hidden="true"></span>'


_GREEK = [
    (r"\btheta_new\b", "θ<sub>new</sub>"),
    (r"\btheta_i\b", "θ<sub>i</sub>"),
    (r"\by_i\b", "y<sub>i</sub>"),
    (r"\bn_i\b", "n<sub>i</sub>"),
    (r"\btheta\b", "θ"),
    (r"\balpha\b", "α"),
    (r"\bbeta\b", "β"),
    (r"\bmu\b", "μ"),
    (r"\bkappa\b", "κ"),
    (r"\bsigma\b", "σ"),
    (r"\blam\b", "λ"),
    (" ~ ", " ∼ "),
    (r"\^\(([^)]*)\)", r"<sup>\1</sup>"),
]


def _formula(line: str) -> str:
    """Typeset a model statement from :meth:`Model.equations`: escaped, Greek letters, subscripts."""
    out = _e(line)
    for pattern, repl in _GREEK:
        out = re.sub(pattern, repl, out)
    return out


# --------------------------------------------------------------------------------------------------
# Sections


def _words(f: Fit, group: str, data) -> str:
    """Describe a model in a paragraph: partial pooling in the family's words, the others in the data's."""
    family = registry.get(f.family)
    if f.model.pooling == "partial":
        return family.display.report.partial.format(group=group)
    return _ALONE[family.data](f.model.pooling, group, data)


def _binomial_words(pooling: str, group: str, data) -> str:
    if pooling == "none":
        return (
            f"Each {group} on its own: its success probability θ<sub>i</sub> is estimated from its own "
            "successes and trials only, with the same prior for every one. Nothing is shared, so a "
            f"{group} with few trials keeps a wide interval."
        )
    total_y, total_n = int(np.sum(data.successes)), int(np.sum(data.trials))
    return (
        f"One success probability θ shared by every {group}: the counts are added up "
        f"({total_y:,} successes in {total_n:,} trials) and differences between groups are "
        "treated as noise."
    )


def _rate_words(pooling: str, group: str, data) -> str:
    if pooling == "none":
        return (
            f"Each {group} on its own: its rate θ<sub>i</sub> is estimated from its own events and "
            f"exposure only, with the same prior for every one. Nothing is shared, so a {group} with "
            "little exposure keeps a wide interval."
        )
    return (
        f"One rate θ shared by every {group}: the counts are added up ({int(np.sum(data.events)):,} "
        f"events in {np.sum(data.exposure):,.6g} exposure) and differences between groups are "
        "treated as noise."
    )


def _estimate_words(pooling: str, group: str, data) -> str:
    if pooling == "none":
        return (
            f"Each {group} on its own: its true effect θ<sub>i</sub> is estimated from its own estimate "
            "and standard error only. Nothing is shared."
        )
    return (
        f"One true effect θ shared by every {group}: the estimates are averaged with weights "
        "1/s<sub>i</sub>², and differences between groups are treated as sampling noise."
    )


#: No and complete pooling in words, by the kind of data: ``(pooling, group, data) -> HTML``.
_ALONE = {"binomial": _binomial_words, "estimates": _estimate_words, "rates": _rate_words}


def _section(anchor: str, number: int, title: str, intro: str, body: str) -> str:
    intro_html = f'<p class="intro">{intro}</p>' if intro else ""
    return (
        f'<section id="{anchor}"><h2><span class="n">{number}</span>{title}</h2>{intro_html}{body}</section>'
    )


class _Study:
    """Everything the page needs, computed once."""

    def __init__(
        self,
        fits: Mapping[str, Fit],
        kind: str,
        prob: float,
        trials: int | None,
        study: explain.Study | None,
        *,
        exposure: float | None = None,
    ):
        self.fits = {p: fits[p] for p in _POOLINGS if p in fits}
        self.fits.update({p: f for p, f in fits.items() if p not in self.fits})
        self.first = next(iter(self.fits.values()))
        self.data = self.first.data
        self.kind, self.prob = kind, prob
        self.lb, self.ub = ci_columns(kind, prob)
        self.what = f"{_pct(prob)} {kind.upper()}"
        self.tables = {p: f.group_table(kind, prob) for p, f in self.fits.items()}
        self.summaries = {p: f.summary(kind, prob) for p, f in self.fits.items()}
        self.partial = self.fits.get("partial")
        self.shrink = compute.shrinkage_table(self.fits, kind, prob) if self.partial is not None else None
        self.binomial = isinstance(self.data, BinomialData)
        self.rates = isinstance(self.data, RateData)
        self.family = registry.get(self.first.family)
        self.words = _DATA_WORDS[self.family.data]
        self.population = self.family.display.report
        self.exposure = exposure
        self.trials = self.counts = None
        if self.binomial:
            self.trials = compute.default_trials(self.first) if trials is None else trials
            self.counts = {p: compute.predictive_counts(f, self.trials) for p, f in self.fits.items()}
        answers = study
        if answers is None:  # the findings quote the report's interval, as its tables do
            answers = explain.study(FitSet(dict(self.fits)), ci_kind=kind, ci_prob=prob)
        self.comparison, self.findings = answers.comparison, answers.findings
        few = self.data.n_groups <= DRAWS_GROUP_LIMIT
        self.ppc = {p: _ppc(f) for p, f in self.fits.items()} if few else {}
        self.answers = answers
        # The question P(theta > t) is asked at the overall rate, or for effects at zero.
        self.threshold = 0.0
        if self.binomial:
            self.threshold = float(np.sum(self.data.successes) / max(np.sum(self.data.trials), 1))
        elif self.rates:
            self.threshold = float(np.sum(self.data.events) / max(np.sum(self.data.exposure), 1e-300))
        self.above = {p: f.prob_above(self.threshold) for p, f in self.fits.items()}
        self.sensitivity = answers.sensitivity
        # Without a threshold of the user's, call groups above the overall rate (the question the
        # P(theta > t) columns already ask), with q-values.
        self.calls = answers.calls
        if self.calls is None and self.partial is not None:
            self.calls = self.partial.threshold_test(self.threshold)
        self.group = _e(self.data.group_column)
        if self.binomial:
            self.observed = [
                f"{_e(self.data.successes_column)}<small>successes</small>",
                f"{_e(self.data.trials_column)}<small>trials</small>",
                "y/n<small>raw rate</small>",
            ]
        elif self.rates:
            self.observed = [
                f"{_e(self.data.events_column)}<small>events</small>",
                f"{_e(self.data.exposure_column)}<small>exposure</small>",
                "y/E<small>raw rate</small>",
            ]
        else:
            self.observed = [
                f"{_e(self.data.estimate_column)}<small>estimate</small>",
                "s.e.<small>standard error</small>",
            ]

    def observed_cells(self, row) -> list[str]:
        """Format the data of one row of a group table, as the data table shows them."""
        if self.binomial:
            return [f"{int(row['successes']):,}", f"{int(row['trials']):,}", _n(row["raw_rate"])]
        if self.rates:
            return [f"{int(row['events']):,}", _n(row["exposure"]), _n(row["raw_rate"])]
        return [_n(row["estimate"]), _n(row["std_error"])]

    def counts_cell(self, row) -> str:
        """Write a group's data in one cell: ``y/n``, or ``y in E``."""
        if self.rates:
            return f"{int(row['events']):,} in {_n(row['exposure'])}"
        return f"{int(row['successes']):,}/{int(row['trials']):,}"


def _ppc(fit: Fit):
    from ..analysis.checks import ppc

    try:
        return ppc(fit)
    except ValueError:  # no group has trials: nothing to check
        return None


def _findings_section(s: _Study) -> str:
    items = "".join(
        f'<li>{_e(f.text)} <span class="note">(see the {_e(f.figure)})</span></li>' for f in s.findings
    )
    return f'<ul class="findings">{items}</ul>'


def _which_section(s: _Study) -> str:
    parts = []
    if s.comparison is not None:
        table = s.comparison.table
        psis = "elpd_psis" in table
        head = ["pooling", "elpd<sub>logo</sub>", "se", "difference", "se of diff.", "stacking weight"]
        if psis:
            head += ["elpd<sub>psis</sub>", "Pareto k &gt; 0.7"]
        rows = []
        for name, row in table.iterrows():
            cells = [
                f"{_swatch(name)}{_e(_TITLES.get(name, name))}",
                f"{row['elpd_logo']:.2f}",
                f"{row['se']:.2f}",
                f"{row['elpd_diff']:.2f}",
                f"{row['se_diff']:.2f}",
                f"{row['weight']:.2f}",
            ]
            if psis:
                cells += [f"{row['elpd_psis']:.2f}", f"{int(row['n_bad_k']):,}"]
            rows.append(cells)
        parts.append(
            _table(
                head,
                rows,
                classes=[""] + ["num"] * (len(head) - 1),
                sticky=False,
                fit=True,
                caption="elpd<sub>logo</sub>: exact leave-one-group-out log predictive density (higher is "
                "better), computed without sampling. PSIS-LOO beside it estimates the same from the draws; "
                "where Pareto k &gt; 0.7 it cannot be trusted.",
            )
        )
        for pooling, reason in table.attrs.get("excluded", {}).items():
            parts.append(
                f'<p class="note">{_e(_cap(_TITLES.get(pooling, pooling)))} is not compared: '
                f"{_e(reason)}.</p>"
            )
    if s.answers.heldout is not None:
        parts.append(_heldout_table(s.answers.heldout))
    if any(table is not None for table in s.ppc.values()):
        from .plots import plot_ppc

        checked = {p: s.fits[p] for p, table in s.ppc.items() if table is not None}
        parts.append(
            _figure(
                lambda: plot_ppc(checked),
                "posterior predictive checks",
                "Each statistic over data sets replicated from each model (histogram) against the data's "
                "value (line); the mid-p value above each panel.",
            )
        )
    for p, table in s.ppc.items():
        if table is None:
            continue
        rows = [
            [
                _e(row["description"]),
                _n(row["observed"]),
                _n(row["mean_rep"]),
                f"[{_n(row['rep_3%'])}, {_n(row['rep_97%'])}]",
                f"{row['p_value']:.2f}",
            ]
            for _, row in table.iterrows()
        ]
        parts.append(f"<h3>{_swatch(p)}Posterior predictive checks: {_e(_TITLES.get(p, p).lower())}</h3>")
        parts.append(
            _table(
                ["statistic", "observed", "replicated mean", "replicated 94%", "p-value"],
                rows,
                classes=["", "num", "num", "num", "num"],
                sticky=False,
                fit=True,
                caption="p-values near 0 or 1 mean the model does not reproduce that feature of the data.",
            )
        )
    return "".join(parts) or '<p class="note">Nothing to compare: fit more than one pooling.</p>'


def _heldout_table(table) -> str:
    rows = [
        [
            f"{_swatch(p)}{_e(_TITLES.get(p, p))}",
            f"{row['lpd']:.2f}",
            f"{row['lpd_se']:.2f}",
            f"{row['mse']:.3g}",
            f"{int(row['groups_scored']):,}",
        ]
        for p, row in table.iterrows()
    ]
    return "<h3>Held-out counts</h3>" + _table(
        ["pooling", "lpd", "se", "mean squared error", "groups scored"],
        rows,
        classes=["", "num", "num", "num", "num"],
        sticky=False,
        fit=True,
        caption="Later counts of the same groups: lpd is their exact log posterior predictive density "
        "(higher is better); the squared error compares each posterior mean with the later rate, over "
        "the groups with later trials (lower is better).",
    )


def _calls_table(s: _Study) -> str:
    calls = s.calls.sort_values("q_value", kind="stable")
    t, direction = calls.attrs["threshold"], calls.attrs["direction"]
    sign = "&gt;" if direction == "above" else "&lt;"
    plug_in = "prob_eb" in calls  # the empirical-Bayes columns exist for binomial counts only
    rows = []
    for g, row in calls.iterrows():
        cells = [_e(g), f"{row['prob']:.3f}", _n(row["q_value"])]
        if plug_in:
            cells += [f"{row['prob_eb']:.3f}", _n(row["q_value_eb"])]
        rows.append(cells)
    head = [s.group, f"P(θ {sign} {t:.3g})", "q-value"]
    if plug_in:
        head += ["P <small>plug-in</small>", "q <small>plug-in</small>"]
    intro = (
        f"<h3>Which groups are {direction} {t:.3g}?</h3><p>Call a group {direction} {t:.3g} and the "
        "q-value is the expected share of false calls among all calls at least as sure (the posterior "
        "error probabilities averaged); calling every group with q &lt; 0.05 keeps the false discovery "
        "rate at 5%."
    )
    if plug_in:
        intro += (
            " The plug-in columns fix α and β at their marginal maximum likelihood (empirical Bayes), as "
            "ebbr's proportion test does: the difference is what the hyperparameters' uncertainty changes."
        )
    return intro + "</p>" + _table(head, rows, classes=[""] + ["num"] * (len(head) - 1), fit=True)


def _questions_section(s: _Study) -> str:
    parts = []
    ranks = s.answers.ranks
    if ranks is not None:
        top = next(c for c in ranks.columns if c.startswith("prob_top"))
        rows = [
            [
                _e(g),
                f"{row['mean_rank']:.2f}",
                f"{int(row['rank_lb'])}–{int(row['rank_ub'])}",
                f"{row['prob_best']:.3f} <span class=ci>±{row['prob_best_mcse']:.3f}</span>",
                f"{row[top]:.3f}",
                *[f"{s.above[p].loc[g]:.3f}" for p in s.fits],
            ]
            for g, row in ranks.iterrows()
        ]
        head = [
            s.group,
            "mean rank",
            f"rank {_pct(s.prob)}",
            "P(best) <small>± MC error</small>",
            f"P(top {top.removeprefix('prob_top')})",
            *[f"P(θ &gt; {s.threshold:.3f}) {_e(_TITLES.get(p, p).lower())}" for p in s.fits],
        ]
        parts.append(
            _table(
                head,
                rows,
                classes=[""] + ["num"] * (len(head) - 1),
                caption=f"Ranks (1 = highest θ) under partial pooling, from {s.partial.chains} x "
                f"{s.partial.n_draws} draws: the mean rank, an equal-tailed {_pct(s.prob)} interval of "
                f"the rank, P(best) and P(top k). P(θ &gt; t) is exact, at t = "
                + (
                    f"the overall rate {s.threshold:.3g}."
                    if s.binomial or s.rates
                    else "0 (a positive effect)."
                )
                + (
                    f" Listed last, with no data: {_e(listed(s.answers.no_data))} (ranked as a new group "
                    "would be, which says nothing about it)."
                    if s.answers.no_data
                    else ""
                ),
            )
        )
    if s.answers.pairwise is not None and len(s.answers.pairwise) <= PAIRWISE_PLOT_LIMIT:
        from .plots import plot_pairwise

        parts.append(
            _figure(
                lambda: plot_pairwise(s.partial),
                "pairwise probabilities",
                "P(row's θ &gt; column's θ) under partial pooling, groups in order of mean rank: pale cells "
                "are pairs the data cannot order.",
            )
        )
    if s.calls is not None:
        parts.append(_calls_table(s))
    if s.sensitivity is not None:
        t = s.sensitivity
        spread = s.family.spread
        # Where a mean may not exist (gamma-Poisson's mu and theta_new) the table has medians.
        centre = "mean" if "mu_mean" in t else "median"
        rows = [
            [
                _e(label),
                f"{row[f'mu_{centre}']:.3g} [{row['mu_lb']:.3g}, {row['mu_ub']:.3g}]",
                f"{row[f'{spread}_median']:.3g} [{row[f'{spread}_lb']:.3g}, {row[f'{spread}_ub']:.3g}]",
                f"{row[f'theta_new_{centre}']:.3g}",
                f"{row['max_shift']:.2f}" + (" ⚠" if row["prior_driven"] else ""),
            ]
            for label, row in t.iterrows()
        ]
        note = (
            '<div class="callout"><b>Prior-driven:</b> posterior means move by more than half a posterior '
            "sd under some of these hyperpriors; report the prior with the answer.</div>"
            if t.attrs.get("prior_driven")
            else '<div class="callout ok">The answers barely move under these hyperpriors.</div>'
        )
        parts.append("<h3>How much did the prior matter?</h3>" + note)
        parts.append(
            _table(
                [
                    "hyperprior",
                    f"μ {centre} [{s.what}]",
                    f"{SYMBOLS[spread]} median [{s.what}]",
                    f"θ<sub>new</sub> {centre}",
                    "largest shift (sd)",
                ],
                rows,
                classes=["", "num", "num", "num", "num"],
                sticky=False,
                fit=True,
                caption="Partial pooling refitted exactly under each hyperprior; the shift is the largest "
                "move of a group's or μ's posterior mean, in posterior sds of this report's fit.",
            )
        )
    return "".join(parts) or '<p class="note">These questions need a partial-pooling fit.</p>'


def _glance(s: _Study) -> str:
    cards = []
    d = s.data
    if s.binomial:
        detail = (
            f"{int(np.sum(d.trials)):,} trials, {int(np.sum(d.successes)):,} successes overall "
            f"({_n(np.sum(d.successes) / max(np.sum(d.trials), 1))})."
        )
    elif s.rates:
        detail = (
            f"{int(np.sum(d.events)):,} events in {np.sum(d.exposure):,.6g} exposure overall "
            f"(rate {_n(s.threshold)})."
        )
    else:
        detail = (
            f"estimates from {_n(np.min(d.estimate))} to {_n(np.max(d.estimate))}, standard errors from "
            f"{_n(np.min(d.std_error))} to {_n(np.max(d.std_error))}."
        )
    cards.append(
        f'<div class="card"><div class="label">Data</div><div class="stat">{d.n_groups:,} '
        f"<small>groups</small></div><p>{detail}</p></div>"
    )
    if s.partial is not None:
        mu = s.summaries["partial"].loc["mu"]
        mode = _mode(s.partial, "mu")
        # A mean rate alpha/beta may have no mean: show only what exists.
        mean = "" if display(s.partial.family).mean_may_be_infinite else f"mean {_n(mu['mean'])}, "
        cards.append(
            f'<div class="card partial"><div class="label">Population mean μ</div>'
            f'<div class="stat">{_n(mode)} <small>mode</small></div>'
            f"<p>{mean}{s.what} [{_n(mu[s.lb])}, {_n(mu[s.ub])}] under partial pooling.</p></div>"
        )
    key = "partial" if "partial" in s.fits else next(iter(s.fits))
    new = new_group_summary(s.fits[key], s.kind, s.prob)
    if new is not None:
        detail = f"{s.what} [" + ", ".join(_e(b) for b in bounds(new[s.lb], new[s.ub])) + "]"
        if s.binomial:
            counts = compute.count_summary(s.counts[key], s.prob)
            detail += (
                f"; in {s.trials:,} trials about {counts['mean']:.1f} successes ({_pct(s.prob)} between "
                f"{counts['lb']:,} and {counts['ub']:,})"
            )
        if display(s.fits[key].family).mean_may_be_infinite:
            stat, label = _median(s.fits[key]), "θ<sub>new</sub> median"
        else:
            stat, label = new["mean"], "θ<sub>new</sub> mean"
        cards.append(
            f'<div class="card {key}"><div class="label">A new {s.group}</div>'
            f'<div class="stat">{_n(stat)} <small>{label}</small></div>'
            f"<p>{detail}.</p></div>"
        )
    if "complete" in s.fits:
        c = s.summaries["complete"].loc["theta"]
        cards.append(
            f'<div class="card complete"><div class="label">Complete pooling</div>'
            f'<div class="stat">{_n(c["mean"])} <small>shared θ</small></div>'
            f"<p>{s.what} [{_n(c[s.lb])}, {_n(c[s.ub])}]: every {s.group} alike.</p></div>"
        )
    if s.shrink is not None:
        moved = s.shrink["moved"].abs()
        if moved.notna().any():
            i = int(np.nanargmax(moved.to_numpy(float)))
            row = s.shrink.iloc[i]
            cards.append(
                f'<div class="card partial"><div class="label">Shrunk the most</div>'
                f'<div class="stat" style="font-size:1.1rem">{_e(s.shrink.index[i])}</div>'
                f"<p>from {_shrink_origin(s, row)} to {_n(row['partial_mean'])}; shrinkage factor "
                f"{row['shrinkage']:.2f}.</p></div>"
            )
    notes = [(p, w) for p, f in s.fits.items() for w in f.warnings]
    if notes:
        body = "".join(
            f'<div class="callout"><b>{_e(_TITLES.get(p, p))}:</b> {_e(w)}</div>' for p, w in notes
        )
    else:
        body = '<div class="callout ok"><b>No warnings.</b> Every engine check passed.</div>'
    return f'<div class="cards">{"".join(cards)}</div>{body}'


def _data_section(s: _Study) -> str:
    t = s.tables[next(iter(s.tables))]
    rows = [[_e(g), *s.observed_cells(r)] for g, r in t.iterrows()]
    head = [s.group, *s.observed]
    source = s.data.source
    where = f" from <code>{_e(source)}</code>" if source else ""
    note = f"{s.data.n_groups:,} groups{where}, in input order. Every group appears in every table."
    return _table(head, rows, caption=note, fit=True)


def _models_section(s: _Study) -> str:
    cards = []
    for p, f in s.fits.items():
        formulas = "".join(f"<div>{_formula(line)}</div>" for line in f.model.equations())
        priors = ", ".join(f"{_formula(k)}: <code>{_e(v)}</code>" for k, v in f.model.priors.items())
        cards.append(
            f'<div class="card {p}"><h3>{_swatch(p)}{_e(_cap(f.model.title))}</h3>'
            f"<p>{_words(f, s.group, s.data)}</p>"
            f'<div class="formula">{formulas}</div>'
            f'<p class="priors">Priors — {priors}. Engine: <code>{_e(f.engine)}</code>.</p></div>'
        )
    diagrams = _figure(
        lambda: _diagrams(s),
        "model diagrams",
        "Each model in plate notation: circles are random, the shaded one observed, squares known; "
        f"the plate repeats for every {s.group}.",
    )
    return f'<div class="cards wide">{"".join(cards)}</div>{diagrams}'


def _diagrams(s: _Study):
    from .plots import plot_model_diagram
    from .plots._common import new_figure

    fig, axes = new_figure((4.2 * len(s.fits), 3.4), 1, len(s.fits))
    for ax, f in zip(axes[0], s.fits.values(), strict=True):
        plot_model_diagram(f.model, n_groups=s.data.n_groups, group_name=s.data.group_column, ax=ax)
    return fig


def _forest_section(s: _Study, order: str, per_page: int, max_pages: int) -> str:
    from . import plots

    n = s.data.n_groups
    pages = math.ceil(n / per_page)
    caption = (
        f"Each row is a {s.group}: its {s.what} and posterior mean under "
        + " and ".join(f"{_swatch(p)}{_e(s.fits[p].model.title)}" for p in ("none", "partial") if p in s.fits)
        + (f"; the {_swatch('complete')}band is complete pooling's single θ" if "complete" in s.fits else "")
        + (". Counts beside each name are successes/trials." if s.binomial else "")
        + (". Beside each name: events in exposure." if s.rates else ".")
    )
    if n <= per_page:
        return _figure(
            lambda: plots.plot_forest(s.fits, order=order, ci_kind=s.kind, ci_prob=s.prob),
            "Forest plot",
            caption,
        )
    overview = _figure(
        lambda: plots.plot_forest(s.fits, order=order, ci_kind=s.kind, ci_prob=s.prob, per_page=per_page),
        "Forest plot, overview of every group",
        caption + f" With {n:,} groups the overview draws both poolings on one row per group and labels "
        "every few rows; the labelled pages follow.",
    )
    shown = min(pages, max_pages)
    figures = []
    for i in range(shown):
        lo, hi = i * per_page + 1, min((i + 1) * per_page, n)
        figures.append(
            _figure(
                lambda i=i: plots.plot_forest(
                    s.fits, order=order, ci_kind=s.kind, ci_prob=s.prob, page=i, per_page=per_page
                ),
                f"Forest plot, groups {lo} to {hi}",
                f"Groups {lo:,}–{hi:,} of {n:,}, on the same axis as every other page.",
            )
        )
    more = ""
    if pages > shown:
        more = (
            f'<p class="note">Pages after {shown} ({shown * per_page:,} groups) are left out of the '
            "report; the tables below list every group.</p>"
        )
    return (
        overview + f"<details><summary>Every group, {per_page} per page "
        f"({shown} page{'s' if shown > 1 else ''})</summary>" + "".join(figures) + more + "</details>"
    )


def _shrinkage_section(s: _Study) -> str:
    from . import plots

    if s.shrink is None:
        return '<p class="note">Shrinkage needs the partial-pooling model, which was not fitted.</p>'
    fig = _figure(
        lambda: plots.plot_shrinkage(s.fits, table=False),
        "Shrinkage plot",
        f"Each arrow goes from a group's {s.words['raw']} (on the diagonal) to its posterior mean under "
        f"partial pooling; {s.words['marker']}.",
    )
    st = s.shrink.sort_values("shrinkage", ascending=False, kind="stable")
    head = [
        s.group,
        *(
            ["y/n", "raw<small>rate</small>"]
            if s.binomial
            else ["y in E", "raw<small>rate</small>"]
            if s.rates
            else ["estimate", "s.e."]
        ),
        f"{_swatch('partial')}partial<small>mean</small>",
        "moved<small>by</small>",
        "B<small>shrinkage</small>",
    ]
    classes = ["", "", "", "partial", "", ""]
    rows = []
    for g, r in st.iterrows():
        moved = r["moved"]
        rows.append(
            [
                _e(g),
                *(
                    [s.counts_cell(r), _n(r["raw_rate"])]
                    if s.binomial or s.rates
                    else [_n(r["estimate"]), _n(r["std_error"])]
                ),
                _n(r["partial_mean"]),
                "—" if not np.isfinite(moved) else f"{moved:+.3f}",
                f"{r['shrinkage']:.2f}",
            ]
        )
    note = (
        f"Moved: partial-pooling mean minus {s.words['raw']}. B = {s.population.shrinkage_weight}, "
        f"{s.population.shrinkage_meaning}. Most shrunk first."
    )
    table = _table(head, rows, classes=classes, caption=note, fit=True)
    return f'<div class="side"><div>{fig}</div><div>{table}</div></div>'


def _estimates_section(s: _Study) -> str:
    poolings = list(s.fits)
    head = [s.group, *s.observed]
    classes = [""] * len(head)
    for p in poolings:
        head += [f"{_swatch(p)}{_e(_TITLES.get(p, p))}<small>mean (sd)</small>", f"<small>{s.what}</small>"]
        classes += [p, p]
    ref = s.tables[poolings[0]]
    rows = []
    for i, g in enumerate(ref.index):
        r = ref.iloc[i]
        row = [_e(g), *s.observed_cells(r)]
        for p in poolings:
            t = s.tables[p].iloc[i]
            row += [
                f"{_n(t['mean'])} <span class=ci>({_n(t['sd'])})</span>",
                f"<span class=ci>[{_n(t[s.lb])}, {_n(t[s.ub])}]</span>",
            ]
        rows.append(row)
    out = [
        "<h3>Every group under every model</h3>",
        _table(
            head,
            rows,
            classes=classes,
            caption="Posterior of θ<sub>i</sub>: exact mean, sd and interval. Input order.",
        ),
    ]
    if s.partial is not None:
        meaning = s.population.meaning
        summary = s.summaries["partial"]
        rows = []
        for name in display(s.partial.family).hyperparameters:
            r = summary.loc[name]
            rows.append(
                [
                    _formula(name),
                    _e(meaning[name]),
                    # A mean that may be infinite (mu = alpha/beta) is not shown as if it were one.
                    *([_n(r["mean"]), _n(r["sd"])] if moments_exist(s.partial, name) else ["—", "—"]),
                    f"[{_n(r[s.lb])}, {_n(r[s.ub])}]",
                    _n(_mode(s.partial, name)),
                ]
            )
        out += [
            "<h3>Hyperparameters of partial pooling</h3>",
            _table(
                ["parameter", "meaning", "mean", "sd", s.what, "mode"],
                rows,
                classes=["", "text", "", "", "", ""],
                sticky=False,
                fit=True,
            ),
        ]
    return "".join(out)


def _hyper_section(s: _Study) -> str:
    from . import plots

    if s.partial is None:
        return '<p class="note">Only partial pooling has hyperparameters; it was not fitted.</p>'
    return _figure(
        lambda: plots.plot_hyperparameters(s.fits, ci_kind=s.kind, ci_prob=s.prob),
        "Posterior of the hyperparameters",
        f"Left and centre: the posterior of μ and {SYMBOLS[s.family.spread]} with mode, mean and "
        "interval (the seed analysis wrote the MAP of μ on its plot). Right: their joint posterior, the "
        "regions holding 50%, 80%, 95% and 99% of the mass.",
    )


def _shrink_origin(s: _Study, row) -> str:
    if s.binomial:
        return f"its raw rate {_n(row['raw_rate'])} ({int(row['successes']):,} of {int(row['trials']):,})"
    if s.rates:
        return f"its raw rate {_n(row['raw_rate'])} ({int(row['events']):,} events in {_n(row['exposure'])})"
    return f"its estimate {_n(row['estimate'])} (s.e. {_n(row['std_error'])})"


def _new_group_section(s: _Study) -> str:
    from . import plots

    if s.binomial:
        fig = _figure(
            lambda: plots.plot_new_group(s.fits, trials=s.trials, ci_kind=s.kind, ci_prob=s.prob),
            "Prediction for a new group",
            f"Left: the success probability θ<sub>new</sub> of a {s.group} not in the data. Right: its "
            f"successes in {s.trials:,} trials (the median {s.group}'s), an exact mixture of "
            "beta-binomials.",
        )
    elif s.rates:
        where = f"the median {s.group}'s" if s.exposure is None else f"E = {s.exposure:g}"
        fig = _figure(
            lambda: plots.plot_new_group(s.fits, exposure=s.exposure, ci_kind=s.kind, ci_prob=s.prob),
            "Prediction for a new group",
            f"Left: the rate θ<sub>new</sub> of a {s.group} not in the data (events per unit of exposure). "
            f"Right: its events in an exposure ({where}), "
            "an exact mixture of negative binomials.",
        )
    else:
        fig = _figure(
            lambda: plots.plot_new_group(s.fits, ci_kind=s.kind, ci_prob=s.prob),
            "Prediction for a new group",
            f"Left: the true effect θ<sub>new</sub> of a {s.group} not in the data. Right: the estimate "
            f"such a {s.group} would report, with the median standard error.",
        )
    rule = {
        "none": "the prior: no group informs another",
        "complete": "the shared θ",
        "partial": s.population.new_group,
    }
    rows = []
    for p, f in s.fits.items():
        new = new_group_summary(f, s.kind, s.prob)
        if new is None:
            cells = [f"no proper prediction: {_e(display(f.family).improper_new_group)}", "—", "—"]
        else:
            interval = "[" + ", ".join(_e(b) for b in bounds(new[s.lb], new[s.ub])) + "]"
            if display(f.family).mean_may_be_infinite and p == "partial":
                cells = [f"median {_n(_median(f))}", "—", interval]
            else:
                cells = [_n(new["mean"]), _n(new["sd"]), interval]
        if s.binomial:
            c = compute.count_summary(s.counts[p], s.prob)
            cells += [f"{c['mean']:.1f} <span class=ci>({c['sd']:.1f})</span>", f"[{c['lb']:,}, {c['ub']:,}]"]
        rows.append([f"{_swatch(p)}{_e(f.model.title)}", rule.get(p, ""), *cells])
    head = ["model", "θ<sub>new</sub> is", "mean", "sd", s.what]
    if s.binomial:
        head += [
            f"y<sub>new</sub> in {s.trials:,}<small>mean (sd)</small>",
            f"<small>{_pct(s.prob)} equal-tailed</small>",
        ]
    table = _table(head, rows, classes=["", "text"] + [""] * (len(head) - 2), sticky=False)
    if s.answers.new_groups is not None:
        table += _observed_new_groups(s)
    return fig + table


def _observed_new_groups(s: _Study) -> str:
    new = s.answers.new_groups
    lb, ub = new.columns[-2], new.columns[-1]
    rows = [
        [
            f"{int(row['events']):,} in {row['exposure']:,.6g}"
            if s.rates
            else f"{int(row['successes']):,} of {int(row['trials']):,}",
            f"{_swatch(row['pooling'])}{_e(_TITLES.get(row['pooling'], row['pooling']))}",
            _n(row["mean"]),
            _n(row["sd"]),
            f"[{_n(row[lb])}, {_n(row[ub])}]",
        ]
        for _, row in new.iterrows()
    ]
    interval = s.what if (lb, ub) == (s.lb, s.ub) else _e(lb.removesuffix("_lb"))
    return "<h3>A new group that has already shown some data</h3>" + _table(
        ["observed", "model", "mean", "sd", interval],
        rows,
        classes=["text", "text", "num", "num", "num"],
        sticky=False,
        fit=True,
        caption="Under partial pooling the new group's counts also update α and β (the grid is reweighted, "
        "not refitted); under complete pooling they join the shared rate; under no pooling only they count.",
    )


def _diagnostics_section(s: _Study) -> str:
    from .plots.diagnostics import has_diagnostics_figure, plot_diagnostics

    cards, figures = [], []
    for p, f in s.fits.items():
        d = dict(f.diagnostics or {})
        pairs = [("engine", f"<code>{_e(f.engine)}</code>")]
        if not d:
            method = f"closed form (conjugate {s.words['conjugate']}): exact, nothing to check"
            pairs.append(("method", method))
        pairs += [(_e(_DIAGNOSTIC_NAMES.get(k, k.replace("_", " "))), _e(_plain(v))) for k, v in d.items()]
        warn = "".join(f'<div class="callout"><b>Warning:</b> {_e(w)}</div>' for w in f.warnings)
        if not warn:
            warn = '<p class="note">No warnings.</p>'
        cards.append(
            f'<div class="card {p}"><h3>{_swatch(p)}{_e(_cap(f.model.title))}</h3>{_kv(pairs)}{warn}</div>'
        )
        if has_diagnostics_figure(f):
            kinds = ["trace"] if f.engine == "exact" else ["trace", "rank"]
            for kind in kinds:
                grid = registry.get(f.family).display.grid
                if f.engine == "exact" and grid is None:
                    caption = (
                        "Left: the exact engine's line over u = asinh(τ / c), the posterior mass per node "
                        "(log scale), which must fall far below the warning level before the far end. "
                        "Right: the posterior of τ at each resolution tried; they must agree."
                    )
                elif f.engine == "exact":
                    caption = (
                        f"Left: the exact engine's grid over {grid.words}, coloured by each cell's "
                        "posterior probability; the posterior must sit well inside the red edge ring. "
                        "Right: the mass along each grid axis, which must fall far below the warning "
                        "level before the edges."
                    )
                else:
                    caption = (
                        "Traces and per-chain densities; divergent transitions are marked under the traces."
                        if kind == "trace"
                        else "Rank plots: the difference between each chain's rank ECDF and the uniform; "
                        "it should stay inside the band."
                    )
                figures.append(
                    _figure(
                        lambda f=f, kind=kind: plot_diagnostics(f, kind=kind),
                        f"Diagnostics of {f.model.title}",
                        caption,
                    )
                )
    return f'<div class="cards wide">{"".join(cards)}</div>' + "".join(figures)


_DIAGNOSTIC_NAMES = {
    "grid_nodes": "grid nodes",
    "levels": "nodes per axis tried",
    "max_change": "largest change (last refinement)",
    "converged": "converged",
    "edge_mass": "mass in the edge ring",
    "at_limit": "at the finest grid",
    "log_evidence": "log marginal likelihood",
    "divergences": "divergent transitions",
    "max_tree_depth_hits": "tree-depth hits",
    "r_hat_max": "largest R-hat",
    "ess_bulk_min": "smallest bulk ESS",
    "ess_tail_min": "smallest tail ESS",
    "sampling_time": "sampling time (s)",
    "target_accept": "target acceptance",
}


def _mode(fit: Fit, name: str) -> float:
    """Return the fit's mode of a hyperparameter, or the peak of its density (a sampler's KDE)."""
    try:
        return float(fit.mode(name))
    except (ValueError, NotImplementedError, AttributeError):
        x, f, _ = compute.density(fit, name)
        return compute.mode(fit, name, x, f)


def _median(fit: Fit) -> float:
    """Return the median of a new group's theta (where its mean may not exist)."""
    return fit.new_group_median()


def _plain(value: object) -> str:
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        return f"{v:.3g}" if (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5)) else f"{v:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _versions() -> list[tuple[str, str]]:
    out = [("poolwise", __version__), ("python", platform.python_version())]
    for name in _VERSIONED:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    for name in ("pymc",):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            pass
    return out


def _reproduce_section(s: _Study, data_code: str | None) -> str:
    f = s.first
    priors: dict[str, str] = {}
    for fit in s.fits.values():
        priors.update({k: str(v) for k, v in fit.model.priors.items()})
    sampled = sorted({fit.engine for fit in s.fits.values()} - {"exact"})
    engine = f", engine={sampled[0]!r}" if sampled else ""
    if data_code:
        data = f"{data_code},"
    elif s.data.source:
        data = f"{str(s.data.source)!r},"
    else:
        data = "df,  # the data table above"
    poolings = tuple(s.fits)
    pool_arg = "" if set(poolings) == set(_POOLINGS) else f"\n    poolings={poolings!r},"
    code = (
        "import poolwise as pw\nfrom poolwise.presentation.report import write_report\n\n"
        f"fits = pw.fit_all(\n    {data}\n"
        f"    {', '.join(f'{role}={name!r}' for role, name in data_columns(s.data).items())},{pool_arg}\n"
        f"    priors={priors!r},\n"
        f"    draws={getattr(f, 'n_draws', 1000)}, chains={getattr(f, 'chains', 4)}, "
        f"random_seed={f.random_seed}{engine},\n"
        ")\n"
        f'write_report(fits, "report.html", ci_kind={s.kind!r}, ci_prob={s.prob!r})\n'
    )
    seeds = sorted({fit.random_seed for fit in s.fits.values()})
    pairs = [
        ("random seed", ", ".join(str(x) for x in seeds)),
        ("draws", f"{getattr(f, 'chains', '?')} chains × {getattr(f, 'n_draws', '?')} draws"),
        ("engine", ", ".join(sorted({_e(fit.engine) for fit in s.fits.values()}))),
        (
            "intervals",
            f"{_pct(s.prob)} {'highest-density' if s.kind == 'hdi' else 'equal-tailed'} "
            f"(<code>{s.kind}</code>)",
        ),
        ("platform", _e(platform.platform())),
    ]
    versions = ", ".join(f"{_e(k)} <b>{_e(v)}</b>" for k, v in _versions())
    return (
        _kv(pairs)
        + f'<p class="note">Versions: {versions}.</p>'
        + "<h3>The same study from Python</h3>"
        + f"<pre><code>{_e_code(code)}</code></pre>"
    )


def _e_code(code: str) -> str:
    # Newlines are kept (printable would show them as \n); everything else escaped as usual.
    return "\n".join(_e(line) for line in code.split("\n"))


# --------------------------------------------------------------------------------------------------
# Public API


def render_html(
    fits: Fit | Mapping[str, Fit],
    *,
    title: str | None = None,
    ci_kind: str = "hdi",
    ci_prob: float = 0.94,
    new_trials: int | None = None,
    new_exposure: float | None = None,
    order: str = "raw_rate",
    per_page: int = 40,
    max_pages: int = 15,
    data_code: str | None = None,
    study: explain.Study | None = None,
) -> str:
    """Render the whole study as one self-contained HTML page.

    Parameters
    ----------
    fits : FitSet, mapping pooling -> Fit, or Fit
        The fitted models (usually ``pw.fit_all(...)``).
    title : str, optional
        Page title; by default the data's source, or "poolwise report".
    ci_kind : {"hdi", "eti"}
        Interval kind everywhere on the page.
    ci_prob : float
        Interval probability.
    new_trials : int, optional
        Trials of the new group whose successes are predicted; by default the median group's.
    new_exposure : float, optional
        Exposure of the new group whose events are predicted (event counts); by default the median
        group's.
    order : {"raw_rate", "trials", "mean", "name", "data"}
        Row order of the forest plot.
    per_page : int
        Groups per forest page; with more groups the report shows an overview and the pages.
    max_pages : int
        Most forest pages drawn (the tables always list every group).
    data_code : str, optional
        Python expression for the data in the page's "reproduce" snippet, e.g.
        ``"pw.datasets.load('spacex')"``; by default the data's file name, or ``df``.
    study : explain.Study, optional
        The comparison, findings, P(best) and prior sensitivity, when the caller has them already
        (the CLI); computed here otherwise.

    Returns
    -------
    str
        The page: data, models in words and formulas with their priors, summaries, forest,
        shrinkage, hyperparameter and new-group figures, diagnostics and warnings, versions and
        seed. No external resources and no scripts; every user string escaped.
    """
    found = compute.as_fits(fits)
    kind, prob = check_ci(ci_kind, ci_prob)
    if order not in compute.ORDERS:
        raise ValueError(f"order must be one of {', '.join(compute.ORDERS)}, got {order!r}")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        raise ValueError(f"per_page must be a whole number >= 1, got {per_page!r}")
    s = _Study(found, kind, prob, new_trials, study, exposure=new_exposure)
    heading = title or s.data.source or "poolwise report"

    sections = [
        ("glance", "At a glance", "", _glance(s)),
        ("findings", "Findings", "What the numbers below say, in words.", _findings_section(s)),
        (
            "data",
            "Data",
            f"One row per {s.group}: " + s.words["data"],
            _data_section(s),
        ),
        (
            "models",
            "Models",
            "Three answers to how much the groups should borrow from one another, fitted side by side.",
            _models_section(s),
        ),
        (
            "forest",
            "Forest plot",
            f"Every {s.group}'s interval under each model.",
            _forest_section(s, order, per_page, max_pages),
        ),
        (
            "shrinkage",
            "Shrinkage",
            f"How far partial pooling moves each group from its {s.words['raw']} towards the population.",
            _shrinkage_section(s),
        ),
        ("estimates", "Estimates", "", _estimates_section(s)),
        (
            "which-pooling",
            "Which pooling? Do the models fit?",
            "Predicting a group left out, exactly; and whether replicated data look like the data.",
            _which_section(s),
        ),
        (
            "questions",
            "Who is best? How much did the prior matter?",
            "Ranks and thresholds under partial pooling, and the same study under other hyperpriors.",
            _questions_section(s),
        ),
        (
            "hyperparameters",
            "Hyperparameters",
            "The population that partial pooling learns: its mean μ and " + s.population.spread,
            _hyper_section(s),
        ),
        (
            "new-group",
            "A new group",
            f"What the models predict for a {s.group} not in the data.",
            _new_group_section(s),
        ),
        (
            "diagnostics",
            "Diagnostics and warnings",
            "What each engine checked, and anything that needs your attention.",
            _diagnostics_section(s),
        ),
        (
            "reproduce",
            "Reproduce",
            "Versions, seed and the code that recreates this study.",
            _reproduce_section(s, data_code),
        ),
    ]
    nav = "<ol>" + "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t, _, _ in sections) + "</ol>"
    body = "\n".join(
        _section(a, i, t, intro, content) for i, (a, t, intro, content) in enumerate(sections, 1)
    )
    warnings_count = sum(len(f.warnings) for f in found.values())
    facts = [
        f"<li><b>{s.data.n_groups:,}</b> groups</li>",
        f"<li><b>{int(np.sum(s.data.trials)):,}</b> trials</li>" if s.binomial else "",
        f"<li><b>{int(np.sum(s.data.events)):,}</b> events</li>" if s.rates else "",
        f"<li>intervals <b>{s.what}</b></li>",
        f"<li>engine <b>{', '.join(sorted({_e(f.engine) for f in found.values()}))}</b></li>",
        f"<li>seed <b>{s.first.random_seed}</b></li>",
    ]
    if warnings_count:
        facts.append(
            f'<li class="alert"><b>{warnings_count}</b> warning{"s" if warnings_count > 1 else ""} '
            "— see Diagnostics</li>"
        )
    titles = [_e(f.model.title) for f in s.fits.values()]
    models = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    lede = (
        f'<p class="lede">{_cap(models)}, fitted side by side to {s.data.n_groups:,} groups '
        f"(<code>{s.group}</code>) "
        + (
            f"with successes <code>{_e(s.data.successes_column)}</code> of trials "
            f"<code>{_e(s.data.trials_column)}</code>.</p>"
            if s.binomial
            else f"with events <code>{_e(s.data.events_column)}</code> in exposure "
            f"<code>{_e(s.data.exposure_column)}</code>.</p>"
            if s.rates
            else f"with estimates <code>{_e(s.data.estimate_column)}</code> and their "
            f"{'standard errors' if s.data.spread == 'std_error' else 'variances'} "
            f"<code>{_e(s.data.spread_column)}</code>.</p>"
        )
        + f'<ul class="facts">{"".join(facts)}</ul>'
    )
    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = (
        f"Generated by poolwise {_e(__version__)} on {when}. This page is self-contained: "
        "figures are inline SVG and nothing is fetched from the network."
    )
    template = string.Template(
        resources.files("poolwise").joinpath("templates/report.html").read_text("utf-8")
    )
    css = resources.files("poolwise").joinpath("templates/report.css").read_text("utf-8")
    return template.substitute(
        version=_e(__version__),
        title=_e(heading),
        css=css,
        lede=lede,
        nav=nav,
        sections=body,
        footer=footer,
    )


def write_report(
    fits: Fit | Mapping[str, Fit],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    ci_kind: str = "hdi",
    ci_prob: float = 0.94,
    **options,
) -> Path:
    """Write the HTML report to ``path`` atomically (readers see the old file or the new one).

    Parameters
    ----------
    fits : FitSet, mapping pooling -> Fit, or Fit
    path : str or os.PathLike
        Destination; its directory must exist.
    title, ci_kind, ci_prob
        As for :func:`render_html`.
    **options
        ``new_trials``, ``new_exposure``, ``order``, ``per_page``, ``max_pages``, ``data_code`` of
        :func:`render_html`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import poolwise as pw
    >>> from poolwise.presentation.report import write_report
    >>> fits = pw.fit_all(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N")
    >>> write_report(fits, "spacex.html")  # doctest: +SKIP
    PosixPath('spacex.html')
    """
    page = render_html(fits, title=title, ci_kind=ci_kind, ci_prob=ci_prob, **options)
    target = Path(path)
    atomic_write_text(target, page)
    return target
