from tests.conftest import SEEDS
from vectorstore.cleaning import kept_line_spans


def kept_lines(text: str) -> list[str]:
    return [text[a:b] for a, b in kept_line_spans(text)]


def test_site_menus_are_dropped_but_the_about_paragraph_is_kept():
    text = (SEEDS / "001_4b2727f5dc27d324.txt").read_text()
    kept = kept_lines(text)
    for furniture in [
        "-",
        "Who We Are",
        "About",
        "IOM Global",
        "Our Work",
        "Cross-cutting (Global)",
        "- Take Action",
    ]:
        assert furniture not in kept
    assert any(line.startswith("WHO WE AREThe International Organization") for line in kept)
    assert any("four million migrants" in line for line in kept)


def test_share_widgets_and_comment_counters_are_dropped():
    vi = kept_lines((SEEDS / "004_7a23386e8a2c9da9.txt").read_text())
    assert not {"zalo-icon", "viber-icon", "00:00 / 00:00", "Ý KIẾN BÌNH LUẬN"} & set(vi)
    assert "Mạnh Hùng" in vi  # the byline is the article's, not the site's
    fr = kept_lines((SEEDS / "002_b28986079c88c4a6.txt").read_text())
    assert "Comment (0)" not in fr
    assert fr[-1].startswith("Source : https://nld.com.vn/")


def test_every_article_sentence_survives_in_every_seed():
    for path in SEEDS.glob("*.txt"):
        text = path.read_text()
        kept = set(kept_lines(text))
        for line in text.splitlines():
            if line.strip().endswith(".") and len(line.split()) > 6:
                assert line.strip() in kept, (path.name, line)


def test_a_bullet_list_in_an_article_is_kept():
    text = "Our plan has three parts.\n- Safe migration\n- Data\n- Training\nThat is all.\n"
    assert kept_lines(text) == [
        "Our plan has three parts.",
        "- Safe migration",
        "- Data",
        "- Training",
        "That is all.",
    ]


def test_spans_point_into_the_original_text():
    text = "  Title line  \r\n-\r\nBody sentence one. Body two.\r\n"
    spans = kept_line_spans(text)
    assert [text[a:b] for a, b in spans] == ["Title line", "Body sentence one. Body two."]
