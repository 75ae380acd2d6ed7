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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from vectorstore.blocks import PAGE_BREAK, escaped

# A line that ends its paragraph when it is also shorter than the page's full lines.
_ENDS_SENTENCE = re.compile(r"[.!?:;…»”\"')]$")
_STARTS_ITEM = re.compile(r"^(?:[-–•▪◦*]|\d+[.)]|[a-z][.)])\s")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of|sur|trên)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_MONOSPACED = re.compile(r"mono|courier|consol|menlo|cousine|typewriter|code", re.IGNORECASE)
_FULL_LINE = 0.8  # how much of the page's usual full line a line must fill to run on
_HEADING_SIZE = 1.15  # a heading's font is at least this much larger than the body's
_HEADING_CHARS = 150  # a longer line in large type is a pull quote or a banner, not a heading
_PARAGRAPH_GAP = 0.4  # a gap this many font sizes above a line's usual gap starts a paragraph
# A gap between two letters wider than this share of the font size is a space between words:
# TeX draws no space characters, and its word spaces are narrower than pdfplumber's default 3 pt.
_WORD_GAP = 0.15


@dataclass(frozen=True)
class Line:
    """A visual line: its text, font size (0: not known), place, and whether it is monospaced."""

    text: str
    size: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    monospaced: bool = False
    x0: float = 0.0
    page_height: float = 0.0  # 0: not known

    @property
    def in_margin(self) -> bool:
        """In the top or bottom eighth of its page, where running headers and footers stand."""
        return bool(self.page_height) and not (self.page_height / 8 < self.top < self.page_height * 7 / 8)


Kind = Literal["prose", "heading", "code"]


def pdf_to_text(path: Path) -> tuple[str, str]:
    """The PDF's title (from its metadata, or "") and its text."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        title = str((pdf.metadata or {}).get("Title") or "")
        pages = [_lines(_without_doubled_characters(page)) for page in pdf.pages]
    return " ".join(unicodedata.normalize("NFKC", title).split()), pages_to_text(pages)


def _without_doubled_characters(page: Any) -> Any:
    """The page without the second copy of a character drawn twice at (almost) one place, as a
    text shadow or fake bold draws it ("DDoowwnnllooaadd"). pdfplumber's `dedupe_chars` does this
    too, at several times the cost of reading the page."""
    seen: set[tuple[str, int, int]] = set()

    def first_copy(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        key = (obj["text"], round(obj["x0"]), round(obj["top"]))
        if key in seen:
            return False
        seen.add(key)
        return True

    return page.filter(first_copy)


def _lines(page: Any) -> list[Line]:
    lines = []
    for part in _reading_order(page):
        for found in part.extract_text_lines(return_chars=True, strip=True, x_tolerance_ratio=_WORD_GAP):
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
                    page.height,
                )
            )
    return lines


def _reading_order(page: Any) -> list[Any]:
    """The page, or its parts in reading order when an empty vertical gutter splits the words
    below some height into two columns: what stands above (a title across both columns), then
    the left column, then the right one."""
    words = page.extract_words(x_tolerance_ratio=_WORD_GAP)
    x0, top, x1, bottom = page.bbox
    if len(words) < 40:
        return [page]
    best: tuple[float, float] | None = None  # (where the columns start, the gutter)
    for step in range(31):  # the middle 30–70 % of the width
        x = x0 + (x1 - x0) * (0.3 + 0.4 * step / 30)
        # A footer across the gutter (a centred page number) does not stop the columns.
        crossing = [w for w in words if w["x0"] < x < w["x1"] and w["top"] < top + 0.9 * (bottom - top)]
        start = max((w["bottom"] for w in crossing), default=top)
        below = [w for w in words if w["top"] >= start]
        left = sum(w["x1"] <= x for w in below)
        splits = len(below) >= 0.6 * len(words) and min(left, len(below) - left) >= 0.25 * len(below)
        if splits and (best is None or start < best[0]):
            best = (start, x)
    if best is None:
        return [page]
    start, x = best
    above = [page.crop((x0, top, x1, start), strict=False)] if start > top else []
    return [
        *above,
        page.crop((x0, start, x, bottom), strict=False),
        page.crop((x, start, x1, bottom), strict=False),
    ]


def pages_to_text(pages: Sequence[Sequence[Line]]) -> str:
    """The pages as Markdown paragraphs, headings and fenced code, one page after another."""
    pages = [[_normalised(line) for line in page] for page in pages]
    furniture = _running_lines(pages)
    body = _body_size(pages)
    levels = _heading_levels(pages, body)
    paged: list[list[tuple[Kind, str]]] = []
    for page in pages:
        edges = {0, 1, len(page) - 2, len(page) - 1}  # a page number stands at the top or bottom
        kept = [
            line
            for number, line in enumerate(page)
            if line.text
            and not (number in edges and _PAGE_NUMBER.match(line.text))
            and not _is_furniture(line, number in edges, furniture)
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
    return replace(line, text=unicodedata.normalize("NFKC", line.text).strip())


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
        if body and line.size >= _HEADING_SIZE * body and len(line.text) <= _HEADING_CHARS
    }
    return {size: min(level, 6) for level, size in enumerate(sorted(sizes, reverse=True), start=1)}


def _kind(
    line: Line, body: float, previous: Line | None, following: Line | None, levels: dict[float, int]
) -> Kind:
    if line.size in levels and len(line.text) <= _HEADING_CHARS:
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


Place = tuple[str, float, float | str]  # a line's shape, its font size, its height or "edge"


def _places(lines: Sequence[Line]) -> set[Place]:
    """Where each line stands, for spotting what repeats on many pages: its shape and size at its
    height in the page's margins (to 4 points; a running header drawn anywhere in the reading
    order), and the shapes and sizes of the first and last two lines (when the heights are not
    known). The size tells a document's title from the running header that repeats it."""
    at_height = {_place(line) for line in lines if line.in_margin and line.text}
    at_edges = {_place(line, edge=True) for line in [*lines[:2], *lines[-2:]] if line.text}
    return at_height | at_edges


def _place(line: Line, edge: bool = False) -> Place:
    return (_shape(line.text), line.size, "edge" if edge else round(line.top / 4))


def _running_lines(pages: Sequence[Sequence[Line]]) -> set[Place]:
    """Places found on both of two pages, or on three pages at least and on half of them (a
    third, for the same line at the same height: a header drawn over the text is not always
    read as a line of its own)."""
    if len(pages) < 2:
        return set()
    counts = Counter(place for lines in pages for place in _places(lines))

    def least(place: Place) -> float:
        return len(pages) if len(pages) < 3 else max(3, len(pages) / (2 if place[2] == "edge" else 3))

    return {place for place, count in counts.items() if count >= least(place)}


def _is_furniture(line: Line, on_edge: bool, furniture: set[Place]) -> bool:
    return (line.in_margin and _place(line) in furniture) or (
        on_edge and _place(line, edge=True) in furniture
    )
