"""The verifier's signals on cached answers: which replies shown as answers are wrong, and what
each signal, alone and combined, would cost in coverage to stop showing them.

    python bench/verifier.py collect [QUESTIONS] [--out FILE]   # asks the default chain
    python bench/verifier.py judge FILE                         # adds the model's P(Yes) judgements
    python bench/verifier.py judge-self FILE                    # adds its self-check (same chat)
    python bench/verifier.py score FILE [FILE ...] [--out JSON] # no model, seconds

`collect` asks every question through the default chain and saves each whole `Answer` (passages,
citations with the sentence the model read, the draft, the translations) with its label and the
extractive ranker's best sentences. `judge` adds, for each reply shown as an answer, the model's
P(Yes) that the cited sentence states the answer and that it answers the question at all, each
in a fresh prompt; `judge-self` asks the model right after its own answer, in the answer's chat.
`score` prints risk (wrong shown ÷ shown) and coverage (right ÷ answerable) for today's verdicts
and for each rule that would refuse more: the thresholded signals at a fixed grid (in-sample),
their logistic combination left-one-question-out. It writes bench/results/verifier-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import guard  # noqa: E402
from assistant.answer import Answer  # noqa: E402
from assistant.evaluation import DEFAULT_QUESTIONS, answer_matches, load_questions  # noqa: E402
from assistant.generators.extractive import ExtractiveGenerator  # noqa: E402
from assistant.language import CUE_WORDS, LANGUAGES, answer_language, words_of  # noqa: E402
from assistant.machine import describe_machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def collect(questions_file: Path, out: Path) -> None:
    from assistant.service import build_chain
    from assistant.settings import Settings

    chain = build_chain(Settings())
    chain.warm_up()
    ranker = ExtractiveGenerator(chain.retriever.function)
    with out.open("w", encoding="utf-8") as sink:
        for question in load_questions(questions_file):
            answer = chain.invoke(question.question)
            ranked = ranker.rank(answer.standalone_question, answer.passages[:4])[:3]
            record = {
                "id": question.id,
                "language": question.language,
                "answerable": question.answerable,
                "accepted": list(question.answer_any),
                "correct": question.answerable
                and not answer.refused
                and answer_matches(answer.answer, question.answer_any),
                "ranked": [{"n": s.n, "text": s.text, "score": s.score} for s in ranked],
                "answer": answer.model_dump(mode="json"),
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
            print(question.id, "ok" if record["correct"] else "--", answer.answer[:80], file=sys.stderr)


def _prompt(system_file: str, human_file: str) -> Any:
    from langchain_core.prompts import ChatPromptTemplate

    here = Path(__file__).resolve().parent
    system = (here / system_file).read_text(encoding="utf-8").strip()
    return ChatPromptTemplate.from_messages(
        [
            ("system", system.replace("{", "{{").replace("}", "}}")),
            ("human", (here / human_file).read_text(encoding="utf-8").strip()),
        ]
    )


def judge_self(cache: Path) -> None:
    """Add `p_self`: the model asked, after its own answer in the same conversation, whether the
    source it cites states it. Everything before the check is in llama.cpp's cache, so it costs
    only the check's own tokens, the price it would have in the chain."""
    import math
    import time

    from langchain_core.messages import AIMessage, HumanMessage

    from assistant.prompts import format_sources
    from assistant.service import build_chain
    from assistant.settings import Settings

    chain = build_chain(Settings(llm_threads=2))
    ranker = ExtractiveGenerator(chain.retriever.function)
    check = (Path(__file__).resolve().parent / "verify_self.md").read_text(encoding="utf-8").strip()
    records = [json.loads(line) for line in cache.open(encoding="utf-8")]
    for record in records:
        answer = Answer.model_validate(record["answer"])
        if answer.refused:
            continue
        shown = chain._shown(answer.standalone_question, answer.passages, ranker)
        language = LANGUAGES[answer.language]
        messages = chain.prompts.answer.format_messages(
            sources=format_sources(shown), question=answer.standalone_question, language_name=language.name
        )
        draft = answer.guard.draft or answer.answer
        chain.llm.invoke(messages, max_tokens=1)  # the answer's prompt, as the chain evaluated it
        mark = time.perf_counter()
        logprobs = chain.llm.choice_logprobs(
            [*messages, AIMessage(draft), HumanMessage(check)], ["Yes", "No"]
        )
        record["p_self"] = round(1.0 / (1.0 + math.exp(logprobs["No"] - logprobs["Yes"])), 4)
        record["self_seconds"] = round(time.perf_counter() - mark, 3)
        print(record["id"], record["correct"], record["p_self"], record["self_seconds"], file=sys.stderr)
    cache.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def judge_cache(cache: Path) -> None:
    """Add the model's P(Yes) to each reply shown as an answer: that its cited sentence states the
    answer (`p_states`), and that the sentence answers the question at all (`p_answers`)."""
    import math
    import time

    from assistant.llm import chat_model
    from assistant.settings import Settings

    model = chat_model(Settings(llm_threads=2))
    states = _prompt("verify_answer.md", "verify_answer_question.md")
    answers = _prompt("verify.md", "verify_question.md")
    records = [json.loads(line) for line in cache.open(encoding="utf-8")]
    for record in records:
        answer = Answer.model_validate(record["answer"])
        if answer.refused:
            continue
        sentence = " ".join(_read_sentences(answer)) or (
            record["ranked"][0]["text"] if record["ranked"] else ""
        )
        reply = guard.CITATION.sub("", answer.answer).strip()
        question = answer.standalone_question
        mark = time.perf_counter()
        for key, messages in (
            ("p_states", states.format_messages(question=question, sentence=sentence, answer=reply)),
            ("p_answers", answers.format_messages(question=question, sentence=sentence)),
        ):
            logprobs = model.choice_logprobs(messages, ["Yes", "No"])
            record[key] = round(1.0 / (1.0 + math.exp(logprobs["No"] - logprobs["Yes"])), 4)
        record["judge_seconds"] = round(time.perf_counter() - mark, 3)
        print(record["id"], record["correct"], record["p_states"], record["p_answers"], file=sys.stderr)
    cache.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


# -- signals: each True when the reply looks unsafe to show ----------------------------------------
def _new_terms(question: str, text: str) -> tuple[set[str], set[str]]:
    """The figures and the names the reply states that the question does not."""
    reply = guard.CITATION.sub("", text)
    asked = guard.Evidence.of(question)
    figures = guard.numbers_in(reply) - asked.numbers
    names = {n for n in guard.names_in(reply) if guard.squash(n) not in asked.squashed}
    return figures, names


def _stated(terms: tuple[set[str], set[str]], text: str) -> list[bool]:
    """For each new figure and name, whether `text` states it."""
    found = guard.Evidence.of(text)
    figures, names = terms
    return [f in found.numbers for f in figures] + [found.supports_name(n) for n in names]


def _read_sentences(answer: Answer) -> list[str]:
    return [c.quote.sentence for c in answer.citations if c.quote] or [c.passage for c in answer.citations]


def is_quote_block(record: dict, answer: Answer) -> bool:
    return answer.generator == "extractive"


def disagrees_with_ranker(record: dict, answer: Answer) -> bool:
    """The reply states something new and none of it is in the ranker's best sentence."""
    stated = _stated(
        _new_terms(answer.standalone_question, answer.answer),
        record["ranked"][0]["text"] if record["ranked"] else "",
    )
    return bool(stated) and not any(stated)


def disagrees_with_ranker_top3(record: dict, answer: Answer) -> bool:
    """The reply states something new and none of it is in the ranker's three best sentences."""
    stated = _stated(
        _new_terms(answer.standalone_question, answer.answer), " ".join(s["text"] for s in record["ranked"])
    )
    return bool(stated) and not any(stated)


def outside_read_sentence(record: dict, answer: Answer) -> bool:
    """A new figure or name of the reply is in no sentence the model read of the cited passages."""
    return not all(
        _stated(_new_terms(answer.standalone_question, answer.answer), " ".join(_read_sentences(answer)))
    )


def no_new_terms(record: dict, answer: Answer) -> bool:
    """The reply states no figure or name the question does not already hold."""
    return not any(_new_terms(answer.standalone_question, answer.answer))


def _content_stems(text: str) -> set[str]:
    """The stems of a text's content words: no question or function words, no short words."""
    return {guard.fold(w)[:5] for w in words_of(text) if len(w) >= 4 and w.lower() not in CUE_WORDS}


def question_overlap(record: dict, answer: Answer) -> float:
    """The share of the question's content words the sentence read states, in the question's
    words or in its translation, whichever shares more."""
    read = {guard.fold(w)[:5] for w in words_of(" ".join(_read_sentences(answer)))}
    shares = [
        len(stems & read) / len(stems)
        for question in [answer.standalone_question, *answer.translated_questions]
        if (stems := _content_stems(question))
    ]
    return max(shares, default=1.0)


def figure_relabelled(record: dict, answer: Answer) -> bool:
    """A new figure of the reply stands beside other words in the reply than in the sentence read
    ("175 staff" where the sentence says "175 member states"); only when both are in one language."""
    read = " ".join(_read_sentences(answer))
    if answer_language(read) != answer_language(answer.answer):
        return False
    figures, _ = _new_terms(answer.standalone_question, answer.answer)

    def beside(text: str, figure: str) -> set[str]:
        words = re.findall(r"[^\W_]+", guard.fold(guard.CITATION.sub("", text)))
        near: set[str] = set()
        for i, word in enumerate(words):
            if guard.numbers_in(word) & {figure}:
                near |= {w[:5] for w in words[max(0, i - 3) : i + 4] if len(w) >= 4}
        return near

    for figure in figures:
        said, source = beside(answer.answer, figure), beside(read, figure)
        if said and source and not said & source:
            return True
    return False


SIGNALS: dict[str, Callable[[dict, Answer], bool]] = {
    "quote block": is_quote_block,
    "disagrees with ranker": disagrees_with_ranker,
    "disagrees with ranker top 3": disagrees_with_ranker_top3,
    "outside the read sentence": outside_read_sentence,
    "no new figure or name": no_new_terms,
    "figure relabelled": figure_relabelled,
}
THRESHOLDED: dict[str, Callable[[dict, Answer], float | None]] = {
    "question overlap": question_overlap,
    "P(sentence states the answer)": lambda r, a: r.get("p_states"),
    "P(sentence answers the question)": lambda r, a: r.get("p_answers"),
    "P(self check)": lambda r, a: r.get("p_self"),
}


def _features(record: dict, answer: Answer) -> list[float]:
    return [
        record.get("p_states", 1.0),
        record.get("p_answers", 1.0),
        float(disagrees_with_ranker(record, answer)),
        question_overlap(record, answer),
        float(is_quote_block(record, answer)),
        float(no_new_terms(record, answer)),
    ]


def _fit(x: Any, y: Any, l2: float = 1.0, steps: int = 3000) -> Any:
    """Logistic regression (weights, then bias) by gradient descent: P(the reply is wrong)."""
    import numpy as np

    w = np.zeros(x.shape[1] + 1)
    xb = np.hstack([x, np.ones((len(x), 1))])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0] / len(y)
        w -= 0.5 * grad
    return w


def cross_validated_wrongness(records: list[dict]) -> dict[str, float]:
    """P(wrong) for each reply shown today, each from a model fit without its own question."""
    import numpy as np

    shown = [(r, a) for r in records if not (a := Answer.model_validate(r["answer"])).refused]
    x = np.array([_features(r, a) for r, a in shown])
    y = np.array([0.0 if r["correct"] else 1.0 for r, _ in shown])
    out = {}
    for i, (record, _) in enumerate(shown):
        keep = np.arange(len(shown)) != i
        w = _fit(x[keep], y[keep])
        out[record["id"]] = float(1 / (1 + np.exp(-(np.r_[x[i], 1.0] @ w))))
    full = _fit(x, y)
    print("  weights (p_states, p_answers, disagrees, overlap, quote, no new, bias):", np.round(full, 2))
    return out


def score(records: list[dict], refuse: Callable[[dict, Answer], bool]) -> dict[str, Any]:
    shown = wrong = right = 0
    answerable = sum(r["answerable"] for r in records)
    for record in records:
        answer = Answer.model_validate(record["answer"])
        if answer.refused or refuse(record, answer):
            continue
        shown += 1
        wrong += not record["correct"]
        right += record["correct"]
    return {
        "risk": round(wrong / shown, 3) if shown else 0.0,
        "coverage": round(right / answerable, 3) if answerable else 0.0,
        "shown": shown,
        "wrong_shown": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("collect")
    ask.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    ask.add_argument("--out", type=Path)
    commands.add_parser("judge").add_argument("cache", type=Path)
    commands.add_parser("judge-self").add_argument("cache", type=Path)
    judge = commands.add_parser("score")
    judge.add_argument("files", nargs="+", type=Path)
    judge.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.command == "collect":
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        collect(args.questions, args.out or RESULTS / f"verifier-cache-{stamp}.jsonl")
        return
    if args.command == "judge-self":
        judge_self(args.cache)
        return
    if args.command == "judge":
        judge_cache(args.cache)
        return
    sets = {}
    for file in args.files:
        records = [json.loads(line) for line in file.open(encoding="utf-8")]
        sets[file.stem] = scored_set(records)
        print(f"{file.name}: {len(records)} questions")
        for rule in sets[file.stem]["rules"]:
            print(
                f"  {rule['rule']:<40} risk {rule['risk']:.3f}  coverage {rule['coverage']:.3f}  "
                f"shown {rule['shown']} ({rule['wrong_shown']} wrong)"
            )
    result = {"sets": sets, "machine": describe_machine()}
    out = args.out or RESULTS / f"verifier-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def scored_set(records: list[dict]) -> dict[str, Any]:
    """Today's risk and coverage, and each rule's, on one cached collection."""
    rules = [{"rule": "today", **score(records, lambda r, a: False)}]
    rules += [{"rule": name, **score(records, signal)} for name, signal in SIGNALS.items()]
    for name, value in THRESHOLDED.items():
        shown = [(r, a) for r in records if not (a := Answer.model_validate(r["answer"])).refused]
        if all(value(r, a) is None for r, a in shown):
            continue  # not judged in this collection
        for threshold in (0.3, 0.5, 0.7):
            rule = f"{name} < {threshold}"
            rules.append(
                {
                    "rule": rule,
                    **score(records, lambda r, a, v=value, t=threshold: (x := v(r, a)) is not None and x < t),
                }
            )
    wrongness = cross_validated_wrongness(records)
    for threshold in (0.3, 0.4, 0.5):
        rule = f"combined P(wrong) > {threshold} (leave-one-out)"
        rules.append(
            {"rule": rule, **score(records, lambda r, a, t=threshold, p=wrongness: p.get(r["id"], 0) > t)}
        )
    seconds = sorted(r["judge_seconds"] / 2 for r in records if "judge_seconds" in r)
    return {
        "questions": len(records),
        "judge_seconds_p50": seconds[len(seconds) // 2] if seconds else None,
        "rules": rules,
    }


if __name__ == "__main__":
    main()
