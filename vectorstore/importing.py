"""Users' own documents into the articles folder: `.txt`, `.md`, `.html`, `.pdf`, `.docx` and
`.epub` become UTF-8 text files with a catalog entry, so the index, the article view and the
offsets treat them exactly like the seed articles.

Every file is judged before anything is written (type, size, readable, text left); a duplicate
(same text as a document already there) is recognised and not added twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from vectorstore.blocks import PAGE_BREAK
from vectorstore.catalog import CATALOG_FILE
from vectorstore.docx_to_text import docx_to_text
from vectorstore.epub_to_text import epub_to_text
from vectorstore.html_to_text import html_to_text
from vectorstore.loading import (
    InputError,
    LoadLimits,
    check_size,
    check_text,
    document_files,
    document_from_text,
    read_text,
)
from vectorstore.pdf_to_text import pdf_to_text

ORIGINALS = "originals"  # the subfolder where the files documents were read from are kept
IMPORT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".epub")
_SLUG = re.compile(r"[^a-z0-9]+")
_SOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # what the importer writes, and the seeds' ids


@dataclass(frozen=True)
class Candidate:
    """A file judged fit to add: its text, where it will live, its catalog entry."""

    origin: Path
    source_id: str
    text: str
    title: str
    language: str
    duplicate_of: str | None = None


def normalized(text: str) -> str:
    text = text.replace("\r\n", "\n")
    # A PDF's empty first pages are form feeds at its start: kept, so its page numbers stay right.
    empty_pages = text[: len(text) - len(text.lstrip())].count(PAGE_BREAK)
    return f"{PAGE_BREAK}\n" * empty_pages + text.strip() + "\n"


def text_hash(text: str) -> str:
    """Identity of a document's content: the same text with other line endings or margins is the same."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()[:16]


def prepare(path: Path, limits: LoadLimits, allowed: tuple[str, ...] = IMPORT_SUFFIXES) -> Candidate:
    """A `Candidate` for `path`, or an `InputError` naming the limit or the problem."""
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"{path.name}: {suffix or 'no extension'} is not an accepted type ({', '.join(allowed)})"
        )
    title = ""  # the document's own title, where its format has one (<title>, Word's, the book's)
    if suffix == ".pdf":
        title, text = _pdf_text(path, limits)
    elif suffix in (".html", ".htm"):
        title, text = _html_text(path, limits)
    elif suffix in (".docx", ".epub"):
        title, text = _packaged_text(path, limits)
    else:
        text = read_text(path, limits)
    text = check_text(path.name, normalized(text))
    source_id = f"{_SLUG.sub('-', path.stem.lower()).strip('-')[:40] or 'document'}-{text_hash(text)[:8]}"
    document = document_from_text(
        text, Path(f"{source_id}.txt"), None
    )  # title and language as the index will
    return Candidate(
        origin=path,
        source_id=source_id,
        text=text,
        title=title[:120] or str(document.metadata["title"]),
        language=str(document.metadata["language"]),
    )


def known_texts(folder: Path, limits: LoadLimits) -> dict[str, str]:
    """Source ids of the documents already in `folder`, by `text_hash` (to recognise duplicates)."""
    return {text_hash(read_text(p, limits)): p.stem for p in _existing(folder, limits)}


def file_for(folder: Path, candidate: Candidate) -> Path:
    return folder / f"{candidate.source_id}.txt"


@contextlib.contextmanager
def undone_on_failure(folder: Path, files: Sequence[Path]) -> Iterator[None]:
    """If the block fails, put the catalog and `files` back byte for byte (deleting the ones that
    did not exist): a failed add or remove leaves the articles folder exactly as it was."""
    before = {path: path.read_bytes() if path.is_file() else None for path in [folder / CATALOG_FILE, *files]}
    new_folders = {path.parent for path in files if not path.parent.exists()}  # originals/, the first time
    try:
        yield
    except BaseException:
        for path, content in before.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        for made in new_folders:
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
                made.rmdir()
        raise


def original_for(folder: Path, candidate: Candidate) -> Path:
    """Where the file a document was read from is kept, so a better importer can read it again
    (`assistant reimport`). The subfolder is never indexed: only the folder's own files are."""
    return folder / ORIGINALS / f"{candidate.source_id}{candidate.origin.suffix.lower()}"


def write(folder: Path, candidates: list[Candidate], keep_originals: bool = True) -> None:
    """Write the text files, a copy of each original and their catalog entries; a candidate
    whose source id is already there replaces that document's text (a re-import)."""
    catalog = _read_catalog(folder)
    for candidate in candidates:
        table = catalog.get(candidate.source_id)
        if table is None:  # a new document
            table = tomlkit.table()
            table.update({"title": candidate.title, "language": candidate.language})
        # A re-import keeps the title and language the user may have corrected, and the file.
        target = document_file(folder, candidate.source_id)
        target.write_text(candidate.text, encoding="utf-8")
        table["file"] = target.name
        original = original_for(folder, candidate)
        replaced = kept_original(folder, candidate.source_id)
        if keep_originals and replaced is not None and replaced != original:
            replaced.unlink()  # re-read from a file of another type
        if candidate.origin.resolve() != original.resolve():  # not a re-read of the kept copy
            table["added_from"] = candidate.origin.name
        if keep_originals and candidate.origin.resolve() != original.resolve():
            original.parent.mkdir(exist_ok=True)
            shutil.copyfile(candidate.origin, original)
        if original.is_file():
            table["original"] = original.relative_to(folder).as_posix()
        catalog[candidate.source_id] = table
    _write_catalog(folder, catalog)


def added_documents(folder: Path) -> list[str]:
    """Source ids of the documents a user added (not the seed articles), in catalog order; an id
    that could name a path outside the folder is not one the importer wrote, and is left out."""
    return [
        source_id
        for source_id, table in _read_catalog(folder).items()
        if "added_from" in table and _SOURCE_ID.match(source_id)
    ]


def _safe(source_id: str) -> str:
    if not _SOURCE_ID.match(source_id):
        raise InputError(f"{source_id!r} is not a document id")
    return source_id


def kept_original(folder: Path, source_id: str) -> Path | None:
    """The original file kept for a document, or None (added before originals were kept, or a
    seed article). Found among the kept files by name, never joined from the catalog's text."""
    wanted = str(_read_catalog(folder).get(source_id, {}).get("original", ""))
    kept = folder / ORIGINALS
    if not wanted or not kept.is_dir():
        return None
    return next((p for p in kept.iterdir() if p.is_file() and f"{ORIGINALS}/{p.name}" == wanted), None)


def document_file(folder: Path, source_id: str) -> Path:
    """Where a document's text lives: its catalog entry's file, else `<source id>.txt`."""
    entry = _read_catalog(folder).get(source_id)
    named = str(entry["file"]) if entry is not None and "file" in entry else ""
    plain = named and Path(named).name == named and not named.startswith(".")  # never outside the folder
    return folder / (named if plain else f"{_safe(source_id)}.txt")


def forget(folder: Path, source_id: str) -> Path | None:
    """Remove a document's file, its kept original and its catalog entry; returns the file
    removed, or None if unknown."""
    original = kept_original(folder, source_id)
    if original is not None:
        original.unlink()
    catalog = _read_catalog(folder)
    file = document_file(folder, source_id)
    if source_id not in catalog and not file.is_file():
        return None
    if source_id in catalog:
        del catalog[source_id]
        _write_catalog(folder, catalog)
    if file.is_file():
        file.unlink()
    return file


def _existing(folder: Path, limits: LoadLimits) -> list[Path]:
    try:
        return document_files(folder, limits)
    except InputError:
        return []


def _read_catalog(folder: Path) -> tomlkit.TOMLDocument:
    path = folder / CATALOG_FILE
    return tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()


def _write_catalog(folder: Path, catalog: tomlkit.TOMLDocument) -> None:
    """Atomically: a crash leaves the old catalog or the new one, never half of one."""
    path = folder / CATALOG_FILE
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomlkit.dumps(catalog), encoding="utf-8")
    os.replace(temporary, path)


def _pdf_text(path: Path, limits: LoadLimits) -> tuple[str, str]:
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    check_size(path, limits)
    try:
        title, text = pdf_to_text(path)
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise InputError(f"{path.name}: the PDF is encrypted") from exc
        raise InputError(f"{path.name}: not a readable PDF ({type(cause).__name__})") from exc
    except Exception as exc:  # pdfplumber raises many types of its own for a damaged file
        raise InputError(f"{path.name}: not a readable PDF ({type(exc).__name__})") from exc
    if not text.strip():
        raise InputError(f"{path.name}: the PDF has no text layer (scanned pages are not read)")
    return title, text


def _html_text(path: Path, limits: LoadLimits) -> tuple[str, str]:
    title, text = html_to_text(read_text(path, limits))
    if not text.strip():
        raise InputError(f"{path.name}: no text in this HTML page")
    return title, text


def _packaged_text(path: Path, limits: LoadLimits) -> tuple[str, str]:
    """A Word document's or an EPUB book's text (both are zip packages of XML)."""
    check_size(path, limits)
    kind = "Word document" if path.suffix.lower() == ".docx" else "EPUB book"
    try:
        title, text = docx_to_text(path) if kind == "Word document" else epub_to_text(path)
    except Exception as exc:  # python-docx and ebooklib raise many types for a damaged package
        raise InputError(f"{path.name}: not a readable {kind} ({type(exc).__name__})") from exc
    if not text.strip():
        raise InputError(f"{path.name}: no text in this {kind}")
    return title, text
