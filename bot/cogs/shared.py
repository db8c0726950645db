"""How the cogs reach Discord: one way to send pages, one way to send a short note, and the
surfaces a question comes from (a command, a mention or DM) with where each was asked."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TypeVar

import discord
from discord.ext import commands

from bot import messages
from bot.cogs.asker import Where
from bot.cogs.views import make_view
from bot.errors import ConfigError, QuotebotError
from bot.render import Page

# Every send passes this explicitly as well: a quoted "@everyone" must never ping.
NO_PINGS = discord.AllowedMentions.none()

T = TypeVar("T")

# Answers (the engine alone, no database) run on threads of their own. Storage calls run on
# the loop's default executor, where a database that stopped answering holds each call's
# thread until its statement times out: members' "Not helpful" clicks then took every thread,
# and no question was answered until the database was back.
_ANSWERING = ThreadPoolExecutor(min(32, (os.cpu_count() or 1) + 4),
                                thread_name_prefix="quotebot-answer")


async def answering(func: Callable[..., T], /, *args: object) -> T:
    """func(*args) on the answering threads (as asyncio.to_thread runs it on the default
    executor's)."""
    call = functools.partial(contextvars.copy_context().run, func, *args)
    return await asyncio.get_running_loop().run_in_executor(_ANSWERING, call)


Send = Callable[..., Awaitable["discord.Message | None"]]
Note = Callable[[str], Awaitable[object]]  # a short notice, ephemeral where Discord allows


async def send_pages(send: Send, pages: Sequence[Page], **kwargs) -> discord.Message | None:
    """Send each page as a message, buttons under the last; returns the last message. Mentions
    never ping, whatever the bot's defaults; no link (a quote's source, a URL in a quote)
    unfolds into a preview that would push the quote out of sight."""
    last = None
    for page in pages:
        view = make_view(page.buttons)
        extra = {"view": view} if view is not None else {}
        last = await send(content=page.content, allowed_mentions=NO_PINGS, suppress_embeds=True,
                          **extra, **kwargs)
    return last


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral note, whether or not the interaction was answered already."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


def followup(interaction: discord.Interaction, ephemeral: bool = False) -> Send:
    return lambda **kw: interaction.followup.send(ephemeral=ephemeral, wait=True, **kw)


def where_of(guild_id: int | None, channel: object, user_id: int, interactive: bool) -> Where:
    """The Where of an event in `channel` (a thread also counts as its parent channel)."""
    ids = (getattr(channel, "id", None), getattr(channel, "parent_id", None))
    return Where(guild_id, user_id, tuple(i for i in ids if i is not None), interactive)


def interaction_where(interaction: discord.Interaction) -> Where:
    return where_of(interaction.guild_id, interaction.channel, interaction.user.id, True)


@dataclass(frozen=True)
class Surface:
    """Where a question was asked and how to answer it there."""

    where: Where
    send: Send  # content=..., allowed_mentions=..., view=...
    note: Note
    working: Callable[[], Awaitable[object]]  # acknowledge now, answer later (defer)

    @classmethod
    def from_ctx(cls, ctx: commands.Context) -> Surface:
        send = ctx.send
        if ctx.interaction is None:
            # A prefix answer replies to its question, so a busy channel shows whose it is.
            send = functools.partial(
                ctx.send, reference=ctx.message.to_reference(fail_if_not_exists=False)
            )
        guild_id = ctx.guild.id if ctx.guild else None
        where = where_of(guild_id, ctx.channel, ctx.author.id, ctx.interaction is not None)
        return cls(where, send, context_note(ctx), ctx.defer)

    @classmethod
    def from_message(cls, message: discord.Message) -> Surface:
        ref = message.to_reference(fail_if_not_exists=False)

        async def send(**kwargs) -> discord.Message:
            return await message.channel.send(reference=ref, **kwargs)

        async def idle() -> None:
            return None

        guild_id = message.guild.id if message.guild else None
        where = where_of(guild_id, message.channel, message.author.id, False)
        return cls(where, send, lambda text: send(content=text, allowed_mentions=NO_PINGS), idle)


def context_note(ctx: commands.Context) -> Note:
    return lambda text: ctx.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


def problems_for(error: QuotebotError, guild_id: int | None) -> str:
    """A failed reload's problems as this guild's moderators may see them: other guilds'
    files' problems only counted."""
    if not isinstance(error, ConfigError):
        return str(error)
    mine = [p for p in error.problems if not _other_guilds(p.file, guild_id)]
    hidden = len(error.problems) - len(mine)
    lines = [str(p) for p in mine]
    if hidden:
        lines.append(messages.OTHER_GUILDS_PROBLEMS.format(count=hidden))
    return "\n".join(lines)


def _other_guilds(file: str, guild_id: int | None) -> bool:
    path = PurePosixPath(file)
    return path.parent.name == "guilds" and path.stem.isdigit() and path.stem != str(guild_id)
