"""The simulated Discord state: users, guilds, channels, messages, permissions, payloads."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .constants import ChannelType, Perm
from .models import (
    Channel,
    Guild,
    Member,
    Message,
    Pings,
    SnowflakeGenerator,
    User,
    iso_now,
)

USER_MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")

DM_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
)


class World:
    """All entities of the fake plus Discord's derived rules (permissions, pings, payloads)."""

    def __init__(self, bot: User, snowflake: SnowflakeGenerator) -> None:
        self.snowflake = snowflake
        self.bot = bot
        self.users: dict[int, User] = {bot.id: bot}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.dm_channels: dict[int, Channel] = {}  # user id -> DM channel with the bot

    # ------------------------------------------------------------------ lookups

    def guild_of(self, channel: Channel) -> Guild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    def member(self, guild_id: int | None, user_id: int) -> Member | None:
        guild = self.guilds.get(guild_id) if guild_id else None
        return guild.members.get(user_id) if guild else None

    def shares_guild(self, a: int, b: int) -> bool:
        return any(a in g.members and b in g.members for g in self.guilds.values())

    def dm_channel(self, user: User) -> Channel:
        chan = self.dm_channels.get(user.id)
        if chan is None:
            chan = Channel(id=self.snowflake(), type=ChannelType.DM, recipients=[user])
            self.dm_channels[user.id] = chan
            self.channels[chan.id] = chan
        return chan

    # ------------------------------------------------------------------ permissions

    def base_permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return Perm.ALL
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = guild.everyone.permissions
        for role_id in member.roles:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return Perm.ALL
        return perms

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        """Discord's permission algorithm (roles, then @everyone/role/member overwrites)."""
        if channel.is_dm:
            recipients = {u.id for u in channel.recipients} | {self.bot.id}
            return DM_PERMISSIONS if user_id in recipients else 0
        guild = self.guild_of(channel)
        if guild is None:
            return 0
        perms = self.base_permissions(guild, user_id)
        if perms == Perm.ALL:
            return Perm.ALL
        member = guild.members[user_id]
        overwrites = {o.id: o for o in channel.overwrites}
        everyone = overwrites.get(guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = overwrites.get(role_id)
            if ow is not None and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = overwrites.get(user_id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        if not perms & Perm.SEND_MESSAGES:
            perms &= ~(
                Perm.MENTION_EVERYONE
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
                | Perm.SEND_TTS_MESSAGES
            )
        return perms

    def can_view(self, channel: Channel, user_id: int) -> bool:
        return bool(self.channel_permissions(channel, user_id) & Perm.VIEW_CHANNEL)

    # ------------------------------------------------------------------ mentions

    def compute_pings(
        self,
        *,
        channel: Channel,
        author_id: int,
        content: str | None,
        allowed_mentions: dict[str, Any] | None,
        replied: Message | None = None,
    ) -> Pings:
        """Who would be notified, following Discord's ``allowed_mentions`` rules.

        ``allowed_mentions`` absent (None) means the default: parse users, roles and
        @everyone, and ping the author of a replied-to message.  When present, only the
        listed ``parse`` types and explicit ``users``/``roles`` ids ping and
        ``replied_user`` defaults to false.  @everyone/@here and non-mentionable roles
        additionally need MENTION_EVERYONE; users must be able to see the channel.
        """
        content = content or ""
        if allowed_mentions is None:
            parse = {"users", "roles", "everyone"}
            users_ok: set[int] = set()
            roles_ok: set[int] = set()
            replied_user = True
        else:
            parse = set(allowed_mentions.get("parse") or [])
            users_ok = {int(x) for x in allowed_mentions.get("users") or []}
            roles_ok = {int(x) for x in allowed_mentions.get("roles") or []}
            replied_user = bool(allowed_mentions.get("replied_user", False))

        guild = self.guild_of(channel)
        can_everyone = bool(self.channel_permissions(channel, author_id) & Perm.MENTION_EVERYONE)

        users: set[int] = set()
        for raw in USER_MENTION_RE.findall(content):
            uid = int(raw)
            allowed = "users" in parse or uid in users_ok
            if allowed and uid in self.users and self.can_view(channel, uid):
                users.add(uid)
        if (
            replied is not None
            and replied_user
            and replied.author.id != author_id
            and self.can_view(channel, replied.author.id)
        ):
            users.add(replied.author.id)

        roles: set[int] = set()
        if guild is not None:
            for raw in ROLE_MENTION_RE.findall(content):
                rid = int(raw)
                role = guild.roles.get(rid)
                if role is None or role.is_everyone:
                    continue
                if ("roles" in parse or rid in roles_ok) and (role.mentionable or can_everyone):
                    roles.add(rid)

        everyone = here = False
        if guild is not None and "everyone" in parse and can_everyone:
            everyone = "@everyone" in content
            here = "@here" in content
        return Pings(frozenset(users), frozenset(roles), everyone, here)

    # ------------------------------------------------------------------ payloads

    def member_payload(
        self, member: Member, *, with_user: bool = True, channel: Channel | None = None
    ) -> dict[str, Any]:
        data = member.payload(with_user=with_user)
        if channel is not None:
            data["permissions"] = str(self.channel_permissions(channel, member.id))
        return data

    def message_payload(
        self, msg: Message, *, strip_content: bool = False, nested: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "author": msg.author.payload(),
            "content": "" if strip_content else msg.content,
            "timestamp": msg.timestamp,
            "edited_timestamp": msg.edited_timestamp,
            "tts": msg.tts,
            "mention_everyone": msg.mention_everyone,
            "mentions": [],
            "mention_roles": [str(r) for r in msg.mention_roles],
            "attachments": [] if strip_content else [a.payload() for a in msg.attachments],
            "embeds": [] if strip_content else msg.embeds,
            "components": [] if strip_content else msg.components,
            "pinned": msg.pinned,
            "type": msg.type,
            "flags": msg.flags,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            member = self.member(msg.guild_id, msg.author.id)
            if member is not None and msg.webhook_id is None:
                data["member"] = member.payload(with_user=False)
        for uid in msg.mentions:
            user = self.users.get(uid)
            if user is None:
                continue
            entry = user.payload()
            member = self.member(msg.guild_id, uid)
            if member is not None:
                entry["member"] = member.payload(with_user=False)
            data["mentions"].append(entry)
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.interaction_metadata is not None:
            data["interaction_metadata"] = msg.interaction_metadata
        if msg.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in msg.reactions.items()
                if users
            ]
        if msg.message_reference is not None:
            data["message_reference"] = msg.message_reference
            if not nested and msg.type == 19:
                ref = self.messages.get(msg.reply_to_id or 0)
                data["referenced_message"] = (
                    None
                    if ref is None or ref.deleted
                    else self.message_payload(ref, strip_content=strip_content, nested=True)
                )
        return data

    def guild_create_payload(
        self, guild: Guild, *, include_all_members: bool, large_threshold: int = 250
    ) -> dict[str, Any]:
        large = len(guild.members) > large_threshold
        if include_all_members and not large:
            members = list(guild.members.values())
        else:
            members = [m for m in guild.members.values() if m.id == self.bot.id]
        bot_member = guild.members.get(self.bot.id)
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "preferred_locale": guild.preferred_locale,
            "features": [],
            "application_id": None,
            "roles": [r.payload() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": bot_member.joined_at if bot_member else iso_now(),
            "large": large,
            "unavailable": False,
            "member_count": len(guild.members),
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in guild.channels.values()],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def partial_channel_payload(self, channel: Channel, viewer_id: int) -> dict[str, Any]:
        data = channel.payload()
        data["permissions"] = str(self.channel_permissions(channel, viewer_id))
        return data

    def messages_in(self, channel_id: int, *, include_deleted: bool = False) -> list[Message]:
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (include_deleted or not m.deleted)
        ]

    def iter_members(self, guild: Guild, ids: Iterable[int] | None = None) -> list[Member]:
        if ids is None:
            return list(guild.members.values())
        return [guild.members[i] for i in ids if i in guild.members]
