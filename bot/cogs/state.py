"""What the cogs share, passed to each through its constructor: the current settings and library
(swapped whole on reload), per-user cooldowns and the answers whose buttons can still be
clicked. Nothing here talks to Discord."""

from __future__ import annotations

import asyncio
import gc
import time
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Cooldown, Settings
from bot.core.model import Answer, Quote
from bot.library import Library


@dataclass(frozen=True)
class Snapshot:
    """Settings and the library built from them: always read and replaced together, so a
    request never mixes an old config with a new index."""

    settings: Settings
    library: Library


class State:
    """The shared state of one bot. `now` is replaced by one assignment, so every request that
    took a snapshot keeps a consistent one while a reload builds the next."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        loader: Callable[[Snapshot], Snapshot],
        remember: int = 2000,
    ) -> None:
        self.now = Snapshot(settings, library)
        keep_out_of_collections()
        self.loader = loader
        self.cooldowns = Cooldowns()
        self.asked = AskedMemory(remember)
        # (collection, document) removed by a moderator: never quoted again, even by a
        # snapshot taken before the reload that drops them has finished.
        self.removed: set[tuple[str, str]] = set()
        self._reload_lock = asyncio.Lock()

    async def reload(self) -> Snapshot:
        """Build a new snapshot off the event loop and swap it in; on any error the current
        one keeps serving and the error propagates."""
        async with self._reload_lock:
            # The loader gets the current snapshot: its index is updated, not rebuilt.
            snapshot = await asyncio.to_thread(self.loader, self.now)
            self.now = snapshot
            keep_out_of_collections()
            return snapshot


def keep_out_of_collections() -> None:
    """Put every object alive now, the library above all, out of the cyclic collector's reach:
    a full collection walks every object it tracks and pauses the event loop meanwhile, and a
    1M-passage library alone is about 64,000 of them (bench/README.md, load at 1M). Unfrozen
    and collected first, so that a library a reload replaced, frozen with the rest, is freed
    rather than kept for good. (An answer still holding the old snapshot frees it when it
    ends, by reference counting: the library has no reference cycles.)"""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


# --- cooldowns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0
    note: bool = False  # the first refusal in a window says so; later ones stay silent


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    noted: bool = False


class Cooldowns:
    """At most `rate` actions per user per `per` seconds (sliding window), per guild or DMs.
    Bounded: the least recently seen users are forgotten first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, size: int = 10_000) -> None:
        self.clock = clock
        self.size = size
        self._windows: OrderedDict[tuple[int | None, int], _Window] = OrderedDict()

    def take(self, guild_id: int | None, user_id: int, cooldown: Cooldown) -> Verdict:
        now = self.clock()
        key = (guild_id, user_id)
        window = self._windows.pop(key, None) or _Window()
        self._windows[key] = window
        while len(self._windows) > self.size:
            self._windows.popitem(last=False)
        while window.times and window.times[0] <= now - cooldown.per:
            window.times.popleft()
        if len(window.times) < cooldown.rate:
            window.times.append(now)
            window.noted = False
            return Verdict(True)
        retry = window.times[0] + cooldown.per - now
        note = not window.noted
        window.noted = True
        return Verdict(False, max(retry, 0.1), note)


# --- answers whose buttons may be clicked ---------------------------------------------------


@dataclass(frozen=True)
class QuoteRef:
    """Where a shown quote is, and a checksum of its text (not the text): Context finds its
    paragraph in the document that still holds it there."""

    collection: str
    document: str
    paragraph: int
    start: int
    end: int
    crc: int

    @classmethod
    def of(cls, quote: Quote) -> QuoteRef:
        return cls(quote.collection, quote.document, quote.paragraph, quote.start, quote.end,
                   text_crc(quote.text))


def text_crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class Asked:
    """What a message with buttons showed: enough to recompute, for whoever clicks, the
    paragraph around a quote or the next quotes; never the quotes' text itself."""

    question: str
    shown: int  # quotes shown so far for this question, across "More"
    quotes: tuple[QuoteRef, ...]
    # (collection, document, start) of every quote shown so far: More shows none again,
    # also after a reload reordered the answer.
    seen: frozenset[tuple[str, str, int]] = frozenset()

    @classmethod
    def of(cls, answer: Answer, shown_before: int = 0,
           seen_before: frozenset[tuple[str, str, int]] = frozenset()) -> Asked:
        refs = tuple(QuoteRef.of(q) for q in answer.quotes)
        seen = seen_before | {(q.collection, q.document, q.start) for q in answer.quotes}
        return cls(answer.question, shown_before + len(refs), refs, seen)


class AskedMemory:
    """message id -> Asked, least recently used forgotten first (a forgotten message's
    buttons answer that they expired)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, Asked] = OrderedDict()

    def remember(self, message_id: int, asked: Asked) -> None:
        self._items[message_id] = asked
        self._items.move_to_end(message_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, message_id: int) -> Asked | None:
        asked = self._items.get(message_id)
        if asked is not None:
            self._items.move_to_end(message_id)
        return asked
