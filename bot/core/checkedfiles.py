"""Folders of checksummed files, written atomically and read back only when every byte
checks out: the reader and writer under bot/core/store.py's saves.

A folder holds files and a manifest.json listing each file's size and SHA-256 checksum,
with a checksum of its own. It is written under a temporary name and renamed into place
when complete, so a process killed mid-write leaves no half folder under the final name;
the writer holds a lock on the temporary folder, so that `tidy` removes a killed writer's
leftovers at once and never a living writer's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import math
import mmap
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CHECKSUM = "sha256"  # the manifest's name for a file's checksum (digest below)
_HEADER_MAX = 65_536  # an .npy header is far shorter: only this much is parsed as a stream
TEMP = ".tmp-"  # a folder being written (or a killed writer's)
OLD = ".old-"  # a folder replaced by a newer one, removed once the newer one is in place
# A temporary folder younger than this may not hold its writer's lock yet: tidy keeps it.
LOCK_GRACE_SECONDS = 5.0


class StoreError(Exception):
    """The saved corpus cannot be used: missing, for other documents, or damaged."""


def save_folder(root: Path, name: str, write: Callable[[Writer], dict[str, Any]]) -> Path:
    """Write a folder of checksummed files, and its manifest last, under a temporary name
    renamed to root/name when complete; the folder it replaces is removed (a process that
    mapped its files keeps reading them)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TEMP, dir=root))
    lock = os.open(tmp, os.O_RDONLY)
    old = None
    try:
        # Held while writing: tidy() leaves the folder alone. (A file system without locks
        # refuses it: the save goes on, and tidy, refused too, leaves the folder to its age.)
        with contextlib.suppress(OSError):
            fcntl.flock(lock, fcntl.LOCK_EX)
        writer = Writer(tmp)
        body = write(writer)
        body["files"] = writer.files
        writer.write(MANIFEST, canonical({"body": body, "checksum": digest(canonical(body))}))
        fsync_dir(tmp)
        final = root / name
        if final.exists():  # a damaged or superseded save: move it out of the way
            old = root / f"{OLD}{tmp.name[len(TEMP):]}"
            os.rename(final, old)
        os.rename(tmp, final)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def tidy(root: Path, stale_seconds: float) -> None:
    """Remove what killed or interrupted writers left in root: replaced folders (OLD),
    temporary folders whose writer is gone (its lock is free), and any temporary file or
    folder older than stale_seconds. Errors are ignored (another process may tidy too, or
    the folder is read-only)."""
    now = time.time()
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name.startswith(OLD):
                _remove(entry)
            elif entry.name.startswith(TEMP):
                st = entry.lstat()
                age = now - st.st_mtime
                if age > stale_seconds:
                    _remove(entry)
                elif age > LOCK_GRACE_SECONDS and stat.S_ISDIR(st.st_mode):
                    _remove_unlocked(entry)
        except OSError:
            continue  # another process removed it first, or it cannot be removed


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink()


def _remove_unlocked(folder: Path) -> None:
    """Remove a temporary folder if no writer holds its lock."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a save under way
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)


class Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, dict[str, Any]] = {}

    def write(self, name: str, data: bytes) -> None:
        with open(self.folder / name, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if name != MANIFEST:
            self.files[name] = {"size": len(data), CHECKSUM: digest(data)}

    def array(self, name: str, array: np.ndarray) -> None:
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: only numeric arrays are saved, not {array.dtype}")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
        self.write(f"{name}.npy", buf.getbuffer())

    def json(self, name: str, value: Any) -> None:
        self.write(f"{name}.json", json.dumps(value, ensure_ascii=False).encode())


class Reader:
    def __init__(self, folder: Path, shared: bool = False) -> None:
        self.folder, self.shared = folder, shared
        self.files: dict[str, dict[str, Any]] = {}
        self._ahead: dict[str, Future[bytes | mmap.mmap]] = {}  # see read_ahead

    def read_ahead(self, pool: Executor) -> None:
        """Read and check every array file of the manifest in pool's threads, for array() to
        take: SHA-256 and file reads release the GIL, so on two cores a 1M save's 420 MB are
        checked in about half the time."""
        for name in self.files:
            if name.endswith(".npy"):
                self._ahead[name] = pool.submit(self.read, name, self.shared)

    def manifest(self) -> dict[str, Any]:
        data = json.loads((self.folder / MANIFEST).read_bytes())
        body = data["body"]
        if data["checksum"] != digest(canonical(body)):
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
        if got != len(data) or len(data) != spec["size"] or digest(data) != spec[CHECKSUM]:
            raise StoreError(f"saved index is damaged ({name} fails its checksum)")
        return data

    def array(self, name: str) -> np.ndarray:
        """The array over the checked bytes themselves (np.load from a BytesIO copies them
        once more); the header is parsed by numpy, object dtypes are refused."""
        ahead = self._ahead.pop(f"{name}.npy", None)
        data = ahead.result() if ahead else self.read(f"{name}.npy", mapped=self.shared)
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


def digest(data: bytes | memoryview) -> str:
    """SHA-256, not BLAKE2b: a start checks every byte of the save (287 MB at 1M passages),
    and with the CPU's SHA instructions OpenSSL's SHA-256 is about 3 times faster (1.5 GB/s
    against 0.5 on this project's 2-core machine)."""
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


# json.dumps(value, sort_keys=True, ensure_ascii=False)'s encoder, made once: a start digests
# each document file's entry (100k files: 0.2 s making encoders).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
