"""The Context and More buttons under an answer.

A button's custom_id says only which button it is (`qb:ctx:<n>`, `qb:more`). What the message
showed is looked up by message id in memory, and everything is recomputed for the clicker's
guild (or DM): a quote from a collection that cannot be quoted where the click comes from is
refused, and More searches only what may be quoted there.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import discord
from discord.ext import commands

from bot import render
from bot.cogs.shared import (
    Asked,
    Snapshot,
    State,
    answers_in,
    followup,
    report,
    send_pages,
    slow_down,
    tell,
)

log = logging.getLogger(__name__)


class Buttons(commands.Cog):
    """Context and More."""

    def __init__(self, bot: commands.Bot, state: State) -> None:
        self.bot = bot
        self.state = state

    @commands.Cog.listener()
    async def on_quotebot_button(self, interaction: discord.Interaction, action: str, n: int):
        """Dispatched by render.QuoteButton for every click, whether or not its view is alive."""
        try:
            if action == "ctx":
                await self.context(interaction, n)
            else:
                await self.more(interaction)
        except Exception as exc:
            await report(partial(tell, interaction), exc)

    async def context(self, interaction: discord.Interaction, n: int) -> None:
        """The whole paragraph around quote n, for the clicker's eyes only."""
        snapshot = self.state.now
        asked, refusal = self._lookup(snapshot, interaction)
        ref = asked.quotes[n] if asked and n < len(asked.quotes) else None
        allowed = snapshot.settings.for_guild(interaction.guild_id).collections
        if ref is None or ref.collection not in allowed:
            await tell(interaction, refusal or (render.EXPIRED if ref is None else render.HIDDEN))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        quote = await asyncio.to_thread(
            snapshot.library.engine.paragraph, ref.collection, ref.document, ref.paragraph
        )
        if quote is None:
            await tell(interaction, render.GONE)
            return
        await send_pages(followup(interaction, ephemeral=True), render.render_context(quote))

    async def more(self, interaction: discord.Interaction) -> None:
        """The next quotes for the same question, from what may be quoted where clicked."""
        snapshot = self.state.now
        asked, refusal = self._lookup(snapshot, interaction)
        if asked is None:
            await tell(interaction, refusal or render.EXPIRED)
            return
        guild = snapshot.settings.for_guild(interaction.guild_id)
        where, who = interaction.guild_id, interaction.user.id
        verdict = self.state.cooldowns.take(where, who, guild.cooldown)
        if not verdict.allowed:
            await tell(interaction, slow_down(verdict))
            return
        await interaction.response.defer(thinking=True)
        answer = await asyncio.to_thread(
            snapshot.library.engine.answer,
            asked.question, top_k=guild.top_k, offset=asked.shown, collections=guild.collections,
        )
        message = await send_pages(followup(interaction), render.render_answer(answer))
        if answer.quotes and message is not None:
            self.state.asked.remember(message.id, Asked.of(answer, asked.shown))

    def _lookup(
        self, snapshot: Snapshot, interaction: discord.Interaction
    ) -> tuple[Asked | None, str | None]:
        """What the clicked message showed, or why the click gets no answer."""
        if not answers_in(snapshot, interaction.guild_id, interaction.channel):
            return None, render.NOT_HERE if interaction.guild_id else render.DMS_OFF
        message = interaction.message
        asked = self.state.asked.get(message.id) if message is not None else None
        return asked, None if asked else render.EXPIRED


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Buttons(bot, bot.state))  # type: ignore[attr-defined]
