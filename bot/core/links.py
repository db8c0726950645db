"""Links that open a quote's source at the quote: URL text fragments (WICG Text Fragments,
https://wicg.github.io/scroll-to-text-fragment/), `url#:~:text=[prefix-,]start[,end][,-suffix]`.

A browser takes the FIRST case-insensitive, word-bounded match of a directive, so the terms
are chosen against the whole document as rendered (bot/core/visible.py): textStart grows until
its first match is the quote's start, a prefix is added if it cannot, and likewise textEnd and
a suffix for the quote's end. Each term lies within one block (a paragraph, a table cell), as
a browser matches it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

from bot.core.visible import TEXT, Visible, visible

log = logging.getLogger(__name__)

# The spec's TextDirectiveExplicitChar set, besides ASCII letters and digits: everything else,
# '-', ',' and '&' included (they delimit the directive), is percent-encoded as UTF-8.
_EXPLICIT = "!$'()*+./:;=?@_~"
# A quote of more words than this is matched by its first and last words (textStart,textEnd),
# EDGE_WORDS of each at least, more where fewer would match elsewhere first: a long textStart
# makes a link long and brittle.
MAX_WHOLE_WORDS = 10
EDGE_WORDS = 4
# Words of context (prefix-, -suffix) tried at most; and directives tried at most for one
# quote, so that a pathological document costs a link, not seconds.
MAX_CONTEXT_WORDS = 8
MAX_TRIES = 400
LINK_SCHEMES = ("http", "https")
# Characters a URL may hold as they are (RFC 3986 reserved and unreserved, and '%' of its
# escapes), '@' aside: anything else (spaces, quotes, '<', '>', '\\', non-ASCII) is
# percent-encoded, so that a link cannot end early or break out of the Markdown around it.
_URL_SAFE = ":/?#[]!$&'()*+,;=-._~%"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TERM_WORD = re.compile(r"[^ \n]+")


def encode_text(text: str) -> str:
    """One text directive value, percent-encoded as the spec requires."""
    # quote() leaves '-' and '~' alone as unreserved; the spec reserves '-' (prefix-/-suffix).
    return quote(text, safe=_EXPLICIT).replace("-", "%2D")


@dataclass(frozen=True)
class Directive:
    """A text directive's terms, as (start, end) spans of a Visible's text ((0, 0): none)."""

    start: tuple[int, int]
    end: tuple[int, int] = (0, 0)
    prefix: tuple[int, int] = (0, 0)
    suffix: tuple[int, int] = (0, 0)

    def encoded(self, shown: str) -> str:
        def term(span: tuple[int, int]) -> str:
            return encode_text(shown[span[0]:span[1]])

        parts = [f"{term(self.prefix)}-"] if self.prefix[1] else []
        parts.append(term(self.start))
        parts += [term(self.end)] if self.end[1] else []
        parts += [f"-{term(self.suffix)}"] if self.suffix[1] else []
        return ",".join(parts)


def fragment_link(url: str, quote_text: str) -> str:
    """url with a text fragment that highlights quote_text, taken as the whole page: the whole
    quote when short, its first and last words (textStart,textEnd) when long. url unchanged
    for an empty quote."""
    return quote_link(url, visible(quote_text, TEXT), 0, len(quote_text)) or url


def quote_link(url: str, page: Visible, start: int, end: int) -> str | None:
    """url with a text fragment whose first match in `page` (a document as rendered) is the
    document's text[start:end]; None when no reader sees a word of it, or no fragment within
    the limits finds it first."""
    span = page.span(start, end)
    directive = None if span is None else choose(page, *span)
    if directive is None:
        return None
    # A fragment directive follows the URL's own fragment, if any, after ":~:".
    base, sep, fragment = url.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    return f"{base}#{fragment if sep else ''}:~:text={directive.encoded(page.text)}"


def choose(page: Visible, qs: int, qe: int) -> Directive | None:
    """The shortest directive tried whose first match in page.text is [qs, qe)."""
    words = [m.span() for m in _TERM_WORD.finditer(page.text, qs, qe)]
    first = [w for w in words if "\n" not in page.text[words[0][0]:w[1]]]
    last = [w for w in words if "\n" not in page.text[w[0]:words[-1][1]]]
    one_block = len(first) == len(words)
    before = _context(page.text, qs, -1)
    after = _context(page.text, qe, 1)
    tries = 0
    for p in range(len(before) + 1):
        prefix = (before[-p][0], before[-1][1]) if p else (0, 0)
        if one_block and len(words) <= MAX_WHOLE_WORDS:
            tries += 1
            whole = Directive((qs, qe), prefix=prefix)
            if find(page.folded, whole) == (qs, qe):
                return whole
        for k in range(min(EDGE_WORDS, len(first)), len(first) + 1):
            room = len(words) - k if one_block else len(last)
            head = Directive((qs, first[k - 1][1]), prefix=prefix)
            if room == 0:
                tries += 1
                if find(page.folded, head) == (qs, qe):
                    return head
                continue
            tries += 1
            if _start_of(page, head) != qs:
                continue
            for s in range(len(after) + 1):
                suffix = (after[0][0], after[s - 1][1]) if s else (0, 0)
                for m in range(min(EDGE_WORDS, room), room + 1):
                    tries += 1
                    directive = Directive(head.start, (last[-m][0], qe), prefix, suffix)
                    if find(page.folded, directive) == (qs, qe):
                        return directive
                    if tries > MAX_TRIES:
                        return None
    return None


def _context(shown: str, at: int, direction: int) -> list[tuple[int, int]]:
    """Up to MAX_CONTEXT_WORDS words of one block before (direction -1) or after (1) `at`,
    nearest last (before) or first (after)."""
    if direction < 0:
        block_end = len(shown[:at].rstrip())
        block_start = shown.rfind("\n", 0, block_end) + 1
        words = [m.span() for m in _TERM_WORD.finditer(shown, block_start, block_end)]
        return words[-MAX_CONTEXT_WORDS:]
    block_start = at + len(shown[at:]) - len(shown[at:].lstrip())
    block_end = shown.find("\n", block_start)
    block_end = len(shown) if block_end < 0 else block_end
    words = [m.span() for m in _TERM_WORD.finditer(shown, block_start, block_end)]
    return words[:MAX_CONTEXT_WORDS]


# --- what a browser finds: the spec's "find a range from a text directive" --------------------


def find(folded: str, directive: Directive) -> tuple[int, int] | None:
    """The first range of folded (a Visible's folded text, whose spans the directive's terms
    are) that the directive matches, as the spec finds it, or None."""
    start, end = (folded[a:b] for a, b in (directive.start, directive.end))
    prefix, suffix = (folded[a:b] for a, b in (directive.prefix, directive.suffix))
    pos = 0
    while pos < len(folded):
        if prefix:
            at = _term(folded, prefix, pos, True, False)
            if at is None:
                return None
            pos = at + 1
            begin = _skip_space(folded, at + len(prefix))
            if _term(folded, start, begin, True, not end) != begin:
                continue
        else:
            begin = _term(folded, start, pos, True, not end)
            if begin is None:
                return None
            pos = begin + 1
        stop = begin + len(start)
        search = stop
        while True:
            if end:
                at = _term(folded, end, search, True, not suffix)
                if at is None:
                    return None
                stop = at + len(end)
            if not suffix:
                return begin, stop
            after = _skip_space(folded, stop)
            if _term(folded, suffix, after, False, True) == after:
                return begin, stop
            if not end:
                break
            search = stop
    return None


def _start_of(page: Visible, head: Directive) -> int | None:
    """Where a directive of these prefix and textStart (and some textEnd) begins its match."""
    found = find(page.folded, Directive(head.start, prefix=head.prefix))
    return None if found is None else found[0]


def _term(folded: str, term: str, pos: int, bounded_start: bool, bounded_end: bool) -> int | None:
    """The first index >= pos where term occurs in folded, word-bounded as asked. A term holds
    no newline, so a match lies within one block."""
    while True:
        at = folded.find(term, pos)
        if at < 0:
            return None
        if (not bounded_start or _boundary(folded, at)) and (
            not bounded_end or _boundary(folded, at + len(term))
        ):
            return at
        pos = at + 1


def _skip_space(folded: str, pos: int) -> int:
    while pos < len(folded) and folded[pos] in " \n":
        pos += 1
    return pos


def _boundary(text: str, i: int) -> bool:
    """Whether a word may begin or end at i. Looser than a browser's word segmenter (any
    punctuation is a boundary; between letters of scripts written without spaces, always), so
    that no match a browser would count is missed."""
    if i <= 0 or i >= len(text):
        return True
    a, b = text[i - 1], text[i]
    return not (a.isalnum() and b.isalnum()) or _unspaced(a) or _unspaced(b)


def _unspaced(ch: str) -> bool:
    """Thai, Lao, Myanmar, Khmer, CJK and after: scripts a browser splits into words by
    dictionary, between any two letters."""
    code = ord(ch)
    return code >= 0x2E80 or 0x0E00 <= code < 0x0F00 or 0x1000 <= code < 0x10A0 or (
        0x1780 <= code < 0x1800)


@lru_cache(maxsize=4096)  # a document's source, asked again for each of its quotes
def web_url(value: str) -> str | None:
    """value as a link-safe http(s) URL, or None when it is not one: another scheme
    (`javascript:`, `data:`, `file:`), no host, a port outside 1-65535, or credentials in it
    (user:password@) are never linked. Characters outside the URL set are percent-encoded, and
    so is a '%' that begins no escape; so is every '@' after the host, which no mention
    ("@everyone") can then be read from."""
    text = value.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port  # ValueError past 65535 or not a number
    except ValueError:  # a malformed IPv6 host or port
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not host or "@" in parts.netloc:
        return None
    if port == 0:
        return None
    head, _, rest = text.partition(parts.netloc)
    url = (quote(head + parts.netloc, safe=_URL_SAFE)
           + quote(rest, safe=_URL_SAFE).replace("@", "%40"))
    return _STRAY_PERCENT.sub("%25", url)
