from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.settings import Settings


def test_defaults_are_embedded_and_local(monkeypatch: pytest.MonkeyPatch):
    for name in ["ASSISTANT_CHROMA_HOST", "ASSISTANT_GENERATOR", "ASSISTANT_HOST", "ASSISTANT_PORT"]:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.chroma_host is None
    assert settings.chroma.describe().startswith("embedded Chroma in data")
    assert (settings.host, settings.port, settings.generator) == ("127.0.0.1", 7860, "local")


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", "/tmp/x")
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", "8123")
    monkeypatch.setenv("ASSISTANT_LLM_API_KEY", "sk-secret")
    settings = Settings(_env_file=None)
    assert settings.data_dir == Path("/tmp/x") and settings.top_k == 7
    assert settings.chroma.describe() == "Chroma server at 127.0.0.1:8123"
    assert "sk-secret" not in repr(settings)


def test_a_blank_host_means_embedded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "  ")
    assert Settings(_env_file=None).chroma_host is None


def test_a_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ASSISTANT_COLLECTION", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("ASSISTANT_COLLECTION=mine\n")
    assert Settings(_env_file=env_file).collection == "mine"


@pytest.mark.parametrize(("name", "value"), [("ASSISTANT_TOP_K", "0"), ("ASSISTANT_GENERATOR", "gpt")])
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_the_small_local_model_reads_three_best_sentences_an_endpoint_all_passages_whole(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("ASSISTANT_PROMPT_PASSAGES", raising=False)
    monkeypatch.delenv("ASSISTANT_PROMPT_SENTENCES", raising=False)
    local = Settings(_env_file=None, generator="local")
    assert (local.llm_passages, local.llm_sentences) == (3, 1)
    endpoint = Settings(_env_file=None, generator="openai", top_k=6)
    assert (endpoint.llm_passages, endpoint.llm_sentences) == (6, 0)
    chosen = Settings(_env_file=None, generator="local", prompt_passages=2, prompt_sentences=0)
    assert (chosen.llm_passages, chosen.llm_sentences) == (2, 0)


@pytest.mark.parametrize(
    ("value", "users"),
    [("alice:pw1", ["alice"]), ("alice:pw1, bob:p:w2", ["alice", "bob"])],
)
def test_auth_takes_one_user_or_several(value, users):
    settings = Settings(_env_file=None, auth=value)
    assert [user for user, _ in settings.credentials or []] == users
    assert settings.credentials and settings.credentials[-1][1] == value.split(":", 2)[-1].strip()


@pytest.mark.parametrize("value", ["alice", "alice:", ":pw", "alice:pw1,", "alice:pw1,alice:pw2"])
def test_auth_refuses_malformed_or_repeated_users(value):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, auth=value)


def test_the_authorizer_knows_which_user_sent_a_request():
    import base64

    from starlette.requests import Request

    from assistant.auth import Authorizer

    authorize = Authorizer(Settings(_env_file=None, auth="alice:pw1,bob:pw2"))

    def request(header: str) -> Request:
        return Request({"type": "http", "headers": [(b"authorization", header.encode())]})

    basic = base64.b64encode(b"bob:pw2").decode()
    assert authorize.user_of(request(f"Basic {basic}")) == "bob"
    assert authorize.user_of(request("Bearer pw1")) == "alice"
    assert authorize.user_of(request("Bearer bob:pw2")) == "bob"
    assert authorize.user_of(request("Bearer alice:pw2")) is None
    assert Authorizer(Settings(_env_file=None)).user_of(request("")) == ""


@pytest.mark.parametrize(
    ("value", "policy"),
    [("english", "english"), ("every", "every"), ("none", "none"), ("true", "every"), ("False", "none")],
)
def test_search_translations_take_a_policy_or_the_yes_no_they_took_before(
    monkeypatch: pytest.MonkeyPatch, value: str, policy: str
):
    monkeypatch.setenv("ASSISTANT_SEARCH_TRANSLATIONS", value)
    assert Settings(_env_file=None).search_translations == policy


def test_an_unknown_translation_policy_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_SEARCH_TRANSLATIONS", "french")
    with pytest.raises(ValidationError, match="english"):
        Settings(_env_file=None)


def test_a_question_not_in_english_is_also_searched_in_english_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ASSISTANT_SEARCH_TRANSLATIONS", raising=False)
    assert Settings(_env_file=None).search_translations == "english"
