"""How much of the question each candidate speaks to, in [0, 1]: the measure the answer
threshold and the diversity rule compare (see Confidence.of for why not the BM25 score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType

import numpy as np

from bot.core import kernels
from bot.core.corpus import Corpus
from bot.core.index import IDF_MIN_PASSAGES
from bot.core.model import AnswerSettings

_NO_DOCS = np.zeros(0, dtype=np.int64)


class Confidence:
    def __init__(self, corpus: Corpus, settings: AnswerSettings) -> None:
        self.passages, self.index, self.settings = corpus.passages, corpus.index, settings
        # The sums compiled (bot/core/kernels.py) where the first stage's are.
        self._compiled = (len(corpus.passages) >= settings.compiled_from
                          and corpus.index.doc_ids.dtype == np.int32)
        if self._compiled:
            kernels.start()

    def of(
        self,
        query: Mapping[str, float],
        ids: np.ndarray,
        near: Mapping[str, Sequence[str]] | None = None,
    ) -> np.ndarray:
        """How much of the question each passage speaks to, in [0, 1]: the mean of two shares
        of the question's IDF mass, the share found in the passage itself and the share found
        anywhere in its paragraph (sum of idf(t) over the question terms present, divided by
        the sum over all question terms).

        Why not the BM25 score: it grows with the corpus (IDF grows with log N), so a
        threshold tuned on a small corpus would answer everything on a large one. A share of
        IDF mass is a ratio whose meaning does not change with corpus size, so one threshold
        serves a two-document corpus and a million-passage one. Terms unknown to the corpus
        count with the highest IDF a term could have, so an unmatched rare word (the name a
        missing document would have held) weighs heavily. The paragraph half rewards a
        passage whose neighbours hold the rest of the question; measured on SQuAD with the
        question's article removed versus present, it separates the two better (ROC AUC
        0.95) than the sentence share alone (0.93).

        query holds the question's own terms (and aliases); near maps a term to its near
        spellings, which count as finding it at spelling_weight. Near spellings are not
        question terms of their own: counting them would make every question about a name
        the corpus lacks look answered by whatever name is spelled like it."""
        p, index = self.passages, self.index
        compiled = kernels.loaded() if self._compiled else None
        if compiled is not None and len(ids):
            return self._compiled_of(compiled, query, ids, near or {})
        para = p.para_id[ids] if len(ids) else _NO_DOCS
        # Paragraph j is passages para_start[j]:para_start[j + 1]: a term is in the paragraph
        # when its first posting at or after the start comes before the end.
        # One binary search a posting list answers both: ids, then their paragraphs' first
        # passages. A row a posting list (a term's own, then its near spellings', weighed
        # share), its hits the sentence's and then the paragraph's; a term counts what the
        # best of its rows found.
        # (In the postings' type: searchsorted would otherwise convert every posting list.)
        needles = np.concatenate((ids, p.para_start[para])).astype(index.doc_ids.dtype)
        stop = p.para_start[para + 1]
        mass, rows = self._term_rows(query, near or {})
        total = sum(mass)
        found = np.zeros(len(ids))
        if rows and len(ids):
            hit = np.empty((len(rows), len(needles)))
            for r, (_, weight, start, end) in enumerate(rows):
                postings = index.doc_ids[start:end]
                pos = postings.searchsorted(needles)
                at = postings.take(pos, mode="clip")
                hit[r, : len(ids)] = at[: len(ids)] == ids
                hit[r, len(ids) :] = (pos[len(ids) :] < len(postings)) & (at[len(ids) :] < stop)
                if weight != 1.0:
                    hit[r] *= weight
            owner, first = _owners(rows)
            best = np.maximum.reduceat(hit, first, axis=0)
            found = _shares(mass, owner, first, best[:, : len(ids)] + best[:, len(ids) :])
        return found / total if total > 0 else found

    def _compiled_of(
        self, compiled: ModuleType, query: Mapping[str, float], ids: np.ndarray,
        near: Mapping[str, Sequence[str]],
    ) -> np.ndarray:
        """of()'s shares, the same to the last bit, with the searches and the best of each
        term's rows in one call of the compiled kernel (_kernels.coverage)."""
        p, index = self.passages, self.index
        mass, rows = self._term_rows(query, near)
        total = sum(mass)
        if not rows:
            return np.zeros(len(ids))
        owner, first = _owners(rows)
        starts, stops = np.array([(a, b) for _, _, a, b in rows], dtype=np.int64).T.copy()
        para = p.para_id[ids]
        best = compiled.coverage(
            index.doc_ids, starts, stops, np.array([w for _, w, _, _ in rows]),
            np.array(first, dtype=np.int64), ids.astype(np.int64, copy=False),
            p.para_start[para], p.para_start[para + 1])
        found = _shares(mass, owner, first, best)
        return found / total if total > 0 else found

    def _term_rows(
        self, query: Mapping[str, float], near: Mapping[str, Sequence[str]]
    ) -> tuple[list[float], list[tuple[int, float, int, int]]]:
        """Each question term's IDF mass (an unknown term's the highest IDF a term could
        have), and a row a posting list: (the term's number, weight, and where its postings
        start and end in index.doc_ids), the term's own at weight 1, then its near
        spellings' at spelling_weight."""
        index, share = self.index, self.settings.spelling_weight
        n = max(index.n_docs, IDF_MIN_PASSAGES)
        ceiling = np.log(n + 0.5) - np.log(1.5)
        mass: list[float] = []
        rows: list[tuple[int, float, int, int]] = []
        for k, (term, qw) in enumerate(query.items()):
            start, stop = index.bounds(term)
            mass.append((max(index.term_idf(term), 0.0) if start < stop else ceiling) * qw)
            if start < stop:
                rows.append((k, 1.0, start, stop))
            for other in near.get(term, ()):
                if (bounds := index.bounds(other))[0] < bounds[1]:
                    rows.append((k, share, *bounds))
        return mass, rows


def _owners(rows: list[tuple[int, float, int, int]]) -> tuple[list[int], list[int]]:
    """Each row's term number, and the first row of each term (its rows are consecutive)."""
    owner = [k for k, _, _, _ in rows]
    return owner, [r for r, k in enumerate(owner) if r == 0 or k != owner[r - 1]]


def _shares(mass: list[float], owner: list[int], first: list[int], best: np.ndarray) -> np.ndarray:
    """Each candidate's found mass (not yet divided by the total): half of a term's mass for
    its best row's hit in the sentence, half for its hit in the paragraph (best: one row a
    term, the two hits summed)."""
    return (0.5 * np.array([mass[owner[r]] for r in first])) @ best
