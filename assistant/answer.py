"""What a question gets back: the `Answer`, its `Citation`s and the retrieved `Passage`s.

One shape for every front end (CLI, batch, UI, API), so they render the same thing.
"""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from pydantic import BaseModel, Field

from vectorstore.blocks import SECTION_SEPARATOR


class Passage(BaseModel):
    """A retrieved chunk, numbered as the model saw it ([n])."""

    n: int
    chunk_id: str
    source: str
    sources: list[str]
    title: str
    section: str = Field("", description="The headings the passage stands under, 'A › B'.")
    page: int | None = Field(None, description="The PDF page the passage starts on.")
    language: str
    url: str | None = None
    date: str | None = None
    text: str
    start: int
    end: int
    score: float
    dense_score: float
    sparse_score: float
    topicality: float | None = None

    @classmethod
    def from_document(cls, n: int, doc: Document) -> Passage:
        meta = doc.metadata
        return cls(
            n=n,
            chunk_id=str(doc.id),
            source=meta["source"],
            sources=list(meta.get("sources") or [meta["source"]]),
            title=meta["title"],
            section=str(meta.get("section") or ""),
            page=int(meta["page"]) if meta.get("page") else None,
            language=meta["language"],
            url=meta.get("url") or None,
            date=meta.get("date") or None,
            text=doc.page_content,
            start=int(meta["start"]),
            end=int(meta["end"]),
            score=float(meta["score"]),
            dense_score=float(meta["dense_score"]),
            sparse_score=float(meta["sparse_score"]),
            topicality=meta.get("topicality"),
        )

    @property
    def heading(self) -> str:
        """The title, and the section and page when the document has them: what a citation shows."""
        return heading(self.title, self.section, self.page)


class Citation(BaseModel):
    """A [n] marker in the answer and the passage it points at."""

    n: int
    source: str
    title: str
    section: str = ""
    page: int | None = None
    url: str | None
    passage: str
    chunk_id: str
    language: str
    start: int
    end: int
    quote: Quote | None = Field(None, description="The sentence the answer was written from.")

    @classmethod
    def of(cls, passage: Passage, quote: Quote | None = None) -> Citation:
        return cls(
            quote=quote,
            n=passage.n,
            source=passage.source,
            title=passage.title,
            section=passage.section,
            page=passage.page,
            url=passage.url,
            passage=passage.text,
            chunk_id=passage.chunk_id,
            language=passage.language,
            start=passage.start,
            end=passage.end,
        )

    @property
    def heading(self) -> str:
        return heading(self.title, self.section, self.page)


def heading(title: str, section: str, page: int | None = None) -> str:
    """ "Title › Section, p. 12": the section without the title when it repeats it, the page when
    the document is a PDF."""
    path = section.split(SECTION_SEPARATOR) if section else []
    if path and path[0] == title:
        path = path[1:]
    return SECTION_SEPARATOR.join([title, *path]) + (f", p. {page}" if page else "")


class Quote(BaseModel):
    """The sentence an answer was written from (the one the model read of its passage) and
    where it stands in the passage."""

    n: int
    sentence: str
    start: int = Field(description="Offset of the sentence in the passage text.")
    end: int


class GuardReport(BaseModel):
    """What the guard checked in a generated answer, and why it fell back if it did."""

    checked: bool = False
    fired: bool = False
    dropped_citations: list[int] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)
    repaired: list[str] = Field(
        default_factory=list, description="Citations moved to the passage that states the claim."
    )
    reason: str | None = None
    draft: str | None = Field(None, description="The model's own text, when the guard replaced it.")


class Answer(BaseModel):
    question: str
    standalone_question: str
    translated_questions: list[str] = Field(
        default_factory=list, description="The question in other languages, searched too."
    )
    answer: str
    refused: bool
    language: str
    generator: str = Field(description="The generator that produced the shown answer.")
    requested_generator: str
    model: str | None = Field(None, description="The catalogue id of the model chosen to answer.")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    guard: GuardReport = Field(default_factory=GuardReport)
    closest: Quote | None = Field(
        None, description="On a refusal: the sentence nearest to an answer, shown as only that."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def passage(self, n: int) -> Passage | None:
        """The retrieved passage numbered `n`."""
        return next((p for p in self.passages if p.n == n), None)

    def batch_record(self, record_id: Any) -> dict[str, Any]:
        """The exact fields of `assistant ask --jsonl`, one object per question."""
        return {
            "id": record_id,
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "language": self.language,
            "generator": self.generator,
            "citations": [
                {"n": c.n, "source": c.source, "title": c.title, "url": c.url, "passage": c.passage}
                for c in self.citations
            ],
            "retrieved": [
                {"source": p.source, "chunk_id": p.chunk_id, "score": p.score} for p in self.passages
            ],
            "timings_ms": {k: self.timings_ms.get(k, 0.0) for k in ("retrieve", "generate", "total")},
        }
