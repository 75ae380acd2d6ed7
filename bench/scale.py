"""Scale: what the assistant costs at 1x, ~10x and ~100x the seeds, and how each cost grows.

    python bench/scale.py [--sizes 0,0.1,1] [--handbook DIR] [--keep DIR]

Each size is the seeds plus a share of the Debian Administrator's Handbook (`debian-handbook`,
HTML in en-US, fr-FR and vi-VN: 381 pages, 3.6 M characters, ~8,000 chunks), the first pages of
each language by name until that share of its characters. The handbook comes from
/usr/share/doc/debian-handbook/html, or `--handbook`, or is fetched from Debian's registry
(`apt-get download debian-handbook` and `dpkg -x`, no installation) into data/cache/.

Per size, each phase in a fresh process as a user would run it:
- **index**: `build_index` from an empty data dir with 2 threads; chunks, chunks/s, and the time
  of each stage (loading and cleaning, chunking, dense pass, sparse pass, Chroma writes);
- **no-op index**: `assistant index` again, nothing changed (the wall time a user waits);
- **query**: the retriever (1 thread, as the server) over the seed questions and, where all
  their pages are indexed, the handbook questions: hit@1, hit@4, latency p50/p95, and where a
  query's time goes (dense and sparse encoding, Chroma's search, the sparse scoring);
- **serving**: `assistant ui` with the `extractive` generator: time from start to the first
  answer through /v1, and the server's RSS after warm-up;
- at the largest size, **translations**: hit@1 and hit@4 once more with
  `ASSISTANT_SEARCH_TRANSLATIONS=english` (the embedded model translates a question not in English
  into English, about 1 s) and `=every` (into each of the collection's other languages, about 2 s).

Then a power law `cost = a * chunks^b` is fitted to each cost over the sizes and extrapolated
to 1 M chunks. Writes bench/results/scale-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import DEFAULT_QUESTIONS, EvalQuestion, load_questions  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HANDBOOK_QUESTIONS = ROOT / "bench" / "handbook_questions.jsonl"
HANDBOOK_LANGUAGES = ("en-US", "fr-FR", "vi-VN")
INSTALLED_HANDBOOK = Path("/usr/share/doc/debian-handbook/html")
HANDBOOK_CACHE = ROOT / "data" / "cache" / "debian-handbook"
# The imported pages are cached per importer: a better importer must not be measured on old text.
IMPORTER = "blocks-v1"
MODES = ("full", "rescore")  # ASSISTANT_SPARSE_SEARCH: the sparse index in memory, or Chroma first
# The largest size is searched once more per `ASSISTANT_SEARCH_TRANSLATIONS` policy: the question
# also translated by the embedded model into English, or into each of the collection's other languages.
TRANSLATION_POLICIES = ("english", "every")
RETRIEVER_ALONE = {"ASSISTANT_SEARCH_TRANSLATIONS": "none"}  # the `full` and `rescore` rows
TRANSLATIONS_ENV = {"ASSISTANT_SPARSE_SEARCH": "full", "ASSISTANT_GENERATOR": "local"}
INDEX_THREADS = 2
QUERY_THREADS = 1
MILLION = 1_000_000


# -- the collection ---------------------------------------------------------------------------------
def handbook_dir(given: Path | None) -> Path:
    """The handbook's html folder: given, installed, or fetched once from Debian's registry."""
    for folder in (given, INSTALLED_HANDBOOK, HANDBOOK_CACHE / "usr/share/doc/debian-handbook/html"):
        if folder is not None and (folder / "en-US").is_dir():
            return folder
    HANDBOOK_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(["apt-get", "download", "debian-handbook"], cwd=download, check=True)
        package = next(Path(download).glob("debian-handbook_*.deb"))
        subprocess.run(["dpkg", "-x", str(package), str(HANDBOOK_CACHE)], check=True)
    return HANDBOOK_CACHE / "usr/share/doc/debian-handbook/html"


def page_key(language: str, page: str) -> str:
    """The source-id prefix of a handbook page: `hb-en-sect-apt-get` for en-US/sect.apt-get.html."""
    return f"hb-{language[:2]}-{page.replace('.', '-')}"


def imported_pages(folder: Path, work: Path) -> dict[str, list[tuple[str, int]]]:
    """Every handbook page converted as `assistant add` converts HTML, cached as text files named
    `<page key>.<IMPORTER>.txt` under `work`; per language, (page key, characters) in page order."""
    from assistant.settings import Settings
    from vectorstore.importing import prepare

    limits = Settings(_env_file=None).load_limits
    pages: dict[str, list[tuple[str, int]]] = {}
    work.mkdir(parents=True, exist_ok=True)
    for language in HANDBOOK_LANGUAGES:
        pages[language] = []
        for path in sorted((folder / language).glob("*.html")):
            key = page_key(language, path.stem)
            text_file = work / f"{key}.{IMPORTER}.txt"
            if not text_file.exists():
                text_file.write_text(prepare(path, limits).text, encoding="utf-8")
            pages[language].append((key, len(text_file.read_text(encoding="utf-8"))))
    return pages


def build_collection(seeds: Path, pages: dict[str, list[tuple[str, int]]], texts: Path, share: float) -> int:
    """The seeds plus `share` of each language's handbook characters, in `seeds`; pages added."""
    from vectorstore.importing import Candidate, write
    from vectorstore.loading import document_from_text

    shutil.copytree(ROOT / "seeds", seeds)
    candidates = []
    for language, listed in pages.items():
        budget = share * sum(size for _, size in listed)
        used = 0
        for key, size in listed:
            if share <= 0 or (used + size > budget * 1.0001 and used):
                break
            used += size
            text = (texts / f"{key}.{IMPORTER}.txt").read_text(encoding="utf-8")
            found = document_from_text(text, Path(f"{key}.txt"), None)
            candidates.append(
                Candidate(
                    origin=Path(f"{language}/{key}.html"),
                    source_id=key,
                    text=text,
                    title=str(found.metadata["title"]),
                    language=str(found.metadata["language"]),
                )
            )
    write(seeds, candidates, keep_originals=False)  # the pages are read from the handbook's folder
    return len(candidates)


# -- phases, each in its own process ----------------------------------------------------------------
def settings_for(data: Path, threads: int) -> Any:
    from assistant.settings import Settings

    return Settings(_env_file=None, data_dir=data, seeds_dir=data / "articles", embed_threads=threads)


def rss_mb(pid: int | None = None) -> float:
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def phase_index(data: Path) -> dict[str, Any]:
    from assistant.retrieval import build_index

    started = time.perf_counter()
    report = build_index(settings_for(data, INDEX_THREADS), threads=INDEX_THREADS)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "chunks": report.chunks_total,
        "chunks_per_s": round(report.chunks_total / seconds, 2),
        "stages_s": {stage: round(value, 2) for stage, value in report.stage_seconds.items()},
    }


def gold_for(question: EvalQuestion, sources: set[str]) -> EvalQuestion | None:
    """A handbook question's gold pages as the source ids of their indexed versions in every
    language (`hb-*-<page>`); None when one of its pages is not in this collection."""
    from dataclasses import replace

    pages = [gold for gold in question.gold if gold.startswith("hb-")]
    if not pages:
        return question
    found = tuple(s for s in sources for page in pages if s[len("hb-xx-") :] == page[len("hb-") :])
    if len({s[len("hb-xx-") :] for s in found}) < len(pages):
        return None
    return replace(question, gold=found)


def question_sets(settings: Any) -> dict[str, list[EvalQuestion]]:
    """The seed and the handbook questions, gold named as this collection's source ids; a set
    only when the collection holds the gold pages of every question in it."""
    from assistant.retrieval import load_documents

    sources = {str(d.metadata["source"]) for d in load_documents(settings)}
    sets: dict[str, list[EvalQuestion]] = {}
    for name, path in (("seed", DEFAULT_QUESTIONS), ("handbook", HANDBOOK_QUESTIONS)):
        every = load_questions(path)
        found = [q for q in (gold_for(q, sources) for q in every) if q]
        if found and len(found) == len(every):
            sets[name] = found
    return sets


def phase_query(data: Path) -> dict[str, Any]:
    import numpy as np

    from assistant.evaluation import evaluate_retrieval, sources_of
    from assistant.retrieval import make_retriever
    from vectorstore.embeddings import clear_feature_cache

    settings = settings_for(data, QUERY_THREADS)
    retriever = make_retriever(settings, k=4)
    started = time.perf_counter()
    retriever.search("warm-up")  # the model and the sparse index load once, as in a server
    warm_up_s = time.perf_counter() - started
    result: dict[str, Any] = {"warm_up_s": round(warm_up_s, 2)}
    translations = translator(settings)
    for name, questions in question_sets(settings).items():
        clear_feature_cache()  # every question pays its own encoding, as a new question would
        report = evaluate_retrieval(
            questions, lambda q: [sources_of(d) for d in retriever.search(q, 4, translations(q))]
        )
        result[name] = report.as_dict()

    result["rss_mb"] = rss_mb()
    if retriever.sparse_search != "full" or settings.search_translations != "none":
        return result
    # Where one query's time goes, over the seed questions (medians, ms).
    parts: dict[str, list[float]] = {"dense encoding": [], "sparse encoding": [], "Chroma search": []}
    parts |= {"sparse scoring": [], "whole search": []}
    function, index = retriever.function, retriever.sparse_index
    for question in load_questions(DEFAULT_QUESTIONS):
        text = question.question
        clear_feature_cache()
        t0 = time.perf_counter()
        raw = function.raw_queries([text])
        t1 = time.perf_counter()
        sparse = function.sparse([text])[0]
        t2 = time.perf_counter()
        centred = function.centre(raw, function.languages_of([text]))[0]
        retriever.store.similarity_search_by_vector_with_relevance_scores(centred.tolist(), k=20)
        t3 = time.perf_counter()
        np.argsort(-index.scores(sparse))[:20]
        t4 = time.perf_counter()
        clear_feature_cache()
        retriever.search(text, 4)
        t5 = time.perf_counter()
        for part, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            parts[part].append(seconds * 1000)
    result["query_parts_ms"] = {part: round(statistics.median(v), 1) for part, v in parts.items()}
    return result


def translator(settings: Any) -> Any:
    """The chain's translations of a question, as `search_translations` has it search (the
    embedded model's); none when that setting is off."""
    if settings.search_translations == "none":
        return lambda question: []
    from assistant.service import build_chain

    chain = build_chain(settings)
    return chain.translations


PHASES = {"index": phase_index, "query": phase_query}


def run_phase(phase: str, data: Path, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, str(data)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def noop_index(data: Path) -> dict[str, Any]:
    """`assistant index` a second time, as a user runs it: nothing to do."""
    from tests.servers import cli_env

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index"],
        env=cli_env(settings_for(data, INDEX_THREADS)),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "added 0, updated 0, deleted 0" not in done.stdout + done.stderr:
        raise SystemExit(f"the no-op index did something or failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    return {"seconds": round(seconds, 2)}


def serving(data: Path, questions: list[EvalQuestion], mode: str) -> dict[str, Any]:
    """`assistant ui` with the extractive generator: start to first answer, RSS after warm-up."""
    from openai import OpenAI

    from tests.servers import ui_server

    server = ui_server(
        settings_for(data, QUERY_THREADS),
        data / "logs",
        ASSISTANT_GENERATOR="extractive",
        ASSISTANT_SPARSE_SEARCH=mode,
    )
    started = time.perf_counter()
    server.start(timeout=900)
    try:
        client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=300)

        def ask(question: str) -> None:
            client.chat.completions.create(
                model="assistant", messages=[{"role": "user", "content": question}]
            )

        ask(questions[0].question)
        first_answer_s = time.perf_counter() - started
        for question in questions[1:11]:
            ask(question.question)
        assert server.process is not None
        return {"start_to_first_answer_s": round(first_answer_s, 1), "rss_mb": rss_mb(server.process.pid)}
    finally:
        server.stop()


# -- growth -----------------------------------------------------------------------------------------
def fit(points: list[tuple[float, float]]) -> dict[str, Any]:
    """`cost = a * n^b` by least squares in log-log space; its kind and its value at 1 M chunks."""
    usable = [(n, y) for n, y in points if n > 0 and y > 0]
    if len(usable) < 2:
        return {}
    xs = [math.log(n) for n, _ in usable]
    ys = [math.log(y) for _, y in usable]
    slope, intercept = statistics.linear_regression(xs, ys)
    kind = (
        "constant"
        if slope < 0.15
        else "sublinear"
        if slope < 0.85
        else "linear"
        if slope < 1.15
        else "superlinear"
    )
    return {
        "exponent": round(slope, 2),
        "kind": kind,
        "at_1M": round(math.exp(intercept) * MILLION**slope, 1),
    }


COSTS = {  # label: (path in a size's result, unit)
    "index time": (("index", "seconds"), "s"),
    "no-op index": (("noop_index", "seconds"), "s"),
}
for _mode in MODES:
    COSTS |= {
        f"{_mode}: query p50": ((_mode, "query", "seed", "latency_ms", "p50"), "ms"),
        f"{_mode}: query p95": ((_mode, "query", "seed", "latency_ms", "p95"), "ms"),
        f"{_mode}: serving RSS": ((_mode, "serving", "rss_mb"), "MB"),
        f"{_mode}: start to first answer": ((_mode, "serving", "start_to_first_answer_s"), "s"),
    }
COSTS |= {
    "sparse scoring (full)": (("full", "query", "query_parts_ms", "sparse scoring"), "ms"),
    "Chroma search": (("full", "query", "query_parts_ms", "Chroma search"), "ms"),
}


def dig(result: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        result = result.get(key) if isinstance(result, dict) else None  # type: ignore[assignment]
    return result


def table(sizes: list[dict[str, Any]], growth: dict[str, dict[str, Any]]) -> str:
    heads = [f"{s['chunks']} chunks ({s['times_seeds']}x)" for s in sizes]
    lines = [f"{'':24}" + "".join(f"{h:>22}" for h in heads) + f"{'growth':>22}{'at 1M chunks':>16}"]
    for label, (path, unit) in COSTS.items():
        values = [dig(s, path) for s in sizes]
        fitted = growth.get(label, {})
        kind = f"{fitted['kind']} (n^{fitted['exponent']})" if fitted else ""
        at = f"{fitted['at_1M']} {unit}" if fitted else ""
        lines.append(
            f"{label + ' (' + unit + ')':24}"
            + "".join(f"{v if v is not None else '-':>22}" for v in values)
            + f"{kind:>22}{at:>16}"
        )
    quality = [("chunks/s", ("index", "chunks_per_s"))]
    searches = [(mode, (mode,)) for mode in MODES]
    searches += [(f"translations, {p}", ("translations", p)) for p in TRANSLATION_POLICIES]
    for label, where in searches:
        for questions in ("seed", "handbook"):
            quality += [
                (f"{label}: {questions} hit@{k}", (*where, "query", questions, "overall", f"hit@{k}"))
                for k in (1, 4)
            ]
    for label, path in quality:
        values = [dig(s, path) for s in sizes]
        lines.append(f"{label:24}" + "".join(f"{v if v is not None else '-':>22}" for v in values))
    lines.append("index stages (s):")
    for stage in sizes[-1]["index"]["stages_s"]:
        values = [s["index"]["stages_s"].get(stage) for s in sizes]
        lines.append(f"  {stage:22}" + "".join(f"{v if v is not None else '-':>22}" for v in values))
    lines.append("one query, full (ms, median):")
    for part in sizes[-1]["full"]["query"]["query_parts_ms"]:
        values = [s["full"]["query"]["query_parts_ms"][part] for s in sizes]
        lines.append(f"  {part:22}" + "".join(f"{v:>22}" for v in values))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phase", nargs=2, metavar=("PHASE", "DATA"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="0,0.1,1", help="shares of the handbook added to the seeds")
    parser.add_argument(
        "--handbook", type=Path, help="the handbook's html folder (default: found or fetched)"
    )
    parser.add_argument(
        "--keep", type=Path, help="build in this folder and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.phase:
        phase, data = args.phase
        print(json.dumps(PHASES[phase](Path(data))))
        return

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    began = time.perf_counter()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder = handbook_dir(args.handbook)
    pages = imported_pages(folder, HANDBOOK_CACHE / "text")
    seed_questions = load_questions(DEFAULT_QUESTIONS)
    sizes: list[dict[str, Any]] = []
    try:
        shares = [float(s) for s in args.sizes.split(",")]
        for share in shares:
            data = work / f"share-{share}"
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True)
            added = build_collection(data / "articles", pages, HANDBOOK_CACHE / "text", share)
            print(f"share {share}: seeds + {added} handbook pages", file=sys.stderr, flush=True)
            size: dict[str, Any] = {"handbook_share": share, "handbook_pages": added}
            size["index"] = run_phase("index", data)
            size["chunks"] = size["index"]["chunks"]
            print(f"  indexed {size['chunks']} chunks in {size['index']['seconds']} s", file=sys.stderr)
            size["noop_index"] = noop_index(data)
            for mode in MODES:
                size[mode] = {
                    "query": run_phase("query", data, **RETRIEVER_ALONE, ASSISTANT_SPARSE_SEARCH=mode),
                    "serving": serving(data, seed_questions, mode),
                }
                print(
                    f"  {mode}: {json.dumps(size[mode]['query'].get('seed', {}).get('latency_ms'))}",
                    file=sys.stderr,
                )
            if share == shares[-1]:  # quality only: the translations cost a model pass each
                size["translations"] = {
                    policy: {
                        "query": run_phase(
                            "query", data, **TRANSLATIONS_ENV, ASSISTANT_SEARCH_TRANSLATIONS=policy
                        )
                    }
                    for policy in TRANSLATION_POLICIES
                }
            sizes.append(size)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for size in sizes:
        size["times_seeds"] = round(size["chunks"] / sizes[0]["chunks"], 1)
    growth = {
        label: fit([(s["chunks"], dig(s, path)) for s in sizes if dig(s, path) is not None])
        for label, (path, _unit) in COSTS.items()
    }
    result = {
        "bench": "scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_minutes": round((time.perf_counter() - began) / 60, 1),
        "sizes": sizes,
        "growth": growth,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)  # written first: a half-hour run is never lost to the table
    out = RESULTS / f"scale-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps({**result, "machine": describe_machine()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(table(sizes, growth))
    print(f"wall time: {result['wall_minutes']} min")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
