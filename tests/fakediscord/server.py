"""FakeDiscord: REST and gateway on 127.0.0.1, the world the bot lives in, what users do in
it, and what the bot wrote back."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from .gateway import RECONNECT, Gateway, shard_of
from .limits import INVALID_FORM_BODY, DiscordHTTPError
from .model import (
    EVERYONE,
    ROLE_MENTION,
    USER_MENTION,
    CallbackRecord,
    Channel,
    Guild,
    Intent,
    Interaction,
    InteractionType,
    Member,
    Message,
    MessageFlag,
    Perm,
    Pings,
    RequestRecord,
    Role,
    SentRecord,
    Snowflakes,
    User,
    now_iso,
)
from .rest import API, Fault, Rest, glob

T = TypeVar("T")
ATTACHMENT_OPTION = 11


class UnrealisticAction(AssertionError):
    """The test asked for something a Discord user cannot do (a command the bot never
    registered, a button the message does not have, a channel the user is not in)."""


class FakeDiscord:
    """`interaction_deadline`: seconds a bot has for its first callback (Discord: 3).
    `granted_intents`: the privileged intents the developer portal grants (see deny_intent).
    `recommended_shards`: the shard count GET /gateway/bot recommends."""

    def __init__(self, *, heartbeat_interval: int = 41250, interaction_deadline: float = 3.0,
                 granted_intents: int = Intent.PRIVILEGED, recommended_shards: int = 1) -> None:
        self.snowflake = Snowflakes()
        self.token = f"fake.{secrets.token_urlsafe(18)}"
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.granted_intents = granted_intents
        self.recommended_shards = recommended_shards
        self.bot_user = User(self.snowflake(), "quotebot", bot=True)
        self.application_id = self.bot_user.id
        self.owner = User(self.snowflake(), "owner")
        self.users: dict[int, User] = {u.id: u for u in (self.bot_user, self.owner)}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.commands: list[dict[str, Any]] = []
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.sent: list[SentRecord] = []
        self.requests: list[RequestRecord] = []
        self.problems: list[str] = []  # the bot used what the fake does not serve
        # Discord's CDN: attachment id -> (bytes, seconds to wait before answering)
        self.files: dict[int, tuple[bytes, float]] = {}
        self.gateway = Gateway(self)
        self.rest = Rest(self)
        self.port = 0
        self._changed = asyncio.Event()
        self._t0 = time.monotonic()
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume/", self.gateway.handle)
        app.router.add_route("*", API + "/{tail:.*}", self.rest.handle)
        app.router.add_get("/attachments/{id}/{name}", self._serve_file)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for conn in self.gateway.connections:
            await conn.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
        if exc[0] is None:
            self.assert_healthy()

    def assert_healthy(self) -> None:
        assert not self.problems, f"FakeDiscord: {self.problems}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        """What the real bot reads to find this server, and its token."""
        return {"DISCORD_API_BASE_URL": self.api_url, "DISCORD_GATEWAY_URL": self.gateway_url,
                "DISCORD_TOKEN": self.token}

    def now(self) -> float:
        return time.monotonic() - self._t0

    def notify(self) -> None:
        self._changed.set()

    # --- the world (built before the bot connects: later changes send no events) ----------------

    def add_user(self, name: str) -> User:
        user = User(self.snowflake(), name)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """A guild with @everyone, its owner, and the bot with its managed role; `shard`
        (shard id, shard count): an id whose guild lands on that shard."""
        guild_id = self.snowflake()
        if shard is not None:
            # A later timestamp part by under `count` ms moves the id onto the shard.
            shard_id, count = shard
            guild_id += ((shard_id - shard_of(guild_id, count)) % count) << 22
        guild = Guild(guild_id, name, self.owner.id)
        guild.roles[guild.id] = Role(guild.id, guild.id, "@everyone", Perm.EVERYONE)
        bot_role = Role(self.snowflake(), guild.id, self.bot_user.username, bot_id=self.bot_user.id)
        guild.roles[bot_role.id] = bot_role
        guild.members[self.owner.id] = Member(self.owner)
        guild.members[self.bot_user.id] = Member(self.bot_user, [bot_role.id])
        self.guilds[guild.id] = guild
        return guild

    def add_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        role = Role(self.snowflake(), guild.id, name, permissions)
        guild.roles[role.id] = role
        return role

    def add_text_channel(self, guild: Guild, name: str) -> Channel:
        channel = Channel(self.snowflake(), name, guild.id)
        guild.channels[channel.id] = self.channels[channel.id] = channel
        return channel

    def add_member(self, guild: Guild, user: User, *, roles: list[Role] = ()) -> Member:
        member = guild.members[user.id] = Member(user, [r.id for r in roles])
        return member

    def set_member_roles(self, guild: Guild, user: User, roles: list[Role]) -> None:
        guild.members[user.id].roles = [r.id for r in roles]

    def dm_channel(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.recipient is user:
                return channel
        channel = Channel(self.snowflake(), None, recipient=user)
        self.channels[channel.id] = channel
        return channel

    # --- faults ----------------------------------------------------------------------------------

    def fail_next(self, method: str, path: str, *, status: int = 429, retry_after: float = 0.5,
                  is_global: bool = False, times: int = 1) -> Fault:
        """Answer the next `times` requests like `POST /channels/*/messages` with `status`."""
        fault = Fault(method, glob(path), status, retry_after, is_global, times)
        self.rest.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int = 4000) -> int:
        return await self.gateway.drop(code)

    def refuse_next_resume(self) -> None:
        self.gateway.refuse_resumes += 1

    async def send_reconnect(self) -> None:
        await self.gateway.send_op(RECONNECT)

    def deny_intent(self, bits: int) -> None:
        self.granted_intents &= ~bits

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    async def wait_for_session(self, timeout: float = 5.0, *, count: int = 1) -> None:
        await self.wait_until(lambda: self.identify_count >= count and self.gateway.
                              connected_sessions, timeout, what=f"{count} IDENTIFYs")

    # --- what users do ---------------------------------------------------------------------------

    def _check_place(self, guild: Guild | None, channel: Channel, user: User) -> None:
        if channel.recipient is not user and (guild is None or channel.guild_id != guild.id
                                              or user.id not in guild.members):
            raise UnrealisticAction(f"{user.username} cannot write in {channel.name or 'a DM'}")

    async def user_says(self, channel: Channel, user: User, content: str, *,
                        reply_to: Message | None = None) -> Message:
        """Post as `user`; returns once MESSAGE_CREATE is on the wire."""
        self._check_place(self.guilds.get(channel.guild_id or 0), channel, user)
        msg = Message(self.snowflake(), channel.id, channel.guild_id, user, content,
                      reply_to=reply_to, mark=len(self.sent))
        msg.mentions = [int(u) for u in USER_MENTION.findall(content) if int(u) in self.users]
        self.messages[msg.id] = msg
        await self._dispatch_message(msg)
        return msg

    def attach(self, filename: str, data: bytes, *, content_type: str = "text/plain",
               delay: float = 0.0, size: int | None = None) -> dict[str, Any]:
        """An uploaded file as an attachment option's value; its URL serves `data` after
        `delay` s. `size`: what Discord announces (a liar's client cannot change it; a test
        may, to check the bot counts the bytes it gets)."""
        aid = self.snowflake()
        self.files[aid] = (data, delay)
        url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{filename}"
        return {"id": str(aid), "filename": filename, "size": len(data) if size is None else size,
                "url": url, "proxy_url": url, "content_type": content_type}

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        found = self.files.get(int(request.match_info["id"]))
        if found is None:
            return web.Response(status=404)
        await asyncio.sleep(found[1])
        return web.Response(body=found[0], content_type="application/octet-stream")

    async def slash(self, guild: Guild | None, channel: Channel, user: User, name: str,
                    options: dict[str, Any] | None = None, *,
                    focused: str | None = None) -> Interaction:
        """`/name` ("quotebot reload" for a subcommand) with options checked against the
        command as the bot registered it; an attachment option's value is what attach()
        returned. With `focused`, the autocomplete request Discord sends while that option is
        being typed (the bot's choices land in Interaction.choices)."""
        root, *path = name.split()
        cmd = next((c for c in self.commands if c["name"] == root), None)
        if cmd is None:
            known = [c["name"] for c in self.commands]
            raise UnrealisticAction(f"/{root} is not registered; the bot registered {known}")
        schema, subs = cmd.get("options") or [], []
        for part in path:
            sub = next((o for o in schema if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                raise UnrealisticAction(f"/{root} has no subcommand {part}")
            subs.append(sub)
            schema = sub.get("options") or []
        options = options or {}
        by_name = {o["name"]: o for o in schema}
        missing = [n for n, o in by_name.items() if o.get("required") and n not in options]
        if set(options) - set(by_name) or missing:
            raise UnrealisticAction(f"/{name} takes {sorted(by_name)}; missing {missing}")
        resolved: dict[str, Any] = {}
        given = []
        for k, v in options.items():
            if by_name[k]["type"] == ATTACHMENT_OPTION:
                resolved.setdefault("attachments", {})[v["id"]] = v
                v = v["id"]
            given.append({"name": k, "type": by_name[k]["type"], "value": v,
                          **({"focused": True} if k == focused else {})})
        for sub in reversed(subs):
            given = [{"name": sub["name"], "type": sub["type"], "options": given}]
        data = {"id": cmd["id"], "name": root, "type": 1, "options": given}
        if resolved:
            data["resolved"] = resolved
        kind = InteractionType.APPLICATION_COMMAND
        if focused is not None:
            if not by_name.get(focused, {}).get("autocomplete"):
                raise UnrealisticAction(f"/{name} {focused} has no autocomplete")
            kind = InteractionType.AUTOCOMPLETE
        return await self.interact(kind, guild, channel, user, data)

    async def message_command(self, guild: Guild | None, channel: Channel, user: User,
                              name: str, target: Message) -> Interaction:
        """A message's context-menu command ("Apps" -> name), as the bot registered it."""
        cmd = next((c for c in self.commands if c["name"] == name and c["type"] == 3), None)
        if cmd is None:
            raise UnrealisticAction(f"no message command {name!r} is registered")
        if target.channel_id != channel.id:
            raise UnrealisticAction("the message is not in that channel")
        data = {"id": cmd["id"], "name": name, "type": 3, "target_id": str(target.id),
                "resolved": {"messages": {str(target.id): self.message_payload(target)}}}
        return await self.interact(InteractionType.APPLICATION_COMMAND, guild, channel, user, data)

    async def click(self, target: Message | SentRecord, custom_id: str, user: User) -> Interaction:
        """Click a button of a message the bot sent."""
        msg = target.message if isinstance(target, SentRecord) else target
        if msg.component(custom_id) is None:
            raise UnrealisticAction(f"no button {custom_id!r} on the message; {msg.custom_ids}")
        if msg.ephemeral and msg.interaction is not None and msg.interaction.user is not user:
            raise UnrealisticAction("only its recipient sees an ephemeral message")
        data = {"custom_id": custom_id, "component_type": 2}
        guild, channel = self.guilds.get(msg.guild_id or 0), self.channels[msg.channel_id]
        return await self.interact(InteractionType.MESSAGE_COMPONENT, guild, channel, user, data,
                                   message=msg)

    async def interact(self, kind: int, guild: Guild | None, channel: Channel, user: User,
                       data: dict[str, Any], *, message: Message | None = None) -> Interaction:
        """Send INTERACTION_CREATE as Discord builds it; the 3 s deadline starts now."""
        self._check_place(guild, channel, user)
        inter = Interaction(self.snowflake(), secrets.token_urlsafe(32), kind, user, channel.id,
                            guild.id if guild else None, data, message, mark=len(self.sent))
        perms = guild.permissions(user.id) if guild else Perm.EVERYONE
        payload: dict[str, Any] = {
            "id": str(inter.id), "application_id": str(self.application_id), "type": kind,
            "data": data, "token": inter.token, "version": 1, "channel_id": str(channel.id),
            "channel": {**channel.payload(), "permissions": str(perms)}, "locale": "en-US",
            "app_permissions": str(guild.permissions(self.bot_user.id) if guild else Perm.EVERYONE),
            "entitlements": [], "context": 0 if guild else 1, "attachment_size_limit": 10 << 20,
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
        }
        if guild is not None:
            payload.update(guild_id=str(guild.id), guild_locale="en-US",
                           member=guild.members[user.id].payload(permissions=str(perms)))
        else:
            payload["user"] = user.payload()
        if message is not None:
            payload["message"] = self.message_payload(message)
        inter.payload = payload
        self.interactions[inter.id] = self.interactions_by_token[inter.token] = inter
        inter.dispatched_at = self.now()
        await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=inter.guild_id)
        return inter

    # --- what the bot writes ---------------------------------------------------------------------

    async def bot_writes(self, route: str, channel: Channel | None, body: dict[str, Any], *,
                         replied: Message | None = None, interaction: Interaction | None = None,
                         edit: Message | None = None) -> Message:
        """Store and record a message the bot created (or the one a followup replaced)."""
        flags = body.get("flags") or 0
        if route == "channel" and flags & MessageFlag.EPHEMERAL:
            raise DiscordHTTPError(400, INVALID_FORM_BODY, "Invalid Form Body", {"flags": {}})
        msg = edit or Message(self.snowflake(), channel.id, channel.guild_id, self.bot_user,
                              reply_to=replied, interaction=interaction)
        msg.content, msg.flags = body.get("content") or "", flags
        msg.embeds, msg.components = body.get("embeds") or [], body.get("components") or []
        allowed = body.get("allowed_mentions")
        pings = self.pings(msg, allowed)
        self.messages[msg.id] = msg
        self.sent.append(SentRecord(len(self.sent), "edit" if edit else "create", route, msg,
                                    msg.content, msg.components, msg.embeds, msg.flags, allowed,
                                    pings, interaction, self.now()))
        self.notify()
        if edit is None and not msg.ephemeral and not flags & MessageFlag.LOADING:
            await self._dispatch_message(msg)
        return msg

    def callback_record(self, kind: int, status: int, latency: float,
                        code: int | None = None) -> CallbackRecord:
        self.notify()
        return CallbackRecord(kind, status, latency, code)

    def pings(self, msg: Message, allowed: dict[str, Any] | None) -> Pings:
        """Who `msg` notifies: without allowed_mentions every mention parses and a reply pings
        its author; with it only the listed kinds and ids, and replied_user defaults to
        false. @everyone and unmentionable roles need Mention Everyone."""
        parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse", []))
        ids = {int(i) for i in (allowed or {}).get("users", []) + (allowed or {}).get("roles", [])}
        users = {int(u) for u in USER_MENTION.findall(msg.content)
                 if ("users" in parse or int(u) in ids) and int(u) in self.users}
        if msg.reply_to and (allowed is None or allowed.get("replied_user")):
            users.add(msg.reply_to.author.id)
        guild = self.guilds.get(msg.guild_id or 0)
        if guild is None:
            return Pings(frozenset(users))
        loud = bool(guild.permissions(msg.author.id) & Perm.MENTION_EVERYONE)
        roles = {int(r) for r in ROLE_MENTION.findall(msg.content) if int(r) in guild.roles
                 and ("roles" in parse or int(r) in ids)
                 and (guild.roles[int(r)].mentionable or loud)}
        everyone = "everyone" in parse and loud and bool(EVERYONE.search(msg.content))
        return Pings(frozenset(users), frozenset(roles), everyone)

    def message_payload(self, msg: Message, *, blank: bool = False) -> dict[str, Any]:
        """As Discord sends it; `blank`: content, embeds and components withheld (no Message
        Content intent)."""
        data: dict[str, Any] = {
            "id": str(msg.id), "channel_id": str(msg.channel_id), "author": msg.author.payload(),
            "content": "" if blank else msg.content, "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [self.users[u].payload() for u in msg.mentions], "mention_roles": [],
            "attachments": [], "embeds": [] if blank else msg.embeds,
            "components": [] if blank else msg.components, "pinned": False,
            "type": 19 if msg.reply_to else 0, "flags": msg.flags,
        }
        guild = self.guilds.get(msg.guild_id or 0)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            data["member"] = guild.members[msg.author.id].payload()
        if msg.reply_to is not None:
            data["message_reference"] = {"message_id": str(msg.reply_to.id),
                                         "channel_id": str(msg.channel_id)}
        if msg.interaction is not None:
            inter = msg.interaction
            app = str(self.application_id)
            metadata = {"id": str(inter.id), "type": inter.type, "user": inter.user.payload(),
                        "authorizing_integration_owners": {}}
            data.update(webhook_id=app, application_id=app, interaction_metadata=metadata)
        return data

    async def _dispatch_message(self, msg: Message) -> None:
        # Without the Message Content intent a guild message arrives blank, unless it mentions
        # the bot or is the bot's own; DMs always arrive whole.
        exempt = msg.guild_id is None or msg.author is self.bot_user or (
            self.bot_user.id in msg.mentions)

        def shaped(session: Any) -> dict[str, Any]:
            return self.message_payload(msg, blank=not (exempt or session.intents
                                                        & Intent.MESSAGE_CONTENT))

        intent = Intent.GUILD_MESSAGES if msg.guild_id else Intent.DIRECT_MESSAGES
        await self.gateway.dispatch("MESSAGE_CREATE", shaped, intent, guild_id=msg.guild_id)

    # --- reading what happened -------------------------------------------------------------------

    @property
    def http_errors(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.status >= 400]

    def records(self, *, op: str | None = None, channel: Channel | None = None,
                after: Any = None) -> list[SentRecord]:
        """The bot's writes, after a user message, an interaction or a record if given."""
        start = after.index + 1 if isinstance(after, SentRecord) else getattr(after, "mark", after)
        start = start or 0  # None: from the first write; an int: len(server.sent) back then
        return [r for r in self.sent[start:] if (op is None or r.op == op)
                and (channel is None or r.channel_id == channel.id)]

    def interaction_responses(self, interaction: Interaction) -> list[SentRecord]:
        return [r for r in self.sent if r.interaction is interaction]

    def bot_messages(self, channel: Channel | None = None) -> list[Message]:
        return [m for m in self.messages.values() if m.author is self.bot_user
                and (channel is None or m.channel_id == channel.id)]

    async def wait_until(self, condition: Callable[[], T], timeout: float = 5.0, *,
                         what: str = "a condition") -> T:
        """condition(), once it is true; checked again whenever the server sees traffic."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} after {timeout} s\n{self.describe()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))
        return result

    async def wait_for_reply(self, to: Message | Interaction, *,
                             timeout: float = 5.0) -> SentRecord:
        """The bot's first visible answer: in the channel of a user message, or to an
        interaction (not its "thinking" message)."""
        def found() -> SentRecord | None:
            for rec in self.records(after=to):
                if (rec.interaction is to and not rec.flags & MessageFlag.LOADING) or (
                        isinstance(to, Message) and rec.channel_id == to.channel_id):
                    return rec
            return None

        return await self.wait_until(found, timeout, what="reply")

    async def wait_for_callback(self, interaction: Interaction,
                                timeout: float = 5.0) -> CallbackRecord:
        await self.wait_until(lambda: interaction.callbacks, timeout, what="callback")
        return interaction.callbacks[0]

    def describe(self) -> str:
        return (f"  identifies={self.identify_count} resumes={self.resume_count}\n"
                f"  last writes: {self.sent[-4:]}\n  last requests: {self.requests[-6:]}")
