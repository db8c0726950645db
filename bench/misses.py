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

from bot.core.answer import Engine  # noqa: E402
from bot.core.model import RetrievalSettings  # noqa: E402
from bot.evaluation import SEPARATOR, load_squad, read_at  # noqa: E402

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
    for q in questions:
        quotes = engine.answer(q.text, top_k=settings.top_k).quotes
        texts = [x.text for x in quotes]
        holds = [any(a in t for a in q.answers) for t in texts]
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
        counts["even" if q.article % 2 == 0 else "odd"][row] += 1
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


if __name__ == "__main__":
    main()
