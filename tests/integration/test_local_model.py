"""The real embedded model (llama.cpp, the packaged Qwen2.5 1.5B GGUF): a few questions per language.

Slow (about 10 s a question on two cores); `.ci/run` runs them. Skip locally with -m "not slow".
"""

from __future__ import annotations

import pytest

from assistant.evaluation import answer_matches
from assistant.generators.model_files import PACKAGED, sha256_of
from assistant.guard import check
from assistant.language import LANGUAGES, answer_language
from assistant.llm import _local_model
from assistant.service import build_chain

pytestmark = pytest.mark.slow

QUESTIONS = [
    ("en", "How many migrants leave the Greater Mekong Sub-region each year to work abroad?"),
    ("en", "When did the National Assembly adopt the amended law on human trafficking?"),
    ("fr", "Combien d'États membres compte l'OIM ?"),
    ("fr", "Qui était le chef de mission de l'OIM au Viet Nam lors de l'atelier sur les migrants en crise ?"),
    ("vi", "IOM bắt đầu hoạt động tại Việt Nam từ năm nào?"),
    ("vi", "Có bao nhiêu quan chức Việt Nam tham gia chuyến thăm học tập tại Bangkok?"),
]


@pytest.fixture(scope="module")
def model_path(packaged_model):
    return packaged_model


@pytest.fixture(scope="module")
def local_chain(indexed_settings, model_path):
    return build_chain(indexed_settings.model_copy(update={"generator": "local", "model_path": model_path}))


def test_the_packaged_model_is_joined_and_verified(model_path):
    assert model_path.stat().st_size > 1_000_000_000
    assert sha256_of(model_path) == PACKAGED.sha256


def test_a_model_file_that_does_not_match_is_refused(tmp_path, model_path):
    from assistant.generators.model_files import ModelFileError, verify

    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(ModelFileError, match="refusing to load it"):
        verify(fake, PACKAGED.sha256)


@pytest.mark.parametrize(("language", "question"), QUESTIONS)
def test_answers_are_cited_in_the_question_language_and_guarded(local_chain, language, question):
    answer = local_chain.invoke(question)
    print(f"\n{question}\n→ [{answer.generator}] {answer.answer}\n  {answer.timings_ms}")
    assert answer.language == language
    assert not answer.refused
    assert answer.citations, "an answer must cite"
    cited = {p.n: p.text for p in answer.passages}
    assert all(c.n in cited for c in answer.citations)
    if answer.generator == "local":
        # It passed the guard: re-checking gives the same verdict, and it speaks the language.
        assert check(answer.answer, cited, question).passed
        # Told as the chain tells it (function words, names set aside): a statistical detector
        # calls "David Knight, chef de mission de l'OIM au Viet Nam [3]." English.
        assert answer_language(answer.answer) in (language, None)
    else:
        # It failed the guard and fell back to quoting, saying so in the question's language.
        assert answer.generator == "extractive" and answer.guard.fired
        assert answer.answer.startswith(LANGUAGES[language].quoting)
    assert answer.timings_ms["first_token"] < answer.timings_ms["total"]


@pytest.mark.parametrize(
    "question",
    [
        "What is IOM's annual budget for its Viet Nam programmes?",
        "Việt Nam có bao nhiêu lao động đang làm việc tại Đài Loan?",
    ],
)
def test_an_unanswerable_question_never_shows_an_unsupported_figure(local_chain, question):
    """The 1.5B model does not reliably decline (see the eval); what is guaranteed is that what it
    shows is either a refusal, or claims that are in the passages they cite, or quotes."""
    answer = local_chain.invoke(question)
    print(f"\n{question}\n→ [{answer.generator}] refused={answer.refused} {answer.answer}")
    if answer.refused:
        assert answer.answer == LANGUAGES[answer.language].not_in_sources
    elif answer.generator == "local":
        assert check(answer.answer, {p.n: p.text for p in answer.passages}, question).passed
    else:
        assert answer.generator == "extractive" and answer.guard.fired and answer.guard.draft


def test_warm_up_opens_both_contexts_and_caches_the_fixed_prompt(indexed_settings, model_path):
    _local_model.cache_clear()  # fresh contexts, whatever ran before (the weights stay mapped)
    chain = build_chain(indexed_settings.model_copy(update={"generator": "local", "model_path": model_path}))
    assert chain.llm._llama is None and chain.condense_llm._llama is None
    chain.warm_up()
    assert chain.condense_llm._llama is not None, "the first follow-up must not wait for a context"
    assert len(chain.llm._llama._input_ids) > 500, "system prompt and worked examples are cached"


def test_a_follow_up_is_rewritten_by_the_model(local_chain):
    first = "Who co-chaired the Hanoi conference on the Global Compact for Migration?"
    history = [("user", first), ("assistant", local_chain.invoke(first).answer)]
    cached = list(local_chain.llm.load()._input_ids[:300])  # system prompt + worked examples
    answer = local_chain.invoke("On what date was it held?", history)
    print(f"\nstandalone: {answer.standalone_question}\n→ {answer.answer}")
    assert answer.standalone_question != "On what date was it held?"
    assert "002_b28986079c88c4a6" in [p.source for p in answer.passages]
    # The rewrite ran in its own context: the answer context's prompt cache was not evicted.
    assert local_chain.condense_llm is not local_chain.llm
    assert list(local_chain.llm.load()._input_ids[:300]) == cached and len(cached) == 300


def test_a_follow_up_that_stands_on_its_own_is_not_rewritten(local_chain):
    first = "Who co-chaired the Hanoi conference on the Global Compact for Migration?"
    history = [("user", first), ("assistant", local_chain.invoke(first).answer)]
    question = "How many member states does IOM have?"
    answer = local_chain.invoke(question, history)
    assert answer.standalone_question == question
    assert "condense" not in answer.timings_ms, "no model pass for a question that stands alone"


# The questions a new user asked (issue 17's table), each with what a right answer must state; an
# empty tuple: the articles do not say, so only a refusal is honest.
ASKED = [
    ("fr", "Qui a présidé la conférence du 18 décembre à Hanoï ?", ("Phan Thi Minh Giang", "Kendra Rinas")),
    (
        "fr",
        "Combien de pays participaient à l'atelier régional sur les migrants en crise ?",
        ("Cambodge", "Cambodia", "Myanmar", "Thaïlande", "Thailand", "Lao", "cinq", "5"),
    ),
    ("en", "Who is Le Thi Thu Hang?", ("Vice Minister", "Deputy Minister", "Thứ trưởng")),
    (
        "vi",
        "Hội nghị về Thỏa thuận toàn cầu về di cư ở Hà Nội diễn ra vào ngày nào?",
        ("18/12", "18 tháng 12", "18 décembre", "December 18", "18 December"),
    ),
    ("en", "What is the total population of the Greater Mekong Sub-region?", ()),
    ("fr", "Combien de participants ont assisté à la conférence du 18 décembre à Hanoï ?", ()),
    ("vi", "Ai là người tài trợ cho hội nghị ngày 18 tháng 12 tại Hà Nội?", ()),
]


@pytest.mark.parametrize(("language", "question", "accepted"), ASKED)
def test_the_questions_users_asked_get_right_answers_or_honest_refusals(
    local_chain, language, question, accepted
):
    """In the question's language, and every figure or name shown is in the passage it cites,
    always. Right or honestly refused: issue 17's goal, not met by the packaged 1.5B model for
    most of these (docs/answer-quality.md); a wrong answer is reported as an expected failure."""
    answer = local_chain.invoke(question)
    seconds = answer.timings_ms["total"] / 1000
    print(f"\n{question}\n→ refused={answer.refused} {answer.answer} ({seconds:.1f} s)")
    assert answer.language == language
    assert answer_language(answer.answer) in (None, language)
    if answer.refused:
        assert answer.answer == LANGUAGES[language].not_in_sources
        return
    cited = {c.n: c.passage for c in answer.citations}
    assert cited and (answer.generator == "extractive" or check(answer.answer, cited, question).passed)
    if not accepted or not answer_matches(answer.answer, accepted):
        pytest.xfail(f"issue 17: answered wrongly: {answer.answer}")


def test_choice_logprobs_reads_the_first_tokens_probability_and_keeps_the_prompt_cached(local_chain):
    """What bench/selection.py reads: P(Yes) for "does this sentence answer?" from one forward
    pass, higher for the sentence that answers; the prompt stays in the KV cache."""
    import math

    from langchain_core.messages import HumanMessage, SystemMessage

    model = local_chain.llm
    system = SystemMessage("Reply Yes if the sentence answers the question, else No.")

    def p_yes(sentence: str) -> float:
        question = "How many Vietnamese officials took part in the study visit?"
        human = HumanMessage(f"Question: {question}\nSentence: {sentence}\nDoes it answer? Reply Yes or No.")
        logprobs = model.choice_logprobs([system, human], ["Yes", "No"])
        assert all(value <= 0 for value in logprobs.values())
        return 1 / (1 + math.exp(logprobs["No"] - logprobs["Yes"]))

    answering = p_yes("IOM Vietnam hosted a study visit to Bangkok, engaging 11 Vietnamese officials.")
    cached = model.load().n_tokens
    unrelated = p_yes("The workshop is co-hosted with Viet Nam's Ministry of Foreign Affairs.")
    assert answering > unrelated
    assert cached > 20 and model.load().n_tokens > 20
    with pytest.raises(ValueError, match="choices must be one"):
        model.choice_logprobs([system], ["Yes please"])
