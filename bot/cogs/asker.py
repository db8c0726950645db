"""The rules of asking, with no wire: where the bot answers, cooldowns, what a question must
be, which collections may be quoted where, and what to send. A cog turns a Discord event into
a `Where`, calls an Asker, and sends the pages it returns; a refusal is raised as a
bot.errors.Refusal for the one error reporter (cogs/errors.py) to show.

The checks are quick and run on the event loop (cooldowns are not thread-safe); the methods
that search (`answer`, `context`, `sources`) are slow and meant for a worker thread.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from dataclasses import dataclass

from bot import messages
from bot.cogs.state import Asked, QuoteRef, State, text_crc
from bot.config import GuildSettings
from bot.core.model import NO_MATCH, NO_TERMS, Answer
from bot.errors import Ignored, Refusal
from bot.render import Page, render_answer, render_context, render_sources
from bot.state import DMS, Storage, StorageError

log = logging.getLogger(__name__)

MAX_QUESTION = 1000  # characters; a longer "question" gets a note, not a search


@dataclass(frozen=True)
class Where:
    """Who acts, and where: a guild channel (and a thread's parent channel) or a DM."""

    guild_id: int | None
    user_id: int
    channels: tuple[int, ...] = ()
    interactive: bool = False  # a slash command or a click, which must always get a reply


@dataclass(frozen=True)
class Reply:
    pages: list[Page]
    asked: Asked | None = None  # what the last message shows, for its buttons


class Asker:
    def __init__(self, state: State, storage: Storage | None = None) -> None:
        self.state = state
        self.storage = storage  # where refused questions are recorded (gaps), if anywhere

    def guild(self, where: Where) -> GuildSettings:
        return self.state.now.settings.for_guild(where.guild_id)

    # --- checks (on the event loop) ---------------------------------------------------------

    def check_channel(self, where: Where) -> None:
        """A guild channel the bot does not answer in: a note for a slash command or a click,
        silence for a prefix command or a mention."""
        if where.guild_id is None:
            return
        if not any(self.guild(where).answers_in(c) for c in where.channels):
            raise Refusal(messages.NOT_HERE) if where.interactive else Ignored()

    def check_dms(self, where: Where) -> None:
        if where.guild_id is None and not self.state.now.settings.dms_enabled:
            raise Refusal(messages.DMS_OFF)

    def check_place(self, where: Where) -> None:
        self.check_channel(where)
        self.check_dms(where)

    def take_turn(self, where: Where) -> None:
        """Count one action against the user's cooldown here. An over-limit user is told once
        a window (a slash command or a click always), then ignored."""
        cooldown = self.guild(where).cooldown
        verdict = self.state.cooldowns.take(where.guild_id, where.user_id, cooldown)
        if verdict.allowed:
            return
        if verdict.note or where.interactive:
            seconds = max(1, round(verdict.retry_after + 0.49))
            raise Refusal(messages.SLOW_DOWN.format(seconds=seconds))
        raise Ignored()

    def check_question(self, question: str, where: Where) -> None:
        """Whether to search at all: the cooldown first, so that refusals count too."""
        self.take_turn(where)
        self.check_dms(where)
        if not clean_question(question):
            raise Refusal(messages.EMPTY_QUESTION.format(prefix=self.guild(where).prefix))
        if len(question) > MAX_QUESTION:
            raise Refusal(messages.TOO_LONG.format(limit=MAX_QUESTION))

    def clicked(self, asked: Asked | None, where: Where) -> Asked:
        """What a clicked message showed, if the clicker may still use its buttons here."""
        self.check_place(where)
        if asked is None:
            raise Refusal(messages.EXPIRED)
        return asked

    def markable(self, asked: Asked | None, where: Where) -> Asked:
        """A clicked answer a member may mark "Not helpful" here: marks are recorded here, and
        every quote of it may be quoted here (a mark counts against its documents)."""
        asked = self.clicked(asked, where)
        guild = self.guild(where)
        if not guild.gaps.enabled:
            raise Refusal(messages.MARKS_OFF)
        if any(q.collection not in guild.collections for q in asked.quotes):
            raise Refusal(messages.NOT_MARKABLE)
        return asked

    def quote_ref(self, asked: Asked | None, n: int, where: Where) -> QuoteRef:
        """Quote n of a clicked answer, if its collection may be quoted where clicked."""
        asked = self.clicked(asked, where)
        if n >= len(asked.quotes):
            raise Refusal(messages.EXPIRED)
        ref = asked.quotes[n]
        if ref.collection not in self.guild(where).collections:
            raise Refusal(messages.HIDDEN)
        return ref

    # --- what to send (slow: in a worker thread) -------------------------------------------

    def answer(self, question: str, where: Where, offset: int = 0,
               seen: frozenset[tuple[str, str, int]] = frozenset()) -> Reply:
        """Quotes from the collections that may be quoted here; for More, `seen` are those
        shown so far (`offset` of them)."""
        snapshot = self.state.now
        guild = snapshot.settings.for_guild(where.guild_id)
        question = clean_question(question)
        answer = snapshot.library.engine.answer(
            question, top_k=guild.top_k, offset=offset, collections=guild.collections,
            exclude=seen,
        )
        answer = without(answer, self.state.removed)
        if not answer.quotes and answer.reason in (NO_MATCH, NO_TERMS) and offset == 0:
            self.record_gap(question, where)
        pages = render_answer(answer, feedback=self.storage is not None and guild.gaps.enabled)
        return Reply(pages, Asked.of(answer, offset, seen) if answer.quotes else None)

    def record_gap(self, question: str, where: Where) -> None:
        """Count a question the documents did not answer; the answer goes out regardless."""
        gaps = self.guild(where).gaps
        if self.storage is None or not gaps.enabled:
            return
        scope = DMS if where.guild_id is None else str(where.guild_id)
        try:
            self.storage.record_gap(scope, question, keep_days=gaps.keep_days)
        except StorageError as exc:
            log.warning("an unanswered question was not recorded: %s", exc)

    def context(self, ref: QuoteRef) -> Reply:
        engine = self.state.now.library.engine
        if (ref.collection, ref.document) in self.state.removed or not engine.holds(
                ref.collection, ref.document):
            raise Refusal(messages.GONE)
        quote = engine.paragraph_around(ref.collection, ref.document, ref.start, ref.end,
                                        lambda text: text_crc(text) == ref.crc)
        if quote is None:
            raise Refusal(messages.CHANGED)
        return Reply(render_context(quote))

    def sources(self, where: Where) -> Reply:
        snapshot = self.state.now
        guild = snapshot.settings.for_guild(where.guild_id)
        return Reply(render_sources(snapshot.library.engine.sources(guild.collections)))

    def help(self, where: Where) -> str:
        return messages.help_text(self.guild(where).prefix)

    # --- buttons' memory ---------------------------------------------------------------------

    def remember(self, message_id: int, asked: Asked | None) -> None:
        if asked is not None:
            self.state.asked.remember(message_id, asked)

    def recall(self, message_id: int | None) -> Asked | None:
        return None if message_id is None else self.state.asked.get(message_id)


def without(answer: Answer, removed: set[tuple[str, str]]) -> Answer:
    """The answer less quotes of removed documents (and their names among a quote's others)."""
    if not removed:
        return answer
    kept = tuple(
        dataclasses.replace(q, also=tuple(
            s for s in q.also if (s.collection, s.document) not in removed))
        for q in answer.quotes if (q.collection, q.document) not in removed
    )
    if kept == answer.quotes:
        return answer
    reason = answer.reason if kept else answer.reason or NO_MATCH
    return dataclasses.replace(answer, quotes=kept, answered=bool(kept), reason=reason)


def clean_question(text: str) -> str:
    """The question without invisible format characters (zero-width spaces and the like)
    and without Discord's mentions by id (<@id>, <@&id>, <#id>, </command:id>), custom
    emoji and timestamps: they are no words of a document, and a user id must not reach the
    gaps' record. (@everyone and @here are text: "everyone" may be a word of a document.)"""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(_MENTION.sub(" ", text).split())


# Mentions, custom emoji and timestamps: <@id>, <@!id>, <@&id>, <#id>, </cmd:id>,
# <:name:id>, <a:name:id>, <t:1700000000:R>.
_MENTION = re.compile(r"<(?:@[!&]?|#|/[^:<>]{1,100}:|a?:\w{1,32}:|t:)-?\d{1,20}(?::[tTdDfFR])?>")
