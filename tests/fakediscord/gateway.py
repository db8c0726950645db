"""The fake gateway (websocket): HELLO, IDENTIFY -> READY and GUILD_CREATE, heartbeats,
dispatches routed by shard (a guild's events go only to the session whose IDENTIFY named
the shard holding it, `(guild_id >> 22) % shard_count`; DMs go to shard 0), and the faults a
bot must survive: a dropped connection (RESUME replays what was
missed), a refused RESUME (the bot IDENTIFYs again), RECONNECT, and close code 4014 (a
privileged intent the portal did not grant). A bad token never gets here: REST refuses it."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .model import Intent

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0, 1, 2, 6, 7, 9, 10, 11)
INVALID_SHARD, DISALLOWED_INTENTS = 4010, 4014


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events (Discord's sharding formula)."""
    return (guild_id >> 22) % shard_count


@dataclass(eq=False)
class Session:
    """Outlives its connection so that it can be resumed; keeps what it sent for replay."""

    id: str
    intents: int
    shard: tuple[int, int] = (0, 1)  # (shard id, shard count) from IDENTIFY
    seq: int = 0
    backlog: list[dict[str, Any]] = field(default_factory=list)
    conn: Connection | None = None
    alive: bool = True

    def holds(self, guild_id: int | None) -> bool:
        """Does this session receive the events of guild_id (None: a DM, shard 0's)?"""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append(frame)
        if self.conn is not None:
            await self.conn.send(frame)  # else kept for the RESUME


class Connection:
    """One websocket; frames go out in order (zlib-stream needs it) through one lock."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool, path: str) -> None:
        self.ws, self.path = ws, path
        self.zlib = zlib.compressobj() if compress else None
        self.session: Session | None = None
        self.lock = asyncio.Lock()
        self.closed_by_server = False

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            if self.ws.closed:
                return
            text = json.dumps(frame)
            try:
                if self.zlib is None:
                    await self.ws.send_str(text)
                else:
                    z = self.zlib
                    await self.ws.send_bytes(z.compress(text.encode()) + z.flush(zlib.Z_SYNC_FLUSH))
            except ConnectionError:
                log.debug("send on a closing websocket dropped")

    async def close(self, code: int) -> None:
        self.closed_by_server = True
        async with self.lock:  # what was queued before the close goes out first
            await self.ws.close(code=code)


class Gateway:
    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.log: list[tuple[str, int, str | None]] = []  # (direction, op, event name)
        self.close_codes: list[int] = []
        self.identify_count = self.resume_count = self.refuse_resumes = 0

    @property
    def connected_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive and s.conn and s.conn.open]

    async def dispatch(self, event: str, data: Any, intent: int = 0, *,
                       guild_id: int | None) -> None:
        """To every live session with `intent` whose shard holds guild_id (None: a DM);
        `data` may be a function of the session."""
        for session in [s for s in self.sessions.values() if s.alive and s.holds(guild_id)]:
            if intent and not session.intents & intent:
                continue
            await self.event(session, event, data(session) if callable(data) else data)

    async def event(self, session: Session, event: str, data: dict[str, Any]) -> None:
        self.log.append(("out", DISPATCH, event))
        await session.dispatch(event, data)

    async def drop(self, code: int) -> int:
        conns = [c for c in self.connections if c.open]
        for conn in conns:
            await self.close(conn, code)
        return len(conns)

    async def close(self, conn: Connection, code: int) -> None:
        self.close_codes.append(code)
        await conn.close(code)

    async def send_op(self, op: int, d: Any = None) -> None:
        for conn in [c for c in self.connections if c.open]:
            await conn.send({"op": op, "d": d, "s": None, "t": None})

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = Connection(ws, request.query.get("compress") == "zlib-stream", request.path)
        self.connections.append(conn)
        interval = self.server.heartbeat_interval
        await conn.send({"op": HELLO, "d": {"heartbeat_interval": interval}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self.on_frame(conn, json.loads(msg.data))
        finally:
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    session.alive = False  # the client's clean close ends its session
            self.server.notify()
        return ws

    async def on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        self.log.append(("in", op, None))
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            self.log.append(("out", HEARTBEAT_ACK, None))
        elif op == IDENTIFY:
            await self.identify(conn, d)
        elif op == RESUME:
            await self.resume(conn, d)
        self.server.notify()

    async def identify(self, conn: Connection, d: dict[str, Any]) -> None:
        server = self.server
        intents = d.get("intents", 0)
        if intents & Intent.PRIVILEGED & ~server.granted_intents:
            await self.close(conn, DISALLOWED_INTENTS)
            return
        shard_id, count = d.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await self.close(conn, INVALID_SHARD)
            return
        session = Session(secrets.token_hex(16), intents, (shard_id, count), conn=conn)
        self.sessions[session.id] = conn.session = session
        self.identify_count += 1
        guilds = [g for g in server.guilds.values()
                  if server.bot_user.id in g.members and session.holds(g.id)]
        await self.event(session, "READY", {
            "shard": [shard_id, count],
            "v": 10, "user": server.bot_user.payload(), "session_id": session.id,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "resume_gateway_url": server.gateway_url + "resume/", "private_channels": [],
            "application": {"id": str(server.application_id), "flags": 0},
        })
        if intents & Intent.GUILDS:
            for guild in guilds:
                await self.event(session, "GUILD_CREATE", guild.payload())

    async def resume(self, conn: Connection, d: dict[str, Any]) -> None:
        session = self.sessions.get(d.get("session_id") or "")
        if session is None or not session.alive or self.refuse_resumes:
            self.refuse_resumes = max(0, self.refuse_resumes - 1)
            if session is not None:
                session.alive = False
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            self.log.append(("out", INVALID_SESSION, None))
            return
        session.conn, conn.session = conn, session
        self.resume_count += 1
        for frame in [f for f in session.backlog if f["s"] > (d.get("seq") or 0)]:
            self.log.append(("out", DISPATCH, frame["t"]))
            await conn.send(frame)
        await self.event(session, "RESUMED", {})
