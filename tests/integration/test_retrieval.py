"""Retrieval quality across languages, on the evaluation questions (real index, real model)."""

from __future__ import annotations

import json

from assistant.evaluation import evaluate_retrieval, load_questions, sources_of
from assistant.retrieval import make_retriever
from tests.conftest import run_cli


def test_hit_at_4_is_at_least_0_9_overall_and_in_each_language(indexed_settings):
    retriever = make_retriever(indexed_settings, k=4)
    report = evaluate_retrieval(load_questions(), lambda q: [sources_of(d) for d in retriever.search(q, 4)])
    summary = report.as_dict()
    print(json.dumps(summary, indent=2))
    assert report.overall.hit_at(4) >= 0.9, summary
    for language, scores in report.by_language.items():
        assert scores.hit_at(4) >= 0.9, (language, summary)


def test_rescoring_chromas_candidates_keeps_the_quality_without_holding_every_sparse_vector(indexed_settings):
    """`ASSISTANT_SPARSE_SEARCH=rescore`: memory that does not grow with the collection."""
    retriever = make_retriever(indexed_settings.model_copy(update={"sparse_search": "rescore"}), k=4)
    report = evaluate_retrieval(load_questions(), lambda q: [sources_of(d) for d in retriever.search(q, 4)])
    assert report.overall.hit_at(4) >= 0.95, report.as_dict()
    assert retriever._sparse is None, "the full sparse index was loaded"
    assert 0 < len(retriever.sparse_sample) <= 77


def test_a_french_question_finds_the_vietnamese_answer(indexed_settings):
    docs = make_retriever(indexed_settings).search("Combien de pays observateurs compte l'OIM ?", 4)
    assert any(
        d.metadata["source"] == "004_7a23386e8a2c9da9" and "8 nước quan sát viên" in d.page_content
        for d in docs
    )
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3, 4]
    assert all(0.0 <= d.metadata["score"] <= 1.0 and "sparse" not in d.metadata for d in docs)


def test_the_retriever_is_a_langchain_runnable(indexed_settings):
    retriever = make_retriever(indexed_settings, k=3)
    docs = retriever.invoke("Who funded the workshop on migrants in crisis?")
    assert len(docs) == 3 and all(d.id for d in docs)


def test_retrieve_cli_prints_ranked_passages_as_json(indexed_settings):
    result = run_cli(
        indexed_settings, "retrieve", "IOM có bao nhiêu quốc gia thành viên?", "--k", "3", "--json"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert {"source", "title", "score", "text", "chunk_id", "start", "end"} <= rows[0].keys()
    assert any("175" in r["text"] for r in rows)


def test_retrieve_cli_without_an_index_says_what_to_do(settings_for):
    result = run_cli(settings_for(), "retrieve", "anything")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "run `assistant index` first" in result.stderr
