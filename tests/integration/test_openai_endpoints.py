"""The OpenAI path both ways, with real servers on 127.0.0.1:

- the assistant as a client: `ASSISTANT_GENERATOR=openai` against llama-cpp-python's own server
  (`python -m llama_cpp.server`, the packaged GGUF), through the CLI, `doctor` and the UI's API;
- the assistant as a server: the official `openai` client against the assistant's `/v1`, itself
  answering through that same llama.cpp server.

Then the model server is stopped mid-conversation: every face gives the friendly error, and works
again once the server is back. Slow (a real 1.5B model); `.ci/run` runs it.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from gradio_client import Client

from assistant.openai_api import MODEL_NAME
from assistant.ui import API_NAME
from tests.conftest import run_cli
from tests.faulty_endpoint import FaultyEndpoint
from tests.servers import LLAMA_ALIAS, Server, free_port, llama_server_process, serving, ui_server

pytestmark = pytest.mark.slow

KEY = "sk-test-0123456789abcdef"
QUESTION = "Combien d'États membres compte l'OIM ?"


@pytest.fixture(scope="module")
def model_server(packaged_model, tmp_path_factory) -> Server:
    server = llama_server_process(packaged_model, tmp_path_factory.mktemp("llama-key"), "--api_key", KEY)
    server.start(timeout=300)
    yield server
    server.stop()


def endpoint_env(server: Server | FaultyEndpoint, **overrides: str) -> dict[str, str]:
    env = {
        "ASSISTANT_GENERATOR": "openai",
        "ASSISTANT_LLM_BASE_URL": server.url + "/v1",
        "ASSISTANT_LLM_MODEL": LLAMA_ALIAS,
        "ASSISTANT_LLM_API_KEY": KEY,
        "ASSISTANT_LLM_THREADS": "2",
    }
    return {**env, **overrides}


@pytest.fixture(scope="module")
def app(indexed_settings, model_server, packaged_model, tmp_path_factory) -> Server:
    """The app on the model server, with the packaged GGUF in its catalogue too."""
    env = endpoint_env(model_server, ASSISTANT_MODEL_PATH=str(packaged_model))
    server = ui_server(indexed_settings, tmp_path_factory.mktemp("ui-openai"), **env)
    server.start()
    yield server
    server.stop()


def test_doctor_says_all_is_well(indexed_settings, model_server):
    result = run_cli(indexed_settings, "doctor", **endpoint_env(model_server))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"serves: {LLAMA_ALIAS}" in result.stdout and "[ok] completion" in result.stdout
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("override", "says"),
    [
        (
            {"ASSISTANT_LLM_MODEL": "llama-3-70b"},
            f"'llama-3-70b' is not served by .*; it serves: {LLAMA_ALIAS}",
        ),
        ({"ASSISTANT_LLM_API_KEY": "sk-wrong-key-000"}, ".*refused the API key"),
        (
            {"ASSISTANT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"},
            "cannot reach .*the server is down",
        ),
    ],
    ids=["model-not-served", "bad-key", "server-down"],
)
def test_doctor_names_what_is_wrong(indexed_settings, model_server, override, says):
    result = run_cli(indexed_settings, "doctor", **endpoint_env(model_server, **override))
    assert result.returncode == 1
    assert re.search(r"\[FAIL\] model (endpoint|name): " + says, result.stdout), result.stdout
    assert "Traceback" not in result.stderr
    assert (
        KEY not in result.stdout + result.stderr and "sk-wrong-key-000" not in result.stdout + result.stderr
    )


def test_the_cli_answers_through_the_server_with_checked_citations(indexed_settings, model_server):
    result = run_cli(indexed_settings, "ask", QUESTION, "--json", **endpoint_env(model_server))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["requested_generator"] == "openai" and answer["language"] == "fr"
    assert answer["guard"]["checked"] and answer["citations"]
    retrieved = {p["n"] for p in answer["passages"]}
    assert {c["n"] for c in answer["citations"]} <= retrieved


def test_the_ui_api_streams_the_answer(app):
    job = Client(app.url, verbose=False).submit(QUESTION, 4, api_name=f"/{API_NAME}")
    updates = [json.dumps(update, ensure_ascii=False) for update in job]
    final = json.dumps(job.result(), ensure_ascii=False)
    assert len(updates) >= 3, "status, streamed text, final answer"
    assert re.search(r"\[\[\d+\]\]\(/articles/", final)


def test_the_assistants_own_api_answers_the_openai_client(app):
    client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused")
    assert MODEL_NAME in [m.id for m in client.models.list()]
    chunks = list(
        client.chat.completions.create(
            model=MODEL_NAME, stream=True, messages=[{"role": "user", "content": QUESTION}]
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    sources = chunks[-1].model_extra["sources"]
    assert sources and {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= {s["n"] for s in sources}


def test_the_openai_client_lists_the_servers_models_and_gets_an_answer_from_the_one_chosen(app):
    """Default `openai` here; the extractive one chosen by name answers without the server."""
    client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0)
    models = {m.id: m for m in client.models.list()}
    served = f"assistant/openai:{LLAMA_ALIAS}"
    assert served in models and models[served].owned_by == "endpoint"
    for model, answered_by in [(served, f"openai:{LLAMA_ALIAS}"), ("assistant/extractive", "extractive")]:
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
        assert reply.model == model and reply.model_extra["answered_by"] == answered_by
        assert reply.model_extra["sources"], reply.choices[0].message.content


def test_two_users_on_two_models_at_once_each_get_their_own(app, packaged_model):
    """One asks the in-process GGUF, the other the model server, at the same moment."""
    local = f"assistant/local:{packaged_model.stem}"
    served = f"assistant/openai:{LLAMA_ALIAS}"
    questions = {local: QUESTION, served: "How many observer states does IOM have?"}

    def ask(model: str) -> tuple[str, str | None, str]:
        client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0, timeout=300)
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": questions[model]}]
        )
        return reply.model, reply.model_extra["answered_by"], reply.choices[0].message.content or ""

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(ask, [local, served]))
    assert [(r[0], r[1]) for r in replies] == [
        (local, local.removeprefix("assistant/")),
        (served, served.removeprefix("assistant/")),
    ]
    assert all(text for _, _, text in replies)


def test_a_model_server_stopped_mid_conversation_gives_friendly_errors(indexed_settings, model_server, app):
    client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0)
    conversation = [{"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model=MODEL_NAME, messages=conversation)
    conversation += [{"role": "assistant", "content": first.choices[0].message.content}]
    conversation += [{"role": "user", "content": "Et combien d'États observateurs ?"}]

    model_server.stop()
    try:
        with pytest.raises(openai.APIStatusError, match="not reachable") as raised:
            client.chat.completions.create(model=MODEL_NAME, messages=conversation)
        assert raised.value.status_code == 503
        cli = run_cli(indexed_settings, "ask", QUESTION, **endpoint_env(model_server))
        assert cli.returncode == 2 and "not reachable" in cli.stderr and "Traceback" not in cli.stderr
        ui = json.dumps(Client(app.url, verbose=False).predict(QUESTION, 4, api_name=f"/{API_NAME}"))
        assert "not reachable" in ui
    finally:
        model_server.start(timeout=300)
    again = client.chat.completions.create(model=MODEL_NAME, messages=conversation)
    assert again.choices[0].message.content


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("slow", "did not answer in time"),
        ("html", "not an OpenAI-compatible reply"),
        ("broken-stream", "not an OpenAI-compatible reply"),
    ],
)
def test_a_slow_or_garbled_endpoint_gives_a_friendly_error_and_the_chat_goes_on(
    indexed_settings, model_server, tmp_path, mode, says
):
    with FaultyEndpoint(model_server.url) as endpoint:
        # Above the real model's ~8 s to first token, below the slow endpoint's 30 s.
        env = endpoint_env(endpoint, ASSISTANT_LLM_TIMEOUT="20")
        with serving(ui_server(indexed_settings, tmp_path, **env)) as app:
            client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0)
            endpoint.mode = mode
            with pytest.raises(openai.APIStatusError, match=says) as raised:
                client.chat.completions.create(
                    model=MODEL_NAME, messages=[{"role": "user", "content": QUESTION}]
                )
            assert raised.value.status_code == 503
            assert KEY not in raised.value.response.text
            cli = run_cli(indexed_settings, "ask", QUESTION, **env)
            assert cli.returncode == 2 and says in cli.stderr and "Traceback" not in cli.stderr

            endpoint.mode = "pass"  # the endpoint recovers: so does the chat, with no restart
            reply = client.chat.completions.create(
                model=MODEL_NAME, messages=[{"role": "user", "content": QUESTION}]
            )
            assert re.search(r"\[\d\]", reply.choices[0].message.content or "")
            assert reply.model_extra["sources"]
