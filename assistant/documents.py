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
    added_documents,
    document_file,
    forget,
    kept_original,
    known_texts,
    original_for,
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
            lines.append(f"time: {self.index.timings()}")
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
    reading = IndexReport()
    with reading.timed("reading the files"):
        _read(paths, allowed, settings, known, report)
    if report.added:
        report.index = _written_and_indexed(settings, report.added, steps, reading)
    return report


def _read(
    paths: Sequence[Path],
    allowed: tuple[str, ...],
    settings: Settings,
    known: dict[str, str],
    report: AddReport,
) -> None:
    """Each file judged: added to `report`, or a duplicate of a known text, or rejected."""
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


@dataclass
class ReimportReport:
    updated: list[Candidate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_kept: list[str] = field(default_factory=list)  # added before originals were kept
    rejected: list[str] = field(default_factory=list)
    index: IndexReport | None = None

    def lines(self) -> list[str]:
        lines = [f"re-read {c.source_id} ({c.language}): {c.title}" for c in self.updated]
        lines += [f"unchanged: {source_id}" for source_id in self.unchanged]
        lines += [
            f"not re-read: {source_id} was added before its original file was kept; "
            f"run `assistant reimport {source_id} --from FILE` with that file"
            for source_id in self.not_kept
        ]
        lines += [f"rejected: {reason}" for reason in self.rejected]
        if self.index is not None:
            lines.append(f"index: {self.index.summary()}")
            lines.append(f"time: {self.index.timings()}")
        return lines


def reimport_documents(
    settings: Settings,
    source_ids: Sequence[str] = (),
    from_file: Path | None = None,
    steps: Steps | None = None,
) -> ReimportReport:
    """Read added documents again with today's importer, from the original kept when they were
    added (or `from_file`, for one document added before originals were kept), and re-index what
    changed. A failure puts every file back as it was."""
    folder = settings.seeds_dir
    added = added_documents(folder)
    if from_file is not None and len(source_ids) != 1:
        raise InputError("--from FILE re-reads one document: give its source id")
    report = ReimportReport()
    for source_id in source_ids or added:
        if source_id not in added:
            report.rejected.append(f"{source_id}: not a document you added (see `assistant list`)")
            continue
        origin = from_file or kept_original(folder, source_id)
        if origin is None:
            report.not_kept.append(source_id)
            continue
        try:
            candidate = replace(
                prepare(origin, settings.load_limits, tuple(settings.allowed_types)), source_id=source_id
            )
        except InputError as exc:
            report.rejected.append(str(exc))
            continue
        current = document_file(folder, source_id)
        if (
            current.is_file()
            and current.read_text(encoding="utf-8") == candidate.text
            and origin != from_file
        ):
            report.unchanged.append(source_id)
        else:
            report.updated.append(candidate)
    if report.updated:
        report.index = _written_and_indexed(settings, report.updated, steps)
    return report


def _written_and_indexed(
    settings: Settings, candidates: list[Candidate], steps: Steps | None, clock: IndexReport | None = None
) -> IndexReport:
    """Write the documents (text, original, catalog) and index them; undone if anything fails.
    The report's stage times follow `clock`'s (reading the files)."""
    clock = clock or IndexReport()
    folder = settings.seeds_dir
    touched = [document_file(folder, c.source_id) for c in candidates]
    touched += [original_for(folder, c) for c in candidates]
    touched += [kept for c in candidates if (kept := kept_original(folder, c.source_id)) is not None]
    with undone_on_failure(folder, touched):
        with clock.timed("writing the files"):
            write(folder, candidates)
        report = build_index(settings, steps=steps)
    report.stage_seconds = {**clock.stage_seconds, **report.stage_seconds}
    return report


def remove_document(settings: Settings, source_id: str) -> IndexReport:
    folder = settings.seeds_dir
    original = kept_original(folder, source_id)
    with undone_on_failure(folder, [document_file(folder, source_id), *([original] if original else [])]):
        if forget(folder, source_id) is None:
            raise InputError(f"there is no document {source_id!r} in {folder} (see `assistant list`)")
        return build_index(settings)
