"""A real headless Chromium (Debian's `chromium`, driven by Playwright) against `assistant ui`
running in its own process. `.ci/run` installs chromium when it is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from assistant.settings import Settings
from tests.conftest import ROOT
from tests.servers import Server, serving, ui_server

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "Debian's chromium is not installed: `apt-get install -y --no-install-recommends chromium`"
        )
    launched = playwright.chromium.launch(executable_path=chromium, headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def extractive_app(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with the instant `extractive` generator: what the chat shows, not what a model writes."""
    server = ui_server(indexed_settings, tmp_path_factory.mktemp("ui"), ASSISTANT_GENERATOR="extractive")
    with serving(server) as running:
        yield running


class RecordingPage:
    """A page plus every URL it requested (to prove nothing leaves 127.0.0.1)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname not in ("127.0.0.1", None)]


@pytest.fixture
def recording_page(browser: Browser) -> Iterator[RecordingPage]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    recorded = RecordingPage(context.new_page())
    yield recorded
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
