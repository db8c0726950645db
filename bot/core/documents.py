"""Load documents: files -> text, metadata and the paragraphs and sentences bot/core/textsplit.py
finds in it, with exact character offsets.

Every offset indexes the document's text: ``Path.read_text(encoding="utf-8-sig")`` of a .txt
or .md file, the extracted text of a PDF, HTML or DOCX file (bot/core/extract; `quotebot text
FILE` prints it). A quote is always ``document.text[start:end]``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bot.core import extract
from bot.core.chunks import POOL_FAILED, worker_starting
from bot.core.extract.batch import extract_files
from bot.core.extract.model import Extracted, Limits, Region
from bot.core.frontmatter import front_matter
from bot.core.mdstructure import markdown_headings, summary_at
from bot.core.textsplit import Span, split_paragraphs, split_rows, split_sentences
from bot.core.txtstructure import text_regions
from bot.core.walk import Skipped, walk_files

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A label longer than this is cut: it heads every quote from its document (a sources.yaml
# entry, a title or a first heading of 10,000 characters would bury the quote).
MAX_LABEL = 200  # characters


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    paragraph: int  # 1-based paragraph number


@dataclass(frozen=True)
class Document:
    collection: str
    rel: str  # posix path relative to the corpus folder it was found in
    path: Path
    text: str
    label: str
    source: str = ""
    date: str = ""
    paragraphs: Sequence[Span] = field(default=(), repr=False)
    sentences: Sequence[Sentence] = field(default=(), repr=False)  # Spans after parsing
    # (start, end, page number) of a PDF; (start, end, heading text) of the section a heading
    # opens (HTML, DOCX, Markdown, PDF). Offsets into text, like every other.
    pages: Sequence[Region] = field(default=(), repr=False)
    headings: Sequence[Region] = field(default=(), repr=False)

    def span(self, start: int, end: int) -> str:
        """text[start:end] (a loaded document may give it without decoding all its text)."""
        return self.text[start:end]


class Spans(Sequence):
    """A document's paragraphs or sentences as a read-only sequence over the rows of an int64
    array (start, end[, paragraph]), making each Span/Sentence only when asked: a million
    sentence objects would take seconds to make and about 200 MB to hold. Compares equal to
    the tuple it stands for."""

    __slots__ = ("_make", "rows")

    def __init__(self, make: Callable[..., Any], rows: np.ndarray) -> None:
        self._make, self.rows = make, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return tuple(self)[i]
        return self._make(*(int(x) for x in self.rows[i]))

    def __iter__(self) -> Iterator[Any]:
        make = self._make
        return (make(*row) for row in self.rows.tolist())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


def span_rows(spans: Sequence[Any], columns: int) -> np.ndarray:
    """The (n, columns) int64 rows of a document's paragraphs (2) or sentences (3)."""
    if isinstance(spans, Spans):
        return spans.rows
    fields = ("start", "end", "paragraph")[:columns]
    flat = [getattr(s, f) for s in spans for f in fields]
    return np.array(flat, dtype=np.int64).reshape(-1, columns)


# --- loading -------------------------------------------------------------------------------


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The document's text, or ValueError with the reason it cannot be used."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(
            f"too large ({size:,} bytes, the limit is {max_bytes:,}): split the file or raise "
            "documents.max_bytes in config/bot.yaml"
        )
    with path.open("rb") as fh:
        head = fh.read(8192)
    if _utf16(head):
        raise ValueError("UTF-16 text (Windows \"Unicode\"): re-save the file as UTF-8")
    if b"\x00" in head:
        raise ValueError("binary file (it contains NUL bytes): only UTF-8 text can be quoted")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8"
        ) from None
    if "\x00" in text:
        raise ValueError("binary file (it contains NUL bytes): only UTF-8 text can be quoted")
    if not text.strip():
        raise ValueError("empty: the file has no text to quote")
    return text


def _utf16(head: bytes) -> bool:
    """Whether a file's first bytes are UTF-16 text: a byte-order mark, or (without one)
    every other byte NUL, as Latin letters are in UTF-16 (its NULs once read it as binary)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    even, odd = head[0::2], head[1::2]
    return len(head) >= 16 and any(
        half.count(0) >= 0.9 * len(half) and not other.count(0) for half, other in
        ((even, odd), (odd, even)))


class DocumentFile(NamedTuple):
    """A document file to read: its collection, its path relative to its folder, where it
    is, and its entry in the folder's labels file."""

    collection: str
    rel: str
    path: Path
    meta: Mapping[str, str]


def load_folder(
    folder: Path,
    collection: str,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    cache_dir: Path | None = None,
    skip: Collection[Path] = (),
) -> tuple[list[Document], list[Skipped]]:
    """Load every document under folder (but not under the folders in skip); a file that
    cannot be used is reported and skipped. PDF, HTML and DOCX files are extracted within
    limits, through the cache in cache_dir."""
    metadata = metadata or {}
    files, refused = [], []
    for found in walk_files(folder, skip, refused):
        files.append(DocumentFile(collection, found.rel, found.path, metadata.get(found.rel, {})))
    documents, skipped = load_files(files, max_bytes, limits, cache_dir)
    return documents, refused + skipped


def load_files(
    files: Sequence[DocumentFile],
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """Load the documents of files, in their order (load_folder reads a folder's, an index
    update only the files added or changed); a file that cannot be used is reported and
    skipped. PDF, HTML and DOCX files are extracted within limits (default
    Limits(max_bytes)), through the cache in cache_dir: a changed one is extracted alone.
    Many text files are read and split in worker processes (default: one a CPU)."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    extracted = extract_files(
        [f.path for f in files if f.path.suffix.lower() in extract.SUFFIXES],
        limits or Limits(max_bytes=max_bytes), cache_dir,
    )
    plain = iter(_load_plain([f for f in files if f.path not in extracted], max_bytes, workers))
    for f in files:
        got = _load(f, max_bytes, extracted) if f.path in extracted else next(plain)
        if isinstance(got, str):
            skipped.append(Skipped(f.path, got))
            log.warning("skipped %s: %s", f.path, got)
        else:
            documents.append(got)
    return documents, skipped


def _load(f: DocumentFile, max_bytes: int, extracted: Mapping[Path, Extracted | str]
          ) -> Document | str:
    """The document of f, or the reason it cannot be used."""
    try:
        text, found = _text_of(f.path, extracted, max_bytes)
    except (OSError, ValueError) as exc:
        return str(exc) if isinstance(exc, ValueError) else f"unreadable ({exc.strerror})"
    doc = parse_document(text, f.collection, f.rel, f.path, f.meta, found)
    # (A Markdown file of front matter alone, or of markup alone, has nothing to quote.)
    return doc if len(doc.sentences) else "empty: the file has no text to quote"


def _load_batch(files: list[DocumentFile], max_bytes: int) -> list[Document | str]:
    return [_load(f, max_bytes, {}) for f in files]


# Below this many bytes of text files, worker processes cost more (start-up, imports, sending
# the documents back) than they save; a worker is sent this many files at a time.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
BATCH_FILES = 50


def _load_plain(files: list[DocumentFile], max_bytes: int, workers: int | None
                ) -> list[Document | str]:
    """_load of each text file, in order: splitting sentences is most of a build's parse
    time, and the files are independent, so a large corpus is split on every CPU."""
    if workers is None:
        workers = min(len(os.sched_getaffinity(0)), 8)
    if workers > 1 and _size(files) >= PARALLEL_MIN_BYTES:
        batches = [files[i : i + BATCH_FILES] for i in range(0, len(files), BATCH_FILES)]
        try:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                done = pool.map(_load_batch, batches, repeat(max_bytes))
                return [got for batch in done for got in batch]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            worker_starting(exc)
            log.warning("reading files in one process: " + POOL_FAILED, exc)
    return _load_batch(files, max_bytes)


def _size(files: list[DocumentFile]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):  # reported when the file is read
            total += f.path.stat().st_size
    return total


def document_text(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, limits: Limits | None = None
) -> str:
    """The text a document's offsets index: the file's, or what is extracted from a PDF,
    HTML or DOCX file (within limits, default Limits(max_bytes)). ValueError with the reason
    a file cannot be quoted."""
    suffix = path.suffix.lower()
    if suffix not in extract.SUFFIXES:
        return read_text(path, max_bytes)
    got = extract_files([path], limits or Limits(max_bytes=max_bytes))
    return _text_of(path, got, max_bytes)[0]


def _text_of(
    path: Path, extracted: Mapping[Path, Extracted | str], max_bytes: int
) -> tuple[str, Extracted | None]:
    if path not in extracted:
        return read_text(path, max_bytes), None
    got = extracted[path]
    if isinstance(got, str):
        raise ValueError(got)  # the reason it could not be extracted
    return got.text, got


def parse_document(
    text: str, collection: str, rel: str, path: Path, meta: Mapping[str, str] | None = None,
    extracted: Extracted | None = None,
) -> Document:
    """A document from its text; `extracted` (whose .text is text) brings the paragraphs,
    pages, headings and metadata read from a PDF, HTML or DOCX file. sources.yaml's `meta`
    overrides the file's own metadata."""
    markdown = rel.lower().endswith(".md")
    front, body_start = front_matter(text) if markdown else ({}, 0)
    if extracted is not None:
        front = dict(extracted.meta)
    fields = {**front, **{k: str(v) for k, v in (meta or {}).items() if v is not None}}
    if extracted is not None:
        paragraphs = tuple(Span(s, e) for s, e in extracted.paragraphs)
    else:
        paragraphs = split_paragraphs(text, body_start, markdown=markdown)
    flat: list[int] = []
    for number, para in enumerate(paragraphs, start=1):
        split = split_rows if para.rows else split_sentences
        for s, e in split(text, para.start, para.end):
            flat += (s, e, number)
    sentences = Spans(Sentence, np.array(flat, dtype=np.int64).reshape(-1, 3))
    headings = _headings(text, paragraphs, extracted, markdown)
    # Without a label or title: a Markdown file's first heading (not a folding block's
    # <summary>), else its file name.
    heading = next((str(r[2]) for r in headings if not summary_at(text, r[0])), "") if (
        markdown) else ""
    named = (fields.get("label"), fields.get("title"), heading, file_label(rel))
    label = next((found for name in named if name and (found := clean_label(name))), rel)
    return Document(
        collection=collection,
        rel=rel,
        path=path,
        text=text,
        label=label,
        source=fields.get("source", ""),
        date=fields.get("date", ""),
        paragraphs=Spans(Span, span_rows(paragraphs, 2)),
        sentences=sentences,
        pages=extracted.pages if extracted else (),
        headings=headings,
    )


def _headings(
    text: str, paragraphs: Sequence[Span], extracted: Extracted | None, markdown: bool
) -> Sequence[Region]:
    if extracted is not None:
        return extracted.headings
    return markdown_headings(text, paragraphs) if markdown else text_regions(text, paragraphs)


def clean_label(label: str) -> str:
    """A label as it is shown: every run of whitespace one space (a label written over lines
    would break the line that frames a quote), at most MAX_LABEL characters."""
    return " ".join(label.split())[:MAX_LABEL].rstrip()


def file_label(rel: str) -> str:
    """The label of a document whose metadata and text name none: its file name without the
    extension, "_" and "-" read as spaces ("siversk_report-2.txt" -> "siversk report 2"); the
    path itself if nothing is left."""
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return " ".join(re.sub(r"[_-]+", " ", stem).split()) or rel
