"""A stored document's blocks: the prose lines worth keeping, its `#` headings, its fenced code.

Imported pages are stored as Markdown (`vectorstore.html_to_text`), so a heading says which
section the lines below it belong to, and a code block is one unit that prose never runs into.
Furniture cleaning applies to prose only: a code block's short repeated lines (`fi`, `}`) are
code, not a menu. Spans are offsets into the text, as everywhere in the index.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vectorstore.cleaning import Span, kept_line_spans

SECTION_SEPARATOR = " › "  # between the headings of a section path
PAGE_BREAK = "\f"  # between the pages of a converted PDF, on a line of its own
_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")  # "## C# ##" is "C#"
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


@dataclass(frozen=True)
class Block:
    kind: Literal["prose", "heading", "code"]
    span: Span  # a heading's span is its title, without the #s
    level: int = 0  # a heading's level (1 for #)


def page_finder(text: str) -> Callable[[int], int]:
    """The page an offset of `text` falls on (1 is the first), or 0 when the text has no pages;
    the page breaks found once, each offset looked up by bisection."""
    breaks = [match.start() for match in re.finditer(PAGE_BREAK, text)]
    return lambda offset: bisect.bisect_left(breaks, offset) + 1 if breaks else 0


def escaped(line: str) -> str:
    """A converted line of prose that would read as a heading ("# apt install foo", a root
    prompt) or a fence, escaped as Markdown escapes it."""
    return "\\" + line if _HEADING.match(line) or _FENCE.match(line) else line


def _lines(text: str) -> list[Span]:
    spans, offset = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        spans.append((offset, offset + len(body)))
        offset += len(raw)
    return spans


LineKind = Literal["fence", "code", "heading", "other"]


def _classified(text: str) -> list[tuple[Span, LineKind]]:
    """Each line with what it is: a fence, a line inside a fenced block, a heading, or other
    (prose or furniture). One walk, so every reader of the text agrees on where code is."""
    result: list[tuple[Span, LineKind]] = []
    fence: str | None = None
    for start, end in _lines(text):
        line = text[start:end]
        opened = _FENCE.match(line)
        if fence is not None:
            closes = bool(opened and opened.group(1) == fence)
            result.append(((start, end), "fence" if closes else "code"))
            fence = None if closes else fence
        elif opened:
            result.append(((start, end), "fence"))
            fence = opened.group(1)
        else:
            result.append(((start, end), "heading" if _HEADING.match(line) else "other"))
    return result


def _prose_only(text: str, lines: list[tuple[Span, LineKind]]) -> str:
    """`text` with its heading, fence and code lines blanked (offsets kept), for the furniture
    rules: a closing fence or a repeated heading is not a menu label that repeats."""
    masked = list(text)
    for (start, end), kind in lines:
        if kind != "other":
            masked[start:end] = " " * (end - start)
    return "".join(masked)


def blocks(text: str) -> list[Block]:
    """The document's blocks in order. Without headings or fences, the prose blocks are exactly
    `kept_line_spans(text)`: the seed articles chunk as they always have."""
    lines = _classified(text)
    kept = set(kept_line_spans(_prose_only(text, lines)))
    result: list[Block] = []
    code: list[Span] = []
    for (start, end), kind in lines:
        line = text[start:end]
        if kind == "code":
            if line.strip() or code:
                code.append((start, end))
        elif kind == "fence":
            _add_code(result, text, code)  # closes a block (an opening fence finds none open)
            code = []
        elif kind == "heading":
            heading = _HEADING.match(line)
            assert heading is not None
            title_start = start + heading.start(2)
            result.append(
                Block("heading", (title_start, title_start + len(heading.group(2))), len(heading.group(1)))
            )
        else:
            stripped = (start + len(line) - len(line.lstrip()), start + len(line.rstrip()))
            if stripped in kept:
                result.append(Block("prose", stripped))
    _add_code(result, text, code)  # an unclosed fence runs to the end, as Markdown renders it
    return result


def _add_code(result: list[Block], text: str, lines: list[Span]) -> None:
    while lines and not text[lines[-1][0] : lines[-1][1]].strip():  # no blank last line
        lines = lines[:-1]
    if lines:
        result.append(Block("code", (lines[0][0], lines[-1][1])))


def code_lines(text: str, block: Block, max_chars: int) -> list[Span]:
    """A code block as one unit, or, when longer than `max_chars`, as runs of whole lines."""
    start, end = block.span
    if end - start <= max_chars:
        return [block.span]
    runs: list[Span] = []
    run_start = start
    previous_end = start
    for line_start, line_end in _lines(text[start:end]):
        a, b = start + line_start, start + line_end
        if b - run_start > max_chars and previous_end > run_start:
            runs.append((run_start, previous_end))
            run_start = a
        previous_end = b
    runs.append((run_start, previous_end))
    return runs
