"""Reciprocal rank fusion of several rankings (the question and its translations)."""

from langchain_core.documents import Document

from vectorstore.retriever import ORIGINAL_WEIGHT, RRF_K, Hit, fuse_rankings


def hits(*scored: tuple[str, float]) -> list[Hit]:
    return [Hit(Document(page_content=key, id=key), score, score, 0.0) for key, score in scored]


def test_a_passage_found_by_several_phrasings_beats_one_found_by_one():
    fused = fuse_rankings(
        [hits(("a", 1.0), ("b", 0.6), ("c", 0.2)), hits(("b", 1.0), ("c", 0.5)), hits(("b", 1.0))],
        [ORIGINAL_WEIGHT, 1.0, 1.0],
    )
    # a is first for the question only; c is third for it but second for a translation.
    assert [h.document.id for h in fused] == ["b", "c", "a"]


def test_the_questions_own_ranking_outweighs_one_translation():
    fused = fuse_rankings([hits(("a", 1.0), ("b", 0.5)), hits(("b", 1.0), ("a", 0.5))], [2.0, 1.0])
    assert [h.document.id for h in fused] == ["a", "b"]
    # Equal weights: a tie, and the first-seen order stands.
    tied = fuse_rankings([hits(("a", 1.0), ("b", 0.5)), hits(("b", 1.0), ("a", 0.5))], [1.0, 1.0])
    assert [h.document.id for h in tied] == ["a", "b"]
    assert 2.0 / (RRF_K + 1) + 1.0 / (RRF_K + 2) > 2.0 / (RRF_K + 2) + 1.0 / (RRF_K + 1)


def test_the_merged_score_is_the_weighted_mean_and_missing_counts_as_zero():
    fused = fuse_rankings([hits(("a", 0.9)), hits(("a", 0.3), ("b", 0.6))], [2.0, 1.0])
    by_id = {h.document.id: h.score for h in fused}
    assert abs(by_id["a"] - (2 * 0.9 + 0.3) / 3) < 1e-9
    assert abs(by_id["b"] - 0.6 / 3) < 1e-9
    assert all(0.0 <= h.score <= 1.0 for h in fused)


def test_one_ranking_is_returned_as_it_is():
    ranking = hits(("a", 1.0), ("b", 0.4))
    assert fuse_rankings([ranking], [1.0]) == ranking
