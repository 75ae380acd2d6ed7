"""Retrieval quality across languages, on the evaluation questions (real index, real model)."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import evaluate_retrieval, load_questions, sources_of
from assistant.retrieval import make_retriever
from tests.conftest import run_cli
from vectorstore.retriever import NEIGHBOURHOOD_K, NEIGHBOURS_PER_LANGUAGE
from vectorstore.sparse import SparseIndex, standardise


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
    assert set(retriever.languages) >= {"en", "fr", "vi"}


def test_sparse_scores_are_standardised_within_the_questions_neighbourhood(indexed_settings):
    """Not against each language's whole population: among many unrelated passages that says how
    a passage compares with them, not with its rivals (docs/benchmarks.md, the scale bench)."""
    retriever = make_retriever(indexed_settings, k=4)
    question = "Quels pays accueillent des travailleurs migrants vietnamiens ?"
    docs = retriever.search(question, 4)
    dense_query = retriever.function.query_vectors(question)[1]
    query_sparse = retriever.function.query_features(question)[1]
    near = retriever.store.similarity_search_by_vector(dense_query.tolist(), k=NEIGHBOURHOOD_K)
    neighbourhood = SparseIndex.from_metadata([str(d.id) for d in near], [d.metadata for d in near])
    whole = retriever.sparse_index
    for doc in docs:
        row = whole.ids.index(str(doc.id))
        raw = whole.raw_scores(query_sparse)[row : row + 1]
        expected = standardise(
            raw,
            [whole.languages[row]],
            neighbourhood.raw_scores(query_sparse),
            neighbourhood.languages,
            NEIGHBOURS_PER_LANGUAGE,
        )
        collection_wide = whole.scores(query_sparse)[row]
        assert doc.metadata["sparse_score"] == pytest.approx(float(expected[0]), abs=1e-3)
        assert abs(float(expected[0]) - float(collection_wide)) > 1e-3  # the two really differ here
    before = retriever.model_copy(update={"standardise_within": "language"})  # the bench's baseline
    for doc in before.search(question, 4):
        row = whole.ids.index(str(doc.id))
        assert doc.metadata["sparse_score"] == pytest.approx(float(whole.scores(query_sparse)[row]), abs=1e-3)


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
