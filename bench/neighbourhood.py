"""What the sparse scores are standardised against, on the scale bench's kept indexes.

    python bench/scale.py --keep /tmp/scale     # once: builds share-0.0, share-0.1, share-1.0
    python bench/neighbourhood.py /tmp/scale/share-*
    python bench/neighbourhood.py --answers /tmp/scale/share-*   # + the answers on the seeds

The retriever standardises each candidate's sparse score by the mean and deviation of the
question's neighbourhood (Chroma's dense top `neighbourhood_k`, per language where it holds at
least `neighbours_per_language` passages of it). This compares, on the same indexes and in one
run, that design at several sizes of neighbourhood with the one before it (every passage of the
language), then the fusion's own knobs (the dense score's weight, how many candidates each head
gives): hit@1 and hit@4 of the seed questions and, where the whole handbook is indexed, of the
handbook questions. For each handbook question the default misses, it says where its best gold
passage stands: in Chroma's dense ranking of the whole collection, in the sparse one (standardised
per language, as the sparse top candidates are chosen), and among the fused candidates.

With `--answers`, the embedded model also answers the 77 evaluation questions on the seeds' own
index (data/) with the baseline and the default, both without translations, then with the default
searching the question's translation into English, then into every other language, one run after
another (about 32 min): accuracy, refusals and latency, as `assistant eval` scores them. Writes bench/results/neighbourhood-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.machine import describe_machine  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402

from assistant.evaluation import (  # noqa: E402
    EvalQuestion,
    evaluate_retrieval,
    load_questions,
    sources_of,
)
from vectorstore.retriever import HybridRetriever  # noqa: E402

# name -> the retriever's fields; the first is the baseline, the second the default.
VARIANTS: dict[str, dict[str, Any]] = {
    "whole language (before)": {"standardise_within": "language"},
    "neighbourhood 40, 6 per language (default)": {},
    "neighbourhood 20": {"neighbourhood_k": 20},
    "neighbourhood 80": {"neighbourhood_k": 80},
    "neighbourhood 150": {"neighbourhood_k": 150},
    "neighbourhood 40, 1 per language": {"neighbours_per_language": 1},
    "neighbourhood 40, 3 per language": {"neighbours_per_language": 3},
    # The fusion's own knobs, with the default neighbourhood.
    "dense weight 0.6": {"dense_weight": 0.6},
    "dense weight 0.4": {"dense_weight": 0.4},
    "40 candidates from each head": {"candidate_k": 40},
}

# The default retrieval searching the embedded model's translations of each question too, as
# ASSISTANT_SEARCH_TRANSLATIONS has it (`--answers` only): run name -> that setting.
TRANSLATED = {
    "default + the question in English": "english",
    "default + the question in every language": "every",
}


def measure(data: Path) -> dict[str, Any]:
    from assistant.retrieval import make_retriever

    settings = scale.settings_for(data, scale.QUERY_THREADS)
    retriever = make_retriever(settings, k=4)
    question_sets = scale.question_sets(settings)
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
    if "handbook" in question_sets:
        result["handbook_misses"] = gold_ranks(retriever, question_sets["handbook"], result)
    return result


def gold_ranks(
    retriever: HybridRetriever, questions: list[EvalQuestion], result: dict[str, Any]
) -> dict[str, Any]:
    """Where the best gold passage of each handbook question the default misses stands, 1-based:
    dense (whole collection), sparse (whole collection), fused (among the candidates, or None)."""
    import numpy as np
    from langchain_core.documents import Document

    misses = set(result[list(VARIANTS)[1]]["handbook"]["misses_at_4"])
    held = retriever.store.get(include=["embeddings", "metadatas"])
    vectors = np.asarray(held["embeddings"], dtype=np.float32)
    sources = [set(sources_of(Document(page_content="", metadata=m))) for m in held["metadatas"]]
    index = retriever.sparse_index
    position = {chunk_id: i for i, chunk_id in enumerate(index.ids)}
    ranks: dict[str, Any] = {}
    for question in (q for q in questions if q.id in misses):
        gold = [i for i, s in enumerate(sources) if s & set(question.gold)]
        dense_order = np.argsort(-(vectors @ retriever.function.query_vectors(question.question)[1]))
        sparse_order = np.argsort(-index.scores(retriever.function.query_features(question.question)[1]))
        sparse_gold = {position[held["ids"][i]] for i in gold}
        fused = retriever.ranked(question.question, retriever.candidate_k)
        ranks[question.id] = {
            "question": question.question,
            "dense": int(np.flatnonzero(np.isin(dense_order, gold))[0]) + 1,
            "sparse": int(np.flatnonzero(np.isin(sparse_order, list(sparse_gold)))[0]) + 1,
            "fused": next(
                (n for n, hit in enumerate(fused, 1) if set(sources_of(hit.document)) & set(question.gold)),
                None,
            ),
            "candidates": len(fused),
        }
    return ranks


def answers() -> dict[str, Any]:
    """The baseline and the default retrieval without translations, then the default searching
    the question's translations as each `TRANSLATED` policy has it: every evaluation question
    answered by the configured generator on the seeds' index, one run after another."""
    from assistant.chain import AnswerChain
    from assistant.evaluation import evaluate_answers
    from assistant.service import build_chain
    from assistant.settings import Settings

    chain = build_chain(Settings())
    untranslated = chain.settings.model_copy(update={"search_translations": "none"})
    result: dict[str, Any] = {}
    baseline, default = list(VARIANTS)[:2]
    runs = [(baseline, VARIANTS[baseline], untranslated), (default, {}, untranslated)]
    for variant, policy in TRANSLATED.items():
        runs.append((variant, {}, chain.settings.model_copy(update={"search_translations": policy})))
    for variant, fields, settings in runs:
        searcher = chain.retriever.model_copy(update=fields)
        asked = AnswerChain(settings, searcher, chain.llm, condense_llm=chain.condense_llm, model=chain.model)
        report = evaluate_answers(load_questions(), asked.invoke, asked.model)
        result[variant] = report.as_dict()["overall"]  # latency_ms: p50 / p95 per question
        print(f"{variant}: {json.dumps(result[variant])}", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", nargs="+", type=Path, help="data dirs `bench/scale.py --keep` built")
    parser.add_argument("--answers", action="store_true", help="also the answers on the seeds (~32 min)")
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
    for size in sizes.values():
        for qid, where in size.get("handbook_misses", {}).items():
            print(
                f"handbook miss {qid}: best gold passage dense #{where['dense']}, sparse #{where['sparse']}, "
                f"fused #{where['fused'] or '-'} of {where['candidates']} candidates ({where['question']})"
            )
    for variant, summary in answered.items():
        print(
            f"answers, {variant}: accuracy {summary['answer_accuracy']}, refused unanswerable "
            f"{summary['refusal_rate_unanswerable']}, false refusals {summary['false_refusal_rate']}, "
            f"p50 {summary['latency_ms']['p50'] / 1000:.1f} s, p95 {summary['latency_ms']['p95'] / 1000:.1f} s"
        )
    result = {
        "bench": "neighbourhood",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": sizes,
        "answers": answered,
    }
    out = scale.RESULTS / f"neighbourhood-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps({**result, "machine": describe_machine()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
