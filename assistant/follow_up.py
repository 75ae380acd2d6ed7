"""Does a question need the conversation to be understood? Decided without the model.

Most turns of a conversation stand on their own, and rewriting each with the model costs a model
pass that gives the same question back. Only a question that points back — a pronoun or
demonstrative with nothing in the question to point at ("who funded it?", "et lui ?", "ông ấy là
ai?"), an ellipsis ("and in 2015?", "còn năm 2015 thì sao?"), or a bare "the X" ("what is the
deadline?") — is rewritten. When unsure, rewrite: a needless rewrite costs seconds, a missed one
answers the wrong question.
"""

from __future__ import annotations

import re

from assistant.language import CUE_WORDS

# Pronouns that stand for something said before, whatever else the question holds.
_POINTERS = {
    "en": "they he him she this these those",
    "fr": "il elle ils elles lui eux celui celle ceux celles ceci cet cette ces",
    "vi": "họ ấy này kia",
}
# Pronouns that may point inside the question itself ("the leases it has handed out"): they
# point back only when little comes before them ("Who funded it?").
_NEUTERS = {"it", "them", "cela", "ça", "nó", "đó"}
INSIDE_AFTER_WORDS = 4
# Possessives: they point back only when nothing named comes before them ("What is its budget?"
# against "What is IOM's budget for its programmes?").
_POSSESSIVES = {
    "en": "its their his her",
    "fr": "son sa ses leur leurs",
    "vi": "",
}
# Openings that continue the previous question instead of asking a new one.
_CONTINUES = re.compile(
    r"^(and|also|what about|how about|what else|who else|same|et|aussi|et pour|et en|et à|"
    r"qu'en est-il|còn|thế còn|vậy còn|vậy|thế(?! nào))\b|\b(thì sao|else|too|aussi|nữa)\W*$",
    re.IGNORECASE,
)
# "that" is a pronoun after these words ("about that", "did that"), a conjunction elsewhere.
_THAT = re.compile(r"\b(about|of|for|on|with|from|did|does|do|is|was|are|were|after|before)\s+that\b|^that\b")
# Vietnamese honorifics are pronouns unless a name follows ("Bà Kendra Rinas", but "bà đã nói gì?").
_HONORIFICS = {"ông", "bà", "anh", "chị", "cô"}
# Only whether a word is one matters, whatever its language: one set each.
_POINTER_WORDS = {word for words in _POINTERS.values() for word in words.split()}
_OWNER_WORDS = {word for words in _POSSESSIVES.values() for word in words.split()}
_QUESTION_WORD_LIST = (
    "what which who whom whose when where why how is are was were do does did the a an of "
    "quel quelle quels quelles qui que quoi quand où comment pourquoi combien est le la les "
    "un une de du des ai gì nào đâu sao bao nhiêu khi là has have had been sont ont était "
    "étaient sera été có được đã"
)
_QUESTION_WORDS = set(_QUESTION_WORD_LIST.split())
SHORT_WORDS = 3
# Words that open a short follow-up without naming anything ("Really?", "Vraiment ?").
_FILLER_LIST = (
    "really vraiment seriously sure thật thế vậy since from with without into after before during "
    "about under depuis avec pour dans chez sans après avant pendant sous"
)
_FILLERS = set(_FILLER_LIST.split())
_ARTICLES = {"the", "le", "la", "les", "l"}
# Words after which a pronoun or demonstrative points inside the question or at nothing:
# "those who work abroad", "cette année", "is it possible", "il faut", "tiếng Anh", "cô dâu".
_RELATIVES = {"who", "whose", "that", "qui", "que", "qu", "dont"}
_TIME_NOUNS = {"year", "week", "month", "année", "an", "semaine", "mois"}
_IMPERSONAL = {"take", "takes", "cost", "costs", "possible", "necessary", "true", "required", "legal"}
_NOT_HONORIFIC_AFTER = {"tiếng", "nước", "người"}
_FRENCH_VERBS = {"a", "ont", "avait", "avaient", "est", "sont", "ai", "as", "été"}


def needs_history(question: str) -> bool:
    """True when `question` points back at the conversation (see the module docstring)."""
    text = question.strip()
    words = re.findall(r"[^\W\d_]+", text)  # "qu'a-t-elle" is four words here
    if _CONTINUES.search(text.rstrip("?？ ").strip()) or _THAT.search(text.lower()):
        return True
    if len(words) <= SHORT_WORDS and not _named(words):
        return True  # "Why?", "In 2015?", "Pourquoi ?", "Khi nào?"
    lowered = [w.lower() for w in words]
    content = _content(words)
    if len(content) == 1 and not _named(words) and _ARTICLES & set(lowered):
        return True  # "What is the deadline?", "Quelles sont les conditions ?"
    return any(_points_back(text, words, lowered, i) for i in range(len(words)))


def _points_back(text: str, words: list[str], lowered: list[str], i: int) -> bool:
    """Whether the word at `i` stands for something said before."""
    word = lowered[i]
    after = lowered[i + 1] if i + 1 < len(lowered) else ""
    last = i == len(lowered) - 1
    if word in _POINTER_WORDS:
        if _inverted(text, words[i]) and _before_it(words[:i]):  # "l'OIM est-elle"
            return False
        if after in _RELATIVES or after in _TIME_NOUNS:  # "those who", "cette année"
            return False
        return not (
            word == "il" and (after in ("faut", "y") or lowered[max(0, i - 3) : i] == ["y", "a", "t"])
        )
    if word == "ce":
        return after not in _RELATIVES  # "ce séminaire", not "ce que"
    if word in ("her", "there") and last:  # "When did IOM hire her?", "How many work there?"
        return True
    if word in _HONORIFICS:
        named = after[:1] != "" and words[i + 1][:1].isupper()
        return not (
            named
            or (i and words[i][:1].isupper())
            or (i and lowered[i - 1] in _NOT_HONORIFIC_AFTER)
            or (word == "cô" and after == "dâu")
        )
    if word in _OWNER_WORDS:
        return not _before_it(words[:i])
    if word in _NEUTERS:
        return after not in _IMPERSONAL and len(_content(words[:i])) < INSIDE_AFTER_WORDS
    if word in ("l", "y") and after in _FRENCH_VERBS:  # "Qui l'a fondée ?", "Qui y a participé ?"
        return not (word == "y" and (lowered[i + 2 : i + 4] == ["t", "il"] or lowered[i - 1 : i] == ["il"]))
    return False


def _named(words: list[str]) -> bool:
    """A name or acronym after the first word ("What is IOM?", "Qui est Kendra Rinas ?")."""
    names = [w for w in words if w != "I"]  # "Can I apply?" names nothing
    # A capitalised first word is a name when it is no question word ("Pybuild là gì?").
    first = bool(names) and names[0][:1].isupper() and len(names[0]) >= 4 and not _asking(names[0])
    return first or any(w[:1].isupper() for w in names[1:]) or any(w.isupper() and len(w) > 1 for w in names)


def _asking(word: str) -> bool:
    return word.lower() in _QUESTION_WORDS or word.lower() in CUE_WORDS or word.lower() in _FILLERS


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w.lower() not in _QUESTION_WORDS and len(w) > 3]


def _before_it(words: list[str]) -> bool:
    """Something a possessive can refer to: a name, or a word that is not a question word."""
    return _named(words) or bool(_content(words))


def _inverted(text: str, word: str) -> bool:
    """A French subject pronoun after its verb ("est-elle", "a-t-il"): with a subject before it,
    it repeats that subject."""
    return re.search(rf"-(t-)?{re.escape(word)}\b", text, re.IGNORECASE) is not None
