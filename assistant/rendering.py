"""An `Answer` as chat Markdown: citation markers linked to their passage, a Sources block, and
the reverse (chat history back to plain text for the chain).

Everything that comes from a document or a model is escaped before it is shown: a passage cannot
inject HTML, a script or a link of its own into the page; only the links made here are links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from assistant.answer import Answer, Citation, Quote
from assistant.articles import passage_href, web_url
from assistant.language import LANGUAGES

PASSAGE_PREVIEW_CHARS = 400
# Errors are shown as plain chat text (visible, not folded away) and start with this, so that
# `history_for_chain` can leave them out as it leaves out the Sources block.
ERROR_PREFIX = "**Could not answer.**"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~=])")
_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")
# The link's `&n=` is the passage's own number, shown renumbered (`display_numbers`).
_LINKED_MARKER = re.compile(r'\[\[(\d+)\]\]\(([^\s)]*)(?: "[^"]*")?\)')  # the title may hold ")"
# What `linked_answer` writes for a citation, read back by `cited_passages`.
_CITATION_LINK = re.compile(
    r"\[\[(\d+)\]\]\(/articles/([^?\s]+)\?start=(\d+)&end=(\d+)(?:&quote_start=\d+&quote_end=\d+)?"
    r'(?:&n=(\d+))?#passage "([^"]*)"\)'
)
_PASSAGE_NUMBER = re.compile(r"&n=(\d+)#")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)")


def escape_markdown(text: str) -> str:
    """Text shown literally by a Markdown renderer that also sanitises HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def display_numbers(answer: Answer) -> dict[int, int]:
    """Citation numbers as the reader meets them: 1, 2, … in the order the answer first cites
    each passage, matching the Sources list (the chain numbers passages by retrieval rank)."""
    cited = [c.n for c in answer.citations]
    marked = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer) if int(n) in cited]
    order = list(dict.fromkeys([*marked, *cited]))
    return {n: shown for shown, n in enumerate(order, start=1)}


def linked_answer(answer: Answer) -> str:
    """The answer text, escaped, with each valid `[n]` a link to the cited passage, numbered as
    the Sources list numbers it."""
    by_n = {c.n: c for c in answer.citations}
    numbers = display_numbers(answer)

    def link(match: re.Match[str]) -> str:
        citation = by_n.get(int(match.group(1)))
        if citation is None:
            return match.group(0)
        title = citation.heading.replace('"', "'")
        href = citation_href(citation).replace("#passage", f"&n={citation.n}#passage")
        return f'[[{numbers[citation.n]}]]({href} "{escape_markdown(title)}")'

    return _ESCAPED_MARKER.sub(link, escape_markdown(answer.answer))


def citation_href(citation: Citation) -> str:
    return quote_href(citation.source, citation.start, citation.end, citation.quote)


def quote_href(source: str, start: int, end: int, quote: Quote | None) -> str:
    """The article link for a passage (document offsets), with its quoted sentence marked."""
    sentence = (start + quote.start, start + quote.end) if quote else None
    return passage_href(source, start, end, sentence)


def sources_title(answer: Answer) -> str:
    label = LANGUAGES.get(answer.language, LANGUAGES["en"]).sources
    return f"{label} ({len(answer.citations)})"


def sources_markdown(citations: Iterable[Citation], numbers: Mapping[int, int] | None = None) -> str:
    """One entry per cited passage: number, linked title, language, original link, the passage;
    in the order of `numbers` (from `display_numbers`) and numbered by it when given."""
    numbers = numbers or {}
    blocks = []
    for c in sorted(citations, key=lambda c: numbers.get(c.n, c.n)):
        passage = (
            c.passage if len(c.passage) <= PASSAGE_PREVIEW_CHARS else c.passage[:PASSAGE_PREVIEW_CHARS] + "…"
        )
        original = f" · [original]({web_url(c.url)})" if web_url(c.url) else ""
        # The sentence the answer was written from comes first, in bold; then the passage.
        quote = f"> **{escape_markdown(' '.join(c.quote.sentence.split()))}**\n>\n" if c.quote else ""
        blocks.append(
            f"**[{numbers.get(c.n, c.n)}]** [{escape_markdown(c.heading)}]({citation_href(c)}) · {c.language}{original}\n\n"
            f"{quote}> {escape_markdown(' '.join(passage.split()))}"
        )
    return "\n\n".join(blocks)


def quotes_markdown(quotes: Iterable[Quote]) -> str:
    """Sentences being read, quoted and escaped (the evidence shown before the answer)."""
    return "\n\n".join(f"> {escape_markdown(' '.join(q.sentence.split()))} [{q.n}]" for q in quotes)


def closest_markdown(answer: Answer) -> str:
    """On a refusal: the sentence nearest to an answer, with a link to it in its article, so the
    user sees what the articles do say without taking it for the answer."""
    quote = answer.closest
    passage = answer.passage(quote.n) if quote else None
    if quote is None or passage is None:
        return ""
    href = quote_href(passage.source, passage.start, passage.end, quote)
    return f"> {escape_markdown(' '.join(quote.sentence.split()))}\n\n[{escape_markdown(passage.heading)}]({href})"


def message_text(content: Any) -> str:
    """The text of a Gradio message's content (a string, or a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return " ".join(message_text(part) for part in content).strip()
    return ""


def cited_passages(markdown: str) -> list[dict[str, Any]]:
    """The citations of a `linked_answer`, read back from its links (once each, in order)."""
    return [
        {"n": int(rank or n), "source": source, "start": int(start), "end": int(end), "title": title}
        for n, source, start, end, rank, title in dict.fromkeys(_CITATION_LINK.findall(markdown))
    ]


def plain_answer(markdown: str) -> str:
    """Chat Markdown back to the answer as the chain gave it: links become `[n]` again, each with
    its passage's own number (the one `Answer.answer` holds, not the one shown)."""

    def marker(match: re.Match[str]) -> str:
        rank = _PASSAGE_NUMBER.search(match.group(2))
        return f"[{rank.group(1) if rank else match.group(1)}]"

    text = _LINKED_MARKER.sub(marker, markdown)
    return html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", text))


def error_markdown(message: str, hint: str) -> str:
    message = message.strip()
    return f"{ERROR_PREFIX} {escape_markdown(message[:1].upper() + message[1:])}\n\n{hint}"


def history_for_chain(messages: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The conversation as the chain sees it. Messages with metadata (the Sources block, status
    notices) and error messages are shown to the user, not things the assistant said: left out."""
    history: list[tuple[str, str]] = []
    for message in messages:
        if message.get("metadata") or message.get("role") not in ("user", "assistant"):
            continue
        text = message_text(message.get("content"))
        if text and not text.startswith(ERROR_PREFIX):
            history.append((str(message["role"]), text if message["role"] == "user" else plain_answer(text)))
    return history
