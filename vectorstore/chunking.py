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

from vectorstore.cleaning import Span, kept_line_spans

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
        return f"sentpack-v1:{self.target_chars}:{self.overlap_sentences}"


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int
    index: int


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
    """Greedy packing of whole sentences up to the target size, with a sentence of overlap."""
    sentences = [
        span
        for line in kept_line_spans(text)
        for span in sentence_spans(text, line, config.max_sentence_chars)
    ]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        size = sentences[i][1] - sentences[i][0]
        while j < len(sentences) and size + 1 + sentences[j][1] - sentences[j][0] <= config.target_chars:
            size += 1 + sentences[j][1] - sentences[j][0]
            j += 1
        chunks.append(_make_chunk(text, sentences[i:j], len(chunks)))
        if j >= len(sentences):
            break
        # Repeat the last sentences of this chunk at the start of the next one, unless that would
        # make no progress (a chunk of a single sentence).
        i = max(i + 1, j - config.overlap_sentences)
    return chunks


def _make_chunk(text: str, sentences: list[Span], index: int) -> Chunk:
    parts: list[str] = []
    for k, (start, end) in enumerate(sentences):
        if k:
            between = text[sentences[k - 1][1] : start]
            parts.append("\n" if "\n" in between else " ")
        parts.append(text[start:end])
    return Chunk("".join(parts), sentences[0][0], sentences[-1][1], index)


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
                },
            )
            for doc in documents
            for chunk in pack_sentences(doc.page_content, self.config)
        ]
