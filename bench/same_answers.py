"""Record every answer to a fixed set of questions, or check that the code still gives them.

    .venv/bin/python bench/same_answers.py record /tmp/before.jsonl   # on the old code
    .venv/bin/python bench/same_answers.py check /tmp/before.jsonl    # on the new code

A change meant as a pure speed-up must leave every answer as it was: the same quotes in the
same order, from the same documents at the same offsets, with the same sources ("also"),
confidence and scores (equal up to float rounding, since a sum taken in another order may
differ in its last bits; a refusal's confidence may be higher, see Engine.answer). The
questions are SQuAD v1.1 dev's (all articles, top 5, the `quotebot eval` corpus),
bench/synth.py's at 100k passages (top 5, and the second page of top 3 as "More" asks it),
and the synthetic ones again limited to a collection that holds half the documents. Exit
status 1 on any difference, with the first few listed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import questions, write_corpus  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json"
REL = 1e-9  # float scores may differ by rounding only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qb-same"))
    parser.add_argument("--synthetic", type=int, default=100_000, help="passages")
    parser.add_argument("--questions", type=int, default=1000, help="synthetic questions")
    args = parser.parse_args()
    rows = _answers(args)
    if args.action == "record":
        with args.path.open("w") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
        return
    with args.path.open() as recorded:
        old = [json.loads(line) for line in recorded]
    sys.exit(_compare(old, list(rows)))


def _answers(args: argparse.Namespace) -> Iterator[dict]:
    from bot.core.answer import Engine
    from bot.evaluation import load_squad
    from bot.library import load_documents

    documents, asked = load_squad(args.squad)
    engine = Engine(documents)
    for q in asked:
        yield _row("squad", q.text, engine.answer(q.text, top_k=5))
    del engine
    folder = write_corpus(args.workdir / f"p{args.synthetic}", args.synthetic)
    documents, _ = load_documents([("bench", folder)])
    # Every other document in a second collection, to exercise the collection filter.
    documents = [d if i % 2 else _moved(d, "other") for i, d in enumerate(documents)]
    engine = Engine(documents)
    for text in questions(args.questions):
        yield _row("synth", text, engine.answer(text, top_k=5))
        yield _row("synth more", text, engine.answer(text, top_k=3, offset=3))
        yield _row("synth other", text, engine.answer(text, top_k=5, collections={"other"}))


def _moved(document, collection: str):
    from dataclasses import replace

    return replace(document, collection=collection)


def _row(kind: str, question: str, answer) -> dict:
    return {
        "kind": kind, "question": question, "answered": answer.answered,
        "reason": answer.reason, "confidence": answer.confidence, "more": answer.more,
        "quotes": [
            [q.collection, q.document, q.paragraph, q.start, q.end, q.score,
             [[s.collection, s.document] for s in q.also]]
            for q in answer.quotes
        ],
    }


def _compare(old: list[dict], new: list[dict]) -> int:
    if len(old) != len(new):
        print(f"{len(old)} answers recorded, {len(new)} now")
        return 1
    bad = [(a, b) for a, b in zip(old, new, strict=True) if not _same(a, b)]
    for a, b in bad[:5]:
        print(f"differs: {a['kind']}: {a['question']!r}\n  was {a}\n  now {b}")
    print(f"{len(new)} answers, {len(bad)} differ")
    return 1 if bad else 0


def _same(a: dict, b: dict) -> bool:
    if {k: v for k, v in a.items() if k not in ("confidence", "quotes")} != {
        k: v for k, v in b.items() if k not in ("confidence", "quotes")
    } or len(a["quotes"]) != len(b["quotes"]):
        return False
    if not a["answered"] and a["reason"] == "no_match":
        # A refusal decided before reranking reports the best confidence of the candidates
        # that could have come first, which is at least that of the one that did.
        if b["confidence"] < a["confidence"] - REL:
            return False
    elif not math.isclose(a["confidence"], b["confidence"], rel_tol=REL, abs_tol=REL):
        return False
    for x, y in zip(a["quotes"], b["quotes"], strict=True):
        if x[:5] != y[:5] or x[6] != y[6]:
            return False
        if not math.isclose(x[5], y[5], rel_tol=REL, abs_tol=REL):
            return False
    return True


if __name__ == "__main__":
    main()
