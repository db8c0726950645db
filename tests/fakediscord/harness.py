"""Running a plain discord.py client against a FakeDiscord (the fake's own tests do; the
project's bot finds the server through its own settings instead)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import discord
import yarl

from .server import FakeDiscord


@contextlib.contextmanager
def point_discord_at(server: FakeDiscord) -> Iterator[None]:
    """discord.py builds every REST URL (webhooks and interaction callbacks too) from
    Route.BASE, and connects to DEFAULT_GATEWAY; both are class attributes, restored after."""
    route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, ws.DEFAULT_GATEWAY
    route.BASE, ws.DEFAULT_GATEWAY = server.api_url, yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        route.BASE, ws.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def run_client(client: discord.Client, server: FakeDiscord) -> AsyncIterator[None]:
    """Start `client`, wait for on_ready (a startup failure is raised here), close it after."""
    task = asyncio.create_task(client.start(server.token))
    try:
        await server.wait_until(lambda: client.is_ready() or task.done(), what="ready")
        if task.done():
            task.result()
        yield
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)


def skip_identify_delay(client: discord.Client) -> list[bool]:
    """Drop discord.py's 5 s sleep before a second IDENTIFY (Client.before_identify_hook is its
    documented override point); returns the `initial` flag of each IDENTIFY."""
    calls: list[bool] = []

    async def before_identify_hook(shard_id: Any, *, initial: bool = False) -> None:
        calls.append(initial)

    client.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return calls
