"""Shared fixtures: isolated settings over a private copy of the seeds, and one index per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings
from tests.servers import Server, free_port, serving

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

SettingsFactory = Callable[..., Settings]
LLAMA_ALIAS = "qwen2.5-1.5b-instruct"


def make_settings(data_dir: Path, seeds_dir: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's environment and `.env`."""
    return Settings(_env_file=None, data_dir=data_dir, seeds_dir=seeds_dir, **overrides)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings_for(tmp_path: Path, seeds_copy: Path) -> SettingsFactory:
    def factory(**overrides: object) -> Settings:
        return make_settings(tmp_path / "data", seeds_copy, **overrides)

    return factory


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seeds indexed once for the whole session (read-only for the tests that use it)."""
    from assistant.retrieval import build_index

    base = tmp_path_factory.mktemp("indexed")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = make_settings(base / "data", seeds)
    build_index(settings, threads=2)
    return settings


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running the real `assistant` command against `settings`' folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(settings.data_dir),
        ASSISTANT_SEEDS_DIR=str(settings.seeds_dir),
        ASSISTANT_INDEX_THREADS="2",
    )
    env.update(extra)
    return env


def run_cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=cli_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=settings.data_dir.parent,
    )


@pytest.fixture(scope="session")
def packaged_model() -> Path:
    """The packaged GGUF, joined where `make run` joins it, so CI joins the 1.1 GB once per machine."""
    from assistant.generators.model_files import ensure_packaged_model

    return ensure_packaged_model(ROOT / "data" / "models")


def llama_server_process(model: Path, log_dir: Path, *extra: str) -> Server:
    """A real OpenAI-compatible model server (llama-cpp-python's) with the packaged model."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", LLAMA_ALIAS]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_threads_batch", "2"]
    command += ["--n_ctx", "4096", "--verbose", "False", *extra]
    return Server(command, port, ready_path="/v1/models", log=log_dir / f"llama-{port}.log")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory, packaged_model: Path) -> Iterator[Server]:
    with serving(
        llama_server_process(packaged_model, tmp_path_factory.mktemp("llama")), timeout=300
    ) as running:
        yield running


def ui_server(settings: Settings, log_dir: Path, **env: str) -> Server:
    """`assistant ui` in its own process, as a user starts it, against `settings`' folders."""
    port = free_port()
    return Server(
        [sys.executable, "-m", "assistant.cli", "ui", "--port", str(port)],
        port,
        env=cli_env(settings, GRADIO_ANALYTICS_ENABLED="False", **env),
        ready_path="/healthz",
        log=log_dir / f"ui-{port}.log",
        cwd=settings.data_dir.parent,
    )
