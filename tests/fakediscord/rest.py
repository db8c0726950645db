"""The fake REST API (``/api/v10``): routing, auth, fault injection and the endpoints."""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from .constants import (
    CallbackType,
    ErrorCode,
    Intent,
    InteractionType,
    MessageFlag,
    Perm,
)
from .models import Attachment, CallbackRecord, Interaction, Message, RequestRecord
from .validation import (
    DiscordHTTPError,
    FormErrors,
    empty_message_error,
    forbidden,
    message_is_empty,
    not_found,
    validate_autocomplete,
    validate_command,
    validate_commands,
    validate_message_fields,
    validate_modal,
)

if TYPE_CHECKING:
    from .models import Channel
    from .server import FakeDiscord

log = logging.getLogger("fakediscord.rest")

API_PREFIX = "/api/v10"
JSON = "application/json"  # exactly this: discord.py ignores bodies with "; charset=..."

#: message flags a bot may set when creating a message
CREATE_FLAGS = (
    MessageFlag.SUPPRESS_EMBEDS
    | MessageFlag.EPHEMERAL
    | MessageFlag.SUPPRESS_NOTIFICATIONS
    | MessageFlag.IS_COMPONENTS_V2
)


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": JSON, **(headers or {})},
    )


@dataclass
class UploadedFile:
    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class Req:
    """A parsed request as seen by endpoint handlers."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[UploadedFile] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise DiscordHTTPError(
                400, ErrorCode.GENERAL, "400: Bad Request (expected a JSON object)"
            )
        return self.body

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


@dataclass
class Fault:
    """An injected failure, created by :meth:`FakeDiscord.fail_next`."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    is_global: bool
    scope: str
    remaining: int
    body: Any = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and self.method in ("*", method)
            and bool(self.pattern.fullmatch(path))
        )

    def response(self) -> web.Response:
        status = self.status
        if status == 429:
            headers = {
                "Retry-After": str(max(1, math.ceil(self.retry_after))),
                "X-RateLimit-Scope": self.scope,
                "Via": "1.1 google",  # without Via discord.py assumes a Cloudflare ban
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            else:
                headers.update(
                    {
                        "X-RateLimit-Limit": "5",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                        "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                        "X-RateLimit-Bucket": "fakebucket" + secrets.token_hex(4),
                    }
                )
            body = self.body or {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            return json_response(429, body, headers)
        if self.body is not None:
            return json_response(status, self.body)
        if status in (502, 503, 504):
            reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[
                status
            ]
            return web.Response(
                status=status,
                text=f"<html><body><h1>{status} {reason}</h1></body></html>",
                content_type="text/html",
            )
        return json_response(status, {"message": f"{status}: Injected failure", "code": 0})


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """``*`` matches one path segment, ``**`` any number of segments."""
    pattern = pattern.removeprefix(API_PREFIX)
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]+"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


Handler = Callable[[Req], Awaitable[Any]]


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool


class RestAPI:
    def __init__(self, server: FakeDiscord) -> None:
        self.s = server
        self.routes: list[Route] = []
        self._register()

    # ------------------------------------------------------------------ routing

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(Route(method, re.compile(regex), handler, auth))

    def _register(self) -> None:
        a = self.add
        a("GET", "/users/@me", self.get_me)
        a("GET", "/users/{user_id}", self.get_user)
        a("POST", "/users/@me/channels", self.create_dm)
        a("GET", "/oauth2/applications/@me", self.get_application)
        a("GET", "/applications/@me", self.get_application)
        a("GET", "/gateway", self.get_gateway, auth=False)
        a("GET", "/gateway/bot", self.get_gateway_bot)
        a("GET", "/channels/{channel_id}", self.get_channel)
        a("GET", "/channels/{channel_id}/messages", self.get_messages)
        a("POST", "/channels/{channel_id}/messages", self.create_message)
        a("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        a("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        a("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        a("POST", "/channels/{channel_id}/typing", self.typing)
        reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"
        a("PUT", reaction + "/@me", self.add_reaction)
        a("DELETE", reaction + "/@me", self.remove_own_reaction)
        a("DELETE", reaction + "/{user_id}", self.remove_reaction)
        a("GET", "/guilds/{guild_id}", self.get_guild)
        a("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        a("GET", "/guilds/{guild_id}/roles", self.get_guild_roles)
        a("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        for prefix in ("/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"):
            a("GET", prefix + "/commands", self.get_commands)
            a("PUT", prefix + "/commands", self.put_commands)
            a("POST", prefix + "/commands", self.upsert_command)
            a("GET", prefix + "/commands/{command_id}", self.get_command)
            a("PATCH", prefix + "/commands/{command_id}", self.edit_command)
            a("DELETE", prefix + "/commands/{command_id}", self.delete_command)
        a("POST", "/interactions/{interaction_id}/{token}/callback", self.callback, auth=False)
        a("POST", "/webhooks/{app_id}/{token}", self.followup, auth=False)
        hook_msg = "/webhooks/{app_id}/{token}/messages/{message_id}"
        a("GET", hook_msg, self.get_webhook_message, auth=False)
        a("PATCH", hook_msg, self.edit_webhook_message, auth=False)
        a("DELETE", hook_msg, self.delete_webhook_message, auth=False)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        s = self.s
        path = request.path
        method = request.method
        rel = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        query = dict(request.query)
        try:
            body, files = await self._read_body(request)
        except ValueError as exc:
            return self._finish(
                method,
                path,
                query,
                None,
                DiscordHTTPError(400, ErrorCode.GENERAL, f"400: Bad Request ({exc})"),
            )

        if rel is not None:
            for fault in s._faults:
                if fault.matches(method, rel):
                    fault.remaining -= 1
                    fault.hits += 1
                    resp = fault.response()
                    s.requests.append(
                        RequestRecord(method, rel, query, resp.status, s.now(), body, injected=True)
                    )
                    s._notify()
                    return resp

        route, params, allowed = None, {}, []
        if rel is not None:
            for r in self.routes:
                m = r.regex.fullmatch(rel)
                if m:
                    allowed.append(r.method)
                    if r.method == method:
                        route, params = r, {k: unquote(v) for k, v in m.groupdict().items()}
                        break
        if route is None:
            if allowed:
                err = DiscordHTTPError(405, ErrorCode.GENERAL, "405: Method Not Allowed")
            else:
                log.warning("fakediscord: unhandled route %s %s", method, path)
                s.unhandled_routes.append(f"{method} {path}")
                err = DiscordHTTPError(404, ErrorCode.GENERAL, "404: Not Found")
            return self._finish(method, rel or path, query, body, err)

        if route.auth and request.headers.get("Authorization") != f"Bot {s.token}":
            err = DiscordHTTPError(401, ErrorCode.GENERAL, "401: Unauthorized")
            return self._finish(method, rel, query, body, err)

        req = Req(method, rel, params, query, body, files)
        try:
            result = await route.handler(req)
        except DiscordHTTPError as err:
            return self._finish(method, rel, query, body, err)
        except Exception as exc:
            log.exception("fakediscord: internal error in %s %s", method, path)
            s._internal_errors.append(f"{method} {path}: {exc!r}")
            err = DiscordHTTPError(500, ErrorCode.GENERAL, "500: Internal Server Error (fake bug)")
            return self._finish(method, rel, query, body, err)
        return self._finish(method, rel, query, body, result)

    def _finish(
        self, method: str, path: str, query: dict[str, str], body: Any, result: Any
    ) -> web.Response:
        s = self.s
        if isinstance(result, DiscordHTTPError):
            s.requests.append(
                RequestRecord(
                    method, path, query, result.status, s.now(), body, error_code=result.code
                )
            )
            s._notify()
            return json_response(result.status, result.body(), result.headers)
        status = 204 if result is None else 200
        s.requests.append(RequestRecord(method, path, query, status, s.now(), body))
        s._notify()
        if result is None:
            return web.Response(status=204)
        return json_response(200, result)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                name = part.name or ""
                data = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    body = json.loads(data.decode())
                elif part.filename is not None:  # type: ignore[union-attr]
                    files.append(
                        UploadedFile(
                            name,
                            part.filename,  # type: ignore[union-attr]
                            bytes(data),
                            part.headers.get("Content-Type"),
                        )
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, []
        if ctype == JSON:
            return json.loads(raw.decode()), []
        return raw.decode(errors="replace"), []

    # ------------------------------------------------------------------ lookups

    def _channel(self, channel_id: str) -> Channel:
        chan = self.s.world.channels.get(_int(channel_id))
        if chan is None:
            raise not_found(ErrorCode.UNKNOWN_CHANNEL, "Channel")
        return chan

    def _bot_perms(self, chan: Channel) -> int:
        return self.s.world.channel_permissions(chan, self.s.bot_user.id)

    def _require_view(self, chan: Channel) -> int:
        perms = self._bot_perms(chan)
        if not chan.is_dm and not perms & Perm.VIEW_CHANNEL:
            raise forbidden(ErrorCode.MISSING_ACCESS, "Missing Access")
        return perms

    def _message(self, chan: Channel, message_id: str) -> Message:
        msg = self.s.world.messages.get(_int(message_id))
        if msg is None or msg.deleted or msg.channel_id != chan.id or msg.ephemeral:
            raise not_found(ErrorCode.UNKNOWN_MESSAGE, "Message")
        return msg

    def _visible_payload(self, msg: Message) -> dict[str, Any]:
        """REST message payload; content is blanked when the portal denies the intent."""
        s = self.s
        strip = (not s.granted_intents & Intent.MESSAGE_CONTENT) and not s._content_exempt(msg)
        return s.world.message_payload(msg, strip_content=strip)

    # ------------------------------------------------------------------ users / app / gateway

    async def get_me(self, req: Req) -> Any:
        return {
            **self.s.bot_user.payload(),
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    async def get_user(self, req: Req) -> Any:
        user = self.s.world.users.get(_int(req.params["user_id"]))
        if user is None:
            raise not_found(ErrorCode.UNKNOWN_USER, "User")
        return user.payload()

    async def get_application(self, req: Req) -> Any:
        s = self.s
        return {
            "id": str(s.application_id),
            "name": s.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": s.application_flags,
            "owner": s.owner.payload(),
            "team": None,
            "bot": {**s.bot_user.payload(), "bot": True},
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(s.world.guilds),
        }

    async def get_gateway(self, req: Req) -> Any:
        return {"url": self.s.gateway_url}

    async def get_gateway_bot(self, req: Req) -> Any:
        return {
            "url": self.s.gateway_url,
            "shards": max(1, self.s.required_shards),
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86400000,
                "max_concurrency": 1,
            },
        }

    async def create_dm(self, req: Req) -> Any:
        s = self.s
        user = s.world.users.get(_int(req.json().get("recipient_id")))
        if user is None:
            raise not_found(ErrorCode.UNKNOWN_USER, "User")
        return s.world.dm_channel(user).payload()

    # ------------------------------------------------------------------ guilds

    def _guild(self, guild_id: str) -> Any:
        guild = self.s.world.guilds.get(_int(guild_id))
        if guild is None or self.s.bot_user.id not in guild.members:
            raise not_found(ErrorCode.UNKNOWN_GUILD, "Guild")
        return guild

    async def get_guild(self, req: Req) -> Any:
        guild = self._guild(req.params["guild_id"])
        data = self.s.world.guild_create_payload(guild, include_all_members=False)
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
        ):
            data.pop(key, None)
        return data

    async def get_guild_channels(self, req: Req) -> Any:
        guild = self._guild(req.params["guild_id"])
        return [c.payload() for c in guild.channels.values()]

    async def get_guild_roles(self, req: Req) -> Any:
        guild = self._guild(req.params["guild_id"])
        return [r.payload() for r in guild.roles.values()]

    async def get_member(self, req: Req) -> Any:
        guild = self._guild(req.params["guild_id"])
        member = guild.members.get(_int(req.params["user_id"]))
        if member is None:
            raise not_found(ErrorCode.UNKNOWN_MEMBER, "Member")
        return member.payload()

    # ------------------------------------------------------------------ channels & messages

    async def get_channel(self, req: Req) -> Any:
        chan = self._channel(req.params["channel_id"])
        self._require_view(chan)
        return chan.payload()

    async def typing(self, req: Req) -> Any:
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        if not chan.is_dm and not perms & Perm.SEND_MESSAGES:
            raise forbidden()
        self.s.typing.append((chan.id, self.s.now()))
        return None

    async def get_messages(self, req: Req) -> Any:
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        if not chan.is_dm and not perms & Perm.READ_MESSAGE_HISTORY:
            return []
        limit = min(max(int(req.query.get("limit", 50)), 1), 100)
        msgs = [m for m in self.s.world.messages_in(chan.id) if not m.ephemeral]
        if "before" in req.query:
            msgs = [m for m in msgs if m.id < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if m.id > int(req.query["after"])][:limit]
        if "around" in req.query:
            around = int(req.query["around"])
            older = [m for m in msgs if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in msgs if m.id > around][: limit // 2]
            msgs = older + newer
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return [self._visible_payload(m) for m in msgs]

    async def get_message(self, req: Req) -> Any:
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        if not chan.is_dm and not perms & Perm.READ_MESSAGE_HISTORY:
            raise forbidden()
        return self._visible_payload(self._message(chan, req.params["message_id"]))

    async def create_message(self, req: Req) -> Any:
        s = self.s
        chan = self._channel(req.params["channel_id"])
        body = req.json() if req.body is not None else {}
        if chan.is_dm:
            recipient = chan.recipients[0]
            if not recipient.dms_open or not s.world.shares_guild(recipient.id, s.bot_user.id):
                raise forbidden(ErrorCode.CANNOT_SEND_TO_USER, "Cannot send messages to this user")
            perms = self._bot_perms(chan)
        else:
            perms = self._require_view(chan)
            if not perms & Perm.SEND_MESSAGES:
                raise forbidden()
            if req.files and not perms & Perm.ATTACH_FILES:
                raise forbidden()
        flags = body.get("flags") or 0
        if flags & MessageFlag.EPHEMERAL:
            errs = FormErrors()
            errs.add(("flags",), "MESSAGE_FLAGS_INVALID", "Ephemeral messages need an interaction")
            errs.raise_if_any()
        replied = self._resolve_reference(body, chan, perms)
        msg = s._new_bot_message(
            chan,
            body,
            req.files,
            route="channel",
            replied=replied,
            embed_ok=bool(perms & Perm.EMBED_LINKS),
        )
        return s.world.message_payload(msg)

    def _resolve_reference(self, body: dict[str, Any], chan: Channel, perms: int) -> Message | None:
        ref = body.get("message_reference")
        if not ref:
            return None
        if not chan.is_dm and not perms & Perm.READ_MESSAGE_HISTORY:
            raise forbidden()
        target = self.s.world.messages.get(_int(ref.get("message_id")))
        ok = (
            target is not None
            and not target.deleted
            and (ref.get("type", 0) == 1 or target.channel_id == chan.id)
        )
        if not ok:
            if ref.get("fail_if_not_exists", True):
                errs = FormErrors()
                errs.add(
                    ("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
                errs.raise_if_any()
            body.pop("message_reference")
            return None
        return target

    async def edit_message(self, req: Req) -> Any:
        s = self.s
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        msg = self._message(chan, req.params["message_id"])
        body = req.json() if req.body is not None else {}
        if msg.author.id != s.bot_user.id:
            only_flags = set(body) <= {"flags"}
            if not (only_flags and perms & Perm.MANAGE_MESSAGES):
                raise forbidden(
                    ErrorCode.CANNOT_EDIT_OTHER_USERS_MESSAGE,
                    "Cannot edit a message authored by another user",
                )
        s._edit_message(
            msg, body, req.files, route="channel", embed_ok=bool(perms & Perm.EMBED_LINKS)
        )
        return s.world.message_payload(msg)

    async def delete_message(self, req: Req) -> Any:
        s = self.s
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        msg = self._message(chan, req.params["message_id"])
        own = msg.author.id == s.bot_user.id
        if not own and (chan.is_dm or not perms & Perm.MANAGE_MESSAGES):
            raise forbidden()
        s._delete_message(msg, route="channel")
        return None

    async def add_reaction(self, req: Req) -> Any:
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        msg = self._message(chan, req.params["message_id"])
        emoji = req.params["emoji"]
        users = msg.reactions.setdefault(emoji, [])
        if not chan.is_dm and not perms & Perm.READ_MESSAGE_HISTORY:
            raise forbidden()
        if not users and not chan.is_dm and not perms & Perm.ADD_REACTIONS:
            raise forbidden()
        if self.s.bot_user.id not in users:
            users.append(self.s.bot_user.id)
            self.s._dispatch_reaction("MESSAGE_REACTION_ADD", msg, self.s.bot_user.id, emoji)
        return None

    async def remove_own_reaction(self, req: Req) -> Any:
        return await self._remove_reaction(req, self.s.bot_user.id)

    async def remove_reaction(self, req: Req) -> Any:
        return await self._remove_reaction(req, _int(req.params["user_id"]))

    async def _remove_reaction(self, req: Req, user_id: int) -> Any:
        chan = self._channel(req.params["channel_id"])
        perms = self._require_view(chan)
        msg = self._message(chan, req.params["message_id"])
        if user_id != self.s.bot_user.id and not perms & Perm.MANAGE_MESSAGES:
            raise forbidden()
        users = msg.reactions.get(req.params["emoji"], [])
        if user_id in users:
            users.remove(user_id)
            self.s._dispatch_reaction("MESSAGE_REACTION_REMOVE", msg, user_id, req.params["emoji"])
        return None

    # ------------------------------------------------------------------ application commands

    def _command_scope(self, req: Req) -> int | None:
        if _int(req.params["app_id"]) != self.s.application_id:
            raise forbidden(ErrorCode.MISSING_ACCESS, "Missing Access")
        if "guild_id" not in req.params:
            return None
        guild = self.s.world.guilds.get(_int(req.params["guild_id"]))
        if guild is None or self.s.bot_user.id not in guild.members:
            raise forbidden(ErrorCode.MISSING_ACCESS, "Missing Access")
        return guild.id

    async def get_commands(self, req: Req) -> Any:
        return list(self.s.commands.get(self._command_scope(req), []))

    async def put_commands(self, req: Req) -> Any:
        scope = self._command_scope(req)
        body = req.body if req.body is not None else []
        validate_commands(body)
        existing = {(c["type"], c["name"]): c for c in self.s.commands.get(scope, [])}
        stored = [
            self._store_command(cmd, scope, existing.get((cmd.get("type", 1), cmd["name"])))
            for cmd in body
        ]
        self.s.commands[scope] = stored
        self.s.command_syncs.append((scope, self.s.now()))
        return stored

    async def upsert_command(self, req: Req) -> Any:
        scope = self._command_scope(req)
        cmd = req.json()
        errs = FormErrors()
        validate_command(cmd, errs)
        errs.raise_if_any()
        cmds = self.s.commands.setdefault(scope, [])
        key = (cmd.get("type", 1), cmd.get("name"))
        old = next((c for c in cmds if (c["type"], c["name"]) == key), None)
        new = self._store_command(cmd, scope, old)
        if old is not None:
            cmds[cmds.index(old)] = new
        else:
            cmds.append(new)
        return new

    def _find_command(self, req: Req) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        cmds = self.s.commands.get(self._command_scope(req), [])
        for cmd in cmds:
            if cmd["id"] == req.params["command_id"]:
                return cmds, cmd
        raise not_found(ErrorCode.UNKNOWN_APPLICATION_COMMAND, "application command")

    async def get_command(self, req: Req) -> Any:
        return self._find_command(req)[1]

    async def edit_command(self, req: Req) -> Any:
        cmds, cmd = self._find_command(req)
        merged = {**cmd, **req.json()}
        errs = FormErrors()
        validate_command(merged, errs)
        errs.raise_if_any()
        new = self._store_command(merged, cmd.get("guild_id") and int(cmd["guild_id"]), cmd)
        cmds[cmds.index(cmd)] = new
        return new

    async def delete_command(self, req: Req) -> Any:
        cmds, cmd = self._find_command(req)
        cmds.remove(cmd)
        return None

    def _store_command(
        self, cmd: dict[str, Any], scope: int | None, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        s = self.s
        dmp = cmd.get("default_member_permissions")
        stored = {
            "id": old["id"] if old else str(s.snowflake()),
            "application_id": str(s.application_id),
            "version": str(s.snowflake()),
            "type": cmd.get("type", 1),
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": None if dmp is None else str(dmp),
            "dm_permission": cmd.get("dm_permission", True),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
            "nsfw": cmd.get("nsfw", False),
        }
        if scope is not None:
            stored["guild_id"] = str(scope)
        return stored

    # ------------------------------------------------------------------ interactions

    async def callback(self, req: Req) -> Any:
        s = self.s
        inter = s.interactions.get(_int(req.params["interaction_id"]))
        now = s.now()
        body = req.json() if req.body is not None else {}
        ctype = body.get("type")
        data = body.get("data")
        if inter is None or inter.token != req.params["token"]:
            raise not_found(ErrorCode.UNKNOWN_INTERACTION, "interaction")

        def record(status: int, code: int | None = None) -> None:
            latency = now - (inter.dispatched_at or now)
            inter.callbacks.append(CallbackRecord(inter, ctype, data, now, latency, status, code))
            s.callbacks.append(inter.callbacks[-1])

        try:
            self._check_callback(inter, ctype, data, now, req)
        except DiscordHTTPError as err:
            record(err.status, err.code)
            raise
        inter.response_type = ctype
        inter.responded_at = now
        record(200 if req.flag("with_response") else 204)

        message: Message | None = None
        if ctype == CallbackType.CHANNEL_MESSAGE_WITH_SOURCE:
            message = s._new_interaction_message(inter, data or {}, req.files, route="callback")
            inter.original_message_id = message.id
        elif ctype == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = MessageFlag.LOADING | ((data or {}).get("flags", 0) & MessageFlag.EPHEMERAL)
            message = s._new_interaction_message(
                inter, {"flags": flags}, [], route="callback", loading=True
            )
            inter.original_message_id = message.id
        elif ctype == CallbackType.UPDATE_MESSAGE:
            assert inter.message is not None
            message = inter.message
            s._edit_message(message, data or {}, req.files, route="callback", interaction=inter)
            inter.original_message_id = message.id
        elif ctype == CallbackType.DEFERRED_UPDATE_MESSAGE:
            assert inter.message is not None
            inter.original_message_id = inter.message.id
        elif ctype == CallbackType.MODAL:
            inter.modal = data
        elif ctype == CallbackType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            inter.autocomplete_choices = (data or {}).get("choices", [])
        s._notify()

        if not req.flag("with_response"):
            return None
        resp: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_loading": ctype
                == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if inter.original_message_id is not None:
            resp["interaction"]["response_message_id"] = str(inter.original_message_id)
        resp["resource"] = {"type": ctype}
        # per the docs, resource.message only for CHANNEL_MESSAGE_WITH_SOURCE / UPDATE_MESSAGE
        if message is not None and ctype in (4, 7):
            resp["resource"]["message"] = s.world.message_payload(message)
        return resp

    def _check_callback(
        self, inter: Interaction, ctype: Any, data: Any, now: float, req: Req
    ) -> None:
        s = self.s
        if inter.acknowledged:
            raise DiscordHTTPError(
                400,
                ErrorCode.INTERACTION_ALREADY_ACKNOWLEDGED,
                "Interaction has already been acknowledged.",
            )
        if inter.dispatched_at is None or now - inter.dispatched_at > s.interaction_deadline:
            raise not_found(ErrorCode.UNKNOWN_INTERACTION, "interaction")
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7} if inter.message else {4, 5},
        }[InteractionType(inter.type)]
        if ctype not in allowed:
            errs = FormErrors()
            errs.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Value must be one of {sorted(allowed)} for interaction type {inter.type}.",
            )
            errs.raise_if_any()
        if ctype in (CallbackType.CHANNEL_MESSAGE_WITH_SOURCE, CallbackType.UPDATE_MESSAGE):
            errs = FormErrors()
            validate_message_fields(data or {}, _prefixed(errs, "data"))
            errs.raise_if_any()
            if ctype == CallbackType.CHANNEL_MESSAGE_WITH_SOURCE:
                probe = {
                    **(data or {}),
                    "attachments": (data or {}).get("attachments") or req.files,
                }
            else:
                assert inter.message is not None
                probe = s._merge(inter.message, data or {}, req.files)
            if message_is_empty(probe):
                raise empty_message_error()
        elif ctype == CallbackType.MODAL:
            validate_modal(data)
        elif ctype == CallbackType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            validate_autocomplete(data)
        s._check_files(req.files)

    def _webhook_interaction(self, req: Req) -> Interaction:
        s = self.s
        inter = s.interactions_by_token.get(req.params["token"])
        if (
            inter is None
            or _int(req.params["app_id"]) != s.application_id
            or not inter.acknowledged
        ):
            raise not_found(ErrorCode.UNKNOWN_WEBHOOK, "Webhook")
        assert inter.responded_at is not None
        if s.now() - inter.responded_at > s.followup_window:
            raise DiscordHTTPError(401, ErrorCode.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return inter

    def _webhook_message(self, req: Req, inter: Interaction) -> Message:
        s = self.s
        mid = req.params["message_id"]
        if mid == "@original":
            target = inter.original_message_id
        else:
            target = _int(mid)
            if target != inter.original_message_id and target not in inter.followup_ids:
                target = None
        msg = s.world.messages.get(target or 0)
        if msg is None or msg.deleted:
            raise not_found(ErrorCode.UNKNOWN_MESSAGE, "Message")
        return msg

    async def followup(self, req: Req) -> Any:
        s = self.s
        inter = self._webhook_interaction(req)
        body = req.json() if req.body is not None else {}
        errs = FormErrors()
        validate_message_fields(body, errs)
        errs.raise_if_any()
        original = s.world.messages.get(inter.original_message_id or 0)
        if (
            inter.response_type == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            and original is not None
            and original.loading
            and not original.deleted
        ):
            # Discord: the first followup after a "thinking" defer replaces the loading message
            # (and keeps the defer's ephemerality, whatever flags the followup asks for).
            body = {k: v for k, v in body.items() if k != "flags"}
            s._edit_message(
                original, body, req.files, route="followup", interaction=inter, clear_loading=True
            )
            msg = original
        else:
            msg = s._new_interaction_message(inter, body, req.files, route="followup")
            inter.followup_ids.append(msg.id)
        return s.world.message_payload(msg)  # for interaction followups `wait` is always true

    async def get_webhook_message(self, req: Req) -> Any:
        inter = self._webhook_interaction(req)
        return self.s.world.message_payload(self._webhook_message(req, inter))

    async def edit_webhook_message(self, req: Req) -> Any:
        s = self.s
        inter = self._webhook_interaction(req)
        msg = self._webhook_message(req, inter)
        body = req.json() if req.body is not None else {}
        route = "original" if req.params["message_id"] == "@original" else "webhook_message"
        s._edit_message(msg, body, req.files, route=route, interaction=inter, clear_loading=True)
        return s.world.message_payload(msg)

    async def delete_webhook_message(self, req: Req) -> Any:
        inter = self._webhook_interaction(req)
        msg = self._webhook_message(req, inter)
        route = "original" if req.params["message_id"] == "@original" else "webhook_message"
        self.s._delete_message(msg, route=route, interaction=inter)
        return None


class _prefixed(FormErrors):
    """Adds a path prefix (e.g. ``data``) to every error added through it."""

    def __init__(self, parent: FormErrors, *prefix: str | int) -> None:
        super().__init__()
        self.parent = parent
        self.prefix = prefix

    def add(self, path: Any, code: str, message: str) -> None:
        self.parent.add((*self.prefix, *path), code, message)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def make_attachment(
    server: FakeDiscord,
    filename: str,
    data: bytes,
    content_type: str | None,
    description: str | None = None,
    *,
    ephemeral: bool = False,
) -> Attachment:
    aid = server.snowflake()
    att = Attachment(
        aid,
        filename,
        data,
        f"{server.base_url}/attachments/{aid}/{filename}",
        content_type,
        description,
        ephemeral,
    )
    server.attachments[aid] = att
    return att


__all__ = [
    "API_PREFIX",
    "Fault",
    "RestAPI",
    "glob_to_regex",
    "json_response",
    "make_attachment",
]
