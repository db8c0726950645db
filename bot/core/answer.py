"""Question in, verbatim quotes out (or an abstention). No free text is ever produced here.

Every Quote's text is ``document.text[start:end]``: a sentence or a run of consecutive
sentences of one paragraph, sliced from the document as loaded.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bot.core import rerank
from bot.core.analysis import DEFAULT_ANALYZER, Analyzer, has_new_name
from bot.core.corpus import Corpus
from bot.core.documents import Document
from bot.core.spelling import NearSpellings

log = logging.getLogger(__name__)

# Why an Answer has no quotes. These are codes, not text: the shell picks the fixed phrase.
NO_TERMS = "no_terms"  # nothing searchable in the question ("what is it?")
NO_MATCH = "no_match"  # nothing in the documents scores above the threshold


@dataclass(frozen=True)
class RetrievalSettings:
    """Every knob of retrieval and answering; config/bot.yaml `retrieval:` sets any of them."""

    # Tuned on SQuAD v1.1 dev, even articles (`quotebot eval`): sentences are short, so term
    # frequency saturates early.
    k1: float = 0.6
    b: float = 0.75
    epsilon: float = 0.25
    top_k: int = 3
    # Minimum confidence (0..1, see Engine.confidence) of the best quote for an answer.
    threshold: float = 0.4
    # A sentence's score adds: this share of each neighbouring sentence's BM25 score; and,
    # in IDF units, the question terms found anywhere in its paragraph and in its document's
    # label (title), each times its weight here.
    neighbour_weight: float = 0.3
    paragraph_terms: float = 1.5
    title_terms: float = 1.0
    # The best `type_candidates` sentences that hold what the question asks for (a date for
    # "when", a number for "how many", a name for "who") score this share more.
    type_weight: float = 0.1
    type_candidates: int = 20
    # A quote from a document not yet quoted is preferred while its score is at least this
    # share of the best remaining quote's, and it holds this share of the question
    # (Engine.confidence).
    diversity: float = 0.75
    diversity_coverage: float = 0.8
    candidates: int = 200
    # A term in more passages than this, or than 0.2% of them where that is more (a common
    # word of a large corpus), is scored only in and around the passages a rarer question
    # term matched, when one did (Engine._score); 0 scores every term everywhere. SQuAD's
    # most widespread term is in 543 sentences. Against full scoring, over 400 synthetic
    # questions: at 100k passages (limit 1,000) 398 top quotes and 388 whole answers the
    # same (2,000: 398 and 391), at 1M (limit 2,000) 397 and 385; no refusal either way.
    common_postings: int = 1_000
    # Two sentences whose term sets have at least this Jaccard similarity are one quote.
    duplicate: float = 0.9
    # Near spellings of a rare question term (in at most max(spelling_rare, 0.1% of the
    # passages)) are searched too, at this share of its weight; 0 turns this off.
    spelling_weight: float = 0.7
    spelling_rare: int = 10
    # The best this many candidates are reordered by bot/core/rerank.py's fitted linear
    # score (features and weights there, fitted at this depth); 0 turns it off.
    rerank: int = 25


@dataclass(frozen=True)
class Source:
    collection: str
    document: str
    label: str


@dataclass(frozen=True)
class Quote:
    text: str
    document: str  # path relative to the corpus folder
    label: str
    paragraph: int
    start: int
    end: int
    score: float
    collection: str = ""
    also: tuple[Source, ...] = ()  # other documents with the same sentence

    def to_json(self) -> dict:
        out = {
            "text": self.text,
            "document": self.document,
            "label": self.label,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
        }
        if self.also:
            out["also"] = [asdict(s) for s in self.also]
        return out


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    reason: str | None = None  # NO_TERMS or NO_MATCH when not answered
    confidence: float = 0.0
    more: bool = False  # further quotes exist past these (for a "More" button)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "quotes": [q.to_json() for q in self.quotes],
        }


class Engine:
    """The search engine over a fixed set of documents. Immutable once built: a reload builds a
    new Engine and swaps it in, so questions never see half an index."""

    def __init__(
        self,
        documents: Sequence[Document] | Corpus,
        settings: RetrievalSettings | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        analyzer: Analyzer = DEFAULT_ANALYZER,
    ) -> None:
        """Search documents (building their index), or an already built or loaded Corpus."""
        self.settings = s = settings or RetrievalSettings()
        self.analyzer = analyzer
        if not isinstance(documents, Corpus):
            documents = Corpus.build(documents, analyzer, k1=s.k1, b=s.b, epsilon=s.epsilon)
        self.corpus = documents
        self.documents = documents.documents
        self.collections = documents.collections
        self.passages = documents.passages
        self.index = documents.index
        self.aliases = _alias_groups(aliases or {}, analyzer)
        self._titles = _title_index(self.documents, analyzer)
        self._spellings = NearSpellings(self.index.vocab, table=documents.deletions)
        self._terms_by_id = list(self.index.vocab)  # (ids are in insertion order)
        self._beside = s.neighbour_weight * self.passages.same_para  # see _context
        self._local = threading.local()

    # --- public API ----------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        offset: int = 0,
        collections: Collection[str] | None = None,
    ) -> Answer:
        """Up to top_k quotes for question (after skipping `offset` quotes, for "More"), drawn
        only from the named collections (None: all)."""
        top_k = top_k or self.settings.top_k
        exact = self.query_terms(question, near=False)
        near = self._near_groups(exact)
        query = dict(exact)
        for term, others in near.items():
            for other in others:
                query.setdefault(other, exact[term] * self.settings.spelling_weight)
        if not query:
            return Answer(question, False, reason=NO_TERMS)
        ids, bm25, scores = self._scored_candidates(query, collections, question)
        if not len(ids):
            return Answer(question, False, reason=NO_MATCH)
        # The confidence of every passage that could be promoted for diversity, best first,
        # and of each the reranker could put first: when none of those reaches the
        # threshold, the answer is a refusal whatever the order, and the reranker is spared.
        # (The refusal then reports the best of them.)
        close = max(1, int(np.searchsorted(-scores, -scores[0] * self.settings.diversity,
                                           side="right")))
        m = min(self.settings.rerank, len(ids))
        cover = self.confidence(exact, ids[: max(close, m)], near)
        best = float(cover[: max(m, 1)].max())
        if best < self.settings.threshold:
            return Answer(question, False, reason=NO_MATCH, confidence=best)
        order = self._rerank_order(question, query, ids, bm25, scores)
        if order is not None:
            ids = np.concatenate((ids[order], ids[len(order) :]))
            cover = np.concatenate((cover[order], cover[len(order) :]))
        confidence = float(cover[0])
        if confidence < self.settings.threshold:
            return Answer(question, False, reason=NO_MATCH, confidence=confidence)
        cover = cover[:close]
        picked = self._select(ids, scores, cover, 2 * (offset + top_k) + 2)
        vocab = self.index.vocab
        asked = frozenset(query).union(vocab[t] for t in query if t in vocab)
        quotes = self._quotes(picked, asked)
        more = len(quotes) > offset + top_k
        return Answer(
            question, True, tuple(quotes[offset : offset + top_k]), None, confidence, more
        )

    def query_terms(self, question: str, near: bool = True) -> dict[str, float]:
        """Question terms with their weights (a repeated term counts again, as in BM25Okapi);
        moderator aliases add the other spellings at full weight, near spellings of a rare
        term (unless near=False) at spelling_weight of its weight."""
        terms = self.analyzer.terms(_QUESTION_PHRASES.sub(" ", question))
        weights: dict[str, float] = dict(Counter(terms))
        for term in list(weights):
            for other in self.aliases.get(term, ()):
                weights.setdefault(other, weights[term])
        if near:
            for term, others in self._near_groups(weights).items():
                for other in others:
                    weights.setdefault(other, weights[term] * self.settings.spelling_weight)
        return weights

    def _near_groups(self, query: Mapping[str, float]) -> dict[str, list[str]]:
        """Corpus terms spelled nearly as each question term (see bot/core/spelling.py) that
        is rare in the corpus or absent: "Seversk" also finds "Siversk". A common term is
        left alone, since its near spellings are most often other words ("sever",
        "severe")."""
        if not self.settings.spelling_weight:
            return {}
        rare = max(self.settings.spelling_rare, self.index.n_docs // 1000)
        vocab, table = self.index.vocab, self.corpus.near
        out: dict[str, list[str]] = {}
        unknown = []  # terms the index lacks are looked up; the others' are in the table
        for term in query:
            if term not in vocab:
                unknown.append(term)
            elif self.index.df(term) > rare:
                continue
            elif (near := table.lookup(vocab[term])) is None:
                unknown.append(term)
            elif near:
                out[term] = [self._terms_by_id[i] for i in near]
        for term, near in self._spellings.lookup_many(unknown).items():
            out[term] = [other for other, _ in near]
        return {t: out[t] for t in query if t in out}

    def confidence(
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
        n = self.index.n_docs
        ceiling = np.log(n + 0.5) - np.log(1.5) if n else 1.0
        p, index, share = self.passages, self.index, self.settings.spelling_weight
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
        mass: list[float] = []
        rows: list[tuple[int, float, np.ndarray]] = []
        for k, (term, qw) in enumerate(query.items()):
            postings = index.doc_ids_of(term)
            mass.append((max(index.term_idf(term), 0.0) if len(postings) else ceiling) * qw)
            if len(postings):
                rows.append((k, 1.0, postings))
            for other in (near or {}).get(term, ()):
                if len(more := index.doc_ids_of(other)):
                    rows.append((k, share, more))
        total = sum(mass)
        found = np.zeros(len(ids))
        if rows and len(ids):
            hit = np.empty((len(rows), len(needles)))
            for r, (_, weight, postings) in enumerate(rows):
                pos = postings.searchsorted(needles)
                at = postings.take(pos, mode="clip")
                hit[r, : len(ids)] = at[: len(ids)] == ids
                hit[r, len(ids) :] = (pos[len(ids) :] < len(postings)) & (at[len(ids) :] < stop)
                if weight != 1.0:
                    hit[r] *= weight
            owner = [k for k, _, _ in rows]
            first = [r for r, k in enumerate(owner) if r == 0 or k != owner[r - 1]]
            best = np.maximum.reduceat(hit, first, axis=0)
            best = best[:, : len(ids)] + best[:, len(ids) :]
            found = (0.5 * np.array([mass[owner[r]] for r in first])) @ best
        return found / total if total > 0 else found

    def paragraph(self, collection: str, document: str, number: int) -> Quote | None:
        """The whole paragraph `number` of a document, as a quote (for "Context")."""
        for doc in self.documents:
            if (doc.collection, doc.rel) == (collection, document) and (
                1 <= number <= len(doc.paragraphs)
            ):
                span = doc.paragraphs[number - 1]
                return Quote(
                    doc.text[span.start : span.end], doc.rel, doc.label, number,
                    span.start, span.end, 0.0, doc.collection,
                )
        return None

    def sources(self, collections: Collection[str] | None = None) -> list[Document]:
        return [d for d in self.documents if collections is None or d.collection in collections]

    # --- internals -----------------------------------------------------------------------

    def _rerank_order(
        self, question: str, query: dict[str, float], ids: np.ndarray, bm25: np.ndarray,
        context: np.ndarray,
    ) -> np.ndarray | None:
        """The order bot/core/rerank.py gives the best `rerank` of candidates ids (best first
        by context), as their positions; None when there is nothing to reorder."""
        m = min(self.settings.rerank, len(ids))
        if m < 2:
            return None
        x = rerank.features(self.corpus, self.analyzer, question, query, ids[:m], bm25[:m],
                            context[:m], *self._kind_test(question), self._titles,
                            ids[: m + rerank.POOL_EXTRA])
        return rerank.order(x)

    def _scored_candidates(
        self, query: dict[str, float], collections: Collection[str] | None, question: str = ""
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, BM25 scores, context scores) of the best `candidates`, best first by context."""
        allowed = None
        if collections is not None:
            allowed = np.array([c in collections for c in self.collections], dtype=bool)
        ids, scores, context = self._score(query, allowed)
        if not len(ids):
            return ids, scores, context
        top = _best(ids, context, min(self.settings.candidates, len(ids)))
        ids, scores, context = ids[top], scores[top], context[top]
        context = self._answer_type(question, ids, context)
        order = np.lexsort((ids, -context))
        return ids[order], scores[order], context[order]

    def _kind_test(self, question: str) -> tuple[str | None, Callable[[str], bool]]:
        """The kind of answer question asks for, and a test of whether a text holds one. The
        first stage and the reranker test mostly the same sentences: the test remembers its
        answers, and the last question's test is kept (one a thread) for the second asker."""
        last = getattr(self._local, "kind_test", None)
        if last is not None and last[0] == question:
            return last[1]
        kind = _question_kind(question)
        asked = set(self.analyzer.words(question))
        seen: dict[str, bool] = {}

        def holds_kind(text: str) -> bool:
            if text not in seen:
                seen[text] = kind is not None and _has_kind(kind, text, asked)
            return seen[text]

        self._local.kind_test = (question, (kind, holds_kind))
        return kind, holds_kind

    def _score(
        self, query: dict[str, float], allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(passage ids, BM25 scores, context-weighted scores), in no particular order, of the
        passages that match a question term or neighbour one, in the collections allowed
        (None: all); when a term not common (see common_postings) matched, of those that
        match one such term (see _score_around). Those that cannot be among the best
        `candidates` may be left out.

        The context score adds to a sentence's BM25 score a share of its neighbours' and, in
        IDF units, the question terms found anywhere in its paragraph, its document, and its
        document's label: a SQuAD question names the article's topic ("Super Bowl 50") once,
        while the sentence that answers it says only "the game".

        Scores are summed in dense per-thread buffers (one slot a passage, one a paragraph)
        rather than by sorting and searching the matches: a question of common words matches
        tens of thousands of passages in a large corpus, and every sort or binary search over
        them costs milliseconds. Sums are taken term by term in query order (the common terms
        last), so the floats do not depend on how many passages match."""
        s, p, index = self.settings, self.passages, self.index
        buf = self._buffers()
        # Passage i is slot i + 1 of buf.scores, so that i - 1 and i + 1 are slots too.
        scores_at = buf.scores[1:-1]
        hits: list[np.ndarray] = []
        touched: list[np.ndarray] = []  # passages written to but not matched
        paras: list[np.ndarray] = []
        # (None when no question term is in a label: it would add only zeros.)
        title = (np.zeros(len(self.documents))
                 if s.title_terms and any(t in self._titles for t in query) else None)
        common = {}
        if s.common_postings:
            limit = max(s.common_postings, index.n_docs // 500)
            common = {t: qw for t, qw in query.items() if index.df(t) > limit}
            if len(common) == len(query):
                common = {}  # nothing rarer to look around
        try:
            for term, qw in query.items():
                if term in common:
                    continue
                ids, w, idf = index.raw_postings(term)
                if not len(ids):
                    continue
                hits.append(ids)
                # w * idf is a fresh array: scale it in place, and not at all for the usual
                # weight 1, rather than allocate another posting list.
                w = w * idf
                if qw != 1:
                    w *= qw
                scores_at[ids] += w
                mass = max(idf, 0.0) * qw
                if s.paragraph_terms:
                    # A paragraph listed twice gets the mass once: every write is the same sum.
                    para = p.para_id[ids]
                    buf.paragraphs[para] += mass
                    paras.append(para)
                if title is not None and term in self._titles:
                    title[self._titles[term]] += mass
            if not hits:
                return _NO_DOCS, np.zeros(0), np.zeros(0)
            ids = (hits[0] if len(hits) == 1
                   else _distinct_sorted(np.sort(np.concatenate(hits))))
            ids = ids.astype(np.int64)
            if allowed is not None:
                ids = ids[allowed[p.collection[ids]]]
            if common and len(ids):
                self._score_around(ids, common, buf, title, touched, paras)
            if s.neighbour_weight and len(ids):
                ids = self._with_neighbours(ids, buf, title)
            scores, context = self._context(ids, buf, title)
            return ids, scores, context
        finally:
            for hit in (*hits, *touched):
                scores_at[hit] = 0.0
            for para in paras:
                buf.paragraphs[para] = 0.0

    def _score_around(
        self,
        ids: np.ndarray,
        common: dict[str, float],
        buf: _Buffers,
        title: np.ndarray | None,
        touched: list[np.ndarray],
        paras: list[np.ndarray],
    ) -> None:
        """Add the common terms' BM25 scores to passages ids and the two on either side (all
        a matched passage's or its neighbours' context scores read), and their IDF mass to
        the paragraphs of ids, by binary searches into their postings rather than a scatter
        over all of them.

        At a million passages a common word has up to 85k postings; writing each into the
        dense buffers costs a cache miss, and was most of the slowest questions' time (5 ms
        for the scatter and 4 ms for the context of 85k passages). A passage that matches
        only common words is thereby never a candidate when a rarer term matched somewhere:
        the best answers hold the rarer terms, and such passages filled only the tail of the
        candidates. bench/README.md gives how often the answers of a 1M corpus differ."""
        p, index, s = self.passages, self.index, self.settings
        scores_at = buf.scores[1:-1]
        near = para = None  # computed when a term is searched for them
        for term, qw in common.items():
            postings, weights, idf = index.raw_postings(term)
            mass = max(idf, 0.0) * qw
            # Writing costs less than searching when the rarer terms matched widely: then
            # every posting is written, and what lands outside ids and their paragraphs is
            # read by nothing and cleared with them. (ids and the two passages either side
            # are at most 5 len(ids); their paragraphs at most len(ids).)
            if 8 * 5 * len(ids) > len(postings):
                scores_at[postings] += weights * idf * qw
                touched.append(postings)
            else:
                if near is None:
                    near = _distinct_sorted(np.sort(np.concatenate(
                        [ids + shift for shift in (-2, -1, 0, 1, 2)])))
                    # (In the postings' type: searchsorted would otherwise convert them.)
                    near = near[(near >= 0) & (near < len(p))].astype(index.doc_ids.dtype)
                    touched.append(near)
                pos = np.searchsorted(postings, near)
                at = np.minimum(pos, len(postings) - 1)
                found = postings[at] == near
                scores_at[near[found]] += weights[at[found]] * idf * qw
            if s.paragraph_terms and 8 * len(ids) > len(postings):
                # (A paragraph listed twice gets the mass once: every write is the same sum.)
                written = p.para_id[postings]
                buf.paragraphs[written] += mass
                paras.append(written)
            elif s.paragraph_terms:
                if para is None:
                    para = _distinct_sorted(p.para_id[ids])  # ascending, as ids are
                    first = p.para_start[para].astype(index.doc_ids.dtype)
                    stop = p.para_start[para + 1]
                    paras.append(para)
                pos = np.searchsorted(postings, first)
                inside = (pos < len(postings)) & (
                    postings[np.minimum(pos, len(postings) - 1)] < stop)
                buf.paragraphs[para[inside]] += mass
            if title is not None and term in self._titles:
                title[self._titles[term]] += mass

    def _context(
        self, ids: np.ndarray, buf: _Buffers, title: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(BM25 scores, context-weighted scores) of passages ids, from the filled buffers."""
        s, p = self.settings, self.passages
        scores = buf.scores[ids + 1]
        if s.neighbour_weight:
            # The neighbours in the same paragraph only: the sentence after a match in another
            # paragraph or document is not its context. (beside[i] is the weight of passage
            # i - 1 for passage i and of i for i - 1: neighbour_weight, or 0 across a break.)
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

    def _with_neighbours(
        self, ids: np.ndarray, buf: _Buffers, title: np.ndarray | None
    ) -> np.ndarray:
        """The matched passages ids (ascending) with their neighbours in the same paragraph,
        ascending and distinct, less those that cannot be among the best `candidates`.

        A neighbour that matches nothing itself scores nw * (its two neighbours' scores) +
        the paragraph and title terms, which it shares with the match beside it. That match
        scores at least its own score + those terms, so the neighbour scores at most the
        match's context - (1 - nw) * the match's score + nw * the best score of all. When
        more than `candidates` passages match, the last of the best `candidates` of them is
        a floor: a match below it, or a neighbour of a match whose bound is below it, is
        never among the best. A match sits in a paragraph of thousands in a large corpus,
        so this keeps a few hundred passages of tens of thousands."""
        nw, n = self.settings.neighbour_weight, self.settings.candidates
        scores, context = self._context(ids, buf, title) if len(ids) > n else (None, None)
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

    def _buffers(self) -> _Buffers:
        # One set per thread: questions are answered concurrently in worker threads.
        buf = getattr(self._local, "buffers", None)
        if buf is None:
            buf = self._local.buffers = _Buffers(len(self.passages), self.passages.n_paragraphs)
        return buf

    def _answer_type(self, question: str, ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Raise the best few candidates that hold the kind of thing the question asks for: a
        date for "when", a number for "how many", a name the question does not already say
        for "who". A cue, not a filter: it moves a sentence up among close ones."""
        s = self.settings
        if not s.type_weight or not len(ids):
            return scores
        kind, holds_kind = self._kind_test(question)
        if kind is None:
            return scores
        m = min(s.type_candidates, len(ids))
        top = _best(ids, scores, m)
        scores = scores.copy()
        p, documents = self.passages, self.documents
        at = ids[top]
        spans = zip(p.doc[at].tolist(), p.start[at].tolist(), p.end[at].tolist(), strict=True)
        for i, (d, start, end) in zip(top.tolist(), spans, strict=True):
            if holds_kind(documents[d].text[start:end]):
                scores[i] *= 1 + s.type_weight
        return scores

    def _select(
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

    def _quotes(
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
                          else frozenset(self.analyzer.words(self._text(pid, pid))))
        return cache[pid]

    def _text(self, first: int, last: int) -> str:
        p = self.passages
        return self.documents[int(p.doc[first])].text[int(p.start[first]) : int(p.end[last])]


# "How long", "how many"...: the second word asks for a kind of answer, it is not a topic.
_QUESTION_PHRASES = re.compile(
    r"\bhow\s+(?:long|many|much|often|far|old|big|large|soon|late|early)\b", re.I
)


def _alias_groups(
    aliases: Mapping[str, Sequence[str]], analyzer: Analyzer
) -> dict[str, tuple[str, ...]]:
    """term -> the terms of every other spelling in its group (aliases work both ways)."""
    out: dict[str, set[str]] = {}
    for name, others in aliases.items():
        group = {t for spelling in (name, *others) for t in analyzer.terms(spelling)}
        for term in group:
            out.setdefault(term, set()).update(group - {term})
    return {t: tuple(sorted(o)) for t, o in out.items()}


# The kind of answer a question asks for, from its wording; first match wins.
_KINDS = (
    ("date", re.compile(
        r"\b(?:when|what (?:year|century|decade|date|month|day|time period|era)|"
        r"which (?:year|century|decade|month|day))\b", re.I)),
    ("number", re.compile(
        r"\bhow (?:many|much|long|old|far|large|big|tall|high|often|fast|deep|wide)\b|"
        r"\bwhat (?:percentage|percent|proportion|number|amount|size|population)\b", re.I)),
    ("name", re.compile(r"\b(?:who|whom|whose)\b", re.I)),
    ("place", re.compile(r"\b(?:where|what (?:city|country|state|region|town|place))\b",
                         re.I)),
)
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|"
           r"december")
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                 "forty|fifty|hundred|thousand|million|billion|dozen|half")
_DATE = re.compile(
    rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentur", re.I)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)


def _question_kind(question: str) -> str | None:
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return None


def _has_kind(kind: str, text: str, asked: set[str]) -> bool:
    if kind == "date":
        return _holds_date(text)
    if kind == "number":
        return _holds_number(text)
    # A name or place: a capitalised word, not first in the sentence, the question lacks.
    return has_new_name(text, asked)


# The patterns above try every branch at every word boundary (4-7 us a sentence). In ASCII
# text the same tests read the set of its runs of word characters, lower-cased: a whole word
# is such a run, as \b...\b requires (2-3 us).
def _holds_date(text: str) -> bool:
    if not text.isascii():
        return _DATE.search(text) is not None
    low = text.lower()
    runs = _word_runs(low)
    return (not _MONTH_RUNS.isdisjoint(runs)
            or ("centur" in low and _CENTURY.search(low) is not None)
            or (("1" in low or "2" in low) and any(_YEAR_RUN.fullmatch(r) for r in runs)))


def _holds_number(text: str) -> bool:
    if not text.isascii():
        return _NUMBER.search(text) is not None
    low = text.lower()
    return any(d in low for d in "0123456789") or not _NUMBER_RUNS.isdisjoint(_word_runs(low))


def _word_runs(ascii_text: str) -> set[bytes]:
    return set(ascii_text.encode().translate(_BLANK_NON_WORD).split())


_BLANK_NON_WORD = bytes(c if c < 128 and (chr(c).isalnum() or chr(c) == "_") else ord(" ")
                        for c in range(256))
_MONTH_RUNS = frozenset(m.encode() for m in _MONTHS.split("|"))
_NUMBER_RUNS = frozenset(w.encode() for w in _NUMBER_WORDS.split("|"))
_YEAR_RUN = re.compile(rb"(?:1[0-9]{3}|20[0-9]{2})s?")
_CENTURY = re.compile(r"\bcentur")


_NO_DOCS = np.zeros(0, dtype=np.int64)


def _title_index(documents: Sequence[Document], analyzer: Analyzer) -> dict[str, np.ndarray]:
    """term -> the documents whose label holds it."""
    out: dict[str, list[int]] = {}
    for i, doc in enumerate(documents):
        for term in set(analyzer.terms(doc.label)):
            out.setdefault(term, []).append(i)
    return {t: np.asarray(d, dtype=np.int64) for t, d in out.items()}


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array."""
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _similar(a: frozenset[str], b: frozenset[str], floor: float) -> bool:
    """Jaccard similarity of two term sets at least floor (and never for empty sets)."""
    if not a or not b or min(len(a), len(b)) < floor * max(len(a), len(b)):
        return False
    return len(a & b) >= floor * len(a | b)


def _best(ids: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n highest scores, a tie at the last place going to the lower id."""
    if n >= len(ids):
        return np.arange(len(ids))
    kth = np.partition(scores, len(scores) - n)[len(scores) - n]
    keep = np.flatnonzero(scores >= kth)
    if len(keep) > n:
        keep = keep[np.lexsort((ids[keep], -scores[keep]))[:n]]
    return keep


class _Buffers:
    """Dense accumulators of one thread's searches, all zero (False) between searches."""

    def __init__(self, n_passages: int, n_paragraphs: int) -> None:
        self.scores = np.zeros(n_passages + 2)
        self.paragraphs = np.zeros(n_paragraphs)
