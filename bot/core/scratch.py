"""The first stage's scratch state: dense per-thread accumulators, and what one question
wrote to them, cleared when it ends (bot/core/firststage.py)."""

from __future__ import annotations

import numpy as np


class Buffers:
    """Dense accumulators of one thread's searches, all zero (False) between searches."""

    def __init__(self, n_passages: int, n_paragraphs: int) -> None:
        self.scores = np.zeros(n_passages + 2)
        self.paragraphs = np.zeros(n_paragraphs)
        self.marks = np.zeros(n_paragraphs, dtype=bool)  # see FirstStage._score_inside
        # Written once now: np.zeros maps pages the system fills only when first written,
        # so a thread's buffers (about 10 MB at 1M passages) would otherwise grow the
        # process a page at a time over thousands of questions, like a leak.
        for buffer in (self.scores, self.paragraphs, self.marks):
            buffer.fill(0)


class Search:
    """One question's scratch state in numpy (the compiled search keeps its own): the
    thread's buffers (passage i is slot i + 1 of buf.scores, so that i - 1 and i + 1 are
    slots too), each document's title mass (None when no question term is in a label), and
    what was written, cleared when it ends."""

    def __init__(self, buf: Buffers, title: np.ndarray | None) -> None:
        self.buf, self.title = buf, title
        self.scores_at = buf.scores[1:-1]
        self.passages: list[np.ndarray] = []  # passages written to in scores_at
        self.paragraphs: list[np.ndarray] = []  # paragraphs written to in buf.paragraphs

    def clear(self) -> None:
        for written in self.passages:
            self.scores_at[written] = 0.0
        for para in self.paragraphs:
            self.buf.paragraphs[para] = 0.0
