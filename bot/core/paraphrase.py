"""The reranker's paraphrase cue: how much of the question a candidate says in other words
("Who announced the withdrawal?" and "The General Staff confirmed the pullback"). Each
question word the sentence lacks (no term of theirs is shared) counts with its IDF times
the cosine of the sentence's closest word, from static word vectors: WordLlama's, which the
`wordllama` package ships in its wheel (Llama 2's 32,000 tokens x 256, trained for sentence
similarity), so nothing is downloaded. A word's vector is its tokens' rows summed."""

from __future__ import annotations

import importlib.util
from collections.abc import Collection
from functools import cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from bot.core.analysis import Analyzer, find_words, fold_each
from bot.core.index import BM25Index

# Where the wordllama wheel keeps its default model (its own loader looks for the tokenizer
# in a folder the wheel does not have, then downloads it).
_PACKAGE = "wordllama"
_TABLE = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


class _Word(NamedTuple):
    ids: tuple[int, ...]  # its tokens (the lone leading-space token dropped)
    norm: float  # the length of their rows' sum
    terms: tuple[str, ...]  # the analyzer's terms of it (none: a stopword)
    content: bool  # it has terms and is no number


class WordVectors:
    """Word vectors, each the sum of its tokens' rows of table (compared by cosine)."""

    # Words kept (their tokens, length and terms) between questions; past it, forgotten.
    KEPT = 1 << 17

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        self.table = table
        self._tokenizer = tokenizer
        # The tokenizer gives a word its own leading space as a token of its own ("1990s":
        # "▁", "1", ...): a row every such word would share.
        self._space = tokenizer.token_to_id("▁")
        # What is known of each word, by the analyzer whose terms it holds.
        self._known: dict[Analyzer, dict[str, _Word]] = {}

    @staticmethod
    @cache
    def packaged() -> WordVectors:
        """The vectors the wordllama package ships (loaded once a process)."""
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the wordllama package is not installed: pip install -e .")
        root = Path(next(iter(spec.submodule_search_locations)))
        table = load_file(root.joinpath(*_TABLE))["embedding.weight"].astype(np.float32)
        return WordVectors(table, Tokenizer.from_file(str(root.joinpath(*_TOKENIZER))))

    def words(self, words: Collection[str], analyzer: Analyzer) -> list[_Word]:
        """What is known of each of words (folded words of analyzer's)."""
        known = self._known.setdefault(analyzer, {})
        found = list(map(known.get, words))
        if None in found:
            if len(known) > self.KEPT:
                known.clear()
            for i, w in enumerate(words):
                if found[i] is None:
                    found[i] = known[w] = self._word(w, analyzer)
        return found

    def _word(self, word: str, analyzer: Analyzer) -> _Word:
        ids = self._tokenizer.encode(word, add_special_tokens=False).ids
        ids = [i for i in ids if i != self._space] or ids or [self._space]
        terms = analyzer.word_terms(word)
        return _Word(tuple(ids), float(np.linalg.norm(self.table[ids].sum(axis=0))), terms,
                     bool(terms) and not word[0].isdigit())

    def cosines(self, unit: np.ndarray, found: list[_Word]) -> np.ndarray:
        """(len(unit) x len(found)): the cosines of unit vectors with the words'. Each is
        the sum of the unit vector's dot products with the word's rows over their sum's
        length, so that no word's vector is made."""
        sizes = np.fromiter(map(len, map(_IDS, found)), dtype=np.intp, count=len(found))
        flat = np.fromiter(chain.from_iterable(map(_IDS, found)), dtype=np.intp,
                           count=int(sizes.sum()))
        norms = np.fromiter(map(_NORM, found), dtype=np.float64, count=len(found))
        dots = np.add.reduceat(unit @ self.table[flat].T, np.r_[0, np.cumsum(sizes)[:-1]],
                               axis=1)
        return dots / np.where(norms > 0, norms, 1.0)

    def unit(self, found: list[_Word]) -> np.ndarray:
        """(len(found) x dim) unit vectors of words."""
        sums = np.array([self.table[list(w.ids)].sum(axis=0) for w in found])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return sums / np.where(norms > 0, norms, 1.0)


_IDS, _NORM, _CONTENT = itemgetter(0), itemgetter(1), itemgetter(3)


class ParaphraseCue:
    """The cue over one index: a question word no passage holds counts with the IDF of the
    rarest term, as one of df 1 does; the words there are can only be matched in other
    words."""

    def __init__(self, vectors: WordVectors, analyzer: Analyzer, index: BM25Index) -> None:
        self.vectors, self.analyzer, self._index = vectors, analyzer, index
        self._rarest = float(index.idf.max(initial=0.0))

    def _idf(self, term: str) -> float:
        return self._index.term_idf(term) if term in self._index.vocab else self._rarest

    def __call__(self, question: str, texts: list[str], para: np.ndarray) -> np.ndarray:
        """For each of texts (para: their paragraphs): the share of the question's IDF mass
        (its distinct words, by their first terms) that neither the text nor another of
        texts of its paragraph holds, each such word weighed by the cosine of the text's
        closest word (0 when none is closer than orthogonal). A word the paragraph says as
        the question does is no paraphrase there: "Volunteers aged 14-17..." is not an
        answer to "how old" beside "...at least 14 years old." Numbers take no part: "103"
        is no paraphrase of "101", though their vectors are alike."""
        analyzer, vectors = self.analyzer, self.vectors
        asked = [word for word in vectors.words(dict.fromkeys(analyzer.words(question)), analyzer)
                 if word.content]
        idf = np.array([max(self._idf(word.terms[0]), 0.0) for word in asked])
        total = float(idf.sum())
        words = [find_words(f) for f in fold_each(texts)]
        # Each distinct word of the texts once, and a last column no text's word is: every
        # text's run of columns ends there, so that none is empty.
        column = {w: i for i, w in enumerate(dict.fromkeys(chain.from_iterable(words)))}
        if not column or total <= 0:
            return np.zeros(len(texts))
        found = vectors.words(column, analyzer)
        asking: dict[str, list[int]] = {}  # term -> the question's words that have it
        for k, word in enumerate(asked):
            for term in word.terms:
                asking.setdefault(term, []).append(k)
        same = np.zeros((len(asked), len(found) + 1), dtype=bool)  # shares a term with word k
        for i, word in enumerate(found):
            for term in word.terms:
                for k in asking.get(term, ()):
                    same[k, i] = True
        cosines = np.zeros((len(asked), len(found) + 1))
        cosines[:, :-1] = vectors.cosines(vectors.unit(asked), found)
        cosines[:, :-1][:, ~np.fromiter(map(_CONTENT, found), dtype=bool, count=len(found))] = 0
        runs = [[column[w] for w in ws] + [len(found)] for ws in words]
        starts = np.r_[0, np.cumsum([len(r) for r in runs])[:-1]]
        columns = np.fromiter(chain.from_iterable(runs), dtype=np.intp)
        closest = np.maximum.reduceat(cosines[:, columns], starts, axis=1)
        held = np.maximum.reduceat(same[:, columns], starts, axis=1).astype(float)
        held_nearby = held @ (para[:, None] == para[None, :]) > 0
        return (idf @ np.where(held_nearby, 0.0, np.maximum(closest, 0.0))) / total
