"""Real servers for tests and benches: started on 127.0.0.1 on a free port, waited for, and always
stopped; and the commands that launch each one (the assistant's UI, llama.cpp's, Chroma's)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.settings import Settings

LLAMA_ALIAS = "qwen2.5-1.5b-instruct"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A child process serving HTTP at `url`; `ready_path` answers 200 once it is up."""

    def __init__(
        self,
        command: Sequence[str],
        port: int,
        *,
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        log: Path,
        cwd: Path | None = None,
    ) -> None:
        self.command = list(command)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.ready_path = ready_path
        self.log = log
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.command[:3]} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if self._answers():
                return self
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"{self.command[:3]} not ready after {timeout:.0f} s:\n{self.tail()}")

    def _answers(self) -> bool:
        """Up once `ready_path` answers HTTP below 500 (a 401 from a server with a key is up)."""
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                return response.status < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def serving(server: Server, timeout: float = 180.0) -> Iterator[Server]:
    server.start(timeout)
    try:
        yield server
    finally:
        server.stop()


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running the real `assistant` command against `settings`' folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(settings.data_dir),
        ASSISTANT_SEEDS_DIR=str(settings.seeds_dir),
        # The run's thread counts reach the processes it starts (a suite run on one thread).
        ASSISTANT_INDEX_THREADS=str(settings.index_threads),
        ASSISTANT_EMBED_THREADS=str(settings.embed_threads),
    )
    if settings.llm_threads:
        env["ASSISTANT_LLM_THREADS"] = str(settings.llm_threads)
    env.update(extra)
    return env


def ui_server(settings: Settings, log_dir: Path, **env: str) -> Server:
    """`assistant ui` in its own process, as a user starts it, against `settings`' folders."""
    port = free_port()
    return Server(
        [sys.executable, "-m", "assistant.cli", "ui", "--port", str(port)],
        port,
        env=cli_env(settings, GRADIO_ANALYTICS_ENABLED="False", **env),
        ready_path="/healthz",
        log=log_dir / f"ui-{port}.log",
        cwd=settings.data_dir.parent,
    )


def llama_server_process(model: Path, log_dir: Path, *extra: str) -> Server:
    """A real OpenAI-compatible model server (llama-cpp-python's) with the packaged model."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", LLAMA_ALIAS]
    threads = str(Settings(_env_file=None).llm_threads or 2)  # ASSISTANT_LLM_THREADS, as the product reads it
    command += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        threads,
        "--n_threads_batch",
        threads,
    ]
    command += ["--n_ctx", "4096", "--verbose", "False", *extra]
    return Server(command, port, ready_path="/v1/models", log=log_dir / f"llama-{port}.log")


def chroma_server(path: Path, log_dir: Path) -> Server:
    """A real `chroma run` server keeping its data in `path`."""
    port = free_port()
    chroma = str(Path(sys.executable).with_name("chroma"))
    command = [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return Server(command, port, ready_path="/api/v2/heartbeat", log=log_dir / f"chroma-{port}.log")
