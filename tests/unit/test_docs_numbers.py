"""The measured tables in README.md and docs/ are those `bench/report.py` renders from the latest
JSON in bench/results/: a bench re-run without `python bench/report.py` fails here."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
assert spec is not None and spec.loader is not None
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

figures_spec = importlib.util.spec_from_file_location("bench_figures", ROOT / "bench" / "figures.py")
assert figures_spec is not None and figures_spec.loader is not None
figures = importlib.util.module_from_spec(figures_spec)
sys.modules["bench_figures"] = figures  # its dataclass looks its module up while it is built
figures_spec.loader.exec_module(figures)


@pytest.mark.parametrize("doc", report.DOCS, ids=lambda path: path.name)
def test_every_measured_table_is_rendered_from_its_json(doc):
    text = doc.read_text(encoding="utf-8")
    assert report.rendered(text) == text, f"run `python bench/report.py`: {doc.name} quotes stale numbers"


def test_the_docs_quote_every_bench_and_each_table_names_its_file():
    quoted = {
        m["name"] for doc in report.DOCS for m in report.BLOCK.finditer(doc.read_text(encoding="utf-8"))
    }
    assert quoted == set(report.RENDERERS)
    for doc in report.DOCS:
        for block in report.BLOCK.finditer(doc.read_text(encoding="utf-8")):
            named = re.search(r"from `bench/results/([^`]+\.json)`", block["body"])
            assert named and (ROOT / "bench" / "results" / named[1]).is_file()


def test_a_changed_number_is_caught(tmp_path):
    doc = next(d for d in report.DOCS if "<!-- bench:load" in d.read_text(encoding="utf-8"))
    tampered = re.sub(r"\| 0 \| 0 \|", "| 0 | 1 |", doc.read_text(encoding="utf-8"), count=1)
    assert report.rendered(tampered) != tampered


# Figures the README states in its prose, each with the JSON value it must match.
README_FIGURES = [
    ("hit@4 {} on the evaluation questions", "eval-local-final", ("overall", "hit@4"), "{:.2f}"),
]


@pytest.mark.parametrize(("sentence", "bench", "path", "style"), README_FIGURES)
def test_the_readmes_prose_figures_are_the_latest_measured(sentence, bench, path, style):
    value = json.loads(report.latest(bench).read_text(encoding="utf-8"))
    for key in path:
        value = value[key]
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert sentence.format(style.format(value)) in readme


def test_every_prose_figure_traces_to_a_cited_json_or_is_listed_as_untraced():
    """`python bench/figures.py` shows where each figure comes from; the untraced ones are listed
    in tests/unit/untraced_figures.txt, so a new one is either traced or seen in review."""
    found, listed = figures.untraced(), figures.listed()
    new = sorted(set(found) - set(listed))
    gone = sorted(set(listed) - set(found))
    assert not new and not gone, (
        "trace these figures to a result file their section cites, or run "
        f"`python bench/figures.py --update`:\nnew: {new}\nno longer in the docs: {gone}"
    )


def test_a_figure_traces_only_to_a_number_of_its_measure_and_unit(tmp_path, monkeypatch):
    result = tmp_path / "bench" / "results" / "scale-20990101T000000.json"
    result.parent.mkdir(parents=True)
    result.write_text(
        json.dumps({"query": {"p50_ms": 52.5, "hit@4": 0.966}, "answer": {"p50_ms": 4816.5}, "cpus": 2})
    )
    doc = tmp_path / "doc.md"
    doc.write_text(
        "## Scale\nFrom `bench/results/scale-20990101T000000.json`: p50 52.5 ms, hit@4 0.97, "
        "accuracy 0.97, 52.5 s, answer p50 4.8 s, 2 % and 0.5.\n"
    )
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "RESULTS", result.parent)
    traced = [(f.text, f.traced_to) for f in figures.figures_of(doc)]
    assert traced == [
        ("52.5 ms", "scale-20990101T000000.json:query.p50_ms"),
        ("0.97", "scale-20990101T000000.json:query.hit@4"),
        ("0.97", None),  # accuracy: the file has none
        ("52.5 s", None),  # seconds: the file's 52.5 is in ms
        ("4.8 s", "scale-20990101T000000.json:answer.p50_ms"),  # 4816.5 ms in seconds
        ("2 %", None),  # one significant digit: the 2 CPUs would match by chance
        ("0.5", None),
    ]
