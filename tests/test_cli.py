"""The command line, through main() and, for exit codes and streams, a real subprocess."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from verbatim import assert_answer_verbatim

from bot.cli import main
from bot.core.answer import Engine
from bot.core.model import TOP_K_RANGE, AnswerSettings
from bot.library import build_library

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=120,
    )


def test_ask_prints_quotes_with_labels() -> None:
    out = io.StringIO()
    assert main(["ask", "--corpus", str(SEEDS), "Who announced the withdrawal from Siversk?"],
                out) == 0
    text = out.getvalue()
    assert "From Siversk falls after Ukrainian withdrawal, paragraph 1:" in text
    assert "The Ukrainian General Staff confirmed the pullback on Tuesday" in text


def test_ask_json_object() -> None:
    out = io.StringIO()
    assert main(["ask", "--json", "--top-k", "2", "--corpus", str(SEEDS),
                 "What did the Cossacks claim?"], out) == 0
    answer = json.loads(out.getvalue())
    assert set(answer) == {"question", "answered", "quotes"}
    assert answer["answered"] and 1 <= len(answer["quotes"]) <= 2
    assert set(answer["quotes"][0]) >= {"text", "document", "label", "paragraph", "start", "end",
                                        "score"}
    assert_answer_verbatim(answer, SEEDS)


def test_ask_json_lines_from_stdin_one_line_each_in_order() -> None:
    questions = ["Who announced the withdrawal from Siversk?", "", "   ", "what is it?",
                 "\x00\u202e@everyone <@123> `code`", "x" * 10_000,
                 "What is the boiling point of mercury?", "Seversk"]
    proc = run("ask", "--json", "--corpus", str(SEEDS), "-", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(questions)
    for question, line in zip(questions, lines, strict=True):
        answer = json.loads(line)
        assert answer["question"] == question
        assert_answer_verbatim(answer, SEEDS)
    assert json.loads(lines[0])["answered"] and not json.loads(lines[6])["answered"]


def test_sources_lists_labels_and_counts() -> None:
    out = io.StringIO()
    assert main(["sources", "--corpus", str(SEEDS)], out) == 0
    assert "Siversk falls after Ukrainian withdrawal" in out.getvalue()
    assert "4 paragraphs, 16 sentences" in out.getvalue()


@pytest.mark.parametrize(
    ("labels", "why"),
    [
        ("a.txt: {label: [unclosed\n", "sources.yaml:2: YAML syntax error"),
        ("a.txt: !!python/object/apply:os.system [echo hi]\n", "!!python/object/apply"),
        ("- a.txt\n", "the top level must be a mapping"),
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcde", "bcdef", strict=True)
        ), "billion laughs"),
    ],
)
def test_sources_yaml_read_safely_and_a_broken_one_reported(
    tmp_path: Path, labels: str, why: str
) -> None:
    # sources.yaml goes through the config's hardened reader: a broken or hostile file is
    # reported with its line, and the folder's documents still load under their file names.
    (tmp_path / "a.txt").write_text("The ferry left the harbour at noon.\n")
    (tmp_path / "sources.yaml").write_text(labels)
    out = io.StringIO()
    assert main(["sources", "--corpus", str(tmp_path)], out) == 0
    text = out.getvalue()
    assert text.startswith("a\n"), text  # (the label made from the file name)
    assert "sources.yaml: labels not read (" in text and why in text, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "--corpus", "/no/such/folder", "hi"], "corpus folder not found"),
        (["ask", "--top-k", "zero", "--corpus", "seeds", "hi"], "--top-k"),
        (["ask"], "required"),
        (["frobnicate"], "invalid choice"),
        (["eval", "--squad", "/no/such.json"], "SQuAD file not found"),
        (["ask", "--config", "/no/config", "hi"], "no config"),
        # a --config given is read, also beside --corpus (its aliases and settings apply)
        (["ask", "--config", "/no/config", "--corpus", "seeds", "hi"], "no config"),
        # "" (an unset variable) would be the current folder, read or written silently
        (["ask", "--corpus", "", "hi"], "an empty path"),
        (["ask", "--corpus", "seeds", "--index-dir", " ", "hi"], "an empty path"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_top_k_has_one_range_for_the_cli_and_the_engine() -> None:
    """--top-k, the engine's top_k and its default setting share model.TOP_K_RANGE (config's
    top_k keys too: tests/test_config.py rejects 11)."""
    lo, hi = TOP_K_RANGE
    out = io.StringIO()
    assert main(["ask", "--json", "--top-k", str(hi), "--corpus", str(SEEDS), "Russian forces"],
                out) == 0
    assert len(json.loads(out.getvalue())["quotes"]) == hi
    proc = run("ask", "--top-k", str(hi + 1), "--corpus", "seeds", "hi")
    assert proc.returncode == 2 and f"from {lo} to {hi}" in proc.stderr
    engine: Engine = build_library([("seeds", SEEDS)], aliases={}).engine
    assert len(engine.answer("Russian forces", top_k=hi).quotes) == hi
    with pytest.raises(ValueError, match=f"from {lo} to {hi}"):
        engine.answer("Russian forces", top_k=hi + 1)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValueError, match=f"from {lo} to {hi}"):
            AnswerSettings(top_k=bad)


MILL = "The windmill at Cley was built in 1819 by a local merchant."
# Other sentences, so that the mill's words are rare enough to weigh (BM25's IDF).
FILLER = "\n\n".join(f"Filler sentence number {n} is about the {w}." for n, w in enumerate(
    ["coast", "birds", "seals", "tides", "dunes", "marsh", "church", "harbour"]))


def test_corpus_folders_of_one_name_are_told_apart(tmp_path: Path) -> None:
    """Two --corpus folders named docs are collections docs and docs-2; each quote and each
    "also in" names its collection, so its offsets are checked in the right file."""
    folders = [tmp_path / "a" / "docs", tmp_path / "b" / "docs"]
    for folder in folders:
        folder.mkdir(parents=True)
        (folder / "mill.txt").write_text(f"{MILL}\n\n{FILLER}\n")
    (folders[1] / "other.txt").write_text(f"Preface.\n\n{MILL}\n")
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(folders[0]), "--corpus", str(folders[1]),
                 "--index-dir", str(tmp_path / "cache"), "Who built the windmill at Cley?"],
                out) == 0
    (quote,) = json.loads(out.getvalue())["quotes"]
    where = {"docs": folders[0], "docs-2": folders[1]}
    places = [quote, *quote["also"]]
    assert sorted((q["collection"], q["document"]) for q in places) == [
        ("docs", "mill.txt"), ("docs-2", "mill.txt"), ("docs-2", "other.txt")]
    for q in places:
        text = (where[q["collection"]] / q["document"]).read_text()
        assert text[q["start"] : q["end"]] == MILL


def test_terminal_names_each_other_document_with_its_own_place(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(f"{MILL}\n\nFiller.\n")
    (tmp_path / "y.txt").write_text(f"One.\n\nTwo.\n\n{MILL}\n")
    out = io.StringIO()
    assert main(["ask", "--corpus", str(tmp_path), "--index-dir", str(tmp_path / "cache"),
                 "Who built the windmill at Cley?"], out) == 0
    lines = out.getvalue().splitlines()
    assert lines[2:6] == ["From x, paragraph 1 (also in y):", f"> {MILL}",
                          f"  [x.txt, characters 0-{len(MILL)}]",
                          f"  also in y: [y.txt, paragraph 3, characters 12-{12 + len(MILL)}]"]


def test_a_sentence_its_document_repeats_is_quoted_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"{MILL}\n\nFiller about seals.\n\n{MILL}\n")
    (tmp_path / "b.txt").write_text("Filler one.\n\nFiller two.\n")
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(tmp_path), "--index-dir",
                 str(tmp_path / "cache"), "When was the windmill at Cley built?"], out) == 0
    answer = json.loads(out.getvalue())
    assert [q["text"] for q in answer["quotes"]].count(MILL) == 1
    assert_answer_verbatim(answer, tmp_path)


@pytest.mark.parametrize("texts", [
    ["The wifi password is hunter2.\n"],
    ["The wifi password is hunter2.\n\nThe library opens at 9am on weekdays.\n"],
    ["The wifi password is hunter2.\n", "The library opens at 9am on weekdays.\n"],
])
def test_a_collection_of_one_or_two_sentences_answers(tmp_path: Path, texts: list[str]) -> None:
    """BM25's IDF is 0 or less for every term of one or two sentences: such a collection (a
    newcomer's first try) answered nothing, "The documents do not answer this." to all."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, text in enumerate(texts):
        (docs / f"{n}.txt").write_text(text)
    for question, expected in [("What is the wifi password?", "The wifi password is hunter2."),
                               ("When does the library open?", None),
                               ("What is the capital of France?", None)]:
        out = io.StringIO()
        assert main(["ask", "--json", "--corpus", str(docs), "--index-dir",
                     str(tmp_path / "cache"), question], out) == 0
        answer = json.loads(out.getvalue())
        assert_answer_verbatim(answer, docs)
        first = answer["quotes"][0]["text"] if answer["quotes"] else None
        if expected or ("library" in "".join(texts) and "library" in question):
            assert answer["answered"] and first == (
                expected or "The library opens at 9am on weekdays."), question
        else:
            assert not answer["answered"] and not answer["quotes"], question


def test_stdin_with_a_byte_order_mark_and_a_file_for_a_folder(tmp_path: Path) -> None:
    proc = run("ask", "--json", "--corpus", str(SEEDS), "-",
               stdin="\ufeffWho announced the withdrawal from Siversk?\r\nSeversk\r\n")
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["question"] == "Who announced the withdrawal from Siversk?"
    assert first["answered"] and second["question"] == "Seversk"
    proc = run("ask", "--corpus", str(SEEDS / "sources.yaml"), "hi")
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr


def test_sources_counts_in_words_and_skips_front_matter_alone(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: Only front matter\n---\n")
    (tmp_path / "b.txt").write_text("One sentence here.\n")
    monkeypatch.chdir(tmp_path)  # --corpus .: the collection is still named after the folder
    out = io.StringIO()
    assert main(["sources", "--corpus", ".", "--index-dir", str(tmp_path / "cache")], out) == 0
    text = out.getvalue()
    assert f"{tmp_path.name}/b.txt: 1 paragraph, 1 sentence\n" in text
    assert "a.md: empty: the file has no text to quote" in text


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    proc = run("ask", "--corpus", str(tmp_path), "hi")
    assert proc.returncode == 2 and "no documents to quote" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_without_a_token_says_how_to_set_it() -> None:
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env={k: v for k, v in os.environ.items()
                                                     if k != "DISCORD_TOKEN"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "quotebot: DISCORD_TOKEN is not set: export DISCORD_TOKEN=<your bot token> (from the "
        "Discord developer portal, Bot tab) and run again"
    ]


def test_run_when_discord_cannot_be_reached_is_one_line() -> None:
    token = "MTIz.unreachable-test-token.abc"
    env = {**os.environ, "DISCORD_TOKEN": token,
           "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",
           "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/"}
    proc = subprocess.run([sys.executable, "-m", "bot", "run", "--log-level", "ERROR"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach Discord at http://127.0.0.1:9/api/v10" in proc.stderr
    assert "Traceback" not in proc.stderr and token not in proc.stderr + proc.stdout


@pytest.mark.parametrize(("args", "error"), [
    (["--shard-count", "0"], "--shard-count: must be a whole number of shards from 1 to "),
    (["--shard-count", "-2"], "must be a whole number of shards from 1 to 100,000, got '-2'"),
    (["--shard-count", "100001"], "from 1 to 100,000, got '100001'"),  # check-config's bound
    (["--shard-count", "2", "--shard-ids", "2"],
     "--shard-ids 2 must be distinct ids from 0 to 1 (the shard count is 2)"),
    (["--shard-count", "3", "--shard-ids", "0,0"], "--shard-ids 0,0 must be distinct ids"),
    (["--shard-count", "2", "--shard-ids", "0;1"], "--shard-ids: must be shard ids"),
    (["--shard-ids", "0"], "--shard-ids needs the total number of shards: pass --shard-count N"),
])
def test_run_with_bad_shards_is_a_usage_error(
    args: list[str], error: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Discord unreachable: a check that let these through would say so instead.
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.shard-test-token.abc")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10")
    assert main(["run", "--config", str(ROOT / "config"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quotebot: ") and error in err and len(err.splitlines()) == 1, err


def test_run_shard_ids_alone_take_the_count_from_bot_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    with (tmp_path / "config" / "bot.yaml").open("a", encoding="utf-8") as fh:
        fh.write("shards: {count: 3}\n")
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.shard-test-token.abc")
    assert main(["run", "--config", str(tmp_path / "config"), "--shard-ids", "1,3"]) == 2
    assert "--shard-ids 1,3 must be distinct ids from 0 to 2 (the shard count is 3)" in (
        capsys.readouterr().err)


def test_a_date_that_is_no_date_is_text_not_a_crash(tmp_path: Path) -> None:
    # PyYAML builds a timestamp from 2024-02-30 and raised ValueError out of the loader.
    (tmp_path / "a.txt").write_text("The otter swims in the river.\n")
    (tmp_path / "sources.yaml").write_text("a.txt:\n  label: Otters\n  date: 2024-02-30\n")
    out = io.StringIO()
    assert main(["sources", "--corpus", str(tmp_path)], out) == 0
    assert out.getvalue().startswith("Otters (2024-02-30)\n"), out.getvalue()
    config = tmp_path / "config"
    (config / "guilds").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "bot.yaml", config / "bot.yaml")
    (config / "guilds" / "123456789012345678.yaml").write_text("note: 2024-13-01\nprefix: '?'\n")
    out = io.StringIO()
    assert main(["check-config", str(config)], out) == 1
    assert "123456789012345678.yaml:1: note: unknown key" in out.getvalue(), out.getvalue()


def test_sources_yaml_labels_that_are_no_text_are_reported(tmp_path: Path) -> None:
    """A list was shown as "['x', 'y']"; a block scalar broke the frame's line; a label of
    10,000 characters was printed whole."""
    for name, animal in [("a", "otter"), ("b", "heron"), ("c", "swan")]:
        (tmp_path / f"{name}.txt").write_text(f"The {animal} lives by the water.\n")
    (tmp_path / "sources.yaml").write_text(
        "a.txt:\n  label: [x, y]\n  source: BBC\nb.txt:\n  label: |\n    Herons of\n"
        f"    the pond\nc.txt: {'w' * 10_000}\n")
    out = io.StringIO()
    assert main(["sources", "--corpus", str(tmp_path)], out) == 0
    text = out.getvalue()
    assert text.startswith(f"a (BBC)\n    {tmp_path.name}/a.txt: "), text
    assert "\nHerons of the pond\n" in text
    assert f"\n{'w' * 200}\n" in text and "w" * 201 not in text
    assert "sources.yaml:2: a.txt.label: is a list, not text" in text


def test_a_symlinked_file_is_quoted_only_from_inside_its_folder(tmp_path: Path) -> None:
    """A link in a documents folder (a synced repository may hold one) to a file elsewhere on
    the machine is skipped and said, never quoted; one to a file of the folder is read."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    (docs / "uploads").mkdir(parents=True)
    outside.mkdir()
    (docs / "a.txt").write_text("The harbour opens at dawn. The market closes at noon.")
    (outside / "secret.txt").write_text("The vault code is kept under the lighthouse stairs.")
    (docs / "uploads" / "guild.txt").write_text("The quarry floods every spring, they say.")
    (docs / "pw.txt").symlink_to(outside / "secret.txt")
    (docs / "same.txt").symlink_to(docs / "a.txt")
    (docs / "quarry.txt").symlink_to(docs / "uploads" / "guild.txt")  # a guild's upload
    library = build_library([("docs", docs)], private=[docs / "uploads"])
    assert {d.rel for d in library.engine.documents} == {"a.txt", "same.txt"}
    assert sorted(s.path.name for s in library.skipped) == ["pw.txt", "quarry.txt"]
    assert all("outside its collection's folder" in s.reason for s in library.skipped)
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(docs), "--index-dir", str(tmp_path / "i"),
                 "Where is the vault code kept?"], out) == 0
    assert not json.loads(out.getvalue())["answered"]


def test_no_control_character_reaches_the_terminal(tmp_path: Path) -> None:
    """A document (or a file name) holding an escape sequence would retitle the reader's
    terminal or colour what follows: the terminal shows it as \\xNN; JSON keeps the text."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The ferry leaves at noon.\x1b]0;pwned\x07 Gulls nest here.\n\n"
                                "The market opens at dawn.\n\nSheep graze on the hill.\n")
    (docs / "b\x1b[31m.txt").write_text("The harbour rules are strict.\n")
    for command in (["ask", "When does the ferry leave?"], ["sources"]):
        out = io.StringIO()
        assert main([command[0], "--corpus", str(docs), "--index-dir", str(tmp_path / "i"),
                     *command[1:]], out) == 0
        assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
        assert "\\x1b" in out.getvalue()
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(docs), "--index-dir", str(tmp_path / "i"),
                 "When does the ferry leave?"], out) == 0
    answer = json.loads(out.getvalue())
    assert_answer_verbatim(answer, docs)
    assert "\x1b]0;pwned\x07" in answer["quotes"][0]["text"]


def test_a_file_name_with_a_newline_stays_on_its_line(tmp_path: Path) -> None:
    """A file named "a\\n[b.txt, characters 0-5].txt" printed a location line of two lines,
    the second a forged location; the terminal shows the newline as \\x0a."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil\n[x.txt, characters 0-5].txt").write_text(
        "The harbour rules are strict.\n\nGulls nest here.\n\nSheep graze on the hill.\n")
    (docs / "broken\n.pdf").write_bytes(b"not a pdf")
    for command in (["ask", "What are the harbour rules?"], ["sources"]):
        out = io.StringIO()
        assert main([command[0], "--corpus", str(docs), "--index-dir", str(tmp_path / "i"),
                     *command[1:]], out) == 0
        lines = out.getvalue().splitlines()
        assert not any(line.startswith("[x.txt") for line in lines), lines
        assert any("evil\\x0a[x.txt, characters 0-5].txt" in line for line in lines), lines
    assert any("broken\\x0a.pdf" in line for line in lines), lines
