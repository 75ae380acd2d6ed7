"""A PDF's lines laid out as text: paragraphs, headings, code, furniture, pages (no PDF needed:
the lines are given as pdfplumber gives them, with or without their places)."""

from __future__ import annotations

from vectorstore.chunking import ChunkingConfig, pack_sentences
from vectorstore.importing import normalized
from vectorstore.pdf_to_text import Line, pages_to_text

HEIGHT = 800.0


def placed(texts: list[str], first_top: float = 120.0, size: float = 11.0, **kw) -> list[Line]:
    """Lines of a paragraph as a page sets them: 14 points apart, in the body's font."""
    return [
        Line(text, size, first_top + 14 * n, first_top + 14 * n + size, page_height=HEIGHT, **kw)
        for n, text in enumerate(texts)
    ]


def test_pdf_lines_are_rejoined_into_sentences_and_ligatures_normalised():
    # A printed page's visual lines, wrapped about 60 characters wide, their places not known.
    pages = [
        "Handbook — chapter 8\n"
        "If you don't know which package you need to install for your\n"
        "network card, you can install the isenkram package and run\n"
        "its command, which looks for the missing ﬁrmware and instal-\n"
        "ls it.\n"
        "A short paragraph.\n"
        "This paragraph is long enough to wrap at the end of the page\n"
        "and it runs\n"
        "1",
        "Handbook — chapter 8\non to the next page, where it ends with a full stop at last.\n2",
        "Handbook — chapter 8\n- a list item\n- another item\n3",
    ]
    lines = pages_to_text([[Line(text) for text in page.splitlines()] for page in pages]).splitlines()
    assert (
        "If you don't know which package you need to install for your network card, you can install the "
        "isenkram package and run its command, which looks for the missing firmware and installs it." in lines
    )
    assert "A short paragraph." in lines
    assert (
        "This paragraph is long enough to wrap at the end of the page and it runs on to the next page, where "
        "it ends with a full stop at last." in lines
    )
    assert "- a list item" in lines and "- another item" in lines
    assert not any(line.startswith("Handbook") or line in ("1", "2", "3") for line in lines)


def test_a_header_in_the_margin_is_dropped_and_body_text_at_one_height_is_kept():
    header = Line("Zebra scheme report — internal", 8, 30, 38, page_height=HEIGHT)
    pages = [
        [
            header,
            *placed([f"Page {n} has its own story.", "Total: 1,250 kWh", *[f"Story {n} goes on."] * 3], 300),
        ]
        for n in range(6)
    ]
    lines = pages_to_text(pages).splitlines()
    assert "Zebra scheme report — internal" not in lines
    kept = sum("Total: 1,250 kWh" in line for line in lines)
    assert kept == 6, "a line mid-page at one height on every page is the body's, not furniture"


def test_larger_type_is_a_heading_and_a_monospaced_run_is_code():
    page = [
        Line("Configuring the registry", 18, 60, 78, page_height=HEIGHT),
        *placed(["The registry reads its settings from a file that looks like this one:"], 100),
        Line("[registry]", 9, 130, 139, True, 50, HEIGHT),
        Line("office = quang-tri", 9, 142, 151, True, 50, HEIGHT),
        Line("deadline = 03-01", 9, 154, 163, True, 66.2, HEIGHT),
        *placed(["After the file, the prose goes on in the body's font, as it did before it."], 180),
    ]
    text = pages_to_text([page])
    assert text.splitlines()[0] == "# Configuring the registry"
    assert "```\n[registry]\noffice = quang-tri\n   deadline = 03-01\n```" in text


def test_a_paragraph_gap_ends_a_paragraph_even_after_a_full_line():
    first = placed(
        ["A first paragraph runs over", "three lines and ends in a full", "line of its own here."], 100
    )
    second = placed(
        ["A second paragraph starts after", "a gap of a paragraph, not of", "a line, so they are two."], 160
    )
    assert pages_to_text([[*first, *second]]).splitlines() == [
        "A first paragraph runs over three lines and ends in a full line of its own here.",
        "A second paragraph starts after a gap of a paragraph, not of a line, so they are two.",
    ]


def test_pages_are_kept_as_form_feeds_and_chunks_know_their_page():
    pages = [
        [],
        placed(["The second page holds the first words of this document."]),
        placed(["And a third."]),
    ]
    text = normalized(pages_to_text(pages))
    assert text.startswith("\f\n"), "an empty first page still counts"
    chunks = pack_sentences(text, ChunkingConfig(target_chars=40))
    assert [c.page for c in chunks] == [2, 3]
    assert all(text[c.start : c.end] == c.text.replace("\n", "\f") or "\f" not in c.text for c in chunks)
    assert not any("\f" in c.text for c in chunks)


def test_the_title_stays_when_a_running_header_repeats_it_in_smaller_type():
    title = Line("Shared MIME-info Database", 24.8, 69, 94, page_height=HEIGHT)
    header = Line("Shared MIME-info Database", 10, 48, 58, page_height=HEIGHT)
    pages = [[title, *placed(["The first page begins the specification."], 300)]]
    pages += [[header, *placed([f"Page {n} goes on with it."], 300)] for n in range(2, 6)]
    lines = pages_to_text(pages).splitlines()
    assert lines[0] == "# Shared MIME-info Database" and lines.count("Shared MIME-info Database") == 0
