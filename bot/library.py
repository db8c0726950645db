"""Build the search engine from the configured collections: the one place that reads document
folders and their `sources.yaml` labels, for the CLI and the bot alike."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config.yamlfile import ConfigFile, read_mapping
from bot.core import store
from bot.core.analysis import DEFAULT_ANALYZER
from bot.core.answer import Engine
from bot.core.corpus import Corpus
from bot.core.documents import DEFAULT_MAX_BYTES, Document, Skipped, load_folder
from bot.core.model import RetrievalSettings
from bot.errors import ConfigProblem, UsageError
from bot.messages import FOLDER_NOT_FOUND, LABELS_DOUBTFUL, LABELS_NOT_READ, NO_DOCUMENTS

log = logging.getLogger(__name__)

LABELS_FILE = "sources.yaml"
LABELS_EXAMPLE = "`article.txt: {label: The capture of the town, source: BBC, date: 2024-05-01}`"


@dataclass(frozen=True)
class Library:
    engine: Engine
    skipped: tuple[Skipped, ...]


def read_labels(folder: Path) -> tuple[dict[str, dict[str, str]], list[Skipped]]:
    """Labels, sources and dates from folder/sources.yaml; a broken file is reported and the
    documents keep their file names as labels."""
    path = folder / LABELS_FILE
    if not path.is_file():
        return {}, []
    problems: list[ConfigProblem] = []
    # The config's hardened reader: size limit, no tags that run code, no alias bombs.
    data = read_mapping(path, ConfigFile(LABELS_FILE, problems), LABELS_EXAMPLE)
    found = "; ".join(str(p) for p in problems)
    if data is None:
        return {}, [Skipped(path, LABELS_NOT_READ.format(error=found))]
    reported = [Skipped(path, LABELS_DOUBTFUL.format(error=found))] if problems else []
    labels = {}
    for name, fields in data.items():
        if isinstance(fields, dict):
            labels[str(name)] = {str(k): "" if v is None else str(v) for k, v in fields.items()}
        elif isinstance(fields, str):
            labels[str(name)] = {"label": fields}
    return labels, reported


def load_documents(
    folders: Sequence[tuple[str, Path]], max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Document], list[Skipped]]:
    """Documents of (collection, folder) pairs; a missing folder is a UsageError."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for collection, folder in folders:
        if not folder.is_dir():
            raise UsageError(FOLDER_NOT_FOUND.format(folder=folder))
        labels, problems = read_labels(folder)
        docs, bad = load_folder(folder, collection, labels, max_bytes)
        documents += docs
        skipped += problems + bad
    return documents, skipped


def build_library(
    folders: Sequence[tuple[str, Path]],
    retrieval: RetrievalSettings | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    index_dir: Path | None = None,
    shards: Sequence[str] = (),
) -> Library:
    """The engine over the documents of (collection, folder) pairs. With index_dir, the
    index saved there is used when the documents and settings are unchanged, and a newly
    built one is saved there; a damaged save is rebuilt. With shards (host:port), the first
    stage searches those Xapian servers. Safe to call from a worker thread."""
    retrieval = retrieval or RetrievalSettings()
    for _, folder in folders:
        if not folder.is_dir():
            raise UsageError(FOLDER_NOT_FOUND.format(folder=folder))
    key = None
    if index_dir is not None:
        key = store.fingerprint(folders, DEFAULT_ANALYZER, retrieval.index, max_bytes, LABELS_FILE)
        try:
            # Shared: processes on one machine (bot, CLI runs) map one copy of the arrays.
            corpus, extra = store.load(index_dir, key, max_bytes, shared=True)
        except store.StoreError as exc:
            log.info("building the index: %s", exc)
        else:
            skipped = tuple(Skipped(Path(p), reason) for p, reason in extra.get("skipped", ()))
            log.info("loaded the saved index of %d documents, %d passages from %s",
                     len(corpus.documents), corpus.index.n_docs, index_dir)
            return Library(Engine(corpus, retrieval, aliases, shards=shards), skipped)
    documents, skipped = load_documents(folders, max_bytes)
    if not documents:
        where = ", ".join(str(f) for _, f in folders)
        raise UsageError(NO_DOCUMENTS.format(folders=where))
    with ProgressBar("indexing", "passages") as bar:
        corpus = Corpus.build(documents, DEFAULT_ANALYZER, retrieval.index, progress=bar)
    if index_dir is not None and key is not None:
        extra = {"skipped": [[str(s.path), s.reason] for s in skipped]}
        try:
            store.save(corpus, index_dir, key, extra)
        except (OSError, TypeError, ValueError) as exc:
            log.warning("index not saved in %s (%s): the next start rebuilds it", index_dir, exc)
    engine = Engine(corpus, retrieval, aliases, shards=shards)
    log.info(
        "indexed %d documents, %d passages (%d skipped)",
        len(documents), engine.index.n_docs, len(skipped),
    )
    return Library(engine, tuple(skipped))


def library_from_settings(settings) -> Library:  # settings: bot.config.Settings
    folders = [(c.name, f) for c in settings.collections.values() for f in c.folders]
    shards = dict.fromkeys(a for c in settings.collections.values() for a in c.shards)
    return build_library(
        folders, settings.retrieval, settings.aliases, settings.max_document_bytes,
        index_dir=settings.index_dir, shards=tuple(shards),
    )


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
