"""Two checkouts side by side: the same passage questions answered by each, interleaved, with
each stage's time.

    .venv/bin/python bench/stages.py /work/main /work/wt-branch    # 1M passages, 1,000 questions
    .venv/bin/python bench/stages.py A B --passages 100000 --questions 300

Each checkout (its own .venv) answers in a child process of its own, over the same saved index
of bench/synth.py's corpus (built once by A's bench/scale.py, as scale.py builds it). For each
question in turn: A answers, then B, then B, A, then A, B; each side's fastest of its three
rounds is its time, with that round's stage times (Engine.answer's stages, wrapped with
perf_counter). Asked alternately, a busy moment of the shared machine falls on both sides alike.
Prints the whole answer's p50 and p95 for A and B and their ratio, then the mean time of each
stage on the slowest 100 questions (by A's and B's times summed: chosen by one side's alone,
that side's unlucky rounds would be chosen with them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import write_corpus  # noqa: E402

ROUNDS = 3
SLOWEST = 100
# The stages in the order a question meets them: (name, the engine's attribute, its method).
STAGES = (("query", "query", "query"), ("first", "first", "candidates"),
          ("confidence", "confidence", "of"), ("rerank", "reranker", "reorder"),
          ("select", "quoter", "select"), ("quotes", "quoter", "quotes"),
          ("located", "", "_located"))

# Run by each side's python in its own checkout: loads the index, prints its questions as one
# JSON line, then answers each question read from stdin with [ms, {stage: ms}].
CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from bench.scale import passage_questions
from bot.library import build_library

folder, cache, count, stages = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
engine = build_library([("bench", Path(folder))], aliases={}, index_dir=Path(cache)).engine
from bot.core import kernels
kernels.wait(300)  # (compiled in the background: until then numpy answers)
spent = {}

def timed(fn, label):
    def run(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + (time.perf_counter() - t) * 1000
    return run

for label, owner, method in stages:
    obj = getattr(engine, owner) if owner else engine
    setattr(obj, method, timed(getattr(obj, method), label))
asked = passage_questions(engine, count)
for q in asked[:20]:  # warm-up: page faults, caches, JIT
    engine.answer(q)
print(json.dumps(asked), flush=True)
for line in sys.stdin:
    spent.clear()
    t = time.perf_counter()
    engine.answer(json.loads(line))
    print(json.dumps([(time.perf_counter() - t) * 1000, spent]), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path, help="checkout A (the baseline), with its .venv")
    parser.add_argument("b", type=Path, help="checkout B, with its .venv")
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/quotebot-stages"))
    args = parser.parse_args()
    folder = write_corpus(args.workdir / f"p{args.passages}", args.passages)
    cache = args.workdir / f"cache{args.passages}"
    if not cache.is_dir():
        subprocess.run([args.a / ".venv/bin/python", "bench/scale.py", "--child", "build",
                        str(folder), str(cache)], cwd=args.a, check=True, capture_output=True)
    sides = [subprocess.Popen(
        [checkout / ".venv/bin/python", "-c", CHILD, str(folder), str(cache),
         str(args.questions), json.dumps(STAGES)],
        cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for checkout in (args.a, args.b)]
    asked = [json.loads(side.stdout.readline()) for side in sides]
    if asked[0] != asked[1]:
        sys.exit("the two checkouts drew different questions: compare them on one corpus")
    best: list[list[tuple[float, dict[str, float]]]] = [[], []]
    for question in asked[0]:
        rounds: list[list[tuple[float, dict[str, float]]]] = [[], []]
        for r in range(ROUNDS):
            for s in (0, 1) if r % 2 == 0 else (1, 0):
                sides[s].stdin.write(json.dumps(question) + "\n")
                sides[s].stdin.flush()
                rounds[s].append(tuple(json.loads(sides[s].stdout.readline())))
        for s in (0, 1):
            best[s].append(min(rounds[s], key=lambda r: r[0]))
    for side in sides:
        side.stdin.close()
        side.wait()
    _report(best, len(asked[0]))


def _report(best: list[list[tuple[float, dict[str, float]]]], count: int) -> None:
    whole = [[ms for ms, _ in side] for side in best]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"{count} questions, {ROUNDS} rounds each, load average {load}")
    print(f"{'':14} {'A':>7} {'B':>7} {'B/A':>5}")
    for name, pick in (("whole p50", statistics.median), ("whole p95", _p95)):
        a, b = pick(whole[0]), pick(whole[1])
        print(f"{name:14} {a:7.3f} {b:7.3f} {b / a:5.2f}")
    slow = sorted(range(count), key=lambda i: -(whole[0][i] + whole[1][i]))[:SLOWEST]
    print(f"slowest {len(slow)}, mean ms:")
    for label in [*(label for label, _, _ in STAGES), "after first", "whole"]:
        a, b = (statistics.fmean(_part(best[s][i], label) for i in slow) for s in (0, 1))
        print(f"{label:14} {a:7.3f} {b:7.3f} {b / a if a else 0:5.2f}")


def _part(answer: tuple[float, dict[str, float]], label: str) -> float:
    ms, stages = answer
    if label == "whole":
        return ms
    if label == "after first":  # the answer but its analysis and first stage
        return ms - stages.get("query", 0.0) - stages.get("first", 0.0)
    return stages.get(label, 0.0)


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


if __name__ == "__main__":
    main()
