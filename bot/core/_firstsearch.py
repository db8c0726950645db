"""The first stage's search as one compiled call (imported by bot.core.kernels with
bot.core._kernels, whose kernels it calls): the compiled form of FirstStage._search's numpy
code, the same float operations in the same order, with no return to Python between its
steps and the buffers cleared before it returns."""

from __future__ import annotations

import numpy as np
from numba import njit, types

from bot.core._kernels import (
    _RO,
    _RW,
    around,
    around_paragraphs,
    context,
    inside,
    kept,
    near,
    nth_largest,
    scatter,
    union,
    zero,
    zero_matched,
)
from bot.core.kernels import COMMON, REST, SCATTERED

_F, _I, _B = types.float64, types.int64, types.boolean
_FOUND = types.Tuple((types.Array(types.int64, 1, "C"), types.Array(types.float64, 1, "C"),
                      types.Array(types.float64, 1, "C")))
_SEARCH = _FOUND(
    _RO[types.int32], _RO[types.float64], _RO[types.int32],  # postings, weights, paragraphs
    _RO[types.int64], _RO[types.int64], _RO[types.float64], _RO[types.float64],  # terms
    _RO[types.int64], _RO[types.int64], _RO[types.int64], _RO[types.int64],
    _RO[types.boolean], types.Array(types.int16, 1, "C", readonly=True),  # allowed, collection
    _RO[types.int32], _RO[types.int64], _RO[types.boolean], _RO[types.int32],  # passages
    _RW, _RW, types.Array(types.boolean, 1, "C"), _RW,  # scores, paragraphs, marks, title
    _I, _F, _F, _F, _B, _B, _B)


@njit(cache=True, nogil=True)
def _add_title(title, docs, mass, with_title):
    if with_title:
        for d in docs:
            title[d] += mass


@njit(cache=True, nogil=True)
def _union_of(doc_ids, lo, hi, role):
    """The passages of the scattered terms' postings, ascending and distinct (int64): the
    shortest lists merged first, as FirstStage._union merges them."""
    order = np.argsort(hi - lo, kind="mergesort")  # (stable, as sorted(key=len) is)
    ids = np.zeros(0, np.int32)
    merged = 0
    for k in order:
        if role[k] != SCATTERED or lo[k] == hi[k]:
            continue
        postings = doc_ids[lo[k]:hi[k]]
        ids = postings.copy() if merged == 0 else union(ids, postings)
        merged += 1
    return ids.astype(np.int64)


@njit(cache=True, nogil=True)
def _with_neighbours(ids, scores, same_para, neighbour_weight, paragraphs, para_id, title, doc,
                     paragraph_terms, title_terms, with_paragraphs, with_title, n):
    """FirstStage._with_neighbours."""
    if len(ids) > n:
        own, out = context(ids, scores, same_para, neighbour_weight, paragraphs, para_id,
                           title, doc, paragraph_terms, title_terms, True, with_paragraphs,
                           with_title)
        if own.min() >= 0:
            floor = nth_largest(out, n)
            return _distinct(np.sort(kept(ids, own, out, floor, neighbour_weight, own.max(),
                                          same_para)))
    merged = np.empty(3 * len(ids), np.int64)
    k = 0
    for i in ids:
        merged[k] = i
        k += 1
    for i in ids:
        if same_para[i]:
            merged[k] = i - 1
            k += 1
    for i in ids:
        if same_para[i + 1]:
            merged[k] = i + 1
            k += 1
    return _distinct(np.sort(merged[:k]))


@njit(cache=True, nogil=True)
def _distinct(values):
    """The distinct values of an ascending array."""
    if len(values) < 2:
        return values
    keep = np.empty(len(values), np.bool_)
    keep[0] = True
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


@njit(_SEARCH, cache=True, nogil=True)
def search(doc_ids, weights, posting_para, lo, hi, idf, qw, role, title_lo, title_hi,
           title_docs, allowed, collection, para_id, para_start, same_para, doc, scores,
           paragraphs, marks, title, candidates, neighbour_weight, paragraph_terms,
           title_terms, with_allowed, with_paragraphs, with_title):
    """(ids, BM25 scores, context scores) of FirstStage._search, its buffers cleared after.
    Term t (in query order) is postings lo[t]:hi[t] at IDF idf[t] and weight qw[t] in the
    role role[t] (kernels.SCATTERED, COMMON or REST); its label mass goes to documents
    title_docs[title_lo[t]:title_hi[t]]. allowed (with_allowed) is by
    collection, collection[i] passage i's."""
    n_passages = len(para_id)
    # What was written, to clear: postings scattered (by term), the neighbours and paragraphs
    # searched around, and the rest's postings found inside paragraphs.
    scattered = np.zeros(len(lo), np.bool_)
    near_ids = np.zeros(0, np.int32)
    near_paras = np.zeros(0, np.int64)
    rest_total = 0
    for t in range(len(lo)):
        if role[t] == REST:
            rest_total += hi[t] - lo[t]
    rest_found = np.empty(rest_total, np.int32)
    rest_paras = np.empty(rest_total, np.int32)
    n_rest = 0

    hits = 0
    for t in range(len(lo)):
        if role[t] != SCATTERED or lo[t] == hi[t]:
            continue
        hits += 1
        a, b = lo[t], hi[t]
        mass = max(idf[t], 0.0) * qw[t]
        scatter(doc_ids[a:b], weights[a:b], idf[t], qw[t], scores, posting_para[a:b],
                paragraphs, mass, with_paragraphs)
        scattered[t] = True
        _add_title(title, title_docs[title_lo[t]:title_hi[t]], mass, with_title)
    ids = _union_of(doc_ids, lo, hi, role)
    if hits and with_allowed:
        ids = ids[allowed[collection[ids]]]
    if hits and len(ids):
        searched_near = searched_paras = False
        first = np.zeros(0, np.int32)
        stop = np.zeros(0, np.int64)
        for t in range(len(lo)):
            if role[t] != COMMON:
                continue
            a, b = lo[t], hi[t]
            mass = max(idf[t], 0.0) * qw[t]
            # A search from one match to the next costs the log of the gap: cheaper than
            # writing the postings until they are several a match.
            if 10 * len(ids) < b - a:
                if not searched_near:
                    near_ids = near(ids, n_passages)
                    searched_near = True
                around(doc_ids[a:b], weights[a:b], idf[t], qw[t], near_ids, scores)
                if with_paragraphs:
                    if not searched_paras:
                        near_paras = _distinct(para_id[ids].astype(np.int64))
                        first = para_start[near_paras].astype(np.int32)
                        stop = para_start[near_paras + 1]
                        searched_paras = True
                    around_paragraphs(doc_ids[a:b], first, stop, near_paras, paragraphs, mass)
            else:
                scatter(doc_ids[a:b], weights[a:b], idf[t], qw[t], scores, posting_para[a:b],
                        paragraphs, mass, with_paragraphs)
                scattered[t] = True
            _add_title(title, title_docs[title_lo[t]:title_hi[t]], mass, with_title)
        for t in range(len(lo)):
            if role[t] != REST or not len(ids):
                continue
            a, b = lo[t], hi[t]
            mass = max(idf[t], 0.0) * qw[t]
            at = inside(posting_para[a:b], ids, para_id, marks)
            found_ids = doc_ids[a:b][at]
            found_paras = posting_para[a:b][at]
            scatter(found_ids, weights[a:b][at], idf[t], qw[t], scores, found_paras,
                    paragraphs, mass, with_paragraphs)
            rest_found[n_rest:n_rest + len(at)] = found_ids
            rest_paras[n_rest:n_rest + len(at)] = found_paras
            n_rest += len(at)
            _add_title(title, title_docs[title_lo[t]:title_hi[t]], mass, with_title)
            ids = union(ids.astype(np.int32), found_ids).astype(np.int64)
    if hits and neighbour_weight and len(ids):
        ids = _with_neighbours(ids, scores, same_para, neighbour_weight, paragraphs, para_id,
                               title, doc, paragraph_terms, title_terms, with_paragraphs,
                               with_title, candidates)
    own, out = context(ids, scores, same_para, neighbour_weight, paragraphs, para_id, title,
                       doc, paragraph_terms, title_terms, neighbour_weight != 0.0,
                       with_paragraphs, with_title)
    for t in range(len(lo)):
        if scattered[t]:
            zero_matched(scores, paragraphs, posting_para[lo[t]:hi[t]], doc_ids[lo[t]:hi[t]])
    zero(scores, near_ids, 1)
    zero(paragraphs, near_paras, 0)
    zero_matched(scores, paragraphs, rest_paras[:n_rest], rest_found[:n_rest])
    return ids, own, out


def warm_up() -> None:
    """One call (a kernel loaded from numba's cache finishes loading on its first call)."""
    i32, i64, one = np.zeros(1, np.int32), np.zeros(1, np.int64), np.ones(1)
    search(i32, one, i32, i64, i64 + 1, one, one, i64, i64, i64, i64, np.ones(1, bool),
           np.zeros(1, np.int16), i32, np.array([0, 1], np.int64), np.zeros(2, bool), i32,
           np.zeros(3), np.zeros(1), np.zeros(1, bool), np.zeros(1), 1, 0.3, 1.5, 1.0, True,
           True, True)
