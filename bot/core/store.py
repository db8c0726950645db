"""Save a built Corpus on disk and load it back, so a restart with unchanged documents skips
analysis and indexing.

Nothing saved here can run code when loaded: arrays are numpy .npy files read with
allow_pickle=False, everything else is JSON. Every file's size and BLAKE2b checksum is kept
in manifest.json, which carries a checksum of its own, so a damaged, truncated or missing
file is detected and the corpus rebuilt, never trusted. A save writes into a temporary
folder that is renamed into place when complete: a process killed mid-save leaves the
previous saves whole and a temporary folder that the next save removes.

Document texts are not saved: they are read from the files at load and checked against the
checksum of the text that was indexed, so quotes always equal the files' text.

Every field of Corpus is saved under its own name by its type (a BM25Index, a dataclass of
arrays, an array, JSON values), so fields added to Corpus persist without changes here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import math
import mmap
import os
import shutil
import tempfile
import time
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus
from bot.core.documents import Document, Sentence, Span, Spans, iter_files, read_text, span_rows
from bot.core.index import ARRAYS as BM25_ARRAYS
from bot.core.index import BM25Index
from bot.core.model import IndexSettings

log = logging.getLogger(__name__)

# The saved index's format. Bump it with any change to what is saved or what it means (how
# text is split and analysed, the index's arrays, Corpus's fields): the key below holds it,
# so saves of the old format are then rebuilt. A release that leaves it alone keeps every
# user's saved index (the key holds no code).
INDEX_FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "corpus-"
KEEP = 3  # saved corpora kept in the folder (e.g. the bot's and a CLI run's)
STALE_TEMP_SECONDS = 3600  # an older temporary folder is a killed save, not one under way
_HEADER_MAX = 65_536  # an .npy header is far shorter: only this much is parsed as a stream


class StoreError(Exception):
    """The saved corpus cannot be used: missing, for other documents, or damaged."""


# --- key ------------------------------------------------------------------------------------


def fingerprint(
    folders: Sequence[tuple[str, Path]],
    analyzer: Analyzer,
    settings: IndexSettings,
    max_bytes: int,
    labels_file: str = "sources.yaml",
) -> str:
    """Key of a saved corpus: INDEX_FORMAT, the documents (each folder's collection and path,
    each file's name and content digest, the folder's labels file), the largest file read,
    the index settings and the analyzer's identity. A change to any of them is a new key,
    hence a rebuild; a change to the code alone is not (that is what INDEX_FORMAT is for)."""
    folder_parts = []
    for collection, folder in folders:
        folder = folder.resolve()
        files = [(path.relative_to(folder).as_posix(), _file_digest(path, max_bytes))
                 for path in iter_files(folder)]
        labels = folder / labels_file
        labels_hash = _file_digest(labels, max_bytes) if labels.is_file() else None
        folder_parts.append([collection, str(folder), files, labels_hash])
    key = {
        "format": INDEX_FORMAT,
        "index": dataclasses.asdict(settings),
        "analyzer": analyzer_identity(analyzer),
        "max_bytes": max_bytes,
        "folders": folder_parts,
    }
    return hashlib.blake2b(_canonical(key), digest_size=16).hexdigest()


def analyzer_identity(analyzer: Analyzer) -> str:
    """The analyzer's class and settings (stemming, stopwords), as text."""
    state = {
        k: sorted(v) if isinstance(v, frozenset | set) else v
        for k, v in sorted(vars(analyzer).items())
        if isinstance(v, str | int | float | bool | frozenset | set | tuple | type(None))
    }
    return repr((type(analyzer).__qualname__, state))


def _file_digest(path: Path, max_bytes: int) -> str | None:
    """Digest of a file's bytes; its size alone when over max_bytes (it is skipped, not
    read); None when it cannot be read (it is reported and skipped). SHA-256, not BLAKE2b:
    every start hashes every document, and CPUs with SHA instructions do it twice as fast."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return f"size {size}"
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


# --- save -------------------------------------------------------------------------------------


def save(corpus: Corpus, root: Path, key: str, extra: dict[str, Any] | None = None) -> Path:
    """Write corpus under root for key, atomically; `extra` is JSON kept alongside (e.g. the
    skipped files). TypeError when a Corpus field has a type this module cannot save."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        writer = _Writer(tmp)
        fields = {f.name: _save_field(writer, f.name, getattr(corpus, f.name))
                  for f in dataclasses.fields(corpus)}
        body = {"format": INDEX_FORMAT, "key": key, "fields": fields,
                "files": writer.files, "extra": extra or {}}
        writer.write(MANIFEST, _canonical({"body": body, "checksum": _digest(_canonical(body))}))
        _fsync_dir(tmp)
        final = root / f"{PREFIX}{key}"
        if final.exists():  # a damaged save of the same corpus: move it out of the way
            os.rename(final, root / f".old-{tmp.name[5:]}")
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, final)
    return final


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, dict[str, Any]] = {}

    def write(self, name: str, data: bytes) -> None:
        with open(self.folder / name, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if name != MANIFEST:
            self.files[name] = {"size": len(data), "blake2b": _digest(data)}

    def array(self, name: str, array: np.ndarray) -> None:
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: only numeric arrays are saved, not {array.dtype}")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        self.write(f"{name}.npy", buf.getbuffer())

    def json(self, name: str, value: Any) -> None:
        self.write(f"{name}.json", json.dumps(value, ensure_ascii=False).encode())


def _save_field(w: _Writer, name: str, value: Any) -> dict[str, Any]:
    if name == "documents":
        _save_documents(w, value)
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


def _save_documents(w: _Writer, documents: Sequence[Document]) -> None:
    w.json("documents", [
        {"collection": d.collection, "rel": d.rel, "path": str(d.path), "label": d.label,
         "source": d.source, "date": d.date, "chars": len(d.text), "text": _text_digest(d.text)}
        for d in documents
    ])
    w.array("documents.paragraphs",
            np.concatenate([span_rows(d.paragraphs, 2) for d in documents] or [_rows(2)]))
    w.array("documents.sentences",
            np.concatenate([span_rows(d.sentences, 3) for d in documents] or [_rows(3)]))
    w.array("documents.paragraph_counts",
            np.array([len(d.paragraphs) for d in documents], dtype=np.int64))
    w.array("documents.sentence_counts",
            np.array([len(d.sentences) for d in documents], dtype=np.int64))


def _rows(columns: int) -> np.ndarray:
    return np.zeros((0, columns), dtype=np.int64)


def _prune(root: Path, keep: Path) -> None:
    """Remove old saves beyond KEEP, set-aside damaged ones and killed saves' leftovers."""
    now = time.time()
    saved = []
    for entry in root.iterdir():
        try:
            if entry.name.startswith(".old-") or (
                entry.name.startswith(".tmp-") and now - entry.stat().st_mtime > STALE_TEMP_SECONDS
            ):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(PREFIX) and entry != keep:
                saved.append((entry.stat().st_mtime, entry))
        except OSError:
            continue  # another process removed it first
    for _, entry in sorted(saved, reverse=True)[KEEP - 1 :]:
        shutil.rmtree(entry, ignore_errors=True)


# --- load -------------------------------------------------------------------------------------


def load(
    root: Path, key: str, max_bytes: int, shared: bool = False
) -> tuple[Corpus, dict[str, Any]]:
    """The corpus saved for key and its `extra`; StoreError (saying why) when there is none
    or it cannot be trusted. Documents are re-read from their files (up to max_bytes).

    shared: the arrays are read-only memory maps of the saved files rather than copies, so
    processes on one machine that load the same save share one copy of the index in the
    page cache. Every checksum is still verified (by reading through the map, which costs
    no private memory). A save is never changed once written (a new one goes to a new
    folder; pruning unlinks, which leaves a mapped file readable), so the bytes checked are
    the bytes used."""
    folder = root / f"{PREFIX}{key}"
    if not (folder / MANIFEST).is_file():
        raise StoreError("no saved index for these documents and settings")
    try:
        reader = _Reader(folder, shared)
        body = reader.manifest()
        if body.get("format") != INDEX_FORMAT or body.get("key") != key:
            raise StoreError("saved index is for other documents or another version")
        hints = typing.get_type_hints(Corpus)
        names = [f.name for f in dataclasses.fields(Corpus)]
        if set(body["fields"]) != set(names):
            raise StoreError("saved index has other fields than Corpus")
        values = {
            name: _load_field(reader, name, body["fields"][name], hints[name], max_bytes)
            for name in names
        }
        corpus = Corpus(**values)
        os.utime(folder / MANIFEST)  # most recently used: pruned last
    except StoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"saved index is damaged ({type(exc).__name__}: {exc})") from exc
    return corpus, body["extra"]


class _Reader:
    def __init__(self, folder: Path, shared: bool = False) -> None:
        self.folder, self.shared = folder, shared
        self.files: dict[str, dict[str, Any]] = {}

    def manifest(self) -> dict[str, Any]:
        data = json.loads((self.folder / MANIFEST).read_bytes())
        body = data["body"]
        if data["checksum"] != _digest(_canonical(body)):
            raise StoreError("saved index is damaged (manifest checksum)")
        self.files = body["files"]
        return body

    def read(self, name: str, mapped: bool = False) -> bytes | mmap.mmap:
        """The checked bytes of file name: a copy, or with mapped a read-only memory map."""
        spec = self.files.get(name)
        if spec is None:
            raise StoreError(f"saved index is damaged ({name} is not in the manifest)")
        with open(self.folder / name, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if mapped and size:
                data: bytearray | mmap.mmap = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                got = size
            else:
                data = bytearray(size)
                got = fh.readinto(data)
        if got != len(data) or len(data) != spec["size"] or _digest(data) != spec["blake2b"]:
            raise StoreError(f"saved index is damaged ({name} fails its checksum)")
        return data

    def array(self, name: str) -> np.ndarray:
        """The array over the checked bytes themselves (np.load from a BytesIO copies them
        once more); the header is parsed by numpy, object dtypes are refused."""
        data = self.read(f"{name}.npy", mapped=self.shared)
        head = io.BytesIO(data[:_HEADER_MAX])
        version = np.lib.format.read_magic(head)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(head)
        if dtype.hasobject or dtype.kind not in "biuf":
            raise StoreError(f"saved index is damaged ({name} is not a numeric array)")
        count = math.prod(shape)
        if head.tell() + count * dtype.itemsize != len(data):
            raise StoreError(f"saved index is damaged ({name} has the wrong size)")
        flat = np.frombuffer(data, dtype=dtype, count=count, offset=head.tell())
        return flat.reshape(shape, order="F" if fortran else "C")

    def json(self, name: str) -> Any:
        return json.loads(self.read(f"{name}.json"))


def _load_field(r: _Reader, name: str, spec: dict[str, Any], hint: Any, max_bytes: int) -> Any:
    kind = spec["kind"]
    if kind == "documents":
        return _load_documents(r, max_bytes)
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


def _load_documents(r: _Reader, max_bytes: int) -> tuple[Document, ...]:
    meta = r.json("documents")
    paragraphs, sentences = r.array("documents.paragraphs"), r.array("documents.sentences")
    p_counts = r.array("documents.paragraph_counts")
    s_counts = r.array("documents.sentence_counts")
    if not (len(meta) == len(p_counts) == len(s_counts)
            and int(p_counts.sum()) == len(paragraphs) and int(s_counts.sum()) == len(sentences)
            and paragraphs.shape[1:] == (2,) and sentences.shape[1:] == (3,)):
        raise StoreError("saved index is damaged (document tables do not match)")
    p_ends, s_ends = np.cumsum(p_counts).tolist(), np.cumsum(s_counts).tolist()
    documents = []
    p_at = s_at = 0
    for m, p_end, s_end in zip(meta, p_ends, s_ends, strict=True):
        path = Path(m["path"])
        try:
            text = read_text(path, max_bytes)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path} cannot be read again ({exc})") from exc
        if len(text) != m["chars"] or _text_digest(text) != m["text"]:
            raise StoreError(f"{path} changed since the index was saved")
        documents.append(Document(
            collection=m["collection"], rel=m["rel"], path=path, text=text, label=m["label"],
            source=m["source"], date=m["date"],
            paragraphs=Spans(Span, paragraphs[p_at:p_end]),
            sentences=Spans(Sentence, sentences[s_at:s_end]),
        ))
        p_at, s_at = p_end, s_end
    return tuple(documents)


# --- helpers ----------------------------------------------------------------------------------


def _digest(data: bytes | memoryview) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _text_digest(text: str) -> str:
    return _digest(text.encode("utf-8", "surrogatepass"))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False).encode()


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
