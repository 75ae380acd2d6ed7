"""The chat model behind the `local` and `openai` generators, built from settings."""

from __future__ import annotations

from functools import lru_cache

from langchain_core.language_models import BaseChatModel

from assistant.generators.local import RESIDENT, LlamaCppChatModel, free_cores
from assistant.generators.model_files import PACKAGED_MODEL, ensure_packaged_model
from assistant.settings import Settings


class GeneratorUnavailable(RuntimeError):
    """The configured model cannot answer right now; the message is meant for the user."""


@lru_cache(maxsize=32)  # handles are small; only `RESIDENT.limit` files are loaded
def _local_model(path: str, threads: int, context: int, max_tokens: int, purpose: str) -> LlamaCppChatModel:
    """One llama.cpp context per purpose: answering keeps the system prompt and worked examples
    in its prompt cache; rewriting follow-ups in the same context would evict them (~1,000
    tokens to evaluate again, about 10 s on two cores). The weights are memory-mapped, shared."""
    return LlamaCppChatModel(model_path=path, n_threads=threads, n_ctx=context, max_tokens=max_tokens)


@lru_cache(maxsize=1)
def _free_cores_at_first_load() -> int:
    """Sampled once: a model chosen later, while another one is generating, would otherwise see
    the busy cores and get one thread for good."""
    return free_cores()


def chat_model(settings: Settings) -> BaseChatModel | None:
    """The LLM for `settings.generator`, or None for `extractive`."""
    if settings.generator == "extractive":
        return None
    if settings.generator == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_model:
            raise GeneratorUnavailable("ASSISTANT_LLM_MODEL is not set: name the model the endpoint serves")
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",  # local servers accept any key
            temperature=0.0,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=0,  # a retry would double ASSISTANT_LLM_TIMEOUT; the user can ask again
            streaming=True,
        )
    if settings.model_path:
        if not settings.model_path.is_file():
            raise GeneratorUnavailable(f"ASSISTANT_MODEL_PATH {settings.model_path} is not a file")
        path = settings.model_path
    else:
        path = ensure_packaged_model(settings.packaged_dir)  # joined once, sha256-verified
    RESIDENT.limit = settings.max_local_models
    threads = settings.llm_threads or _free_cores_at_first_load()
    return _local_model(str(path), threads, settings.llm_context, settings.llm_max_tokens, "answer")


def condense_model(answer_model: BaseChatModel | None) -> BaseChatModel | None:
    """The model that rewrites follow-ups: the answer model itself, except that a local one gets a
    second, smaller llama.cpp context on the same weights."""
    if isinstance(answer_model, LlamaCppChatModel):
        return _local_model(answer_model.model_path, answer_model.n_threads, 2048, 96, "condense")
    return answer_model


def describe_generator(settings: Settings) -> str:
    """What answers questions, in words for the UI and `doctor` (never the API key)."""
    if settings.generator == "extractive":
        return "extractive (no LLM: quotes the best-matching sentences)"
    if settings.generator == "openai":
        endpoint = settings.llm_base_url or "https://api.openai.com/v1"
        return f"openai-compatible endpoint {endpoint}, model {settings.llm_model or '(not set)'}"
    model = settings.model_path.name if settings.model_path else PACKAGED_MODEL
    threads = settings.llm_threads or "free cores"
    return f"local llama.cpp, model {model}, threads: {threads}"
