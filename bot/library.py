"""Build the search engine from the configured collections: the one place that reads document
folders and their `sources.yaml` labels (bot/labels.py), for the CLI and the bot alike."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

from bot.core import store, storekey
from bot.core.analysis import DEFAULT_ANALYZER
from bot.core.answer import Engine
from bot.core.corpus import Corpus
from bot.core.documents import (
    DEFAULT_MAX_BYTES,
    Document,
    DocumentFile,
    load_files,
    load_folder,
)
from bot.core.extract.model import Limits
from bot.core.filedigests import FileDigests
from bot.core.model import RetrievalSettings
from bot.core.segments import Delta, DocKey, Segments, doc_key, loaded, present, updated
from bot.core.segments import changes as segments_changes
from bot.core.walk import Skipped, walk_files
from bot.errors import UsageError
from bot.labels import read_labels
from bot.messages import (
    FOLDER_NOT_FOUND,
    NO_DOCUMENTS,
    NO_SUCH_COLLECTION,
    NOT_A_FOLDER,
)

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Library:
    engine: Engine
    skipped: tuple[Skipped, ...]
    # How the index is saved (None: it is not): what the next reload updates.
    segments: Segments | None = None


def load_documents(
    folders: Sequence[tuple[str, Path]], max_bytes: int = DEFAULT_MAX_BYTES,
    cache_dir: Path | None = None, limits: Limits | None = None, private: Sequence[Path] = (),
) -> tuple[list[Document], list[Skipped]]:
    """Documents of (collection, folder) pairs; a missing folder is a UsageError. PDF, HTML
    and DOCX files are extracted within limits (default: Limits(max_bytes)), their text
    cached in cache_dir. The folders in private are never read as part of another folder
    (see build_library)."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for collection, folder in folders:
        _check_folder(folder)
        labels, problems = read_labels(folder)
        docs, bad = load_folder(folder, collection, labels, max_bytes, limits, cache_dir,
                                private)
        documents += docs
        skipped += problems + bad
    return documents, skipped


def build_library(
    folders: Sequence[tuple[str, Path]],
    retrieval: RetrievalSettings | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    index_dir: Path | None = None,
    previous: Library | None = None,
    limits: Limits | None = None,
    shard_servers: Sequence[str] = (),
    key_folders: Sequence[tuple[str, Path]] | None = None,
    private: Sequence[Path] = (),
) -> Library:
    """The engine over the documents of (collection, folder) pairs, PDF, HTML and DOCX files
    extracted within limits (default: Limits(max_bytes)). With index_dir, the
    index saved there is loaded and brought up to date: only documents added, changed or
    removed since are read and analysed (bot/core/segments.py), and the update is saved
    beside it; the whole index is built only when there is no usable save for these folders
    and settings. With previous (the library a reload replaces), its index is updated in
    memory instead of loaded. With shard_servers (host:port), the first stage searches those
    Xapian servers. key_folders (default: folders) are the folders whose coming or going makes
    another index: a moderator's upload folder appearing is an update of this one, not a new
    index to build. private: folders never read as part of another (the uploads and state
    folders, which a collection's folder may hold: a guild's uploads are quoted only through
    its own collection). Safe to call from a worker thread."""
    retrieval = retrieval or RetrievalSettings()
    limits = limits or Limits(max_bytes=max_bytes)
    for _, folder in folders:
        _check_folder(folder)
    if index_dir is None:
        documents, skipped = load_documents(folders, max_bytes, None, limits, private)
        corpus = _build(documents, folders, retrieval)
        return _library(corpus, skipped, retrieval, aliases, shard_servers=shard_servers)
    key = storekey.fingerprint(folders if key_folders is None else key_folders, DEFAULT_ANALYZER,
                            retrieval.index, max_bytes, limits)
    store.tidy_saves(index_dir)
    known = FileDigests.load(index_dir, key)
    files, skipped = _scan(folders, max_bytes, known, private)
    known.save(index_dir, key)
    segments = previous.segments if previous is not None else None
    if segments is not None and _still_saved(segments, index_dir, key):
        # A reload: the live corpus is spliced.
        live = segments
        segments = _up_to_date(
            live.corpus.documents, live.corpus.digests,
            lambda removed, added, digests: updated(live, removed, added, digests,
                                                    DEFAULT_ANALYZER),
            files, skipped, folders, index_dir, max_bytes, limits,
        ) or live
        return _library(segments.corpus, skipped, retrieval, aliases, segments, shard_servers)
    saved = _load(index_dir, key, max_bytes, limits,
                  {k: (f.digest, f.trusted) for k, f in files.items()})
    if saved is None:
        # The files scanned, so that each document's digest is its file's.
        documents, bad = load_files([f.file for f in files.values()], max_bytes, limits,
                                    index_dir / store.EXTRACTED)
        skipped += bad
        digests = [files[doc_key(d)].digest for d in documents]
        # Announced as a warning when it replaces a save of these folders (the settings or
        # the format changed, or the save is damaged), as news when it is their first (other
        # folders' saves beside it are theirs: `quotebot ask --corpus` in one folder after
        # another).
        made = [[c, str(f.resolve())] for c, f in key_folders or folders]
        replaces = any(f is None or f == made for f in store.made_for(index_dir))
        corpus = _build(documents, folders, retrieval, digests, replaces=replaces)
        segments = _save_main(corpus, index_dir, key, {"folders": made})
        return _library(corpus, skipped, retrieval, aliases, segments, shard_servers)
    # A start: the saved delta and the changes since are applied to the main segment in one
    # splice of its postings (not one for the delta and another for the changes).
    main, main_id, delta = saved
    segments = _up_to_date(
        *present(main, delta),
        lambda removed, added, digests: loaded(main, key, main_id, delta, DEFAULT_ANALYZER,
                                               removed, added, digests),
        files, skipped, folders, index_dir, max_bytes, limits,
    ) or loaded(main, key, main_id, delta, DEFAULT_ANALYZER)
    log.info("loaded the saved index of %d documents, %d passages from %s",
             len(segments.corpus.documents), segments.corpus.index.n_docs, index_dir)
    return _library(segments.corpus, skipped, retrieval, aliases, segments, shard_servers)


def _up_to_date(
    documents: Sequence[Document], held: Sequence[str],
    update: Callable[[Sequence[int], Sequence[Document], Sequence[str]], Segments],
    files: Mapping[DocKey, _Found], skipped: list[Skipped],
    folders: Sequence[tuple[str, Path]], index_dir: Path, max_bytes: int, limits: Limits,
) -> Segments | None:
    """update(removed, added, digests) with the documents (held: their digests) removed,
    changed or added since, saved; None when there are none. Files that cannot be read are
    added to skipped. Only the files added or changed are read, a PDF, HTML or DOCX file
    through the extraction cache as a full build reads it."""
    started = time.perf_counter()
    found = segments_changes(documents, held, {k: f.digest for k, f in files.items()})
    to_read = [files[k].file for k in found.to_read]
    added, bad = load_files(to_read, max_bytes, limits, index_dir / store.EXTRACTED)
    skipped += bad
    if not (found.removed or added):
        return None
    if len(found.removed) == len(documents) and not added:
        raise UsageError(NO_DOCUMENTS.format(folders=", ".join(str(f) for _, f in folders)))
    segments = update(found.removed, added, [files[doc_key(d)].digest for d in added])
    log.info("updated the index in %.2fs: %d documents read, %d removed",
             time.perf_counter() - started, len(added), len(found.removed))
    return _save_update(segments, index_dir)


def library_from_settings(
    settings, previous: Library | None = None, index_dir: Path | None = None
) -> Library:
    """settings: bot.config.Settings; previous: the library a reload replaces; index_dir:
    where to save the index instead of settings.index_dir."""
    folders = [(c.name, f) for c in settings.collections.values() for f in c.folders]
    uploads = settings.upload_root.resolve()
    configured = [(c, f) for c, f in folders if not f.resolve().is_relative_to(uploads)]
    servers = dict.fromkeys(a for c in settings.collections.values() for a in c.shard_servers)
    return build_library(
        folders, settings.retrieval, settings.aliases, settings.max_document_bytes,
        index_dir=index_dir or settings.index_dir, previous=previous,
        limits=settings.document_limits, shard_servers=tuple(servers), key_folders=configured,
        private=(settings.upload_root, settings.state_dir),
    )


def build_xapian_shards(settings, name: str, count: int, out_dir: Path) -> list[Path]:
    """Collection name's passages written into count Xapian shards under out_dir (settings:
    bot.config.Settings). They come from the bot's own corpus (its saved index, brought up to
    date as the bot does), not the files read afresh: a shard's document n is the bot's
    passage n, and an update moves a changed document to the end of the bot's order."""
    from bot.core.xapianshards import build_shards

    collection = settings.collections.get(name)
    if collection is None:
        raise UsageError(NO_SUCH_COLLECTION.format(
            name=name, known=", ".join(sorted(settings.collections))))
    corpus = library_from_settings(settings).engine.corpus
    documents = [d for d in corpus.documents if d.collection == name]
    if not documents:
        raise UsageError(NO_DOCUMENTS.format(
            folders=", ".join(str(f) for f in collection.folders)))
    with ProgressBar("building shards", "passages") as bar:
        return build_shards(documents, DEFAULT_ANALYZER, settings.retrieval.index, count,
                            out_dir, progress=bar)


def _check_folder(folder: Path) -> None:
    if folder.is_file():
        raise UsageError(NOT_A_FOLDER.format(folder=folder, parent=folder.parent))
    if not folder.is_dir():
        raise UsageError(FOLDER_NOT_FOUND.format(folder=folder))


def _library(
    corpus: Corpus, skipped: Sequence[Skipped], retrieval: RetrievalSettings,
    aliases: Mapping[str, Sequence[str]] | None, segments: Segments | None = None,
    shard_servers: Sequence[str] = (),
) -> Library:
    engine = Engine(corpus, retrieval, aliases, shard_servers=shard_servers)
    return Library(engine, tuple(skipped), segments)


def _build(
    documents: Sequence[Document], folders: Sequence[tuple[str, Path]],
    retrieval: RetrievalSettings, digests: Sequence[str] = (), replaces: bool | None = None,
) -> Corpus:
    """The corpus of documents; replaces (None: not said) whether it replaces a save of
    these folders, which the log says why."""
    if not documents:
        where = ", ".join(str(f) for _, f in folders)
        raise UsageError(NO_DOCUMENTS.format(folders=where))
    if replaces:
        log.warning("rebuilding the whole index of %d documents: the saved one was made with "
                    "other settings or by another version of quotebot, or is damaged (a "
                    "progress bar follows on a terminal)", len(documents))
    elif replaces is not None:
        log.info("building the whole index of %d documents (a progress bar follows on a "
                 "terminal)", len(documents))
    started = time.perf_counter()
    with ProgressBar("indexing", "passages") as bar:
        corpus = Corpus.build(documents, DEFAULT_ANALYZER, retrieval.index, progress=bar,
                              digests=digests)
    log.info("indexed %d documents, %d passages in %.1fs", len(documents),
             corpus.index.n_docs, time.perf_counter() - started)
    return corpus


class _Found(NamedTuple):
    file: DocumentFile  # with its entry in the folder's labels file
    digest: str
    trusted: bool  # the file's hash is known from its stat, not read (bot/core/filedigests.py)


def _scan(
    folders: Sequence[tuple[str, Path]], max_bytes: int, known: FileDigests,
    private: Sequence[Path] = (),
) -> tuple[dict[DocKey, _Found], list[Skipped]]:
    """Every document file with its digest (its bytes and its labels entry), and the labels
    files' problems. Files whose stat known records are not read."""
    files: dict[DocKey, _Found] = {}
    problems: list[Skipped] = []
    for collection, folder in folders:
        labels, found = read_labels(folder)
        problems += found
        for path, rel, stat in walk_files(folder, private, problems):
            entry = labels.get(rel) or {}
            digest = storekey.document_digest(path, max_bytes, entry, known, stat)
            files[(collection, str(path))] = _Found(
                DocumentFile(collection, rel, path, entry), digest, str(path) in known.trusted)
    return files, problems


def _load(
    index_dir: Path, key: str, max_bytes: int, limits: Limits,
    files: Mapping[DocKey, tuple[str, bool]],
) -> tuple[Corpus, str, Delta] | None:
    """The saved main segment, its identity and its delta (not applied); None (said in the
    log) when there is no usable main segment. A damaged delta is dropped: its documents
    are read again. files: the scanned files' digests and whether each is known from its
    stat (a document whose file is, with its saved digest, is not read again: store.load)."""
    try:
        # Shared: processes on one machine (bot, CLI runs) map one copy of the main save's
        # arrays; the delta is small and copied.
        main, _ = store.load(index_dir, key, max_bytes, limits, stale_ok=True, shared=True,
                             files=files)
        main_id = store.main_id(index_dir, key)
        if len(main.digests) != len(main.documents):
            raise store.StoreError("the saved index does not say which files it holds")
    except store.StoreError as exc:
        # (A missing save is no fault: the whole build that follows is announced.)
        (log.info if isinstance(exc, store.NoSave) else log.warning)(
            "the saved index cannot be used: %s", exc)
        return None
    try:
        delta, _ = store.load_delta(index_dir, key, max_bytes, limits, files)
        if any(not 0 <= i < len(main.documents) for i in delta.removed):
            raise store.StoreError("saved update is damaged (it removes unknown documents)")
    except store.StoreError as exc:
        log.warning("the saved update of the index cannot be used (%s): its documents are "
                    "read and analysed again", exc)
        delta = Delta()
    return main, main_id, delta


def _still_saved(segments: Segments, index_dir: Path, key: str) -> bool:
    """Whether segments' main save is the one in index_dir for key (another process may have
    merged a newer one there, or the config moved index_dir)."""
    try:
        return segments.key == key and store.main_id(index_dir, key) == segments.main_id
    except store.StoreError:
        return False


def _save_main(
    corpus: Corpus, index_dir: Path, key: str, extra: dict | None = None,
) -> Segments | None:
    try:
        store.save(corpus, index_dir, key, extra)
        main_id = store.main_id(index_dir, key)
    except (OSError, TypeError, ValueError, store.StoreError) as exc:
        log.warning("index not saved in %s (%s): the next start rebuilds it", index_dir, exc)
        return None
    return Segments(corpus, key, main_id, len(corpus.documents), len(corpus.passages))


def _save_update(segments: Segments, index_dir: Path) -> Segments:
    """Save the delta, or when it has grown past MERGE_SHARE, the whole corpus as the new
    main segment (reweighted: BM25's average passage length is brought up to date)."""
    if segments.due_for_merge():
        log.info("merging the index's update into its main segment")
        return _save_main(segments.corpus.merged(), index_dir, segments.key) or segments
    try:
        store.save_delta(index_dir, segments.key, segments.main_id, segments.delta)
    except (OSError, TypeError, ValueError) as exc:
        log.warning("index update not saved in %s (%s): the next start redoes it", index_dir,
                    exc)
    return segments


class ProgressBar:
    """A one-line progress bar on stderr, only on a terminal and only once a task has taken
    more than a moment. Called as progress(done, total)."""

    DELAY = 1.0  # seconds before the bar appears
    INTERVAL = 0.2  # seconds between redraws

    def __init__(self, what: str, unit: str, stream: TextIO | None = None) -> None:
        self.what, self.unit = what, unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = self.drawn = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < self.DELAY:
            return
        if self.shown and now - self.drawn < self.INTERVAL and done < total:
            return
        self.shown, self.drawn = True, now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(
            f"\r{self.what} [{bar:<30}] {share:4.0%} {done:,}/{total:,} {self.unit}"
            f" {now - self.started:.0f}s"
        )
        self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
