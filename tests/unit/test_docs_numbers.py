"""The measured tables in README.md and docs/ are those `bench/report.py` renders from the latest
JSON in bench/results/: a bench re-run without `python bench/report.py` fails here."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
assert spec is not None and spec.loader is not None
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


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
