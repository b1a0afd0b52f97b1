"""Model diagrams: every node, prior and the plate are drawn, for every pooling and prior form."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from poolwise.families.models import build  # noqa: E402
from poolwise.presentation.plots import plot_model_diagram  # noqa: E402


def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize(
    ("pooling", "priors", "expected"),
    [
        ("none", None, [r"$\theta_i$", "$y_i$", "$n_i$", "Beta(alpha=0.5, beta=0.5)"]),
        ("complete", None, [r"$\theta$", "$y_i$", "Beta(alpha=0.5, beta=0.5)"]),
        ("partial", None, [r"$\alpha$", r"$\beta$", r"$\theta_i$", "HalfNormal(sigma=10)"]),
        (
            "partial",
            {"mu": "Beta(1,1)", "kappa": "Exponential(0.1)"},
            [r"$\mu$", r"$\kappa$", "Exponential(lam=0.1)"],
        ),
        ("partial", {"alpha,beta": "BDA3"}, [r"$(\alpha, \beta)$", "BDA3()"]),
    ],
)
def test_diagram_draws_the_model(pooling, priors, expected):
    (model,) = build(pooling, priors)
    ax = plot_model_diagram(model, n_groups=4, group_name="Mission")
    drawn = " | ".join(_texts(ax))
    for fragment in expected:
        assert fragment in drawn
    assert "i = 1 … 4  (Mission)" in _texts(ax)
    assert ax.get_title(loc="left").startswith(model.title)
    plt.close(ax.figure)


@pytest.mark.parametrize("pooling", ["none", "complete", "partial"])
def test_diagram_of_estimates_with_standard_errors(pooling):
    (model,) = build(pooling, family="normal-normal")
    ax = plot_model_diagram(model, n_groups=8, group_name="school")
    texts = _texts(ax)
    assert "$s_i$" in texts and "$n_i$" not in texts
    assert any("N(" in t and "s_i^2" in t for t in texts)  # y_i ~ N(theta_i, s_i^2)
    assert not any("Binomial" in t or "Beta(" in t for t in texts)
    if pooling == "partial":
        assert {r"$\mu$", r"$\tau$"} <= set(texts) and any(r"\tau^2" in t for t in texts)
    plt.close(ax.figure)


def test_diagram_of_the_logit_normal_population():
    (model,) = build("partial", family="logit-normal")
    ax = plot_model_diagram(model, n_groups=12, group_name="hospital")
    texts = _texts(ax)
    assert {r"$\mu$", r"$\sigma$", "$n_i$"} <= set(texts)
    assert any("logit" in t and r"\sigma^2" in t for t in texts) and not any("Beta(" in t for t in texts)
    plt.close(ax.figure)
