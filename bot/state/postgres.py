"""PostgreSQL storage, for bot processes on several machines sharing one database: the schema,
migrations and SQL of bot/state/store.py. A connection per call, so a database that went away
serves again at the first call after it is back (no pool to heal), and CONNECT_SECONDS bounds
the wait while it is down. The URL holds a password: errors and logs show it redacted."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bot.state.store import SqlStorage, StorageError

log = logging.getLogger(__name__)

CONNECT_SECONDS = 5  # a call waits this long for a database that does not answer
# ...and this long for a statement (a lock held elsewhere, a server that stopped answering):
# without it a call waited without end, holding a worker thread.
STATEMENT_SECONDS = 10
SCHEMA_LOCK = 0x51_75_6F_74  # advisory lock key: one process migrates at a time
HIDDEN = "***"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PARAM_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|[^&\s]+)", re.IGNORECASE)
# A URL's user, password and host: up to the path, query or fragment.
_AUTHORITY = re.compile(r"postgres(?:ql)?://([^/?#]*)", re.IGNORECASE)
UNUSABLE = ("the database URL is not usable: libpq cannot read it; write it as "
            "postgresql://user:password@host:5432/dbname, special characters in the password "
            "percent-encoded, or as key=value pairs with a quoted password")


def redact(text: str, password: str | None = None) -> str:
    """text with any database password in it (in a URL, a key=value, or as given) hidden."""
    if password:
        text = text.replace(password, HIDDEN)
    return _PARAM_PASSWORD.sub(rf"\g<1>{HIDDEN}", _URL_PASSWORD.sub(rf"\g<1>{HIDDEN}@", text))


class _Connection:
    """A psycopg connection that takes the `?` placeholders the shared SQL is written with
    (the SQL holds no literal `?` or `%`)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, args: tuple = ()) -> psycopg.Cursor:
        return self.conn.execute(sql.replace("?", "%s"), args)


class PostgresStorage(SqlStorage):
    def __init__(self, url: str) -> None:
        self._url = url
        # libpq's own message on a URL it cannot parse quotes the token it choked on, which
        # may be the password ('invalid percent-encoded token: "Sup3r%zz..."'): not shown.
        if _AUTHORITY.match(url) and _AUTHORITY.match(url)[1].count("@") > 1:
            raise StorageError(UNUSABLE + " (an '@' in the user name or password must be "
                               "written %40)")
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error:
            raise StorageError(UNUSABLE) from None
        self._password = params.get("password")
        self._options = str(params.get("options") or "")  # the URL's own, kept
        self._open()

    def __str__(self) -> str:
        return redact(self._url, self._password)

    def _fail(self, exc: psycopg.Error) -> StorageError:
        # `from None` at the raise: psycopg's own message stays out of logged tracebacks.
        cause = " ".join(str(exc).split()) or type(exc).__name__
        return StorageError(redact(f"PostgreSQL {self}: {cause}", self._password))

    @contextlib.contextmanager
    def _write(self) -> Iterator[_Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            with psycopg.connect(self._url, connect_timeout=CONNECT_SECONDS,
                                 options=self._session_options()) as conn:
                yield _Connection(conn)
        except psycopg.Error as exc:
            raise self._fail(exc) from None

    def _session_options(self) -> str:
        timeout = f"-c statement_timeout={int(STATEMENT_SECONDS * 1000)}"
        return f"{self._options} {timeout}".strip()

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._write() as db:
            return db.execute(sql, args).fetchall()

    def _lock_schema(self, db: Any) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
