"""The one paginator: text that may exceed Discord's message limit, split into messages.

discord.py does not check the limits; the server refuses an oversized message, so every reply
that can grow (answers, /sources, /quotebot config and reload, error replies) is built here.
The bot sends message content only (no embeds), so the content limit is the one that binds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

CONTENT_LIMIT = 2000  # characters of message content Discord accepts
MAX_PAGES = 5  # messages in one ephemeral reply (context, sources, config)

Wrap = Callable[[str, bool], str]  # (joined parts, first page?) -> message content


def size(text: str) -> int:
    """Length as Discord may count it (UTF-16 code units; never less than len())."""
    return len(text.encode("utf-16-le")) // 2


def _bare(text: str, first: bool) -> str:
    return text


class Paginator:
    """Parts joined by `sep` into pages of at most `limit - reserve` (measured after `wrap`,
    e.g. a title and code fences); at most `max_pages` closed pages.

    `add` places whole parts; a caller that splits a long part itself (a quote) asks `room`
    how much fits, `put`s a piece and `close`s the page."""

    def __init__(
        self,
        limit: int = CONTENT_LIMIT,
        max_pages: int | None = None,
        *,
        sep: str = "\n",
        wrap: Wrap = _bare,
        reserve: int = 0,
    ) -> None:
        self.limit, self.max_pages, self.reserve = limit, max_pages, reserve
        self.sep, self.wrap = sep, wrap
        self.pages: list[str] = []
        self._open: list[str] = []

    @property
    def full(self) -> bool:
        return self.max_pages is not None and len(self.pages) >= self.max_pages

    @property
    def empty_page(self) -> bool:
        return not self._open

    def room(self, part: str) -> int:
        """What is left on the open page once part is on it (negative: it does not fit)."""
        content = self.wrap(self.sep.join([*self._open, part]), not self.pages)
        return self.limit - self.reserve - size(content)

    def put(self, part: str) -> None:
        self._open.append(part)

    def close(self) -> None:
        if self._open:
            self.pages.append(self.wrap(self.sep.join(self._open), not self.pages))
            self._open = []

    def add(self, part: str) -> bool:
        """part on the open page, or on a new one when it does not fit; False (part dropped)
        once max_pages pages are full."""
        if self._open and self.room(part) < 0:
            self.close()
            if self.full:
                return False
        self.put(part)
        return True

    def finish(self) -> list[str]:
        self.close()
        return self.pages


def lines_to_pages(
    lines: Sequence[str],
    more: Callable[[Sequence[str]], str],
    limit: int = CONTENT_LIMIT,
    max_pages: int = MAX_PAGES,
    *,
    wrap: Wrap = _bare,
    reserve: int = 50,
) -> list[str]:
    """Whole lines into messages (a line longer than a message is cut with "…"); past
    max_pages, `more(the lines not shown)` is added to the last page. `reserve` keeps room for
    that note."""
    pager = Paginator(limit, max_pages, wrap=wrap, reserve=reserve)
    room = limit - reserve
    for i, line in enumerate(lines):
        line = line if size(line) <= room else line[: room - 1] + "…"
        if not pager.add(line):
            pager.pages[-1] += "\n" + more(lines[i:])
            break
    return pager.finish()
