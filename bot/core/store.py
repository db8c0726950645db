"""Save a built Corpus on disk and load it back, so a restart with unchanged documents skips
analysis and indexing.

Nothing saved here can run code when loaded: arrays are numpy .npy files read with
allow_pickle=False, everything else is JSON. Every file's size and SHA-256 checksum is kept
in manifest.json, which carries a checksum of its own, so a damaged, truncated or missing
file is detected and the corpus rebuilt, never trusted. A save writes into a temporary
folder that is renamed into place when complete: a process killed mid-save leaves the
previous saves whole and a temporary folder that the next start or save removes (its
writer's lock is free: bot/core/checkedfiles.py); a save replaced by a newer one (a delta
by the next update) is removed once the newer one is in place.

Document texts are read from the files at load (a PDF, HTML or DOCX file's extracted text
from the extraction cache in EXTRACTED beside the saves) and checked against the checksum of
the text that was indexed, so a changed document is found, unless the caller's scan knows
from the file's stat that it holds the bytes indexed; the texts quoted are the save's
own copy of those same texts (bot/core/storedocuments.py), shared between processes with
shared=True.

Every field of Corpus is saved under its own name by its type (a BM25Index, a dataclass of
arrays, an array, JSON values), so fields added to Corpus persist without changes here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import typing
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bot.core import filedigests, storekey
from bot.core.checkedfiles import (
    MANIFEST,
    Reader,
    StoreError,
    Writer,
    save_folder,
    tidy,
)
from bot.core.corpus import Corpus, posting_paragraphs
from bot.core.extract.model import Limits
from bot.core.index import ARRAYS as BM25_ARRAYS
from bot.core.index import BM25Index
from bot.core.segments import Delta
from bot.core.storedocuments import load_documents, save_documents

log = logging.getLogger(__name__)


class NoSave(StoreError):
    """Nothing is saved for these documents and settings (a first build, or a key that
    changed): not damage, so the caller need not warn of it; the build announces itself."""

PREFIX = "corpus-"
EXTRACTED = "extracted"  # the extraction cache's folder under the index folder
STALE = "stale"  # the digest of a loaded document whose file changed since it was saved
DELTA_PREFIX = "delta-"  # the update segment saved beside corpus-<key> (see save_delta)
KEEP = 3  # saved corpora kept in the folder (e.g. the bot's and a CLI run's)
STALE_TEMP_SECONDS = 3600  # an older temporary file is a killed writer's, not one under way


# --- save -------------------------------------------------------------------------------------


def save(corpus: Corpus, root: Path, key: str, extra: dict[str, Any] | None = None) -> Path:
    """Write corpus under root for key, atomically; `extra` is JSON kept alongside (e.g. the
    folders it was made for: see made_for), by default the extra of the save it replaces.
    TypeError when a Corpus field has a type this module cannot save. The delta segment
    saved for key, if any, is removed: it was relative to the previous save."""
    if extra is None:
        extra = _manifest(root / f"{PREFIX}{key}").get("extra") or {}

    if corpus.posting_para is None:  # (an updated corpus, merged: the save carries it)
        corpus = dataclasses.replace(
            corpus, posting_para=posting_paragraphs(corpus.passages, corpus.index))

    def write(writer: Writer) -> dict[str, Any]:
        fields = {f.name: _save_field(writer, f.name, getattr(corpus, f.name))
                  for f in dataclasses.fields(corpus)}
        return {"format": storekey.INDEX_FORMAT, "key": key, "fields": fields, "extra": extra or {}}

    final = save_folder(root, f"{PREFIX}{key}", write)
    shutil.rmtree(root / f"{DELTA_PREFIX}{key}", ignore_errors=True)
    _prune(root, final)
    return final


def save_delta(
    root: Path, key: str, main: str, delta: Delta, extra: dict[str, Any] | None = None
) -> Path:
    """Write the delta segment of the corpus saved for key (see bot/core/segments.py),
    atomically, replacing the previous one. `main` is the identity (main_id) of the save the
    delta applies to: a delta is never applied to another."""

    def write(writer: Writer) -> dict[str, Any]:
        save_documents(writer, delta.added)
        terms = [t for terms, _, _ in delta.analysed for t in terms]
        writer.json("delta", {"removed": list(delta.removed), "digests": list(delta.digests),
                              "removed_passages": delta.removed_passages, "terms": terms})
        writer.array("delta.term_counts", np.array(
            [len(terms) for terms, _, _ in delta.analysed], dtype=np.int64))
        writer.array("delta.ids", np.concatenate(
            [ids for _, ids, _ in delta.analysed] or [np.zeros(0, np.int32)]))
        writer.array("delta.lengths", np.concatenate(
            [lengths for _, _, lengths in delta.analysed] or [np.zeros(0, np.int32)]))
        return {"format": storekey.INDEX_FORMAT, "key": key, "main": main, "extra": extra or {}}

    final = save_folder(root, f"{DELTA_PREFIX}{key}", write)
    tidy(root, STALE_TEMP_SECONDS)
    return final


def made_for(root: Path) -> list[Any]:
    """The `folders` extra of each save in root: None for a save that does not say (one made
    by quotebot before it did, or one without a readable manifest)."""
    try:
        saves = [e for e in root.iterdir() if e.name.startswith(PREFIX)]
    except OSError:
        return []
    return [(_manifest(e).get("extra") or {}).get("folders") for e in saves]


def _manifest(folder: Path) -> dict[str, Any]:
    """The body of a save's manifest, or {} when it has none that can be read."""
    try:
        body = json.loads((folder / MANIFEST).read_bytes())["body"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def main_id(root: Path, key: str) -> str:
    """The identity of the corpus saved for key (its manifest's checksum); StoreError when
    there is none."""
    try:
        data = json.loads((root / f"{PREFIX}{key}" / MANIFEST).read_bytes())
        return str(data["checksum"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"no saved index to update ({exc})") from exc


def _save_field(w: Writer, name: str, value: Any) -> dict[str, Any]:
    if name == "documents":
        save_documents(w, value)
        return {"kind": "documents"}
    if isinstance(value, BM25Index):
        w.json(name, value.meta())
        for part, array in value.arrays().items():
            w.array(f"{name}.{part}", array)
        return {"kind": "bm25"}
    if isinstance(value, np.ndarray):
        w.array(name, value)
        return {"kind": "array"}
    if dataclasses.is_dataclass(value) and _array_fields(value):
        for part in _array_fields(value):
            w.array(f"{name}.{part}", getattr(value, part))
        return {"kind": "arrays"}
    if _is_json(value):
        w.json(name, value)
        return {"kind": "json", "tuple": isinstance(value, tuple)}
    raise TypeError(
        f"Corpus.{name} ({type(value).__name__}) cannot be saved: give it a BM25Index, numpy "
        "array, dataclass of arrays or JSON type, or teach bot/core/store.py to save it"
    )


def _array_fields(value: Any) -> list[str]:
    """Init fields of a dataclass if all are arrays (others are derived in __post_init__)."""
    names = [f.name for f in dataclasses.fields(value) if f.init]
    ok = names and all(isinstance(getattr(value, n), np.ndarray) for n in names)
    return names if ok else []


def tidy_saves(root: Path) -> None:
    """Remove killed saves' leftovers and replaced saves from root (a start calls it: a
    process killed while it saved leaves a temporary folder of up to a whole index)."""
    tidy(root, STALE_TEMP_SECONDS)


def _prune(root: Path, keep: Path) -> None:
    """Remove old saves beyond KEEP, set-aside damaged ones and killed saves' leftovers."""
    tidy(root, STALE_TEMP_SECONDS)
    saved = []
    for entry in root.iterdir():
        try:
            if entry.name.startswith(PREFIX) and entry != keep:
                saved.append((entry.stat().st_mtime, entry))
        except OSError:
            continue  # another process removed it first
    for _, entry in sorted(saved, reverse=True)[KEEP - 1 :]:
        shutil.rmtree(entry, ignore_errors=True)
        shutil.rmtree(root / f"{DELTA_PREFIX}{entry.name[len(PREFIX):]}", ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(root / f"{filedigests.PREFIX}{entry.name[len(PREFIX):]}.json")


# --- load -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _damaged(what: str) -> Iterator[None]:
    """Any error reading a save is a StoreError saying `what` is damaged (a StoreError raised
    inside says why itself)."""
    try:
        yield
    except StoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"{what} is damaged ({type(exc).__name__}: {exc})") from exc


def load(
    root: Path, key: str, max_bytes: int, limits: Limits | None = None,
    stale_ok: bool = False, shared: bool = False,
    files: Mapping[tuple[str, str], tuple[str, bool]] | None = None,
) -> tuple[Corpus, dict[str, Any]]:
    """The corpus saved for key and its `extra`; StoreError (saying why) when there is none
    or it cannot be trusted. Documents are re-read from their files (up to max_bytes; PDF,
    HTML and DOCX files within limits, default Limits(max_bytes), as when they were saved);
    one that changed or is gone since is a StoreError, or with stale_ok, comes back without
    text and with the digest STALE, for an update to remove (bot/core/segments.py).

    files: the documents' files as just scanned ((collection, path) -> (digest, whether it
    is known from the file's stat)): a document whose file is trusted to be unchanged is not
    read again, one whose file has another digest or is gone is stale unread
    (storedocuments.load_documents).

    shared: the arrays are read-only memory maps of the saved files rather than copies, so
    processes on one machine that load the same save share one copy of the index in the
    page cache. Every checksum is still verified (by reading through the map, which costs
    no private memory). A save is never changed once written (a new one, or a merge, goes
    to a new folder renamed into place; the old one is unlinked, which leaves a mapped file
    readable), so the bytes checked are the bytes used."""
    limits = limits or Limits(max_bytes=max_bytes)
    folder = root / f"{PREFIX}{key}"
    if not (folder / MANIFEST).is_file():
        raise NoSave("no saved index for these documents and settings")
    with _damaged("saved index"):
        reader = Reader(folder, shared)
        body = reader.manifest()
        if body.get("format") != storekey.INDEX_FORMAT or body.get("key") != key:
            raise StoreError("saved index is for other documents or another version")
        hints = typing.get_type_hints(Corpus)
        names = [f.name for f in dataclasses.fields(Corpus)]
        if set(body["fields"]) != set(names):
            raise StoreError("saved index has other fields than Corpus")
        stale: list[int] | None = [] if stale_ok else None
        values: dict[str, Any] = {}
        pool = ThreadPoolExecutor(os.cpu_count() or 1)
        try:
            reader.read_ahead(pool)
            # The digests first: loading the documents compares them with the files'.
            for name in sorted(names, key=lambda n: n != "digests"):
                values[name] = _load_field(reader, name, body["fields"][name], hints[name],
                                           limits, stale, files, values.get("digests", ()))
        finally:  # (on a failure, the reads not yet begun are dropped: a rebuild waits)
            pool.shutdown(cancel_futures=True)
        corpus = Corpus(**values)
        if stale:
            digests = list(corpus.digests)
            for i in stale:
                digests[i] = STALE
            corpus = dataclasses.replace(corpus, digests=tuple(digests))
        # Most recently used: pruned last (not on a read-only folder, where nothing is).
        with contextlib.suppress(OSError):
            os.utime(folder / MANIFEST)
    return corpus, body["extra"]


def load_delta(
    root: Path, key: str, max_bytes: int, limits: Limits | None = None,
    files: Mapping[tuple[str, str], tuple[str, bool]] | None = None,
) -> tuple[Delta, dict[str, Any]]:
    """The delta segment saved for the corpus saved under key, and its `extra`; an empty one
    when there is none; StoreError (saying why) when it is damaged or belongs to another
    save of that corpus. Its documents are read again as load reads them; one that changed
    since has the digest STALE, for an update to remove; files as for load."""
    limits = limits or Limits(max_bytes=max_bytes)
    folder = root / f"{DELTA_PREFIX}{key}"
    if not (folder / MANIFEST).is_file():
        return Delta(), {}
    with _damaged("saved update"):
        reader = Reader(folder)
        body = reader.manifest()
        if body.get("format") != storekey.INDEX_FORMAT or body.get("key") != key:
            raise StoreError("saved update is for other documents or another version")
        if body.get("main") != main_id(root, key):
            raise StoreError("saved update belongs to another save of the index")
        stale: list[int] = []
        meta = reader.json("delta")
        added = load_documents(reader, limits, root / EXTRACTED, stale, files, meta["digests"])
        term_counts = reader.array("delta.term_counts").tolist()
        ids, lengths = reader.array("delta.ids"), reader.array("delta.lengths")
        analysed = []
        t_at = i_at = p_at = 0
        for doc, n_terms in zip(added, term_counts, strict=True):
            passages = lengths[p_at : p_at + len(doc.sentences)]
            n_ids = int(passages.sum())
            chunk_ids = ids[i_at : i_at + n_ids]
            if len(passages) != len(doc.sentences) or len(chunk_ids) != n_ids or (
                    n_ids and int(chunk_ids.max()) >= n_terms):
                raise StoreError("saved update is damaged (its passages do not match)")
            analysed.append((meta["terms"][t_at : t_at + n_terms], chunk_ids, passages))
            t_at, i_at, p_at = t_at + n_terms, i_at + n_ids, p_at + len(doc.sentences)
        if (t_at, i_at, p_at) != (len(meta["terms"]), len(ids), len(lengths)):
            raise StoreError("saved update is damaged (its passages do not match)")
        digests = [STALE if i in stale else g for i, g in enumerate(meta["digests"])]
        delta = Delta(tuple(meta["removed"]), added, tuple(digests), tuple(analysed),
                      int(meta["removed_passages"]))
        if len(delta.digests) != len(added):
            raise StoreError("saved update is damaged (its digests do not match)")
    return delta, body["extra"]


def _load_field(
    r: Reader, name: str, spec: dict[str, Any], hint: Any, limits: Limits,
    stale: list[int] | None = None,
    files: Mapping[tuple[str, str], tuple[str, bool]] | None = None,
    digests: Sequence[str] = (),
) -> Any:
    kind = spec["kind"]
    if kind == "documents":
        return load_documents(r, limits, r.folder.parent / EXTRACTED, stale, files, digests)
    if kind == "bm25":
        meta = r.json(name)
        return BM25Index.from_parts(meta, {p: r.array(f"{name}.{p}") for p in BM25_ARRAYS})
    if kind == "array":
        return r.array(name)
    if kind == "arrays":
        cls = typing.get_origin(hint) or hint
        parts = [f.name for f in dataclasses.fields(cls) if f.init]
        arrays = {p: r.array(f"{name}.{p}") for p in parts}
        if len({len(a) for a in arrays.values()}) > 1:
            raise StoreError(f"saved index is damaged ({name} columns differ in length)")
        return cls(**arrays)
    if kind == "json":
        value = r.json(name)
        return tuple(value) if spec.get("tuple") else value
    raise StoreError(f"saved index has a field of unknown kind {kind!r}")


# --- helpers ----------------------------------------------------------------------------------


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False
