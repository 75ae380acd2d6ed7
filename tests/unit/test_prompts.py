import shutil
from pathlib import Path

import pytest

from assistant.prompts import Prompts
from tests.conftest import ROOT


def _messages(folder: Path) -> list:
    return Prompts.load(folder).answer.format_messages(
        sources='<source id="1" title="t">\ntext\n</source>', question="Q?", language_name="French"
    )


def test_worked_examples_are_earlier_turns_between_the_system_prompt_and_the_question():
    messages = _messages(ROOT / "prompts")
    kinds = [m.type for m in messages]
    assert kinds[0] == "system" and kinds[-1] == "human" and "Q?" in messages[-1].content
    turns = kinds[1:-1]
    assert turns and turns == ["human", "ai"] * (len(turns) // 2)
    replies = [m.content for m in messages[1:-1] if m.type == "ai"]
    assert "NOT_IN_SOURCES" in replies and any("[" in r for r in replies)  # refusals and cited answers
    # Each example is shown exactly as a real question is: quoted, numbered sources.
    assert all('<source id="1"' in m.content for m in messages[1:-1] if m.type == "human")


def test_without_an_examples_file_there_are_no_example_turns(tmp_path):
    for name in (
        "system.md",
        "answer.md",
        "condense.md",
        "translate.md",
        "in_language.md",
    ):
        shutil.copy(ROOT / "prompts" / name, tmp_path)
    assert [m.type for m in _messages(tmp_path)] == ["system", "human"]


def test_a_malformed_example_names_the_file_and_what_it_needs(tmp_path):
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    (tmp_path / "prompts" / "examples.toml").write_text('[[example]]\nquestion = "Q"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"examples\.toml: example 1 needs"):
        Prompts.load(tmp_path / "prompts")
