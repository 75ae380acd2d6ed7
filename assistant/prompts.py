"""Prompt templates, loaded from the files in `prompts/` as LangChain templates.

Retrieved passages enter the prompt as numbered, quoted data (`<source id="1" title="…">…`),
with their markup escaped, so text inside a document can neither close the quote nor pose as
an instruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from assistant.answer import Passage

NOT_IN_SOURCES = "NOT_IN_SOURCES"


@dataclass(frozen=True)
class Prompts:
    answer: ChatPromptTemplate
    condense: PromptTemplate

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        def read(name: str) -> str:
            return (folder / name).read_text(encoding="utf-8").strip()

        # The system prompt has no variables: it is the same for every question (and cacheable).
        system = read("system.md").replace("{", "{{").replace("}", "}}")
        return cls(
            answer=ChatPromptTemplate.from_messages([("system", system), ("human", read("answer.md"))]),
            condense=PromptTemplate.from_template(read("condense.md")),
        )


def format_sources(passages: Sequence[Passage]) -> str:
    return "\n".join(
        f'<source id="{p.n}" title="{escape(p.title, quote=True)}">\n{escape(p.text, quote=False)}\n</source>'
        for p in passages
    )


def format_history(history: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{'User' if role == 'user' else 'Assistant'}: {text}" for role, text in history)
