"""The reranker's cues, by name: for each of the first stage's best candidates, how much of
the question the sentence, its neighbours, its paragraph, its document and its title hold,
word pairs kept in order, whether it holds the kind of thing asked for, where it stands, and
how its paragraph fares in the list (the cues read from its words: bot/core/wordcues.py).
FEATURES names them; matrix() is the one place a name becomes a column."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus, PassageTexts
from bot.core.paraphrase import ParaphraseCue
from bot.core.wordcues import word_cues

# Every cue by name: the order of the feature matrix's columns (see matrix()); each is 0..1
# or a small log count.
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
    "para_bm25",  # BM25 of its paragraph as one text / the best candidate's (see _bm25_norms)
    "doc_bm25",   # ... of its document
    # Cues that weigh a candidate against the others of its list and its document:
    "local",      # share of the question's in-document IDF mass in the sentence
    "local_win",  # ... in the sentence or a neighbour of the same paragraph
    "win_bm25",   # BM25 of the sentence and its neighbours as one text / the best candidate's
    "para_rare",  # IDF mass of the terms it holds, each over the paragraph's sentences with it
    "votes",      # log(1 + other candidates of its paragraph)
    "para_sum",   # their context scores, summed ("context" units)
    "para_best",  # the best context score among its paragraph's candidates (itself included)
    "found_at",   # how far into it the first of the question's words is (see wordcues)
    "paraphrase", # share of the question's IDF mass it lacks but says in other words
)
# Divided by the list's best (none is negative; a column of zeros stays so).
_SHARES = ("para_bm25", "doc_bm25", "win_bm25", "para_rare")
# The paragraph and document scores: BM25 with the passages' IDF, a term's frequency being
# the number of the text's sentences that hold it (what the postings give without another
# index) and the length its terms; the usual k1 = 1.2 and b = 0.75 for long texts.
TEXT_K1, TEXT_B = 1.2, 0.75

Cues = dict[str, np.ndarray]  # feature name -> its value for each candidate


def matrix(cues: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The feature matrix (n x len(FEATURES)) of named cues: the one place a name becomes a
    column. A cue not given is 0 (the kind cues of a question asking for another kind)."""
    x = np.zeros((n, len(FEATURES)))
    for column, name in enumerate(FEATURES):
        if name in cues:
            x[:, column] = cues[name]
    return x


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
    compiled: ModuleType | None = None,
    texts: PassageTexts | None = None,
    paraphrase: ParaphraseCue | None = None,
) -> np.ndarray:
    """The feature matrix (len(ids) x len(FEATURES)) of candidates ids, best first by
    context, whose own BM25 and context scores are bm25 and context. kind is what the
    question asks for (kinds.question_kind) and holds_kind tests a text for it; titles maps
    a term to the documents whose label holds it (ascending); pool holds the candidates that
    may be quoted with them (default ids): a neighbour in it joins the same quote. compiled,
    the loaded kernels (bot/core/kernels.py) or None, computes the term cues in one call.
    texts reads the candidates' texts (the answer's own, shared with its quotes);
    paraphrase computes the cue of that name (bot/core/paraphrase.py; None: the cue is 0)."""
    n = len(ids)
    around = _Around.of(corpus, ids)
    cues = _score_cues(bm25, context)
    if compiled is None:
        cues |= _term_cues(corpus, query, around, titles)
    else:
        cues |= _compiled_term_cues(compiled, corpus, query, around, titles)
    cues |= _place_cues(corpus, around, pool)
    cues |= _list_cues(around, cues["context"])
    read = (PassageTexts(corpus) if texts is None else texts).of(ids)
    cues |= word_cues(read, analyzer, question, kind, holds_kind,
                      None if compiled is None else compiled.word_cues)
    if paraphrase is not None:
        cues["paraphrase"] = paraphrase(question, ids, around.lead, around.para_stop)
    return matrix(cues, n)


def _score_cues(bm25: np.ndarray, context: np.ndarray) -> Cues:
    n = len(bm25)
    top = float(bm25.max()) if n else 0.0
    return {
        "context": context / context[0] if n and context[0] > 0 else np.zeros(n),
        "bm25": bm25 / top if top > 0 else np.zeros(n),
    }


@dataclass(frozen=True)
class _Around:
    """Where each candidate stands: its neighbours, paragraph and document."""

    ids: np.ndarray
    before: np.ndarray  # the passage before (the passage itself at the corpus's start)
    after: np.ndarray  # ... after
    same_before: np.ndarray  # whether that passage is in its paragraph
    same_after: np.ndarray
    # The same tests, false for the corpus's first and last passages.
    has_before: np.ndarray
    has_after: np.ndarray
    para: np.ndarray  # its paragraph
    docs: np.ndarray  # its document
    # Passages lead:para_stop are its paragraph, doc_start:doc_stop its document.
    lead: np.ndarray
    para_stop: np.ndarray
    doc_start: np.ndarray
    doc_stop: np.ndarray

    @classmethod
    def of(cls, corpus: Corpus, ids: np.ndarray) -> _Around:
        p = corpus.passages
        para = p.para_id[ids]
        before = np.maximum(ids - 1, 0)
        after = np.minimum(ids + 1, len(p) - 1)
        docs = p.doc[ids]
        return cls(ids, before, after, p.para_id[before] == para, p.para_id[after] == para,
                   p.same_para[ids], p.same_para[ids + 1], para, docs, p.para_start[para],
                   p.para_start[para + 1], p.doc_start[docs], p.doc_start[docs + 1])


@dataclass(frozen=True)
class _Searches:
    """One binary search a question term (a row each) for every needle: the candidates,
    their neighbours before and after, their paragraphs' first passages (paragraph j is
    passages para_start[j]:para_start[j + 1]) and ends, and their documents' first and end
    passages. A needle is found where the posting at its position equals it (clipped at the
    end: a needle past the last posting is never equal to it). Every cue is then a product
    over the rows: a few array operations a question, not a few a term."""

    terms: list[str]
    idf: np.ndarray
    weights: np.ndarray  # the terms' query weights
    pos: np.ndarray  # (terms x 7n) positions of the needles in each posting list
    found: np.ndarray  # (terms x 7n) whether each needle is a posting

    @classmethod
    def of(cls, corpus: Corpus, query: Mapping[str, float], at: _Around) -> _Searches:
        index = corpus.index
        bounds = (at.lead, at.para_stop, at.doc_start, at.doc_stop)
        # (In the postings' type: searchsorted would otherwise convert every posting list.)
        needles = np.concatenate((at.ids, at.before, at.after, *bounds)).astype(
            index.doc_ids.dtype)
        terms = [(term, postings, qw) for term, qw in query.items()
                 if len(postings := index.doc_ids_of(term))]
        pos = np.empty((len(terms), len(needles)), dtype=np.intp)
        found = np.empty(pos.shape, dtype=bool)
        for k, (_, postings, _) in enumerate(terms):
            pos[k] = postings.searchsorted(needles)
            np.equal(postings.take(pos[k], mode="clip"), needles, out=found[k])
        idf = np.array([index.term_idf(term) for term, _, _ in terms])
        weights = np.array([qw for _, _, qw in terms])
        return cls([t for t, _, _ in terms], idf, weights, pos, found)

    def part(self, which: int, of: np.ndarray) -> np.ndarray:
        """Rows of needle group `which` (0 ids, 1 before, 2 after, 3 paragraph start, ...)."""
        n = self.pos.shape[1] // 7
        return of[:, which * n : (which + 1) * n]


def _term_cues(
    corpus: Corpus, query: Mapping[str, float], at: _Around,
    titles: Mapping[str, np.ndarray] | None,
) -> Cues:
    """The cues of which question terms a candidate, its window, paragraph and document
    hold, from the postings' binary searches."""
    s = _Searches.of(corpus, query, at)
    mass = np.maximum(s.idf, 0.0) * s.weights
    inside = s.part(0, s.found)
    joins_before, joins_after = s.part(1, s.found), s.part(2, s.found)
    near = inside | (at.same_before & joins_before) | (at.same_after & joins_after)
    in_para = s.part(4, s.pos) - s.part(3, s.pos)  # its postings in the paragraph
    in_doc = s.part(6, s.pos) - s.part(5, s.pos)
    para_norm, doc_norm = _bm25_norms(corpus, at)
    cues = {"sentence": mass @ inside, "window": mass @ near, "paragraph": mass @ (in_para > 0),
            "lead": mass @ s.part(3, s.found),
            "para_bm25": mass @ (in_para / (in_para + para_norm)),
            "doc_bm25": mass @ (in_doc / (in_doc + doc_norm))}
    if s.terms:
        cues["rare"] = inside[int(np.argmax(s.idf))]  # the first of the rarest terms
    cues["title"] = _title_cue(s.terms, mass, at, titles)
    cues |= _local_cues(s.weights, inside, near, at, in_doc)
    held = inside + (at.has_before & joins_before).astype(float) + (at.has_after & joins_after)
    cues["win_bm25"] = mass @ (held / (held + TEXT_K1))
    cues["para_rare"] = mass @ (inside / np.maximum(in_para, 1))
    total = float(mass.sum())
    if total > 0:
        for name in ("sentence", "window", "paragraph", "title", "lead"):
            cues[name] /= total
    for name in _SHARES:
        best = cues[name].max(initial=0.0)
        cues[name] /= best if best > 0 else 1.0
    return cues


def _compiled_term_cues(
    compiled: ModuleType, corpus: Corpus, query: Mapping[str, float], at: _Around,
    titles: Mapping[str, np.ndarray] | None,
) -> Cues:
    """_term_cues's cues, the same to the last bit, from the compiled kernels
    (_kernels.term_searches and term_shares): two calls and two of numpy's (the products
    with the mass and the log, which they leave to numpy) where numpy makes about 80."""
    index = corpus.index
    terms, bounds = [], []
    for term in query:
        if (found := index.bounds(term))[0] < found[1]:
            terms.append(term)
            bounds.append(found)
    idf = np.array([index.term_idf(term) for term in terms])
    weights = np.array([query[term] for term in terms], dtype=np.float64)
    mass = np.maximum(idf, 0.0) * weights
    total = float(mass.sum())
    starts, stops = np.array(bounds, dtype=np.int64).reshape(-1, 2).T.copy()
    needles = np.concatenate((at.ids, at.before, at.after, at.lead, at.para_stop, at.doc_start,
                              at.doc_stop)).astype(np.int64, copy=False)
    arrays = compiled.term_searches(index.doc_ids, starts, stops, needles, at.same_before,
                                    at.same_after, at.has_before, at.has_after,
                                    *_bm25_norms(corpus, at))
    sums = np.empty((len(compiled.MASS_CUES) + 2, len(at.ids)))
    np.matmul(mass, arrays[:-1], out=sums[:-2])
    compiled.term_shares(sums, np.log(arrays[-1]), weights, arrays[0], arrays[1], total)
    cues = dict(zip((*compiled.MASS_CUES, "local", "local_win"), sums, strict=True))
    if terms:
        cues["rare"] = arrays[0, int(np.argmax(idf))]  # the first of the rarest terms
    cues["title"] = _title_cue(terms, mass, at, titles)
    if total > 0:
        cues["title"] /= total
    return cues


def _title_cue(
    terms: list[str], mass: np.ndarray, at: _Around, titles: Mapping[str, np.ndarray] | None
) -> np.ndarray:
    """The question's IDF mass (not yet divided by its total) in each candidate's label."""
    title = np.zeros(len(at.ids))
    if titles is not None:
        for term, m in zip(terms, mass.tolist(), strict=True):
            if term in titles:
                title += m * _contains(titles[term], at.docs)
    return title


def _local_cues(
    weights: np.ndarray, inside: np.ndarray, near: np.ndarray, at: _Around, in_doc: np.ndarray
) -> Cues:
    """The question's IDF mass counted with each term's rarity within the candidate's
    document: a term in most of its sentences, the article's topic ("Panthers" in a Super
    Bowl article), tells none of them apart."""
    doc_size = (at.doc_stop - at.doc_start).astype(float)
    local = weights[:, None] * np.maximum(np.log((doc_size + 1) / (in_doc + 0.5)), 0.0)
    local_total = local.sum(axis=0)
    has_local = local_total > 0
    share = np.where(has_local, local_total, 1.0)
    return {"local": np.where(has_local, (local * inside).sum(axis=0), 0.0) / share,
            "local_win": np.where(has_local, (local * near).sum(axis=0), 0.0) / share}


def _place_cues(corpus: Corpus, at: _Around, pool: np.ndarray | None) -> Cues:
    """Where a candidate stands in the list, its paragraph, and beside the quoted pool."""
    ids = at.ids
    quoted = np.sort(ids if pool is None else pool)
    return {
        "rank": np.log1p(np.arange(len(ids))),
        "first": ~at.has_before,
        "position": np.log1p(ids - at.lead),
        "prev_top": at.has_before & _contains(quoted, ids - 1),
        "next_top": at.has_after & _contains(quoted, ids + 1),
        "length": np.log1p(corpus.index.doc_len[ids]),
    }


def _list_cues(at: _Around, context: np.ndarray) -> Cues:
    """How the candidate's paragraph fares in the list: its other candidates, their context
    scores summed, and the best."""
    shared = at.para[:, None] == at.para[None, :]
    in_para_context = np.where(shared, context[None, :], 0.0)
    return {
        "votes": np.log(shared.sum(axis=1)),
        "para_sum": in_para_context.sum(axis=1) - context,
        "para_best": in_para_context.max(axis=1, initial=0.0),
    }


def _bm25_norms(corpus: Corpus, at: _Around) -> tuple[np.ndarray, np.ndarray]:
    """BM25's k1 * (1 - b + b * length / mean length) of the candidates' paragraphs and
    documents (the (k1 + 1) factor is left out: the scores are divided by the best)."""
    p, prefix = corpus.passages, corpus.index.length_prefix
    total = float(prefix[-1]) or 1.0
    para_len = prefix[at.para_stop] - prefix[at.lead]
    doc_len = prefix[at.doc_stop] - prefix[at.doc_start]
    k1, b = TEXT_K1, TEXT_B
    return (k1 * (1 - b + b * para_len * (p.n_paragraphs / total)),
            k1 * (1 - b + b * doc_len * (max(p.used_docs, 1) / total)))


def _contains(sorted_values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of wanted is in the ascending array sorted_values."""
    pos = np.minimum(np.searchsorted(sorted_values, wanted), len(sorted_values) - 1)
    return sorted_values[pos] == wanted
