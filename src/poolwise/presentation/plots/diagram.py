"""Model diagrams in plate notation, drawn by poolwise (no Graphviz binary, no PyMC).

Random quantities are circles, observed ones shaded, known constants small squares; the plate
holds what repeats for every group. Each node carries its distribution, so
the diagram states the whole model, as ``pm.model_to_graphviz`` does for the seed analysis.
"""

from __future__ import annotations

from ...families import registry
from ...families.models import Model
from ._common import COLORS, INK, MUTED, new_figure, styled, text

_GREEK = {
    "alpha": r"\alpha",
    "beta": r"\beta",
    "mu": r"\mu",
    "kappa": r"\kappa",
    "tau": r"\tau",
    "sigma": r"\sigma",
    "theta": r"\theta",
}


#: Each kind of data in the diagram (:attr:`~poolwise.families.registry.Family.data`): the
#: likelihood of y_i given theta (``{theta}`` is filled in) and the known constant per group
#: (mathtext). The population of the theta_i is the family's (``display.population_tex``).
_DATA = {
    "binomial": (r"$\sim$ Binomial($n_i$, {theta})", "n_i"),
    "estimates": (r"$\sim$ N({theta}, $s_i^2$)", "s_i"),
    "rates": (r"$\sim$ Poisson($E_i\,${theta})", "E_i"),
}


def _node(ax, x, y, label, note, *, observed=False, constant=False, color=INK, size=12):
    from matplotlib.patches import Circle, FancyBboxPatch

    if constant:
        patch = FancyBboxPatch(
            (x - 0.035, y - 0.035), 0.07, 0.07, boxstyle="square,pad=0", fc="white", ec=color
        )
    else:
        patch = Circle((x, y), 0.06, fc="#d9d9d9" if observed else "white", ec=color, lw=1.4)
    ax.add_patch(patch)
    ax.text(x, y, f"${label}$", ha="center", va="center", fontsize=size, color=INK)
    if note:
        ax.text(x, y - 0.095, note, ha="center", va="top", fontsize=7.5, color=MUTED)


def _arrow(ax, start, end):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=11, color=INK, lw=1.0, shrinkA=22, shrinkB=22
        )
    )


@styled
def plot_model_diagram(model: Model, *, n_groups: int | None = None, group_name: str = "group", ax=None):
    """Draw a model in plate notation.

    Parameters
    ----------
    model : Model
        ``fit.model``: the pooling and its priors.
    n_groups : int, optional
        Shown on the plate (``i = 1 .. G``).
    group_name : str
        What a group is called (the group column), shown on the plate.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        _, axes = new_figure((4.6, 3.6))
        ax = axes[0, 0]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.axis("off")
    color = COLORS[model.pooling]
    priors = model.priors
    family = registry.get(model.family)
    likelihood, constant = _DATA[family.data]
    theta_y, y_y = 0.5, 0.2
    plate = FancyBboxPatch(
        (0.18, 0.05), 0.64, 0.58, boxstyle="round,pad=0.01,rounding_size=0.03", fc="none", ec=MUTED
    )
    ax.add_patch(plate)
    count = f"i = 1 … {n_groups}" if n_groups else "i = 1 … G"
    ax.text(
        0.8, 0.07, f"{count}  ({text(group_name, 24)})", ha="right", va="bottom", fontsize=7.5, color=MUTED
    )

    if model.pooling == "complete":
        _node(ax, 0.5, 0.82, r"\theta", str(priors["theta"]), color=color)
        _arrow(ax, (0.5, 0.82), (0.5, y_y))
    else:
        _node(ax, 0.5, theta_y, r"\theta_i", "", color=color)
        _arrow(ax, (0.5, theta_y), (0.5, y_y))
        if model.pooling == "none":
            ax.text(
                0.57,
                theta_y,
                f"~ {priors['theta']}\nindependently",
                ha="left",
                va="center",
                fontsize=7.5,
                color=MUTED,
            )
        else:
            ax.text(
                0.57,
                theta_y,
                family.display.population_tex,
                ha="left",
                va="center",
                fontsize=7.5,
                color=MUTED,
            )
            if "alpha,beta" in priors:
                pairs = [("(\\alpha, \\beta)", str(priors["alpha,beta"]), 0.5)]
            else:
                # the parameter beside mu is the spread its priors are given on
                names = ("mu", family.spread) if "mu" in priors else ("alpha", "beta")
                pairs = [
                    (_GREEK[name], str(priors[name]), x) for name, x in zip(names, (0.24, 0.76), strict=True)
                ]
            for label, note, x in pairs:
                _node(ax, x, 0.85, label, note, color=color, size=12 if len(label) < 10 else 8.5)
                _arrow(ax, (x, 0.85), (0.5, theta_y))
    _node(ax, 0.5, y_y, "y_i", "", observed=True)
    theta = r"$\theta$" + ("" if model.pooling == "complete" else "$_i$")
    ax.text(
        0.57,
        y_y,
        likelihood.format(theta=theta),
        ha="left",
        va="center",
        fontsize=7.5,
        color=MUTED,
    )
    _node(ax, 0.3, y_y, constant, "", constant=True)
    _arrow(ax, (0.3, y_y), (0.5, y_y))
    ax.set_title(f"{model.title}: model diagram", fontsize=10)
    return ax
