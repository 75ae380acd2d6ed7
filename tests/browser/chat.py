"""How a test drives the chat page: a tiny page object over Gradio's chat DOM."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page

ANSWER_TIMEOUT_MS = 120_000
SOURCES_TITLE = re.compile(r"(Sources|Nguồn) \(\d+\)")
# The text of an assistant turn outside its notices and Sources block (which are thought groups).
_ANSWER_TEXT_JS = """(turn) => {
  const rows = document.querySelectorAll('#chat .bot-row');
  if (rows.length < turn) return null;
  const parts = [...rows[turn - 1].querySelectorAll('.md')].filter((el) => !el.closest('.thought-group'));
  const text = parts.map((p) => p.innerText).join(' ').trim();
  return text.length ? text : null;
}"""


class ChatPage:
    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.turns = 0

    def open(self) -> ChatPage:
        self.page.goto(self.url + "/")
        self.question_box.wait_for()
        return self

    @property
    def question_box(self) -> Locator:
        return self.page.locator("#question textarea")

    def ask(self, question: str) -> float:
        """Type and press Enter; returns the moment Enter was pressed (perf_counter)."""
        self.question_box.fill(question)
        self.turns += 1
        pressed = time.perf_counter()
        self.question_box.press("Enter")
        return pressed

    def turn(self, n: int | None = None) -> Locator:
        return self.page.locator("#chat .bot-row").nth((n or self.turns) - 1)

    def wait_for_answer_text(self, timeout_ms: int = ANSWER_TIMEOUT_MS) -> str:
        handle = self.page.wait_for_function(_ANSWER_TEXT_JS, arg=self.turns, timeout=timeout_ms, polling=50)
        return str(handle.json_value())

    def wait_for_text(self, text: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> Locator:
        found = self.turn().get_by_text(text).first
        found.wait_for(timeout=timeout_ms)
        return found

    def wait_for_sources(self, timeout_ms: int = ANSWER_TIMEOUT_MS) -> Locator:
        """The collapsed Sources block of the current turn, once the answer is final."""
        block = self.turn().locator(".thought-group").filter(has_text=SOURCES_TITLE).first
        block.wait_for(timeout=timeout_ms)
        return block

    def open_sources(self) -> Locator:
        """Expand the Sources block; returns its article links."""
        block = self.wait_for_sources()
        block.locator(".title").first.click()
        links = block.locator('a[href^="/articles/"]')
        links.first.wait_for()
        return links

    def wait_until_idle(self, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
        """No pending notice (spinner) left and the box accepts a new question."""
        self.page.wait_for_function(
            "() => !document.querySelector('#chat .loading-spinner')",
            timeout=timeout_ms,
        )
        self.question_box.wait_for(state="visible", timeout=timeout_ms)

    def model_in_use(self) -> str:
        """The picker's shown choice (its label)."""
        return self.page.locator("#model input").input_value()

    def choose_model(self, label: str | re.Pattern[str]) -> None:
        self.page.locator("#model input").click()
        self.page.locator("#model [role=option]").filter(has_text=label).first.click()

    def model_choices(self) -> list[str]:
        self.page.locator("#model input").click()
        options = self.page.locator("#model [role=option]")
        options.first.wait_for()
        labels = [label.strip() for label in options.all_inner_texts()]
        self.page.keyboard.press("Escape")
        return labels

    def model_status(self, text: str | re.Pattern[str], timeout_ms: int = ANSWER_TIMEOUT_MS) -> str:
        status = self.page.locator("#model-status")
        status.filter(has_text=text).wait_for(timeout=timeout_ms)
        return status.inner_text()

    def answered_by(self) -> str:
        """The model the current turn's Sources line names (its log: `<model id> · 4.1 s`)."""
        return self.wait_for_sources().locator(".duration").first.inner_text()

    def answer_links(self) -> Locator:
        """The citation links in the answer text (not in the Sources block)."""
        return self.turn().locator('a[href^="/articles/"]:not(.thought-group a)')
