"""The answer chain: condense → translate → retrieve → answerable? → generate → guard → `Answer`.

`stream()` yields events on two channels, kotaemon-style: `token` (chat text as it is generated)
and `answer` (the final, checked `Answer` with its citations, for the evidence panel). A
generated answer is shown only after the guard: if it fails, the extractive answer replaces it,
marked as such.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate

from assistant import abstention, guard
from assistant.answer import Answer, Citation, GuardReport, Passage, Quote
from assistant.generators.extractive import ExtractiveGenerator
from assistant.generators.local import LlamaCppChatModel
from assistant.guard import CITATION
from assistant.language import LANGUAGES, ReplyLanguage, answer_language, is_small_talk, reply_language
from assistant.llm import GeneratorUnavailable
from assistant.prompts import NOT_IN_SOURCES, Prompts, format_history, format_sources
from assistant.selection import YES, Candidate, Selection, candidates, select, verification_messages
from assistant.settings import Settings
from vectorstore.languages import foreign_language
from vectorstore.retriever import HybridRetriever

History = Sequence[tuple[str, str]]  # (role "user" | "assistant", text), oldest first
SHORT_FOLLOW_UP_WORDS = 12
# What a model writes when it declines in prose instead of replying NOT_IN_SOURCES.
_DECLINES = re.compile(
    "|".join(
        [
            NOT_IN_SOURCES,
            r"\b(do|does|did)\s+not\s+(provide|contain|mention|say|state|specify|include|give)",
            r"\b(no|any)\s+information\b",
            r"\bnot\s+(mentioned|specified|provided|stated|available)\b",
            r"\bne\s+(précise|mentionne|contien|dit|fourni|donne|parle|indique)\w*\s+pas\b",
            r"\b(aucune|pas\s+d')\s*information",
            r"\bkhông\s+(đề\s+cập|có\s+thông\s+tin|nêu|cung\s+cấp|nói)",
        ]
    ),
    re.IGNORECASE,
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"[^\W_]", re.UNICODE)
_OTHER_MARKERS = re.compile(r"[(\[【]\s*(?:source|nguồn)?\s*(\d{1,2})\s*[)\]】]", re.IGNORECASE)


class QuestionError(ValueError):
    """The question cannot be asked as it is (empty, too long); the message says why."""


@dataclass(frozen=True)
class Event:
    kind: Literal["status", "evidence", "token", "answer"]
    text: str = ""
    answer: Answer | None = None
    quotes: tuple[Quote, ...] = ()  # `evidence`: the sentences being read, then the one chosen


class AnswerChain:
    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever | Callable[[], HybridRetriever],
        llm: BaseChatModel | None,
        prompts: Prompts | None = None,
        condense_llm: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        # A retriever, or a function giving the current one (`ServedIndex.current`: follows re-indexing).
        self._retriever = retriever
        self.llm = llm
        # Rewrites follow-ups; a local model gets its own context so the answer prompt's cache survives.
        self.condense_llm = condense_llm or llm
        self.prompts = prompts or Prompts.load(settings.prompts_dir)
        self.requested = settings.generator

    # -- public ------------------------------------------------------------------------------------
    @property
    def retriever(self) -> HybridRetriever:
        return self._retriever if isinstance(self._retriever, HybridRetriever) else self._retriever()

    def warm_up(self) -> None:
        """Load the embedding model, the sparse index and the local LLM (both its contexts) now,
        not on the first question or the first follow-up."""
        self.retriever.search("IOM", 1)
        for model in (self.llm, self.condense_llm):
            if isinstance(model, LlamaCppChatModel):
                model.load()  # once per model: a second call returns the loaded one
        if isinstance(self.llm, LlamaCppChatModel):
            # The system prompt (and the worked examples) are the same for every question:
            # evaluated now, they stay in llama.cpp's prompt cache and the first question skips them.
            if self._selects:
                self.llm.choice_logprobs(
                    self.prompts.verify.format_messages(question="?", sentence="?"), [YES]
                )
            else:
                messages = self.prompts.answer.format_messages(
                    sources="", question="?", language_name="English"
                )
                self.llm.invoke(messages, max_tokens=1)

    def invoke(self, question: str, history: History = (), top_k: int | None = None) -> Answer:
        for event in self.stream(question, history, top_k):
            if event.answer is not None:
                return event.answer
        raise RuntimeError("the chain ended without an answer")  # pragma: no cover

    def stream(self, question: str, history: History = (), top_k: int | None = None) -> Iterator[Event]:
        """Events for one question; `top_k` overrides how many passages are retrieved."""
        started = time.perf_counter()
        question = self._validated(question)
        language = reply_language(question)
        timings: dict[str, float] = {}
        if is_small_talk(question):  # "hi", "ok thanks", "a": nothing to look up, so no quotes
            yield Event("answer", answer=self._invitation(question, language, started))
            return

        standalone = question
        if history:
            yield Event("status", "condensing the follow-up question")
            standalone = self._condense(question, history)
            timings["condense"] = _ms(started)

        retriever = self.retriever  # one index version for the whole question
        translations: list[str] = []
        if self.llm is not None and self.settings.search_translations:
            others = [LANGUAGES[c] for c in retriever.languages if c in LANGUAGES and c != language.code]
            if others:
                yield Event("status", "translating the question to search every language")
                translations = self._translate(standalone, others)
                timings["translate"] = _ms(started)

        mark = time.perf_counter()
        extractive = ExtractiveGenerator(retriever.function)
        k = top_k or self.settings.top_k
        if self._selects:  # candidate sentences come from more passages than are shown
            k = max(k, self.settings.select_passages)
        documents = retriever.search(standalone, k, translations)
        passages = [Passage.from_document(n, doc) for n, doc in enumerate(documents, start=1)]
        timings["retrieve"] = _ms(mark)

        base = {
            "question": question,
            "standalone_question": standalone,
            "translated_questions": translations,
            "language": language.code,
            "requested_generator": self.requested,
            "passages": passages,
        }
        mark = time.perf_counter()
        if not self._answerable(passages):
            answer = Answer(**base, answer=language.not_in_sources, refused=True, generator="none")
        elif self.llm is None:
            answer = Answer(**base, **self._extractive(extractive, standalone, passages, language))
        elif self._selects:
            fields = yield from self._select_and_answer(
                standalone, passages, language, extractive, timings, started
            )
            answer = Answer(**base, **fields)
        else:
            yield Event("status", "generating")
            parts: list[str] = []
            for token in self._generate(standalone, passages, language, extractive):
                if not parts:
                    timings["first_token"] = _ms(started)
                parts.append(token)
                yield Event("token", token)
            answer = Answer(
                **base, **self._checked("".join(parts), extractive, standalone, passages, language)
            )
        timings["generate"] = _ms(mark)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        yield Event("answer", answer=answer)

    @property
    def _selects(self) -> bool:
        """Whether answers are written from a sentence chosen by probability (`answer_mode`)."""
        return self.settings.answer_mode == "select" and hasattr(self.llm, "choice_logprobs")

    # -- steps --------------------------------------------------------------------------------------
    def _invitation(self, question: str, language: ReplyLanguage, started: float) -> Answer:
        return Answer(
            question=question,
            standalone_question=question,
            language=language.code,
            requested_generator=self.requested,
            answer=language.invitation,
            refused=True,
            generator="none",
            timings_ms={"total": _ms(started)},
        )

    def _validated(self, question: str) -> str:
        """The question on one line, control characters removed; a `QuestionError` saying what
        to change when it cannot be answered as it is."""
        question = " ".join(_CONTROL.sub(" ", question or "").split())
        if not question:
            raise QuestionError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars} (ASSISTANT_MAX_QUESTION_CHARS)"
            )
        if not _WORD.search(question):
            raise QuestionError("the question has no words in it; ask in English, French or Vietnamese")
        foreign = foreign_language(question, tuple(LANGUAGES))
        if foreign:
            raise QuestionError(
                f"this looks like {foreign}; I answer questions in English, French or Vietnamese"
            )
        return question

    def _condense(self, question: str, history: History) -> str:
        """A standalone question: by the LLM when there is one, else by adding the previous
        question to a short follow-up (enough for retrieval to find the same topic)."""
        previous = [text for role, text in history if role == "user"]
        if self.llm is None:
            short = len(question.split()) <= SHORT_FOLLOW_UP_WORDS
            return f"{previous[-1]} {question}" if previous and short else question
        history_text = format_history(history[-6:])
        return self._rewrite(self.prompts.condense, question, history=history_text) or question

    def _translate(self, question: str, languages: Sequence[ReplyLanguage]) -> list[str]:
        """The question in each of `languages`, for the search only: a rough translation still
        shares the passages' words, which a cross-language embedding match alone often misses."""
        translated = (
            self._rewrite(self.prompts.translate, question, language_name=language.name)
            for language in languages
        )
        return [text for text in translated if text and text != question]

    def _rewrite(self, prompt: PromptTemplate, question: str, **values: str) -> str:
        """One line about `question` from the rewriting model (standalone follow-ups,
        translations); empty when the reply is too short or too long to be one."""
        chain = prompt | self.condense_llm | StrOutputParser()
        try:
            reply = chain.invoke({"question": question, **values})
        except Exception as exc:
            raise GeneratorUnavailable(_unavailable(exc)) from exc
        line = reply.strip().splitlines()[0].strip().strip('"') if reply.strip() else ""
        return line if 3 <= len(line) <= 4 * len(question) + 200 else ""

    def _answerable(self, passages: Sequence[Passage]) -> bool:
        topicality = [p.topicality for p in passages if p.topicality is not None]
        return bool(passages) and (not topicality or max(topicality) >= self.settings.min_topicality)

    def _generate(
        self,
        question: str,
        passages: Sequence[Passage],
        language: ReplyLanguage,
        extractive: ExtractiveGenerator,
    ) -> Iterator[str]:
        assert self.llm is not None
        shown = list(passages[: self.settings.llm_passages])
        if self.settings.llm_sentences:
            shown = extractive.excerpts(question, shown, self.settings.llm_sentences)
        if self.settings.best_passage_last:
            shown.reverse()  # numbers stay the ranks: [1] is still the best passage
        messages = self.prompts.answer.format_messages(
            sources=format_sources(shown), question=question, language_name=language.name
        )
        try:
            for chunk in self.llm.stream(messages):
                if chunk.content:
                    yield str(chunk.content)
        except Exception as exc:
            raise GeneratorUnavailable(_unavailable(exc)) from exc

    def _select_and_answer(
        self,
        question: str,
        passages: Sequence[Passage],
        language: ReplyLanguage,
        ranker: ExtractiveGenerator,
        timings: dict[str, float],
        started: float,
    ) -> Generator[Event, None, dict]:
        """Candidates → P(Yes) for each, best first → abstain? → the answer, written from the
        chosen sentence only, continuing its judgement's chat (that prompt stays cached)."""
        mark = time.perf_counter()
        count = self.settings.select_sentences
        # A "how many" or "when" question is answered by a sentence with a figure or a date.
        pool = candidates(ranker, question, passages, 3 * count)
        items = [c for c in pool if not guard.misses_what_is_asked(question, c.evidence)][:count]
        yield Event("evidence", "reading", quotes=tuple(quote_of(c) for c in items[:3]))
        timings["candidates"] = _ms(mark)
        try:
            selection = select(
                self.llm,  # type: ignore[arg-type]  # `_selects` checked it judges
                self.prompts.verify,
                question,
                items,
                enough=self.settings.selection_enough,
            )
        except Exception as exc:
            raise GeneratorUnavailable(_unavailable(exc)) from exc
        timings["select"] = _ms(mark)
        chosen = selection.chosen
        closest = quote_of(chosen, selection) if chosen else None
        declined = {"answer": language.not_in_sources, "refused": True, "generator": self.requested}
        reason = abstention.reason(selection, self.settings.min_selection_confidence)
        if chosen is None or closest is None or reason:
            report = GuardReport(checked=True, fired=True, reason=reason or "no candidate sentence")
            return {**declined, "closest": closest, "guard": report}
        yield Event("evidence", "chosen", quotes=(closest,))

        messages = [
            *verification_messages(self.prompts.verify, question, chosen),
            AIMessage(YES),
            HumanMessage(self.prompts.answer_from.format(question=question, language_name=language.name)),
        ]
        parts: list[str] = []
        for token in self._stream_reply(messages):
            if not parts:
                timings["first_token"] = _ms(started)
            parts.append(token)
            yield Event("token", token)
        draft = "".join(parts)
        text = written_answer(draft)
        invented = guard.made_up(text, [chosen.evidence], question) if text else []
        if not text or _DECLINES.search(text) or invented:
            reason = f"not in the chosen sentence: {', '.join(invented)}" if invented else "declined"
            report = GuardReport(checked=True, fired=True, reason=reason, draft=draft)
            return {**declined, "closest": closest, "guard": report}
        report = GuardReport(checked=True)
        quoted = f"{language.quoting}\n\n“{chosen.sentence}”"
        if guard.misses_what_is_asked(question, text) or guard.repeats_the_question(question, text):
            # The sentence was judged to answer, the reply did not say it: show the sentence.
            reason = "the answer does not state what is asked"
            report = GuardReport(checked=True, fired=True, reason=reason, draft=draft)
            text = quoted
        elif answer_language(text) not in (None, language.code):  # written once more, then quoted
            retry = [*messages, AIMessage(draft), HumanMessage(f"Write that answer in {language.name}.")]
            again = written_answer("".join(self._stream_reply(retry)))
            report = GuardReport(
                checked=True, fired=True, reason=f"answer not in {language.name}", draft=draft
            )
            if (
                again
                and answer_language(again) in (None, language.code)
                and not guard.made_up(again, [chosen.evidence], question)
            ):
                text = again
            else:
                text = quoted
        return {
            "answer": cite(text, chosen.passage.n),
            "refused": False,
            "generator": self.requested,
            "citations": [Citation.of(chosen.passage, closest)],
            "guard": report,
        }

    def _stream_reply(self, messages: list[BaseMessage]) -> Iterator[str]:
        assert self.llm is not None
        try:
            for chunk in self.llm.stream(messages):
                if chunk.content:
                    yield str(chunk.content)
        except Exception as exc:
            raise GeneratorUnavailable(_unavailable(exc)) from exc

    def _extractive(
        self,
        extractive: ExtractiveGenerator,
        question: str,
        passages: Sequence[Passage],
        language: ReplyLanguage,
        draft: str | None = None,
    ) -> dict:
        extract = extractive.answer(question, passages, language, draft)
        by_n = {p.n: p for p in passages}
        return {
            "answer": extract.text,
            "refused": not extract.cited,
            "generator": "extractive",
            "citations": [Citation.of(by_n[n]) for n in extract.cited],
        }

    def _checked(
        self,
        text: str,
        extractive: ExtractiveGenerator,
        question: str,
        passages: Sequence[Passage],
        language: ReplyLanguage,
    ) -> dict:
        by_n = {p.n: p for p in passages}
        declined = {"answer": language.not_in_sources, "refused": True, "generator": self.requested}
        if not text.strip() or _DECLINES.search(text):
            return declined
        missing = guard.misses_what_is_asked(question, text)
        if missing:  # a non-answer: the model did not find what is asked, so the sources don't say
            return {**declined, "guard": GuardReport(checked=True, fired=True, reason=missing, draft=text)}
        tidy = _tidy(text, len(passages))
        if guard.repeats_the_question(question, tidy):
            # Nothing found, put in other words; the sources are on topic: show their best sentence.
            report = GuardReport(
                checked=True, fired=True, reason="the answer only repeats the question", draft=text
            )
            return {**self._extractive(extractive, question, passages, language, draft=text), "guard": report}
        result = guard.check(tidy, {n: p.text for n, p in by_n.items()}, question)
        report = GuardReport(
            checked=True,
            fired=not result.passed,
            dropped_citations=result.dropped,
            unsupported=result.unsupported,
            repaired=result.repaired,
            reason=result.reason,
            draft=None if result.passed else text,
        )
        invented = [] if result.passed else guard.made_up(tidy, [p.text for p in passages], question)
        if invented:  # in no retrieved passage at all: the model did not find it, the sources don't say
            report.reason = f"in no retrieved passage: {', '.join(invented)}"
            return {**declined, "guard": report}
        if result.passed:
            return {
                "answer": result.text,
                "refused": False,
                "generator": self.requested,
                "citations": [Citation.of(by_n[n]) for n in result.cited],
                "guard": report,
            }
        return {**self._extractive(extractive, question, passages, language, draft=text), "guard": report}


def quote_of(candidate: Candidate, selection: Selection | None = None) -> Quote:
    probability = selection.probability(candidate) if selection else 0.0
    return Quote(
        n=candidate.passage.n,
        sentence=candidate.sentence,
        start=candidate.start,
        end=candidate.end,
        probability=round(probability, 4),
    )


def written_answer(reply: str) -> str:
    """The model's answer without citation marks of its own (the code sets the citation) and
    without what small models wrap it in; the first line only."""
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    text = CITATION.sub("", _tidy(lines[0], 0)) if lines else ""
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def cite(text: str, n: int) -> str:
    """`text` with the citation `[n]` before its final full stop."""
    body = text.rstrip()
    end = len(body) - len(body.rstrip(".!?…"))
    return f"{body[: len(body) - end].rstrip()} [{n}]{body[len(body) - end :] or '.'}"


def _tidy(text: str, passages: int) -> str:
    """Strip what small models wrap answers in (an 'Answer:' label, stray source tags), and turn
    their other citation shapes ("(3)", "[Source 3]", "【3】") into `[3]` when 3 is a passage."""
    text = re.sub(r"</?source[^>]*>", "", text)

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{n}]" if 1 <= n <= passages else match.group(0)

    text = _OTHER_MARKERS.sub(marker, text)
    return re.sub(r"^\s*(answer|réponse|trả lời)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)


def _unavailable(exc: Exception) -> str:
    """What went wrong with the model, in words a user can act on (never the key, never a trace)."""
    name = type(exc).__name__
    if "Connection" in name or "connect" in str(exc).lower():
        return "the model endpoint is not reachable; check ASSISTANT_LLM_BASE_URL and that the server runs"
    if "Timeout" in name:
        return "the model endpoint did not answer in time (ASSISTANT_LLM_TIMEOUT)"
    if "Authentication" in name or "401" in str(exc):
        return "the model endpoint refused the API key (ASSISTANT_LLM_API_KEY)"
    if "NotFound" in name or "404" in str(exc):
        return "the model endpoint does not serve that model (ASSISTANT_LLM_MODEL)"
    if isinstance(exc, ValueError) or "ResponseValidation" in name:  # an HTML page, broken JSON
        return (
            "the model endpoint's answer is not an OpenAI-compatible reply; check that "
            "ASSISTANT_LLM_BASE_URL is the server's OpenAI-compatible address (usually ending in /v1)"
        )
    return f"the model failed: {name}"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
