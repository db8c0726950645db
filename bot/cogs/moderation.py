"""`/quotebot reload` and `/quotebot config`, for moderators: members with Manage Server or a
role listed in the guild's `moderator_roles`. The group also holds the commands of
cogs/uploads.py (add, remove, documents) and cogs/gaps.py (gaps), mixed in."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

import discord
from discord import app_commands
from discord.ext import commands

from bot import messages
from bot.cogs.gaps import GapCommands
from bot.cogs.shared import followup, problems_for, send_pages
from bot.cogs.state import Snapshot, State
from bot.cogs.uploads import UploadCommands
from bot.errors import QuotebotError, Refusal
from bot.render import render_config, render_problem, render_reloaded
from bot.state import Storage
from bot.state.uploads import Uploads

log = logging.getLogger(__name__)


class Moderation(
    UploadCommands, GapCommands, commands.GroupCog,
    group_name="quotebot", group_description="Moderator tools",
):
    """Moderator tools."""

    def __init__(self, state: State, storage: Storage, uploads: Uploads) -> None:
        self.state = state
        self.storage = storage
        self.uploads = uploads
        super().__init__()

    @app_commands.command()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Re-read the config and documents; on a problem the current ones keep serving."""
        self.check_moderator(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            snapshot = await self.state.reload()
        except QuotebotError as exc:
            log.warning("reload refused, still serving the previous config: %s", exc)
            pages = render_problem(problems_for(exc, interaction.guild_id))
        else:
            engine = snapshot.library.engine
            log.info("reloaded by %s in guild %s", interaction.user.id, interaction.guild_id)
            pages = render_reloaded(
                len(engine.documents), len(snapshot.settings.collections),
                engine.index.n_docs, skipped_for(snapshot, interaction.guild_id),
            )
        await send_pages(followup(interaction, ephemeral=True), pages)

    @app_commands.command()
    async def config(self, interaction: discord.Interaction) -> None:
        """Show the settings in effect in this server (secrets hidden)."""
        self.check_moderator(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = self.state.now.settings.redacted_for(interaction.guild_id)
        await send_pages(followup(interaction, ephemeral=True), render_config(shown))

    def check_moderator(self, interaction: discord.Interaction) -> None:
        """Refuse a user who may not use moderator commands here."""
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            raise Refusal(messages.GUILD_ONLY)
        if interaction.permissions.manage_guild:
            return
        roles = self.state.now.settings.for_guild(interaction.guild_id).moderator_roles
        if not any(role.id in roles for role in interaction.user.roles):
            raise Refusal(messages.NOT_MODERATOR)


# A reload re-reads every guild's file and every collection, but its reply goes to one guild's
# moderators: like /quotebot config, it shows them nothing of another guild's (its file's
# problems, its private collections' or uploads' file names). The log has everything.


def skipped_for(snapshot: Snapshot, guild_id: int | None) -> list[str]:
    """The skipped files of the collections this guild may quote, relative to the project."""
    settings = snapshot.settings
    folders = [f for name in settings.for_guild(guild_id).collections
               for f in settings.collections[name].folders]
    shown = []
    for s in snapshot.library.skipped:
        path = Path(s.path)
        if any(path.is_relative_to(f) for f in folders):
            where = path.relative_to(settings.root) if path.is_relative_to(settings.root) \
                else path.name
            shown.append(f"{PurePosixPath(where)}: {s.reason}")
    return shown
