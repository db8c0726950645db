"""Fit bot/core/rerank.py's WEIGHTS on SQuAD v1.1 dev, even articles only, and report the
held-out (odd) figures of the sentence ranking before and after.

    PYTHONPATH=. .venv/bin/python bench/fit_rerank.py --squad ../shared/data/squad/dev-v1.1.json

For every question the engine's best `--depth` candidates (reranking off) are the list; a
candidate is right when the quote it heads, as a reader is shown it, holds a gold answer
string ending within its first `--early` characters (default 250): its sentence, with the
one before where QuoteMaker adds it (a sentence leaning on it that lacks the kind asked for).
A quote that holds the answer late is what read@N does not count. The model is a softmax over
each list (the probability of a right candidate, summed), with a small L2 penalty, fitted by
full-batch gradient descent with Adam. Prints WEIGHTS to paste into bot/core/rerank.py.
`--cache` keeps the features and where the answer ends in each candidate's quote, so other
`--early` values refit in seconds.

The shipped weights (#13, one sentence a quote) were fitted at depth 25 with --early 150, L2
3e-4, 1,000 steps, refitted in session 17 on the cues as they then were (the kinds of answer
had grown: money, a duration, a frequency, an age; and the cue found_at). Output (recall of
the lists at that label, context order -> rerank): even @1 0.560 -> 0.611, @3 0.715 ->
0.748, @5 0.758 -> 0.784; odd 0.620 -> 0.652, 0.745 -> 0.769, 0.781 -> 0.800. (Without
found_at: even @1 0.606, odd 0.649; the weights fitted before session 17, on the same lists:
even @1 0.605, @3 0.747; odd 0.648, 0.768.) Chosen on even articles end to
end in session 12 (file-name labels, read@150 / read@250 / ans@3): --early 150 0.604 / 0.751
/ 0.878; 250 0.599 / 0.747 / 0.879; 100 0.604 / 0.753 / 0.875; 200 0.601 / 0.750 / 0.878;
anywhere in the quote 0.598 / 0.748 / 0.880; the weights before (fitted for runs of
sentences) 0.597 / 0.746 / 0.878.

The weights before (runs of sentences, a candidate right when it or the run it makes with a
neighbour holds the answer anywhere): even sent@1 0.772 -> 0.800, odd 0.819 -> 0.846; end to
end ans@3 0.920 (all), even 0.908, odd 0.933. Measured then, even articles' ans@3: depth 30
0.905 against 0.906 at 25, L2 1e-3 0.904 against 0.908 at 3e-4 (1e-4: 0.908).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.core import cues, rerank
from bot.core.answer import Engine
from bot.core.corpus import PassageTexts
from bot.core.model import RetrievalSettings
from bot.evaluation import load_squad


def collect(engine: Engine, questions, depth: int):
    """Per question: (features, where the answer starts in each candidate's quote, article)."""
    out = []
    for q in questions:
        query = engine.query.query(q.text).weights
        if not query:
            continue
        ids, bm25, context = engine.first.candidates(query, None, q.text)
        pool = ids[: depth + rerank.POOL_EXTRA]
        ids, bm25, context = ids[:depth], bm25[:depth], context[:depth]
        if len(ids) < 2:
            continue
        texts = PassageTexts(engine.corpus)  # (as Engine.answer reads them: once a question)
        x = engine.reranker.features(q.text, query, ids, bm25, context, pool, texts)
        kind = engine.kinds.test(q.text)
        at = np.array([_answer_at(engine, q.answers, int(i), kind, texts) for i in ids])
        out.append((x, at, q.article))
    return out


def _answer_at(engine: Engine, answers, i: int, kind, texts: PassageTexts) -> int:
    """Where a gold answer ends in the quote candidate i heads, as a reader meets it (its
    sentence, with the one before when it leans on it: QuoteMaker's rule), or -1."""
    text = engine.quoter.quotes([(i, 0.0)], frozenset(), kind, texts)[0].text
    ends = [text.find(a) + len(a) for a in answers if a in text]
    return min(ends) if ends else -1


def fit(lists, l2: float, steps: int, rate: float) -> np.ndarray:
    lists = [(x, y) for x, y, _ in lists if y.any() and not y.all()]
    d = lists[0][0].shape[1]
    w = np.zeros(d)
    w[cues.FEATURES.index("context")] = 1.0  # start from the first stage's order
    m, v = np.zeros(d), np.zeros(d)
    x_all = np.concatenate([x for x, _ in lists])
    y_all = np.concatenate([y for _, y in lists]).astype(float)
    group = np.repeat(np.arange(len(lists)), [len(y) for _, y in lists])
    g = len(lists)
    for step in range(1, steps + 1):
        z = x_all @ w
        z -= np.repeat(np.maximum.reduceat(z, _starts(group)), np.bincount(group))
        e = np.exp(z)
        p = e / np.repeat(np.bincount(group, weights=e), np.bincount(group))
        q = p * y_all
        pos = np.bincount(group, weights=q)  # probability of a right candidate, per list
        r = q / np.repeat(pos, np.bincount(group))  # its share among right ones
        grad = -(x_all.T @ (r - p)) / g + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def _starts(group: np.ndarray) -> np.ndarray:
    return np.r_[0, np.flatnonzero(np.diff(group)) + 1]


def recall(lists, w: np.ndarray | None, k: int) -> float:
    hits = []
    for x, y, _ in lists:
        order = np.arange(len(y)) if w is None else np.argsort(-(x @ w), kind="stable")
        hits.append(bool(y[order[:k]].any()))
    return float(np.mean(hits))


def _cached(cache: Path | None, squad: Path, depth: int):
    if cache is not None and cache.is_file():
        with np.load(cache) as f:
            sizes = np.cumsum(f["sizes"])[:-1]
            return list(zip(np.split(f["x"], sizes), np.split(f["at"], sizes), f["article"],
                            strict=True))
    documents, questions = load_squad(squad)
    engine = Engine(documents, replace(RetrievalSettings(), threshold=0.0, rerank=0))
    lists = collect(engine, questions, depth)
    if cache is not None:
        np.savez(cache, x=np.concatenate([x for x, _, _ in lists]),
                 at=np.concatenate([y for _, y, _ in lists]),
                 sizes=np.array([len(y) for _, y, _ in lists]),
                 article=np.array([a for _, _, a in lists]))
    return lists


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--depth", type=int, default=25)
    ap.add_argument("--l2", type=float, default=3e-4)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--early", type=int, default=250,
                    help="a candidate is right when a gold answer ends within this many "
                         "characters of its quote")
    ap.add_argument("--cache", type=Path, help="save the features here, or load them if saved")
    args = ap.parse_args()
    lists = [(x, (at >= 0) & (at <= args.early), a)
             for x, at, a in _cached(args.cache, args.squad, args.depth)]
    even = [t for t in lists if t[2] % 2 == 0]
    odd = [t for t in lists if t[2] % 2 == 1]
    w = fit(even, args.l2, args.steps, args.rate)
    print(f"{'half':6} {'sent@1':>14} {'sent@3':>14} {'sent@5':>14}   (context order -> rerank)")
    for name, part in (("even", even), ("odd", odd)):
        print(f"{name:6} " + " ".join(
            f"{recall(part, None, k):.3f} -> {recall(part, w, k):.3f}" for k in (1, 3, 5)))
    print("WEIGHTS = {")
    for name, value in zip(cues.FEATURES, w, strict=True):
        print(f'    "{name}": {value:+.4f},')
    print("}")


if __name__ == "__main__":
    main()
