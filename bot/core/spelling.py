"""Near spellings: corpus terms within a small edit distance of a question term.

Names are spelled several ways (Siversk, Seversk; Donbas, Donbass). Moderators can list
aliases, but a question should also find the document that spells a name one letter
differently without anyone configuring it.

The lookup is a deletion neighbourhood (the SymSpell idea): every vocabulary term is stored
under itself and each string made by deleting one of its characters; a question term's own
deletions (one or two) are looked up in that table, and each candidate is confirmed with a
true edit distance. Two strings one edit apart (insertion, deletion, substitution or swap of
neighbours) always share a one-deletion key, so distance 1 is found exhaustively; at distance
2 the table finds a term with up to two characters fewer or one different and one fewer, but
not one with two different letters (that would need two-deletion keys of every vocabulary
term, several times the memory) -- an accepted gap for a fallback.

The table holds 64-bit hashes in one sorted numpy array, not Python strings: about 12 bytes a
key, so a 1M-term vocabulary costs ~100 MB and a lookup is a few binary searches.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np


def max_edits(term: str) -> int:
    """Edits allowed for a term of this length: none below 5 letters (too many short words
    are one letter apart), one up to 8, two beyond."""
    return 0 if len(term) < 5 else 1 if len(term) <= 8 else 2


# Up to this many vocabulary terms the table is built on the first lookup (about 1.5 s per
# 100,000 terms); a larger one is built in a background thread, and lookups find nothing until
# it is ready, rather than holding a question past Discord's 3-second limit.
BUILD_INLINE = 100_000


class NearSpellings:
    """Built lazily and safe to share between threads."""

    def __init__(self, vocabulary: Iterable[str], inline: int = BUILD_INLINE) -> None:
        self._vocabulary = vocabulary
        self._inline = inline
        self._lock = threading.Lock()
        self._started = False
        self._terms: list[str] | None = None
        self._keys = np.zeros(0, dtype=np.int64)
        self._ids = np.zeros(0, dtype=np.int32)

    @property
    def ready(self) -> bool:
        return self._terms is not None

    def lookup(self, term: str) -> list[tuple[str, int]]:
        """(vocabulary term, edit distance) for every term within max_edits(term) of term,
        itself excluded, nearest first."""
        limit = max_edits(term)
        if not limit:
            return []
        terms = self._terms if self._terms is not None else self._start()
        if terms is None:
            return []
        probes = np.array([_hash(k) for k in _deletions(term, limit)], dtype=np.int64)
        lo = np.searchsorted(self._keys, probes, side="left")
        hi = np.searchsorted(self._keys, probes, side="right")
        found: dict[str, int] = {}
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            for t in self._ids[a:b].tolist():
                other = terms[t]
                if other != term and other not in found:
                    d = edit_distance(term, other, limit)
                    if d <= limit:
                        found[other] = d
        return sorted(found.items(), key=lambda x: (x[1], x[0]))

    def _start(self) -> list[str] | None:
        """Build now if the vocabulary is small, else start building in the background."""
        with self._lock:
            if self._started:
                return self._terms
            self._started = True
        vocabulary = list(self._vocabulary)
        if len(vocabulary) <= self._inline:
            return self._build(vocabulary)
        threading.Thread(target=self._build, args=(vocabulary,), daemon=True,
                         name="near-spellings").start()
        return None

    def _build(self, vocabulary: list[str]) -> list[str]:
        with self._lock:
            if self._terms is None:
                # A vocabulary term can be one edit from a 5-letter question term at 4 letters.
                terms = [t for t in vocabulary if len(t) >= 4 and not t[0].isdigit()]
                keys: list[int] = []
                ids: list[int] = []
                for i, t in enumerate(terms):
                    variants = {t, *(t[:j] + t[j + 1 :] for j in range(len(t)))}
                    keys.extend(_hash(v) for v in variants)
                    ids.extend([i] * len(variants))
                key_arr = np.asarray(keys, dtype=np.int64)
                order = np.argsort(key_arr, kind="stable")
                self._keys = key_arr[order]
                self._ids = np.asarray(ids, dtype=np.int32)[order]
                self._terms = terms  # last: a reader that sees it sees the arrays too
        return terms


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus swaps of neighbours), or limit + 1
    once it is certain to exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletions(term: str, depth: int) -> set[str]:
    out = {term}
    frontier = {term}
    for _ in range(depth):
        frontier = {t[:j] + t[j + 1 :] for t in frontier for j in range(len(t))}
        out |= frontier
    return out


def _hash(text: str) -> int:
    # Python's string hash is salted per process, which is fine: the table never leaves it.
    return hash(text)
