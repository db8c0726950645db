"""The words a reader sees where a document is rendered, with where each came from: what a
text fragment (bot/core/links.py) must match. A quote stays a verbatim slice of the document's
text; only its link is made from these words. Markdown syntax (emphasis, link targets, list
and block-quote markers, heading #s, table pipes, comments, front matter) is not seen; nor is
the " | " the HTML and DOCX extractors put between a table row's cells.

Blocks (paragraphs, list items, headings, table cells) are kept apart, because a browser
matches each term of a fragment within one block."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from bot.core.frontmatter import front_matter

TEXT, MARKDOWN, TABLES = "text", "markdown", "tables"
# Marks a hidden character: a lone surrogate, which no text decoded from a file holds.
_HIDDEN = "\udfff"
# A word as rendered: visible characters, with hidden syntax ("**", "](url)") inside it.
_WORD = re.compile(r"[^\s\udfff]+(?:\udfff+[^\s\udfff]+)*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_CELL = re.compile(r"(?<!\S)\|(?!\S)")  # the extractors' CELL_SEPARATOR, spaces aside


@dataclass(frozen=True)
class Visible:
    """text: the visible words, one space apart within a block and one newline between
    blocks; folded: text compared as a browser does (case-insensitive), character for
    character; word_starts/word_ends: each word's span in the source text, word_at its start
    in text."""

    text: str
    folded: str
    word_starts: array[int]
    word_ends: array[int]
    word_at: array[int]
    masked: str  # the source with hidden characters as _HIDDEN

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where the source's text[start:end] is in text, or None when none of it is seen."""
        first = bisect_right(self.word_ends, start)
        last = bisect_left(self.word_starts, end)
        if first >= last:
            return None
        return self._at(first, max(start, self.word_starts[first])), self._at(
            last - 1, min(end, self.word_ends[last - 1]))

    def _at(self, word: int, offset: int) -> int:
        """The position in text of source offset `offset` within word `word`."""
        begin = self.word_starts[word]
        return self.word_at[word] + (offset - begin) - self.masked.count(_HIDDEN, begin, offset)


def kind_of(name: str) -> str:
    """How a document of this file name is rendered."""
    lower = name.lower()
    if lower.endswith(".md"):
        return MARKDOWN
    return TABLES if lower.endswith((".html", ".htm", ".docx")) else TEXT


@lru_cache(maxsize=4)  # one document, asked for each of its quotes
def visible(text: str, kind: str = TEXT) -> Visible:
    hidden: list[tuple[int, int]] = []
    breaks = [m.start() for m in _BLANK_LINE.finditer(text)]
    if kind == MARKDOWN:
        _markdown(text, hidden, breaks)
    elif kind == TABLES:
        for m in _CELL.finditer(text):
            hidden.append((m.start(), m.end()))
            breaks.append(m.start())
    breaks.sort()
    masked = _mask(text, hidden)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at: list[int] = []
    size, block = 0, -1
    for m in _WORD.finditer(masked):
        word = m.group().replace(_HIDDEN, "")
        here = bisect_right(breaks, m.start())
        if parts:
            parts.append(" " if here == block else "\n")
            size += 1
        block = here
        starts.append(m.start())
        ends.append(m.end())
        at.append(size)
        parts.append(word)
        size += len(word)
    shown = "".join(parts)
    # (Arrays, not tuples: a 1 MB document has about 190,000 words, and 4 are kept.)
    return Visible(shown, _fold(shown), array("q", starts), array("q", ends), array("q", at),
                   masked)


def _fold(text: str) -> str:
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    # (A few characters lower to two, "İ" -> "i̇": keep those as they are, to keep positions.)
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _mask(text: str, hidden: list[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for start, end in sorted(hidden):
        start = max(start, pos)
        if end <= start:
            continue
        pieces += [text[pos:start], _HIDDEN * (end - start)]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


# --- Markdown (CommonMark and GFM tables, near enough for matching words) -------------------

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~]|$)", re.M)
_LINE = re.compile(r"^.*$", re.M)
_MARKERS = re.compile(
    r"[ \t]*((?:>[ \t]?)*)[ \t]*"  # block-quote markers, then a list item's or a heading's
    r"((?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?|#{1,6}(?:[ \t]+|$))?"
)
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_WHOLE_LINE = re.compile(
    r"[ \t]*(?:(?:```|~~~).*"  # a code fence
    r"|(?:[-*_][ \t]*){3,}|=+[ \t]*"  # a thematic break; a setext heading's underline
    r"|\[[^\]\n]+\]:[ \t]*\S.*"  # a link reference definition
    r"|\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*)$"  # a table's delimiter row
)
_DELIMITER_ROW = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$",
                            re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^\s<>]*>")
_LINK = re.compile(  # [text](url "title"), ![alt](url), [text][ref]: the text is seen
    r"(!?\[)[^\[\]\n]*(\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?"
    r"[ \t]*\)|\]\[[^\]\n]*\])"
)
_DELIMITERS = re.compile(r"\*+|_+|~~+|`+")


def _markdown(text: str, hidden: list[tuple[int, int]], breaks: list[int]) -> None:
    """Adds the hidden spans and block breaks of Markdown syntax in text."""
    _, body = front_matter(text)
    hidden.append((0, body))
    # Escaped punctuation is seen as itself: neutralised in `scan` so no rule below takes it.
    scan = list(text)
    for m in _ESCAPE.finditer(text, body):
        hidden.append((m.start(), m.start() + 1))
        if m.end() > m.start() + 1:
            scan[m.start() + 1] = "a"
    scan = "".join(scan)
    _markdown_lines(scan, body, hidden, breaks)
    for pattern in (_COMMENT, _TAG, _AUTOLINK):
        for m in pattern.finditer(scan, body):
            if pattern is _AUTOLINK:
                hidden += [(m.start(), m.start() + 1), (m.end() - 1, m.end())]
            else:
                hidden.append(m.span())
    for m in _LINK.finditer(scan, body):
        hidden += [m.span(1), m.span(2)]
    for m in _DELIMITERS.finditer(scan, body):
        before = scan[m.start() - 1] if m.start() > 0 else " "
        after = scan[m.end()] if m.end() < len(scan) else " "
        if before.isspace() and after.isspace():
            continue  # "2 * 3": no emphasis
        if m.group()[0] == "_" and before.isalnum() and after.isalnum():
            continue  # snake_case: intraword underscores are text
        hidden.append(m.span())


def _markdown_lines(scan: str, body: int, hidden: list[tuple[int, int]],
                    breaks: list[int]) -> None:
    """Line-start markers, whole lines of syntax and table pipes; a list item, heading, table
    row or the start of a block quote begins a block."""
    tables = {m.start() for m in _DELIMITER_ROW.finditer(scan, body)}
    depth, in_table = 0, False
    for line in _LINE.finditer(scan, body):
        start, end = line.span()
        if start == end or not scan[start:end].strip():
            depth, in_table = 0, False
            continue
        if _WHOLE_LINE.fullmatch(scan, start, end):
            hidden.append((start, end))
            breaks.append(start)
            in_table = in_table or start in tables
            continue
        marker = _MARKERS.match(scan, start, end)
        quotes = marker.group(1).count(">")
        hidden.append(marker.span())
        if marker.group(2) or quotes != depth:
            breaks.append(start)
        depth = quotes
        if marker.group(2) and marker.group(2).startswith("#"):
            closing = _CLOSING_HASHES.search(scan, start, end)
            if closing:
                hidden.append(closing.span())
        row_start = marker.end()
        next_start = end + 1
        in_table = in_table or next_start in tables or scan.startswith("|", row_start)
        if in_table and "|" in scan[row_start:end]:
            breaks.append(start)
            for pipe in re.finditer(r"\|", scan[row_start:end]):
                at = row_start + pipe.start()
                hidden.append((at, at + 1))
                breaks.append(at)
