"""The Xapian shard backend against the embedded index, in one run (issue #17).

    .venv/bin/python bench/xapian.py                        # SQuAD dev, 2 shards on loopback
    .venv/bin/python bench/xapian.py --synth 1000000 --synth-shards 4   # and 1M passages

SQuAD v1.1 dev (bot/evaluation.py load_squad) is searched by both first stages over the same
corpus and settings (threshold 0, as `quotebot eval` measures retrieval): read@N and ans@k as
`quotebot eval` defines them (bot/evaluation.py's score, over a 3-quote reply); p50/p95 are
per question, the two engines taking turns
question by question so that load on the machine falls on both alike. With --synth, a
synthetic corpus of that many passages (bench/synth.py) is built into --synth-shards shards
(build time reported) and questioned the same way (timing only). Needs xapian-tcpsrv
(Debian's xapian-tools) and `pip install -e '.[xapian]'`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This file is named xapian.py: with its folder first on sys.path, `import xapian` (in
# bot/core/xapianshards.py) would import it instead of the bindings.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from xapianservers import ShardServer  # noqa: E402

from bench.synth import questions as synth_questions  # noqa: E402
from bench.synth import write_corpus  # noqa: E402
from bot.core.analysis import DEFAULT_ANALYZER  # noqa: E402
from bot.core.answer import Engine  # noqa: E402
from bot.core.corpus import Corpus  # noqa: E402
from bot.core.model import RetrievalSettings  # noqa: E402
from bot.core.xapianshards import build_shards  # noqa: E402
from bot.evaluation import KS, Ranked, load_squad, score  # noqa: E402
from bot.library import load_documents  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json"
SHOWN = 3  # quotes a reply shows, as the bot asks for them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--every", type=int, default=1,
                        help="ask every Nth SQuAD question only (a busy machine)")
    parser.add_argument("--synth", type=int, default=0, help="passages of a synthetic corpus")
    parser.add_argument("--synth-shards", type=int, default=4)
    parser.add_argument("--questions", type=int, default=200, help="synthetic questions")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/quotebot-bench"))
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop the shard servers (the finally clauses).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = shutil.which("xapian-tcpsrv")
    if binary is None:
        sys.exit("xapian-tcpsrv is missing: apt-get install xapian-tools")
    print(f"load average at start: {_load()}")
    if args.squad.is_file():
        squad(args.squad, args.shards, binary, args.every)
    else:
        print(f"no SQuAD at {args.squad}: skipped")
    if args.synth:
        synthetic(args, binary)
    print(f"load average at end: {_load()}")


def squad(path: Path, count: int, binary: str, every: int = 1) -> None:
    documents, questions = load_squad(path)
    questions = questions[::every]
    # Retrieval without abstaining, as `quotebot eval` measures it: read@N over the reply of
    # SHOWN quotes, ans@5 over a 5-quote answer (bot/evaluation.py's score).
    settings = replace(RetrievalSettings(), threshold=0.0)
    corpus = Corpus.build(documents, DEFAULT_ANALYZER, settings.index)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = build_shards(documents, DEFAULT_ANALYZER, settings.index, count, Path(tmp))
        print(f"SQuAD dev: {len(corpus.passages):,} passages into {count} shards in "
              f"{time.perf_counter() - t0:.1f} s; {len(questions):,} questions", flush=True)
        servers = [ShardServer(binary, p).start() for p in paths]
        addresses = [s.address for s in servers]
        try:
            engines = {"embedded": Engine(corpus, settings),
                       f"xapian x{count}": Engine(corpus, settings, shard_servers=addresses)}
            asked = [q.text for q in questions]
            replies = _ask(engines, asked, top_k=SHOWN)
            deeper = _ask(engines, asked, top_k=max(KS))
        finally:
            for s in servers:
                s.kill()
    print(f"{'first stage':<12} {'read@150':>8} {'read@250':>8} {'read@500':>8} {'ans@1':>6} "
          f"{'ans@3':>6} {'ans@5':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for name in engines:
        answers, times = replies[name]
        ranked = [Ranked(tuple((_article(x.document), x.start, x.end, x.text) for x in a.quotes),
                         tuple(x.text for x in d.quotes))
                  for a, d in zip(answers, deeper[name][0], strict=True)]
        f = score(questions, ranked, SHOWN)
        print(f"{name:<12} {f['read@150']:8.3f} {f['read@250']:8.3f} {f['read@500']:8.3f} "
              f"{f['ans@1']:6.3f} {f['ans@3']:6.3f} {f['ans@5']:6.3f} {_pct(times, 50):7.2f} "
              f"{_pct(times, 95):7.2f}")
    same = sum(a == b for a, b in zip(*(
        [tuple((x.document, x.start) for x in ans.quotes) for ans in replies[n][0]]
        for n in engines), strict=True))
    print(f"identical replies ({SHOWN} quotes): {same} of {len(questions)} questions")


def synthetic(args: argparse.Namespace, binary: str) -> None:
    n, count = args.synth, args.synth_shards
    folder = write_corpus(args.workdir / f"p{n}", n)
    documents, _ = load_documents([("synth", folder)])
    settings = RetrievalSettings()
    t0 = time.perf_counter()
    corpus = Corpus.build(documents, DEFAULT_ANALYZER, settings.index)
    print(f"synthetic: {len(corpus.passages):,} passages, embedded index built in "
          f"{time.perf_counter() - t0:.1f} s")
    out = args.workdir / f"shards{n}x{count}"
    t0 = time.perf_counter()
    paths = build_shards(documents, DEFAULT_ANALYZER, settings.index, count, out)
    size = sum(f.stat().st_size for p in paths for f in p.iterdir()) / 2**20
    print(f"  {count} Xapian shards built in {time.perf_counter() - t0:.1f} s ({size:.0f} MB)"
          f" [load average {_load()}]")
    servers = [ShardServer(binary, p).start() for p in paths]
    try:
        engines = {"embedded": Engine(corpus, settings),
                   f"xapian x{count}": Engine(corpus, settings,
                                              shard_servers=[s.address for s in servers])}
        asked = synth_questions(args.questions)
        results = _ask(engines, asked, top_k=3)
    finally:
        for s in servers:
            s.kill()
    for name, (answers, times) in results.items():
        print(f"  {name:<12} p50 {_pct(times, 50):7.2f} ms  p95 {_pct(times, 95):7.2f} ms  "
              f"answered {sum(a.answered for a in answers)} of {len(answers)}")
    same = sum(tuple((x.document, x.start) for x in a.quotes)
               == tuple((x.document, x.start) for x in b.quotes)
               for a, b in zip(*(results[k][0] for k in engines), strict=True))
    print(f"  identical answers: {same} of {len(asked)}")


def _ask(engines: dict[str, Engine], asked: list[str], top_k: int) -> dict[str, tuple]:
    """Every question of every engine, the engines taking turns; (answers, ms each) by name."""
    out: dict[str, tuple[list, list[float]]] = {name: ([], []) for name in engines}
    for engine in engines.values():  # warm up: connections, buffers
        engine.answer(asked[0], top_k=top_k)
    for question in asked:
        for name, engine in engines.items():
            t0 = time.perf_counter()
            answer = engine.answer(question, top_k=top_k)
            out[name][1].append((time.perf_counter() - t0) * 1000)
            out[name][0].append(answer)
    return out


def _article(rel: str) -> int:
    return int(rel.split("_", 1)[0])


def _pct(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] if len(values) > 1 else values[0]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
