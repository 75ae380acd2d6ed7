"""Saved conversations through the real app (`/v1` with `conversation_id`, several users in
ASSISTANT_AUTH) and the CLI: each user's own, exports with the citations, and an answer that
still comes when the database is locked or read-only."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.api import create_app
from tests.conftest import run_cli

QUESTION = "How many member states does IOM have?"
USERS = {"alice": "pw-alice-1", "bob": "pw-bob-2"}


@pytest.fixture
def settings(shared_index_settings):
    auth = ",".join(f"{user}:{password}" for user, password in USERS.items())
    return shared_index_settings.model_copy(update={"generator": "extractive", "auth": SecretStr(auth)})


def ask(client: TestClient, user: str, question: str, conversation_id: str | None) -> httpx.Response:
    body = {"model": "assistant", "messages": [{"role": "user", "content": question}]}
    if conversation_id:
        body["conversation_id"] = conversation_id
    return client.post("/v1/chat/completions", json=body, auth=(user, USERS[user]))


def test_two_users_keep_their_own_conversations(settings):
    with TestClient(create_app(settings)) as client:
        first = ask(client, "alice", QUESTION, "new").json()
        alices = first["conversation_id"]
        assert alices and first["sources"]
        assert (
            ask(client, "alice", "And how many observer states?", alices).json()["conversation_id"] == alices
        )

        intrusion = ask(client, "bob", "Now it is mine", alices)
        assert intrusion.status_code == 404
        bobs = ask(client, "bob", "Combien d'États membres compte l'OIM ?", "new").json()["conversation_id"]
        assert bobs != alices
        stateless = ask(client, "bob", QUESTION, None).json()
        assert "conversation_id" not in stateless

    env = {"ASSISTANT_DATA_DIR": str(settings.data_dir)}
    alice = run_cli(settings, "conversations", "list", "--user", "alice", **env)
    assert alice.returncode == 0 and alices in alice.stdout and bobs not in alice.stdout
    assert "2 turn(s)" in alice.stdout
    everyone = run_cli(settings, "conversations", "list", **env)
    assert alices in everyone.stdout and bobs in everyone.stdout and "bob" in everyone.stdout

    exported = run_cli(settings, "conversations", "export", alices, "--format", "json", **env)
    turns = json.loads(exported.stdout)["turns"]
    assert [t["question"] for t in turns] == [QUESTION, "And how many observer states?"]
    markdown = run_cli(settings, "conversations", "export", alices, **env).stdout
    for turn in turns:
        for citation in turn["citations"]:
            assert citation["passage"].splitlines()[0] in markdown and citation["title"] in markdown
    missing = run_cli(settings, "conversations", "export", "nope", **env)
    assert missing.returncode == 2 and "no conversation" in missing.stderr


def test_a_locked_database_still_answers_and_says_it_was_not_saved(settings):
    with TestClient(create_app(settings)) as client:
        saved = ask(client, "alice", QUESTION, "new").json()["conversation_id"]
        holder = sqlite3.connect(settings.conversations_file, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            reply = ask(client, "alice", "And how many observer states?", saved)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"]
        assert "cannot be saved" in reply.json()["not_saved"] and "busy" in reply.json()["not_saved"]
        assert ask(client, "alice", "Qui est David Knight ?", saved).json()["conversation_id"] == saved
    with sqlite3.connect(settings.conversations_file) as db:
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 2  # the locked one is not half there


def test_a_read_only_data_folder_still_answers(settings, tmp_path):
    with TestClient(create_app(settings)) as client:
        ask(client, "alice", QUESTION, "new")
    view = tmp_path / "read-only-data"
    view.mkdir()
    bound = subprocess.run(
        ["mount", "--bind", str(settings.data_dir), str(view)], capture_output=True, text=True
    )
    if bound.returncode != 0:
        pytest.skip(f"a read-only view needs `mount` (root): {bound.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True, capture_output=True)
        before = (settings.data_dir / "conversations.sqlite3").read_bytes()
        read_only = settings.model_copy(update={"data_dir": view})
        with TestClient(create_app(read_only)) as client:
            reply = ask(client, "alice", QUESTION, "new")
        assert reply.status_code == 200 and reply.json()["sources"]
        assert "cannot be saved" in reply.json()["not_saved"]
        assert (settings.data_dir / "conversations.sqlite3").read_bytes() == before
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False, capture_output=True)
