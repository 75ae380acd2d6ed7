"""Chroma in client-server mode: a real `chroma run` on 127.0.0.1, filled by `assistant index`
(idempotent, incremental), queried by two assistant processes at once, restarted, queried again."""

from __future__ import annotations

import json
import subprocess
import sys

import openai
import pytest

from assistant.openai_api import MODEL_NAME
from tests.conftest import run_cli
from tests.servers import Server, cli_env, serving, ui_server
from tests.servers import chroma_server as chroma_server_process

pytestmark = pytest.mark.slow

QUESTION = "Combien d'États membres compte l'OIM ?"


@pytest.fixture
def chroma_server(tmp_path) -> Server:
    server = chroma_server_process(tmp_path / "chroma-server", tmp_path)
    server.start(timeout=60)
    yield server
    server.stop()


def retrieve(settings, env: dict[str, str]) -> list[str]:
    result = run_cli(settings, "retrieve", QUESTION, "--json", **env)
    assert result.returncode == 0, result.stderr
    return [row["chunk_id"] for row in json.loads(result.stdout)]


def test_index_and_query_through_a_chroma_server(settings_for, chroma_server):
    settings = settings_for()
    env = {"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(chroma_server.port)}

    first = run_cli(settings, "index", **env)
    assert first.returncode == 0, first.stderr
    assert "added 5, updated 0, deleted 0" in first.stdout
    assert not (settings.data_dir / "chroma").exists(), "nothing went to an embedded store"
    again = run_cli(settings, "index", **env)
    assert "added 0, updated 0, deleted 0" in again.stdout

    article = settings.seeds_dir / "000_6bcdbe225a7f1a32.txt"
    article.write_text(
        article.read_text()
        .replace("Kendra Rinas", "Kendra  Rinas", 1)
        .replace("migration", "migration governance", 1)
    )
    edited = run_cli(settings, "index", "--quiet", **env)
    assert "added 0, updated 1, deleted 0" in edited.stdout, edited.stdout
    before = retrieve(settings, env)
    texts = [
        row["text"] for row in json.loads(run_cli(settings, "retrieve", QUESTION, "--json", **env).stdout)
    ]
    assert any("175" in text for text in texts), "the passage stating the member states is found"

    command = [sys.executable, "-m", "assistant.cli", "retrieve", QUESTION, "--json"]
    processes = [
        subprocess.Popen(
            command, env=cli_env(settings, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in outputs]
    assert all([row["chunk_id"] for row in json.loads(out)] == before for out, _ in outputs)

    chroma_server.stop()
    down = run_cli(settings, "retrieve", QUESTION, **env)
    assert (
        down.returncode == 2
        and "Chroma server at 127.0.0.1" in down.stderr
        and "Traceback" not in down.stderr
    )
    chroma_server.start(timeout=60)
    assert retrieve(settings, env) == before, "nothing lost across a server restart"
    assert "added 0, updated 0, deleted 0" in run_cli(settings, "index", **env).stdout


def test_a_chroma_server_going_down_is_a_503_that_names_it_and_the_chat_recovers(
    settings_for, chroma_server, tmp_path
):
    settings = settings_for()
    env = {
        "ASSISTANT_CHROMA_HOST": "127.0.0.1",
        "ASSISTANT_CHROMA_PORT": str(chroma_server.port),
        "ASSISTANT_GENERATOR": "extractive",
    }
    assert run_cli(settings, "index", "--quiet", **env).returncode == 0
    question = [{"role": "user", "content": QUESTION}]
    with serving(ui_server(settings, tmp_path / "logs", **env), timeout=120) as app:
        client = openai.OpenAI(base_url=app.url + "/v1", api_key="unused", max_retries=0)
        assert "175" in (
            client.chat.completions.create(model=MODEL_NAME, messages=question).choices[0].message.content
            or ""
        )

        chroma_server.stop()
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(model=MODEL_NAME, messages=question)
        assert raised.value.status_code == 503, raised.value.response.text
        assert "Chroma server at 127.0.0.1" in raised.value.response.text
        assert "Traceback" not in raised.value.response.text

        chroma_server.start(timeout=60)
        again = client.chat.completions.create(model=MODEL_NAME, messages=question)
        assert "175" in (again.choices[0].message.content or "")
