"""Files → LangChain `Document`s holding the original text and the article's catalog metadata.

Every file is checked before anything is indexed, so one bad file stops the run with a message
naming it and the limit, and the index already built stays as it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document

from vectorstore.blocks import blocks
from vectorstore.catalog import CATALOG_FILE, CatalogEntry, load_catalog
from vectorstore.languages import detect_language

TEXT_SUFFIXES = (".txt", ".md")
log = logging.getLogger(__name__)


class InputError(ValueError):
    """A document or folder the assistant refuses, with a one-line reason for the user."""


@dataclass(frozen=True)
class LoadLimits:
    max_bytes: int = 10 * 1024 * 1024
    suffixes: tuple[str, ...] = TEXT_SUFFIXES


def check_size(path: Path, limits: LoadLimits) -> None:
    """An `InputError` naming the limit when `path` is missing or too big to read."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputError(
            f"{path.name}: {size / 1_048_576:.1f} MB is over the {limits.max_bytes / 1_048_576:g} MB "
            "limit per document (ASSISTANT_MAX_FILE_MB)"
        )


def read_text(path: Path, limits: LoadLimits) -> str:
    """The file's text, or an `InputError` saying exactly why it cannot be used."""
    check_size(path, limits)
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path.name}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from exc
    return check_text(path.name, text)


def check_text(name: str, text: str) -> str:
    """`text`, or an `InputError` when nothing in it is worth indexing."""
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    if not any(block.kind != "code" for block in blocks(text)):
        raise InputError(f"{name}: no article text left once page furniture is removed")
    return text


def document_files(folder: Path, limits: LoadLimits) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in limits.suffixes)
    if not files:
        raise InputError(f"{folder}: no {' or '.join(limits.suffixes)} files to index")
    return files


def load_document(path: Path, entry: CatalogEntry | None, limits: LoadLimits) -> Document:
    return document_from_text(read_text(path, limits), path, entry)


def document_from_text(text: str, path: Path, entry: CatalogEntry | None) -> Document:
    """The `Document` for checked text stored at `path`; without a catalog entry, the title is
    its first heading or kept line, and the language is detected."""
    if entry is None:
        first = next((b for b in blocks(text) if b.kind != "code"), None)
        if first is None:
            raise InputError(f"{path.name}: no text to index (only code)")
        first_line = text[first.span[0] : first.span[1]].splitlines()[0]
        entry = CatalogEntry(
            source_id=path.stem,
            file=path.name,
            title=first_line[:120],
            language=detect_language(text[:2000]) or "und",
        )
    metadata = {
        "source": entry.source_id,
        "title": entry.title,
        "language": entry.language,
        "date": entry.date or "",
        "url": entry.url or "",
        "file": path.name,
        "doc_hash": hashlib.sha256(text.encode()).hexdigest()[:16],
    }
    return Document(page_content=text, metadata=metadata, id=entry.source_id)


def load_folder(folder: Path, limits: LoadLimits) -> list[Document]:
    """All documents of `folder` (catalog entries first, then any other text file)."""
    catalog = load_catalog(folder)
    by_file = {entry.file: entry for entry in catalog.values()}
    files = document_files(folder, limits)
    missing = sorted(set(by_file) - {p.name for p in files})
    if missing:
        # A deleted article is a normal way to remove it from the index; say so, don't refuse.
        log.warning(
            "%s lists files that are not there (skipped): %s", folder / CATALOG_FILE, ", ".join(missing)
        )
    return list(_load_all(files, by_file, limits))


def _load_all(
    files: Iterable[Path], by_file: dict[str, CatalogEntry], limits: LoadLimits
) -> Iterable[Document]:
    for path in files:
        yield load_document(path, by_file.get(path.name), limits)


def load_source(folder: Path, source_id: str, limits: LoadLimits) -> Document | None:
    """The document with this source id, or None. The id is matched against the folder's files,
    never joined into a path, so a crafted id cannot reach outside the folder."""
    catalog = load_catalog(folder)
    entry = catalog.get(source_id)
    for path in document_files(folder, limits):
        if (entry and path.name == entry.file) or (entry is None and path.stem == source_id):
            return load_document(path, entry, limits)
    return None
