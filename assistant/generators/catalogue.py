"""The model catalogue: the one place that knows where models come from.

The packaged models; every `.gguf` file under the models folder (read at each listing, so a file
dropped there shows up at once); every model the configured OpenAI-compatible endpoint lists at
`/models` (Ollama, vLLM, llama.cpp's server, LM Studio), asked with a short timeout and kept a
little while; and `extractive`. Each entry has a stable id that the chat, the CLI and `/v1`
share: `local:<file name>`, `openai:<served name>`, `extractive`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import openai

from assistant.generators.model_files import PACKAGED, PACKAGED_MODELS, PackagedModel
from assistant.settings import Settings

Source = Literal["packaged", "folder", "configured", "endpoint", "extractive"]
EXTRACTIVE_ID = "extractive"
ENDPOINT_TIMEOUT_S = 3.0


class UnknownModel(LookupError):
    """No model with that id in the catalogue; the message lists what there is."""


@dataclass(frozen=True)
class ModelEntry:
    id: str
    label: str
    source: Source
    path: Path | None = None  # a local GGUF (a packaged one may not be joined yet)
    served_name: str | None = None  # the endpoint's own name for it
    packaged: PackagedModel | None = None

    @property
    def generator(self) -> Literal["local", "openai", "extractive"]:
        if self.source == "endpoint":
            return "openai"
        return "extractive" if self.source == "extractive" else "local"


@dataclass(frozen=True)
class EndpointState:
    url: str
    reachable: bool
    detail: str  # what it serves, or why it could not be asked


@dataclass(frozen=True)
class Listing:
    entries: tuple[ModelEntry, ...]
    default_id: str
    endpoint: EndpointState | None

    def find(self, model_id: str) -> ModelEntry:
        for entry in self.entries:
            if entry.id == model_id:
                return entry
        raise UnknownModel(
            f"there is no model {model_id!r}; available: {', '.join(e.id for e in self.entries)}"
        )


def local_id(name: str) -> str:
    return f"local:{name.removesuffix('.gguf')}"


def default_model_id(settings: Settings) -> str:
    """The id of the model `settings` configure (ASSISTANT_GENERATOR, _MODEL_PATH, _LLM_MODEL)."""
    if settings.generator == "extractive":
        return EXTRACTIVE_ID
    if settings.generator == "openai":
        return f"openai:{settings.llm_model or ''}"
    if settings.model_path is None:
        return local_id(PACKAGED.file_name)
    return local_id(_folder_name(settings.model_folder, settings.model_path) or settings.model_path.name)


def _folder_name(folder: Path, path: Path) -> str | None:
    """`path` relative to `folder` (posix), or None when it is not inside it."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except (ValueError, OSError):
        return None


class ModelCatalogue:
    def __init__(
        self,
        settings: Settings,
        served: Callable[[], list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._served = served or self._ask_endpoint
        self._clock = clock
        self._cache: tuple[float, list[str] | None, str] | None = None
        self._lock = threading.Lock()

    def listing(self) -> Listing:
        entries = self._with_configured([*self._packaged(), *self._folder()])
        endpoint_entries, endpoint = self._endpoint()
        entries += endpoint_entries
        entries.append(
            ModelEntry(EXTRACTIVE_ID, "Extractive (no LLM: quotes the best sentences)", "extractive")
        )
        return Listing(tuple(entries), default_model_id(self.settings), endpoint)

    # -- sources ------------------------------------------------------------------------------------
    def _packaged(self) -> list[ModelEntry]:
        found = []
        for model in PACKAGED_MODELS:
            # Joined into the data dir, or already in the models folder (shared between data dirs).
            joined = self.settings.packaged_dir / model.file_name
            in_folder = self.settings.model_folder / model.file_name
            path = joined if joined.exists() or not in_folder.exists() else in_folder
            if model.installed() or path.exists():
                found.append(
                    ModelEntry(local_id(model.file_name), model.label, "packaged", path, packaged=model)
                )
        return found

    def _folder(self) -> list[ModelEntry]:
        folder = self.settings.model_folder
        packaged = {m.file_name for m in PACKAGED_MODELS}
        try:
            files = sorted(p for p in folder.rglob("*.gguf") if p.is_file() and not p.name.startswith("."))
        except OSError:
            return []
        found = []
        for path in files:
            if path.name in packaged:
                continue  # a packaged model is listed as such
            name = path.relative_to(folder).as_posix()
            label = f"{name} ({_size(path.stat().st_size)}, models folder)"
            found.append(ModelEntry(local_id(name), label, "folder", path))
        return found

    def _with_configured(self, listed: list[ModelEntry]) -> list[ModelEntry]:
        """`listed` with ASSISTANT_MODEL_PATH in it: added when it is elsewhere, or in place of the
        entry of the same id (the packaged file joined in another data dir, say)."""
        path = self.settings.model_path
        if path is None or any(e.path and e.path.resolve() == path.resolve() for e in listed):
            return listed
        model_id = default_model_id(self.settings.model_copy(update={"generator": "local"}))
        configured = ModelEntry(model_id, f"{path.name} (ASSISTANT_MODEL_PATH)", "configured", path)
        kept = [e for e in listed if e.id != model_id]
        return [configured, *kept] if len(kept) < len(listed) else [*listed, configured]

    def _endpoint(self) -> tuple[list[ModelEntry], EndpointState | None]:
        settings = self.settings
        if not settings.llm_base_url and settings.generator != "openai":
            return [], None
        url = settings.llm_base_url or "https://api.openai.com/v1"
        names, detail = self._served_names()
        state = EndpointState(url, names is not None, detail)
        names = list(names or [])
        if settings.generator == "openai" and settings.llm_model and settings.llm_model not in names:
            names.append(settings.llm_model)  # the configured one stays choosable while it is down
        where = url.split("://", 1)[-1].rstrip("/")
        entries = [ModelEntry(f"openai:{n}", f"{n} (at {where})", "endpoint", served_name=n) for n in names]
        return entries, state

    def _served_names(self) -> tuple[list[str] | None, str]:
        """The endpoint's model names (None when it cannot be asked) and a line saying so; kept
        `catalogue_ttl` seconds, so a page load does not wait on a down server every time."""
        with self._lock:
            now = self._clock()
            if self._cache and now - self._cache[0] < self.settings.catalogue_ttl:
                return self._cache[1], self._cache[2]
            try:
                names: list[str] | None = sorted(self._served())
                detail = f"serves {len(names)} model(s)"
            except Exception as exc:  # down, wrong URL, refused key: shown, never raised
                names, detail = None, _why_unreachable(exc)
            self._cache = (now, names, detail)
            return names, detail

    def _ask_endpoint(self) -> list[str]:
        settings = self.settings
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        client = openai.OpenAI(
            base_url=settings.llm_base_url, api_key=key, timeout=ENDPOINT_TIMEOUT_S, max_retries=0
        )
        return [model.id for model in client.models.list()]


def _size(size: int) -> str:
    return f"{size / 2**30:.1f} GB" if size >= 2**30 else f"{max(1, round(size / 2**20))} MB"


def _why_unreachable(exc: Exception) -> str:
    if isinstance(exc, openai.AuthenticationError):
        return "it refused the API key (ASSISTANT_LLM_API_KEY)"
    if isinstance(exc, openai.NotFoundError):
        return "it has no /models: the base URL usually ends in /v1"
    if isinstance(exc, openai.APITimeoutError):
        return f"it did not answer within {ENDPOINT_TIMEOUT_S:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return "it is not reachable (down, or a wrong ASSISTANT_LLM_BASE_URL)"
    if isinstance(exc, openai.APIStatusError):
        return f"its /models answered HTTP {exc.status_code}"
    return f"its /models could not be read ({type(exc).__name__})"
