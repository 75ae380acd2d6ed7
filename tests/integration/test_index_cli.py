"""`assistant index` through the real command line: output, exit codes, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.retrieval import client_for
from tests.conftest import run_cli
from tests.servers import cli_env
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


# `assistant index`, SIGKILLed by itself right after its first write into the new version: no
# handler, `finally` or atexit runs, exactly as when the OOM killer or `kill -9` ends it.
INDEX_KILLED_MID_WRITE = """
import os, signal, sys
from chromadb.api.models.Collection import Collection
from assistant.cli import main

write = Collection.add

def write_then_die(self, *args, **kwargs):
    write(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

Collection.add = write_then_die
sys.exit(main(["index"]))
"""


def test_index_killed_mid_write_leaves_the_last_complete_index_and_the_next_run_completes(settings_for):
    settings = settings_for()
    assert run_cli(settings, "index", "--quiet").returncode == 0
    served, served_ids = snapshot(settings)
    (settings.seeds_dir / "japan.md").write_text(
        "# Trainees to Japan\n\nIn 2025, 71,500 Vietnamese technical intern trainees left for Japan. " * 3
    )

    killed = subprocess.run(
        [sys.executable, "-c", INDEX_KILLED_MID_WRITE],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=settings.data_dir.parent,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "building articles-v2" in killed.stderr  # it died inside the build, not before it

    assert snapshot(settings) == (served, served_ids)  # the half-written version is not served
    asked = run_cli(
        settings, "ask", "--json", "How many member states does IOM have?", ASSISTANT_GENERATOR="extractive"
    )
    assert asked.returncode == 0, asked.stderr
    assert "175" in json.loads(asked.stdout)["answer"]

    resumed = run_cli(settings, "index")
    assert resumed.returncode == 0, resumed.stderr
    assert "discarded the unfinished build(s) articles-v2" in resumed.stderr
    assert resumed.stdout.splitlines()[0] == "added 1, updated 0, deleted 0"
    name, ids = snapshot(settings)
    assert name != served and set(served_ids) < set(ids)
    assert any(i.startswith("japan") for i in ids)
