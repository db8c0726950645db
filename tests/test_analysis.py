from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.analysis import DEFAULT_ANALYZER as A
from bot.core.analysis import find_words, fold


def test_folding_accents_case_and_apostrophes() -> None:
    assert A.terms("KYÏV") == A.terms("kyiv") == ["kyiv"]
    assert A.terms("Ukraine’s") == A.terms("Ukraine's") == A.terms("ukraine")
    assert A.terms("ﬁghting") == A.terms("fighting") == ["fight"]  # NFKC ligature


def test_hyphenated_words_match_their_parts() -> None:
    assert A.terms("meat-grinder") == ["meat", "grinder"]
    assert A.terms("long‑term") == ["long", "term"]  # non-breaking hyphen


def test_stopwords_include_question_words() -> None:
    assert A.terms("What is it? Who, when, where, why and how?") == []
    assert A.terms("Who announced the withdrawal?") == ["announc", "withdraw"]


def test_stems_and_numbers() -> None:
    assert A.terms("soldiers' lives, 75% and 2014") == ["soldier", "live", "75", "2014"]
    assert A.terms("captured captures capturing") == ["captur"] * 3
    # A decade is its first year; other words with digits are left alone.
    assert A.terms("the 1950s and the 1950's, 4x4s, 3rd") == ["1950", "1950", "4x4s", "3rd"]


_WORD_PATTERN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=60))
def test_words_are_the_word_pattern_matches(text: str) -> None:
    # ASCII text without apostrophes or hyphens takes a faster path than the pattern.
    folded = fold(text)
    assert find_words(folded) == _WORD_PATTERN.findall(folded)
    assert find_words(folded.replace("'", " ").replace("-", " ")) == _WORD_PATTERN.findall(
        folded.replace("'", " ").replace("-", " "))
