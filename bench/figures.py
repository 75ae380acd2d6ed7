"""Where each figure in the README's and the docs' prose comes from.

    python bench/figures.py            # every prose figure, traced to a JSON value or not
    python bench/figures.py --update   # rewrite the list of untraced figures the tests compare with

The tables are rendered from the benches' JSON (`bench/report.py`); this is for the numbers in
sentences. A figure ("0.97", "566 MB", "2.6 s", "43%") is *traced* when the section it stands in
(from one heading to the next) cites a result file, by path (`bench/results/NAME.json`) or by a
rendered table, and one of that file's numbers, rounded to the figure's digits, is the figure.
The figures that trace to nothing (settings, thresholds, and measurements older than the
committed JSON) are listed in `tests/unit/untraced_figures.txt`: a test fails when the docs gain
an untraced figure that list does not name, or lose one it does, so none slips in unseen.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import BLOCK, RESULTS, ROOT  # BLOCK: the rendered tables, which are not prose

DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
UNTRACED = ROOT / "tests" / "unit" / "untraced_figures.txt"

CODE = re.compile(r"```.*?```|`[^`\n]*`|\]\([^)]*\)|https?://\S+", re.S)
HEADING = re.compile(r"^#{1,6} ", re.M)
CITED = re.compile(r"bench/results/([\w.-]+\.json)")
# A number with a unit, or with decimals: "566 MB", "2.6 s", "43%", "0.97". Whole numbers alone
# ("20 questions", "5 articles") are counts the text defines, not measurements.
FIGURE = re.compile(
    r"(?<![\w.\-/:#@+])(?P<number>\d[\d,]*(?:\.\d+)?)\s?"
    r"(?P<unit>MB/min|req/s|tokens/s|chunks/s|ms|min|MB|GB|KB|s|%|×)?(?![\w\-/]|\.\d)"
)
# Which JSON numbers a figure with a unit can be: under a key holding one of the unit's fragments
# (a "2 %" is not the machine's 2 CPUs), times one of that fragment's factors ("43%" is 43 or
# 0.43; "1.2 GB" is 1,229 MB; "4.8 s" is a latency_ms of 4816.5).
UNITS: dict[str, dict[str, tuple[float, ...]]] = {
    "ms": {"ms": (1.0,)},
    "s": {"_s": (1.0,), "seconds": (1.0,), "_ms": (0.001,)},
    "min": {"minutes": (1.0,), "_min": (1.0,)},
    "MB": {"mb": (1.0,)},
    "GB": {"mb": (1 / 1024, 1 / 1000, 1.0), "gb": (1 / 1024, 1 / 1000, 1.0)},
    "KB": {"kb": (1.0,)},
    "%": {
        key: (1.0, 100.0) for key in ("%", "percent", "share", "growth", "rate", "hit@", "accuracy", "refus")
    },
    "×": {"times": (1.0,), "ratio": (1.0,)},
    "MB/min": {"per_min": (1.0,)},
    "req/s": {"per_s": (1.0,), "throughput": (1.0,)},
    "tokens/s": {"tokens_per_s": (1.0,), "per_s": (1.0,)},
    "chunks/s": {"chunks_per_s": (1.0,)},
}


@dataclass(frozen=True)
class Figure:
    doc: str
    text: str
    context: str  # the words just before it: how the untraced list names it
    traced_to: str | None

    @property
    def key(self) -> str:
        return f"{self.doc}: {self.text} | {self.context}"


# A list longer than this holds one record per question or sample: too many numbers for a figure
# in a sentence to match one by anything but chance, and no sentence quotes one row of it.
LONGEST_SUMMARY = 20


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every number in a result, with its path, except inside per-question or per-sample lists."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield path, float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and len(value) <= LONGEST_SUMMARY:
        for number, item in enumerate(value):
            yield from leaves(item, f"{path}[{number}]")


def cited_files(section: str) -> list[Path]:
    """The result files a section cites: by path, or through a rendered table (`bench/report.py`
    says which file each table is from)."""
    names = list(dict.fromkeys(CITED.findall(section)))
    return [RESULTS / name for name in names if (RESULTS / name).is_file()]


# The measure a sentence names just before a figure, and the key fragments that JSON numbers of
# that measure have: "accuracy 0.64" cannot trace to a hit@1 of 0.64.
MEASURES = {
    "hit@1": ("hit@1",),
    "hit@4": ("hit@4",),
    "mrr": ("mrr",),
    "accuracy": ("accuracy",),
    "refusals": ("refus",),
    "refused": ("refus",),
    "p50": ("p50",),
    "p95": ("p95",),
    "rss": ("rss",),
    "ceiling": ("ceiling",),
    "threshold": ("threshold",),
}


def named_measure(context: str) -> tuple[str, ...]:
    """The key fragments of the last measure named in `context`, or none."""
    for word in reversed(context.lower().split()):
        if word in MEASURES:
            return MEASURES[word]
    return ()


def significant(number: str) -> int:
    return len(number.replace(",", "").replace(".", "").lstrip("0"))


def matches(text: str, unit: str | None, context: str, where: str, value: float) -> bool:
    """`text` is `value` rounded to its digits, `value` is under a key naming `unit` (a plain
    decimal is a fraction or a score: not a whole number), and the figure has two significant
    digits at least: "0.8" or "2 s" would match any file by chance."""
    number = text.replace(",", "")
    if significant(number) < 2:
        return False
    digits = len(number.split(".")[1]) if "." in number else 0
    if unit is None and value == int(value):
        return False
    fragments = UNITS[unit] if unit else {"": (1.0,)}
    factors = [factor for key, scales in fragments.items() if key in where.lower() for factor in scales]
    if not factors:
        return False
    measure = named_measure(context)
    if measure and not any(key in where.lower() for key in measure):
        return False
    return any(round(value * factor, digits) == float(number) for factor in factors)


def figures_of(doc: Path) -> list[Figure]:
    text = doc.read_text(encoding="utf-8")
    name = str(doc.relative_to(ROOT))
    found: list[Figure] = []
    starts = [0, *(m.start() for m in HEADING.finditer(text)), len(text)]
    for start, end in itertools.pairwise(starts):
        section = text[start:end]
        values = [
            (f"{path.name}:{where}", value)
            for path in cited_files(section)
            for where, value in leaves(json.loads(path.read_text(encoding="utf-8")))
        ]
        prose = CODE.sub(" ", BLOCK.sub(" ", section))
        for m in FIGURE.finditer(prose):
            number, unit = m["number"], m["unit"]
            if not unit and "." not in number:
                continue
            before = " ".join(
                re.sub(r"[^\w%×.@-]+", " ", prose[max(0, m.start() - 60) : m.start()]).split()[-5:]
            )
            source = next(
                (where for where, value in values if matches(number, unit, before, where, value)), None
            )
            found.append(Figure(name, m.group(0).strip(), before, source))
    return found


def untraced() -> list[str]:
    return sorted({f.key for doc in DOCS for f in figures_of(doc) if f.traced_to is None})


def listed() -> list[str]:
    lines = UNTRACED.read_text(encoding="utf-8").splitlines() if UNTRACED.exists() else []
    return sorted(line for line in lines if line and not line.startswith("#"))


HEADER = """\
# Figures in README.md, CHANGELOG.md and docs/*.md that no committed JSON in bench/results/ gives:
# settings and thresholds the text states, and measurements older than the committed results.
# Written by `python bench/figures.py --update`; tests/unit/test_docs_numbers.py compares it with
# the docs, so a new figure either traces to a result file its section cites or shows up here.
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help=f"rewrite {UNTRACED.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.update:
        UNTRACED.write_text(HEADER + "\n".join(untraced()) + "\n", encoding="utf-8")
        print(f"wrote {UNTRACED.relative_to(ROOT)}")
        return 0
    for doc in DOCS:
        figures = figures_of(doc)
        traced = [f for f in figures if f.traced_to]
        print(f"{doc.relative_to(ROOT)}: {len(traced)} of {len(figures)} figures traced")
        for figure in figures:
            print(f"  {figure.text:>10}  {figure.traced_to or 'untraced'}  ({figure.context})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
