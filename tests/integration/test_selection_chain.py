"""The `select` answer path with a stub model whose P(Yes) and reply are fixed: real index, real
embeddings and ranker, so the candidates, the citation, abstention and the language check are
the chain's own."""

from __future__ import annotations

import math
import re

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import Field

from assistant.chain import AnswerChain
from assistant.language import LANGUAGES
from assistant.retrieval import make_retriever


class StubJudge(GenericFakeChatModel):
    """P(Yes) is `high` for a sentence that contains `answers`, `low` for any other; the answer
    it writes is the next of `replies`."""

    answers: str = ""
    high: float = 0.9
    low: float = 0.05
    judged: list = Field(default_factory=list)

    def choice_logprobs(self, messages, choices):
        sentence = messages[-1].content.split("Sentence:", 1)[1]
        self.judged.append(sentence)
        p = self.high if self.answers and self.answers in sentence else self.low
        return {"Yes": math.log(p), "No": math.log(1 - p)}


def make_chain(settings, answers, *replies, **judge):
    model = StubJudge(messages=iter([AIMessage(r) for r in replies]), answers=answers, judged=[], **judge)
    select = settings.model_copy(update={"generator": "local", "answer_mode": "select"})
    return AnswerChain(select, make_retriever(select), model), model


OBSERVERS = "8 nước quan sát viên"
OFFICIALS = "engaging 11 Vietnamese officials"
VISIT = "How many Vietnamese officials took part in the study visit to Bangkok?"


def test_the_answer_cites_the_chosen_sentences_passage_set_by_code(indexed_settings):
    chain, _ = make_chain(indexed_settings, OFFICIALS, "11 Vietnamese officials took part [4].")
    answer = chain.invoke(VISIT)
    assert not answer.refused and answer.closest is None
    (citation,) = answer.citations
    assert OFFICIALS in citation.quote.sentence
    assert citation.passage[citation.quote.start : citation.quote.end] == citation.quote.sentence
    assert answer.answer == f"11 Vietnamese officials took part [{citation.n}]."  # the model's [4] is dropped
    assert answer.passages[citation.n - 1].chunk_id == citation.chunk_id


def test_evidence_is_shown_before_any_answer_is_written(indexed_settings):
    chain, _ = make_chain(indexed_settings, OFFICIALS, "11 officials.")
    events = list(chain.stream(VISIT))
    kinds = [e.kind for e in events]
    assert kinds.index("evidence") < kinds.index("token") < kinds.index("answer")
    reading, chosen = [e for e in events if e.kind == "evidence"]
    assert len(reading.quotes) == 3 and len(chosen.quotes) == 1 and OFFICIALS in chosen.quotes[0].sentence


def test_no_probable_sentence_means_the_articles_dont_say_with_the_closest_shown(indexed_settings):
    chain, model = make_chain(indexed_settings, "", "never written")
    answer = chain.invoke("What is the total population of the Greater Mekong Sub-region?")
    assert answer.refused and answer.answer == LANGUAGES["en"].not_in_sources
    assert answer.closest is not None and not answer.citations
    assert len(model.judged) == indexed_settings.select_sentences  # every candidate was judged


def test_judging_stops_at_a_confident_yes(indexed_settings):
    chain, model = make_chain(indexed_settings, "IOM", "IOM has 175 member states.", high=0.95, low=0.95)
    chain.invoke("How many member states does IOM have?")
    assert len(model.judged) == 1


def test_a_figure_the_chosen_sentence_does_not_state_is_refused(indexed_settings):
    chain, _ = make_chain(indexed_settings, OFFICIALS, "12 Vietnamese officials took part.")
    answer = chain.invoke(VISIT)
    assert answer.refused and answer.guard.fired and "12" in answer.guard.reason
    assert OFFICIALS in answer.closest.sentence


@pytest.mark.parametrize(
    ("second", "written_in_french"),
    [("L'OIM compte 8 États observateurs.", True), ("The IOM has 8 observer states.", False)],
)
def test_an_answer_in_another_language_is_written_again_once_then_quoted(
    indexed_settings, second, written_in_french
):
    chain, _ = make_chain(
        indexed_settings, OBSERVERS, "IOM has 8 observer states and they are the ones.", second
    )
    answer = chain.invoke("Combien de pays observateurs compte l'OIM ?")
    assert answer.language == "fr" and not answer.refused and answer.guard.fired
    if written_in_french:
        assert answer.answer.startswith("L'OIM compte 8 États observateurs")
    else:
        assert answer.answer.startswith(LANGUAGES["fr"].quoting) and OBSERVERS in answer.answer


def test_a_reply_that_does_not_state_the_asked_figure_gives_way_to_the_chosen_sentence(indexed_settings):
    chain, _ = make_chain(indexed_settings, OFFICIALS, "Vietnamese officials took part in the study visit.")
    answer = chain.invoke(VISIT)
    assert not answer.refused and answer.guard.fired
    assert answer.answer.startswith(LANGUAGES["en"].quoting) and OFFICIALS in answer.answer
    assert answer.answer.endswith(f"[{answer.citations[0].n}].")


def test_a_how_many_question_only_judges_sentences_with_a_figure(indexed_settings):
    chain, model = make_chain(indexed_settings, "", "never written")
    chain.invoke(VISIT)
    assert model.judged and all(re.search(r"\d", sentence) for sentence in model.judged)
