"""Load: concurrent chat sessions against a running `assistant ui` on 127.0.0.1, all in one run.

1. `extractive` generator, two-turn conversations (a question, then another in the same chat, so
   the second is condensed with that session's own history). First one session alone: the
   baseline, and the answer every turn must get (extractive answers are deterministic). Then
   `--sessions` concurrent sessions for `--seconds`, half through the Gradio chat API
   (`gradio_client`, the browser's path; the server keeps each session's history), half through
   `/v1/chat/completions` (`openai`; the client sends the history). Reports failed requests,
   answers that differ from the expected one (a mix-up between sessions), p50/p95 latency,
   throughput, and the server's memory over time. Every turn is saved in the conversation store
   (the chat's own session conversation; `/v1` with `conversation_id`): after the run, the turns
   stored are counted against the answers received, and each stored conversation must hold one
   bench conversation's questions in order (none mixed up).
2. The embedded LLM (`local`): `--llm-sessions` sessions ask at once through the chat API; one
   generation runs at a time, the others wait in Gradio's queue and are told their position.
   Reports each one's queue positions seen, when it started generating, when it was done.

    python bench/load.py [--sessions 20] [--seconds 60] [--llm-sessions 4] [--skip-llm]

Writes bench/results/load-<time>.json; exits 1 if any request failed or was mixed up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import Client  # noqa: E402
from openai import OpenAI  # noqa: E402

from assistant.conversations import ConversationStore  # noqa: E402
from assistant.evaluation import load_questions  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402
from assistant.retrieval import build_index  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.ui import API_NAME  # noqa: E402
from tests.servers import Server, serving, ui_server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
Turn = tuple[str, int, int]  # kind of session, conversation, turn


def start_ui(data: Path, generator: str) -> Server:
    settings = Settings(_env_file=None, data_dir=data, seeds_dir=ROOT / "seeds")
    return ui_server(settings, data, ASSISTANT_GENERATOR=generator)


class Conversation:
    """One chat session: `ask` continues it, `restart` begins a new one."""

    def ask(self, question: str) -> str:
        raise NotImplementedError

    def restart(self) -> None:
        raise NotImplementedError


class GradioConversation(Conversation):
    def __init__(self, url: str) -> None:
        self.client = Client(url, verbose=False)  # the server keeps this session's history

    def ask(self, question: str) -> str:
        messages = self.client.predict(question, 4, api_name=f"/{API_NAME}")
        for message in messages if isinstance(messages, list) else []:
            message.get("metadata", {}).pop("log", None)  # "extractive · 0.2 s": a timing, not the answer
        return json.dumps(messages, ensure_ascii=False)

    def restart(self) -> None:
        self.client.reset_session()


class OpenAIConversation(Conversation):
    def __init__(self, url: str) -> None:
        self.client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=120)
        self.messages: list[Any] = []
        self.conversation_id = "new"

    def ask(self, question: str) -> str:
        self.messages.append({"role": "user", "content": question})
        reply = self.client.chat.completions.create(
            model="assistant", messages=self.messages, extra_body={"conversation_id": self.conversation_id}
        )
        if not reply.model_extra.get("conversation_id"):
            raise RuntimeError(f"not saved: {reply.model_extra.get('not_saved')}")
        self.conversation_id = reply.model_extra["conversation_id"]
        answer = reply.choices[0].message.content or ""
        self.messages.append({"role": "assistant", "content": answer})
        return answer

    def restart(self) -> None:
        self.messages = []
        self.conversation_id = "new"


KINDS: dict[str, type[Conversation]] = {"gradio": GradioConversation, "openai": OpenAIConversation}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def growth_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of RSS over time, MB per minute: ~0 once the server's memory is flat."""
    if len(samples) < 3:
        return None
    times, sizes = zip(*samples, strict=True)
    return round(statistics.linear_regression(times, sizes).slope * 60, 2)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    mixups: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def session(
    chat: Conversation,
    kind: str,
    conversations: list[tuple[str, str]],
    offset: int,
    expected: dict[Turn, str],
    until: float,
    tally: Tally,
) -> None:
    n = offset
    while time.monotonic() < until:
        index = n % len(conversations)
        n += 1
        chat.restart()
        for turn, question in enumerate(conversations[index]):
            started = time.perf_counter()
            try:
                answer = chat.ask(question)
            except Exception as exc:  # counted, never fatal: the point is to see them
                with tally.lock:
                    tally.failures.append(f"{type(exc).__name__}: {exc}"[:200])
                break
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.latencies.append(elapsed)
                if answer != expected[(kind, index, turn)]:
                    tally.mixups.append(f"{kind} conversation {index} turn {turn}: {question}")


def extractive_load(
    url: str, pid: int, conversations: list[tuple[str, str]], sessions: int, seconds: float
) -> dict[str, Any]:
    expected: dict[Turn, str] = {}
    alone: list[float] = []
    for kind, make in KINDS.items():  # the baseline: one session, nothing else running
        chat = make(url)
        for index, turns in enumerate(conversations):
            chat.restart()
            for turn, question in enumerate(turns):
                started = time.perf_counter()
                expected[(kind, index, turn)] = chat.ask(question)
                alone.append(time.perf_counter() - started)

    tally = Tally()
    memory: list[tuple[float, float]] = []
    kinds = ["gradio" if i % 2 == 0 else "openai" for i in range(sessions)]
    chats = [KINDS[kind](url) for kind in kinds]
    started = time.monotonic()
    until = started + seconds
    threads = [
        threading.Thread(target=session, args=(chat, kind, conversations, i * 3, expected, until, tally))
        for i, (chat, kind) in enumerate(zip(chats, kinds, strict=True))
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        memory.append((round(time.monotonic() - started, 1), round(rss_mb(pid), 1)))
        time.sleep(2)
    wall = time.monotonic() - started
    early = [mb for t, mb in memory if t <= seconds / 4]
    late = [mb for t, mb in memory if t >= 3 * seconds / 4]
    return {
        "baseline_single_session": {
            "requests": len(alone),
            "p50_s": percentile(alone, 0.5),
            "p95_s": percentile(alone, 0.95),
            "throughput_per_s": round(len(alone) / sum(alone), 2),
        },
        "concurrent": {
            "sessions": sessions,
            "seconds": round(wall, 1),
            "requests": len(tally.latencies),
            "failed": len(tally.failures),
            "failures": tally.failures[:10],
            "mixed_up": len(tally.mixups),
            "mix_ups": tally.mixups[:10],
            "p50_s": percentile(tally.latencies, 0.5) if tally.latencies else None,
            "p95_s": percentile(tally.latencies, 0.95) if tally.latencies else None,
            "throughput_per_s": round(len(tally.latencies) / wall, 2),
        },
        "server_rss_mb": {
            "first_quarter_mean": round(statistics.mean(early), 1) if early else None,
            "last_quarter_mean": round(statistics.mean(late), 1) if late else None,
            "max": max(mb for _, mb in memory) if memory else None,
            "second_half_mb_per_min": growth_per_minute([(t, mb) for t, mb in memory if t >= seconds / 2]),
            "samples": memory,
        },
    }


def stored_turns(data: Path, conversations: list[tuple[str, str]], answered: int) -> dict[str, Any]:
    """What the conversation store holds after the run, against what was answered."""
    store = ConversationStore(data / "conversations.sqlite3")
    saved = store.list(None)
    mixed = []
    for conversation in saved:
        questions = tuple(t.answer.question for t in store.turns(conversation.id, None))
        if not any(questions == bench[: len(questions)] for bench in conversations):
            mixed.append(f"{conversation.id}: {questions}")
    return {
        "answered": answered,
        "turns_stored": store.count_turns(),
        "conversations_stored": len(saved),
        "conversations_mixed_up": len(mixed),
        "mix_ups": mixed[:10],
    }


def queued_llm(url: str, questions: list[str]) -> dict[str, Any]:
    """Every session submits at once; each job's queue positions are read while it waits."""
    clients = [Client(url, verbose=False) for _ in questions]
    started = time.perf_counter()
    jobs = [c.submit(q, 4, api_name=f"/{API_NAME}") for c, q in zip(clients, questions, strict=True)]
    seen: list[set[int]] = [set() for _ in jobs]
    began: list[float | None] = [None] * len(jobs)
    done: list[float | None] = [None] * len(jobs)
    outcome: list[str] = [""] * len(jobs)
    while any(d is None for d in done):
        for i, job in enumerate(jobs):
            if done[i] is not None:
                continue
            status = job.status()
            if status.rank is not None and status.code.name == "IN_QUEUE":
                seen[i].add(int(status.rank))
            if began[i] is None and status.code.name in ("PROCESSING", "ITERATING"):
                began[i] = time.perf_counter() - started
            if job.done():
                done[i] = time.perf_counter() - started
                try:
                    messages = job.result()
                    outcome[i] = "answered: " + " ".join(str(messages[0]["content"]).split())[:160]
                except Exception as exc:
                    outcome[i] = f"failed: {type(exc).__name__}: {exc}"[:200]
        time.sleep(0.2)
    return {
        "sessions": [
            {
                "question": q,
                "queue_positions_seen": sorted(seen[i]),
                "started_generating_s": round(began[i], 1) if began[i] is not None else None,
                "done_s": round(done[i] or 0.0, 1),
                "outcome": outcome[i],
            }
            for i, q in enumerate(questions)
        ],
        "failed": sum(not o.startswith("answered") for o in outcome),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--llm-sessions", type=int, default=4)
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args()

    items = [q for q in load_questions() if q.answerable]
    by_language = {lang: [q.question for q in items if q.language == lang] for lang in ("en", "fr", "vi")}
    conversations = [  # two questions in one language: the second is a follow-up turn
        (questions[i], questions[i + 1])
        for questions in by_language.values()
        for i in range(0, len(questions) - 1, 2)
    ]
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    build_index(Settings(_env_file=None, data_dir=work, seeds_dir=ROOT / "seeds"), threads=2)

    results: dict[str, Any] = {"conversations": len(conversations)}
    with serving(start_ui(work, "extractive"), timeout=180) as server:
        assert server.process is not None
        results["extractive"] = extractive_load(
            server.url, server.process.pid, conversations, args.sessions, args.seconds
        )
    extractive = results["extractive"]
    answered = extractive["baseline_single_session"]["requests"] + extractive["concurrent"]["requests"]
    results["store"] = stored_turns(work, conversations, answered)
    base, load = results["extractive"]["baseline_single_session"], results["extractive"]["concurrent"]
    memory = results["extractive"]["server_rss_mb"]
    print(
        f"extractive: 1 session  p50 {base['p50_s']} s  p95 {base['p95_s']} s  {base['throughput_per_s']} req/s"
    )
    print(
        f"extractive: {load['sessions']} sessions p50 {load['p50_s']} s  p95 {load['p95_s']} s  "
        f"{load['throughput_per_s']} req/s  {load['requests']} requests, {load['failed']} failed, "
        f"{load['mixed_up']} mixed up"
    )
    print(
        f"server memory: {memory['first_quarter_mean']} MB (first quarter) -> "
        f"{memory['last_quarter_mean']} MB (last quarter), max {memory['max']} MB, "
        f"second half {memory['second_half_mb_per_min']:+} MB/min"
    )

    stored = results["store"]
    print(
        f"conversation store: {stored['turns_stored']} turns stored of {stored['answered']} answered, "
        f"{stored['conversations_stored']} conversations, {stored['conversations_mixed_up']} mixed up"
    )

    if not args.skip_llm:
        chosen = [by_language[("en", "fr", "vi")[i % 3]][i // 3] for i in range(args.llm_sessions)]
        with serving(start_ui(work, "local"), timeout=600) as server:
            results["local_queue"] = queued_llm(server.url, chosen)
        for row in results["local_queue"]["sessions"]:
            print(
                f"local: queue positions {row['queue_positions_seen'] or '-'}, generating from "
                f"{row['started_generating_s']} s, done at {row['done_s']} s: {row['outcome']}"
            )

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({**results, "machine": describe_machine()}, indent=2, ensure_ascii=False))
    print(f"wrote {out.relative_to(ROOT)}")
    ok = (
        load["failed"] == 0
        and load["mixed_up"] == 0
        and stored["turns_stored"] == stored["answered"]
        and stored["conversations_mixed_up"] == 0
        and results.get("local_queue", {}).get("failed", 0) == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
