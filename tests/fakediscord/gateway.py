"""The fake gateway (websocket): HELLO/IDENTIFY/READY/RESUME, dispatch, compression."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .constants import ApplicationFlag, Close, Intent, Op

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger("fakediscord.gateway")

try:  # Python 3.14+
    from compression import zstd as _stdlib_zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on interpreter
    _stdlib_zstd = None
try:
    import zstandard as _zstandard  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - optional dependency
    _zstandard = None

EventData = dict[str, Any] | Callable[["GatewaySession"], dict[str, Any] | None]


@dataclass
class GatewayEvent:
    """One gateway frame, in either direction (``"in"`` = from the client)."""

    direction: str
    op: int
    t: str | None
    s: int | None
    at: float
    session_id: str | None
    d: Any = None

    def __repr__(self) -> str:
        arrow = "<-" if self.direction == "in" else "->"
        name = self.t or (Op(self.op).name if self.op in Op._value2member_map_ else str(self.op))
        return f"<gw {arrow} {name} s={self.s}>"


class _Compressor:
    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._zlib = zlib.compressobj() if kind == "zlib-stream" else None
        self._zstd: Any = None
        if kind == "zstd-stream":
            if _stdlib_zstd is not None:
                self._zstd = _stdlib_zstd.ZstdCompressor()
            elif _zstandard is not None:
                self._zstd = _zstandard.ZstdCompressor().compressobj()
            else:
                raise ValueError("zstd-stream requested but no zstd module is installed")

    def encode(self, text: str) -> bytes | str:
        raw = text.encode()
        if self._zlib is not None:
            return self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._zstd is not None:
            if _stdlib_zstd is not None:
                return self._zstd.compress(raw, mode=_stdlib_zstd.ZstdCompressor.FLUSH_BLOCK)
            return self._zstd.compress(raw) + self._zstd.flush(_zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return text


class GatewayConnection:
    """One websocket. Frames are queued and written in order by a sender task."""

    def __init__(
        self, gateway: Gateway, ws: web.WebSocketResponse, compress: str | None, path: str = "/"
    ) -> None:
        self.gateway = gateway
        self.ws = ws
        #: "/" for DEFAULT_GATEWAY connections, "/resume/" for resume_gateway_url ones
        self.path = path
        self.compress = compress
        self._compressor = _Compressor(compress)
        self.session: GatewaySession | None = None
        # (frame, future) pairs; a None frame is a flush marker
        self.queue: asyncio.Queue[tuple[dict[str, Any] | None, asyncio.Future[None]]] = (
            asyncio.Queue()
        )
        self.server_close_code: int | None = None
        self.closed = False
        self._recent: deque[float] = deque()
        self.sender = asyncio.create_task(self._send_loop())

    def send(self, frame: dict[str, Any]) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            fut.set_result(None)
        else:
            self.queue.put_nowait((frame, fut))
        return fut

    async def _send_loop(self) -> None:
        while True:
            frame, fut = await self.queue.get()
            try:
                if frame is not None and not self.closed:
                    self.gateway._log("out", frame, self.session)
                    data = self._compressor.encode(json.dumps(frame, separators=(",", ":")))
                    if isinstance(data, bytes):
                        await self.ws.send_bytes(data)
                    else:
                        await self.ws.send_str(data)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("send failed (%s); connection is closing", exc)
                self.closed = True
            finally:
                if not fut.done():
                    fut.set_result(None)

    async def flush(self) -> None:
        """Wait until everything queued so far has been written."""
        if not self.closed:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.queue.put_nowait((None, fut))
            await fut

    def rate_limited(self) -> bool:
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        return len(self._recent) > self.gateway.server.gateway_rate_limit

    async def close(self, code: int, message: str = "") -> None:
        if self.closed and self.ws.closed:
            return
        self.server_close_code = code
        # let frames queued before the close go out first, like a real socket would
        await self.flush()
        self.closed = True
        self.gateway._log_close(code, self.session)
        await self.ws.close(code=code, message=message.encode())

    def shutdown(self) -> None:
        self.closed = True
        self.sender.cancel()
        while not self.queue.empty():
            _, fut = self.queue.get_nowait()
            if not fut.done():
                fut.set_result(None)


class GatewaySession:
    """A gateway session: survives disconnects so it can be RESUMEd; buffers events."""

    def __init__(self, session_id: str, intents: int, shard: tuple[int, int]) -> None:
        self.id = session_id
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.backlog: deque[dict[str, Any]] = deque(maxlen=5000)
        self.conn: GatewayConnection | None = None
        self.alive = True
        self.presence: dict[str, Any] | None = None
        self.resumes = 0

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch(self, event: str, data: dict[str, Any]) -> asyncio.Future[None]:
        self.seq += 1
        frame = {"op": Op.DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append(frame)
        if self.conn is not None and not self.conn.closed:
            return self.conn.send(frame)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)  # buffered for RESUME
        return fut

    def __repr__(self) -> str:
        state = "connected" if self.conn else ("dead" if not self.alive else "disconnected")
        return f"<GatewaySession {self.id[:8]} seq={self.seq} intents={self.intents} {state}>"


class Gateway:
    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.log: list[GatewayEvent] = []
        self.refuse_resumes = 0
        self.identify_count = 0
        self.resume_count = 0
        self.close_codes: list[int] = []

    # ------------------------------------------------------------------ helpers

    def _log(self, direction: str, frame: dict[str, Any], session: GatewaySession | None) -> None:
        self.log.append(
            GatewayEvent(
                direction=direction,
                op=frame.get("op", -1),
                t=frame.get("t"),
                s=frame.get("s"),
                at=self.server.now(),
                session_id=session.id if session else None,
                d=frame.get("d"),
            )
        )
        self.server._notify()

    def _log_close(self, code: int, session: GatewaySession | None) -> None:
        self.close_codes.append(code)
        self.log.append(
            GatewayEvent(
                "out", -1, f"CLOSE {code}", None, self.server.now(), session.id if session else None
            )
        )
        self.server._notify()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.alive]

    @property
    def connected_sessions(self) -> list[GatewaySession]:
        return [s for s in self.live_sessions if s.conn is not None and not s.conn.closed]

    def shard_of(self, guild_id: int | None, count: int) -> int:
        return 0 if guild_id is None else (guild_id >> 22) % count

    def dispatch(
        self,
        event: str,
        data: EventData,
        *,
        guild_id: int | None = None,
        intent: int | None = None,
    ) -> list[asyncio.Future[None]]:
        """Send a DISPATCH to every live session that should receive it.

        ``data`` may be a callable ``session -> dict | None`` to tailor (or suppress) the
        payload per session, e.g. to blank message content for sessions without intent.
        """
        futures = []
        for session in self.live_sessions:
            if self.shard_of(guild_id, session.shard[1]) != session.shard[0]:
                continue
            if intent is not None and not session.has(intent):
                continue
            payload = data(session) if callable(data) else data
            if payload is None:
                continue
            futures.append(session.dispatch(event, payload))
        return futures

    async def drop(self, code: int = 4000, *, message: str = "") -> int:
        conns = [c for c in self.connections if not c.closed]
        for conn in conns:
            await conn.close(code, message)
        return len(conns)

    async def send_op(self, op: int, d: Any = None) -> None:
        for conn in [c for c in self.connections if not c.closed]:
            await conn.send({"op": op, "d": d, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
                    await asyncio.wait_for(conn.close(1001, "server shutting down"), 2)
            conn.shutdown()

    # ------------------------------------------------------------------ websocket handler

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        query = request.query
        compress = query.get("compress")
        try:
            conn = GatewayConnection(self, ws, compress, request.path)
        except ValueError as exc:
            log.error("gateway: %s", exc)
            await ws.close(code=Close.DECODE_ERROR, message=str(exc).encode())
            return ws
        self.connections.append(conn)
        server = self.server
        try:
            if query.get("v") not in (None, "10"):
                await conn.close(Close.INVALID_API_VERSION, "Invalid API version")
                return ws
            if query.get("encoding", "json") != "json":
                log.error("gateway: only encoding=json is supported (got %s)", query["encoding"])
                await conn.close(Close.DECODE_ERROR, "Only JSON encoding is supported")
                return ws
            if compress not in (None, "zlib-stream", "zstd-stream"):
                await conn.close(Close.DECODE_ERROR, "Invalid compression")
                return ws
            conn.send(
                {
                    "op": Op.HELLO,
                    "d": {"heartbeat_interval": server.heartbeat_interval},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    raw = msg.data if isinstance(msg.data, str) else msg.data.decode()
                    await self._on_frame(conn, raw)
                elif msg.type == WSMsgType.ERROR:
                    break
                if conn.closed:
                    break
        except Exception:
            log.exception("gateway handler crashed")
            server._internal_errors.append("gateway handler crashed (see log)")
            raise
        finally:
            client_code = ws.close_code
            session = conn.session
            conn.shutdown()
            if session is not None and session.conn is conn:
                session.conn = None
                if conn.server_close_code is None and client_code in (1000, 1001):
                    session.alive = False  # a clean client close ends the session
            server._notify()
        return ws

    async def _on_frame(self, conn: GatewayConnection, raw: str) -> None:
        try:
            frame = json.loads(raw)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            await conn.close(Close.DECODE_ERROR, "Error while decoding payload.")
            return
        self._log("in", frame, conn.session)
        if conn.rate_limited():
            await conn.close(Close.RATE_LIMITED, "You are being rate limited.")
            return
        d = frame.get("d")
        if op == Op.HEARTBEAT:
            conn.send({"op": Op.HEARTBEAT_ACK, "s": None, "t": None, "d": None})
        elif op == Op.IDENTIFY:
            await self._identify(conn, d or {})
        elif op == Op.RESUME:
            await self._resume(conn, d or {})
        elif conn.session is None:
            await conn.close(Close.NOT_AUTHENTICATED, "Not authenticated.")
        elif op == Op.PRESENCE_UPDATE:
            conn.session.presence = d
        elif op == Op.REQUEST_GUILD_MEMBERS:
            self._request_members(conn.session, d or {})
        elif op == Op.VOICE_STATE_UPDATE:
            log.warning("gateway: voice is not simulated (op 4 ignored)")
        else:
            await conn.close(Close.UNKNOWN_OPCODE, "Unknown opcode.")

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        return token.removeprefix("Bot ") == self.server.token

    async def _authenticated(self, conn: GatewayConnection, d: dict[str, Any]) -> bool:
        """IDENTIFY and RESUME alike: once per connection, with the right token; else the
        connection is closed with Discord's code and False returned."""
        if conn.session is not None:
            await conn.close(Close.ALREADY_AUTHENTICATED, "Already authenticated.")
            return False
        if not self._token_ok(d.get("token")):
            await conn.close(Close.AUTHENTICATION_FAILED, "Authentication failed.")
            return False
        return True

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        server = self.server
        if not await self._authenticated(conn, d):
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents & ~Intent.VALID:
            await conn.close(Close.INVALID_INTENTS, "Invalid intent(s).")
            return
        if intents & Intent.PRIVILEGED & ~server.granted_intents:
            await conn.close(Close.DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard_id, shard_count = d.get("shard") or (0, 1)
        if shard_count < 1 or not 0 <= shard_id < shard_count:
            await conn.close(Close.INVALID_SHARD, "Invalid shard.")
            return
        if shard_count < server.required_shards:
            await conn.close(Close.SHARDING_REQUIRED, "Sharding required.")
            return

        session = GatewaySession(secrets.token_hex(16), intents, (shard_id, shard_count))
        session.presence = d.get("presence")
        self.sessions[session.id] = session
        session.conn = conn
        conn.session = session
        self.identify_count += 1

        guilds = [
            g
            for g in server.world.guilds.values()
            if server.bot_user.id in g.members and self.shard_of(g.id, shard_count) == shard_id
        ]
        ready = {
            "v": 10,
            "user": {
                **server.bot_user.payload(),
                "bot": True,
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": server.resume_gateway_url,
            "application": {"id": str(server.application_id), "flags": server.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        if d.get("shard"):
            ready["shard"] = [shard_id, shard_count]
        session.dispatch("READY", ready)
        if session.has(Intent.GUILDS):
            for guild in guilds:
                session.dispatch("GUILD_CREATE", self.guild_create(session, guild))
        server._notify()

    def guild_create(self, session: GatewaySession, guild: Any) -> dict[str, Any]:
        return self.server.world.guild_create_payload(
            guild, include_all_members=session.has(Intent.GUILD_PRESENCES)
        )

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        if not await self._authenticated(conn, d):
            return
        session = self.sessions.get(d.get("session_id") or "")
        seq = d.get("seq") or 0
        valid = session is not None and session.alive and seq <= session.seq
        if valid and self.refuse_resumes > 0:
            self.refuse_resumes -= 1
            valid = False
        if not valid or session is None:
            if session is not None:
                session.alive = False
            log.info("gateway: refusing RESUME -> INVALID_SESSION(false)")
            conn.send({"op": Op.INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.session = None
        session.conn = conn
        conn.session = session
        session.resumes += 1
        self.resume_count += 1
        for frame in [f for f in session.backlog if f["s"] > seq]:
            conn.send(frame)
        session.dispatch("RESUMED", {})
        self.server._notify()

    def _request_members(self, session: GatewaySession, d: dict[str, Any]) -> None:
        world = self.server.world
        guild_ids = d.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        for gid in guild_ids:
            guild = world.guilds.get(int(gid))
            if guild is None:
                continue
            query = d.get("query")
            limit = d.get("limit") or 0
            user_ids = d.get("user_ids")
            if user_ids is not None:
                if not isinstance(user_ids, list):
                    user_ids = [user_ids]
                wanted = [int(u) for u in user_ids]
                members = world.iter_members(guild, wanted)
                not_found = [str(u) for u in wanted if u not in guild.members]
            else:
                if not query and not session.has(Intent.GUILD_MEMBERS):
                    log.warning("gateway: full member request without GUILD_MEMBERS intent ignored")
                    continue
                q = (query or "").lower()
                members = [
                    m
                    for m in guild.members.values()
                    if m.user.username.lower().startswith(q) or (m.nick or "").lower().startswith(q)
                ]
                if limit:
                    members = members[:limit]
                not_found = []
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            }
            if d.get("nonce") is not None:
                payload["nonce"] = d["nonce"]
            session.dispatch("GUILD_MEMBERS_CHUNK", payload)


def application_flags(granted: int) -> int:
    """The READY/appinfo ``flags`` a small (unverified) bot with these intents would have."""
    flags = ApplicationFlag.APPLICATION_COMMAND_BADGE
    if granted & Intent.MESSAGE_CONTENT:
        flags |= ApplicationFlag.GATEWAY_MESSAGE_CONTENT_LIMITED
    if granted & Intent.GUILD_MEMBERS:
        flags |= ApplicationFlag.GATEWAY_GUILD_MEMBERS_LIMITED
    if granted & Intent.GUILD_PRESENCES:
        flags |= ApplicationFlag.GATEWAY_PRESENCE_LIMITED
    return flags
