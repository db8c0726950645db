"""The documents' part of a save: each document's metadata and the checksum of its text,
and its paragraph and sentence tables. Texts are not saved: load reads them again from the
files (through the extraction cache for PDF, HTML and DOCX) and checks them against the
checksum, so quotes always equal the documents' text. Used by bot/core/store.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.core import extract
from bot.core.checkedfiles import Reader, StoreError, Writer, digest
from bot.core.documents import Document, Sentence, Span, Spans, read_text, span_rows
from bot.core.extract.batch import extract_files
from bot.core.extract.model import Limits

log = logging.getLogger(__name__)


def save_documents(w: Writer, documents: Sequence[Document]) -> None:
    w.json("documents", [
        {"collection": d.collection, "rel": d.rel, "path": str(d.path), "label": d.label,
         "source": d.source, "date": d.date, "chars": len(d.text), "text": text_digest(d.text),
         "pages": [list(r) for r in d.pages], "headings": [list(r) for r in d.headings]}
        for d in documents
    ])
    w.array("documents.paragraphs",
            np.concatenate([span_rows(d.paragraphs, 2) for d in documents] or [rows(2)]))
    w.array("documents.sentences",
            np.concatenate([span_rows(d.sentences, 3) for d in documents] or [rows(3)]))
    w.array("documents.paragraph_counts",
            np.array([len(d.paragraphs) for d in documents], dtype=np.int64))
    w.array("documents.sentence_counts",
            np.array([len(d.sentences) for d in documents], dtype=np.int64))


def rows(columns: int) -> np.ndarray:
    return np.zeros((0, columns), dtype=np.int64)


def load_documents(
    r: Reader, limits: Limits, cache: Path, stale: list[int] | None = None
) -> tuple[Document, ...]:
    """The documents, their texts read again; one that changed is a StoreError, or with a
    list `stale`, numbered there and given no text."""
    meta = r.json("documents")
    paragraphs, sentences = r.array("documents.paragraphs"), r.array("documents.sentences")
    p_counts = r.array("documents.paragraph_counts")
    s_counts = r.array("documents.sentence_counts")
    if not (len(meta) == len(p_counts) == len(s_counts)
            and int(p_counts.sum()) == len(paragraphs) and int(s_counts.sum()) == len(sentences)
            and paragraphs.shape[1:] == (2,) and sentences.shape[1:] == (3,)):
        raise StoreError("saved index is damaged (document tables do not match)")
    p_ends, s_ends = np.cumsum(p_counts).tolist(), np.cumsum(s_counts).tolist()
    extracted = extract_files(
        [p for m in meta if (p := Path(m["path"])).suffix.lower() in extract.SUFFIXES],
        limits, cache,
    )
    documents = []
    p_at = s_at = 0
    for m, p_end, s_end in zip(meta, p_ends, s_ends, strict=True):
        path = Path(m["path"])
        try:
            got = extracted[path] if path in extracted else read_text(path, limits.max_bytes)
            if isinstance(got, str) and path in extracted:
                raise ValueError(got)  # the reason it can no longer be extracted
            text = got if isinstance(got, str) else got.text
            if len(text) != m["chars"] or text_digest(text) != m["text"]:
                raise StoreError(f"{path} changed since the index was saved")
        except (OSError, ValueError, StoreError) as exc:
            if stale is None:
                raise StoreError(f"{path} cannot be read again ({exc})") from exc
            stale.append(len(documents))
            text = ""
        documents.append(Document(
            collection=m["collection"], rel=m["rel"], path=path, text=text, label=m["label"],
            source=m["source"], date=m["date"],
            paragraphs=Spans(Span, paragraphs[p_at:p_end]),
            sentences=Spans(Sentence, sentences[s_at:s_end]),
            pages=tuple(tuple(x) for x in m["pages"]),
            headings=tuple(tuple(x) for x in m["headings"]),
        ))
        p_at, s_at = p_end, s_end
    return tuple(documents)


def text_digest(text: str) -> str:
    return digest(text.encode("utf-8", "surrogatepass"))
