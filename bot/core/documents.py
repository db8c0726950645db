"""Load documents and split them into paragraphs and sentences with exact character offsets.

Every offset indexes the document's text: ``Path.read_text(encoding="utf-8-sig")`` of a .txt
or .md file, the extracted text of a PDF, HTML or DOCX file (bot/core/extract; `quotebot text
FILE` prints it). A quote is always ``document.text[start:end]``.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.core import extract
from bot.core.extract.batch import extract_files
from bot.core.extract.model import Extracted, Limits, Region

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
SUFFIXES = TEXT_SUFFIXES + extract.SUFFIXES
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A "sentence" longer than this (a 1 MB line with no full stop) is cut at whitespace into
# passages, so that one quote stays readable; the pieces are still verbatim slices.
MAX_PASSAGE_CHARS = 3000


@dataclass(frozen=True)
class Span:
    start: int
    end: int


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
    # opens (HTML, DOCX, Markdown). Offsets into text, like every other.
    pages: Sequence[Region] = field(default=(), repr=False)
    headings: Sequence[Region] = field(default=(), repr=False)


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


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# --- loading -------------------------------------------------------------------------------


def iter_files(folder: Path) -> Iterator[Path]:
    """Every document (SUFFIXES) under folder, recursively, in a stable order; hidden paths
    skipped."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            yield path


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


def load_folder(
    folder: Path,
    collection: str,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    cache_dir: Path | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """Load every document under folder; a file that cannot be used is reported and skipped.
    PDF, HTML and DOCX files are extracted within limits, through the cache in cache_dir."""
    metadata = metadata or {}
    documents: list[Document] = []
    skipped: list[Skipped] = []
    paths = list(iter_files(folder))
    extracted = extract_files(
        [p for p in paths if p.suffix.lower() in extract.SUFFIXES],
        limits or Limits(max_bytes=max_bytes), cache_dir,
    )
    for path in paths:
        rel = path.relative_to(folder).as_posix()
        try:
            text, found = _text_of(path, extracted, max_bytes)
        except (OSError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else f"unreadable ({exc.strerror})"
            skipped.append(Skipped(path, reason))
            log.warning("skipped %s: %s", path, reason)
            continue
        documents.append(
            parse_document(text, collection, rel, path, metadata.get(rel, {}), found)
        )
    return documents, skipped


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
        for s, e in split_sentences(text, para.start, para.end):
            flat += (s, e, number)
    sentences = Spans(Sentence, np.array(flat, dtype=np.int64).reshape(-1, 3))
    headings = _headings(text, paragraphs, extracted, markdown)
    # Without a label or title: a Markdown file's first heading, else its file name.
    heading = " ".join(headings[0][2].split()) if markdown and headings else ""
    return Document(
        collection=collection,
        rel=rel,
        path=path,
        text=text,
        label=fields.get("label") or fields.get("title") or heading or file_label(rel),
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
    return markdown_headings(text, paragraphs) if markdown else ()


_HEADING = re.compile(r"#{1,6}[ \t]+(.*?)[ \t#]*$")


def markdown_headings(text: str, paragraphs: Sequence[Span]) -> tuple[Region, ...]:
    """(start, end, heading text) of each Markdown section: from its heading to the end of
    the paragraph before the next heading, or of the text."""
    starts = [(p.start, m.group(1)) for p in paragraphs
              if (m := _HEADING.match(text, p.start, p.end)) and m.group(1)]
    if not starts:
        return ()
    para_ends = [p.end for p in paragraphs]
    ends = [para_ends[bisect_right(para_ends, s) - 1] for s, _ in starts[1:]]
    ends.append(para_ends[-1] if para_ends else len(text))
    return tuple((s, e, title) for (s, title), e in zip(starts, ends, strict=True))


def file_label(rel: str) -> str:
    """The label of a document whose metadata and text name none: its file name without the
    extension, "_" and "-" read as spaces ("siversk_report-2.txt" -> "siversk report 2"); the
    path itself if nothing is left."""
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return " ".join(re.sub(r"[_-]+", " ", stem).split()) or rel


_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """Simple ``key: value`` front matter of a Markdown file, and where the body starts."""
    match = _FRONT.match(text)
    if not match:
        return {}, 0
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        kv = _FRONT_LINE.match(line)
        if kv:
            value = kv.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[kv.group(1).lower()] = value
    return fields, match.end()


# --- paragraphs ----------------------------------------------------------------------------

_BLANK = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"[^\n]+")


def split_paragraphs(text: str, start: int = 0, markdown: bool = False) -> tuple[Span, ...]:
    """Blocks separated by blank lines; in a file with no blank line between its blocks of text,
    each line is a paragraph (one paragraph a line is the common shape of plain-text dumps).
    Markdown headings are paragraphs of their own."""
    blocks = _blocks(text, start)
    if len(blocks) == 1:
        blocks = [Span(m.start(), m.end()) for m in _LINE.finditer(text, start)]
    elif markdown:
        blocks = [line for block in blocks for line in _split_headings(text, block)]
    return tuple(s for b in blocks if (s := _strip(text, b.start, b.end)) is not None)


def _blocks(text: str, start: int) -> list[Span]:
    blocks, pos = [], start
    for match in _BLANK.finditer(text, start):
        blocks.append(Span(pos, match.start()))
        pos = match.end()
    blocks.append(Span(pos, len(text)))
    return [b for b in blocks if text[b.start : b.end].strip()]


def _split_headings(text: str, block: Span) -> list[Span]:
    pieces, pos = [], block.start
    for match in re.finditer(r"^#{1,6}[ \t].*$", text[block.start : block.end], re.M):
        s, e = block.start + match.start(), block.start + match.end()
        pieces += [Span(pos, s), Span(s, e)]
        pos = e
    pieces.append(Span(pos, block.end))
    return pieces


def _strip(text: str, start: int, end: int) -> Span | None:
    # str.strip() removes exactly the characters for which str.isspace() is true.
    piece = text[start:end]
    left = piece.lstrip()
    if not left:
        return None
    return Span(end - len(left), end - (len(left) - len(left.rstrip())))


# --- sentences -----------------------------------------------------------------------------

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen col lt sgt capt cmdr adm maj gov sen rep pres rev hon fr st jr sr mt
    ft vs v no nos vol vols fig figs jan feb mar apr jun jul aug sep sept oct nov dec inc ltd
    co corp bros approx dept est al cf ca pp e.g i.e a.m p.m u.s u.k u.n u.s.a op ed eds art
    sec ch para nr tel
    """.split()
)
_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
_END = re.compile(r"[.!?…]+[\"'”’»)\]}]*(?=\s)")
_VISIBLE = re.compile(r"\S")
_WORD_BACK = re.compile(r"[^\s" + re.escape(_OPENERS) + "]*")
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_WINDOW = 32


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within text[start:end]. A full stop after an abbreviation or an initial
    ("U.S.", "Gen.", "Dec. 11", "J. R. R.") does not end a sentence; closing quotes and
    brackets stay with the sentence they close."""
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _END.finditer(text, start, end):
        nxt = _next_visible(text, match.end(), end)
        if nxt is None or not _starts_sentence(text[nxt]):
            continue
        lone_dot = text[match.start()] == "." and len(match.group(0)) - _closers(match) == 1
        if lone_dot and _is_abbreviation(text, pos, match.start()):
            continue
        spans.append((pos, match.end()))
        pos = nxt
    spans.append((pos, end))
    out = []
    for s, e in spans:
        stripped = _strip(text, s, e)
        if stripped is not None:
            out.extend(_cap_length(text, stripped.start, stripped.end))
    return out


def _closers(match: re.Match[str]) -> int:
    token = match.group(0)
    return len(token) - len(token.rstrip(_CLOSERS))


def _next_visible(text: str, pos: int, end: int) -> int | None:
    match = _VISIBLE.search(text, pos, end)  # \S is exactly "not str.isspace()"
    return None if match is None else match.start()


def _starts_sentence(char: str) -> bool:
    """A sentence may start with anything but a lower-case letter or trailing punctuation."""
    return not char.islower() and char not in ",;:)]}-–—"


def _is_abbreviation(text: str, floor: int, dot: int) -> bool:
    # The word before the dot: back to whitespace, an opening quote or bracket, or floor.
    # Searched in a reversed window of the text; a longer word is walked back to its start.
    low = max(floor, dot - _WINDOW)
    word_start = dot - _WORD_BACK.match(text[low:dot][::-1]).end()
    if word_start == low:
        while word_start > floor and not (
            text[word_start - 1].isspace() or text[word_start - 1] in _OPENERS
        ):
            word_start -= 1
    word = text[word_start:dot]
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. R. R. Tolkien"
    if _ACRONYM.fullmatch(word):
        return True  # a dotted acronym: "U.S.", "e.g."
    return word.lower() in ABBREVIATIONS


def _cap_length(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > MAX_PASSAGE_CHARS:
        cut = text.rfind(" ", start + MAX_PASSAGE_CHARS // 2, start + MAX_PASSAGE_CHARS)
        if cut <= start:
            cut = start + MAX_PASSAGE_CHARS
        piece = _strip(text, start, cut)
        if piece is not None:
            pieces.append((piece.start, piece.end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces
