"""The searchable form of a set of documents: one row a sentence (passage), and the BM25
index over the passages' terms."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.chunks import Chunk
from bot.core.documents import Document, span_rows
from bot.core.index import BM25Index, Progress
from bot.core.model import IndexSettings
from bot.core.spelling import DeletionTable, NearTable


@dataclass
class Passages:
    """Column arrays, one row a sentence, in document order."""

    doc: np.ndarray  # int32 index into Engine.documents
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    paragraph: np.ndarray  # int32, 1-based within its document
    collection: np.ndarray  # int16 index into Engine.collections
    para_id: np.ndarray = field(init=False)  # int64, unique per (doc, paragraph)
    # Derived for the answer path: same_para[i] is whether passage i is in the paragraph of
    # passage i - 1 (False for i = 0 and i = len); paragraph p is passages
    # para_start[p]:para_start[p + 1].
    same_para: np.ndarray = field(init=False, repr=False)  # bool, len + 1
    para_start: np.ndarray = field(init=False, repr=False)  # int64, paragraphs + 1
    # Document d is passages doc_start[d]:doc_start[d + 1] (empty for a document without
    # sentences); used_docs counts those with sentences.
    doc_start: np.ndarray = field(init=False, repr=False)  # int64, last document + 2
    used_docs: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.doc)
        changed = (self.doc[1:] != self.doc[:-1]) | (self.paragraph[1:] != self.paragraph[:-1])
        new = np.r_[True, changed] if n else np.zeros(0, dtype=bool)
        self.para_id = np.cumsum(new) - 1 if n else np.zeros(0, dtype=np.int64)
        self.same_para = np.r_[False, ~changed, False] if n else np.zeros(1, dtype=bool)
        self.para_start = np.r_[np.flatnonzero(new), n].astype(np.int64)
        last = int(self.doc[-1]) if n else -1
        self.doc_start = np.searchsorted(self.doc, np.arange(last + 2)).astype(np.int64)
        self.used_docs = int(np.count_nonzero(np.diff(self.doc_start)))

    def __len__(self) -> int:
        return len(self.doc)

    @property
    def n_paragraphs(self) -> int:
        return len(self.para_start) - 1


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    collections: tuple[str, ...]  # sorted names; Passages.collection indexes this
    passages: Passages
    index: BM25Index
    deletions: DeletionTable  # what near-spelling lookups search (bot/core/spelling.py)
    near: NearTable  # every index term's near spellings, by term id
    # Each document's digest (file and labels entry: bot/core/store.py), where known: what
    # an update compares with the files to find the documents added, changed or removed.
    digests: tuple[str, ...] = ()
    # Each posting's paragraph (int32, aligned with index.doc_ids), read by the compiled
    # first stage in step with the postings rather than at random (bot/core/firststage.py).
    # Saved, so that processes sharing a save share it too; None where not yet gathered (an
    # updated corpus: see gather_posting_paragraphs).
    posting_para: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.posting_para is not None and len(self.posting_para) != len(self.index.doc_ids):
            raise ValueError("posting_para is not aligned with the postings")

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        analyzer: Analyzer,
        settings: IndexSettings,
        progress: Progress | None = None,
        digests: Sequence[str] = (),
    ) -> Corpus:
        """progress(done, total) is called as passages are analysed (for a progress bar)."""
        documents = tuple(documents)
        collections = tuple(sorted({d.collection for d in documents}))
        passages, rows = _passages(documents, collections, first_doc=0)
        texts = (
            d.text[s:e] for d, r in zip(documents, rows, strict=True) for s, e in r[:, :2].tolist()
        )
        vocab, term_ids, lengths = BM25Index.analysed(texts, len(passages), analyzer, progress)
        # The spelling tables need only the vocabulary: built in a thread while the postings
        # are sorted (numpy's sorts let it run; about 3 s of a 1M build's 20 saved).
        with ThreadPoolExecutor(1, thread_name_prefix="quotebot-spelling") as pool:
            tables = pool.submit(_spelling_tables, list(vocab))
            index = BM25Index.from_arrays(vocab, term_ids, lengths, k1=settings.k1,
                                          b=settings.b, epsilon=settings.epsilon)
            deletions, near = tables.result()
        return cls(documents, collections, passages, index, deletions, near, tuple(digests),
                   posting_paragraphs(passages, index))

    def updated(
        self,
        removed: Collection[int],
        added: Sequence[Document],
        analysed: Sequence[Chunk],
        digests: Sequence[str],
    ) -> Corpus:
        """A new corpus without the documents numbered in removed and with the added ones
        (digests: theirs; analysed: each one's analyse_chunk() over its sentences), whose
        passages come after the kept ones: no kept document is analysed again. This corpus
        is left as it is (an Engine over it keeps answering). Scores differ from a rebuild's
        only by BM25's average passage length, which stays this corpus's until a merge
        (BM25Index.reweighted)."""
        removed = set(removed)
        keep_doc = np.array([i not in removed for i in range(len(self.documents))], dtype=bool)
        kept = [d for d, k in zip(self.documents, keep_doc.tolist(), strict=True) if k]
        documents = (*kept, *added)
        collections = tuple(sorted({*self.collections, *(d.collection for d in added)}))
        old = self.passages
        keep = keep_doc[old.doc] if len(old) else np.zeros(0, dtype=bool)
        doc_no = (np.cumsum(keep_doc) - 1).astype(np.int32)
        coll_no = np.array([collections.index(c) for c in self.collections] or [0], np.int16)
        new, _ = _passages(added, collections, first_doc=len(kept))
        passages = Passages(
            *(np.concatenate((mine, theirs)) for mine, theirs in zip(
                (doc_no[old.doc[keep]], old.start[keep], old.end[keep], old.paragraph[keep],
                 coll_no[old.collection[keep]]),
                (new.doc, new.start, new.end, new.paragraph, new.collection), strict=True))
        )
        vocab = self.index.vocab
        new_terms: dict[str, int] = {}
        ids, lengths = [], []
        for terms, local, counts in analysed:
            number = np.array([vocab.get(t) if t in vocab else
                               new_terms.setdefault(t, len(vocab) + len(new_terms))
                               for t in terms] or [0], dtype=np.int64)
            ids.append(number[local])
            lengths.append(counts)
        index = self.index.spliced(
            keep, list(new_terms),
            np.concatenate(ids) if ids else np.zeros(0, np.int64),
            np.concatenate(lengths) if lengths else np.zeros(0, np.int32),
        )
        deletions, near = self.deletions, self.near
        if new_terms:
            deletions = deletions.extended(list(new_terms))
            near = near.extended(list(index.vocab), len(vocab), deletions)
        kept_digests = [g for g, k in zip(self.digests, keep_doc.tolist(), strict=False) if k]
        return Corpus(documents, collections, passages, index, deletions, near,
                      (*kept_digests, *digests) if self.digests else ())

    def merged(self) -> Corpus:
        """This corpus with BM25 weights for its present average passage length, as a full
        build over the same documents would score them."""
        return dataclasses.replace(self, index=self.index.reweighted())


# Postings: an index with fewer has its paragraphs gathered at once, not in the background.
_GATHER_HERE = 4_000_000


def gather_posting_paragraphs(corpus: Corpus, done: Callable[[np.ndarray | None], None]) -> None:
    """done(corpus.posting_para), gathered first where the corpus lacks it (an updated one):
    at once for a small index, in a background thread for a large one, so that an update is
    live without waiting for it."""
    if corpus.posting_para is not None:
        done(corpus.posting_para)
    elif len(corpus.index.doc_ids) < _GATHER_HERE:
        done(posting_paragraphs(corpus.passages, corpus.index))
    else:
        threading.Thread(target=lambda: done(posting_paragraphs(corpus.passages, corpus.index)),
                         name="quotebot-gather", daemon=True).start()


def posting_paragraphs(passages: Passages, index: BM25Index) -> np.ndarray | None:
    """The paragraph of each posting of index (Corpus.posting_para: 4 bytes a posting, 48
    MB at 1M passages, gathered in 0.05-0.2 s); None for postings not of int32 ids, which
    the compiled first stage does not read."""
    if index.doc_ids.dtype != np.int32 or passages.n_paragraphs >= 2**31:
        return None
    return passages.para_id.astype(np.int32)[index.doc_ids]


class PassageTexts:
    """The texts of the passages one answer reads, each read from its document once: the
    reranker's word cues, the kind test, the quotes and their sources read mostly the same
    few sentences (a read slices a saved buffer and decodes it: bot/core/storedocuments.py).
    Made for one answer and dropped with it."""

    def __init__(self, corpus: Corpus) -> None:
        self._documents, self._passages = corpus.documents, corpus.passages
        # A passage's text by its number; a run of passages' by (first, last).
        self._read: dict[int | tuple[int, int], str] = {}

    def __call__(self, first: int, last: int) -> str:
        """The text from passage first's start to passage last's end (of first's document)."""
        key = first if first == last else (first, last)
        text = self._read.get(key)
        if text is None:
            p = self._passages
            text = self._read[key] = self._documents[int(p.doc[first])].span(
                int(p.start[first]), int(p.end[last]))
        return text

    def of(self, ids: np.ndarray) -> list[str]:
        """The text of each of passages ids (their columns gathered once)."""
        p, documents, read = self._passages, self._documents, self._read
        out = []
        for pid, d, start, end in zip(ids.tolist(), p.doc[ids].tolist(), p.start[ids].tolist(),
                                      p.end[ids].tolist(), strict=True):
            text = read.get(pid)
            if text is None:
                text = read[pid] = documents[d].span(start, end)
            out.append(text)
        return out


def title_index(documents: Sequence[Document], analyzer: Analyzer) -> dict[str, np.ndarray]:
    """term -> the documents whose label holds it."""
    out: dict[str, list[int]] = {}
    for i, doc in enumerate(documents):
        for term in set(analyzer.terms(doc.label)):
            out.setdefault(term, []).append(i)
    return {t: np.asarray(d, dtype=np.int64) for t, d in out.items()}


def _spelling_tables(vocabulary: list[str]) -> tuple[DeletionTable, NearTable]:
    deletions = DeletionTable.build(vocabulary)
    return deletions, NearTable.build(vocabulary, deletions)


def _passages(
    documents: Sequence[Document], collections: Sequence[str], first_doc: int
) -> tuple[Passages, list[np.ndarray]]:
    """The passages of documents (numbered from first_doc) and each one's sentence rows."""
    coll_no = {c: i for i, c in enumerate(collections)}
    rows = [span_rows(d.sentences, 3) for d in documents]
    counts = [len(r) for r in rows]
    sentences = np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.int64)
    passages = Passages(
        np.repeat(np.arange(first_doc, first_doc + len(documents), dtype=np.int32), counts),
        np.ascontiguousarray(sentences[:, 0]),
        np.ascontiguousarray(sentences[:, 1]),
        sentences[:, 2].astype(np.int32),
        np.repeat(np.array([coll_no[d.collection] for d in documents], np.int16), counts),
    )
    return passages, rows
