"""The posterior predictive check figure draws what checks.ppc reports."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import poolwise as pw  # noqa: E402
from poolwise.analysis.checks import STATISTICS, ppc  # noqa: E402
from poolwise.presentation.plots import plot_ppc  # noqa: E402


def test_ppc_figure_has_a_panel_per_pooling_and_statistic_with_its_p_value():
    fits = pw.fit_all(
        pw.datasets.load("rat_tumors"), group="experiment", successes="y", trials="n", random_seed=0
    )
    fig = plot_ppc(fits)
    axes = fig.axes
    assert len(axes) == 3 * len(STATISTICS)
    table = ppc(fits["complete"])
    row = list(fits).index("complete")
    for col, name in enumerate(STATISTICS):
        ax = axes[row * len(STATISTICS) + col]
        assert ax.get_title(loc="right").startswith("p = ")
        observed = [line.get_xdata()[0] for line in ax.get_lines()]
        assert table.loc[name, "observed"] in observed
    assert axes[-1].get_xlabel() == STATISTICS["max_rate"][0]
    plt.close(fig)
