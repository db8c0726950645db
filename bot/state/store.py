"""Storage for uploads' records, gaps and votes. SQLite by default: one file in WAL mode, so
several bot processes on one machine can share it. PostgreSQL (bot/state/postgres.py) when
DATABASE_URL_ENV is set, for processes on several machines. Both run the same SQL and
migrations, every write one transaction. The calls block: the bot runs them in a worker
thread."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.state.migrations import MIGRATIONS

log = logging.getLogger(__name__)

DB_FILE = "quotebot.sqlite3"
# A secret (it holds the password): read from the environment only, never shown unredacted.
DATABASE_URL_ENV = "QUOTEBOT_DATABASE_URL"
BUSY_SECONDS = 10.0  # how long a writer waits for another process's transaction
DMS = "dms"  # the gaps scope of direct messages
MAX_GAP_CHARS = 300  # a recorded question is cut to this many characters
FORGET_EVERY_SECONDS = 3600.0  # a scope's gaps past keep_days are dropped this often at most
_SPACE = re.compile(r"\s+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


class StorageError(Exception):
    """The database could not be read or written (full disk, locked too long, damaged,
    unreachable). str() never holds a password."""


@dataclass(frozen=True)
class Upload:
    guild_id: int
    collection: str
    name: str  # the file name in the guild's upload folder
    label: str
    source: str
    bytes: int
    added_by: int  # the moderator's id: uploads are moderators' acts, logged with who did them
    added_at: float


@dataclass(frozen=True)
class Gap:
    question: str
    asked: int
    first_asked: float
    last_asked: float


class Storage(Protocol):
    def add_upload(self, upload: Upload) -> None: ...
    def remove_upload(self, guild_id: int, name: str) -> Upload | None: ...
    def uploads(self, guild_id: int | None = None) -> list[Upload]: ...
    def record_gap(self, scope: str, question: str, now: float | None = None,
                   keep_days: int | None = None) -> None: ...
    def gaps(self, scope: str, keep_days: int, now: float | None = None) -> list[Gap]: ...
    def vote(self, answer_id: int, user_id: int, documents: Iterable[tuple[str, str]]) -> bool: ...
    def votes(self, documents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]: ...


def normalise_question(text: str) -> str:
    """One spelling per question: NFKC, case-folded, spaces collapsed, edge punctuation off."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return _EDGE.sub("", text)[:MAX_GAP_CHARS]


def open_storage(folder: Path, env: Mapping[str, str] | None = None) -> Storage:
    """PostgreSQL when DATABASE_URL_ENV is set in the environment (processes on several
    machines share it), else the SQLite file in folder (processes on this machine share it)."""
    url = (os.environ if env is None else env).get(DATABASE_URL_ENV, "").strip()
    if url:
        from bot.state.postgres import PostgresStorage  # late: psycopg loads only when used

        return PostgresStorage(url)
    return SqliteStorage(folder / DB_FILE)


class SqlStorage:
    """The operations, in SQL that SQLite and PostgreSQL both run (placeholders written `?`).
    A subclass supplies the connections: `_write()` (one transaction), `_read()` and
    `_lock_schema()`. Every write that several processes may race on is one statement or is
    guarded by a unique key, so no read-then-write can lose an update."""

    def _write(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _lock_schema(self, db: Any) -> None:
        """Make migrating processes wait for each other inside the transaction."""

    def _open(self) -> None:
        self._migrate()
        self._salt = self._meta_salt()

    def schema_version(self) -> int:
        return self._read("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0]

    def _migrate(self) -> None:
        with self._write() as db:
            self._lock_schema(db)
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for version, steps in enumerate(MIGRATIONS, start=1):
            with self._write() as db:
                self._lock_schema(db)
                # Checked inside the lock: another process may have just applied it.
                done = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                if done.fetchone()[0] >= version:
                    continue
                for sql in steps:
                    db.execute(sql)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                log.info("database %s: schema version %d", self, version)

    def _meta_salt(self) -> str:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('vote_salt', ?) ON CONFLICT DO NOTHING",
                (secrets.token_hex(16),),
            )
            return db.execute("SELECT value FROM meta WHERE key = 'vote_salt'").fetchone()[0]

    # --- uploads ------------------------------------------------------------------------------

    def add_upload(self, upload: Upload) -> None:
        u = upload
        with self._write() as db:
            db.execute(
                "INSERT INTO uploads (guild_id, collection, name, label, source, bytes, added_by,"
                " added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, collection,"
                " name) DO UPDATE SET label = excluded.label, source = excluded.source,"
                " bytes = excluded.bytes, added_by = excluded.added_by,"
                " added_at = excluded.added_at",
                (u.guild_id, u.collection, u.name, u.label, u.source, u.bytes, u.added_by,
                 u.added_at),
            )

    def remove_upload(self, guild_id: int, name: str) -> Upload | None:
        # One statement: of two processes removing the same document, one gets it.
        with self._write() as db:
            row = db.execute(
                f"DELETE FROM uploads WHERE guild_id = ? AND name = ? RETURNING {_UPLOAD_COLUMNS}",
                (guild_id, name),
            ).fetchone()
        return None if row is None else Upload(*row)

    def uploads(self, guild_id: int | None = None) -> list[Upload]:
        where, args = ("WHERE guild_id = ?", (guild_id,)) if guild_id is not None else ("", ())
        rows = self._read(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads {where} ORDER BY added_at, name", args
        )
        return [Upload(*row) for row in rows]

    # --- gaps ---------------------------------------------------------------------------------

    def record_gap(self, scope: str, question: str, now: float | None = None,
                   keep_days: int | None = None) -> None:
        """Count an unanswered question; with keep_days, the scope's gaps not asked for that
        long are dropped too (at most once in FORGET_EVERY_SECONDS a scope): otherwise only
        listing them drops them, and a scope nobody lists grows for good."""
        text = normalise_question(question)
        if not text:
            return
        now = time.time() if now is None else now
        forgotten = self.__dict__.setdefault("_forgotten", {})  # scope -> when last dropped
        forget = keep_days is not None and (
            now - forgotten.get(scope, float("-inf")) >= FORGET_EVERY_SECONDS)
        with self._write() as db:
            db.execute(
                "INSERT INTO gaps (scope, question, asked, first_asked, last_asked)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (scope, question) DO UPDATE SET"
                " asked = gaps.asked + 1, last_asked = excluded.last_asked",
                (scope, text, now, now),
            )
            if forget:
                db.execute("DELETE FROM gaps WHERE scope = ? AND last_asked < ?",
                           (scope, now - keep_days * 86400))
        if forget:
            forgotten[scope] = now

    def gaps(self, scope: str, keep_days: int, now: float | None = None) -> list[Gap]:
        """The scope's questions asked within keep_days, most asked first; its older ones are
        deleted on the way (another scope's are kept: its own keep_days may be longer)."""
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        with self._write() as db:
            db.execute("DELETE FROM gaps WHERE scope = ? AND last_asked < ?", (scope, cutoff))
            rows = db.execute(
                "SELECT question, asked, first_asked, last_asked FROM gaps WHERE scope = ?"
                " ORDER BY asked DESC, last_asked DESC",
                (scope,),
            ).fetchall()
        return [Gap(*row) for row in rows]

    # --- votes --------------------------------------------------------------------------------

    def vote(self, answer_id: int, user_id: int, documents: Iterable[tuple[str, str]]) -> bool:
        """Count one "Not helpful" for each document an answer quoted; False if this member
        already voted on this answer."""
        key = hashlib.sha256(f"{self._salt}:{answer_id}:{user_id}".encode()).hexdigest()
        now = time.time()
        with self._write() as db:
            # The voters key decides: a second click, even racing from another process,
            # waits for the first transaction and then inserts nothing.
            if not db.execute(
                "INSERT INTO voters (vote) VALUES (?) ON CONFLICT DO NOTHING", (key,)
            ).rowcount:
                return False
            for collection, document in dict.fromkeys(documents):
                db.execute(
                    "INSERT INTO votes (vote, collection, document, at) VALUES (?, ?, ?, ?)",
                    (key, collection, document, now),
                )
        return True

    def votes(self, documents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        wanted = set(documents)
        rows = self._read(
            "SELECT collection, document, COUNT(*) FROM votes GROUP BY collection, document"
        )
        return {(c, d): n for c, d, n in rows if (c, d) in wanted}


class SqliteStorage(SqlStorage):
    """One file in WAL mode: writers wait up to BUSY_SECONDS for each other."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
            self._open()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open {path}: {exc}") from exc

    def __str__(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: calls come from worker threads, and sqlite3 connections
        # are not shared between threads.
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front, so two
        processes never both read-then-write and deadlock."""
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        finally:
            db.close()

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            db = self._connect()
            try:
                return db.execute(sql, args).fetchall()
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

_UPLOAD_COLUMNS = "guild_id, collection, name, label, source, bytes, added_by, added_at"
