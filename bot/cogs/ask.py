"""Questions: `/ask`, the prefix command, a mention, any DM; and `/sources`, `/help`."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.cogs.shared import (
    Asked,
    Send,
    Snapshot,
    State,
    answers_in,
    question_refusal,
    report,
    send_pages,
    slow_down,
)

log = logging.getLogger(__name__)


class NotHere(commands.CheckFailure):
    """The bot does not answer in this channel (or DMs are off)."""


@dataclass(frozen=True)
class Asker:
    """Who asks, where, and how to answer them."""

    guild_id: int | None
    user_id: int
    send: Send  # content=..., allowed_mentions=..., view=...
    note: Callable[[str], Awaitable[object]]  # a short notice, ephemeral where Discord allows
    working: Callable[[], Awaitable[object]]  # acknowledge now, answer later (defer)
    interactive: bool  # a slash command must always get a reply

    @classmethod
    def from_ctx(cls, ctx: commands.Context) -> Asker:
        send = ctx.send
        if ctx.interaction is None:
            # A prefix answer replies to its question, so a busy channel shows whose it is.
            send = functools.partial(
                ctx.send, reference=ctx.message.to_reference(fail_if_not_exists=False)
            )
        return cls(
            ctx.guild.id if ctx.guild else None,
            ctx.author.id,
            send,
            lambda text: ctx.send(text, ephemeral=True, allowed_mentions=render.NO_PINGS),
            ctx.defer,
            ctx.interaction is not None,
        )

    @classmethod
    def from_message(cls, message: discord.Message) -> Asker:
        ref = message.to_reference(fail_if_not_exists=False)

        async def send(**kwargs) -> discord.Message:
            return await message.channel.send(reference=ref, **kwargs)

        async def idle() -> None:
            return None

        return cls(
            message.guild.id if message.guild else None,
            message.author.id,
            send,
            lambda text: send(content=text, allowed_mentions=render.NO_PINGS),
            idle,
            False,
        )


class Ask(commands.Cog):
    """Answer questions with exact quotes."""

    def __init__(self, bot: commands.Bot, state: State) -> None:
        self.bot = bot
        self.state = state

    async def cog_check(self, ctx: commands.Context) -> bool:
        if not answers_in(self.state.now, ctx.guild.id if ctx.guild else None, ctx.channel):
            raise NotHere()
        return True

    @commands.hybrid_command()
    @app_commands.describe(question="Your question, in your own words")
    async def ask(self, ctx: commands.Context, *, question: str) -> None:
        """Answer a question with exact quotes from the moderators' documents."""
        await self.respond(Asker.from_ctx(ctx), question)

    @commands.hybrid_command()
    async def sources(self, ctx: commands.Context) -> None:
        """List the documents I can quote here, with their labels."""
        snapshot = self.state.now
        guild = snapshot.settings.for_guild(ctx.guild.id if ctx.guild else None)
        await ctx.defer(ephemeral=True)
        documents = await asyncio.to_thread(snapshot.library.engine.sources, guild.collections)
        await send_pages(ctx.send, render.render_sources(documents), ephemeral=True)

    @commands.hybrid_command(name="help")
    async def help_(self, ctx: commands.Context) -> None:
        """How to ask me a question."""
        prefix = self.state.now.settings.for_guild(ctx.guild.id if ctx.guild else None).prefix
        await ctx.send(render.help_text(prefix), ephemeral=True, allowed_mentions=render.NO_PINGS)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention in a guild channel, or any DM, is a question."""
        if message.author.bot or self.bot.user is None:
            return
        question = question_in(message, self.bot.user.id)
        if question is None or (await self.bot.get_context(message)).valid:
            return  # not for us, or a prefix command, which answers for itself
        if message.guild and not answers_in(self.state.now, message.guild.id, message.channel):
            return  # a channel the bot ignores
        asker = Asker.from_message(message)
        try:
            await self.respond(asker, question)
        except Exception as exc:
            await report(asker.note, exc)

    async def respond(self, asker: Asker, question: str) -> None:
        """Parse, call the core off the event loop, render, send."""
        snapshot = self.state.now
        guild = snapshot.settings.for_guild(asker.guild_id)
        if (refusal := self.refusal(snapshot, asker, question)) is not None:
            if refusal:
                await asker.note(refusal)
            return
        await asker.working()
        answer = await asyncio.to_thread(
            snapshot.library.engine.answer,
            question, top_k=guild.top_k, collections=guild.collections,
        )
        message = await send_pages(asker.send, render.render_answer(answer))
        if answer.quotes and message is not None:
            self.state.asked.remember(message.id, Asked.of(answer))

    def refusal(self, snapshot: Snapshot, asker: Asker, question: str) -> str | None:
        """Why not to search: a note to send, "" to stay silent, or None to go ahead. An
        over-limit user gets one note per window (a slash command always gets one)."""
        guild = snapshot.settings.for_guild(asker.guild_id)
        verdict = self.state.cooldowns.take(asker.guild_id, asker.user_id, guild.cooldown)
        if not verdict.allowed:
            return slow_down(verdict) if verdict.note or asker.interactive else ""
        if asker.guild_id is None and not snapshot.settings.dms_enabled:
            return render.DMS_OFF
        return question_refusal(question, guild)


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


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Ask(bot, bot.state))  # type: ignore[attr-defined]
