"""`/quotebot add`, `/quotebot remove` and `/quotebot documents`: moderators manage the documents
of their own server. Mixed into the /quotebot group (cogs/moderation.py), which supplies
`state`, `uploads`, `storage` and `check_moderator`. The checks and the storing live in
bot/state/uploads.py; here: download, call it off the loop, reload, reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence

import aiohttp
import discord
from discord import app_commands

from bot import messages
from bot.cogs.shared import followup, problems_for, send_pages
from bot.config import Settings
from bot.errors import QuotebotError, Refusal
from bot.markdown import inline
from bot.paginate import lines_to_pages
from bot.render import Page
from bot.state import StorageError, Upload
from bot.state.uploads import Added, max_upload, sharded

log = logging.getLogger(__name__)

DOWNLOAD_SECONDS = 30.0  # Discord's CDN answers in well under a second
CHUNK = 64 * 1024
MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices
SAVE_MENU = "Save to quotebot"


@contextlib.contextmanager
def storage_errors(message: str = messages.UPLOAD_STORAGE) -> Iterator[None]:
    """A full disk or a database error becomes a reply to the moderator (message: what
    could not be done, UPLOAD_STORAGE for a change, STORAGE_READ for a listing); the bot
    serves on."""
    try:
        yield
    except (StorageError, OSError, sqlite3.Error) as exc:
        log.error("storage failed: %s", exc)
        raise Refusal(message.format(error=type(exc).__name__)) from exc


async def download(url: str, limit: int, timeout: float = DOWNLOAD_SECONDS) -> bytes:
    """The attachment's bytes, read no further than limit + 1."""
    if not url.startswith(("https://", "http://")):
        raise Refusal(messages.UPLOAD_DOWNLOAD.format(error="not a web address"))
    data = bytearray()
    try:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
        async with session as http, http.get(url) as resp:
            if resp.status != 200:
                raise Refusal(messages.UPLOAD_DOWNLOAD.format(error=f"HTTP {resp.status}"))
            async for chunk in resp.content.iter_chunked(CHUNK):
                data += chunk
                if len(data) > limit:
                    raise Refusal(messages.UPLOAD_TOO_LARGE.format(size=len(data), limit=limit))
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        raise Refusal(messages.UPLOAD_DOWNLOAD.format(error=error)) from exc
    return bytes(data)


class UploadCommands:
    download_seconds = DOWNLOAD_SECONDS

    def menus(self) -> list[app_commands.ContextMenu]:
        """Context-menu commands, which live on the tree rather than in the /quotebot group
        (the bot adds them in setup_hook)."""
        return [app_commands.ContextMenu(name=SAVE_MENU, callback=self.save_message)]

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Store a message's text as a document of this server, labelled with its channel and
        date and linked to the message."""
        settings = self.upload_settings(interaction)
        gid, uid = interaction.guild_id, interaction.user.id
        target = settings.for_guild(gid).uploads.private_collection(gid)
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = getattr(message.channel, "name", None) or str(message.channel.id)
        label = messages.SAVED_LABEL.format(
            channel=channel, date=message.created_at.strftime("%Y-%m-%d"))
        data = message.content.encode("utf-8")
        self.uploads.take_turn(settings, gid)  # type: ignore[attr-defined]
        with storage_errors():
            added = await asyncio.to_thread(
                self.uploads.add, settings, gid, uid, f"message-{message.id}.txt", data,  # type: ignore[attr-defined]
                label, target, message.jump_url,
            )
        self.state.removed.discard((added.upload.collection, added.upload.name))  # type: ignore[attr-defined]
        await self._swap_in(interaction, added_text(added), messages.QUOTABLE_NOW)

    def upload_settings(self, interaction: discord.Interaction) -> Settings:
        self.check_moderator(interaction)  # type: ignore[attr-defined]
        settings = self.state.now.settings  # type: ignore[attr-defined]
        if not settings.for_guild(interaction.guild_id).uploads.enabled:
            raise Refusal(messages.UPLOADS_OFF)
        if sharded(settings):
            raise Refusal(messages.UPLOADS_SHARDED)
        return settings

    @app_commands.command()
    @app_commands.describe(
        file="A .txt, .md, .pdf, .html, .htm or .docx file",
        label="The title answers show for it (default: the file name)",
        collection="A collection private to this server (default: this server's own)",
    )
    async def add(
        self, interaction: discord.Interaction, file: discord.Attachment,
        label: str | None = None, collection: str | None = None,
    ) -> None:
        """Add a document that answers in this server can quote."""
        settings = self.upload_settings(interaction)
        gid, uid = interaction.guild_id, interaction.user.id
        target = self.uploads.target(settings, gid, collection)  # type: ignore[attr-defined]
        await interaction.response.defer(ephemeral=True, thinking=True)
        with storage_errors():  # (what can be refused before the download is not a turn)
            await asyncio.to_thread(self.uploads.check_name, settings, gid, file.filename, target)  # type: ignore[attr-defined]
            await asyncio.to_thread(self.uploads.check_size, settings, gid, file.size)  # type: ignore[attr-defined]
        self.uploads.take_turn(settings, gid)  # type: ignore[attr-defined]
        limit = max_upload(settings, gid)
        data = await download(file.url, limit, self.download_seconds)
        with storage_errors():
            added = await asyncio.to_thread(
                self.uploads.add, settings, gid, uid, file.filename, data, label, target,  # type: ignore[attr-defined]
            )
        self.state.removed.discard((added.upload.collection, added.upload.name))  # type: ignore[attr-defined]
        await self._swap_in(interaction, added_text(added), messages.QUOTABLE_NOW)

    @app_commands.command()
    @app_commands.describe(document="The file name, as /quotebot documents lists it")
    async def remove(self, interaction: discord.Interaction, document: str) -> None:
        """Remove a document added here; it is never quoted again."""
        # (Also with uploads turned off: what was added before is still quoted until removed.)
        self.check_moderator(interaction)  # type: ignore[attr-defined]
        settings = self.state.now.settings  # type: ignore[attr-defined]
        await interaction.response.defer(ephemeral=True, thinking=True)
        with storage_errors():
            u = await asyncio.to_thread(
                self.uploads.remove, settings, interaction.guild_id, interaction.user.id,  # type: ignore[attr-defined]
                document,
            )
        self.state.removed.add((u.collection, u.name))  # type: ignore[attr-defined]
        text = messages.REMOVED.format(
            name=u.name, label=inline(u.label), collection=u.collection
        )
        await self._swap_in(interaction, text)

    @remove.autocomplete("document")
    async def _document_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            self.check_moderator(interaction)  # type: ignore[attr-defined]
            found = await asyncio.to_thread(self.storage.uploads, interaction.guild_id)  # type: ignore[attr-defined]
        except (QuotebotError, StorageError):
            return []
        names = [u.name for u in found if current.casefold() in u.name.casefold()]
        return [app_commands.Choice(name=n, value=n) for n in names[:MAX_CHOICES]]

    @app_commands.command()
    async def documents(self, interaction: discord.Interaction) -> None:
        """List the documents added in this server, with "Not helpful" counts."""
        self.check_moderator(interaction)  # type: ignore[attr-defined]
        await interaction.response.defer(ephemeral=True, thinking=True)
        storage = self.storage  # type: ignore[attr-defined]
        with storage_errors(messages.STORAGE_READ):
            found = await asyncio.to_thread(storage.uploads, interaction.guild_id)
            votes = await asyncio.to_thread(storage.votes, [(u.collection, u.name) for u in found])
        await send_pages(followup(interaction, ephemeral=True), render_documents(found, votes))

    async def _swap_in(self, interaction: discord.Interaction, text: str, done: str = "") -> None:
        """Rebuild the library like a reload (the old one answers meanwhile), then reply: text,
        and `done` once the rebuilt library is in use, or why it is not."""
        lines = [text]
        try:
            await self.state.reload()  # type: ignore[attr-defined]
            lines = [f"{text} {done}".strip()]
        except QuotebotError as exc:
            log.warning("library not rebuilt after an upload change: %s", exc)
            lines.append(messages.UPLOAD_RELOAD.format(
                error=inline(problems_for(exc, interaction.guild_id), 300)))
        await send_pages(followup(interaction, ephemeral=True), [Page("\n".join(lines))])


def added_text(added: Added) -> str:
    u = added.upload
    return messages.ADDED.format(
        name=u.name, label=inline(u.label), collection=u.collection,
        paragraphs=messages.counted(added.paragraphs, "paragraph"),
        sentences=messages.counted(added.sentences, "sentence"),
    )


def render_documents(uploads: Sequence[Upload], votes: dict[tuple[str, str], int]) -> list[Page]:
    if not uploads:
        return [Page(messages.NO_UPLOADS)]
    lines = []
    for u in uploads:
        count = votes.get((u.collection, u.name), 0)
        lines.append("- " + messages.DOCUMENT_LINE.format(
            name=u.name, label=inline(u.label), collection=u.collection,
            size=u.bytes, user=u.added_by, date=messages.day(u.added_at),
            votes=messages.NOT_HELPFUL_COUNT.format(count=count) if count else "",
        ))
    more = lambda rest: messages.MORE_ITEMS.format(count=len(rest))  # noqa: E731
    return [Page(c) for c in lines_to_pages(lines, more)]
