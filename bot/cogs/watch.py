"""Other processes' uploads: processes that share a database (several shards, or machines
sharing PostgreSQL and an uploads folder) each keep their own library. Every poll interval
each reads the uploads table; when it changed, documents removed elsewhere are blocked at once
(State.removed) and the library is rebuilt, so no process quotes a removed document for longer
than one interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from discord.ext import commands

from bot.cogs.state import State
from bot.errors import QuotebotError
from bot.state import Storage, StorageError, Upload

log = logging.getLogger(__name__)

Records = dict[tuple[str, str], float]  # (collection, name) -> added_at


def records_of(uploads: Iterable[Upload]) -> Records:
    return {(u.collection, u.name): u.added_at for u in uploads}


class UploadsWatch:
    """`seen`: the records read before the current library loaded its files (None: the first
    check reads them), so a change made while the library loaded is caught too."""

    def __init__(self, state: State, storage: Storage, seen: Records | None = None) -> None:
        self.state = state
        self.storage = storage
        self.seen = seen

    async def check(self) -> bool:
        """Read the records; on a change block what went, rebuild the library and return True.
        A database or config failure is logged: the current library serves on."""
        try:
            now = records_of(await asyncio.to_thread(self.storage.uploads))
        except StorageError as exc:
            log.warning("other processes' upload changes not checked: %s", exc)
            return False
        before, self.seen = self.seen, now
        if before is None or now == before:
            return False
        # Re-added documents are quotable again; the rest of `removed` stays until the reload.
        self.state.removed.update(before.keys() - now.keys())
        self.state.removed.difference_update(now.keys())
        log.info("uploads changed in another process (%d now): rebuilding the library",
                 len(now))
        try:
            await self.state.reload()
        except QuotebotError as exc:
            log.warning("library not rebuilt after another process's upload change: %s", exc)
        return True

    async def poll(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.check()
            except Exception:
                log.exception("checking for other processes' upload changes failed")


class UploadsSync(commands.Cog):
    """Runs the watch while the bot runs; `seconds` 0 turns it off."""

    def __init__(self, watch: UploadsWatch, seconds: float) -> None:
        self.watch = watch
        self.seconds = seconds
        self._task: asyncio.Task | None = None

    async def cog_load(self) -> None:
        if self.seconds > 0:
            self._task = asyncio.create_task(self.watch.poll(self.seconds))

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
