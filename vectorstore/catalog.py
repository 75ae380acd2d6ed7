"""The articles' catalog: a `catalog.toml` beside the files, one table per source id (the file stem).

The catalog is the human-edited truth for title, language, date and URL; a file without an entry
still loads, with a title taken from its first line and a detected language.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = "catalog.toml"


@dataclass(frozen=True)
class CatalogEntry:
    source_id: str
    file: str
    title: str
    language: str
    date: str | None = None
    url: str | None = None


class CatalogError(ValueError):
    """The catalog file cannot be read; the message names the file and the problem."""


def load_catalog(folder: Path) -> dict[str, CatalogEntry]:
    """Entries by source id; an absent catalog is an empty one."""
    path = folder / CATALOG_FILE
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a valid TOML catalog ({exc})") from exc
    entries: dict[str, CatalogEntry] = {}
    for source_id, table in raw.items():
        if not isinstance(table, dict) or not {"title", "language"} <= table.keys():
            raise CatalogError(f"{path}: entry {source_id!r} needs at least a title and a language")
        entries[source_id] = CatalogEntry(
            source_id=source_id,
            file=str(table.get("file", f"{source_id}.txt")),
            title=str(table["title"]),
            language=str(table["language"]),
            date=str(table["date"]) if table.get("date") else None,
            url=str(table["url"]) if table.get("url") else None,
        )
    return entries
