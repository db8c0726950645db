"""Extraction time and peak memory for a 300-page PDF and a 5 MB HTML page.

    .venv/bin/python bench/extract.py [--workdir DIR] [--pages 300] [--html-mb 5]

The files are generated (seeded): the PDF by tests/docmaker.py (hand-written PDF syntax,
Helvetica, 46 lines of prose a page), the HTML as an article of paragraphs, headings and
tables wrapped in navigation, scripts, styles and a footer. Each file is extracted in a fresh
subprocess (`extract()` alone: seconds, and peak RSS before and after, from getrusage), then
through `extract_files` as quotebot loads it (a spawned worker, then again from the cache).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WORDS = ("harbour storm council ferry pier repairs engineers timber quay tide lighthouse "
         "keeper winds crossing island museum village boats reserve fund vote week month "
         "night morning the a of and to in on at by for with from said would could").split()


def prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_files(folder: Path, pages: int, html_mb: float) -> tuple[Path, Path]:
    from docmaker import make_pdf

    rng = random.Random(15)
    pdf = folder / f"bench-{pages}.pdf"
    lines = [[prose(rng, 11)[:80] for _ in range(46)] for _ in range(pages)]
    pdf.write_bytes(make_pdf(lines, title="Bench report", date="D:20261206"))
    html = folder / f"bench-{html_mb:g}mb.html"
    chrome = ("<nav><ul>" + "<li><a href='/x'>Section</a></li>" * 40 + "</ul></nav>"
              "<script>" + "var x = 1;" * 500 + "</script><style>p{margin:0}</style>")
    parts = [f"<!DOCTYPE html><html><head><title>Bench page</title>{chrome}</head><body>"
             "<header>Site</header><main><article><h1>Bench page</h1>"]
    size, section = 0, 0
    while size < html_mb * 1024 * 1024:
        section += 1
        block = (f"<h2>Section {section}</h2>"
                 + "".join(f"<p>{prose(rng, rng.randint(20, 80))}</p>" for _ in range(8))
                 + "<table><tr><td>a</td><td>b</td></tr><tr><td>1</td><td>2</td></tr></table>"
                 + "<div class='share'>Share</div><script>track()</script>")
        parts.append(block)
        size += len(block)
    parts.append("</article></main><footer>Footer</footer></body></html>")
    html.write_text("".join(parts), encoding="utf-8")
    return pdf, html


def measure_one(path: Path) -> dict[str, float]:
    """In this (fresh) process: extract() alone, after the readers are imported."""
    import lxml.html  # noqa: F401  (imported before the baseline, as a warm worker has them)
    import pypdf  # noqa: F401

    from bot.core.extract import extract

    data = path.read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = extract(data, path.suffix)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_before_mb": before, "rss_peak_mb": peak,
            "chars": len(result.text), "paragraphs": len(result.paragraphs),
            "pages": len(result.pages)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--html-mb", type=float, default=5.0)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    from bot.core.extract.batch import extract_files

    folder = args.workdir or Path(tempfile.mkdtemp(prefix="qb-extract-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = make_files(folder, args.pages, args.html_mb)
    print("| file | size MB | chars | paragraphs | extract s | RSS before -> peak MB "
          "| via worker s | from cache s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path in files:
        proc = subprocess.run([sys.executable, __file__, "--one", str(path)],
                              capture_output=True, text=True, check=True)
        one = json.loads(proc.stdout)
        cache = folder / "cache"
        started = time.perf_counter()
        [outcome] = extract_files([path], cache_dir=cache).values()
        pooled = time.perf_counter() - started
        assert not isinstance(outcome, str), outcome
        started = time.perf_counter()
        extract_files([path], cache_dir=cache)
        cached = time.perf_counter() - started
        print(f"| {path.name} | {path.stat().st_size / 2**20:.1f} | {one['chars']:,} "
              f"| {one['paragraphs']:,} | {one['seconds']:.2f} "
              f"| {one['rss_before_mb']:.0f} -> {one['rss_peak_mb']:.0f} "
              f"| {pooled:.2f} | {cached:.2f} |", flush=True)


if __name__ == "__main__":
    main()
