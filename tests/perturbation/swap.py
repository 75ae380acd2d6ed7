"""Swaps neighbours in the retriever's orderings whose scores are within a margin."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def swapped(order: list[int], scores: np.ndarray, margin: float) -> list[int]:
    """`order` (best first) with each pair of neighbours nearer than `margin` swapped, pairs not
    overlapping: (a, b, c) all within the margin becomes (b, a, c)."""
    result = list(order)
    i = 0
    while i + 1 < len(result):
        if float(scores[result[i]]) - float(scores[result[i + 1]]) < margin:
            result[i], result[i + 1] = result[i + 1], result[i]
            i += 2
        else:
            i += 1
    return result


def install(margin: float) -> None:
    """Wraps `vectorstore.retriever._best_first`, where the retriever orders each phrasing's
    passages (the merge of several phrasings' rankings, by rank, is left as it is)."""
    from vectorstore import retriever

    original = retriever._best_first
    if getattr(original, "swaps_near_ties", False):
        return

    @functools.wraps(original)
    def best_first(scores: np.ndarray, ids: Sequence[str], n: int | None = None) -> list[int]:
        order = swapped(original(scores, ids, None if n is None else n + 1), scores, margin)
        return order[:n]

    best_first.swaps_near_ties = True  # type: ignore[attr-defined]
    retriever._best_first = best_first


def unswapped(function: Callable[..., Any]) -> Callable[..., Any]:
    """The retriever's own ordering, for the tests of that ordering itself."""
    return getattr(function, "__wrapped__", function)
