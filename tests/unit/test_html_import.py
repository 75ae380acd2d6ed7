"""Real pages of the Debian Administrator's Handbook, read the way a person reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.generators.extractive import split_sentences
from vectorstore.blocks import blocks
from vectorstore.chunking import ChunkingConfig, pack_sentences, sections, sentence_spans
from vectorstore.html_to_text import html_to_text
from vectorstore.importing import prepare
from vectorstore.loading import LoadLimits

HANDBOOK = Path(__file__).resolve().parent.parent / "data" / "handbook"


def page(name: str) -> str:
    return (HANDBOOK / f"handbook-{name}.html").read_text(encoding="utf-8")


def sentences(text: str) -> list[str]:
    config = ChunkingConfig()
    return [
        text[a:b]
        for block in blocks(text)
        if block.kind == "prose"
        for a, b in sentence_spans(text, block.span, config.max_sentence_chars)
    ]


def test_a_sentence_with_inline_markup_arrives_whole():
    # <span class="command">adduser</span> and <code class="filename">/etc/adduser.conf</code>
    # used to become lines of their own, cutting the sentence in four.
    _title, text = html_to_text(page("en-creating-accounts"))
    found = sentences(text)
    assert (
        "This is typically done using the adduser command which takes a user-name for the new user "
        "to be created, as an argument." in found
    )
    assert any(s.startswith("The adduser command asks a few questions") for s in found)
    assert any(
        "Its configuration file, /etc/adduser.conf, includes all the interesting settings" in s for s in found
    )


@pytest.mark.parametrize("name", ["en-creating-accounts", "fr-dhcp", "vi-quotas"])
def test_the_sites_navigation_is_gone(name):
    _title, text = html_to_text(page(name))
    lines = {line.strip() for line in text.splitlines()}
    for furniture in ("Download the ebook", "Prev", "Next", "Précédent", "Suivant", "Product Site"):
        assert furniture not in lines
    assert (
        "Le cahier de l'administrateur Debian" not in lines
        and "The Debian Administrator's Handbook" not in lines
    )


def test_a_code_block_is_one_unit_kept_line_for_line():
    _title, text = html_to_text(page("fr-dhcp"))
    code = [text[a:b] for block in blocks(text) if block.kind == "code" for a, b in [block.span]]
    assert len(code) == 2
    assert code[1] == "allow-update { 127.0.0.1 192.168.0.1 212.94.201.10 !any };"
    assert "ddns-update-style interim;\n\n# option definitions common to all supported networks..." in code[0]
    # Never split mid-line: the units the chunker packs start and end at line ends.
    (start, end) = next(block.span for block in blocks(text) if block.kind == "code")
    units = [u for _section, units in sections(text, ChunkingConfig().max_sentence_chars) for u in units]
    inside = [(a, b) for a, b in units if start <= a < end]
    assert len(inside) >= 2, "the sample file is longer than one unit"
    for a, b in inside:
        assert text[a - 1] == "\n" and text[b] == "\n"
    # Never run into prose: the sentence after the code starts a unit of its own.
    assert any(text[a:b].startswith("Attention") for a, b in units)


def test_each_chunk_carries_its_section_path():
    _title, text = html_to_text(page("fr-dhcp"))
    by_section = {c.section for c in pack_sentences(text, ChunkingConfig()) if "allow-update" in c.text}
    assert by_section == {"10.8. DHCP › 10.8.2. DHCP et DNS"}
    first = pack_sentences(text, ChunkingConfig())[0]
    assert first.section == "10.8. DHCP" and first.text.startswith("10.8. DHCP\n")


def test_a_chunk_never_spans_two_sections():
    text = "# A\n\nOne sentence here. Another one.\n\n## B\n\nThird sentence.\n"
    chunks = pack_sentences(text, ChunkingConfig(target_chars=1000))
    assert [(c.section, c.text) for c in chunks] == [
        ("A", "A\n\nOne sentence here. Another one."),
        ("A › B", "B\n\nThird sentence."),
    ]


def test_text_without_headings_or_code_chunks_as_it_always_has():
    text = "A first line. With two sentences.\nShare\nA second line.\n"
    assert [b.kind for b in blocks(text)] == ["prose", "prose"]  # "Share" is furniture
    assert [c.section for c in pack_sentences(text, ChunkingConfig())] == [""]


def test_an_imported_page_keeps_its_title_and_language():
    candidate = prepare(HANDBOOK / "handbook-fr-dhcp.html", LoadLimits())
    assert candidate.title == "10.8. DHCP" and candidate.language == "fr"


def test_a_sentence_that_introduces_a_command_is_read_with_it():
    text = "If you don't know which package you need, run the following command:\nisenkram-autoinstall-firmware\nDone."
    assert split_sentences(text)[0] == (
        "If you don't know which package you need, run the following command:\nisenkram-autoinstall-firmware"
    )
    # Whatever the reader is given can still be found in the passage, for the quote's offsets.
    assert all(sentence in text for sentence in split_sentences(text))


def test_lines_of_settings_are_read_together_and_a_lone_short_line_is_not():
    text = "The file sets the lease times.\nShare\n\ndefault-lease-time 600;\nmax-lease-time 7200;\n\nxdev: 1"
    found = split_sentences(text)
    assert "default-lease-time 600;\nmax-lease-time 7200;" in found
    assert not any("Share" in s or "xdev" in s for s in found)
    assert "The file sets the lease times." in found
    assert all(sentence in text for sentence in found)
    # A line taken by the sentence that introduces it does not start a run of its own.
    assert split_sentences("Add these two lines:\nfoo 1\nbar 2") == ["Add these two lines:\nfoo 1"]


def test_a_pages_content_is_kept_whatever_its_wrappers_are_named():
    # Read the Docs wraps the content in "wy-nav-content-wrap"; an article's <header> holds its title.
    _title, text = html_to_text(
        "<html><head><meta charset='windows-1252'><title>Café</title></head><body>"
        "<div class='wy-nav-content-wrap'><article><header><h1>Café Hà Nội</h1></header>"
        "<p>Un café à Hà Nội.</p></article></div>"
        "<div class='navbar'>Home | About</div><footer>© 2026</footer></body></html>"
    )
    assert text == "# Café Hà Nội\n\nUn café à Hà Nội."  # decoded once: no "CafÃ©"


def test_a_chunk_is_the_documents_own_text_between_its_offsets():
    # So the article view marks the cited sentence exactly where the chunk has it.
    _title, text = html_to_text(page("en-creating-accounts"))
    chunks = pack_sentences(text, ChunkingConfig())
    assert any("\n\n" in c.text for c in chunks), "a heading and its paragraph, a blank line apart"
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text


def test_a_code_block_with_markup_inside_keeps_its_lines_and_heading_links_go():
    # DocBook's screens mark the prompt and the command; Sphinx puts a "¶" link beside headings.
    _title, text = html_to_text(
        '<html><body><h2>Listing<a class="headerlink" href="#listing">¶</a></h2>'
        '<pre class="screen"><code class="computeroutput">$ </code><strong class="userinput">'
        "<code>ldapsearch -x -b dc=falcot,dc=com\n</code></strong><code># extended LDIF\n#\n</code>"
        "dn: dc=falcot,dc=com</pre></body></html>"
    )
    assert "## Listing\n" in text and "¶" not in text
    assert "```\n$ ldapsearch -x -b dc=falcot,dc=com\n# extended LDIF\n#\ndn: dc=falcot,dc=com\n```" in text


def test_a_definition_lists_term_stays_on_the_line_of_its_description():
    # DocBook's variablelist: apart, "contains the header files…" no longer says which package.
    _title, text = html_to_text(
        '<html><body><h2>Packages</h2><p>make deb-pkg will generate:</p><dl class="variablelist">'
        '<dt><span class="term"><span class="pkg">linux-headers-<em>version</em></span></span></dt>'
        '<dd><div class="para">contains the header files required to build external modules,</div></dd>'
        "<dt>linux-libc-dev</dt><dd><p>contains headers for user-space libraries.</p><p>More.</p></dd>"
        "<dt>empty</dt><dd> </dd><p>Next paragraph.</p></dl></body></html>"
    )
    assert "\nlinux-headers-version: contains the header files required to build external modules,\n" in text
    assert "\nlinux-libc-dev: contains headers for user-space libraries.\n\nMore." in text
    assert "\nempty\n" in text and "empty:" not in text  # a term without a description stays as it is
