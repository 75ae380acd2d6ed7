"""The reply language: detected from the question, among the languages the assistant speaks,
and the few fixed sentences it says in each.

Short questions fool a statistical detector: the names in "Who is Le Thi Thu Hang?" make it
Vietnamese, and "hi" is anything. So the words that carry a question's language (who/qui/ai,
is/est/là, how many/combien/bao nhiêu, greetings) are counted first, names set aside; the
detector decides only when those words do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vectorstore.languages import closest_language, detect_language


@dataclass(frozen=True)
class ReplyLanguage:
    code: str
    name: str
    not_in_sources: str
    quoting: str
    sources: str
    invitation: str
    closest: str


LANGUAGES: dict[str, ReplyLanguage] = {
    "en": ReplyLanguage(
        "en",
        "English",
        not_in_sources="The articles don't say: I found nothing about this in the sources.",
        quoting="Quoting the sources directly:",
        sources="Sources",
        invitation="Ask me a question about the articles, for example: "
        "“How many member states does IOM have?”",
        closest="The closest thing the articles say:",
    ),
    "fr": ReplyLanguage(
        "fr",
        "French",
        not_in_sources="Les articles ne le disent pas : je n'ai rien trouvé à ce sujet dans les sources.",
        quoting="Citation directe des sources :",
        sources="Sources",
        invitation="Posez-moi une question sur les articles, par exemple : "
        "« Combien d'États membres compte l'OIM ? »",
        closest="Ce que les articles disent de plus proche :",
    ),
    "vi": ReplyLanguage(
        "vi",
        "Vietnamese",
        not_in_sources="Các bài báo không đề cập đến điều này: tôi không tìm thấy thông tin trong các nguồn.",
        quoting="Trích dẫn trực tiếp từ các nguồn:",
        sources="Nguồn",
        invitation="Hãy hỏi tôi về các bài báo, ví dụ: “IOM có bao nhiêu quốc gia thành viên?”",
        closest="Điều gần nhất mà các bài báo nói:",
    ),
}
DEFAULT = "en"


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that say which language a question is in, whatever names it holds. Only words that
# are not also common in the other two languages (French "a", "de" in names; Vietnamese "to").
_CUES: dict[str, frozenset[str]] = {
    "en": _set(
        "who whom whose what when where which why how many much is are was were does did do the of "
        "and in on at for with about has have been by tell me please hi hello hey thanks thank you "
        "yes no ok okay"
    ),
    "fr": _set(
        "qui quel quelle quels quelles quand où comment combien pourquoi est sont était le la les "
        "des du au aux un une et dans sur pour avec été ont ce cette ces quoi que qu'est-ce "
        "est-ce a-t-il a-t-elle bonjour salut merci oui non d'accord"
    ),
    "vi": _set(
        "ai gì nào đâu bao nhiêu khi là có của những các được không đã và trong cho với về người "
        "việc này đó mấy sao thế chào xin cảm ơn vâng dạ"
    ),
}
# Every language's cue words: question and function words, not what a question is about.
CUE_WORDS: frozenset[str] = frozenset().union(*_CUES.values())
# What people type when there is nothing to look up: greetings, thanks, acknowledgements.
_SMALL_TALK = _set(
    "hi hello hey thanks thank you ok okay yes no bye cool great nice good thx "
    "bonjour salut merci oui non d'accord bien super "
    "chào xin cảm ơn vâng dạ được tốt cám"
)
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def words_of(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORDS.findall(text)]


def _without_names(text: str) -> list[str]:
    """The question's words, lower-cased, less capitalised words after the first (names,
    titles, acronyms: they tell the language of the thing named, not of the question)."""
    words = words_of(text)
    return [w.lower() for i, w in enumerate(words) if i == 0 or not w[:1].isupper()]


def _votes(words: list[str]) -> dict[str, int]:
    """How many of `words` are each language's cue words."""
    return {code: sum(w in cues for w in words) for code, cues in _CUES.items()}


def reply_language(question: str) -> ReplyLanguage:
    """The language to answer in: the question's, told by its question words first."""
    words = _without_names(question)
    votes = _votes(words)
    best = max(votes.values())
    leaders = [code for code, count in votes.items() if count == best]
    if best and len(leaders) == 1:
        return LANGUAGES[leaders[0]]
    text = " ".join(words) or question
    code = detect_language(text, prefer=tuple(LANGUAGES))
    if code not in LANGUAGES:
        code = closest_language(text, tuple(LANGUAGES))
    return LANGUAGES.get(code or DEFAULT, LANGUAGES[DEFAULT])


# Letters Vietnamese writes and French and English never do (names are set aside before).
_VIETNAMESE_ONLY = re.compile("[ăđơưáảãạắằẳẵặấầẩẫậếềểễệốồổỗộớờởỡợứừửữựíìỉĩịóòỏõọúủũụýỳỷỹỵ]")
_QUOTED = re.compile(r'“[^”]*”|«[^»]*»|"[^"]*"|\[\d+\]')


def answer_language(answer: str) -> str | None:
    """The language an answer is written in, told by its function words only (quotes and
    citation marks set aside), or None when too few of them say: "8 [1]." is in every language.
    A lower-case word with a letter only Vietnamese writes is Vietnamese left untranslated."""
    words = _without_names(_QUOTED.sub(" ", answer))
    if any(_VIETNAMESE_ONLY.search(w) for w in words):  # "8 pays quan sát viên ont participé"
        return "vi"
    votes = sorted(((count, code) for code, count in _votes(words).items()), reverse=True)
    (best, code), (second, _) = votes[0], votes[1]
    return code if best >= 2 and best >= 2 * second else None


def is_small_talk(question: str) -> bool:
    """Nothing to look up: a greeting, thanks, or no word longer than one letter ("a", "ok")."""
    words = [w.lower() for w in words_of(question)]
    return all(w in _SMALL_TALK or len(w) <= 1 for w in words)
