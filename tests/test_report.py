"""The HTML report: content, escaping, self-containment, atomic writing, and a real browser."""

import base64
import html
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import poolwise as pw
from poolwise import plots, report

matplotlib.use("Agg", force=True)

ARTIFACTS = Path(
    os.environ.get("POOLWISE_TEST_ARTIFACTS", Path(__file__).parents[1] / "build" / "test-artifacts")
)

# Group names that would run, fetch or break something if they were not escaped.
HOSTILE = [
    "<script>document.title='pwned'</script>",
    '"><img src=x onerror="document.body.setAttribute(\'data-pwned\', 1)">',
    "<style>body{display:none}</style>",
    "$\\frac$ & 'quotes'",
]


@pytest.fixture(scope="module")
def hostile():
    """300 groups, some named to attack the page, one with no trials; the column names too."""
    rng = np.random.default_rng(7)
    n = 300
    trials = rng.integers(1, 300, n)
    trials[9] = 0
    names = [f"site {i:03d}" for i in range(n)]
    names[: len(HOSTILE)] = HOSTILE
    df = pd.DataFrame({"<i>site</i>": names, "ok": rng.binomial(trials, rng.beta(6, 3, n)), "runs": trials})
    return pw.fit_all(df, group="<i>site</i>", successes="ok", trials="runs", random_seed=5)


@pytest.fixture(scope="module")
def spacex_page(spacex):
    return report.render_html(spacex, title="SpaceX launch vehicles")


@pytest.fixture(scope="module")
def hostile_page(hostile):
    return report.render_html(hostile, title="<script>alert('title')</script>")


def images(page):
    return re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)


def test_spacex_report_has_every_part(spacex, spacex_page):
    page = spacex_page
    for anchor in (
        "glance",
        "data",
        "findings",
        "models",
        "which-pooling",
        "forest",
        "shrinkage",
        "estimates",
        "hyperparameters",
        "new-group",
        "diagnostics",
        "reproduce",
    ):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
    for name in spacex.data.groups:
        assert page.count(f">{name}<") >= 3  # data, shrinkage and estimates tables
    # diagrams, forest, shrinkage, checks, pairwise, hyperparameters, new group, grid
    assert len(images(page)) == 8
    for data in images(page):
        assert base64.b64decode(data).startswith(b"<?xml")
    # Models in words and formulas, with their priors.
    assert "θ<sub>i</sub> ∼ Beta(α, β)" in page and "α ∼ HalfNormal(σ=10)" in page
    assert "<code>HalfNormal(sigma=10)</code>" in page and "<code>Beta(alpha=0.5, beta=0.5)</code>" in page
    # Summaries: the exact numbers of the text report.
    assert "0.859 <small>mode</small>" in page  # the mode of mu, the seed's MAP
    assert "0.606 <span class=ci>(0.175)</span>" in page  # Falcon 1 under partial pooling
    assert "[0.278, 0.907]" in page
    # New group, diagnostics, reproducibility.
    assert "θ<sub>new</sub> ∼ Beta(α, β)" in page
    assert "mass in the edge ring" in page and "No warnings" in page
    for package in ("poolwise", "python", "numpy", "scipy", "arviz", "matplotlib"):
        assert f"{package} <b>" in page
    assert "random_seed=42" in page and "<dt>random seed</dt><dd>42</dd>" in page
    assert "<title>SpaceX launch vehicles — poolwise report</title>" in page


def test_report_is_self_contained(spacex_page, hostile_page):
    for page in (spacex_page, hostile_page):
        for attribute, value in re.findall(r'\b(src|href|action|data)\s*=\s*"([^"]*)"', page):
            assert value.startswith(("data:image/svg+xml;base64,", "#")), (attribute, value[:60])
        lowered = page.lower()
        for needle in (
            "<script",
            "<link",
            "<iframe",
            "<object",
            "<embed",
            "@import",
            "url(",
            "http://",
            "https://",
        ):
            assert needle not in lowered, needle
        assert "default-src 'none'" in page  # and the browser is told to fetch nothing anyway
        for data in images(page):  # the figures hold no references either
            svg = base64.b64decode(data).decode()
            assert "<script" not in svg and not re.search(r'href="(?!#|data:image/png;base64,)', svg)


def test_every_user_string_is_escaped(hostile, hostile_page):
    page = hostile_page
    for name in HOSTILE:
        assert name not in page
        assert html.escape(name, quote=True) in page
    assert "<script" not in page.lower() and "<style>body" not in page and "<i>site</i>" not in page
    assert "&lt;i&gt;site&lt;/i&gt;" in page
    assert "<title>&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; — poolwise report</title>" in page


def test_all_groups_present_with_300_groups(hostile, hostile_page):
    page = hostile_page
    for name in hostile.data.groups:
        assert page.count(f">{html.escape(name, quote=True)}<") >= 3
    # Tables usable at this size: scrolling containers with a sticky header and first column.
    assert page.count('<div class="table-wrap') >= 4
    assert "position: sticky" in page
    # Forest: an overview and eight labelled pages of 40, folded away.
    assert "Every group, 40 per page (8 pages)" in page
    assert len(images(page)) == 1 + 1 + 8 + 1 + 1 + 1 + 1 + 1  # diagrams, forest overview + pages, ...


def test_single_pooling_report(spacex):
    page = report.render_html({"none": spacex["none"]})
    assert "needs the partial-pooling model" in page
    assert "Only partial pooling has hyperparameters" in page
    assert len(images(page)) == 4  # diagram, forest, checks, new group; no grid to diagnose


def test_sampling_engine_report_shows_traces_ranks_and_divergences(spacex):
    from test_plots import FakeNuts

    fits = {"complete": spacex["complete"], "partial": FakeNuts(spacex["partial"], divergent=2)}
    page = report.render_html(fits)
    assert "divergent transitions" in page and "largest R-hat" in page
    assert "Rank plots" in page and "Traces and per-chain densities" in page
    assert "engine=&#x27;nuts&#x27;" in page


def test_heavy_tails_draw_every_figure_and_show_no_mean():
    """BDA3's prior with SpaceX: a heavy-tailed posterior whose densities are unbounded at the edges.

    p(kappa | y) ~ kappa^(-3/2): E[alpha], E[beta], E[kappa] are infinite, so the table shows a dash
    for their mean and sd (it used to warn "did not converge" over means that grew with the grid).
    """
    df = pw.datasets.load("spacex")
    fits = pw.fit_all(df, group="Mission", successes="y", trials="N", priors={"alpha,beta": "BDA3()"})
    page = report.render_html(fits)  # any warning here (a figure not drawn) fails the test
    assert "Figure not drawn" not in page and len(images(page)) == 8
    assert "p(α, β) = BDA3()" in page
    for symbol in ("α", "β", "κ"):
        row = re.search(rf'<tr><th scope="row">{symbol}</th>.*?</tr>', page).group(0)
        assert row.count("<td>—</td>") == 2, row


def test_engine_warnings_are_shown():
    """Identical groups: the data cannot tell partial from complete pooling, and the engine says so."""
    same = pd.DataFrame({"g": list("ABCDE"), "y": [5] * 5, "n": [10] * 5})
    with pytest.warns(pw.PoolwiseWarning, match="prior-dominated"):
        fits = pw.fit_all(same, group="g", successes="y", trials="n")
    page = report.render_html(fits)
    assert '<li class="alert"><b>1</b> warning' in page
    assert page.count("prior-dominated") == 2  # at a glance and under diagnostics


def test_a_figure_that_fails_is_reported_not_hidden(spacex, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no ink")

    monkeypatch.setattr(plots, "plot_hyperparameters", broken)
    with pytest.warns(RuntimeWarning, match="could not draw the figure"):
        page = report.render_html(spacex)
    assert "Figure not drawn." in page and "RuntimeError: no ink" in page


def test_write_report_is_atomic(spacex, tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old report")
    written = report.write_report(spacex, target, title="SpaceX")
    assert written == target and isinstance(written, Path)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left
    # A failing write leaves the previous report whole.
    target.write_text("old report")

    def no_rename(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(spacex, target)
    assert target.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    with pytest.raises(ValueError, match="ci_prob"):
        report.write_report(spacex, target, ci_prob=1.5)


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("POOLWISE_REQUIRE_BROWSER"):
        pytest.fail("POOLWISE_REQUIRE_BROWSER is set but no Chromium was found on PATH")
    pytest.skip("no headless Chromium on PATH (Debian package 'chromium')")


def _run_browser(browser, *args):
    profile = tempfile.mkdtemp(prefix="poolwise-chromium-")
    try:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_report_in_headless_chromium(hostile, tmp_path):
    browser = _browser()
    path = report.write_report(
        hostile, tmp_path / "report.html", title="<script>document.title='pwned'</script>"
    )
    url = path.resolve().as_uri()
    dom = _run_browser(browser, "--virtual-time-budget=3000", "--dump-dom", url).stdout
    # Nothing from the data ran: no title change, no attribute set by an event handler.
    assert not re.search(r"<[^>]*\sdata-pwned=", dom)
    assert "<title>pwned</title>" not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom  # shown as text
    assert dom.count('<img src="data:image/svg+xml;base64,') == 15  # with diagrams and checks
    assert dom.count("<table") >= 5 and dom.count("<tr>") >= 3 * hostile.data.n_groups
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    _run_browser(browser, f"--screenshot={shot}", "--window-size=1280,4000", url)
    assert shot.stat().st_size > 50_000


@pytest.mark.slow
def test_report_of_a_real_nuts_fit(tmp_path):
    """The sampler's own DataTree and diagnostics, end to end (PyMC; a few hundred draws)."""
    pytest.importorskip("pymc")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few draws: the engine rightly warns about ESS
        fits = pw.fit_all(
            pw.datasets.load("spacex"),
            group="Mission",
            successes="y",
            trials="N",
            engine="nuts",
            draws=300,
            random_seed=1,
        )
        path = report.write_report(fits, tmp_path / "nuts.html")
    page = path.read_text(encoding="utf-8")
    assert "divergent transitions" in page and "Rank plots" in page
    assert "Figure not drawn" not in page
    # diagrams, forest, shrinkage, checks, pairwise, hyper, new group; traces and ranks per pooling
    assert len(images(page)) == 7 + 2 * 3


def test_report_of_estimates_with_standard_errors():
    schools = pw.datasets.load("eight_schools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pw.PoolwiseWarning)
        fits = pw.fit_all(schools, **pw.datasets.info("eight_schools").columns)
    page = report.render_html(fits)  # any warning here (a figure not drawn) fails the test
    assert "Figure not drawn" not in page
    # diagrams, forest, shrinkage, checks, pairwise, hyperparameters, new group, line over tau
    assert len(images(page)) == 8
    assert "estimates with |y/s| > 1.96" in html.unescape(page)  # the checks of estimates
    assert "successes" not in page and "trials" not in page.replace("new_trials", "")
    for part in ("estimate", "standard error", "N(μ, τ²)", "E[s²/(s²+τ²) | y]", "τ median"):
        assert part in page
    for school in schools["school"]:
        assert page.count(f">{school}<") >= 3  # data, shrinkage and estimates tables
    assert "No pooling is not compared: its prior is improper" in page
    assert "no proper prediction: the flat prior on theta is improper" in page  # no pooling's new group
    assert "estimate='y', std_error='sigma'" in html.unescape(page)  # the code that recreates it
