"""Saved conversations in a real browser: ask two questions, restart the app process, reopen the
conversation from the sidebar with its Sources and working links, ask a follow-up that reads it,
and export it with every cited passage."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.browser.chat import ChatPage
from tests.browser.conftest import screenshot
from tests.servers import serving, ui_server

QUESTIONS = [
    "How many member states does IOM have?",
    "Quand a eu lieu la visite d'étude à Bangkok organisée par l'OIM ?",
]
FOLLOW_UP = "and the observer states?"


def export(page, button: str) -> str:
    if not page.locator(f"#{button}").is_visible():
        page.locator("#conversation-tools").get_by_text("This conversation").first.click()
    before = (
        page.locator("#export-file a").first.get_attribute("href")
        if page.locator("#export-file a").count()
        else None
    )
    page.locator(f"#{button}").click()
    link = page.locator("#export-file a").first
    page.wait_for_function(
        "(before) => { const a = document.querySelector('#export-file a'); return a && a.href && a.getAttribute('href') !== before; }",
        arg=before,
    )
    href = link.get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.ok
    return response.text()


def test_a_conversation_survives_a_restart_and_exports_with_its_citations(
    shared_index_settings, recording_page, tmp_path: Path
):
    settings = shared_index_settings
    page = recording_page.page

    with serving(ui_server(settings, tmp_path, ASSISTANT_GENERATOR="extractive")) as app:
        chat = ChatPage(page, app.url).open()
        for question in QUESTIONS:
            chat.ask(question)
            chat.wait_for_sources()
        answers = [chat.turn(n).inner_text() for n in (1, 2)]
        page.locator("#conversations").get_by_text(QUESTIONS[0]).wait_for()

    with serving(ui_server(settings, tmp_path, ASSISTANT_GENERATOR="extractive")) as app:
        chat = ChatPage(page, app.url).open()
        assert page.locator("#chat .bot-row").count() == 0
        page.locator("#conversations").get_by_text(QUESTIONS[0]).click()
        page.locator("#chat .bot-row").nth(1).wait_for()
        chat.turns = 2
        for n, before in enumerate(answers, start=1):
            assert re.sub(r"\d+\.\d s", "", chat.turn(n).inner_text()) == re.sub(r"\d+\.\d s", "", before)
        links = chat.open_sources()
        with page.context.expect_page() as opened:
            links.first.click()
        opened.value.locator("mark#passage").wait_for()
        opened.value.close()
        screenshot(page, "reopened-conversation")

        chat.ask(FOLLOW_UP)
        chat.wait_for_sources()
        saved = json.loads(export(page, "export-json"))
        markdown = export(page, "export-md")

    turns = saved["turns"]
    assert [t["question"] for t in turns] == [*QUESTIONS, FOLLOW_UP]
    assert turns[2]["standalone_question"].startswith(QUESTIONS[1]), "the follow-up read the reopened history"
    cited = [c for t in turns for c in t["citations"]]
    assert cited
    for citation in cited:
        assert citation["passage"].splitlines()[0] in markdown
        assert citation["title"] in markdown
    assert recording_page.external_requests() == []


def test_two_signed_in_users_see_only_their_own_conversations(shared_index_settings, browser, tmp_path: Path):
    settings = shared_index_settings
    users = {"alice": ("alice-pw-1", QUESTIONS[0]), "bob": ("bob-pw-2", QUESTIONS[1])}
    auth = ",".join(f"{user}:{password}" for user, (password, _) in users.items())
    with serving(ui_server(settings, tmp_path, ASSISTANT_GENERATOR="extractive", ASSISTANT_AUTH=auth)) as app:
        pages = {}
        for user, (password, question) in users.items():
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            assert page.request.post(app.url + "/login", form={"username": user, "password": password}).ok
            chat = ChatPage(page, app.url).open()
            chat.ask(question)
            chat.wait_for_sources()
            page.locator("#conversations").get_by_text(question).wait_for()
            pages[user] = page
        for user, page in pages.items():
            page.reload()
            page.locator("#question textarea").wait_for()
            own, other = users[user][1], next(q for u, (_, q) in users.items() if u != user)
            page.locator("#conversations").get_by_text(own).wait_for()
            assert page.locator("#conversations").get_by_text(other).count() == 0
            page.context.close()


def test_two_browsers_without_sign_in_see_only_their_own_conversations(
    shared_index_settings, browser, tmp_path: Path
):
    with serving(ui_server(shared_index_settings, tmp_path, ASSISTANT_GENERATOR="extractive")) as app:
        pages = []
        for question in QUESTIONS:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            chat = ChatPage(page, app.url).open()
            chat.ask(question)
            chat.wait_for_sources()
            page.locator("#conversations").get_by_text(question).wait_for()
            pages.append((page, question))
        for page, own in pages:
            page.reload()
            page.locator("#question textarea").wait_for()
            page.locator("#conversations").get_by_text(own).wait_for()
            other = next(q for _, q in pages if q != own)
            assert page.locator("#conversations").get_by_text(other).count() == 0
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["assistant_visitor"]["httpOnly"], "scripts in the page cannot read the identity"
            page.context.close()
