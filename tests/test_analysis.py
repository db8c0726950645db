from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.analysis import DEFAULT_ANALYZER as A
from bot.core.analysis import find_words, fold, fold_each


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x17F) | st.sampled_from(
    "\x00\u0301\u0308\ufb01\u2019\u2011\u03a3\u1e9e"), max_size=12), max_size=6))
def test_folding_texts_together_folds_each(texts: list[str]) -> None:
    # Joined by NULs and folded in one call, or one at a time when a text holds a NUL.
    assert fold_each(texts) == [fold(t) for t in texts]


def _folded(text: str) -> str:
    """fold()'s definition, character by character over the whole text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for variant in "’‘ʼ`":
        text = text.replace(variant, "'")
    text = text.replace("‐", "-").replace("‑", "-")
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(
        c for c in decomposed if not unicodedata.combining(c)))


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))
               | st.sampled_from("aeEn ç\u0301\u0308\u0327\u1100\u1161\u11a8\u0915\u093c"),
               max_size=40))
def test_folding_strips_accents_as_the_whole_text_would(text: str) -> None:
    # fold() strips accents run by run of non-ASCII characters (Hangul jamo compose, an
    # accent may follow an ASCII letter).
    assert fold(text) == _folded(text)
