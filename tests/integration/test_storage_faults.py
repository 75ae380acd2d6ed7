"""The index folder fills up or turns read-only: a clear error, nothing lost, the old index serves.

The folder is a real 64 MB tmpfs, filled to the last byte, or seen through a read-only bind mount
(as a user without write permission sees it), so SQLite and Chroma meet the errors a real disk
gives them. Mounting needs root; elsewhere these tests are skipped.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.conftest import make_settings, run_cli
from tests.servers import serving, ui_server
from vectorstore.store import ChromaLocation, storage_error

NEW_ARTICLE = """# Viet Nam sends technical intern trainees to Japan

In 2025 the Department of Overseas Labour reported that 71,500 Vietnamese technical intern trainees
left for Japan, the largest group of workers sent abroad that year. Recruitment agencies in Nghe An
must now publish their fees, after complaints from families who borrowed to pay them.
"""


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "volume"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small real disk needs `mount` (root): {mounted.stderr.strip()}")
    yield mount_point
    for mounted_at in (tmp_path / "read-only-view", mount_point):
        subprocess.run(["umount", "-l", str(mounted_at)], check=False, capture_output=True)


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def break_volume(volume: Path, fault: str) -> Path:
    """Break the disk; returns where the next command should find its data folder."""
    if fault == "read-only":
        view = volume.parent / "read-only-view"
        view.mkdir()
        mount("--bind", str(volume), str(view))
        mount("-o", "remount,bind,ro", str(view))
        return view
    block = b"\0" * (1024 * 1024)
    with (volume / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        for size in (4096, 1):  # the last pages too: the disk is full to the byte
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError:
                pass
    assert shutil.disk_usage(volume).free == 0
    return volume


def repair_volume(volume: Path, fault: str) -> None:
    if fault == "read-only":
        subprocess.run(["umount", str(volume.parent / "read-only-view")], check=True)
    else:
        (volume / "filler").unlink()


def ask(client: OpenAI, question: str) -> tuple[str, set[str]]:
    reply = client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": question}]
    )
    return reply.choices[0].message.content or "", {s["source"] for s in reply.model_extra["sources"]}


def folder_state(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("fault", "says"),
    [("full", "no space left for the index"), ("read-only", "is read-only here")],
)
def test_a_full_or_read_only_index_folder_fails_clearly_and_the_old_index_serves(
    fault: str, says: str, volume: Path, indexed_settings, tmp_path: Path
):
    seeds = tmp_path / "seeds"
    shutil.copytree(indexed_settings.seeds_dir, seeds)
    shutil.copytree(indexed_settings.chroma.path, volume / "chroma")
    settings = make_settings(volume, seeds, generator="extractive")
    article = tmp_path / "japan.md"
    article.write_text(NEW_ARTICLE)
    extractive = {"ASSISTANT_GENERATOR": "extractive"}

    with serving(ui_server(settings, tmp_path / "logs", **extractive), timeout=120) as server:
        client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        answer, _ = ask(client, "How many member states does IOM have?")
        assert "175" in answer

        broken = make_settings(break_volume(volume, fault), seeds, generator="extractive")
        before = folder_state(seeds)
        for command in (["add", str(article)], ["index", "--rebuild"]):
            failed = run_cli(broken, *command, **extractive)
            assert failed.returncode == 2, failed.stderr
            assert says in failed.stderr and "the index in use is unchanged" in failed.stderr
            assert "Traceback" not in failed.stderr
        assert folder_state(seeds) == before, "the refused document must not stay in the articles"

        # The running assistant still answers from the old index, in every language.
        answer, _ = ask(client, "Combien d'États membres compte l'OIM ?")
        assert "175" in answer

        repair_volume(volume, fault)
        added = run_cli(settings, "add", str(article), **extractive)
        assert added.returncode == 0, added.stderr
        answer, sources = ask(client, "How many Vietnamese technical intern trainees left for Japan in 2025?")
        assert "71,500" in answer
        assert any(source.startswith("japan-") for source in sources)


def test_an_obscure_chroma_error_on_a_nearly_full_disk_is_named_as_a_space_problem(volume: Path):
    """Mid-build, Chroma words a failed write "Error in compaction: …" (seen on this tmpfs)."""
    location = ChromaLocation(path=volume)
    chroma_said = RuntimeError("Error in compaction: Failed to apply logs to the metadata segment")
    (volume / "filler").write_bytes(b"\0" * (shutil.disk_usage(volume).free - 1024 * 1024))  # 1 MB left
    error = storage_error(chroma_said, location)
    assert error is not None
    assert "no space left" in str(error) and "Error in compaction" in str(error)
    (volume / "filler").unlink()
    assert storage_error(chroma_said, location) is None  # with room, it is not blamed on space
