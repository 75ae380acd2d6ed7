"""Which turns need the conversation: a table of standalone and dependent questions in the three
languages, and every evaluation question (each stands on its own)."""

from __future__ import annotations

import json

from assistant.follow_up import needs_history
from tests.conftest import ROOT

TABLE = ROOT / "tests" / "data" / "follow_up_questions.jsonl"
STANDALONE_SETS = [
    "tests/eval/questions.jsonl",
    "bench/handbook_questions.jsonl",
    "bench/handbook_answers.jsonl",
]


def rows() -> list[tuple[str, bool]]:
    table = [json.loads(line) for line in TABLE.open(encoding="utf-8")]
    found = [(row["question"], row["dependent"]) for row in table]
    for name in STANDALONE_SETS:
        found += [(json.loads(line)["question"], False) for line in (ROOT / name).open(encoding="utf-8")]
    return found


def test_the_table_covers_each_language_both_ways():
    table = [json.loads(line) for line in TABLE.open(encoding="utf-8")]
    for language in ("en", "fr", "vi"):
        kinds = {row["dependent"] for row in table if row["language"] == language}
        assert kinds == {True, False}, language


def test_every_dependent_question_is_found_and_standalone_ones_mostly_left_alone():
    found = [(question, dependent, needs_history(question)) for question, dependent in rows()]
    missed = [q for q, dependent, said in found if dependent and not said]
    needless = [q for q, dependent, said in found if not dependent and said]
    accuracy = 1 - (len(missed) + len(needless)) / len(found)
    print(f"\nfollow-up detector: {len(found)} questions, accuracy {accuracy:.3f}; needless: {needless}")
    assert not missed, "a dependent question left as it is answers the wrong question"
    assert accuracy >= 0.95


def test_a_name_or_a_subject_before_a_pronoun_keeps_the_question_standalone():
    assert not needs_history("Depuis quand l'OIM est-elle présente au Viet Nam ?")
    assert needs_history("Quand a-t-elle été adoptée ?")
    assert not needs_history("What is IOM's annual budget for its Viet Nam programmes?")
    assert needs_history("What is its budget?")
    assert not needs_history("Bà Kendra Rinas giữ chức vụ gì?")
    assert needs_history("Bà đã nói gì?")
