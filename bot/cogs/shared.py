"""What the cogs share, passed to each through its constructor: the current settings and library
(swapped whole on reload), per-user cooldowns, the answers whose buttons can still be clicked,
and the one way replies are sent."""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import discord

from bot import render
from bot.config import Cooldown, GuildSettings, Settings, load_settings
from bot.core.model import Answer
from bot.errors import QuotebotError
from bot.library import Library, library_from_settings

log = logging.getLogger(__name__)

UNKNOWN_INTERACTION = 10062  # Discord's JSON error code for an expired interaction
MAX_QUESTION = 1000  # characters; a longer "question" gets a note, not a search


@dataclass(frozen=True)
class Snapshot:
    """Settings and the library built from them: always read and replaced together, so a
    request never mixes an old config with a new index."""

    settings: Settings
    library: Library


def load_from_disk(previous: Settings) -> Snapshot:
    """Re-read the config folder and the documents it names (slow: run it off the loop)."""
    settings = load_settings(previous.config_dir, previous.root)
    return Snapshot(settings, library_from_settings(settings))


class State:
    """The shared state of one bot. `now` is replaced by one assignment, so every request that
    took a snapshot keeps a consistent one while a reload builds the next."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        loader: Callable[[Settings], Snapshot] = load_from_disk,
        remember: int = 2000,
    ) -> None:
        self.now = Snapshot(settings, library)
        self.loader = loader
        self.cooldowns = Cooldowns()
        self.asked = AskedMemory(remember)
        self._reload_lock = asyncio.Lock()

    async def reload(self) -> Snapshot:
        """Build a new snapshot off the event loop and swap it in; on any error the current
        one keeps serving and the error propagates."""
        async with self._reload_lock:
            snapshot = await asyncio.to_thread(self.loader, self.now.settings)
            self.now = snapshot
            return snapshot


# --- who may be answered where --------------------------------------------------------------


def answers_in(snapshot: Snapshot, guild_id: int | None, channel: object) -> bool:
    """Does the bot answer in this channel (a thread counts as its parent channel)?"""
    if guild_id is None:
        return snapshot.settings.dms_enabled
    guild = snapshot.settings.for_guild(guild_id)
    ids = [getattr(channel, "id", None), getattr(channel, "parent_id", None)]
    return any(guild.answers_in(i) for i in ids if i is not None)


def clean_question(text: str) -> str:
    """The question without invisible format characters (zero-width spaces and the like)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def question_refusal(question: str, guild: GuildSettings) -> str | None:
    if not clean_question(question):
        return render.EMPTY_QUESTION.format(example=f"{guild.prefix}ask who took the town?")
    if len(question) > MAX_QUESTION:
        return render.TOO_LONG.format(limit=MAX_QUESTION)
    return None


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


def slow_down(verdict: Verdict) -> str:
    return render.SLOW_DOWN.format(seconds=max(1, round(verdict.retry_after + 0.49)))


# --- answers whose buttons may be clicked ---------------------------------------------------


@dataclass(frozen=True)
class QuoteRef:
    collection: str
    document: str
    paragraph: int


@dataclass(frozen=True)
class Asked:
    """What a message with buttons showed: enough to recompute, for whoever clicks, the
    paragraph around a quote or the next quotes; never the quotes' text itself."""

    question: str
    shown: int  # quotes shown so far for this question, across "More"
    quotes: tuple[QuoteRef, ...]

    @classmethod
    def of(cls, answer: Answer, shown_before: int = 0) -> Asked:
        refs = tuple(QuoteRef(q.collection, q.document, q.paragraph) for q in answer.quotes)
        return cls(answer.question, shown_before + len(refs), refs)


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


# --- sending ---------------------------------------------------------------------------------

Send = Callable[..., Awaitable["discord.Message | None"]]


async def send_pages(send: Send, pages: Sequence[render.Page], **kwargs) -> discord.Message | None:
    """Send each page as a message, buttons under the last; returns the last message. Mentions
    never ping, whatever the bot's defaults."""
    last = None
    for page in pages:
        view = render.make_view(page.buttons)
        extra = {"view": view} if view is not None else {}
        last = await send(
            content=page.content, allowed_mentions=render.NO_PINGS, **extra, **kwargs
        )
    return last


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral note, whether or not the interaction was answered already."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=render.NO_PINGS)
    else:
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=render.NO_PINGS
        )


def followup(interaction: discord.Interaction, ephemeral: bool = False) -> Send:
    return lambda **kw: interaction.followup.send(ephemeral=ephemeral, wait=True, **kw)


async def report(note: Callable[[str], Awaitable[object]], error: BaseException) -> None:
    """An expected error (QuotebotError) is shown as it is; anything else is logged with its
    traceback and the user gets a short apology. Never raises."""
    if isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION:
        # Discord gives 3 s to acknowledge a slash command or a click; past that the
        # interaction is gone and no reply of any kind can reach the member. A busy host, not a
        # bug: one line, no traceback (formatting one blocked a starved loop for seconds).
        log.warning("an interaction expired before quotebot acknowledged it (Discord allows "
                    "3 s); the host is too busy: give it more CPU or fewer guilds")
        return
    if isinstance(error, QuotebotError):
        text = render.escape(str(error))[: render.CONTENT_LIMIT - 100]
    else:
        log.error("unexpected error while answering", exc_info=error)
        text = render.OOPS
    try:
        await note(text)
    except Exception:
        log.warning("could not tell the user about an error", exc_info=True)
