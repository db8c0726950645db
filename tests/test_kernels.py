"""The compiled first stage (bot/core/kernels.py) gives the numpy first stage's candidates and
scores to the last bit, and so the same answers."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import kernels
from bot.core.answer import Engine
from bot.core.documents import parse_document
from bot.core.model import RetrievalSettings

NUMPY = 10**9  # compiled_from: never compiled


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    # The first compilation in a fresh clone takes several seconds; later ones load numba's
    # cache.
    assert kernels.wait(timeout=110) is not None, "numba did not load (see the log)"


def _corpus(seed: int, words: int, documents: int, skewed: bool = False) -> list:
    """Documents of short sentences over a small vocabulary (a question matches many
    passages, in many paragraphs), labels holding some of its words, two collections.
    skewed: words drawn as a language uses them (a few in most sentences, most rare), so a
    rare word's few matches meet a common word's long posting list."""
    rng = random.Random(seed)
    vocab = [f"w{i:03d}" for i in range(words)]

    def word() -> str:
        if skewed:  # (Pareto: word i about as often as i ** -1.8)
            return vocab[min(int(rng.paretovariate(0.8)) - 1, words - 1)]
        return rng.choice(vocab)

    docs = []
    for d in range(documents):
        paragraphs = [
            " ".join(
                " ".join(word() for _ in range(rng.randint(1, 8))).capitalize() + "."
                for _ in range(rng.randint(1, 5)))
            for _ in range(rng.randint(1, 8))
        ]
        docs.append(parse_document("\n\n".join(paragraphs) + "\n", f"c{d % 2}", f"d{d}.txt",
                                   Path(f"d{d}.txt"), {"label": f"{word()} notes"}))
    return docs


# A _corpus and a _question over its vocabulary, drawn by hypothesis.
QUESTIONS = dict(seed=st.integers(0, 10_000), words=st.integers(3, 60),
                 documents=st.integers(1, 12),
                 question=st.lists(st.integers(0, 70), min_size=1, max_size=6))


def _question(words: list[int]) -> str:
    """A question over _corpus's vocabulary: a word twice weighs 2, a misspelling's near
    spellings less than 1; "notes" is in labels."""
    return " ".join(f"w{i:03d}" if i < 64 else ("notes" if i < 67 else f"w{i - 67:03d}x")
                    for i in words) + "?"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    **QUESTIONS,
    candidates=st.sampled_from([1, 3, 20, 200]),
    common=st.sampled_from([0, 2, 1_000]),
    weights=st.sampled_from([(0.3, 1.5, 1.0), (0.0, 1.5, 1.0), (0.3, 0.0, 0.0)]),
    only=st.sampled_from([None, {"c1"}]),
    skewed=st.booleans(),
)
def test_compiled_first_stage_equals_numpy(
    seed: int, words: int, documents: int, question: list[int], candidates: int, common: int,
    weights: tuple[float, float, float], only: set[str] | None, skewed: bool,
) -> None:
    _same_first_stage(_corpus(seed, words, documents, skewed), _question(question), candidates,
                      common, weights, only)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000), words=st.integers(20, 60), documents=st.integers(6, 12),
    rare=st.none() | st.integers(12, 59),
    question=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    candidates=st.sampled_from([3, 20]),
    weights=st.sampled_from([(0.3, 1.5, 1.0), (0.3, 0.0, 0.0)]),
)
def test_compiled_first_stage_equals_numpy_skewed(
    seed: int, words: int, documents: int, rare: int | None, question: list[int],
    candidates: int, weights: tuple[float, float, float],
) -> None:
    """Common words, with or without a rare one, in a skewed corpus: the common words are
    searched for around the rare word's few matches and their neighbours
    (FirstStage._score_around) or, all common, the weakest is written only inside the
    paragraphs the others matched (_score_inside)."""
    text = _question(question if rare is None else [min(rare, words - 1), *question])
    _same_first_stage(_corpus(seed, words, documents, True), text, candidates, 2, weights, None)


def _same_first_stage(
    corpus: list, text: str, candidates: int, common: int, weights: tuple[float, float, float],
    only: set[str] | None,
) -> None:
    """The compiled first stage gives the numpy one's candidates, floats equal bit for bit,
    and the same answer, and leaves its buffers clear; also over a corpus whose postings'
    paragraphs the first stage gathers itself (an updated corpus's: Corpus.posting_para)."""
    nw, pt, tt = weights
    base = replace(RetrievalSettings(), candidates=candidates, common_postings=common,
                   neighbour_weight=nw, paragraph_terms=pt, title_terms=tt, threshold=0.0)
    by_numpy = Engine(corpus, replace(base, compiled_from=NUMPY))
    query = by_numpy.query_terms(text)
    want = by_numpy.first.candidates(query, only, text)
    for source in (by_numpy.corpus, replace(by_numpy.corpus, posting_para=None)):
        by_kernels = Engine(source, replace(base, compiled_from=0))
        got = by_kernels.first.candidates(query, only, text)
        assert [a.tolist() for a in got] == [a.tolist() for a in want]
        assert (by_kernels.answer(text, collections=only)
                == by_numpy.answer(text, collections=only))
        buffers = by_kernels.first.buffers()
        assert not buffers.scores.any() and not buffers.paragraphs.any()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    **QUESTIONS,
    rerank=st.sampled_from([2, 5, 25]),
)
def test_compiled_cues_and_confidence_equal_numpy(
    seed: int, words: int, documents: int, question: list[int], rerank: int
) -> None:
    """The reranker's term cues and the confidence from the compiled kernels are numpy's, up
    to a sum's last bit (numpy's matrix products round as BLAS does), and so are the
    answers."""
    base = replace(RetrievalSettings(), rerank=rerank, threshold=0.0)
    by_numpy = Engine(_corpus(seed, words, documents), replace(base, compiled_from=NUMPY))
    by_kernels = Engine(by_numpy.corpus, replace(base, compiled_from=0))
    text = _question(question)
    query = by_numpy.query_terms(text)
    ids, bm25, context = by_numpy.first.candidates(query, None, text)
    m = min(rerank, len(ids))
    want = by_numpy.reranker.features(text, query, ids[:m], bm25[:m], context[:m], ids)
    got = by_kernels.reranker.features(text, query, ids[:m], bm25[:m], context[:m], ids)
    np.testing.assert_array_equal(got, want)
    asked = by_numpy.query.query(text)
    for some in (ids, ids[:m], ids[:0]):
        np.testing.assert_allclose(
            by_kernels.confidence.of(asked.exact, some, asked.near),
            by_numpy.confidence.of(asked.exact, some, asked.near), rtol=0, atol=0)
    assert by_kernels.answer(text) == by_numpy.answer(text)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.floats(-5, 50, allow_nan=False), min_size=1, max_size=400),
    order=st.sampled_from(["drawn", "ascending", "descending"]),
    share=st.floats(0.0, 1.0),
)
def test_nth_largest_equals_numpy_selection(values: list[float], order: str, share: float) -> None:
    """The heap's n-th largest value is numpy's selection's, ties and negative values
    included, also when values come ascending (the heap overflows its budget and numpy
    selects)."""
    compiled = kernels.loaded()
    a = np.array(values)
    if order != "drawn":
        a = np.sort(a) if order == "ascending" else -np.sort(-a)
    n = 1 + int(share * (len(a) - 1))
    assert compiled.nth_largest(a, n) == np.partition(a, len(a) - n)[len(a) - n]


def test_search_cache_older_than_the_kernels_is_dropped(tmp_path: Path) -> None:
    """_firstsearch.search compiles _kernels.py's kernels into itself, and numba checks its
    cache against _firstsearch.py alone: a cache older than _kernels.py is deleted before
    loading, a newer one and other modules' caches are kept."""
    import os

    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (tmp_path / "_kernels.py").write_text("")
    names = ("_firstsearch.search-30.py311.nbi", "_firstsearch.search-30.py311.1.nbc",
             "_kernels.scatter-28.py311.nbi")
    for name in names:
        (cache / name).write_text("")
        os.utime(cache / name, (1_000, 1_000))
    kernels.drop_stale_search(tmp_path)
    assert sorted(f.name for f in cache.iterdir()) == ["_kernels.scatter-28.py311.nbi"]
    (cache / names[0]).write_text("")  # newer than _kernels.py
    kernels.drop_stale_search(tmp_path)
    assert (cache / names[0]).exists()


# Words for the word cues' texts: the question's, others, numbers, words joined by an
# apostrophe or a hyphen, names (after a comma, a colon, a bracket; an FAQ's "A:", "Answer:"),
# a stopword, and a non-ASCII one (its text is matched in Python).
_WORDS = ("ferry", "Ferry", "pier", "crane", "the", "of", "a", "don't", "well-known", "12",
          "1950s", "3rd", "x", "Zoë", "piers", "ferry's", "co-op", "-", "'", "ferry-pier",
          "Pier", "Oslo", "O'Neil", "Mc-Guire", "Zed_x", "A:", "Q:", "Answer:", "Question:",
          "QA:", "ferry,", "(Oslo)", "Oslo;", "I", "X")


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.lists(st.sampled_from(_WORDS), max_size=14), min_size=1, max_size=6),
    question=st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6),
    joins=st.sampled_from([" ", ", ", " - ", "'", ". "]),
)
def test_compiled_word_cues_equal_python(
    texts: list[list[str]], question: list[str], joins: str
) -> None:
    """The reranker's word cues (word pairs, density, exact words, where the first is,
    novelty) from the compiled kernel are Python's to the last bit, for ASCII texts and,
    falling back to Python, others."""
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.wordcues import word_cues

    compiled = kernels.wait(timeout=110)
    read = [joins.join(words) + "." for words in texts]
    asked = " ".join(question) + "?"
    want = word_cues(read, DEFAULT_ANALYZER, asked, None, None)
    got = word_cues(read, DEFAULT_ANALYZER, asked, None, None, compiled.word_cues)
    assert want.keys() == got.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize(("text", "novel"), [
    ("Answer: Oslo is far.", 0.0), ("Far. Answer: Oslo is far.", 0.0),
    ("My Answer: Oslo is far.", 1.0), ("myAnswer: Oslo is far.", 1.0),
    ("A: Oslo is far.", 0.0), ("QA: Oslo is far.", 1.0), ("Question: Oslo is far?", 0.0),
    ("It is far, Oslo.", 1.0), ("It is (far) Oslo.", 1.0), ("It is far - Oslo.", 0.0),
    ("It is far O.", 0.0), ("It is far Ferry.", 0.0), ("It is far 12 ferry.", 1.0),
    ("It is far 3rd.", 1.0), ("It is far Ferry's.", 1.0),
])
def test_compiled_novelty_reads_names_as_python_does(text: str, novel: float) -> None:
    """A capitalised word not first in its sentence nor after an FAQ's "A:", "Answer:"...
    ("My Answer:" holds one: "Answer"), that the question ("where is the ferry") lacks, or a
    number it lacks: the novelty cue, the same from the kernel and from Python."""
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.wordcues import word_cues

    compiled = kernels.wait(timeout=110)
    for use in (None, compiled.word_cues):
        cues = word_cues([text, "x"], DEFAULT_ANALYZER, "where is the ferry", None, None, use)
        assert cues["novel"].tolist() == [novel, 0.0]
