"""The Discord bot: `build_bot` is the one place the pieces are wired (state, reload loader,
asking rules, error reporter, cogs); `run` starts it.

The bot is discord.py's AutoShardedBot: it runs the gateway shards `settings.shards` names
(all of Discord's recommended count when unset) in this process. Discord sends each shard
only its guilds ((guild_id >> 22) % count) and DMs to shard 0, so several processes with
disjoint shard ids serve every guild exactly once.

DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL point the bot at a Discord-compatible server
(tests run it against tests/fakediscord); they are applied at login, before any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot import messages
from bot.cogs.ask import Ask
from bot.cogs.asker import Asker
from bot.cogs.buttons import Buttons
from bot.cogs.errors import Reporter
from bot.cogs.feedback import Feedback
from bot.cogs.moderation import Moderation
from bot.cogs.shared import NO_PINGS
from bot.cogs.state import Snapshot, State
from bot.cogs.views import QuoteButton
from bot.cogs.watch import Records, UploadsSync, UploadsWatch, records_of
from bot.config import Settings, load_settings
from bot.errors import UsageError
from bot.library import Library, library_from_settings
from bot.state import Storage, StorageError, open_storage
from bot.state.queued import QueuedGaps
from bot.state.uploads import Uploads

log = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"

CogFactory = Callable[["QuoteBot"], Sequence[commands.Cog]]


def load_from_disk(previous: Snapshot) -> Snapshot:
    """Re-read the config folder and the documents it names (slow: run it off the loop); the
    previous index is updated with the documents added, changed or removed since."""
    settings = load_settings(previous.settings.config_dir, previous.settings.root)
    return Snapshot(settings, library_from_settings(settings, previous.library))


@dataclass(frozen=True)
class Endpoints:
    """Where Discord is. discord.py reads these from class attributes, so applying them is
    process-wide."""

    api: str = DEFAULT_API
    gateway: str = DEFAULT_GATEWAY

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Endpoints:
        api = env.get("DISCORD_API_BASE_URL") or DEFAULT_API
        gateway = env.get("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY
        if not api.startswith(("http://", "https://")):
            raise UsageError(messages.BAD_API_URL.format(url=api))
        if not gateway.startswith(("ws://", "wss://")):
            raise UsageError(messages.BAD_GATEWAY_URL.format(url=gateway))
        return cls(api.rstrip("/"), gateway)

    def apply(self) -> None:
        # REST, interaction responses and followups (the webhook adapter) all build their URLs
        # from Route.BASE; the gateway URL comes from DEFAULT_GATEWAY until READY names one.
        discord.http.Route.BASE = self.api
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway)


class QuoteTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await self.client.reporter.interaction_error(interaction, error)  # type: ignore[attr-defined]


class QuoteBot(commands.AutoShardedBot):
    def __init__(
        self,
        state: State,
        endpoints: Endpoints,
        reporter: Reporter,
        cogs: CogFactory,
        *,
        message_content: bool = True,
        **options,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        shards = state.now.settings.shards
        if shards is not None:
            options.setdefault("shard_count", shards.count)
            options.setdefault("shard_ids", list(shards.ids))
        super().__init__(
            command_prefix=self._prefix,
            intents=intents,
            help_command=None,
            description=messages.help_text(state.now.settings.defaults.prefix),
            allowed_mentions=NO_PINGS,
            tree_cls=QuoteTree,
            **options,
        )
        self.state = state
        self.endpoints = endpoints
        self.reporter = reporter
        self._make_cogs = cogs

    def _prefix(self, bot: commands.Bot, message: discord.Message) -> str:
        guild_id = message.guild.id if message.guild else None
        return self.state.now.settings.for_guild(guild_id).prefix

    async def login(self, token: str) -> None:
        self.endpoints.apply()
        await super().login(token)

    async def setup_hook(self) -> None:
        for cog in self._make_cogs(self):
            await self.add_cog(cog)
            for menu in getattr(cog, "menus", list)():
                self.tree.add_command(menu)
        self.add_dynamic_items(QuoteButton)
        if self.shard_ids is not None and 0 not in self.shard_ids:
            return  # commands are global: the process holding shard 0 registers them
        try:
            synced = await self.tree.sync()
            log.info("slash commands synced: %s", ", ".join(c.name for c in synced))
        except discord.HTTPException:
            log.exception("could not sync slash commands; the previous ones stay registered")

    async def connect(self, *, reconnect: bool = True) -> None:
        if self.shard_count is None:
            # discord.py would connect to the gateway URL that GET /gateway/bot names; asking
            # for the count here keeps DISCORD_GATEWAY_URL in force.
            self.shard_count, _, _ = await self.http.get_bot_gateway()
            log.info("Discord recommends %d shard(s): running all of them", self.shard_count)
        await super().connect(reconnect=reconnect)

    async def on_ready(self) -> None:
        ids = sorted(self.shards)
        log.info("connected as %s (%s) to %d guilds on shard(s) %s of %d", self.user,
                 self.user.id, len(self.guilds), ",".join(map(str, ids)), self.shard_count)

    async def on_command_error(self, ctx: commands.Context, error: commands.CommandError) -> None:
        await self.reporter.command_error(ctx, error)

    async def on_error(self, event_method: str, /, *args, **kwargs) -> None:
        await self.reporter.event_error(event_method, *args)


def build_bot(
    settings: Settings,
    library: Library,
    *,
    env: Mapping[str, str] | None = None,
    loader: Callable[[Snapshot], Snapshot] = load_from_disk,
    storage: Storage | None = None,
    uploads_seen: Records | None = None,
    message_content: bool = True,
    **options,
) -> QuoteBot:
    """The bot, its cogs and their shared state; nothing connects until `start`. `env`
    (default os.environ) may point it elsewhere; `loader` builds the next snapshot on
    `/quotebot reload`; `storage` (default: PostgreSQL when env sets QUOTEBOT_DATABASE_URL,
    else the SQLite file in settings.state_dir) keeps uploads' records, gaps and votes;
    `uploads_seen`: the records read before `library` loaded (see bot/cogs/watch.py);
    `message_content`: ask for that privileged intent;
    `options` go to discord.py's AutoShardedClient (shard_count and shard_ids default to
    settings.shards)."""
    env = os.environ if env is None else env
    endpoints = Endpoints.from_env(env)
    # (Unanswered questions are written by a thread of their own: a slow database never
    # holds up an answer.)
    storage = QueuedGaps(storage or _storage(settings, env))
    state = State(settings, library, loader)
    asker = Asker(state, storage)
    uploads = Uploads(storage)
    watch = UploadsWatch(state, storage, uploads_seen)

    def cogs(bot: QuoteBot) -> list[commands.Cog]:
        return [
            Ask(bot, asker), Buttons(asker), Feedback(asker, storage),
            Moderation(state, storage, uploads),
            UploadsSync(watch, settings.uploads_poll_seconds),
        ]

    return QuoteBot(state, endpoints, Reporter(asker), cogs, message_content=message_content,
                    **options)


def _storage(settings: Settings, env: Mapping[str, str]) -> Storage:
    try:
        return open_storage(settings.state_dir, env)
    except StorageError as exc:
        raise UsageError(messages.STATE_UNUSABLE.format(error=exc)) from exc


def run(settings: Settings, token: str, *, log_level: int | None = None) -> None:
    """Start the bot and block until it stops (Ctrl+C, or SIGTERM from systemd or docker).
    The token never reaches the logs."""
    _setup_logging(token, log_level)
    storage = _storage(settings, os.environ)
    try:  # read before the library loads the files: a removal meanwhile is caught at a poll
        seen: Records | None = records_of(storage.uploads())
    except StorageError as exc:
        log.warning("uploads' records not read at startup: %s", exc)
        seen = None
    else:
        Uploads(storage).recover(settings, seen)
    library = library_from_settings(settings)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C before the loop runs
        asyncio.run(_serve(settings, library, token, storage, seen))
    log.info("stopped")


async def _serve(
    settings: Settings, library: Library, token: str, storage: Storage, seen: Records | None
) -> None:
    bots: list[QuoteBot] = []
    closing: set[asyncio.Task] = set()

    def stop() -> None:
        # Close the gateway sessions cleanly, whatever signal and whether or not the parent
        # left SIGINT ignored (a background job's children inherit that).
        task = asyncio.create_task(bots[-1].close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    # One storage for the bot and the one that may replace it below.
    bots.append(build_bot(settings, library, storage=storage, uploads_seen=seen))
    loop = asyncio.get_running_loop()
    # Signal handlers exist only on the main thread, and not on Windows.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
    try:
        await _serve_one(bots[-1], token)
    except discord.PrivilegedIntentsRequired:
        log.warning(messages.MESSAGE_CONTENT_HELP)
        # A sharded client closes itself on close code 4014 and cannot start again, and
        # discord.py has no public way to change intents: a new bot that does not ask.
        bots.append(build_bot(settings, library, storage=storage, uploads_seen=seen,
                              message_content=False))
        await _serve_one(bots[-1], token)


async def _serve_one(bot: QuoteBot, token: str) -> None:
    async with bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise UsageError(messages.TOKEN_REFUSED) from None
        except (aiohttp.ClientConnectorError, discord.GatewayNotFound) as exc:
            raise UsageError(
                messages.UNREACHABLE.format(api=bot.endpoints.api, error=type(exc).__name__)
            ) from None


def _setup_logging(token: str, level: int | None) -> None:
    root = logging.getLogger()
    if not root.handlers:
        discord.utils.setup_logging(level=level or logging.INFO)
    elif level is not None:
        root.setLevel(level)
    for handler in root.handlers:
        handler.addFilter(Redact(token))


class Redact(logging.Filter):
    """Replaces the token wherever it would appear in a log line or a logged traceback."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "[token]"), ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if self.secret in text:
                record.exc_text = text.replace(self.secret, "[token]")
        return True
