"""Reciprocal rank fusion of several rankings (the question and its translations), and the one
ordering every ranking goes through."""

import numpy as np
from langchain_core.documents import Document

from tests.perturbation.swap import swapped, unswapped
from vectorstore import retriever
from vectorstore.retriever import ORIGINAL_WEIGHT, RRF_K, Hit, fuse_rankings

# Under `pytest --swap-near-ties` the module's ordering is wrapped: these test the ordering itself.
_best_first = unswapped(retriever._best_first)


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


def test_scores_that_differ_only_in_the_last_bits_are_a_tie_broken_by_chunk_id():
    # Another CPU's kernels move a float32 score in its 7th digit: that must not reorder.
    scores = np.array([0.7, 0.7 + 1e-7, 0.9, 0.7 - 1e-7], dtype=np.float32)
    assert _best_first(scores, ["d", "b", "a", "c"]) == [2, 1, 3, 0]  # a, then b < c < d
    # The same candidates arriving in another order rank the same.
    order = _best_first(scores[::-1].copy(), ["c", "a", "b", "d"])
    assert [["c", "a", "b", "d"][i] for i in order] == ["a", "b", "c", "d"]


def test_a_real_difference_in_score_still_decides():
    assert _best_first(np.array([0.5, 0.50002], dtype=np.float32), ["a", "b"]) == [1, 0]


def test_the_near_tie_perturbation_swaps_close_neighbours_only():
    scores = np.array([0.90, 0.88, 0.87, 0.50, 0.49])
    assert swapped([0, 1, 2, 3, 4], scores, margin=0.05) == [1, 0, 2, 4, 3]
    assert swapped([0, 1, 2, 3, 4], scores, margin=0.0) == [0, 1, 2, 3, 4]


def test_the_top_n_are_those_of_the_whole_ordering():
    rng = np.random.default_rng(7)
    scores = np.round(rng.random(500), 2).astype(np.float32)  # many ties
    ids = [f"c{i:03d}" for i in rng.permutation(500)]
    assert _best_first(scores, ids, 20) == _best_first(scores, ids)[:20]
    assert _best_first(scores, ids, 600) == _best_first(scores, ids)
