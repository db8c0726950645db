"""The reranker's cues read from the candidates' own words (bot/core/cues.py holds the
others): the question's word pairs in order, their density, exact words and where the first
is found, the kind of answer asked for, and novelty (a number or a name the question lacks)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection
from itertools import accumulate, pairwise

import numpy as np

from bot.core.analysis import Analyzer, find_words, first_new_name, fold_each
from bot.core.kinds import KINDS

# A question's word found this many words into a sentence or later (about 270 characters)
# is late alike: the answer, most often near it, is past what a reader reads first. (Chosen
# on SQuAD dev's even articles from 20, 30, 40 and 45.)
FOUND_AT_MAX = 45

# Digits in ASCII text: most sentences have none, and then no word of theirs is a number
# (NFKC folds other scripts' digits and superscripts to digits: non-ASCII text is searched).
_DIGIT = re.compile(r"\d")


def word_cues(
    texts: list[str],
    analyzer: Analyzer,
    question: str,
    kind: str | None,
    holds_kind: Callable[[str], bool] | None,
    compiled: Callable[..., np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The cues read from the candidates' words (texts: theirs, in order): word pairs,
    density, exact words and where the first is found, the kind asked for and novelty. Taken
    over folded words, not terms: tokenising the candidates into stemmed terms costs more
    than the rest of the answer path. compiled: the kernel _wordkernels.word_cues (or None),
    which reads ASCII texts for all of these but the kind in one call."""
    stop = analyzer.stopwords
    asked = analyzer.words(question)
    asked_set = {w for w in asked if w not in stop}
    asked_all = set(asked)
    pairs = {(a, b) for a, b in pairwise(asked)
             if a != b and a not in stop and b not in stop}
    kind_cue = kind if kind in KINDS and holds_kind is not None else None
    if not texts:
        return {}
    joined = "\x00".join(texts)
    if compiled is not None and joined.isascii() and joined.count("\x00") == len(texts) - 1:
        found = _compiled_cues(compiled, joined, len(texts), asked, stop, pairs)
        pair_share, density, exact, found_at, novel = found.T
    else:
        digits, names = _digits_and_names(texts, asked_all)
        words = [find_words(f) for f in fold_each(texts)]
        pair_share, density, exact, found_at = zip(
            *(_word_matches(w, asked_set, pairs) for w in words), strict=True)
        novel = [i in names or ((i in digits or not text.isascii()) and any(
            w[0].isdigit() and w not in asked_all for w in text_words))
            for i, (text, text_words) in enumerate(zip(texts, words, strict=True))]
    cues = {name: np.array(column, dtype=np.float64) for name, column in (
        ("pairs", pair_share), ("density", density), ("exact", exact), ("novel", novel),
        ("found_at", found_at))}
    if kind_cue is not None:  # whether each holds the kind asked for
        cues[kind_cue] = np.array([holds_kind(text) for text in texts], dtype=np.float64)
    if kind is None:
        cues["what_novel"] = cues["novel"]
    return cues


def _compiled_cues(
    compiled: Callable[..., np.ndarray], joined: str, n: int, asked: list[str],
    stop: Collection[str], pairs: set[tuple[str, str]],
) -> np.ndarray:
    """_word_matches and the novelty cue of the n texts joined is (ASCII, a NUL between two),
    by the compiled kernel (bot/core/_wordkernels.py)."""
    known = list(dict.fromkeys(asked))  # the question's distinct words
    number = {w: k for k, w in enumerate(known)}
    encoded = [w.encode() for w in known]
    return compiled(
        np.frombuffer(joined.encode(), np.uint8), n, np.frombuffer(b"".join(encoded), np.uint8),
        np.cumsum([0, *map(len, encoded)], dtype=np.int64),
        np.array([w not in stop for w in known], dtype=bool),
        np.array([(number[a], number[b]) for a, b in pairs], dtype=np.int64).reshape(-1, 2),
        FOUND_AT_MAX)


def _word_matches(
    words: list[str], asked: set[str], pairs: set[tuple[str, str]]
) -> tuple[float, float, float, float]:
    """(share of the question's word pairs found in order, density of the question's words,
    share of them found, where the first of them is: its word's place, up to FOUND_AT_MAX, /
    FOUND_AT_MAX; 0 when none is) in a candidate's words."""
    hits = asked.intersection(words)
    if not hits:
        return 0.0, 0.0, 0.0, 0.0
    exact = len(hits) / len(asked)
    if len(hits) == 1 and words.count(next(iter(hits))) == 1:
        # Most often: one word found once, and no pair (a != b).
        return 0.0, 1.0, exact, min(words.index(next(iter(hits))), FOUND_AT_MAX) / FOUND_AT_MAX
    # The span from the first to the last question word.
    at = [i for i, w in enumerate(words) if w in hits]
    density = min(1.0, len(hits) / (at[-1] + 1 - at[0]))
    # A pair's words are both asked and differ: two consecutive hits.
    pair_share = (len(pairs.intersection(pairwise(words))) / len(pairs)
                  if pairs and len(hits) > 1 else 0.0)
    return pair_share, density, exact, min(at[0], FOUND_AT_MAX) / FOUND_AT_MAX


def _digits_and_names(texts: list[str], asked: set[str]) -> tuple[set[int], set[int]]:
    """The numbers of the texts holding a digit, and of those holding a name asked lacks.
    Looked for in the texts joined (neither runs across the NUL between two): one search a
    text that has one, and none for the many that have not."""
    joined = "\x00".join(texts)
    starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    digits = (_texts_with(lambda pos: (m.start() if (m := _DIGIT.search(joined, pos)) else None),
                          joined, starts)
              if any(d in joined for d in "0123456789") else set())  # (substring tests: fast)
    names = _texts_with(lambda pos: first_new_name(joined, asked, pos), joined, starts)
    return digits, names


def _texts_with(
    first: Callable[[int], int | None], joined: str, starts: list[int]
) -> set[int]:
    """The numbers of the texts (text i of joined starting at starts[i]) in which first(pos),
    where something is found at or after pos, finds something: after a find, the search goes
    on from the next text."""
    out: set[int] = set()
    pos = 0
    while (at := first(pos)) is not None:
        i = bisect_right(starts, at) - 1
        out.add(i)
        if i + 1 == len(starts):
            break
        pos = starts[i + 1]
    return out
