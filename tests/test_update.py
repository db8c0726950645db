"""Incremental updates of a saved index: documents added, changed and removed are live at the
next load or reload without a full rebuild, removed ones are never quoted, and a damaged
update is rebuilt from its documents."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from docmaker import make_pdf
from killable import PAUSE_AT_THIRD_WRITE
from verbatim import document_text

from bot.core import checkedfiles, store
from bot.core.extract.model import Limits
from bot.core.filedigests import FileDigests
from bot.core.index import BM25Index
from bot.core.model import RetrievalSettings
from bot.library import Library, build_library

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
WORDS = ("harbour ferry lantern meadow granite orchard canal bridge tower market quarry "
         "glacier valley river summit forest village castle chapel island mill barley "
         "copper silver tin wool salt timber").split()
QUESTIONS = ("Who announced the withdrawal from Siversk?", "harbour ferry lantern",
             "copper silver mill", "granite quarry tower", "Russian forces Donetsk region",
             "zephyrine quokkas", "barley orchard village")
NEW = "added.txt"
NEW_TEXT = ("The zephyrine quokkas crossed the harbour at dawn.\n\n"
            "Nobody in the village had seen quokkas before.\n")


def _write_docs(folder: Path, count: int = 30) -> None:
    """Seeds plus `count` small documents of common words: one document is a small share
    of the passages, as in a real library (so an update stays an update)."""
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for path in SEEDS.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    for n in range(count):
        paragraphs = []
        for _ in range(3):
            sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9)))
                         for _ in range(3)]
            paragraphs.append(" ".join(s.capitalize() + "." for s in sentences))
        (folder / f"doc{n:02d}.txt").write_text("\n\n".join(paragraphs) + "\n")
    # Written an hour ago, as a library's files are: a start trusts them from their stat
    # (bot/core/filedigests.py) rather than hashing them again.
    for path in folder.iterdir():
        an_hour_ago = path.stat().st_mtime_ns - 3600 * 10**9
        os.utime(path, ns=(an_hour_ago, an_hour_ago))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    _write_docs(folder)
    return folder


@pytest.fixture(params=[True, False], ids=["reload", "next-load"])
def reload(request: pytest.FixtureRequest) -> bool:
    """Whether the update is the bot's reload (from the live library) or a new process's
    (from the saved index)."""
    return request.param


def build(folder: Path, cache: Path, previous: Library | None = None, **kw) -> Library:
    return build_library([("docs", folder)], aliases={}, index_dir=cache, previous=previous, **kw)


def places(library: Library) -> list[list[tuple[str, int, int]]]:
    return [[(q.document, q.start, q.end) for q in library.engine.answer(q, top_k=5).quotes]
            for q in QUESTIONS]


def assert_verbatim(library: Library, folder: Path) -> None:
    for question in QUESTIONS:
        for q in library.engine.answer(question, top_k=5).quotes:
            text = document_text(folder / q.document)
            assert text[q.start : q.end] == q.text, (question, q.document)


def logged(caplog, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


def rebuilt(caplog) -> bool:
    return logged(caplog, "building the whole index")


def next_library(docs: Path, cache: Path, first: Library, reload: bool, caplog) -> Library:
    """The library after an edit: the reload's (from first) or the next start's (from disk),
    with only its own log in caplog."""
    caplog.clear()
    caplog.set_level("INFO")
    return build(docs, cache, previous=first if reload else None)


def test_added_document_is_answered_without_a_rebuild(
    docs: Path, tmp_path: Path, caplog, reload: bool
) -> None:
    cache = tmp_path / "cache"
    first = build(docs, cache)
    assert not first.engine.answer("zephyrine quokkas").answered
    (docs / NEW).write_text(NEW_TEXT)
    library = next_library(docs, cache, first, reload, caplog)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    answer = library.engine.answer("zephyrine quokkas", top_k=5)
    assert answer.quotes[0].document == NEW
    assert {q.text for q in answer.quotes} >= {
        "The zephyrine quokkas crossed the harbour at dawn.",
        "Nobody in the village had seen quokkas before."}
    assert_verbatim(library, docs)
    # The old engine still answers as it did (an update builds a new one beside it).
    assert not first.engine.answer("zephyrine quokkas").answered


def test_removed_document_is_never_quoted(
    docs: Path, tmp_path: Path, caplog, reload: bool
) -> None:
    cache = tmp_path / "cache"
    first = build(docs, cache)
    victim = "004_d8fea167cf4fdeb7.txt"
    siversk = "Who announced the withdrawal from Siversk?"
    assert first.engine.answer(siversk).quotes[0].document == victim  # (the check can fail)
    (docs / victim).unlink()
    library = next_library(docs, cache, first, reload, caplog)
    assert not rebuilt(caplog)
    engine = library.engine
    for question in (*QUESTIONS, "Siversk withdrawal Ukrainian General Staff pullback"):
        for offset in (0, 5):  # also the quotes "More" would show
            answer = engine.answer(question, top_k=5, offset=offset)
            assert all(q.document != victim for q in answer.quotes), question
    assert engine.paragraph("docs", victim, 1) is None  # "Context" of an old answer
    assert victim not in {d.rel for d in engine.sources()}
    assert first.engine.paragraph("docs", victim, 1) is not None  # the old engine is intact
    assert_verbatim(library, docs)


def test_changed_document_is_quoted_at_its_new_offsets(
    docs: Path, tmp_path: Path, caplog
) -> None:
    cache = tmp_path / "cache"
    build(docs, cache)
    changed = docs / "doc03.txt"
    old = changed.read_text()
    # New text in front shifts every old offset; one old sentence is reworded.
    first_sentence = old.split(".")[0] + "."
    new = ("Zephyrine quokkas nest by the canal.\n\n"
           + old.replace(first_sentence, "Quokkas hum beside the copper mill."))
    changed.write_text(new)
    caplog.clear()
    caplog.set_level("INFO")
    library = build(docs, cache)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    answer = library.engine.answer("quokkas copper mill", top_k=5)
    top = answer.quotes[0]
    assert top.document == "doc03.txt" and top.text == "Quokkas hum beside the copper mill."
    assert new[top.start : top.end] == top.text and top.start > 0
    for q in library.engine.answer(first_sentence, top_k=5).quotes:
        assert q.text != first_sentence or q.document != "doc03.txt"
    paragraph = library.engine.paragraph("docs", "doc03.txt", 1)
    assert paragraph is not None and paragraph.text == "Zephyrine quokkas nest by the canal."
    assert_verbatim(library, docs)


def test_changed_pdf_is_extracted_alone_and_quoted_at_its_new_offsets(
    docs: Path, tmp_path: Path, caplog, reload: bool
) -> None:
    """A changed PDF goes through the extraction (and its cache) as a full build reads it:
    it alone is extracted again, its new sentence is quoted verbatim from its new text on
    its new page, and a restart from the saved update still knows the pages."""
    cache = tmp_path / "cache"
    report = docs / "storm.pdf"
    report.write_bytes(make_pdf([["The ferry pier was closed all week."],
                                 ["Gulls nested on the old pier."]]))
    (docs / "keeper.pdf").write_bytes(make_pdf([["The lantern keeper kept a log."]]))
    first = build(docs, cache)
    assert not first.engine.answer("zephyrine quokkas").answered
    # A new first page shifts every offset and page; one sentence is reworded.
    report.write_bytes(make_pdf([["A new first page pushes everything on."],
                                 ["The ferry pier was closed all week."],
                                 ["Zephyrine quokkas nested on the old pier."]]))
    library = next_library(docs, cache, first, reload, caplog)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    counts = [re.match(r"extracted (\d+) of", m) for m in caplog.messages]
    assert sum(int(m.group(1)) for m in counts if m) == 1  # storm.pdf, once; keeper.pdf cached
    text = document_text(report)  # as `quotebot text` prints it, not through the engine
    for current in (library, build(docs, cache)):  # the update, then a restart from its save
        quote = current.engine.answer("zephyrine quokkas pier", top_k=5).quotes[0]
        assert (quote.document, quote.text) == ("storm.pdf",
                                                "Zephyrine quokkas nested on the old pier.")
        assert text[quote.start : quote.end] == quote.text
        assert quote.start > text.index("The ferry pier") and quote.location.page == 3
        old = current.engine.answer("gulls nested", top_k=5).quotes
        assert "Gulls nested on the old pier." not in {q.text for q in old}
        assert_verbatim(current, docs)
    assert list(cache.glob(f"{store.DELTA_PREFIX}*"))  # the restart applied a saved delta


def test_an_extracted_file_is_extracted_again_at_start_and_its_new_text_quoted(
    docs: Path, tmp_path: Path, caplog
) -> None:
    """An HTML, PDF or DOCX file's text depends on the extraction code as well as on its
    bytes: a start extracts it again (through the cache, whose keys hold the code's digest)
    even when its stat is trusted, and indexes the text it gets now. Here the new code's
    text is stood for by a rewritten cache entry (one word changed, offsets kept)."""
    cache = tmp_path / "cache"
    page = docs / "page.html"
    page.write_text("<html><body><p>The ferry pier was closed all week.</p>"
                    "<p>Gulls nested on the old pier.</p></body></html>")
    an_hour_ago = page.stat().st_mtime_ns - 3600 * 10**9
    os.utime(page, ns=(an_hour_ago, an_hour_ago))
    build(docs, cache)
    [entry] = (cache / store.EXTRACTED).glob("*.json")
    entry.write_text(entry.read_text().replace("Gulls", "Voles"))
    library = next_library(docs, cache, None, False, caplog)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    quote = library.engine.answer("voles nested", top_k=5).quotes[0]
    assert (quote.document, quote.text) == ("page.html", "Voles nested on the old pier.")
    assert json.loads(entry.read_text())["ok"]["text"][quote.start : quote.end] == quote.text
    for q in library.engine.answer("gulls nested", top_k=5).quotes:
        assert "Gulls" not in q.text


def test_a_change_that_keeps_size_and_mtime_is_never_served_stale(
    docs: Path, tmp_path: Path, caplog, reload: bool
) -> None:
    """A file rewritten with as many bytes and its mtime put back (a tool that keeps mtimes,
    or a file system whose timestamps did not move) is still read again: its ctime moved."""
    cache = tmp_path / "cache"
    first = build(docs, cache)
    path = docs / "doc03.txt"
    old, st = path.read_text(), path.stat()
    head = "Zephyrine quokkas nest by the canal.\n\nThe mill"
    new = head + " " + "o" * (len(old) - len(head) - 3) + ".\n"
    path.write_text(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    library = next_library(docs, cache, first, reload, caplog)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    quote = library.engine.answer("zephyrine quokkas canal", top_k=5).quotes[0]
    assert (quote.document, quote.text) == ("doc03.txt", "Zephyrine quokkas nest by the canal.")
    first_sentence = old.split(".")[0] + "."
    for q in library.engine.answer(first_sentence, top_k=5).quotes:
        assert q.document != "doc03.txt"
    assert_verbatim(library, docs)
    assert_verbatim(build(docs, cache), docs)  # and the next start, from the saved update


def test_a_file_rewritten_as_it_is_hashed_is_hashed_again(tmp_path: Path) -> None:
    """Racy git: a file whose mtime is within filedigests.RACY_NS of its hash can change
    again without its stat moving (a coarse file system's timestamps), so its recorded hash
    is not trusted, in this process or the next; once the file is older, it is."""
    path = tmp_path / "doc.txt"
    path.write_text("The ferry left at dawn.\n")
    st = path.stat()
    read: list[Path] = []

    def sha(p: Path) -> str:
        read.append(p)
        return checkedfiles.digest(p.read_bytes())

    known = FileDigests()
    assert known.hash(path, st, sha) == (sha(path), False)
    path.write_text("The ferry left at noon.\n")  # as many bytes; st stands for an unmoved stat
    assert known.hash(path, st, sha) == (sha(path), False)
    known.save(tmp_path, "k")
    assert FileDigests.load(tmp_path, "k").hash(path, st, sha) == (sha(path), False)
    # An hour later the same stat is trusted: the file is not read.
    old = st.st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(old, old))
    st = path.stat()
    known.hash(path, st, sha)
    known.save(tmp_path, "k")
    read.clear()
    assert FileDigests.load(tmp_path, "k").hash(path, st, sha)[1] and not read


def test_same_file_name_in_two_folders_of_a_collection(
    docs: Path, tmp_path: Path, caplog, reload: bool
) -> None:
    """A collection's folders may hold files of the same name: they are two documents, and
    a change to one updates that one alone."""
    other = tmp_path / "more"
    other.mkdir()
    twin = other / "doc03.txt"  # docs/doc03.txt exists too, in the folder read second
    twin.write_text("The amber falcon sleeps in the bell tower.\n")
    folders = [("docs", other), ("docs", docs)]
    cache = tmp_path / "cache"
    first = build_library(folders, aliases={}, index_dir=cache)
    assert first.engine.answer("amber falcon", top_k=5).quotes[0].text == (
        "The amber falcon sleeps in the bell tower.")
    twin.write_text("The violet badger digs under the bell tower.\n")
    caplog.clear()
    caplog.set_level("INFO")
    library = build_library(folders, aliases={}, index_dir=cache,
                            previous=first if reload else None)
    assert logged(caplog, "updated the index") and not rebuilt(caplog)
    held = sorted((d.path, d.text) for d in library.engine.sources() if d.rel == "doc03.txt")
    assert held == sorted([(docs / "doc03.txt", (docs / "doc03.txt").read_text()),
                           (twin, twin.read_text())])
    quotes = library.engine.answer("violet badger", top_k=5).quotes
    assert quotes[0].text == "The violet badger digs under the bell tower."
    assert all("amber falcon" not in q.text for q in
               library.engine.answer("amber falcon", top_k=5).quotes)
    assert_verbatim(library, docs)


def test_answers_after_updates_equal_a_full_rebuild(docs: Path, tmp_path: Path) -> None:
    """The same quotes, in the same order, as a rebuild over the same files. Scores may
    differ a little until a merge: BM25's average passage length stays the main segment's
    (IDF is exact). Once the update is merged they are equal too."""
    cache = tmp_path / "cache"
    library = build(docs, cache)
    (docs / NEW).write_text(NEW_TEXT)
    (docs / "doc05.txt").unlink()
    (docs / "doc07.txt").write_text("The granite tower fell. The quarry was flooded.\n")
    for previous in (library, None):
        updated = build(docs, cache, previous=previous)
        fresh = build_library([("docs", docs)], aliases={})
        assert places(updated) == places(fresh)
        for question in QUESTIONS:
            a = updated.engine.answer(question, top_k=5)
            b = fresh.engine.answer(question, top_k=5)
            assert a.answered == b.answered
            for x, y in zip(a.quotes, b.quotes, strict=True):
                assert x.score == pytest.approx(y.score, rel=0.05)
    # Changing a third of the documents merges: then even the scores are a rebuild's.
    for n in range(10):
        (docs / f"doc{n + 10:02d}.txt").write_text(f"Copper barley {n} went to market.\n")
    merged = build(docs, cache)
    fresh = build_library([("docs", docs)], aliases={})
    for question in QUESTIONS:
        a = merged.engine.answer(question, top_k=5)
        b = fresh.engine.answer(question, top_k=5)
        assert [(q.document, q.start) for q in a.quotes] == [
            (q.document, q.start) for q in b.quotes]
        for x, y in zip(a.quotes, b.quotes, strict=True):
            assert x.score == pytest.approx(y.score, rel=1e-9)
    # The merged save carries each posting's paragraph, as a built one does.
    corpus = build(docs, cache).engine.corpus
    assert np.array_equal(corpus.posting_para, corpus.passages.para_id[corpus.index.doc_ids])


def test_a_start_applies_its_saved_delta_and_new_changes_in_one_splice(
    docs: Path, tmp_path: Path, monkeypatch
) -> None:
    """A start that finds changes beside a saved delta (a document the delta added changed,
    one it added removed, a main one changed and one removed) splices the postings once and
    answers as a full rebuild does; so does the start after it, from the delta it saved."""
    cache = tmp_path / "cache"
    build(docs, cache)
    (docs / NEW).write_text(NEW_TEXT)
    (docs / "extra.txt").write_text("The copper kettle sang on the barley stove.\n")
    (docs / "doc05.txt").unlink()
    build(docs, cache)  # saves them as a delta
    (docs / NEW).write_text("The zephyrine quokkas left the harbour at noon.\n")
    (docs / "extra.txt").unlink()
    (docs / "doc07.txt").write_text("The granite tower fell. The quarry was flooded.\n")
    (docs / "doc09.txt").unlink()
    splices = []
    spliced = BM25Index.spliced

    def counted(self, *args):
        splices.append(1)
        return spliced(self, *args)

    monkeypatch.setattr(BM25Index, "spliced", counted)
    library = build(docs, cache)
    assert len(splices) == 1
    fresh = build_library([("docs", docs)], aliases={})
    assert places(library) == places(fresh)
    assert library.engine.answer("quokkas noon", top_k=5).quotes[0].text == (
        "The zephyrine quokkas left the harbour at noon.")
    assert not any(q.document in ("extra.txt", "doc05.txt", "doc09.txt")
                   for question in (*QUESTIONS, "copper kettle barley stove")
                   for q in library.engine.answer(question, top_k=5).quotes)
    assert_verbatim(library, docs)
    assert places(build(docs, cache)) == places(fresh)


def test_damaged_delta_is_rebuilt_from_its_documents(
    docs: Path, tmp_path: Path, caplog
) -> None:
    cache = tmp_path / "cache"
    build(docs, cache)
    (docs / NEW).write_text(NEW_TEXT)
    build(docs, cache)  # saves the update as a delta beside the main segment
    (delta,) = cache.glob(f"{store.DELTA_PREFIX}*")
    ids = delta / "delta.ids.npy"
    data = bytearray(ids.read_bytes())
    data[-1] ^= 0xFF
    ids.write_bytes(bytes(data))
    caplog.clear()
    caplog.set_level("INFO")
    library = build(docs, cache)
    assert logged(caplog, "saved update of the index cannot be used") and not rebuilt(caplog)
    assert logged(caplog, "updated the index")  # its document read and analysed again
    assert library.engine.answer("zephyrine quokkas").quotes[0].document == NEW
    assert_verbatim(library, docs)
    caplog.clear()
    again = build(docs, cache)  # the delta was saved again, whole
    assert not logged(caplog, "cannot be used") and not logged(caplog, "updated the index")
    assert places(again) == places(library)


def test_settings_change_rebuilds_and_says_so(docs: Path, tmp_path: Path, caplog) -> None:
    cache = tmp_path / "cache"
    build(docs, cache)
    caplog.clear()
    caplog.set_level("INFO")
    build(docs, cache)
    assert logged(caplog, "loaded the saved index") and not rebuilt(caplog)
    caplog.clear()
    build(docs, cache, retrieval=RetrievalSettings(k1=0.9))
    assert rebuilt(caplog) and not logged(caplog, "loaded the saved index")
    caplog.clear()
    build(docs, cache, limits=Limits(max_pages=5))  # which PDFs are read depends on them
    assert rebuilt(caplog) and not logged(caplog, "loaded the saved index")


def _ask(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--log-level", "INFO", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_a_first_build_is_news_and_a_rebuild_a_warning(docs: Path, tmp_path: Path) -> None:
    """At the default log level a first `ask` prints only its answer (the build is said at
    INFO); a build that replaces a save, here of other settings, is announced as a warning."""
    def ask(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--corpus", str(docs), "--index-dir",
             str(tmp_path / "cache"), *more, "harbour"], cwd=tmp_path, capture_output=True,
            text=True, timeout=120)

    first = ask()
    assert first.returncode == 0, first.stderr
    assert first.stderr == "" and "harbour" in first.stdout
    config = tmp_path / "config"
    config.mkdir()
    (config / "bot.yaml").write_text(
        f"collections: {{docs: {{folders: [{docs}], visibility: public}}}}\n"
        "retrieval: {k1: 0.9}\n")
    other = ask("--config", str(config))
    assert other.returncode == 0, other.stderr
    assert "WARNING" in other.stderr and "building the whole index" in other.stderr
    assert "other settings" in other.stderr and "cannot be used" not in other.stderr
    # Another folder's first build beside those saves replaces none of them: news, not a
    # warning (`quotebot ask --corpus` in one folder after another).
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(docs, elsewhere)
    third = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--corpus", str(elsewhere), "--index-dir",
         str(tmp_path / "cache"), "harbour"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120)
    assert third.returncode == 0 and third.stderr == "", third.stderr


def test_cli_corpus_index_is_saved_and_reused(docs: Path, tmp_path: Path) -> None:
    """`quotebot ask --corpus` saves its index (here in --index-dir; by default in
    ./.quotebot-cache) and the next call loads and updates it instead of rebuilding."""
    cache = tmp_path / "cache"
    args = ("--corpus", str(docs), "--index-dir", str(cache), "zephyrine quokkas")
    first = _ask(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "building the whole index" in first.stderr
    assert "documents do not answer" in first.stdout
    second = _ask(*args, cwd=tmp_path)
    assert "loaded the saved index" in second.stderr
    assert "building the whole index" not in second.stderr
    (docs / NEW).write_text(NEW_TEXT)
    third = _ask(*args, cwd=tmp_path)
    assert "updated the index" in third.stderr and "building" not in third.stderr
    assert "The zephyrine quokkas crossed the harbour at dawn." in third.stdout
    # Without --index-dir (and without a config), the index goes under the current folder.
    default = _ask("--corpus", str(docs), "harbour", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert list((tmp_path / ".quotebot-cache").glob(f"{store.PREFIX}*"))


def test_updates_leave_no_superseded_saves_behind(docs: Path, tmp_path: Path) -> None:
    """Each update saves a new delta in place of the last: the one it replaces is removed,
    not left beside it (one `.old-` folder a reload or upload grew the disk until a merge)."""
    cache = tmp_path / "cache"
    library = build(docs, cache)
    for n in range(5):
        (docs / f"note{n}.txt").write_text(f"The zephyrine quokkas counted {n} boats.\n")
        library = build(docs, cache, previous=library if n % 2 else None)
    names = sorted(p.name for p in cache.iterdir())
    assert not [n for n in names if n.startswith((".old-", ".tmp-"))], names
    assert len(library.engine.answer("zephyrine quokkas boats", top_k=5).quotes) == 5


def test_a_save_killed_midway_is_cleared_at_the_next_start(docs: Path, tmp_path: Path) -> None:
    """A process killed while it saves leaves a temporary folder of up to a whole index; the
    next start removes it (its writer is gone: the folder's lock is free), rather than only
    a later whole save an hour on; a save under way elsewhere is left alone."""
    cache = tmp_path / "cache"
    script = PAUSE_AT_THIRD_WRITE + f"""
from pathlib import Path
from bot.library import build_library
build_library([("docs", Path({str(docs)!r}))], aliases={{}}, index_dir=Path({str(cache)!r}))
"""
    killed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    writing = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert killed.stdout.readline().strip() == "writing"
        os.kill(killed.pid, 9)
        killed.wait()
        assert writing.stdout.readline().strip() == "writing"
        temps = list(cache.glob(".tmp-*"))
        assert len(temps) == 2
        old = os.stat(cache).st_mtime - 10
        for temp in temps:  # (older than the moment a new save takes to lock its folder)
            os.utime(temp, (old, old))
        library = build(docs, cache)
        assert_verbatim(library, docs)
        left = list(cache.glob(".tmp-*"))
        assert len(left) == 1 and (left[0] / "manifest.json").exists() is False
        assert any(left[0].iterdir())  # the live writer's folder
    finally:
        for proc in (killed, writing):
            if proc.poll() is None:
                os.kill(proc.pid, 9)
                proc.wait()


def test_a_saved_index_on_a_read_only_folder_is_used(docs: Path, tmp_path: Path, caplog) -> None:
    """An index folder the process cannot write (a read-only mount, another user's folder)
    holds a good save and extraction cache: they are used, not called damaged and rebuilt
    (or extracted again) at every start. The folder is made immutable (chattr +i, as root),
    which refuses writes and timestamps as a read-only mount does."""
    if os.geteuid() != 0 or not shutil.which("chattr"):
        pytest.skip("needs root and chattr to make a folder immutable")
    cache = tmp_path / "cache"
    first = build(docs, cache)
    (docs / "page.html").write_text(
        "<html><head><title>Ferry</title></head><body><main><p>The zephyrine quokkas sail "
        "at dawn.</p></main></body></html>")
    first = build(docs, cache, previous=first)
    paths = [str(p) for p in [cache, *cache.rglob("*")]]
    subprocess.run(["chattr", "+i", *paths], check=True)
    try:
        caplog.clear()
        caplog.set_level("INFO")
        again = build(docs, cache)
        assert not rebuilt(caplog) and not logged(caplog, "damaged")
        assert not logged(caplog, "extracting again")
        assert places(again) == places(first)
    finally:
        subprocess.run(["chattr", "-i", *paths], check=True)
