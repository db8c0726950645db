"""Analysis of many passages: their terms in chunks, one analyzer call a chunk, in worker
processes for a large corpus. Used by BM25Index.from_texts (bot/core/index.py) and by an
update's analysis of the documents it adds (bot/core/segments.py)."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from multiprocessing import current_process, get_context

import numpy as np

from bot.core.analysis import DEFAULT_ANALYZER, Analyzer

log = logging.getLogger(__name__)

# Passages are analysed in chunks, each joined into one text with this word between
# passages: one analyzer call per chunk instead of one per passage (about a third faster).
BREAK_WORD = "qqpassagebreakqq"
CHUNK_PASSAGES = 20_000
# In worker processes a chunk's distinct terms are numbered there and again here, and sent
# between: fewer, larger chunks cost less, up to this size, while four a worker keep every
# worker busy to the end (a 1M corpus's index 1-4 s faster than in chunks of 20k, for about
# 170 MB more peak memory: bench/README.md).
MAX_CHUNK_PASSAGES = 100_000
# Below this many passages a process pool costs more (start-up, imports) than it saves.
PARALLEL_MIN_PASSAGES = 60_000

Chunk = tuple[list[str], np.ndarray, np.ndarray]  # (terms, term numbers into terms, lengths)

# Said when the worker processes fail: the usual cause, and what to do about it.
POOL_FAILED = ("the worker processes failed (%s); a script that builds an index must do so "
               "under `if __name__ == \"__main__\":`, since each worker imports it again")


def worker_starting(exc: BaseException) -> None:
    """Stop the process, if exc is a pool's start failing in a worker that is still importing
    its parent's script (a script that builds an index at its top level): left to read alone,
    every worker would build the whole index again; stopped, the script's own process reads
    alone and says why (POOL_FAILED). multiprocessing marks the import with _inheriting."""
    if isinstance(exc, RuntimeError) and getattr(current_process(), "_inheriting", False):
        raise SystemExit(1) from exc


def analyse_chunk(texts: list[str], analyzer: Analyzer | None = None) -> Chunk:
    """Terms of a run of passages: the chunk's distinct terms in order of first use, every
    term as a number into them, and each passage's number of terms. Equal to calling
    analyzer.terms on each passage (checked: a text containing BREAK_WORD itself falls back
    to one call a passage)."""
    analyzer = analyzer or DEFAULT_ANALYZER
    if len(texts) > 1 and _words_then_terms(analyzer):
        chunk = _analyse_joined(texts, analyzer)
        if chunk is not None:
            return chunk
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    per_passage = [analyzer.terms(t) for t in texts]
    flat = [setdefault(t, len(vocab)) for terms in per_passage for t in terms]
    lengths = np.fromiter(map(len, per_passage), np.int32, len(per_passage))
    return list(vocab), np.asarray(flat, dtype=np.int32), lengths


def _words_then_terms(analyzer: Analyzer) -> bool:
    """Whether analyzer.terms(text) is word_terms of each of words(text), as in Analyzer."""
    cls = type(analyzer)
    return all(getattr(cls, m) is getattr(Analyzer, m) for m in ("terms", "words", "word_terms"))


def _analyse_joined(texts: list[str], analyzer: Analyzer) -> Chunk | None:
    """analyse_chunk in one words() call over the texts joined by BREAK_WORD, analysing each
    distinct word once: Python touches each word about twice (found, numbered), numpy does
    the rest. None when the joined words cannot be split back into the passages."""
    words = analyzer.words(f"\n{BREAK_WORD}\n".join(texts))
    distinct = list(dict.fromkeys(words))  # in order of first use
    number = dict(zip(distinct, range(len(distinct)), strict=True))
    word_ids = np.fromiter(map(number.__getitem__, words), np.int32, len(words))
    del words
    is_break = word_ids == number.get(BREAK_WORD, -1)
    if int(np.count_nonzero(is_break)) != len(texts) - 1:
        return None  # a passage holds BREAK_WORD itself
    # Terms of each distinct word, numbered in order of first use (words are in that order).
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    per_word = [() if w == BREAK_WORD else analyzer.word_terms(w) for w in distinct]
    counts = np.fromiter(map(len, per_word), np.int32, len(per_word))
    flat = np.fromiter(
        (setdefault(t, len(vocab)) for ts in per_word for t in ts), np.int32, int(counts.sum())
    )
    first = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    per_token = counts[word_ids]
    if per_token.max(initial=0) <= 1:
        term_ids = flat[first[word_ids[per_token == 1]]]
    else:  # a hyphenated word gives several terms
        expanded = np.repeat(word_ids, per_token)
        offsets = np.cumsum(per_token, dtype=np.int64) - per_token
        within = np.arange(len(expanded)) - np.repeat(offsets, per_token)
        term_ids = flat[first[expanded] + within]
    passage_of = np.cumsum(is_break, dtype=np.int32)
    lengths = np.bincount(passage_of, weights=per_token, minlength=len(texts))
    return list(vocab), term_ids, lengths.astype(np.int32)


def analysed_chunks(
    texts: Iterable[str], total: int, analyzer: Analyzer, workers: int | None
) -> Iterator[Chunk]:
    """Chunks in passage order. Worker processes are started with "spawn" (safe from any
    thread) and get the default analyzer by import, as a custom one cannot be sent."""
    if workers is None:
        workers = min(len(os.sched_getaffinity(0)), 8) if total >= PARALLEL_MIN_PASSAGES else 1
    pooled = workers > 1 and analyzer is DEFAULT_ANALYZER
    size = (min(MAX_CHUNK_PASSAGES, max(CHUNK_PASSAGES, -(-total // (4 * workers))))
            if pooled else CHUNK_PASSAGES)
    it = iter(texts)
    chunks = iter(lambda: list(islice(it, size)), [])
    if not pooled:
        for chunk in chunks:
            yield analyse_chunk(chunk, analyzer)
        return
    try:
        yield from _in_pool(chunks, analyzer, workers)
    except _PoolFailed as failed:
        worker_starting(failed.cause)
        log.warning("analysing in one process: " + POOL_FAILED, failed.cause)
        for chunk in (*failed.unfinished, *chunks):
            yield analyse_chunk(chunk, analyzer)


class _PoolFailed(Exception):
    def __init__(self, cause: BaseException, unfinished: list[list[str]]) -> None:
        super().__init__(str(cause))
        self.cause, self.unfinished = cause, unfinished


def _in_pool(chunks: Iterator[list[str]], analyzer: Analyzer, workers: int) -> Iterator[Chunk]:
    pending: deque[tuple[list[str], Future[Chunk]]] = deque()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        unsent: list[list[str]] = []  # a chunk taken but not yet in pending
        try:
            for chunk in chunks:  # at most two chunks a worker in flight: bounded memory
                unsent = [chunk]
                pending.append((chunk, pool.submit(analyse_chunk, chunk)))
                unsent = []
                if len(pending) >= 2 * workers:
                    yield pending[0][1].result()
                    pending.popleft()
            while pending:
                yield pending[0][1].result()
                pending.popleft()
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            # (A chunk whose submit failed is analysed here too: losing it would leave the
            # index with fewer passages than the corpus.)
            raise _PoolFailed(exc, [*(c for c, _ in pending), *unsent]) from exc
