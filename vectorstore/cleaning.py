"""Strip web-scrape furniture (menus, share widgets, comment counters) without touching article text.

Cleaning never rewrites text: it only decides which lines to keep, as character spans into the
original, so every chunk can point back at the exact place it came from.
"""

from __future__ import annotations

import re
from collections import Counter

Span = tuple[int, int]

# Whole lines that are page furniture, in the languages of the corpus (matched case-insensitively).
_FURNITURE = re.compile(
    r"""^(
        [-–—•·|*_=~.\s]*                                # lone dashes, bullets, rules
      | (comments?|commentaires?|bình\s+luận)\s*\(\d+\)  # "Comment (0)"
      | [\w-]+-icon                                      # "zalo-icon", "viber-icon"
      | \d{1,2}:\d{2}\s*/\s*\d{1,2}:\d{2}                # media player "00:00 / 00:00"
      | (share|print|tweet|email|facebook|twitter|linkedin|zalo|viber|in\s+bài|chia\s+sẻ)
      | ý\s+kiến\s+bình\s+luận | có\s+thể\s+bạn\s+quan\s+tâm | tin\s+liên\s+quan
      | related\s+(articles|news|posts) | read\s+more | lire\s+aussi
      | logo\s+.{0,80}                                   # "Logo báo điện tử …"
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_SENTENCE_END = re.compile(r"[.!?…:;»”\"]\s*$")
_MENU_WORDS = 4


def _is_menu_label(line: str) -> bool:
    """A short line with no sentence punctuation: a navigation label, if it also repeats."""
    return len(line.split()) <= _MENU_WORDS and not _SENTENCE_END.search(line)


def kept_line_spans(text: str) -> list[Span]:
    """Spans (start, end) of the lines worth keeping, trimmed of surrounding white space."""
    lines: list[tuple[int, int, str]] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            start = offset + (len(raw) - len(raw.lstrip()))
            lines.append((start, start + len(stripped), stripped))
        offset += len(raw)

    repeats = Counter(line.casefold() for _, _, line in lines)
    kept: list[Span] = []
    previous_dropped = False
    for i, (start, end, line) in enumerate(lines):
        following = lines[i + 1][2] if i + 1 < len(lines) else ""
        dropped = bool(_FURNITURE.match(line)) or (
            _is_menu_label(line)
            and (
                repeats[line.casefold()] > 1  # "About", "About"
                or following.casefold().startswith(line.casefold())  # "Who We Are" → "WHO WE AREThe …"
                or (previous_dropped and line.startswith("- "))  # a menu's bullets: "- Take Action"
            )
        )
        if not dropped:
            kept.append((start, end))
        previous_dropped = dropped
    return kept
