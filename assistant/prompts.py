"""Prompt templates, loaded from the files in `prompts/` as LangChain templates.

Retrieved passages enter the prompt as numbered, quoted data (`<source id="1" title="…">…`),
with their markup escaped, so text inside a document can neither close the quote nor pose as
an instruction. Worked examples (`examples.toml`) go in as earlier turns of the chat, between the
system prompt and the question: fixed text, so they stay in llama.cpp's prompt cache.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate, FewShotChatMessagePromptTemplate, PromptTemplate

from assistant.answer import Passage

NOT_IN_SOURCES = "NOT_IN_SOURCES"


@dataclass(frozen=True)
class Prompts:
    answer: ChatPromptTemplate
    condense: PromptTemplate
    translate: PromptTemplate
    in_language: PromptTemplate  # asks again for an answer written in another language

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        def read(name: str) -> str:
            return (folder / name).read_text(encoding="utf-8").strip()

        # The system prompt has no variables: it is the same for every question (and cacheable).
        system = _literal(read("system.md"))
        question = read("answer.md")
        messages: list = [("system", system)]
        if (folder / "examples.toml").is_file():
            messages.append(
                FewShotChatMessagePromptTemplate(
                    examples=load_examples(folder / "examples.toml"),
                    example_prompt=ChatPromptTemplate.from_messages(
                        [("human", question), ("ai", "{answer}")]
                    ),
                )
            )
        return cls(
            answer=ChatPromptTemplate.from_messages([*messages, ("human", question)]),
            condense=PromptTemplate.from_template(read("condense.md")),
            translate=PromptTemplate.from_template(read("translate.md")),
            in_language=PromptTemplate.from_template(read("in_language.md")),
        )


def _literal(text: str) -> str:
    """A prompt with no variables, braces kept as written."""
    return text.replace("{", "{{").replace("}", "}}")


def load_examples(path: Path) -> list[dict[str, str]]:
    """The worked examples, each with its sources formatted as the model sees real ones."""
    examples = []
    for number, example in enumerate(tomllib.loads(path.read_text(encoding="utf-8"))["example"], 1):
        try:
            sources = [(n, s["title"], s["text"]) for n, s in enumerate(example["sources"], start=1)]
            examples.append(
                {
                    "sources": "\n".join(quoted_source(*source) for source in sources),
                    "question": example["question"],
                    "language_name": example["language_name"],
                    "answer": example["answer"],
                }
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: example {number} needs question, language_name, answer, sources"
            ) from exc
    return examples


def quoted_source(n: int, title: str, text: str) -> str:
    return f'<source id="{n}" title="{escape(title, quote=True)}">\n{escape(text, quote=False)}\n</source>'


def format_sources(passages: Sequence[Passage]) -> str:
    return "\n".join(quoted_source(p.n, p.heading, p.text) for p in passages)


def format_history(history: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{'User' if role == 'user' else 'Assistant'}: {text}" for role, text in history)
