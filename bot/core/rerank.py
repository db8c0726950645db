"""A second look at the best few candidates: a linear score over cues that BM25 and the context
score weigh on their own (how much of the question a sentence, its neighbours, its paragraph
and its title hold, the question's word pairs kept in order, and whether it holds the kind of
thing asked for).

The weights are plain constants fitted on SQuAD v1.1 dev, even articles only, by
bench/fit_rerank.py (a softmax over each question's candidates, numpy only); the odd articles
are the held-out check. The stage only reorders: the returned scores are the candidates'
context scores, sorted, so a rule that compares a score with a share of the best one (the
diversity rule) means what it meant before.

Candidates are labelled by the quote they can head (the sentence, or the run it makes with a
neighbour), since that is what answer recall counts. The first thirteen cues were joined by
ten cheap ones (exact words, the rarest term, answer-like words, place in the paragraph, the
paragraph's first sentence, a neighbour in the quoted pool) and then by two that judge the
sentence's surroundings as a whole: BM25 of its paragraph and of its document, each taken as
one text. None tokenises more text than before: the words of the reordered sentences were
already taken for the word pairs, and the two BM25 cues come from the postings' binary
searches.

SQuAD v1.1 dev (`quotebot eval`, the best 10 reordered each time), thirteen cues -> 23 ->
25: all ans@1 0.808 -> 0.818 -> 0.822, ans@3 0.906 -> 0.911 -> 0.913, ans@5 0.931 -> 0.931 ->
0.931, span@1 0.784 -> 0.794 -> 0.798; odd (held out) ans@1 0.834 -> 0.840 -> 0.847, ans@3
0.922 -> 0.927 -> 0.927, span@1 0.818 -> 0.823 -> 0.829; mean top-1 quote 472 -> 480 -> 476
characters (top-3 377 -> 380 -> 376). Reranking off gives all ans@1 0.800, ans@3 0.903.
Abstention: AUC 0.951 throughout; answered 98.2% -> 98.0% -> 97.9%, refused 60.6% -> 62.2%
-> 62.6%.

Then seven cues that weigh a candidate against its document and the rest of its list: the
question's IDF mass counted with each term's rarity within the document (a term in most of
an article's sentences, its topic, tells none of them apart) in the sentence and in its
window, BM25 of the window as one text, the terms it holds weighted by how few of its
paragraph's sentences hold them, and how many other candidates share its paragraph, their
context scores summed and the best of them. All come from the binary searches the other
cues make, or from the list itself. With them the best 25 are reordered, not 10 (the weights
fitted at that depth, with a lighter L2 penalty of 3e-4 for the larger model): ans@3 0.913 ->
0.920, ans@1 0.822 -> 0.826, ans@5 0.931 -> 0.940, span@1 0.798 -> 0.802; even 0.899 -> 0.908
(ans@3), odd 0.927 -> 0.933; mean quote 476 -> 469 characters top-1, 376 -> 355 top-3 (a
deeper list brings in sentences of other paragraphs, so fewer neighbours join into runs).
Apart, on the same labels: depth 25 with the 25 cues gives ans@3 0.917 (quotes 461/355), the
32 cues at depth 10 0.917 (but quotes of 491/381 characters, 3% longer). Abstention: AUC
0.951, answered 97.8%, refused 64.1%. Cost: 1.02 -> 1.22-1.31 ms a question in `quotebot
eval`, back to back on the same machine (the words of 25 sentences instead of 10;
analysis.fold was made about 2.5 times faster for it); 0.95 ms after the term tests became one
matrix and the word cues cheaper (bench/README.md).

Tried and not kept (ans@3 of all articles, weights fitted on even ones each time): cues
normalised within the list (a cue minus the list's best is a constant shift per list, which a
softmax ignores), a window x exact product, weights per question kind (at depth 10: 0.910 to
0.913, against 0.913), squares of the main cues (depth 20: no change); a second linear stage
over the best score of each candidate's paragraph (ans@1 +0.6 points, top-1 quotes 6%
longer); a pairwise (RankNet) or smoothed top-3 loss (depth 20: 0.918 with quotes 9% longer,
0.912, against 0.919); labels of the sentence alone, or of a run only when its neighbour is
in the quoted pool (no gain); the highest IDF the window lacks, whether a neighbour holds the
kind asked for, IDF-weighted exact words, the question's names in the sentence (each within
0.0005 at depth 25); depth 30 (0.918); candidates from more paragraphs (the best sentence of
each further paragraph until 6 or 8 are in: 0.913 at depth 10); first-stage neighbour_weight
0.15 or paragraph_terms 1.0 (better first-stage recall@10, no end-to-end gain); dropping
"kind of", "type of", "besides", "another", "happened" from questions like "how many", or
down-weighting the word after "what"/"which" (in the answer sentence 37% of the time against
63% for other question words): 0.912 to 0.913 at depth 10.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import accumulate, pairwise

import numpy as np

from bot.core.analysis import Analyzer, find_words, first_new_name, fold
from bot.core.corpus import Corpus
from bot.core.kinds import KINDS, KindTests
from bot.core.model import AnswerSettings

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
    "rank",       # log(1 + its place in context order)
    "exact",      # share of the question's words (unstemmed, no stopwords) in the sentence
    "rare",       # the sentence holds the question's highest-IDF term
    "novel",      # it holds a capitalised word or a number the question lacks (an answer?)
    "first",      # it opens its paragraph
    "position",   # log(1 + its place in its paragraph)
    "prev_top",   # the sentence before it (same paragraph) is in `pool`: the two make one quote
    "next_top",   # ... the sentence after it
    "what_novel", # no answer kind recognised ("what", "which") and "novel"
    "lead",       # share of the question's IDF mass in its paragraph's first sentence
    "para_bm25",  # BM25 of its paragraph as one text / the best candidate's (see below)
    "doc_bm25",   # ... of its document
    # Cues that weigh a candidate against the others of its list and its document:
    "local",      # share of the question's in-document IDF mass in the sentence (see below)
    "local_win",  # ... in the sentence or a neighbour of the same paragraph
    "win_bm25",   # BM25 of the sentence and its neighbours as one text / the best candidate's
    "para_rare",  # IDF mass of the terms it holds, each over the paragraph's sentences with it
    "votes",      # log(1 + other candidates of its paragraph)
    "para_sum",   # their context scores, summed ("context" units)
    "para_best",  # the best context score among its paragraph's candidates (itself included)
)
_SHARES = [FEATURES.index(f) for f in ("para_bm25", "doc_bm25", "win_bm25", "para_rare")]
# The engine quotes its best 2 x top_k + 2 candidates (12 in `quotebot eval`, which asks for
# 5): the pool a reranked sentence may share a quote with is the reranked ones and 2 more.
POOL_EXTRA = 2

# Digits in ASCII text: most sentences have none, and then no word of theirs is a number
# (NFKC folds other scripts' digits and superscripts to digits: non-ASCII text is searched).
_DIGIT = re.compile(r"\d")

# The paragraph and document scores: BM25 with the passages' IDF, a term's frequency being
# the number of the text's sentences that hold it (what the postings give without another
# index) and the length its terms; the usual k1 = 1.2 and b = 0.75 for long texts.
TEXT_K1, TEXT_B = 1.2, 0.75

# Fitted by bench/fit_rerank.py on even articles (see its output for the held-out figures).
WEIGHTS = np.array([
    +1.9675,  # context
    +0.0156,  # bm25
    -2.7199,  # sentence
    +0.5284,  # window
    -1.2323,  # paragraph
    +2.0938,  # title
    +0.8574,  # pairs
    -0.0643,  # density
    -0.6392,  # length
    +2.0601,  # date
    +1.8368,  # number
    +0.6137,  # name
    +0.9403,  # place
    +0.0674,  # rank
    +3.2394,  # exact
    +0.7073,  # rare
    -0.3356,  # novel
    -0.8350,  # first
    -0.3947,  # position
    -0.0848,  # prev_top
    -0.3002,  # next_top
    +0.3131,  # what_novel
    +1.3787,  # lead
    +3.0530,  # para_bm25
    +3.0342,  # doc_bm25
    +1.6132,  # local
    +2.4590,  # local_win
    +1.3134,  # win_bm25
    +1.7778,  # para_rare
    -0.2398,  # votes
    +0.0594,  # para_sum
    +1.8592,  # para_best
])


class Reranker:
    """The stage: reorders the best `rerank` candidates of the first stage."""

    def __init__(
        self, corpus: Corpus, analyzer: Analyzer, settings: AnswerSettings, kinds: KindTests,
        titles: Mapping[str, np.ndarray],
    ) -> None:
        self.corpus, self.analyzer, self.settings = corpus, analyzer, settings
        self.kinds, self.titles = kinds, titles

    def features(
        self, question: str, query: Mapping[str, float], ids: np.ndarray, bm25: np.ndarray,
        context: np.ndarray, pool: np.ndarray | None = None,
    ) -> np.ndarray:
        """The feature matrix of candidates ids (see features())."""
        return features(self.corpus, self.analyzer, question, query, ids, bm25, context,
                        *self.kinds.test(question), self.titles, pool)

    def reorder(
        self, question: str, query: Mapping[str, float], ids: np.ndarray, bm25: np.ndarray,
        context: np.ndarray,
    ) -> np.ndarray | None:
        """The order the linear score gives the best `rerank` of candidates ids (best first
        by context), as their positions; None when there is nothing to reorder."""
        m = min(self.settings.rerank, len(ids))
        if m < 2:
            return None
        x = self.features(question, query, ids[:m], bm25[:m], context[:m], ids[: m + POOL_EXTRA])
        return order(x)


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
    pool: np.ndarray | None = None,
) -> np.ndarray:
    """The feature matrix (len(ids) x len(FEATURES)) of candidates ids, best first by
    context, whose own BM25 and context scores are bm25 and context. kind is what the
    question asks for (kinds.question_kind) and holds_kind tests a text for it; titles
    maps a term to the documents whose label holds it (ascending); pool holds the candidates
    that may be quoted with them (default ids): a neighbour in it joins the same quote."""
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
    # The same tests, false for the corpus's first and last passages (the clamped neighbours
    # above are the passage itself there).
    has_before, has_after = p.same_para[ids], p.same_para[ids + 1]
    docs = p.doc[ids]
    lead = p.para_start[wanted]
    # One binary search a term for every test, its rows one term each: the sentence, its
    # neighbours, the first passage of its paragraph (paragraph j is passages
    # para_start[j]:para_start[j + 1]), the paragraph's end, and its document's first and end
    # passages. A needle is found where the posting at its position equals it (clipped at the
    # end: a needle past the last posting is never equal to it). Every cue is then a product
    # over the rows: a few array operations a question, not a few a term.
    bounds = (lead, p.para_start[wanted + 1], p.doc_start[docs], p.doc_start[docs + 1])
    # (In the postings' type: searchsorted would otherwise convert every posting list.)
    needles = np.concatenate((ids, before, after, *bounds)).astype(index.doc_ids.dtype)
    terms = [(term, postings, qw) for term, qw in query.items()
             if len(postings := index.doc_ids_of(term))]
    pos = np.empty((len(terms), len(needles)), dtype=np.intp)
    found = np.empty(pos.shape, dtype=bool)
    for k, (_, postings, _) in enumerate(terms):
        pos[k] = postings.searchsorted(needles)
        np.equal(postings.take(pos[k], mode="clip"), needles, out=found[k])
    idf = np.array([index.term_idf(term) for term, _, _ in terms])
    weights = np.array([qw for _, _, qw in terms])
    mass = np.maximum(idf, 0.0) * weights
    inside = found[:, :n]
    joins_before, joins_after = found[:, n : 2 * n], found[:, 2 * n : 3 * n]
    near = inside | (same_before & joins_before) | (same_after & joins_after)
    in_para = pos[:, 4 * n : 5 * n] - pos[:, 3 * n : 4 * n]  # its postings in the paragraph
    in_doc = pos[:, 6 * n :] - pos[:, 5 * n : 6 * n]
    para_norm, doc_norm = _bm25_norms(corpus, *bounds)
    x[:, 2] = mass @ inside
    x[:, 3] = mass @ near
    x[:, 4] = mass @ (in_para > 0)
    if terms:
        x[:, 15] = inside[int(np.argmax(idf))]  # the first of the rarest terms
    x[:, 22] = mass @ found[:, 3 * n : 4 * n]
    x[:, 23] = mass @ (in_para / (in_para + para_norm))
    x[:, 24] = mass @ (in_doc / (in_doc + doc_norm))
    if titles is not None:
        for (term, _, _), m in zip(terms, mass.tolist(), strict=True):
            if term in titles:
                x[:, 5] += m * _contains(titles[term], docs)
    total = float(mass.sum())
    # A term in few of the document's sentences tells them apart; the article's topic, in
    # most of them, does not ("Panthers" in a Super Bowl article).
    doc_size = (bounds[3] - bounds[2]).astype(float)
    local = weights[:, None] * np.maximum(np.log((doc_size + 1) / (in_doc + 0.5)), 0.0)
    local_total = local.sum(axis=0)
    x[:, 25] = (local * inside).sum(axis=0)
    x[:, 26] = (local * near).sum(axis=0)
    held = inside + (has_before & joins_before).astype(float) + (has_after & joins_after)
    x[:, 27] = mass @ (held / (held + TEXT_K1))
    x[:, 28] = mass @ (inside / np.maximum(in_para, 1))
    if total > 0:
        x[:, 2:6] /= total
        x[:, 22] /= total
    has_local = local_total > 0
    x[:, 25:27] = np.where(has_local[:, None], x[:, 25:27], 0.0) / np.where(
        has_local, local_total, 1.0)[:, None]
    # Each as a share of the list's best (none is negative; a column of zeros stays so).
    best = x[:, _SHARES].max(axis=0, initial=0.0)
    x[:, _SHARES] /= np.where(best > 0, best, 1.0)
    x[:, 13] = np.log1p(np.arange(n))
    x[:, 17] = ~has_before
    x[:, 18] = np.log1p(ids - lead)
    quoted = np.sort(ids if pool is None else pool)
    x[:, 19] = has_before & _contains(quoted, ids - 1)
    x[:, 20] = has_after & _contains(quoted, ids + 1)
    shared = wanted[:, None] == wanted[None, :]
    x[:, 29] = np.log(shared.sum(axis=1))
    in_para_context = np.where(shared, x[None, :, 0], 0.0)
    x[:, 30] = in_para_context.sum(axis=1) - x[:, 0]
    x[:, 31] = in_para_context.max(axis=1, initial=0.0)
    x[:, 8] = np.log1p(index.doc_len[ids])
    _word_features(x, corpus, analyzer, question, ids, kind, holds_kind)
    return x


def _word_features(
    x: np.ndarray,
    corpus: Corpus,
    analyzer: Analyzer,
    question: str,
    ids: np.ndarray,
    kind: str | None,
    holds_kind: Callable[[str], bool] | None,
) -> None:
    """The cues read from the candidates' words: word pairs, density, exact words, the kind
    asked for and novelty. Taken over folded words, not terms: tokenising the candidates into
    stemmed terms costs more than the rest of the answer path."""
    stop = analyzer.stopwords
    asked = analyzer.words(question)
    asked_set = {w for w in asked if w not in stop}
    asked_all = set(asked)
    pairs = {(a, b) for a, b in pairwise(asked)
             if a != b and a not in stop and b not in stop}
    kind_column = 9 + KINDS.index(kind) if kind in KINDS and holds_kind is not None else None
    p, documents = corpus.passages, corpus.documents
    spans = zip(p.doc[ids].tolist(), p.start[ids].tolist(), p.end[ids].tolist(), strict=True)
    texts = [documents[d].text[start:end] for d, start, end in spans]
    # Digits and names are looked for in the texts joined (neither runs across the NUL
    # between two): one search a text that has one, and none for the many that have not.
    joined = "\x00".join(texts)
    starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    digits = (_texts_with(lambda pos: (m.start() if (m := _DIGIT.search(joined, pos)) else None),
                          joined, starts)
              if any(d in joined for d in "0123456789") else set())  # (substring tests: fast)
    names = _texts_with(lambda pos: first_new_name(joined, asked_all, pos), joined, starts)
    rows = []  # (pairs, density, holds kind, exact, novel) a candidate
    for i, text in enumerate(texts):
        words = find_words(fold(text))
        hits = asked_set.intersection(words)
        pair_share = density = exact = 0.0
        if hits:
            exact = len(hits) / len(asked_set)
            # The span from the first to the last question word (a pair needs two of them).
            backwards = words[::-1]
            first = min(map(words.index, hits))
            last = len(words) - min(map(backwards.index, hits))
            density = min(1.0, len(hits) / (last - first))
            if pairs and len(hits) > 1:
                pair_share = len(pairs.intersection(pairwise(words))) / len(pairs)
        novel = i in names or ((i in digits or not text.isascii())
                               and any(w[0].isdigit() and w not in asked_all for w in words))
        rows.append((pair_share, density, kind_column is not None and holds_kind(text), exact,
                     novel))
    if rows:
        cues = np.array(rows, dtype=np.float64)
        x[:, 6], x[:, 7], x[:, 14], x[:, 16] = cues[:, 0], cues[:, 1], cues[:, 3], cues[:, 4]
        if kind_column is not None:
            x[:, kind_column] = cues[:, 2]
        if kind is None:
            x[:, 21] = cues[:, 4]


def _texts_with(
    first: Callable[[int], int | None], joined: str, starts: list[int]
) -> set[int]:
    """The numbers of the texts (text i of joined starting at starts[i]) in which first(pos),
    where something is found at or after pos, finds something: after a find, the search goes
    on from the next text."""
    out: set[int] = set()
    pos = 0
    while (at := first(pos)) is not None:
        i = bisect_right(starts, at) - 1
        out.add(i)
        if i + 1 == len(starts):
            break
        pos = starts[i + 1]
    return out


def _bm25_norms(
    corpus: Corpus, para_start: np.ndarray, para_stop: np.ndarray, doc_start: np.ndarray,
    doc_stop: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """BM25's k1 * (1 - b + b * length / mean length) of the paragraphs and the documents that
    are passages para_start:para_stop and doc_start:doc_stop (the (k1 + 1) factor is left
    out: the scores are divided by the best)."""
    p, prefix = corpus.passages, corpus.index.length_prefix
    total = float(prefix[-1]) or 1.0
    para_len = prefix[para_stop] - prefix[para_start]
    doc_len = prefix[doc_stop] - prefix[doc_start]
    k1, b = TEXT_K1, TEXT_B
    return (k1 * (1 - b + b * para_len * (p.n_paragraphs / total)),
            k1 * (1 - b + b * doc_len * (max(p.used_docs, 1) / total)))


def order(x: np.ndarray, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """Positions of the candidates whose features are x, best first by the linear score (ties
    keep the given order)."""
    return np.argsort(-(x @ weights), kind="stable")


def _contains(sorted_values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of wanted is in the ascending array sorted_values."""
    pos = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return sorted_values[pos] == wanted
