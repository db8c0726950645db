"""Build the search engine from the configured collections: the one place that reads document
folders and their `sources.yaml` labels, for the CLI and the bot alike."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.answer import Engine, RetrievalSettings
from bot.core.documents import DEFAULT_MAX_BYTES, Document, Skipped, load_folder
from bot.errors import UsageError

log = logging.getLogger(__name__)

LABELS_FILE = "sources.yaml"


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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return {}, [Skipped(path, f"labels not read ({exc}); documents keep file names")]
    if not isinstance(data, dict):
        return {}, [Skipped(path, "labels not read: the file must map file names to fields")]
    labels = {}
    for name, fields in data.items():
        if isinstance(fields, dict):
            labels[str(name)] = {str(k): "" if v is None else str(v) for k, v in fields.items()}
        elif isinstance(fields, str):
            labels[str(name)] = {"label": fields}
    return labels, []


def load_documents(
    folders: Sequence[tuple[str, Path]], max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Document], list[Skipped]]:
    """Documents of (collection, folder) pairs; a missing folder is a UsageError."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for collection, folder in folders:
        if not folder.is_dir():
            raise UsageError(f"corpus folder not found: {folder} (create it or fix the path)")
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
) -> Library:
    documents, skipped = load_documents(folders, max_bytes)
    if not documents:
        where = ", ".join(str(f) for _, f in folders)
        raise UsageError(f"no documents to quote in {where}: add .txt or .md files")
    engine = Engine(documents, retrieval, aliases)
    log.info(
        "indexed %d documents, %d passages (%d skipped)",
        len(documents), engine.index.n_docs, len(skipped),
    )
    return Library(engine, tuple(skipped))


def library_from_settings(settings) -> Library:  # settings: bot.config.Settings
    folders = [(c.name, f) for c in settings.collections.values() for f in c.folders]
    return build_library(
        folders, settings.retrieval, settings.aliases, settings.max_document_bytes
    )
