"""The guard: an LLM answer is shown only if what it claims can be found where it says.

Small models garble figures (seen: "175 observer states" when the source says 8) and invent
them. Before an answer is shown:
- citations that do not match a retrieved passage are dropped;
- an answer with no valid citation at all fails;
- every number (digits or number words, "four million" = "4 million" = "4 triệu") and every
  multi-word proper name or acronym in a sentence must appear in a passage that sentence cites
  (or, for an uncited sentence, in any passage the answer cites), or in the question itself.
Comparison ignores case, diacritics and spacing ("Lê Thị Thu Hằng" = "Le Thi Thu Hang").
Single capitalised words are not checked: place names are legitimately translated
("Japon" for "Japan") and are not where small models invent things.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_GROUPED = re.compile(r"\d{1,3}(?:[  \u202f,.]\d{3})+(?![\d])")
_PLAIN = re.compile(r"\d+(?:[.,]\d+)?")

_UNITS = {
    # English
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    # French ("un"/"une" are articles far more often than numbers)
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "cent": 100,
}
_MULTIPLIERS = {
    "thousand": 1_000,
    "mille": 1_000,
    "nghin": 1_000,
    "ngan": 1_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "trieu": 1_000_000,
    "billion": 1_000_000_000,
    "milliard": 1_000_000_000,
    "milliards": 1_000_000_000,
    "ty": 1_000_000_000,
}
# Vietnamese numbers count only before a multiplier ("ba triệu" = 3 000 000) once folded: "ba"
# may have been "bà" (Mrs), "nam" "năm" (year), "sau" "sau" (after), "tam" "tâm" (centre).
_BEFORE_MULTIPLIER = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
}
# Unfolded and lower case, these are only numbers ("hai hội thảo" = two workshops).
_VIETNAMESE_NUMBERS = {"hai": 2, "ba": 3, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10}
_VIETNAMESE_SMALL = re.compile(r"(?<!\w)(" + "|".join(_VIETNAMESE_NUMBERS) + r")(?!\w)")
# A month name next to a figure is part of a date: "November 13" = "13 novembre" = "13/11".
_MONTH_NUMBERS = {
    name: number
    for names in (
        "january february march april may june july august september october november december",
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    )
    for number, name in enumerate(names.split(), start=1)
}


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), for comparisons across spellings."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def numbers_in(text: str) -> set[str]:
    """Every number `text` states, as canonical strings ("4000000", "300000", "2024", "1.5")."""
    found: set[str] = set()
    text = CITATION.sub(" ", text)
    rest = text
    for match in _GROUPED.finditer(text):
        found.add(re.sub(r"\D", "", match.group()))
        rest = rest.replace(match.group(), " ")
    for match in _PLAIN.finditer(rest):
        value = match.group().replace(",", ".")
        found.add(value.rstrip("0").rstrip(".") if "." in value else value.lstrip("0") or "0")
    for match in _VIETNAMESE_SMALL.finditer(unicodedata.normalize("NFC", text)):
        found.add(str(_VIETNAMESE_NUMBERS[match.group()]))
    # An ordinal's ending is part of its number: "19th to 22nd March" is the 19th to 22 March.
    words = re.findall(r"[a-z]+|\d+(?:[.,]\d+)?", re.sub(r"(\d)(?:st|nd|rd|th|er)\b", r"\1", fold(text)))
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in _MONTH_NUMBERS and (following.isdigit() or (i and words[i - 1].isdigit())):
            found.add(str(_MONTH_NUMBERS[word]))
        value: float | None = None
        if word in _UNITS:
            value = _UNITS[word]
        elif word in _BEFORE_MULTIPLIER and following in _MULTIPLIERS:
            value = _BEFORE_MULTIPLIER[word]
        elif re.fullmatch(r"\d+(?:[.,]\d+)?", word):
            value = float(word.replace(",", "."))
        if value is None:
            continue
        if word in _UNITS:
            found.add(str(int(value)))
        if following in _MULTIPLIERS:
            total = value * _MULTIPLIERS[following]
            found.add(str(int(total)) if total == int(total) else str(total))
    return found


def number_value(text: str) -> str | None:
    """The canonical value of a text that is only a number ("4 triệu", "300 000", "eight"), else None."""
    words = re.findall(r"[^\W_]+", fold(text))
    known = _UNITS.keys() | _MULTIPLIERS.keys() | _BEFORE_MULTIPLIER.keys()
    if not words or not all(w.isdigit() or w in known for w in words):
        return None
    if len(_PLAIN.findall(_GROUPED.sub("0", text))) > 1:  # several figures: a date ("28/11/2024")
        return None
    values = numbers_in(text)
    return max(values, key=float) if values else None


# What a question asks for, when it is a figure or a time: an answer without one has not found it.
_ASKS_NUMBER = re.compile(r"\bhow\s+(many|much)\b|\bcombien\b|\bbao\s+nhiêu\b|\bmấy\b", re.IGNORECASE)
_ASKS_TIME = re.compile(
    # "when" and "quand" ask when they open a clause ("So when…", "Depuis quand…", "Do you know
    # when…") or end it ("C'est quand ?"); "…did they give when installing it?" does not ask.
    r"(?:^|[.?!;:]\s*|\b(?:and|but|so|since|et|mais|depuis|jusqu'à|know|tell|savez|sais)\s+)(?:when|quand)\b"
    r"(?!\s+\w+ing\b)|\bquand\s*\?"
    r"|\bwhat\s+(year|date|day)\b|\bhow\s+long\b|\bquel(le)?\s+(année|date|jour)\b"
    r"|\bkhi\s+nào\b|\bnăm\s+nào\b|\bngày\s+nào\b|\bbao\s+(giờ|lâu)\b|\blúc\s+nào\b",
    re.IGNORECASE,
)
# Small numbers that are common words too ("hai ngày" = two days, "ba phiên" = three sessions).
_SMALL_NUMBER_WORDS = re.compile(r"\b(một|hai|ba|năm|une?)\b", re.IGNORECASE)
_MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|tháng)\b",
    re.IGNORECASE,
)


def misses_what_is_asked(question: str, answer: str) -> str | None:
    """Why `answer` cannot be an answer to `question`, or None: a "how many" question answered
    without a figure, or a "when" question without a date. Small models write such non-answers
    ("IOM supports Viet Nam [3]" for "what is IOM's budget?") when the sources lack the fact."""
    new_numbers = numbers_in(answer) - numbers_in(question) or set(_SMALL_NUMBER_WORDS.findall(answer))
    if _ASKS_NUMBER.search(question) and not new_numbers:
        return "the question asks for a figure and the answer gives none"
    if _ASKS_TIME.search(question) and not (new_numbers or _MONTHS.search(answer)):
        return "the question asks when and the answer gives no date"
    if any(m.group(1).casefold() not in _WHOLE_WITH_VERB for m in _NOTHING_NAMED.finditer(answer)):
        return "the answer leaves out the thing it names"
    return None


# "The package you need to install is [1].": the verb is there, what it names is missing (a small
# model drops the command or file it did not find in the sentence it read). "Yes, it is [1]." and
# "c'est [1]" are whole answers.
_NOTHING_NAMED = re.compile(
    r"(?<![\w'’])(\w+)\s+(?:is|are|was|were|est|sont|était|là)\s*[:,]?\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+"
    r"(?:[.!?]|$)",
    re.IGNORECASE,
)
_WHOLE_WITH_VERB = {"it", "this", "that", "they", "as", "than", "yes", "no", "oui", "non", "ce", "cela"}

# Words that carry no answer: articles, auxiliaries, prepositions, "said" (folded, three languages).
_NO_ANSWER_WORDS = {
    word
    for words in (
        "a an the is are was were be been has have had it its this that these those there of to in on "
        "at by for from with and or as said says according",
        "l d s n qu le la les un une de des du est sont a ont ete et au aux en par pour que qui il elle "
        "ils elles ce cette ces y se selon dit",
        "la co duoc cua va cac nhung cho biet noi theo ve trong tai o voi nay do da dang se thi ma nhu tu",
    )
    for word in words.split()
}


def repeats_the_question(question: str, answer: str) -> bool:
    """True when `answer` says nothing the question did not: every word of it is the question's
    own (or a form of one: "hosts" for "hosting") or a word that carries no answer. Small models
    write such parrots ("The law on workers going abroad was amended in 2020 [3]" for "Which law
    … was amended in 2020?") when they did not find the fact in a foreign-language passage."""
    asked = set(re.findall(r"\w+", fold(question)))
    stems = {word[:4] for word in asked if len(word) >= 5}
    said = re.findall(r"\w+", fold(CITATION.sub(" ", answer)))
    return bool(said) and all(
        word in asked
        or word in _NO_ANSWER_WORDS
        or (len(word) >= 5 and word[:4] in stems)
        or f"{word}s" in asked  # "list" for "lists"; a four-letter stem would take "chin" (nine) for "chinh"
        for word in said
    )


_WORD = re.compile(r"[^\W\d_][\w-]*")
# Words that say "city" or "province" in a translated place name; "TP" is Vietnamese "thành phố".
_PLACE_WORDS = {"city", "ville", "tp", "province"}
_COMMON_STARTS = {
    "the",
    "in",
    "on",
    "at",
    "le",
    "la",
    "les",
    "en",
    "au",
    "theo",
    "tại",
    "ông",
    "bà",
    "mme",
    "mr",
}


def names_in(sentence: str) -> set[str]:
    """Runs of two or more capitalised words (names) and acronyms (PRM, ILO), ignoring a
    sentence's capitalised first word when it is an ordinary one ("The", "Theo")."""
    names: set[str] = set()
    run: list[str] = []
    text = CITATION.sub(" ", sentence)
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]

    def close() -> None:
        if len(run) > 1:
            names.add(" ".join(run))
        run.clear()

    previous_end = 0
    for index, (word, start, end) in enumerate(words):
        adjacent = not text[previous_end:start].strip()  # only white space between the words
        if not adjacent:
            close()
        if len(word) >= 2 and word.isupper() and word.isalpha() and fold(word) not in _PLACE_WORDS:
            names.add(word)
        if word[0].isupper() and not (index == 0 and word.lower() in _COMMON_STARTS):
            run.append(word)
        else:
            close()
        previous_end = end
    close()
    return names


def squash(text: str) -> str:
    """Folded, letters and digits only: "300 000" = "300,000", "Lê Thị" = "lethi"."""
    return "".join(c for c in fold(text) if c.isalnum())


_FUNCTION_WORDS = {
    "of",
    "for",
    "the",
    "and",
    "on",
    "du",
    "de",
    "des",
    "la",
    "le",
    "les",
    "pour",
    "et",
    "và",
    "của",
    "về",
}


def _initialisms(text: str) -> set[str]:
    """Acronyms a writer may form from the text: "Organisation internationale du Travail" → OIT."""
    words = [w for w in _WORD.findall(text) if w.lower() not in _FUNCTION_WORDS]
    initials = [fold(w)[0] for w in words]
    return {"".join(initials[i : i + n]) for n in range(2, 7) for i in range(len(initials) - n + 1)}


@dataclass(frozen=True)
class Evidence:
    """What a passage (or several) states, precomputed for the checks."""

    numbers: set[str]
    squashed: str
    stems: set[str]
    acronyms: set[str]

    @classmethod
    def of(cls, text: str) -> Evidence:
        return cls(
            numbers=numbers_in(text),
            squashed=squash(text),
            stems={fold(w)[:5] for w in _WORD.findall(text)},
            acronyms={"".join(sorted(a.lower())) for a in re.findall(r"\b[A-Z]{2,}\b", text)}
            | _initialisms(text),
        )

    def supports_name(self, name: str) -> bool:
        if squash(name) in self.squashed:
            return True
        if name.isupper():  # an acronym, in any order of its letters (IOM = OIM) or from initials
            return "".join(sorted(name.lower())) in self.acronyms or name.lower() in self.acronyms
        # A place name translated: "Ho Chi Minh City" = "Hô Chi Minh-Ville" = "TP Hồ Chí Minh".
        words = re.findall(r"[^\W\d_]+", name)
        specific = [word for word in words if fold(word) not in _PLACE_WORDS] or words
        if squash(" ".join(specific)) in self.squashed:
            return True
        # A multi-word name spelled a little differently ("Organization" for "Organisation").
        return all(fold(word)[:5] in self.stems for word in specific)


def unsupported_claims(sentence: str, evidence: Evidence, question: Evidence) -> list[str]:
    numbers = [n for n in sorted(numbers_in(sentence)) if n not in evidence.numbers | question.numbers]
    names = [
        name
        for name in sorted(names_in(sentence))
        if not evidence.supports_name(name) and squash(name) not in question.squashed
    ]
    return numbers + names


@dataclass
class GuardResult:
    text: str
    cited: list[int]
    dropped: list[int] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def passed(self) -> bool:
        return self.reason is None


def cited_numbers(text: str) -> list[int]:
    return [int(n) for group in CITATION.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def check(answer: str, passages: dict[int, str], question: str = "") -> GuardResult:
    """Check `answer` against the passages it may cite (by number); see the module docstring.

    A sentence whose figures and names are all in another retrieved passage than the one it
    cites gets its citation moved there (small models often cite [1] for whatever they read):
    afterwards every claim is in the passage its citation names, which is the promise.
    """
    dropped = sorted({n for n in cited_numbers(answer) if n not in passages})

    def keep_valid(match: re.Match[str]) -> str:
        valid = [n for n in re.split(r"\s*[,;]\s*", match.group(1)) if int(n) in passages]
        return "".join(f"[{n}]" for n in valid)

    text = re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub(keep_valid, answer)).strip()
    evidence = {n: Evidence.of(t) for n, t in passages.items()}
    asked = Evidence.of(question)
    answer_cites = sorted(set(cited_numbers(text)))

    sentences: list[str] = []
    unsupported: list[str] = []
    repaired: list[str] = []
    for sentence in _sentences(text):
        own = cited_numbers(sentence)
        sources = own or answer_cites
        missing = (
            unsupported_claims(sentence, _joined(evidence, passages, sources), asked) if sources else None
        )
        # Only a figure or a full name is specific enough to say which passage a sentence uses.
        claims = bool(numbers_in(sentence) or any(" " in name for name in names_in(sentence)))
        if (missing or (missing is None and claims)) and claims:
            better = [n for n in sorted(passages) if not unsupported_claims(sentence, evidence[n], asked)]
            if better:
                bare = re.sub(r"\s+([.!?…]*)$", r"\1", CITATION.sub("", sentence).rstrip())
                end = len(bare) - len(bare.rstrip(".!?…"))
                sentence = f"{bare[: len(bare) - end]} [{better[0]}]{bare[len(bare) - end :]}"
                repaired.append(f"{own or '-'}→[{better[0]}]")
                missing = []
        unsupported += missing or []
        sentences.append(sentence)
    text = " ".join(sentences)
    cited = sorted(set(cited_numbers(text)))
    if not cited:
        return GuardResult(text, [], dropped, reason="the answer cites no retrieved passage")
    reason = f"not in the cited passages: {', '.join(unsupported)}" if unsupported else None
    return GuardResult(text, cited, dropped, unsupported, repaired, reason)


def made_up(answer: str, passages: Iterable[str], question: str = "") -> list[str]:
    """The figures and names of `answer` that no passage states at all, cited or not. A model
    that writes one did not find what is asked and filled the gap ("Tổng giám đốc IOM hiện nay
    là ông Nguyễn Minh Khải" from passages that name no Director General): the sources don't
    say, which a quoted sentence put in its place would hide."""
    everything = Evidence.of(" ".join(passages))
    asked = Evidence.of(question)
    return [
        claim for sentence in _sentences(answer) for claim in unsupported_claims(sentence, everything, asked)
    ]


def _joined(evidence: dict[int, Evidence], passages: dict[int, str], numbers: list[int]) -> Evidence:
    return Evidence.of(" ".join(passages[n] for n in numbers)) if len(numbers) > 1 else evidence[numbers[0]]


def _sentences(text: str) -> list[str]:
    """Sentences, each keeping the citation marks written right after its full stop."""
    parts = _SENTENCE.split(text)
    merged: list[str] = []
    for part in parts:
        if merged and CITATION.match(part):
            marks = re.match(r"(?:\[[^\]]*\]\s*)+", part)
            assert marks is not None
            merged[-1] += " " + marks.group().strip()
            part = part[marks.end() :]
        if part.strip():
            merged.append(part)
    return merged
