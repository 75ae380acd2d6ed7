"""Chroma clients (embedded or client-server) and the versioned collections the assistant serves.

An index is never served half-written: each build goes into a fresh collection `<name>-v<N>`,
and only when it is complete does a one-record switch (the manifest collection's metadata) point
readers at it. A crash leaves the previous version active; the next run discards the leftover.
This works the same on an embedded `PersistentClient` and on a shared Chroma server.
"""

from __future__ import annotations

import contextlib
import errno
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import chromadb
import httpx
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


# How SQLite (inside Chroma) and the OS word the two storage faults users meet.
_FULL = ("disk is full", "no space left", "file too large")
_READ_ONLY = ("readonly database", "read-only file system", "permission denied")


# Room a build needs beyond a full copy of the current index: SQLite's journal, HNSW files.
BUILD_MARGIN_BYTES = 16 * 1024 * 1024
_UNCHANGED = "the index in use is unchanged"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _free_bytes(path: Path) -> int | None:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(path).free
    return None


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def ensure_room(location: ChromaLocation) -> None:
    """Refuse a build before it starts when the disk cannot hold a new version of the index.

    Chroma on a full disk fails half-way with obscure errors, and can even hang; checking first
    turns that into one clear message (a build copies the active version, hence its size)."""
    if location.host or not location.path.is_dir():
        return
    free = _free_bytes(location.path)
    needed = _folder_bytes(location.path) + BUILD_MARGIN_BYTES
    if free is not None and free < needed:
        raise StoreError(
            f"no space left for the index in {location.path}: updating it needs about {_megabytes(needed)} "
            f"free, the disk has {_megabytes(free)}; free some space and run again; {_UNCHANGED}"
        )


def storage_error(exc: BaseException, location: ChromaLocation) -> StoreError | None:
    """A `StoreError` in plain words when `exc` means the index folder is full or not writable,
    or the Chroma server cannot be reached."""
    if location.host:
        if isinstance(exc, (ConnectionError, httpx.TransportError)):
            return StoreError(f"cannot reach the {location.describe()} (is `chroma run` running?): {exc}")
        return None
    code = exc.errno if isinstance(exc, OSError) else None
    text = f"{exc} {getattr(exc, 'strerror', '') or ''}".lower()
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(s in text for s in _FULL):
        return StoreError(
            f"no space left for the index in {location.path}: free some space and run again; {_UNCHANGED}"
        )
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(s in text for s in _READ_ONLY):
        return StoreError(
            f"the index folder {location.path} is read-only here: make it writable (or set "
            f"ASSISTANT_DATA_DIR) and run again; {_UNCHANGED}"
        )
    # Chroma words a write that failed for space in many ways ("Error in compaction", ...): when
    # nothing above named the cause and the disk is nearly full, space is the likely one.
    free = _free_bytes(location.path)
    if free is not None and free < BUILD_MARGIN_BYTES:  # keep Chroma's words: likely, not certain
        return StoreError(
            f"no space left for the index in {location.path} ({_megabytes(free)} free; Chroma said: "
            f"{exc}): free some space and run again; {_UNCHANGED}"
        )
    return None


@contextlib.contextmanager
def storage_errors(location: ChromaLocation) -> Iterator[None]:
    """Re-raise a failure `storage_error` can name as that `StoreError`; any other one unchanged."""
    try:
        yield
    except Exception as exc:
        error = storage_error(exc, location)
        if error is None:
            raise
        raise error from exc


def make_client(location: ChromaLocation) -> ClientAPI:
    settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if location.host:
            return chromadb.HttpClient(host=location.host, port=location.port, settings=settings)
        location.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(location.path), settings=settings)
    except Exception as exc:
        raise storage_error(exc, location) or StoreError(f"cannot open {location.describe()}: {exc}") from exc


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
        # Past every version in the store too: a leftover that could not be deleted (full disk) stays.
        version = max([int(self._state().get("next_version", 1)), *(v + 1 for v in self._stored().values())])
        return self.client.create_collection(
            f"{self.name}-v{version}",
            embedding_function=function,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"created_at": datetime.now(UTC).isoformat(timespec="seconds")},
        )

    def active_if_built_from(self, digest: str) -> str | None:
        """The active version's name when the build that activated it recorded `digest` (the
        fingerprint of every chunk id and record hash): nothing changed since. One manifest read;
        None otherwise, and for an index built before fingerprints."""
        state = self._state()
        return state.get("active") if state.get("active") and state.get("digest") == digest else None

    def record_digest(self, digest: str) -> None:
        """Remember the active version's fingerprint (for an index built before fingerprints)."""
        self._manifest.modify(metadata={**self._state(), "digest": digest})

    def activate(self, collection: Collection, digest: str | None = None) -> None:
        """Point readers at `collection`; the version it replaces is kept one generation longer,
        so a reader in another process that resolved it a moment ago can finish its query."""
        version = int(collection.name.rsplit("-v", 1)[1])
        state = self._state()
        metadata: dict[str, str | int] = {
            "active": collection.name,
            "next_version": version + 1,
            "activated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if digest:
            metadata["digest"] = digest
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
        stale = [name for name in self._stored() if name not in keep]
        for name in stale:
            self._delete_quietly(name)
        return stale

    def _stored(self) -> dict[str, int]:
        """Every version collection in the store, complete or not, with its number."""
        pattern = re.compile(rf"^{re.escape(self.name)}-v(\d+)$")
        matches = (pattern.match(collection.name) for collection in self.client.list_collections())
        return {m.group(0): int(m.group(1)) for m in matches if m}

    def _delete_quietly(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.client.delete_collection(name)
