"""A Word document as text: its headings as `#` lines, list items as `- ` lines, a table row a line.

python-docx walks the body in reading order (paragraphs and tables interleaved); Word's own
styles say which paragraph is a heading ("Heading 2") or a list item ("List Bullet").
"""

from __future__ import annotations

import re
from pathlib import Path

from vectorstore.blocks import escaped

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
                # A merged cell is listed once per grid column it spans: keep it once.
                unique = {id(cell._tc): cell for cell in row.cells}.values()
                cells = [" ".join(cell.text.split()) for cell in unique]
                if any(cells):
                    lines.append(" | ".join(cells))
            lines.append("")
            continue
        words = " ".join(block.text.split())
        if not words:
            continue
        style = block.style.name if block.style is not None else ""
        level = _HEADING_STYLE.match(style)
        if style == "Title" or level:
            lines += ["", "#" * min(int(level.group(1)) if level else 1, 6) + " " + words, ""]
            title = title or words
        elif style.startswith("List"):
            lines.append(f"- {words}")
        else:
            lines.append(escaped(words))
    return title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
