"""The verifier: the one place that decides whether a reply is shown as an answer.

A wrong answer with a citation looks checked, so the chain shows a model's reply as an answer
only on this module's verdict. Otherwise it shows "the articles don't say" with the closest
sentence, or (when the reply was about something the sources state but could not be checked
word for word) the best source sentences quoted. The verdict says which, and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from assistant import guard
from assistant.answer import GuardReport, Passage
from assistant.language import answer_language
from assistant.prompts import NOT_IN_SOURCES

# What a model writes when it declines in prose instead of replying NOT_IN_SOURCES.
DECLINES = re.compile(
    "|".join(
        [
            NOT_IN_SOURCES,
            r"\b(do|does|did)\s+not\s+(provide|contain|mention|say|state|specify|include|give)",
            r"\b(no|any)\s+information\b",
            r"\bnot\s+(mentioned|specified|provided|stated|available)\b",
            r"\bne\s+(précise|mentionne|contien|dit|fourni|donne|parle|indique)\w*\s+pas\b",
            r"\b(aucune|pas\s+d')\s*information",
            r"\bkhông\s+(đề\s+cập|có\s+thông\s+tin|nêu|cung\s+cấp|nói)",
        ]
    ),
    re.IGNORECASE,
)
_OTHER_MARKERS = re.compile(r"[(\[【]\s*(?:source|nguồn)?\s*(\d{1,2})\s*[)\]】]", re.IGNORECASE)

# answer: show the checked reply; refuse: "the articles don't say" and the closest sentence;
# quote: the best source sentences, quoted and cited, instead of the reply.
Action = Literal["answer", "refuse", "quote"]


@dataclass(frozen=True)
class Verdict:
    action: Action
    text: str = ""  # the reply as shown when `action` is "answer"
    cited: list[int] = field(default_factory=list)
    report: GuardReport = field(default_factory=GuardReport)
    wrong_language: bool = False  # an answer, but not in the question's language: ask again


def on_topic(question: str, passages: Sequence[Passage], min_topicality: float) -> bool:
    """Worth asking the model at all: the best passage is similar enough to the question, or
    states the full name the question asks about ("Qui est David Knight ?" is short, and a name
    alone is not much like any passage to the embedding model)."""
    topicality = [p.topicality for p in passages if p.topicality is not None]
    if not passages or not topicality or max(topicality) >= min_topicality:
        return bool(passages)
    named = [name for name in guard.names_in(question) if " " in name]
    found = guard.Evidence.of(" ".join(p.text for p in passages))
    return any(found.supports_name(name) for name in named)


def judge(question: str, reply: str, passages: Sequence[Passage], language: str) -> Verdict:
    """The verdict on the model's `reply` to `question` over the retrieved `passages`.

    A decline or a reply that names nothing means the sources don't say; a detail found in no
    passage means the model did not find it either. A reply that only restates the question, or
    whose claims are not all in the passage it cites, still points at passages on the topic: the
    best sentences are quoted instead of it."""

    def fired(reason: str) -> GuardReport:
        return GuardReport(checked=True, fired=True, reason=reason, draft=reply)

    if not reply.strip() or DECLINES.search(reply):
        return Verdict("refuse")
    if missing := guard.misses_what_is_asked(question, reply):
        return Verdict("refuse", report=fired(missing))
    tidy = tidy_reply(reply, len(passages))
    if guard.repeats_the_question(question, tidy):
        return Verdict("quote", report=fired("the answer only repeats the question"))
    result = guard.check(tidy, {p.n: p.text for p in passages}, question)
    report = GuardReport(
        checked=True,
        fired=not result.passed,
        dropped_citations=result.dropped,
        unsupported=result.unsupported,
        repaired=result.repaired,
        reason=result.reason,
        draft=None if result.passed else reply,
    )
    if result.passed:
        wrong_language = answer_language(result.text) not in (None, language)
        return Verdict("answer", result.text, result.cited, report, wrong_language)
    if invented := guard.made_up(tidy, [p.text for p in passages], question):
        report.reason = f"in no retrieved passage: {', '.join(invented)}"
        return Verdict("refuse", report=report)
    return Verdict("quote", report=report)


def tidy_reply(text: str, passages: int) -> str:
    """Strip what small models wrap answers in (an 'Answer:' label, stray source tags), and turn
    their other citation shapes ("(3)", "[Source 3]", "【3】") into `[3]` when 3 is a passage."""
    text = re.sub(r"</?source[^>]*>", "", text)

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{n}]" if 1 <= n <= passages else match.group(0)

    text = _OTHER_MARKERS.sub(marker, text)
    return re.sub(r"^\s*(answer|réponse|trả lời)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)
