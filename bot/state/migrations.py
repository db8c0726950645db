"""The database schema as ordered steps. A database records the last step applied in
`schema_version`; opening it applies the later ones, in one transaction each. Never edit a
step that has shipped: add the next one. SQLite and PostgreSQL run the same steps, so the SQL
stays plain."""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: uploads, gaps, votes
    (
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE uploads (
            guild_id BIGINT NOT NULL,
            collection TEXT NOT NULL,
            name TEXT NOT NULL,
            label TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            bytes BIGINT NOT NULL,
            added_by BIGINT NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (guild_id, collection, name))""",
        # scope: a guild id as text, or 'dms'; never a user id
        """CREATE TABLE gaps (
            scope TEXT NOT NULL,
            question TEXT NOT NULL,
            asked BIGINT NOT NULL,
            first_asked DOUBLE PRECISION NOT NULL,
            last_asked DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (scope, question))""",
        # vote: a salted hash of (answer id, user id), so one member votes once per answer
        # and the member cannot be recovered from the database
        """CREATE TABLE votes (
            vote TEXT NOT NULL,
            collection TEXT NOT NULL,
            document TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (vote, collection, document))""",
        """CREATE INDEX votes_document ON votes (collection, document)""",
    ),
    # 2: one row per (answer, member) vote, so two clicks racing from two processes (or two
    # machines) count once: the second insert finds the key and does nothing
    (
        """CREATE TABLE voters (vote TEXT PRIMARY KEY)""",
        """INSERT INTO voters (vote) SELECT DISTINCT vote FROM votes""",
    ),
)
