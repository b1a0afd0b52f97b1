"""poolwise: exact Bayesian partial pooling for many groups with few observations each.

Fit no pooling, complete pooling and a hierarchical model side by side, see the shrinkage, predict
an unseen group, exactly and in milliseconds::

    import poolwise as pw
    fits = pw.fit_all(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N")
    fits["partial"].summary()

Submodules load on first use, so ``import poolwise`` stays light (no PyMC, Dask or matplotlib).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("poolwise")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

_LAZY = {
    "fit": ("poolwise.study.fits", "fit"),
    "fit_all": ("poolwise.study.fits", "fit_all"),
    "Fit": ("poolwise.study.fits", "Fit"),
    "FitSet": ("poolwise.study.fits", "FitSet"),
    "compare": ("poolwise.analysis.comparison", "compare"),
    "Comparison": ("poolwise.analysis.comparison", "Comparison"),
    "meta_analysis": ("poolwise.analysis.meta", "meta_analysis"),
    "MetaAnalysis": ("poolwise.analysis.meta", "MetaAnalysis"),
    "escalc": ("poolwise.analysis.escalc", "escalc"),
    "predictive": ("poolwise.analysis.predict", "predictive"),
    "predictive_table": ("poolwise.analysis.predict", "predictive_table"),
    "DataError": ("poolwise.errors", "DataError"),
    "PoolwiseWarning": ("poolwise.errors", "PoolwiseWarning"),
    "datasets": ("poolwise.datasets", None),
    "priors": ("poolwise.priors", None),
    "plots": ("poolwise.presentation.plots", None),
    "report": ("poolwise.presentation.report", None),
    "questions": ("poolwise.analysis.questions", None),
    "predict": ("poolwise.analysis.predict", None),
    "checks": ("poolwise.analysis.checks", None),
    "sensitivity": ("poolwise.analysis.sensitivity", None),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'poolwise' has no attribute {name!r}") from None
    value = import_module(module)
    return value if attr is None else getattr(value, attr)


def __dir__() -> list[str]:
    return sorted(__all__)
