"""How long an update of a saved index takes: full build, load, and adding, changing and
removing one document, each until the next answer reflects it.

    .venv/bin/python bench/update.py                    # 100k and 1M passages
    .venv/bin/python bench/update.py --sizes 100000     # quick

Each size copies the synthetic corpus of bench/synth.py (written once under --workdir) and
runs in fresh subprocesses: one builds and saves; one loads, then adds, changes and removes a
document the way the bot's reload does (build_library with the previous library); one per
change the way a new `quotebot ask` does (load the saved index and its delta, update, answer).
The machine is shared: each figure is printed with the 1-minute load average beside it.

    .venv/bin/python bench/update.py --sizes 1000000 --against ../wt-main   # ratios

With --against another checkout (with its own .venv, e.g. a worktree of main), the two run
their children in turn, step by step, for --rounds rounds, and each step's fastest and
median time is printed for both: on a busy machine, ratios from the same moments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synth import write_corpus  # noqa: E402

ADDED = "added.txt"
# Words no synthetic document holds, so the answer shows whether the update is live.
NEW_TEXT = "The zorblatt quixmarine crossed the vendral lagoon at dawn.\n"
CHANGED_TEXT = "The zorblatt quixmarine sank in the pelvorn estuary at noon.\n"
REMOVED = "doc000001.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="passage counts, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qb-bench"),
                        help="where corpora (reused between runs) and indexes are written")
    parser.add_argument("--against", type=Path,
                        help="another checkout to compare with, step by step (see above)")
    parser.add_argument("--rounds", type=int, default=3, help="with --against")
    args = parser.parse_args()
    if args.against:
        for n in (int(s) for s in args.sizes.split(",")):
            _compare(n, args.workdir, args.against.resolve(), args.rounds)
        return
    for n in (int(s) for s in args.sizes.split(",")):
        source = write_corpus(args.workdir / f"p{n}", n)
        folder, cache = args.workdir / f"update{n}", args.workdir / f"update-cache{n}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(source, folder)
        print(f"{n:,} passages ({folder})", flush=True)
        _show("full build + save", _child("build", folder, cache))
        _show("load", _child("load", folder, cache))
        for step in _child("reload", folder, cache)["steps"]:
            _show(f"reload: {step['what']}", step)
        _reset(folder, cache, source)
        for what in ("add", "change", "remove"):
            _show(f"next ask: {what}", _child(what, folder, cache))
        _show("load with that delta", _child("load", folder, cache))
        print(flush=True)


def _compare(n: int, workdir: Path, against: Path, rounds: int) -> None:
    source = write_corpus(workdir / f"p{n}", n)
    sides = {ROOT.name: (ROOT, workdir), against.name: (against, workdir / "against")}
    (workdir / "against").mkdir(parents=True, exist_ok=True)
    link = workdir / "against" / f"p{n}"  # where _first_sentence looks for the original
    if not link.exists():
        link.symlink_to(source.resolve())
    places = {}
    for side, (root, work) in sides.items():
        folder, cache = work / f"update{n}", work / f"update-cache{n}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(source, folder)
        places[side] = (folder, cache, root)
        _child("build", folder, cache, root)
    times: dict[tuple[str, str], list[dict]] = {}
    for round_ in range(rounds):
        order = list(places) if round_ % 2 == 0 else list(places)[::-1]
        for side in order:
            _reset(*places[side][:2], source, places[side][2])
        for what in ("load", "add", "change", "remove", "load with that delta", "reload"):
            for side in order:
                folder, cache, root = places[side]
                if what == "reload":
                    _reset(folder, cache, source, root)
                    for step in _child("reload", folder, cache, root)["steps"]:
                        times.setdefault((f"reload: {step['what']}", side), []).append(step)
                else:
                    mode = "load" if what.startswith("load") else what
                    times.setdefault((what, side), []).append(_child(mode, folder, cache, root))
    print(f"{n:,} passages, {rounds} rounds taken in turn: fastest / median seconds", flush=True)
    this, other = places
    for what in dict.fromkeys(w for w, _ in times):
        cells, medians = [], []
        for side in (other, this):
            seconds = sorted(r["seconds"] for r in times[(what, side)])
            medians.append(seconds[len(seconds) // 2])
            cells.append(f"{side} {seconds[0]:5.2f} / {medians[-1]:5.2f}")
        loads = [r["load"] for side in places for r in times[(what, side)]]
        print(f"  {what:<22} {cells[0]:<24} {cells[1]:<20} ratio {medians[1] / medians[0]:.2f} "
              f"(load average {min(loads):.1f}-{max(loads):.1f})", flush=True)


def _reset(folder: Path, cache: Path, source: Path, root: Path = ROOT) -> None:
    """The corpus as copied, its index loaded once (an update of nothing)."""
    (folder / ADDED).unlink(missing_ok=True)
    shutil.copy(source / REMOVED, folder / REMOVED)
    _child("load", folder, cache, root)


def _show(what: str, result: dict) -> None:
    print(f"  {what:<24} {result['seconds']:7.2f} s   (load average {result['load']:.1f}; "
          f"{result.get('note', '')})", flush=True)


def _child(mode: str, folder: Path, cache: Path, root: Path = ROOT) -> dict:
    python = sys.executable if root == ROOT else str(root / ".venv" / "bin" / "python")
    proc = subprocess.run(
        [python, str(root / "bench" / "update.py"), "--child", mode, str(folder), str(cache)],
        capture_output=True, text=True, cwd=root,
    )
    if proc.returncode:
        sys.exit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- children -------------------------------------------------------------------------------


def child(mode: str, folder: Path, cache: Path) -> dict:
    from bot.library import build_library

    def build(previous=None):
        return build_library([("bench", folder)], aliases={}, index_dir=cache, previous=previous)

    if mode in ("build", "load"):
        t = time.perf_counter()
        library = build()
        library.engine.answer("zorblatt quixmarine")
        return _result(t, f"{library.engine.index.n_docs:,} passages")
    if mode == "reload":
        library = build()
        steps = []
        before = library.engine.answer(_first_sentence(folder / REMOVED))
        if before.quotes[0].document != REMOVED:
            sys.exit(f"{REMOVED} does not answer its own first sentence: the check is void")
        for what in ("add", "change", "remove"):
            _edit(folder, what)
            t = time.perf_counter()
            library = build(library)
            steps.append({**_result(t, _check(library, what)), "what": what})
        return {"steps": steps}
    _edit(folder, mode)
    t = time.perf_counter()
    return _result(t, _check(build(), mode))


def _edit(folder: Path, what: str) -> None:
    if what == "add":
        (folder / ADDED).write_text(NEW_TEXT)
    elif what == "change":
        (folder / ADDED).write_text(CHANGED_TEXT)
    else:
        (folder / REMOVED).unlink()


def _check(library, what: str) -> str:
    """Answer the question the edit is about; exit unless the answer reflects the edit."""
    engine = library.engine
    if what == "remove":
        answer = engine.answer(_first_sentence(Path(engine.documents[0].path).parent / REMOVED))
        if any(q.document == REMOVED for q in answer.quotes):
            sys.exit("a removed document was quoted")
        return f"{REMOVED} not quoted, {engine.index.n_docs:,} passages"
    word = "vendral" if what == "add" else "pelvorn"
    answer = engine.answer(f"zorblatt quixmarine {word}")
    top = answer.quotes[0] if answer.quotes else None
    if top is None or top.document != ADDED or word not in top.text:
        sys.exit(f"the {what} is not in the answer: {answer}")
    return f"top quote from {ADDED}"


def _first_sentence(path: Path) -> str:
    """The words of the removed file's first sentence, from bench/synth.py's corpus that the
    bench copied (the copy is gone)."""
    return (path.parent.parent / path.parent.name.replace("update", "p") / path.name
            ).read_text().split(".")[0]


def _result(started: float, note: str) -> dict:
    return {"seconds": time.perf_counter() - started, "load": os.getloadavg()[0], "note": note}


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        main()
