"""Three PDF readers on the same printed handbook pages: which gives whole sentences, and how fast.

    python bench/pdf_readers.py

The pages are those of bench/handbook_answers.py, printed by headless Chromium. Each reader's
text is laid out by `vectorstore.pdf_to_text` (paragraphs, headings, code, furniture): pypdf and
pypdfium2 give lines only, so their paragraphs are found from line lengths alone; pdfplumber gives
each line's place and fonts too, which is what `assistant add` uses. Measured per reader:
- **evidence whole**: of the answer questions' evidence (the sentence, list item, table row or
  code line that states the answer, quoted from the page), the share found inside one line of
  the text — what the chunker can keep in one sentence;
- **headings**, **code blocks**: `#` lines and fenced blocks found;
- seconds per file (a page of the handbook prints as 1 to 15 PDF pages).
Writes bench/results/pdf_readers-<time>.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from handbook_answers import QUESTIONS, made_files, page_key, questions_in, sections_of  # noqa: E402
from scale import handbook_dir  # noqa: E402

from assistant.machine import describe_machine  # noqa: E402
from vectorstore.blocks import blocks  # noqa: E402
from vectorstore.pdf_to_text import Line, pages_to_text, pdf_to_text  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def with_pypdf(path: Path) -> str:
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    return pages_to_text([[Line(text) for text in page.splitlines()] for page in pages])


def with_pypdfium2(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    pages = [page.get_textpage().get_text_range() for page in document]
    document.close()
    return pages_to_text([[Line(text) for text in page.splitlines()] for page in pages])


def with_pdfplumber(path: Path) -> str:
    return pdf_to_text(path)[1]


READERS: dict[str, Callable[[Path], str]] = {
    "pypdf": with_pypdf,
    "pypdfium2": with_pypdfium2,
    "pdfplumber (assistant add)": with_pdfplumber,
}


def squeezed(text: str) -> str:
    return " ".join(text.split())


def main() -> int:
    questions = [q for q in questions_in(QUESTIONS) if q.get("evidence")]
    files = {
        path.stem: path
        for path in made_files(handbook_dir(None), sections_of(questions_in(QUESTIONS)), "pdf")
    }
    results: dict[str, Any] = {}
    for name, read in READERS.items():
        texts, times = {}, []
        for key, path in files.items():
            started = time.perf_counter()
            texts[key] = read(path)
            times.append(time.perf_counter() - started)
        whole = []
        for question in questions:
            text = texts[page_key(question["language"], question["gold"][0])]
            lines = {squeezed(line) for line in text.splitlines()}
            evidence = squeezed(question["evidence"].split(" | ")[0])  # a table row: its first cell
            whole.append(any(evidence in line for line in lines))
        kinds = [block.kind for text in texts.values() for block in blocks(text)]
        results[name] = {
            "evidence_whole": round(sum(whole) / len(whole), 3),
            "headings": kinds.count("heading"),
            "code_blocks": kinds.count("code"),
            "seconds_per_file": round(statistics.mean(times), 3),
        }
        print(f"{name:28} {results[name]}", flush=True)
    out = RESULTS / f"pdf_readers-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    data = {
        "pages": len(files),
        "evidence": len(questions),
        "readers": results,
        "machine": describe_machine(),
    }
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
