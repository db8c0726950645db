"""The first stage's inner loops compiled with numba, for large indexes (see
AnswerSettings.compiled_from): each is one pass over a question's postings or matches where
numpy makes one pass per operation, each with its own temporary and its own cache misses.
The first stage's search calls them all in one compiled call (bot/core/_firstsearch.py); the
reranker's term cues and the confidence call theirs (bot/core/_kernels.py).

Each kernel does the same float operations in the same order as the numpy code it replaces
(bot/core/firststage.py, cues.py, confidence.py), so the scores are the same to the last
bit; tests/test_kernels.py checks that. numba is imported, and the kernels compiled (or
loaded from numba's cache in __pycache__), in a background thread started by start(): until
loaded() returns them, the numpy code answers, so no question waits for the import.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

_lock = threading.Lock()
_started = False
_ready = threading.Event()
_kernels: ModuleType | None = None
_first_search: Callable | None = None

# A question term's role in the compiled first stage's search (Planner.plan): scattered
# over its postings, scored around the others' matches (common), or only in the paragraphs
# they matched (the rest).
SCATTERED, COMMON, REST = 0, 1, 2


def start() -> None:
    """Import and compile the kernels in a background thread (once a process)."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=_load, name="quotebot-kernels", daemon=True).start()


def loaded() -> ModuleType | None:
    """The compiled kernels (bot.core._kernels), or None while they load or if numba is
    missing or failed."""
    return _kernels


def first_search() -> Callable | None:
    """The compiled first stage's search (bot.core._firstsearch.search), or None while the
    kernels load or if numba is missing or failed."""
    return _first_search


def wait(timeout: float | None = None) -> ModuleType | None:
    """start(), then the kernels once loaded (None on failure or timeout)."""
    start()
    _ready.wait(timeout)
    return _kernels


def drop_stale_search(folder: Path = Path(__file__).parent) -> None:
    """Delete numba's cache of _firstsearch.py's functions when _kernels.py is newer. numba
    checks a cached function against its own file only, and search compiles _kernels.py's
    kernels into itself: without this, an edited kernel would go on running as it was."""
    kernels = (folder / "_kernels.py").stat().st_mtime
    for cached in (folder / "__pycache__").glob("_firstsearch.*.nb[ic]"):
        with contextlib.suppress(OSError):  # (another process may remove it first)
            if cached.stat().st_mtime < kernels:
                cached.unlink()


def _load() -> None:
    global _kernels, _first_search
    try:
        drop_stale_search()
        from bot.core import _firstsearch
        from bot.core import _kernels as compiled

        compiled.warm_up()
        _firstsearch.warm_up()
        _kernels, _first_search = compiled, _firstsearch.search
    except Exception:  # numba missing or broken: the numpy path keeps answering
        log.exception("the compiled first stage is unavailable; numpy answers instead")
    finally:
        _ready.set()
