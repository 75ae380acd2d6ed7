import numpy as np

from vectorstore.embeddings import decode_sparse, encode_sparse
from vectorstore.sparse import SparseIndex, standardise


def vector(pairs: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(list(pairs), np.int32), np.array(list(pairs.values()), np.float32)


def test_sparse_vectors_survive_the_metadata_codec():
    indices, values = vector({16383: 0.5, 3: 1.25, 700: 2.0})
    back_indices, back_values = decode_sparse(encode_sparse((indices, values)))
    assert dict(zip(back_indices.tolist(), back_values.tolist(), strict=True)) == {
        3: 1.25,
        700: 2.0,
        16383: 0.5,
    }


def test_scores_are_dot_products_and_standardised_per_language():
    rows = {
        "en-1": ("en", {1: 1.0, 2: 1.0}),
        "en-2": ("en", {2: 1.0}),
        "vi-1": ("vi", {1: 10.0, 3: 10.0}),
        "vi-2": ("vi", {3: 10.0}),
        "empty": ("vi", {}),
    }
    index = SparseIndex.from_metadata(
        list(rows),
        [
            {"language": lang, "sparse": encode_sparse(vector(pairs)) if pairs else ""}
            for lang, pairs in rows.values()
        ],
    )
    query = vector({1: 1.0, 2: 1.0})
    assert index.raw_scores(query).tolist() == [2.0, 1.0, 10.0, 0.0, 0.0]
    z = index.scores(query)
    assert z[0] > 0 > z[1]  # within English
    assert z[2] > 0 > z[3]  # within Vietnamese: 10.0 no longer dwarfs English scores
    assert abs(z[0] - 1.0) < 1e-6 and abs(z[2] - 1.414) < 1e-3


ROWS = [vector({1: 1.0, 5: 2.0}), vector({5: 1.0}), vector({2: 3.0}), vector({1: 0.5, 2: 0.5})]
LANGUAGES = ["en", "en", "vi", "vi"]
QUERY = vector({1: 2.0, 5: 1.0, 2: 0.1})


def test_a_few_candidates_raw_scores_are_the_whole_indexs():
    index = SparseIndex.from_vectors(ROWS, LANGUAGES)
    candidates = SparseIndex.from_vectors(ROWS[1:3], LANGUAGES[1:3])
    assert np.allclose(candidates.raw_scores(QUERY), index.raw_scores(QUERY)[1:3])
    assert np.allclose(index.raw_scores(QUERY), [4.0, 1.0, 0.3, 1.05])


def test_standardising_against_the_whole_index_is_the_full_search():
    index = SparseIndex.from_vectors(ROWS, LANGUAGES)
    rescored = standardise(
        SparseIndex.from_vectors(ROWS[1:3], LANGUAGES[1:3]).raw_scores(QUERY),
        LANGUAGES[1:3],
        index.raw_scores(QUERY),
        index.languages,
    )
    assert np.allclose(rescored, index.scores(QUERY)[1:3])


def test_a_language_the_sample_lacks_is_standardised_against_the_whole_sample():
    reference = np.array([1.0, 3.0], np.float32)
    scores = standardise(np.array([3.0], np.float32), ["fr"], reference, ["en", "vi"])
    assert np.allclose(scores, [1.0])  # (3 - 2) / 1


def test_a_language_with_too_few_reference_passages_is_standardised_against_all_of_them():
    reference = np.array([0.0, 2.0, 4.0, 6.0, 10.0], np.float32)
    languages = ["en", "en", "en", "en", "vi"]
    own = standardise(np.array([10.0], np.float32), ["vi"], reference, languages)
    assert np.allclose(own, [0.0])  # one Vietnamese score: no deviation, so no signal at all
    pooled = standardise(np.array([10.0], np.float32), ["vi"], reference, languages, min_count=2)
    assert np.allclose(pooled, [(10.0 - reference.mean()) / reference.std()])
    english = standardise(np.array([6.0], np.float32), ["en"], reference, languages, min_count=2)
    assert np.allclose(english, [(6.0 - 3.0) / np.std([0.0, 2.0, 4.0, 6.0])])
