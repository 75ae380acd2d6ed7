"""Add and remove the user's own documents: judge every file, write the accepted ones into the
articles folder with catalog entries, re-index incrementally — and undo the writes if indexing
fails, so a failed add leaves the folder and the served index as they were."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.retrieval import build_index
from assistant.settings import Settings
from vectorstore.importing import (
    Candidate,
    document_file,
    file_for,
    forget,
    known_texts,
    prepare,
    text_hash,
    undone_on_failure,
    write,
)
from vectorstore.indexer import IndexReport, Steps
from vectorstore.loading import InputError


@dataclass
class AddReport:
    added: list[Candidate] = field(default_factory=list)
    duplicates: list[Candidate] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # one plain reason per file
    index: IndexReport | None = None

    def lines(self) -> list[str]:
        lines = [f"added {c.source_id} ({c.language}): {c.title}" for c in self.added]
        lines += [
            f"already there: {c.origin.name} is the same text as {c.duplicate_of}" for c in self.duplicates
        ]
        lines += [f"rejected: {reason}" for reason in self.rejected]
        if self.index is not None:
            lines.append(f"index: {self.index.summary()}")
        return lines


def expand(paths: Sequence[Path], allowed: Sequence[str]) -> list[Path]:
    """Files as given, and the accepted files directly inside any folder given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in allowed)
        else:
            files.append(path)
    return files


def add_documents(settings: Settings, paths: Sequence[Path], steps: Steps | None = None) -> AddReport:
    """Judge, copy into the seeds folder and index the files; `steps` gets the indexing's counts."""
    report = AddReport()
    allowed = tuple(settings.allowed_types)
    known = known_texts(settings.seeds_dir, settings.load_limits)  # grows with this batch's files
    for path in expand(paths, allowed):
        try:
            candidate = prepare(path, settings.load_limits, allowed)
        except InputError as exc:
            report.rejected.append(str(exc))
            continue
        digest = text_hash(candidate.text)
        if digest in known:
            report.duplicates.append(replace(candidate, duplicate_of=known[digest]))
        else:
            known[digest] = candidate.source_id
            report.added.append(candidate)
    if report.added:
        folder = settings.seeds_dir
        with undone_on_failure(folder, [file_for(folder, c) for c in report.added]):
            write(folder, report.added)
            report.index = build_index(settings, steps=steps)
    return report


def remove_document(settings: Settings, source_id: str) -> IndexReport:
    folder = settings.seeds_dir
    with undone_on_failure(folder, [document_file(folder, source_id)]):
        if forget(folder, source_id) is None:
            raise InputError(f"there is no document {source_id!r} in {folder} (see `assistant list`)")
        return build_index(settings)
