"""Save a built Corpus on disk and load it back, so a restart with unchanged documents skips
analysis and indexing.

Nothing saved here can run code when loaded: arrays are numpy .npy files read with
allow_pickle=False, everything else is JSON. Every file's size and BLAKE2b checksum is kept
in manifest.json, which carries a checksum of its own, so a damaged, truncated or missing
file is detected and the corpus rebuilt, never trusted. A save writes into a temporary
folder that is renamed into place when complete: a process killed mid-save leaves the
previous saves whole and a temporary folder that the next save removes.

Document texts are not saved: they are read from the files at load (a PDF, HTML or DOCX
file's extracted text from the extraction cache in EXTRACTED beside the saves) and checked
against the checksum of the text that was indexed, so quotes always equal the documents' text.

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
import os
import shutil
import tempfile
import time
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.core import extract
from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus
from bot.core.documents import Document, Sentence, Span, Spans, read_text, span_rows
from bot.core.extract.batch import extract_files
from bot.core.extract.model import Limits
from bot.core.index import ARRAYS as BM25_ARRAYS
from bot.core.index import BM25Index
from bot.core.model import IndexSettings
from bot.core.segments import Delta

log = logging.getLogger(__name__)

# The saved index's format. Bump it with any change to what is saved or what it means (how
# text is split and analysed, the index's arrays, Corpus's fields): the key below holds it,
# so saves of the old format are then rebuilt. A release that leaves it alone keeps every
# user's saved index (the key holds no code).
# 2: documents keep their pages and headings; 3: per-document digests and a delta segment
INDEX_FORMAT = 3
MANIFEST = "manifest.json"
PREFIX = "corpus-"
EXTRACTED = "extracted"  # the extraction cache's folder under the index folder
STALE = "stale"  # the digest of a loaded document whose file changed since it was saved
DELTA_PREFIX = "delta-"  # the update segment saved beside corpus-<key> (see save_delta)
KEEP = 3  # saved corpora kept in the folder (e.g. the bot's and a CLI run's)
STALE_TEMP_SECONDS = 3600  # an older temporary folder is a killed save, not one under way


class StoreError(Exception):
    """The saved corpus cannot be used: missing, for other documents, or damaged."""


# --- key ------------------------------------------------------------------------------------


def fingerprint(
    folders: Sequence[tuple[str, Path]],
    analyzer: Analyzer,
    settings: IndexSettings,
    max_bytes: int,
    limits: Limits | None = None,
) -> str:
    """Key of a saved corpus: INDEX_FORMAT, the folders (each one's collection and path), the
    largest file read, the extraction limits (default Limits(max_bytes)), the index settings
    and the analyzer's identity. A change to any of them is a new key, hence a full rebuild;
    a change to the documents is not (their digests, document_digest, decide what an update
    adds and removes), nor one to the code alone (that is what INDEX_FORMAT is for)."""
    key = {
        "format": INDEX_FORMAT,
        "index": dataclasses.asdict(settings),
        "analyzer": analyzer_identity(analyzer),
        "max_bytes": max_bytes,
        # Which PDF, HTML and DOCX files are read (or skipped as past a limit) depends on them.
        "limits": dataclasses.asdict(limits or Limits(max_bytes=max_bytes)),
        "folders": [[collection, str(folder.resolve())] for collection, folder in folders],
    }
    return hashlib.blake2b(_canonical(key), digest_size=16).hexdigest()


def document_digest(path: Path, max_bytes: int, labels: dict[str, str] | None = None) -> str:
    """A document's digest: its file's bytes and its entry in the labels file, so that a
    changed label re-reads the document as a changed text does. "unreadable" when the file
    cannot be read (it is reported and skipped)."""
    digest = _file_digest(path, max_bytes)
    if digest is None:
        return "unreadable"
    return _digest(_canonical([digest, labels or {}]))


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
    skipped files). TypeError when a Corpus field has a type this module cannot save. The
    delta segment saved for key, if any, is removed: it was relative to the previous save."""

    def write(writer: _Writer) -> dict[str, Any]:
        fields = {f.name: _save_field(writer, f.name, getattr(corpus, f.name))
                  for f in dataclasses.fields(corpus)}
        return {"format": INDEX_FORMAT, "key": key, "fields": fields, "extra": extra or {}}

    final = _save_folder(root, f"{PREFIX}{key}", write)
    shutil.rmtree(root / f"{DELTA_PREFIX}{key}", ignore_errors=True)
    _prune(root, final)
    return final


def save_delta(
    root: Path, key: str, main: str, delta: Delta, extra: dict[str, Any] | None = None
) -> Path:
    """Write the delta segment of the corpus saved for key (see bot/core/segments.py),
    atomically, replacing the previous one. `main` is the identity (main_id) of the save the
    delta applies to: a delta is never applied to another."""

    def write(writer: _Writer) -> dict[str, Any]:
        _save_documents(writer, delta.added)
        terms = [t for terms, _, _ in delta.analysed for t in terms]
        writer.json("delta", {"removed": list(delta.removed), "digests": list(delta.digests),
                              "removed_passages": delta.removed_passages, "terms": terms})
        writer.array("delta.term_counts", np.array(
            [len(terms) for terms, _, _ in delta.analysed], dtype=np.int64))
        writer.array("delta.ids", np.concatenate(
            [ids for _, ids, _ in delta.analysed] or [np.zeros(0, np.int32)]))
        writer.array("delta.lengths", np.concatenate(
            [lengths for _, _, lengths in delta.analysed] or [np.zeros(0, np.int32)]))
        return {"format": INDEX_FORMAT, "key": key, "main": main, "extra": extra or {}}

    return _save_folder(root, f"{DELTA_PREFIX}{key}", write)


def main_id(root: Path, key: str) -> str:
    """The identity of the corpus saved for key (its manifest's checksum); StoreError when
    there is none."""
    try:
        data = json.loads((root / f"{PREFIX}{key}" / MANIFEST).read_bytes())
        return str(data["checksum"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"no saved index to update ({exc})") from exc


def _save_folder(root: Path, name: str, write: Callable[[_Writer], dict[str, Any]]) -> Path:
    """Write a folder of checksummed files, and its manifest last, under a temporary name
    renamed to root/name when complete."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        writer = _Writer(tmp)
        body = write(writer)
        body["files"] = writer.files
        writer.write(MANIFEST, _canonical({"body": body, "checksum": _digest(_canonical(body))}))
        _fsync_dir(tmp)
        final = root / name
        if final.exists():  # a damaged or superseded save: move it out of the way
            os.rename(final, root / f".old-{tmp.name[5:]}")
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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
         "source": d.source, "date": d.date, "chars": len(d.text), "text": _text_digest(d.text),
         "pages": [list(r) for r in d.pages], "headings": [list(r) for r in d.headings]}
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
        shutil.rmtree(root / f"{DELTA_PREFIX}{entry.name[len(PREFIX):]}", ignore_errors=True)


# --- load -------------------------------------------------------------------------------------


def load(
    root: Path, key: str, max_bytes: int, limits: Limits | None = None, stale_ok: bool = False
) -> tuple[Corpus, dict[str, Any]]:
    """The corpus saved for key and its `extra`; StoreError (saying why) when there is none
    or it cannot be trusted. Documents are re-read from their files (up to max_bytes; PDF,
    HTML and DOCX files within limits, default Limits(max_bytes), as when they were saved);
    one that changed or is gone since is a StoreError, or with stale_ok, comes back without
    text and with the digest STALE, for an update to remove (bot/core/segments.py)."""
    limits = limits or Limits(max_bytes=max_bytes)
    folder = root / f"{PREFIX}{key}"
    if not (folder / MANIFEST).is_file():
        raise StoreError("no saved index for these documents and settings")
    try:
        reader = _Reader(folder)
        body = reader.manifest()
        if body.get("format") != INDEX_FORMAT or body.get("key") != key:
            raise StoreError("saved index is for other documents or another version")
        hints = typing.get_type_hints(Corpus)
        names = [f.name for f in dataclasses.fields(Corpus)]
        if set(body["fields"]) != set(names):
            raise StoreError("saved index has other fields than Corpus")
        stale: list[int] | None = [] if stale_ok else None
        values = {
            name: _load_field(reader, name, body["fields"][name], hints[name], limits, stale)
            for name in names
        }
        corpus = Corpus(**values)
        if stale:
            digests = list(corpus.digests)
            for i in stale:
                digests[i] = STALE
            corpus = dataclasses.replace(corpus, digests=tuple(digests))
        os.utime(folder / MANIFEST)  # most recently used: pruned last
    except StoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"saved index is damaged ({type(exc).__name__}: {exc})") from exc
    return corpus, body["extra"]


def load_delta(
    root: Path, key: str, max_bytes: int, limits: Limits | None = None
) -> tuple[Delta, dict[str, Any]]:
    """The delta segment saved for the corpus saved under key, and its `extra`; an empty one
    when there is none; StoreError (saying why) when it is damaged or belongs to another
    save of that corpus. Its documents are read again as load reads them; one that changed
    since has the digest STALE, for an update to remove."""
    limits = limits or Limits(max_bytes=max_bytes)
    folder = root / f"{DELTA_PREFIX}{key}"
    if not (folder / MANIFEST).is_file():
        return Delta(), {}
    try:
        reader = _Reader(folder)
        body = reader.manifest()
        if body.get("format") != INDEX_FORMAT or body.get("key") != key:
            raise StoreError("saved update is for other documents or another version")
        if body.get("main") != main_id(root, key):
            raise StoreError("saved update belongs to another save of the index")
        stale: list[int] = []
        added = _load_documents(reader, limits, stale)
        meta = reader.json("delta")
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
    except StoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"saved update is damaged ({type(exc).__name__}: {exc})") from exc
    return delta, body["extra"]


class _Reader:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, dict[str, Any]] = {}

    def manifest(self) -> dict[str, Any]:
        data = json.loads((self.folder / MANIFEST).read_bytes())
        body = data["body"]
        if data["checksum"] != _digest(_canonical(body)):
            raise StoreError("saved index is damaged (manifest checksum)")
        self.files = body["files"]
        return body

    def read(self, name: str) -> bytes:
        spec = self.files.get(name)
        if spec is None:
            raise StoreError(f"saved index is damaged ({name} is not in the manifest)")
        with open(self.folder / name, "rb") as fh:
            data = bytearray(os.fstat(fh.fileno()).st_size)
            got = fh.readinto(data)
        if got != len(data) or len(data) != spec["size"] or _digest(data) != spec["blake2b"]:
            raise StoreError(f"saved index is damaged ({name} fails its checksum)")
        return data

    def array(self, name: str) -> np.ndarray:
        """The array over the checked bytes themselves (np.load from a BytesIO copies them
        once more); the header is parsed by numpy, object dtypes are refused."""
        data = self.read(f"{name}.npy")
        head = io.BytesIO(data)
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


def _load_field(
    r: _Reader, name: str, spec: dict[str, Any], hint: Any, limits: Limits,
    stale: list[int] | None = None,
) -> Any:
    kind = spec["kind"]
    if kind == "documents":
        return _load_documents(r, limits, stale)
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


def _load_documents(
    r: _Reader, limits: Limits, stale: list[int] | None = None
) -> tuple[Document, ...]:
    """The documents, their texts read again; one that changed is a StoreError, or with a
    list `stale`, numbered there and given no text."""
    meta = r.json("documents")
    paragraphs, sentences = r.array("documents.paragraphs"), r.array("documents.sentences")
    p_counts = r.array("documents.paragraph_counts")
    s_counts = r.array("documents.sentence_counts")
    if not (len(meta) == len(p_counts) == len(s_counts)
            and int(p_counts.sum()) == len(paragraphs) and int(s_counts.sum()) == len(sentences)
            and paragraphs.shape[1:] == (2,) and sentences.shape[1:] == (3,)):
        raise StoreError("saved index is damaged (document tables do not match)")
    p_ends, s_ends = np.cumsum(p_counts).tolist(), np.cumsum(s_counts).tolist()
    extracted = extract_files(
        [p for m in meta if (p := Path(m["path"])).suffix.lower() in extract.SUFFIXES],
        limits, r.folder.parent / EXTRACTED,
    )
    documents = []
    p_at = s_at = 0
    for m, p_end, s_end in zip(meta, p_ends, s_ends, strict=True):
        path = Path(m["path"])
        try:
            got = extracted[path] if path in extracted else read_text(path, limits.max_bytes)
            if isinstance(got, str) and path in extracted:
                raise ValueError(got)  # the reason it can no longer be extracted
            text = got if isinstance(got, str) else got.text
            if len(text) != m["chars"] or _text_digest(text) != m["text"]:
                raise StoreError(f"{path} changed since the index was saved")
        except (OSError, ValueError, StoreError) as exc:
            if stale is None:
                raise StoreError(f"{path} cannot be read again ({exc})") from exc
            stale.append(len(documents))
            text = ""
        documents.append(Document(
            collection=m["collection"], rel=m["rel"], path=path, text=text, label=m["label"],
            source=m["source"], date=m["date"],
            paragraphs=Spans(Span, paragraphs[p_at:p_end]),
            sentences=Spans(Sentence, sentences[s_at:s_end]),
            pages=tuple(tuple(x) for x in m["pages"]),
            headings=tuple(tuple(x) for x in m["headings"]),
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
