"""The reranker's word cues compiled (imported by bot.core.kernels with bot.core._kernels):
wordcues._word_matches over every candidate in one call, reading the candidates' folded
texts as ASCII bytes, where Python splits each into a list of words and walks it. The same
words (analysis.find_words's, for ASCII), the same integer counts and the same float
operations, so the same cues to the last bit."""

from __future__ import annotations

import numpy as np
from numba import njit, types

_BYTES = types.Array(types.uint8, 1, "C", readonly=True)
_INTS = types.Array(types.int64, 1, "C", readonly=True)
_PAIRS = types.Array(types.int64, 2, "C", readonly=True)
_BOOLS = types.Array(types.boolean, 1, "C", readonly=True)
_FOUND = types.Array(types.float64, 2, "C")


@njit(cache=True, nogil=True)
def _alnum(c):
    return (48 <= c <= 57) or (97 <= c <= 122) or (65 <= c <= 90)


@njit(cache=True, nogil=True)
def _which(text, start, stop, words, bounds):
    """The number of the word text[start:stop] is among words (words[bounds[k]:bounds[k +
    1]] is word k), or -1."""
    n = stop - start
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        if b - a != n:
            continue
        same = True
        for j in range(n):
            if text[start + j] != words[a + j]:
                same = False
                break
        if same:
            return k
    return -1


@njit(_FOUND(_BYTES, types.int64, _BYTES, _INTS, _BOOLS, _PAIRS, types.int64),
      cache=True, nogil=True)
def word_matches(text, n_texts, words, bounds, content, pairs, found_at_max):
    """For each of n_texts texts (text: their folded forms joined by NUL bytes, ASCII),
    wordcues._word_matches's (pair share, density, exact share, found_at) and whether a word
    opening with a digit is none of words (columns 0-4). words: the question's distinct
    folded words (see _which), content[k] whether word k is no stopword; pairs: the
    question's word pairs (word numbers) that count. A word is a run of ASCII letters and
    digits, joined to the next by an apostrophe or hyphen between two such runs."""
    out = np.zeros((n_texts, 5))
    n_content = 0
    for k in range(len(content)):
        n_content += content[k]
    hit = np.zeros(len(content), np.bool_)
    pair_found = np.zeros(len(pairs), np.bool_)
    t = 0
    i = 0
    n = len(text)
    place = 0  # the word's place in its text
    hits = 0
    first = last = -1
    previous = -1  # the previous word's number (-1: none of words, or the text's first)
    new_digit = False
    while True:
        if i >= n or text[i] == 0:  # a text ends
            if hits:
                exact = hits / n_content
                density = min(1.0, hits / (last + 1 - first))
                share = 0.0
                if len(pairs) and hits > 1:
                    share = pair_found.sum() / len(pairs)
                out[t, 0] = share
                out[t, 1] = density
                out[t, 2] = exact
                out[t, 3] = min(first, found_at_max) / found_at_max
            out[t, 4] = 1.0 if new_digit else 0.0
            t += 1
            if i >= n or t >= n_texts:
                break
            i += 1
            hit[:] = False
            pair_found[:] = False
            place = hits = 0
            first = last = previous = -1
            new_digit = False
            continue
        if not _alnum(text[i]):
            i += 1
            continue
        start = i
        while i < n and _alnum(text[i]):
            i += 1
        while (i + 1 < n and (text[i] == 39 or text[i] == 45)  # ' or -
               and _alnum(text[i + 1])):
            i += 1
            while i < n and _alnum(text[i]):
                i += 1
        k = _which(text, start, i, words, bounds)
        if k < 0:
            if 48 <= text[start] <= 57:
                new_digit = True
        elif content[k]:
            if not hit[k]:
                hit[k] = True
                hits += 1
            if first < 0:
                first = place
            last = place
        if k >= 0 and previous >= 0:
            for p in range(len(pairs)):
                if pairs[p, 0] == previous and pairs[p, 1] == k:
                    pair_found[p] = True
        previous = k
        place += 1
    return out


def warm_up() -> None:
    """One call (a kernel loaded from numba's cache finishes loading on its first call)."""
    word_matches(np.frombuffer(b"a b\x00c", np.uint8), 2, np.frombuffer(b"ab", np.uint8),
                 np.array([0, 1, 2], np.int64), np.ones(2, bool), np.array([[0, 1]], np.int64),
                 45)
