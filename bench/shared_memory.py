"""What a second process on one machine costs in memory when it loads a saved index that a
first process already serves (issue #17): with the arrays memory-mapped (store.load's
shared=True, what the library does) and copied (shared=False).

    .venv/bin/python bench/shared_memory.py                     # 1M passages
    .venv/bin/python bench/shared_memory.py --passages 100000   # quicker

The index is built and saved once (reused between runs). Then, for each mode, a first
process loads it and answers questions, and while it holds it a second one does the same;
the second reports its memory before loading and after answering: USS (memory no other
process shares), PSS (shared pages split between their users) and RSS, from psutil.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/quotebot-bench"))
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args, *args.child)
        return
    from bench.synth import write_corpus

    folder = write_corpus(args.workdir / f"p{args.passages}", args.passages)
    cache = args.workdir / f"shared-cache{args.passages}"
    t0 = time.perf_counter()
    subprocess.run([*_me(args), "build", str(folder), str(cache)], check=True)
    print(f"{args.passages:,} passages: index ready in {cache} ({time.perf_counter() - t0:.0f} s)")
    for shared in ("1", "0"):
        first = subprocess.Popen([*_me(args), "hold", str(folder), str(cache), shared],
                                 stdout=subprocess.PIPE, text=True)
        assert first.stdout is not None
        held = json.loads(first.stdout.readline())  # once it has loaded and answered
        second = subprocess.run([*_me(args), "measure", str(folder), str(cache), shared],
                                check=True, capture_output=True, text=True)
        first.terminate()
        first.wait()
        got = json.loads(second.stdout)
        mode = "memory-mapped (shared)" if shared == "1" else "copied"
        print(f"{mode}: first process USS {held['uss']:.0f} MB; second process: load "
              f"{got['load_s']:.1f} s, added USS {got['uss'] - got['uss0']:.0f} MB, "
              f"PSS {got['pss'] - got['pss0']:.0f} MB, RSS {got['rss'] - got['rss0']:.0f} MB "
              f"(before loading: USS {got['uss0']:.0f}, PSS {got['pss0']:.0f}, RSS "
              f"{got['rss0']:.0f} MB)")


def _me(args: argparse.Namespace) -> list[str]:
    return [sys.executable, __file__, "--passages", str(args.passages), "--questions",
            str(args.questions), "--child"]


def _child(args: argparse.Namespace, mode: str, folder: str, cache: str,
           shared: str = "1") -> None:
    import psutil

    from bench.synth import questions
    from bot.core import store, storekey
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.answer import Engine
    from bot.core.documents import DEFAULT_MAX_BYTES
    from bot.core.model import RetrievalSettings
    from bot.library import build_library

    folders = [("synth", Path(folder))]
    if mode == "build":
        build_library(folders, index_dir=Path(cache))
        return
    settings = RetrievalSettings()
    me = psutil.Process()
    before = me.memory_full_info()
    t0 = time.perf_counter()
    key = storekey.fingerprint(folders, DEFAULT_ANALYZER, settings.index, DEFAULT_MAX_BYTES)
    corpus, _ = store.load(Path(cache), key, DEFAULT_MAX_BYTES, shared=shared == "1")
    engine = Engine(corpus, settings)
    load_s = time.perf_counter() - t0
    for question in questions(args.questions):
        engine.answer(question)
    after = me.memory_full_info()
    print(json.dumps({"uss0": before.uss / MB, "pss0": before.pss / MB, "rss0": before.rss / MB,
                      "uss": after.uss / MB, "pss": after.pss / MB, "rss": after.rss / MB,
                      "load_s": load_s}), flush=True)
    if mode == "hold":
        time.sleep(3600)  # until the parent has measured the second process


if __name__ == "__main__":
    main()
