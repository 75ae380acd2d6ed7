"""Switching local models: resident memory (RSS) and switch time, with at most one GGUF loaded
(the default) against keeping both loaded (ASSISTANT_MAX_LOCAL_MODELS=2), in one run.

    python bench/model_switch.py [--switches 5]

Each setting runs in its own process: load the packaged 1.5B model (and ask one question), then
switch to the packaged 0.5B and back `--switches` times, through `ModelChains.prepare` as the
chat's picker does, asking one question on each side. RSS is read from /proc after each step.
Needs both packaged models (`make install`). Writes bench/results/model_switch-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.machine import describe_machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
QUESTION = "How many member states does IOM have?"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def run_one(limit: int, switches: int, data: Path) -> dict[str, Any]:
    """In this process: the load and the switches; returns the RSS and times of each step."""
    from assistant.generators.catalogue import local_id
    from assistant.generators.model_files import PACKAGED, PACKAGED_SMALL, ensure_packaged_model
    from assistant.retrieval import build_index
    from assistant.service import ModelChains
    from assistant.settings import Settings

    settings = Settings(
        _env_file=None,
        data_dir=data,
        seeds_dir=ROOT / "seeds",
        models_dir=ROOT / "data" / "models",
        llm_threads=2,
        max_local_models=limit,
    )
    build_index(settings, threads=2)
    for model in (PACKAGED, PACKAGED_SMALL):  # joined once into data/models, shared by every run
        ensure_packaged_model(ROOT / "data" / "models", model=model)
    models = ModelChains(settings)
    large, small = local_id(PACKAGED.file_name), local_id(PACKAGED_SMALL.file_name)
    steps: list[dict[str, Any]] = [{"step": "before any model", "rss_mb": round(rss_mb())}]
    for n, model in enumerate([large] + [small, large] * switches):
        started = time.perf_counter()
        chain = models.prepare(model)
        loaded = time.perf_counter() - started
        chain.invoke(QUESTION)
        steps.append(
            {
                "step": "first load" if n == 0 else f"switch {n}",
                "model": model,
                "switch_s": round(loaded, 2),
                "rss_mb": round(rss_mb()),
                "loaded": sorted(models.loaded()),
            }
        )
        print(
            f"  limit {limit}: {steps[-1]['step']:>12} → {model:45} {loaded:5.1f} s  RSS {steps[-1]['rss_mb']} MB",
            file=sys.stderr,
        )
    first = steps[1]["rss_mb"]
    same_model = [s["rss_mb"] for s in steps[1:] if s["model"] == large]
    return {
        "max_local_models": limit,
        "steps": steps,
        "first_load_rss_mb": first,
        "last_rss_mb": steps[-1]["rss_mb"],
        "max_rss_mb": max(s["rss_mb"] for s in steps),
        "large_model_rss_after_switches_mb": same_model,
        "large_model_rss_growth_pct": round(100 * (max(same_model) - first) / first, 1),
        "switch_s": [s["switch_s"] for s in steps[2:]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=5, help="round trips 1.5B → 0.5B → 1.5B")
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)  # the child's own setting
    args = parser.parse_args()
    if args.limit:
        with tempfile.TemporaryDirectory() as scratch:
            print(json.dumps(run_one(args.limit, args.switches, Path(scratch) / "data")))
        return 0

    runs = []
    for limit in (1, 2):  # the default, then the baseline that never frees
        child = subprocess.run(
            [sys.executable, __file__, "--switches", str(args.switches), "--limit", str(limit)],
            capture_output=False,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(
        f"\n{'setting':<28}{'first load':>12}{'after last':>12}{'max':>10}{'1.5B growth':>13}{'switch p50':>12}"
    )
    for run in runs:
        switches = sorted(run["switch_s"])
        print(
            f"{'max_local_models=' + str(run['max_local_models']):<28}{run['first_load_rss_mb']:>9} MB"
            f"{run['last_rss_mb']:>9} MB{run['max_rss_mb']:>7} MB{run['large_model_rss_growth_pct']:>12} %"
            f"{switches[len(switches) // 2]:>10} s"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"model_switch-{stamp}.json"
    out.write_text(
        json.dumps(
            {"measured": stamp, "switches": args.switches, "runs": runs, "machine": describe_machine()},
            indent=2,
        )
    )
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
