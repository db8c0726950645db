"""FakeDiscord: a Discord-compatible REST + gateway server for end-to-end bot tests.

See the package docstring (``fakediscord/__init__.py``) for the full guide.  In short::

    async with FakeDiscord() as server:
        guild = server.add_guild("G1")
        chan = server.add_text_channel(guild, "general")
        alice = server.add_user("alice"); server.add_member(guild, alice)
        with point_discord_at(server.api_url, server.gateway_url):
            ...start an unmodified discord.py client with server.token...
            await server.user_says(chan, alice, "!ping")
            rec = await server.wait_for(lambda r: r.channel_id == chan.id)

This module holds the server object: world building, event injection (messages,
slash commands, clicks, modals), fault injection, recording and waiting helpers.
REST endpoints live in ``rest.py``, the websocket gateway in ``gateway.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from .constants import (
    ChannelType,
    Intent,
    InteractionType,
    MessageFlag,
    OptionType,
    Perm,
)
from .gateway import Gateway, GatewaySession, application_flags
from .models import (
    Attachment,
    CallbackRecord,
    Channel,
    Guild,
    Interaction,
    Member,
    Message,
    Overwrite,
    Pings,
    RequestRecord,
    Role,
    SentRecord,
    SnowflakeGenerator,
    User,
    iso_now,
)
from .patching import point_discord_at
from .rest import CREATE_FLAGS, Fault, RestAPI, UploadedFile, glob_to_regex, make_attachment
from .validation import (
    DiscordHTTPError,
    FormErrors,
    empty_message_error,
    message_is_empty,
    validate_message_fields,
)
from .world import USER_MENTION_RE, World

log = logging.getLogger("fakediscord")

T = TypeVar("T")
Target = User | Member | int


class UnrealisticAction(AssertionError):
    """The test asked for something a real Discord user could not do.

    Examples: invoking a slash command that was never synced, clicking a button that does
    not exist (or is disabled), posting in a channel the user cannot see.
    """


class FakeDiscord:
    """An in-process Discord: REST ``/api/v10`` + gateway on ``127.0.0.1:<random port>``.

    Parameters (all keyword-only, all also plain attributes you may change later):

    ``token``                  the bot token the server accepts (random by default)
    ``bot_name``               username of the bot user
    ``heartbeat_interval``     HELLO interval in milliseconds (default 41250)
    ``interaction_deadline``   seconds the bot has for the initial callback (default 3.0)
    ``followup_window``        seconds the interaction token stays valid after ack (900)
    ``granted_intents``        privileged intents the "developer portal" grants
                               (default all three; see :meth:`deny_intent`)
    ``require_registered_commands``  slash() only for commands the bot has synced (True)
    ``strict``                 on exit, raise if the bot hit unknown routes or the fake crashed
    ``upload_limit``           max bytes per attachment (10 MiB, like a non-boosted guild)
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "quotebot",
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval: int = 41250,
        interaction_deadline: float = 3.0,
        followup_window: float = 900.0,
        granted_intents: int = Intent.PRIVILEGED,
        require_registered_commands: bool = True,
        strict: bool = True,
        upload_limit: int = 10 * 1024 * 1024,
        gateway_rate_limit: int = 120,
        required_shards: int = 1,
    ) -> None:
        self.snowflake = SnowflakeGenerator()
        self.token = token or f"fake.{secrets.token_urlsafe(18)}"
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.followup_window = followup_window
        self.granted_intents = granted_intents
        self.require_registered_commands = require_registered_commands
        self.strict = strict
        self.upload_limit = upload_limit
        self.gateway_rate_limit = gateway_rate_limit
        self.required_shards = required_shards

        self.bot_user = User(self.snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id  # like real bots created since 2016+
        self.owner = User(self.snowflake(), "app-owner")
        self.world = World(self.bot_user, self.snowflake)
        self.world.users[self.owner.id] = self.owner

        # recordings
        self.sent: list[SentRecord] = []
        self.callbacks: list[CallbackRecord] = []
        self.requests: list[RequestRecord] = []
        self.typing: list[tuple[int, float]] = []
        self.unhandled_routes: list[str] = []
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple[int | None, float]] = []
        self.attachments: dict[int, Attachment] = {}

        self._faults: list[Fault] = []
        self._internal_errors: list[str] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._t0 = time.monotonic()
        self.gateway = Gateway(self)
        self.rest = RestAPI(self)
        self._runner: web.AppRunner | None = None

    # ================================================================== lifecycle

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume/", self.gateway.handle)
        app.router.add_get("/attachments/{aid}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = self._runner.addresses
        self.port = sockets[0][1]
        log.info("FakeDiscord listening on %s", self.base_url)
        return self

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.close()
        if exc_type is None and self.strict:
            self.assert_healthy()

    def assert_healthy(self) -> None:
        """Raise if the bot used routes the fake does not know, or the fake itself failed."""
        problems = []
        if self.unhandled_routes:
            problems.append(
                f"bot called routes the fake does not implement: "
                f"{sorted(set(self.unhandled_routes))}"
            )
        if self._internal_errors:
            problems.append(f"fake server errors: {self._internal_errors}")
        if problems:
            raise AssertionError("FakeDiscord: " + "; ".join(problems))

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for ``discord.http.Route.BASE`` / ``DISCORD_API_BASE_URL``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` / ``DISCORD_GATEWAY_URL``."""
        return f"ws://{self.host}:{self.port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/resume/"

    def env(self) -> dict[str, str]:
        """Environment for running the real bot process against this server."""
        return {
            "DISCORD_API_BASE_URL": self.api_url,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_TOKEN": self.token,
        }

    def patch_discord(self) -> Any:
        """``point_discord_at(self.api_url, self.gateway_url)`` (undo handle / context manager)."""
        return point_discord_at(self.api_url, self.gateway_url)

    def now(self) -> float:
        """Seconds since the server object was created (the clock of all ``at`` fields)."""
        return time.monotonic() - self._t0

    @property
    def application_flags(self) -> int:
        return application_flags(self.granted_intents)

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        att = self.attachments.get(int(request.match_info["aid"]))
        if att is None:
            return web.Response(status=404)
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )

    # ================================================================== world building

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        dms_open: bool = True,
    ) -> User:
        user = User(self.snowflake(), username, global_name=global_name, bot=bot, dms_open=dms_open)
        self.world.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        everyone_permissions: int = Perm.DEFAULT_EVERYONE,
        bot_permissions: int = Perm.DEFAULT_BOT,
        with_bot: bool = True,
        locale: str = "en-US",
    ) -> Guild:
        """Create a guild with an @everyone role (id == guild id) and, by default, the bot.

        The bot joins with a managed role named after it carrying ``bot_permissions``.
        The owner (default: the application owner) is a member with every permission.
        """
        owner = owner or self.owner
        guild = Guild(self.snowflake(), name, owner.id, preferred_locale=locale)
        guild.roles[guild.id] = Role(
            guild.id, guild.id, "@everyone", everyone_permissions, mentionable=True
        )
        self.world.guilds[guild.id] = guild
        guild.members[owner.id] = Member(owner, guild.id)
        if with_bot:
            self._add_bot(guild, bot_permissions)
        return guild

    def _add_bot(self, guild: Guild, permissions: int) -> None:
        role = Role(
            self.snowflake(),
            guild.id,
            self.bot_user.username,
            permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[role.id] = role
        guild.bot_role_id = role.id
        guild.members[self.bot_user.id] = Member(self.bot_user, guild.id, [role.id])

    async def bot_joins(self, guild: Guild, *, permissions: int = Perm.DEFAULT_BOT) -> None:
        """Add the bot to a guild created with ``with_bot=False`` and send GUILD_CREATE."""
        self._add_bot(guild, permissions)
        futs = self.gateway.dispatch(
            "GUILD_CREATE",
            lambda s: self.gateway.guild_create(s, guild),
            guild_id=guild.id,
            intent=Intent.GUILDS,
        )
        await _gather(futs)

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        position: int | None = None,
        color: int = 0,
        hoist: bool = False,
    ) -> Role:
        if position is None:
            position = max(r.position for r in guild.roles.values()) + 1
        role = Role(
            self.snowflake(),
            guild.id,
            name,
            permissions,
            position,
            mentionable,
            hoist=hoist,
            color=color,
        )
        guild.roles[role.id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
            intent=Intent.GUILDS,
        )
        return role

    def add_text_channel(
        self,
        guild: Guild,
        name: str,
        *,
        topic: str | None = None,
        overwrites: dict[Any, tuple[int, int]] | None = None,
        nsfw: bool = False,
        type: int = ChannelType.GUILD_TEXT,
    ) -> Channel:
        """Create a guild text channel. ``overwrites`` maps Role/User/Member -> (allow, deny)."""
        chan = Channel(
            self.snowflake(),
            type,
            name,
            guild.id,
            position=len(guild.channels),
            topic=topic,
            nsfw=nsfw,
        )
        for target, (allow, deny) in (overwrites or {}).items():
            chan.overwrites.append(self._overwrite(guild, target, allow, deny))
        guild.channels[chan.id] = chan
        self.world.channels[chan.id] = chan
        self.gateway.dispatch(
            "CHANNEL_CREATE", chan.payload(), guild_id=guild.id, intent=Intent.GUILDS
        )
        return chan

    def _overwrite(self, guild: Guild, target: Any, allow: int, deny: int) -> Overwrite:
        if isinstance(target, Role):
            return Overwrite(target.id, 0, allow, deny)
        if isinstance(target, User | Member):
            return Overwrite(target.id, 1, allow, deny)
        if isinstance(target, Guild):
            return Overwrite(target.id, 0, allow, deny)
        ident = int(target)
        return Overwrite(ident, 0 if ident in guild.roles else 1, allow, deny)

    def set_overwrite(
        self, channel: Channel, target: Any, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a permission overwrite; ``target``: Role, User/Member, or the Guild (@everyone)."""
        guild = self.world.guilds[channel.guild_id or 0]
        ow = self._overwrite(guild, target, allow, deny)
        channel.overwrites = [o for o in channel.overwrites if o.id != ow.id] + [ow]
        self.gateway.dispatch(
            "CHANNEL_UPDATE", channel.payload(), guild_id=guild.id, intent=Intent.GUILDS
        )

    def add_member(
        self, guild: Guild, user: User, *, roles: Iterable[Role | int] = (), nick: str | None = None
    ) -> Member:
        """Make ``user`` a member of ``guild`` (a user may be in any number of guilds)."""
        member = Member(user, guild.id, [_id(r) for r in roles], nick)
        for rid in member.roles:
            if rid not in guild.roles:
                raise ValueError(f"role {rid} is not in {guild}")
        guild.members[user.id] = member
        self.gateway.dispatch(
            "GUILD_MEMBER_ADD",
            {"guild_id": str(guild.id), **member.payload()},
            guild_id=guild.id,
            intent=Intent.GUILD_MEMBERS,
        )
        return member

    def set_member_roles(self, guild: Guild, user: Target, roles: Iterable[Role | int]) -> Member:
        member = guild.members[_id(user)]
        member.roles = [_id(r) for r in roles]
        self.gateway.dispatch(
            "GUILD_MEMBER_UPDATE",
            {"guild_id": str(guild.id), **member.payload()},
            guild_id=guild.id,
            intent=Intent.GUILD_MEMBERS,
        )
        return member

    def member(self, guild: Guild, user: Target) -> Member:
        return guild.members[_id(user)]

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]

    def bot_role(self, guild: Guild) -> Role:
        assert guild.bot_role_id is not None
        return guild.roles[guild.bot_role_id]

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between ``user`` and the bot (created on first use)."""
        return self.world.dm_channel(user)

    def permissions_for(self, where: Channel | Guild, user: Target) -> int:
        """Effective permissions (channel: with overwrites; guild: role permissions only)."""
        if isinstance(where, Guild):
            return self.world.base_permissions(where, _id(user))
        return self.world.channel_permissions(where, _id(user))

    def user(self, ident: int) -> User:
        return self.world.users[ident]

    def channel(self, ident: int) -> Channel:
        return self.world.channels[ident]

    # ================================================================== intents / gateway faults

    def deny_intent(self, bits: int) -> None:
        """Simulate the portal switch being off: IDENTIFY asking for it gets close 4014."""
        self.granted_intents &= ~bits

    def grant_intent(self, bits: int) -> None:
        self.granted_intents |= bits & Intent.PRIVILEGED

    async def drop_gateway(self, code: int = 4000, *, message: str = "") -> int:
        """Close every open gateway websocket with ``code`` (4000: resumable). Returns count."""
        return await self.gateway.drop(code, message=message)

    def refuse_next_resume(self, times: int = 1) -> None:
        """Answer the next RESUME(s) with INVALID_SESSION(d=false) so the client re-identifies."""
        self.gateway.refuse_resumes += times

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT (the client should close and RESUME)."""
        await self.gateway.send_op(7)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        await self.gateway.send_op(9, resumable)

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    async def wait_for_session(self, timeout: float = 5.0, *, count: int = 1) -> GatewaySession:
        """Wait until ``count`` sessions have IDENTIFYed and one is connected; return newest."""
        await self.wait_until(
            lambda: self.gateway.identify_count >= count and self.gateway.connected_sessions,
            timeout=timeout,
            what=f"{count} gateway IDENTIFY(s)",
        )
        return self.gateway.connected_sessions[-1]

    def dispatch(
        self,
        event: str,
        data: dict[str, Any] | Callable[[GatewaySession], Any],
        *,
        guild_id: int | None = None,
        intent: int | None = None,
    ) -> list[Any]:
        """Escape hatch: send any DISPATCH event to the matching sessions."""
        return self.gateway.dispatch(event, data, guild_id=guild_id, intent=intent)

    # ================================================================== REST fault injection

    def fail_next(
        self,
        method: str,
        path_pattern: str | re.Pattern[str],
        status: int = 429,
        *,
        retry_after: float = 0.5,
        is_global: bool = False,
        times: int = 1,
        scope: str | None = None,
        body: Any = None,
    ) -> Fault:
        """Make the next ``times`` matching requests fail with ``status``.

        ``path_pattern`` is relative to ``/api/v10``: a glob (``*`` = one path segment,
        ``**`` = anything, e.g. ``"/channels/*/messages"``) or a compiled regex.
        429s carry ``Retry-After``, ``X-RateLimit-*``, ``Via`` and the JSON body Discord
        sends; 500 gets a JSON body, 502/503/504 an HTML page.  discord.py retries 429 after
        ``retry_after`` and 500/502/504 after 1 s, 3 s, ...
        """
        regex = (
            path_pattern if isinstance(path_pattern, re.Pattern) else glob_to_regex(path_pattern)
        )
        fault = Fault(
            method.upper(),
            regex,
            status,
            retry_after,
            is_global,
            scope or ("global" if is_global else "user"),
            times,
            body,
        )
        self._faults.append(fault)
        return fault

    @property
    def http_errors(self) -> list[RequestRecord]:
        """Every non-2xx response the fake returned (injected ones included)."""
        return [r for r in self.requests if r.status >= 400]

    # ================================================================== users acting

    async def user_says(
        self,
        channel: Channel,
        user: User,
        content: str = "",
        *,
        embeds: Sequence[dict[str, Any]] = (),
        attachments: Sequence[tuple[str, bytes]] = (),
        reply_to: Message | SentRecord | None = None,
        mention_author: bool = True,
    ) -> Message:
        """Post a message as ``user`` and dispatch MESSAGE_CREATE (guild channel or DM).

        Content, embeds, attachments and components are blanked for sessions without the
        MESSAGE_CONTENT intent unless it is a DM or the bot is mentioned (Discord's rules).
        """
        self._check_can_post(channel, user)
        replied = _msg(reply_to)
        msg = Message(
            self.snowflake(),
            channel.id,
            channel.guild_id,
            user,
            content,
            embeds=list(embeds),
            type=19 if replied else 0,
        )
        for name, data in attachments:
            msg.attachments.append(make_attachment(self, name, data, None))
        if replied is not None:
            msg.message_reference = {
                "type": 0,
                "message_id": str(replied.id),
                "channel_id": str(replied.channel_id),
            }
            if replied.guild_id:
                msg.message_reference["guild_id"] = str(replied.guild_id)
        am = (
            None
            if mention_author
            else {"parse": ["users", "roles", "everyone"], "replied_user": False}
        )
        self._apply_pings(msg, am, replied)
        msg.mark = self.mark()
        self._store(msg)
        await _gather(self._dispatch_message("MESSAGE_CREATE", msg))
        return msg

    async def user_edits(self, message: Message, content: str) -> Message:
        message.content = content
        message.edited_timestamp = iso_now()
        self._apply_pings(message, None, None)
        await _gather(self._dispatch_message("MESSAGE_UPDATE", message))
        return message

    async def user_deletes(self, message: Message) -> None:
        message.deleted = True
        await _gather(self._dispatch_delete(message))

    async def user_reacts(self, message: Message | SentRecord, user: User, emoji: str) -> None:
        msg = _msg(message)
        assert msg is not None
        chan = self.world.channels[msg.channel_id]
        if not self.world.can_view(chan, user.id):
            raise UnrealisticAction(f"{user} cannot see {chan}")
        users = msg.reactions.setdefault(emoji, [])
        if user.id not in users:
            users.append(user.id)
            await _gather(self._dispatch_reaction("MESSAGE_REACTION_ADD", msg, user.id, emoji))

    def _check_can_post(self, channel: Channel, user: User) -> None:
        if channel.is_dm:
            if user not in channel.recipients:
                raise UnrealisticAction(f"{user} is not a recipient of this DM channel")
            return
        guild = self.world.guilds[channel.guild_id or 0]
        if user.id not in guild.members:
            raise UnrealisticAction(f"{user} is not a member of {guild}")
        perms = self.world.channel_permissions(channel, user.id)
        if not perms & Perm.VIEW_CHANNEL or not perms & Perm.SEND_MESSAGES:
            raise UnrealisticAction(f"{user} cannot post in {channel}")

    # ================================================================== interactions

    async def slash(
        self,
        guild: Guild | None,
        channel: Channel,
        user: User,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        locale: str = "en-US",
        focused: str | None = None,
    ) -> Interaction:
        """Invoke ``/name [group] [subcommand] options...`` as ``user`` in ``channel``.

        ``name`` may also be the full path, e.g. ``"quotebot reload"``.  Options are given
        by name with Python values (str/int/float/bool, User/Member, Channel, Role, or
        ``(filename, bytes)`` for attachments) and are typed and validated against the
        command the bot registered (required options, choices, min/max, ...).  The payload
        carries ``data.id``/``data.guild_id`` of that registration, as discord.py's
        CommandTree resolves by name + guild_id.  ``focused`` turns it into an autocomplete
        interaction for that option (use :meth:`autocomplete`).
        """
        parts = name.split()
        root = parts[0]
        if len(parts) == 3:
            group, subcommand = parts[1], parts[2]
        elif len(parts) == 2:
            subcommand = parts[1]
        self._check_interaction_place(guild, channel, user)
        cmd = self._find_command(root, 1, guild)
        self._check_command_usable(cmd, guild, channel, user, f"/{name}")
        resolved: dict[str, dict[str, Any]] = {}
        schema = cmd.get("options", []) if cmd else None
        path = [p for p in (group, subcommand) if p]
        opts_out = self._build_options(
            schema, path, options or {}, resolved, guild, channel, focused
        )
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else str(self.snowflake()),
            "name": root,
            "type": 1,
            "options": opts_out,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        itype = (
            InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE
            if focused
            else InteractionType.APPLICATION_COMMAND
        )
        return await self._dispatch_interaction(itype, guild, channel, user, data, locale=locale)

    async def autocomplete(
        self,
        guild: Guild | None,
        channel: Channel,
        user: User,
        name: str,
        options: dict[str, Any],
        focused: str,
        **kw: Any,
    ) -> Interaction:
        """Send an autocomplete interaction; the bot's choices land in ``.autocomplete_choices``."""
        return await self.slash(guild, channel, user, name, options, focused=focused, **kw)

    async def user_command(
        self, guild: Guild | None, channel: Channel, user: User, name: str, target: User
    ) -> Interaction:
        """Invoke a user context-menu command on ``target``."""
        return await self._context_menu(2, guild, channel, user, name, target)

    async def message_command(
        self, guild: Guild | None, channel: Channel, user: User, name: str, target: Message
    ) -> Interaction:
        """Invoke a message context-menu command on ``target``."""
        return await self._context_menu(3, guild, channel, user, name, target)

    async def _context_menu(
        self, ctype: int, guild: Guild | None, channel: Channel, user: User, name: str, target: Any
    ) -> Interaction:
        self._check_interaction_place(guild, channel, user)
        cmd = self._find_command(name, ctype, guild)
        self._check_command_usable(cmd, guild, channel, user, name)
        resolved: dict[str, dict[str, Any]] = {}
        if ctype == 2:
            self._resolve_user(resolved, target, guild, channel)
        else:
            resolved["messages"] = {str(target.id): self.world.message_payload(target)}
        data = {
            "id": cmd["id"] if cmd else str(self.snowflake()),
            "name": name,
            "type": ctype,
            "target_id": str(target.id),
            "resolved": resolved,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch_interaction(
            InteractionType.APPLICATION_COMMAND, guild, channel, user, data
        )

    async def click(
        self,
        message: Message | SentRecord | int,
        custom_id: str,
        user: User,
        *,
        values: Sequence[Any] | None = None,
    ) -> Interaction:
        """Click a button (or pick ``values`` in a select) on a message: INTERACTION_CREATE 3."""
        msg = _msg(message) if not isinstance(message, int) else self.world.messages.get(message)
        if msg is None or msg.deleted:
            raise UnrealisticAction(f"message {message!r} does not exist (any more)")
        comp = msg.component(custom_id)
        if comp is None:
            raise UnrealisticAction(f"{msg} has no component {custom_id!r}; has {msg.custom_ids}")
        if comp.get("disabled"):
            raise UnrealisticAction(f"component {custom_id!r} is disabled")
        chan = self.world.channels[msg.channel_id]
        guild = self.world.guild_of(chan)
        self._check_interaction_place(guild, chan, user)
        if msg.ephemeral:
            owner = (msg.interaction_metadata or {}).get("user", {}).get("id")
            if owner != str(user.id):
                raise UnrealisticAction("only the invoking user can see an ephemeral message")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] == 2:
            if values is not None:
                raise UnrealisticAction("buttons take no values")
        else:
            vals = list(values or [])
            lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
            if not lo <= len(vals) <= hi:
                raise UnrealisticAction(f"select {custom_id!r} needs {lo}..{hi} values")
            if comp["type"] == 3:
                allowed = [o["value"] for o in comp.get("options", [])]
                bad = [v for v in vals if v not in allowed]
                if bad:
                    raise UnrealisticAction(f"values {bad} are not options of {custom_id!r}")
                data["values"] = vals
            else:
                resolved: dict[str, dict[str, Any]] = {}
                data["values"] = [str(_id(v)) for v in vals]
                for v in vals:
                    if isinstance(v, Role):
                        resolved.setdefault("roles", {})[str(v.id)] = v.payload()
                    elif isinstance(v, Channel):
                        resolved.setdefault("channels", {})[str(v.id)] = (
                            self.world.partial_channel_payload(v, user.id)
                        )
                    else:
                        self._resolve_user(resolved, v, guild, chan)
                data["resolved"] = resolved
        return await self._dispatch_interaction(
            InteractionType.MESSAGE_COMPONENT, guild, chan, user, data, message=msg
        )

    async def select(
        self, message: Message | SentRecord | int, custom_id: str, user: User, values: Sequence[Any]
    ) -> Interaction:
        return await self.click(message, custom_id, user, values=values)

    async def submit_modal(
        self, interaction: Interaction, values: dict[str, Any], *, user: User | None = None
    ) -> Interaction:
        """Fill in and submit the modal the bot answered ``interaction`` with (callback 9)."""
        modal = interaction.modal
        if modal is None:
            raise UnrealisticAction(f"{interaction} was not answered with a modal")
        user = user or interaction.user
        remaining = dict(values)
        rows: list[dict[str, Any]] = []
        for row in modal.get("components", []):
            if row.get("type") == 1:
                comps = row.get("components", [])
                rows.append(
                    {"type": 1, "components": [self._modal_value(c, remaining) for c in comps]}
                )
            elif row.get("type") == 18:
                rows.append(
                    {"type": 18, "component": self._modal_value(row["component"], remaining)}
                )
            else:
                rows.append({"type": row.get("type")})
        if remaining:
            raise UnrealisticAction(f"modal has no inputs {sorted(remaining)}")
        chan = self.world.channels[interaction.channel_id]
        guild = self.world.guild_of(chan)
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._dispatch_interaction(
            InteractionType.MODAL_SUBMIT, guild, chan, user, data, message=interaction.message
        )

    def _modal_value(self, comp: dict[str, Any], remaining: dict[str, Any]) -> dict[str, Any]:
        cid = comp.get("custom_id")
        if comp.get("type") == 4:
            value = str(remaining.pop(cid, comp.get("value") or ""))
            if comp.get("required", True) and not value:
                raise UnrealisticAction(f"modal input {cid!r} is required")
            lo, hi = comp.get("min_length") or 0, comp.get("max_length") or 4000
            if value and not lo <= len(value) <= hi:
                raise UnrealisticAction(f"modal input {cid!r} must be {lo}..{hi} characters")
            return {"type": 4, "custom_id": cid, "value": value}
        vals = remaining.pop(cid, [])
        return {"type": comp.get("type"), "custom_id": cid, "values": [str(v) for v in vals]}

    # ---------------------------------------------------------------- interaction internals

    def _check_interaction_place(self, guild: Guild | None, channel: Channel, user: User) -> None:
        if guild is None:
            if not channel.is_dm:
                raise UnrealisticAction(f"{channel} is a guild channel; pass its guild")
            if user not in channel.recipients:
                raise UnrealisticAction(f"{user} is not in this DM")
            return
        if channel.guild_id != guild.id:
            raise UnrealisticAction(f"{channel} is not in {guild}")
        if user.id not in guild.members:
            raise UnrealisticAction(f"{user} is not a member of {guild}")
        if not self.world.can_view(channel, user.id):
            raise UnrealisticAction(f"{user} cannot see {channel}")

    def _find_command(self, name: str, ctype: int, guild: Guild | None) -> dict[str, Any] | None:
        scopes: list[int | None] = [guild.id, None] if guild else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd["type"] == ctype:
                    return cmd
        if self.require_registered_commands:
            known = {scope: [c["name"] for c in cmds] for scope, cmds in self.commands.items()}
            raise UnrealisticAction(
                f"command {name!r} (type {ctype}) is not registered for this place; the bot "
                f"synced: {known or 'nothing'} (require_registered_commands=True)"
            )
        return None

    def _check_command_usable(
        self,
        cmd: dict[str, Any] | None,
        guild: Guild | None,
        channel: Channel,
        user: User,
        label: str,
    ) -> None:
        if cmd is None:
            return
        if guild is None:
            contexts = cmd.get("contexts")
            in_dm = 1 in contexts if contexts is not None else cmd.get("dm_permission", True)
            if not in_dm or cmd.get("guild_id"):
                raise UnrealisticAction(f"{label} is not available in DMs")
            return
        contexts = cmd.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise UnrealisticAction(f"{label} is not available in guilds")
        perms = self.world.channel_permissions(channel, user.id)
        if not perms & Perm.USE_APPLICATION_COMMANDS:
            raise UnrealisticAction(f"{user} lacks USE_APPLICATION_COMMANDS in {channel}")
        raw = cmd.get("default_member_permissions")
        dmp = None if raw is None else int(raw)
        # Discord hides the command unless the member has every bit; "0" = admins only
        if dmp is not None and perms != Perm.ALL and (dmp == 0 or (dmp & perms) != dmp):
            raise UnrealisticAction(
                f"{user} lacks default_member_permissions={dmp} so Discord hides {label}"
            )

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        path: list[str],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        guild: Guild | None,
        channel: Channel,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        if path:
            name = path[0]
            sub = None
            if schema is not None:
                sub = next((o for o in schema if o["name"] == name and o["type"] in (1, 2)), None)
                if sub is None:
                    raise UnrealisticAction(
                        f"no subcommand (group) {name!r}; have "
                        f"{[o['name'] for o in schema if o['type'] in (1, 2)]}"
                    )
                otype = sub["type"]
            else:
                otype = OptionType.SUB_COMMAND_GROUP if len(path) > 1 else OptionType.SUB_COMMAND
            inner = self._build_options(
                sub.get("options", []) if sub else None,
                path[1:],
                values,
                resolved,
                guild,
                channel,
                focused,
            )
            return [{"name": name, "type": int(otype), "options": inner}]
        if schema is not None and any(o["type"] in (1, 2) for o in schema):
            raise UnrealisticAction(
                f"this command needs a subcommand; have {[o['name'] for o in schema]}"
            )
        out = []
        by_name = {o["name"]: o for o in schema} if schema is not None else None
        for key, value in values.items():
            if by_name is not None and key not in by_name:
                raise UnrealisticAction(f"unknown option {key!r}; have {sorted(by_name)}")
            opt = by_name[key] if by_name is not None else {"type": _infer_type(value)}
            entry = {"name": key, "type": opt["type"]}
            if key == focused:
                entry["value"] = str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._option_value(opt, key, value, resolved, guild, channel)
            out.append(entry)
        if by_name is not None and focused is None:
            missing = [n for n, o in by_name.items() if o.get("required") and n not in values]
            if missing:
                raise UnrealisticAction(f"missing required options {missing}")
        return out

    def _option_value(
        self,
        opt: dict[str, Any],
        key: str,
        value: Any,
        resolved: dict[str, dict[str, Any]],
        guild: Guild | None,
        channel: Channel,
    ) -> Any:
        t = opt["type"]
        if t in (OptionType.STRING, OptionType.INTEGER, OptionType.NUMBER, OptionType.BOOLEAN):
            py = {3: str, 4: int, 10: (int, float), 5: bool}[t]
            if not isinstance(value, py) or (t in (4, 10) and isinstance(value, bool)):
                raise UnrealisticAction(f"option {key!r} needs {py}, got {value!r}")
            choices = opt.get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise UnrealisticAction(f"option {key!r}: {value!r} is not one of the choices")
            if t == OptionType.STRING:
                lo, hi = opt.get("min_length") or 0, opt.get("max_length") or 6000
                if not lo <= len(value) <= hi:
                    raise UnrealisticAction(f"option {key!r} must be {lo}..{hi} characters")
            if t in (4, 10):
                if opt.get("min_value") is not None and value < opt["min_value"]:
                    raise UnrealisticAction(f"option {key!r} below min_value")
                if opt.get("max_value") is not None and value > opt["max_value"]:
                    raise UnrealisticAction(f"option {key!r} above max_value")
            return value
        if t == OptionType.USER or (t == OptionType.MENTIONABLE and not isinstance(value, Role)):
            self._resolve_user(resolved, value, guild, channel)
            return str(_id(value))
        if t in (OptionType.ROLE, OptionType.MENTIONABLE):
            if not isinstance(value, Role):
                raise UnrealisticAction(f"option {key!r} needs a Role")
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if t == OptionType.CHANNEL:
            if not isinstance(value, Channel):
                raise UnrealisticAction(f"option {key!r} needs a Channel")
            types = opt.get("channel_types")
            if types and value.type not in types:
                raise UnrealisticAction(f"option {key!r} only accepts channel types {types}")
            resolved.setdefault("channels", {})[str(value.id)] = self.world.partial_channel_payload(
                value, self.bot_user.id
            )
            return str(value.id)
        if t == OptionType.ATTACHMENT:
            filename, data = value
            att = make_attachment(self, filename, data, None, ephemeral=True)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
            return str(att.id)
        raise UnrealisticAction(f"option type {t} is not supported by the fake")

    def _resolve_user(
        self, resolved: dict[str, dict[str, Any]], value: Any, guild: Guild | None, channel: Channel
    ) -> None:
        user = value.user if isinstance(value, Member) else value
        if isinstance(user, int):
            user = self.world.users[user]
        if not isinstance(user, User):
            raise UnrealisticAction(f"{value!r} is not a user")
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        member = self.world.member(guild.id if guild else None, user.id)
        if member is not None:
            resolved.setdefault("members", {})[str(user.id)] = self.world.member_payload(
                member, with_user=False, channel=channel
            )

    async def _dispatch_interaction(
        self,
        itype: int,
        guild: Guild | None,
        channel: Channel,
        user: User,
        data: dict[str, Any],
        *,
        message: Message | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        inter = Interaction(
            self.snowflake(),
            f"aW50ZXJhY3Rpb24{secrets.token_urlsafe(48)}",
            itype,
            self.application_id,
            user,
            channel.id,
            guild.id if guild else None,
            data,
            message=message,
        )
        payload: dict[str, Any] = {
            "id": str(inter.id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": inter.token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": self.world.partial_channel_payload(channel, user.id),
            "app_permissions": str(self.world.channel_permissions(channel, self.bot_user.id)),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": self.upload_limit,
            "context": 1 if guild is None else 0,
        }
        if guild is not None:
            member = guild.members[user.id]
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {
                "id": str(guild.id),
                "locale": guild.preferred_locale,
                "features": [],
            }
            payload["guild_locale"] = guild.preferred_locale
            payload["member"] = self.world.member_payload(member, channel=channel)
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
        else:
            payload["user"] = user.payload()
            payload["authorizing_integration_owners"] = {"0": "0"}
        if message is not None:
            payload["message"] = self.world.message_payload(message)
        inter.payload = payload
        self.interactions[inter.id] = inter
        self.interactions_by_token[inter.token] = inter
        if not self.gateway.live_sessions:
            log.warning("fakediscord: no gateway session; nobody receives %r", inter)
        inter.mark = self.mark()
        inter.dispatched_at = self.now()
        await _gather(self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=inter.guild_id))
        return inter

    # ================================================================== bot message plumbing

    def _store(self, msg: Message) -> None:
        self.world.messages[msg.id] = msg
        chan = self.world.channels.get(msg.channel_id)
        if chan is not None and not msg.ephemeral:
            chan.last_message_id = msg.id
        self._notify()

    def _content_exempt(self, msg: Message) -> bool:
        return (
            msg.guild_id is None
            or msg.author.id == self.bot_user.id
            or self.bot_user.id in msg.mentions
        )

    def _bot_sees(self, channel_id: int) -> bool:
        chan = self.world.channels.get(channel_id)
        return chan is not None and (chan.is_dm or self.world.can_view(chan, self.bot_user.id))

    def _dispatch_message(self, event: str, msg: Message) -> list[Any]:
        if msg.ephemeral or not self._bot_sees(msg.channel_id):
            return []  # no events from channels the bot cannot view
        intent = Intent.GUILD_MESSAGES if msg.guild_id else Intent.DIRECT_MESSAGES

        def data(session: GatewaySession) -> dict[str, Any]:
            strip = not session.has(Intent.MESSAGE_CONTENT) and not self._content_exempt(msg)
            return self.world.message_payload(msg, strip_content=strip)

        return self.gateway.dispatch(event, data, guild_id=msg.guild_id, intent=intent)

    def _dispatch_delete(self, msg: Message) -> list[Any]:
        if msg.ephemeral or not self._bot_sees(msg.channel_id):
            return []
        data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
        intent = Intent.GUILD_MESSAGES if msg.guild_id else Intent.DIRECT_MESSAGES
        return self.gateway.dispatch("MESSAGE_DELETE", data, guild_id=msg.guild_id, intent=intent)

    def _dispatch_reaction(self, event: str, msg: Message, user_id: int, emoji: str) -> list[Any]:
        if not self._bot_sees(msg.channel_id):
            return []
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
            "message_author_id": str(msg.author.id),
        }
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
            member = self.world.member(msg.guild_id, user_id)
            if member is not None and event.endswith("ADD"):
                data["member"] = member.payload()
        intent = Intent.GUILD_MESSAGE_REACTIONS if msg.guild_id else Intent.DIRECT_MESSAGE_REACTIONS
        return self.gateway.dispatch(event, data, guild_id=msg.guild_id, intent=intent)

    def _check_files(self, files: list[UploadedFile]) -> None:
        if len(files) > 10:
            errs = FormErrors()
            errs.add(("files",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
            errs.raise_if_any()
        if any(len(f.data) > self.upload_limit for f in files):
            raise DiscordHTTPError(413, 40005, "Request entity too large")

    def _new_attachments(
        self, body: dict[str, Any], files: list[UploadedFile], *, ephemeral: bool
    ) -> list[Attachment]:
        meta = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        out = []
        for f in files:
            index = f.field.removeprefix("files[").removesuffix("]")
            info = meta.get(index, {})
            out.append(
                make_attachment(
                    self,
                    info.get("filename") or f.filename,
                    f.data,
                    f.content_type,
                    info.get("description"),
                    ephemeral=ephemeral,
                )
            )
        return out

    def _apply_pings(
        self, msg: Message, allowed_mentions: dict[str, Any] | None, replied: Message | None
    ) -> Pings:
        chan = self.world.channels[msg.channel_id]
        pings = self.world.compute_pings(
            channel=chan,
            author_id=msg.author.id,
            content=msg.content,
            allowed_mentions=allowed_mentions,
            replied=replied,
        )
        order = [int(u) for u in USER_MENTION_RE.findall(msg.content or "")]
        msg.mentions = sorted(pings.users, key=lambda u: order.index(u) if u in order else -1)
        msg.mention_roles = sorted(pings.roles)
        msg.mention_everyone = pings.everyone or pings.here
        return pings

    def _validate_new(self, body: dict[str, Any], files: list[UploadedFile]) -> None:
        errs = FormErrors()
        validate_message_fields(body, errs)
        errs.raise_if_any()
        self._check_files(files)
        if message_is_empty({**body, "attachments": body.get("attachments") or files}):
            raise empty_message_error()

    def _drop_embeds_without_permission(self, body: dict[str, Any], embed_ok: bool) -> None:
        if body.get("embeds") and not embed_ok:
            log.warning("fakediscord: bot lacks EMBED_LINKS here; Discord hides its embeds")
            body["embeds"] = []

    def _new_bot_message(
        self,
        chan: Channel,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        route: str,
        replied: Message | None,
        embed_ok: bool,
    ) -> Message:
        self._validate_new(body, files)
        raw, body = body, dict(body)
        self._drop_embeds_without_permission(body, embed_ok)
        msg = Message(
            self.snowflake(),
            chan.id,
            chan.guild_id,
            self.bot_user,
            body.get("content") or "",
            embeds=_embeds(body.get("embeds")),
            components=list(body.get("components") or []),
            flags=(body.get("flags") or 0) & CREATE_FLAGS,
            tts=bool(body.get("tts")),
            nonce=body.get("nonce"),
            type=19 if replied else 0,
            allowed_mentions=body.get("allowed_mentions"),
        )
        if replied is not None:
            sent_ref = body["message_reference"]
            ref = {
                "type": sent_ref.get("type", 0),
                "message_id": str(replied.id),
                "channel_id": str(replied.channel_id),
            }
            if replied.guild_id:
                ref["guild_id"] = str(replied.guild_id)
            msg.message_reference = ref
        msg.attachments = self._new_attachments(body, files, ephemeral=False)
        pings = self._apply_pings(msg, body.get("allowed_mentions"), replied)
        self._store(msg)
        self._record("create", route, msg, raw, pings, None)
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    def _new_interaction_message(
        self,
        inter: Interaction,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        route: str,
        loading: bool = False,
    ) -> Message:
        if not loading:
            self._validate_new(body, files)
        chan = self.world.channels[inter.channel_id]
        flags = (body.get("flags") or 0) & (CREATE_FLAGS | MessageFlag.LOADING)
        metadata: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "user": inter.user.payload(),
            "authorizing_integration_owners": inter.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if inter.data.get("name"):
            metadata["name"] = inter.data["name"]
        if route == "followup" and inter.original_message_id:
            metadata["original_response_message_id"] = str(inter.original_message_id)
        if inter.message is not None:
            metadata["interacted_message_id"] = str(inter.message.id)
        mtype = 0
        if route == "callback" and inter.type == InteractionType.APPLICATION_COMMAND:
            mtype = 20 if inter.data.get("type", 1) == 1 else 23
        msg = Message(
            self.snowflake(),
            chan.id,
            chan.guild_id,
            self.bot_user,
            body.get("content") or "",
            embeds=_embeds(body.get("embeds")),
            components=list(body.get("components") or []),
            flags=flags,
            tts=bool(body.get("tts")),
            type=mtype,
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction_metadata=metadata,
            allowed_mentions=body.get("allowed_mentions"),
            interaction_id=inter.id,
        )
        msg.attachments = self._new_attachments(body, files, ephemeral=msg.ephemeral)
        pings = self._apply_pings(msg, body.get("allowed_mentions"), None)
        self._store(msg)
        self._record("create", route, msg, body, pings, inter)
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    def _merge(
        self, msg: Message, body: dict[str, Any], files: list[UploadedFile]
    ) -> dict[str, Any]:
        """The message fields after applying an edit body (for validation before mutating)."""
        merged: dict[str, Any] = {
            "content": msg.content,
            "embeds": msg.embeds,
            "components": msg.components,
            "attachments": list(msg.attachments),
        }
        for key in ("content", "embeds", "components"):
            if key in body:
                merged[key] = body[key] or ("" if key == "content" else [])
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or [] if isinstance(a, dict)}
            merged["attachments"] = [a for a in msg.attachments if str(a.id) in keep]
        merged["attachments"] = merged["attachments"] + list(files)
        return merged

    def _edit_message(
        self,
        msg: Message,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        route: str,
        interaction: Interaction | None = None,
        embed_ok: bool = True,
        clear_loading: bool = False,
    ) -> None:
        errs = FormErrors()
        validate_message_fields({**body, "flags": body.get("flags", msg.flags)}, errs)
        errs.raise_if_any()
        self._check_files(files)
        merged = self._merge(msg, body, files)
        if message_is_empty(merged):
            raise empty_message_error()
        raw, body = body, dict(body)
        self._drop_embeds_without_permission(body, embed_ok)
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = _embeds(body["embeds"])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            msg.flags = (msg.flags & ~MessageFlag.SUPPRESS_EMBEDS) | (
                body["flags"] & MessageFlag.SUPPRESS_EMBEDS
            )
        if clear_loading:
            msg.flags &= ~MessageFlag.LOADING
        kept = [a for a in merged["attachments"] if isinstance(a, Attachment)]
        msg.attachments = kept + self._new_attachments(body, files, ephemeral=msg.ephemeral)
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        msg.edited_timestamp = iso_now()
        # an edit highlights mentions in the new content; it never re-pings the replied user
        pings = self._apply_pings(msg, body.get("allowed_mentions"), None)
        self._record("edit", route, msg, raw, pings, interaction)
        self._dispatch_message("MESSAGE_UPDATE", msg)

    def _delete_message(
        self, msg: Message, *, route: str, interaction: Interaction | None = None
    ) -> None:
        msg.deleted = True
        self._record("delete", route, msg, {}, Pings(), interaction)
        self._dispatch_delete(msg)

    def _record(
        self,
        op: str,
        route: str,
        msg: Message,
        body: dict[str, Any],
        pings: Pings,
        interaction: Interaction | None,
    ) -> SentRecord:
        if interaction is None and msg.interaction_id is not None:
            interaction = self.interactions.get(msg.interaction_id)
        rec = SentRecord(
            index=len(self.sent),
            op=op,
            route=route,
            message=msg,
            at=self.now(),
            body=body,
            content=msg.content,
            embeds=list(msg.embeds),
            components=list(msg.components),
            attachments=[a.filename for a in msg.attachments],
            flags=msg.flags,
            allowed_mentions=body.get("allowed_mentions"),
            message_reference=msg.message_reference,
            pings=pings,
            interaction=interaction,
        )
        self.sent.append(rec)
        self._notify()
        return rec

    # ================================================================== queries

    def messages_in(self, channel: Channel, *, include_ephemeral: bool = True) -> list[Message]:
        """Current (non-deleted) messages of a channel, oldest first, any author."""
        return [
            m for m in self.world.messages_in(channel.id) if include_ephemeral or not m.ephemeral
        ]

    def bot_messages(self, channel: Channel | None = None) -> list[Message]:
        return [
            m
            for m in self.world.messages.values()
            if m.author.id == self.bot_user.id
            and not m.deleted
            and (channel is None or m.channel_id == channel.id)
        ]

    def records(
        self,
        *,
        op: str | None = None,
        route: str | None = None,
        channel: Channel | None = None,
        after: Any = None,
    ) -> list[SentRecord]:
        """Filter :attr:`sent` (``after``: a mark, Message, Interaction or SentRecord)."""
        start = self._mark_of(after)
        return [
            r
            for r in self.sent[start:]
            if (op is None or r.op == op)
            and (route is None or r.route == route)
            and (channel is None or r.channel_id == channel.id)
        ]

    def original_message(self, interaction: Interaction) -> Message | None:
        """The interaction's original response message (``.loading`` if never followed up)."""
        if interaction.original_message_id is None:
            return None
        return self.world.messages.get(interaction.original_message_id)

    def interaction_responses(self, interaction: Interaction) -> list[SentRecord]:
        """Every message write tied to ``interaction`` (callback, followups, edits, deletes)."""
        return [r for r in self.sent if r.interaction is interaction]

    def pings(self, message: Message | SentRecord) -> Pings:
        """Who ``message`` notifies (for a record: as of that write)."""
        if isinstance(message, SentRecord):
            return message.pings
        chan = self.world.channels[message.channel_id]
        return self.world.compute_pings(
            channel=chan,
            author_id=message.author.id,
            content=message.content,
            allowed_mentions=message.allowed_mentions,
            replied=self.world.messages.get(message.reply_to_id or 0),
        )

    def mark(self) -> int:
        """An index into :attr:`sent`; pass as ``after=`` to only see later records."""
        return len(self.sent)

    def _mark_of(self, after: Any) -> int:
        if after is None:
            return 0
        if isinstance(after, int):
            return after
        if isinstance(after, SentRecord):
            return after.index + 1
        mark = getattr(after, "mark", None)
        if mark is None:
            raise TypeError(f"cannot use {after!r} as a mark")
        return mark

    # ================================================================== waiting

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_until(
        self, condition: Callable[[], T], timeout: float = 5.0, *, what: str = "condition"
    ) -> T:
        """Wait until ``condition()`` is truthy (re-checked on every server event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}\n" + self.describe()
                )
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, min(remaining, 0.05))

    async def wait_for(
        self,
        predicate: Callable[[SentRecord], Any] | None = None,
        *,
        timeout: float = 5.0,
        after: Any = None,
    ) -> SentRecord:
        """Wait for the first bot message write (create/edit/delete) matching ``predicate``.

        ``after`` limits the search to records made after a mark (see :meth:`mark`), a user
        message from :meth:`user_says`, an :class:`Interaction` or a :class:`SentRecord`.
        """
        start = self._mark_of(after)

        def find() -> SentRecord | None:
            for rec in self.sent[start:]:
                if predicate is None or predicate(rec):
                    return rec
            return None

        return await self.wait_until(find, timeout, what="a matching bot message")

    async def wait_for_reply(
        self, to: Message | Interaction, *, timeout: float = 5.0
    ) -> SentRecord:
        """The bot's first visible answer to a user message (same channel) or an interaction
        (callback message, first followup or edit of a deferred response; not "thinking")."""
        if isinstance(to, Interaction):
            return await self.wait_for(
                lambda r: (
                    r.interaction is to and r.op != "delete" and not r.flags & MessageFlag.LOADING
                ),
                timeout=timeout,
                after=to,
            )
        return await self.wait_for(
            lambda r: r.channel_id == to.channel_id and r.op == "create", timeout=timeout, after=to
        )

    async def wait_for_callback(
        self, interaction: Interaction, *, timeout: float = 5.0
    ) -> CallbackRecord:
        """The first callback attempt (accepted or rejected) for ``interaction``."""
        return await self.wait_until(
            lambda: interaction.callbacks and interaction.callbacks[0],
            timeout,
            what=f"a callback for {interaction}",
        )

    def describe(self) -> str:
        """Human-readable state summary (used in timeout errors)."""
        lines = [
            f"  sessions: {self.sessions}",
            f"  identifies={self.identify_count} resumes={self.resume_count}",
        ]
        lines.append(f"  last bot writes: {self.sent[-5:]}")
        lines.append(f"  last requests: {self.requests[-8:]}")
        if self.unhandled_routes:
            lines.append(f"  unhandled routes: {self.unhandled_routes}")
        return "\n".join(lines)


# ====================================================================== helpers


def _id(obj: Any) -> int:
    return obj if isinstance(obj, int) else obj.id


def _msg(obj: Message | SentRecord | None) -> Message | None:
    return obj.message if isinstance(obj, SentRecord) else obj


def _embeds(embeds: Any) -> list[dict[str, Any]]:
    return [{"type": "rich", **e} for e in embeds or []]


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return OptionType.BOOLEAN
    if isinstance(value, int):
        return OptionType.INTEGER
    if isinstance(value, float):
        return OptionType.NUMBER
    if isinstance(value, User | Member):
        return OptionType.USER
    if isinstance(value, Role):
        return OptionType.ROLE
    if isinstance(value, Channel):
        return OptionType.CHANNEL
    if isinstance(value, tuple):
        return OptionType.ATTACHMENT
    return OptionType.STRING


async def _gather(futures: list[Any]) -> None:
    if futures:
        await asyncio.gather(*futures)
