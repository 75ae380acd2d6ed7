"""Choosing the model per request through `/v1` and the CLI, with the real app and index: the
catalogue's ids, a broken GGUF named plainly (and the other models unaffected), an unknown id,
and `assistant models`. The real model server's models are in test_openai_endpoints.py."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.openai_api import MODEL_NAME
from tests.conftest import run_cli

QUESTION = "How many member states does IOM have?"


@pytest.fixture(scope="module")
def settings(indexed_settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gguf")
    (folder / "broken.gguf").write_bytes(b"<html>404 Not Found</html>")
    return indexed_settings.model_copy(update={"generator": "extractive", "models_dir": folder})


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as http:
        yield openai.OpenAI(
            base_url="http://testserver/v1", api_key="unused", http_client=http, max_retries=0
        )


def test_v1_models_lists_the_default_and_every_catalogue_model(client):
    models = {m.id: m for m in client.models.list()}
    assert MODEL_NAME in models
    assert {"assistant/extractive", "assistant/local:broken"} <= set(models)
    assert any(m.startswith("assistant/local:qwen2.5-coder-1.5b") for m in models)
    assert models["assistant/local:broken"].owned_by == "folder"
    assert models["assistant/local:broken"].model_extra["loaded"] is False


def test_a_chosen_model_answers_and_is_named(client):
    reply = client.chat.completions.create(
        model="assistant/extractive", messages=[{"role": "user", "content": QUESTION}]
    )
    assert reply.model == "assistant/extractive"
    assert reply.model_extra["answered_by"] == "extractive"
    assert "175" in (reply.choices[0].message.content or "")


def test_a_broken_gguf_is_a_plain_503_and_the_others_keep_answering(client):
    with pytest.raises(openai.APIStatusError, match=r"broken\.gguf is not a GGUF model file") as raised:
        client.chat.completions.create(
            model="assistant/local:broken", messages=[{"role": "user", "content": QUESTION}]
        )
    assert raised.value.status_code == 503
    again = client.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": QUESTION}])
    assert again.model_extra["answered_by"] == "extractive"


@pytest.mark.parametrize("model", ["assistant/local:nope", "gpt-4o"])
def test_an_unknown_model_is_a_404_naming_the_choices(client, model):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    assert "does not exist" in str(raised.value) or "extractive" in str(raised.value)


def test_the_cli_lists_the_models_and_asks_the_chosen_one(settings):
    env = {"ASSISTANT_MODELS_DIR": str(settings.models_dir), "ASSISTANT_GENERATOR": "extractive"}
    listing = run_cli(settings, "models", **env)
    assert listing.returncode == 0, listing.stderr
    lines = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line
        for line in listing.stdout.splitlines()
        if line.strip()
    }
    assert "extractive" in lines and lines["extractive"].startswith("*")  # the default
    assert "not a GGUF model file" in lines["local:broken"]

    answered = run_cli(settings, "ask", QUESTION, "--model", "extractive", "--json", **env)
    assert answered.returncode == 0, answered.stderr
    assert '"model": "extractive"' in answered.stdout

    broken = run_cli(settings, "ask", QUESTION, "--model", "local:broken", **env)
    assert broken.returncode == 2 and "broken.gguf is not a GGUF model file" in broken.stderr
    assert "Traceback" not in broken.stderr
    unknown = run_cli(settings, "ask", QUESTION, "--model", "local:nope", **env)
    assert unknown.returncode == 2 and "there is no model 'local:nope'" in unknown.stderr


def test_doctor_names_the_models_it_found(settings):
    env = {"ASSISTANT_MODELS_DIR": str(settings.models_dir), "ASSISTANT_GENERATOR": "extractive"}
    result = run_cli(settings, "doctor", **env)
    assert "[ok] packaged models: local:qwen2.5-coder-1.5b" in result.stdout
    assert "[FAIL] models folder" in result.stdout and "broken.gguf is not a GGUF model file" in result.stdout
    assert "models found:" in result.stdout and "local:broken" in result.stdout
