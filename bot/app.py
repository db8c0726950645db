"""The Discord bot: `build_bot` is the one place the pieces are wired (state, reload loader,
asking rules, error reporter, cogs); `run` starts it.

DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL point the bot at a Discord-compatible server
(tests run it against tests/fakediscord); they are applied at login, before any request.
"""

from __future__ import annotations

import asyncio
import logging
import os
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
from bot.cogs.moderation import Moderation
from bot.cogs.shared import NO_PINGS
from bot.cogs.state import Snapshot, State
from bot.cogs.views import QuoteButton
from bot.config import Settings, load_settings
from bot.errors import UsageError
from bot.library import Library, library_from_settings

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


class QuoteBot(commands.Bot):
    def __init__(
        self,
        state: State,
        endpoints: Endpoints,
        reporter: Reporter,
        cogs: CogFactory,
        **options,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
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
        self.add_dynamic_items(QuoteButton)
        try:
            synced = await self.tree.sync()
            log.info("slash commands synced: %s", ", ".join(c.name for c in synced))
        except discord.HTTPException:
            log.exception("could not sync slash commands; the previous ones stay registered")

    async def connect(self, *, reconnect: bool = True) -> None:
        try:
            await super().connect(reconnect=reconnect)
        except discord.PrivilegedIntentsRequired:
            if not self._connection._intents.message_content:
                raise
            log.warning(messages.MESSAGE_CONTENT_HELP)
            # discord.py has no public way to change intents once the client exists.
            self._connection._intents.message_content = False
            await super().connect(reconnect=reconnect)

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d guilds", self.user, self.user.id, len(self.guilds))

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
    **options,
) -> QuoteBot:
    """The bot, its cogs and their shared state; nothing connects until `start`. `env`
    (default os.environ) may point it elsewhere; `loader` builds the next snapshot on
    `/quotebot reload`; `options` go to discord.py's Client."""
    endpoints = Endpoints.from_env(os.environ if env is None else env)
    state = State(settings, library, loader)
    asker = Asker(state)

    def cogs(bot: QuoteBot) -> list[commands.Cog]:
        return [Ask(bot, asker), Buttons(asker), Moderation(state)]

    return QuoteBot(state, endpoints, Reporter(asker), cogs, **options)


def run(settings: Settings, token: str, *, log_level: int | None = None) -> None:
    """Start the bot and block until it stops (Ctrl+C). The token never reaches the logs."""
    _setup_logging(token, log_level)
    library = library_from_settings(settings)
    bot = build_bot(settings, library)
    try:
        asyncio.run(_serve(bot, token))
    except KeyboardInterrupt:
        log.info("stopped")


async def _serve(bot: QuoteBot, token: str) -> None:
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
