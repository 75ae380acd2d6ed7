"""The app's own view of an article: its text, the cited passage highlighted and scrolled to.

Rendered with a Jinja2 template with autoescaping on, so nothing inside a document (a `<script>`, an
`onerror=`) can run in the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from assistant.settings import Settings
from vectorstore.cleaning import kept_line_spans
from vectorstore.loading import load_source

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Article:
    source: str
    title: str
    language: str
    date: str | None
    url: str | None
    paragraphs: list[Markup]
    highlighted: bool


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address (the only kind shown as a link), else None."""
    return url if url and url.startswith(("http://", "https://")) else None


def passage_href(source: str, start: int, end: int) -> str:
    """The link a citation uses: the article view, scrolled to the passage."""
    return f"/articles/{source}?start={start}&end={end}#passage"


def load_article(
    settings: Settings, source: str, start: int | None = None, end: int | None = None
) -> Article | None:
    document = load_source(settings.seeds_dir, source, settings.load_limits)
    if document is None:
        return None
    text = document.page_content
    span = (start, end) if start is not None and end is not None and 0 <= start < end else None
    paragraphs, marked = _paragraphs(text, span)
    return Article(
        source=source,
        title=document.metadata["title"],
        language=document.metadata["language"],
        date=document.metadata.get("date") or None,
        url=web_url(document.metadata.get("url")),
        paragraphs=paragraphs,
        highlighted=marked,
    )


def render_article(article: Article) -> str:
    return _templates().get_template("article.html").render(article=article)


def render_missing(source: str) -> str:
    return _templates().get_template("missing.html").render(source=source)


def _paragraphs(text: str, span: tuple[int, int] | None) -> tuple[list[Markup], bool]:
    """One escaped paragraph per kept line; the part inside `span` wrapped in <mark>, the first
    mark carrying id="passage" for the scroll target."""
    paragraphs: list[Markup] = []
    marked = False
    for a, b in kept_line_spans(text):
        if span is None or span[1] <= a or b <= span[0]:
            paragraphs.append(escape(text[a:b]))
            continue
        lo, hi = max(a, span[0]), min(b, span[1])
        anchor = Markup("" if marked else ' id="passage"')
        paragraphs.append(
            escape(text[a:lo])
            + Markup("<mark%s>") % anchor
            + escape(text[lo:hi])
            + Markup("</mark>")
            + escape(text[hi:b])
        )
        marked = True
    return paragraphs, marked
