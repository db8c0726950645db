from __future__ import annotations

from bot.core.analysis import DEFAULT_ANALYZER as A


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
