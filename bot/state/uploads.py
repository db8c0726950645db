"""Moderators' uploads: checking a file, storing it in its guild's folder with its record, and
turning the folders into collections at config load. No Discord here: the cog downloads the
file and calls `add`/`remove` in a worker thread, then reloads the library.

Layout: <uploads_dir>/<guild id>/<collection>/<file> (uploads_dir: <state_dir>/uploads unless
bot.yaml names another folder, e.g. on storage several machines share). A guild's
uploads are quotable only in that guild: its private collection "<collection>-<guild id>" is
visible to it alone, and an upload into a configured collection is allowed only when that
collection is private to the same guild and closed to DMs (rule 5).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from types import MappingProxyType

import yaml

from bot import messages
from bot.config.settings import CollectionSettings, Settings
from bot.core.documents import clean_label, load_folder
from bot.core.extract import Limits, sniff
from bot.core.walk import SUFFIXES, TEXT_SUFFIXES
from bot.errors import Refusal
from bot.labels import LABELS_FILE
from bot.state.store import Storage, Upload

log = logging.getLogger(__name__)

INCOMING = ".incoming"
ADDING = ".adding"  # an add's file, hidden until its record is written
_ADDING = re.compile(rf"\.(?P<name>.+)\.\d+\.\d+{re.escape(ADDING)}", re.S)
HOUR = 3600.0
# Letters and digits of any script are kept (names of documents in other languages stay
# apart); separators, punctuation and control characters become "_".
_UNSAFE = re.compile(r"[^\w.-]+")
MAX_STEM, MAX_STEM_BYTES = 80, 200
_PAGE_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]",
                         re.I | re.S)
UNPACK_RATIO = 50
EXTRACT_SECONDS = 30.0  # a moderator waits for the reply; the library's own limit is 60 s


def upload_root(settings: Settings) -> Path:
    return settings.upload_root


def sharded(settings: Settings) -> bool:
    """Whether the collections are searched on Xapian shard servers (then all of them are:
    bot/config/botyaml.py), which hold only the shards built from their folders: an upload
    could not be searched, and a folder added to a collection would no longer match its
    shards."""
    return any(c.shard_servers for c in settings.collections.values())


def with_uploads(settings: Settings) -> Settings:
    """settings with each guild's upload folders added as collections only it may quote
    (none while the collections are on shard servers)."""
    base = upload_root(settings)
    if not base.is_dir():
        return settings
    if sharded(settings):
        log.warning("uploads in %s not loaded: the collections are searched on shard servers, "
                    "which hold no uploads", base)
        return settings
    collections = dict(settings.collections)
    owned: dict[int, set[str]] = defaultdict(set)
    for folder in sorted(base.glob("*/*")):
        if not folder.is_dir() or not folder.parent.name.isdigit():
            continue
        if not any(p.suffix.lower() in SUFFIXES for p in folder.iterdir()):
            continue
        gid, name = int(folder.parent.name), folder.name
        known = collections.get(name)
        # A guild's own collection by its name, "<stem>-<guild id>": the stem today's, or
        # one the config named before (uploads made then stay this guild's alone).
        if known is None and name.endswith(f"-{gid}"):
            collections[name] = CollectionSettings(name, (folder,), frozenset({gid}), dms=False)
        elif known is not None and private_to(known, gid):
            collections[name] = dataclasses.replace(known, folders=(*known.folders, folder))
        else:
            # The config changed since the upload (the collection went public, or away):
            # never let that widen who may quote it.
            log.warning("uploads in %s not loaded: collection %r is no longer private to guild "
                        "%s; move the files or restore the collection", folder, name, gid)
            continue
        owned[gid].add(name)
    return dataclasses.replace(
        settings,
        collections=MappingProxyType(collections),
        owned=MappingProxyType({g: frozenset(names) for g, names in owned.items()}),
    )


def private_to(collection: CollectionSettings, guild_id: int) -> bool:
    return collection.visibility == frozenset({guild_id}) and not collection.dms


@dataclass(frozen=True)
class Added:
    upload: Upload
    paragraphs: int
    sentences: int


class Uploads:
    """Adds and removes a guild's documents; one instance per bot (the rate window lives
    here)."""

    def __init__(self, storage: Storage, clock=time.time) -> None:
        self.storage = storage
        self.clock = clock
        self._recent: dict[int, deque[float]] = defaultdict(deque)
        self._adding: set[tuple[int, str]] = set()  # (guild, name) of adds under way
        self._lock = threading.Lock()
        self._labels_lock = threading.Lock()

    def recover(self, settings: Settings, records: Iterable[tuple[str, str]]) -> None:
        """Finish or clear the adds a killed process left (a hidden ".<name>.<pid>.<thread>
        .adding" file): one whose record was written is put in place, as the add would
        have (it was listed by /quotebot documents and never quoted); one without a record,
        an hour old, is deleted. records: the (collection, name) of every upload, as read
        at startup (call it only when they could be read)."""
        recorded = set(records)
        base = upload_root(settings)
        for adding in base.glob(f"*/*/.*{ADDING}"):
            match = _ADDING.fullmatch(adding.name)
            guild = adding.parent.parent.name
            if match is None or not guild.isdigit():
                continue
            collection, name = adding.parent.name, match["name"]
            with contextlib.suppress(OSError):
                if (collection, name) in recorded and not (adding.parent / name).exists():
                    os.replace(adding, adding.parent / name)
                    self._write_labels(settings, int(guild), collection)
                    log.info("upload recovered: %s/%s, added by a process that stopped before "
                             "putting it in place", collection, name)
                elif self.clock() - adding.stat().st_mtime > HOUR:
                    adding.unlink()
                    log.info("removed %s: the unfinished add of a process that stopped", adding)

    def target(self, settings: Settings, guild_id: int, collection: str | None) -> str:
        """The collection an upload goes to, if this guild may add to it."""
        default = settings.for_guild(guild_id).uploads.private_collection(guild_id)
        if not collection or collection == default:
            return default
        known = settings.collections.get(collection)
        if known is None or not private_to(known, guild_id):
            raise Refusal(messages.UPLOAD_COLLECTION.format(name=collection, default=default))
        return collection

    def check_size(self, settings: Settings, guild_id: int, size: int) -> None:
        """Before downloading: the file's announced size against both limits."""
        conf = settings.for_guild(guild_id).uploads
        if size > (limit := max_upload(settings, guild_id)):
            raise Refusal(messages.UPLOAD_TOO_LARGE.format(size=size, limit=limit))
        used = sum(u.bytes for u in self.storage.uploads(guild_id))
        if used + size > conf.max_total_bytes:
            raise Refusal(messages.UPLOAD_FULL.format(used=used, limit=conf.max_total_bytes))

    def check_name(
        self, settings: Settings, guild_id: int, filename: str, collection: str
    ) -> str:
        """The name filename is stored under in collection, if it is free (checked before a
        download, so that a refused name does not count as one of the hour's uploads)."""
        name = safe_name(filename)
        folder = upload_root(settings) / str(guild_id) / collection
        known = settings.collections.get(collection)
        # One name, one document: not in two of this guild's collections, and not beside a
        # configured file of the same name (the two would share a document id).
        same = [u for u in self.storage.uploads(guild_id) if u.name == name]
        if any(u.collection != collection for u in same) or (known is not None and any(
                (f / name).exists() for f in known.folders if f != folder)):
            raise Refusal(messages.UPLOAD_NAME_TAKEN.format(name=name))
        # Never replaced unseen: another file may have the same name once made safe
        # ("minutes march.txt", "minutes&march.txt"), and old answers' buttons name it.
        if same:
            raise Refusal(messages.UPLOAD_NAME_HERE.format(name=name, label=same[0].label))
        return name

    def take_turn(self, settings: Settings, guild_id: int) -> None:
        now = self.clock()
        with self._lock:
            window = self._recent[guild_id]
            while window and window[0] <= now - HOUR:
                window.popleft()
            limit = settings.for_guild(guild_id).uploads.per_hour
            if len(window) >= limit:
                minutes = max(1, round((window[0] + HOUR - now) / 60))
                raise Refusal(messages.UPLOAD_RATE.format(limit=limit, minutes=minutes))
            window.append(now)

    def add(
        self, settings: Settings, guild_id: int, user_id: int, filename: str, data: bytes,
        label: str | None, collection: str, source: str = "",
    ) -> Added:
        """Check the file as the library will read it, then store it and its record. Nothing
        is stored when any check fails. Two adds of one name at once (two moderators, or
        two names made the same: "a b.txt", "a&b.txt") are one too many: the second is
        refused, not stored over the first."""
        key = (guild_id, safe_name(filename))
        with self._lock:
            if key in self._adding:
                raise Refusal(messages.UPLOAD_NAME_BUSY.format(name=key[1]))
            self._adding.add(key)
        try:
            return self._add(settings, guild_id, user_id, filename, data, label, collection,
                             source)
        finally:
            with self._lock:
                self._adding.discard(key)

    def _add(
        self, settings: Settings, guild_id: int, user_id: int, filename: str, data: bytes,
        label: str | None, collection: str, source: str,
    ) -> Added:
        name = self.check_name(settings, guild_id, filename, collection)
        folder = upload_root(settings) / str(guild_id) / collection
        self.check_size(settings, guild_id, len(data))
        if name.lower().endswith(TEXT_SUFFIXES) and (kind := mislabelled_text(data)):
            raise Refusal(messages.UPLOAD_MISLABELLED.format(name=name, kind=kind))
        label = clean_label(label or "")
        # Beside the uploads, so the move below is a rename (no half-copied file on shared
        # storage); the name is no guild id, so the library never reads it.
        scratch = upload_root(settings) / INCOMING
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            trial = Path(tmp) / name
            trial.write_bytes(data)
            limits = upload_limits(settings, guild_id)
            # Without a label given, the file names itself as in a configured folder (front
            # matter, a first heading, a title; else its name, "_" and "-" read as spaces).
            docs, skipped = load_folder(Path(tmp), collection,
                                        {name: {"label": label}} if label else {},
                                        limits.max_bytes, limits)
            if not docs:
                reason = skipped[0].reason if skipped else messages.UPLOAD_NOTHING
                raise Refusal(messages.UPLOAD_UNUSABLE.format(name=name, reason=reason))
            folder.mkdir(parents=True, exist_ok=True)
            if (folder / name).exists():  # another process's add of the name, under way
                raise Refusal(messages.UPLOAD_NAME_BUSY.format(name=name))
            label = label or docs[0].label  # (cleaned as every label is)
            upload = Upload(guild_id, collection, name, label, source, len(data), user_id,
                            self.clock())
            # Hidden (the library reads no hidden file) until its record is written: a
            # process killed meanwhile leaves no document quoted that moderators can neither
            # see nor remove, its name refused as one being added.
            adding = folder / f".{name}.{os.getpid()}.{threading.get_ident()}{ADDING}"
            shutil.move(trial, adding)
        try:
            self.storage.add_upload(upload)
        except BaseException:
            adding.unlink(missing_ok=True)  # no file without its record
            raise
        try:
            os.replace(adding, folder / name)
        except FileNotFoundError:  # put in place by another process's recover(), or gone
            if not (folder / name).exists():
                raise
        self._write_labels(settings, guild_id, collection)
        doc = docs[0]
        log.info("upload added: guild %s, moderator %s, document %s/%s (%d bytes)",
                 guild_id, user_id, collection, name, len(data))
        return Added(upload, len(doc.paragraphs), len(doc.sentences))

    def remove(self, settings: Settings, guild_id: int, user_id: int, name: str) -> Upload:
        upload = self.storage.remove_upload(guild_id, name)
        if upload is None:
            raise Refusal(messages.UPLOAD_UNKNOWN.format(name=name))
        path = upload_root(settings) / str(guild_id) / upload.collection / upload.name
        path.unlink(missing_ok=True)
        self._write_labels(settings, guild_id, upload.collection)
        log.info("upload removed: guild %s, moderator %s, document %s/%s",
                 guild_id, user_id, upload.collection, upload.name)
        return upload

    def _write_labels(self, settings: Settings, guild_id: int, collection: str) -> None:
        """The folder's sources.yaml, from the records: the library reads labels there. Adds
        at once each write it: one at a time, each from the records as they are then (an
        earlier read could drop a label written meanwhile), through a temporary file of its
        own (or one's rename takes the file from under another's)."""
        folder = upload_root(settings) / str(guild_id) / collection
        with self._labels_lock:
            labels = {u.name: {"label": u.label, **({"source": u.source} if u.source else {})}
                      for u in self.storage.uploads(guild_id) if u.collection == collection}
            if folder.is_dir():
                text = yaml.safe_dump(labels, allow_unicode=True, sort_keys=True)
                tmp = folder / f".{LABELS_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(folder / LABELS_FILE)


def max_upload(settings: Settings, guild_id: int) -> int:
    """The largest file this guild may add: its uploads' limit, and never past the size the
    library reads (`documents: max_bytes`), or an upload said to be quotable would be
    skipped."""
    return min(settings.for_guild(guild_id).uploads.max_bytes, settings.max_document_bytes)


def upload_limits(settings: Settings, guild_id: int) -> Limits:
    """Extraction limits for an upload: the library's (`documents:`), tighter where an upload
    is smaller: a zip may unpack to UNPACK_RATIO times the upload limit (a Word file unpacks
    to a few times its size; a bomb to thousands), and a moderator waits EXTRACT_SECONDS."""
    size, library = max_upload(settings, guild_id), settings.document_limits
    return dataclasses.replace(
        library, max_bytes=size, max_unpacked=min(library.max_unpacked, UNPACK_RATIO * size),
        max_seconds=min(library.max_seconds, EXTRACT_SECONDS))


def mislabelled_text(data: bytes) -> str | None:
    """The format of a .txt or .md upload's content when it is not text: a PDF, a Word file,
    a zip, or a whole web page (it opens with <!doctype html> or <html>). Text or Markdown
    that holds a tag ("use <br> for a line break") is text."""
    kind = sniff(data)
    if kind == "HTML" and not _PAGE_START.match(data[:1024]):
        return None
    return None if kind == "TEXT" else kind


def safe_name(filename: str) -> str:
    """A file name safe on any disk, with a supported suffix; Refusal otherwise."""
    base = PurePath(filename.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        raise Refusal(messages.UPLOAD_TYPE.format(name=filename[:100],
                                                  suffixes=", ".join(SUFFIXES)))
    stem = _UNSAFE.sub("_", unicodedata.normalize("NFC", stem)).strip("._")[:MAX_STEM]
    while len(stem.encode("utf-8")) > MAX_STEM_BYTES:  # a disk's limit is 255 bytes a name
        stem = stem[:-1]
    return f"{stem or 'document'}.{suffix.lower()}"
