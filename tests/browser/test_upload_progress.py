"""Adding documents in a real browser: the upload shows indexing progress while a second user's
question is answered in the meantime."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser

from assistant.retrieval import build_index
from tests.browser.chat import ChatPage
from tests.browser.conftest import screenshot
from tests.conftest import ROOT
from tests.servers import serving, ui_server

HANDBOOK = sorted((ROOT / "tests" / "data" / "handbook").glob("*.html"))


def test_an_upload_shows_progress_and_the_chat_keeps_answering(settings_for, browser: Browser, tmp_path):
    settings = settings_for()
    build_index(settings, threads=settings.index_threads)
    with serving(ui_server(settings, tmp_path, ASSISTANT_GENERATOR="extractive")) as app:
        contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(2)]
        try:
            uploader, asker = (ChatPage(c.new_page(), app.url).open() for c in contexts)
            page = uploader.page
            page.locator("#documents").get_by_text("Add documents").first.click()
            page.locator("#upload input[type=file]").set_input_files([str(p) for p in HANDBOOK])
            progress = page.locator("#upload-report .progress-text, #upload-report .progress-level")
            page.wait_for_function(  # Gradio's progress over the report: "33/33 chunks … Indexing: …"
                "() => /\\d+\\/\\d+ chunks[\\s\\S]*Indexing: /.test(document.querySelector('#upload-report').innerText)",
                timeout=60_000,
                polling=50,
            )
            seen = page.locator("#upload-report").inner_text()
            screenshot(page, "upload-progress")

            asked = time.perf_counter()
            asker.ask("How many member states does IOM have?")
            asker.wait_for_sources()
            answered_while_indexing = progress.count() > 0
            waited = time.perf_counter() - asked

            page.locator("#upload-report").get_by_text("added handbook-fr-dhcp").wait_for(timeout=180_000)
            report = page.locator("#upload-report").inner_text()
        finally:
            for context in contexts:
                context.close()
    assert re.search(r"\d+/\d+ chunks", seen) and "Indexing: " in seen, seen
    assert answered_while_indexing, f"the second user waited {waited:.1f} s, until the indexing ended"
    assert report.count("added handbook-") == 3
