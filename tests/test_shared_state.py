"""Several bot processes sharing state (issue #17), without Discord: two Library/Asker pairs, as
on two machines, over one real PostgreSQL database and one uploads folder. What one adds or
removes reaches the other within a poll interval; a database that goes away makes calm
failures, never shows its password, and serves again when it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e.harness import Scene
from e2e.talk import slash_ask

from bot.app import load_from_disk
from bot.cogs.asker import Asker, Where
from bot.cogs.state import Snapshot, State
from bot.cogs.watch import UploadsWatch, records_of
from bot.config import Settings, load_settings
from bot.library import library_from_settings
from bot.state import DATABASE_URL_ENV, StorageError, open_storage
from bot.state.uploads import Uploads

GUILD, MOD, MEMBER = 111111111111111111, 42, 43
POLL = 0.3  # seconds
# B rebuilds its library this slowly, as a large one would: a removal must be blocked at the
# poll, not only once the rebuild is done.
SLOW_RELOAD = 2.5
TIDES = b"The tide tables are kept in the lighthouse cellar.\n"
QUESTION = "Where are the tide tables kept?"
HERE = Where(GUILD, MEMBER, (), False)
SEEDS = [  # several documents: BM25 gives a term found in half of them no weight
    "The harbour opens at dawn.", "The ferry leaves at noon.", "The museum closes on Mondays.",
    "The bakery sells rye bread.", "The council meets in the town hall.",
]


@dataclass
class Machine:
    """One bot process: its own config folder, state_dir and library; the database and the
    uploads folder are shared."""

    state: State
    asker: Asker
    uploads: Uploads
    watch: UploadsWatch

    def quoted(self) -> list[str]:
        asked = self.asker.answer(QUESTION, HERE).asked
        return [] if asked is None else [q.document for q in asked.quotes]


def slow_load(settings: Settings) -> Snapshot:
    time.sleep(SLOW_RELOAD)
    return load_from_disk(settings)


def machine(root: Path, shared: Path, url: str, loader=load_from_disk) -> Machine:
    (root / "seeds").mkdir(parents=True)
    for n, text in enumerate(SEEDS):
        (root / "seeds" / f"s{n}.txt").write_text(text + "\n", encoding="utf-8")
    (root / "config").mkdir()
    (root / "config" / "bot.yaml").write_text(
        "collections: {seeds: {folders: [seeds], visibility: public}}\n"
        f"state_dir: state\nuploads_dir: {shared}\n", encoding="utf-8")
    storage = open_storage(root / "state", {DATABASE_URL_ENV: url})
    seen = records_of(storage.uploads())  # as `quotebot run` does, before the library loads
    settings = load_settings(root / "config")
    state = State(settings, library_from_settings(settings), loader)
    return Machine(state, Asker(state, storage), Uploads(storage),
                   UploadsWatch(state, storage, seen))


async def until(condition, seconds: float) -> float:
    """How long condition took to hold; fails after seconds."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_an_add_and_a_remove_reach_the_other_process(tmp_path: Path, pg_url: str) -> None:
    shared = tmp_path / "shared-uploads"
    a = machine(tmp_path / "a", shared, pg_url)
    b = machine(tmp_path / "b", shared, pg_url, slow_load)
    polling = asyncio.create_task(b.watch.poll(POLL))
    try:
        settings = a.state.now.settings
        a.uploads.add(settings, GUILD, MOD, "tides.txt", TIDES, "Tides",
                      a.uploads.target(settings, GUILD, None))
        await a.state.reload()  # what the moderator's own process does (bot/cogs/uploads.py)
        assert a.quoted() == ["tides.txt"]
        await until(lambda: b.quoted() == ["tides.txt"], 30)  # B read the shared folder

        a.uploads.remove(settings, GUILD, MOD, "tides.txt")
        a.state.removed.add((f"uploads-{GUILD}", "tides.txt"))
        assert a.quoted() == []
        # B may quote it until its next poll, never after: one interval and the time a
        # poll takes (a query), with room for a loaded machine; less than B's rebuild.
        await until(lambda: b.quoted() == [], POLL + 1.5)
        documents = lambda: {d.rel for d in b.state.now.library.engine.sources(None)}  # noqa: E731
        await until(lambda: "tides.txt" not in documents(), 30)  # B's rebuild is done
        assert b.quoted() == [] and "s0.txt" in documents()
    finally:
        polling.cancel()


async def test_an_unreachable_database_fails_calmly_and_service_resumes(
    tmp_path: Path, pg_server, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    m = machine(tmp_path / "a", tmp_path / "shared", pg_url)
    settings = m.state.now.settings
    target = m.uploads.target(settings, GUILD, None)
    m.uploads.add(settings, GUILD, MOD, "tides.txt", TIDES, "Tides", target)
    await m.state.reload()
    pg_server.stop()
    try:
        caplog.set_level(logging.WARNING)
        # Members' questions are still answered; the gap that was not recorded is logged.
        assert m.quoted() == ["tides.txt"]
        reply = m.asker.answer("Who painted the submarine purple?", HERE)
        assert reply.pages and reply.asked is None
        assert "an unanswered question was not recorded" in caplog.text
        assert not await m.watch.check()  # logged, the library serves on
        # A moderator's removal fails as a StorageError (the bot replies with it), file kept.
        with pytest.raises(StorageError) as failed:
            m.uploads.remove(settings, GUILD, MOD, "tides.txt")
        assert list((tmp_path / "shared").rglob("tides.txt"))
        with pytest.raises(StorageError) as opening:
            open_storage(tmp_path, {DATABASE_URL_ENV: pg_url})
        for text in (str(failed.value), str(opening.value), caplog.text):
            assert "127.0.0.1" in text and pg_server.password not in text
        assert "refused" in str(failed.value).lower()
    finally:
        pg_server.start()
    m.uploads.remove(settings, GUILD, MOD, "tides.txt")  # the same storage object serves again
    assert m.asker.storage.uploads(GUILD) == []
    assert not list((tmp_path / "shared").rglob("tides.txt"))


def test_a_wrong_password_or_a_bad_url_is_reported_without_the_secret(
    tmp_path: Path, pg_server
) -> None:
    wrong = pg_server.url("postgres").replace(pg_server.password, "not-the-pw-1234")
    kv = f"host=127.0.0.1 port={pg_server.port} user=quotebot password=kv-secret-99 dbname=x"
    for url, secret in ((wrong, "not-the-pw-1234"), (kv, "kv-secret-99")):
        with pytest.raises(StorageError) as failed:
            open_storage(tmp_path, {DATABASE_URL_ENV: url})
        assert secret not in str(failed.value) and "***" in str(failed.value)
        assert "127.0.0.1" in str(failed.value)  # where it went, for the operator
    # URLs libpq cannot read: its message quotes the token it choked on, or reads part of
    # the password as the host.
    for url, secrets in [("password=bad-secret-7 host", ["bad-secret-7"]),
                         ("postgresql://quotebot:Sup3r%zzSecret@127.0.0.1:1/db", ["Sup3r"]),
                         ("host=127.0.0.1 password=my secretword dbname=x", ["secretword"]),
                         ("postgresql://quotebot:p@ssword9@127.0.0.1:1/db", ["ssword9"])]:
        with pytest.raises(StorageError) as failed:
            open_storage(tmp_path, {DATABASE_URL_ENV: url})
        assert "libpq cannot read it" in str(failed.value), url
        assert not any(s in str(failed.value) for s in secrets), str(failed.value)


@contextlib.asynccontextmanager
async def bot_with_locked_tables(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, seconds: float,
    before: Callable[[Scene], Awaitable[Any]] | None = None,
) -> AsyncIterator[tuple[Scene, Any]]:
    """The bot over the fake Discord with PostgreSQL (statements time out after seconds),
    and another session holding every table locked, as a hung database does: each call
    waits without end. before(scene) runs first, with the tables free; the lock is let go
    on leaving."""
    import psycopg
    from e2e.harness import close_scene, open_scene, start_bot

    from bot.state import postgres

    monkeypatch.setenv(DATABASE_URL_ENV, pg_url)
    monkeypatch.setattr(postgres, "STATEMENT_SECONDS", seconds, raising=False)
    scene = await open_scene(tmp_path)
    try:
        await start_bot(scene)
        ready = await before(scene) if before else None
        with psycopg.connect(pg_url) as locker:
            locker.execute("LOCK TABLE voters, votes, gaps, uploads IN ACCESS EXCLUSIVE MODE")
            yield scene, ready
            locker.rollback()
    finally:
        await close_scene(scene)


async def test_a_hung_database_holds_up_no_answer(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members' "Not helpful" clicks each wait on a hung database; a question asked
    meanwhile is still answered at once (the clicks' threads held every worker thread, so no
    answer came until the lock was released), and the clicks are told that storage failed
    once the statement times out."""
    from e2e.talk import check, replies

    from bot import messages

    async def asked(scene: Scene) -> Any:
        return (await slash_ask(scene, scene.g1, scene.general, scene.eve))[1]

    async with bot_with_locked_tables(tmp_path, pg_url, monkeypatch, 3, asked) as (scene, answer):
        server = scene.server
        members = [server.add_user(f"m{n}") for n in range(12)]
        for user in members:
            server.add_member(scene.g1, user)
        clicks = [await server.click(answer[-1], "qb:bad", user) for user in members]
        await asyncio.sleep(0.5)
        started = time.monotonic()
        _, again = await slash_ask(scene, scene.g1, scene.general, scene.alice)
        check(scene, again)
        assert time.monotonic() - started < 3
        for click in clicks:  # each told, once the statement times out
            (reply,) = await replies(scene, click)
            assert reply.ephemeral and reply.content == messages.FEEDBACK_FAILED


async def test_a_listing_the_database_cannot_give_says_it_could_not_read(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/quotebot gaps and /quotebot documents while the database hangs: the moderator was
    told "Could not store that ... (the disk may be full)", for a listing that stores
    nothing. They are told the records could not be read, and that nothing changed."""
    from e2e.talk import replies

    async def listing(scene: Scene, name: str) -> str:
        inter = await scene.server.slash(scene.g1, scene.general, scene.bob, name)
        return "\n".join(r.content for r in await replies(scene, inter))

    async with bot_with_locked_tables(tmp_path, pg_url, monkeypatch, 2) as (scene, _):
        for name in ("quotebot gaps", "quotebot documents"):
            text = await listing(scene, name)
            assert text.startswith("Could not read the records"), (name, text)
            assert "store" not in text and "disk" not in text, (name, text)
    # (The scene is closed: a new one on the same database lists calmly again.)
    async with bot_with_locked_tables(tmp_path / "again", pg_url, monkeypatch, 2,
                                      lambda scene: listing(scene, "quotebot gaps")) as (_, text):
        assert "Could not" not in text
