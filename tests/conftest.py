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
from tests.servers import Server, cli_env, llama_server_process, serving

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# How far apart two passages' fused scores may be and still trade places on a machine whose
# embedding engine is another build (the 95th percentile of a score's move, bench/score_drift.py).
NEAR_TIE = 0.05


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--swap-near-ties",
        action="store_true",
        help=f"rank passages whose fused scores are within {NEAR_TIE} the other way round, in every "
        "process the tests start: finds tests that depend on a rank another machine could change",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--swap-near-ties"):
        # Servers and CLI runs are other processes: they pick the swap up from sitecustomize.
        os.environ["TEST_SWAP_NEAR_TIES"] = str(NEAR_TIE)
        paths = [str(ROOT / "tests" / "perturbation"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        from tests.perturbation.swap import install

        install(NEAR_TIE)


SettingsFactory = Callable[..., Settings]


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
    build_index(settings, threads=settings.index_threads)
    return settings


@pytest.fixture
def shared_index_settings(indexed_settings: Settings, tmp_path: Path) -> Settings:
    """The session's index, in a data dir of this test's own (its conversations, its feedback)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "chroma").symlink_to(indexed_settings.data_dir / "chroma")
    return indexed_settings.model_copy(update={"data_dir": data})


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


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory, packaged_model: Path) -> Iterator[Server]:
    with serving(
        llama_server_process(packaged_model, tmp_path_factory.mktemp("llama")), timeout=300
    ) as running:
        yield running
