"""A second look at the best few candidates: a linear score over cues that BM25 and the context
score weigh on their own (how much of the question a sentence, its neighbours, its paragraph
and its title hold, the question's word pairs kept in order, and whether it holds the kind of
thing asked for).

The weights are plain constants fitted on SQuAD v1.1 dev, even articles only, by
bench/fit_rerank.py (a softmax over each question's candidates, numpy only); the odd articles
are the held-out check. The stage only reorders: the returned scores are the candidates'
context scores, sorted, so a rule that compares a score with a share of the best one (the
diversity rule) means what it meant before.

SQuAD v1.1 dev (`quotebot eval`), off -> on (the best 10 reordered): all ans@1 0.800 -> 0.808,
ans@3 0.903 -> 0.906, span@1 0.775 -> 0.784; odd (held out) ans@1 0.823 -> 0.834, ans@3
0.917 -> 0.922, span@1 0.805 -> 0.818; mean top-1 quote 489 -> 472 characters (top-3 389 ->
377); about 1 ms a question more. Abstention is unchanged (AUC 0.951, 98.2% answered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus

# One column of the feature matrix each, in this order; each is 0..1 or a small log count.
FEATURES = (
    "context",    # context score / the best candidate's
    "bm25",       # the sentence's own BM25 score / the best candidate's
    "sentence",   # share of the question's IDF mass in the sentence
    "window",     # ... in the sentence or a neighbour of the same paragraph
    "paragraph",  # ... anywhere in its paragraph
    "title",      # ... in its document's label
    "pairs",      # share of the question's consecutive word pairs found consecutive here
    "density",    # distinct question words found / the span of words they occupy
    "length",     # log(1 + terms of the sentence)
    "date",       # "when" question and the sentence holds a date
    "number",     # "how many" question and the sentence holds a number
    "name",       # "who" question and the sentence holds a name the question lacks
    "place",      # "where" question and the sentence holds a name the question lacks
)
KINDS = ("date", "number", "name", "place")

# Fitted by bench/fit_rerank.py on even articles (see its output for the held-out figures).
WEIGHTS = np.array([
    +4.4647,  # context
    +2.0506,  # bm25
    +1.9291,  # sentence
    +2.9522,  # window
    +2.6207,  # paragraph
    +1.0012,  # title
    +0.6652,  # pairs
    -0.0604,  # density
    +0.0090,  # length
    +1.8866,  # date
    +1.5009,  # number
    +0.5391,  # name
    +0.6696,  # place
])


def features(
    corpus: Corpus,
    analyzer: Analyzer,
    question: str,
    query: Mapping[str, float],
    ids: np.ndarray,
    bm25: np.ndarray,
    context: np.ndarray,
    kind: str | None = None,
    holds_kind: Callable[[str], bool] | None = None,
    titles: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The feature matrix (len(ids) x len(FEATURES)) of candidates ids, best first by
    context, whose own BM25 and context scores are bm25 and context. kind is what the
    question asks for (answer.py's _question_kind) and holds_kind tests a text for it; titles
    maps a term to the documents whose label holds it (ascending)."""
    p, index = corpus.passages, corpus.index
    n = len(ids)
    x = np.zeros((n, len(FEATURES)))
    x[:, 0] = context / context[0] if n and context[0] > 0 else 0.0
    top = float(bm25.max()) if n else 0.0
    x[:, 1] = bm25 / top if top > 0 else 0.0

    para = p.para_id
    wanted = para[ids]
    before = np.maximum(ids - 1, 0)
    after = np.minimum(ids + 1, len(p) - 1)
    same_before = para[before] == wanted
    same_after = para[after] == wanted
    docs = p.doc[ids]
    total = 0.0
    for term, qw in query.items():
        postings, _ = index.postings(term)
        if not len(postings):
            continue
        mass = max(index.term_idf(term), 0.0) * qw
        total += mass
        inside = _contains(postings, ids)
        near = inside | (same_before & _contains(postings, before)) | (
            same_after & _contains(postings, after))
        x[:, 2] += mass * inside
        x[:, 3] += mass * near
        x[:, 4] += mass * _contains(para[postings], wanted)
        if titles is not None and term in titles:
            x[:, 5] += mass * _contains(titles[term], docs)
    if total > 0:
        x[:, 2:6] /= total

    # Word pairs and spans are taken over folded words, not terms: tokenising twenty
    # sentences into stemmed terms costs more than the rest of the answer path.
    stop = analyzer.stopwords
    asked = analyzer.words(question)
    asked_set = {w for w in asked if w not in stop}
    pairs = {(a, b) for a, b in pairwise(asked)
             if a != b and a not in stop and b not in stop}
    for i, pid in enumerate(ids.tolist()):
        doc = corpus.documents[int(p.doc[pid])]
        text = doc.text[int(p.start[pid]) : int(p.end[pid])]
        words = analyzer.words(text)
        if pairs:
            x[i, 6] = len(pairs.intersection(pairwise(words))) / len(pairs)
        at = [pos for pos, w in enumerate(words) if w in asked_set]
        if at:
            found = len({words[pos] for pos in at})
            x[i, 7] = min(1.0, found / (at[-1] - at[0] + 1))
        if kind in KINDS and holds_kind is not None and holds_kind(text):
            x[i, 9 + KINDS.index(kind)] = 1.0
    x[:, 8] = np.log1p(index.doc_len[ids])
    return x


def rerank(x: np.ndarray, ids: np.ndarray, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """ids reordered by the linear score of their features x (ties keep the given order)."""
    return ids[np.argsort(-(x @ weights), kind="stable")]


def _contains(sorted_values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of wanted is in the ascending array sorted_values."""
    pos = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return sorted_values[pos] == wanted
