"""`/quotebot gaps`: the questions this server asked that the documents did not answer (and
answers marked not helpful), most asked first. Mixed into the /quotebot group
(cogs/moderation.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import discord
from discord import app_commands

from bot import messages
from bot.cogs.shared import followup, send_pages
from bot.cogs.uploads import storage_errors
from bot.errors import Refusal
from bot.markdown import inline
from bot.paginate import lines_to_pages
from bot.render import Page
from bot.state import Gap

MAX_SHOWN = 200  # questions listed; the rest are counted


class GapCommands:
    @app_commands.command()
    async def gaps(self, interaction: discord.Interaction) -> None:
        """The questions asked here that the documents did not answer, most asked first."""
        self.check_moderator(interaction)  # type: ignore[attr-defined]
        gaps = self.state.now.settings.for_guild(interaction.guild_id).gaps  # type: ignore[attr-defined]
        if not gaps.enabled:
            raise Refusal(messages.GAPS_OFF)
        await interaction.response.defer(ephemeral=True, thinking=True)
        with storage_errors(messages.STORAGE_READ):
            found = await asyncio.to_thread(
                self.storage.gaps, str(interaction.guild_id), gaps.keep_days  # type: ignore[attr-defined]
            )
        await send_pages(followup(interaction, ephemeral=True), render_gaps(found))


def render_gaps(gaps: Sequence[Gap]) -> list[Page]:
    """Gaps as list lines, for Discord and the CLI alike."""
    if not gaps:
        return [Page(messages.NO_GAPS)]
    lines = ["- " + messages.GAP_LINE.format(
        count=g.asked, question=inline(g.question, 300), first=messages.day(g.first_asked),
        last=messages.day(g.last_asked)) for g in gaps[:MAX_SHOWN]]
    if len(gaps) > MAX_SHOWN:
        lines.append(messages.MORE_ITEMS.format(count=len(gaps) - MAX_SHOWN))
    more = lambda rest: messages.MORE_ITEMS.format(count=len(rest))  # noqa: E731
    return [Page(c) for c in lines_to_pages(lines, more)]
