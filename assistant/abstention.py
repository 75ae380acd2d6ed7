"""When to say "the articles don't say" although a sentence was chosen: the rule, fitted on the
evaluation's cached judgements (`bench/selection.py --cache`, cross-validated)."""

from __future__ import annotations

from assistant.selection import Selection


def reason(selection: Selection, min_confidence: float) -> str | None:
    """Why no sentence should be answered from, or None to answer from the chosen one."""
    if selection.confidence < min_confidence:
        return (
            f"no sentence clearly states it (best P(yes) {selection.confidence:.2f} < {min_confidence:.2f})"
        )
    return None
