"""Chroma clients (embedded or client-server) and the versioned collections the assistant serves.

An index is never served half-written: each build goes into a fresh collection `<name>-v<N>`,
and only when it is complete does a one-record switch (the manifest collection's metadata) point
readers at it. A crash leaves the previous version active; the next run discards the leftover.
This works the same on an embedded `PersistentClient` and on a shared Chroma server.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

# Importing the module registers the embedding function, so Chroma can rebuild it from a
# collection's stored configuration instead of falling back to its downloading default.
from vectorstore.embeddings import CentredE5EmbeddingFunction

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,40}[a-zA-Z0-9]$")


class StoreError(RuntimeError):
    """The vector store cannot be used; the message says which and why, in plain words."""


@dataclass(frozen=True)
class ChromaLocation:
    path: Path
    host: str | None = None
    port: int = 8000

    def describe(self) -> str:
        return f"Chroma server at {self.host}:{self.port}" if self.host else f"embedded Chroma in {self.path}"


def make_client(location: ChromaLocation) -> ClientAPI:
    settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if location.host:
            return chromadb.HttpClient(host=location.host, port=location.port, settings=settings)
        location.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(location.path), settings=settings)
    except PermissionError as exc:
        raise StoreError(f"cannot write the index in {location.path}: {exc.strerror}") from exc
    except Exception as exc:
        raise StoreError(f"cannot open {location.describe()}: {exc}") from exc


class CollectionVersions:
    """The active version of a named index, and the building of the next one."""

    def __init__(self, client: ClientAPI, name: str) -> None:
        if not _NAME.match(name):
            raise StoreError(
                f"collection name {name!r} must be 3-42 characters of letters, digits, '.', '_' or '-'"
            )
        self.client = client
        self.name = name
        self._manifest = client.get_or_create_collection(f"{name}-manifest")

    def _state(self) -> dict:
        self._manifest = self.client.get_collection(self._manifest.name)
        return dict(self._manifest.metadata or {})

    def active_name(self) -> str | None:
        return self._state().get("active")

    def active(self) -> Collection | None:
        """The complete, served collection (its embedding function rebuilt from its config)."""
        name = self.active_name()
        return self.client.get_collection(name) if name else None

    def create_next(self, function: CentredE5EmbeddingFunction) -> Collection:
        version = int(self._state().get("next_version", 1))
        return self.client.create_collection(
            f"{self.name}-v{version}",
            embedding_function=function,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"created_at": datetime.now(UTC).isoformat(timespec="seconds")},
        )

    def activate(self, collection: Collection) -> None:
        """Point readers at `collection`; the version it replaces is kept one generation longer,
        so a reader in another process that resolved it a moment ago can finish its query."""
        version = int(collection.name.rsplit("-v", 1)[1])
        state = self._state()
        metadata = {
            "active": collection.name,
            "next_version": version + 1,
            "activated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if state.get("active"):
            metadata["previous"] = state["active"]
        self._manifest.modify(metadata=metadata)
        retired = state.get("previous")
        if retired and retired not in (collection.name, state.get("active")):
            self._delete_quietly(retired)

    def drop_unfinished(self) -> list[str]:
        """Delete versions that are neither active nor previous: leftovers of an interrupted build."""
        state = self._state()
        keep = {state.get("active"), state.get("previous")}
        pattern = re.compile(rf"^{re.escape(self.name)}-v\d+$")
        stale = [
            collection.name
            for collection in self.client.list_collections()
            if pattern.match(collection.name) and collection.name not in keep
        ]
        for name in stale:
            self._delete_quietly(name)
        return stale

    def _delete_quietly(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.client.delete_collection(name)
