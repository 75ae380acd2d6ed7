from pathlib import Path

import pytest

from vectorstore.catalog import load_catalog
from vectorstore.loading import InputError, LoadLimits, load_folder, read_text

LIMITS = LoadLimits(max_bytes=10 * 1024 * 1024)


def test_the_seed_catalog_describes_the_five_articles(seeds_copy: Path):
    catalog = load_catalog(seeds_copy)
    assert sorted(catalog) == sorted(p.stem for p in seeds_copy.glob("*.txt"))
    assert {e.language for e in catalog.values()} == {"en", "fr", "vi"}
    assert [e.source_id for e in catalog.values() if e.url] == ["002_b28986079c88c4a6"]
    for entry in catalog.values():
        assert (seeds_copy / entry.file).read_text().count(entry.title[:12]) or entry.language == "fr"


def test_documents_carry_catalog_metadata(seeds_copy: Path):
    docs = {d.metadata["source"]: d for d in load_folder(seeds_copy, LIMITS)}
    assert len(docs) == 5
    fr = docs["002_b28986079c88c4a6"].metadata
    assert (
        fr["language"] == "fr" and fr["date"] == "2024-12-18" and fr["url"].startswith("https://nld.com.vn/")
    )
    assert docs["000_6bcdbe225a7f1a32"].metadata["url"] == ""


def test_an_uncatalogued_file_gets_a_title_and_a_detected_language(seeds_copy: Path):
    (seeds_copy / "extra.md").write_text(
        "# Rapport annuel\n\nL'organisation a ouvert trois bureaux en 2023.\n"
    )
    doc = next(d for d in load_folder(seeds_copy, LIMITS) if d.metadata["source"] == "extra")
    assert doc.metadata["title"] == "Rapport annuel"  # a Markdown heading, not its #
    assert doc.metadata["language"] == "fr"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Caf\u00e9 au lait.".encode("latin-1"), "not UTF-8"),
        (b"-\n-\nComment (0)\n", "no article text"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        read_text(path, LIMITS)
    assert "bad.txt" in str(error.value) and "\n" not in str(error.value)


def test_a_file_over_the_size_limit_names_the_limit(tmp_path: Path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=r"50\.0 MB is over the 10 MB limit.*ASSISTANT_MAX_FILE_MB"):
        read_text(path, LIMITS)


def test_missing_or_empty_folders_are_refused(tmp_path: Path):
    with pytest.raises(InputError, match="no such folder"):
        load_folder(tmp_path / "nowhere", LIMITS)
    with pytest.raises(InputError, match=r"no \.txt or \.md files"):
        load_folder(tmp_path, LIMITS)


def test_a_deleted_article_is_skipped_with_a_warning(seeds_copy: Path, caplog: pytest.LogCaptureFixture):
    (seeds_copy / "000_6bcdbe225a7f1a32.txt").unlink()
    docs = load_folder(seeds_copy, LIMITS)
    assert len(docs) == 4
    assert "lists files that are not there (skipped): 000_6bcdbe225a7f1a32.txt" in caplog.text
