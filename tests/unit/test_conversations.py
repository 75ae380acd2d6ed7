"""The conversation store on real SQLite files: turns kept with their citations, each user's own,
rename/delete/feedback, the schema version, exports, and the faults (locked, corrupt, newer
schema, a writer killed mid-turn) that must leave the answer shown and the file undamaged."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.answer import Answer, Citation, Quote
from assistant.conversations import (
    MIGRATIONS,
    ConversationNotFound,
    ConversationStore,
    ConversationStoreError,
    title_of,
)
from assistant.transcripts import to_json, to_markdown

ROOT = Path(__file__).resolve().parents[2]


def answer(question: str, n: int = 1, text: str = "IOM has 175 member states [1].") -> Answer:
    citation = Citation(
        n=n,
        source="001_iom",
        title="IOM in Viet Nam",
        url="https://example.org/iom",
        passage=f"Passage {question}: IOM has 175 member states and 8 observer states.",
        chunk_id="001_iom:abc",
        language="en",
        start=100,
        end=170,
        quote=Quote(n=n, sentence="IOM has 175 member states and 8 observer states.", start=10, end=58),
    )
    return Answer(
        question=question,
        standalone_question=question,
        answer=text,
        refused=False,
        language="en",
        generator="extractive",
        requested_generator="extractive",
        model="extractive",
        citations=[citation],
        timings_ms={"total": 12.0},
    )


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "conversations.sqlite3", busy_timeout_s=0.2)


def test_turns_come_back_with_their_citations_in_order_newest_conversation_first(store):
    first = store.create("", "How many member states does IOM have?")
    store.add_turn(first, "", answer("How many member states does IOM have?"))
    store.add_turn(first, "", answer("And observer states?"))
    second = store.create("", "Qui est David Knight ?")
    store.add_turn(second, "", answer("Qui est David Knight ?"))

    assert [c.id for c in store.list("")] == [second, first]
    turns = store.turns(first, "")
    assert [t.position for t in turns] == [0, 1]
    assert turns[1].answer.question == "And observer states?"
    assert turns[0].answer.citations[0].quote and turns[0].answer.citations[0].start == 100
    assert store.list("")[1].turns == 2 and store.count_turns() == 3


def test_the_newest_are_listed_up_to_a_limit_and_any_one_is_found_directly(store):
    made = [store.create("", f"Question {n}") for n in range(5)]
    assert [c.id for c in store.list("", limit=2)] == [made[4], made[3]]
    assert len(store.list("")) == 5
    assert store.get(made[0], "").title == "Question 0"  # older than the listed ones
    with pytest.raises(ConversationNotFound):
        store.get(made[0], "bob")


def test_each_user_sees_and_changes_only_their_own(store):
    alice = store.create("alice", "Alice's question")
    store.add_turn(alice, "alice", answer("Alice's question"))
    assert store.list("bob") == []
    for attempt in (
        lambda: store.turns(alice, "bob"),
        lambda: store.add_turn(alice, "bob", answer("x")),
        lambda: store.rename(alice, "bob", "mine now"),
        lambda: store.delete(alice, "bob"),
    ):
        with pytest.raises(ConversationNotFound):
            attempt()
    assert [c.title for c in store.list("alice")] == ["Alice's question"]
    assert len(store.list(None)) == 1  # the CLI, for whoever runs the machine


def test_rename_delete_and_feedback(store):
    conversation = store.create("", "q" * 200)
    assert store.get(conversation, "").title == title_of("q" * 200) and len(title_of("q" * 200)) == 80
    first = answer("Q1", text="A1 [1].")
    store.add_turn(conversation, "", first)
    assert store.set_feedback(conversation, "", "Q1", "A1 [1].", liked=False)
    assert not store.set_feedback(conversation, "", "Q1", "another answer", liked=True)
    assert store.turns(conversation, "")[0].feedback == -1
    store.rename(conversation, "", "  Member states  ")
    assert store.get(conversation, "").title == "Member states"
    with pytest.raises(ValueError):
        store.rename(conversation, "", "   ")
    store.delete(conversation, "")
    assert store.list("") == []
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0  # cascaded


def test_wal_and_the_schema_version(store):
    store.list("")
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_database_from_a_newer_version_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    before = path.read_bytes()
    with pytest.raises(ConversationStoreError, match="newer version"):
        ConversationStore(path).list("")
    assert path.read_bytes() == before


def test_a_corrupt_file_is_named_and_never_rewritten(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"this is not a database, but somebody's file " * 100)
    before = path.read_bytes()
    store = ConversationStore(path)
    for attempt in (lambda: store.list(""), lambda: store.create("", "q")):
        with pytest.raises(ConversationStoreError, match="damaged; it was left as it is"):
            attempt()
    assert path.read_bytes() == before


def test_a_locked_database_is_a_plain_error_and_nothing_half_written(store):
    conversation = store.create("", "q")
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ConversationStoreError, match="busy"):
            store.add_turn(conversation, "", answer("q"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.turns(conversation, "") == []
    store.add_turn(conversation, "", answer("q"))  # and works again once released
    assert len(store.turns(conversation, "")) == 1


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.unit.test_conversations import answer
from assistant.conversations import ConversationStore
store = ConversationStore(Path({path!r}))
conversation = store.create("", "kill me")
print(conversation, flush=True)
n = 0
while True:
    store.add_turn(conversation, "", answer(f"question {{n}}"))
    n += 1
"""


def test_a_writer_killed_mid_turn_loses_at_most_that_turn(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    script = WRITER.format(root=str(ROOT), path=str(path))
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    conversation = writer.stdout.readline().strip()
    time.sleep(1.5)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    turns = ConversationStore(path).turns(conversation, "")
    assert len(turns) > 5
    assert [t.position for t in turns] == list(range(len(turns)))  # no gap, no half turn
    assert [t.answer.question for t in turns] == [f"question {n}" for n in range(len(turns))]


def test_the_exports_keep_every_cited_passage_title_and_link(store):
    conversation = store.create("", "How many member states does IOM have?")
    for question in ("How many member states does IOM have?", "And observer states?"):
        store.add_turn(conversation, "", answer(question))
    summary, turns = store.get(conversation, ""), store.turns(conversation, "")
    markdown = to_markdown(summary, turns)
    for turn in turns:
        citation = turn.answer.citations[0]
        assert f"> {citation.passage}" in markdown
        assert turn.answer.answer in markdown and "[1]" in markdown
    assert "[IOM in Viet Nam](https://example.org/iom)" in markdown and "/articles/001_iom?" in markdown
    data = json.loads(to_json(summary, turns))
    assert [t["question"] for t in data["turns"]] == [
        "How many member states does IOM have?",
        "And observer states?",
    ]
    assert data["turns"][0]["citations"][0]["passage"] == turns[0].answer.citations[0].passage
    assert data["turns"][0]["citations"][0]["article"].startswith("/articles/001_iom?")
