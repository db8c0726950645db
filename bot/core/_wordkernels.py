"""The reranker's word cues compiled (imported by bot.core.kernels with bot.core._kernels):
wordcues.word_cues's matches and novelty over every candidate in one call, reading the
candidates' texts as ASCII bytes, where Python folds them, splits each into a list of words
and walks it, and searches them for names and digits. The same words (analysis.find_words's
for ASCII), the same names (analysis.first_new_name's pattern), the same integer counts and
the same float operations, so the same cues to the last bit."""

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
def _word(c):  # a regular expression's \w, in ASCII
    return _alnum(c) or c == 95


@njit(cache=True, nogil=True)
def _which(text, start, stop, words, bounds):
    """The number of the word text[start:stop], in lower case, among words (words[bounds[k]:
    bounds[k + 1]] is word k), or -1."""
    n = stop - start
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        if b - a != n:
            continue
        same = True
        for j in range(n):
            c = text[start + j]
            if 65 <= c <= 90:
                c += 32
            if c != words[a + j]:
                same = False
                break
        if same:
            return k
    return -1


@njit(cache=True, nogil=True)
def _after(text, s, mark):
    """Whether text[:s] ends with mark (bytes) not preceded by a word character (a regular
    expression's \\b before it)."""
    m = len(mark)
    if s < m:
        return False
    for j in range(m):
        if text[s - m + j] != mark[j]:
            return False
    return s == m or not _word(text[s - m - 1])


_ANSWER, _QUESTION = np.frombuffer(b"Answer:", np.uint8), np.frombuffer(b"Question:", np.uint8)
_A, _Q = np.frombuffer(b"A:", np.uint8), np.frombuffer(b"Q:", np.uint8)


@njit(cache=True, nogil=True)
def _new_name(text, start, stop, words, bounds):
    """Whether text[start:stop] holds a capitalised word not first in its sentence, none of
    words in lower case: analysis._CAPITALISED, " (?=[A-Z])(?<=[\\w,;:)] )(?<!\\b[AQ]: )
    (?<!\\bAnswer: )(?<!\\bQuestion: )([A-Z][\\w'-]+)", and first_new_name's test."""
    for s in range(start, stop - 1):
        if text[s] != 32 or not 65 <= text[s + 1] <= 90 or s == 0:
            continue
        c = text[s - 1]
        if not (_word(c) or c == 44 or c == 59 or c == 58 or c == 41):  # , ; : )
            continue
        if _after(text, s, _A) or _after(text, s, _Q) or _after(text, s, _ANSWER) or _after(
                text, s, _QUESTION):
            continue
        e = s + 2
        while e < stop and (_word(text[e]) or text[e] == 39 or text[e] == 45):
            e += 1
        if e - s - 1 >= 2 and _which(text, s + 1, e, words, bounds) < 0:
            return True
    return False


@njit(_FOUND(_BYTES, types.int64, _BYTES, _INTS, _BOOLS, _PAIRS, types.int64),
      cache=True, nogil=True)
def word_cues(text, n_texts, words, bounds, content, pairs, found_at_max):
    """For each of n_texts texts (text: them joined by NUL bytes, ASCII), wordcues's
    _word_matches (pair share, density, exact share, found_at) and the novelty cue (columns
    0-4). words: the question's distinct folded words (see _which), content[k] whether word
    k is no stopword; pairs: the question's word pairs (word numbers) that count. A word is
    a run of ASCII letters and digits, joined to the next by an apostrophe or hyphen between
    two such runs."""
    out = np.zeros((n_texts, 5))
    n_content = 0
    for k in range(len(content)):
        n_content += content[k]
    hit = np.zeros(len(content), np.bool_)
    pair_found = np.zeros(len(pairs), np.bool_)
    n = len(text)
    begin = 0  # the text's first byte
    i = 0
    t = 0
    place = hits = 0  # the word's place in its text; the question's words found
    first = last = previous = -1  # previous: the previous word's number (-1: none of words)
    new_number = False
    while True:
        if i >= n or text[i] == 0:  # a text ends
            if hits:
                out[t, 0] = (pair_found.sum() / len(pairs)) if len(pairs) and hits > 1 else 0.0
                out[t, 1] = min(1.0, hits / (last + 1 - first))
                out[t, 2] = hits / n_content
                out[t, 3] = min(first, found_at_max) / found_at_max
            # (A word opening with a digit is a digit: Python's test for one is implied.)
            novel = new_number or _new_name(text, begin, i, words, bounds)
            out[t, 4] = 1.0 if novel else 0.0
            t += 1
            if i >= n or t >= n_texts:
                break
            i += 1
            begin = i
            hit[:] = False
            pair_found[:] = False
            place = hits = 0
            first = last = previous = -1
            new_number = False
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
                new_number = True
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
    word_cues(np.frombuffer(b"a B\x00c", np.uint8), 2, np.frombuffer(b"ab", np.uint8),
              np.array([0, 1, 2], np.int64), np.ones(2, bool), np.array([[0, 1]], np.int64), 45)
