"""The chat with real models in a real browser: the embedded default (time to first token, as a
user sees it; two users at once, the second told its place in the queue), switching models from
the picker (the embedded GGUF, a model server's, a broken file dropped into the models folder) and
an OpenAI-compatible server that is stopped mid-conversation."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.chat import SOURCES_TITLE, ChatPage
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.servers import LLAMA_ALIAS, Server, llama_server_process, serving, ui_server

pytestmark = pytest.mark.slow

QUESTION = "How many member states does IOM have?"


@pytest.fixture(scope="module")
def local_app(indexed_settings, packaged_model, tmp_path_factory) -> Iterator[Server]:
    """The app on its embedded default model, started once for this module."""
    logs = tmp_path_factory.mktemp("ui-local")
    app = ui_server(indexed_settings, logs, ASSISTANT_GENERATOR="local", ASSISTANT_LLM_THREADS="2")
    with serving(app, timeout=300) as running:
        yield running


def test_the_embedded_model_streams_a_cited_answer(local_app, recording_page):
    """The first question after start: llama.cpp has not seen the system prompt yet."""
    chat = ChatPage(recording_page.page, local_app.url).open()
    pressed = chat.ask(QUESTION)
    chat.wait_for_answer_text()
    first_token = time.perf_counter() - pressed
    sources_already_shown = chat.turn().locator(".thought-group").filter(has_text=SOURCES_TITLE).count()
    chat.wait_for_sources()
    total = time.perf_counter() - pressed
    screenshot(recording_page.page, "embedded-model-answer")
    assert sources_already_shown == 0, "text streamed in before the final, checked answer"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timing = {"question": QUESTION, "first_token_s": round(first_token, 2), "total_s": round(total, 2)}
    (ARTIFACTS / "browser-ttft.json").write_text(json.dumps(timing, indent=2))
    print(f"\nbrowser, embedded model: first token {first_token:.1f} s, complete answer {total:.1f} s")
    assert recording_page.external_requests() == []


def test_a_second_user_sees_the_queue_position_while_the_model_answers_the_first(local_app, browser: Browser):
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(2)]
    try:
        first, second = (ChatPage(context.new_page(), local_app.url).open() for context in contexts)
        first.ask("Since when has IOM been present in Viet Nam?")  # new passages: seconds of prompt
        first.page.wait_for_timeout(1000)  # the second user asks a moment later
        second.ask("Combien d'États membres compte l'OIM ?")
        # Not a frozen page: Gradio's queue status, on the second user's chat while they wait.
        expect(second.page.locator("#chat")).to_contain_text(re.compile(r"queue: \d+/\d+"), timeout=20_000)
        screenshot(second.page, "queued")
        first.wait_for_sources()
        second.wait_for_sources()
        assert re.search(r"\[\d\]", second.turn().inner_text())
    finally:
        for context in contexts:
            context.close()


def test_switching_models_in_the_chat_names_each_answers_model(
    indexed_settings, packaged_model, llama_server, recording_page, tmp_path
):
    folder = tmp_path / "gguf"
    folder.mkdir()
    app = ui_server(
        indexed_settings,
        tmp_path,
        ASSISTANT_GENERATOR="local",
        ASSISTANT_MODEL_PATH=str(packaged_model),
        ASSISTANT_MODELS_DIR=str(folder),
        ASSISTANT_LLM_BASE_URL=llama_server.url + "/v1",
        ASSISTANT_LLM_THREADS="2",
    )
    local_id = f"local:{packaged_model.stem}"
    with serving(app, timeout=300):
        chat = ChatPage(recording_page.page, app.url).open()
        assert packaged_model.name in chat.model_in_use()
        assert any(LLAMA_ALIAS in label for label in chat.model_choices())
        chat.ask(QUESTION)
        assert chat.answered_by().startswith(local_id)

        chat.choose_model(LLAMA_ALIAS)
        chat.model_status(f"Answering with openai:{LLAMA_ALIAS}")
        chat.ask("Combien d'États observateurs compte l'OIM ?")
        assert chat.answered_by().startswith(f"openai:{LLAMA_ALIAS}")
        assert chat.turn(1).locator(".duration").first.inner_text().startswith(local_id)
        screenshot(recording_page.page, "two-models")

        # A file dropped into the folder while the page is open: listed on refresh, refused plainly.
        (folder / "downloaded.gguf").write_bytes(b"<html>403 Forbidden</html>")
        recording_page.page.locator("#refresh-models").click()
        chat.choose_model("downloaded.gguf")
        status = chat.model_status("cannot be used")
        assert "not a GGUF model file" in status and f"Still answering with openai:{LLAMA_ALIAS}" in status
        assert LLAMA_ALIAS in chat.model_in_use(), "the previous model stays chosen"
        screenshot(recording_page.page, "broken-model")
        chat.ask("How many observer states does IOM have?")
        assert chat.answered_by().startswith(f"openai:{LLAMA_ALIAS}")
        assert "Traceback" not in recording_page.page.locator("#chat").inner_text()


def test_a_stopped_model_endpoint_gives_a_friendly_error_and_the_chat_recovers(
    indexed_settings, packaged_model, recording_page, tmp_path
):
    model_server = llama_server_process(packaged_model, tmp_path).start(timeout=300)
    try:
        app = ui_server(
            indexed_settings,
            tmp_path,
            ASSISTANT_GENERATOR="openai",
            ASSISTANT_LLM_BASE_URL=model_server.url + "/v1",
            ASSISTANT_LLM_MODEL=LLAMA_ALIAS,
        )
        with serving(app):
            chat = ChatPage(recording_page.page, app.url).open()
            assert LLAMA_ALIAS in chat.model_in_use()
            chat.ask("Combien d'États membres compte l'OIM ?")
            chat.wait_for_sources()

            model_server.stop()
            chat.ask("Et combien d'États observateurs ?")
            message = chat.wait_for_text("not reachable")
            assert message.is_visible()
            assert "Traceback" not in chat.turn().inner_text()
            screenshot(recording_page.page, "endpoint-down")

            model_server.start(timeout=300)
            chat.ask("Combien d'États observateurs compte l'OIM ?")
            chat.wait_for_sources()
    finally:
        model_server.stop()
