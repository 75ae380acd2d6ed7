"""The app's own view of an article: its text, the cited passage highlighted and scrolled to.

Rendered with a Jinja2 template with autoescaping on, so nothing inside a document (a `<script>`, an
`onerror=`) can run in the page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from assistant.settings import Settings
from vectorstore.blocks import blocks, page_finder
from vectorstore.loading import load_source

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Paragraph:
    """One block of the article as the page shows it: a line of prose, a heading, a code block."""

    kind: str  # "prose", "heading", "code", or "page" (where a PDF's page begins)
    html: Markup
    level: int = 0  # a heading's level (1 is the document's top heading), a page's number


@dataclass(frozen=True)
class Article:
    source: str
    title: str
    language: str
    date: str | None
    url: str | None
    paragraphs: list[Paragraph]
    highlighted: bool
    quoted: bool = False


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address (the only kind shown as a link), else None."""
    return url if url and url.startswith(("http://", "https://")) else None


def passage_href(source: str, start: int, end: int, quote: tuple[int, int] | None = None) -> str:
    """The link a citation uses: the article view, scrolled to the passage, with the sentence the
    answer was written from (document offsets) marked inside it."""
    sentence = f"&quote_start={quote[0]}&quote_end={quote[1]}" if quote else ""
    return f"/articles/{source}?start={start}&end={end}{sentence}#passage"


def _span(start: int | None, end: int | None) -> tuple[int, int] | None:
    return (start, end) if start is not None and end is not None and 0 <= start < end else None


def load_article(
    settings: Settings,
    source: str,
    start: int | None = None,
    end: int | None = None,
    quote_start: int | None = None,
    quote_end: int | None = None,
) -> Article | None:
    if not settings.seeds_dir.is_dir():  # moved or unmounted since the index was built: not found, not a 500
        return None
    document = load_source(settings.seeds_dir, source, settings.load_limits)
    if document is None:
        return None
    text = document.page_content
    quote = _span(quote_start, quote_end)
    paragraphs, marked = _paragraphs(text, _span(start, end), quote)
    return Article(
        source=source,
        title=document.metadata["title"],
        language=document.metadata["language"],
        date=document.metadata.get("date") or None,
        url=web_url(document.metadata.get("url")),
        paragraphs=paragraphs,
        highlighted=marked,
        quoted=marked and quote is not None,
    )


def render_article(article: Article) -> str:
    return _templates().get_template("article.html").render(article=article)


def render_missing(source: str) -> str:
    return _templates().get_template("missing.html").render(source=source)


def _paragraphs(
    text: str, span: tuple[int, int] | None, quote: tuple[int, int] | None = None
) -> tuple[list[Paragraph], bool]:
    """One escaped paragraph per block (a kept line, a heading without its #s, a code block
    without its fences); the part inside `span` wrapped in <mark>, the part inside `quote` in
    <mark class="quote">, the first mark carrying id="passage" for the scroll target."""
    spans = [(s, kind) for s, kind in ((span, ""), (quote, "quote")) if s is not None]
    paragraphs: list[Paragraph] = []
    marked = False
    page, page_of = 0, page_finder(text)
    for block in blocks(text):
        a, b = block.span
        if page_of(a) != page:
            page = page_of(a)
            paragraphs.append(Paragraph("page", Markup(f"Page {page}"), page))
        cuts = sorted({a, b, *(x for (lo, hi), _ in spans for x in (lo, hi) if a < x < b)})
        paragraph = Markup("")
        for lo, hi in itertools.pairwise(cuts):
            kinds = [kind for (s0, s1), kind in spans if s0 <= lo and hi <= s1]
            if not kinds:
                paragraph += escape(text[lo:hi])
                continue
            anchor = "" if marked else ' id="passage"'
            style = ' class="quote"' if "quote" in kinds else ""
            paragraph += Markup(f"<mark{anchor}{style}>") + escape(text[lo:hi]) + Markup("</mark>")
            marked = True
        paragraphs.append(Paragraph(block.kind, paragraph, block.level))
    return paragraphs, marked
