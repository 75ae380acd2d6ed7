"""`local`: an LLM embedded in-process with llama-cpp-python, as a LangChain chat model.

One generation at a time (two cores cannot serve two), threads taken from the cores that are
free when the model loads (with another busy process, 2 threads fall from ~22 to <7 tokens/s),
and the fixed system prompt evaluated once: llama.cpp keeps the last prompt's tokens in its KV
cache and only evaluates what follows the common prefix. (`LlamaRAMCache` on top of that was
measured here: it saves the whole state after every answer, halving tokens/s (20.5 -> 9.9) and
gaining nothing on time to first token (7.3 s without, 7.9 s with).)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
# One generation at a time in the process, whichever context runs it: two cores cannot serve two.
# Loading and freeing weights take it too, so no generation ever runs on freed weights.
_ONE_AT_A_TIME = threading.RLock()


class ResidentModels:
    """The llama.cpp models loaded in this process, least recently used first.

    At most `limit` GGUF files stay loaded (each in up to two contexts: answering and rewriting
    follow-ups); loading another frees the least recently used file's contexts first, so
    switching models does not add a model's memory each time."""

    def __init__(self, limit: int = 1) -> None:
        self.limit = limit
        self._models: list[LlamaCppChatModel] = []

    def paths(self) -> list[str]:
        """The files loaded now, least recently used first."""
        return list(dict.fromkeys(m.model_path for m in self._models))

    def make_room_for(self, path: str) -> None:
        others = [p for p in self.paths() if p != path]
        while others and len(others) + 1 > self.limit:
            oldest = others.pop(0)
            for model in [m for m in self._models if m.model_path == oldest]:
                model.unload()

    def touch(self, model: LlamaCppChatModel) -> None:
        self.forget(model)
        self._models.append(model)

    def forget(self, model: LlamaCppChatModel) -> None:
        # By identity: pydantic models compare equal field by field.
        self._models = [m for m in self._models if m is not model]


RESIDENT = ResidentModels()


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores together, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal


def free_cores(sample_seconds: float = 0.5) -> int:
    """Cores idle right now, at least one.

    Sampled over half a second rather than read from the load average: that lags a minute
    behind, so right after `assistant index` (as in `make run`) it counted both cores as busy
    and the model got 1 thread for good (the eval's first token p50: 14.0 s on 1 thread, 7.3 s on 2)."""
    total = os.cpu_count() or 1
    try:
        idle_before, all_before = _cpu_times()
        time.sleep(sample_seconds)
        idle_after, all_after = _cpu_times()
        busy_share = 1 - (idle_after - idle_before) / max(1, all_after - all_before)
        busy = round(busy_share * total)
    except (OSError, ValueError, IndexError):  # not Linux: the load average is the next best
        try:
            busy = round(os.getloadavg()[0])
        except OSError:
            busy = 0
    return max(1, min(total, total - busy))


def _payload(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class LlamaCppChatModel(BaseChatModel):
    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _formatter: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "n_threads": self.n_threads}

    def load(self) -> Any:
        """The llama.cpp context, loaded now if needed (after freeing the least recently used
        model's when `RESIDENT.limit` files are loaded)."""
        with _ONE_AT_A_TIME:  # never under a running generation
            if self._llama is None:
                RESIDENT.make_room_for(self.model_path)
                self._llama = self._new_llama()
            RESIDENT.touch(self)
            return self._llama

    def unload(self) -> None:
        """Free the context and, with the last context on them, the weights."""
        with _ONE_AT_A_TIME:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
                self._formatter = None
            RESIDENT.forget(self)

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def _new_llama(self) -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            n_batch=512,
            # Measured on three eval questions (2 passages, 2 threads): first token 0.2-0.5 s
            # sooner than without (3.5 vs 4.0 s, 4.3 vs 4.5 s, 3.5 vs 3.7 s).
            flash_attn=True,
            seed=0,
            verbose=False,
        )

    def choice_logprobs(self, messages: list[BaseMessage], choices: Sequence[str]) -> dict[str, float]:
        """The log-probability of each choice (one token each, e.g. "0"-"9") as the first token
        of the reply: one forward pass over what follows the cached prefix, nothing generated.

        llama.cpp no longer copies logits into `Llama.scores` without `logits_all` (which would
        keep a row per prompt token), so the last position's logits are read from the context.
        The tokens evaluated stay in the KV cache, so a reply that continues this conversation
        pays only for its own tokens."""
        import llama_cpp

        with _ONE_AT_A_TIME:
            llama = self.load()
            tokens = self._prompt_tokens(llama, messages)
            ids = {choice: self._single_token(llama, choice) for choice in choices}
            cached = min(
                llama.longest_token_prefix(llama.input_ids[: llama.n_tokens], tokens), len(tokens) - 1
            )
            llama.n_tokens = cached  # eval() drops the KV cache past n_tokens before decoding
            llama.eval(tokens[cached:])
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),)
            ).astype(np.float64)
        top = logits.max()
        log_total = top + np.log(np.exp(logits - top).sum())
        return {choice: float(logits[token] - log_total) for choice, token in ids.items()}

    def _prompt_tokens(self, llama: Any, messages: list[BaseMessage]) -> list[int]:
        """The chat as the model's own template writes it, ending where the assistant replies:
        the same tokens `create_chat_completion` would evaluate, so their cache is shared."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if self._formatter is None:
            eos = llama.token_eos()
            bos = llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"],
                eos_token=llama._model.token_get_text(eos),
                bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
        result = self._formatter(messages=_payload(messages))
        return llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    @staticmethod
    def _single_token(llama: Any, text: str) -> int:
        tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if len(tokens) != 1:
            raise ValueError(f"{text!r} is {len(tokens)} tokens for this model; choices must be one")
        return tokens[0]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        payload = _payload(messages)
        with _ONE_AT_A_TIME:
            llama = self.load()
            for chunk in llama.create_chat_completion(
                messages=payload,
                stream=True,
                temperature=self.temperature,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                stop=stop or [],
                seed=0,
            ):
                text = chunk["choices"][0]["delta"].get("content") or ""
                if text:
                    if run_manager:
                        run_manager.on_llm_new_token(text)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=text))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
