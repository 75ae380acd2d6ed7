import itertools
import re

import pytest

from tests.conftest import SEEDS
from vectorstore.chunking import ChunkingConfig, SentencePackingSplitter, pack_sentences, sentence_spans

SEED_TEXTS = {p.stem: p.read_text() for p in SEEDS.glob("*.txt")}


@pytest.mark.parametrize("source", sorted(SEED_TEXTS))
def test_chunks_map_back_to_the_original_text(source):
    text = SEED_TEXTS[source]
    for chunk in pack_sentences(text, ChunkingConfig()):
        # Every line of the chunk is verbatim in the original, inside the chunk's offsets.
        window = text[chunk.start : chunk.end]
        assert window.startswith(chunk.text.split("\n")[0][:40])
        for line in chunk.text.split("\n"):
            assert line in window


@pytest.mark.parametrize("target", [200, 450, 800])
def test_chunks_stay_near_the_target_size(target):
    config = ChunkingConfig(target_chars=target)
    for text in SEED_TEXTS.values():
        chunks = pack_sentences(text, config)
        assert chunks
        # A chunk exceeds the target only when a single sentence does.
        for chunk in chunks:
            assert len(chunk.text) <= target or (
                "\n" not in chunk.text and len(chunk.text) <= config.max_sentence_chars * 2
            )


def test_consecutive_chunks_share_one_sentence():
    text = " ".join(f"Sentence number {i} says something about migration." for i in range(30))
    chunks = pack_sentences(text, ChunkingConfig(target_chars=200, overlap_sentences=1))
    assert len(chunks) > 3
    for before, after in itertools.pairwise(chunks):
        last_sentence = re.findall(r"Sentence number \d+", before.text)[-1]
        assert after.text.startswith(last_sentence)


def test_no_overlap_when_configured_off():
    text = " ".join(f"Sentence number {i} says something." for i in range(30))
    chunks = pack_sentences(text, ChunkingConfig(target_chars=200, overlap_sentences=0))
    numbers = [n for c in chunks for n in re.findall(r"number (\d+)", c.text)]
    assert numbers == [str(i) for i in range(30)]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "Funded by the U.S. Department of State. Mr. Knight spoke. Next one."
    spans = sentence_spans(text, (0, len(text)), 500)
    assert [text[a:b] for a, b in spans] == [
        "Funded by the U.S. Department of State.",
        "Mr. Knight spoke.",
        "Next one.",
    ]


def test_an_overlong_sentence_is_cut_by_the_recursive_splitter():
    text = ", ".join(f"item {i}" for i in range(400)) + "."
    spans = sentence_spans(text, (0, len(text)), 300)
    assert len(spans) > 5
    assert all(b - a <= 300 for a, b in spans)
    assert text[spans[0][0] : spans[-1][1]] == text


def test_the_langchain_splitter_adds_offsets():
    from langchain_core.documents import Document

    docs = SentencePackingSplitter().split_documents(
        [Document(page_content=SEED_TEXTS["001_4b2727f5dc27d324"])]
    )
    assert [d.metadata["chunk_index"] for d in docs] == list(range(len(docs)))
    assert all(d.metadata["end"] > d.metadata["start"] for d in docs)
