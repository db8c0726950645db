"""How quotebot scales: build, save, load and query times at 10k, 100k and 1M passages, and
what its peers take on the same questions.

    .venv/bin/pip install -e '.[bench]'                   # bm25s, tantivy (bench only)
    .venv/bin/python bench/scale.py                       # 10k, 100k, 1M (about 20 minutes)
    .venv/bin/python bench/scale.py --sizes 100000 --check-exhaustive

Each size runs in fresh subprocesses (one builds and saves, one loads and queries), so peak
RSS is that size's own. Two question sets are asked: "passage" questions, 3-8 words drawn from
a random passage (so their words come by corpus frequency, as a real question's do), and the
older "vocab" questions, whose content words are drawn from the vocabulary (40% of them
uniformly by type: nearly all rare). On each set, in the query subprocess, each question in
turn: quotebot's whole answer (engine.answer, question in, quotes out), then bm25s's and
tantivy's bare top-10 retrieval of quotebot's analyzer terms (analysis not timed); and with
--check-exhaustive the share of top quotes identical to exhaustive scoring (common_postings
0). rank_bm25's BM25Okapi is timed on a sample last. Then, as a user streams questions,
`quotebot ask --json -` in a subprocess, one passage question a line. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import questions, write_corpus  # noqa: E402

SETS = ("passage", "vocab")
PEER_K = 10  # the peers' bare retrieval depth
STREAM_MAX = 100_000  # sizes up to this also time the streaming CLI (it builds its own index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="passage counts, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/quotebot-bench"),
                        help="where corpora (reused between runs) and indexes are written")
    parser.add_argument("--questions", type=int, default=1000, help="questions in each set")
    parser.add_argument("--bm25-sample", type=int, default=0,
                        help="questions timed with rank_bm25 (default: 20, 5 at 1M)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds a question is asked of each engine; the fastest counts")
    parser.add_argument("--no-rank-bm25", action="store_true")
    parser.add_argument("--no-peers", action="store_true", help="skip bm25s and tantivy")
    parser.add_argument("--check-exhaustive", action="store_true",
                        help="also the share of top quotes equal to exhaustive scoring")
    parser.add_argument("--stream-max", type=int, default=STREAM_MAX,
                        help="time `quotebot ask --json -` at sizes up to this (0: never)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    builds, queries = [], []
    for n in sizes:
        folder = write_corpus(args.workdir / f"p{n}", n)
        cache = args.workdir / f"cache{n}"
        shutil.rmtree(cache, ignore_errors=True)
        build = _child("build", folder, cache)
        sample = args.bm25_sample or (5 if n >= 1_000_000 else 20)
        query = _child("query", folder, cache, str(args.questions),
                       "0" if args.no_rank_bm25 else str(sample),
                       "0" if args.no_peers else "1", "1" if args.check_exhaustive else "0",
                       str(args.repeat))
        if n <= args.stream_max:
            query["stream"] = stream(folder, query["passage"]["questions"], args.repeat)
        builds.append((n, build, query))
        queries.append((n, query))
    print(f"{'passages':>9} {'parse s':>7} {'index s':>7} {'save s':>6} {'RSS MB':>13} "
          f"{'disk MB':>7} {'load s':>6}")
    for n, b, q in builds:
        rss = f"{b['rss_total_mb']:.0f}({b['rss_main_mb']:.0f}m)"
        print(f"{n:>9,} {b['parse_s']:>7.1f} {b['index_s']:>7.1f} {b['save_s']:>6.1f} "
              f"{rss:>13} {b['disk_mb']:>7.0f} {q['load_s']:>6.2f}")
    print()
    print(f"{'passages':>9} {'set':8} {'qb p50':>7} {'qb p95':>7} {'qb max':>7} "
          f"{'bm25s p50':>9} {'bm25s p95':>9} {'tant p50':>8} {'tant p95':>8} "
          f"{'qb/bm25s p95':>12} {'=exh top':>8} {'=exh all':>8}")
    for n, q in queries:
        for name in SETS:
            print(_row(n, name, q[name]))
    print()
    for n, q in queries:
        line = f"{n:,} passages: {len(q['passage']['questions']):,} questions a set"
        if q.get("peers"):
            line += f"; {', '.join(q['peers'])}"
        if "stream" in q:
            st = q["stream"]
            line += (f"; `quotebot ask --json -` (passage set, one line at a time): ready in "
                     f"{st['ready_s']:.1f} s, then p50 {st['p50_ms']:.2f} ms, p95 "
                     f"{st['p95_ms']:.2f} ms, max {st['max_ms']:.2f} ms a line")
        if q.get("bm25_ms"):
            line += (f"; rank_bm25 BM25Okapi build {q['bm25_build_s']:.0f} s, get_scores mean "
                     f"{q['bm25_ms']:.0f} ms on {q['bm25_n']} questions vs quotebot's "
                     f"{q['ours_sample_ms']:.2f} ms on the same")
        print(line)


def _row(n: int, name: str, f: dict) -> str:
    def ms(key: str, width: int) -> str:
        return f"{f[key]:>{width}.2f}" if key in f else f"{'-':>{width}}"

    def share(key: str) -> str:
        return f"{f[key]:>8.1%}" if key in f else f"{'-':>8}"

    ratio = (f"{f['p95_ms'] / f['bm25s_p95_ms']:>11.1f}x" if "bm25s_p95_ms" in f
             else f"{'-':>12}")
    return (f"{n:>9,} {name:8} {ms('p50_ms', 7)} {ms('p95_ms', 7)} {ms('max_ms', 7)} "
            f"{ms('bm25s_p50_ms', 9)} {ms('bm25s_p95_ms', 9)} {ms('tantivy_p50_ms', 8)} "
            f"{ms('tantivy_p95_ms', 8)} {ratio} {share('same_top')} {share('same_answer')}")


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
    from bot.core import store, storekey
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.corpus import Corpus
    from bot.core.filedigests import FileDigests
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
    # The digests build_library keeps, so that it updates this save rather than rebuild it,
    # and its record of the files' stats, so that the query child's start trusts unchanged
    # files as a restart does (without it, that start hashed every file and read every
    # document again: about 1 s more at 1M).
    key = storekey.fingerprint([("bench", folder)], DEFAULT_ANALYZER, settings, 20 * 1024 * 1024)
    known = FileDigests.load(cache, key)
    digests = [storekey.document_digest(d.path, 20 * 1024 * 1024, None, known) for d in documents]
    corpus = Corpus.build(documents, DEFAULT_ANALYZER, settings, digests=digests)
    t2 = time.perf_counter()
    saved = store.save(corpus, cache, key)
    known.save(cache, key)
    t3 = time.perf_counter()
    total_mb, main_mb = rss.stop()
    return {
        "parse_s": t1 - t0, "index_s": t2 - t1, "save_s": t3 - t2,
        "rss_total_mb": total_mb, "rss_main_mb": main_mb,
        "disk_mb": sum(p.stat().st_size for p in saved.iterdir()) / 1e6,
        "passages": corpus.index.n_docs, "tokens": int(corpus.index.doc_len.sum()),
        "vocab": len(corpus.index.vocab),
    }


def child_query(
    folder: Path, cache: Path, count: str, sample: str, peers: str, exhaustive: str, repeat: str
) -> dict:
    from bot.core import store, storekey
    from bot.core.analysis import DEFAULT_ANALYZER
    from bot.core.model import IndexSettings
    from bot.library import build_library

    key = storekey.fingerprint([("bench", folder)], DEFAULT_ANALYZER, IndexSettings(),
                            20 * 1024 * 1024)
    if not (cache / f"{store.PREFIX}{key}").is_dir():
        sys.exit("no saved index for the query child's settings: it would time a rebuild")
    t0 = time.perf_counter()
    library = build_library([("bench", folder)], aliases={}, index_dir=cache)
    out: dict = {"load_s": time.perf_counter() - t0}
    engine = library.engine
    from bot.core import kernels
    kernels.wait(300)  # (compiled in the background: until then numpy answers)
    # Questions with no searchable term (all stopwords) are left out of both sets: quotebot
    # refuses them at once and the peers have no query to run.
    asked = {"passage": passage_questions(engine, int(count)),
             "vocab": [q for q in questions(int(count)) if engine.analyzer.terms(q)]}
    # Each question is asked of quotebot and then of each peer (its terms analysed before,
    # untimed), in alternation, `repeat` rounds, and each engine's fastest round is its time
    # for the question: a busy moment of the shared machine then falls on all of them alike
    # and is mostly filtered out (one round: two 100k runs minutes apart gave quotebot p95
    # 1.4 and 5.6 ms).
    runners: dict[str, Callable] = {"quotebot": engine.answer}
    if int(peers):
        out["peers"] = []
        for peer, make in (("bm25s", _bm25s), ("tantivy", _tantivy)):
            search, version = make(engine)
            runners[peer] = search
            out["peers"].append(version)
    answers: dict[str, list] = {}
    for name, qs in asked.items():
        terms = [engine.analyzer.terms(q) for q in qs]
        for q, t in zip(qs[:10], terms[:10], strict=True):  # warm-up: page faults, caches, JIT
            for runner, fn in runners.items():
                fn(q if runner == "quotebot" else t)
        spent: dict[str, list[float]] = {runner: [] for runner in runners}
        answers[name] = []
        for q, t in zip(qs, terms, strict=True):
            best = dict.fromkeys(runners, float("inf"))
            for round_ in range(max(int(repeat), 1)):
                for runner, fn in runners.items():
                    start = time.perf_counter()
                    result = fn(q if runner == "quotebot" else t)
                    best[runner] = min(best[runner], (time.perf_counter() - start) * 1000)
                    if round_ == 0 and runner == "quotebot":
                        answers[name].append(result)
            for runner, ms in best.items():
                spent[runner].append(ms)
        out[name] = {"questions": qs, **percentiles(spent.pop("quotebot"), with_max=True)}
        for runner, ms in spent.items():
            out[name].update({f"{runner}_{k}": v for k, v in percentiles(ms).items()})
    if int(exhaustive):
        full = type(engine)(engine.corpus, replace(engine.settings, common_postings=0),
                            analyzer=engine.analyzer)
        for name, qs in asked.items():
            same_top = same_all = 0
            for q, ours in zip(qs, answers[name], strict=True):
                theirs = full.answer(q)
                same_all += _spans(ours) == _spans(theirs)
                same_top += _spans(ours)[:1] == _spans(theirs)[:1]
            out[name].update(same_top=same_top / len(qs), same_answer=same_all / len(qs))
    if int(sample):
        first = asked["passage"][: int(sample)]
        ours = timed(engine.answer, first)
        out.update(_rank_bm25(engine, first, ours))
    return out


def passage_questions(engine, count: int, seed: int = 2) -> list[str]:
    """Questions as real ones are made: a passage picked at random, 3-8 of its words drawn
    (without replacement, in random order), so a word comes as often as the corpus uses it.
    A draw of stopwords only (nothing to search) is drawn again."""
    import numpy as np

    rng = np.random.default_rng(seed)
    p, out = engine.passages, []
    while len(out) < count:
        i = int(rng.integers(0, len(p.doc)))
        text = engine.documents[int(p.doc[i])].text[int(p.start[i]) : int(p.end[i])]
        words = _WORDS.findall(text)
        k = min(int(rng.integers(3, 9)), len(words))
        picked = [words[j] for j in rng.choice(len(words), k, replace=False)]
        question = " ".join(picked) + "?"
        if engine.analyzer.terms(question):
            out.append(question)
    return out


_WORDS = re.compile(r"\w+")


def timed(fn: Callable, items: list) -> list[float]:
    """Milliseconds of fn(item), each."""
    spent = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        spent.append((time.perf_counter() - t) * 1000)
    return spent


def percentiles(ms: list[float], with_max: bool = False) -> dict[str, float]:
    ordered = sorted(ms)
    out = {"p50_ms": statistics.median(ordered),
           "p95_ms": ordered[int(0.95 * (len(ordered) - 1))]}
    if with_max:
        out.update(max_ms=ordered[-1], mean_ms=statistics.fmean(ordered))
    return out


def _spans(answer) -> list[tuple[str, int, int]]:
    return [(q.document, q.start, q.end) for q in answer.quotes]


def _passage_terms(engine) -> list[list[str]]:
    """Every passage's terms by quotebot's analyzer, for the peers to index."""
    p, analyzer = engine.passages, engine.analyzer
    return [
        analyzer.terms(engine.documents[d].text[a:b])
        for d, a, b in zip(p.doc.tolist(), p.start.tolist(), p.end.tolist(), strict=True)
    ]


def _bm25s(engine) -> tuple[Callable[[list[str]], object], str]:
    """bm25s (numba backend when numba is installed) over quotebot's terms, with quotebot's
    k1 and b: a function from a question's terms to its bare top 10."""
    import bm25s

    s = engine.settings
    backend = "numba" if _installed("numba") else "numpy"
    retriever = bm25s.BM25(k1=s.k1, b=s.b, backend=backend)
    retriever.index(_passage_terms(engine), show_progress=False)

    def search(terms: list[str]) -> object:
        return retriever.retrieve([terms], k=PEER_K, show_progress=False, n_threads=1)

    return search, f"bm25s {bm25s.__version__} ({backend} backend)"


def _tantivy(engine) -> tuple[Callable[[list[str]], object], str]:
    """tantivy, in memory, over quotebot's terms joined by spaces (its default tokenizer
    splits them back): a function from a question's terms to its bare top 10 (one SHOULD
    clause a distinct term, tantivy's own BM25)."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, index_option="freq")
    schema = builder.build()
    index = tantivy.Index(schema)
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for terms in _passage_terms(engine):
        writer.add_document(tantivy.Document(body=" ".join(terms)))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    should = tantivy.Occur.Should

    def search(terms: list[str]) -> object:
        query = tantivy.Query.boolean_query(
            [(should, tantivy.Query.term_query(schema, "body", t)) for t in dict.fromkeys(terms)])
        return searcher.search(query, PEER_K).hits

    return search, tantivy.__version__.split(",")[0]  # "tantivy v0.27.0, index_format v7"


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def stream(folder: Path, asked: list[str], repeat: int) -> dict[str, float]:
    """`quotebot ask --json --corpus folder -` as a user streams questions: one line written,
    its answer line read, then the next. ready_s: until the first answer (the CLI builds its
    index, as it does without a config's index_dir)."""
    command = [sys.executable, "-m", "bot", "ask", "--json", "--corpus", str(folder), "-"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None

    def ask(question: str) -> None:
        proc.stdin.write(question + "\n")
        proc.stdin.flush()
        json.loads(proc.stdout.readline())

    try:
        ask(asked[0])
        ready_s = time.perf_counter() - t0
        # Each question `repeat` times in a row, its fastest line counted (see child_query).
        rounds = [timed(ask, [q] * max(repeat, 1)) for q in asked]
        spent = [min(r) for r in rounds]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return {"ready_s": ready_s, **percentiles(spent, with_max=True)}


def _rank_bm25(engine, asked: list[str], ours_ms: list[float]) -> dict:
    from rank_bm25 import BM25Okapi

    t = time.perf_counter()
    tokenized = _passage_terms(engine)
    s = engine.settings
    ref = BM25Okapi(tokenized, k1=s.k1, b=s.b, epsilon=s.epsilon)
    build_s = time.perf_counter() - t
    del tokenized
    spent = timed(ref.get_scores, [
        [t for t, w in engine.query_terms(q).items() for _ in range(int(w))] for q in asked])
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
