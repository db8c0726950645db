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
key, so a 1M-term vocabulary costs ~100 MB and a lookup is a few binary searches. The hash is
a polynomial one, so the hashes of all of a term's deletions come from its prefix and suffix
hashes in a few array operations over all terms of one length at once: a 200,000-term
vocabulary takes about half a second, where hashing each deletion string took seconds.

Both tables are built with the index and saved with it (bot/core/store.py): the
DeletionTable, and the NearTable, every vocabulary term's near spellings found once (about 3 s
for 200,000 terms), so a question term the corpus holds costs one binary search, and only one
it lacks (a typo, a name no document has) is looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

# NearTable.build looks up a term only if it has at most this many candidates besides itself.
CROWDED = 16


def max_edits(term: str) -> int:
    """Edits allowed for a term of this length: none below 5 letters (too many short words
    are one letter apart), one up to 8, two beyond."""
    return 0 if len(term) < 5 else 1 if len(term) <= 8 else 2


@dataclass
class DeletionTable:
    """The hashes of a vocabulary's terms and of their one-character deletions, ascending,
    each with the number of its term in _table_terms(vocabulary): what lookups search."""

    keys: np.ndarray  # uint64
    ids: np.ndarray  # int32

    @classmethod
    def build(cls, vocabulary: Iterable[str]) -> DeletionTable:
        keys, ids = _deletion_table(_table_terms(vocabulary))
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], ids[order])

    def extended(self, new_terms: Sequence[str]) -> DeletionTable:
        """The table of the vocabulary with new_terms appended (an index update): their keys
        inserted in order, without rehashing the others."""
        first = int(self.ids.max()) + 1 if len(self.ids) else 0  # every term keys itself
        keys, ids = _deletion_table(_table_terms(new_terms))
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order] + first
        at = np.searchsorted(self.keys, keys, side="right")
        return DeletionTable(np.insert(self.keys, at, keys), np.insert(self.ids, at, ids))


def _table_terms(vocabulary: Iterable[str]) -> list[str]:
    # A vocabulary term can be one edit from a 5-letter question term at 4 letters.
    return [t for t in vocabulary if 4 <= len(t) < len(_POWERS) and not t[0].isdigit()]


class NearSpellings:
    """Lookups in a vocabulary's DeletionTable (built here if not given: the index saves
    one). Immutable, so safe to share between threads."""

    def __init__(self, vocabulary: Iterable[str], table: DeletionTable | None = None) -> None:
        vocabulary = list(vocabulary)
        table = table or DeletionTable.build(vocabulary)
        self._terms = _table_terms(vocabulary)
        self._keys, self._ids = table.keys, table.ids
        self._longest = max(map(len, self._terms), default=0)

    def lookup_many(
        self, terms: Sequence[str], crowded: list[str] | None = None
    ) -> dict[str, list[tuple[str, int]]]:
        """(vocabulary term, edit distance) for every term within max_edits(term) of each of
        terms, itself excluded, nearest first (terms with none left out), in one binary
        search of the table for all their probes: a question's few rare terms cost about
        what one did. Given a list `crowded`, a term with more than about CROWDED candidates
        is not looked up but added to it (a vocabulary of "tide1" ... "tide60000" would
        otherwise cost every pair of its terms)."""
        wanted = [t for t in dict.fromkeys(terms) if max_edits(t)]
        if not wanted:
            return {}
        vocabulary = self._terms
        # (A term longer than any by more than its limit has no near spelling.)
        if not (wanted := [t for t in wanted if len(t) <= self._longest + max_edits(t)]):
            return {}
        keys, owner = _probes(wanted)
        order = np.argsort(keys)  # ascending needles walk the table in order (a large batch)
        keys, owner = keys[order], owner[order]
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        if crowded is not None:
            # A term finds itself under its own key and its deletions (about len + 1 times).
            count = np.bincount(owner, weights=hi - lo, minlength=len(wanted))
            over = count > np.array([len(t) + 1 + CROWDED for t in wanted])
            crowded.extend(wanted[i] for i in np.flatnonzero(over).tolist())
            keep = ~over[owner]
            lo, hi, owner = lo[keep], hi[keep], owner[keep]
        # Every term under any probe is a candidate; the true distance decides, so a term
        # found under two probes, or under a colliding hash, is weighed once and rightly.
        at = ranges(lo, hi)
        pairs = np.unique(np.repeat(owner, hi - lo) * len(vocabulary) + self._ids[at])
        out: dict[str, list[tuple[str, int]]] = {}
        for pair in pairs.tolist():
            term, other = wanted[pair // len(vocabulary)], vocabulary[pair % len(vocabulary)]
            limit = max_edits(term)
            if other != term and (d := edit_distance(term, other, limit)) <= limit:
                out.setdefault(term, []).append((other, d))
        return {t: sorted(found, key=lambda x: (x[1], x[0])) for t, found in out.items()}


@dataclass
class NearTable:
    """NearSpellings.lookup_many() of every vocabulary term, found once when the index is built,
    so that a question's term in the vocabulary costs a binary search here rather than a
    lookup: one row a (term, near spelling) pair, by term id, then in lookup()'s order."""

    term: np.ndarray  # int32 vocabulary id
    other: np.ndarray  # int32 vocabulary id of a near spelling

    @classmethod
    def build(
        cls, vocabulary: Sequence[str], deletions: DeletionTable | None = None,
        batch: int = 20_000,
    ) -> NearTable:
        """The table of vocabulary (term i has id i), whose DeletionTable is deletions (built
        here if not given). A term with crowds of candidates is left to lookups, with a row
        of -1 that says so: the table's cost stays linear in the vocabulary, whatever its
        terms."""
        spellings = NearSpellings(vocabulary, table=deletions or DeletionTable.build(vocabulary))
        ids = {t: i for i, t in enumerate(vocabulary)}
        rows: list[tuple[int, int]] = []
        wanted = [t for t in vocabulary if max_edits(t)]
        for at in range(0, len(wanted), batch):
            crowded: list[str] = []
            found = spellings.lookup_many(wanted[at : at + batch], crowded)
            rows.extend((ids[t], ids[o]) for t in wanted[at : at + batch]
                        for o, _ in found.get(t, ()))
            rows.extend((ids[t], -1) for t in crowded)
        table = np.array(sorted(rows, key=lambda r: r[0]), dtype=np.int32).reshape(-1, 2)
        return cls(table[:, 0].copy(), table[:, 1].copy())

    def extended(
        self, vocabulary: Sequence[str], first_new: int, deletions: DeletionTable
    ) -> NearTable:
        """The table with rows for the terms from first_new on (appended by an index update),
        found in deletions, the extended vocabulary's table. The older terms keep their rows:
        a new term is not among their near spellings until the index is rebuilt."""
        spellings = NearSpellings(vocabulary, table=deletions)
        new = [t for t in vocabulary[first_new:] if max_edits(t)]
        ids = {t: first_new + i for i, t in enumerate(vocabulary[first_new:])}
        crowded: list[str] = []
        found = spellings.lookup_many(new, crowded)
        known = {t: i for i, t in enumerate(vocabulary)} if found else {}
        rows = [(ids[t], known[o]) for t in new for o, _ in found.get(t, ())]
        rows += [(ids[t], -1) for t in crowded]
        table = np.array(sorted(rows, key=lambda r: r[0]), dtype=np.int32).reshape(-1, 2)
        return NearTable(np.concatenate((self.term, table[:, 0])),
                         np.concatenate((self.other, table[:, 1])))

    def lookup(self, term: int) -> list[int] | None:
        """The ids of term id's near spellings, nearest first (as NearSpellings.lookup_many), or
        None for a term the table left to lookups."""
        lo, hi = self.term.searchsorted(np.array((term, term + 1), self.term.dtype)).tolist()
        near = self.other[lo:hi].tolist()
        return None if near[:1] == [-1] else near


def _deletion_table(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(hash, term number) of every term and of each string made by deleting one of its
    characters, unsorted; a string a term makes twice ("aab" less either "a") is listed twice,
    which lookup_many() tolerates. The same hashes as _hash(), computed term length by term length
    over code point matrices."""
    lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    keys: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    for length in np.unique(lengths).tolist():
        which = np.flatnonzero(lengths == length)
        group = np.array([terms[i] for i in which.tolist()], dtype=f"<U{length}")
        codes = group.view(np.uint32).reshape(len(which), length).astype(np.uint64)
        # prefix[:, j] hashes the first j characters, suffix[:, j] the characters from j on.
        prefix = np.zeros((len(which), length + 1), dtype=np.uint64)
        suffix = np.zeros((len(which), length + 1), dtype=np.uint64)
        for j in range(length):
            prefix[:, j + 1] = prefix[:, j] * _BASE + codes[:, j]
        for j in range(length - 1, -1, -1):
            suffix[:, j] = codes[:, j] * _POWERS[length - 1 - j] + suffix[:, j + 1]
        keys.append(prefix[:, length])
        ids.append(which)
        for j in range(length):
            keys.append(prefix[:, j] * _POWERS[length - 1 - j] + suffix[:, j + 1])
            ids.append(which)
    if not keys:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32)
    return np.concatenate(keys), np.concatenate(ids).astype(np.int32)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus swaps of neighbours), or limit + 1
    once it is certain to exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # A common prefix or suffix changes no alignment's cost: near spellings differ in a
    # letter or two, so what remains to align is a few characters, not the whole words.
    lo, short = 0, min(len(a), len(b))
    while lo < short and a[lo] == b[lo]:
        lo += 1
    hi = 0
    while hi < short - lo and a[-1 - hi] == b[-1 - hi]:
        hi += 1
    a, b = a[lo : len(a) - hi], b[lo : len(b) - hi]
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
    return min(prev[-1], limit + 1)


# Up to this length a question term's deletions are hashed in a few array operations over
# a cached plan (its size grows with the cube of the length); a longer one, one at a time.
_PLANNED = 64


def _probes(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hashes (as _hash computes them) of every term and of each string made by deleting
    up to max_edits(term) of its characters (one a way of deleting: a hash may come twice),
    and the position in terms of the term each is for; terms of one length hashed together."""
    lengths = [len(t) for t in terms]
    keys: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    for length in sorted(set(lengths)):
        which = [i for i, n in enumerate(lengths) if n == length]
        if length > _PLANNED:
            for i in which:
                deleted = _deletions(terms[i], max_edits(terms[i]))
                keys.append(np.array([_hash(k) for k in deleted], np.uint64))
                owner.append(np.full(len(keys[-1]), i))
            continue
        take, powers = _deletion_plan(length, max_edits(terms[which[0]]))
        # A few million products at a time: (terms, ways of deleting, kept characters).
        step = max(1, 4_000_000 // take.size)
        for at in range(0, len(which), step):
            part = which[at : at + step]
            codes = np.zeros((len(part), length + 1), dtype=np.uint64)  # last: padding's 0
            codes[:, :-1] = np.array([terms[i] for i in part], dtype=f"<U{length}").view(
                np.uint32).reshape(len(part), length)
            keys.append((codes[:, take] * powers).sum(axis=2).ravel())  # wraps modulo 2**64
            owner.append(np.repeat(np.asarray(part), len(take)))
    return np.concatenate(keys), np.concatenate(owner)


@lru_cache(maxsize=128)
def _deletion_plan(length: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """One row for each way to delete up to limit characters of a string of this length:
    the positions kept, padded with `length` (a zero code), and the power of _BASE each
    kept character is multiplied by in the polynomial hash (zero for the padding)."""
    rows = [kept for d in range(limit + 1) for kept in combinations(range(length), length - d)]
    take = np.full((len(rows), length), length, dtype=np.intp)
    powers = np.zeros((len(rows), length), dtype=np.uint64)
    for i, kept in enumerate(rows):
        take[i, : len(kept)] = kept
        powers[i, : len(kept)] = _POWERS[len(kept) - 1 :: -1][: len(kept)]
    take.setflags(write=False)
    powers.setflags(write=False)
    return take, powers


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every position in the ranges lo[i]:hi[i], concatenated."""
    counts = hi - lo
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    return starts + np.arange(int(counts.sum()))


def _deletions(term: str, depth: int) -> dict[str, int]:
    """Every string made by deleting up to depth characters of term, with the fewest
    deletions that make it."""
    out = {term: 0}
    frontier = {term}
    for level in range(1, depth + 1):
        frontier = {t[:j] + t[j + 1 :] for t in frontier for j in range(len(t))}
        for t in frontier:
            out.setdefault(t, level)
    return out


_BASE = np.uint64(1_000_003)
_MASK = (1 << 64) - 1


# _BASE ** i modulo 2**64; a longer term is left out of the table (never near-spelled).
_POWERS = np.array([pow(1_000_003, i, 1 << 64) for i in range(4096)], dtype=np.uint64)


def _hash(text: str) -> int:
    """Polynomial hash of the code points modulo 2**64, as _deletion_table computes it."""
    h = 0
    for ch in text:
        h = (h * 1_000_003 + ord(ch)) & _MASK
    return h
