"""`openai`: any OpenAI-compatible endpoint as a LangChain chat model that can also judge, by the
log-probabilities of a one-token reply (llama.cpp server, vLLM and OpenAI serve `logprobs`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import _convert_message_to_dict

# A choice missing from the top log-probabilities is at least this much less likely than the last.
_UNLISTED = 5.0


class JudgingChatOpenAI(ChatOpenAI):
    def choice_logprobs(self, messages: list[BaseMessage], choices: Sequence[str]) -> dict[str, float]:
        """The log-probability of each choice as the first token of the reply: from the served
        `top_logprobs` when the endpoint gives them, else from its one-token reply (the choice
        it wrote is certain, the others are not)."""
        reply = self.root_client.chat.completions.create(
            model=self.model_name,
            messages=[_convert_message_to_dict(m) for m in messages],
            max_tokens=1,
            temperature=0.0,
            logprobs=True,
            top_logprobs=20,
            timeout=self.request_timeout,
        )
        choice = reply.choices[0]
        content = choice.logprobs.content if choice.logprobs and choice.logprobs.content else []
        if content and content[0].top_logprobs:
            listed: dict[str, float] = {}
            for top in content[0].top_logprobs:
                token = top.token.strip()
                listed[token] = max(listed.get(token, -math.inf), top.logprob)
            floor = min(listed.values()) - _UNLISTED
            return {c: listed.get(c, floor) for c in choices}
        written = (choice.message.content or "").strip()
        return {c: 0.0 if written.startswith(c) else -_UNLISTED * 4 for c in choices}
