"""Unanswered questions recorded off the answer path. A question the documents do not answer
is counted among its guild's gaps; with the database slow or gone (a host that accepts
connections and never answers waits out the whole connect timeout), writing it before the
reply held that answer, and the worker thread, for seconds. `QueuedGaps` wraps a Storage:
`record_gap` hands the question to one writer thread and returns; listing the gaps first
lets the questions recorded before it be written, so a moderator sees the question just
asked. Everything else goes straight to the storage."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable

from bot.state.store import Gap, Storage, StorageError, Upload

log = logging.getLogger(__name__)

MAX_WAITING = 1000  # questions waiting for the database; past this they are not recorded
LIST_WAIT_SECONDS = 5.0  # how long listing the gaps waits for those recorded before it


class QueuedGaps:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(MAX_WAITING)
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()

    def record_gap(self, scope: str, question: str, now: float | None = None,
                   keep_days: int | None = None) -> None:
        more = {} if keep_days is None else {"keep_days": keep_days}
        self._submit(lambda: self._write(scope, question, now, more), dropped=True)

    def gaps(self, scope: str, keep_days: int, now: float | None = None) -> list[Gap]:
        written = threading.Event()
        if self._submit(written.set, dropped=False):
            written.wait(LIST_WAIT_SECONDS)
        return self.storage.gaps(scope, keep_days, now)

    def add_upload(self, upload: Upload) -> None:
        self.storage.add_upload(upload)

    def remove_upload(self, guild_id: int, name: str) -> Upload | None:
        return self.storage.remove_upload(guild_id, name)

    def uploads(self, guild_id: int | None = None) -> list[Upload]:
        return self.storage.uploads(guild_id)

    def vote(self, answer_id: int, user_id: int, documents: Iterable[tuple[str, str]]) -> bool:
        return self.storage.vote(answer_id, user_id, documents)

    def votes(self, documents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return self.storage.votes(documents)

    def _submit(self, job: Callable[[], None], dropped: bool) -> bool:
        with self._lock:
            if self._writer is None:  # (a daemon: a hung database never holds up the exit)
                self._writer = threading.Thread(target=self._run, name="quotebot-gaps",
                                                daemon=True)
                self._writer.start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            if dropped:
                log.warning("an unanswered question was not recorded: %d are waiting for the "
                            "database", MAX_WAITING)
            return False
        return True

    def _write(self, scope: str, question: str, now: float | None, more: dict) -> None:
        try:
            self.storage.record_gap(scope, question, now, **more)
        except StorageError as exc:
            log.warning("an unanswered question was not recorded: %s", exc)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception:  # (one question's oddity, a lone surrogate, ends no recording)
                log.exception("an unanswered question was not recorded")
