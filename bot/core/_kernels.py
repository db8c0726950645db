"""The compiled kernels (imported by bot.core.kernels in a background thread: importing numba
takes about a second). Compiled for the signatures below when imported, or loaded from
numba's cache beside this file. Read-only array arguments accept writable arrays too, so a
memory-mapped saved index and a built one share one compilation. Every array is contiguous
("C"): callers pass no strided views (a column of a 2-d array is copied first). Compiled for
layout "A" (any array) instead, numba reads each array's stride at every access and LLVM
cannot simplify the loops: the first stage took 1.1-1.2 times as long at 1M passages
(bench/README.md)."""

from __future__ import annotations

import numpy as np
from numba import njit, types

from bot.core import _wordkernels
from bot.core._wordkernels import word_cues  # noqa: F401 (the reranker's, from here)

_RO = {dt: types.Array(dt, 1, "C", readonly=True)
       for dt in (types.int32, types.int64, types.float64, types.boolean)}
_RW = types.Array(types.float64, 1, "C")
_RW2 = types.Array(types.float64, 2, "C")
_F, _I, _B = types.float64, types.int64, types.boolean
_SCATTER = types.void(_RO[types.int32], _RO[types.float64], _F, _F, _RW, _RO[types.int32],
                      _RW, _F, _B)
_CONTEXT = types.UniTuple(types.Array(types.float64, 1, "C"), 2)(
    _RO[types.int64], _RO[types.float64], _RO[types.boolean], _F, _RO[types.float64],
    _RO[types.int32], _RO[types.float64], _RO[types.int32], _F, _F, _B, _B, _B)
_ZERO = [types.void(_RW, _RO[dt], _I) for dt in (types.int32, types.int64)]


@njit(_SCATTER, cache=True, nogil=True)
def scatter(ids, w, idf, qw, scores, paras, paragraphs, mass, with_paragraphs):
    """scores[ids + 1] += w * idf * qw and, when with_paragraphs, paragraphs[paras] += mass
    once a paragraph (paras: the paragraph of each of ids, read in step with them rather than
    looked up at random; ids ascending and distinct, so a paragraph's are together):
    FirstStage._scatter's numpy writes, which also add a repeated paragraph's mass once."""
    last = -1
    for j in range(len(ids)):
        i = ids[j]
        add = w[j] * idf
        if qw != 1.0:
            add *= qw
        scores[i + 1] += add
        if with_paragraphs:
            para = paras[j]
            if para != last:
                paragraphs[para] += mass
                last = para


@njit(_CONTEXT, cache=True, nogil=True)
def context(ids, scores, same_para, neighbour_weight, paragraphs, para_id, title, doc,
            paragraph_terms, title_terms, with_neighbours, with_paragraphs, with_title):
    """(BM25 scores, context scores) of passages ids: FirstStage._context's sums, in its
    order (scores holds passage i at i + 1; FirstStage._beside[i] is neighbour_weight where
    same_para[i], else 0, read here from the bool array: a smaller working set)."""
    n = len(ids)
    own = np.empty(n)
    out = np.empty(n)
    for k in range(n):
        i = ids[k]
        s = scores[i + 1]
        c = s
        if with_neighbours:
            before = neighbour_weight if same_para[i] else 0.0
            after = neighbour_weight if same_para[i + 1] else 0.0
            c = s + scores[i] * before
            c += scores[i + 2] * after
        if with_paragraphs:
            c += paragraph_terms * paragraphs[para_id[i]]
        if with_title:
            c += title_terms * title[doc[i]]
        own[k] = s
        out[k] = c
    return own, out


@njit(_ZERO, cache=True, nogil=True)
def zero(values, at, offset):
    """values[at + offset] = 0."""
    for j in range(len(at)):
        values[at[j] + offset] = 0.0


@njit(types.void(_RW, _RW, _RO[types.int32], _RO[types.int32]), cache=True, nogil=True)
def zero_matched(scores, paragraphs, paras, ids):
    """scores[ids + 1] = 0 and paragraphs[paras] = 0: what scatter wrote."""
    for j in range(len(ids)):
        scores[ids[j] + 1] = 0.0
        paragraphs[paras[j]] = 0.0


@njit(types.float64(_RO[types.float64], _I, _I), cache=True, nogil=True)
def _nth_largest(values, n, budget):
    """nth_largest's heap (a min-heap of the n largest so far); NaN past budget entries."""
    heap = np.sort(values[:n])  # (ascending: a heap)
    entered = 0
    for k in range(n, len(values)):
        v = values[k]
        if v <= heap[0]:
            continue
        entered += 1
        if entered > budget:
            return np.nan
        i = 0  # v replaces the root, sifted down
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and heap[c + 1] < heap[c]:
                c += 1
            if heap[c] >= v:
                break
            heap[i] = heap[c]
            i = c
        heap[i] = v
    return heap[0]


@njit(types.float64(_RO[types.float64], _I), cache=True, nogil=True)
def nth_largest(values, n):
    """np.partition(values, len(values) - n)[len(values) - n] (1 <= n <= len(values), no
    NaN): FirstStage._with_neighbours's floor. A heap of the n largest, in one pass, costs a
    tenth of a selection over a slow question's matches; values coming nearly ascending all
    enter it, and past a budget a selection finds it instead."""
    found = _nth_largest(values, n, 16 * n)
    return found if found == found else np.partition(values, len(values) - n)[len(values) - n]


@njit(types.Array(types.int32, 1, "C")(_RO[types.int64], _I), cache=True, nogil=True)
def near(ids, n):
    """Passages ids (ascending, distinct) and the two on either side of each, ascending and
    distinct, within 0:n: FirstStage._around's numpy code, in one pass."""
    out = np.empty(5 * len(ids), np.int32)
    k = 0
    last = -1
    for i in ids:
        for x in range(max(i - 2, last + 1, 0), min(i + 3, n)):
            out[k] = x
            k += 1
            last = x
    return out[:k]


@njit(types.Array(types.int32, 1, "C")(_RO[types.int32], _RO[types.int32]), cache=True,
      nogil=True)
def union(a, b):
    """The distinct values of ascending arrays a and b (each distinct), ascending."""
    out = np.empty(len(a) + len(b), np.int32)
    i = j = k = 0
    while i < len(a) and j < len(b):
        x, y = a[i], b[j]
        if x <= y:
            out[k] = x
            i += 1
            j += x == y
        else:
            out[k] = y
            j += 1
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out[:k]


@njit(types.Array(types.int64, 1, "C")(_RO[types.int64], _RO[types.float64],
                                       _RO[types.float64], _F, _F, _F, _RO[types.boolean]),
      cache=True, nogil=True)
def kept(ids, scores, context, floor, neighbour_weight, best, same_para):
    """FirstStage._with_neighbours's passages (not yet sorted, repeats possible): each of
    ids whose context reaches floor, and the neighbours in its paragraph of each whose
    bound does (the same float operations as its numpy code)."""
    out = np.empty(3 * len(ids), np.int64)
    k = 0
    for j in range(len(ids)):
        i = ids[j]
        c = context[j]
        if c >= floor:
            out[k] = i
            k += 1
        bound = c - (1 - neighbour_weight) * scores[j]
        bound += neighbour_weight * best
        bound += 1e-9 * (abs(bound) + 1.0)
        if bound >= floor:
            if same_para[i]:
                out[k] = i - 1
                k += 1
            if same_para[i + 1]:
                out[k] = i + 1
                k += 1
    return out[:k]


@njit(types.Array(types.int64, 1, "C")(_RO[types.int32], _RO[types.int64], _RO[types.int32],
                                       types.Array(types.boolean, 1, "C")),
      cache=True, nogil=True)
def inside(paras, ids, para_id, marks):
    """The positions in a posting list (paras: the paragraph of each posting) of the
    passages in a paragraph of one of ids: marks (all False) flags those paragraphs
    meanwhile. FirstStage._score_inside's numpy code; a merge of postings with the
    paragraphs' ranges instead mispredicts a branch a posting, and costs several times more."""
    for i in ids:
        marks[para_id[i]] = True
    out = np.empty(len(paras), np.int64)
    k = 0
    for j in range(len(paras)):
        out[k] = j
        k += marks[paras[j]]
    for i in ids:
        marks[para_id[i]] = False
    return out[:k]


@njit(cache=True, nogil=True)
def _search(postings, lo, hi, needle):
    """np.searchsorted(postings[lo:hi], needle) + lo (side "left")."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if postings[mid] < needle:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _gallop(postings, lo, needle):
    """np.searchsorted(postings[lo:], needle) + lo, found by doubling steps from lo: a
    search for ascending needles costs the log of the gap to the next, not of the list."""
    hi = len(postings)
    if lo >= hi or postings[lo] >= needle:
        return lo
    step = 1
    while lo + step < hi and postings[lo + step] < needle:
        lo += step
        step *= 2
    return _search(postings, lo + 1, min(lo + step, hi), needle)


@njit(types.void(_RO[types.int32], _RO[types.float64], _F, _F, _RO[types.int32], _RW),
      cache=True, nogil=True)
def around(postings, w, idf, qw, near, scores):
    """scores[near[k] + 1] += w[j] * idf * qw where postings[j] == near[k] (both ascending
    and distinct): FirstStage._score_around's binary searches, as numpy does them."""
    j = 0
    for k in range(len(near)):
        j = _gallop(postings, j, near[k])
        if j == len(postings):
            return
        if postings[j] == near[k]:
            scores[near[k] + 1] += w[j] * idf * qw


@njit(types.void(_RO[types.int32], _RO[types.int32], _RO[types.int64], _RO[types.int64], _RW,
                 _F), cache=True, nogil=True)
def around_paragraphs(postings, first, stop, para, paragraphs, mass):
    """paragraphs[para[k]] += mass where a posting lies in first[k]:stop[k] (paragraphs
    ascending): FirstStage._score_around's searches for the paragraphs."""
    j = 0
    for k in range(len(para)):
        j = _gallop(postings, j, first[k])
        if j == len(postings):
            return
        if postings[j] < stop[k]:
            paragraphs[para[k]] += mass


@njit(types.Array(types.float64, 2, "C")(
    _RO[types.int32], _RO[types.int64], _RO[types.int64], _RO[types.float64],
    _RO[types.int64], _RO[types.int64], _RO[types.int64], _RO[types.int64]),
    cache=True, nogil=True)
def coverage(postings, starts, stops, weights, first, ids, lead, stop):
    """Confidence.of's (terms x passages) array, what each term found in passage ids[j]
    plus what it found in its paragraph, passages lead[j]:stop[j]: row r is the posting list
    postings[starts[r]:stops[r]] at weight weights[r], rows first[g]:first[g + 1] (the last
    to the end) are term g's, and a term counts the best of its rows."""
    n = len(ids)
    found = np.empty((len(first), n))
    for g in range(len(first)):
        last = first[g + 1] if g + 1 < len(first) else len(starts)
        for j in range(n):
            own = 0.0
            para = 0.0
            for r in range(first[g], last):
                lo, hi = starts[r], stops[r]
                a = _search(postings, lo, hi, ids[j])
                if a < hi and postings[a] == ids[j]:
                    own = max(own, weights[r])
                a = _search(postings, lo, hi, lead[j])
                if a < hi and postings[a] < stop[j]:
                    para = max(para, weights[r])
            found[g, j] = own + para
    return found


# The reranker's term cues (bot/core/cues.py, _term_cues) that are the question's IDF mass
# times a (terms x candidates) array, one array each, in this order; term_searches also gives
# the argument of the local cues' log, after them.
MASS_CUES = ("sentence", "window", "paragraph", "lead", "para_bm25", "doc_bm25", "win_bm25",
             "para_rare")
_ROWS = types.Array(types.float64, 2, "C", readonly=True)


@njit(types.Array(types.float64, 3, "C")(
    _RO[types.int32], _RO[types.int64], _RO[types.int64], _RO[types.int64], _RO[types.boolean],
    _RO[types.boolean], _RO[types.boolean], _RO[types.boolean], _RO[types.float64],
    _RO[types.float64]), cache=True, nogil=True)
def term_searches(postings, starts, stops, needles, same_before, same_after, has_before,
                  has_after, para_norm, doc_norm):
    """The arrays MASS_CUES, then (doc_size + 1) / (in_doc + 0.5), of n candidates (out[c,
    t, j]: cue c, term t, candidate j): term t's postings are postings[starts[t]:stops[t]];
    needles are the candidates, the passages before and after them, their paragraphs' first
    passages and ends, their documents' first passages and ends (n each, in that order).
    cues._term_cues's numpy arrays, each element the same float operations; the products
    with the mass and the log stay numpy's (BLAS and numpy's log may round otherwise)."""
    n = len(needles) // 7
    out = np.empty((len(MASS_CUES) + 1, len(starts), n))
    pos = np.empty(7, np.int64)
    found = np.empty(7, np.bool_)
    for t in range(len(starts)):
        lo, hi = starts[t], stops[t]
        for j in range(n):
            for g in range(7):
                needle = needles[g * n + j]
                a = _search(postings, lo, hi, needle)
                pos[g] = a - lo
                found[g] = a < hi and postings[a] == needle
            inside = 1.0 if found[0] else 0.0
            near = found[0] or (same_before[j] and found[1]) or (same_after[j] and found[2])
            in_para = pos[4] - pos[3]
            in_doc = pos[6] - pos[5]
            held = inside + (1.0 if has_before[j] and found[1] else 0.0)
            held += 1.0 if has_after[j] and found[2] else 0.0
            out[0, t, j] = inside
            out[1, t, j] = 1.0 if near else 0.0
            out[2, t, j] = 1.0 if in_para > 0 else 0.0
            out[3, t, j] = 1.0 if found[3] else 0.0
            out[4, t, j] = in_para / (in_para + para_norm[j])
            out[5, t, j] = in_doc / (in_doc + doc_norm[j])
            out[6, t, j] = held / (held + 1.2)  # cues.TEXT_K1
            out[7, t, j] = inside / max(in_para, 1)
            doc_size = float(needles[6 * n + j] - needles[5 * n + j])
            out[8, t, j] = (doc_size + 1) / (in_doc + 0.5)
    return out


@njit(types.void(_RW2, _ROWS, _RO[types.float64], _ROWS, _ROWS, _F), cache=True, nogil=True)
def term_shares(sums, logs, weights, inside, near, total):
    """Rows 0-7 of sums (MASS_CUES summed with the mass) as shares, in place, and rows 8-9
    the local cues: cues._term_cues's and _local_cues's numpy code from there (logs: of
    term_searches's last array; inside, near: its first two)."""
    n = sums.shape[1]
    for j in range(n):
        local_total = 0.0
        own = 0.0
        win = 0.0
        for t in range(len(weights)):
            local = weights[t] * max(logs[t, j], 0.0)
            local_total += local
            own += local * inside[t, j]
            win += local * near[t, j]
        share = local_total if local_total > 0 else 1.0
        sums[8, j] = (own if local_total > 0 else 0.0) / share
        sums[9, j] = (win if local_total > 0 else 0.0) / share
        if total > 0:
            for row in range(4):
                sums[row, j] /= total
    for row in range(4, 8):  # para_bm25, doc_bm25, win_bm25, para_rare: shares of the best
        best = 0.0
        for j in range(n):
            best = max(best, sums[row, j])
        if best > 0:
            for j in range(n):
                sums[row, j] /= best


def warm_up() -> None:
    """One call of each kernel called from Python (the first stage's are called from
    bot/core/_firstsearch.py's search, warmed there): a kernel loaded from numba's cache
    finishes loading on its first call."""
    ids32, ids64, one = np.zeros(1, np.int32), np.zeros(1, np.int64), np.ones(1)
    coverage(ids32, ids64, ids64 + 1, one, ids64, ids64, ids64, ids64 + 1)
    flag = np.zeros(1, bool)
    arrays = term_searches(ids32, ids64, ids64 + 1, np.zeros(7, np.int64), flag, flag, flag,
                           flag, one, one)
    term_shares(np.zeros((10, 1)), arrays[-1], one, arrays[0], arrays[1], 1.0)
    _wordkernels.warm_up()
