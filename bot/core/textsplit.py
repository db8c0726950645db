"""Text -> paragraphs, sentences, Markdown headings and front matter, with exact character
offsets: every span found here indexes the text it was given, so a quote made of them is a
verbatim slice."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.core.mdstructure import Heading, Table, headings
from bot.core.txtstructure import text_headings

# A "sentence" longer than this (a 1 MB line with no full stop) is cut at whitespace into
# passages, so that one quote stays readable; the pieces are still verbatim slices.
MAX_PASSAGE_CHARS = 3000
# A sentence is also cut after a semicolon when both clauses are at least this long, so that a
# quote can be the clause that answers ("...; the General Staff confirmed..."); shorter clauses
# ("Yes; but...") lean on their neighbour and stay joined.
MIN_CLAUSE_CHARS = 80


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    rows: bool = False  # a Markdown table: its rows are its sentences (see split_rows)
    heading: bool = False  # a plain-text heading (txtstructure.text_headings)


# --- paragraphs ----------------------------------------------------------------------------

_BLANK = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"[^\n]+")


def split_paragraphs(text: str, start: int = 0, markdown: bool = False) -> tuple[Span, ...]:
    """Blocks separated by blank lines; in a file with no blank line between its blocks of text,
    each line is a paragraph (one paragraph a line is the common shape of plain-text dumps).
    Markdown headings are paragraphs of their own (a setext heading's underline is in none),
    and so is a table, flagged `rows` (see split_rows); so are plain text's, flagged
    `heading` (an underline row is in none either)."""
    blocks = _blocks(text, start)
    one_a_line = len(blocks) == 1
    if not markdown:
        out = []
        for piece, heading in _cut(blocks, text_headings(text, start, one_a_line)):
            lines = one_a_line and not heading
            for b in _lines(text, piece.start, piece.end) if lines else [piece]:
                if (s := _strip(text, b.start, b.end)) is not None:
                    out.append(Span(s.start, s.end, heading=heading))
        return tuple(out)
    unquoted: list[tuple[int, int]] = []
    tables: list[Table] = []
    found = headings(text, start, unquoted, tables)
    # A code fence's lines are in no paragraph (the code between them is one of its own), nor
    # is the HTML a rendered page hides; a table is cut from the text around it.
    cuts = (Heading(at, at, at, "") for t in tables for at in (t.header, t.end))
    marks = sorted([*found, *(Heading(s, e, e, "") for s, e in unquoted), *cuts])
    table_starts, table_ends = [t.header for t in tables], [t.end for t in tables]
    out = []
    for piece, heading in _cut(blocks, marks):
        t = bisect_right(table_starts, piece.start) - 1
        rows = t >= 0 and piece.end <= table_ends[t]
        lines = one_a_line and not heading and not rows
        for b in _lines(text, piece.start, piece.end) if lines else [piece]:
            if (s := _strip(text, b.start, b.end)) is not None and (
                    s := _unquoted(text, s)) is not None:
                out.append(Span(s.start, s.end, rows))
    return tuple(out)


# A Markdown block quote's marker at a paragraph's start ("> **Server IP:** ..."): the
# rendered page shows a bar, not the ">".
_QUOTE_MARKER = re.compile(r"(?:>[ \t]?)+")


def _unquoted(text: str, span: Span) -> Span | None:
    """span past the block quote marker it opens with, if any (None if nothing is left)."""
    if text.startswith(">", span.start):
        marker = _QUOTE_MARKER.match(text, span.start, span.end)
        return _strip(text, marker.end(), span.end)
    return span


def _blocks(text: str, start: int) -> list[Span]:
    blocks, pos = [], start
    for match in _BLANK.finditer(text, start):
        blocks.append(Span(pos, match.start()))
        pos = match.end()
    blocks.append(Span(pos, len(text)))
    return [b for b in blocks if text[b.start : b.end].strip()]


def _lines(text: str, start: int, end: int) -> list[Span]:
    return [Span(m.start(), m.end()) for m in _LINE.finditer(text, start, end)]


def _cut(blocks: Sequence[Span], found: Sequence[Heading]) -> Iterator[tuple[Span, bool]]:
    """The blocks cut at the headings found, each piece with whether it is a heading; a mark
    without a title (a code fence's line, an empty "#") cuts but is no piece. (A heading and
    its underline hold no blank line, so each lies within one block.)"""
    i = 0
    for block in blocks:
        pos = block.start
        while i < len(found) and found[i].start < block.end:
            heading = found[i]
            i += 1
            if heading.start < pos:
                continue
            yield Span(pos, heading.start), False
            if heading.title:
                yield Span(heading.start, heading.end), True
            pos = heading.after
        yield Span(pos, block.end), False


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
# Abbreviations only before a number ("No. 5", "Art. 12", "art. (2)"; a Roman one or a letter
# after a capital, "Art. I"): each is also a word that ends sentences ("said no.", "art.").
NUMBERED = frozenset(("no", "art"))
_NUMBER_AFTER = re.compile(r"\s*[(#+]?(\w+)")
_ROMAN_OR_LETTER = re.compile(r"[IVXLCDM]+|[A-Z]")
# A clause's label opening a sentence, "Section 2. Associate membership is...", "Rule 4.
# No spam.", "Article IV. ...": its dot ends no sentence (the label alone was one, and the
# rule it numbers was quoted without it).
_LABEL = re.compile(r"[A-Z][a-z]{2,11} (?:\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6})")
_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
# A full stop, question or exclamation mark before whitespace; or a CJK one (。！？), which
# no space follows.
# A French closing guillemet after its space (« Bonjour. ») stays with its sentence; a CJK stop
# inside a quotation (「はい。」と彼は言った。) ends none.
# (A run is matched from its first mark, and whole: a run of 20,000 dots took seconds.)
# A citation mark after the stop stays with its sentence ("Norway.[1] It had...", a
# Wikipedia or Google Docs page; "in 2024.[^1] Pensioners", a Markdown footnote).
_CITATION = r"(?P<cite>(?:\[(?:\d{1,4}(?:[,–-]\d{1,4})*|[a-z]|\^[\w-]{1,20}|citation needed)\])++)?"
_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]}]*+" + _CITATION + r"(?:[ \u00a0\u202f]»)?(?=\s)"
                  r"|(?<![。！？])[。！？]++(?![」』”’）)])")
_CJK_OPEN, _CJK_CLOSE = "「『“（", "」』”）"
_VISIBLE = re.compile(r"\S")
_WORD_BACK = re.compile(r"[^\s" + re.escape(_OPENERS) + "]*")
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_WINDOW = 32
# A list item on a line of its own: "1. ", "2) ", "- ", "* ", "• ", and a rule under a rule,
# "5.2 " or "5.2. " (its number is "number", with the dot or bracket that closes it).
_ITEM = re.compile(
    r"^[ \t]*(?P<item>(?:(?P<number>\d{1,3}(?:\.\d{1,3})+[.)]?|\d{1,3}[.)])|[-*+•‣◦])[ \t]+)(?=\S)",
    re.M)
_ITEM_HERE = re.compile(_ITEM.pattern[1:])


def item_depth(text: str, start: int) -> tuple[int, int] | None:
    """How deep the list item that text[start:] opens lies: its indent in columns (a tab is
    4) and its number's levels ("5.2" is 2; a bullet or "5." is 1); None when text[start:]
    opens no item on a line of its own."""
    line = text.rfind("\n", 0, start) + 1
    m = _ITEM_HERE.match(text, line)
    if m is None or m.start("item") != start:
        return None
    number = m["number"] or ""
    return len(text[line:start].expandtabs(4)), number.rstrip(".)").count(".") + 1


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within text[start:end]. A full stop after an abbreviation or an initial
    ("U.S.", "Gen.", "Dec. 11", "J. R. R.") does not end a sentence; closing quotes and
    brackets stay with the sentence they close."""
    # A list item's number is no sentence ("1." alone, or "Steps:\n1." of the line before):
    # each item on a line of its own starts a sentence, its marker with it.
    items = _items(text, start, end)
    # (Where a number closes with its dot: "1." is no sentence.)
    markers = {m.end("number") - 1 for m in items if m["number"] and m["number"][-1] in ".)"}
    cuts = [(m.start("item"), m.start("item")) for m in items if m.start("item") > start]
    pos = start
    opened = [-1, -1, 0]  # brackets open in the sentence from opened[0], counted to opened[1]
    for match in _END.finditer(text, start, end):
        nxt = _next_visible(text, match.end(), end)
        if nxt is None or not _starts_sentence(text[nxt]) or match.start() in markers:
            continue
        if match.group(0)[0] in "。！？":  # 「はい。そうです。」: a stop inside a quotation
            if opened[0] != pos:  # (counted on from the last stop, not from pos each time)
                opened[:] = [pos, pos, 0]
            opened[2] += _quotation_depth(text, opened[1], match.start())
            opened[1] = match.start()
            if opened[2] > 0:
                continue
        lone_dot = text[match.start()] == "." and _stop_length(match) == 1
        if lone_dot and (_is_abbreviation(text, pos, match.start())
                         or _LABEL.fullmatch(text, pos, match.start())):
            continue
        cuts.append((match.end(), nxt))
        pos = nxt
    spans: list[tuple[int, int]] = []
    pos = start
    for cut, nxt in sorted(cuts):
        if cut > pos:
            spans.append((pos, cut))
            pos = nxt
    spans.append((pos, end))
    out = []
    for s, e in spans:
        stripped = _strip(text, s, e)
        if stripped is not None:
            for cs, ce in _clauses(text, stripped.start, stripped.end):
                out.extend(_cap_length(text, cs, ce))
    return out


def split_rows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The rows of text[start:end], a Markdown table (its header row, its delimiter row, its
    body rows, a line each), as sentences: each row but the delimiter, which is in no
    sentence and so in no quote. A row is one passage whatever its cells hold ("| 2 | Ice
    fishing. Craft an auger. |"), cut only past MAX_PASSAGE_CHARS."""
    out = []
    for n, line in enumerate(_lines(text, start, end)):
        if n != 1 and (row := _strip(text, line.start, line.end)) is not None:
            out.extend(_cap_length(text, row.start, row.end))
    return out


def _quotation_depth(text: str, start: int, end: int) -> int:
    piece = text[start:end]
    return sum(map(piece.count, _CJK_OPEN)) - sum(map(piece.count, _CJK_CLOSE))


def _items(text: str, start: int, end: int) -> list[re.Match[str]]:
    """The list items of text[start:end]: a marker at a line's start, where the line before
    ends a sentence or a clause ("Steps:") or is an item itself. ("O\n2." in a formula, a
    subscript on its own line, is none.)"""
    items: list[re.Match[str]] = []
    for m in _ITEM.finditer(text, start, end):
        k = m.start()  # the line before: back over the whitespace (not a copy: many items)
        while k > start and text[k - 1].isspace():
            k -= 1
        j = k
        while j > start and text[j - 1] in _CLOSERS:
            j -= 1
        if (k == start or text[j - 1 : j] in (":", ".", "!", "?", ";", "…")
                or (items and items[-1].start() == max(start, text.rfind("\n", start, k) + 1))):
            items.append(m)
    return items


_SEMICOLON = re.compile(r";(?=\s)")


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] cut after each semicolon that leaves at least MIN_CLAUSE_CHARS on both
    sides; the semicolon stays with the clause it ends."""
    pieces, pos = [], start
    for match in _SEMICOLON.finditer(text, start, end):
        nxt = _next_visible(text, match.end(), end)
        if nxt is None or match.end() - pos < MIN_CLAUSE_CHARS or end - nxt < MIN_CLAUSE_CHARS:
            continue
        pieces.append((pos, match.end()))
        pos = nxt
    pieces.append((pos, end))
    return pieces


def _stop_length(match: re.Match[str]) -> int:
    """The length of a sentence end's marks and whatever follows them but closers and a
    citation mark ("." of '."' and ".[1]": 1)."""
    token = match.group(0)
    if match["cite"]:
        at = match.start()
        token = token[: match.start("cite") - at] + token[match.end("cite") - at :]
    return len(token.rstrip(_CLOSERS))


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
    if word.lower() in NUMBERED:  # "No. 5", "Art. 12"; "he said no. The council..." ends
        after = _NUMBER_AFTER.match(text, dot + 1)
        # A number, or (after a capitalised "Art.", "Sec.", "Vol.") a Roman one or a letter.
        return after is not None and (any(c.isdigit() for c in after[1]) or (
            word[0].isupper() and _ROMAN_OR_LETTER.fullmatch(after[1]) is not None))
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
