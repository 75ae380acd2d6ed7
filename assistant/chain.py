"""The answer chain: condense → translate → retrieve → on topic? → generate → verify → `Answer`.

`stream()` yields events on named channels, kotaemon-style: `evidence` (the sentences the model
reads, as soon as they are ranked), `token` (chat text as it is generated) and `answer` (the
final, checked `Answer` with its citations, for the evidence panel). A generated answer is shown
only on the verifier's verdict (`assistant.verifier`); otherwise a refusal with the closest
sentence, or the source sentences quoted, replaces it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate

from assistant import verifier
from assistant.answer import Answer, Citation, GuardReport, Passage, Quote
from assistant.follow_up import needs_history
from assistant.generators.extractive import ExtractiveGenerator
from assistant.generators.local import LlamaCppChatModel
from assistant.language import LANGUAGES, ReplyLanguage, is_small_talk, reply_language
from assistant.llm import GeneratorUnavailable
from assistant.prompts import Prompts, format_history, format_sources
from assistant.settings import Settings
from vectorstore.languages import foreign_language
from vectorstore.retriever import HybridRetriever

History = Sequence[tuple[str, str]]  # (role "user" | "assistant", text), oldest first
SHORT_FOLLOW_UP_WORDS = 12

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"[^\W_]", re.UNICODE)


class QuestionError(ValueError):
    """The question cannot be asked as it is (empty, too long); the message says why."""


@dataclass(frozen=True)
class Event:
    kind: Literal["status", "evidence", "token", "answer"]
    text: str = ""
    answer: Answer | None = None
    quotes: tuple[Quote, ...] = ()  # `evidence`: the sentences the model is about to read


class AnswerChain:
    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever | Callable[[], HybridRetriever],
        llm: BaseChatModel | None,
        prompts: Prompts | None = None,
        condense_llm: BaseChatModel | None = None,
        model: str | None = None,
    ) -> None:
        self.settings = settings
        self.model = model or settings.generator  # the catalogue id answers are stamped with
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
            # The system prompt and the worked examples are the same for every question: evaluated
            # now, they stay in llama.cpp's prompt cache and the first question skips them.
            messages = self.prompts.answer.format_messages(sources="", question="?", language_name="English")
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
        # Most turns stand on their own: no model pass for them (without a model, joining the
        # previous question costs nothing and helps retrieval, so it is always done).
        rewrite = self.llm is None or self.settings.condense == "always" or needs_history(question)
        if history and rewrite:
            yield Event("status", "condensing the follow-up question")
            standalone = self._condense(question, history)
            timings["condense"] = _ms(started)

        retriever = self.retriever  # one index version for the whole question
        translations: list[str] = []
        if others := self._search_languages(retriever, language):
            yield Event("status", "translating the question to search every language")
            translations = self._translate(standalone, others)
            timings["translate"] = _ms(started)

        mark = time.perf_counter()
        extractive = ExtractiveGenerator(retriever.function)
        documents = retriever.search(standalone, top_k or self.settings.top_k, translations)
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
        if not verifier.on_topic(standalone, passages, self.settings.min_topicality):
            answer = Answer(**base, answer=language.not_in_sources, refused=True, generator="none")
        elif self.llm is None:
            answer = Answer(**base, **self._extractive(extractive, standalone, passages, language))
        else:
            shown = self._shown(standalone, passages, extractive)
            # Passages read whole (`openai`'s default) have no one sentence to quote.
            quotes = excerpt_quotes(passages, shown) if self.settings.llm_sentences else {}
            if quotes:  # what the model reads, on screen before it writes (~0.2 s after asking)
                yield Event("evidence", "reading", quotes=tuple(quotes.values()))
            yield Event("status", "generating")
            messages = self.prompts.answer.format_messages(
                sources=format_sources(shown), question=standalone, language_name=language.name
            )
            parts: list[str] = []
            for token in self._stream_reply(messages):
                if not parts:
                    timings["first_token"] = _ms(started)
                parts.append(token)
                yield Event("token", token)
            draft = "".join(parts)
            checked = self._checked(draft, extractive, standalone, passages, language, quotes)
            if checked.pop("wrong_language", False):  # written once more in the question's language
                again_in = self.prompts.in_language.format(language_name=language.name)
                retry = [*messages, AIMessage(draft), HumanMessage(again_in)]
                again = self._checked(
                    "".join(self._stream_reply(retry)), extractive, standalone, passages, language, quotes
                )
                if again.pop("wrong_language", False):  # quoted, under a header in the right language
                    reason = f"the answer is not in {language.name}, even when asked again"
                    report = GuardReport(checked=True, fired=True, reason=reason, draft=draft)
                    again = {
                        **self._extractive(extractive, standalone, passages, language, draft),
                        "guard": report,
                    }
                checked = again
            answer = Answer(**base, **checked)
        timings["generate"] = _ms(mark)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        answer.model = self.model
        yield Event("answer", answer=answer)

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
            model=self.model,
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

    def translations(self, question: str) -> list[str]:
        """`question` as the search also asks it, translated as `search_translations` says (none
        without an LLM)."""
        others = self._search_languages(self.retriever, reply_language(question))
        return self._translate(question, others) if others else []

    def _search_languages(self, retriever: HybridRetriever, language: ReplyLanguage) -> list[ReplyLanguage]:
        """The collection's languages other than the question's that it is translated into:
        English only for `english` (a translation into e5's strongest language reaches the
        passages a cross-language match misses, at one model pass), each for `every`."""
        policy = self.settings.search_translations
        if self.llm is None or policy == "none":
            return []
        others = [LANGUAGES[c] for c in retriever.languages if c in LANGUAGES and c != language.code]
        return [other for other in others if other.code == "en"] if policy == "english" else others

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

    def _shown(
        self, question: str, passages: Sequence[Passage], extractive: ExtractiveGenerator
    ) -> list[Passage]:
        """The passages as the model reads them: the top ones, each cut to its best sentences."""
        shown = list(passages[: self.settings.llm_passages])
        if self.settings.llm_sentences:
            shown = extractive.excerpts(question, shown, self.settings.llm_sentences)
        if self.settings.best_passage_last:
            shown.reverse()  # numbers stay the ranks: [1] is still the best passage
        return shown

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
        quotes: dict[int, Quote],
    ) -> dict:
        """The shown answer's fields for the model's reply `text`, as the verifier decides: the
        reply with its citations checked, or the extractive quotes, or "the articles don't say"
        with the sentence that came closest (the best-ranked one the model read).
        `wrong_language` asks for a rewrite."""
        verdict = verifier.judge(question, text, passages, language.code)
        if verdict.action == "answer":
            by_n = {p.n: p for p in passages}
            return {
                "answer": verdict.text,
                "refused": False,
                "generator": self.requested,
                "citations": [Citation.of(by_n[n], quotes.get(n)) for n in verdict.cited],
                "guard": verdict.report,
                "wrong_language": verdict.wrong_language,
            }
        if verdict.action == "quote":
            return {
                **self._extractive(extractive, question, passages, language, draft=text),
                "guard": verdict.report,
            }
        return {
            "answer": language.not_in_sources,
            "refused": True,
            "generator": self.requested,
            "closest": next(iter(quotes.values()), None),
            "guard": verdict.report,
        }


def excerpt_quotes(passages: Sequence[Passage], shown: Sequence[Passage]) -> dict[int, Quote]:
    """For each passage the model read cut to its best sentence, that sentence and where it
    stands in the whole passage, best-ranked passage first."""
    whole = {p.n: p for p in passages}
    quotes = {}
    for excerpt in sorted(shown, key=lambda p: p.n):
        passage = whole[excerpt.n]
        sentence = excerpt.text.split(" … ")[0]
        start = passage.text.find(sentence)
        if start >= 0:
            quotes[excerpt.n] = Quote(n=excerpt.n, sentence=sentence, start=start, end=start + len(sentence))
    return quotes


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
