"""A plain-text file's headings, with exact offsets. Plain text has no syntax for them; its
writers show one in three ways: a line over an underline row of "-" or "=" about as long as
itself ("THE BAKE SWAP RULES" over "-------------------"), a short line of capitals that
stands alone as a paragraph ("ARTICLE III - MEMBERSHIP"), and a numbered section's title
alone over its first clause ("Section 4. Membership" over "4.1 ..."). Each heads the text
under it to the next, as a Markdown heading does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from bot.core.extract.model import Region
from bot.core.mdstructure import Heading

# A line of capitals longer than this is shouted text, not a heading; so is a longer line
# over an underline row within a paragraph.
MAX_HEADING_CHARS = 60
# An underline row is "about as long" as the line over it when their lengths differ by at
# most this share of the line's, or by MIN_UNDERLINE_SLACK characters ("FAQ" over "------"):
# a rule drawn across the page under a paragraph's last line is no underline.
UNDERLINE_SLACK = 0.25
MIN_UNDERLINE_SLACK = 3
# An underline row: "-" or "=" only, at least three.
_UNDERLINE = re.compile(r"^[^\S\n]*(-{3,}|={3,})[^\S\n]*$", re.M)
# Lines that may be capitals: short, with no ASCII lower-case letter (read again in
# _capitals, which knows every alphabet's case).
_MAYBE_CAPS = re.compile(rf"^[^\S\n]*([^\na-z]{{2,{MAX_HEADING_CHARS}}}?)[^\S\n]*$", re.M)
# A numbered section's title on a line of its own ("Section 4. Membership", "4. Membership",
# "Article IV: Meetings"): a heading when the block under it opens with the section's first
# clause ("4.1 Membership is open to..."), as a constitution's or handbook's do.
_NUMBERED = re.compile(
    r"^[^\S\n]*((?:[A-Z][a-z]{2,11}[^\S\n]+)?(\d{1,3})[.:)]?[^\S\n]+[A-Z][^\n]*?)[^\S\n]*$",
    re.M)
# A section's first clause opening the block under its title: "4.1 ".
_FIRST_CLAUSE = re.compile(r"(\d{1,3})\.1\b")
_VISIBLE = re.compile(r"\S")
# A line that ends so ends a sentence or a clause: text, not a heading ("NO SHOP-BOUGHT
# BAKES!"). A question is a heading (an FAQ's "HOW DO I JOIN?").
_ENDS_TEXT = ".!,;:"


class _Spanned(Protocol):
    start: int
    end: int
    heading: bool


def text_headings(text: str, start: int = 0, one_a_line: bool = False) -> list[Heading]:
    """The headings of plain text text[start:] in order, each a paragraph of its own: a line
    over its underline row (which is in no paragraph: the heading's `after` is past it; an
    overline, the same row above it, is a mark without a title, in none either), and a line
    of capitals (_capitals) that opens its block, alone or over a line of text,
    or in a file of one paragraph a line (one_a_line) on a line of its own, with text after
    it; and a numbered section's title (_NUMBERED) alone over its first clause."""
    found: dict[int, Heading] = {}
    underlines: set[int] = set()  # where each underline row taken starts
    for m in _UNDERLINE.finditer(text, start):
        if m.start() <= start:
            continue
        s, e = _line_before(text, start, m.start())
        line = text[s:e].strip()
        if not any(c.isalnum() for c in line) or not _matches(line, m[1]):
            continue
        first = s == start or not text[_line_before(text, start, s)[0] : s].strip()
        over = None
        if not first and s > start:
            os, oe = _line_before(text, start, s)
            if (os not in underlines and (o := _UNDERLINE.fullmatch(text, os, oe))
                    and o[1][0] == m[1][0] and _matches(line, o[1])):
                over = os, oe
        if not (first or over or (len(line) <= MAX_HEADING_CHARS and line[-1] not in _ENDS_TEXT)):
            continue
        if over is not None:
            found[over[0]] = Heading(over[0], over[1], over[1], "")
        hs = s + len(text[s:e]) - len(text[s:e].lstrip())
        found[hs] = Heading(hs, hs + len(line), m.end(), " ".join(line.split()))
        underlines.add(m.start())  # (no later heading's overline)
    last = len(text.rstrip())  # (text after a line: it ends before this)
    for m in _MAYBE_CAPS.finditer(text, start):
        s, e = m.span(1)
        if s in found or e >= last or not _capitals(m[1]):
            continue
        # Alone, or over text ("JOINING" over "Membership costs £6 a year."), not over the
        # next line of shouted text.
        after = _line_after(text, m.end())
        if one_a_line or (_blank_before(text, start, m.start()) and (
                not after.strip() or any(c.islower() for c in after))):
            found[s] = Heading(s, e, e, " ".join(m[1].split()))
    for m in _NUMBERED.finditer(text, start):
        s, e = m.span(1)
        if (s in found or e - s > MAX_HEADING_CHARS or m[1][-1] in _ENDS_TEXT
                or not _blank_before(text, start, m.start()) or _line_after(text, m.end()).strip()):
            continue
        # (Matched where the next text starts, not in a copy of the rest of the text: one a
        # candidate made a file of such lines quadratic.)
        under = _VISIBLE.search(text, m.end())
        clause = under and _FIRST_CLAUSE.match(text, under.start())
        if clause and clause[1] == m[2]:
            found[s] = Heading(s, e, e, " ".join(m[1].split()))
    return [found[s] for s in sorted(found)]


def text_regions(text: str, paragraphs: Sequence[_Spanned]) -> tuple[Region, ...]:
    """(start, end, heading text) of each section of a plain-text file: from its heading (a
    paragraph flagged `heading`) to the end of the paragraph before the next heading, or of
    the text."""
    heads = [i for i, p in enumerate(paragraphs) if p.heading]
    regions = []
    for k, i in enumerate(heads):
        last = paragraphs[(heads[k + 1] if k + 1 < len(heads) else len(paragraphs)) - 1]
        head = paragraphs[i]
        regions.append((head.start, last.end, " ".join(text[head.start : head.end].split())))
    return tuple(regions)


def _capitals(line: str) -> bool:
    """Whether line reads as a heading in capitals: at least two letters, none lower case
    ("ARTICLE III - MEMBERSHIP", "SECTION 2: FEES"), not ending a sentence."""
    letters = [c for c in line if c.isalpha()]
    return (len(letters) >= 2 and not any(c.islower() for c in letters)
            and line[-1] not in _ENDS_TEXT.replace(":", ""))


def _matches(line: str, row: str) -> bool:
    """Whether underline row is about as long as line."""
    return abs(len(row) - len(line)) <= max(MIN_UNDERLINE_SLACK, len(line) * UNDERLINE_SLACK)


def _line_before(text: str, floor: int, line_start: int) -> tuple[int, int]:
    """(start, end) of the line before the one at line_start (line_start > floor)."""
    end = line_start - 1
    return max(text.rfind("\n", floor, end) + 1, floor), end


def _blank_before(text: str, floor: int, line_start: int) -> bool:
    if line_start <= floor:
        return True
    return not text[_line_before(text, floor, line_start)[0] : line_start].strip()


def _line_after(text: str, line_end: int) -> str:
    """The line after the one ending at line_end ("" at the text's end)."""
    nxt = text.find("\n", line_end + 1)
    return text[line_end : len(text) if nxt < 0 else nxt]
