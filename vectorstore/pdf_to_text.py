"""A PDF's text as paragraphs: a PDF stores visual lines, a reader needs whole sentences.

pypdf gives each page's text one visual line per line, so a sentence is cut at every wrap
("…which package you" / "need, you can install…"). Lines are joined back into paragraphs (a
word hyphenated at a line end is rejoined), ligatures and other compatibility characters are
normalised (NFKC: "ﬁrmware" is "firmware" to the reader and to the embeddings), and what repeats
at the top or bottom of most pages (running headers, footers, page numbers) is dropped.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

# A line that ends its paragraph when it is also shorter than the page's full lines.
_ENDS_SENTENCE = re.compile(r"[.!?:;…»”\"')]$")
_STARTS_ITEM = re.compile(r"^(?:[-–•▪◦*]|\d+[.)]|[a-z][.)])\s")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of|sur|trên)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# How much of the page's usual full line a line must fill to run on into the next one.
_FULL_LINE = 0.8


def pages_to_text(pages: Sequence[str]) -> str:
    """The pages' text as paragraphs, one per line, pages separated by a blank line."""
    lined = [[line.strip() for line in unicodedata.normalize("NFKC", page).splitlines()] for page in pages]
    furniture = _running_lines(lined)
    paragraphs: list[str] = []
    for lines in lined:
        edges = {0, 1, len(lines) - 2, len(lines) - 1}  # a page number stands at the top or bottom
        kept = [
            line
            for number, line in enumerate(lines)
            if line and not (number in edges and _PAGE_NUMBER.match(line)) and _shape(line) not in furniture
        ]
        page = _paragraphs(kept)
        if (
            page
            and len(paragraphs) > 1
            and not _ENDS_SENTENCE.search(paragraphs[-2])
            and page[0][:1].islower()
        ):
            paragraphs[-2] += " " + page.pop(0)  # a sentence running on over the page break
        paragraphs += [*page, ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip()


def _shape(line: str) -> str:
    """A line with its numbers blanked: "Chapter 3 — page 12" repeats as "Chapter # — page #"."""
    return _DIGITS.sub("#", line.casefold())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines among the first or last two of at least half the pages (three at least)."""
    if len(pages) < 3:
        return set()
    edges = Counter(
        shape for lines in pages for shape in {_shape(line) for line in [*lines[:2], *lines[-2:]] if line}
    )
    return {shape for shape, count in edges.items() if count >= max(3, len(pages) / 2)}


def _paragraphs(lines: list[str]) -> list[str]:
    if not lines:
        return []
    full = sorted(len(line) for line in lines)[int(0.9 * (len(lines) - 1))]
    paragraphs = [lines[0]]
    for previous, line in itertools.pairwise(lines):
        ends = len(previous) < _FULL_LINE * full and (
            _ENDS_SENTENCE.search(previous) or len(previous) < 0.5 * full
        )
        if ends or _STARTS_ITEM.match(line):
            paragraphs.append(line)
        elif _HYPHENATED.search(previous) and line[:1].islower():
            paragraphs[-1] = paragraphs[-1][:-1] + line
        else:
            paragraphs[-1] += " " + line
    return paragraphs
