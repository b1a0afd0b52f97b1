"""Findings quote the interval asked for, say when a group has no data, and skip trivial pairs."""

import json
import re

import pytest

import poolwise as pw
from poolwise.cli import main
from poolwise.presentation import explain, render

#: Two groups with the same data (D, E), and one with none (C).
COUNTS = "group,successes,trials\nA,3,20\nB,10,20\nC,0,0\nD,0,20\nE,0,20\nF,15,20\n"


@pytest.fixture
def counts_csv(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(COUNTS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "counts.csv"
    path.write_text(COUNTS, encoding="utf-8")
    fits = pw.fit_all(path, random_seed=3)
    return fits, explain.study(fits)


def _intervals(text):
    return set(re.findall(r"\d+% (?:HDI|ETI)", text))


def _findings_html(page):
    return page.split('<ul class="findings">')[1].split("</ul>")[0]


def test_cli_findings_quote_ci_kind_and_prob(capsys):
    args = ["fit", "--dataset", "spacex", "--ci-kind", "eti", "--ci-prob", "0.89"]
    assert main([*args, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    quoted = " ".join(f["text"] for f in found if f["topic"] in ("new group", "bet"))
    assert _intervals(quoted) == {"89% ETI"}
    assert main(args) == 0
    assert _intervals(capsys.readouterr().out.split("── findings")[1]) == {"89% ETI"}
    assert (
        main(["report", "--dataset", "spacex", "--ci-kind", "eti", "--ci-prob", "0.89", "-q", "-o", "r.html"])
        == 0
    )
    with open("r.html", encoding="utf-8") as page:
        assert _intervals(_findings_html(page.read())) == {"89% ETI"}


def test_report_findings_quote_its_interval():
    fits = pw.fit_all(pw.datasets.load("spacex"), group="Mission", successes="y", trials="N", random_seed=1)
    page = pw.report.render_html(fits, ci_kind="eti", ci_prob=0.89)
    assert _intervals(_findings_html(page)) == {"89% ETI"}


def test_group_without_data_is_named_and_ranked_last(answers):
    fits, study = answers
    (note,) = [f for f in study.findings if f.topic == "no data"]
    assert note.numbers["groups"] == ["C"]
    assert note.text.startswith("C has no data (0 trials)") and "new group's" in note.text
    assert study.no_data == ("C",)
    # C's posterior mean rank (3.5, a new group's) is above A's, D's and E's; it is listed last anyway
    assert study.ranks.loc["C", "mean_rank"] < study.ranks.loc["A", "mean_rank"]
    assert list(study.ranks.index)[-1] == "C"
    text = render.study_text(study)
    assert "no data, so ranked as a new group would be and listed last: C" in text
    assert render.study_dict(study)["no_data"] == ["C"]


def test_group_without_data_prints_a_readable_interval(counts_csv, capsys):
    assert main(["fit", str(counts_csv)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  C ")]
    assert len(rows) == 4  # one per pooling, and its rank
    for row in rows:
        assert "e-" not in row, row  # 0.000, not 1.85e-131


def test_report_notes_the_group_without_data(answers):
    fits, study = answers
    page = pw.report.render_html(fits, study=study)
    assert "Listed last, with no data: C" in page
    assert "C has no data" in _findings_html(page)


def test_pairs_with_identical_data_are_no_finding(answers):
    fits, study = answers
    (pairs,) = [f for f in study.findings if f.topic == "cannot tell apart"]
    # D and E are both 0 of 20: 0.50 either way, known before any fit; C (no data) pairs with every group
    assert pairs.numbers["left_out"] == 1 + 5
    assert not re.search(r"\b([DE]) above (?!\1)[DE]\b", pairs.text)
    assert "C above" not in pairs.text and "above C" not in pairs.text
    assert "6 pairs left out: identical data, or a group with none" in pairs.text
    if "closest" in pairs.numbers:
        assert set(pairs.numbers["closest"]) != {"D", "E"}
