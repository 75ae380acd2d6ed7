"""The chat in a real browser, with the instant `extractive` generator: citations, the Sources block,
the article view, refusals, follow-ups, errors, settings, feedback, the API, and no external request."""

from __future__ import annotations

import json
import re

import pytest
from gradio_client import Client

from assistant.conversations import ConversationStore
from assistant.language import LANGUAGES
from assistant.ui import API_NAME
from tests.browser.chat import SOURCES_TITLE, ChatPage
from tests.browser.conftest import screenshot

QUESTIONS = {
    "en": "How many migrants are there in the Greater Mekong Sub-region?",
    "fr": "Quand a eu lieu la visite d'étude à Bangkok organisée par l'OIM ?",
    "vi": "Hội nghị về Thỏa thuận toàn cầu về di cư ở Hà Nội diễn ra vào ngày nào?",
}


def _squash(text: str) -> str:
    return " ".join(text.replace("…", " ").split())


@pytest.mark.parametrize("language", sorted(QUESTIONS))
def test_a_cited_answer_whose_sources_open_the_article_at_the_passage(
    extractive_app, recording_page, language
):
    page = recording_page.page
    chat = ChatPage(page, extractive_app.url).open()
    chat.ask(QUESTIONS[language])
    links = chat.open_sources()

    inline = chat.answer_links()
    assert inline.count() >= 1, "the answer's [n] markers are links to the passages"
    assert re.fullmatch(r"\[?\d+\]?", inline.first.inner_text().strip())
    block = chat.wait_for_sources()
    quoted = _squash(block.locator("blockquote").first.inner_text())
    assert len(quoted) > 40
    assert re.search(r"· (en|fr|vi)\b", block.inner_text()), "each source names its language"
    screenshot(page, f"answer-{language}")

    with page.context.expect_page() as opened:
        links.first.click()
    article = opened.value
    mark = article.locator("mark#passage")
    mark.wait_for()
    article.wait_for_function(
        "() => { const r = document.getElementById('passage').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    highlighted = _squash(" ".join(article.locator("mark").all_inner_texts()))
    assert quoted[:60] in highlighted, "the highlighted text is the cited passage"
    screenshot(article, f"article-{language}")
    assert recording_page.external_requests() == []


def test_no_request_leaves_127_0_0_1(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask(QUESTIONS["en"])
    chat.wait_for_sources()
    recording_page.page.locator("#settings").click()
    assert recording_page.requests, "the recorder saw the page load"
    assert recording_page.external_requests() == []


def test_an_unanswerable_question_is_refused_without_sources(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask("What is the best recipe for chocolate cake?")
    chat.wait_for_text(LANGUAGES["en"].not_in_sources)
    assert chat.turn().locator(".thought-group").filter(has_text=SOURCES_TITLE).count() == 0
    screenshot(recording_page.page, "refusal")


def test_a_follow_up_uses_the_conversation(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask("How many Vietnamese officials took part in the study visit to Bangkok?")
    first = {link.get_attribute("href").split("?")[0] for link in chat.open_sources().all()}
    chat.ask("Who funded it?")
    second = {link.get_attribute("href").split("?")[0] for link in chat.open_sources().all()}
    assert first & second, "the follow-up found the same article as the question it follows"
    screenshot(recording_page.page, "follow-up")


def test_a_too_long_question_gets_a_human_message_and_the_chat_goes_on(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask("migration " * 400)
    message = chat.wait_for_text("the limit is")
    assert "Traceback" not in chat.turn().inner_text()
    assert message.is_visible()
    screenshot(recording_page.page, "too-long")
    chat.ask(QUESTIONS["en"])
    chat.wait_for_sources()


def test_an_empty_question_is_not_sent(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.question_box.fill("   ")
    chat.question_box.press("Enter")
    recording_page.page.wait_for_timeout(1500)
    rows = recording_page.page.locator("#chat .bot-row")
    assert rows.count() == 0 or "empty" in rows.last.inner_text()


def test_the_picker_shows_the_model_and_top_k_changes_retrieval(extractive_app, recording_page):
    page = recording_page.page
    chat = ChatPage(page, extractive_app.url).open()
    assert "Extractive" in chat.model_in_use()
    page.locator("#settings").get_by_text("Settings").first.click()
    number = page.locator("#settings input[type=number]").first
    number.fill("1")
    number.press("Enter")
    chat.ask(QUESTIONS["en"])
    links = chat.open_sources()
    assert links.count() == 1, "with top-k 1 only passage [1] can be cited"
    screenshot(page, "settings")


def test_citation_numbers_in_the_answer_are_the_numbers_of_the_sources_list(extractive_app, recording_page):
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask("Combien de pays observateurs compte l'OIM et combien d'États membres ?")
    block = chat.wait_for_sources()
    chat.open_sources()
    listed = [int(n) for n in re.findall(r"\[(\d+)\]", block.inner_text())]
    answer = chat.turn().locator(".message").first.inner_text()
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", answer)]
    assert cited and cited[0] == 1, "the first citation in the answer is [1]"
    assert sorted(set(cited)) == sorted(set(listed)) == list(range(1, len(set(listed)) + 1))


def test_the_clear_button_empties_the_chat(extractive_app, recording_page):
    page = recording_page.page
    chat = ChatPage(page, extractive_app.url).open()
    chat.ask(QUESTIONS["fr"])
    chat.wait_for_sources()
    page.locator("#chat").get_by_label("Clear").first.click()
    page.wait_for_function("() => document.querySelectorAll('#chat .bot-row').length === 0")


def test_thumbs_up_is_stored_with_question_answer_and_sources(
    extractive_app, recording_page, indexed_settings
):
    feedback = indexed_settings.feedback_file
    before = feedback.read_text().splitlines() if feedback.exists() else []
    chat = ChatPage(recording_page.page, extractive_app.url).open()
    chat.ask(QUESTIONS["vi"])
    chat.wait_for_sources()
    recording_page.page.locator("#chat").get_by_label("Like", exact=True).last.click()
    for _ in range(50):
        lines = feedback.read_text().splitlines() if feedback.exists() else []
        if len(lines) > len(before):
            break
        recording_page.page.wait_for_timeout(100)
    record = json.loads(lines[-1])
    assert record["rating"] == "up"
    assert record["question"] == QUESTIONS["vi"]
    assert record["answer"] and "[[" not in record["answer"]
    assert record["sources"] and all(s["source"] and s["end"] > s["start"] for s in record["sources"])
    store = ConversationStore(indexed_settings.conversations_file)
    for _ in range(50):  # written just after the line above
        turns = [
            t
            for c in store.list(None)
            for t in store.turns(c.id, None)
            if t.answer.question == QUESTIONS["vi"]
        ]
        if turns and turns[0].feedback == 1:
            break
        recording_page.page.wait_for_timeout(100)
    assert turns and turns[0].feedback == 1, "the vote is stored with its turn too"


def test_the_chat_is_an_api_for_gradio_client(extractive_app):
    client = Client(extractive_app.url, verbose=False)
    result = client.predict(QUESTIONS["en"], 4, api_name=f"/{API_NAME}")
    text = json.dumps(result, ensure_ascii=False)
    assert re.search(r"\[\[\d+\]\]\(/articles/", text), "the answer comes back with its citation links"
