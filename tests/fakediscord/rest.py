"""The fake REST API: the routes a discord.py bot like ours calls, Discord's checks on them,
and injected failures (429 with the headers discord.py needs to retry, 5xx)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .limits import (
    ALREADY_ACKNOWLEDGED,
    UNKNOWN_INTERACTION,
    UNKNOWN_WEBHOOK,
    DiscordHTTPError,
    check_message,
)
from .model import CallbackType, InteractionType, MessageFlag, RequestRecord

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

API = "/api/v10"
Handler = Callable[[dict[str, str], Any], Awaitable[Any]]


@dataclass
class Fault:
    """An injected failure of the next `remaining` requests matching method and path."""

    method: str
    path: re.Pattern[str]
    status: int
    retry_after: float
    is_global: bool
    remaining: int
    hits: int = 0

    def response(self) -> web.Response:
        if self.status != 429:
            return _json(self.status, {"code": 0, "message": f"{self.status}: injected"})
        # discord.py takes a 429 without "Via" for a Cloudflare ban and does not retry it.
        headers = {"Via": "1.1 google", "Retry-After": str(self.retry_after),
                   "X-RateLimit-Scope": "global" if self.is_global else "user"}
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset-After": str(self.retry_after),
                            "X-RateLimit-Reset": str(time.time() + self.retry_after),
                            "X-RateLimit-Bucket": "fake"})
        body = {"message": "You are being rate limited.", "retry_after": self.retry_after,
                "global": self.is_global}
        return _json(429, body, headers)


def glob(pattern: str) -> re.Pattern[str]:
    """`*` is one path segment, `**` any number of them."""
    parts = (re.escape(p) for p in pattern.split("**"))
    return re.compile(".*".join(p.replace(r"\*", "[^/]+") for p in parts))


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    # exactly "application/json": discord.py ignores a body with "; charset=...".
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})


class Rest:
    def __init__(self, server: FakeDiscord) -> None:
        self.s = server
        self.faults: list[Fault] = []
        app, hook = "/applications/{app}/commands", "/webhooks/{app}/{token}"
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = [
            (method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)), handler, auth)
            for method, path, handler, auth in [
                ("GET", "/users/@me", self.me, True),
                ("GET", "/oauth2/applications/@me", self.application, True),
                ("GET", "/gateway/bot", self.gateway_bot, True),
                ("PUT", app, self.put_commands, True),
                ("POST", "/channels/{channel}/messages", self.create_message, True),
                ("POST", "/interactions/{id}/{token}/callback", self.callback, False),
                ("POST", hook, self.followup, False),
            ]
        ]

    async def handle(self, request: web.Request) -> web.Response:
        s, method = self.s, request.method
        path = request.path.removeprefix(API)
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == "application/json" else None

        def done(status: int, response: web.Response, injected: bool = False) -> web.Response:
            s.requests.append(RequestRecord(method, path, status, s.now(), body, injected))
            s.notify()
            return response

        for fault in self.faults:
            if fault.remaining and fault.method == method and fault.path.fullmatch(path):
                fault.remaining -= 1
                fault.hits += 1
                return done(fault.status, fault.response(), injected=True)
        route = next(((handler, auth, match) for route_method, pattern, handler, auth in self.routes
                      if route_method == method and (match := pattern.fullmatch(path))), None)
        if route is None:
            log.warning("fakediscord: %s %s called, which the fake does not serve", method, path)
            s.problems.append(f"unknown route {method} {path}")
            return done(404, _json(404, {"code": 0, "message": "404: Not Found"}))
        handler, auth, match = route
        if auth and request.headers.get("Authorization") != f"Bot {s.token}":
            return done(401, _json(401, {"code": 0, "message": "401: Unauthorized"}))
        try:
            result = await handler(match.groupdict(), body)
        except DiscordHTTPError as err:
            return done(err.status, _json(err.status, err.body()))
        except Exception as exc:  # the fake's own bug: fail the test, not just this request
            log.exception("fakediscord: %s %s crashed", method, path)
            s.problems.append(f"fake crashed on {method} {path}: {exc!r}")
            return done(500, _json(500, {"code": 0, "message": "500: fake crashed"}))
        if result is None:
            return done(204, web.Response(status=204))
        return done(200, _json(200, result))

    async def me(self, params: dict[str, str], body: Any) -> Any:
        return self.s.bot_user.payload()

    async def application(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        return {"id": str(s.application_id), "name": s.bot_user.username, "icon": None,
                "description": "", "bot_public": True, "bot_require_code_grant": False,
                "verify_key": "0" * 64, "flags": 0, "owner": s.owner.payload(), "team": None}

    async def gateway_bot(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return {"url": s.gateway_url, "shards": s.recommended_shards,
                "session_start_limit": limit}

    async def put_commands(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        # Discord gives a context-menu command (type 2, 3) an empty description.
        s.commands = [{"description": "", **cmd, "id": str(s.snowflake()),
                       "application_id": str(s.application_id), "version": "1",
                       "type": cmd.get("type", 1)} for cmd in body]
        return s.commands

    async def create_message(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        channel = s.channels.get(int(params["channel"]))
        if channel is None:
            raise DiscordHTTPError(404, 10003, "Unknown Channel")
        check_message(body)
        ref = body.get("message_reference")
        replied = s.messages.get(int(ref["message_id"])) if ref else None
        if ref and replied is None and ref.get("fail_if_not_exists", True):
            raise DiscordHTTPError(400, 50035, "Invalid Form Body", {"message_reference": {}})
        msg = await s.bot_writes("channel", channel, body, replied=replied)
        return s.message_payload(msg)

    async def callback(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        inter = s.interactions.get(int(params["id"]))
        if inter is None or inter.token != params["token"]:
            raise DiscordHTTPError(404, UNKNOWN_INTERACTION, "Unknown interaction")
        kind, data = body["type"], body.get("data") or {}
        latency = s.now() - inter.dispatched_at
        try:
            if inter.acknowledged:
                raise DiscordHTTPError(400, ALREADY_ACKNOWLEDGED,
                                       "Interaction has already been acknowledged.")
            if latency > s.interaction_deadline:  # Discord forgets it after 3 s
                raise DiscordHTTPError(404, UNKNOWN_INTERACTION, "Unknown interaction")
            if (kind == CallbackType.AUTOCOMPLETE_RESULT) != (
                    inter.type == InteractionType.AUTOCOMPLETE):
                s.problems.append(f"callback type {kind} to an interaction of type {inter.type}")
                raise DiscordHTTPError(400, 50035, "Invalid Form Body", {"type": {}})
            if kind == CallbackType.AUTOCOMPLETE_RESULT:
                if len(data.get("choices", [])) > 25:
                    raise DiscordHTTPError(400, 50035, "Invalid Form Body", {"choices": {}})
            elif kind == CallbackType.CHANNEL_MESSAGE_WITH_SOURCE:
                check_message(data)
            elif kind != CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
                s.problems.append(f"callback type {kind}: the fake serves types 4 and 5 only")
                raise DiscordHTTPError(400, 50035, "Invalid Form Body", {"type": {}})
        except DiscordHTTPError as err:
            inter.callbacks.append(s.callback_record(kind, err.status, latency, err.code))
            raise
        inter.response_type = kind
        inter.callbacks.append(s.callback_record(kind, 200, latency))
        if kind == CallbackType.AUTOCOMPLETE_RESULT:
            inter.choices = data.get("choices", [])
            return None
        if kind == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            data = {"flags": MessageFlag.LOADING | (data.get("flags", 0) & MessageFlag.EPHEMERAL)}
        channel = s.channels[inter.channel_id]
        inter.original = await s.bot_writes("callback", channel, data, interaction=inter)
        message = s.message_payload(inter.original)
        return {
            "interaction": {"id": str(inter.id), "type": inter.type,
                            "response_message_id": message["id"],
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": inter.original.ephemeral},
            "resource": {"type": kind, **({"message": message} if kind == 4 else {})},
        }

    async def followup(self, params: dict[str, str], body: Any) -> Any:
        s = self.s
        inter = s.interactions_by_token.get(params["token"])
        if inter is None or not inter.acknowledged or params["app"] != str(s.application_id):
            raise DiscordHTTPError(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        check_message(body)
        original = inter.original
        if original is not None and original.flags & MessageFlag.LOADING:
            # The first followup after a "thinking" defer replaces the loading message, and
            # keeps the defer's visibility whatever flags it asks for.
            body = {**body, "flags": original.flags & ~MessageFlag.LOADING}
            await s.bot_writes("followup", None, body, interaction=inter, edit=original)
            return s.message_payload(original)
        channel = s.channels[inter.channel_id]
        return s.message_payload(await s.bot_writes("followup", channel, body, interaction=inter))
