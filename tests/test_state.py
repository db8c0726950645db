"""The bot's database through bot.state, on both backends (SQLite, and a real PostgreSQL server
when QUOTEBOT_DATABASE_URL is set): schema versions, restarts, two processes writing at once,
votes that keep no user id, gaps kept for a while."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import psycopg
import pytest

from bot.state import DATABASE_URL_ENV, DMS, Storage, StorageError, Upload, normalise_question
from bot.state import open_storage as _open_storage
from bot.state.migrations import MIGRATIONS
from bot.state.store import DB_FILE

WRITES = 80  # per process and backend: enough that two writers overlap many times


class Backend:
    """Opens the same database each call, as a restarted process would."""

    def __init__(self, name: str, folder: Path, env: Mapping[str, str]) -> None:
        self.name, self.folder, self.env = name, folder, dict(env)

    def __call__(self) -> Storage:
        return _open_storage(self.folder, self.env)

    def rows(self, sql: str) -> list[tuple]:
        """Raw rows, read beside the storage."""
        if self.name == "sqlite":
            return sqlite3.connect(self.folder / DB_FILE).execute(sql).fetchall()
        with psycopg.connect(self.env[DATABASE_URL_ENV]) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path, {})
    url = request.getfixturevalue("pg_url")
    return Backend("postgresql", tmp_path, {DATABASE_URL_ENV: url})


def _hammer(folder: str, env: dict[str, str], worker: int) -> None:
    storage = _open_storage(Path(folder), env)
    for i in range(WRITES):
        storage.record_gap("1", "Who keeps the key?")
        storage.vote(i, worker, [("c", f"doc{worker}.txt")])
        storage.vote(i, 0, [("c", "shared.txt")])  # the same member on the same answer


def test_schema_is_versioned_and_survives_a_restart(backend: Backend) -> None:
    storage = backend()
    assert storage.schema_version() == len(MIGRATIONS)
    storage.add_upload(Upload(7, "uploads-7", "a.txt", "A", "", 10, 99, 1000.0))
    storage.record_gap("7", "Where is the ledger?")
    again = backend()  # a restart: migrations are not applied twice
    assert again.schema_version() == len(MIGRATIONS)
    assert [u.name for u in again.uploads(7)] == ["a.txt"]
    assert [g.question for g in again.gaps("7", 30)] == ["where is the ledger"]
    versions = backend.rows("SELECT version FROM schema_version ORDER BY version")
    assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]
    if backend.name == "sqlite":
        assert backend.rows("PRAGMA journal_mode") == [("wal",)]


def test_uploads_records_replace_and_remove(backend: Backend) -> None:
    storage = backend()
    storage.add_upload(Upload(7, "uploads-7", "a.txt", "A", "", 10, 99, 1000.0))
    storage.add_upload(Upload(7, "uploads-7", "a.txt", "A2", "src", 12, 98, 1001.0))
    storage.add_upload(Upload(8, "uploads-8", "a.txt", "B", "", 5, 97, 1002.0))
    assert [(u.label, u.bytes) for u in storage.uploads(7)] == [("A2", 12)]
    assert len(storage.uploads()) == 2
    gone = storage.remove_upload(7, "a.txt")
    assert gone == Upload(7, "uploads-7", "a.txt", "A2", "src", 12, 98, 1001.0)
    assert storage.remove_upload(7, "a.txt") is None
    assert [u.guild_id for u in backend().uploads()] == [8]


def test_two_processes_write_at_once(backend: Backend) -> None:
    backend()  # migrated once, so the workers race on writes (startup races: the next test)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(backend.folder), backend.env, w))
             for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    storage = backend()
    (gap,) = storage.gaps("1", 30)
    assert gap.asked == 2 * WRITES  # no lost update
    counts = storage.votes([("c", "doc1.txt"), ("c", "doc2.txt"), ("c", "shared.txt")])
    assert counts == {("c", "doc1.txt"): WRITES, ("c", "doc2.txt"): WRITES,
                      ("c", "shared.txt"): WRITES}  # member 0 counted once per answer


def test_processes_starting_together_migrate_once(backend: Backend) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_storage, args=(backend.folder, backend.env))
             for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    versions = backend.rows("SELECT version FROM schema_version ORDER BY version")
    assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]


def test_one_vote_per_member_per_answer_and_no_user_id_stored(backend: Backend) -> None:
    storage = backend()
    user = 123456789012345678
    docs = [("c", "a.txt"), ("c", "b.txt"), ("c", "a.txt")]
    assert storage.vote(555, user, docs)
    assert not storage.vote(555, user, docs)
    assert not backend().vote(555, user, docs)  # after a restart too
    assert storage.vote(555, user + 1, docs[:1])
    assert storage.vote(556, user, docs[:1])
    assert storage.votes([("c", "a.txt"), ("c", "b.txt")]) == {
        ("c", "a.txt"): 3, ("c", "b.txt"): 1}
    stored = repr(backend.rows("SELECT * FROM votes") + backend.rows("SELECT * FROM voters"))
    assert "c" in stored and str(user) not in stored and str(user + 1) not in stored
    if backend.name == "sqlite":
        raw = b"".join(p.read_bytes() for p in backend.folder.glob(f"{DB_FILE}*"))  # + WAL
        assert raw
        assert str(user).encode() not in raw and user.to_bytes(8, "big") not in raw


def test_gaps_count_normalised_questions_per_scope_and_expire(backend: Backend) -> None:
    storage = backend()
    day = 86400.0
    storage.record_gap("1", "  Who holds the KEY? ", now=10 * day)
    storage.record_gap("1", "who holds the key", now=12 * day)
    storage.record_gap("1", "Old question", now=1 * day)
    storage.record_gap(DMS, "who holds the key", now=12 * day)
    (top, old) = storage.gaps("1", 30, now=13 * day)
    assert (top.question, top.asked, top.first_asked, top.last_asked) == (
        "who holds the key", 2, 10 * day, 12 * day)
    assert old.question == "old question"
    assert [g.question for g in storage.gaps("1", 5, now=13 * day)] == ["who holds the key"]
    assert [g.asked for g in storage.gaps(DMS, 30, now=13 * day)] == [1]
    assert normalise_question("Ｗho？") == "who"
    # A guild keeping 7 days lists its gaps: another guild's older ones are its own to keep.
    storage.record_gap("2", "where is the harbour", now=1 * day)
    assert storage.gaps("1", 7, now=30 * day) == []
    assert [g.question for g in storage.gaps("2", 365, now=30 * day)] == ["where is the harbour"]


def test_an_unusable_folder_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file, not a folder")
    with pytest.raises(StorageError):
        _open_storage(tmp_path / "state", {})


class SlowGaps:
    """A database that takes its time over every gap it records (host gone quiet)."""

    def __init__(self, storage: Storage, seconds: float) -> None:
        self.storage, self.seconds = storage, seconds

    def record_gap(self, scope: str, question: str, now: float | None = None) -> None:
        import time

        time.sleep(self.seconds)
        question.encode("utf-8")  # as a database driver does: UnicodeEncodeError
        self.storage.record_gap(scope, question, now)

    def gaps(self, scope: str, keep_days: int, now: float | None = None):
        return self.storage.gaps(scope, keep_days, now)


def test_a_slow_database_holds_up_no_answer_and_gaps_list_what_was_asked(
    tmp_path: Path,
) -> None:
    """Recording an unanswered question returns at once (the bot answers meanwhile); listing
    the gaps waits for those recorded before it."""
    import time

    from bot.state.queued import QueuedGaps

    queued = QueuedGaps(SlowGaps(_open_storage(tmp_path, {}), 0.05))
    started = time.perf_counter()
    for n in range(20):
        queued.record_gap("1", f"question number {n}")
    assert time.perf_counter() - started < 0.5  # not 20 x 0.05 s
    assert sorted(g.question for g in queued.gaps("1", 30)) == sorted(
        f"question number {n}" for n in range(20))
    # A question the database cannot take with another error than StorageError (a lone
    # surrogate: UnicodeEncodeError) is not recorded, and the next ones still are.
    queued.storage.seconds = 0.0
    queued.record_gap("2", "\ud800")
    queued.record_gap("2", "where is the pier")
    assert [g.question for g in queued.gaps("2", 30)] == ["where is the pier"]
