"""The reader's ceiling: how often the text an LLM is given holds an accepted answer at all.

    python bench/reader_ceiling.py [--questions tests/eval/questions.jsonl]

For each prompt shape (how many retrieved passages, cut to how many of their best-matching
sentences, as `ASSISTANT_PROMPT_PASSAGES` / `ASSISTANT_PROMPT_SENTENCES` do), the share of
answerable evaluation questions whose accepted answer appears in what the model reads: the
accuracy a perfect reader of that prompt could reach. Side by side with whole passages (the
baseline) and with the prompt's size; then for the `select` answer mode's shape: the ranker's best
N sentences across the top P passages, judged one at a time. No LLM runs: about 20 s.
An answer stated only in another language's words than the accepted ones counts as missing, so
the ceilings are slightly low. Writes bench/results/reader_ceiling-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.machine import describe_machine  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

from selection import candidates  # noqa: E402  (bench/selection.py)

from assistant.answer import Passage  # noqa: E402
from assistant.evaluation import DEFAULT_QUESTIONS, answer_matches, load_questions  # noqa: E402
from assistant.generators.extractive import ExtractiveGenerator  # noqa: E402
from assistant.retrieval import make_retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PASSAGES = (2, 3, 4, 6, 8)
SENTENCES = (0, 1, 2)  # 0 = whole passages, the baseline
CANDIDATES = (2, 4, 6, 8, 12)  # `select`: the best sentences across the passages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    args = parser.parse_args()

    retriever = make_retriever(Settings(), k=max(PASSAGES))
    extractive = ExtractiveGenerator(retriever.function)
    shapes = {(p, s): {"found": [], "chars": []} for p in PASSAGES for s in SENTENCES}
    pooled = {(p, n): [] for p in PASSAGES for n in CANDIDATES}
    answerable = [q for q in load_questions(args.questions) if q.answerable]
    for question in answerable:
        documents = retriever.search(question.question, max(PASSAGES))
        passages = [Passage.from_document(n, d) for n, d in enumerate(documents, start=1)]
        for (count, sentences), shape in shapes.items():
            shown = passages[:count]
            if sentences:
                shown = extractive.excerpts(question.question, shown, sentences)
            text = "\n".join(p.text for p in shown)
            shape["chars"].append(len(text))
            if answer_matches(text, question.answer_any):
                shape["found"].append(question.id)
        for count, best in pooled:
            items = candidates(extractive, question.question, passages[:count], best)
            if any(answer_matches(c.evidence, question.answer_any) for c in items):
                pooled[(count, best)].append(question.id)

    rows = []
    print(f"{len(answerable)} answerable questions; ceiling = share whose answer the prompt holds")
    print(f"{'passages':>8} {'whole':>14} {'1 sentence':>14} {'2 sentences':>14}   (ceiling, prompt chars)")
    for count in PASSAGES:
        cells = []
        for sentences in SENTENCES:
            shape = shapes[(count, sentences)]
            ceiling = len(shape["found"]) / len(answerable)
            chars = round(mean(shape["chars"]))
            cells.append(f"{ceiling:.2f} {chars:>6}c")
            missing = sorted({q.id for q in answerable} - set(shape["found"]))
            rows.append(
                {
                    "passages": count,
                    "sentences": sentences,
                    "ceiling": ceiling,
                    "chars": chars,
                    "missing": missing,
                }
            )
        print(f"{count:>8} " + " ".join(f"{c:>14}" for c in cells))

    print("select: the best N sentences across the top passages (ceiling)")
    print(f"{'passages':>8} " + " ".join(f"{f'N={n}':>7}" for n in CANDIDATES))
    pooled_rows = []
    for count in PASSAGES:
        cells = []
        for best in CANDIDATES:
            ceiling = len(pooled[(count, best)]) / len(answerable)
            cells.append(f"{ceiling:>7.2f}")
            pooled_rows.append({"passages": count, "candidates": best, "ceiling": ceiling})
        print(f"{count:>8} " + " ".join(cells))

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"reader_ceiling-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "questions": len(answerable),
                "shapes": rows,
                "select": pooled_rows,
                "machine": describe_machine(),
            },
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
