"""Answer latency: the embedded model in-process vs the same GGUF behind llama-cpp-python's
OpenAI-compatible server through `ChatOpenAI`, on the same questions; and retrieval latency,
embedded Chroma vs a Chroma server, on the evaluation questions. All in one run.

    python bench/answer_latency.py [--questions 6]
    python bench/answer_latency.py --conversations

`--conversations` times five-turn conversations in the three languages instead, standalone and
dependent turns mixed, a follow-up rewritten only when it points back (`ASSISTANT_CONDENSE=needed`)
against every follow-up rewritten (`always`, the design before), in one run; it writes
bench/results/conversation_latency-<time>.json.

On held-out questions (none in tests/eval/): time to the first evidence shown (the sentences the
model reads), to the first token, and to the whole answer.
Needs the packaged model (`make run` joins it into data/models). 2 llama.cpp threads on both
sides; the two models never generate at the same time. Writes bench/results/answer_latency-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import load_questions, percentile  # noqa: E402
from assistant.generators.model_files import ensure_packaged_model  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402
from assistant.retrieval import build_index, make_retriever  # noqa: E402
from assistant.service import build_chain  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from tests.servers import LLAMA_ALIAS, chroma_server, llama_server_process, serving  # noqa: E402
from vectorstore.embeddings import clear_feature_cache  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# Questions no answer rule was tuned on (none is in tests/eval/), the three languages, answerable
# and not: the default timing set.
HELD_OUT = [
    "When is the migration profile's publication said to have taken place?",
    "Which two countries hold cross-border dialogues on migrants crossing their shared border?",
    "Quel est le courriel de David Knight ?",
    "Quelles crises ont touché les migrants de la région en 2011 ?",
    "Ai đã tiếp bà Kendra Rinas vào chiều ngày 11/11?",
    "IOM cung cấp hỗ trợ nhân đạo cho những ai?",
    "How many Vietnamese workers were evacuated from Libya in 2014?",
    "Combien coûte le programme de l'OIM au Viet Nam ?",
    "Có bao nhiêu đại biểu tham dự hội nghị ngày 18 tháng 12?",
]


def settings(data: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data, seeds_dir=ROOT / "seeds", llm_threads=2, **overrides)


def answer_timings(base: Settings, questions: list[str]) -> dict[str, Any]:
    chain = build_chain(base)
    chain.warm_up()
    chain.invoke("warm-up: how many member states does IOM have?")  # the system prompt enters the cache
    evidence, first, rates, totals = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        first_token = first_evidence = None
        tokens = 0
        for event in chain.stream(question):
            if event.kind == "evidence":
                first_evidence = first_evidence or time.perf_counter()
            if event.kind == "token":
                tokens += 1
                first_token = first_token or time.perf_counter()
        done = time.perf_counter()
        totals.append(done - started)
        if first_evidence is not None:
            evidence.append(first_evidence - started)
        if first_token is not None:
            first.append(first_token - started)
            if tokens > 1 and done > first_token:
                rates.append((tokens - 1) / (done - first_token))
    return {
        "first_evidence_p50_s": round(statistics.median(evidence), 2) if evidence else None,
        "first_token_p50_s": round(statistics.median(first), 2) if first else None,
        "tokens_per_s_p50": round(statistics.median(rates), 1) if rates else None,
        "total_p50_s": round(statistics.median(totals), 2),
        "total_p95_s": round(percentile(totals, 95), 2),
    }


# Five turns each; True marks a turn that needs the conversation to be understood.
CONVERSATIONS = [
    [
        ("Who is the IOM Chief of Mission in Viet Nam?", False),
        ("When did she start her term?", True),
        ("How many member states does IOM have?", False),
        ("And observer states?", True),
        ("Which law on Vietnamese workers going abroad was amended in 2020?", False),
    ],
    [
        ("Qui a présidé la conférence du 18 décembre à Hanoï ?", False),
        ("Quel était son thème ?", True),
        ("Combien de pays observateurs compte l'OIM ?", False),
        ("Depuis quand l'OIM est-elle présente au Viet Nam ?", False),
        ("Et son bureau à Hô Chi Minh-Ville ?", True),
    ],
    [
        ("Ai là Trưởng đại diện IOM Việt Nam?", False),
        ("Bà ấy đã nói gì về lừa đảo lao động?", True),
        ("IOM có bao nhiêu quốc gia thành viên?", False),
        ("Luật Người lao động Việt Nam đi làm việc ở nước ngoài được sửa đổi năm nào?", False),
        ("Còn năm 2015 thì sao?", True),
    ],
]


def write_result(name: str, results: dict[str, Any]) -> None:
    """bench/results/<name>-<time>.json, with the machine it was measured on."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({**results, "machine": describe_machine()}, indent=2, ensure_ascii=False))
    print(f"wrote {out.relative_to(ROOT)}")


def conversation_timings(base: Settings) -> dict[str, Any]:
    """Each conversation asked turn by turn with its history; per turn, whether it was rewritten
    and its times, as the chain reports them."""
    chain = build_chain(base)
    chain.warm_up()
    chain.invoke("warm-up: how many member states does IOM have?")
    turns = []
    for conversation in CONVERSATIONS:
        history: list[tuple[str, str]] = []
        for number, (question, dependent) in enumerate(conversation, start=1):
            answer = chain.invoke(question, history)
            history += [("user", question), ("assistant", answer.answer)]
            turns.append(
                {
                    "turn": number,
                    "question": question,
                    "dependent": dependent,
                    "condensed": "condense" in answer.timings_ms,
                    "standalone_question": answer.standalone_question,
                    "total_s": round(answer.timings_ms["total"] / 1000, 2),
                    "first_token_s": round(answer.timings_ms.get("first_token", 0) / 1000, 2) or None,
                }
            )
            print(f"{base.condense:7} {number} {turns[-1]['total_s']:5.1f} s  {question}", flush=True)

    def summary(part: list[dict[str, Any]]) -> dict[str, Any]:
        totals = [t["total_s"] for t in part]
        firsts = [t["first_token_s"] for t in part if t["first_token_s"]]
        return {
            "n": len(part),
            "total_p50_s": round(statistics.median(totals), 2),
            "total_p95_s": round(percentile(totals, 95), 2),
            "first_token_p50_s": round(statistics.median(firsts), 2) if firsts else None,
        }

    follow_ups = [t for t in turns if t["turn"] > 1]
    return {
        "first_questions": summary([t for t in turns if t["turn"] == 1]),
        "follow_ups": summary(follow_ups),
        "standalone_condensed": sum(t["condensed"] for t in follow_ups if not t["dependent"]),
        "standalone": sum(not t["dependent"] for t in follow_ups),
        "dependent_left": sum(not t["condensed"] for t in follow_ups if t["dependent"]),
        "dependent": sum(t["dependent"] for t in follow_ups),
        "turns": turns,
    }


def conversations_main() -> int:
    model = ensure_packaged_model(ROOT / "data" / "models")
    work = Path(tempfile.mkdtemp(prefix="bench-conversations-"))
    embedded = settings(work / "embedded", generator="local", model_path=model)
    build_index(embedded, threads=2)
    results = {
        design: conversation_timings(embedded.model_copy(update={"condense": design}))
        for design in ("always", "needed")
    }
    print(
        f"{'condense':10}{'first q. p50':>13}{'follow-up p50':>15}{'p95':>8}{'first token p50':>17}"
        f"{'standalone rewritten':>22}{'dependent left':>16}"
    )
    for design, r in results.items():
        first, follow = r["first_questions"], r["follow_ups"]
        print(
            f"{design:10}{first['total_p50_s']:>11} s{follow['total_p50_s']:>13} s{follow['total_p95_s']:>6} s"
            f"{follow['first_token_p50_s']!s:>15} s{r['standalone_condensed']:>14} of {r['standalone']}"
            f"{r['dependent_left']:>10} of {r['dependent']}"
        )
    write_result("conversation_latency", results)
    return 0


def retrieval_ms(base: Settings, questions: list[str]) -> dict[str, float]:
    retriever = make_retriever(base)
    retriever.search(questions[0], 4)
    clear_feature_cache()  # every question cold, as for the other store: no vectors reused
    times = []
    for question in questions:
        started = time.perf_counter()
        retriever.search(question, 4)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--questions", type=int, default=0, help="eval questions spread over the languages instead"
    )
    parser.add_argument("--conversations", action="store_true", help="time five-turn conversations instead")
    args = parser.parse_args()
    if args.conversations:
        return conversations_main()
    chosen = HELD_OUT
    if args.questions:
        items = [q for q in load_questions() if q.answerable]
        per_language = max(1, args.questions // 3)
        chosen = [
            q.question
            for lang in ("en", "fr", "vi")
            for q in [i for i in items if i.language == lang][:per_language]
        ]
    model = ensure_packaged_model(ROOT / "data" / "models")
    work = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    embedded = settings(work / "embedded")
    build_index(embedded, threads=2)

    results: dict[str, Any] = {"questions": chosen}
    local = embedded.model_copy(update={"generator": "local", "model_path": model})
    results["in_process"] = answer_timings(local, chosen)
    with serving(llama_server_process(model, work), timeout=300) as server:
        remote = embedded.model_copy(
            update={
                "generator": "openai",
                "llm_base_url": server.url + "/v1",
                "llm_model": LLAMA_ALIAS,
                "prompt_passages": local.llm_passages,  # the same prompt on both sides
                "prompt_sentences": local.llm_sentences,
            }
        )
        results["chatopenai_llama_server"] = answer_timings(remote, chosen)

    all_questions = [q.question for q in load_questions()]
    results["retrieval_embedded"] = retrieval_ms(embedded, all_questions)
    with serving(chroma_server(work / "server", work), timeout=60) as chroma:
        served = settings(work / "client", chroma_host="127.0.0.1", chroma_port=chroma.port)
        build_index(served, threads=2)
        results["retrieval_chroma_server"] = retrieval_ms(served, all_questions)

    print(
        f"{'':28}{'evidence p50':>13}{'first token p50':>16}{'tokens/s p50':>14}{'total p50':>11}{'total p95':>11}"
    )
    for name in ("in_process", "chatopenai_llama_server"):
        r = results[name]
        print(
            f"{name:28}{r['first_evidence_p50_s']!s:>11} s{r['first_token_p50_s']!s:>14} s"
            f"{r['tokens_per_s_p50']!s:>14}{r['total_p50_s']!s:>9} s{r['total_p95_s']!s:>9} s"
        )
    for name in ("retrieval_embedded", "retrieval_chroma_server"):
        r = results[name]
        print(f"{name:28} p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms ({len(all_questions)} questions)")
    write_result("answer_latency", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
