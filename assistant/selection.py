"""Evidence selection: which retrieved sentence answers the question, read from the probability
the model gives "Yes" to "does this sentence answer the question?" for each candidate.

A small model is poor at writing a faithful answer from a page of text, and (measured with the
packaged 1.5B model, `bench/selection.py`) poor at picking from a numbered list too: it picks
"1" whatever is there. Judging one sentence at a time it separates: P(Yes) is high on the
sentence that states the answer and low on its neighbours and on traps. So the chain judges the
ranker's best sentences in turn (the question stays in llama.cpp's cache, each judgement costs
the sentence's tokens), stops at a confident Yes, and answers from the most probable one, or
abstains when none is probable enough. The chosen sentence, not the model, sets the citation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

from assistant.answer import Passage
from assistant.generators.extractive import ExtractiveGenerator, split_sentences

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
