"""`/quotebot reload` and `/quotebot config`, for moderators: members with Manage Server or a
role listed in the guild's `moderator_roles`."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.cogs.shared import State, followup, send_pages, tell
from bot.errors import QuotebotError

log = logging.getLogger(__name__)


class Moderation(commands.GroupCog, group_name="quotebot", group_description="Moderator tools"):
    """Moderator tools."""

    def __init__(self, bot: commands.Bot, state: State) -> None:
        self.bot = bot
        self.state = state
        super().__init__()

    @app_commands.command()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Re-read the config and documents; on a problem the current ones keep serving."""
        if refusal := self.refusal(interaction):
            await tell(interaction, refusal)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            snapshot = await self.state.reload()
        except QuotebotError as exc:
            log.warning("reload refused, still serving the previous config: %s", exc)
            pages = render.render_problem(str(exc))
        else:
            engine = snapshot.library.engine
            log.info("reloaded by %s in guild %s", interaction.user.id, interaction.guild_id)
            pages = render.render_reloaded(
                len(engine.documents), len(snapshot.settings.collections),
                engine.index.n_docs, snapshot.library.skipped,
            )
        await send_pages(followup(interaction, ephemeral=True), pages)

    @app_commands.command()
    async def config(self, interaction: discord.Interaction) -> None:
        """Show the settings in effect in this server (secrets hidden)."""
        if refusal := self.refusal(interaction):
            await tell(interaction, refusal)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = self.state.now.settings.redacted_for(interaction.guild_id)
        await send_pages(followup(interaction, ephemeral=True), render.render_config(shown))

    def refusal(self, interaction: discord.Interaction) -> str | None:
        """Why this user may not use moderator commands here, or None."""
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            return render.GUILD_ONLY
        if interaction.permissions.manage_guild:
            return None
        roles = self.state.now.settings.for_guild(interaction.guild_id).moderator_roles
        if any(role.id in roles for role in interaction.user.roles):
            return None
        return render.NOT_MODERATOR


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Moderation(bot, bot.state))  # type: ignore[attr-defined]
