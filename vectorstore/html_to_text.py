"""An HTML page as the text a person reads: one block a line, headings and code kept as Markdown.

inscriptis lays the page out as a browser would (inline elements inside their sentence, a line
per paragraph, list item or table row, `<pre>` verbatim) and marks where the headings and code
blocks are; this module removes the page's navigation first and writes those marks as `#`
headings and fenced code, which the chunker turns into section paths and unsplittable units.
"""

from __future__ import annotations

import re

from inscriptis import get_annotated_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import html as lxml_html
from lxml.etree import ParserError

from vectorstore.blocks import escaped

HEADINGS = {f"h{level}": level for level in range(1, 7)}
CODE = "pre"
_CONFIG = ParserConfig(
    css=CSS_PROFILES["strict"],
    annotation_rules={**{tag: [tag] for tag in HEADINGS}, CODE: [CODE]},
)
# Elements that are never the page's text: scripts, forms, and the site's furniture.
_DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "form", "iframe", "button")
_DROPPED_ROLES = ("navigation", "banner", "contentinfo", "search")
# A page's own header and footer, but not an article's or a section's (which hold its heading).
_PAGE_FRAME = ("header", "footer")
_CONTENT = ("main", "article", "section")
# A class or id that says navigation: a whole token ("docnav", "navheader", "breadcrumb",
# "site-nav"), never a part of one ("wy-nav-content-wrap" is Read the Docs' content).
_FURNITURE_TOKEN = re.compile(
    r"^(?:nav|navbar|navigation|docnav|navheader|navfooter|breadcrumbs?|banner|menu|menubar|skip-link|"
    r"pagination|pager|cookie-banner|cookie-notice|share-buttons|social-share|"
    # the "¶" or "#" link beside a heading (Sphinx, MkDocs, Docusaurus, Jupyter)
    r"headerlink|anchor-link|anchorjs-link|hash-link|"
    r"(?:site|top|main|page|global)-(?:nav|navigation|menu|header|footer))$",
    re.IGNORECASE,
)
_PARSER = lxml_html.HTMLParser(encoding="utf-8")
_BULLET = re.compile(r"^(?:[*•+]|\d+\.)\s+")


def html_to_text(raw: str, with_title: bool = True) -> tuple[str, str]:
    """(title, text) of an HTML page; the text is empty when the page holds none. The page's
    `<title>` heads the text when no heading says it (`with_title`: not for a book's chapters)."""
    try:  # the text is already decoded: a <meta charset> naming another encoding must not apply
        tree = lxml_html.document_fromstring(raw.encode("utf-8"), parser=_PARSER)
    except (ParserError, ValueError):
        return "", ""
    title = " ".join((tree.findtext(".//title") or "").split())
    for element in [e for e in tree.iter() if isinstance(e.tag, str) and _is_furniture(e)]:
        if element.getparent() is not None:  # not inside one dropped already
            element.drop_tree()
    for block in tree.iter(CODE):
        # inscriptis keeps a <pre>'s line breaks only in its own text: markup inside (a shell
        # prompt in <code>, the command in <strong>) would run the lines together.
        for inner in [e for e in block.iterdescendants() if isinstance(e.tag, str)]:
            inner.drop_tag()
    for term in list(tree.iter("dt")):
        _joined_with_description(term)
    body = tree.find("body")
    annotated = get_annotated_text(
        lxml_html.tostring(body if body is not None else tree, encoding="unicode"), _CONFIG
    )
    text = _markdown(annotated["text"], annotated["label"])
    if with_title and title and not text.lstrip("# ").startswith(title):
        text = f"# {title}\n\n{text}" if text else ""
    return title, text


def _joined_with_description(term: lxml_html.HtmlElement) -> None:
    """A definition list's term and its description as one line, "term: description": apart,
    "contains the header files required to build external modules" no longer says which package."""
    description = term.getnext()
    if (
        description is None
        or description.tag != "dd"
        or not term.text_content().strip()
        or not description.text_content().strip()
    ):
        return
    first = description[0] if len(description) else None
    if first is not None and first.tag in ("p", "div") and not (description.text or "").strip():
        first.drop_tag()  # DocBook wraps each description in a paragraph; unwrapped, it stays on the line
    term.tag = "span"
    term.tail = (" " if term.text_content().rstrip().endswith(":") else ": ") + (description.text or "")
    description.text = None
    description.insert(0, term)
    description.tag = "div"  # a block of its own, as the term was


def _is_furniture(element: lxml_html.HtmlElement) -> bool:
    """Navigation and page frame; never an element that holds the page's content."""
    if element.getparent() is None or element.tag in ("body", *_CONTENT):
        return False
    if element.tag in _DROPPED_TAGS or element.get("role") in _DROPPED_ROLES:
        return True
    tokens = [*element.get("class", "").split(), element.get("id", "")]
    named = any(_FURNITURE_TOKEN.match(token) for token in tokens if token)
    framed = element.tag in _PAGE_FRAME and not any(a.tag in _CONTENT for a in element.iterancestors())
    # Named or placed like furniture, but holding a heading or an article: content, kept.
    return (named or framed) and not any(
        isinstance(d.tag, str) and (d.tag in _CONTENT or d.tag in HEADINGS) for d in element.iterdescendants()
    )


def _markdown(text: str, labels: list[tuple[int, int, str]]) -> str:
    """inscriptis' text with its heading and `<pre>` spans written as Markdown."""
    out: list[str] = []
    in_code = False
    offset = 0
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        mark = next((label for a, b, label in labels if a <= start < b or (a < end and start < b)), None)
        if mark == CODE:
            if not in_code:
                out += ["", "```"]
                in_code = True
            if line.strip() or out[-1] != "```":  # no blank first line
                out.append(line.rstrip())
            continue
        if in_code and line.strip():
            _close_code(out)
            in_code = False
        words = " ".join(line.split())
        if not words:
            if not in_code and out and out[-1]:
                out.append("")
            continue
        if mark in HEADINGS:
            out += ["", "#" * HEADINGS[mark] + " " + words, ""]
        else:
            out.append(escaped(_BULLET.sub("- ", words, count=1)))
    if in_code:
        _close_code(out)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _close_code(out: list[str]) -> None:
    while out and not out[-1]:  # no blank last line
        out.pop()
    out += ["```", ""]
