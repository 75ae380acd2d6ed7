"""The chat with real models in a real browser: the embedded default (time to first token, as a
user sees it) and an OpenAI-compatible server that is stopped mid-conversation."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.chat import SOURCES_TITLE, ChatPage
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.conftest import LLAMA_ALIAS, llama_server_process, ui_server
from tests.servers import serving

pytestmark = pytest.mark.slow

QUESTION = "How many member states does IOM have?"


def test_the_embedded_model_streams_a_cited_answer(
    indexed_settings, packaged_model, recording_page, tmp_path
):
    app = ui_server(indexed_settings, tmp_path, ASSISTANT_GENERATOR="local", ASSISTANT_LLM_THREADS="2")
    with serving(app, timeout=300):
        chat = ChatPage(recording_page.page, app.url).open()
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
