"""Conversations kept on the server: SQLite in the data dir, each turn with its citations.

WAL mode (readers never wait for the writer), one small transaction per write, a schema version
(`PRAGMA user_version`) brought up to date by numbered migration steps. Every question of a
conversation is answered whether or not it can be saved: a locked, read-only or corrupt database
raises `ConversationStoreError` with a plain message, the caller shows it, and the file is never
rewritten or deleted. Each conversation belongs to one user (`owner`, "" without
`ASSISTANT_AUTH`); every read and write is scoped by it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.answer import Answer

TITLE_CHARS = 80
# Each step brings the schema from version i to i + 1; never edit a step once released.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        title TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX conversations_by_owner ON conversations (owner, updated DESC);
    CREATE TABLE turns (
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        created TEXT NOT NULL,
        question TEXT NOT NULL,
        standalone_question TEXT NOT NULL,
        answer TEXT NOT NULL,
        refused INTEGER NOT NULL,
        language TEXT NOT NULL,
        model TEXT,
        generator TEXT NOT NULL,
        citations TEXT NOT NULL,   -- JSON: source, title, url, passage, start, end, quote
        timings TEXT NOT NULL,     -- JSON: milliseconds per step
        feedback INTEGER,          -- 1 up, -1 down, NULL none
        answer_json TEXT NOT NULL, -- the whole Answer, to show the turn again as it was
        PRIMARY KEY (conversation_id, position)
    );
    """,
)


class ConversationStoreError(RuntimeError):
    """The store cannot be read or written now; the message says why, in plain words."""


class ConversationNotFound(LookupError):
    """No such conversation for this user (another user's is not found either)."""


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    owner: str
    title: str
    created: str
    updated: str
    turns: int


@dataclass(frozen=True)
class StoredTurn:
    position: int
    created: str
    answer: Answer
    feedback: int | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def title_of(question: str) -> str:
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ConversationStore:
    def __init__(self, path: Path, busy_timeout_s: float = 10.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._migrated = False
        self._lock = threading.Lock()
        # Writers of this process queue here, not in SQLite's busy wait: a thread holding the
        # write lock can wait seconds for the GIL under load, and SQLite's timeout would expire
        # (measured: 36 of 9,711 turns "busy" with 20 sessions and a 2 s timeout).
        self._writing = threading.Lock()

    # -- conversations -------------------------------------------------------------------------------
    def create(self, owner: str, first_question: str) -> str:
        conversation_id = uuid.uuid4().hex
        now = _now()
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations (id, owner, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, owner, title_of(first_question) or "New conversation", now, now),
            )
        return conversation_id

    def list(self, owner: str | None, limit: int | None = None) -> list[ConversationSummary]:
        """`owner`'s conversations, newest first (the `limit` newest); None: everyone's (the CLI,
        for an admin)."""
        return self._summaries(
            "WHERE c.owner = ?" if owner is not None else "", (owner,) if owner is not None else (), limit
        )

    def get(self, conversation_id: str, owner: str | None) -> ConversationSummary:
        where = "WHERE c.id = ?" + (" AND c.owner = ?" if owner is not None else "")
        found = self._summaries(
            where, (conversation_id, owner) if owner is not None else (conversation_id,), 1
        )
        if not found:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        return found[0]

    def _summaries(self, where: str, args: tuple[Any, ...], limit: int | None) -> list[ConversationSummary]:
        with self._read() as db:
            rows = db.execute(
                "SELECT c.id, c.owner, c.title, c.created, c.updated, COUNT(t.position) FROM conversations c "
                f"LEFT JOIN turns t ON t.conversation_id = c.id {where} "
                "GROUP BY c.id ORDER BY c.updated DESC, c.rowid DESC" + (" LIMIT ?" if limit else ""),
                (*args, limit) if limit else args,
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def rename(self, conversation_id: str, owner: str, title: str) -> None:
        title = title_of(title)
        if not title:
            raise ValueError("the title is empty")
        with self._write() as db:
            self._owned(db, conversation_id, owner)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: str, owner: str) -> None:
        with self._write() as db:
            self._owned(db, conversation_id, owner)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- turns ---------------------------------------------------------------------------------------
    def record(self, conversation_id: str | None, owner: str, answer: Answer) -> str:
        """Save `answer` as the next turn of `conversation_id`, or of a new conversation titled
        from its question when that is None; returns the conversation's id."""
        if conversation_id is None:
            conversation_id = self.create(owner, answer.question)
        self.add_turn(conversation_id, owner, answer)
        return conversation_id

    def add_turn(self, conversation_id: str, owner: str, answer: Answer) -> int:
        """Append `answer` as the conversation's next turn; returns its position (0-based)."""
        citations = json.dumps([c.model_dump(mode="json") for c in answer.citations], ensure_ascii=False)
        whole = answer.model_dump_json()  # serialised before the transaction, which stays short
        with self._write() as db:
            self._owned(db, conversation_id, owner)
            (position,) = db.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            now = _now()
            db.execute(
                "INSERT INTO turns (conversation_id, position, created, question, standalone_question, answer, "
                "refused, language, model, generator, citations, timings, answer_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    position,
                    now,
                    answer.question,
                    answer.standalone_question,
                    answer.answer,
                    int(answer.refused),
                    answer.language,
                    answer.model,
                    answer.generator,
                    citations,
                    json.dumps(answer.timings_ms),
                    whole,
                ),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return int(position)

    def turns(self, conversation_id: str, owner: str | None) -> list[StoredTurn]:
        with self._read() as db:
            self._owned(db, conversation_id, owner)
            rows = db.execute(
                "SELECT position, created, answer_json, feedback FROM turns WHERE conversation_id = ? "
                "ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return [StoredTurn(p, created, Answer.model_validate_json(data), fb) for p, created, data, fb in rows]

    def set_feedback(self, conversation_id: str, owner: str, question: str, answer: str, liked: bool) -> bool:
        """Thumbs up/down on the latest turn with this question and answer text (what the chat
        knows of a turn); False when there is none."""
        with self._write() as db:
            self._owned(db, conversation_id, owner)
            cursor = db.execute(
                "UPDATE turns SET feedback = ? WHERE conversation_id = ? AND position = (SELECT MAX(position) "
                "FROM turns WHERE conversation_id = ? AND question = ? AND answer = ?)",
                (1 if liked else -1, conversation_id, conversation_id, question, answer),
            )
            return cursor.rowcount > 0

    def count_turns(self) -> int:
        with self._read() as db:
            return int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])

    # -- plumbing ------------------------------------------------------------------------------------
    @staticmethod
    def _owned(db: sqlite3.Connection, conversation_id: str, owner: str | None) -> None:
        row = db.execute("SELECT owner FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None or (owner is not None and row[0] != owner):
            raise ConversationNotFound(f"no conversation {conversation_id}")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is written, or none of it."""
        with self._writing, self._connection() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            db = self._open()
        except sqlite3.Error as exc:
            raise ConversationStoreError(self._plain(exc)) from exc
        try:
            yield db
        except sqlite3.Error as exc:
            raise ConversationStoreError(self._plain(exc)) from exc
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            with self._lock:
                if not self._migrated:
                    self._migrate(db)
                    self._migrated = True
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this assistant's")
        if version < len(MIGRATIONS):
            db.execute("PRAGMA journal_mode = WAL")  # persistent: set once, on the file
        for step in range(version, len(MIGRATIONS)):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _plain(self, exc: sqlite3.Error) -> str:
        text = str(exc)
        if "locked" in text or "busy" in text:
            why = "the database is busy (locked by another program)"
        elif "readonly" in text or "read-only" in text:
            why = "the database is read-only"
        elif "not a database" in text or "malformed" in text:
            why = "the database file is damaged; it was left as it is"
        elif "newer" in text:
            why = f"the database was made by a newer version of the assistant ({text})"
        elif "unable to open" in text:
            why = "the database cannot be opened (check the data folder's permissions)"
        else:
            why = f"the database failed ({text})"
        return f"conversations cannot be saved: {why} — {self.path}"
