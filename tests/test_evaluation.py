"""`quotebot eval`'s yardstick: read@N counts only what a reader reads, and the baselines are
scored on the same sentences and questions as quotebot (a small SQuAD-shaped file)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.cli import main
from bot.core.analysis import DEFAULT_ANALYZER
from bot.evaluation import evaluate, load_squad, read_at

# --- read@N --------------------------------------------------------------------------------


def test_read_at_counts_an_answer_only_within_the_first_n_characters() -> None:
    quote = "x" * 140 + " Paris is the capital."  # "Paris" at characters 141-146
    assert read_at([quote], ["Paris"], 146)
    assert not read_at([quote], ["Paris"], 145)
    assert not read_at([quote], ["Paris"], 100)
    assert read_at([quote], ["Lyon", "Paris"], 150)


def test_read_at_joins_quotes_with_a_one_character_separator() -> None:
    first, second = "a" * 100, "Paris."
    # Joined, "Paris" takes characters 101-105: the separator counts as one character.
    assert read_at([first, second], ["Paris"], 106)
    assert not read_at([first, second], ["Paris"], 105)


def test_read_at_follows_the_order_the_quotes_are_shown_in() -> None:
    long, short = "y" * 400 + ".", "Paris is the capital."
    assert read_at([short, long], ["Paris"], 150)
    assert not read_at([long, short], ["Paris"], 150)
    assert read_at([long, short], ["Paris"], 500)


# --- a SQuAD-shaped file ---------------------------------------------------------------------

TOPICS = ["harbour", "glacier", "orchard", "viaduct", "lantern", "meadow"]
FILLER = "quarry basalt tinder pewter falcon saffron copper willow marble thistle".split()


def squad_file(tmp_path: Path) -> Path:
    """Six articles of two paragraphs; each question asks after one sentence's words, some of
    them shared with other sentences, so that BM25 ranks some answers first and misses others."""
    rng = random.Random(7)
    data = []
    for a, topic in enumerate(TOPICS):
        paragraphs = []
        for p in range(2):
            sentences, qas = [], []
            for s in range(3):
                words = rng.sample(FILLER, 4)
                answer = f"{topic.capitalize()}{p}{s}"
                sentences.append(f"The {topic} of {words[0]} saw {answer} near the {words[1]} "
                                 f"and {words[2]} by {words[3]}.")
            context = " ".join(sentences)
            for s, sentence in enumerate(sentences):
                words = sentence.split()
                question = f"Who was near the {words[1]} {words[6]} {rng.choice(FILLER)}?"
                answer = f"{topic.capitalize()}{p}{s}"
                qas.append({"question": question, "id": f"{a}{p}{s}", "answers": [
                    {"text": answer, "answer_start": context.index(answer)}]})
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": f"{topic.capitalize()} history", "paragraphs": paragraphs})
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": data, "version": "1.1"}))
    return path


def okapi_ans_at(path: Path, k: int, articles: set[int]) -> float:
    """ans@k of rank_bm25's BM25Okapi itself (k1 0.6, b 0.75, quotebot's analyzer) over the
    file's sentences, for the questions of the given articles."""
    documents, questions = load_squad(path)
    texts = [d.text[s.start : s.end] for d in documents for s in d.sentences]
    okapi = BM25Okapi([DEFAULT_ANALYZER.terms(t) for t in texts], k1=0.6, b=0.75, epsilon=0.25)
    hits = []
    for q in questions:
        if q.article in articles:
            top = np.argsort(okapi.get_scores(DEFAULT_ANALYZER.terms(q.text)))[::-1][:k]
            hits.append(any(a in texts[i] for i in top for a in q.answers))
    return sum(hits) / len(hits)


def test_the_baseline_is_scored_on_the_same_questions_as_quotebot(tmp_path: Path) -> None:
    path = squad_file(tmp_path)
    _, questions = load_squad(path)
    rows = evaluate(path, labels=("title", "filename"), emit=lambda line: None)
    even = sum(q.article % 2 == 0 for q in questions)
    for name in ("quotebot / title", "quotebot / filename", "bm25 sentence / -", "naive / -"):
        assert rows[f"{name} / all"]["n"] == len(questions) == 36
        assert rows[f"{name} / even (tuning)"]["n"] == even == 18
    for half, articles in (("all", set(range(6))), ("odd (held out)", {1, 3, 5})):
        for k in (1, 3):
            expected = okapi_ans_at(path, k, articles)
            assert rows[f"bm25 sentence / - / {half}"][f"ans@{k}"] == pytest.approx(expected)
    figures = rows["bm25 sentence / - / all"]
    assert 0 < figures["ans@1"] < figures["ans@3"] <= 1  # the file does tell them apart


def test_filename_labels_carry_no_topic_words(tmp_path: Path) -> None:
    path = squad_file(tmp_path)
    titled, _ = load_squad(path, "title")
    named, _ = load_squad(path, "filename")
    assert [d.label for d in titled][:2] == ["Harbour history", "Glacier history"]
    for doc, other in zip(named, titled, strict=True):
        # (labelled as a file with no metadata is: its name read as words)
        assert doc.label == doc.rel.removesuffix(".txt").replace("_", " ")
        assert not set(DEFAULT_ANALYZER.terms(doc.label)) & set(DEFAULT_ANALYZER.terms(other.label))
        assert doc.text == other.text


def test_eval_prints_each_label_mode_and_the_baselines(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config: the default settings
    path = squad_file(tmp_path)
    out = io.StringIO()
    assert main(["eval", "--squad", str(path)], out) == 0
    lines = out.getvalue().splitlines()
    header = next(line for line in lines if line.startswith("retriever"))
    assert header.split()[3:6] == ["read@150", "read@250", "read@500"]
    rows = [line for line in lines[lines.index(header) + 1 :] if " all " in line]
    assert [line[:29].split() for line in rows] == [
        ["quotebot", "title", "all"], ["quotebot", "filename", "all"],
        ["bm25", "sentence", "-", "all"], ["naive", "-", "all"]]
    one = io.StringIO()
    assert main(["eval", "--squad", str(path), "--labels", "filename",
                 "--no-baseline"], one) == 0
    assert "title" not in one.getvalue() and "quotebot       filename" in one.getvalue()


def test_eval_top_k_sets_the_reply_read_at_n_is_taken_over(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config: the default settings
    path = squad_file(tmp_path)

    def quotebot_row(top_k: str) -> dict[str, float]:
        out = io.StringIO()
        assert main(["eval", "--squad", str(path), "--labels", "title", "--no-baseline",
                     "--top-k", top_k], out) == 0
        lines = out.getvalue().splitlines()
        assert f"the reply's {top_k} quotes" in out.getvalue()
        header = next(line for line in lines if line.startswith("retriever")).split()
        row = next(line for line in lines if line.startswith("quotebot") and " all " in line)
        # (read@150 ... ans@5: the columns before span@1 and the lengths)
        return dict(zip(header[3:9], map(float, row.split()[3:9]), strict=True))

    one, five = quotebot_row("1"), quotebot_row("5")
    # A reply of one quote holds an answer within its first N characters only where its
    # quote holds one at all; five quotes find more within 500 characters.
    assert all(one[f"read@{n}"] <= one["ans@1"] for n in (150, 250, 500))
    assert five["read@500"] > one["read@500"]
    assert main(["eval", "--squad", str(path), "--top-k", "11"], io.StringIO()) == 2
