"""Thumbs up/down from the chat, appended to a JSON-lines file in the data dir.

One line per vote with the question, the answer and its sources, so a bad answer can be replayed.
Appends under a lock, one `write` per line: concurrent sessions never interleave a record.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record_feedback(
    path: Path, *, liked: bool, question: str, answer: str, sources: list[dict[str, Any]]
) -> dict[str, Any]:
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": "up" if liked else "down",
        "question": question,
        "answer": answer,
        "sources": sources,
    }
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line)
    return record
