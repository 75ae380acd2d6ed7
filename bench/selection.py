"""Evidence selection by probability (issue 17's design, measured and not kept): how often the
sentence the model judges most likely to answer holds an accepted answer, how often it abstains
on questions the articles do not answer, against the ranker's own first sentence (the baseline).

The design: the ranker's best sentences of the top 6 passages, each judged by the probability
the model gives "Yes" to "does this sentence answer the question?" (one forward pass each, the
question cached), the most probable one answered from, abstaining below a threshold. A numbered
list read as one next-token distribution was tried first: the 1.5B model chose "1" whatever it
was (selection accuracy 0.55 against the ranker's 0.52). Judged one at a time it separates
better (0.67), but the answers written from the chosen sentence scored below the default
design's on the whole eval; docs/answer-quality.md has both runs.

    python bench/selection.py [--candidates 6] [--cache FILE]

Asks the packaged model (2 threads) P(Yes) for "does this sentence answer the question?" for
each of the ranker's best sentences of the top 6 passages, for every evaluation question, and
caches them in bench/results/selection-<time>.json. `--cache FILE` re-scores a saved run in
seconds: the rule (how many sentences to judge, when to stop early, when to abstain) is tuned
without the model, with leave-one-out cross-validation of the abstention threshold.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import Passage  # noqa: E402
from assistant.evaluation import DEFAULT_QUESTIONS, answer_matches, load_questions, percentile  # noqa: E402
from assistant.generators.extractive import ExtractiveGenerator, split_sentences  # noqa: E402
from assistant.llm import chat_model  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402
from assistant.retrieval import make_retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HERE = Path(__file__).resolve().parent
PASSAGES = 6  # the candidate sentences come from the top 6 passages
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 19)]


YES, NO = "Yes", "No"
# A sentence that opens on one of these leans on the sentence before it for what it is about.
_LEANS_BACK = re.compile(
    r"^(it|its|they|their|this|these|that|those|he|she|his|her|the (workshop|visit|trip|conference|"
    r"meeting|programme|program|event)|il|elle|ils|elles|ce|cette|ces|lors de cette|"
    r"họ|bà|ông|đây|điều này|hội thảo|hội nghị)\b",
    re.IGNORECASE,
)


class Chooser(Protocol):
    """A model that gives log-probabilities of one-token replies to a chat."""

    def choice_logprobs(self, messages: list[BaseMessage], choices: Sequence[str]) -> dict[str, float]: ...


@dataclass(frozen=True)
class Candidate:
    """A sentence the answer may be written from: where it stands in which passage."""

    passage: Passage
    sentence: str
    start: int  # character offsets of the sentence inside passage.text
    end: int
    context: str = ""  # the sentence before, when this one leans on it ("The workshop …")
    score: float = 0.0  # the sentence ranker's score

    @property
    def evidence(self) -> str:
        """What the answer may state: the sentence and the context it carries."""
        return f"{self.context} {self.sentence}".strip()


@dataclass(frozen=True)
class Judged:
    candidate: Candidate
    p_yes: float  # P(Yes) / (P(Yes) + P(No)) for "does this sentence answer the question?"


@dataclass
class Selection:
    """The candidates judged (best-ranked first, up to the first confident Yes)."""

    candidates: list[Candidate]
    judged: list[Judged] = field(default_factory=list)

    @property
    def best(self) -> Judged | None:
        return max(self.judged, key=lambda j: j.p_yes, default=None)

    @property
    def chosen(self) -> Candidate | None:
        best = self.best
        return best.candidate if best else None

    @property
    def confidence(self) -> float:
        best = self.best
        return best.p_yes if best else 0.0

    def probability(self, candidate: Candidate) -> float:
        return next((j.p_yes for j in self.judged if j.candidate is candidate), 0.0)

    def features(self) -> dict[str, float]:
        """What abstention is decided from (and what the eval cache stores)."""
        chosen = self.chosen
        return {
            "confidence": round(self.confidence, 4),
            "judged": len(self.judged),
            "chosen_rank": self.candidates.index(chosen) + 1 if chosen else 0,
        }


def candidates(
    ranker: ExtractiveGenerator, question: str, passages: Sequence[Passage], count: int
) -> list[Candidate]:
    """The `count` sentences of `passages` that best match the question, best first, each with
    its offsets and, when it leans on it, the sentence before."""
    ranked = ranker.rank(question, passages)
    by_n = {p.n: p for p in passages}
    chosen: list[Candidate] = []
    seen: set[str] = set()
    for scored in ranked:
        if len(chosen) >= count:
            break
        key = " ".join(scored.text.lower().split())
        if key in seen or "|" in scored.text:  # a repeat (overlapping chunks), or a scraped menu line
            continue
        seen.add(key)
        passage = by_n[scored.n]
        start = passage.text.find(scored.text)
        context = ""
        if _LEANS_BACK.match(scored.text):
            before = split_sentences(passage.text[:start])
            context = before[-1] if before else ""
        chosen.append(
            Candidate(
                passage=passage,
                sentence=scored.text,
                start=start,
                end=start + len(scored.text),
                context=context,
                score=scored.score,
            )
        )
    return chosen


def verification_messages(
    prompt: ChatPromptTemplate, question: str, candidate: Candidate
) -> list[BaseMessage]:
    """The question, then the sentence (with the context it leans on): the question is the
    shared prefix, so judging the next sentence evaluates only that sentence's tokens."""
    return prompt.format_messages(question=question, sentence=candidate.evidence)


def select(
    chooser: Chooser,
    prompt: ChatPromptTemplate,
    question: str,
    items: Sequence[Candidate],
    enough: float = 1.0,
) -> Selection:
    """Judge the candidates in rank order, stopping at the first with P(Yes) >= `enough`."""
    selection = Selection(list(items))
    for candidate in items:
        logprobs = chooser.choice_logprobs(verification_messages(prompt, question, candidate), [YES, NO])
        p_yes = 1.0 / (1.0 + math.exp(logprobs[NO] - logprobs[YES]))
        selection.judged.append(Judged(candidate, p_yes))
        if p_yes >= enough:
            break
    return selection


def verify_prompt() -> ChatPromptTemplate:
    system = (HERE / "verify.md").read_text(encoding="utf-8").strip()
    return ChatPromptTemplate.from_messages(
        [
            ("system", system.replace("{", "{{").replace("}", "}}")),
            ("human", (HERE / "verify_question.md").read_text(encoding="utf-8").strip()),
        ]
    )


def collect(path: Path, count: int) -> dict[str, Any]:
    settings = Settings(_env_file=None, llm_threads=2, seeds_dir=ROOT / "seeds")
    retriever = make_retriever(settings, k=PASSAGES)
    ranker = ExtractiveGenerator(retriever.function)
    model = chat_model(settings)
    prompt = verify_prompt()
    rows = []
    for question in load_questions(path):
        started = time.perf_counter()
        found = [Passage.from_document(n, d) for n, d in enumerate(retriever.search(question.question), 1)]
        items = candidates(ranker, question.question, found, count)
        ranked = time.perf_counter()
        judged = []
        for candidate in items:  # one at a time, to time each judgement
            mark = time.perf_counter()
            selection = select(model, prompt, question.question, [candidate])
            judged.append((candidate, selection.confidence, time.perf_counter() - mark))
        rows.append(
            {
                "id": question.id,
                "answerable": question.answerable,
                "rank_s": round(ranked - started, 3),
                "candidates": [
                    {
                        "p_yes": round(p_yes, 4),
                        "seconds": round(seconds, 3),
                        "holds_answer": question.answerable
                        and answer_matches(c.evidence, question.answer_any),
                        "source": c.passage.source,
                        "sentence": c.sentence,
                    }
                    for c, p_yes, seconds in judged
                ],
            }
        )
        best = max(judged, key=lambda j: j[1])
        print(f"{question.id}: best p={best[1]:.2f} ({time.perf_counter() - started:.1f} s)", flush=True)
    return {"candidates": count, "rows": rows}


def choose(row: dict[str, Any], judge: int, enough: float) -> tuple[dict[str, Any], float]:
    """The sentence the chain would choose and the seconds spent: judged in rank order, at most
    `judge` of them, stopping at the first with P(Yes) >= `enough`."""
    judged: list[dict[str, Any]] = []
    for candidate in row["candidates"][:judge]:
        judged.append(candidate)
        if candidate["p_yes"] >= enough:
            break
    best = max(judged, key=lambda c: c["p_yes"])
    return best, row["rank_s"] + sum(c["seconds"] for c in judged)


def outcome(
    rows: list[dict[str, Any]],
    judge: int,
    enough: float,
    threshold: float | Callable[[dict[str, Any]], float],
) -> dict[str, Any]:
    """Selection accuracy, refusals and time when each question abstains below `threshold` (one
    for all, or one per question)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    right = refused_unans = false_refusals = 0
    seconds = []
    for row in rows:
        best, spent = choose(row, judge, enough)
        seconds.append(spent)
        refuses = best["p_yes"] < (threshold(row) if callable(threshold) else threshold)
        if row["answerable"]:
            right += not refuses and best["holds_answer"]
            false_refusals += refuses
        else:
            refused_unans += refuses
    return {
        "selection_accuracy": round(right / len(answerable), 4),
        "refusals_unanswerable": round(refused_unans / len(unanswerable), 4) if unanswerable else 0.0,
        "false_refusals": round(false_refusals / len(answerable), 4),
        "seconds_p50": round(percentile(seconds, 50), 2),
        "seconds_p95": round(percentile(seconds, 95), 2),
    }


def cross_validated(rows: list[dict[str, Any]], judge: int, enough: float) -> dict[str, Any]:
    """Leave one question out: the threshold that does best on the others (right answers plus
    refusals on unanswerables), applied to it."""

    def left_out(row: dict[str, Any]) -> float:
        others = [r for r in rows if r is not row]

        def merit(threshold: float) -> float:
            scores = outcome(others, judge, enough, threshold)
            return scores["selection_accuracy"] + scores["refusals_unanswerable"]

        return max(THRESHOLDS, key=merit)

    scores = outcome(rows, judge, enough, left_out)
    return {k: scores[k] for k in ("selection_accuracy", "refusals_unanswerable", "false_refusals")}


def report(run: dict[str, Any]) -> dict[str, Any]:
    rows = run["rows"]
    answerable = [r for r in rows if r["answerable"]]
    print(f"{len(answerable)} answerable, {len(rows) - len(answerable)} unanswerable questions")
    ranker_first = sum(r["candidates"][0]["holds_answer"] for r in answerable) / len(answerable)
    results: dict[str, Any] = {"ranker_first_sentence": round(ranker_first, 4), "shapes": []}
    print(f"baseline, the ranker's first sentence: selection accuracy {ranker_first:.2f}, never abstains")
    print(
        f"{'judge':>5} {'stop at':>7} {'ceiling':>7} {'cv acc.':>7} {'cv refused':>10} {'cv false ref.':>13} {'s p50':>6} {'s p95':>6}"
    )
    for judge in range(1, run["candidates"] + 1):
        for enough in (0.5, 0.6, 0.7, 0.8, 1.01):
            ceiling = sum(any(c["holds_answer"] for c in r["candidates"][:judge]) for r in answerable)
            cv = cross_validated(rows, judge, enough)
            timing = outcome(rows, judge, enough, 0.0)
            shape = {
                "judge": judge,
                "enough": enough,
                "ceiling": round(ceiling / len(answerable), 4),
                **cv,
                "seconds_p50": timing["seconds_p50"],
                "seconds_p95": timing["seconds_p95"],
            }
            results["shapes"].append(shape)
            print(
                f"{judge:>5} {enough:>7} {shape['ceiling']:>7.2f} {cv['selection_accuracy']:>7.2f} "
                f"{cv['refusals_unanswerable']:>10.2f} {cv['false_refusals']:>13.2f} "
                f"{shape['seconds_p50']:>6.1f} {shape['seconds_p95']:>6.1f}"
            )
    best = max(
        results["shapes"],
        key=lambda s: (s["selection_accuracy"] + s["refusals_unanswerable"], -s["seconds_p50"]),
    )
    print(f"best shape: {best}")
    print(
        "accuracy against coverage at that shape (threshold: answered share, selection accuracy, refusals):"
    )
    curve = []
    for threshold in THRESHOLDS:
        scores = outcome(rows, best["judge"], best["enough"], threshold)
        curve.append({"threshold": threshold, **scores})
        print(
            f"  {threshold:.2f}: answered {1 - scores['false_refusals']:.2f} of answerable, "
            f"accuracy {scores['selection_accuracy']:.2f}, refused {scores['refusals_unanswerable']:.2f} of unanswerable"
        )
    results["best"] = best
    results["curve"] = curve
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--cache", type=Path, help="a saved run to re-score without the model")
    args = parser.parse_args()
    if args.cache:
        run = json.loads(args.cache.read_text(encoding="utf-8"))
        out = args.cache
    else:
        run = collect(args.questions, args.candidates)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"selection-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    run["report"] = report(run)
    out.write_text(
        json.dumps({**run, "machine": describe_machine()}, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
