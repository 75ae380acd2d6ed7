"""Sentence-packed chunks with character offsets into the original text.

Measured on cross-lingual questions: chunks of ~450 characters made of whole sentences, with the
last sentence repeated at the start of the next chunk, retrieve better than 1000/200 character
windows. Offsets point into the *original* file (furniture lines are skipped, never rewritten), so
the article view can highlight exactly the passage that was cited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter, TextSplitter

from vectorstore.blocks import PAGE_BREAK, SECTION_SEPARATOR, blocks, code_lines, page_finder
from vectorstore.cleaning import Span

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by white space.
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+")
# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "nos",
        "mme",
        "mlle",
        "m",
        "tel",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "tp",
        "p",
        "ths",
        "ts",
        "gs",
        "pgs",
        "approx",
        "fig",
    ]
)


@dataclass(frozen=True)
class ChunkingConfig:
    target_chars: int = 450
    overlap_sentences: int = 1

    @property
    def max_sentence_chars(self) -> int:
        """A longer "sentence" (a list, a table row) is cut by LangChain's recursive splitter."""
        return int(self.target_chars * 1.4)

    def fingerprint(self) -> str:
        return f"sentpack-v2:{self.target_chars}:{self.overlap_sentences}"


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int
    index: int
    section: str = ""  # the headings above it, "Configuring the Network › Installing firmwares"
    page: int = 0  # the PDF page it starts on; 0 when the document has no pages


def sentence_spans(text: str, line: Span, max_chars: int) -> list[Span]:
    """Sentence spans inside one kept line; over-long sentences are split further."""
    line_start, line_end = line
    spans: list[Span] = []
    start = line_start
    for match in _SENTENCE_BOUNDARY.finditer(text, line_start, line_end):
        last_word = text[start : match.start()].rsplit(None, 1)[-1].rstrip(".").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        spans.append((start, match.start()))
        start = match.end()
    if start < line_end:
        spans.append((start, line_end))
    return [piece for span in spans for piece in _split_long(text, span, max_chars)]


def _split_long(text: str, span: Span, max_chars: int) -> list[Span]:
    start, end = span
    if end - start <= max_chars:
        return [span]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars,
        chunk_overlap=0,
        separators=["; ", ", ", " ", ""],
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )
    pieces = splitter.create_documents([text[start:end]])
    return [
        (
            start + piece.metadata["start_index"],
            start + piece.metadata["start_index"] + len(piece.page_content),
        )
        for piece in pieces
    ]


def pack_sentences(text: str, config: ChunkingConfig) -> list[Chunk]:
    """Each section's units (its heading, whole sentences, code blocks) packed greedily up to the
    target size, with a sentence of overlap; a chunk never spans two sections."""
    chunks: list[Chunk] = []
    page_of = page_finder(text)
    for section, units in sections(text, config.max_sentence_chars):
        for group in _packed(units, config, headed=bool(section)):
            chunks.append(_make_chunk(text, group, len(chunks), section, page_of(group[0][0])))
    return chunks


def sections(text: str, max_chars: int) -> list[tuple[str, list[Span]]]:
    """The text's units grouped by section, each with its path of headings ("A › B"). A heading
    with nothing under it but another heading has no units of its own: it is in the path below."""
    path: list[tuple[int, str]] = []
    found: list[tuple[str, list[Span]]] = [("", [])]
    parts = blocks(text)
    for block in parts:
        if block.kind == "heading":
            title = text[block.span[0] : block.span[1]]
            path = [(level, t) for level, t in path if level < block.level] + [(block.level, title)]
            found.append((SECTION_SEPARATOR.join(t for _, t in path), [block.span]))
        elif block.kind == "code":  # whole lines; a line longer than a chunk is cut as prose is
            found[-1][1].extend(
                piece
                for run in code_lines(text, block, max_chars)
                for piece in _split_long(text, run, max_chars)
            )
        else:
            found[-1][1].extend(sentence_spans(text, block.span, max_chars))
    headings = {b.span for b in parts if b.kind == "heading"}
    return [(section, units) for section, units in found if units and not set(units) <= headings]


def _packed(units: list[Span], config: ChunkingConfig, headed: bool = False) -> list[list[Span]]:
    """Units packed greedily; a section's heading (`headed`: the first unit) always goes with
    the unit after it, never alone in a chunk."""
    groups: list[list[Span]] = []
    i = 0
    while i < len(units):
        j = i + 2 if headed and i == 0 and len(units) > 1 else i + 1
        size = sum(b - a + 1 for a, b in units[i:j]) - 1
        while j < len(units) and size + 1 + units[j][1] - units[j][0] <= config.target_chars:
            size += 1 + units[j][1] - units[j][0]
            j += 1
        groups.append(units[i:j])
        if j >= len(units):
            break
        # Repeat the last sentences of this chunk at the start of the next one, unless that would
        # make no progress (a chunk of a single sentence).
        i = max(i + 1, j - config.overlap_sentences)
    return groups


def _make_chunk(text: str, sentences: list[Span], index: int, section: str = "", page: int = 0) -> Chunk:
    parts: list[str] = []
    for k, (start, end) in enumerate(sentences):
        if k:
            # White space is kept as it stands (a blank line too), so a sentence's place in the
            # chunk is its place in the document; anything else between (a closing quote, a
            # dropped line, a fence) becomes one space or one line break.
            between = text[sentences[k - 1][1] : start].replace(PAGE_BREAK, "\n")  # same length
            parts.append(between if not between.strip() else "\n" if "\n" in between else " ")
        parts.append(text[start:end])
    return Chunk("".join(parts), sentences[0][0], sentences[-1][1], index, section, page)


class SentencePackingSplitter(TextSplitter):
    """LangChain `TextSplitter` front for `pack_sentences`, adding offset metadata to documents."""

    def __init__(self, config: ChunkingConfig | None = None, **kwargs: Any) -> None:
        self.config = config or ChunkingConfig()
        super().__init__(chunk_size=self.config.target_chars, chunk_overlap=0, **kwargs)

    def split_text(self, text: str) -> list[str]:
        return [chunk.text for chunk in pack_sentences(text, self.config)]

    def split_documents(self, documents: Iterable[Document]) -> list[Document]:
        return [
            Document(
                page_content=chunk.text,
                metadata={
                    **doc.metadata,
                    "chunk_index": chunk.index,
                    "start": chunk.start,
                    "end": chunk.end,
                    "section": chunk.section,
                    **({"page": chunk.page} if chunk.page else {}),
                },
            )
            for doc in documents
            for chunk in pack_sentences(doc.page_content, self.config)
        ]
