"""The assistant as an OpenAI-compatible model: `POST /v1/chat/completions`, `GET /v1/models`.

Tools that speak the OpenAI protocol (Open WebUI, scripts, editors) can use the assistant as a
model named `assistant` (the configured model answers), or `assistant/<id>` for any model of the
catalogue (`assistant/local:…`, `assistant/openai:…`, `assistant/extractive`): `/v1/models` lists
them all. The last user message is the question, earlier turns are the conversation.
Citations come as `[n]` in the text plus a `sources` field. The API is stateless (the client
sends the history); a `conversation_id` field (an extension: an id from the chat, or "new") also
records the exchange in the user's saved conversations, and the reply names it. A stream starts at once (the role
chunk) but carries the answer only after the guard has checked it: a client keeps whatever it
was sent, so an unchecked draft must never be sent.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.answer import Answer
from assistant.chain import AnswerChain, QuestionError
from assistant.conversations import ConversationNotFound, ConversationStore, ConversationStoreError
from assistant.generators.catalogue import UnknownModel
from assistant.rendering import citation_href, message_text
from assistant.service import SERVICE_ERRORS, ModelChains

MODEL_NAME = "assistant"
MODEL_PREFIX = MODEL_NAME + "/"
_PIECES = re.compile(r"\S+\s*|\s+")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The OpenAI request; sampling fields (temperature, …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (an extension).")
    conversation_id: str | None = Field(
        None,
        max_length=64,
        description='Record the exchange in this saved conversation, or "new" (an extension).',
    )


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}
        return JSONResponse(body, status_code=self.status)


def sources_of(answer: Answer) -> list[dict[str, Any]]:
    return [
        {
            "n": c.n,
            "source": c.source,
            "title": c.title,
            "section": c.section,
            "page": c.page,
            "url": c.url,
            "passage": c.passage,
            "quote": c.quote.sentence if c.quote else None,  # the sentence the answer was written from
            "article": citation_href(c),
        }
        for c in answer.citations
    ]


def create_router(models: ModelChains, store: ConversationStore) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible API"])

    @router.get("/models")
    def list_models() -> dict[str, Any]:
        """`assistant` (the configured model) and `assistant/<id>` for each catalogue model, with
        where it comes from, a label and whether its weights are loaded (extensions)."""
        listing = models.listing()
        loaded = models.loaded()
        default = {
            "id": MODEL_NAME,
            "object": "model",
            "created": 0,
            "owned_by": "assistant",
            "label": f"the configured model ({listing.default_id})",
        }
        entries = [
            {
                "id": MODEL_PREFIX + entry.id,
                "object": "model",
                "created": 0,
                "owned_by": entry.source,
                "label": entry.label,
                "loaded": entry.id in loaded,
            }
            for entry in listing.entries
        ]
        return {"object": "list", "data": [default, *entries]}

    @router.post("/chat/completions", response_model=None)
    def chat_completions(request: ChatRequest, http: Request) -> JSONResponse | EventSourceResponse:
        owner = str(getattr(http.state, "user", ""))
        try:
            question, history = _conversation(request)
            chain = _chain(models, request.model)
            if request.conversation_id not in (None, "new"):
                _owned(store, request.conversation_id, owner)  # before answering, not after
            recorder = _Recorder(store, request.conversation_id, owner)
            if request.stream:
                return EventSourceResponse(_stream(chain, request, question, history, recorder))
            answer = _answer(chain, question, history, request.top_k)
        except ApiError as error:
            return error.response()
        return JSONResponse({**_completion(answer, request.model), **recorder.record(answer)})

    return router


class _Recorder:
    """Saves an exchange when the request names a conversation; the extension fields to add."""

    def __init__(self, store: ConversationStore, conversation_id: str | None, owner: str) -> None:
        self.store, self.conversation_id, self.owner = store, conversation_id, owner

    def record(self, answer: Answer) -> dict[str, Any]:
        if self.conversation_id is None:
            return {}
        try:
            given = None if self.conversation_id == "new" else self.conversation_id
            self.conversation_id = self.store.record(given, self.owner, answer)
        except (ConversationStoreError, ConversationNotFound) as exc:  # answered all the same
            return {"conversation_id": None, "not_saved": str(exc)}
        return {"conversation_id": self.conversation_id}


def _owned(store: ConversationStore, conversation_id: str, owner: str) -> None:
    try:
        store.get(conversation_id, owner)
    except ConversationNotFound as exc:
        raise ApiError(404, f"no conversation {conversation_id!r}", "invalid_request_error") from exc
    except ConversationStoreError:
        pass  # the answer comes all the same, with `not_saved`


def _chain(models: ModelChains, requested: str) -> AnswerChain:
    """The chain for `assistant` or `assistant/<catalogue id>`; 404 for anything else."""
    if requested != MODEL_NAME and not requested.startswith(MODEL_PREFIX):
        raise ApiError(
            404,
            f"the model {requested!r} does not exist; use {MODEL_NAME!r} or one of GET /v1/models",
            "invalid_request_error",
            "model_not_found",
        )
    try:
        return models.chain(requested.removeprefix(MODEL_PREFIX) if requested != MODEL_NAME else None)
    except UnknownModel as exc:
        raise ApiError(404, str(exc), "invalid_request_error", "model_not_found") from exc
    except SERVICE_ERRORS as exc:
        raise ApiError(503, str(exc), "service_unavailable") from exc


def _conversation(request: ChatRequest) -> tuple[str, list[tuple[str, str]]]:
    turns = [(m.role, message_text(m.content)) for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "the last message must be the user's question", "invalid_request_error")
    return turns[-1][1], turns[:-1]


def _answer(chain: AnswerChain, question: str, history: list[tuple[str, str]], top_k: int | None) -> Answer:
    try:
        return chain.invoke(question, history, top_k)
    except QuestionError as exc:
        raise ApiError(400, str(exc), "invalid_request_error") from exc
    except SERVICE_ERRORS as exc:
        raise ApiError(503, str(exc), "service_unavailable") from exc


def _completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": sources_of(answer),
        "refused": answer.refused,
        "generator": answer.generator,
        "answered_by": answer.model,
    }


def _stream(
    chain: AnswerChain,
    request: ChatRequest,
    question: str,
    history: list[tuple[str, str]],
    recorder: _Recorder,
) -> Iterator[str]:
    """Server-sent events in the OpenAI wire format: `data: {json}` lines, then `data: [DONE]`."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}

    yield _event(chunk({"role": "assistant", "content": ""}))
    try:
        answer = _answer(chain, question, history, request.top_k)
    except ApiError as error:
        # Headers are sent: the error travels as an OpenAI error event, then the stream ends.
        yield _event(
            {"error": {"message": error.message, "type": error.kind, "param": None, "code": error.code}}
        )
        yield "data: [DONE]\n\n"
        return
    for piece in _PIECES.findall(answer.answer):
        yield _event(chunk({"content": piece}))
    yield _event(
        chunk(
            {},
            "stop",
            sources=sources_of(answer),
            refused=answer.refused,
            generator=answer.generator,
            answered_by=answer.model,
            **recorder.record(answer),
        )
    )
    yield "data: [DONE]\n\n"


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
