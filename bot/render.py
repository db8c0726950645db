"""Answers, sources and bot notices -> Discord messages: the only place core types meet discord
types. Pure functions except `make_view` (a discord View needs a running event loop).

A quote is shown as a Markdown block quote whose raw text, un-escaped with `unescape`, is the
document's exact characters; a quote too long for one message continues in the next, with the
markers outside the quote, so the pieces concatenate back to the quote.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from bot import phrases
from bot.core.documents import Document
from bot.core.model import NO_MATCH, Answer, Quote

CONTENT_LIMIT = 2000  # characters of message content Discord accepts
BUTTON_LABEL_LIMIT = 80
MAX_CONTEXT_BUTTONS = 20  # 4 rows of 5; the fifth row holds "More"
MAX_PAGES = 5  # messages in one ephemeral reply (context, sources, config)

# Every send passes this explicitly as well: a quoted "@everyone" must never ping.
NO_PINGS = discord.AllowedMentions.none()

# --- fixed phrases (besides bot.phrases) -----------------------------------------------------

CONTINUES = "(continues)"
CONTINUES_IN_DOCUMENT = "(continues in the document)"
NOT_HERE = "I do not answer in this channel."
DMS_OFF = "I do not answer direct messages. Ask me in a server channel where I answer."
SLOW_DOWN = "Slow down: try again in {seconds} s."
TOO_LONG = "That question is too long: ask it in at most {limit:,} characters."
EMPTY_QUESTION = "Write a question after the command, for example: {example}"
EXPIRED = "This button has expired: ask the question again."
HIDDEN = "That quote cannot be shown here."
GONE = "That document is no longer in the library: ask the question again."
NO_SOURCES = "No documents can be quoted here."
MORE_SOURCES = "… and {count:,} more documents."
NOT_MODERATOR = (
    "Only moderators (Manage Server permission or a moderator role) can use this command."
)
GUILD_ONLY = "This command works only in a server."
OOPS = "Sorry, something went wrong on my side. Please try again later."
RELOADED = (
    "Reloaded: {documents:,} documents in {collections:,} collections, {passages:,} passages."
)
SKIPPED = "Skipped {count:,} files:"
RELOAD_FAILED = "Reload failed; the previous configuration and documents are still in use. Fix:"
CONFIG_TITLE = "Effective settings here (secrets hidden):"
CONTEXT = "Context"
MORE = "More"


def help_text(prefix: str) -> str:
    """The three lines of /help and the bot's description."""
    return (
        f"Ask with /ask, with {inline(prefix + 'ask', 40)} and your question, by mentioning me, "
        "or in a DM.\n"
        "I answer only with exact quotes from documents chosen by the moderators, "
        "each with its source.\n"
        "`/sources` lists the documents; under an answer, Context shows the whole paragraph "
        "and More shows further quotes."
    )


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    custom_id: str  # carries no trusted data: the bot re-checks everything at click time
    label: str
    row: int


@dataclass(frozen=True)
class Page:
    """One message: its content and the buttons under it."""

    content: str
    buttons: tuple[Button, ...] = ()


def context_id(n: int) -> str:
    return f"qb:ctx:{n}"


MORE_ID = "qb:more"


def render_answer(answer: Answer, limit: int = CONTENT_LIMIT) -> list[Page]:
    """The quotes (or the abstention) as messages; the buttons go under the last one."""
    if not answer.answered or not answer.quotes:
        return [Page(abstention(answer.reason))]
    blocks = [(_head(q), q.text) for q in answer.quotes]
    pages = [Page(c) for c in _pack(blocks, limit)]
    buttons = [
        Button(context_id(i), _button_label(q), i // 5)
        for i, q in enumerate(answer.quotes[:MAX_CONTEXT_BUTTONS])
    ]
    if answer.more:
        buttons.append(Button(MORE_ID, MORE, 4))
    pages[-1] = Page(pages[-1].content, tuple(buttons))
    return pages


def render_context(
    quote: Quote, limit: int = CONTENT_LIMIT, max_pages: int = MAX_PAGES
) -> list[Page]:
    """The whole paragraph around a quote (Engine.paragraph's Quote)."""
    return [Page(c) for c in _pack([(_head(quote), quote.text)], limit, max_pages)]


def abstention(reason: str | None) -> str:
    text = phrases.ABSTAIN.get(reason or NO_MATCH, phrases.ABSTAIN[NO_MATCH])
    return f"{text} {phrases.SEE_SOURCES}"


def render_sources(documents: Sequence[Document], limit: int = CONTENT_LIMIT) -> list[Page]:
    if not documents:
        return [Page(NO_SOURCES)]
    several = len({d.collection for d in documents}) > 1
    lines: list[str] = []
    current = None
    for doc in sorted(documents, key=lambda d: (d.collection, d.label.casefold(), d.rel)):
        if several and doc.collection != current:
            current = doc.collection
            lines.append(f"**{inline(doc.collection)}**")
        extra = ", ".join(inline(x) for x in (doc.source, doc.date) if x.strip())
        lines.append(f"- *{inline(doc.label)}*" + (f" ({extra})" if extra else ""))
    return [Page(c) for c in _lines_to_pages(lines, limit, MAX_PAGES, MORE_SOURCES)]


def render_reloaded(
    documents: int, collections: int, passages: int, skipped: Iterable[object],
    limit: int = CONTENT_LIMIT,
) -> list[Page]:
    skipped = [str(s) for s in skipped]
    lines = [RELOADED.format(documents=documents, collections=collections, passages=passages)]
    if skipped:
        lines.append(SKIPPED.format(count=len(skipped)))
        lines += [f"- {inline(s, 300)}" for s in skipped]
    return [Page(c) for c in _lines_to_pages(lines, limit, MAX_PAGES, "… and {count:,} more.")]


def render_problem(problem: str, limit: int = CONTENT_LIMIT) -> list[Page]:
    """A reload failure: the moderator sees exactly what is wrong, as written by the config
    loader (file, line, key, fix), in a code block so nothing in it is taken for Markdown."""
    return [Page(c) for c in _code_pages(RELOAD_FAILED, problem, limit, MAX_PAGES)]


def render_config(settings: dict, limit: int = CONTENT_LIMIT) -> list[Page]:
    """Effective settings (already redacted) as YAML-like lines in a code block."""
    text = "\n".join(_dump(settings))
    return [Page(c) for c in _code_pages(CONFIG_TITLE, text, limit, MAX_PAGES)]


def make_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A View of dynamic buttons: clicks are routed by custom_id (see cogs/buttons.py), so they
    keep working after a restart or once the view would have timed out."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in buttons:
        more = b.custom_id == MORE_ID
        style = discord.ButtonStyle.primary if more else discord.ButtonStyle.secondary
        button = discord.ui.Button(label=b.label, custom_id=b.custom_id, style=style, row=b.row)
        view.add_item(QuoteButton(button))
    return view


_BUTTON_ID = r"qb:(?P<action>ctx|more)(?::(?P<n>\d{1,2}))?"


class QuoteButton(discord.ui.DynamicItem[discord.ui.Button], template=_BUTTON_ID):
    """A Context or More button. A click is handed to listeners of `quotebot_button` with the
    action ("ctx" or "more") and the quote number parsed from the custom_id."""

    def __init__(self, item: discord.ui.Button, action: str = "", n: int = 0) -> None:
        super().__init__(item)
        self.action, self.n = action, n

    @classmethod
    async def from_custom_id(cls, interaction, item, match):  # type: ignore[override]
        return cls(item, match["action"], int(match["n"] or 0))

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch("quotebot_button", interaction, self.action, self.n)


# --- escaping --------------------------------------------------------------------------------

# Characters that are Markdown anywhere, "<" (mentions, channels, emoji, timestamps) and "["
# (masked links); a backslash is doubled so that every backslash in the output is an escape.
_ALWAYS = frozenset("\\*_~|`<[")
# Markdown only at the start of a line: quotes, headings, lists ("-", "+", "1."), subtext "-#".
_LINE_START = re.compile(r"^[ \t]*(?:(?P<mark>[>#+\-])|\d+(?P<dot>\.)(?=\s|$))", re.M)
_AT = re.compile(r"@(?=everyone|here)")
# A bare link is left as it is, as discord.utils.escape_markdown does (an escape inside a link
# would show); it never holds a backslash, so `unescape` leaves it alone too, nor "@everyone".
_URL = re.compile(r"(?:https?|steam)://(?:(?!@everyone|@here)[^\s<\\])*[^\s<\\.,:;\"'\])@]")
_UNESCAPE = re.compile(r"\\([\\*_~|`<\[>#+\-.@])")


def escape(text: str, line_start: bool = True) -> str:
    """text with a backslash before every character Discord would read as Markdown or a
    mention, so the message shows exactly text. (discord.utils.escape_markdown writes "\\ "
    before an indented "-" and leaves "<@123>", "1." lists and "<link>" brackets alone, which
    would show different characters.) `unescape` is its exact inverse."""
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
    return "\n".join("> " + line for line in escape(piece).split("\n"))


def size(text: str) -> int:
    """Length as Discord may count it (UTF-16 code units; never less than len())."""
    return len(text.encode("utf-16-le")) // 2


# --- layout ----------------------------------------------------------------------------------

_MIN_PIECE = 200  # start a new message rather than begin a quote with less room than this
_MARKER = max(len(CONTINUES), len(CONTINUES_IN_DOCUMENT)) + 1  # room kept for "\n(continues)"


def _head(q: Quote) -> str:
    head = phrases.frame(f"*{inline(q.label)}*", q.paragraph)
    if q.also:
        names = [f"*{inline(s.label)}*" for s in q.also[:4]]
        if len(q.also) > 4:
            names.append(f"{len(q.also) - 4} more")
        head = f"{head.removesuffix(':')} (also in {', '.join(names)}):"
    return head


def _continued(head: str) -> str:
    return f"{head.removesuffix(':')} (continued):"


def _button_label(q: Quote) -> str:
    tail = f", paragraph {q.paragraph}"
    room = BUTTON_LABEL_LIMIT - len(CONTEXT) - 2 - len(tail)
    label = " ".join(q.label.split())
    if len(label) > room:
        label = label[: room - 1].rstrip() + "…"
    return f"{CONTEXT}: {label}{tail}"


def _pack(blocks: Sequence[tuple[str, str]], limit: int, max_pages: int | None = None) -> list[str]:
    """(head, text) blocks as message contents of at most `limit`; a text that does not fit
    goes on in the next message under a "(continued)" head."""
    pages: list[str] = []
    page = ""
    for head, text in blocks:
        pos, first = 0, True
        while pos < len(text):
            h = head if first else _continued(head)
            sep = "\n\n" if page else ""
            room = limit - size(page) - size(sep) - size(h) - 1
            rest = text[pos:]
            if len(rest) <= room and size(whole := block_quote(rest)) <= room:
                page += f"{sep}{h}\n{whole}"
                break
            room -= _MARKER
            if room < _MIN_PIECE and page:
                pages.append(page)
                page = ""
                continue
            end = _fit(text, pos, room)
            pages.append(f"{page}{sep}{h}\n{block_quote(text[pos:end])}\n{CONTINUES}")
            page, pos, first = "", end, False
            if max_pages and len(pages) >= max_pages:
                pages[-1] = pages[-1].removesuffix(CONTINUES) + CONTINUES_IN_DOCUMENT
                return pages
    if page:
        pages.append(page)
    return pages


def _fit(text: str, start: int, room: int) -> int:
    """The end of the longest piece text[start:end] whose block quote fits in room, cut after
    whitespace where the piece has any, and never between a character and its combining marks."""
    lo, hi = start + 1, min(len(text), start + room)
    while lo < hi:  # largest end with a fitting piece (sizes grow with the piece)
        mid = (lo + hi + 1) // 2
        if size(block_quote(text[start:mid])) <= room:
            lo = mid
        else:
            hi = mid - 1
    end = lo
    if end < len(text):
        cut = max(text.rfind(ch, start, end) for ch in " \n\t")
        if cut > start:
            end = cut + 1
        else:
            while end > start + 1 and _joins(text[end]):
                end -= 1
    while end > start + 1 and size(block_quote(text[start:end])) > room:
        end -= 1
    return end


def _joins(ch: str) -> bool:
    return bool(unicodedata.combining(ch)) or ch in "\u200d\ufe0e\ufe0f\u20e3"


def _lines_to_pages(lines: Sequence[str], limit: int, max_pages: int, more: str) -> list[str]:
    """Whole lines into messages; past max_pages the rest ("- " items) is counted, not shown."""
    room = limit - 50  # so that the count of the rest always fits
    pages: list[str] = []
    page = ""
    for i, line in enumerate(lines):
        line = line if size(line) <= room else line[: room - 1] + "…"
        if page and size(page) + 1 + size(line) > room:
            pages.append(page)
            page = ""
            if len(pages) == max_pages:
                rest = sum(1 for rest_line in lines[i:] if rest_line.startswith("- "))
                pages[-1] += "\n" + more.format(count=rest)
                return pages
        page = f"{page}\n{line}" if page else line
    pages.append(page)
    return pages


def _code_pages(title: str, text: str, limit: int, max_pages: int) -> list[str]:
    """title, then text in code blocks split between messages at line ends; a "```" in the
    text cannot close the block early; past max_pages the rest is counted, not shown."""
    text = text.replace("```", "`\u200b`\u200b`")
    lines = [line[: limit // 2] for line in text.splitlines()] or [""]
    note = "… and {count:,} more lines."
    reserve = len(note) + 12

    def content(chunk: list[str], first: bool) -> str:
        return (f"{title}\n" if first else "") + "```\n" + "\n".join(chunk) + "\n```"

    pages: list[str] = []
    chunk: list[str] = []
    for i, line in enumerate(lines):
        if chunk and size(content([*chunk, line], not pages)) > limit - reserve:
            pages.append(content(chunk, not pages))
            chunk = []
            if len(pages) == max_pages:
                pages[-1] += "\n" + note.format(count=len(lines) - i)
                return pages
        chunk.append(line)
    pages.append(content(chunk, not pages))
    return pages


def _dump(value: object, indent: str = "") -> list[str]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, dict | list | tuple | set | frozenset) and v:
                out += [f"{indent}{k}:", *_dump(v, indent + "  ")]
            else:
                out.append(f"{indent}{k}: {_scalar(v)}")
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [f"{indent}- {_scalar(v)}" for v in items]
    return [f"{indent}{_scalar(value)}"]


def _scalar(v: object) -> str:
    if isinstance(v, set | frozenset):
        v = sorted(v, key=str)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)
