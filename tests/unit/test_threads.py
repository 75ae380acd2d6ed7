"""How many llama.cpp threads the embedded model gets: the cores idle now, not a minute ago."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant.generators.local import free_cores


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to keep one busy")
def test_a_core_busy_right_now_is_not_counted_as_free():
    total = os.cpu_count() or 1
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        # The load average has not noticed the spinner yet; a sample of the CPU counters has.
        assert 1 <= free_cores(sample_seconds=1.0) <= total - 1
    finally:
        spinner.kill()
        spinner.wait()
