"""BM25 parity: our scores equal rank_bm25.BM25Okapi.get_scores on the same terms."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.core.analysis import DEFAULT_ANALYZER
from bot.core.documents import load_folder
from bot.core.index import BM25Index

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def assert_parity(corpus, queries, **params) -> None:
    ref = BM25Okapi(corpus, **params)
    ours = BM25Index.build(corpus, **params)
    for query in queries:
        expected = ref.get_scores(query)
        got = ours.get_scores(query)
        scale = np.maximum(np.abs(expected), 1e-300)
        assert np.all(np.abs(expected - got) / scale < 1e-9), query
        # The first stage scores from raw_postings: a passage no term lists scores 0.
        ids = np.unique(np.concatenate([ours.raw_postings(t)[0] for t in query]))
        assert not np.any(np.delete(expected, ids)), "a non-matching passage scored"


def random_corpus(rng: random.Random, vocab: int, docs: int) -> list[list[str]]:
    words = [f"w{i}" for i in range(vocab)]
    # Zipf-like: early words are frequent, so some terms occur in more than half the passages
    # (negative IDF -> epsilon * average) and some in exactly half (IDF 0).
    return [
        [words[min(int(rng.paretovariate(1.0)) - 1, vocab - 1)] for _ in range(rng.randint(0, 15))]
        for _ in range(docs)
    ]


@pytest.mark.parametrize("seed", range(8))
def test_parity_random_corpora(seed: int) -> None:
    rng = random.Random(seed)
    corpus = random_corpus(rng, vocab=rng.randint(5, 60), docs=rng.randint(3, 200))
    if not any(corpus):
        corpus[0] = ["w0"]
    params = {"k1": rng.uniform(0.3, 2.5), "b": rng.uniform(0, 1), "epsilon": rng.uniform(0, 1)}
    queries = [[f"w{rng.randint(0, 70)}" for _ in range(rng.randint(1, 6))] for _ in range(10)]
    assert_parity(corpus, queries, **params)


def test_parity_on_seed_sentences() -> None:
    docs, _ = load_folder(SEEDS, "seeds")
    corpus = [DEFAULT_ANALYZER.terms(d.text[s.start : s.end]) for d in docs for s in d.sentences]
    queries = [
        DEFAULT_ANALYZER.terms(q)
        for q in ("Who announced the withdrawal from Siversk?", "Russian forces Donetsk region",
                  "fighting fighting war", "mercury")
    ]
    assert_parity(corpus, queries, k1=1.2, b=0.75, epsilon=0.25)


def test_idf_quirks_half_and_majority() -> None:
    corpus = [["a", "b"], ["a", "c"], ["a", "b"], ["d"]]  # a: 3 of 4, b: exactly half
    assert_parity(corpus, [["a"], ["b"], ["a", "b", "a"], ["d"]])
    index = BM25Index.build(corpus)
    assert index.term_idf("b") == 0.0
    assert index.term_idf("a") > 0  # epsilon * average IDF, not negative


TEXTS = [
    "Russian forces took Siversk.", "", "The mercury rose; the mercury fell.",
    "Café-owners' meat-grinder isn't here", "qqpassagebreakqq appears in this passage",
    "What is it?", "Kyiv and Kiev", "Ǆemal's 2024 figures", "the the the",
]


@pytest.mark.parametrize("texts", [TEXTS, TEXTS[:4] + TEXTS[5:], TEXTS[:1], []])
def test_from_texts_equals_build_over_terms(texts: list[str]) -> None:
    expected = BM25Index.build([DEFAULT_ANALYZER.terms(t) for t in texts], k1=1.2)
    got = BM25Index.from_texts(texts, len(texts), k1=1.2, workers=1)
    assert got.vocab == expected.vocab
    for name in ("indptr", "doc_ids", "weights", "idf", "doc_len", "fwd_indptr", "fwd_terms"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


@pytest.mark.parametrize("seed", range(3))
def test_forward_index_holds_each_passage_distinct_terms(seed: int) -> None:
    corpus = [*random_corpus(random.Random(seed), 40, 60), [], ["w1", "w1", "w0"]]
    index = BM25Index.build(corpus)
    names = list(index.vocab)
    for i, terms in enumerate(corpus):
        ids = index.terms_of(i)
        assert ids.tolist() == sorted(ids.tolist())
        assert [names[t] for t in ids.tolist()] == sorted(set(terms), key=index.vocab.get)


def test_from_texts_in_worker_processes(monkeypatch) -> None:
    import bot.core.chunks as index_module

    monkeypatch.setattr(index_module, "CHUNK_PASSAGES", 3)
    docs, _ = load_folder(SEEDS, "seeds")
    texts = [d.text[s.start : s.end] for d in docs for s in d.sentences]
    seen = []
    got = BM25Index.from_texts(texts, len(texts), workers=2,
                               progress=lambda done, total: seen.append((done, total)))
    expected = BM25Index.build([DEFAULT_ANALYZER.terms(t) for t in texts])
    assert got.vocab == expected.vocab
    assert np.array_equal(got.weights, expected.weights)
    assert seen[-1] == (len(texts), len(texts))


def test_worker_processes_failing_to_start_lose_no_passage(monkeypatch) -> None:
    """A script without the `__main__` guard cannot start spawned workers: the first submit
    raises, and every chunk, that one too, is analysed in this process instead."""
    import concurrent.futures

    import bot.core.chunks as index_module

    def refuse(self, fn, /, *args, **kwargs):
        raise RuntimeError("An attempt has been made to start a new process before ...")

    monkeypatch.setattr(index_module, "CHUNK_PASSAGES", 3)
    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", refuse)
    texts = [f"The ferry number {i} left the harbour." for i in range(10)]
    got = BM25Index.from_texts(texts, len(texts), workers=2)
    expected = BM25Index.build([DEFAULT_ANALYZER.terms(t) for t in texts])
    assert got.n_docs == len(texts) and got.vocab == expected.vocab
    assert np.array_equal(got.doc_ids, expected.doc_ids)


def test_spliced_index_equals_a_build_over_the_same_passages() -> None:
    """An update (passages removed, new ones appended) gives a build's postings, forward
    index and IDF; reweighted() gives its weights too (before it, avgdl is the old one)."""
    rng = random.Random(1)
    words = [f"w{i}" for i in range(40)]
    for _ in range(150):
        docs = [[rng.choice(words) for _ in range(rng.randint(0, 8))]
                for _ in range(rng.randint(1, 30))]
        new = [[rng.choice([*words, "n1", "n2"]) for _ in range(rng.randint(0, 8))]
               for _ in range(rng.randint(0, 5))]
        keep = np.array([rng.random() > 0.3 for _ in docs])
        wanted = [d for d, k in zip(docs, keep, strict=True) if k] + new
        if not wanted:
            continue
        base = BM25Index.build(docs)
        vocab, new_terms = dict(base.vocab), []
        for t in (t for d in new for t in d if t not in base.vocab):
            if t not in vocab:
                vocab[t] = len(vocab)
                new_terms.append(t)
        spliced = base.spliced(keep, new_terms, np.array([vocab[t] for d in new for t in d],
                                                         dtype=np.int64),
                               np.array([len(d) for d in new], dtype=np.int64)).reweighted()
        built = BM25Index.build(wanted)
        for term in {t for d in wanted for t in d}:
            got, want = spliced.raw_postings(term), built.raw_postings(term)
            assert got[0].dtype == np.int32 and np.array_equal(got[0], want[0])
            assert np.allclose(got[1], want[1]) and got[2] == pytest.approx(want[2])
        names = {i: t for t, i in spliced.vocab.items()}
        built_names = {i: t for t, i in built.vocab.items()}
        for p in range(len(wanted)):
            assert sorted(names[i] for i in spliced.terms_of(p)) == sorted(
                built_names[i] for i in built.terms_of(p))
