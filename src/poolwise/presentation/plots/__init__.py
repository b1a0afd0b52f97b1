"""Figures of a study: forest, shrinkage, hyperparameters, a new group, diagnostics.

Every function takes a :class:`~poolwise.FitSet` (or a mapping pooling -> :class:`~poolwise.Fit`,
or one Fit where that is enough) and returns matplotlib objects: single-panel functions take an
optional ``ax`` and return the Axes, multi-panel ones return the Figure. Colours are the same for a
pooling in every figure (:data:`COLORS`). matplotlib is imported when a figure is drawn, not when
this module is imported.

>>> import poolwise as pw
>>> from poolwise import plots
>>> fits = pw.fit_all(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N")
>>> ax = plots.plot_forest(fits)                       # doctest: +SKIP
>>> fig = plots.plot_hyperparameters(fits)             # doctest: +SKIP

=============================  ====================================================================
:func:`plot_forest`            every group's interval, no vs partial pooling, complete as a band
:func:`forest_pages`           the same, ``per_page`` labelled groups per figure
:func:`plot_shrinkage`         raw rate y/n (estimate, y/E) to posterior mean, marker size by trials
                               (precision, exposure), with a table
:func:`plot_hyper_density`     mu, kappa, alpha, beta (tau, sigma) with mode, mean (median where the
                               mean may be infinite) and interval written on
:func:`plot_hyper_joint`       the joint posterior of (mu, kappa), (mu, tau), (mu, sigma), (mu, alpha)
:func:`plot_hyperparameters`   the three above in one figure
:func:`plot_theta_new`         a new group's success probability (effect, rate) under each pooling
:func:`plot_y_new`             a new group's successes in ``n`` trials (its estimate, given its s; its
                               events in an exposure)
:func:`plot_new_group`         the two above in one figure
:func:`plot_diagnostics`       the exact grid (line over tau) and its edge mass, or a sampler's traces
:func:`shrinkage_table`        per-group shrinkage ``E[kappa/(kappa+n) | y]`` (``E[s²/(s²+tau²) | y]``,
                               ``E[beta/(beta+E) | y]``)
:func:`predictive_counts`      ``P(y_new = k)`` for ``n`` trials, exact (binomial counts only)
:func:`predictive_events`      ``P(y_new = k)`` for an exposure ``E``, exact (event counts only)
:func:`plot_model_diagram`     the model in plate notation (no Graphviz needed)
:func:`plot_ppc`               posterior predictive checks, replicated statistics against the data
:func:`plot_meta_forest`       a meta-analysis: studies with weights, pooled diamonds, prediction interval
:func:`plot_pairwise`          ``P(theta_i > theta_j)`` for every pair of groups, as a heat map
=============================  ====================================================================

Every figure draws every family, each in its own terms (in parentheses above): binomial counts
(beta-binomial, logit-normal), estimates with known standard errors (normal-normal), and events in
an exposure (gamma-Poisson: rates, on log axes when they span decades).
"""

from ...analysis.shrinkage import predictive_counts, predictive_events, shrinkage_table
from ._common import COLORS, LABELS
from .checks import plot_ppc
from .diagnostics import plot_diagnostics
from .diagram import plot_model_diagram
from .forest import forest_pages, plot_forest
from .hyper import plot_hyper_density, plot_hyper_joint, plot_hyperparameters
from .meta_forest import plot_meta_forest
from .pairwise import plot_pairwise
from .predictive import plot_new_group, plot_theta_new, plot_y_new
from .shrinkage import plot_shrinkage

__all__ = [
    "COLORS",
    "LABELS",
    "forest_pages",
    "plot_diagnostics",
    "plot_forest",
    "plot_hyper_density",
    "plot_hyper_joint",
    "plot_hyperparameters",
    "plot_meta_forest",
    "plot_model_diagram",
    "plot_new_group",
    "plot_pairwise",
    "plot_ppc",
    "plot_shrinkage",
    "plot_theta_new",
    "plot_y_new",
    "predictive_counts",
    "predictive_events",
    "shrinkage_table",
]
