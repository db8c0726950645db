"""Text to search terms: one analysis, used alike for passages and questions.

Unicode NFKC, case folding, accent folding, words with inner apostrophes and hyphens, English
stopwords (question words included) and Snowball stems.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

import Stemmer

# Snowball's English list plus question and auxiliary words, which say nothing about topic.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's i
    i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my
    myself no nor not of off on once only or other ought our ours ourselves out over own same
    shan't she she'd she'll she's should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this
    those through to too under until up very was wasn't we we'd we'll we're we've were weren't
    what what's when when's where where's which while who who's whom why why's with won't
    would wouldn't you you'd you'll you're you've your yours yourself yourselves whose
    whatever whoever whenever wherever however also just s t d ll m re ve y o will shall may
    might must tell say said says many much go goes going gone went get gets got getting
    """.split()
)

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
# The same words in ASCII text (where [^\W_] is exactly [0-9A-Za-z]), found about 40% faster.
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+(?:['\-][0-9A-Za-z]+)*")
# Applied by str.replace, one character after another (the same result as str.translate,
# since no replacement is itself replaced, at a tenth of its cost on a sentence).
_APOSTROPHES = (("’", "'"), ("‘", "'"), ("ʼ", "'"), ("`", "'"), ("‐", "-"), ("‑", "-"))


def find_words(folded: str) -> list[str]:
    if not folded.isascii():
        return _WORD.findall(folded)
    if "'" in folded or "-" in folded:
        return _ASCII_WORD.findall(folded)
    # With no apostrophe or hyphen to join them, the words are the runs of letters and
    # digits: every other byte blanked out and the rest split, three times the pattern's speed.
    return folded.encode().translate(_BLANK_NON_ALNUM).decode().split()


_BLANK_NON_ALNUM = bytes(
    c if chr(c).isascii() and chr(c).isalnum() else ord(" ") for c in range(256))


# A capitalised word not first in its sentence: most often a name. An FAQ's "A:" or "Q:"
# opens its sentence ("A: Group membership is £15"). (The space comes first: a literal the
# scan can jump to, about twice as fast as the look-behinds alone. Then the capital, which
# most spaces are not followed by, before the look-behinds: 1.7 times as fast again over
# SQuAD's paragraphs, 3.7 over sentences without names.)
_CAPITALISED = re.compile(
    r" (?=[A-Z])(?<=[\w,;:)] )(?<!\b[AQ]: )(?<!\bAnswer: )(?<!\bQuestion: )([A-Z][\w'-]+)")


def first_new_name(text: str, known: set[str], pos: int = 0) -> int | None:
    """Where text, from pos on, first holds a capitalised word, not first in its sentence,
    whose folded form is not in known (the question's words): a name the question does not
    already say. None if nowhere."""
    for match in _CAPITALISED.finditer(text, pos):
        word = match.group(1)
        # An ASCII word folds to its lower case: no normalisation or table to apply.
        if (word.lower() if word.isascii() else fold(word)) not in known:
            return match.start()
    return None


def has_new_name(text: str, known: set[str]) -> bool:
    return first_new_name(text, known) is not None


def fold(text: str) -> str:
    """NFKC, case fold, strip accents, unify apostrophes and hyphens."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for variant, plain in _APOSTROPHES:
        if variant in text:
            text = text.replace(variant, plain)
    if text.isascii():
        return text
    # Accents stripped from each run of non-ASCII characters alone: the same result as from
    # the whole text (decomposition is a character's own; Unicode composes no pair holding
    # an ASCII character but with a combining mark, and those are dropped), at a fifth of the
    # cost for Latin text, whose ASCII the character-by-character table would visit too.
    return _NON_ASCII.sub(_without_accents, text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _without_accents(run: re.Match[str]) -> str:
    decomposed = unicodedata.normalize("NFKD", run.group())
    return unicodedata.normalize("NFC", decomposed.translate(_combining_marks()))


def fold_each(texts: list[str]) -> list[str]:
    """[fold(t) for t in texts], folded in one call: normalisation stops at a NUL and the
    rest is a character at a time, so the texts joined by NULs fold to theirs joined (unless
    a text holds a NUL itself: then one at a time)."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [fold(t) for t in texts]
    return fold(joined).split("\x00") if texts else []


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    """A str.translate table that deletes every combining mark (those unicodedata gives a
    nonzero combining class): one C call a text instead of a Python test a character."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


# A small number written out is its digits: "three warnings" answers "after 3 warnings?"
# ("one" is left alone: "no one", "one of the", "the one who" are no number).
_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split()) if i > 1}


class Analyzer:
    """Turns text into a list of terms. Instances are cheap to share and thread-safe."""

    def __init__(self, stem: bool = True, stopwords: frozenset[str] = STOPWORDS) -> None:
        self.stem = stem
        self.stopwords = frozenset(fold(w) for w in stopwords)
        self._stemmer = Stemmer.Stemmer("english") if stem else None
        self._term = lru_cache(maxsize=1 << 18)(self._term_uncached)

    def words(self, text: str) -> list[str]:
        """Folded words of text, before stopwords and stems (for spelling suggestions)."""
        return find_words(fold(text))

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for word in find_words(fold(text)):
            term = self._term(word)
            if term is None:
                continue
            if isinstance(term, str):
                out.append(term)
            else:
                out.extend(term)
        return out

    def word_terms(self, word: str) -> tuple[str, ...]:
        """The terms terms() makes of one of words()' words (none for a stopword), so that a
        caller can analyse each distinct word of a long text once."""
        term = self._term(word)
        return () if term is None else (term,) if isinstance(term, str) else term

    def _term_uncached(self, word: str) -> str | tuple[str, ...] | None:
        if "-" in word:
            # "meat-grinder" matches "meat" and "grinder"; each part analysed on its own.
            parts = tuple(t for p in word.split("-") if (t := self._term_uncached(p)))
            return parts or None
        if word.endswith("'s"):
            word = word[:-2]
        if word in self.stopwords:
            return None
        word = word.replace("'", "")
        if not word or word in self.stopwords:
            return None
        if self._stemmer is None:
            return word
        if not word[0].isdigit():
            return _NUMBERS.get(word) or self._stemmer.stemWord(word)
        # A number's plural is the number: "the 1950s" answers "in 1950...", "in the 1950s?"
        return word[:-1] if word[-1] == "s" and word[:-1].isdigit() else word


DEFAULT_ANALYZER = Analyzer()
