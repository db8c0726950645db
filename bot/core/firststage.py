"""Terms -> scored candidates: the first stage. Every passage that matches a question term
(or neighbours one) is scored by BM25 and by its context (its neighbours, its paragraph, its
document's label); the best `candidates` come out best first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

import numpy as np

from bot.core import kernels
from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus, PassageTexts, gather_posting_paragraphs, title_index
from bot.core.kinds import KindTests
from bot.core.model import AnswerSettings
from bot.core.prune import Planner, below
from bot.core.scratch import Buffers, Search

_NO_DOCS = np.zeros(0, dtype=np.int64)
_NO_TITLES = np.zeros(0)
_NO_ALLOWED = np.zeros(0, dtype=bool)
# (passage ids, BM25 scores, context scores)
Found = tuple[np.ndarray, np.ndarray, np.ndarray]


class FirstStage:
    """The first stage over one corpus; safe to call from many threads at once."""

    scores_locally = True  # (a subclass that searches elsewhere loads no kernels)

    def __init__(
        self, corpus: Corpus, analyzer: Analyzer, settings: AnswerSettings, kinds: KindTests
    ) -> None:
        self.corpus, self.settings, self.kinds = corpus, settings, kinds
        self.documents, self.passages, self.index = corpus.documents, corpus.passages, corpus.index
        self.collections = corpus.collections
        self.titles = title_index(self.documents, analyzer)
        self._beside = settings.neighbour_weight * self.passages.same_para  # see _context
        self._local = threading.local()
        self.planner = Planner(self.index, self.titles, settings)
        # The compiled kernels (bot/core/kernels.py) for a large index, once loaded: the
        # arrays' usual types, and paragraph numbers as int32 (half the memory they wander).
        p = self.passages
        self._compiled = (self.scores_locally and len(p) >= settings.compiled_from
                          and self.index.doc_ids.dtype == np.int32
                          and p.doc.dtype == np.int32 and p.collection.dtype == np.int16
                          and p.n_paragraphs < 2**31)
        self._para_id = p.para_id.astype(np.int32) if self._compiled else p.para_id
        # Each posting's paragraph (Corpus.posting_para), once there: numpy answers until
        # then, as until the kernels load.
        self._posting_para: np.ndarray | None = None
        if self._compiled:
            kernels.start()
            gather_posting_paragraphs(corpus, lambda found: setattr(self, "_posting_para", found))

    def candidates(
        self, query: dict[str, float], collections: Collection[str] | None, question: str = "",
        texts: PassageTexts | None = None,
    ) -> Found:
        """(ids, BM25 scores, context scores) of the best `candidates`, best first by context.
        texts reads the candidates' texts (the answer's own, shared with the reranker and
        the quotes)."""
        allowed = None
        if collections is not None:
            allowed = np.array([c in collections for c in self.collections], dtype=bool)
        ids, scores, context = self.score(query, allowed)
        if not len(ids):
            return ids, scores, context
        top = _best(ids, context, min(self.settings.candidates, len(ids)))
        ids, scores, context = ids[top], scores[top], context[top]
        context = self._answer_type(question, ids, context,
                                    PassageTexts(self.corpus) if texts is None else texts)
        order = np.lexsort((ids, -context))
        return ids[order], scores[order], context[order]

    def score(
        self, query: dict[str, float], allowed: np.ndarray | None = None
    ) -> Found:
        """(passage ids, BM25 scores, context-weighted scores), in no particular order, of the
        passages that match a question term or neighbour one, in the collections allowed
        (None: all); when a term not common (see common_postings) matched, of those that
        match one such term (see _score_around). Those that cannot be among the best
        `candidates` may be left out.

        The context score adds to a sentence's BM25 score a share of its neighbours' and, in
        IDF units, the question terms in its paragraph and its document's label: a question
        names the article's topic ("Super Bowl 50"), the answer says only "the game".

        Scores are summed in dense per-thread buffers (one slot a passage, one a paragraph),
        not by sorting and searching the tens of thousands of matches of common words. Sums
        are taken term by term in query order (the common terms last; all common: in the
        plan's order), so the floats do not depend on how many passages match, nor on whether
        the plan's rest was scored everywhere."""
        query, common, rest, bound = self.planner.plan(query)
        found = self._search(query, common, rest, allowed)
        if rest and not below(bound, found[2], self.settings.candidates):
            found = self._search(query, {}, {}, allowed)  # (rare: see Planner.plan)
        return found

    def _search(
        self, query: dict[str, float], common: dict[str, float], rest: dict[str, float],
        allowed: np.ndarray | None,
    ) -> Found:
        """score()'s passages, the common terms scored around the others' matches and the
        rest only in their paragraphs (see Planner.plan)."""
        s, p = self.settings, self.passages
        # (No title array when no question term is in a label: it would add only zeros.)
        title = (np.zeros(len(self.documents))
                 if s.title_terms and any(t in self.titles for t in query) else None)
        compiled = kernels.first_search() if self._compiled else None
        if compiled is not None and self._posting_para is not None:
            return self._compiled_search(compiled, query, common, rest, allowed, title)
        search = Search(self.buffers(), title)
        try:
            hits = self._scatter(query, {**common, **rest}, search)
            if not hits:
                return _NO_DOCS, np.zeros(0), np.zeros(0)
            ids = self._union(hits).astype(np.int64)
            if allowed is not None:
                ids = ids[allowed[p.collection[ids]]]
            if common and len(ids):
                self._score_around(ids, common, search)
            if rest and len(ids):
                ids = self._score_inside(ids, rest, search)
            if s.neighbour_weight and len(ids):
                ids = self._with_neighbours(ids, search)
            scores, context = self._context(ids, search)
            return ids, scores, context
        finally:
            search.clear()

    def _compiled_search(
        self, compiled: Callable[..., Found], query: dict[str, float],
        common: dict[str, float], rest: dict[str, float], allowed: np.ndarray | None,
        title: np.ndarray | None,
    ) -> Found:
        """_search's passages and scores by one call of the compiled search
        (bot/core/_firstsearch.py), given the terms as arrays in query order."""
        s, p, index = self.settings, self.passages, self.index
        bounds = np.array([index.bounds(t) for t in query], dtype=np.int64).reshape(-1, 2)
        lo, hi = bounds[:, 0].copy(), bounds[:, 1].copy()
        role = np.array([kernels.COMMON if t in common else kernels.REST if t in rest
                         else kernels.SCATTERED for t in query], dtype=np.int64)
        # The documents whose label holds each term, one after the other.
        labelled = [self.titles.get(t, _NO_DOCS) if title is not None else _NO_DOCS
                    for t in query]
        sizes = np.array([len(d) for d in labelled], dtype=np.int64)
        title_hi = np.cumsum(sizes)
        buf = self.buffers()
        return compiled(
            index.doc_ids, index.weights, self._posting_para, lo, hi,
            np.array([index.term_idf(t) for t in query]),
            np.array(list(query.values()), dtype=np.float64), role, title_hi - sizes, title_hi,
            np.concatenate([_NO_DOCS, *labelled]), _NO_ALLOWED if allowed is None else allowed,
            p.collection, self._para_id, p.para_start, p.same_para, p.doc, buf.scores,
            buf.paragraphs, buf.marks, _NO_TITLES if title is None else title, s.candidates,
            float(s.neighbour_weight), float(s.paragraph_terms), float(s.title_terms),
            allowed is not None, bool(s.paragraph_terms), title is not None)

    @staticmethod
    def _union(hits: list[np.ndarray]) -> np.ndarray:
        """The passages of any of hits (posting lists), ascending and distinct."""
        if len(hits) == 1:
            return hits[0]
        return _distinct_sorted(np.sort(np.concatenate(hits)))

    def _scatter(
        self, query: dict[str, float], common: dict[str, float], search: Search
    ) -> list[np.ndarray]:
        """Write every term but the common ones (see _write); the posting lists written, one
        a term found."""
        hits: list[np.ndarray] = []
        for term, qw in query.items():
            if term in common:
                continue
            ids, w, idf = self.index.raw_postings(term)
            if not len(ids):
                continue
            hits.append(ids)
            self._write(term, ids, w, idf, qw, search)
        return hits

    def _write(
        self, term: str, ids: np.ndarray, w: np.ndarray, idf: float, qw: float, search: Search
    ) -> None:
        """Add term's BM25 scores (w: its weights in passages ids) to passages ids, and its
        IDF mass to their paragraphs and to the documents whose label holds it."""
        buf, s = search.buf, self.settings
        mass = max(idf, 0.0) * qw
        search.passages.append(ids)
        # w * idf is a fresh array: scale it in place, and not at all for the usual weight 1,
        # rather than allocate another posting list.
        w = w * idf
        if qw != 1:
            w *= qw
        search.scores_at[ids] += w
        if s.paragraph_terms:
            # A paragraph listed twice gets the mass once: every write is the same sum.
            para = self.passages.para_id[ids]
            buf.paragraphs[para] += mass
            search.paragraphs.append(para)
        if search.title is not None and term in self.titles:
            search.title[self.titles[term]] += mass

    def _score_around(self, ids: np.ndarray, common: dict[str, float], search: Search) -> None:
        """Add the common terms' BM25 scores to passages ids and the two on either side (all
        a matched passage's or its neighbours' context scores read), and their IDF mass to
        the paragraphs of ids, by searches into their postings rather than a scatter over
        all of them (at 1M passages a common word has up to 85k postings, each write a cache
        miss). A passage that matches only common words is thereby never a candidate when a
        rarer term matched: such passages filled only the candidates' tail (bench/README.md:
        how often a 1M corpus's answers differ)."""
        p, s = self.passages, self.settings
        buf, title, scores_at = search.buf, search.title, search.scores_at
        near = para = None  # computed when a term is searched for them
        for term, qw in common.items():
            postings, weights, idf = self.index.raw_postings(term)
            mass = max(idf, 0.0) * qw
            # Writing costs less than searching when the rarer terms matched widely: then
            # every posting is written, and what lands outside ids and their paragraphs is
            # read by nothing and cleared with them. (ids and the two passages either side
            # are at most 5 len(ids); their paragraphs at most len(ids).)
            if 8 * 5 * len(ids) > len(postings):
                scores_at[postings] += weights * idf * qw
                search.passages.append(postings)
            else:
                if near is None:
                    near = self._around(ids)
                    search.passages.append(near)
                pos = np.searchsorted(postings, near)
                at = np.minimum(pos, len(postings) - 1)
                found = postings[at] == near
                scores_at[near[found]] += weights[at[found]] * idf * qw
            if not s.paragraph_terms:
                pass
            elif 8 * len(ids) > len(postings):
                # (A paragraph listed twice gets the mass once: every write is the same sum.)
                written = p.para_id[postings]
                buf.paragraphs[written] += mass
                search.paragraphs.append(written)
            else:
                if para is None:
                    para, first, stop = self._paragraphs_of(ids)
                    search.paragraphs.append(para)
                pos = np.searchsorted(postings, first)
                inside = (pos < len(postings)) & (
                    postings[np.minimum(pos, len(postings) - 1)] < stop)
                buf.paragraphs[para[inside]] += mass
            if title is not None and term in self.titles:
                title[self.titles[term]] += mass

    def _score_inside(self, ids: np.ndarray, rest: dict[str, float], search: Search) -> np.ndarray:
        """Write the rest (see Planner.plan, and _write) where it falls in the paragraphs of
        ids (ascending); ids with the passages it was written to, ascending."""
        para_id, marks = self.passages.para_id, search.buf.marks
        for term, qw in rest.items():
            postings, weights, idf = self.index.raw_postings(term)
            marks[para_id[ids]] = True
            at = np.flatnonzero(marks[para_id[postings]])
            marks[para_id[ids]] = False
            self._write(term, postings[at], weights[at], idf, qw, search)
            ids = _distinct_sorted(np.sort(np.concatenate((ids, postings[at]))))
        return ids

    def _around(self, ids: np.ndarray) -> np.ndarray:
        """Passages ids and the two on either side of each, ascending and distinct."""
        near = _distinct_sorted(np.sort(np.concatenate(
            [ids + shift for shift in (-2, -1, 0, 1, 2)])))
        # (In the postings' type: searchsorted would otherwise convert them.)
        return near[(near >= 0) & (near < len(self.passages))].astype(self.index.doc_ids.dtype)

    def _paragraphs_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct paragraphs of ids (ascending, as ids are), their first passages (in
        the postings' type) and the passages that end them."""
        p = self.passages
        para = _distinct_sorted(p.para_id[ids])
        return para, p.para_start[para].astype(self.index.doc_ids.dtype), p.para_start[para + 1]

    def _context(self, ids: np.ndarray, search: Search) -> tuple[np.ndarray, np.ndarray]:
        """(BM25 scores, context-weighted scores) of passages ids, from the filled buffers."""
        s, p = self.settings, self.passages
        buf, title = search.buf, search.title
        scores = buf.scores[ids + 1]
        if s.neighbour_weight:
            # The neighbours in the same paragraph only (beside[i] is the weight of passage
            # i - 1 for passage i and of i for i - 1: neighbour_weight, or 0 across a break).
            beside = self._beside
            context = scores + buf.scores[ids] * beside[ids]
            context += buf.scores[ids + 2] * beside[ids + 1]
        else:
            context = scores.copy()
        if s.paragraph_terms:
            context += s.paragraph_terms * buf.paragraphs[p.para_id[ids]]
        if title is not None:
            context += s.title_terms * title[p.doc[ids]]
        return scores, context

    def _with_neighbours(self, ids: np.ndarray, search: Search) -> np.ndarray:
        """The matched passages ids (ascending) with their neighbours in the same paragraph,
        ascending and distinct, less those that cannot be among the best `candidates`.

        A neighbour that matches nothing itself scores nw * (its two neighbours' scores) +
        the paragraph and title terms, which it shares with the match beside it. That match
        scores at least its own score + those terms, so the neighbour scores at most the
        match's context - (1 - nw) * the match's score + nw * the best score of all. When
        more than `candidates` passages match, the last of the best `candidates` of them is
        a floor: a match below it, or a neighbour of a match whose bound is below it, is
        never among the best: a few hundred passages are kept of tens of thousands."""
        nw, n = self.settings.neighbour_weight, self.settings.candidates
        scores, context = self._context(ids, search) if len(ids) > n else (None, None)
        if scores is not None and scores.min() >= 0:
            floor = np.partition(context, len(ids) - n)[len(ids) - n]
            bound = context - (1 - nw) * scores + nw * scores.max()
            bound += 1e-9 * (np.abs(bound) + 1.0)  # rounding: never leave out a close one
            around = ids[bound >= floor]
            ids = ids[context >= floor]
        else:
            around = ids
        same = self.passages.same_para
        before = around[same[around]] - 1
        after = around[same[around + 1]] + 1
        merged = np.concatenate((ids, before, after))
        return _distinct_sorted(np.sort(merged))

    def buffers(self) -> Buffers:
        # One set per thread: questions are answered concurrently in worker threads.
        buf = getattr(self._local, "buffers", None)
        if buf is None:
            buf = self._local.buffers = Buffers(len(self.passages), self.passages.n_paragraphs)
        return buf

    def _answer_type(
        self, question: str, ids: np.ndarray, scores: np.ndarray, texts: PassageTexts
    ) -> np.ndarray:
        """Raise the best few candidates that hold the kind of thing the question asks for: a
        date for "when", a number for "how many", a name the question does not already say
        for "who". A cue, not a filter: it moves a sentence up among close ones."""
        s = self.settings
        if not s.type_weight or not len(ids):
            return scores
        kind, holds_kind = self.kinds.test(question)
        if kind is None:
            return scores
        m = min(s.type_candidates, len(ids))
        top = _best(ids, scores, m)
        scores = scores.copy()
        for i, text in zip(top.tolist(), texts.of(ids[top]), strict=True):
            if holds_kind(text):
                scores[i] *= 1 + s.type_weight
        return scores


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array."""
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _best(ids: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n highest scores, a tie at the last place going to the lower id."""
    if n >= len(ids):
        return np.arange(len(ids))
    kth = np.partition(scores, len(scores) - n)[len(scores) - n]
    keep = np.flatnonzero(scores >= kth)
    if len(keep) > n:
        keep = keep[np.lexsort((ids[keep], -scores[keep]))[:n]]
    return keep
