"""`assistant index` through the real command line: output, exit codes, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval import client_for
from tests.conftest import run_cli
from vectorstore.store import CollectionVersions


def snapshot(settings) -> tuple[str | None, list[str]]:
    client_for.cache_clear()
    versions = CollectionVersions(client_for(settings.chroma), settings.collection)
    active = versions.active()
    ids = sorted(active.get()["ids"]) if active else []
    client_for.cache_clear()
    return versions.active_name(), ids


def test_index_twice_prints_nothing_changed(settings_for):
    settings = settings_for()
    first = run_cli(settings, "index")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "added 5, updated 0, deleted 0"
    second = run_cli(settings, "index")
    assert second.returncode == 0
    assert second.stdout.strip() == "added 0, updated 0, deleted 0"


def write_bad(folder: Path, kind: str) -> None:
    if kind == "empty":
        (folder / "empty.txt").write_text("")
    elif kind == "binary":
        (folder / "photo.txt").write_bytes(bytes(range(256)) * 10)
    elif kind == "latin-1":
        (folder / "latin.txt").write_bytes("Un café à Hà Nội.".encode("latin-1", errors="replace"))
    elif kind == "huge":
        with (folder / "huge.txt").open("wb") as handle:
            handle.truncate(50 * 1024 * 1024)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "empty.txt: the file is empty"),
        ("binary", "photo.txt: looks like a binary file"),
        ("latin-1", "latin.txt: not UTF-8 text"),
        ("huge", "huge.txt: 50.0 MB is over the 10 MB limit"),
        ("missing-folder", "no such folder"),
    ],
)
def test_bad_input_is_refused_and_the_index_is_untouched(settings_for, kind, message):
    settings = settings_for()
    assert run_cli(settings, "index", "--quiet").returncode == 0
    before = snapshot(settings)

    extra = {}
    if kind == "missing-folder":
        extra["ASSISTANT_SEEDS_DIR"] = str(settings.seeds_dir / "nope")
    else:
        write_bad(settings.seeds_dir, kind)
    result = run_cli(settings, "index", **extra)

    assert result.returncode == 2
    error = result.stderr.strip()
    assert error.startswith("error: ") and message in error
    assert len(error.splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(settings) == before
