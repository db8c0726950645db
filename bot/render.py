"""Answers, sources and bot notices -> messages (Page): pure functions, no discord import.

A quote is shown as a Markdown block quote whose raw text, un-escaped with
`bot.markdown.unescape`, is the document's exact characters; a quote too long for one message
continues in the next, with the markers outside the quote, so the pieces concatenate back to
the quote. Every split goes through bot.paginate; every word comes from bot.messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot import messages
from bot.core.documents import Document
from bot.core.links import web_url
from bot.core.model import Answer, Location, Quote
from bot.markdown import block_quote, escape, inline, link
from bot.paginate import CONTENT_LIMIT, MAX_PAGES, Paginator, lines_to_pages, size

BUTTON_LABEL_LIMIT = 80
MAX_CONTEXT_BUTTONS = 20  # 4 rows of 5; the fifth row holds "More"
MAX_ALSO = 4  # other documents named in a quote's frame line before "N more"
HEADING_LIMIT = 80  # characters of a heading in a frame line ("…" past them)
BUTTON_HEADING_LIMIT = 30  # ... and on a Context button, which holds 80 in all
# A link longer than this (a long URL) would eat the room of the quote it frames: the bare
# source URL is linked instead, or nothing when that is longer too.
MAX_LINK = 500


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
NOT_HELPFUL_ID = "qb:bad"


def render_answer(
    answer: Answer, limit: int = CONTENT_LIMIT, feedback: bool = True
) -> list[Page]:
    """The quotes (or the abstention) as messages; the buttons go under the last one (Not
    helpful only with feedback: where marks are recorded)."""
    if not answer.answered or not answer.quotes:
        return [Page(messages.abstention(answer.reason))]
    blocks = [(_head(q), q.text) for q in answer.quotes]
    pages = [Page(c) for c in _pack(blocks, limit)]
    # One Context button a paragraph: three quotes of one list or table had three buttons of
    # one label, each showing the same paragraph.
    shown: set[tuple[str, str, int]] = set()
    buttons = []
    for i, q in enumerate(answer.quotes[:MAX_CONTEXT_BUTTONS]):
        if (q.collection, q.document, q.paragraph) not in shown:
            shown.add((q.collection, q.document, q.paragraph))
            buttons.append(Button(context_id(i), _button_label(q), len(buttons) // 5))
    if answer.more:
        buttons.append(Button(MORE_ID, messages.MORE, 4))
    if feedback:
        buttons.append(Button(NOT_HELPFUL_ID, messages.NOT_HELPFUL, 4))
    pages[-1] = Page(pages[-1].content, tuple(buttons))
    return pages


def render_context(
    quote: Quote, limit: int = CONTENT_LIMIT, max_pages: int = MAX_PAGES
) -> list[Page]:
    """The whole paragraph around a quote (Engine.paragraph's Quote)."""
    return [Page(c) for c in _pack([(_head(quote), quote.text)], limit, max_pages)]


def render_sources(documents: Sequence[Document], limit: int = CONTENT_LIMIT) -> list[Page]:
    if not documents:
        return [Page(messages.NO_SOURCES)]
    several = len({d.collection for d in documents}) > 1
    lines: list[str] = []
    current = None
    for doc in sorted(documents, key=lambda d: (d.collection, d.label.casefold(), d.rel)):
        if several and doc.collection != current:
            current = doc.collection
            lines.append(f"**{inline(doc.collection)}**")
        extra = ", ".join(x for x in (_source(doc.source), inline(doc.date)) if x.strip())
        lines.append(f"- *{inline(doc.label)}*" + (f" ({extra})" if extra else ""))
    return _list_pages(lines, messages.MORE_SOURCES, limit)


def _source(source: str) -> str:
    """A document's source as /sources shows it: a name ("BBC") as text; an address only as a
    link may show it (http or https, no credentials: a member reads /sources, and
    "https://user:pw@intranet/..." is the operator's), else not at all."""
    if not _ADDRESS.match(source.strip()):
        return inline(source)
    url = web_url(source)
    return f"<{url}>" if url else ""


_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*:(?://|[^\s]*$)", re.I)


def render_reloaded(
    documents: int, collections: int, passages: int, skipped: Iterable[object],
    limit: int = CONTENT_LIMIT,
) -> list[Page]:
    skipped = [str(s) for s in skipped]
    lines = [
        messages.RELOADED.format(documents=documents, collections=collections, passages=passages)
    ]
    if skipped:
        lines.append(messages.SKIPPED.format(count=len(skipped)))
        lines += [f"- {inline(s, 300)}" for s in skipped]
    return _list_pages(lines, messages.MORE_ITEMS, limit)


def render_problem(problem: str, limit: int = CONTENT_LIMIT) -> list[Page]:
    """A reload failure: the moderator sees exactly what is wrong, as written by the config
    loader (file, line, key, fix), in a code block so nothing in it is taken for Markdown."""
    return [Page(c) for c in _code_pages(messages.RELOAD_FAILED, problem, limit)]


def render_config(settings: dict, limit: int = CONTENT_LIMIT) -> list[Page]:
    """Effective settings (already redacted) as YAML-like lines in a code block."""
    text = "\n".join(_dump(settings))
    return [Page(c) for c in _code_pages(messages.CONFIG_TITLE, text, limit)]


def render_error(text: str, limit: int = CONTENT_LIMIT) -> list[Page]:
    """An expected error's message (str of a QuotebotError), shown as plain text."""
    lines = escape(text).splitlines() or [""]
    return [Page(c) for c in lines_to_pages(lines, _lines_left, limit)]


# --- layout ----------------------------------------------------------------------------------

_MIN_PIECE = 200  # start a new message rather than begin a quote with less room than this
# room kept for "\n(continues)"
_MARKER = max(len(messages.CONTINUES), len(messages.CONTINUES_IN_DOCUMENT)) + 1


def _where(q: Quote) -> Location:
    return q.location or Location(paragraph=q.paragraph)


def _head(q: Quote) -> str:
    """The frame line: the label (linked to the quote in its source where there is one),
    the page or heading and the paragraph, and the other documents holding the quote."""
    where = _where(q)
    label = f"*{inline(q.label)}*"
    url = next((u for u in (where.link, where.url) if u and size(u) <= MAX_LINK), None)
    if url is not None:
        label = link(label, url)
    heading = None if where.heading is None else inline(where.heading, HEADING_LIMIT)
    also = tuple(f"*{inline(s.label)}*" for s in q.also[:MAX_ALSO])
    return messages.frame(
        label, messages.place(where.paragraph, where.page, heading), also,
        max(0, len(q.also) - MAX_ALSO),
    )


def _button_label(q: Quote) -> str:
    where = _where(q)
    heading = None if where.heading is None else _shorten(where.heading, BUTTON_HEADING_LIMIT)
    place = messages.place(where.paragraph, where.page, heading)
    room = BUTTON_LABEL_LIMIT - len(messages.CONTEXT_BUTTON.format(label="", place=place))
    return messages.CONTEXT_BUTTON.format(label=_shorten(q.label, max(room, 2)), place=place)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _pack(blocks: Sequence[tuple[str, str]], limit: int, max_pages: int | None = None) -> list[str]:
    """(head, text) blocks as message contents of at most `limit`; a text that does not fit
    goes on in the next message under a "(continued)" head."""
    pager = Paginator(limit, max_pages, sep="\n\n")
    for head, text in blocks:
        pos, first = 0, True
        while pos < len(text):
            h = head if first else messages.continued(head)
            room = pager.room(h + "\n")
            rest = text[pos:]
            if len(rest) <= room and size(whole := block_quote(rest)) <= room:
                pager.put(f"{h}\n{whole}")
                break
            room -= _MARKER
            if room < _MIN_PIECE and not pager.empty_page:
                pager.close()
                continue
            end = _fit(text, pos, room)
            pager.put(f"{h}\n{block_quote(text[pos:end])}\n{messages.CONTINUES}")
            pager.close()
            pos, first = end, False
            if pager.full:
                last = pager.pages[-1].removesuffix(messages.CONTINUES)
                pager.pages[-1] = last + messages.CONTINUES_IN_DOCUMENT
                return pager.pages
    return pager.finish()


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


def _items_left(template: str) -> Callable[[Sequence[str]], str]:
    """The note for list items ("- " lines) not shown."""
    return lambda rest: template.format(count=sum(1 for line in rest if line.startswith("- ")))


def _lines_left(rest: Sequence[str]) -> str:
    return messages.MORE_LINES.format(count=len(rest))


def _list_pages(lines: Sequence[str], more: str, limit: int) -> list[Page]:
    return [Page(c) for c in lines_to_pages(lines, _items_left(more), limit)]


def _code_pages(title: str, text: str, limit: int) -> list[str]:
    """title, then text in code blocks split between messages at line ends; a "```" in the
    text cannot close the block early; past MAX_PAGES the rest is counted, not shown."""
    text = text.replace("```", "`\u200b`\u200b`")
    lines = [line[: limit // 2] for line in text.splitlines()] or [""]

    def fence(chunk: str, first: bool) -> str:
        return (f"{title}\n" if first else "") + "```\n" + chunk + "\n```"

    reserve = len(messages.MORE_LINES) + 12
    return lines_to_pages(lines, _lines_left, limit, wrap=fence, reserve=reserve)


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
