"""Question in, verbatim quotes out (or an abstention). No free text is ever produced here.

Every Quote's text is ``document.text[start:end]``: a sentence or a run of consecutive
sentences of one paragraph, sliced from the document as loaded.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bot.core.analysis import DEFAULT_ANALYZER, Analyzer
from bot.core.corpus import Corpus
from bot.core.documents import Document

log = logging.getLogger(__name__)

# Why an Answer has no quotes. These are codes, not text: the shell picks the fixed phrase.
NO_TERMS = "no_terms"  # nothing searchable in the question ("what is it?")
NO_MATCH = "no_match"  # nothing in the documents scores above the threshold


@dataclass(frozen=True)
class RetrievalSettings:
    """Every knob of retrieval and answering; config/bot.yaml `retrieval:` sets any of them."""

    k1: float = 1.2
    b: float = 0.75
    epsilon: float = 0.25
    top_k: int = 3
    # Minimum confidence (0..1, see Engine.confidence) of the best quote for an answer.
    threshold: float = 0.4
    # Share of the neighbouring sentences' and the paragraph's score added to a sentence's.
    neighbour_weight: float = 0.3
    paragraph_weight: float = 0.1
    # A quote from a document not yet quoted is preferred while its score is at least this
    # share of the best remaining quote's.
    diversity: float = 0.75
    candidates: int = 200


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
        query = self.query_terms(question)
        if not query:
            return Answer(question, False, reason=NO_TERMS)
        ids, scores = self._candidates(query, collections)
        if not len(ids):
            return Answer(question, False, reason=NO_MATCH)
        confidence = self.confidence(query, ids[:1])[0]
        if confidence < self.settings.threshold:
            return Answer(question, False, reason=NO_MATCH, confidence=confidence)
        picked = self._select(ids, scores, 2 * (offset + top_k) + 2)
        quotes = self._quotes(picked)
        more = len(quotes) > offset + top_k
        return Answer(
            question, True, tuple(quotes[offset : offset + top_k]), None, confidence, more
        )

    def query_terms(self, question: str) -> dict[str, float]:
        """Question terms with their weights (a repeated term counts again, as in BM25Okapi);
        moderator aliases add the other spellings at full weight."""
        terms = self.analyzer.terms(_QUESTION_PHRASES.sub(" ", question))
        weights: dict[str, float] = dict(Counter(terms))
        for term in list(weights):
            for other in self.aliases.get(term, ()):
                weights.setdefault(other, weights[term])
        return weights

    def confidence(self, query: Mapping[str, float], ids: np.ndarray) -> np.ndarray:
        """Share of the question's IDF mass found in each passage: sum of idf(t) over the
        question terms present in the passage, divided by the sum over all question terms.
        Unlike a raw BM25 score, which grows with the corpus (IDF grows with log N), this is
        a ratio in [0, 1] whose meaning does not change with corpus size, so one threshold
        serves a two-document corpus and a million-passage one. Terms unknown to the corpus
        count with the highest IDF a term could have, so an unmatched rare word lowers it."""
        n = self.index.n_docs
        ceiling = np.log(n + 0.5) - np.log(1.5) if n else 1.0
        total = 0.0
        found = np.zeros(len(ids))
        for term, qw in query.items():
            postings, _ = self.index.postings(term)
            idf = max(self.index.term_idf(term), 0.0) if len(postings) else ceiling
            total += idf * qw
            if len(postings):
                pos = np.searchsorted(postings, ids)
                hit = (pos < len(postings)) & (postings[np.minimum(pos, len(postings) - 1)] == ids)
                found += hit * idf * qw
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

    def _candidates(
        self, query: dict[str, float], collections: Collection[str] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Matching passages, best first, with their context-weighted scores."""
        ids, scores = self.index.sparse_scores(query)
        if collections is not None and len(ids):
            allowed = np.array([c in collections for c in self.collections], dtype=bool)
            keep = allowed[self.passages.collection[ids]]
            ids, scores = ids[keep], scores[keep]
        if not len(ids):
            return ids, scores
        ids, scores = self._with_context(ids, scores)
        n = min(self.settings.candidates, len(ids))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(ids) else np.arange(len(ids))
        order = top[np.lexsort((ids[top], -scores[top]))]
        return ids[order], scores[order]

    def _with_context(
        self, ids: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add a share of the neighbouring sentences' and the paragraph's scores to each
        sentence's. Neighbours of a match join the candidates: the sentence after "Russian
        forces took Siversk after a withdrawal" may be the one that says who announced it."""
        s, p = self.settings, self.passages
        if not (s.neighbour_weight or s.paragraph_weight) or not len(ids):
            return ids, scores
        pid = p.para_id
        if s.neighbour_weight:
            around = np.concatenate((ids, ids - 1, ids + 1))
            around = around[(around >= 0) & (around < len(p))]
            around = np.unique(around)
            base = np.zeros(len(around))
            base[np.searchsorted(around, ids)] = scores
            ids, scores = around, base
        out = scores.copy()
        if s.neighbour_weight:
            for step in (-1, 1):
                nb = ids + step
                pos = np.clip(np.searchsorted(ids, nb), 0, len(ids) - 1)
                same = (ids[pos] == nb) & (pid[np.clip(nb, 0, len(p) - 1)] == pid[ids])
                out += s.neighbour_weight * np.where(same, scores[pos], 0.0)
        if s.paragraph_weight:
            uniq, inv = np.unique(pid[ids], return_inverse=True)
            sums = np.bincount(inv, weights=scores, minlength=len(uniq))
            out += s.paragraph_weight * (sums[inv] - scores)
        return ids, out

    def _select(self, ids: np.ndarray, scores: np.ndarray, count: int) -> list[tuple[int, float]]:
        """Best first, but a close-scoring passage from a document not yet quoted goes ahead,
        so that two documents that speak to a question both appear."""
        remaining = list(zip(ids.tolist(), scores.tolist(), strict=True))
        picked: list[tuple[int, float]] = []
        seen_docs: set[int] = set()
        doc = self.passages.doc
        while remaining and len(picked) < count:
            choice = 0
            if int(doc[remaining[0][0]]) in seen_docs:
                floor = remaining[0][1] * self.settings.diversity
                for i, (pid, score) in enumerate(remaining):
                    if score < floor:
                        break
                    if int(doc[pid]) not in seen_docs:
                        choice = i
                        break
            pid, score = remaining.pop(choice)
            picked.append((pid, score))
            seen_docs.add(int(doc[pid]))
        return picked

    def _quotes(self, picked: list[tuple[int, float]]) -> list[Quote]:
        """Quotes in rank order. The same sentence in another document is shown once, with
        both sources; a passage next to an already chosen one of the same paragraph joins it
        as a run of consecutive sentences."""
        p = self.passages
        runs: list[list[int]] = []
        scores: list[float] = []
        also: list[list[Source]] = []
        seen: dict[str, int] = {}  # sentence words -> run holding that sentence
        for pid, score in picked:
            key = " ".join(self.analyzer.words(self._text(pid, pid)))
            if key in seen:
                doc = self.documents[int(p.doc[pid])]
                src = Source(doc.collection, doc.rel, doc.label)
                first = self.documents[int(p.doc[runs[seen[key]][0]])]
                if doc is not first and src not in also[seen[key]]:
                    also[seen[key]].append(src)
                continue
            for i, run in enumerate(runs):
                if p.para_id[pid] == p.para_id[run[0]] and run[0] - 1 <= pid <= run[-1] + 1:
                    runs[i] = sorted({*run, pid})
                    seen[key] = i
                    break
            else:
                seen[key] = len(runs)
                runs.append([pid])
                scores.append(score)
                also.append([])
        quotes = []
        for run, score, more in zip(runs, scores, also, strict=True):
            first, last = run[0], run[-1]
            doc = self.documents[int(p.doc[first])]
            start, end = int(p.start[first]), int(p.end[last])
            quotes.append(Quote(
                doc.text[start:end], doc.rel, doc.label, int(p.paragraph[first]), start, end,
                score, doc.collection, tuple(more),
            ))
        return quotes

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
