"""Extract many files: cached by content, in worker processes with a time limit each.

The cache keeps one JSON file per (file content, extraction code, limits) under a folder
(the index folder's `extracted/`), so a restart re-extracts nothing and a changed file is
re-extracted alone. A file's failure is cached too: a scanned PDF is not re-tried on every
start. Nothing in the cache runs code when loaded; a damaged entry is extracted again. An
entry unused for CACHE_KEEP_DAYS (an old version of a file, a removed file) is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.pool
import os
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.core.chunks import POOL_FAILED, worker_starting
from bot.core.extract import extract
from bot.core.extract.model import Extracted, ExtractError, Limits

log = logging.getLogger(__name__)

CACHE_VERSION = 1
# Beyond a task's own time limit (enforced inside the worker), how long the parent waits
# before it kills the pool: the worker may be stuck in C code that never checks its alarm.
GRACE_SECONDS = 5.0
MAX_WORKERS = 4
CACHE_KEEP_DAYS = 30
REALARM_SECONDS = 0.1
STARTUP_SECONDS = 30.0  # for a pool's first answer; workers that cannot start never answer
STARTUP_POLL_SECONDS = 0.1  # how often the wait for it looks for workers that exited
_LIBRARIES = ("pypdf", "lxml", "python-docx")


def extract_files(
    paths: Sequence[Path], limits: Limits | None = None, cache_dir: Path | None = None,
    workers: int | None = None,
) -> dict[Path, Extracted | str]:
    """Each path's extracted text, or the reason it cannot be quoted (a str)."""
    limits = limits or Limits()
    results: dict[Path, Extracted | str] = {}
    todo: dict[Path, str | None] = {}  # path -> cache key
    hits = 0
    for path in paths:
        try:
            key = _cache_key(path, limits)
        except (OSError, ExtractError) as exc:
            results[path] = str(exc) if isinstance(exc, ExtractError) else (
                f"unreadable ({exc.strerror})")
            continue
        cached = _cache_get(cache_dir, key)
        if cached is not None:
            results[path] = cached
            hits += 1
        else:
            todo[path] = key
    for path, outcome in _run(list(todo), limits, workers).items():
        results[path] = outcome
        _cache_put(cache_dir, todo[path], outcome)
    if todo and cache_dir is not None:
        _cache_prune(cache_dir)
    if paths:
        log.info("extracted %d of %d files (%d from the cache)", len(todo), len(paths), hits)
    return results


# --- the worker side -----------------------------------------------------------------------


class _OutOfTime(BaseException):
    """A BaseException, so that a reader's `except Exception` cannot swallow it."""


def _alarm(signum: int, frame: object) -> None:
    # Fire again shortly, in case a reader's bare `except:` swallowed this one.
    signal.setitimer(signal.ITIMER_REAL, REALARM_SECONDS)
    raise _OutOfTime


def _start_worker(max_memory: int) -> None:
    # The readers' own warnings about a damaged file would go to stderr unformatted; the
    # reason a file is skipped is reported by the parent instead.
    for name in ("pypdf", "docx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # The readers' libraries are imported now, before any file's timer starts: a file's time
    # limit is for reading it, and an import the alarm cuts short fails with another error
    # (a RuntimeError from pypdf's, on a busy machine) than "took longer than".
    import docx  # noqa: F401
    import lxml.html  # noqa: F401
    import pypdf  # noqa: F401

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    except (ImportError, ValueError, OSError) as exc:  # not on this platform: time still bounds
        log.debug("memory limit not set: %s", exc)


def extract_path(path: str, limits: Limits) -> dict[str, Any]:
    """One file's outcome as JSON-able data: {"ok": Extracted} or {"error": reason}. Runs in
    a worker process: the alarm bounds its time, the pool's memory limit its space."""
    try:
        return _extract_timed(Path(path), limits)
    except _OutOfTime:  # here, not inside: the alarm may fire while that one handles another
        return {"error": _too_slow(limits)}


def _extract_timed(path: Path, limits: Limits) -> dict[str, Any]:
    timed = threading.current_thread() is threading.main_thread()
    if timed:  # signals reach the main thread only (always so in a worker process)
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limits.max_seconds)
    try:
        return {"ok": extract(_read(path, limits), path.suffix, limits).to_json()}
    except ExtractError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": f"needs more than {limits.max_memory:,} bytes of memory to read: "
                         "split the file or raise documents.max_memory in "
                         "config/bot.yaml"}
    except RecursionError:
        return {"error": "damaged: its structure is nested too deeply to read"}
    except OSError as exc:
        return {"error": f"unreadable ({exc.strerror or exc})"}
    except Exception as exc:  # a reader's unexpected failure on a hostile file: skip, say so
        log.exception("extracting %s failed", path)
        return {"error": f"could not be read ({type(exc).__name__}: {str(exc)[:120]})"}
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _too_slow(limits: Limits) -> str:
    return (f"took longer than {limits.max_seconds:g} s to read: split the file or raise "
            "documents.max_seconds in config/bot.yaml")


def _read(path: Path, limits: Limits) -> bytes:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ExtractError(
            f"too large ({size:,} bytes, the limit is {limits.max_bytes:,}): split the file "
            "or raise documents.max_bytes in config/bot.yaml"
        )
    with path.open("rb") as fh:
        return fh.read(limits.max_bytes + 1)


# --- the parent side -----------------------------------------------------------------------


def _run(paths: list[Path], limits: Limits, workers: int | None) -> dict[Path, Extracted | str]:
    """Outcomes of paths, extracted in a pool of spawned workers (safe from any thread). A
    worker that overruns its time by GRACE_SECONDS is killed with its pool; the rest go on
    in a new one. Where workers cannot start (a script without `if __name__ ==
    "__main__":`), files are extracted in this process, bounded by time only on its main
    thread."""
    outcomes: dict[Path, Extracted | str] = {}
    pending = list(paths)
    while pending:
        count = min(workers or os.cpu_count() or 1, MAX_WORKERS, len(pending))
        ctx = multiprocessing.get_context("spawn")
        try:
            pool = ctx.Pool(count, initializer=_start_worker, initargs=(limits.max_memory,))
        except RuntimeError as exc:
            worker_starting(exc)
            raise
        try:
            failed = _not_started(pool)
            if failed is not None:
                log.warning("extracting in this process: " + POOL_FAILED, failed)
                return outcomes | {p: _outcome(extract_path(str(p), limits)) for p in pending}
            tasks = [(p, pool.apply_async(extract_path, (str(p), limits))) for p in pending]
            for path, task in tasks:
                try:
                    outcomes[path] = _outcome(task.get(limits.max_seconds + GRACE_SECONDS))
                except multiprocessing.TimeoutError:
                    log.warning("extracting %s: no answer from its worker, stopping it", path)
                    outcomes[path] = (
                        f"stopped: no answer within {limits.max_seconds + GRACE_SECONDS:g} s "
                        "(the file needs more time or memory than the limits allow)"
                    )
                    break
        finally:
            pool.terminate()
            pool.join()
        pending = [p for p in pending if p not in outcomes]
    return outcomes


def _not_started(pool: multiprocessing.pool.Pool) -> str | None:
    """None once pool answers a first task; else why not: no answer within STARTUP_SECONDS,
    or at once when one of its first workers has exited (multiprocessing.Pool replaces a
    worker that dies as it starts, such as one importing a script without a main guard,
    without a word, and would do so until the timeout). The workers are Pool's private
    list: absent, only the timeout applies."""
    first = list(getattr(pool, "_pool", ()))
    probe = pool.apply_async(os.getpid)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            probe.get(STARTUP_POLL_SECONDS)
            return None
        except multiprocessing.TimeoutError:
            if any(worker.exitcode is not None for worker in first):
                return "a worker exited as it started"
            if time.monotonic() > deadline:
                return f"no answer within {STARTUP_SECONDS:g} s"
        except OSError as exc:
            return repr(exc)


def _outcome(value: dict[str, Any]) -> Extracted | str:
    return Extracted.from_json(value["ok"]) if "ok" in value else value["error"]


# --- the cache -----------------------------------------------------------------------------


@cache
def code_version() -> str:
    """Digest of this package's source and its readers' versions: new code, new cache keys."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=none".encode())
    return h.hexdigest()


def _cache_key(path: Path, limits: Limits) -> str:
    data = _read(path, limits)
    h = hashlib.blake2b(data, digest_size=16)
    h.update(json.dumps([CACHE_VERSION, code_version(), asdict(limits), path.suffix.lower()],
                        sort_keys=True).encode())
    return h.hexdigest()


def _cache_get(cache_dir: Path | None, key: str) -> Extracted | str | None:
    if cache_dir is None:
        return None
    entry = cache_dir / f"{key}.json"
    try:
        outcome = _outcome(json.loads(entry.read_bytes()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("extraction cache entry %s unusable (%s): extracting again", key, exc)
        return None
    with contextlib.suppress(OSError):  # (a read-only cache is used as it is)
        os.utime(entry)  # used: kept by _cache_prune
    return outcome


def _cache_put(cache_dir: Path | None, key: str | None, outcome: Extracted | str) -> None:
    if cache_dir is None or key is None:
        return
    value = {"error": outcome} if isinstance(outcome, str) else {"ok": outcome.to_json()}
    tmp = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=cache_dir)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(value, ensure_ascii=False).encode())
        os.replace(tmp, cache_dir / f"{key}.json")  # whole or absent, never half-written
    except OSError as exc:
        if tmp is not None:  # (a full disk: the part written is not left behind)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        log.warning("extraction cache not written in %s (%s)", cache_dir, exc)


def _cache_prune(cache_dir: Path) -> None:
    cutoff = time.time() - CACHE_KEEP_DAYS * 86400
    for entry in cache_dir.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            continue  # another process removed it first
