"""Chosen candidates -> quotes: which to quote (best first, a second document's close one
promoted), near-duplicates shown once with both sources, and neighbouring sentences of one
paragraph joined into runs. Every Quote's text is ``document.text[start:end]``."""

from __future__ import annotations

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus
from bot.core.model import AnswerSettings, Quote, Source


class QuoteMaker:
    def __init__(self, corpus: Corpus, analyzer: Analyzer, settings: AnswerSettings) -> None:
        self.analyzer, self.settings = analyzer, settings
        self.documents, self.passages, self.index = corpus.documents, corpus.passages, corpus.index

    def select(
        self, ids: np.ndarray, scores: np.ndarray, cover: np.ndarray, count: int
    ) -> list[tuple[int, float]]:
        """Best first, but a close-scoring passage from a document not yet quoted goes ahead,
        so that two documents that speak to a question both appear. Only a passage that holds
        most of the question (IDF coverage >= diversity_coverage) may jump the queue: a
        sentence from another document that shares one common word with the question is not
        a second source, and promoting it pushes a better quote of the first document out."""
        s = self.settings
        eligible = set(ids[: len(cover)][cover >= s.diversity_coverage].tolist())
        # A pick is the first remaining passage or an eligible one (among the first
        # len(cover)): all count picks lie among the first count + len(cover).
        ids, scores = ids[: count + len(cover)], scores[: count + len(cover)]
        remaining = list(zip(ids.tolist(), scores.tolist(), self.passages.doc[ids].tolist(),
                             strict=True))
        picked: list[tuple[int, float]] = []
        seen_docs: set[int] = set()
        while remaining and len(picked) < count:
            choice = 0
            if remaining[0][2] in seen_docs:
                floor = remaining[0][1] * s.diversity
                for i, (pid, score, doc) in enumerate(remaining):
                    if score < floor:
                        break
                    if pid in eligible and doc not in seen_docs:
                        choice = i
                        break
            pid, score, doc = remaining.pop(choice)
            picked.append((pid, score))
            seen_docs.add(doc)
        return picked

    def quotes(
        self, picked: list[tuple[int, float]], asked: frozenset[str | int]
    ) -> list[Quote]:
        """Quotes in rank order. A sentence that says the same as one already chosen (the
        same terms, or nearly: Jaccard similarity of their term sets >= duplicate) is shown
        once, with the other document added as a source; a passage next to an already chosen
        one of the same paragraph joins it as a run of consecutive sentences if it holds a
        term of `asked` (the question's terms, and their ids) or links two chosen sentences,
        and is left out otherwise."""
        p, index = self.passages, self.index
        at = np.array([pid for pid, _ in picked], dtype=np.int64)
        # What the tests below read of each chosen passage, gathered once as Python values.
        facts = dict(zip(at.tolist(), zip(
            p.doc[at].tolist(), p.para_id[at].tolist(), index.doc_len[at].tolist(),
            (index.fwd_indptr[at + 1] - index.fwd_indptr[at]).tolist(), strict=True),
            strict=True))
        runs: list[list[int]] = []
        scores: list[float] = []
        also: list[list[Source]] = []
        terms: dict[int, frozenset[str | int]] = {}  # passage -> _terms(), when needed
        for pid, score in picked:
            dup = self._duplicate_of(pid, runs, terms, facts)
            if dup is not None:
                doc = self.documents[facts[pid][0]]
                src = Source(doc.collection, doc.rel, doc.label)
                first = self.documents[facts[runs[dup][0]][0]]
                if doc is not first and src not in also[dup]:
                    also[dup].append(src)
                continue
            for i, run in enumerate(runs):
                if facts[pid][1] == facts[run[0]][1] and run[0] - 1 <= pid <= run[-1] + 1:
                    # A neighbour that shares no term with the question scored on its
                    # neighbour's match and its paragraph alone: appended, it is most often
                    # noise ("In conjunction with the ground offensive, ..."), unless it
                    # links two chosen sentences; alone, it would stand next to the quote it
                    # borrowed its score from.
                    links = (pid - 1 in facts and pid + 1 in facts
                             and facts[pid - 1][1] == facts[pid + 1][1])
                    if links or self._terms(pid, terms) & asked:
                        runs[i] = sorted({*run, pid})
                    break
            else:
                runs.append([pid])
                scores.append(score)
                also.append([])
        quotes = []
        for run, score, more in zip(runs, scores, also, strict=True):
            first, last = run[0], run[-1]
            doc = self.documents[facts[first][0]]
            start, end = int(p.start[first]), int(p.end[last])
            quotes.append(Quote(
                doc.text[start:end], doc.rel, doc.label, int(p.paragraph[first]), start, end,
                score, doc.collection, tuple(more),
            ))
        return quotes

    def _duplicate_of(
        self, pid: int, runs: list[list[int]], terms: dict[int, frozenset[str | int]],
        facts: dict[int, tuple[int, int, int, int]],
    ) -> int | None:
        """The run of another document holding a sentence that says the same as passage pid,
        if any. facts holds each passage's (document, paragraph, length, distinct terms)."""
        floor = self.settings.duplicate
        doc, _, length, distinct = facts[pid]
        for i, run in enumerate(runs):
            if doc == facts[run[0]][0]:
                continue  # a document does not repeat itself often enough to pay for the test
            for other in run:
                # Near-identical sentences have nearly as many terms: cheap tests first, the
                # second _similar's own on the number of each one's distinct terms (none: a
                # sentence of stopwords, compared by its words).
                _, _, other_length, other_distinct = facts[other]
                if 4 * abs(length - other_length) > max(length, other_length):
                    continue
                if (distinct and other_distinct
                        and min(distinct, other_distinct) < floor * max(distinct, other_distinct)):
                    continue
                if _similar(self._terms(pid, terms), self._terms(other, terms), floor):
                    return i
        return None

    def _terms(self, pid: int, cache: dict[int, frozenset[str | int]]) -> frozenset[str | int]:
        """Passage pid's term ids, from the forward index; a sentence of stopwords only (no
        terms) is compared by its words."""
        if pid not in cache:
            ids = self.index.terms_of(pid)
            cache[pid] = (frozenset(ids.tolist()) if len(ids)
                          else frozenset(self.analyzer.words(self.text(pid, pid))))
        return cache[pid]

    def text(self, first: int, last: int) -> str:
        p = self.passages
        return self.documents[int(p.doc[first])].text[int(p.start[first]) : int(p.end[last])]


def _similar(a: frozenset[str], b: frozenset[str], floor: float) -> bool:
    """Jaccard similarity of two term sets at least floor (and never for empty sets)."""
    if not a or not b or min(len(a), len(b)) < floor * max(len(a), len(b)):
        return False
    return len(a & b) >= floor * len(a | b)

