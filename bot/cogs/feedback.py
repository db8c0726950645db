"""The "Not helpful" button under an answer: one vote per member per answer (the database keeps
a salted hash of answer and member, never the member's id), counted for each document the
answer quoted, and the question recorded among the guild's gaps."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot import messages
from bot.cogs.asker import Asker
from bot.cogs.shared import interaction_where, tell
from bot.errors import Refusal
from bot.state import DMS, Storage, StorageError

log = logging.getLogger(__name__)


class Feedback(commands.Cog):
    def __init__(self, asker: Asker, storage: Storage) -> None:
        self.asker = asker
        self.storage = storage

    @commands.Cog.listener()
    async def on_quotebot_button(
        self, interaction: discord.Interaction, action: str, n: int
    ) -> None:
        if action != "bad":
            return
        where = interaction_where(interaction)
        message = interaction.message
        answer_id = message.id if message is not None else None
        asked = self.asker.markable(self.asker.recall(answer_id), where)
        await interaction.response.defer(ephemeral=True, thinking=True)
        documents = [(q.collection, q.document) for q in asked.quotes]
        scope = DMS if where.guild_id is None else str(where.guild_id)
        try:
            new = await asyncio.to_thread(self.storage.vote, answer_id, where.user_id, documents)
            if new:
                await asyncio.to_thread(self.storage.record_gap, scope, asked.question)
        except StorageError as exc:
            log.error("a vote was not recorded: %s", exc)
            raise Refusal(messages.FEEDBACK_FAILED) from exc
        await tell(interaction, messages.THANKS if new else messages.ALREADY_VOTED)
