"""A PDF's text as a reader needs it: paragraphs, headings, code and pages.

A PDF stores visual lines, so a sentence is cut at every wrap ("…which package you" / "need, you
can install…"). pdfplumber gives each line with its place and its fonts, and from them:
- lines are joined back into paragraphs where the gap above a line is a line's, not a
  paragraph's (a word hyphenated at a line end is rejoined);
- a line set larger than the body text is a heading, its level by its size, so a chunk knows
  its section; a run of monospaced lines is a code block, kept line by line;
- a page split by an empty vertical gutter is read column by column;
- ligatures and other compatibility characters are normalised (NFKC: "ﬁrmware" is "firmware");
- what repeats at the top or bottom of most pages (running headers, footers, page numbers) is
  dropped.
Pages are separated by a form feed line, as `pdftotext` separates them, so a chunk knows its page.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vectorstore.blocks import PAGE_BREAK, escaped

# A line that ends its paragraph when it is also shorter than the page's full lines.
_ENDS_SENTENCE = re.compile(r"[.!?:;…»”\"')]$")
_STARTS_ITEM = re.compile(r"^(?:[-–•▪◦*]|\d+[.)]|[a-z][.)])\s")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of|sur|trên)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_MONOSPACED = re.compile(r"mono|courier|consol|menlo|typewriter|code", re.IGNORECASE)
_FULL_LINE = 0.8  # how much of the page's usual full line a line must fill to run on
_HEADING_SIZE = 1.15  # a heading's font is at least this much larger than the body's
_PARAGRAPH_GAP = 0.4  # a gap this many font sizes above a line's usual gap starts a paragraph
_GUTTER = 0.02  # at most this share of a page's words may cross a column gutter


@dataclass(frozen=True)
class Line:
    """A visual line: its text, font size (0: not known), place, and whether it is monospaced."""

    text: str
    size: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    monospaced: bool = False
    x0: float = 0.0


Kind = Literal["prose", "heading", "code"]


def pdf_to_text(path: Path) -> tuple[str, str]:
    """The PDF's title (from its metadata, or "") and its text."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        title = str((pdf.metadata or {}).get("Title") or "")
        pages = [_lines(page.dedupe_chars()) for page in pdf.pages]
    return " ".join(unicodedata.normalize("NFKC", title).split()), pages_to_text(pages)


def _lines(page: Any) -> list[Line]:
    lines = []
    for part in _columns(page):
        for found in part.extract_text_lines(return_chars=True, strip=True):
            chars = [c for c in found["chars"] if not c["text"].isspace()]
            if not chars:
                continue
            sizes = sorted(round(c["size"], 1) for c in chars)
            mono = sum(bool(_MONOSPACED.search(c.get("fontname", ""))) for c in chars)
            lines.append(
                Line(
                    found["text"],
                    sizes[len(sizes) // 2],
                    found["top"],
                    found["bottom"],
                    mono >= 0.9 * len(chars),
                    found["x0"],
                )
            )
    return lines


def _columns(page: Any) -> list[Any]:
    """The page, or its left and right columns when an empty vertical gutter splits its words."""
    words = page.extract_words()
    x0, top, x1, bottom = page.bbox
    if len(words) < 40:
        return [page]
    best: tuple[int, float] | None = None
    for step in range(31):  # the middle 30–70 % of the width
        x = x0 + (x1 - x0) * (0.3 + 0.4 * step / 30)
        left = sum(w["x1"] <= x for w in words)
        right = sum(w["x0"] >= x for w in words)
        crossing = len(words) - left - right
        splits = min(left, right) >= 0.25 * len(words) and crossing <= _GUTTER * len(words)
        if splits and (best is None or crossing < best[0]):
            best = (crossing, x)
    if best is None:
        return [page]
    x = best[1]
    return [page.crop((x0, top, x, bottom), strict=False), page.crop((x, top, x1, bottom), strict=False)]


def pages_to_text(pages: Sequence[Sequence[Line]]) -> str:
    """The pages as Markdown paragraphs, headings and fenced code, one page after another."""
    pages = [[_normalised(line) for line in page] for page in pages]
    furniture = _running_lines([[line.text for line in page] for page in pages])
    body = _body_size(pages)
    levels = _heading_levels(pages, body)
    paged: list[list[tuple[Kind, str]]] = []
    for page in pages:
        edges = {0, 1, len(page) - 2, len(page) - 1}  # a page number stands at the top or bottom
        kept = [
            line
            for number, line in enumerate(page)
            if not (number in edges and _PAGE_NUMBER.match(line.text)) and _shape(line.text) not in furniture
        ]
        blocks = _blocks(kept, body, levels)
        before = next((earlier for earlier in reversed(paged) if earlier), None)
        if (
            blocks
            and before
            and before[-1][0] == blocks[0][0] == "prose"
            and not _ENDS_SENTENCE.search(before[-1][1])
            and blocks[0][1][:1].islower()
        ):  # a sentence running on over the page break
            before[-1] = ("prose", before[-1][1] + " " + blocks.pop(0)[1])
        paged.append(blocks)
    return f"\n{PAGE_BREAK}\n".join(_markdown(blocks) for blocks in paged).strip(" \n")


def _normalised(line: Line) -> Line:
    text = unicodedata.normalize("NFKC", line.text).strip()
    return Line(text, line.size, line.top, line.bottom, line.monospaced, line.x0)


def _body_size(pages: Sequence[Sequence[Line]]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for line in itertools.chain.from_iterable(pages):
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _heading_levels(pages: Sequence[Sequence[Line]], body: float) -> dict[float, int]:
    """Each heading size's level: the largest is 1."""
    sizes = {
        line.size
        for line in itertools.chain.from_iterable(pages)
        if body and line.size >= _HEADING_SIZE * body and len(line.text) <= 150
    }
    return {size: min(level, 6) for level, size in enumerate(sorted(sizes, reverse=True), start=1)}


def _kind(line: Line, body: float, previous: Line | None, following: Line | None, levels: dict) -> Kind:
    if line.size in levels and len(line.text) <= 150:
        return "heading"
    # Monospaced and set apart (another size, or among monospaced lines): not a path in a sentence.
    if line.monospaced and (
        line.size != body or any(n is not None and n.monospaced for n in (previous, following))
    ):
        return "code"
    return "prose"


def _blocks(lines: list[Line], body: float, levels: dict[float, int]) -> list[tuple[Kind, str]]:
    """The page's lines as (kind, text) blocks: prose paragraphs, headings (with their #s) and
    code blocks (their lines as they are)."""
    if not lines:
        return []
    full = sorted(len(line.text) for line in lines)[int(0.9 * (len(lines) - 1))]
    usual_gap = _usual_gap(lines)
    kinds = [
        _kind(line, body, lines[n - 1] if n else None, lines[n + 1] if n + 1 < len(lines) else None, levels)
        for n, line in enumerate(lines)
    ]
    texts = _with_indentation(lines, kinds)
    blocks: list[tuple[Kind, str, float]] = []  # with the size of their first line
    for number, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        previous = lines[number - 1] if number else None
        if not blocks or previous is None or blocks[-1][0] != kind:
            blocks.append((kind, texts[number], line.size))
            continue
        _, last, size = blocks[-1]
        gap = line.top - previous.bottom
        apart = usual_gap is not None and line.size > 0 and gap > usual_gap + _PARAGRAPH_GAP * line.size
        if kind == "code":
            blocks[-1] = (kind, last + "\n" + texts[number], size)
        elif kind == "heading":
            if apart or line.size != previous.size:
                blocks.append((kind, line.text, line.size))
            else:
                blocks[-1] = (kind, last + " " + line.text, size)  # a heading wrapped over two lines
        elif apart or _STARTS_ITEM.match(line.text) or _ends_paragraph(previous.text, full):
            blocks.append((kind, line.text, line.size))
        elif _HYPHENATED.search(last) and line.text[:1].islower():
            blocks[-1] = (kind, last[:-1] + line.text, size)
        else:
            blocks[-1] = (kind, last + " " + line.text, size)
    return [
        (kind, f"{'#' * levels[size]} {text}" if kind == "heading" else text) for kind, text, size in blocks
    ]


def _with_indentation(lines: list[Line], kinds: list[Kind]) -> list[str]:
    """Each line's text; a code line indented by its offset from its block's leftmost line, in
    the monospaced font's character widths (about 0.6 of its size)."""
    texts = [line.text for line in lines]
    for kind, run in itertools.groupby(range(len(lines)), key=lambda n: kinds[n]):
        block = list(run)
        if kind == "code":
            left = min(lines[n].x0 for n in block)
            for n in block:
                width = 0.6 * lines[n].size
                texts[n] = " " * (round((lines[n].x0 - left) / width) if width else 0) + texts[n]
    return texts


def _usual_gap(lines: list[Line]) -> float | None:
    """The usual space between two lines of a paragraph on this page (None: positions unknown)."""
    gaps = sorted(
        b.top - a.bottom
        for a, b in itertools.pairwise(lines)
        if a.size and a.size == b.size and b.top > a.top
    )
    return gaps[len(gaps) // 4] if gaps else None


def _ends_paragraph(line: str, full: int) -> bool:
    """A line that stops short of the page's full lines, after a sentence's end or well short."""
    return len(line) < _FULL_LINE * full and (bool(_ENDS_SENTENCE.search(line)) or len(line) < 0.5 * full)


def _markdown(blocks: list[tuple[Kind, str]]) -> str:
    out = []
    for kind, text in blocks:
        if kind == "code":
            out.append(f"```\n{text}\n```")
        else:
            out.append(text if kind == "heading" else escaped(text))
    return "\n".join(out)


def _shape(line: str) -> str:
    """A line with its numbers blanked: "Chapter 3 — page 12" repeats as "Chapter # — page #"."""
    return _DIGITS.sub("#", line.casefold())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines among the first or last two of at least half the pages (three at least), or of
    both pages of a two-page document."""
    if len(pages) < 2:
        return set()
    edges = Counter(
        shape for lines in pages for shape in {_shape(line) for line in [*lines[:2], *lines[-2:]] if line}
    )
    least = len(pages) if len(pages) < 3 else max(3, len(pages) / 2)
    return {shape for shape, count in edges.items() if count >= least}
