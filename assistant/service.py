"""Builds the answer chain from settings: the one place the CLI, the UI and the API get it from."""

from __future__ import annotations

from assistant.chain import AnswerChain
from assistant.llm import chat_model, condense_model
from assistant.retrieval import ServedIndex
from assistant.settings import Settings


def build_chain(settings: Settings) -> AnswerChain:
    llm = chat_model(settings)
    return AnswerChain(settings, ServedIndex(settings).current, llm, condense_llm=condense_model(llm))
