"""Retrieval benchmark on SQuAD v1.1 dev: every paragraph of every article, split into
sentences, is the corpus; a question is answered well when a returned quote contains a gold
answer string (answer recall@k), and exactly when the top quote holds the gold span (span
recall@1). Articles with an even index are the tuning half; odd ones are reported apart so a
figure that only holds where it was tuned shows."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.core.answer import Engine
from bot.core.documents import Document, parse_document
from bot.core.index import BM25Index
from bot.core.model import RetrievalSettings

KS = (1, 3, 5)


@dataclass(frozen=True)
class Question:
    text: str
    article: int
    answers: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # gold spans, offsets in the article's document text


@dataclass(frozen=True)
class Ranked:
    """One retriever's top quotes for a question: (article, start, end, text) each."""

    hits: tuple[tuple[int, int, int, str], ...]


def load_squad(path: Path) -> tuple[list[Document], list[Question]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, questions = [], []
    for a, article in enumerate(data):
        contexts = [p["context"] for p in article["paragraphs"]]
        text = "\n\n".join(contexts)
        offset = 0
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = tuple(x["text"] for x in qa["answers"])
                spans = tuple(
                    (offset + x["answer_start"], offset + x["answer_start"] + len(x["text"]))
                    for x in qa["answers"]
                )
                questions.append(Question(qa["question"], a, answers, spans))
            offset += len(para["context"]) + 2
        rel = f"{a:02d}_{article['title']}.txt"
        documents.append(parse_document(text, "squad", rel, Path(rel), {"label": article["title"]}))
    return documents, questions


def score(questions: Sequence[Question], ranked: Sequence[Ranked]) -> dict[str, float]:
    """answer recall@1/3/5 and span recall@1."""
    found = np.zeros((len(questions), len(KS)))
    span1 = np.zeros(len(questions))
    for i, (q, r) in enumerate(zip(questions, ranked, strict=True)):
        for j, k in enumerate(KS):
            found[i, j] = any(ans in hit[3] for hit in r.hits[:k] for ans in q.answers)
        if r.hits:
            art, start, end, _ = r.hits[0]
            span1[i] = art == q.article and any(start <= s and e <= end for s, e in q.spans)
    out = {f"ans@{k}": float(found[:, j].mean()) for j, k in enumerate(KS)}
    out["span@1"] = float(span1.mean())
    return out


def run_engine(engine: Engine, questions: Sequence[Question]) -> tuple[list[Ranked], float]:
    """Top-5 quotes for every question; returns the rankings and ms per question."""
    article_of = {d.rel: int(d.rel.split("_", 1)[0]) for d in engine.documents}
    ranked = []
    t0 = time.perf_counter()
    for q in questions:
        answer = engine.answer(q.text, top_k=max(KS))
        ranked.append(
            Ranked(tuple((article_of[x.document], x.start, x.end, x.text) for x in answer.quotes))
        )
    ms = (time.perf_counter() - t0) * 1000 / max(len(questions), 1)
    return ranked, ms


def naive_baseline(
    documents: Sequence[Document], questions: Sequence[Question]
) -> tuple[list[Ranked], float]:
    """rank_bm25's BM25Okapi over text.lower().split() of the same sentences, top 5 by score.
    Scored with BM25Index, whose scores equal BM25Okapi's (tests/test_index.py proves it):
    rank_bm25 itself takes about 40 ms a question here."""
    rows = [(a, s.start, s.end) for a, d in enumerate(documents) for s in d.sentences]
    texts = [documents[a].text[s:e] for a, s, e in rows]
    index = BM25Index.build((t.lower().split() for t in texts), k1=1.5, b=0.75, epsilon=0.25)
    ranked = []
    t0 = time.perf_counter()
    for q in questions:
        scores = index.get_scores(q.text.lower().split())
        top = np.argsort(scores)[::-1][: max(KS)]
        ranked.append(Ranked(tuple((rows[i][0], rows[i][1], rows[i][2], texts[i]) for i in top)))
    ms = (time.perf_counter() - t0) * 1000 / max(len(questions), 1)
    return ranked, ms


def evaluate(
    path: Path,
    settings: RetrievalSettings | None = None,
    baseline: bool = True,
    emit: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Run the benchmark, print a table, return {row: figures}."""
    documents, questions = load_squad(path)
    # Retrieval is measured without abstaining: the threshold has its own benchmark.
    settings = replace(settings or RetrievalSettings(), threshold=0.0)
    t0 = time.perf_counter()
    engine = Engine(documents, settings)
    build_s = time.perf_counter() - t0
    emit(
        f"SQuAD v1.1 dev: {len(documents)} articles, {engine.index.n_docs:,} sentences, "
        f"{len(questions):,} questions; index built in {build_s:.1f} s"
    )
    rows: dict[str, dict[str, float]] = {}
    runs = [("quotebot", run_engine(engine, questions))]
    if baseline:
        runs.append(("naive rank_bm25 (lower().split())", naive_baseline(documents, questions)))
    halves = {
        "even (tuning)": [i for i, q in enumerate(questions) if q.article % 2 == 0],
        "odd (held out)": [i for i, q in enumerate(questions) if q.article % 2 == 1],
    }
    emit(f"{'retriever':36} {'half':15} {'ans@1':>6} {'ans@3':>6} {'ans@5':>6} "
         f"{'span@1':>6} {'ms/q':>6}")
    for name, (ranked, ms) in runs:
        for half, idx in [("all", range(len(questions))), *halves.items()]:
            figures = score([questions[i] for i in idx], [ranked[i] for i in idx])
            figures["ms"] = ms
            rows[f"{name} / {half}"] = figures
            emit(f"{name:36} {half:15} " + " ".join(
                f"{figures[k]:6.3f}" for k in ("ans@1", "ans@3", "ans@5", "span@1")
            ) + f" {ms:6.2f}")
    return rows


def abstention(
    path: Path,
    settings: RetrievalSettings | None = None,
    articles: int = 16,
    emit: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Does the bot refuse what the documents cannot answer? For a fixed sample of articles
    (evenly spaced, so half even and half odd), each article's questions are asked of an
    engine built without that article (unanswerable) and of the full corpus (answerable).
    Reports, at the shipped threshold, the share of answerable questions answered and of
    unanswerable ones refused, and the ROC AUC of the confidence the decision uses."""
    documents, questions = load_squad(path)
    settings = settings or RetrievalSettings()
    probe = replace(settings, threshold=0.0)  # the confidence of every question, answered or not
    sample = sorted({round(i * len(documents) / articles) for i in range(articles)})
    full = Engine(documents, probe)
    asked = [q for q in questions if q.article in sample]
    t0 = time.perf_counter()
    present = np.array([full.answer(q.text, top_k=1).confidence for q in asked])
    ms = (time.perf_counter() - t0) * 1000 / max(len(asked), 1)
    absent = np.zeros(len(asked))
    for a in sample:
        engine = Engine([d for i, d in enumerate(documents) if i != a], probe)
        for i, q in enumerate(asked):
            if q.article == a:
                absent[i] = engine.answer(q.text, top_k=1).confidence
    emit(
        f"Abstention: {len(sample)} articles, {len(asked):,} questions asked with their "
        f"article present and removed; threshold {settings.threshold:.2f}; {ms:.2f} ms/q"
    )
    emit(f"{'half':15} {'answered':>9} {'refused':>8} {'AUC':>6}")
    article = np.array([q.article for q in asked])
    rows: dict[str, dict[str, float]] = {}
    for half, keep in (("all", article >= 0), ("even (tuning)", article % 2 == 0),
                       ("odd (held out)", article % 2 == 1)):
        figures = {
            "answered": float((present[keep] >= settings.threshold).mean()),
            "refused": float((absent[keep] < settings.threshold).mean()),
            "auc": roc_auc(present[keep], absent[keep]),
        }
        rows[half] = figures
        emit(f"{half:15} {figures['answered']:9.3f} {figures['refused']:8.3f} "
             f"{figures['auc']:6.3f}")
    return rows


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half):
    the Mann-Whitney U statistic over both sets' ranks."""
    if not len(positive) or not len(negative):
        return float("nan")
    both = np.concatenate((positive, negative))
    order = both.argsort(kind="stable")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    # Tied scores share their mean rank.
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    ranks = (np.bincount(inverse, weights=ranks) / counts)[inverse]
    u = ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))
