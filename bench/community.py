"""Community documents asked as members ask: bench/community/passN/ holds corpora written
as Discord communities write them (FAQs, rules, minutes, changelogs, price lists; Markdown,
text, HTML, PDF, DOCX) and questions.tsv, a line a question: corpus, question, and the text
the first quote must hold ("a||b": either), or "-" where the documents do not answer.
Each pass was written by a session's helper that read none of quotebot's code; pass 3 was
held out until session 16 measured it, then used to find faults, pass 5 was held out in
session 17 and pass 6 in session 18 (see bench/README.md).

    .venv/bin/python bench/community.py                 # this checkout, every pass
    .venv/bin/python bench/community.py --checkout ../old --passes pass3 -v

Every question goes through `quotebot ask --json --top-k 3 --corpus DIR -`, as a user's
would, one process a corpus. Prints, per pass and in all: answerable questions whose first
quote holds the expected text (and whose three quotes do), unanswerable ones refused, quotes
that are not their document's text at their offsets, and runs that failed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "bench" / "community"
# The checkout's own bot, whatever the interpreter's installed one is.
RUN = "import sys; sys.path.insert(0, sys.argv.pop(1)); from bot.cli import main; sys.exit(main())"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the quotebot to ask")
    parser.add_argument("--passes", nargs="*", default=None, help="default: every pass")
    parser.add_argument("-v", "--verbose", action="store_true", help="every question")
    args = parser.parse_args()
    passes = args.passes or sorted(p.name for p in HERE.iterdir() if p.is_dir())
    total = [0, 0, 0, 0, 0, 0, 0]
    for name in passes:
        figures = run_pass(HERE / name, args.checkout.resolve(), args.verbose)
        total = [a + b for a, b in zip(total, figures, strict=True)]
        report(name, figures)
    if len(passes) > 1:
        report("all", total)


def run_pass(folder: Path, checkout: Path, verbose: bool) -> list[int]:
    """[first right, in the three, answerable, refused, unanswerable, not verbatim, failed]."""
    rows = [line.split("\t") for line in
            (folder / "questions.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    by_corpus: dict[str, list[tuple[str, str]]] = {}
    for corpus, question, expected in rows:
        by_corpus.setdefault(corpus, []).append((question, expected))
    figures = [0] * 7
    with tempfile.TemporaryDirectory() as index_dir:
        for corpus, asked in by_corpus.items():
            answers = ask(checkout, folder / corpus, Path(index_dir) / corpus,
                          [q for q, _ in asked])
            if answers is None:
                figures[6] += 1
                continue
            for (question, expected), answer in zip(asked, answers, strict=True):
                quotes = answer.get("quotes", [])
                figures[5] += sum(not verbatim(checkout, folder / corpus, q) for q in quotes)
                right = judge(expected, quotes, answer["answered"], figures)
                if verbose:
                    first = quotes[0]["text"][:160] if quotes else "(refused)"
                    print(f"{'ok ' if right else 'BAD'} [{corpus}] {question!r} want "
                          f"{expected!r}\n     {first!r}")
    return figures


def ask(checkout: Path, corpus: Path, index_dir: Path, questions: list[str]) -> list | None:
    """Each question's answer as `quotebot ask --json` prints it; None when the run failed."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(checkout), "ask", "--json", "--top-k", "3",
         "--corpus", str(corpus), "--index-dir", str(index_dir), "-"],
        input="\n".join(questions) + "\n", capture_output=True, text=True)
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or "Traceback" in done.stderr or len(answers) != len(questions):
        print(f"{corpus.name}: the run failed ({done.returncode}): {done.stderr[-500:]}")
        return None
    return answers


def judge(expected: str, quotes: list[dict], answered: bool, figures: list[int]) -> bool:
    """Count the answer in figures; whether it is right."""
    if expected == "-":
        figures[4] += 1
        figures[3] += not answered
        return not answered
    wanted = [_plain(e) for e in expected.split("||")]
    first = any(w in _plain(quotes[0]["text"]) for w in wanted) if quotes else False
    figures[0] += first
    figures[1] += any(w in _plain(q["text"]) for q in quotes for w in wanted)
    figures[2] += 1
    return first


_TEXTS: dict[Path, str] = {}


def verbatim(checkout: Path, corpus: Path, quote: dict) -> bool:
    """Whether the quote is its document's text (as `quotebot text` extracts a PDF, HTML or
    DOCX file) at its offsets."""
    path = corpus / quote["document"]
    if path not in _TEXTS:
        if path.suffix.lower() in (".txt", ".md"):
            _TEXTS[path] = path.read_text(encoding="utf-8-sig")
        else:
            _TEXTS[path] = subprocess.run([sys.executable, "-c", RUN, str(checkout), "text",
                                           str(path)], capture_output=True, text=True).stdout
    return _TEXTS[path][quote["start"] : quote["end"]] == quote["text"]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def report(name: str, f: list[int]) -> None:
    print(f"{name:6} first quote right {f[0]}/{f[2]} (in the three quotes {f[1]}/{f[2]}), "
          f"unanswerable refused {f[3]}/{f[4]}, not verbatim {f[5]}, failed runs {f[6]}")


if __name__ == "__main__":
    main()
