"""A BM25 index that scores exactly as rank_bm25's BM25Okapi, from a sparse inverted index.

rank_bm25 visits every passage for every query term; here each term keeps a postings list
(passage ids and the term's BM25 weight in each passage, its IDF factored out), so a query
touches only the passages that contain its terms. Scores equal BM25Okapi.get_scores() on the
same terms, including its IDF quirks: a term in more than half the passages gets
``epsilon * average_idf`` instead of a negative IDF, one in exactly half gets 0.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
ARRAYS = ("indptr", "doc_ids", "weights", "idf", "doc_len")


class BM25Index:
    def __init__(
        self,
        vocab: dict[str, int],
        indptr: np.ndarray,
        doc_ids: np.ndarray,
        weights: np.ndarray,
        idf: np.ndarray,
        doc_len: np.ndarray,
        params: dict[str, float],
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr  # postings of term t: doc_ids[indptr[t]:indptr[t+1]]
        self.doc_ids = doc_ids
        self.weights = weights  # tf*(k1+1) / (tf + k1*(1-b+b*len/avgdl)), per posting
        self.idf = idf
        self.doc_len = doc_len
        self.params = params
        self.n_docs = len(doc_len)
        self._local = threading.local()

    # --- build ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        corpus: Iterable[Sequence[str]],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ) -> BM25Index:
        """Index passages given as lists of terms (defaults are rank_bm25's)."""
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        lengths: list[int] = []
        setdefault = vocab.setdefault
        for terms in corpus:
            term_ids.extend([setdefault(t, len(vocab)) for t in terms])
            lengths.append(len(terms))
        return cls.from_arrays(
            vocab, np.asarray(term_ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64),
            k1=k1, b=b, epsilon=epsilon,
        )

    @classmethod
    def from_arrays(
        cls,
        vocab: dict[str, int],
        term_ids: np.ndarray,
        lengths: np.ndarray,
        k1: float,
        b: float,
        epsilon: float,
    ) -> BM25Index:
        """Index from the flat term ids of every passage in order and each passage's length."""
        n_docs, n_terms = len(lengths), len(vocab)
        doc_of_token = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # Count (term, passage) pairs by sorting one int64 key per token.
        keys = term_ids * max(n_docs, 1) + doc_of_token
        del doc_of_token
        keys.sort(kind="stable")
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        tf = np.diff(np.r_[starts, len(keys)]).astype(np.float64)
        pair_keys = keys[starts]
        del keys
        post_terms = pair_keys // max(n_docs, 1)
        doc_ids = (pair_keys % max(n_docs, 1)).astype(np.int32)
        del pair_keys
        df = np.bincount(post_terms, minlength=n_terms)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        del post_terms

        doc_len = lengths.astype(np.float64)
        avgdl = doc_len.sum() / n_docs if n_docs else 0.0
        norm = k1 * (1 - b + b * doc_len / avgdl) if avgdl else np.full(n_docs, k1)
        weights = tf * (k1 + 1) / (tf + norm[doc_ids])
        idf = _okapi_idf(df, n_docs, epsilon)
        params = {"k1": k1, "b": b, "epsilon": epsilon, "avgdl": avgdl}
        return cls(vocab, indptr, doc_ids, weights, idf, lengths.astype(np.int32), params)

    # --- search --------------------------------------------------------------------------

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Passage ids containing term and the term's score in each (IDF included)."""
        t = self.vocab.get(term)
        if t is None:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        lo, hi = self.indptr[t], self.indptr[t + 1]
        return self.doc_ids[lo:hi], self.weights[lo:hi] * self.idf[t]

    def df(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    def term_idf(self, term: str) -> float:
        t = self.vocab.get(term)
        return 0.0 if t is None else float(self.idf[t])

    def get_scores(self, query: Sequence[str]) -> np.ndarray:
        """Dense scores of every passage, as rank_bm25's get_scores (a repeated term counts
        again)."""
        scores = np.zeros(self.n_docs)
        for term in query:
            ids, w = self.postings(term)
            scores[ids] += w
        return scores

    def sparse_scores(self, weighted_query: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, scores) of every passage matching at least one term; each term's
        contribution multiplied by its query weight. Touches only the matching postings."""
        buf = self._buffer()
        touched = []
        for term, qw in weighted_query.items():
            ids, w = self.postings(term)
            if len(ids):
                buf[ids] += w * qw if qw != 1 else w
                touched.append(ids)
        if not touched:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        ids = np.unique(np.concatenate(touched)) if len(touched) > 1 else touched[0].copy()
        scores = buf[ids]
        buf[ids] = 0.0
        return ids, scores

    def _buffer(self) -> np.ndarray:
        # One dense accumulator per thread: searches run concurrently in worker threads.
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = self._local.buf = np.zeros(self.n_docs)
        return buf

    # --- persistence (numpy arrays and JSON; nothing that can run code when loaded) -------

    def save(self, directory: Path) -> None:
        """Write the index into directory (the caller makes the directory appear atomically)."""
        directory.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        meta = {"version": FORMAT_VERSION, "params": self.params, "terms": terms}
        (directory / "index.json").write_text(json.dumps(meta), encoding="utf-8")
        for name in ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> BM25Index:
        meta = json.loads((directory / "index.json").read_text(encoding="utf-8"))
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"index format {meta.get('version')} is not {FORMAT_VERSION}")
        arrays = {
            name: np.load(directory / f"{name}.npy", allow_pickle=False,
                          mmap_mode="r" if mmap else None)
            for name in ARRAYS
        }
        terms = meta["terms"]
        if len(arrays["indptr"]) != len(terms) + 1 or len(arrays["doc_ids"]) != len(
            arrays["weights"]
        ):
            raise ValueError("index arrays do not match each other")
        vocab = dict(zip(terms, range(len(terms)), strict=True))
        return cls(vocab, params=meta["params"], **arrays)


_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0)


def _okapi_idf(df: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """BM25Okapi._calc_idf, vectorised: log((N-n+0.5)/(n+0.5)), negatives -> eps*mean."""
    idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if len(idf):
        # rank_bm25 sums the raw IDFs term by term; math.fsum keeps that sum exact enough.
        average = math.fsum(idf.tolist()) / len(idf)
        idf[idf < 0] = epsilon * average
    return idf
