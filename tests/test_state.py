"""The bot's database through bot.state: schema versions, restarts, two processes writing at
once, votes that keep no user id, gaps kept for a while."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from bot.state import DMS, StorageError, Upload, normalise_question, open_storage
from bot.state.migrations import MIGRATIONS
from bot.state.store import DB_FILE

WRITES = 150  # per process: enough that two writers overlap many times


def _hammer(folder: str, worker: int) -> None:
    storage = open_storage(Path(folder))
    for i in range(WRITES):
        storage.record_gap("1", "Who keeps the key?")
        storage.vote(i, worker, [("c", f"doc{worker}.txt")])


def test_schema_is_versioned_and_survives_a_restart(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
    assert storage.schema_version() == len(MIGRATIONS)
    storage.add_upload(Upload(7, "uploads-7", "a.txt", "A", "", 10, 99, 1000.0))
    storage.record_gap("7", "Where is the ledger?")
    again = open_storage(tmp_path)  # a restart: migrations are not applied twice
    assert again.schema_version() == len(MIGRATIONS)
    assert [u.name for u in again.uploads(7)] == ["a.txt"]
    assert [g.question for g in again.gaps("7", 30)] == ["where is the ledger"]
    db = sqlite3.connect(tmp_path / DB_FILE)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = db.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), w)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    storage = open_storage(tmp_path)
    (gap,) = storage.gaps("1", 30)
    assert gap.asked == 2 * WRITES  # no lost update
    counts = storage.votes([("c", "doc1.txt"), ("c", "doc2.txt")])
    assert counts == {("c", "doc1.txt"): WRITES, ("c", "doc2.txt"): WRITES}


def test_one_vote_per_member_per_answer_and_no_user_id_stored(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
    user = 123456789012345678
    docs = [("c", "a.txt"), ("c", "b.txt"), ("c", "a.txt")]
    assert storage.vote(555, user, docs)
    assert not storage.vote(555, user, docs)
    assert storage.vote(555, user + 1, docs[:1])
    assert storage.vote(556, user, docs[:1])
    assert storage.votes([("c", "a.txt"), ("c", "b.txt")]) == {
        ("c", "a.txt"): 3, ("c", "b.txt"): 1}
    raw = b"".join(p.read_bytes() for p in tmp_path.glob(f"{DB_FILE}*"))  # with the WAL
    assert raw
    assert str(user).encode() not in raw and user.to_bytes(8, "big") not in raw


def test_gaps_count_normalised_questions_per_scope_and_expire(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
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


def test_an_unusable_folder_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file, not a folder")
    with pytest.raises(StorageError):
        open_storage(tmp_path / "state")
