from __future__ import annotations

import json
import threading

from assistant.feedback import record_feedback


def test_concurrent_votes_are_whole_lines(tmp_path):
    path = tmp_path / "data" / "feedback.jsonl"

    def vote(i: int) -> None:
        for _ in range(20):
            record_feedback(path, liked=i % 2 == 0, question=f"q{i} " * 200, answer="a", sources=[{"n": 1}])

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 160
    assert {r["rating"] for r in records} == {"up", "down"}
