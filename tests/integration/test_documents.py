"""Users add and remove their own documents: every type, duplicates, limits, and the index."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import tomlkit

from assistant.documents import add_documents, remove_document
from assistant.retrieval import build_index, client_for, make_retriever
from tests.conftest import ROOT, run_cli
from vectorstore.loading import InputError
from vectorstore.store import CollectionVersions

NOTE = (
    "Field note on seasonal workers\n"
    "The Quang Tri pilot registered 4,321 seasonal workers with the zebra-crossing scheme in 2031.\n"
    "Each worker received a pre-departure briefing from the provincial labour office.\n"
)


def pdf_bytes(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a real text layer (Helvetica)."""
    text = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture
def indexed(settings_for):
    settings = settings_for()
    build_index(settings, threads=settings.index_threads)
    return settings


def active(settings) -> tuple[str | None, int]:
    collection = CollectionVersions(client_for(settings.chroma), settings.collection).active()
    return collection.name, collection.count()


def catalog(settings) -> dict:
    return tomllib.loads((settings.seeds_dir / "catalog.toml").read_text())


def test_each_type_is_added_catalogued_and_retrievable(indexed, tmp_path):
    (tmp_path / "note.md").write_text(NOTE)
    (tmp_path / "page.html").write_text(
        "<html><head><title>Zebra scheme page</title><script>alert(1)</script></head><body><nav>Home | About</nav>"
        "<p>The zebra-crossing scheme was evaluated by 17 inspectors in Hue in 2032.</p></body></html>"
    )
    (tmp_path / "report.pdf").write_bytes(
        pdf_bytes(["Zebra scheme annual report.", "The zebra scheme budget line was 98,765 dong in 2033."])
    )
    report = add_documents(indexed, [tmp_path])
    assert not report.rejected and len(report.added) == 3
    entries = catalog(indexed)
    for added in report.added:
        assert entries[added.source_id]["added_from"] == added.origin.name
        assert (indexed.seeds_dir / f"{added.source_id}.txt").is_file()
    stored = {a.origin.suffix: (indexed.seeds_dir / f"{a.source_id}.txt").read_text() for a in report.added}
    assert "<script>" not in stored[".html"] and "alert(1)" not in stored[".html"]
    assert "98,765 dong" in stored[".pdf"]
    assert report.index is not None and len(report.index.added) == 3
    retriever = make_retriever(indexed)
    asked = {
        ".md": "How many seasonal workers did the zebra-crossing scheme register?",
        ".html": "How many inspectors evaluated the zebra-crossing scheme?",
        ".pdf": "What was the zebra scheme's budget line in 2033?",
    }
    for added in report.added:  # each document found by a question on its own content
        top = retriever.search(asked[added.origin.suffix], 4)
        assert added.source_id in {d.metadata["source"] for d in top}, added.origin.name


def test_the_same_content_is_recognised_not_indexed_twice(indexed, tmp_path):
    (tmp_path / "note.md").write_text(NOTE)
    (tmp_path / "copy-of-note.txt").write_text(NOTE)
    first = add_documents(indexed, [tmp_path / "note.md", tmp_path / "copy-of-note.txt"])
    assert len(first.added) == 1 and len(first.duplicates) == 1
    before = active(indexed)
    again = add_documents(indexed, [tmp_path / "note.md"])
    assert not again.added and again.duplicates[0].duplicate_of == first.added[0].source_id
    assert active(indexed) == before, "nothing re-indexed"
    seed_copy = tmp_path / "seed.txt"
    seed_copy.write_text((indexed.seeds_dir / "000_6bcdbe225a7f1a32.txt").read_text())
    assert add_documents(indexed, [seed_copy]).duplicates, "a copy of a seed article is a duplicate too"


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("tool.exe", b"MZ\x90\x00", "is not an accepted type"),
        ("big.txt", b"word " * 400_000, "limit per document (ASSISTANT_MAX_FILE_MB)"),
        ("empty.md", b"   \n", "the file is empty"),
        ("binary.txt", b"\x00\x01\x02text", "binary"),
        ("latin1.txt", "café à Hanoï".encode("latin-1"), "not UTF-8"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
        ("scanned.pdf", pdf_bytes([]), "no text layer"),
        (
            "box.pdf",
            pdf_bytes(["A page box of three numbers."]).replace(b"612 792]", b"612]"),
            "not a readable PDF",
        ),
        ("empty.html", b"<html><body><script>x()</script></body></html>", "no text"),
    ],
)
def test_a_rejected_file_names_the_problem_and_changes_nothing(indexed, tmp_path, name, content, says):
    before, files_before = active(indexed), sorted(p.name for p in indexed.seeds_dir.iterdir())
    catalog_before = (indexed.seeds_dir / "catalog.toml").read_text()
    (tmp_path / name).write_bytes(content)
    report = add_documents(indexed.model_copy(update={"max_file_mb": 1.0}), [tmp_path / name])
    assert not report.added and says in report.rejected[0]
    assert active(indexed) == before
    assert sorted(p.name for p in indexed.seeds_dir.iterdir()) == files_before
    assert (indexed.seeds_dir / "catalog.toml").read_text() == catalog_before


def test_remove_deletes_the_documents_chunks(indexed, tmp_path):
    (tmp_path / "note.md").write_text(NOTE)
    added = add_documents(indexed, [tmp_path / "note.md"]).added[0]
    _, count = active(indexed)
    report = remove_document(indexed, added.source_id)
    assert len(report.deleted) == 1
    assert added.source_id not in catalog(indexed)
    assert active(indexed)[1] < count
    sources = {
        d.metadata["source"] for d in make_retriever(indexed).search("zebra-crossing seasonal workers", 10)
    }
    assert added.source_id not in sources
    with pytest.raises(InputError, match="no document"):
        remove_document(indexed, added.source_id)


def test_the_cli_adds_lists_and_removes(indexed, tmp_path):
    (tmp_path / "note.md").write_text(NOTE)
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    added = run_cli(indexed, "add", str(tmp_path / "note.md"), str(tmp_path / "tool.exe"))
    assert added.returncode == 2, "a rejected file makes the exit code 2"
    assert "added note-" in added.stdout and "rejected: tool.exe" in added.stdout
    source_id = added.stdout.split("added ", 1)[1].split()[0]
    assert source_id in run_cli(indexed, "list").stdout
    removed = run_cli(indexed, "remove", source_id)
    assert removed.returncode == 0 and "deleted 1" in removed.stdout
    missing = run_cli(indexed, "remove", source_id)
    assert missing.returncode == 2 and "no document" in missing.stderr


HANDBOOK = sorted((ROOT / "tests" / "data" / "handbook").glob("*.html"))


def test_handbook_pages_are_added_with_progress_and_found_across_languages(indexed):
    """Real multilingual HTML (three Debian Administrator's Handbook pages) through `assistant add`."""
    added = run_cli(indexed, "add", *map(str, HANDBOOK))
    assert added.returncode == 0, added.stderr
    assert added.stdout.count("added handbook-") == 3
    assert "embedding: 0/" in added.stderr and re.search(
        r"embedding: (\d+)/\1 chunks \(100 %\)", added.stderr
    )
    assert len(added.stderr.splitlines()) < 12, "a line per stage start and end, not one per batch"
    # Where the time went, stage by stage, from reading the files to Chroma's writes.
    timings = next(line for line in added.stdout.splitlines() if line.startswith("time: "))
    for stage in ("reading the files", "writing the files", "dense pass", "sparse pass", "chunks/s encoded"):
        assert stage in timings
    listed = " ".join(run_cli(indexed, "list").stdout.split())  # the titles have no-break spaces
    assert "fr 10.8. DHCP" in listed and "handbook-vi-quotas" in listed
    passages = make_retriever(indexed).search("Comment créer un compte utilisateur avec adduser ?", 4)
    found = [p for p in passages if p.metadata["source"].startswith("handbook-en-creating-accounts")]
    assert found
    # Read as a person reads the page: the section it stands in, the sentence around <span>adduser</span>.
    assert all(p.metadata["section"].startswith("8.5. Creating Accounts") for p in found)
    stored = next(indexed.seeds_dir.glob("handbook-en-creating-accounts-*.txt")).read_text()
    assert "This is typically done using the adduser command which takes a user-name" in stored
    assert "Download the ebook" not in stored and "\nPrev\n" not in stored
    cited = run_cli(
        indexed, "ask", "--json", "Which command creates a user account?", ASSISTANT_GENERATOR="extractive"
    )
    citations = json.loads(cited.stdout)["citations"]
    assert any(c.get("section", "").startswith("8.5. Creating Accounts") for c in citations), citations


def test_reimport_reads_added_documents_again_with_todays_importer(indexed):
    page = next(p for p in HANDBOOK if "creating-accounts" in p.name)
    (added,) = add_documents(indexed, [page]).added
    folder = indexed.seeds_dir
    kept = folder / "originals" / f"{added.source_id}.html"
    assert kept.read_bytes() == page.read_bytes()
    assert catalog(indexed)[added.source_id]["original"] == f"originals/{kept.name}"

    # As an older importer stored it: every inline element on a line of its own; and a title
    # the user corrected by hand, which a re-import keeps.
    catalog_file = folder / "catalog.toml"
    edited = tomlkit.parse(catalog_file.read_text())
    edited[added.source_id]["title"] = "Accounts"
    catalog_file.write_text(tomlkit.dumps(edited))
    stored = folder / f"{added.source_id}.txt"
    stored.write_text(stored.read_text().replace(" adduser command", "\nadduser\ncommand"))
    run_cli(indexed, "index", "--quiet")
    again = run_cli(indexed, "reimport")
    assert again.returncode == 0, again.stderr
    assert f"re-read {added.source_id}" in again.stdout and "index: " in again.stdout
    assert "This is typically done using the adduser command which takes" in stored.read_text()
    assert catalog(indexed)[added.source_id]["added_from"] == page.name
    assert catalog(indexed)[added.source_id]["title"] == "Accounts"
    assert f"unchanged: {added.source_id}" in run_cli(indexed, "reimport").stdout

    # Added before originals were kept: said so, and `--from` gives the file.
    kept.unlink()
    missing = run_cli(indexed, "reimport", added.source_id)
    assert missing.returncode == 2 and f"reimport {added.source_id} --from FILE" in missing.stdout
    given = run_cli(indexed, "reimport", added.source_id, "--from", str(page))
    assert given.returncode == 0, given.stderr
    assert kept.is_file()

    unknown = run_cli(indexed, "reimport", "000_6bcdbe225a7f1a32")
    assert unknown.returncode == 2 and "not a document you added" in unknown.stdout
    outside = run_cli(indexed, "remove", "../catalog")
    assert outside.returncode == 2 and "not a document id" in outside.stderr
    assert run_cli(indexed, "remove", added.source_id).returncode == 0
    assert not kept.exists() and added.source_id not in catalog(indexed)
