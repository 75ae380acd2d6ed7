"""The conversations sidebar: the signed-in user's saved conversations, newest first; new, open,
rename, delete, export (Markdown or JSON, with the citations).

A reopened conversation is drawn with the same messages the chat showed when it was asked
(`answer_messages`), so its Sources blocks and links are as they were, and follow-ups read it as
history like any other.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Answer
from assistant.auth import visitor_of
from assistant.conversations import ConversationNotFound, ConversationStore, ConversationStoreError
from assistant.language import LANGUAGES
from assistant.rendering import (
    closest_markdown,
    display_numbers,
    escape_markdown,
    linked_answer,
    sources_markdown,
    sources_title,
)
from assistant.transcripts import Format, export

log = logging.getLogger(__name__)
# The sidebar lists the newest conversations (and the open one); each browser session keeps its
# list in the server's memory, so it is bounded. The CLI lists and exports all of them.
SIDEBAR_CONVERSATIONS = 100


def user_of(request: gr.Request | None) -> str:
    """The signed-in user; without ASSISTANT_AUTH, the browser's anonymous identity."""
    signed_in = getattr(request, "username", None)
    if signed_in:
        return str(signed_in)
    return visitor_of(dict(getattr(request, "cookies", None) or {})) if request is not None else ""


def notice(title: str, text: str = "", pending: bool = False) -> gr.ChatMessage:
    """A message the user sees but the model does not (it has metadata); `pending` shows a spinner."""
    metadata: dict[str, Any] = {"title": title, "status": "pending"} if pending else {"title": title}
    return gr.ChatMessage(role="assistant", content=text, metadata=metadata)


def answered_by(answer: Answer) -> str:
    """Who wrote the shown answer: the chosen model, or its quotes when the guard replaced it."""
    model = answer.model or answer.generator
    if answer.generator == "extractive" and model != "extractive":
        return f"{model} (replaced by quotes)"
    return model


def answer_messages(answer: Answer) -> list[gr.ChatMessage]:
    """The final answer as the chat shows it: the linked text, the closest sentence on a refusal,
    the folded Sources block naming the model."""
    shown = [gr.ChatMessage(role="assistant", content=linked_answer(answer))]
    closest = closest_markdown(answer)
    if closest:
        shown.append(notice(LANGUAGES.get(answer.language, LANGUAGES["en"]).closest, closest))
    if answer.citations:
        seconds = answer.timings_ms.get("total", 0.0) / 1000
        metadata = {
            "title": sources_title(answer),
            "status": "done",
            "log": f"{answered_by(answer)} · {seconds:.1f} s",
        }
        shown.append(
            gr.ChatMessage(
                role="assistant",
                content=sources_markdown(answer.citations, display_numbers(answer)),
                metadata=metadata,
            )
        )
    return shown


class ConversationHandlers:
    """The sidebar's functions, bound to the store; each scoped to the request's user."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def listing(self, current: str | None, request: gr.Request) -> tuple[Any, str]:
        """The radio of conversations (titles, newest first) and a notice if the store is down."""
        try:
            conversations = self.store.list(user_of(request), limit=SIDEBAR_CONVERSATIONS)
            if current and all(c.id != current for c in conversations):
                conversations.append(self.store.get(current, user_of(request)))
        except ConversationNotFound:
            pass  # deleted meanwhile: the newest ones are listed, none chosen
        except ConversationStoreError as exc:
            return gr.update(choices=[], value=None), f"⚠️ {escape_markdown(str(exc))}"
        choices = [(c.title, c.id) for c in conversations]
        value = current if any(c.id == current for c in conversations) else None
        return gr.update(choices=choices, value=value), ""

    def open(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """(conversation id, chat messages, title) of the chosen conversation."""
        if not conversation_id:
            return None, [], ""
        try:
            summary = self.store.get(conversation_id, user_of(request))
            turns = self.store.turns(conversation_id, user_of(request))
        except (ConversationStoreError, ConversationNotFound) as exc:
            gr.Warning(str(exc))
            return None, [], ""
        messages: list[gr.ChatMessage] = []
        for turn in turns:
            messages.append(gr.ChatMessage(role="user", content=turn.answer.question))
            messages.extend(answer_messages(turn.answer))
        return conversation_id, messages, summary.title

    def rename(self, conversation_id: str | None, title: str, request: gr.Request) -> str:
        if not conversation_id:
            return "Ask a question first: a conversation is saved with its first answer."
        try:
            self.store.rename(conversation_id, user_of(request), title)
        except (ConversationStoreError, ConversationNotFound, ValueError) as exc:
            return f"⚠️ {escape_markdown(str(exc))}"
        return ""

    def delete(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """Delete the open conversation; the chat starts a new one."""
        if conversation_id:
            try:
                self.store.delete(conversation_id, user_of(request))
            except (ConversationStoreError, ConversationNotFound) as exc:
                return conversation_id, gr.update(), f"⚠️ {escape_markdown(str(exc))}"
        return None, [], ""

    def export_markdown(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, str]:
        return self.export(conversation_id, "md", request)

    def export_json(self, conversation_id: str | None, request: gr.Request) -> tuple[Any, str]:
        return self.export(conversation_id, "json", request)

    def export(self, conversation_id: str | None, fmt: Format, request: gr.Request) -> tuple[Any, str]:
        """A file to download: the conversation with its citations."""
        if not conversation_id:
            return None, "Ask a question first: there is nothing to export yet."
        try:
            summary = self.store.get(conversation_id, user_of(request))
            text = export(summary, self.store.turns(conversation_id, user_of(request)), fmt)
        except (ConversationStoreError, ConversationNotFound) as exc:
            return None, f"⚠️ {escape_markdown(str(exc))}"
        folder = Path(tempfile.mkdtemp(prefix="assistant-export-"))
        path = folder / f"{_file_stem(summary.title)}.{fmt}"
        path.write_text(text, encoding="utf-8")
        return str(path), ""


def _file_stem(title: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_ " else " " for ch in title).split()
    return "-".join(stem)[:60] or "conversation"
