"""A BM25 index that scores exactly as rank_bm25's BM25Okapi, from a sparse inverted index.

rank_bm25 visits every passage for every query term; here each term keeps a postings list
(passage ids and the term's BM25 weight in each passage, its IDF factored out), so a query
touches only the passages that contain its terms. Scores equal BM25Okapi.get_scores() on the
same terms, including its IDF quirks: a term in more than half the passages gets
``epsilon * average_idf`` instead of a negative IDF, one in exactly half gets 0.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from bot.core.analysis import DEFAULT_ANALYZER, Analyzer
from bot.core.chunks import analysed_chunks
from bot.core.spelling import ranges

log = logging.getLogger(__name__)

ARRAYS = ("indptr", "doc_ids", "weights", "idf", "doc_len", "fwd_indptr", "fwd_terms")

Progress = Callable[[int, int], None]  # (passages done, passages in all)


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
        fwd_indptr: np.ndarray,
        fwd_terms: np.ndarray,
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr  # postings of term t: doc_ids[indptr[t]:indptr[t+1]]
        self.doc_ids = doc_ids
        self.weights = weights  # tf*(k1+1) / (tf + k1*(1-b+b*len/avgdl)), per posting
        self.idf = idf
        self.doc_len = doc_len
        self.params = params
        # The same postings by passage: the terms of passage i (ids, ascending) are
        # fwd_terms[fwd_indptr[i]:fwd_indptr[i+1]].
        self.fwd_indptr = fwd_indptr
        self.fwd_terms = fwd_terms
        self.n_docs = len(doc_len)
        # Terms in passages i:j: length_prefix[j] - length_prefix[i].
        self.length_prefix = np.r_[0, np.cumsum(doc_len, dtype=np.int64)]

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
    def from_texts(
        cls,
        texts: Iterable[str],
        total: int,
        analyzer: Analyzer = DEFAULT_ANALYZER,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> BM25Index:
        """Index `total` passages given as texts: the same index as build() over
        analyzer.terms(text) of each, built faster. The default analyzer runs in worker
        processes (one a CPU) for large corpora; a custom one runs here."""
        return cls.from_arrays(*cls.analysed(texts, total, analyzer, progress, workers),
                               k1=k1, b=b, epsilon=epsilon)

    @staticmethod
    def analysed(
        texts: Iterable[str],
        total: int,
        analyzer: Analyzer = DEFAULT_ANALYZER,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """from_texts's first half: the vocabulary (term -> id, in order of first use), the
        flat term ids of every passage in order, and each passage's length, as from_arrays
        takes them."""
        vocab: dict[str, int] = {}
        setdefault = vocab.setdefault
        ids: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        done = 0
        for terms, local_ids, local_lengths in analysed_chunks(texts, total, analyzer, workers):
            remap = np.fromiter(
                (setdefault(t, len(vocab)) for t in terms), dtype=np.int64, count=len(terms)
            )
            ids.append(remap[local_ids])
            lengths.append(local_lengths)
            done += len(local_lengths)
            if progress is not None:
                progress(done, total)
        return (vocab, np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
                np.concatenate(lengths).astype(np.int64) if lengths else np.zeros(0, np.int64))

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
        # Count (term, passage) pairs by sorting one int64 key per token, built in place.
        # Equal keys are equal values, so an unstable sort gives the same array, faster
        # and without the stable sort's buffer.
        keys = term_ids.astype(np.int64)
        keys *= max(n_docs, 1)
        keys += np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        keys.sort()
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
        # The forward index: the postings again, passage by passage, each passage's terms
        # ascending (one in-place sort of a passage-major key, as above).
        keys = doc_ids.astype(np.int64)
        keys *= max(n_terms, 1)
        keys += post_terms
        del post_terms
        keys.sort()
        keys %= max(n_terms, 1)
        fwd_terms = keys.astype(np.int32)
        del keys
        fwd_indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_ids, minlength=n_docs), out=fwd_indptr[1:])

        doc_len = lengths.astype(np.float64)
        avgdl = doc_len.sum() / n_docs if n_docs else 0.0
        norm = k1 * (1 - b + b * doc_len / avgdl) if avgdl else np.full(n_docs, k1)
        weights = tf * (k1 + 1) / (tf + norm[doc_ids])
        idf = _okapi_idf(df, n_docs, epsilon)
        params = {"k1": k1, "b": b, "epsilon": epsilon, "avgdl": avgdl}
        return cls(vocab, indptr, doc_ids, weights, idf, lengths.astype(np.int32), params,
                   fwd_indptr, fwd_terms)

    def spliced(
        self, keep: np.ndarray, new_terms: Sequence[str], term_ids: np.ndarray,
        lengths: np.ndarray,
    ) -> BM25Index:
        """A new index: this one's passages where keep is True (renumbered in order), then
        new passages, given as their flat term ids into the vocabulary extended by new_terms
        and their term counts, without re-analysing the kept ones. Each term's postings stay
        ascending (the new passages' ids come last). df and IDF count exactly the passages
        the result holds; the new passages' weights use this index's average passage length
        (BM25's avgdl) as the kept ones do, until reweighted() folds in the new average.
        Costs a few passes over the postings arrays, nothing per term."""
        vocab = dict(self.vocab)
        for term in new_terms:
            vocab.setdefault(term, len(vocab))
        n_terms, old_terms = len(vocab), len(self.vocab)
        fwd_counts, doc_len, doc_ids = np.diff(self.fwd_indptr), self.doc_len, self.doc_ids
        drop = fwd_drop = _NO_POSITIONS
        removed_df = np.zeros(old_terms, dtype=np.int64)
        if not keep.all():
            # The removed postings are found through the forward index (a removed passage's
            # terms), so the postings arrays are only copied, never searched whole.
            gone = np.flatnonzero(~keep)
            fwd_drop = ranges(self.fwd_indptr[gone], self.fwd_indptr[gone + 1])
            gone_terms = self.fwd_terms[fwd_drop]
            drop = np.sort(self._positions(gone_terms, np.repeat(gone, fwd_counts[gone])))
            removed_df = np.bincount(gone_terms, minlength=old_terms)
            doc_ids = (np.cumsum(keep) - 1).astype(np.int32)[doc_ids]  # kept ones renumbered
            fwd_counts, doc_len = fwd_counts[keep], doc_len[keep]
        n_kept, n_new = len(doc_len), len(lengths)
        k1, b = self.params["k1"], self.params["b"]
        avgdl = self.params["avgdl"] or (float(np.mean(lengths)) if n_new else 0.0)
        terms, docs, tf = _pairs(term_ids, lengths)
        norm = k1 * (1 - b + b * lengths / avgdl) if avgdl else np.full(n_new, k1)
        # Each new posting goes after its term's old postings (the pairs come sorted by
        # term, then passage), and a new term's after all.
        at = np.r_[self.indptr, np.full(n_terms - old_terms, self.indptr[-1])][terms + 1]
        doc_ids = _edited(doc_ids, drop, at, (docs + n_kept).astype(np.int32))
        weights = _edited(self.weights, drop, at, tf * (k1 + 1) / (tf + norm[docs]))
        df = np.r_[np.diff(self.indptr) - removed_df, np.zeros(n_terms - old_terms, np.int64)]
        df += np.bincount(terms, minlength=n_terms)
        indptr = np.r_[0, np.cumsum(df)].astype(np.int64)
        by_passage = np.lexsort((terms, docs))
        fwd_terms = np.concatenate((_edited(self.fwd_terms, fwd_drop),
                                    terms[by_passage].astype(np.int32)))
        fwd_counts = np.concatenate((fwd_counts, np.bincount(docs, minlength=n_new)))
        fwd_indptr = np.r_[0, np.cumsum(fwd_counts)].astype(np.int64)
        doc_len = np.concatenate((doc_len, lengths.astype(np.int32)))
        idf = _okapi_idf(df, n_kept + n_new, self.params["epsilon"])
        return type(self)(vocab, indptr, doc_ids, weights, idf, doc_len,
                          {**self.params, "avgdl": avgdl}, fwd_indptr, fwd_terms)

    def _positions(self, terms: np.ndarray, passages: np.ndarray) -> np.ndarray:
        """Where the posting of each (term, passage) pair is in doc_ids (the pairs exist)."""
        if not len(terms):
            return _NO_POSITIONS
        order = np.lexsort((passages, terms))
        terms, passages = terms[order], passages[order]
        firsts = np.flatnonzero(np.r_[True, terms[1:] != terms[:-1]])
        out = np.empty(len(terms), dtype=np.int64)
        for lo, hi in zip(firsts.tolist(), np.r_[firsts[1:], len(terms)].tolist(), strict=True):
            t = int(terms[lo])
            start = int(self.indptr[t])
            ids = self.doc_ids[start : int(self.indptr[t + 1])]
            out[lo:hi] = start + np.searchsorted(ids, passages[lo:hi])
        return out

    def reweighted(self) -> BM25Index:
        """This index with every weight computed for its present average passage length: what
        from_arrays gives over the same passages. A term's count in a passage is recovered
        from its weight (the BM25 formula solved for tf), so nothing is re-analysed."""
        k1, b, old = self.params["k1"], self.params["b"], self.params["avgdl"]
        doc_len = self.doc_len.astype(np.float64)
        avgdl = float(doc_len.sum() / len(doc_len)) if len(doc_len) else 0.0
        if not old or not avgdl or avgdl == old:
            return self
        before = (k1 * (1 - b + b * doc_len / old))[self.doc_ids]
        tf = np.rint(self.weights * before / (k1 + 1 - self.weights))
        after = (k1 * (1 - b + b * doc_len / avgdl))[self.doc_ids]
        weights = tf * (k1 + 1) / (tf + after)
        return type(self)(self.vocab, self.indptr, self.doc_ids, weights, self.idf,
                          self.doc_len, {**self.params, "avgdl": avgdl}, self.fwd_indptr,
                          self.fwd_terms)

    # --- search --------------------------------------------------------------------------

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Passage ids containing term and the term's score in each (IDF included)."""
        ids, weights, idf = self.raw_postings(term)
        return ids, weights * idf

    def raw_postings(self, term: str) -> tuple[np.ndarray, np.ndarray, float]:
        """Passage ids containing term, its weight in each without IDF (views: do not write
        to them), and its IDF: a few weights can be scaled without scaling them all."""
        t = self.vocab.get(term)
        if t is None:
            return _EMPTY_IDS, _EMPTY_WEIGHTS, 0.0
        lo, hi = self.indptr[t], self.indptr[t + 1]
        return self.doc_ids[lo:hi], self.weights[lo:hi], float(self.idf[t])

    def bounds(self, term: str) -> tuple[int, int]:
        """Where term's postings start and end in doc_ids (0, 0 for an unknown term)."""
        t = self.vocab.get(term)
        return (0, 0) if t is None else (int(self.indptr[t]), int(self.indptr[t + 1]))

    def doc_ids_of(self, term: str) -> np.ndarray:
        """Passage ids containing term, ascending (a view: do not write to it)."""
        t = self.vocab.get(term)
        return _EMPTY_IDS if t is None else self.doc_ids[self.indptr[t] : self.indptr[t + 1]]

    def terms_of(self, passage: int) -> np.ndarray:
        """The ids of passage's distinct terms, ascending (a view: do not write to it)."""
        return self.fwd_terms[self.fwd_indptr[passage] : self.fwd_indptr[passage + 1]]

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

    # --- the saved form (bot/core/store.py writes and reads it; numpy arrays and JSON) ---

    def meta(self) -> dict[str, Any]:
        """The JSON half of the saved form; arrays() is the other."""
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        return {"params": self.params, "terms": terms}

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAYS}

    @classmethod
    def from_parts(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> BM25Index:
        """The index from meta() and arrays(); ValueError when they do not fit together."""
        missing = set(ARRAYS) - set(arrays)
        if missing:
            raise ValueError(f"index arrays missing: {sorted(missing)}")
        terms, a = meta["terms"], arrays
        n_post = len(a["doc_ids"])
        if (
            any(x.ndim != 1 for x in a.values())
            or len(a["indptr"]) != len(terms) + 1
            or len(a["idf"]) != len(terms)
            or len(a["weights"]) != n_post
            or int(a["indptr"][0]) != 0
            or int(a["indptr"][-1]) != n_post
            or (n_post and int(a["doc_ids"].max()) >= len(a["doc_len"]))
            or len(a["fwd_indptr"]) != len(a["doc_len"]) + 1
            or len(a["fwd_terms"]) != n_post
            or int(a["fwd_indptr"][0]) != 0
            or int(a["fwd_indptr"][-1]) != n_post
            or (n_post and int(a["fwd_terms"].max()) >= len(terms))
        ):
            raise ValueError("index arrays do not match each other")
        vocab = dict(zip(terms, range(len(terms)), strict=True))
        if len(vocab) != len(terms):
            raise ValueError("index terms are not unique")
        return cls(vocab, params=meta["params"], **{n: a[n] for n in ARRAYS})

_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0)


_NO_POSITIONS = np.zeros(0, dtype=np.int64)


def _edited(
    a: np.ndarray, drop: np.ndarray, at: np.ndarray = _NO_POSITIONS,
    values: np.ndarray | None = None,
) -> np.ndarray:
    """a without the elements at positions drop, and with values[i] put before position at[i]
    (positions in a, both ascending), in one copy: np.delete and np.insert each copy the whole
    array and build a mask as long, and the postings arrays are hundreds of megabytes."""
    values = a[:0] if values is None else values
    n = len(a)
    cuts = np.unique(np.concatenate(([0, n], drop, drop + 1, at)))
    starts, stops = cuts[:-1].tolist(), cuts[1:].tolist()
    dropped = np.isin(cuts[:-1], drop).tolist()  # a dropped element is a piece of its own
    first = np.searchsorted(at, cuts[:-1], "left").tolist()
    last = np.searchsorted(at, cuts[:-1], "right").tolist()
    pieces = []
    for lo, hi, gone, v_lo, v_hi in zip(starts, stops, dropped, first, last, strict=True):
        if v_hi > v_lo:
            pieces.append(values[v_lo:v_hi])
        if not gone:
            pieces.append(a[lo:hi])
    pieces.append(values[int(np.searchsorted(at, n, "left")) :])  # after the last element
    return np.concatenate(pieces).astype(a.dtype, copy=False)


def _pairs(term_ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, ...]:
    """(term, passage, count) of every distinct term of every passage, by term then passage."""
    n = max(len(lengths), 1)
    keys = term_ids.astype(np.int64) * n + np.repeat(np.arange(len(lengths)), lengths)
    keys.sort()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
    tf = np.diff(np.r_[starts, len(keys)]).astype(np.float64)
    return keys[starts] // n, keys[starts] % n, tf


# Below 3 passages log((N-n+0.5)/(n+0.5)) is 0 or less for every term, and one or two
# sentences could answer nothing: IDF is taken as for 3 (rank_bm25's from 3 passages on).
IDF_MIN_PASSAGES = 3


def _okapi_idf(df: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """BM25Okapi._calc_idf, vectorised: log((N-n+0.5)/(n+0.5)), negatives -> eps*mean."""
    idf = np.log(max(n_docs, IDF_MIN_PASSAGES) - df + 0.5) - np.log(df + 0.5)
    present = idf[df > 0]  # (an update leaves the terms of removed passages at df 0)
    if len(present):
        # rank_bm25 sums the raw IDFs term by term; math.fsum keeps that sum exact enough.
        average = math.fsum(present.tolist()) / len(present)
        idf[idf < 0] = epsilon * average
    return idf
