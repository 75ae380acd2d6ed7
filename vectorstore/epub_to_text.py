"""An EPUB book as text: its chapters in reading order (the spine), each read as an HTML page."""

from __future__ import annotations

from pathlib import Path

from vectorstore.html_to_text import html_to_text


def epub_to_text(path: Path) -> tuple[str, str]:
    """(title, text) of an .epub file; raises what ebooklib raises for a file that is not one."""
    from ebooklib import epub

    book = epub.read_epub(str(path), options={"ignore_ncx": True})
    titles = book.get_metadata("DC", "title")
    title = str(titles[0][0]).strip() if titles else ""
    chapters = []
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None:
            continue
        _chapter_title, text = html_to_text(
            item.get_content().decode("utf-8", errors="replace"), with_title=False
        )
        if text:
            chapters.append(text)
    return title, "\n\n".join(chapters)
