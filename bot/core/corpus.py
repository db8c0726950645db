"""The searchable form of a set of documents: one row a sentence (passage), and the BM25
index over the passages' terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.analysis import Analyzer
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

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        analyzer: Analyzer,
        settings: IndexSettings,
        progress: Progress | None = None,
    ) -> Corpus:
        """progress(done, total) is called as passages are analysed (for a progress bar)."""
        documents = tuple(documents)
        collections = tuple(sorted({d.collection for d in documents}))
        coll_no = {c: i for i, c in enumerate(collections)}
        rows = [span_rows(d.sentences, 3) for d in documents]
        counts = [len(r) for r in rows]
        n = sum(counts)
        sentences = np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.int64)
        passages = Passages(
            np.repeat(np.arange(len(documents), dtype=np.int32), counts),
            np.ascontiguousarray(sentences[:, 0]),
            np.ascontiguousarray(sentences[:, 1]),
            sentences[:, 2].astype(np.int32),
            np.repeat(np.array([coll_no[d.collection] for d in documents], np.int16), counts),
        )
        del sentences
        texts = (
            d.text[s:e] for d, r in zip(documents, rows, strict=True) for s, e in r[:, :2].tolist()
        )
        index = BM25Index.from_texts(
            texts, n, analyzer, k1=settings.k1, b=settings.b, epsilon=settings.epsilon,
            progress=progress,
        )
        vocabulary = list(index.vocab)
        deletions = DeletionTable.build(vocabulary)
        return cls(documents, collections, passages, index, deletions,
                   NearTable.build(vocabulary, deletions))
