"""Which document files are unchanged since they were last hashed, known from their stat
alone, as git's index knows it: a start at 1M passages would otherwise read and hash every
file (about 140 MB) only to find that one changed.

A record (file-digests-<key>.json beside the save of that key) holds each file's size,
mtime_ns, ctime_ns and inode, the hash of its bytes, and when that hash was taken. A file
whose stat is the recorded one is trusted to hold the recorded bytes only when its mtime is
older than RACY_NS before the hash was taken: a file written in the same moment as it was
hashed (or within a coarse file system's timestamp step of it) can change again without
its mtime moving, so it is hashed afresh until it has been quiet for that long (git's
"racy git" rule). The ctime cannot be set back by a program (touch, os.utime and copies that
keep mtimes set only the mtime), and a file replaced by another has a new inode.

The record is a cache: a missing or unreadable one only means every file is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "file-digests-"
# A file modified this little before its hash was taken is hashed again at the next scan.
RACY_NS = 2_000_000_000
VERSION = 1

# (size, mtime_ns, ctime_ns, inode): what says a file is the one hashed.
Stat = tuple[int, int, int, int]


def stat_of(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def file_digest(
    path: Path, max_bytes: int, known: FileDigests | None = None,
    st: os.stat_result | None = None,
) -> str | None:
    """Digest of a file's bytes (with known, the recorded one when its stat is trusted);
    its size alone when over max_bytes (it is skipped, not read); None when it cannot be
    read (it is reported and skipped). st: the file's stat, when the caller has it.
    SHA-256, not BLAKE2b: CPUs with SHA instructions hash it about 3 times as fast."""
    try:
        st = st or os.stat(path)
    except OSError:
        return None
    if st.st_size > max_bytes:
        return f"size {st.st_size}"
    if known is not None:
        return known.hash(path, st, _sha256)[0]
    return _sha256(path)


def _sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


class FileDigests:
    """Files' hashes by path, each with the stat the file had and when it was hashed."""

    def __init__(self, entries: dict[str, tuple[Stat, str, int]] | None = None) -> None:
        self.entries = entries or {}  # path -> (stat, hash, hashed at: time.time_ns())
        self.seen: set[str] = set()
        self.trusted: set[str] = set()  # paths whose hash was the recorded one
        self.changed = False

    @classmethod
    def load(cls, root: Path, key: str) -> FileDigests:
        """The record kept for key under root; an empty one when there is none or it cannot
        be read (every file is then hashed)."""
        try:
            data = json.loads((root / f"{PREFIX}{key}.json").read_bytes())
            if data["version"] != VERSION:
                return cls()
            return cls({path: (tuple(stat), digest, int(at))
                        for path, (stat, digest, at) in data["files"].items()})
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the record of file digests cannot be used (%s): every file is hashed",
                        exc)
            return cls()

    def hash(self, path: Path, st: os.stat_result,
             hash_file: Callable[[Path], str | None]) -> tuple[str | None, bool]:
        """path's hash (hash_file(path), None when unreadable) and whether it is the recorded
        one, trusted from st (the file's stat) without reading the file."""
        name = str(path)
        self.seen.add(name)
        stat = stat_of(st)
        known = self.entries.get(name)
        if known is not None and known[0] == stat and stat[1] < known[2] - RACY_NS:
            self.trusted.add(name)
            return known[1], True
        hashed_at = time.time_ns()  # before reading: a write after it makes a later mtime
        digest = hash_file(path)
        if digest is None:
            if self.entries.pop(name, None) is not None:
                self.changed = True
        else:
            self.entries[name] = (stat, digest, hashed_at)
            self.changed = True
        return digest, False

    def save(self, root: Path, key: str) -> None:
        """Write the record for key under root (atomically), with the files seen since it
        was loaded, when any was hashed or is gone; an error is logged, not raised."""
        gone = set(self.entries) - self.seen
        if not (self.changed or gone):
            return
        files = {p: [list(s), d, at] for p, (s, d, at) in self.entries.items() if p not in gone}
        data = json.dumps({"version": VERSION, "files": files}).encode()
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-digests-", dir=root)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, root / f"{PREFIX}{key}.json")
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("the record of file digests not saved in %s (%s): the next start "
                        "hashes every file", root, exc)
            return
        self.changed = False
