"""Helpers for running an (unmodified) discord.py client against a :class:`FakeDiscord`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord

    from .server import FakeDiscord


@contextlib.asynccontextmanager
async def run_client(
    client: discord.Client, server: FakeDiscord, *, timeout: float = 5.0
) -> AsyncIterator[asyncio.Task[None]]:
    """Start ``client`` with ``server.token``, wait until ``on_ready``, close it on exit.

    discord.py must already point at the server (:func:`point_discord_at`).  If the client
    fails to start (bad token, close code 4014, ...) that exception is raised here instead
    of hanging.  Yields the task running ``client.start()``.
    """
    task = asyncio.create_task(client.start(server.token))
    try:
        deadline = time.monotonic() + timeout
        while not client.is_ready():
            if task.done():
                task.result()  # re-raise the startup failure
                raise RuntimeError("client.start() returned before the client was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"client not ready after {timeout}s\n{server.describe()}")
            await asyncio.sleep(0.01)
        yield task
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout)


def skip_identify_delay(client: discord.Client) -> list[bool]:
    """Drop discord.py's 5 s sleep before every non-initial IDENTIFY (keeps tests fast).

    ``Client.before_identify_hook`` is a documented override point; this replaces it on the
    instance.  Returns a list that records the ``initial`` flag of each IDENTIFY.
    """
    calls: list[bool] = []

    async def before_identify_hook(shard_id: Any, *, initial: bool = False) -> None:
        calls.append(initial)

    client.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return calls
