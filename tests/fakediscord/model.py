"""The fake's world (users, guilds, roles, channels, messages) as Discord shapes them, and the
records tests assert on (what the bot sent, each interaction callback, each REST request)."""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
USER_MENTION = re.compile(r"(?<!\\)<@!?(\d+)>")
ROLE_MENTION = re.compile(r"(?<!\\)<@&(\d+)>")
EVERYONE = re.compile(r"(?<!\\)@(everyone|here)")


class Perm:
    """The permission bits the bot's behaviour depends on."""

    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_APPLICATION_COMMANDS = 1 << 31
    ALL = (1 << 51) - 1
    # What a new guild gives @everyone, as far as these bits go; the bot's role adds nothing.
    EVERYONE = (VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY
                | MENTION_EVERYONE | USE_APPLICATION_COMMANDS)


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class MessageFlag:
    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7


class InteractionType:
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4


class CallbackType:
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    AUTOCOMPLETE_RESULT = 8


class Snowflakes:
    """Increasing ids whose timestamp part is now, as discord.py reads created_at from them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) + self.count


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


@dataclass(eq=False)
class User:
    id: int
    username: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "username": self.username, "discriminator": "0",
                "global_name": None, "avatar": None, "bot": self.bot}


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    mentionable: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id), "name": self.name, "color": 0, "hoist": False,
            "position": 0 if self.id == self.guild_id else 1, "permissions": str(self.permissions),
            "managed": self.bot_id is not None, "mentionable": self.mentionable,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class Channel:
    id: int
    name: str | None
    guild_id: int | None = None  # None: a DM with `recipient`
    recipient: User | None = None

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    def payload(self) -> dict[str, Any]:
        if self.is_dm:
            assert self.recipient is not None
            return {"id": str(self.id), "type": 1, "recipients": [self.recipient.payload()]}
        return {"id": str(self.id), "type": 0, "guild_id": str(self.guild_id), "name": self.name,
                "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None}


@dataclass(eq=False)
class Member:
    user: User
    roles: list[int] = field(default_factory=list)

    def payload(self, **extra: Any) -> dict[str, Any]:
        return {"user": self.user.payload(), "roles": [str(r) for r in self.roles], "nick": None,
                "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0, **extra}


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def permissions(self, user_id: int) -> int:
        """Discord's base permissions (the fake has no channel overwrites)."""
        member = self.members.get(user_id)
        if member is None:
            return 0
        if user_id == self.owner_id:
            return Perm.ALL
        perms = self.everyone.permissions
        for role_id in member.roles:
            perms |= self.roles[role_id].permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "name": self.name, "owner_id": str(self.owner_id), "icon": None,
            "features": [], "preferred_locale": "en-US", "unavailable": False, "large": False,
            "member_count": len(self.members), "roles": [r.payload() for r in self.roles.values()],
            "members": [m.payload() for m in self.members.values() if m.user.bot],
            "channels": [c.payload() for c in self.channels.values()], "emojis": [],
            "stickers": [], "threads": [], "presences": [], "voice_states": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }


@dataclass(frozen=True)
class Pings:
    """Who a message notifies under Discord's mention rules."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone)

    def __contains__(self, target: Any) -> bool:
        if target == "everyone":
            return self.everyone
        ident = getattr(target, "id", target)
        return ident in self.users or ident in self.roles


@dataclass(eq=False)
class Message:
    """A message as it is now (a followup replacing a "thinking" message changes it)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    reply_to: Message | None = None
    mentions: list[int] = field(default_factory=list)
    interaction: Interaction | None = None  # the interaction this message answers
    mark: int = 0  # len(server.sent) when a user posted it: `after=` for later records

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.components for c in row.get("components", [])
                if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        found = [c for row in self.components for c in row.get("components", [])
                 if c.get("custom_id") == custom_id]
        return found[0] if found else None


@dataclass(eq=False)
class SentRecord:
    """One write of the bot: `op` "create" or "edit" (a followup replacing the "thinking"
    message), `route` "channel", "callback" or "followup"; the fields are the message after
    this write, `allowed_mentions` exactly as sent (None when absent)."""

    index: int
    op: str
    route: str
    message: Message
    content: str
    components: list[dict[str, Any]]
    embeds: list[dict[str, Any]]
    flags: int
    allowed_mentions: dict[str, Any] | None
    pings: Pings
    interaction: Interaction | None
    at: float  # server.now() when written

    @property
    def message_id(self) -> int:
        return self.message.id

    @property
    def channel_id(self) -> int:
        return self.message.channel_id

    @property
    def guild_id(self) -> int | None:
        return self.message.guild_id

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    def would_ping(self, target: Any) -> bool:
        return target in self.pings


@dataclass
class CallbackRecord:
    """One POST .../callback, accepted or refused; latency counts from the dispatch."""

    type: int
    status: int
    latency: float
    error_code: int | None = None


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    at: float
    body: Any = None
    injected: bool = False


@dataclass(eq=False)
class Interaction:
    id: int
    token: str
    type: int
    user: User
    channel_id: int
    guild_id: int | None
    data: dict[str, Any]
    message: Message | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    dispatched_at: float = 0.0
    response_type: int | None = None
    original: Message | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)
    mark: int = 0
    choices: list[dict[str, Any]] | None = None  # an autocomplete's answer

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None
