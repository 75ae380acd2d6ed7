"""A saved conversation as Markdown or JSON, with its citations: each answer keeps its `[n]`
markers, and under it the numbered sources quote the cited passage with the article's title and
link — what other chat apps' exports drop, and what makes an answer worth keeping here."""

from __future__ import annotations

import json
from typing import Any, Literal

from assistant.conversations import ConversationSummary, StoredTurn
from assistant.rendering import citation_href

Format = Literal["md", "json"]


def export(summary: ConversationSummary, turns: list[StoredTurn], fmt: Format) -> str:
    return to_markdown(summary, turns) if fmt == "md" else to_json(summary, turns)


def to_json(summary: ConversationSummary, turns: list[StoredTurn]) -> str:
    document: dict[str, Any] = {
        "id": summary.id,
        "title": summary.title,
        "owner": summary.owner,
        "created": summary.created,
        "updated": summary.updated,
        "turns": [
            {
                "position": turn.position,
                "created": turn.created,
                "question": turn.answer.question,
                "standalone_question": turn.answer.standalone_question,
                "answer": turn.answer.answer,
                "refused": turn.answer.refused,
                "language": turn.answer.language,
                "model": turn.answer.model,
                "generator": turn.answer.generator,
                "feedback": {1: "up", -1: "down"}.get(turn.feedback or 0),
                "timings_ms": turn.answer.timings_ms,
                "citations": [
                    {**c.model_dump(mode="json"), "article": citation_href(c)} for c in turn.answer.citations
                ],
            }
            for turn in turns
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def to_markdown(summary: ConversationSummary, turns: list[StoredTurn]) -> str:
    lines = [f"# {summary.title}", "", f"Exported from the assistant · started {summary.created}", ""]
    for turn in turns:
        answer = turn.answer
        by = f" ({answer.model})" if answer.model else ""
        lines += [f"**Question:** {answer.question}", "", f"**Answer**{by}: {answer.answer}", ""]
        if answer.closest and (passage := answer.passage(answer.closest.n)):
            lines += [
                f"The closest thing the articles say — {passage.title}:",
                "",
                f"> {answer.closest.sentence}",
                "",
            ]
        for c in answer.citations:
            link = f"[{c.title}]({c.url})" if c.url else c.title
            lines.append(f"[{c.n}] {link} · {c.language} · article view: `{citation_href(c)}`")
            if c.quote:
                lines.append(f"    Sentence: “{c.quote.sentence}”")
            lines += ["", *[f"> {line}" if line else ">" for line in c.passage.splitlines()], ""]
        lines += ["---", ""]
    return "\n".join(lines).rstrip("-\n ") + "\n"
