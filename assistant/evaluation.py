"""Evaluation questions and retrieval metrics (hit@1, hit@4, MRR, latency), per language.

A search under test is any function from a question to its ranked hits, each hit being the list
of source ids its passage belongs to (a boilerplate passage can belong to several articles).
The same scorer measures our retriever, the tutorial baseline in `bench/`, and the answer chain.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.language import answer_language

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions.jsonl"

Hit = Sequence[str]
Search = Callable[[str], Sequence[Hit]]


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    language: str
    question: str
    gold: tuple[str, ...]
    answer_any: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                EvalQuestion(
                    id=str(row["id"]),
                    language=str(row["language"]),
                    question=str(row["question"]),
                    gold=tuple(row.get("gold") or ()),
                    answer_any=tuple(row.get("answer_any") or ()),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not an evaluation question ({exc})") from exc
    return questions


def sources_of(document: Document) -> list[str]:
    return list(document.metadata.get("sources") or [document.metadata["source"]])


def first_gold_rank(hits: Sequence[Hit], gold: Sequence[str]) -> int | None:
    for rank, sources in enumerate(hits, start=1):
        if set(sources) & set(gold):
            return rank
    return None


@dataclass
class RetrievalScores:
    ranks: list[int | None] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ranks)

    def hit_at(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / self.n if self.n else 0.0

    @property
    def mrr(self) -> float:
        return sum(1.0 / r for r in self.ranks if r is not None) / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "n": self.n,
            "hit@1": round(self.hit_at(1), 4),
            "hit@4": round(self.hit_at(4), 4),
            "mrr": round(self.mrr, 4),
        }


@dataclass
class RetrievalReport:
    by_language: dict[str, RetrievalScores]
    latencies_ms: list[float]
    misses: list[str]

    @property
    def overall(self) -> RetrievalScores:
        return RetrievalScores([r for s in self.by_language.values() for r in s.ranks])

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "by_language": {lang: s.as_dict() for lang, s in sorted(self.by_language.items())},
            "latency_ms": latency_summary(self.latencies_ms),
            "misses_at_4": self.misses,
        }


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "mean": round(sum(values) / len(values), 1) if values else 0.0,
    }


def evaluate_retrieval(questions: Sequence[EvalQuestion], search: Search) -> RetrievalReport:
    """Rank of the first gold passage for every answerable question, and each search's latency."""
    by_language: dict[str, RetrievalScores] = defaultdict(RetrievalScores)
    latencies: list[float] = []
    misses: list[str] = []
    for question in questions:
        if not question.answerable:
            continue
        started = time.perf_counter()
        hits = search(question.question)
        latencies.append((time.perf_counter() - started) * 1000)
        rank = first_gold_rank(hits, question.gold)
        by_language[question.language].ranks.append(rank)
        if rank is None or rank > 4:
            misses.append(question.id)
    return RetrievalReport(dict(by_language), latencies, misses)


# -- answers ----------------------------------------------------------------------------------------
def answer_matches(answer: str, accepted: Sequence[str]) -> bool:
    """True when the answer states one accepted string as whole words, ignoring case, accents and
    spacing ("Le Thi Thu Hang" = "Lê Thị Thu Hằng", "Hanoi" = "Hà Nội", a plural "s"), or states
    an accepted figure in any writing ("4 triệu" = "4.000.000" = "four million"). Whole words:
    "8" is not found in "2018", nor "ba" in "báo"."""
    from assistant.guard import fold, number_value, numbers_in, squash

    words = re.findall(r"[^\W_]+", fold(answer))
    stated = numbers_in(answer)

    def says(candidate: str) -> bool:
        figure = number_value(candidate)
        if figure is not None:
            return figure in stated
        target = squash(candidate)
        for start in range(len(words)):
            run = ""
            for word in words[start:]:
                run += word
                if run in (target, f"{target}s", f"{target}es", f"{target}x"):
                    return True
                if len(run) >= len(target):
                    break
        return False

    return any(says(candidate) for candidate in accepted if candidate.strip())


@dataclass
class AnswerRow:
    question: EvalQuestion
    refused: bool
    correct: bool
    guard_checked: bool
    guard_fired: bool
    rank: int | None
    total_ms: float
    first_token_ms: float | None
    wrong_language: bool = False
    reply: str = ""


@dataclass
class AnswerReport:
    generator: str
    rows: list[AnswerRow]

    def _summary(self, rows: list[AnswerRow]) -> dict[str, object]:
        answerable = [r for r in rows if r.question.answerable]
        unanswerable = [r for r in rows if not r.question.answerable]
        checked = [r for r in rows if r.guard_checked]
        firsts = [r.first_token_ms for r in rows if r.first_token_ms is not None]
        retrieval = RetrievalScores([r.rank for r in answerable])

        def rate(part: list[AnswerRow], whole: list[AnswerRow]) -> float:
            return round(len(part) / len(whole), 4) if whole else 0.0

        shown = [r for r in rows if not r.refused]  # quote blocks and non-answers count as shown
        accuracy = rate([r for r in answerable if r.correct], answerable)
        return {
            "n": len(rows),
            **{k: v for k, v in retrieval.as_dict().items() if k != "n"},
            "answer_accuracy": accuracy,
            # What a user risks in trusting a reply shown as an answer (none shown: no risk to
            # speak of), and what share of the answerable questions gets a right one.
            "risk": rate([r for r in shown if not r.correct], shown) if shown else None,
            "coverage": accuracy,
            "refusal_rate_unanswerable": rate([r for r in unanswerable if r.refused], unanswerable),
            "false_refusal_rate": rate([r for r in answerable if r.refused], answerable),
            "guard_rate": rate([r for r in checked if r.guard_fired], checked),
            "wrong_language_rate": rate([r for r in rows if r.wrong_language], rows),
            "latency_ms": latency_summary([r.total_ms for r in rows]),
            "first_token_ms": latency_summary(firsts) if firsts else None,
        }

    def as_dict(self) -> dict[str, object]:
        languages = sorted({r.question.language for r in self.rows})
        return {
            "generator": self.generator,
            "overall": self._summary(self.rows),
            "by_language": {
                lang: self._summary([r for r in self.rows if r.question.language == lang])
                for lang in languages
            },
            "wrong": [r.question.id for r in self.rows if r.question.answerable and not r.correct],
            "not_refused": [r.question.id for r in self.rows if not r.question.answerable and not r.refused],
            "wrong_language": [r.question.id for r in self.rows if r.wrong_language],
            "replies": {r.question.id: r.reply for r in self.rows},
        }


def evaluate_answers(
    questions: Sequence[EvalQuestion],
    ask: Callable[[str], Any],
    generator: str,
    progress: Callable[[str], None] | None = None,
) -> AnswerReport:
    """Ask every question (`ask` returns an `Answer`) and score what was shown."""
    rows = []
    for question in questions:
        answer = ask(question.question)
        hits = [p.sources for p in answer.passages]
        row = AnswerRow(
            question=question,
            refused=answer.refused,
            correct=question.answerable
            and not answer.refused
            and answer_matches(answer.answer, question.answer_any),
            guard_checked=answer.guard.checked,
            guard_fired=answer.guard.fired,
            rank=first_gold_rank(hits, question.gold) if question.answerable else None,
            total_ms=answer.timings_ms.get("total", 0.0),
            first_token_ms=answer.timings_ms.get("first_token"),
            wrong_language=answer_language(answer.answer) not in (None, answer.language),
            reply=answer.answer,
        )
        rows.append(row)
        if progress:
            verdict = ("refused" if row.refused else "answered") + (
                "" if not question.answerable else (" ✓" if row.correct else " ✗")
            )
            progress(f"{question.id}: {verdict} ({row.total_ms / 1000:.1f} s)")
    return AnswerReport(generator, rows)
