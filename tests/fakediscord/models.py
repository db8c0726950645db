"""Plain data objects of the fake: the simulated world and the records tests assert on."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .constants import DISCORD_EPOCH_MS, ChannelType, MessageFlag
from .validation import iter_components


class SnowflakeGenerator:
    """Strictly increasing snowflakes whose timestamp part is the real current time."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._inc = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms
            self._inc += 1
            if self._inc > 0xFFF:
                ms += 1
                self._inc = 0
        else:
            self._inc = 0
        self._last_ms = ms
        return ((ms - DISCORD_EPOCH_MS) << 22) | (self._worker << 17) | self._inc


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


# --------------------------------------------------------------------------- world objects


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    #: ``False`` simulates "Allow direct messages from server members" switched off.
    dms_open: bool = True

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    def __repr__(self) -> str:
        return f"<User {self.username} id={self.id}>"


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    hoist: bool = False
    color: int = 0
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild_id

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    def __repr__(self) -> str:
        return f"<Role {self.name} id={self.id}>"


@dataclass
class Overwrite:
    id: int
    type: int  # 0 = role, 1 = member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class Channel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[User] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        last = str(self.last_message_id) if self.last_message_id else None
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": self.type,
                "recipients": [u.payload() for u in self.recipients],
                "last_message_id": last,
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "topic": self.topic,
            "nsfw": self.nsfw,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def __repr__(self) -> str:
        return f"<Channel #{self.name or 'DM'} id={self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data

    def __repr__(self) -> str:
        return f"<Member {self.user.username} guild={self.guild_id}>"


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bot_role_id: int | None = None
    preferred_locale: str = "en-US"
    unavailable: bool = False

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def __repr__(self) -> str:
        return f"<Guild {self.name} id={self.id}>"


@dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(eq=False)
class Message:
    """A message as stored by the fake (current state; edits update it in place)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    message_reference: dict[str, Any] | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    nonce: str | int | None = None
    pinned: bool = False
    deleted: bool = False
    #: emoji (as sent in the URL) -> user ids who reacted
    reactions: dict[str, list[int]] = field(default_factory=dict)
    #: the raw ``allowed_mentions`` of the last create/edit (None: field absent)
    allowed_mentions: dict[str, Any] | None = None
    #: id of the interaction this message answers (callback/followup), if any
    interaction_id: int | None = None
    #: for user messages: ``len(server.sent)`` when it was posted (usable as ``after=``)
    mark: int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    @property
    def reply_to_id(self) -> int | None:
        ref = self.message_reference
        return int(ref["message_id"]) if ref and ref.get("message_id") else None

    @property
    def text(self) -> str:
        """Content plus all embed/text-display text, handy for ``in`` assertions."""
        return collect_text(self.content, self.embeds, self.components)

    def iter_components(self) -> Iterator[dict[str, Any]]:
        return iter_components(self.components)

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in self.iter_components():
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.iter_components() if c.get("custom_id")]

    def __repr__(self) -> str:
        return f"<Message id={self.id} author={self.author.username} content={self.content[:40]!r}>"


def collect_text(content: str | None, embeds: list[dict[str, Any]], components: list[Any]) -> str:
    parts = [content or ""]
    for e in embeds or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        for f in e.get("fields") or []:
            parts += [f.get("name") or "", f.get("value") or ""]
        parts.append((e.get("footer") or {}).get("text") or "")
        parts.append((e.get("author") or {}).get("name") or "")
    for comp in iter_components(components):
        if comp.get("type") == 10:
            parts.append(comp.get("content") or "")
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Pings:
    """Who a message notifies under Discord's mention rules."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False
    here: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone or self.here)

    def __contains__(self, target: Any) -> bool:
        if target in ("everyone", "@everyone"):
            return self.everyone
        if target in ("here", "@here"):
            return self.here
        if isinstance(target, Role):
            return target.id in self.roles
        ident = getattr(target, "id", target)
        return ident in self.users or ident in self.roles


@dataclass(eq=False)
class SentRecord:
    """One write the bot made to a message: create, edit or delete, via some route.

    ``route`` is one of ``"channel"`` (POST/PATCH/DELETE /channels/../messages),
    ``"callback"`` (interaction callback 4/5/7), ``"followup"`` (POST /webhooks/{app}/{token}),
    ``"original"`` (PATCH/DELETE .../messages/@original), ``"webhook_message"``
    (PATCH/DELETE .../messages/{id} of an interaction webhook).
    Fields reflect the message *after* this operation; ``body`` is the raw JSON sent and
    ``allowed_mentions`` is exactly what was sent (``None`` when the field was absent).
    """

    index: int
    op: str
    route: str
    message: Message
    at: float
    body: dict[str, Any]
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    attachments: list[str]
    flags: int
    allowed_mentions: dict[str, Any] | None
    message_reference: dict[str, Any] | None
    pings: Pings
    interaction: Interaction | None = None

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

    @property
    def text(self) -> str:
        return collect_text(self.content, self.embeds, self.components)

    def would_ping(self, target: Any) -> bool:
        """True if this write notifies ``target`` (User/Member/Role/id/"everyone"/"here")."""
        return target in self.pings

    def __repr__(self) -> str:
        return (
            f"<SentRecord #{self.index} {self.op} via {self.route} msg={self.message.id} "
            f"content={self.content[:50]!r} embeds={len(self.embeds)}>"
        )


@dataclass(eq=False)
class CallbackRecord:
    """An ``POST /interactions/{id}/{token}/callback`` attempt (accepted or not)."""

    interaction: Interaction
    type: int
    data: dict[str, Any] | None
    at: float
    latency: float
    status: int
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(eq=False)
class Interaction:
    """An interaction the fake dispatched, plus everything the bot did in response."""

    id: int
    token: str
    type: int
    application_id: int
    user: User
    channel_id: int
    guild_id: int | None
    data: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)
    message: Message | None = None
    dispatched_at: float | None = None
    response_type: int | None = None
    responded_at: float | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    autocomplete_choices: list[dict[str, Any]] | None = None
    #: ``len(server.sent)`` when it was dispatched (usable as ``after=``)
    mark: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def name(self) -> str | None:
        return self.data.get("name")

    def __repr__(self) -> str:
        what = self.data.get("name") or self.data.get("custom_id")
        return f"<Interaction id={self.id} type={self.type} {what!r} response={self.response_type}>"


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float
    body: Any = None
    error_code: int | None = None
    injected: bool = False

    def __repr__(self) -> str:
        code = f" code={self.error_code}" if self.error_code is not None else ""
        return f"<{self.method} {self.path} -> {self.status}{code}>"
