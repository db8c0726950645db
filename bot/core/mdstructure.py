"""A Markdown file's structure: its headings, with exact offsets: ATX (`# Title`,
`### x ###`) and setext (a line of text over a line of `===` or `---`), as CommonMark reads
them; a line inside a fenced code block (``` or ~~~) is never one. Its tables (GFM: a header
row, a delimiter row, body rows), and what a rendered page hides (HTML tags and comments, link
definitions, contents lines). Its front matter: bot/core/frontmatter.py."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
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


class Table(NamedTuple):
    header: int  # where its header row's line starts; its delimiter row is the next line
    end: int  # where its last row's line ends (the delimiter row's, if it has no body)


# The lines that may be structure (at most three spaces in: four are code): a fence, an ATX
# heading's opening sequence, a setext underline, HTML, a link reference definition, a
# table's delimiter row (cells of "-" with an optional ":" at either end, a "|" between them:
# "|---|:--:|", "--- | ---"); and a list item that opens with a link (a table of contents'
# line, at any depth).
_MARK = re.compile(
    r"^(?: {0,3}(?:(?P<fence>`{3,}|~{3,})|(?P<atx>#{1,6})(?=[ \t]|$)|(?P<under>=+|-+)[ \t]*$"
    r"|(?P<html><[!/A-Za-z])|(?P<ref>\[(?!\^))"
    r"|(?P<alert>>[ \t]*\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*$)"
    r"|(?P<delim>(?=[^\n]*\|)\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$))"
    r"|[ \t]*(?P<toc>(?:[-*+]|\d{1,9}[.)])[ \t]+\[))",
    re.M,
)
# Lines a rendered page does not show, or shows as navigation only: a link reference
# definition ('[discord]: https://discord.gg/x "Our server"'; a footnote's "[^1]: ..." is
# text), and a table of contents' line, a list item that is only a link within the page
# ('2. [Claims and land](#claims-and-land)').
_REFERENCE = re.compile(
    r"[ \t]*\[(?!\^)[^\]\n]+\]:[ \t]*(?:<[^<>\n]*>|\S+)"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*")
_CONTENTS = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[[^\]\n]+\]\(#[^()\s]*\)[ \t]*")
# A cell border: a pipe not escaped ("a \\| b" is one cell).
_PIPE = re.compile(r"(?<!\\)\|")
# A line that ends a table's body (GFM: another block starts): a heading, a fence, HTML, a
# block quote, a list item (a thematic break: _BREAK).
_AFTER_TABLE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|<[!/A-Za-z]|>|[-*+](?:[ \t]|$)"
                          r"|\d{1,9}[.)](?:[ \t]|$))")
# HTML in Markdown, which a reader of the rendered page never sees: a line of tags and
# comments only ('<p align="center">', '</details>', '<!-- TODO -->'), a comment over several
# lines, and the tags around a block element's text on its own line ('<summary>How do I
# ...?</summary>', '<h1 align="center">Harbour bot</h1>').
_TAG = r"<(?:/?[A-Za-z][\w-]*(?:\s[^<>]*)?/?|!--.*?--)>"
_TAGS_ONLY = re.compile(rf"[ \t]*(?:{_TAG}[ \t]*)+$")
_COMMENT_OPEN = re.compile(r"<!--(?:(?!-->).)*$")
_COMMENT_CLOSE = re.compile(r"-->[ \t]*$", re.M)
_BLOCK_TAGS = "details|summary|h[1-6]|p|div|center|li|td|th|dt|dd|figcaption|caption|blockquote"
_INLINE_TAGS = "b|strong|i|em|u|span|code|small|big|font"
_WRAPPED = re.compile(
    rf"(?P<open>[ \t]*<(?:{_BLOCK_TAGS})(?:\s[^<>]*)?>[ \t]*"
    rf"(?:<(?:{_BLOCK_TAGS}|{_INLINE_TAGS})(?:\s[^<>]*)?>[ \t]*)*)(?P<inner>[^<>]*?\S[^<>]*?)"
    rf"(?P<close>[ \t]*(?:</(?:{_BLOCK_TAGS}|{_INLINE_TAGS})>[ \t]*)*"
    rf"</(?:{_BLOCK_TAGS})>[ \t]*)$", re.I)
_HEADING_TAG = re.compile(r"</(?:summary|h[1-6])>", re.I)
# An ATX heading's optional closing sequence: #s after a space, or alone ("# Learning C#"
# keeps its #).
_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
# Lines a setext underline cannot take as its heading: a list item or a block quote (the
# underline is then a thematic break, or the item's lazy continuation), a thematic break.
_NOT_TEXT = re.compile(r" {0,3}(?:[-*+][ \t]|[-*+]$|\d{1,9}[.)](?:[ \t]|$)|>)")
_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def headings(
    text: str, start: int = 0, unquoted: list[tuple[int, int]] | None = None,
    tables: list[Table] | None = None,
) -> list[Heading]:
    """Every heading of text[start:] (start at a line's start), in order; the (start, end)
    of what is in no paragraph added to unquoted if given: each code fence's line (opening
    and closing) and the HTML a rendered page does not show (_TAGS_ONLY, _WRAPPED); each
    table added to tables if given."""
    found: list[Heading] = []
    fence: tuple[str, int] | None = None  # the open fence's character and length
    floor = start  # a setext heading's text starts at or after this
    lazy = -1  # end of an underline read as a list item's text: its paragraph has no heading
    past = start  # a comment over several lines ends here
    closes: list[int] | None = None  # where each line that closes a comment ends, once needed
    for m in _MARK.finditer(text, start):
        if m.start() < past:
            continue
        line_end = _line_end(text, m.end())
        if m["alert"]:  # (a GitHub alert's "> [!NOTE]" line shows as an icon and a word)
            if fence is None and unquoted is not None:
                unquoted.append((m.start(), line_end))
            continue
        if m["ref"] or m["toc"]:
            if fence is None and (_REFERENCE if m["ref"] else _CONTENTS).fullmatch(
                    text, m.start(), line_end):
                if unquoted is not None:
                    unquoted.append((m.start(), line_end))
                floor, lazy = line_end, -1
            continue
        if m["html"]:
            if fence is None:
                if closes is None and "<!--" in text[m.start() : line_end]:
                    closes = [c.end() for c in _COMMENT_CLOSE.finditer(text, start)]
                hidden, heading = _html(text, m.start(), line_end, closes or [])
                if unquoted is not None:
                    unquoted.extend(hidden)
                if heading is not None:
                    found.append(heading)
                if hidden:
                    past = floor = max(line_end, hidden[-1][1])
                    lazy = -1
            continue
        mark = m["fence"]
        if fence is not None:
            if mark and mark[0] == fence[0] and len(mark) >= fence[1] and not (
                text[m.end() : line_end].strip()
            ):
                fence, floor, lazy = None, line_end, -1
                if unquoted is not None:
                    unquoted.append((m.start(), line_end))
            continue
        if mark:
            # A backtick fence's info string holds no backtick ("```a``` b" is inline code).
            if mark[0] == "~" or "`" not in text[m.end() : line_end]:
                fence = (mark[0], len(mark))
                if unquoted is not None:
                    unquoted.append((m.start(), line_end))
            continue
        if m["atx"]:
            title = _CLOSING.sub("", text[m.end() : line_end].strip(" \t")).strip(" \t")
            s = m.start("atx")
            found.append(Heading(s, _rstrip(text, s, line_end), line_end, title))
            floor, lazy = line_end, -1
            continue
        if m["delim"]:  # (never a setext underline: it holds a "|")
            if (table := _table(text, floor, m.start(), line_end)) is not None:
                if tables is not None:
                    tables.append(table)
                # (A body row that looks like a delimiter row opens no second table.)
                past = floor = table.end
                lazy = -1
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


def _html(
    text: str, line_start: int, line_end: int, closes: list[int],
) -> tuple[list[tuple[int, int]], Heading | None]:
    """The spans of the HTML line at line_start that a rendered page does not show: the whole
    line (tags and comments only; a comment that goes on over later lines, through the line
    that closes it), or the tags around a block element's text; and that text as a heading
    where the element is one (<h1>...<h6>, and <summary>, the visible title of a <details>
    block, an FAQ's question)."""
    line = text[line_start:line_end]
    if _TAGS_ONLY.match(line):
        return [(line_start, line_end)], None
    if _COMMENT_OPEN.match(line.lstrip(" ")):
        # (closes: found once for the text; a search from each opening line was quadratic
        # in a file of unclosed "<!--" lines.)
        c = bisect_right(closes, line_end)
        return ([] if c == len(closes) else [(line_start, _line_end(text, closes[c]))]), None
    wrapped = _WRAPPED.match(line)
    if wrapped is None:
        return [], None
    inner_start, inner_end = line_start + wrapped.start("inner"), line_start + wrapped.end("inner")
    hidden = [(line_start, inner_start)]
    if _HEADING_TAG.search(wrapped["close"]):
        title = " ".join(wrapped["inner"].split())
        return hidden, Heading(inner_start, inner_end, line_end, title)
    return [*hidden, (inner_end, line_end)], None


def _table(text: str, floor: int, line_start: int, line_end: int) -> Table | None:
    """The table whose delimiter row is the line at line_start: under a header row of as
    many cells (the line above, in the same block of text; a "|" in it), its body rows down
    to a blank line or another block (_AFTER_TABLE, _BREAK). None where the line above is
    no header row: the line is then text."""
    if line_start == 0 or (header := text.rfind("\n", 0, line_start - 1) + 1) < floor:
        return None
    row = text[header : line_start - 1]
    if (not row.strip() or "|" not in row or text.startswith(("    ", "\t"), header)
            or _NOT_TEXT.match(row) or _BREAK.match(row)
            or _cells(row) != _cells(text[line_start:line_end])):
        return None
    end, pos = line_end, line_end + 1  # the last row's line end, the next line's start
    while pos < len(text):
        next_end = _line_end(text, pos)
        line = text[pos:next_end]
        if not line.strip() or _AFTER_TABLE.match(line) or _BREAK.match(line):
            break
        end, pos = next_end, next_end + 1
    return Table(header, end)


def _cells(row: str) -> int:
    """How many cells a table's row holds: its borders, but for one at either end."""
    row = row.strip()
    ends = row.startswith("|") + (len(row) > 1 and row.endswith("|") and not row.endswith("\\|"))
    return len(_PIPE.findall(row)) + 1 - ends


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
    if first is None or text.startswith(("    ", "\t"), first):
        return None  # (a paragraph never starts indented 4 spaces: that is a code block)
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


def heading_level(head: str) -> int:
    """The level of the Markdown heading that head (the text from its start on, its next line
    included) opens: its #s, or 1 and 2 for a setext heading's = and - underline."""
    marks = len(head) - len(head.lstrip("#"))
    if marks:
        return marks
    line = head.find("\n")
    return 1 if line >= 0 and head[line + 1 :].lstrip(" ").startswith("=") else 2


# The heading's start and this much after it hold its level (see heading_level).
LEVEL_SPAN = 400
# A <details> block's <summary> is deeper than any heading: it heads its block alone.
SUMMARY_LEVEL = 7


def level_at(span: Callable[[int, int], str], start: int) -> int:
    """The level of the Markdown heading at start of a text that span(a, b) slices: its #s,
    1 or 2 for a setext underline, SUMMARY_LEVEL for a <summary>."""
    before = span(max(0, start - LEVEL_SPAN), start)
    tag = _OPENING_BEFORE.search(before, before.rfind("\n") + 1)
    if tag is not None:
        return SUMMARY_LEVEL if tag[1].lower() == "summary" else int(tag[1][1])
    return heading_level(span(start, start + LEVEL_SPAN))


def markdown_headings(text: str, paragraphs: Sequence[_Spanned]) -> tuple[Region, ...]:
    """(start, end, heading text) of each Markdown section: from its heading to the end of
    the paragraph before the next heading, or of the text; a <details> block's <summary>
    to the end of the block, where it closes first. paragraphs are split_paragraphs' of the
    text, each heading a paragraph of its own."""
    if not paragraphs:
        return ()
    first = text.rfind("\n", 0, paragraphs[0].start) + 1
    para_starts = {p.start for p in paragraphs}
    hidden: list[tuple[int, int]] = []
    found = [h for h in headings(text, first, hidden) if h.title and h.start in para_starts]
    if not found:
        return ()
    closes = sorted(s for s, e in hidden if _DETAILS_CLOSE.search(text, s, e))
    folded = [summary_at(text, h.start) for h in found]
    para_ends = [p.end for p in paragraphs]
    regions = []
    unfolded = len(text)  # the start of the next heading that is no summary
    for i in range(len(found) - 1, -1, -1):
        h = found[i]
        # A section runs to the next heading; a <details> block's summary to the next
        # heading or the block's end, the section it lies in going on around it.
        if folded[i]:
            stop = found[i + 1].start if i + 1 < len(found) else len(text)
            if (c := bisect_right(closes, h.start)) < len(closes):
                stop = min(stop, closes[c])
        else:
            stop = unfolded
            unfolded = h.start
        regions.append((h.start, para_ends[bisect_right(para_ends, stop) - 1], h.title))
    return tuple(regions[::-1])


_DETAILS_CLOSE = re.compile(r"</details>", re.I)
# The tag that opens an HTML heading's text (_WRAPPED), just before it on its line.
_OPENING_BEFORE = re.compile(
    rf"<(summary|h[1-6])(?:\s[^<>]*)?>[ \t]*(?:<(?:{_INLINE_TAGS})(?:\s[^<>]*)?>[ \t]*)*$", re.I)


def summary_at(text: str, start: int) -> bool:
    """Whether the heading at start is a <details> block's <summary>: the visible title of a
    block that folds (an FAQ's question), not a heading of the document's own."""
    tag = _OPENING_BEFORE.search(text, text.rfind("\n", 0, start) + 1, start)
    return tag is not None and tag[1].lower() == "summary"
