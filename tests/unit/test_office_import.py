"""Word documents and EPUB books, made by the libraries that write them, read back whole."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from ebooklib import epub

from vectorstore.chunking import ChunkingConfig, pack_sentences
from vectorstore.importing import prepare
from vectorstore.loading import InputError, LoadLimits


def word_file(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Firmware guide"
    document.add_heading("Installing the required firmwares", level=1)
    paragraph = document.add_paragraph("If you don't know which package you need, you can install the ")
    paragraph.add_run("isenkram").bold = True
    paragraph.add_run(" package and run its ")
    paragraph.add_run("isenkram-autoinstall-firmware").italic = True
    paragraph.add_run(" command.")
    document.add_heading("Checking the result", level=2)
    document.add_paragraph("Reboot the machine.", style="List Bullet")
    document.add_paragraph("Run dmesg and look for firmware errors.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, (package, use) in zip(
        table.rows, [("firmware-iwlwifi", "Intel Wi-Fi"), ("firmware-realtek", "Realtek")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = package, use
    document.save(str(path))
    return path


def epub_file(path: Path) -> Path:
    book = epub.EpubBook()
    book.set_identifier("handbook-test")
    book.set_title("A small handbook")
    book.set_language("en")
    chapters = []
    for number, (heading, body) in enumerate(
        [
            (
                "Accounts",
                "<p>Accounts are created with the <code>adduser</code> command, which asks a few questions.</p>",
            ),
            ("Quotas", "<p>Quotas are set with <span class='command'>edquota</span> for each user.</p>"),
        ],
        start=1,
    ):
        chapter = epub.EpubHtml(title=heading, file_name=f"chapter{number}.xhtml", lang="en")
        chapter.content = (
            f"<html><head><title>A small handbook</title></head><body><h1>{heading}</h1>{body}</body></html>"
        )
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = chapters
    epub.write_epub(str(path), book)
    return path


def test_a_word_document_keeps_its_sentences_headings_lists_and_tables(tmp_path):
    candidate = prepare(word_file(tmp_path / "guide.docx"), LoadLimits())
    lines = candidate.text.splitlines()
    assert (
        "If you don't know which package you need, you can install the isenkram package and run its "
        "isenkram-autoinstall-firmware command." in lines
    )
    assert "- Reboot the machine." in lines and "firmware-iwlwifi | Intel Wi-Fi" in lines
    sections = {c.section for c in pack_sentences(candidate.text, ChunkingConfig()) if "dmesg" in c.text}
    assert sections == {"Installing the required firmwares › Checking the result"}
    assert candidate.title == "Firmware guide" and candidate.language == "en"  # Word's own title


def test_an_epub_book_is_read_chapter_by_chapter_in_order(tmp_path):
    candidate = prepare(epub_file(tmp_path / "book.epub"), LoadLimits())
    text = candidate.text
    assert "Accounts are created with the adduser command, which asks a few questions." in text
    assert text.index("# Accounts") < text.index("# Quotas")
    assert "A small handbook" not in text  # the book's title is not a heading of every chapter
    assert candidate.title == "A small handbook"
    chunks = pack_sentences(text, ChunkingConfig())
    assert {c.section for c in chunks if "edquota" in c.text} == {"Quotas"}


@pytest.mark.parametrize(
    ("name", "problem"),
    [("broken.docx", "not a readable Word document"), ("broken.epub", "not a readable EPUB book")],
)
def test_a_damaged_package_is_refused_by_name(tmp_path, name, problem):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 this is not really a zip package")
    with pytest.raises(InputError, match=problem):
        prepare(path, LoadLimits())


def test_an_empty_word_document_is_refused(tmp_path):
    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    with pytest.raises(InputError, match="no text in this Word document"):
        prepare(path, LoadLimits())
