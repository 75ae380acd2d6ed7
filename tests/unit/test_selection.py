import math

import pytest

from assistant.answer import Passage
from assistant.generators.extractive import ScoredSentence
from assistant.prompts import Prompts
from assistant.selection import candidates, select, verification_messages
from tests.conftest import ROOT


def passage(n, text, title="T"):
    return Passage(
        n=n, chunk_id=f"c{n}", source=f"s{n}", sources=[f"s{n}"], title=title, language="en",
        text=text, start=0, end=len(text), score=1.0, dense_score=1.0, sparse_score=1.0,
    )  # fmt: skip


class Ranker:
    """Ranks sentences in the order given: the real ranker needs the embedding model."""

    def __init__(self, order):
        self.order = order

    def rank(self, question, passages):
        return [ScoredSentence(text, n, 1.0 - i / 10) for i, (n, text) in enumerate(self.order)]


class FixedJudge:
    """A model whose log-probabilities of Yes and No are fixed per sentence: what `select` reads."""

    def __init__(self, p_yes):
        self.p_yes = p_yes  # sentence text -> P(Yes)
        self.asked = []

    def choice_logprobs(self, messages, choices):
        content = messages[-1].content
        sentence = max((s for s in self.p_yes if s in content), key=content.rindex)  # the one judged
        self.asked.append(sentence)
        p = self.p_yes[sentence]
        return {"Yes": math.log(p), "No": math.log(1 - p)} | {
            c: -30.0 for c in choices if c not in ("Yes", "No")
        }


PROMPT = Prompts.load(ROOT / "prompts").verify
PASSAGES = [
    passage(1, "IOM has 175 member states. It also has 8 observer states."),
    passage(2, "The workshop lasted two days. The workshop was funded by PRM."),
]


def test_candidates_are_labelled_best_first_with_their_offsets_in_the_passage():
    ranker = Ranker([(2, "The workshop was funded by PRM."), (1, "IOM has 175 member states.")])
    items = candidates(ranker, "Who funded it?", PASSAGES, 8)
    assert [c.sentence for c in items] == ["The workshop was funded by PRM.", "IOM has 175 member states."]
    for c in items:
        assert c.passage.text[c.start : c.end] == c.sentence


def test_a_sentence_that_leans_on_the_one_before_carries_it():
    ranker = Ranker([(1, "It also has 8 observer states."), (2, "The workshop was funded by PRM.")])
    leaning, funded = candidates(ranker, "How many observers?", PASSAGES, 8)
    assert leaning.context == "IOM has 175 member states."
    assert "IOM" in leaning.evidence and "8 observer" in leaning.evidence
    assert funded.context == "The workshop lasted two days."  # "the workshop": which one?


def test_the_same_sentence_twice_is_one_candidate_and_the_count_is_capped():
    twice = [(1, "IOM has 175 member states."), (2, "IOM has  175 member states.")]
    assert len(candidates(Ranker(twice), "q", PASSAGES, 8)) == 1
    many = [(1, f"Sentence number {i} here.") for i in range(30)]
    assert len(candidates(Ranker(many), "q", PASSAGES, 4)) == 4


SENTENCES = ["IOM has 175 member states.", "It also has 8 observer states.", "The workshop lasted two days."]


def items_of(sentences):
    order = [(next(p.n for p in PASSAGES if s in p.text), s) for s in sentences]
    return candidates(Ranker(order), "How many observer states?", PASSAGES, 8)


def test_the_most_probable_yes_is_chosen_whatever_its_rank():
    items = items_of(SENTENCES)
    judge = FixedJudge({SENTENCES[0]: 0.3, SENTENCES[1]: 0.9, SENTENCES[2]: 0.1})
    selection = select(judge, PROMPT, "How many observer states?", items)
    assert selection.chosen is items[1]
    assert selection.confidence == pytest.approx(0.9)
    assert selection.probability(items[0]) == pytest.approx(0.3)
    assert selection.features()["chosen_rank"] == 2
    assert judge.asked == SENTENCES  # all judged, in rank order


def test_judging_stops_at_the_first_confident_yes():
    items = items_of(SENTENCES)
    judge = FixedJudge({SENTENCES[0]: 0.8, SENTENCES[1]: 0.95, SENTENCES[2]: 0.1})
    selection = select(judge, PROMPT, "How many observer states?", items, enough=0.7)
    assert judge.asked == SENTENCES[:1] and selection.chosen is items[0]


def test_no_candidate_chooses_nothing():
    selection = select(FixedJudge({}), PROMPT, "q", [])
    assert selection.chosen is None and selection.confidence == 0.0


def test_the_judgement_prompt_puts_the_question_first_and_quotes_the_sentence_with_its_context():
    leaning = items_of(["It also has 8 observer states."])[0]
    system, human = verification_messages(PROMPT, "How many observer states?", leaning)
    assert system.type == "system" and "Yes" in system.content and "No" in system.content
    assert human.content.index("How many observer states?") < human.content.index(
        "IOM has 175 member states."
    )
    assert "It also has 8 observer states." in human.content


def test_scraped_menu_lines_are_not_candidates():
    menu = passage(3, "IOM Appreciates Vietnam's Efforts | | IOM Ready to Enhance Cooperation |")
    ranker = Ranker([(3, "IOM Appreciates Vietnam's Efforts | | IOM Ready to Enhance Cooperation |")])
    assert candidates(ranker, "q", [menu], 4) == []
