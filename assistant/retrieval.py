"""Vector-store factory: the served index and its retriever, built from `Settings`."""

from __future__ import annotations

import threading
from functools import lru_cache

from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from langchain_core.documents import Document

from assistant.settings import Settings
from vectorstore.embeddings import CentredE5EmbeddingFunction, E5Embeddings
from vectorstore.indexer import Indexer, IndexReport, Progress, Steps
from vectorstore.loading import load_folder
from vectorstore.retriever import HybridRetriever
from vectorstore.store import ChromaLocation, CollectionVersions, ensure_room, make_client, storage_errors


class IndexNotBuilt(RuntimeError):
    """There is no complete index to serve yet."""


@lru_cache(maxsize=4)
def client_for(location: ChromaLocation) -> ClientAPI:
    return make_client(location)


def embedding_function(settings: Settings, threads: int | None = None) -> CentredE5EmbeddingFunction:
    return CentredE5EmbeddingFunction(num_threads=threads or settings.embed_threads)


def load_documents(settings: Settings) -> list[Document]:
    return load_folder(settings.seeds_dir, settings.load_limits)


def build_index(
    settings: Settings,
    rebuild: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
    steps: Steps | None = None,
) -> IndexReport:
    """Bring the index in line with the seeds folder (all files are checked before any write)."""
    report = IndexReport()
    with report.timed("loading and cleaning"):
        documents = load_documents(settings)
    ensure_room(settings.chroma)
    with storage_errors(settings.chroma):  # a full disk is only known once a write fails, maybe mid-build
        indexer = Indexer(
            client_for(settings.chroma),
            settings.collection,
            embedding_function(settings, threads),
            settings.chunking,
            progress=progress,
            steps=steps,
        )
        return indexer.sync(documents, rebuild=rebuild, report=report)


def make_retriever(settings: Settings, k: int | None = None) -> HybridRetriever:
    """A retriever over the active (complete) index version."""
    client = client_for(settings.chroma)
    collection = CollectionVersions(client, settings.collection).active()
    if collection is None:
        raise IndexNotBuilt(
            f"no index in {settings.chroma.describe()} (collection {settings.collection!r}); "
            "run `assistant index` first"
        )
    stored = collection.configuration.get("embedding_function")
    if not isinstance(stored, CentredE5EmbeddingFunction):
        raise IndexNotBuilt(
            f"{collection.name} was not built by this assistant; run `assistant index --rebuild`"
        )
    # The language means belong to the index; the thread count to this machine.
    function = CentredE5EmbeddingFunction(
        stored.variant, settings.embed_threads, stored.get_config()["language_means"]
    )
    store = Chroma(client=client, collection_name=collection.name, embedding_function=E5Embeddings(function))
    return HybridRetriever(
        store=store,
        function=function,
        k=k or settings.top_k,
        candidate_k=settings.candidate_k,
        dense_weight=settings.dense_weight,
        sparse_search=settings.sparse_search,
    )


class ServedIndex:
    """The retriever over whichever index version is active now, so documents added or removed
    by another process (`assistant add`, the upload) are seen at the next question."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._name: str | None = None
        self._retriever: HybridRetriever | None = None
        self._versions: CollectionVersions | None = None  # kept: one manifest read per question

    def current(self) -> HybridRetriever:
        try:
            with storage_errors(self.settings.chroma):  # a Chroma server that went away after start
                self._versions = self._versions or CollectionVersions(
                    client_for(self.settings.chroma), self.settings.collection
                )
                name = self._versions.active_name()
        except Exception:
            self._versions = None  # connect afresh at the next question
            raise
        with self._lock:
            if self._retriever is None or name != self._name:
                self._retriever = make_retriever(self.settings)
                self._name = name
            return self._retriever
