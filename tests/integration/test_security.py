"""Access control and secrets, against `assistant ui` running as a user starts it."""

from __future__ import annotations

import httpx
import openai
import pytest
from pydantic import SecretStr

from assistant.cli import exposure_warning
from tests.conftest import run_cli
from tests.servers import free_port, serving, ui_server

KEY = "sk-secret-9f8e7d6c5b4a3210"
AUTH = ("alice", "correct-horse-battery")


@pytest.fixture(scope="module")
def app(indexed_settings, tmp_path_factory):
    env = {
        "ASSISTANT_GENERATOR": "openai",
        "ASSISTANT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",  # nothing listens: endpoint down
        "ASSISTANT_LLM_MODEL": "some-model",
        "ASSISTANT_LLM_API_KEY": KEY,
        "ASSISTANT_AUTH": ":".join(AUTH),
    }
    with serving(ui_server(indexed_settings, tmp_path_factory.mktemp("secure"), **env)) as server:
        yield server


def test_without_credentials_only_health_answers(app):
    assert httpx.get(app.url + "/healthz").status_code == 200
    for path in ("/v1/models", "/articles/002_b28986079c88c4a6", "/gradio_api/info", "/config"):
        response = httpx.get(app.url + path)
        assert response.status_code == 401, path


def test_basic_bearer_and_the_login_cookie_open_the_app(app):
    assert httpx.get(app.url + "/v1/models", auth=AUTH).status_code == 200
    bearer = openai.OpenAI(base_url=app.url + "/v1", api_key=AUTH[1])
    assert next(m.id for m in bearer.models.list()) == "assistant"
    wrong = openai.OpenAI(base_url=app.url + "/v1", api_key="guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with httpx.Client(base_url=app.url) as browser:
        assert browser.post("/login", data={"username": AUTH[0], "password": "wrong"}).status_code == 400
        assert browser.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        assert browser.get("/articles/002_b28986079c88c4a6").status_code == 200, (
            "the chat's links work after login"
        )
        assert browser.get("/config").status_code == 200


def test_the_api_key_never_reaches_a_page_an_error_or_the_log(app, indexed_settings):
    seen = []
    with httpx.Client(base_url=app.url, auth=AUTH) as client:
        seen += [client.get(path).text for path in ("/", "/config", "/healthz", "/docs", "/openapi.json")]
        down = client.post(
            "/v1/chat/completions",
            json={
                "model": "assistant",
                "messages": [{"role": "user", "content": "How many member states does IOM have?"}],
            },
        )
    assert down.status_code == 503 and "not reachable" in down.text
    seen.append(down.text)
    doctor = run_cli(
        indexed_settings,
        "doctor",
        ASSISTANT_GENERATOR="openai",
        ASSISTANT_LLM_API_KEY=KEY,
        ASSISTANT_LLM_BASE_URL="http://127.0.0.1:9/v1",
        ASSISTANT_LLM_MODEL="m",
        ASSISTANT_DEBUG="0",
    )
    seen += [doctor.stdout, doctor.stderr, app.log.read_text(errors="replace")]
    assert all(KEY not in text and AUTH[1] not in text for text in seen)


def test_binding_beyond_loopback_without_auth_warns(indexed_settings):
    assert "without ASSISTANT_AUTH" in exposure_warning("0.0.0.0", indexed_settings)
    assert exposure_warning("127.0.0.1", indexed_settings) is None
    secured = indexed_settings.model_copy(update={"auth": SecretStr("a:b")})
    assert exposure_warning("0.0.0.0", secured) is None


def test_a_malformed_auth_setting_is_refused_in_one_line(indexed_settings):
    result = run_cli(indexed_settings, "doctor", ASSISTANT_AUTH="no-colon-here")
    assert (
        result.returncode == 2 and "ASSISTANT_AUTH" in result.stderr and "no-colon-here" not in result.stderr
    )
