"""The verifier's verdicts: which replies are shown as answers, which become refusals or quotes."""

from __future__ import annotations

import pytest

from assistant.answer import Passage
from assistant.verifier import judge, on_topic

QUESTION = "How many member states does IOM have?"


def passage(n: int, text: str, topicality: float | None = 0.9) -> Passage:
    return Passage(
        n=n, chunk_id=f"c{n}", source="iom", sources=["iom"], title="IOM", language="en", text=text,
        start=0, end=len(text), score=1.0 / n, dense_score=0.5, sparse_score=0.5, topicality=topicality,
    )  # fmt: skip


PASSAGES = [
    passage(1, "IOM has 175 member states and 8 observer states. It has offices in over 100 countries."),
    passage(2, "IOM opened its office in Viet Nam in 1987."),
]


def test_a_reply_its_passage_states_is_shown_as_an_answer_with_its_citation():
    verdict = judge(QUESTION, "IOM has 175 member states [1].", PASSAGES, "en")
    assert verdict.action == "answer"
    assert verdict.cited == [1] and "175" in verdict.text
    assert not verdict.report.fired and not verdict.wrong_language


@pytest.mark.parametrize(
    "reply", ["NOT_IN_SOURCES", "", "The sources do not mention this.", "Les articles ne le précisent pas."]
)
def test_a_decline_is_a_refusal(reply: str):
    assert judge(QUESTION, reply, PASSAGES, "en").action == "refuse"


def test_a_reply_that_names_nothing_is_a_refusal_with_its_reason():
    verdict = judge("Which package do you need to install?", "The package you need is [1].", PASSAGES, "en")
    assert verdict.action == "refuse"
    assert verdict.report.fired and verdict.report.reason and verdict.report.draft


def test_a_figure_in_no_passage_is_a_refusal():
    verdict = judge(QUESTION, "IOM has 190 member states [1].", PASSAGES, "en")
    assert verdict.action == "refuse"
    assert "190" in (verdict.report.reason or "")


def test_a_reply_that_only_restates_the_question_quotes_the_sources_instead():
    verdict = judge("Who opened the office?", "The office was opened [2].", PASSAGES, "en")
    assert verdict.action == "quote"
    assert verdict.report.reason == "the answer only repeats the question"


def test_an_answer_in_another_language_than_the_question_asks_for_a_rewrite():
    verdict = judge(QUESTION, "Le nombre des États membres de l'OIM est de 175 [1].", PASSAGES, "en")
    assert verdict.action == "answer" and verdict.wrong_language


def test_other_citation_shapes_are_read_as_citations():
    verdict = judge(QUESTION, "Answer: IOM has 175 member states (1).", PASSAGES, "en")
    assert verdict.action == "answer" and verdict.cited == [1]
    assert not verdict.text.startswith("Answer")


def test_off_topic_passages_are_not_worth_asking_unless_they_state_the_name_asked_about():
    far = [passage(1, "David Knight spoke at the opening.", topicality=0.1)]
    assert not on_topic("What is the capital of Peru?", far, min_topicality=0.5)
    assert on_topic("Who is David Knight?", far, min_topicality=0.5)
    assert on_topic("What is IOM?", PASSAGES, min_topicality=0.5)
    assert not on_topic("What is IOM?", [], min_topicality=0.5)
