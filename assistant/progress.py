"""Indexing progress on the terminal: a bar with counts, rate and ETA (tqdm) when stderr is a
terminal, else a plain line at most every `interval` seconds and at the end of each stage, so
a log file or CI output shows progress without a line per batch."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


class TerminalProgress:
    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.bar: Any = None
        self.stage = ""
        self.started = 0.0
        self.last_line = 0.0

    @property
    def interactive(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def step(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.started, self.last_line = stage, time.monotonic(), 0.0
            if self.interactive:
                width = min(shutil.get_terminal_size((100, 20)).columns or 100, 120)
                self.bar = tqdm(total=total, desc=stage, unit="chunk", file=self.stream, ncols=width)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            if done >= total:
                self.close()
            return
        now = time.monotonic()
        if done == 0 or done >= total or now - self.last_line >= self.interval:
            self.last_line = now
            print(self._line(done, total, now - self.started), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _line(self, done: int, total: int, elapsed: float) -> str:
        share = 100 * done / total if total else 100.0
        line = f"{self.stage}: {done}/{total} chunks ({share:.0f} %)"
        if done == 0 or elapsed <= 0:
            return line
        rate = done / elapsed
        eta = f", ETA {(total - done) / rate:.0f} s" if done < total else f", {elapsed:.1f} s"
        return f"{line}, {rate:.1f}/s{eta}"
