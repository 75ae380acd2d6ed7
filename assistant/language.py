"""The reply language: detected from the question, among the languages the assistant speaks,
and the few fixed sentences it says in each."""

from __future__ import annotations

from dataclasses import dataclass

from vectorstore.languages import closest_language, detect_language


@dataclass(frozen=True)
class ReplyLanguage:
    code: str
    name: str
    not_in_sources: str
    quoting: str
    sources: str


LANGUAGES: dict[str, ReplyLanguage] = {
    "en": ReplyLanguage(
        "en",
        "English",
        not_in_sources="The articles don't say: I found nothing about this in the sources.",
        quoting="Quoting the sources directly:",
        sources="Sources",
    ),
    "fr": ReplyLanguage(
        "fr",
        "French",
        not_in_sources="Les articles ne le disent pas : je n'ai rien trouvé à ce sujet dans les sources.",
        quoting="Citation directe des sources :",
        sources="Sources",
    ),
    "vi": ReplyLanguage(
        "vi",
        "Vietnamese",
        not_in_sources="Các bài báo không đề cập đến điều này: tôi không tìm thấy thông tin trong các nguồn.",
        quoting="Trích dẫn trực tiếp từ các nguồn:",
        sources="Nguồn",
    ),
}
DEFAULT = "en"


def reply_language(question: str) -> ReplyLanguage:
    """The language to answer in: the question's. When the open detector names a language we
    do not speak (short questions fool it: "Qui a peint la Joconde ?" reads as Tsonga), the
    closest of ours decides."""
    code = detect_language(question, prefer=tuple(LANGUAGES))
    if code not in LANGUAGES:
        code = closest_language(question, tuple(LANGUAGES))
    return LANGUAGES.get(code or DEFAULT, LANGUAGES[DEFAULT])
