"""Indexing progress: a bar with counts and ETA on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import io

from assistant.progress import TerminalProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_at_each_stage_start_and_end_not_one_per_batch():
    out = io.StringIO()
    shown = TerminalProgress(out, interval=3600)
    for done in range(0, 7701, 32):
        shown.step("embedding", min(done, 7700), 7700)
    shown.step("embedding", 7700, 7700)
    shown.step("sparse vectors and writing", 0, 7700)
    lines = out.getvalue().splitlines()
    assert lines[0] == "embedding: 0/7700 chunks (0 %)"
    assert lines[1].startswith("embedding: 7700/7700 chunks (100 %), ") and lines[1].endswith(" s")
    assert lines[-1] == "sparse vectors and writing: 0/7700 chunks (0 %)"
    assert len(lines) <= 4


def test_a_log_line_in_between_has_a_rate_and_an_eta():
    out = io.StringIO()
    shown = TerminalProgress(out, interval=0)
    shown.step("embedding", 0, 100)
    shown.step("embedding", 40, 100)
    assert "embedding: 40/100 chunks (40 %), " in out.getvalue() and "ETA" in out.getvalue()


def test_a_terminal_gets_a_bar_with_counts_and_notes_above_it():
    out = Terminal()
    shown = TerminalProgress(out)
    shown.step("embedding", 0, 77)
    shown.step("embedding", 32, 77)
    shown.note("building articles-v2: 0 reused, 77 to embed")
    shown.step("embedding", 77, 77)
    shown.close()
    text = out.getvalue()
    assert "32/77" in text and "77/77" in text and "chunk/s" in text
    assert "building articles-v2" in text
