"""The model catalogue (ids, sources, the endpoint's listing and its cache), the checks a GGUF
passes before loading, and the rule that at most `limit` model files stay loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from assistant.generators.catalogue import EXTRACTIVE_ID, ModelCatalogue, UnknownModel, default_model_id
from assistant.generators.local import LlamaCppChatModel, ResidentModels
from assistant.generators.model_files import PACKAGED, gguf_problem
from assistant.settings import Settings


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", seeds_dir=tmp_path / "seeds", **overrides)


def gguf(path: Path, size: int = 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + b"\0" * (size - 4))
    return path


def test_the_folder_is_read_at_each_listing_and_every_source_has_its_ids(tmp_path):
    catalogue = ModelCatalogue(settings(tmp_path))
    before = [e.id for e in catalogue.listing().entries]
    assert before[-1] == EXTRACTIVE_ID
    assert f"local:{PACKAGED.stem}" in before  # the packaged model is installed in the test venv

    gguf(tmp_path / "data/models/mine-q4.gguf")
    gguf(tmp_path / "data/models/lmstudio/Publisher/other.gguf")
    (tmp_path / "data/models/notes.txt").write_text("not a model")
    listing = catalogue.listing()
    folder = {e.id: e for e in listing.entries if e.source == "folder"}
    assert set(folder) == {"local:mine-q4", "local:lmstudio/Publisher/other"}
    assert folder["local:mine-q4"].generator == "local"
    assert listing.default_id == f"local:{PACKAGED.stem}"


def test_a_joined_packaged_file_is_listed_once_as_packaged(tmp_path):
    gguf(tmp_path / "data/models" / PACKAGED.file_name)
    entries = ModelCatalogue(settings(tmp_path)).listing().entries
    ids = [e.id for e in entries]
    assert ids.count(f"local:{PACKAGED.stem}") == 1
    assert next(e for e in entries if e.id == f"local:{PACKAGED.stem}").source == "packaged"


def test_a_models_dir_elsewhere_and_a_configured_file(tmp_path):
    folder = tmp_path / "gguf"
    gguf(folder / "a.gguf")
    elsewhere = gguf(tmp_path / "b.gguf")
    configured = settings(tmp_path, models_dir=folder, model_path=elsewhere)
    listing = ModelCatalogue(configured).listing()
    by_id = {e.id: e for e in listing.entries}
    assert by_id["local:a"].source == "folder"
    assert by_id["local:b"].source == "configured"
    assert listing.default_id == "local:b"
    inside = settings(tmp_path, models_dir=folder, model_path=folder / "a.gguf")
    assert default_model_id(inside) == "local:a"


def test_the_endpoint_models_are_listed_and_asked_again_only_after_the_ttl(tmp_path):
    calls: list[float] = []
    now = [0.0]

    def served() -> list[str]:
        calls.append(now[0])
        return ["qwen2.5:7b", "llama3.2:3b"]

    configured = settings(tmp_path, llm_base_url="http://127.0.0.1:9/v1", catalogue_ttl=30)
    catalogue = ModelCatalogue(configured, served=served, clock=lambda: now[0])
    listing = catalogue.listing()
    assert [e.id for e in listing.entries if e.source == "endpoint"] == [
        "openai:llama3.2:3b",
        "openai:qwen2.5:7b",
    ]
    assert listing.endpoint is not None and listing.endpoint.reachable
    now[0] = 10
    catalogue.listing()
    assert len(calls) == 1
    now[0] = 31
    catalogue.listing()
    assert len(calls) == 2


def test_an_unreachable_endpoint_is_a_state_not_an_error_and_its_configured_model_stays(tmp_path):
    configured = settings(
        tmp_path, generator="openai", llm_base_url="http://127.0.0.1:9/v1", llm_model="qwen2.5:7b"
    )
    listing = ModelCatalogue(configured).listing()  # the real client, against a closed port
    assert listing.endpoint is not None and not listing.endpoint.reachable
    assert "not reachable" in listing.endpoint.detail
    assert listing.default_id == "openai:qwen2.5:7b"
    assert listing.find("openai:qwen2.5:7b").served_name == "qwen2.5:7b"


def test_a_refused_key_is_said_plainly(tmp_path):
    def refused() -> list[str]:
        import httpx

        response = httpx.Response(401, request=httpx.Request("GET", "http://x/v1/models"))
        raise openai.AuthenticationError("no", response=response, body=None)

    configured = settings(tmp_path, llm_base_url="http://x/v1")
    listing = ModelCatalogue(configured, served=refused).listing()
    assert listing.endpoint is not None and "API key" in listing.endpoint.detail


def test_an_unknown_id_names_the_choices(tmp_path):
    with pytest.raises(UnknownModel, match="extractive"):
        ModelCatalogue(settings(tmp_path)).listing().find("local:nope")


def test_no_endpoint_configured_means_none_asked(tmp_path):
    def never() -> list[str]:
        raise AssertionError("asked")

    listing = ModelCatalogue(settings(tmp_path), served=never).listing()
    assert listing.endpoint is None


def test_files_that_are_not_models_or_too_large_are_named_before_loading(tmp_path):
    (tmp_path / "x.gguf").write_bytes(b"<html>not found</html>")
    assert "not a GGUF model file" in (gguf_problem(tmp_path / "x.gguf") or "")
    big = gguf(tmp_path / "big.gguf", size=4096)
    assert "needs" in (gguf_problem(big, memory=1024) or "")
    assert gguf_problem(big, memory=1 << 30) is None
    assert "no longer there" in (gguf_problem(tmp_path / "gone.gguf") or "")


class FakeLlama:
    closed = 0

    def close(self) -> None:
        FakeLlama.closed += 1


class FakeModel(LlamaCppChatModel):
    def _new_llama(self) -> Any:
        return FakeLlama()


@pytest.fixture
def resident(monkeypatch):
    fresh = ResidentModels(limit=1)
    monkeypatch.setattr("assistant.generators.local.RESIDENT", fresh)
    return fresh


def test_loading_another_file_frees_both_contexts_of_the_previous_one(resident):
    answer_a, condense_a = FakeModel(model_path="a.gguf"), FakeModel(model_path="a.gguf", n_ctx=2048)
    answer_b = FakeModel(model_path="b.gguf")
    answer_a.load()
    condense_a.load()
    assert resident.paths() == ["a.gguf"]  # two contexts of one file: both kept
    closed = FakeLlama.closed
    answer_b.load()
    assert resident.paths() == ["b.gguf"]
    assert not answer_a.loaded and not condense_a.loaded
    assert FakeLlama.closed == closed + 2
    answer_a.load()  # switching back loads it again and frees b
    assert resident.paths() == ["a.gguf"] and not answer_b.loaded


def test_a_higher_limit_keeps_the_most_recently_used(resident):
    resident.limit = 2
    a, b, c = (FakeModel(model_path=f"{x}.gguf") for x in "abc")
    a.load()
    b.load()
    a.load()  # a is now the most recently used
    c.load()
    assert resident.paths() == ["a.gguf", "c.gguf"]
    assert not b.loaded
