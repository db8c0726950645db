"""Question in, verbatim quotes out (or an abstention): the stages in the order a question
goes through them. No free text is ever produced here.

    query.py       question -> weighted terms (aliases, near spellings)
    firststage.py  terms -> the best candidates by BM25 and context
    confidence.py  how much of the question each candidate speaks to (answer or refuse)
    rerank.py      the best few candidates -> reordered by a fitted linear score
    quotes.py      candidates -> quotes (diversity, the same text elsewhere, a needed neighbour)
"""

from __future__ import annotations

import dataclasses
import logging
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from bot.core.analysis import DEFAULT_ANALYZER, Analyzer
from bot.core.confidence import Confidence
from bot.core.corpus import Corpus, PassageTexts
from bot.core.documents import Document
from bot.core.firststage import FirstStage
from bot.core.kinds import KINDS, KindTests
from bot.core.locations import locate
from bot.core.model import (
    NO_MATCH,
    NO_TERMS,
    UNAVAILABLE,
    Answer,
    Quote,
    RetrievalSettings,
    SearchUnavailable,
    check_top_k,
)
from bot.core.query import QueryBuilder
from bot.core.quotes import QuoteMaker
from bot.core.rerank import Reranker

log = logging.getLogger(__name__)

# The kinds of answer whose sources are shown side by side (QuoteMaker.select's figures).
FIGURE_KINDS = frozenset(KINDS)


class Engine:
    """The search engine over a fixed set of documents. Immutable once built: a reload builds a
    new Engine and swaps it in, so questions never see half an index."""

    def __init__(
        self,
        documents: Sequence[Document] | Corpus,
        settings: RetrievalSettings | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        analyzer: Analyzer = DEFAULT_ANALYZER,
        shard_servers: Sequence[str] = (),
    ) -> None:
        """Search documents (building their index with settings.index), or an already built
        or loaded Corpus; with shard_servers (host:port of `xapian-tcpsrv` servers), the first
        stage's BM25 search runs on those servers (bot/core/xapianstage.py)."""
        self.settings = s = settings or RetrievalSettings()
        self.analyzer = analyzer
        if not isinstance(documents, Corpus):
            documents = Corpus.build(documents, analyzer, s.index)
        self.corpus = documents
        self.documents = documents.documents
        # Two folders of one collection may each hold a file of the same name: a list a name.
        self._by_name: dict[tuple[str, str], list[Document]] = {}
        for doc in self.documents:
            self._by_name.setdefault((doc.collection, doc.rel), []).append(doc)
        self.collections = documents.collections
        self.passages = documents.passages
        self.index = documents.index
        self.kinds = kinds = KindTests(analyzer)
        self.query = QueryBuilder(documents, analyzer, aliases or {}, s)
        if shard_servers:
            from bot.core.xapianstage import ShardFirstStage  # Xapian is an optional dependency

            self.first = ShardFirstStage(documents, analyzer, s, kinds, shard_servers, s.index)
        else:
            self.first = FirstStage(documents, analyzer, s, kinds)
        self.confidence = Confidence(documents, s)
        self.reranker = Reranker(documents, analyzer, s, kinds, self.first.titles)
        self.quoter = QuoteMaker(documents, analyzer, s)

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        offset: int = 0,
        collections: Collection[str] | None = None,
        exclude: Collection[tuple[str, str, int]] = (),
    ) -> Answer:
        """Up to top_k quotes for question (after skipping `offset` quotes, for "More"), drawn
        only from the named collections (None: all). With exclude, the (collection, document,
        start) of the quotes shown before: the top_k best of the others, `offset` saying only
        how deep to look (the documents may have changed since, and the order with them).
        ValueError when top_k is outside model.TOP_K_RANGE."""
        s = self.settings
        top_k = check_top_k(top_k or s.top_k)
        query = self.query.query(question)
        if not query.weights:
            return Answer(question, False, reason=NO_TERMS)
        texts = PassageTexts(self.corpus)  # read once, for the kinds, the cues and the quotes
        try:
            ids, bm25, scores = self.first.candidates(query.weights, collections, question,
                                                      texts)
        except SearchUnavailable as exc:  # the cause is logged where it happened
            log.debug("search unavailable: %s", exc)
            return Answer(question, False, reason=UNAVAILABLE)
        if not len(ids):
            return Answer(question, False, reason=NO_MATCH)
        # The confidence of every passage that could be promoted for diversity, best first,
        # and of each the reranker could put first: when none of those reaches the
        # threshold, the answer is a refusal whatever the order, and the reranker is spared.
        # (The refusal then reports the best of them.)
        close = max(1, int(np.searchsorted(-scores, -scores[0] * s.diversity, side="right")))
        m = min(s.rerank, len(ids))
        cover = self.confidence.of(query.exact, ids[: max(close, m)], query.near)
        best = float(cover[: max(m, 1)].max())
        if best < s.threshold:
            return Answer(question, False, reason=NO_MATCH, confidence=best)
        order = self.reranker.reorder(question, query.weights, ids, bm25, scores, texts)
        if order is not None:
            ids = np.concatenate((ids[order], ids[len(order) :]))
            cover = np.concatenate((cover[order], cover[len(order) :]))
        confidence = float(cover[0])
        if confidence < s.threshold:
            return Answer(question, False, reason=NO_MATCH, confidence=confidence)
        kind = self.kinds.test(question)
        rivals = None
        if kind[0] in FIGURE_KINDS:
            rivals = {i: c for i, c, text in zip(ids[:m].tolist(), cover[:m].tolist(),
                                                 texts.of(ids[:m]), strict=True)
                      if kind[1](text)}
        vocab = self.index.vocab
        asked = frozenset(query.weights).union(vocab[t] for t in query.weights if t in vocab)
        count = 2 * (offset + top_k) + 2
        while True:
            picked = self.quoter.select(ids, scores, cover[:close], count, rivals, m)
            quotes = self.quoter.quotes(picked, asked, kind, texts)
            if exclude:  # the quotes shown before, wherever they rank now: the next after them
                quotes = [q for q in quotes if (q.collection, q.document, q.start) not in exclude]
            # Picks a quote takes in (a heading's body, a question's answer, copies named
            # "also in") leave fewer quotes than picks: pick more while there are more to
            # pick, so that a page is full and "More" is offered when more remain.
            if (len(quotes) > (0 if exclude else offset) + top_k or len(picked) < count
                    or count >= len(ids)):
                break
            count *= 2
        if exclude:
            offset = 0
        more = len(quotes) > offset + top_k
        shown = tuple(self._located(q) for q in quotes[offset : offset + top_k])
        return Answer(question, True, shown, None, confidence, more)

    def _located(self, quote: Quote) -> Quote:
        """quote with its page, heading and link: found for the quotes shown only, since
        the links' encoding costs as much as a fast answer's search."""
        docs = self._by_name[(quote.collection, quote.document)]
        doc = docs[0] if len(docs) == 1 else next(
            (d for d in docs if d.span(quote.start, quote.end) == quote.text), docs[0])
        where = locate(doc, quote.start, quote.end, quote.paragraph)
        return dataclasses.replace(quote, location=where)

    def query_terms(self, question: str, near: bool = True) -> dict[str, float]:
        """Question terms with their weights (see QueryBuilder.terms)."""
        return self.query.terms(question, near)

    def paragraph(self, collection: str, document: str, number: int) -> Quote | None:
        """The whole paragraph `number` of a document, as a quote (for "Context")."""
        for doc in self._by_name.get((collection, document), ()):
            if 1 <= number <= len(doc.paragraphs):
                return _paragraph(doc, number)
        return None

    def paragraph_around(
        self, collection: str, document: str, start: int, end: int, holds: Callable[[str], bool]
    ) -> Quote | None:
        """The whole paragraph around text[start:end] of the document of that name whose text
        there `holds` the quote ("Context" of a quote shown before): two folders of one
        collection may each hold a file of the name, and a document changed since may hold
        other text there (None then)."""
        for doc in self._by_name.get((collection, document), ()):
            if 0 <= start < end <= len(doc.text) and holds(doc.text[start:end]):
                starts = [p.start for p in doc.paragraphs]
                first = max(1, bisect_right(starts, start))
                # (A question's quote runs on into the paragraph of its answer: both.)
                return _paragraph(doc, first, max(first, bisect_right(starts, end - 1)))
        return None

    def holds(self, collection: str, document: str) -> bool:
        """Whether a document of that name is in the library."""
        return (collection, document) in self._by_name

    def sources(self, collections: Collection[str] | None = None) -> list[Document]:
        return [d for d in self.documents if collections is None or d.collection in collections]


def _paragraph(doc: Document, number: int, last: int | None = None) -> Quote:
    """Paragraph number (1-based) of doc as a quote, through paragraph last if given."""
    start, end = doc.paragraphs[number - 1].start, doc.paragraphs[(last or number) - 1].end
    return Quote(doc.text[start:end], doc.rel, doc.label, number, start, end, 0.0,
                 doc.collection, location=locate(doc, start, end, number))
