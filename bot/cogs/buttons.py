"""The Context and More buttons under an answer (their views: cogs/views.py).

A button's custom_id says only which button it is (`qb:ctx:<n>`, `qb:more`). What the message
showed is looked up by message id in memory, and everything is recomputed for the clicker's
guild (or DM): a quote from a collection that cannot be quoted where the click comes from is
refused, and More searches only what may be quoted there.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.cogs.asker import Asker
from bot.cogs.shared import answering, followup, interaction_where, send_pages

log = logging.getLogger(__name__)


class Buttons(commands.Cog):
    """Context and More."""

    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    @commands.Cog.listener()
    async def on_quotebot_button(
        self, interaction: discord.Interaction, action: str, n: int
    ) -> None:
        if action == "ctx":
            await self.context(interaction, n)
        elif action == "more":
            await self.more(interaction)

    async def context(self, interaction: discord.Interaction, n: int) -> None:
        """The whole paragraph around quote n, for the clicker's eyes only."""
        ref = self.asker.quote_ref(self._asked(interaction), n, interaction_where(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await answering(self.asker.context, ref)
        await send_pages(followup(interaction, ephemeral=True), reply.pages)

    async def more(self, interaction: discord.Interaction) -> None:
        """The next quotes for the same question, from what may be quoted where clicked."""
        where = interaction_where(interaction)
        asked = self.asker.clicked(self._asked(interaction), where)
        self.asker.take_turn(where)
        await interaction.response.defer(thinking=True)
        reply = await answering(self.asker.answer, asked.question, where, asked.shown,
                                        asked.seen)
        message = await send_pages(followup(interaction), reply.pages)
        if message is not None:
            self.asker.remember(message.id, reply.asked)

    def _asked(self, interaction: discord.Interaction):
        message = interaction.message
        return self.asker.recall(message.id if message is not None else None)
