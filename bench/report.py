"""The docs' measured tables, rendered from the benches' JSON so that no two pages disagree.

    python bench/report.py           # rewrite every table in README.md and docs/*.md
    python bench/report.py --check   # exit 1 if a table differs from its JSON (a test runs this)

A table lives between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; NAME says which JSON
(`bench/results/NAME-*.json`, the latest by its time stamp, unless the marker names one file:
`<!-- bench:load file=load-20261203T162000.json -->`) and which renderer. Each table ends with
the file it came from and when it was measured.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.machine import summary  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Results from before the benches recorded their machine: this project's machine, CPU unknown.
UNRECORDED_MACHINE = "2 cores, 24 GiB, no GPU; CPU not recorded"
BLOCK = re.compile(
    r"(<!-- bench:(?P<name>[a-z_-]+)(?: file=(?P<file>\S+))? -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)",
    re.DOTALL,
)


def latest(name: str) -> Path:
    found = sorted(RESULTS.glob(f"{name}-*.json"), key=lambda p: re.sub(r"\D", "", p.stem))
    if not found:
        raise SystemExit(f"no bench/results/{name}-*.json: run the bench that writes it first")
    return found[-1]


def stamp(path: Path, data: dict[str, Any] | None = None) -> str:
    digits = re.sub(r"\D", "", path.stem)
    when = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" + (
        f" {digits[8:10]}:{digits[10:12]} UTC" if len(digits) >= 12 else ""
    )
    machine = (data or {}).get("machine")
    where = (summary(machine) if isinstance(machine, dict) else None) or UNRECORDED_MACHINE
    return f"*Measured {when} ({where}); from `bench/results/{path.name}`.*"


def rows(head: list[str], body: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in body]
    return "\n".join(lines)


def seconds(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f} s"


# -- renderers: JSON → Markdown -----------------------------------------------------------------
def render_load(data: dict[str, Any]) -> str:
    extractive = data["extractive"]
    base, load, memory = (
        extractive["baseline_single_session"],
        extractive["concurrent"],
        extractive["server_rss_mb"],
    )
    store = data["store"]
    table = rows(
        ["extractive", "requests", "failed", "mixed up", "p50", "p95", "throughput"],
        [
            [
                "1 session (baseline)",
                base["requests"],
                0,
                "–",
                seconds(base["p50_s"]),
                seconds(base["p95_s"]),
                f"{base['throughput_per_s']} /s",
            ],
            [
                f"{load['sessions']} sessions, {round(load['seconds'])} s",
                f"{load['requests']:,}",
                load["failed"],
                load["mixed_up"],
                seconds(load["p50_s"]),
                seconds(load["p95_s"]),
                f"{load['throughput_per_s']} /s",
            ],
        ],
    )
    slope = memory.get("second_half_mb_per_min")
    memory_row = rows(
        ["server RSS", "first quarter", "last quarter", "max", "second half"],
        [
            [
                "MB",
                memory["first_quarter_mean"],
                memory["last_quarter_mean"],
                memory["max"],
                "–" if slope is None else f"{slope:+} MB/min",
            ]
        ],
    )
    stored = rows(
        ["conversation store", "turns answered", "turns stored", "conversations", "mixed up"],
        [
            [
                "after the run",
                f"{store['answered']:,}",
                f"{store['turns_stored']:,}",
                f"{store['conversations_stored']:,}",
                store["conversations_mixed_up"],
            ]
        ],
    )
    return f"{table}\n\n{memory_row}\n\n{stored}"


def render_model_switch(data: dict[str, Any]) -> str:
    body = []
    for run in data["runs"]:
        steps = [s for s in run["steps"] if s.get("model", "").endswith("1.5b-instruct-q4_k_m")]
        first, later = steps[0], steps[1:]
        switches = sorted(s["switch_s"] for s in run["steps"][2:] if "switch_s" in s)
        body.append(
            [
                f"`max_local_models={run['max_local_models']}`",
                f"{first['rss_mb']:,} MB",
                f"{later[-1]['rss_mb']:,} MB" if later else "–",
                f"{max(s['rss_mb'] for s in run['steps']):,} MB",
                f"{100 * (max(s['rss_mb'] for s in steps) - first['rss_mb']) / first['rss_mb']:.1f} %",
                seconds(switches[len(switches) // 2]) if switches else "–",
            ]
        )
    return rows(
        ["setting", "1.5B first load", "1.5B after the last return", "max", "1.5B growth", "switch p50"], body
    )


def render_answer_latency(data: dict[str, Any]) -> str:
    answers = rows(
        ["generator", "first evidence p50", "first token p50", "tokens/s p50", "answer p50", "answer p95"],
        [
            [
                label,
                seconds(r["first_evidence_p50_s"]),
                seconds(r["first_token_p50_s"]),
                r["tokens_per_s_p50"],
                seconds(r["total_p50_s"]),
                seconds(r["total_p95_s"]),
            ]
            for label, r in (
                ("in-process (`local`, the default)", data["in_process"]),
                ("`ChatOpenAI` → `llama_cpp.server` (`openai`)", data["chatopenai_llama_server"]),
            )
        ],
    )
    retrieval = rows(
        ["retrieval", "p50", "p95"],
        [
            [
                "embedded Chroma",
                f"{data['retrieval_embedded']['p50_ms']} ms",
                f"{data['retrieval_embedded']['p95_ms']} ms",
            ],
            [
                "`chroma run` server on 127.0.0.1",
                f"{data['retrieval_chroma_server']['p50_ms']} ms",
                f"{data['retrieval_chroma_server']['p95_ms']} ms",
            ],
        ],
    )
    return f"{answers}\n\n{retrieval}"


def render_conversation_latency(data: dict[str, Any]) -> str:
    designs = [name for name in ("always", "needed") if name in data]
    table = rows(
        [
            "follow-ups rewritten",
            "first question p50",
            "follow-up p50",
            "follow-up p95",
            "follow-up first token p50",
            "standalone rewritten",
            "dependent not rewritten",
        ],
        [
            [
                f"`{name}`",
                seconds(data[name]["first_questions"]["total_p50_s"]),
                seconds(data[name]["follow_ups"]["total_p50_s"]),
                seconds(data[name]["follow_ups"]["total_p95_s"]),
                seconds(data[name]["follow_ups"]["first_token_p50_s"]),
                f"{data[name]['standalone_condensed']} of {data[name]['standalone']}",
                f"{data[name]['dependent_left']} of {data[name]['dependent']}",
            ]
            for name in designs
        ],
    )
    turns = data[designs[0]]["turns"]
    conversations = sum(t["turn"] == 1 for t in turns)
    return f"{len(turns)} turns in {conversations} conversations, each design in the same run:\n\n{table}"


def render_eval(data: dict[str, Any]) -> str:
    def row(label: str, s: dict[str, Any]) -> list[Any]:
        first = s.get("first_token_ms") or {}
        return [
            label,
            s["n"],
            f"{s['hit@1']:.2f}",
            f"{s['hit@4']:.2f}",
            f"{s['answer_accuracy']:.2f}",
            f"{s['refusal_rate_unanswerable']:.2f}",
            f"{s['false_refusal_rate']:.2f}",
            f"{s['guard_rate']:.2f}",
            f"{s['wrong_language_rate']:.2f}",
            f"{s['latency_ms']['p50'] / 1000:.1f} / {s['latency_ms']['p95'] / 1000:.1f} s",
            seconds(first["p50"] / 1000, 1) if first.get("p50") else "–",
        ]

    head = ["", "n", "hit@1", "hit@4", "accuracy", "refused unanswerable", "false refusals"]
    head += ["guard fired", "wrong language", "total p50 / p95", "first token p50"]
    body = [row("overall", data["overall"])] + [
        row(lang, s) for lang, s in sorted(data["by_language"].items())
    ]
    lists = [
        ("Wrong", data.get("wrong")),
        ("Unanswerable but answered", data.get("not_refused")),
        ("In the wrong language", data.get("wrong_language")),
    ]
    named = "\n".join(f"- {label}: {', '.join(ids) if ids else 'none'}." for label, ids in lists)
    return f"{rows(head, body)}\n\n{named}"


def render_scale(data: dict[str, Any]) -> str:
    sizes = data["sizes"]
    head = [""] + [f"{s['chunks']:,} chunks ({s['times_seeds']}×)" for s in sizes]
    head += ["growth (a·n^b)", "at 1 M chunks (a·n^b)", "at 1 M chunks (a + b·n)"]

    def dig(size: dict[str, Any], *path: str) -> Any:
        for key in path:
            size = size.get(key) if isinstance(size, dict) else None  # type: ignore[assignment]
        return size

    def cost(label: str, unit: str, *path: str) -> list[Any]:
        fitted = data["growth"].get(label) or {}
        values = [dig(s, *path) for s in sizes]
        points = [(s["chunks"], v) for s, v in zip(sizes, values, strict=True) if v is not None]
        affine = ""
        if len(points) >= 2:  # a fixed part plus a part per chunk: RSS and latency have both
            slope, intercept = statistics.linear_regression(*zip(*points, strict=True))
            affine = f"{intercept + slope * 1_000_000:,.1f} {unit}"
        return (
            [f"{label} ({unit})"]
            + ["–" if v is None else v for v in values]
            + [
                f"{fitted['kind']} (n^{fitted['exponent']})" if fitted else "",
                f"{fitted['at_1M']:,} {unit}" if fitted else "",
                affine,
            ]
        )

    def plain(label: str, *path: str) -> list[Any]:
        return [label] + ["–" if dig(s, *path) is None else dig(s, *path) for s in sizes] + ["", "", ""]

    body = [
        cost("index time", "s", "index", "seconds"),
        plain("chunks/s", "index", "chunks_per_s"),
        cost("no-op index", "s", "noop_index", "seconds"),
    ]
    for mode in ("full", "rescore"):
        body += [
            cost(f"{mode}: query p50", "ms", mode, "query", "seed", "latency_ms", "p50"),
            cost(f"{mode}: query p95", "ms", mode, "query", "seed", "latency_ms", "p95"),
            cost(f"{mode}: serving RSS", "MB", mode, "serving", "rss_mb"),
            cost(f"{mode}: start to first answer", "s", mode, "serving", "start_to_first_answer_s"),
        ]
        for questions in ("seed", "handbook"):
            body += [
                plain(f"{mode}: {questions} hit@{k}", mode, "query", questions, "overall", f"hit@{k}")
                for k in (1, 4)
            ]
    body += [
        plain(
            f"full + translations, {policy}: {questions} hit@{k}",
            *("translations", policy, "query", questions, "overall", f"hit@{k}"),
        )
        for policy in sizes[-1].get("translations", {})  # the policies the run searched with
        for questions in ("seed", "handbook")
        for k in (1, 4)
    ]
    body += [
        cost("sparse scoring (full)", "ms", "full", "query", "query_parts_ms", "sparse scoring"),
        cost("Chroma search", "ms", "full", "query", "query_parts_ms", "Chroma search"),
    ]
    stages = rows(
        ["index stage (s)"] + [f"{s['chunks']:,} chunks" for s in sizes],
        [
            [stage] + [s["index"]["stages_s"].get(stage, "–") for s in sizes]
            for stage in sizes[-1]["index"]["stages_s"]
        ],
    )
    parts = rows(
        ["one question, `full` (ms, median)"] + [f"{s['chunks']:,} chunks" for s in sizes],
        [
            [part] + [s["full"]["query"]["query_parts_ms"][part] for s in sizes]
            for part in sizes[-1]["full"]["query"]["query_parts_ms"]
        ],
    )
    return f"{rows(head, body)}\n\n{stages}\n\n{parts}\n\nWall time of the run: {data['wall_minutes']} min."


def render_neighbourhood(data: dict[str, Any]) -> str:
    sizes = list(data["sizes"].values())
    variants = [key for key in sizes[0] if key not in ("chunks", "handbook_misses")]

    def cell(result: dict[str, Any], k: int) -> str:
        seed = f"{result['seed'][f'hit@{k}']:.3f}"
        return seed + (f" / {result['handbook'][f'hit@{k}']:.3f}" if "handbook" in result else "")

    head = ["retrieval variant (sparse scores standardised against …, fusion)"]
    head += [f"hit@{k}, {s['chunks']:,} chunks" for k in (4, 1) for s in sizes]
    body = [[variant] + [cell(s[variant], k) for k in (4, 1) for s in sizes] for variant in variants]
    text = f"{rows(head, body)}\n\nSeed questions / handbook questions (where the whole handbook is indexed)."
    misses = [miss for size in sizes for miss in size.get("handbook_misses", {}).items()]
    if misses:
        text += "\n\n" + rows(
            ["handbook question the default misses", "its best gold passage: dense", "sparse", "fused"],
            [
                [
                    f"{qid}: {where['question']}",
                    f"#{where['dense']}",
                    f"#{where['sparse']}",
                    f"#{where['fused']} of {where['candidates']}" if where["fused"] else "not a candidate",
                ]
                for qid, where in misses
            ],
        )
    answered = data.get("answers") or {}
    if answered:
        text += "\n\n" + rows(
            [
                "answers on the seeds (77 questions, embedded model)",
                "accuracy",
                "refused unanswerable",
                "false refusals",
                "p50 / p95",
            ],
            [
                [
                    variant,
                    f"{s['answer_accuracy']:.2f}",
                    f"{s['refusal_rate_unanswerable']:.2f}",
                    f"{s['false_refusal_rate']:.2f}",
                    f"{s['latency_ms']['p50'] / 1000:.1f} / {s['latency_ms']['p95'] / 1000:.1f} s",
                ]
                for variant, s in answered.items()
            ],
        )
    return text


def render_first_run(data: dict[str, Any]) -> str:
    total = data["total_s"]
    table = rows(
        ["step of `make run`", "time"],
        [[label, f"{seconds:.0f} s"] for label, seconds in data["steps_s"].items()]
        + [["**start to first answer**", f"**{int(total // 60)} min {round(total % 60):02d} s**"]],
    )
    cache = "an empty pip cache" if data["empty_pip_cache"] else "pip's cache already filled"
    return f"A fresh clone, {cache}, {data['cpus']} cores:\n\n{table}"


def render_score_drift(data: dict[str, Any]) -> str:
    table = rows(
        [
            "variant (against the first row)",
            "dense max",
            "sparse max",
            "fused p95 / max",
            "top 1 changed",
            "top 4 changed",
            "hit@1",
            "hit@4",
        ],
        [
            [
                v["label"],
                f"{v['max_move']['dense']:.4f}",
                f"{v['max_move']['sparse']:.3f}",
                f"{v['p95_move']['score']:.3f} / {v['max_move']['score']:.3f}",
                f"{v['top1_changed']} of {data['questions']}",
                f"{v['top4_changed']} of {data['questions']}",
                f"{v['hit_at_1']:.2f}",
                f"{v['hit_at_4']:.2f}",
            ]
            for v in data["variants"]
        ],
    )
    example = data["example"]
    lines = [
        f"| {label} | "
        + " | ".join(
            f"`…{h['id'][-8:]}` {h['score']:.4f} ({h['dense']:.4f} / {h['sparse']:.3f})" for h in hits
        )
        + " |"
        for label, hits in example["top3"].items()
    ]
    head = "| variant | first | second | third |\n| --- | --- | --- | --- |"
    return (
        f"{data['questions']} evaluation questions, their top {data['top']} candidates compared:\n\n{table}\n\n"
        f"Question {example['question']}, its top three: chunk, fused score (dense cosine / sparse z):\n\n"
        + head
        + "\n"
        + "\n".join(lines)
    )


def render_handbook_answers(data: dict[str, Any]) -> str:
    kinds = sorted({kind for run in data["runs"] for kind in run["by_kind"]})

    def kind(run: dict[str, Any], name: str) -> str:
        found = run["by_kind"].get(name)
        return f"{found['right']:.2f} ({found['n']})" if found else "–"

    answers = rows(
        ["code", "format", "pages", "accuracy", "hit@4", "refused unans.", "false refusals", *kinds],
        [
            [
                f"{run['code']} `{run['commit']}`",
                run["format"],
                run["pages"],
                f"**{run['overall']['answer_accuracy']:.2f}**",
                f"{run['overall']['hit@4']:.2f}",
                f"{run['overall']['refusal_rate_unanswerable']:.2f}",
                f"{run['overall']['false_refusal_rate']:.2f}",
                *(kind(run, name) for name in kinds),
            ]
            for run in data["runs"]
        ],
    )
    stages = list(dict.fromkeys(stage for run in data["runs"] for stage in run["add"]["stage_seconds"]))
    timing = rows(
        ["code", "format", "chunks", "total", "chunks/s", *stages],
        [
            [
                run["code"],
                run["format"],
                run["add"]["chunks_embedded"],
                seconds(run["add"]["seconds"], 0),
                f"{run['add']['chunks_per_second']:.1f}",
                *(seconds(run["add"]["stage_seconds"].get(stage), 0) for stage in stages),
            ]
            for run in data["runs"]
        ],
    )
    return (
        f"{data['n_questions']} questions; the share right by kind of evidence (the number of questions):"
        f"\n\n{answers}\n\nAdding the pages (after the seeds' index is built), stage by stage:\n\n{timing}"
    )


def render_pdf_readers(data: dict[str, Any]) -> str:
    table = rows(
        ["reader", "evidence whole", "headings", "code blocks", "seconds per file"],
        [
            [
                name,
                f"{r['evidence_whole']:.2f}",
                r["headings"],
                r["code_blocks"],
                f"{r['seconds_per_file']:.2f}",
            ]
            for name, r in data["readers"].items()
        ],
    )
    return f"{data['pages']} printed pages, {data['evidence']} evidence quotes:\n\n{table}"


def render_verifier(data: dict[str, Any]) -> str:
    names = list(data["sets"])
    head = ["rule (refuse when)", *(f"{name}: risk / coverage (shown)" for name in names)]
    rules = list(dict.fromkeys(rule["rule"] for found in data["sets"].values() for rule in found["rules"]))

    def cell(name: str, rule: str) -> str:
        found = next((r for r in data["sets"][name]["rules"] if r["rule"] == rule), None)
        return f"{found['risk']:.2f} / {found['coverage']:.2f} ({found['shown']})" if found else "–"

    table = rows(head, [[rule, *(cell(name, rule) for name in names)] for rule in rules])
    sizes = ", ".join(
        f"{name}: {found['questions']} questions, a judgement {seconds(found['judge_seconds_p50'])} at p50"
        for name, found in data["sets"].items()
    )
    return f"{sizes}.\n\n{table}"


RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "load": ("load", render_load),
    "model_switch": ("model_switch", render_model_switch),
    "answer_latency": ("answer_latency", render_answer_latency),
    "conversation_latency": ("conversation_latency", render_conversation_latency),
    "eval": ("eval-local-final", render_eval),
    "scale": ("scale", render_scale),
    "first_run": ("first_run", render_first_run),
    "neighbourhood": ("neighbourhood", render_neighbourhood),
    "score_drift": ("score_drift", render_score_drift),
    "handbook_answers": ("handbook_answers", render_handbook_answers),
    "pdf_readers": ("pdf_readers", render_pdf_readers),
    "verifier": ("verifier", render_verifier),
}


def render_block(name: str, file: str | None) -> str:
    prefix, render = RENDERERS[name]
    path = RESULTS / file if file else latest(prefix)
    data = json.loads(path.read_text(encoding="utf-8"))
    return f"{render(data)}\n\n{stamp(path, data)}\n"


def rendered(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render_block(m["name"], m["file"]) + m.group(5), text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="report stale tables instead of rewriting them")
    args = parser.parse_args()
    stale = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        new = rendered(text)
        if new != text:
            stale.append(doc.relative_to(ROOT))
            if not args.check:
                doc.write_text(new, encoding="utf-8")
    verb = "stale" if args.check else "rewrote"
    for doc in stale:
        print(f"{verb}: {doc}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
