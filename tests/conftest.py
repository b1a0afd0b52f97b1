import sys

import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (make test does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _outside_the_checkout(tmp_path_factory, monkeypatch):
    """Run every test in a fresh temporary directory, so that nothing a test writes by a relative
    path (the CLI's default ``poolwise-report.html``, a figure) lands in the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(autouse=True)
def _close_figures():
    """Close any matplotlib figures a test left open (without importing matplotlib otherwise)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture(scope="module")
def spacex():
    """The three poolings of the seed's SpaceX data, seed 42 (files may define their own)."""
    import poolwise as pw

    return pw.fit_all(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N", random_seed=42)
