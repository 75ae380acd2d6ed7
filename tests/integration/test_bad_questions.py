"""Bad questions get a clear message — from the chain, the HTTP API and the CLI alike — and odd
but fair ones (mixed scripts, emoji, stray control characters) are answered."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.chain import QuestionError
from assistant.openai_api import MODEL_NAME
from assistant.service import ModelChains, build_chain
from tests.conftest import run_cli

REFUSED = {
    "empty": ("", "the question is empty"),
    "whitespace": (" \t\n  ", "the question is empty"),
    "control characters only": ("\x00\x07\x1b\u200b", "the question is empty"),
    "100 KB": ("migration " * 10_240, "the limit is 2000"),
    "emoji only": ("🤔🤔 ❓", "no words"),
    "punctuation only": ("?!?...", "no words"),
    "German": (
        "Wie viele Mitgliedstaaten hat die Internationale Organisation für Migration?",
        "looks like German",
    ),
    "Chinese": ("国际移民组织有多少个成员国？", "looks like Chinese"),
}
ANSWERED = {
    "mixed scripts": "How many 成员国 (member states) does IOM have?",
    "emoji and text": "Combien d'États membres compte l'OIM ? 🤔",
    "control characters inside": "How many\x00 member\x1b states\u200b does IOM have?",
    "right-to-left override": "How many member states does IOM have?\u202e",
}


@pytest.fixture(scope="module")
def settings(indexed_settings):
    return indexed_settings.model_copy(update={"generator": "extractive"})


@pytest.fixture(scope="module")
def chain(settings):
    return build_chain(settings)


@pytest.fixture(scope="module")
def api(settings, chain):
    with TestClient(create_app(settings, ModelChains(settings, default=chain))) as client:
        yield openai.OpenAI(
            base_url="http://testserver/v1", api_key="unused", http_client=client, max_retries=0
        )


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_chain_says_what_is_wrong(chain, case):
    question, message = REFUSED[case]
    with pytest.raises(QuestionError, match=message):
        chain.invoke(question)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_api_answers_400_with_the_same_message(api, case):
    question, message = REFUSED[case]
    with pytest.raises(openai.BadRequestError, match=message):
        api.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": question}])


@pytest.mark.parametrize("case", sorted(ANSWERED))
def test_odd_but_fair_questions_are_answered(chain, case):
    answer = chain.invoke(ANSWERED[case])
    assert answer.citations and not answer.refused


@pytest.mark.parametrize("case", ["emoji only", "German"])
def test_the_cli_prints_one_line_and_exits_2(settings, case):
    question, message = REFUSED[case]
    result = run_cli(settings, "ask", question, ASSISTANT_GENERATOR="extractive")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
