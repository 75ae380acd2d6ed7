"""Builds the answer chain from settings: the one place the CLI, the UI and the API get it from."""

from __future__ import annotations

from assistant.chain import AnswerChain, QuestionError
from assistant.llm import GeneratorUnavailable, chat_model, condense_model
from assistant.retrieval import IndexNotBuilt, ServedIndex
from assistant.settings import Settings
from vectorstore.store import StoreError

# Why a question cannot be answered right now, in words an admin can act on (HTTP 503).
SERVICE_ERRORS: tuple[type[Exception], ...] = (GeneratorUnavailable, IndexNotBuilt, StoreError)
# ... or why it cannot be answered as asked: every front end shows these as a message, not a trace.
ANSWER_ERRORS: tuple[type[Exception], ...] = (QuestionError, *SERVICE_ERRORS)


def build_chain(settings: Settings) -> AnswerChain:
    llm = chat_model(settings)
    return AnswerChain(settings, ServedIndex(settings).current, llm, condense_llm=condense_model(llm))
