"""The reranker's paraphrase cue: how much of the question a candidate says in other words
("Who announced the withdrawal?" and "The General Staff confirmed the pullback"). Each
question term the sentence's paragraph lacks counts with its IDF times the cosine of the
sentence's closest term, from static vectors: WordLlama's, which the `wordllama` package
ships in its wheel (Llama 2's 32,000 tokens x 256, trained for sentence similarity), so
nothing is downloaded. A word's vector is its tokens' rows summed. A candidate's terms are
read from the index's forward lists and their vectors made once an index (TermVectors), so
that no text is split and no word tokenized while a question waits: the cue reads the terms
as the index keeps them ("confirm" for "confirmed"), the question's words as they are
written.
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from functools import cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from bot.core.analysis import Analyzer
from bot.core.index import BM25Index
from bot.core.spelling import ranges

# Where the wordllama wheel keeps its default model (its own loader looks for the tokenizer
# in a folder the wheel does not have, then downloads it).
_PACKAGE = "wordllama"
_TABLE = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
# The first DIMS of its 256 dimensions: it was trained so that a vector's first 64, 128 or
# 256 can stand for it ("Matryoshka" embeddings). 64 scored as 256 did on even articles
# (bench/README.md, session 22) at a quarter of the memory: 51 MB for 200,000 terms.
DIMS = 64


class WordVectors:
    """Token rows of table and the tokenizer that splits a word into tokens."""

    KEPT = 1 << 16  # words whose vectors unit() keeps between questions

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        self.table = table
        self._tokenizer = tokenizer
        # A token opens a word when its piece starts with the tokenizer's space: a text of
        # words joined by spaces is tokenized as each of them is, one after the other.
        pieces = tokenizer.get_vocab()
        self._opens = np.zeros(len(table), dtype=bool)
        self._opens[[i for p, i in pieces.items() if p.startswith("▁") and i < len(table)]] = True
        # The lone space token: the row every word split as "▁", "1", "9"... would share.
        self._space = tokenizer.token_to_id("▁")
        self._known: dict[str, np.ndarray] = {}  # word -> its unit vector (see unit)

    @staticmethod
    @cache
    def packaged() -> WordVectors:
        """The vectors the wordllama package ships (loaded once a process)."""
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the wordllama package is not installed: pip install -e .")
        root = Path(next(iter(spec.submodule_search_locations)))
        table = load_file(root.joinpath(*_TABLE))["embedding.weight"][:, :DIMS]
        return WordVectors(table.astype(np.float32), Tokenizer.from_file(
            str(root.joinpath(*_TOKENIZER))))

    def tokens(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The words' tokens, the lone space token dropped, in one call to the tokenizer:
        (the tokens one word after another, how many each word has). (A word holding a
        space, which the analyzer's never do, is tokenized on its own.)"""
        ids = np.array(self._tokenizer.encode(" ".join(words), add_special_tokens=False).ids,
                       dtype=np.int64)
        opens = self._opens[ids]
        word = np.cumsum(opens) - 1
        if len(words) > 1 and (not len(ids) or not opens[0] or word[-1] != len(words) - 1):
            parts = [self.tokens([w]) for w in words]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        if len(words) == 1:
            word[:] = 0
        # The space token alone, where more tokens of its word follow ("▁", "1", "9"...).
        kept = ~((ids == self._space) & ~np.append(opens[1:], True))
        return ids[kept], np.bincount(word[kept], minlength=len(words))

    def unit(self, words: list[str]) -> np.ndarray:
        """(len(words) x DIMS) unit vectors of words (a question's), each its tokens' rows
        summed; the words' vectors are kept for the next questions, up to KEPT words."""
        known = self._known
        rows = list(map(known.get, words))
        if any(r is None for r in rows):
            fresh = list(dict.fromkeys(w for w, r in zip(words, rows, strict=True) if r is None))
            made = dict(zip(fresh, self.units(fresh), strict=True))
            if len(known) > self.KEPT:
                known.clear()
            known.update(made)
            rows = [made[w] if r is None else r for w, r in zip(words, rows, strict=True)]
        return np.array(rows, dtype=np.float32).reshape(len(words), self.table.shape[1])

    def units(self, words: list[str]) -> np.ndarray:
        """unit(words), made anew: each word's tokens' rows summed, over its length."""
        flat, sizes = self.tokens(words)
        sums = np.add.reduceat(self.table[flat], np.r_[0, np.cumsum(sizes)[:-1]])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return sums / np.where(norms > 0, norms, 1.0)


class TermVectors:
    """The unit vectors of an index's terms, made in a background thread from the start
    (2.4-3.1 s for 199,511 terms on bench/README.md's 2-core machine, session 22), and for
    any a question meets before that thread has reached it. Each is written whole before it
    is marked made, always the same, so that neither needs a lock. number[t]: term t is a
    number (known once it is made)."""

    CHUNK = 512  # terms tokenized in one call by the background thread

    def __init__(self, vectors: WordVectors, index: BM25Index) -> None:
        self.vectors = vectors
        self._vocab = index.vocab
        self._by_id: list[str] | None = None  # the terms by id, listed when first needed
        self._lock = threading.Lock()
        self._unit = np.zeros((len(self._vocab), vectors.table.shape[1]), dtype=np.float32)
        self._made = np.zeros(len(self._vocab), dtype=bool)
        self.number = np.zeros(len(self._vocab), dtype=bool)
        if len(self._vocab) > self.CHUNK:
            threading.Thread(target=TermVectors._make_all, args=(weakref.ref(self),),
                             name="quotebot-term-vectors", daemon=True).start()
        else:
            self._make(np.arange(len(self._vocab)))

    @staticmethod
    def _make_all(ref: weakref.ref[TermVectors]) -> None:
        """Make every term's vector, a chunk at a time; stop once the vectors are dropped
        (an engine replaced by a reload)."""
        first = 0
        while (self := ref()) is not None and first < len(self._made):
            ids = np.arange(first, min(first + self.CHUNK, len(self._made)))
            self._make(ids[~self._made[ids]])
            first += self.CHUNK
            del self

    def _terms(self) -> list[str]:
        with self._lock:
            if self._by_id is None:
                by_id = [""] * len(self._made)
                for term, t in self._vocab.items():
                    by_id[t] = term
                self._by_id = by_id
            return self._by_id

    def _make(self, ids: np.ndarray) -> None:
        if len(ids):
            terms = self._terms()
            words = [terms[t] for t in ids.tolist()]
            self._unit[ids] = self.vectors.units(words)
            self.number[ids] = [w[:1].isdigit() for w in words]
            self._made[ids] = True

    def unit(self, ids: np.ndarray) -> np.ndarray:
        """(len(ids) x DIMS) unit vectors of terms ids."""
        if not self._made[ids].all():
            self._make(np.unique(ids[~self._made[ids]]))
        return self._unit[ids]


class ParaphraseCue:
    """The cue over one index. A question term no passage holds cannot be held nor said in
    other words by any: it counts in the question's IDF mass with the rarest term's IDF, as
    one of df 1 would."""

    def __init__(self, vectors: WordVectors, analyzer: Analyzer, index: BM25Index) -> None:
        self.analyzer, self._index = analyzer, index
        self.terms = TermVectors(vectors, index)
        self._rarest = float(index.idf.max(initial=0.0))

    def __call__(
        self, question: str, ids: np.ndarray, lead: np.ndarray, stop: np.ndarray
    ) -> np.ndarray:
        """For each of passages ids (passages lead:stop being its paragraph): the share of
        the question's IDF mass (its distinct terms, numbers left out) that the passage's
        paragraph lacks, each such term weighed by the cosine of the passage's closest term
        (0 when none is closer than orthogonal). A term the paragraph holds as the question
        does is no paraphrase there: "Volunteers aged 14-17..." is not an answer to "how old"
        beside "...at least 14 years old". (The paragraph, not the other candidates of it:
        the cue of a passage is then the same whatever else the first stage found.)"""
        index = self._index
        vocab = index.vocab
        # The question's terms (numbers left out), each with the word whose vector it takes:
        # its word, which says more than its stem ("announc"), unless that word makes more
        # terms than it ("meat-grinder").
        said: dict[str, str] = {}
        for word in self.analyzer.words(question):
            terms = self.analyzer.word_terms(word)
            for t in terms:
                if not t[:1].isdigit():
                    said.setdefault(t, word if len(terms) == 1 else t)
        asked = list(said)
        known = np.array([vocab.get(t, -1) for t in asked], dtype=np.int64)
        idf = np.array([max(float(index.idf[t]), 0.0) if t >= 0 else self._rarest
                        for t in known.tolist()])
        total = float(idf.sum())
        columns, starts, runs = _runs(index, index.fwd_indptr[ids], index.fwd_indptr[ids + 1])
        if total <= 0 or not runs.any():
            return np.zeros(len(ids))
        terms, at, some = _runs(index, index.fwd_indptr[lead], index.fwd_indptr[stop])
        held = np.zeros((len(asked), len(ids)), dtype=bool)
        held[:, some] = np.logical_or.reduceat(terms[None, :] == known[:, None], at[some],
                                               axis=1)
        unit = self.terms.vectors.unit(list(said.values()))
        cosines = unit @ self.terms.unit(columns).T
        # Numbers take no part: "103" is no paraphrase of "101", though their vectors are
        # alike.
        cosines[:, self.terms.number[columns]] = 0.0
        closest = np.zeros((len(asked), len(ids)))
        closest[:, runs] = np.maximum.reduceat(cosines, starts[runs], axis=1)
        return (idf @ np.where(held, 0.0, np.maximum(closest, 0.0))) / total


def _runs(index: BM25Index, first: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, ...]:
    """The terms of the index's forward lists first[i]:stop[i], one run after another; where
    each run starts among them; which runs are not empty (reduceat's runs must not be)."""
    sizes = stop - first
    return index.fwd_terms[ranges(first, stop)], np.cumsum(sizes) - sizes, sizes > 0
