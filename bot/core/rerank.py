"""Candidates -> reordered: a second look at the first stage's best `rerank` candidates.

Each candidate's named cues (bot/core/cues.py: how much of the question it, its neighbours,
paragraph and title hold, word pairs in order, the kind asked for, its paragraph's standing
in the list) are scored by a linear model with WEIGHTS, fitted on SQuAD v1.1 dev's even
articles by bench/fit_rerank.py. The stage only reorders: the scores stay the candidates'
context scores, so the diversity rule's share of the best score means what it meant before.
bench/README.md ("Reranker history") tells which cues were tried, kept and measured.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bot.core import cues, kernels
from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus, PassageTexts
from bot.core.kinds import KindTests
from bot.core.model import AnswerSettings
from bot.core.paraphrase import ParaphraseCue, WordVectors

# The engine quotes its best 2 x top_k + 2 candidates (12 in `quotebot eval`, which asks for
# 5): the pool a reranked sentence may share a quote with is the reranked ones and 2 more.
POOL_EXTRA = 2

# Fitted by bench/fit_rerank.py on even articles (see its output for the held-out figures),
# a candidate right when its quote as shown holds a gold answer within its first 150
# characters.
WEIGHTS = {
    "context": +1.1090,
    "bm25": -0.3500,
    "sentence": -3.3286,
    "window": -0.5481,
    "paragraph": -0.7952,
    "title": +1.3038,
    "pairs": -0.1747,
    "density": +0.3484,
    "length": -0.8197,
    "date": +2.2996,
    "number": +2.3825,
    "name": +0.8686,
    "place": +0.9117,
    "rank": -0.1129,
    "exact": +2.7574,
    "rare": +0.2772,
    "novel": +0.0595,
    "first": -0.6058,
    "position": -0.1840,
    "prev_top": -0.0603,
    "next_top": -0.2608,
    "what_novel": +0.0110,
    "lead": +1.3322,
    "para_bm25": +3.6804,
    "doc_bm25": +2.4308,
    "local": +3.1021,
    "local_win": +1.8210,
    "win_bm25": +0.6336,
    "para_rare": +2.6637,
    "votes": +0.2241,
    "para_sum": -0.0125,
    "para_best": +2.2667,
    "found_at": -2.1590,
    "paraphrase": +7.0892,
}


def weight_vector(weights: Mapping[str, float] = WEIGHTS) -> np.ndarray:
    """weights by name, in the matrix's column order."""
    return np.array([weights[name] for name in cues.FEATURES])


_WEIGHTS = weight_vector()


def order(x: np.ndarray, weights: np.ndarray = _WEIGHTS) -> np.ndarray:
    """Positions of the candidates whose features are x, best first by the linear score (ties
    keep the given order)."""
    return np.argsort(-(x @ weights), kind="stable")


class Reranker:
    """The stage: reorders the best `rerank` candidates of the first stage."""

    def __init__(
        self, corpus: Corpus, analyzer: Analyzer, settings: AnswerSettings, kinds: KindTests,
        titles: Mapping[str, np.ndarray],
    ) -> None:
        self.corpus, self.analyzer, self.settings = corpus, analyzer, settings
        self.kinds, self.titles = kinds, titles
        # The term cues compiled (bot/core/kernels.py) where the first stage's are.
        self._compiled = (len(corpus.passages) >= settings.compiled_from
                          and corpus.index.doc_ids.dtype == np.int32)
        if self._compiled:
            kernels.start()
        self.paraphrase = ParaphraseCue(WordVectors.packaged(), analyzer, corpus.index)

    def features(
        self, question: str, query: Mapping[str, float], ids: np.ndarray, bm25: np.ndarray,
        context: np.ndarray, pool: np.ndarray | None = None, texts: PassageTexts | None = None,
    ) -> np.ndarray:
        """The feature matrix of candidates ids (see cues.features)."""
        return cues.features(self.corpus, self.analyzer, question, query, ids, bm25, context,
                        *self.kinds.test(question), self.titles, pool,
                        kernels.loaded() if self._compiled else None, texts, self.paraphrase)

    def reorder(
        self, question: str, query: Mapping[str, float], ids: np.ndarray, bm25: np.ndarray,
        context: np.ndarray, texts: PassageTexts | None = None,
    ) -> np.ndarray | None:
        """The order the linear score gives the best `rerank` of candidates ids (best first
        by context), as their positions; None when there is nothing to reorder. texts: the
        answer's passage texts."""
        m = min(self.settings.rerank, len(ids))
        if m < 2:
            return None
        x = self.features(question, query, ids[:m], bm25[:m], context[:m], ids[: m + POOL_EXTRA],
                          texts)
        return order(x)
