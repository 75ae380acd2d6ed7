"""A Word document as text: its headings as `#` lines, list items as `- ` lines, a table row a line.

python-docx walks the body in reading order (paragraphs and tables interleaved); Word's own
styles say which paragraph is a heading ("Heading 2") or a list item ("List Bullet").
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADING_STYLE = re.compile(r"^(?:heading|titre|tiêu đề)\s*(\d)$", re.IGNORECASE)


def docx_to_text(path: Path) -> tuple[str, str]:
    """(title, text) of a .docx file; raises what python-docx raises for a file that is not one."""
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    title = (document.core_properties.title or "").strip()
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    lines.append(" | ".join(dict.fromkeys(cells)))  # a merged cell repeats
            lines.append("")
            continue
        words = " ".join(block.text.split())
        if not words:
            continue
        style = block.style.name if block.style is not None else ""
        level = _HEADING_STYLE.match(style)
        if style == "Title" or level:
            lines += ["", "#" * (int(level.group(1)) if level else 1) + " " + words, ""]
            title = title or words
        elif style.startswith("List"):
            lines.append(f"- {words}")
        else:
            lines.append(words)
    return title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
