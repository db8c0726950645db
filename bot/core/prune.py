"""How the first stage scores a question's terms: a common term (see common_postings) only
around the rarer terms' matches, and, when every term is common, the weakest only inside the
paragraphs the others matched, when a bound shows the best candidates unchanged (MaxScore's
order, as Lucene's and tantivy's disjunctions take it)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bot.core.index import BM25Index
from bot.core.model import AnswerSettings


class Planner:
    """Plans for one index; safe to share between threads (its cache only grows, by atomic
    dict writes)."""

    def __init__(
        self, index: BM25Index, titles: Mapping[str, np.ndarray], settings: AnswerSettings
    ) -> None:
        self.index, self.titles, self.settings = index, titles, settings
        # A common term's largest BM25 weight (see bound), once asked: a few thousand terms.
        self._most: dict[str, float] = {}

    def plan(
        self, query: dict[str, float]
    ) -> tuple[dict[str, float], dict[str, float], dict[str, float], float]:
        """(query, its common terms, the rest, the rest's bound): how to score query.

        The common terms are scored around the rarer terms' matches. When all are common
        there is nothing rarer: then the terms are taken in descending order of how much each
        can add to a passage's context score, and the last, "the rest", is scored only in the
        paragraphs the others matched. A passage of another paragraph then gets from the
        others at most their title mass (a neighbour or a paragraph's mass is never across a
        paragraph break), and from the rest at most its bound; the returned bound is their
        sum. When the best `candidates` all score above it (see below), they are exactly
        those of scoring every term everywhere (FirstStage.score checks, and else scores
        again: 5 of 71 all-common questions of several terms at 1M). The rest is the term
        with the most postings, at 1M a half of the passages scored and of the time."""
        s, index = self.settings, self.index
        if not s.common_postings:
            return query, {}, {}, 0.0
        limit = max(s.common_postings, index.n_docs // 500)
        common = {t: qw for t, qw in query.items() if index.df(t) > limit}
        if len(common) < len(query):
            return query, common, {}, 0.0
        bounds = {t: self.bound(t, qw) for t, qw in query.items()}
        query = dict(sorted(query.items(), key=lambda item: -bounds[item[0]]))
        if not s.prune_common or len(query) < 2:
            return query, {}, {}, 0.0
        last = next(reversed(query))
        titled = sum(max(index.term_idf(t), 0.0) * qw
                     for t, qw in query.items() if t != last and t in self.titles)
        return query, {}, {last: query[last]}, bounds[last] + s.title_terms * titled

    def bound(self, term: str, qw: float) -> float:
        """The most term can add to a passage's context score: its BM25 score in the passage
        and its two neighbours, its IDF mass in the paragraph and in the label."""
        s = self.settings
        most = self._most.get(term)
        if most is None:
            _, weights, _ = self.index.raw_postings(term)
            most = self._most[term] = float(weights.max()) if len(weights) else 0.0
        idf = self.index.term_idf(term)
        mass = max(idf, 0.0) * qw
        titled = s.title_terms * mass if term in self.titles else 0.0
        own = max(most * idf * qw, 0.0)  # (a negative IDF, of a term in most passages, subtracts)
        return (1 + 2 * s.neighbour_weight) * own + s.paragraph_terms * mass + titled


def below(bound: float, context: np.ndarray, n: int) -> bool:
    """Whether bound is below the n-th best of context (a margin for rounding: the bound's
    sum and a passage's are taken in other orders)."""
    if len(context) < n:
        return False
    nth = np.partition(context, len(context) - n)[len(context) - n]
    return bound + 1e-9 * (abs(bound) + 1.0) < nth
