"""Figures of the normal-normal family (eight schools, BCG): what each figure draws, against the fit."""

import io

import matplotlib
import numpy as np
import pytest
from scipy import stats

import poolwise as pw
from poolwise import plots

matplotlib.use("Agg", force=True)


def fit_dataset(name):
    info = pw.datasets.info(name)
    return pw.fit_all(pw.datasets.load(name), random_seed=7, **info.columns)


@pytest.fixture(scope="module")
def schools():
    """BDA3's eight schools, the three poolings (flat prior on mu, uniform on tau)."""
    return fit_dataset("eight_schools")


@pytest.fixture(scope="module")
def bcg():
    """13 BCG trials, log risk ratios."""
    return fit_dataset("bcg")


def drawn(fig):
    """Render to SVG in memory: layout and every text are really drawn."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    assert buffer.tell() > 1000


def texts(ax):
    return [t.get_text() for t in ax.texts]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def title(ax):
    return " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)


# --- forest ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["schools", "bcg"])
def test_forest_rows_intervals_and_observed_estimates(dataset, request):
    fits = request.getfixturevalue(dataset)
    data = fits.data
    ax = plots.plot_forest(fits)
    drawn(ax.figure)
    # Highest estimate first, each row labelled with the group's estimate ± standard error.
    order = np.argsort(-data.estimate, kind="stable")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split("  (")[0] for label in labels] == list(data.groups[order])
    assert labels[0].endswith(f"({data.estimate[order[0]]:.3g} ± {data.std_error[order[0]]:.3g})")
    g = data.n_groups
    segments = [c for c in ax.collections if len(c.get_segments()) == g]
    assert len(segments) == 2
    # No pooling under its flat prior is N(y, s^2): the 94% HDI is y ± z s, z the 97% normal
    # quantile. The engine's HDI is found to 1e-8 in probability: endpoints within 1e-6 s.
    z = stats.norm.ppf(0.97)
    ends = np.array([s[:, 0] for s in segments[0].get_segments()])
    y, s = data.estimate[order], data.std_error[order]
    np.testing.assert_allclose(ends[:, 0], y - z * s, atol=1e-6 * s.max())
    np.testing.assert_allclose(ends[:, 1], y + z * s, atol=1e-6 * s.max())
    partial = fits["partial"].group_table().iloc[order]
    ends = np.array([s[:, 0] for s in segments[1].get_segments()])
    np.testing.assert_array_equal(ends, partial[["hdi94_lb", "hdi94_ub"]].to_numpy())
    # The observed estimates, one tick per row, top row first.
    ticks = next(line for line in ax.lines if line.get_marker() == "|")
    np.testing.assert_array_equal(ticks.get_xdata(), y)
    np.testing.assert_array_equal(ticks.get_ydata(), np.arange(g)[::-1])
    # The effect scale, not [0, 1]: every interval and estimate inside the axis.
    lo, hi = ax.get_xlim()
    assert lo < (y - z * s).min() and hi > (y + z * s).max()
    legend = legend_texts(ax)
    assert "no pooling (= estimate ± 1.88·s)" in legend and "observed estimate" in legend
    assert "complete pooling (94% HDI)" in legend
    assert "effect" in ax.get_xlabel() and "estimate ± standard error" in ax.get_ylabel()


def test_forest_orders_by_precision(bcg):
    ax = plots.plot_forest(bcg, order="trials", ci_kind="eti", ci_prob=0.5)
    first = bcg.data.groups[np.argmin(bcg.data.std_error)]
    assert ax.get_yticklabels()[0].get_text().startswith(first)
    assert "most precise" in " ".join(texts(ax))
    assert "50% ETI" in ax.get_xlabel()
    pages = plots.forest_pages(bcg, per_page=5)
    assert len(pages) == 3
