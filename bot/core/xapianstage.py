"""The first stage over Xapian shards: for a library larger than one machine.

A collection's passages are written into N Xapian databases (xapianshards.build_shards),
each served by `xapian-tcpsrv` on its own host. ShardFirstStage opens them all as one remote
database: Xapian's remote protocol combines the shards' term statistics, so a passage's BM25
score is the one a single index over all of them would give, whichever shard holds it.

How a shard is written and what it records of its build: bot/core/xapianshards.py.

The shards return the best passages by BM25 only; the context part of the score (neighbours,
paragraph, title; see firststage.FirstStage.score) is then computed here for the returned
passages and their neighbours in the same paragraph, not for the whole collection: a
neighbour's BM25 counts only when the shards returned it too.

The remote protocol has no authentication: shard servers belong on a private network.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus
from bot.core.firststage import FirstStage
from bot.core.kinds import KindTests
from bot.core.model import AnswerSettings, IndexSettings, SearchUnavailable
from bot.core.xapianshards import (
    COLLECTION_PREFIX,
    LAYOUT_KEY,
    MAX_TERM_BYTES,
    META_KEY,
    layout_digest,
    shard_identity,
    xapian_bindings,
)

log = logging.getLogger(__name__)

# Passages asked of the shards per question, as a multiple of `candidates`: the extra ones
# give the context scores of the best their neighbours.
FETCH_FACTOR = 2
TIMEOUT_MS = 5_000  # a shard that does not answer within this is unavailable
# After a shard timed out, questions are told at once that search is unavailable for this
# many seconds (each would wait TIMEOUT_MS for a hung server); then one question tries again.
RETRY_S = 10.0


def parse_address(text: str) -> tuple[str, int]:
    """'host:port' -> (host, port); ValueError saying what to write."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return host.strip("[]"), int(port)


class _Breaker:
    """Whether to ask the shards: not for RETRY_S seconds after one timed out, when a hung
    server would hold every question (and the worker thread answering it) for TIMEOUT_MS.
    Then one question at a time asks, the others being refused at once until it returns: the
    first to find the shards answering again closes the breaker for all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0  # monotonic time until which the shards are not asked; 0: closed
        self._trying = False  # a question is asking the shards while the breaker is open
        self.reason = ""

    def admit(self) -> bool:
        """Whether this question may ask the shards; each admitted one must then call
        succeeded() or failed()."""
        with self._lock:
            if not self._until:
                return True
            if self._trying or time.monotonic() < self._until:
                return False
            self._trying = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._until, self._trying = 0.0, False

    def failed(self, timed_out: bool, reason: str) -> None:
        """A refused connection costs a question nothing to try again: only a timeout opens
        the breaker (or keeps it open)."""
        with self._lock:
            self._trying = False
            if timed_out or self._until:
                self._until, self.reason = time.monotonic() + RETRY_S, reason


class ShardFirstStage(FirstStage):
    """FirstStage whose BM25 search runs on remote Xapian shards (see the module's doc).
    A shard that cannot be reached raises SearchUnavailable; the next question connects
    again, so service resumes by itself when the shard is back. A shard that does not answer
    within TIMEOUT_MS is not asked again for RETRY_S seconds (see _Breaker)."""

    scores_locally = False

    def __init__(
        self,
        corpus: Corpus,
        analyzer: Analyzer,
        settings: AnswerSettings,
        kinds: KindTests,
        addresses: Sequence[str],
        index_settings: IndexSettings,
    ) -> None:
        super().__init__(corpus, analyzer, settings, kinds)
        self.addresses = tuple(addresses)
        self.identity = shard_identity(index_settings, analyzer)
        self.k1, self.b = index_settings.k1, index_settings.b
        # Per collection: the digest its shards must carry, and its passages' local ids in
        # document order (a shard's document id n is the collection's passage n).
        self._layout = {
            name: (layout_digest([d for d in corpus.documents if d.collection == name]),
                   np.flatnonzero(self.passages.collection == c))
            for c, name in enumerate(self.collections)
        }
        # A Xapian database is not safe across threads: one connection set a thread, with
        # the local ids of each shard's passages (in the order the shards were added).
        self._threads = threading.local()
        self._breaker = _Breaker()

    def score(
        self, query: dict[str, float], allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        names = (None if allowed is None
                 else [c for c, ok in zip(self.collections, allowed, strict=True) if ok])
        ids, bm25 = self._search(query, names)
        if not len(ids):
            return ids, bm25, bm25.copy()
        return self._with_context(query, ids, bm25)

    # --- the remote search -------------------------------------------------------------------

    def _search(
        self, query: dict[str, float], collections: list[str] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(local passage ids ascending, BM25 scores) of the shards' best passages."""
        xapian = xapian_bindings()
        terms = [xapian.Query(xapian.Query.OP_SCALE_WEIGHT, xapian.Query(t), w)
                 for t, w in query.items() if t and len(t.encode("utf-8")) <= MAX_TERM_BYTES]
        if not terms or collections == []:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        q = xapian.Query(xapian.Query.OP_OR, terms)
        if collections is not None:
            only = xapian.Query(xapian.Query.OP_OR,
                                [xapian.Query(COLLECTION_PREFIX + c) for c in collections])
            q = xapian.Query(xapian.Query.OP_FILTER, q, only)
        if not self._breaker.admit():
            raise SearchUnavailable(f"shard search failed recently: {self._breaker.reason}")
        # A connection kept from an earlier question may have been closed by the server
        # (xapian-tcpsrv drops idle ones after --idle-timeout, 60 s by default): such a
        # failure is retried once on new connections before the shards count as down (not
        # a timeout: a server that let one pass would make the question wait twice).
        reused = getattr(self._threads, "db", None) is not None
        while True:
            try:
                found = self._matches(xapian, q)
                break
            except xapian.Error as exc:
                self._threads.db = None  # connect again
                timed_out = isinstance(exc, xapian.NetworkTimeoutError)
                if reused and not timed_out:
                    reused = False
                    log.info("shard connection lost (%s): connecting again", exc)
                    continue
                log.error("shard search failed (%s): %s%s", ", ".join(self.addresses), exc,
                          f" (not asked again for {RETRY_S:g} s)" if timed_out else "")
                self._breaker.failed(timed_out, str(exc))
                raise SearchUnavailable(f"shard search failed: {exc}") from exc
            except BaseException:
                self._breaker.succeeded()  # (the shards answered: a refused build, say)
                raise
        self._breaker.succeeded()
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids, weights = np.array(found).T
        order = np.argsort(ids, kind="stable")
        return ids[order].astype(np.int64), weights[order]

    def _matches(self, xapian: Any, query: Any) -> list[tuple[int, float]]:
        """(local passage id, BM25 weight) of the best passages for query, best first.
        Only ids and weights cross the network: fetching the matched documents would cost a
        round trip each."""
        db, passages_of = self._database()
        enquire = xapian.Enquire(db)
        # k2 = 0 and k3 = 1: no length correction of the query, a term's weight as given
        # (OP_SCALE_WEIGHT); min_normlen 0: lengths normalised as the embedded index does.
        enquire.set_weighting_scheme(xapian.BM25Weight(self.k1, 0, 1, self.b, 0))
        enquire.set_query(query)
        mset = enquire.get_mset(0, FETCH_FACTOR * self.settings.candidates)
        n = len(passages_of)
        found = []
        for m in mset:
            # Xapian numbers the combined database's documents shard by shard in turn.
            shard, number = (m.docid - 1) % n, (m.docid - 1) // n
            if number < len(passages_of[shard]):
                found.append((int(passages_of[shard][number]), m.weight))
        return found

    def _database(self) -> tuple[Any, list[np.ndarray]]:
        connected = getattr(self._threads, "db", None)
        if connected is None:
            connected = self._threads.db = self._connect()
        return connected

    def _connect(self) -> tuple[Any, list[np.ndarray]]:
        """All shards as one database, each checked to be built as this bot indexes and
        from the documents it holds; and each shard's passages' local ids."""
        xapian = xapian_bindings()
        combined = xapian.Database()
        passages_of = []
        # collection -> (its shard count, shard number -> the address serving it)
        served: dict[str, tuple[int, dict[int, str]]] = {}
        for address in self.addresses:
            host, port = parse_address(address)
            shard = xapian.remote_open(host, port, TIMEOUT_MS, TIMEOUT_MS)
            built = json.loads(shard.get_metadata(META_KEY) or "null")
            layout = json.loads(shard.get_metadata(LAYOUT_KEY) or "{}")
            digest, local = self._layout.get(layout.get("collection"), (None, None))
            if built != self.identity:
                problem = (f"was built with {built} but this bot indexes with "
                           f"{self.identity}")
            elif digest is None or layout.get("documents") != digest:
                problem = (f"holds collection {layout.get('collection')!r} as it was when the "
                           "shard was built, not the documents this bot has")
            else:
                self._check_served(served, layout["collection"], address,
                                   shard.get_metadata("shard").decode(errors="replace"))
                combined.add_database(shard)
                passages_of.append(local)
                continue
            message = f"shard {address} {problem}: rebuild it with `quotebot xapian-shards build`"
            log.error("%s", message)
            raise SearchUnavailable(message)
        for name, (_, local) in self._layout.items():
            count, numbers = served.get(name, (1, {}))
            missing = [n for n in range(count) if n not in numbers]
            if len(local) and missing:
                self._refuse(
                    f"shard {missing[0]} of collection {name!r} ({count} shards) is served by "
                    f"none of {', '.join(self.addresses)}: list every shard's server under "
                    "shard_servers in bot.yaml (its documents would never be found)")
        return combined, passages_of

    def _check_served(self, served: dict[str, tuple[int, dict[int, str]]], name: str,
                      address: str, which: str) -> None:
        """Record that address serves shard `which` ("i/count") of collection name; a shard
        served twice, or shards of a collection built apart, are refused."""
        number, _, count = which.partition("/")
        if not (number.isdigit() and count.isdigit() and int(number) < int(count)):
            self._refuse(f"shard {address} does not say which shard of collection {name!r} "
                         "it is: rebuild it with `quotebot xapian-shards build`")
        number_, count_ = int(number), int(count)
        known, numbers = served.setdefault(name, (count_, {}))
        if known != count_:
            self._refuse(f"shard {address} is one of {count_} shards of collection {name!r}, "
                         f"another listed one of {known}: list one build's shards under "
                         "shard_servers in bot.yaml, or rebuild them together")
        if number_ in numbers:
            self._refuse(f"shard {number_} of collection {name!r} is served by both "
                         f"{numbers[number_]} and {address}: list each shard once under "
                         "shard_servers in bot.yaml (its passages would count twice)")
        numbers[number_] = address

    @staticmethod
    def _refuse(message: str) -> None:
        log.error("%s", message)
        raise SearchUnavailable(message)

    # --- context, for the returned passages ---------------------------------------------------

    def _with_context(
        self, query: dict[str, float], found: np.ndarray, bm25: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, BM25, context) of the found passages and their neighbours in the same
        paragraph (BM25 0 unless found), as FirstStage._context weighs them."""
        s, p = self.settings, self.passages
        ids = found
        if s.neighbour_weight:
            same = p.same_para
            ids = np.unique(np.concatenate(
                (found, found[same[found]] - 1, found[same[found + 1]] + 1)))
        scores = np.zeros(len(ids))
        scores[np.searchsorted(ids, found)] = bm25
        context = scores.copy()
        if s.neighbour_weight:
            before = np.r_[0.0, scores[:-1]] * (np.r_[False, np.diff(ids) == 1])
            after = np.r_[scores[1:], 0.0] * (np.r_[np.diff(ids) == 1, False])
            context += before * self._beside[ids] + after * self._beside[ids + 1]
        masses = self._masses(query)
        if s.paragraph_terms and masses:
            context += s.paragraph_terms * self._paragraph_mass(ids, masses)
        if s.title_terms:
            title = np.zeros(len(self.documents))
            for term, mass in masses.items():
                if term in self.titles:
                    title[self.titles[term]] += mass
            context += s.title_terms * title[p.doc[ids]]
        return ids, scores, context

    def _masses(self, query: dict[str, float]) -> dict[str, float]:
        """A question term's IDF mass (as FirstStage._scatter counts it), by term."""
        index = self.index
        return {t: max(index.term_idf(t), 0.0) * qw for t, qw in query.items() if t in index.vocab}

    def _paragraph_mass(self, ids: np.ndarray, masses: dict[str, float]) -> np.ndarray:
        """The question terms' IDF mass found anywhere in the paragraph of each of ids: the
        terms of all their paragraphs at once (one np.isin a paragraph cost 10 ms a
        question), each question term counted once a paragraph."""
        p, index = self.passages, self.index
        term_ids = np.fromiter((index.vocab[t] for t in masses), np.int64, len(masses))
        weight = np.fromiter(masses.values(), float, len(masses))
        order = np.argsort(term_ids)
        term_ids, weight = term_ids[order], weight[order]
        paras, where = np.unique(p.para_id[ids], return_inverse=True)
        lo = index.fwd_indptr[p.para_start[paras]].astype(np.int64)
        lengths = index.fwd_indptr[p.para_start[paras + 1]].astype(np.int64) - lo
        starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
        terms = index.fwd_terms[starts + np.arange(len(starts))]
        at = np.minimum(np.searchsorted(term_ids, terms), len(term_ids) - 1)
        hit = term_ids[at] == terms
        owner = np.repeat(np.arange(len(paras)), lengths)[hit]
        pairs = np.unique(owner * len(term_ids) + at[hit])
        out = np.bincount(pairs // len(term_ids), weights=weight[pairs % len(term_ids)],
                          minlength=len(paras))
        return out[where]
