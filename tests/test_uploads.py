"""bot.state.uploads without Discord: per-guild rate and byte caps, and nothing left behind
when the database fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import messages
from bot.config import load_settings
from bot.errors import Refusal
from bot.state import StorageError, open_storage
from bot.state.uploads import Uploads, sharded, upload_root

GUILD, OTHER, MOD = 111111111111111111, 222222222222222222, 42


@pytest.fixture
def settings(tmp_path: Path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("A sentence.\n", encoding="utf-8")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "bot.yaml").write_text(
        "collections: {seeds: {folders: [seeds], visibility: public},\n"
        f"  ops: {{folders: [seeds], visibility: [{GUILD}], dms: false}}}}\n"
        "uploads: {max_bytes: 1024, max_total_bytes: 2048, per_hour: 2}\nstate_dir: state\n",
        encoding="utf-8")
    return load_settings(tmp_path / "config")


def text(n: int) -> bytes:
    return (f"Sentence number {n} of the file." + " padding" * 90).encode()[:700]


def test_uploads_per_guild_per_hour(settings) -> None:
    now = [1000.0]
    uploads = Uploads(open_storage(settings.state_dir), clock=lambda: now[0])
    uploads.take_turn(settings, GUILD)
    uploads.take_turn(settings, GUILD)
    with pytest.raises(Refusal) as refused:
        uploads.take_turn(settings, GUILD)
    assert str(refused.value) == messages.UPLOAD_RATE.format(limit=2, minutes=60)
    uploads.take_turn(settings, OTHER)  # another guild's count is its own
    now[0] += 3601
    uploads.take_turn(settings, GUILD)


def test_a_guilds_uploads_are_capped_in_total_bytes(settings) -> None:
    uploads = Uploads(open_storage(settings.state_dir))
    target = uploads.target(settings, GUILD, None)
    for n in range(2):
        uploads.add(settings, GUILD, MOD, f"f{n}.txt", text(n), None, target)
    with pytest.raises(Refusal, match="already use 1,400 of 2,048 bytes"):
        uploads.add(settings, GUILD, MOD, "f2.txt", text(2), None, target)
    uploads.add(settings, OTHER, MOD, "f2.txt", text(2), None, uploads.target(settings, OTHER, ""))
    names = sorted(p.name for p in upload_root(settings).rglob("*.txt"))
    assert names == ["f0.txt", "f1.txt", "f2.txt"]


class RecordsFail:
    """Reads work, writing a record fails (a full disk)."""

    def __init__(self, storage) -> None:
        self.storage = storage

    def __getattr__(self, name: str):
        return getattr(self.storage, name)

    def add_upload(self, upload) -> None:
        raise StorageError("database or disk is full")


def test_an_upload_the_library_would_skip_is_refused(tmp_path: Path) -> None:
    """uploads.max_bytes may be above what the library reads (documents.max_bytes): such a
    file was 'added' and never quoted; now it is refused with the smaller limit."""
    (tmp_path / "config").mkdir()
    (tmp_path / "seeds").mkdir()
    (tmp_path / "config" / "bot.yaml").write_text(
        "collections: {seeds: {folders: [seeds], visibility: public}}\n"
        "documents: {max_bytes: 4096}\n"
        "uploads: {max_bytes: 524288}\nstate_dir: state\n", encoding="utf-8")
    settings = load_settings(tmp_path / "config")
    uploads = Uploads(open_storage(settings.state_dir))
    data = b"The pelican lighthouse keeper logged the storms. " * 200
    with pytest.raises(Refusal) as refused:
        uploads.add(settings, GUILD, MOD, "pelican.txt", data, None, f"uploads-{GUILD}")
    assert str(refused.value) == messages.UPLOAD_TOO_LARGE.format(size=len(data), limit=4096)
    assert uploads.add(settings, GUILD, MOD, "pelican.txt", data[: 49 * 80], None,
                       f"uploads-{GUILD}").sentences == 80


def test_text_that_holds_a_tag_is_text(settings) -> None:
    """Markdown with inline HTML, or a message about a tag, is added (a whole page is not:
    tests/test_uploads_e2e.py BAD)."""
    uploads = Uploads(open_storage(settings.state_dir))
    mine = uploads.target(settings, GUILD, None)
    guide = (b"# Harbour guide\n\nThe ferry leaves at noon.<br>\n"
             b'See <a href="https://x.example">the timetable</a>.\n')
    added = uploads.add(settings, GUILD, MOD, "guide.md", guide, None, mine)
    assert (added.upload.label, added.paragraphs) == ("Harbour guide", 2)  # its first heading
    tip = b"Tip: use <br> for a line break in the signage editor."
    assert uploads.add(settings, GUILD, MOD, "message-1.txt", tip, "Tip", mine).sentences == 1
    with pytest.raises(Refusal, match=r"is not plain text \(its content is HTML\)"):
        uploads.add(settings, GUILD, MOD, "page.md", b"<!-- saved -->\n<html><p>Hi</p>", None,
                    mine)


def test_no_file_is_kept_without_its_record(settings) -> None:
    uploads = Uploads(RecordsFail(open_storage(settings.state_dir)))
    with pytest.raises(StorageError):
        uploads.add(settings, GUILD, MOD, "f.txt", text(1), "F", f"uploads-{GUILD}")
    assert list(upload_root(settings).rglob("*.txt")) == []


def test_a_name_is_one_document(settings) -> None:
    uploads = Uploads(open_storage(settings.state_dir))
    assert uploads.target(settings, GUILD, "ops") == "ops"  # private to GUILD, no DMs
    with pytest.raises(Refusal, match="already in another collection here, or among"):
        uploads.add(settings, GUILD, MOD, "a.txt", text(1), None, "ops")  # seeds/a.txt
    uploads.add(settings, GUILD, MOD, "b.txt", text(1), None, "ops")
    with pytest.raises(Refusal, match="already in another collection"):
        uploads.add(settings, GUILD, MOD, "b.txt", text(2), None, f"uploads-{GUILD}")
    # Not replaced unseen, even by a file whose name becomes the same once made safe.
    mine = f"uploads-{GUILD}"
    uploads.add(settings, GUILD, MOD, "minutes march.txt", text(3), "Council minutes", mine)
    for again in ("minutes march.txt", "minutes&march.txt"):
        with pytest.raises(Refusal) as refused:
            uploads.add(settings, GUILD, MOD, again, text(4), "Choir notice", mine)
        assert str(refused.value) == messages.UPLOAD_NAME_HERE.format(
            name="minutes_march.txt", label="Council minutes")
    assert (upload_root(settings) / str(GUILD) / mine / "minutes_march.txt").read_bytes() == text(3)
    for other in ("ops", "seeds", "nowhere"):
        with pytest.raises(Refusal, match="private to this server"):
            uploads.target(settings, OTHER, other)


def test_names_in_other_scripts_stay_apart(settings) -> None:
    uploads = Uploads(open_storage(settings.state_dir))
    mine = uploads.target(settings, GUILD, None)
    refused = []
    for name in ("Отчёт.txt", "Письмо.txt", "e\u0301te\u0301.md", "été.md", "a/../..txt"):
        try:
            uploads.add(settings, GUILD, MOD, name, b"A short document.\n", None, mine)
        except Refusal as exc:
            refused.append(str(exc))
    # "été" decomposed, then composed: one name, and the second is refused
    assert refused == [messages.UPLOAD_NAME_HERE.format(name="été.md", label="été")]
    names = sorted(u.name for u in uploads.storage.uploads(GUILD))
    assert names == sorted(["Отчёт.txt", "Письмо.txt", "été.md", "document.txt"])
    assert sorted(p.name for p in (upload_root(settings) / str(GUILD) / mine).iterdir()
                  if p.name != "sources.yaml") == names


def test_a_guilds_first_upload_updates_the_saved_index_rather_than_rebuilding_it(
    settings, caplog
) -> None:
    """A guild's first upload adds a folder (its own collection) and its last removal drops
    one: each is an update of the saved index, not a new index built whole."""
    from bot.library import library_from_settings
    from bot.state.uploads import with_uploads

    first = library_from_settings(settings)
    uploads = Uploads(open_storage(settings.state_dir))
    uploads.add(settings, GUILD, MOD, "quay.txt", b"The quay bell rings at dawn.", None,
                uploads.target(settings, GUILD, None))
    caplog.clear()
    caplog.set_level("INFO")
    second = library_from_settings(with_uploads(settings), previous=first)
    assert "building the whole index" not in caplog.text
    answer = second.engine.answer("When does the quay bell ring?",
                                  collections={f"uploads-{GUILD}"})
    assert [q.text for q in answer.quotes] == ["The quay bell rings at dawn."]
    uploads.remove(settings, GUILD, MOD, "quay.txt")
    caplog.clear()
    third = library_from_settings(with_uploads(settings), previous=second)
    assert "building the whole index" not in caplog.text
    assert not third.engine.answer("When does the quay bell ring?").quotes


def test_uploads_inside_a_public_folder_stay_the_guilds_own(tmp_path: Path) -> None:
    """uploads_dir (or state_dir) on the mount that holds a public collection's folder: a
    guild's upload was read as part of that public collection too, and quoted in every guild
    and in DMs (rule 5). Those folders are never read as part of another."""
    from bot.library import library_from_settings
    from bot.state.uploads import with_uploads

    shared = tmp_path / "shared"
    (shared / "library").mkdir(parents=True)
    for n, text in enumerate(["The harbour opens at dawn.", "The ferry leaves at noon.",
                              "The museum closes on Mondays."]):
        (shared / "library" / f"{n}.txt").write_text(text + "\n")
    (tmp_path / "config").mkdir()
    for state in ("state_dir: state\n", f"state_dir: {shared}/state\n"):
        (tmp_path / "config" / "bot.yaml").write_text(
            f"collections: {{library: {{folders: [{shared}], visibility: public}}}}\n" + state
            + (f"uploads_dir: {shared}/quotebot-uploads\n" if "state_dir: state" in state
               else ""), encoding="utf-8")
        settings = load_settings(tmp_path / "config")
        uploads = Uploads(open_storage(settings.state_dir))
        uploads.add(settings, GUILD, MOD, "secret.txt", b"The launch codes are in the blue safe.",
                    None, uploads.target(settings, GUILD, None))
        engine = library_from_settings(with_uploads(settings), index_dir=tmp_path / "cache").engine
        question = "Where are the launch codes?"
        assert not engine.answer(question, collections={"library"}).quotes, state
        mine = engine.answer(question, collections={f"uploads-{GUILD}"})
        assert [q.text for q in mine.quotes] == ["The launch codes are in the blue safe."]
        uploads.remove(settings, GUILD, MOD, "secret.txt")


def test_no_uploads_while_the_collections_are_on_shard_servers(tmp_path: Path) -> None:
    """Shard servers hold only the shards built from the configured folders: an upload
    folder would be a collection no shard holds, or (added to a configured collection) make
    it match its shards no more, and every question would be refused as unavailable."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("A sentence.\n")
    folder = tmp_path / "state" / "uploads" / str(GUILD) / f"uploads-{GUILD}"
    folder.mkdir(parents=True)
    (folder / "tide.txt").write_text("The tide tables are kept in the harbour office.\n")
    (tmp_path / "config").mkdir()
    bot_yaml = ("collections: {seeds: {folders: [seeds], visibility: public%s}}\n"
                "state_dir: state\n")
    (tmp_path / "config" / "bot.yaml").write_text(bot_yaml % "")
    assert f"uploads-{GUILD}" in load_settings(tmp_path / "config").collections
    (tmp_path / "config" / "bot.yaml").write_text(bot_yaml % ", shard_servers: [127.0.0.1:7100]")
    settings = load_settings(tmp_path / "config")
    assert sorted(settings.collections) == ["seeds"]
    assert sharded(settings)


def test_two_adds_of_one_name_at_once_store_one(settings, monkeypatch) -> None:
    """Two moderators add 'minutes march.txt' and 'minutes&march.txt' (one stored name) while
    the first is still being read: both were told 'added' and the second replaced the first."""
    import threading
    import time

    import bot.state.uploads as module

    slow = module.load_folder

    def reading(*args, **kwargs):
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(module, "load_folder", reading)
    uploads = Uploads(open_storage(settings.state_dir))
    mine = uploads.target(settings, GUILD, None)
    outcome: dict[str, str] = {}

    def add(name: str, text: bytes) -> None:
        try:
            uploads.add(settings, GUILD, MOD, name, text, None, mine)
            outcome[name] = "added"
        except Refusal as exc:
            outcome[name] = str(exc)

    threads = [threading.Thread(target=add, args=(name, f"Minutes {n}.".encode()))
               for n, name in enumerate(["minutes march.txt", "minutes&march.txt"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (winner,) = [name for name, said in outcome.items() if said == "added"]
    (loser,) = [said for said in outcome.values() if said != "added"]
    assert loser.startswith("A document named minutes_march.txt is"), outcome
    assert [u.name for u in uploads.storage.uploads(GUILD)] == ["minutes_march.txt"]
    text = (upload_root(settings) / str(GUILD) / mine / "minutes_march.txt").read_bytes()
    assert text == (b"Minutes 0." if winner == "minutes march.txt" else b"Minutes 1.")


def test_adds_at_once_each_get_their_label_and_none_fails(settings, monkeypatch) -> None:
    """Each add rewrites the folder's sources.yaml: at once, one's rename took the shared
    temporary file from under another ('Could not store that (FileNotFoundError)' for an add
    that was stored), or wrote labels read before another's record."""
    import threading
    import time

    replace = Path.replace

    def slow_replace(self, target):  # the adds' writes meet, as they do under load
        if self.name.startswith(".sources.yaml"):
            time.sleep(0.05)
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", slow_replace)
    uploads = Uploads(open_storage(settings.state_dir))
    mine = uploads.target(settings, GUILD, None)
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            uploads.add(settings, GUILD, MOD, f"w{n}.txt", f"Wombat {n} sleeps.".encode(),
                        f"Wombat {n}", mine)
        except BaseException as exc:  # every failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    labels = (upload_root(settings) / str(GUILD) / mine / "sources.yaml").read_text()
    assert all(f"label: Wombat {n}" in labels for n in range(2)), labels


def test_an_add_killed_while_its_record_waits_leaves_no_unlisted_document(settings) -> None:
    """A process killed while it writes an upload's record (the database busy: here another
    connection holds SQLite's write lock) left the file in the guild's folder without a
    record: quoted there, yet missing from /quotebot documents, never removable, and its
    name refused forever as "being added right now". Now the file is in place under its
    name only once its record is written."""
    import sqlite3
    import subprocess
    import sys
    import time

    from bot.library import library_from_settings
    from bot.state.store import DB_FILE
    from bot.state.uploads import with_uploads

    mine = f"uploads-{GUILD}"
    script = f"""
import os
from pathlib import Path
from bot.config import load_settings
from bot.state import open_storage
from bot.state.uploads import Uploads
import sys
settings = load_settings(Path({str(settings.config_dir)!r}))
uploads = Uploads(open_storage(settings.state_dir))
print("ready", flush=True)
sys.stdin.readline()
uploads.add(settings, {GUILD}, {MOD}, "quay.txt", b"The quay bell rings at dawn.", None, {mine!r})
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    blocker = sqlite3.connect(settings.state_dir / DB_FILE, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        folder = upload_root(settings) / str(GUILD) / mine
        deadline = time.monotonic() + 30
        while not (folder.is_dir() and any(folder.iterdir())):  # the file is moved in...
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        time.sleep(0.3)  # ...and its record waits for the lock
    finally:
        proc.kill()
        proc.wait()
        blocker.execute("ROLLBACK")
        blocker.close()
    library = library_from_settings(with_uploads(settings))
    answer = library.engine.answer("When does the quay bell ring?", collections={mine})
    assert not answer.quotes  # no document quoted that moderators cannot see or remove
    uploads = Uploads(open_storage(settings.state_dir))
    uploads.add(settings, GUILD, MOD, "quay.txt", b"The quay bell rings at dawn.", None, mine)
    assert [u.name for u in uploads.storage.uploads(GUILD)] == ["quay.txt"]


def test_uploads_stay_quotable_in_their_guild_after_the_collection_stem_changes(
    settings, tmp_path: Path
) -> None:
    """A moderator renames `uploads: collection:`; the files added before stay in the folder
    named by the old stem. They were dropped from the library with a log line only: every
    earlier upload stopped answering in Discord. They stay the guild's own collection (never
    another guild's, never DMs), new uploads go to the new one, and both can be removed."""
    from bot.library import library_from_settings
    from bot.state.uploads import with_uploads

    uploads = Uploads(open_storage(settings.state_dir))
    uploads.add(settings, GUILD, MOD, "quay.txt", b"The quay bell rings at dawn.", None,
                uploads.target(settings, GUILD, None))
    config = tmp_path / "config" / "bot.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "per_hour: 2}", "per_hour: 2, collection: docs}"), encoding="utf-8")
    renamed = load_settings(tmp_path / "config")
    assert uploads.target(renamed, GUILD, None) == f"docs-{GUILD}"
    uploads.add(renamed, GUILD, MOD, "pier.txt", b"The pier lamp is lit at dusk.", None,
                uploads.target(renamed, GUILD, None))
    loaded = with_uploads(renamed)
    engine = library_from_settings(loaded, index_dir=tmp_path / "cache").engine
    mine = loaded.for_guild(GUILD).collections
    assert {f"uploads-{GUILD}", f"docs-{GUILD}"} <= mine
    others = loaded.for_guild(OTHER).collections | loaded.for_guild(None).collections
    assert not others & {f"uploads-{GUILD}", f"docs-{GUILD}"}
    for question, text in [("When does the quay bell ring?", "The quay bell rings at dawn."),
                           ("When is the pier lamp lit?", "The pier lamp is lit at dusk.")]:
        assert [q.text for q in engine.answer(question, collections=mine).quotes] == [text]
        assert text not in [q.text for q in engine.answer(question, collections=others).quotes]
    for name in ("quay.txt", "pier.txt"):
        uploads.remove(renamed, GUILD, MOD, name)
    assert not uploads.storage.uploads(GUILD)


def test_an_add_a_killed_process_left_is_finished_or_cleared_at_startup(settings) -> None:
    """A process killed between writing an upload's record and putting its file in place
    left a hidden '.name.pid.thread.adding' file: the document was listed by /quotebot
    documents and never quoted. One killed before the record left the file for ever. When
    the bot starts (`quotebot run`, here with Discord unreachable), the first is put in place
    with its label, the second deleted once an hour old."""
    import subprocess
    import sys
    import time

    from bot.library import library_from_settings
    from bot.state.uploads import with_uploads

    uploads = Uploads(open_storage(settings.state_dir))
    target = uploads.target(settings, GUILD, None)
    uploads.add(settings, GUILD, MOD, "quay.txt", b"The quay bell rings at dawn.", "Quay log",
                target)
    folder = upload_root(settings) / str(GUILD) / target
    # The states a kill leaves: the record written, the file not yet in place; and files
    # whose record was never written, one of an add that may still be under way.
    (folder / "quay.txt").rename(folder / ".quay.txt.4242.99.adding")
    (folder / "sources.yaml").unlink()
    for name, age in ((".pier.txt.4243.99.adding", 2 * 3600), (".mill.txt.4244.99.adding", 60)):
        (folder / name).write_text("The pier lamp is lit at dusk.")
        os.utime(folder / name, (time.time() - age, time.time() - age))
    env = {**os.environ, "DISCORD_TOKEN": "MTIz.unreachable-test-token.abc",
           "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",
           "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/"}
    proc = subprocess.run([sys.executable, "-m", "bot", "run", "--config",
                           str(settings.config_dir)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 2 and "cannot reach Discord" in proc.stderr, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        ".mill.txt.4244.99.adding", "quay.txt", "sources.yaml"]
    engine = library_from_settings(with_uploads(settings)).engine
    quote = engine.answer("When does the quay bell ring?", collections={target}).quotes[0]
    assert (quote.text, quote.label) == ("The quay bell rings at dawn.", "Quay log")
