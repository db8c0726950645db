"""The one error path. Every surface (slash commands, prefix commands, mentions and DMs, buttons,
moderation) only raises; the bot hands what it raised here, one method per way it arrives.

An expected failure (a QuotebotError: a refusal, a broken question...) is shown to the user,
ephemeral where Discord allows; an Ignored refusal gets no reply; anything else is logged with
its traceback and the user gets a short apology.
"""

from __future__ import annotations

import logging
import sys
from functools import partial

import discord
from discord import app_commands
from discord.ext import commands

from bot import messages
from bot.cogs.asker import Asker
from bot.cogs.shared import Note, Surface, context_note, tell
from bot.errors import Ignored, QuotebotError
from bot.render import render_error

log = logging.getLogger(__name__)

UNKNOWN_INTERACTION = 10062  # Discord's JSON error code for an expired interaction
_WRAPPERS = (
    commands.CommandInvokeError | commands.HybridCommandError | app_commands.CommandInvokeError
)


class Reporter:
    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    async def interaction_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """A slash command (app command tree) failed."""
        await self.report(partial(tell, interaction), error)

    async def command_error(self, ctx: commands.Context, error: Exception) -> None:
        """A prefix command, or a hybrid command invoked as a slash command, failed."""
        error = unwrap(error)
        if isinstance(error, commands.CommandNotFound):
            return
        if isinstance(error, commands.UserInputError):
            # (`!ask` with nothing after it: the help, counted like a question, so that
            # repeating it cannot make the bot post without limit)
            where = Surface.from_ctx(ctx).where
            try:
                self.asker.take_turn(where)
            except QuotebotError as exc:
                await self.report(context_note(ctx), exc)
                return
            await context_note(ctx)(self.asker.help(where))
            return
        await self.report(context_note(ctx), error)

    async def event_error(self, event: str, *args: object) -> None:
        """A listener failed: a question in a mention or DM, or a button click."""
        error = sys.exc_info()[1]
        note: Note | None = None
        if event == "on_message" and args and isinstance(args[0], discord.Message):
            note = Surface.from_message(args[0]).note
        elif event == "on_quotebot_button" and args and isinstance(args[0], discord.Interaction):
            note = partial(tell, args[0])
        if note is None or error is None:
            log.exception("unexpected error in %s; the bot keeps running", event)
            return
        await self.report(note, error)

    async def report(self, note: Note, error: BaseException) -> None:
        """Tell the user what they may need to know; never raises."""
        error = unwrap(error)
        if isinstance(error, Ignored):
            return
        if isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION:
            # Discord gives 3 s to acknowledge a slash command or a click; past that the
            # interaction is gone and no reply of any kind can reach the member. A busy host,
            # not a bug: one line, no traceback (formatting one blocked a starved loop for
            # seconds).
            log.warning("an interaction expired before quotebot acknowledged it (Discord allows "
                        "3 s); the host is too busy: give it more CPU or fewer guilds")
            return
        if isinstance(error, discord.Forbidden):
            # The bot may not post (or read history) where it was asked: a server's
            # permissions, not a bug, and an apology there would be refused too.
            log.warning("quotebot may not reply there (%s): give it Send Messages and Read "
                        "Message History in that channel", error.text or error.status)
            return
        if isinstance(error, QuotebotError):
            texts = [page.content for page in render_error(str(error))]
        else:
            log.exception("unexpected error while answering", exc_info=error)
            texts = [messages.OOPS]
        try:
            for text in texts:
                await note(text)
        except Exception:
            log.warning("could not tell the user about an error", exc_info=True)


def unwrap(error: BaseException) -> BaseException:
    """The error a command raised, out of discord.py's wrappers; a failed check (cog_check)
    that carries one of the project's refusals, that refusal."""
    while True:
        if isinstance(error, _WRAPPERS):
            error = error.original
        elif isinstance(error, commands.CheckFailure) and isinstance(
            error.__cause__, QuotebotError
        ):
            error = error.__cause__
        else:
            return error
