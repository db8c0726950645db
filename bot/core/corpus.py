"""The searchable form of a set of documents: one row a sentence (passage), and the BM25
index over the passages' terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.documents import Document
from bot.core.index import BM25Index, Progress


@dataclass
class Passages:
    """Column arrays, one row a sentence, in document order."""

    doc: np.ndarray  # int32 index into Engine.documents
    start: np.ndarray  # int64
    end: np.ndarray  # int64
    paragraph: np.ndarray  # int32, 1-based within its document
    collection: np.ndarray  # int16 index into Engine.collections
    para_id: np.ndarray = field(init=False)  # int64, unique per (doc, paragraph)

    def __post_init__(self) -> None:
        changed = (self.doc[1:] != self.doc[:-1]) | (self.paragraph[1:] != self.paragraph[:-1])
        new = np.r_[True, changed]
        self.para_id = np.cumsum(new) - 1 if len(self.doc) else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.doc)



@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    collections: tuple[str, ...]  # sorted names; Passages.collection indexes this
    passages: Passages
    index: BM25Index

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        analyzer: Analyzer,
        k1: float,
        b: float,
        epsilon: float,
        progress: Progress | None = None,
    ) -> Corpus:
        """progress(done, total) is called as passages are analysed (for a progress bar)."""
        documents = tuple(documents)
        collections = tuple(sorted({d.collection for d in documents}))
        coll_no = {c: i for i, c in enumerate(collections)}
        counts = [len(d.sentences) for d in documents]
        n = sum(counts)
        sentences = [s for d in documents for s in d.sentences]
        passages = Passages(
            np.repeat(np.arange(len(documents), dtype=np.int32), counts),
            np.fromiter((s.start for s in sentences), np.int64, n),
            np.fromiter((s.end for s in sentences), np.int64, n),
            np.fromiter((s.paragraph for s in sentences), np.int32, n),
            np.repeat(np.array([coll_no[d.collection] for d in documents], np.int16), counts),
        )
        texts = (d.text[s.start : s.end] for d in documents for s in d.sentences)
        index = BM25Index.from_texts(
            texts, n, analyzer, k1=k1, b=b, epsilon=epsilon, progress=progress
        )
        return cls(documents, collections, passages, index)
