"""PDFs as users have them: printed by a real headless Chromium (`--print-to-pdf`), then added."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.articles import _paragraphs
from vectorstore.chunking import ChunkingConfig, pack_sentences
from vectorstore.importing import prepare
from vectorstore.loading import LoadLimits

HANDBOOK = Path(__file__).resolve().parent.parent / "data" / "handbook"

SENTENCE = (
    "The zebra scheme asks every seasonal worker to register with the provincial labour office before "
    "the first of March, and the office then issues a card that the employer must keep on file."
)
# A table's head and foot are printed on every page: a running header and footer, as reports have.
REPORT = f"""<!doctype html><html><head><meta charset="utf-8"><title>Zebra scheme report</title>
<style>
  body {{ font: 11pt serif; margin: 3cm 2cm; }} h1 {{ font-size: 22pt; }} h2 {{ font-size: 16pt; }}
  .running {{ font-size: 8pt; }}
  pre {{ font: 9pt monospace; }}
</style></head><body>
<table><thead><tr><td class="running">Zebra scheme annual report — internal</td></tr></thead>
<tfoot><tr><td class="running">Provincial labour office, 2033</td></tr></tfoot><tbody><tr><td>
<h1>Zebra scheme annual report</h1>
<h2>Registration</h2>
{"".join(f"<p>{SENTENCE} Paragraph {n} adds that the card number is printed on the back.</p>" for n in range(14))}
<h2>Configuration of the registry</h2>
<p>The registry reads its settings from the following file:</p>
<pre>[registry]
office = quang-tri
    deadline = 03-01
cards = printed</pre>
{"".join(f"<p>{SENTENCE} Note {n} follows.</p>" for n in range(14))}
</td></tr></tbody></table></body></html>"""

TWO_COLUMNS = f"""<!doctype html><html><head><meta charset="utf-8"><style>
  body {{ font: 11pt serif; margin: 2cm; }} main {{ column-count: 2; column-gap: 1.5cm; }}
</style></head><body><main>
<p>LEFTSTART {" ".join(["The left column speaks of registration and of the cards."] * 14)} LEFTEND</p>
<p>RIGHTSTART {" ".join(["The right column speaks of the budget and of its audit."] * 14)} RIGHTEND</p>
</main></body></html>"""


def printed(html: Path, pdf: Path) -> Path:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: `make chromium`")
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return pdf


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("report")
    (folder / "report.html").write_text(REPORT, encoding="utf-8")
    candidate = prepare(printed(folder / "report.html", folder / "report.pdf"), LoadLimits())
    assert candidate.title == "Zebra scheme report"  # the PDF's own title, not its first line
    return candidate.text


def test_a_wrapped_sentence_of_a_printed_page_arrives_whole(report: str):
    assert f"{SENTENCE} Paragraph 3 adds that the card number is printed on the back." in report.splitlines()


def test_running_headers_and_footers_are_dropped(report: str):
    assert "internal" not in report and "Provincial labour office, 2033" not in report


def test_headings_by_font_size_are_the_sections_of_chunks(report: str):
    assert "# Zebra scheme annual report" in report.splitlines()
    sections = {chunk.section for chunk in pack_sentences(report, ChunkingConfig())}
    assert "Zebra scheme annual report › Configuration of the registry" in sections


def test_a_code_block_stays_one_unit_with_its_indentation(report: str):
    code = "[registry]\noffice = quang-tri\n    deadline = 03-01\ncards = printed"
    assert f"```\n{code}\n```" in report
    assert any(code in chunk.text for chunk in pack_sentences(report, ChunkingConfig()))


def test_a_chunk_knows_its_page_and_the_article_view_marks_pages(report: str):
    chunks = pack_sentences(report, ChunkingConfig())
    assert chunks[0].page == 1 and chunks[-1].page >= 2
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    paragraphs, _ = _paragraphs(report, None)
    pages = [p.level for p in paragraphs if p.kind == "page"]
    assert pages[:2] == [1, 2]


def test_two_columns_are_read_one_after_the_other(tmp_path: Path):
    (tmp_path / "columns.html").write_text(TWO_COLUMNS, encoding="utf-8")
    text = prepare(printed(tmp_path / "columns.html", tmp_path / "columns.pdf"), LoadLimits()).text
    assert text.index("LEFTSTART") < text.index("LEFTEND") < text.index("RIGHTSTART") < text.index("RIGHTEND")


def test_a_handbook_page_printed_keeps_its_commands_in_their_sentences(tmp_path: Path):
    text = prepare(
        printed(HANDBOOK / "handbook-en-creating-accounts.html", tmp_path / "page.pdf"), LoadLimits()
    ).text
    assert (
        "This is typically done using the adduser command which takes a user-name for the new user to be "
        "created, as an argument." in text
    )
