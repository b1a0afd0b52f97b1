"""Shared look and plumbing of the figures: colours, style, figure creation, safe labels.

Nothing here imports matplotlib at module level: ``import poolwise.plots`` stays light, and
matplotlib loads when the first figure is drawn.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

from ..render import printable

#: One colour per pooling, the same in every figure and in the report (Okabe-Ito, colour-blind safe).
COLORS = {"none": "#E69F00", "complete": "#009E73", "partial": "#0072B2"}

#: Short names of the poolings, as the legends show them.
LABELS = {
    "none": "no pooling",
    "complete": "complete pooling",
    "partial": "partial pooling (hierarchical)",
}

INK = "#222222"
MUTED = "#6b6b6b"
FAINT = "#9a9a9a"
#: Warnings and limits (not a pooling's colour).
ALERT = "#B03A2E"

#: Matplotlib settings for every poolwise figure (applied with ``rc_context``, never globally).
RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.size": 9.5,
    "text.color": INK,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 8,
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": FAINT,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#ebebeb",
    "grid.linewidth": 0.8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "figure.facecolor": "white",
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "savefig.facecolor": "white",
    "svg.fonttype": "path",
    "svg.hashsalt": "poolwise",
}

# Whether new figures are registered with pyplot (True for users, so that plt.show() works; the
# report turns it off, so that its figures are plain objects that need no closing).
_USE_PYPLOT: contextvars.ContextVar[bool] = contextvars.ContextVar("poolwise_use_pyplot", default=True)


def styled[F: Callable[..., Any]](func: F) -> F:
    """Run a plotting function inside poolwise's ``rc_context``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def detached_figures() -> Iterator[None]:
    """Make figures without pyplot (no global registry, nothing to close) inside this block."""
    token = _USE_PYPLOT.set(False)
    try:
        yield
    finally:
        _USE_PYPLOT.reset(token)


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kwargs: Any):
    """Return ``(figure, 2-D array of axes)`` with constrained layout."""
    if _USE_PYPLOT.get():
        import matplotlib.pyplot as plt

        return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False, **kwargs)
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kwargs)


def close(fig) -> None:
    """Release a figure, whether or not pyplot knows it."""
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


def text(label: object, limit: int | None = None) -> str:
    """Make a user string safe to draw: control characters escaped, ``$`` not read as mathtext.

    Long labels are cut to ``limit`` characters with an ellipsis (the tables keep them whole).
    """
    out = printable(label)
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out.replace("$", r"\$")


def number(value: float, digits: int = 3) -> str:
    """Format a number for a figure: 3 significant figures, scientific when very small or large."""
    if value is None or not math.isfinite(value):
        return "—"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def log_ticks(axis, lo: float, hi: float) -> None:
    """Label a log axis spanning ``lo`` to ``hi`` in plain numbers: 1, 2 and 5 times powers of ten.

    Over more than four decades the powers of ten alone, so that the labels do not crowd.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    subs = (1.0, 2.0, 5.0) if hi <= 1e4 * lo else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def interval_name(kind: str, prob: float) -> str:
    """``"94% HDI"`` or ``"89.5% ETI"``."""
    return f"{prob * 100:.10g}% {kind.upper()}"
