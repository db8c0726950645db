"""What a question asks for (a date, a number, a name, a place), from its wording, and whether
a text holds one. The first stage and the reranker both read it."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from bot.core.analysis import Analyzer, has_new_name

KINDS = ("date", "number", "name", "place")

# The kind of answer a question asks for, from its wording; first match wins.
_KINDS = (
    ("date", re.compile(
        r"\b(?:when|what (?:year|century|decade|date|dates|month|day|days|night|nights|time|"
        r"times|time period|era)|which (?:year|century|decade|date|dates|month|day|days|night|"
        r"nights))\b|\bdates?\W*$",
        re.I)),
    ("number", re.compile(
        r"\bhow (?:many|much|long|old|far|large|big|tall|high|often|fast|deep|wide)\b|"
        r"\bwhat (?:percentage|percent|proportion|number|amount|size|population)\b", re.I)),
    ("name", re.compile(r"\b(?:who|whom|whose)\b", re.I)),
    ("place", re.compile(r"\b(?:where|what (?:city|country|state|region|town|place))\b",
                         re.I)),
)
# A question about money: the number it asks for (or, naming a price, the answer it asks for)
# is an amount of money, which a text holds as a currency sign or word, not as any digit
# ("Section 1", "three plans"). "How do I pay" asks for a way, "how much is" for a price.
_MONEY_QUESTION = re.compile(
    r"\b(?:costs?|prices?|priced|fees?|worth|salary|wages?|budget|expensive|cheap|cheaper|"
    r"dues)\b|\bhow much (?:money\b|(?:did|does|do|will|would|has|have|had|is|are|was|were)"
    r"\b(?:\W+\w+){0,5}?\W+(?:pay|paid|spend|spent|earn|earned|earns|raise|raised)\b)|"
    r"\bhow much (?:is|are|was|were)\b(?!.*\b(?:of|percent|percentage)\b)", re.I)
# "How long", "how often" and "how old" ask for a number of a kind: a length of time (or of
# road: "how long is the river"), a frequency, an age; a sentence holding a number of another
# kind ("three recorders", "$100") does not answer them.
_MEASURE_QUESTION = re.compile(r"\bhow (long|often|old)\b", re.I)
_MEASURES = {"long": "duration", "often": "frequency", "old": "age"}
_MEASURED = frozenset(("money", *_MEASURES.values()))
# A question that gives someone's age ("can my 14 year old join", "my son is 15, can he
# help") asks for the rule of age that applies ("under 16s must be accompanied"), whose
# number is seldom the question's.
AGE_PHRASE = re.compile(
    r"\b\d{1,2}\s?-?\s?(?:yo|y/o|(?:yrs?|years?)\s?-?\s?olds?)\b"
    r"(?:\s+(?:son|daughter|kid|child|boy|girl|teen|teenager|grandson|granddaughter|nephew|"
    r"niece)s?\b)?|"
    r"\b(?:i'?m|i am|(?:son|daughter|kid|child|boy|girl|he|she)(?:'s|\s+is))\s+\d{1,2}\b"
    r"(?!\s*(?:[:.%]|am\b|pm\b|mins?\b|minutes?\b|hours?\b|days?\b))", re.I)
_UNITS = re.compile(
    r"\b(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|fortnights?|months?|"
    r"years?|yrs?|decades?|centur\w*|terms?|seasons?|semesters?|until|till|since|"
    r"miles?|km|kilomet\w*|metres?|meters?|feet|foot|ft|inch\w*|yards?)\b", re.I)
_FREQUENCY = re.compile(
    r"\b(?:every|each|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annual|annually|"
    r"biennial|hourly|once|twice|times|per|weekdays?|weekends?)\b", re.I)
_AGE = re.compile(r"\b(?:ages?|aged|old|older|younger|over|under|adults?|years?|yrs?)\b|"
                  r"\d\s?\+|\bunder-\d", re.I)
MONEY_PATTERN = re.compile(
    r"[$£€¥₹₩₽]|\b(?:dollars?|pounds?|euros?|cents?|pence|yen|francs?|rupees?|usd|gbp|eur)\b|"
    r"\b\d+(?:[.,]\d+)?p\b", re.I)
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|"
           r"december")
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                 "forty|fifty|hundred|thousand|million|billion|dozen|half")
# A day of the week and a time of day answer "when" and "what time" as a community's
# documents do ("every Friday at 8pm", "KS2 finishes at 3:20pm").
_WEEKDAYS = ("monday|tuesday|wednesday|thursday|friday|saturday|sunday|mondays|tuesdays|"
             "wednesdays|thursdays|fridays|saturdays|sundays|noon|midnight")
_CLOCK = r"\b\d{1,2}(?::[0-5]\d)?\s?[ap]\.?m\b|\b\d{1,2}:[0-5]\d\b"
# What a date and a number are; has_kind gives the same answers faster (tests compare them).
DATE_PATTERN = re.compile(
    rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{_MONTHS}|{_WEEKDAYS})\b|\bcentur|{_CLOCK}",
    re.I)
NUMBER_PATTERN = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)

KindTest = tuple[str | None, Callable[[str], bool]]


def question_kind(question: str) -> str | None:
    """The kind of answer question asks for (one of KINDS), or None; "money", "duration",
    "frequency" and "age" are numbers of their own kind."""
    kind = next((kind for kind, pattern in _KINDS if pattern.search(question)), None)
    if kind in (None, "number") and _MONEY_QUESTION.search(question):
        return "money"
    if kind == "number" and (measure := _MEASURE_QUESTION.search(question)):
        return _MEASURES[measure[1].lower()]
    if kind is None and AGE_PHRASE.search(question):
        return "age"
    return kind


def has_kind(kind: str, text: str, asked: set[str]) -> bool:
    """Whether text holds a `kind`: a name or place, a day or month, one the question's words
    (asked) lack; a number not only as the label of a numbered rule or section."""
    if kind == "date":
        if not _CALENDAR_NAMES.isdisjoint(asked):  # ("open on saturday": not "Saturday")
            text = _CALENDAR_WORD.sub(lambda m: " " if m[0].lower() in asked else m[0], text)
        return _holds_date(text)
    if kind == "number":  # (not a rule's own number: "6.1 Each caution (yellow card)...")
        return _holds_number(CLAUSE_LABEL.sub("", text, count=1))
    if kind == "money":
        return MONEY_PATTERN.search(text) is not None
    if kind == "duration":
        return _UNITS.search(text) is not None
    if kind == "frequency":
        return _FREQUENCY.search(text) is not None
    if kind == "age":
        return _holds_number(text) and _AGE.search(text) is not None
    # A name or place: a capitalised word, not first in the sentence, the question lacks (no
    # month or day of the week either: KindTests.test adds their names to asked).
    return has_new_name(text, asked)


class KindTests:
    """The kind of answer a question asks for, and a test of whether a text holds one. The
    first stage and the reranker test mostly the same sentences: the test remembers its
    answers, and the last question's test is kept (one a thread) for the second asker."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._local = threading.local()

    def test(self, question: str) -> KindTest:
        last = getattr(self._local, "kind_test", None)
        if last is not None and last[0] == question:
            return last[1]
        asked_for = question_kind(question)
        asked = set(self.analyzer.words(question))
        if asked_for in ("name", "place"):  # (a month or a day of the week names no one)
            asked |= _CALENDAR_NAMES
        seen: dict[str, bool] = {}

        def holds_kind(text: str) -> bool:
            if text not in seen:
                seen[text] = asked_for is not None and has_kind(asked_for, text, asked)
            return seen[text]

        # (The cues' columns: money, a duration, a frequency and an age are numbers.)
        kind = "number" if asked_for in _MEASURED else asked_for
        self._local.kind_test = (question, (kind, holds_kind))
        return kind, holds_kind


# The patterns above try every branch at every word boundary (4-7 us a sentence). In ASCII
# text the same tests read the set of its runs of word characters, lower-cased: a whole word
# is such a run, as \b...\b requires (2-3 us).
def _holds_date(text: str) -> bool:
    if not text.isascii():
        return DATE_PATTERN.search(text) is not None
    low = text.lower()
    runs = _word_runs(low)
    return (not _CALENDAR_RUNS.isdisjoint(runs)
            or ("centur" in low and _CENTURY.search(low) is not None)
            or (("1" in low or "2" in low) and any(_YEAR_RUN.fullmatch(r) for r in runs))
            or (("m" in low or ":" in low) and _CLOCK_PATTERN.search(low) is not None))


def _holds_number(text: str) -> bool:
    if not text.isascii():
        return NUMBER_PATTERN.search(text) is not None
    low = text.lower()
    return any(d in low for d in "0123456789") or not _NUMBER_RUNS.isdisjoint(_word_runs(low))


def _word_runs(ascii_text: str) -> set[bytes]:
    return set(ascii_text.encode().translate(_BLANK_NON_WORD).split())


_BLANK_NON_WORD = bytes(c if c < 128 and (chr(c).isalnum() or chr(c) == "_") else ord(" ")
                        for c in range(256))
_CALENDAR_NAMES = frozenset(f"{_MONTHS}|{_WEEKDAYS}".split("|"))
_CALENDAR_RUNS = frozenset(name.encode() for name in _CALENDAR_NAMES)
_CLOCK_PATTERN = re.compile(_CLOCK)
_NUMBER_RUNS = frozenset(w.encode() for w in _NUMBER_WORDS.split("|"))
_YEAR_RUN = re.compile(rb"(?:1[0-9]{3}|20[0-9]{2})s?")
_CENTURY = re.compile(r"\bcentur")
_CALENDAR_WORD = re.compile(rf"\b(?:{_MONTHS}|{_WEEKDAYS})\b", re.I)
# A numbered rule's or section's label opening a sentence: "6.1 ", "4. ", "Section 3. ".
CLAUSE_LABEL = re.compile(
    r"^\s*(?:(?:section|article|clause|rule|part)\s+)?\d+(?:\.\d+)*[.):]?\s", re.I)
