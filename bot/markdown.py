"""Discord Markdown for text that must show exactly as written: quotes, labels, user text.

A quote is shown as a Markdown block quote whose raw text, un-escaped with `unescape`, is the
document's exact characters.
"""

from __future__ import annotations

import bisect
import re

# Characters that are Markdown anywhere, "<" (mentions, channels, emoji, timestamps) and "["
# (masked links); a backslash is doubled so that every backslash in the output is an escape.
_ALWAYS = frozenset("\\*_~|`<[")
# Markdown only at the start of a line: quotes, headings, lists ("-", "+", "1."), subtext "-#".
_LINE_START = re.compile(r"^[ \t]*(?:(?P<mark>[>#+\-])|\d+(?P<dot>\.)(?=\s|$))", re.M)
_AT = re.compile(r"@(?=everyone|here)")
# A bare link is left as it is, as discord.utils.escape_markdown does (an escape inside a link
# would show); it never holds a backslash, so `unescape` leaves it alone too, nor "@everyone".
_URL = re.compile(r"(?:https?|steam)://(?:(?!@everyone|@here)[^\s<\\])*[^\s<\\.,:;\"'\])@]")
_UNESCAPE = re.compile(r"\\([\\*_~|`<\[\]>#+\-.@])")


# What a quote keeps as the document wrote it, to show as its writer meant (emphasis=True):
# a pair of "**" or "~~" around text on one line (bold, strike-through; not "__", which is
# Markdown's bold but Discord's underline, and Python's "__init__"), and an inline code span
# on one line holding nothing that could mention or escape.
_PAIRED = re.compile(r"(\*\*|~~)(?=[^\s*~])[^\n]*?(?<=[^\s\\])\1")
_CODE = re.compile(r"(?<![`\\])`[^`\n<@\\]+`(?!`)")
# A channel mention ("<#884120222233445566>"): Discord shows the channel's name, and it
# pings no one (a user's or a role's mention stays escaped).
_CHANNEL = re.compile(r"<#\d{1,20}>")


def escape(text: str, line_start: bool = True, emphasis: bool = False) -> str:
    """text with a backslash before every character Discord would read as Markdown or a
    mention, so the message shows exactly text. (discord.utils.escape_markdown writes "\\ "
    before an indented "-" and leaves "<@123>", "1." lists and "<link>" brackets alone, which
    would show different characters.) With emphasis, the document's own bold,
    strike-through, inline code and channel mentions are left to show as such (_PAIRED,
    _CODE, _CHANNEL): "**Q:**" is shown as a bold "Q:", not as asterisks, "<#123>" as the
    channel's name. `unescape` is its exact inverse."""
    kept: set[int] = set()
    if emphasis:
        for m in _CODE.finditer(text):
            kept.update(range(*m.span()))
        kept.update(m.start() for m in _CHANNEL.finditer(text))
        for m in _PAIRED.finditer(text):
            ends = (m.start(), m.start() + 1, m.end() - 2, m.end() - 1)
            if not kept.intersection(ends):
                kept.update(ends)
    links = [m.span() for m in _URL.finditer(text)]
    starts = [a for a, _ in links]

    def in_link(i: int) -> bool:
        k = bisect.bisect_right(starts, i) - 1
        return k >= 0 and i < links[k][1]

    marks = {i for i, ch in enumerate(text) if ch in _ALWAYS}
    for m in _LINE_START.finditer(text):
        if m.start() > 0 or line_start:
            marks.add(m.start("mark") if m["mark"] else m.start("dot"))
    marks.update(m.start() for m in _AT.finditer(text))
    marks -= kept
    if not marks:
        return text
    out, last = [], 0
    for i in sorted(marks):
        if in_link(i):
            continue
        out += [text[last:i], "\\"]
        last = i
    out.append(text[last:])
    return "".join(out)


def unescape(text: str) -> str:
    """The exact inverse of `escape`, and what Discord shows for escaped text."""
    return _UNESCAPE.sub(r"\1", text)


def inline(text: str, limit: int = 100) -> str:
    """A label or other short text for a frame line: one line, at most `limit` characters (with
    a visible "…" when shortened), escaped. Not a quote: quotes are never shortened."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return escape(text, line_start=False)


def block_quote(piece: str) -> str:
    """A piece of a quote as Markdown block-quote lines."""
    return "\n".join("> " + line for line in escape(piece, emphasis=True).split("\n"))


def link(text: str, url: str) -> str:
    """Markdown `text` (already escaped) linked to url. The URL goes in angle brackets, so
    Discord shows no preview of the page that would push the quote out of sight; a "]" in
    text and "(", ")", "<", ">" in url are escaped, so neither can end the link early."""
    target = url.translate(_LINK_TARGET)
    shown = text.replace("]", "\\]")
    return f"[{shown}](<{target}>)"


_LINK_TARGET = str.maketrans({"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", " ": "%20"})
