"""The headings of a Markdown file's text, with exact offsets: ATX (`# Title`, `### x ###`)
and setext (a line of text over a line of `===` or `---`), as CommonMark reads them; a line
inside a fenced code block (``` or ~~~) is never one."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol

from bot.core.extract.model import Region


class _Spanned(Protocol):
    start: int
    end: int


class Heading(NamedTuple):
    start: int  # text[start:end] is the heading's text, a paragraph of its own
    end: int
    after: int  # where the text after it starts: past a setext underline, else end
    title: str


# The lines that may be structure (at most three spaces in: four are code): a fence, an ATX
# heading's opening sequence, a setext underline.
_MARK = re.compile(
    r"^ {0,3}(?:(?P<fence>`{3,}|~{3,})|(?P<atx>#{1,6})(?=[ \t]|$)|(?P<under>=+|-+)[ \t]*$)",
    re.M,
)
# An ATX heading's optional closing sequence: #s after a space, or alone ("# Learning C#"
# keeps its #).
_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
# Lines a setext underline cannot take as its heading: a list item or a block quote (the
# underline is then a thematic break, or the item's lazy continuation), a thematic break.
_NOT_TEXT = re.compile(r" {0,3}(?:[-*+][ \t]|[-*+]$|\d{1,9}[.)](?:[ \t]|$)|>)")
_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def headings(text: str, start: int = 0) -> list[Heading]:
    """Every heading of text[start:] (start at a line's start), in order."""
    found: list[Heading] = []
    fence: tuple[str, int] | None = None  # the open fence's character and length
    floor = start  # a setext heading's text starts at or after this
    lazy = -1  # end of an underline read as a list item's text: its paragraph has no heading
    for m in _MARK.finditer(text, start):
        line_end = _line_end(text, m.end())
        mark = m["fence"]
        if fence is not None:
            if mark and mark[0] == fence[0] and len(mark) >= fence[1] and not (
                text[m.end() : line_end].strip()
            ):
                fence, floor, lazy = None, line_end, -1
            continue
        if mark:
            # A backtick fence's info string holds no backtick ("```a``` b" is inline code).
            if mark[0] == "~" or "`" not in text[m.end() : line_end]:
                fence = (mark[0], len(mark))
            continue
        if m["atx"]:
            title = _CLOSING.sub("", text[m.end() : line_end].strip(" \t")).strip(" \t")
            s = m.start("atx")
            found.append(Heading(s, _rstrip(text, s, line_end), line_end, title))
            floor, lazy = line_end, -1
            continue
        if lazy >= 0 and not _BLANK_LINE.search(text, lazy, m.start()):
            lazy = line_end
            continue
        got = _setext_text(text, floor, m.start())
        if got is None:
            lazy = line_end if _after_item(text, floor, m.start()) else lazy
            continue
        s, e = got
        title = " ".join(text[s:e].split())
        found.append(Heading(s, e, line_end, title))
        floor = line_end
    return found


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _lines_back(text: str, floor: int, line_start: int) -> Iterator[tuple[int, str]]:
    """The lines before the one at line_start, last first, down to floor: (start, line)."""
    end = line_start - 1
    while end >= floor and end > 0:
        s = max(text.rfind("\n", 0, end) + 1, floor)
        yield s, text[s:end]
        end = s - 1


def _setext_text(text: str, floor: int, line_start: int) -> tuple[int, int] | None:
    """The span of the paragraph text a setext underline at line_start makes a heading: the
    lines above it back to a blank line or other structure; None where the line above is
    blank, a list item's or a block quote's (the underline is then no heading)."""
    first = None
    for s, line in _lines_back(text, floor, line_start):
        if not line.strip() or _BREAK.match(line):
            break
        if _NOT_TEXT.match(line):
            return None
        first = s
    if first is None:
        return None
    first += len(text[first:line_start]) - len(text[first:line_start].lstrip())
    return first, _rstrip(text, first, line_start)


def _after_item(text: str, floor: int, line_start: int) -> bool:
    """Whether the lines above line_start (back to a blank line) start with a list item or
    a block quote: then every underline until a blank line is that item's text."""
    for _, line in _lines_back(text, floor, line_start):
        if not line.strip():
            return False
        if _NOT_TEXT.match(line):
            return True
    return False


def markdown_headings(text: str, paragraphs: Sequence[_Spanned]) -> tuple[Region, ...]:
    """(start, end, heading text) of each Markdown section: from its heading to the end of
    the paragraph before the next heading, or of the text. paragraphs are split_paragraphs'
    of the text, each heading a paragraph of its own."""
    if not paragraphs:
        return ()
    first = text.rfind("\n", 0, paragraphs[0].start) + 1
    para_starts = {p.start for p in paragraphs}
    starts = [(h.start, h.title) for h in headings(text, first)
              if h.title and h.start in para_starts]
    if not starts:
        return ()
    para_ends = [p.end for p in paragraphs]
    ends = [para_ends[bisect_right(para_ends, s) - 1] for s, _ in starts[1:]]
    ends.append(para_ends[-1])
    return tuple((s, e, title) for (s, title), e in zip(starts, ends, strict=True))
