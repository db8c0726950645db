"""How quotebot scales: build, save, load and query times at 10k, 100k and 1M passages.

    .venv/bin/python bench/scale.py                       # 10k, 100k, 1M (about 15 minutes)
    .venv/bin/python bench/scale.py --sizes 10000,100000  # quick

Each size runs in fresh subprocesses (one builds and saves, one loads and queries), so peak
RSS is that size's own. rank_bm25's BM25Okapi is timed on a sample of the same questions in
the query subprocess, after quotebot's figures are taken. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import questions, write_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="passage counts, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/quotebot-bench"),
                        help="where corpora (reused between runs) and indexes are written")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--bm25-sample", type=int, default=0,
                        help="questions timed with rank_bm25 (default: 20, 5 at 1M)")
    parser.add_argument("--no-rank-bm25", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header = (f"{'passages':>9} {'parse s':>7} {'index s':>7} {'save s':>6} {'RSS MB':>13} "
              f"{'disk MB':>7} {'load s':>6} {'p50 ms':>6} {'p95 ms':>6} {'max ms':>6} "
              f"{'bm25 ms':>8} {'ratio':>6}")
    rows = []
    for n in sizes:
        folder = write_corpus(args.workdir / f"p{n}", n)
        cache = args.workdir / f"cache{n}"
        shutil.rmtree(cache, ignore_errors=True)
        build = _child("build", folder, cache)
        sample = args.bm25_sample or (5 if n >= 1_000_000 else 20)
        query = _child("query", folder, cache, str(args.questions),
                       "0" if args.no_rank_bm25 else str(sample))
        rows.append((n, build, query))
        print(header if len(rows) == 1 else "", _row(n, build, query), sep="\n" if len(rows) == 1
              else "", flush=True)
    print()
    for n, build, query in rows:
        print(f"{n:,} passages: {build['passages']:,} indexed, {build['tokens']:,} terms, "
              f"{build['vocab']:,} distinct; questions: mean {query['mean_ms']:.2f} ms; "
              f"rank_bm25 BM25Okapi build {query.get('bm25_build_s', 0):.0f} s, "
              f"get_scores mean {query.get('bm25_ms', 0):.0f} ms on {query.get('bm25_n', 0)} "
              f"questions vs ours {query.get('ours_sample_ms', 0):.2f} ms on the same")


def _row(n: int, b: dict, q: dict) -> str:
    rss = f"{b['rss_total_mb']:.0f}({b['rss_main_mb']:.0f}m)"
    ratio = f"{q['bm25_ms'] / q['ours_sample_ms']:.0f}x" if q.get("bm25_ms") else "-"
    bm25 = f"{q['bm25_ms']:.0f}" if q.get("bm25_ms") else "-"
    return (f"{n:>9,} {b['parse_s']:>7.1f} {b['index_s']:>7.1f} {b['save_s']:>6.1f} {rss:>13} "
            f"{b['disk_mb']:>7.0f} {q['load_s']:>6.2f} {q['p50_ms']:>6.2f} {q['p95_ms']:>6.2f} "
            f"{q['max_ms']:>6.2f} {bm25:>8} {ratio:>6}")


def _child(*args: str | Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"{args[0]} failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


# --- the subprocesses ---------------------------------------------------------------------------


class TreeRSS(threading.Thread):
    """Samples the RSS of this process and all its descendants every 20 ms and keeps the
    largest sum (main and analysis workers at the same moment) and the largest of main
    alone: ru_maxrss gives each process's peak, reached at different moments."""

    def __init__(self) -> None:
        import psutil

        super().__init__(daemon=True)
        self.me, self.error = psutil.Process(), psutil.Error
        self.total = self.main = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.02)

    def sample(self) -> None:
        main = self.me.memory_info().rss
        total = main
        for child in self.me.children(recursive=True):
            with contextlib.suppress(self.error):  # ended between listing and reading
                total += child.memory_info().rss
        self.main, self.total = max(self.main, main), max(self.total, total)

    def stop(self) -> tuple[float, float]:
        self.done.set()
        self.join()
        self.sample()
        return self.total / 2**20, self.main / 2**20


def child_build(folder: Path, cache: Path) -> dict:
    from bot.core import store
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.corpus import Corpus
    from bot.core.model import IndexSettings
    from bot.library import load_documents

    # The settings build_library uses, so that the query child loads the saved index rather
    # than finding another key and rebuilding (as it did when the defaults moved).
    settings = IndexSettings()
    rss = TreeRSS()
    rss.start()
    t0 = time.perf_counter()
    documents, _ = load_documents([("bench", folder)])
    t1 = time.perf_counter()
    # The digests build_library keeps, so that it updates this save rather than rebuild it.
    digests = [store.document_digest(d.path, 20 * 1024 * 1024) for d in documents]
    corpus = Corpus.build(documents, DEFAULT_ANALYZER, settings, digests=digests)
    t2 = time.perf_counter()
    key = store.fingerprint([("bench", folder)], DEFAULT_ANALYZER, settings, 20 * 1024 * 1024)
    saved = store.save(corpus, cache, key)
    t3 = time.perf_counter()
    total_mb, main_mb = rss.stop()
    return {
        "parse_s": t1 - t0, "index_s": t2 - t1, "save_s": t3 - t2,
        "rss_total_mb": total_mb, "rss_main_mb": main_mb,
        "disk_mb": sum(p.stat().st_size for p in saved.iterdir()) / 1e6,
        "passages": corpus.index.n_docs, "tokens": int(corpus.index.doc_len.sum()),
        "vocab": len(corpus.index.vocab),
    }


def child_query(folder: Path, cache: Path, count: str, sample: str) -> dict:
    from bot.core import store
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.model import IndexSettings
    from bot.library import build_library

    key = store.fingerprint([("bench", folder)], DEFAULT_ANALYZER, IndexSettings(),
                            20 * 1024 * 1024)
    if not (cache / f"{store.PREFIX}{key}").is_dir():
        sys.exit("no saved index for the query child's settings: it would time a rebuild")
    t0 = time.perf_counter()
    library = build_library([("bench", folder)], aliases={}, index_dir=cache)
    load_s = time.perf_counter() - t0
    engine = library.engine
    asked = questions(int(count))
    for q in asked[:10]:  # warm-up: first-touch page faults, caches
        engine.answer(q)
    times = []
    for q in asked:
        t = time.perf_counter()
        engine.answer(q)
        times.append((time.perf_counter() - t) * 1000)
    times_sorted = sorted(times)
    out = {
        "load_s": load_s, "p50_ms": statistics.median(times),
        "p95_ms": times_sorted[int(0.95 * (len(times) - 1))], "max_ms": times_sorted[-1],
        "mean_ms": statistics.fmean(times),
    }
    if int(sample):
        out.update(_rank_bm25(engine, asked[: int(sample)], times[: int(sample)]))
    return out


def _rank_bm25(engine, asked: list[str], ours_ms: list[float]) -> dict:
    from rank_bm25 import BM25Okapi

    p, analyzer = engine.passages, engine.analyzer
    t = time.perf_counter()
    tokenized = [
        analyzer.terms(engine.documents[d].text[a:b])
        for d, a, b in zip(p.doc.tolist(), p.start.tolist(), p.end.tolist(), strict=True)
    ]
    s = engine.settings
    ref = BM25Okapi(tokenized, k1=s.k1, b=s.b, epsilon=s.epsilon)
    build_s = time.perf_counter() - t
    del tokenized
    spent = []
    for q in asked:
        terms = [t for t, w in engine.query_terms(q).items() for _ in range(int(w))]
        t = time.perf_counter()
        ref.get_scores(terms)
        spent.append((time.perf_counter() - t) * 1000)
    return {"bm25_build_s": build_s, "bm25_ms": statistics.fmean(spent), "bm25_n": len(asked),
            "ours_sample_ms": statistics.fmean(ours_ms)}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        what, *rest = sys.argv[2:]
        fn = child_build if what == "build" else child_query
        result = fn(*map(Path, rest[:2]), *rest[2:])
        print(json.dumps(result))
    else:
        main()
