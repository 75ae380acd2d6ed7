"""The README's pictures, taken from the real app: `make screenshots`.

Starts `assistant ui` on the project's own data (the index `make run` builds; refreshed first)
with the default generator, asks one question in headless Chromium (Debian's `chromium`), and
saves `docs/images/answer.png` (the cited answer with its Sources block open) and
`docs/images/article.png` (the article view at the cited passage).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from assistant.retrieval import build_index
from assistant.settings import Settings
from tests.browser.chat import ChatPage
from tests.conftest import ROOT
from tests.servers import serving, ui_server

IMAGES = ROOT / "docs" / "images"
QUESTION = "How many member states and observer states does IOM have?"


def take(question: str, out: Path) -> list[Path]:
    """In a scratch data folder (its own index and an empty conversation list; the joined models
    are linked from the project's), so the pictures show a first conversation."""
    project = Settings()
    scratch = Path(tempfile.mkdtemp(prefix="screenshots-"))
    (project.data_dir / "models").mkdir(parents=True, exist_ok=True)
    (scratch / "models").symlink_to((project.data_dir / "models").resolve())
    settings = project.model_copy(update={"data_dir": scratch, "seeds_dir": project.seeds_dir.resolve()})
    try:
        build_index(settings)
        return _shoot(settings, question, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _shoot(settings: Settings, question: str, out: Path) -> list[Path]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y --no-install-recommends chromium")
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as logs,
        serving(ui_server(settings, Path(logs))) as app,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
        chat = ChatPage(context.new_page(), app.url).open()
        chat.ask(question)
        try:
            links = chat.open_sources()
        except Exception:
            chat.page.screenshot(path=str(out / "failed.png"))
            raise SystemExit(
                f"no cited answer to {question!r}; the page is in {out / 'failed.png'}"
            ) from None
        chat.wait_until_idle()
        chat.page.wait_for_timeout(2000)  # saving the turn re-renders the chat, folding the block again
        quoted = chat.wait_for_sources().locator("blockquote").first
        if not quoted.is_visible():
            chat.wait_for_sources().locator(".title").first.click()
        quoted.wait_for()
        chat.page.wait_for_timeout(500)
        answer = out / "answer.png"
        chat.page.screenshot(path=str(answer))
        with context.expect_page() as opened:
            links.first.click()
        article_page = opened.value
        try:
            article_page.locator("mark#passage").wait_for(timeout=30_000)
        except Exception:
            article_page.screenshot(path=str(out / "failed.png"))
            chat.page.screenshot(path=str(out / "failed-chat.png"))
            raise SystemExit(f"the article did not open at the passage ({article_page.url})") from None
        article_page.set_viewport_size({"width": 1000, "height": 640})
        article = out / "article.png"
        article_page.screenshot(path=str(article))
        browser.close()
    return [answer, article]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--out", type=Path, default=IMAGES)
    args = parser.parse_args()
    for path in take(args.question, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)


if __name__ == "__main__":
    main()
