"""Builds answer chains from settings: the one place the CLI, the UI and the API get them from.

`ModelChains` keeps one chain per catalogue model, built the first time someone chooses it, so
every user (browser session, API request) asks the model they chose, with no restart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from assistant.chain import AnswerChain, QuestionError
from assistant.generators.catalogue import (
    Listing,
    ModelCatalogue,
    ModelEntry,
    UnknownModel,
    default_model_id,
)
from assistant.generators.local import RESIDENT
from assistant.generators.model_files import (
    ModelFileError,
    available_memory,
    ensure_packaged_model,
    gguf_problem,
    probe_gguf,
    verify,
)
from assistant.llm import GeneratorUnavailable, chat_model, condense_model
from assistant.retrieval import IndexNotBuilt, ServedIndex
from assistant.settings import Settings
from vectorstore.store import StoreError

log = logging.getLogger(__name__)

# Why a question cannot be answered right now, in words an admin can act on (HTTP 503).
SERVICE_ERRORS: tuple[type[Exception], ...] = (GeneratorUnavailable, IndexNotBuilt, StoreError)
# ... or why it cannot be answered as asked: every front end shows these as a message, not a trace.
ANSWER_ERRORS: tuple[type[Exception], ...] = (QuestionError, UnknownModel, *SERVICE_ERRORS)


def build_chain(settings: Settings, model: str | None = None) -> AnswerChain:
    llm = chat_model(settings)
    return AnswerChain(
        settings, ServedIndex(settings).current, llm, condense_llm=condense_model(llm), model=model
    )


class ModelChains:
    """An `AnswerChain` per catalogue model, built on first use, all on one served index."""

    def __init__(
        self,
        settings: Settings,
        catalogue: ModelCatalogue | None = None,
        default: AnswerChain | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or ModelCatalogue(settings)
        self.default_id = default_model_id(settings)
        self._index = ServedIndex(settings)
        self._chains: dict[str, AnswerChain] = {}
        if default is not None:
            self._chains[self.default_id] = default
        self._lock = threading.Lock()

    def listing(self) -> Listing:
        return self.catalogue.listing()

    def chain(self, model_id: str | None = None) -> AnswerChain:
        """The chain answering with `model_id` (default: the configured model); raises
        `UnknownModel` or `GeneratorUnavailable` with a message for the user."""
        model_id = model_id or self.default_id
        with self._lock:
            if model_id in self._chains:
                return self._chains[model_id]
        entry = self.listing().find(model_id)
        chain = self._build(entry)
        with self._lock:
            return self._chains.setdefault(model_id, chain)

    def prepare(self, model_id: str) -> AnswerChain:
        """`chain(model_id)` with its model loaded and warmed up now (the chat's model switch),
        instead of on the next question."""
        chain = self.chain(model_id)
        try:
            chain.warm_up()
        except ANSWER_ERRORS:
            raise
        except Exception as exc:  # llama.cpp ran out of memory mid-load, say
            log.exception("loading %s failed", model_id)
            raise GeneratorUnavailable(f"{model_id} could not be loaded ({type(exc).__name__})") from exc
        return chain

    def loaded(self) -> set[str]:
        """Ids of the local models whose weights are in memory now."""
        paths = set(RESIDENT.paths())
        with self._lock:
            chains = dict(self._chains)
        return {i for i, c in chains.items() if getattr(c.llm, "model_path", None) in paths}

    def _build(self, entry: ModelEntry) -> AnswerChain:
        update: dict[str, object] = {"generator": entry.generator}
        if entry.generator == "openai":
            update["llm_model"] = entry.served_name
        elif entry.generator == "local":
            update["model_path"] = self._checked_gguf(entry)
        settings = self.settings.model_copy(update=update)
        llm = chat_model(settings)
        return AnswerChain(
            settings, self._index.current, llm, condense_llm=condense_model(llm), model=entry.id
        )

    def _checked_gguf(self, entry: ModelEntry) -> Path:
        """The entry's file, once it has passed the checks that need no loading: llama.cpp on a
        file that is not a model, or too large, fails with a trace or takes the machine down."""
        try:
            if entry.packaged and entry.path and entry.path.exists():
                verify(entry.path, entry.packaged.sha256)
                path = entry.path
            elif entry.packaged:
                path = ensure_packaged_model(self.settings.packaged_dir, model=entry.packaged)
            else:
                path = entry.path
        except ModelFileError as exc:
            raise GeneratorUnavailable(str(exc)) from exc
        assert path is not None
        problem = gguf_problem(path, _memory_for(path, self.settings.max_local_models)) or probe_gguf(path)
        if problem:
            raise GeneratorUnavailable(problem)
        return path


def _memory_for(path: Path, limit: int) -> int | None:
    """What loading `path` may use: the memory free now plus the files it would push out."""
    free = available_memory()
    if free is None:
        return None
    loaded = [p for p in RESIDENT.paths() if p != str(path)]
    pushed_out = loaded[: max(0, len(loaded) + 1 - limit)]
    return free + sum(Path(p).stat().st_size for p in pushed_out if Path(p).exists())
