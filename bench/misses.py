"""Where read@N misses: for each SQuAD v1.1 dev question whose gold answer is not within the
first N characters of the reply (as `quotebot eval` counts read@N), where the answer is.

    .venv/bin/python bench/misses.py --squad ../shared/data/squad/dev-v1.1.json [--read 150]

Each question falls in one row, for the even (tuning) and odd (held-out) articles apart:
- read: within the first N characters (read@N);
- first quote, one sentence: in the first quote, a single sentence, past N characters;
- first quote, its first sentence: in the first quote's first sentence, past N, the quote
  being a run of sentences (a neighbour joined after it);
- first quote, a later sentence: in a later sentence of the first quote's run (the sentence
  before leaned on, or a next one joined);
- a later quote: in the second or third quote, past N;
- not in the reply: in none of the quotes shown.
Then, for the one-sentence first quotes, where the answer ends in them and their length.

Last, for the questions whose answer is in none of the first three quotes (what ans@3
misses), where the answer's paragraph stands in the list the reply is drawn from (the first
stage's candidates, the best `rerank` of them reordered, counted by distinct paragraphs), and
where its sentence does among the first stage's candidates (before reordering): the reranker
sees the first `rerank` of them only. Where the paragraph is not among the first three, no
choice of sentences from those three paragraphs holds the answer: "ans@3 bound" is ans@3 with
every other miss answered, the most that choosing and ordering sentences can reach over this
first stage.
Labels are the articles' titles and the threshold is 0, as `quotebot eval` runs them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.core.answer import Engine  # noqa: E402
from bot.core.model import RetrievalSettings  # noqa: E402
from bot.evaluation import SEPARATOR, load_squad, read_at  # noqa: E402

# Where the answer's paragraph stands among the candidates' distinct paragraphs (see above).
STANDS = ("1st-3rd paragraph", "4th-5th paragraph", "6th or later", "not a candidate")
ROWS = ("read", "first quote, one sentence", "first quote, its first sentence",
        "first quote, a later sentence", "a later quote", "not in the reply")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--read", type=int, default=150, help="N of read@N (default 150)")
    args = parser.parse_args()
    documents, questions = load_squad(args.squad, "title")
    settings = replace(RetrievalSettings(), threshold=0.0)
    engine = Engine(documents, settings)
    p = engine.passages
    doc_of = {d.rel: i for i, d in enumerate(engine.documents)}
    counts = {half: Counter() for half in ("even", "odd")}
    # Where the answer ends in a first quote of one sentence that holds it past N, and how
    # long that quote is.
    ends: list[int] = []
    lengths: list[int] = []
    stands = {half: Counter() for half in ("even", "odd")}
    sentence_late = {half: 0 for half in ("even", "odd")}
    for q in questions:
        half = "even" if q.article % 2 == 0 else "odd"
        quotes = engine.answer(q.text, top_k=settings.top_k).quotes
        texts = [x.text for x in quotes]
        holds = [any(a in t for a in q.answers) for t in texts]
        if not any(holds[:3]):
            stand, late = _stands(engine, q, settings.rerank)
            stands[half][stand] += 1
            sentence_late[half] += late
        if read_at(texts, q.answers, args.read):
            row = "read"
        elif not any(holds):
            row = "not in the reply"
        elif not holds[0]:
            row = "a later quote"
        else:
            first = quotes[0]
            d = doc_of[first.document]
            run = [i for i in range(p.doc_start[d], p.doc_start[d + 1])
                   if first.start <= p.start[i] and p.end[i] <= first.end]
            if len(run) == 1:
                row = "first quote, one sentence"
                ends.append(min(first.text.find(a) + len(a) for a in q.answers
                                if a in first.text))
                lengths.append(len(first.text))
            else:
                head = first.text[: p.end[run[0]] - first.start]
                row = ("first quote, its first sentence" if any(a in head for a in q.answers)
                       else "first quote, a later sentence")
        counts[half][row] += 1
    print(f"SQuAD v1.1 dev, title labels, read@{args.read}: where the answer is "
          f"(quotes joined by {SEPARATOR!r})")
    print(f"{'':34} {'even':>6} {'share':>6} {'odd':>6} {'share':>6}")
    for row in ROWS:
        cells = " ".join(f"{counts[h][row]:6d} {counts[h][row] / sum(counts[h].values()):6.3f}"
                         for h in ("even", "odd"))
        print(f"{row:34} {cells}")
    if ends:
        print(f"first quote, one sentence: the answer ends at character "
              f"{statistics.median(ends):.0f} of a {statistics.median(lengths):.0f}-character "
              f"quote (medians)")
    print("\nanswer in none of the first three quotes: where its paragraph stands among the "
          "candidates' paragraphs")
    print(f"{'':34} {'even':>6} {'share':>6} {'odd':>6} {'share':>6}")
    for row in STANDS:
        print(f"{row:34} " + " ".join(
            f"{stands[h][row]:6d} {stands[h][row] / sum(counts[h].values()):6.3f}"
            for h in ("even", "odd")))
    print(f"{'its sentence past the reranked':34} " + " ".join(
        f"{sentence_late[h]:6d} {sentence_late[h] / sum(counts[h].values()):6.3f}"
        for h in ("even", "odd")))
    bound = {h: 1 - (sum(stands[h].values()) - stands[h][STANDS[0]]) / sum(counts[h].values())
             for h in ("even", "odd")}
    print(f"{'ans@3 bound':34} {'':6} {bound['even']:6.3f} {'':6} {bound['odd']:6.3f}")


def _stands(engine: Engine, q, depth: int) -> tuple[str, bool]:
    """Where question q's answer paragraph stands among the distinct paragraphs of the
    candidates as Engine.answer orders them (STANDS), and whether its answer sentence is
    past the first `depth` candidates of the first stage (or not a candidate)."""
    p = engine.passages
    d = next(i for i, doc in enumerate(engine.documents)
             if int(doc.rel.split("_", 1)[0]) == q.article)
    lo, hi = int(p.doc_start[d]), int(p.doc_start[d + 1])
    gold = np.array(sorted({i for s, _ in q.spans for i in range(lo, hi)
                            if p.start[i] <= s < p.end[i]}), dtype=np.int64)
    query = engine.query.query(q.text).weights
    if not query or not len(gold):
        return STANDS[-1], True
    ids, bm25, context = engine.first.candidates(query, None, q.text)
    late = not np.isin(ids[:depth], gold).any()
    order = engine.reranker.reorder(q.text, query, ids, bm25, context)
    if order is not None:
        ids = np.concatenate((ids[order], ids[len(order):]))
    paragraphs = p.para_id[ids]
    _, first = np.unique(paragraphs, return_index=True)
    ranked = paragraphs[np.sort(first)]  # distinct, in the list's order
    at = np.flatnonzero(np.isin(ranked, p.para_id[gold]))
    if not len(at):
        return STANDS[-1], late
    return STANDS[0 if at[0] < 3 else 1 if at[0] < 5 else 2], late


if __name__ == "__main__":
    main()
