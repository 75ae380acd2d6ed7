"""What the sparse scores are standardised against, on the scale bench's kept indexes.

    python bench/scale.py --keep /tmp/scale     # once: builds share-0.0, share-0.1, share-1.0
    python bench/neighbourhood.py /tmp/scale/share-*
    python bench/neighbourhood.py --answers /tmp/scale/share-*   # + the answers on the seeds

The retriever standardises each candidate's sparse score by the mean and deviation of the
question's neighbourhood (Chroma's dense top `neighbourhood_k`, per language where it holds at
least `neighbours_per_language` passages of it). This compares, on the same indexes and in one
run, that design at several sizes of neighbourhood with the one before it (every passage of the
language): hit@1 and hit@4 of the seed questions and, where the whole handbook is indexed, of the
handbook questions. With `--answers`, the embedded model also answers the 77 evaluation
questions on the seeds' own index (data/) with the baseline and with the default, one after the
other (about 15 min): answer accuracy and refusals, as `assistant eval` scores them. Writes
bench/results/neighbourhood-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402

from assistant.evaluation import DEFAULT_QUESTIONS, evaluate_retrieval, load_questions, sources_of  # noqa: E402

# name -> the retriever's fields; the first is the baseline, the second the default.
VARIANTS: dict[str, dict[str, Any]] = {
    "whole language (before)": {"standardise_within": "language"},
    "neighbourhood 40, 6 per language (default)": {},
    "neighbourhood 20": {"neighbourhood_k": 20},
    "neighbourhood 80": {"neighbourhood_k": 80},
    "neighbourhood 150": {"neighbourhood_k": 150},
    "neighbourhood 40, 1 per language": {"neighbours_per_language": 1},
    "neighbourhood 40, 3 per language": {"neighbours_per_language": 3},
}


def measure(data: Path) -> dict[str, Any]:
    from assistant.retrieval import load_documents, make_retriever

    settings = scale.settings_for(data, scale.QUERY_THREADS)
    retriever = make_retriever(settings, k=4)
    sources = {str(d.metadata["source"]) for d in load_documents(settings)}
    question_sets = {}
    for name, path in (("seed", DEFAULT_QUESTIONS), ("handbook", scale.HANDBOOK_QUESTIONS)):
        every = load_questions(path)
        found = [q for q in (scale.gold_for(q, sources) for q in every) if q]
        if len(found) == len(every):
            question_sets[name] = found
    result: dict[str, Any] = {"chunks": len(retriever.sparse_index)}
    for variant, fields in VARIANTS.items():
        searcher = retriever.model_copy(update=fields)
        result[variant] = {}
        for name, questions in question_sets.items():
            report = evaluate_retrieval(
                questions, lambda q, s=searcher: [sources_of(d) for d in s.search(q, 4)]
            )
            result[variant][name] = {
                "hit@1": report.overall.hit_at(1),
                "hit@4": report.overall.hit_at(4),
                "misses_at_4": report.misses,
            }
    return result


def answers() -> dict[str, Any]:
    """The baseline and the default, each answering every evaluation question with the
    configured generator on the seeds' index."""
    from assistant.chain import AnswerChain
    from assistant.evaluation import evaluate_answers
    from assistant.service import build_chain
    from assistant.settings import Settings

    chain = build_chain(Settings())
    result: dict[str, Any] = {}
    for variant in list(VARIANTS)[:2]:
        searcher = chain.retriever.model_copy(update=VARIANTS[variant])
        asked = AnswerChain(
            chain.settings, searcher, chain.llm, condense_llm=chain.condense_llm, model=chain.model
        )
        report = evaluate_answers(load_questions(), asked.invoke, asked.model)
        result[variant] = report.as_dict()["overall"]
        print(f"{variant}: {json.dumps(result[variant])}", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", nargs="+", type=Path, help="data dirs `bench/scale.py --keep` built")
    parser.add_argument("--answers", action="store_true", help="also the answers on the seeds (~15 min)")
    args = parser.parse_args()
    sizes = {str(data): measure(data) for data in args.data}
    answered = answers() if args.answers else {}
    heads = [f"{size['chunks']:,} chunks" for size in sizes.values()]
    print(f"{'hit@4 (seed / handbook)':44}" + "".join(f"{h:>22}" for h in heads))
    for variant in VARIANTS:
        cells = []
        for size in sizes.values():
            seed = size[variant]["seed"]["hit@4"]
            book = size[variant].get("handbook", {}).get("hit@4")
            cells.append(f"{seed:.3f}" + (f" / {book:.3f}" if book is not None else ""))
        print(f"{variant:44}" + "".join(f"{c:>22}" for c in cells))
    for variant, summary in answered.items():
        print(
            f"answers, {variant}: accuracy {summary['answer_accuracy']}, refused unanswerable "
            f"{summary['refusal_rate_unanswerable']}, false refusals {summary['false_refusal_rate']}"
        )
    result = {
        "bench": "neighbourhood",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "sizes": sizes,
        "answers": answered,
    }
    out = scale.RESULTS / f"neighbourhood-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
