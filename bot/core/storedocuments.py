"""The documents' part of a save: each document's metadata and the checksum of its text,
its paragraph and sentence tables, and every text as one UTF-8 buffer. Load reads the texts
again from the files (through the extraction cache for PDF, HTML and DOCX) and checks them
against the checksum, so a changed document is found, except those whose file a scan found
unchanged from its stat (bot/core/filedigests.py); the texts quoted are the saved buffer's,
which the same checksums vouch for (and a text read again is byte-compared with).
Memory-mapped (store.load's shared=True), that buffer is one copy per machine: a process
decodes only the texts it touches (issue #17). Used by bot/core/store.py.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.core import extract
from bot.core.checkedfiles import Reader, StoreError, Writer, digest
from bot.core.documents import Document, Sentence, Span, Spans, read_text, span_rows
from bot.core.extract.batch import extract_files
from bot.core.extract.model import Limits

log = logging.getLogger(__name__)

# Texts a process keeps decoded: the documents an answer quotes are touched a few times each,
# and a document's text is a few microseconds to decode again.
DECODED = 64


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
    encoded = [d.text.encode("utf-8", "surrogatepass") for d in documents]
    w.array("documents.texts", np.frombuffer(b"".join(encoded), dtype=np.uint8))
    w.array("documents.text_ends",
            np.cumsum([len(b) for b in encoded], dtype=np.int64).reshape(-1))


def rows(columns: int) -> np.ndarray:
    return np.zeros((0, columns), dtype=np.int64)


def load_documents(
    r: Reader, limits: Limits, cache: Path, stale: list[int] | None = None,
    files: Mapping[tuple[str, str], tuple[str, bool]] | None = None,
    digests: Sequence[str] = (),
) -> tuple[Document, ...]:
    """The documents, their texts read again; one that changed is a StoreError, or with a
    list `stale`, numbered there and given no text.

    files ((collection, path) -> (digest, trusted)): the documents' files as just scanned,
    each with its digest (storekey.document_digest) and whether that digest was known from the
    file's stat alone (bot/core/filedigests.py); digests: the saved documents' digests. A
    text file (.txt, .md) trusted to have its saved digest is not read again: its saved
    text is the one indexed from those bytes. One whose file is gone or has another digest
    is stale without being read (with `stale`). Every other is read and checked."""
    meta = r.json("documents")
    paragraphs, sentences = r.array("documents.paragraphs"), r.array("documents.sentences")
    p_counts = r.array("documents.paragraph_counts")
    s_counts = r.array("documents.sentence_counts")
    texts = Texts(r.array("documents.texts"), r.array("documents.text_ends"))
    if not (len(meta) == len(p_counts) == len(s_counts) == len(texts)
            and int(p_counts.sum()) == len(paragraphs) and int(s_counts.sum()) == len(sentences)
            and paragraphs.shape[1:] == (2,) and sentences.shape[1:] == (3,)
            and (files is None or len(digests) == len(meta))):
        raise StoreError("saved index is damaged (document tables do not match)")
    p_ends, s_ends = np.cumsum(p_counts).tolist(), np.cumsum(s_counts).tolist()
    verdicts = [_CHECK if files is None else _verdict(m, g, files)
                for m, g in zip(meta, digests or [None] * len(meta), strict=True)]
    extracted = extract_files(
        [Path(m["path"]) for m, v in zip(meta, verdicts, strict=True)
         if v == _CHECK and _extracted(m["path"])],
        limits, cache,
    )
    documents = []
    p_at = s_at = 0
    for m, p_end, s_end, verdict in zip(meta, p_ends, s_ends, verdicts, strict=True):
        path = Path(m["path"])
        fields = dict(
            collection=m["collection"], rel=m["rel"], path=path, label=m["label"],
            source=m["source"], date=m["date"],
            paragraphs=Spans(Span, paragraphs[p_at:p_end]),
            sentences=Spans(Sentence, sentences[s_at:s_end]),
            pages=tuple(tuple(x) for x in m["pages"]),
            headings=tuple(tuple(x) for x in m["headings"]),
        )
        p_at, s_at = p_end, s_end
        if verdict == _SAME or (verdict == _CHECK and _checked(
                path, m, extracted, limits, texts, len(documents), stale)):
            documents.append(StoredDocument(texts, len(documents), **fields,
                                            ascii_text=texts.size(len(documents)) == m["chars"]))
        elif stale is None:
            raise StoreError(f"{path} changed since the index was saved")
        else:  # stale: no text, for an update to remove
            stale.append(len(documents))
            documents.append(Document(text="", **fields))
    return tuple(documents)


_SAME, _CHANGED, _CHECK = "same", "changed", "check"


def _verdict(
    m: dict, saved: str, files: Mapping[tuple[str, str], tuple[str, bool]]
) -> str:
    found = files.get((m["collection"], m["path"]))
    if found is None or found[0] != saved:
        return _CHANGED
    # A PDF, HTML or DOCX file's text also depends on the extraction code, which may have
    # changed since: it is extracted again (through the cache) and compared, as before.
    trusted = found[1] and not _extracted(m["path"])
    return _SAME if trusted else _CHECK


def _extracted(path: str) -> bool:
    """Whether the file at path is a PDF, HTML or DOCX file, whose text is extracted. (No
    Path made: a start of 100k documents made 300k, a second of it.)"""
    return os.path.splitext(path)[1].lower() in extract.SUFFIXES


def _checked(
    path: Path, m: dict, extracted: Mapping[Path, object], limits: Limits, texts: Texts,
    number: int, stale: list[int] | None,
) -> bool:
    """Whether document number's file still holds the text saved (read again and compared
    with its checksum); False when it changed or cannot be read (a StoreError without
    `stale`). A saved text that is not the file's is a damaged save: StoreError."""
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
        return False
    if not texts.holds(number, text):
        # What is quoted (the saved bytes) must be what was just read and checked.
        raise StoreError("saved index is damaged (a document's saved text differs)")
    return True


class Texts:
    """The saved documents' texts: one UTF-8 buffer (surrogatepass, as text_digest encodes)
    and where each document's bytes end. A text is decoded when asked, and the last DECODED
    asked are kept."""

    def __init__(self, data: np.ndarray, ends: np.ndarray) -> None:
        if data.ndim != 1 or data.dtype != np.uint8 or ends.ndim != 1 or (
                len(ends) and (int(ends[-1]) != len(data) or bool((np.diff(ends) < 0).any())
                               or int(ends[0]) < 0)):
            raise StoreError("saved index is damaged (document texts do not match)")
        self.data, self.ends = data, ends
        # Slices of a memoryview cost a third of a numpy view's: an answer reads ~25 spans.
        self._bytes = memoryview(data)
        self.text = functools.lru_cache(maxsize=DECODED)(self._decode)

    def __len__(self) -> int:
        return len(self.ends)

    def holds(self, number: int, text: str) -> bool:
        """Whether document number's saved bytes are text's."""
        return self.view(number) == text.encode("utf-8", "surrogatepass")

    def start(self, number: int) -> int:
        """Where document number's bytes start in the buffer."""
        return int(self.ends[number - 1]) if number else 0

    def size(self, number: int) -> int:
        """Document number's length in bytes."""
        return int(self.ends[number]) - self.start(number)

    def view(self, number: int) -> memoryview:
        """Document number's bytes, not copied."""
        return self._bytes[self.start(number) : int(self.ends[number])]

    def _decode(self, number: int) -> str:
        return str(self.view(number), "utf-8", "surrogatepass")


class StoredDocument(Document):
    """A loaded document whose text stays in the save's buffer until asked for: the same
    fields, equal to the Document with the same values, but `text` is decoded on access."""

    def __init__(self, texts: Texts, number: int, ascii_text: bool = False,
                 **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)  # frozen, as Document
        object.__setattr__(self, "_texts", texts)
        object.__setattr__(self, "_number", number)
        # An ASCII text's bytes (a byte a character, sliced as the text is): spans need no
        # text. None for another text.
        object.__setattr__(self, "_ascii", texts.view(number) if ascii_text else None)

    @property  # type: ignore[override]
    def text(self) -> str:
        return self._texts.text(self._number)

    def span(self, start: int, end: int) -> str:
        # An answer reads a few sentences of each of tens of documents: decoding each
        # document whole (tens of kB) cost more than the rest of its quoting.
        if self._ascii is not None:
            return str(self._ascii[start:end], "ascii")
        return self.text[start:end]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name)
                   for f in dataclasses.fields(Document))

    __hash__ = Document.__hash__


def text_digest(text: str) -> str:
    return digest(text.encode("utf-8", "surrogatepass"))
