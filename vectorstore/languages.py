"""Offline language detection (lingua), shared by indexing (untagged documents) and questions."""

from __future__ import annotations

from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Low-accuracy mode: ~70 MB and sub-millisecond for all 75 languages.
    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


@lru_cache(maxsize=8)
def _restricted(codes: tuple[str, ...]) -> LanguageDetector:
    # High accuracy is affordable for a handful of languages, and right on very short questions.
    languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in codes]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def closest_language(text: str, among: tuple[str, ...]) -> str | None:
    """The most likely of `among` (ISO 639-1 codes), for text too short to tell among all."""
    if len(among) < 2:
        return among[0] if among else None
    language = _restricted(tuple(sorted(among))).detect_language_of(text)
    return _code(language) if language else None


def detect_language(text: str, prefer: tuple[str, ...] = ()) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when nothing can be told.

    `prefer` breaks near-ties in favour of the given codes: a two-word question such as
    "IOM Vietnam" is as plausibly Catalan as English to a detector, but not to our users.
    """
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value <= 0.0:
        return None
    best = values[0]
    for candidate in values:
        code = _code(candidate.language)
        if code in prefer and candidate.value >= 0.5 * best.value:
            return code
    return _code(best.language)


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def foreign_language(text: str, ours: tuple[str, ...], min_confidence: float = 0.75) -> str | None:
    """The name of the language `text` is clearly written in when that is none of `ours`, else None.

    Two detectors must agree: the fast one over all languages names a foreign language with
    high confidence, and the accurate one, choosing between ours and that language only, still
    picks it. Short or mixed questions, which fool a single detector ("Qui a peint la Joconde ?"
    reads as Tsonga), are never turned away."""
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence or _code(values[0].language) in ours:
        return None
    foreign = _code(values[0].language)
    recheck = _restricted(tuple(sorted({*ours, foreign}))).compute_language_confidence_values(text)
    if not recheck or _code(recheck[0].language) != foreign or recheck[0].value < min_confidence:
        return None
    return values[0].language.name.title()
