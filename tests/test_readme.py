"""The README's examples run as written, and the numbers it prints are the ones poolwise prints.

Every ```python block of README.md runs on its own, in a fresh namespace and in the temporary
directory every test runs in (conftest), so the files the examples write never land in the
checkout. Blocks that sample with PyMC are slow (run with --run-slow); blocks that need an extra
are skipped without it.
"""

import importlib.util
import re
import warnings
from pathlib import Path

import pytest

import poolwise as pw
from poolwise.cli import main
from poolwise.errors import PoolwiseWarning

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
SPACEX = dict(group="Mission", successes="y", trials="N")


def _marks(code: str) -> list:
    marks = []
    if "pymc" in code or 'engine="nuts"' in code:
        marks.append(pytest.mark.slow)  # PyMC compiles and samples: minutes
        if importlib.util.find_spec("pymc") is None:
            marks.append(pytest.mark.skip(reason="needs the mcmc extra"))
    if "distributed" in code and importlib.util.find_spec("distributed") is None:
        marks.append(pytest.mark.skip(reason="needs the dask extra"))
    return marks


def _heading(i: int) -> str:
    """The README section a block sits in, for the test's id."""
    before = re.sub(r"^```.*?^```", "", README[: README.index(BLOCKS[i])], flags=re.S | re.M)
    title = re.findall(r"^#+ (.*)$", before, flags=re.M)[-1]  # outside the blocks: not a comment
    return f"{i}-" + re.sub(r"\W+", "-", title.lower()).strip("-")[:40]


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 12


@pytest.mark.parametrize(
    "code", [pytest.param(code, marks=_marks(code), id=_heading(i)) for i, code in enumerate(BLOCKS)]
)
def test_readme_block_runs_as_written(code):
    namespace = {"__name__": "__readme__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), namespace)
    # The fits' own notes (prior-dominated data, few effective draws) are for the reader; others are not.
    others = [w for w in caught if not issubclass(w.category, PoolwiseWarning | UserWarning)]
    assert not others, [str(w.message) for w in others]


def _text_block(first_line: str) -> str:
    blocks = re.findall(r"^```text\n(.*?)^```", README, flags=re.S | re.M)
    (block,) = [b for b in blocks if b.startswith(first_line)]
    return block


def test_readme_main_job_output_is_what_poolwise_prints(capsys):
    """`make run` prints the README's text, line for line (the grid's convergence digits aside)."""
    assert main([]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    shown = _text_block("poolwise 0.1.0 — SpaceX").strip().splitlines()
    assert len(printed) == len(shown)
    for got, want in zip(printed, shown, strict=True):
        if want.lstrip().startswith("grid:"):  # the largest change and the edge mass: noise at 1e-6
            want, got = want.split("(")[0], got.split("(")[0]
        assert got == want


def _decimals(text: str) -> float:
    return 0.5 * 10.0 ** -len(text.partition(".")[2]) + 1e-12


def test_readme_comparison_table_is_what_compare_gives():
    table = pw.compare(pw.datasets.load("spacex"), **SPACEX, random_seed=1).table
    lines = _text_block("          rank  elpd_logo").strip().splitlines()
    columns = lines[0].split()
    for line in lines[2:]:
        pooling, *cells = line.split()
        for column, cell in zip(columns, cells, strict=True):
            got = float(table.loc[pooling, column])
            assert abs(got - float(cell)) <= _decimals(cell), (pooling, column, got, cell)


def _near(value: float, shown: str) -> bool:
    return abs(value - float(shown)) <= _decimals(shown)


def test_readme_family_numbers():
    """The numbers the README's comments quote, from the fits they describe."""
    surgical = pw.fit(
        pw.datasets.load("surgical"), group="hospital", successes="r", trials="n", family="logit-normal"
    )
    s = surgical.summary()
    assert "mu -2.53 (sd 0.16), sigma 0.44 (sd 0.16)" in README
    for name, mean, sd in (("mu", "-2.53", "0.16"), ("sigma", "0.44", "0.16")):
        assert _near(s.loc[name, "mean"], mean) and _near(s.loc[name, "sd"], sd), name
    pumps = pw.fit(pw.datasets.load("pumps"), group="pump", events="failures", exposure="hours").summary()
    assert "alpha 0.697 (sd 0.271), beta 0.927 (0.543), theta[10] 1.99 (0.42)" in README
    for name, mean, sd in (
        ("alpha", "0.697", "0.271"),
        ("beta", "0.927", "0.543"),
        ("theta[10]", "1.99", "0.42"),
    ):
        assert _near(pumps.loc[name, "mean"], mean) and _near(pumps.loc[name, "sd"], sd), name
    schools = pw.fit(
        pw.datasets.load("eight_schools"),
        group="school",
        estimate="y",
        std_error="sigma",
        priors={"mu": "flat", "tau": "uniform"},
    )
    e = schools.summary()
    assert "theta[A] mean 11.4 (sd 8.3), mu 7.9 (5.2), tau 6.6 (5.7), tau's mode 0" in README
    for name, mean, sd in (("theta[A]", "11.4", "8.3"), ("mu", "7.9", "5.2"), ("tau", "6.6", "5.7")):
        assert _near(e.loc[name, "mean"], mean) and _near(e.loc[name, "sd"], sd), name
    assert abs(schools.mode("tau")) < 0.05
