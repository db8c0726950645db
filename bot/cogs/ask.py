"""Questions: `/ask`, the prefix command, a mention, any DM; and `/sources`, `/help`."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.asker import Asker
from bot.cogs.shared import NO_PINGS, Surface, answering, send_pages
from bot.errors import Refusal

log = logging.getLogger(__name__)


class NotHere(commands.CheckFailure):
    """The bot does not answer in this channel (or DMs are off); its cause is the Refusal."""


class Ask(commands.Cog):
    """Answer questions with exact quotes."""

    def __init__(self, bot: commands.Bot, asker: Asker) -> None:
        self.bot = bot
        self.asker = asker

    async def cog_check(self, ctx: commands.Context) -> bool:
        try:
            self.asker.check_place(Surface.from_ctx(ctx).where)
        except Refusal as exc:
            raise NotHere() from exc
        return True

    @commands.hybrid_command()
    @app_commands.describe(question="Your question, in your own words")
    async def ask(self, ctx: commands.Context, *, question: str) -> None:
        """Answer a question with exact quotes from the moderators' documents."""
        await self.respond(Surface.from_ctx(ctx), question)

    @commands.hybrid_command()
    async def sources(self, ctx: commands.Context) -> None:
        """List the documents I can quote here, with their labels."""
        where = Surface.from_ctx(ctx).where
        self.asker.take_turn(where)  # `!sources` posts in the channel: not without limit
        await ctx.defer(ephemeral=True)
        reply = await answering(self.asker.sources, where)
        await send_pages(ctx.send, reply.pages, ephemeral=True)

    @commands.hybrid_command(name="help")
    async def help_(self, ctx: commands.Context) -> None:
        """How to ask me a question."""
        where = Surface.from_ctx(ctx).where
        self.asker.take_turn(where)
        text = self.asker.help(where)
        await ctx.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention in a guild channel, or any DM, is a question."""
        if message.author.bot or self.bot.user is None:
            return
        question = question_in(message, self.bot.user.id)
        if question is None or (await self.bot.get_context(message)).valid:
            return  # not for us, or a prefix command, which answers for itself
        surface = Surface.from_message(message)
        self.asker.check_channel(surface.where)
        await self.respond(surface, question)

    async def respond(self, surface: Surface, question: str) -> None:
        """Check, call the core off the event loop, render, send."""
        self.asker.check_question(question, surface.where)
        await surface.working()
        reply = await answering(self.asker.answer, question, surface.where)
        message = await send_pages(surface.send, reply.pages)
        if message is not None:
            self.asker.remember(message.id, reply.asked)


def question_in(message: discord.Message, bot_id: int) -> str | None:
    """The question in a message addressed to the bot: text after a leading mention of it, or
    a whole DM; None for other messages."""
    text = message.content
    match = re.match(rf"\s*<@!?{bot_id}>", text)
    if match:
        return text[match.end() :].strip()
    if message.guild is None:
        return text.strip()
    return None
