"""Retrieval benchmark on SQuAD v1.1 dev: every paragraph of every article, split into
sentences, is the corpus. The headline figure is read@N: a gold answer string lies within the
first N characters of the reply's quotes, joined in the order shown with one "\n" between them
(the separator counts as one character), so that quoting more only scores where a reader would
still be reading. Answer recall@k (a gold answer anywhere in the first k quotes) and span
recall@1 (the top quote holds the gold span) are kept beside it. Articles with an even index
are the tuning half; odd ones are reported apart so a figure that only holds where it was
tuned shows.

Labels: "title" gives each article its SQuAD title as its label (metadata a moderator could
write in sources.yaml); "filename" gives it a neutral file name such as ``07_5c1f2a.txt`` and no
label, as a user with no metadata gets, so the reranker's title cue sees no topic words."""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.core.analysis import DEFAULT_ANALYZER
from bot.core.answer import Engine
from bot.core.documents import Document, parse_document
from bot.core.index import BM25Index
from bot.core.model import RetrievalSettings

KS = (1, 3, 5)
READ_AT = (150, 250, 500)
SEPARATOR = "\n"  # between quotes when they are joined for read@N: one character
LABELS = ("title", "filename")
# The baselines' BM25 parameters: the sentence baseline uses quotebot's tuned k1 (SQuAD's
# sentences are short), the naive one rank_bm25's defaults.
SENTENCE_K1, NAIVE_K1, B, EPSILON = 0.6, 1.5, 0.75, 0.25


@dataclass(frozen=True)
class Question:
    text: str
    article: int
    answers: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # gold spans, offsets in the article's document text


@dataclass(frozen=True)
class Ranked:
    """One retriever's answer to a question. reply: the quotes a reader is shown, in order,
    as (article, start, end, text); deeper: the texts of the first max(KS) quotes when the
    retriever is asked for that many (for ans@5; quotebot's first quotes can differ from the
    reply's, since more picks can join a quote's run)."""

    reply: tuple[tuple[int, int, int, str], ...]
    deeper: tuple[str, ...]


def load_squad(path: Path, labels: str = "title") -> tuple[list[Document], list[Question]]:
    """The articles as documents (labelled as `labels` says, see the module docstring) and
    their questions, with gold spans as offsets in the documents' text."""
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {', '.join(LABELS)}, got {labels!r}")
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
        if labels == "title":
            rel, meta = f"{a:02d}_{article['title']}.txt", {"label": article["title"]}
        else:
            digest = hashlib.sha1(article["title"].encode()).hexdigest()[:6]
            rel, meta = f"{a:02d}_{digest}.txt", None
        documents.append(parse_document(text, "squad", rel, Path(rel), meta))
    return documents, questions


def read_at(texts: Sequence[str], answers: Iterable[str], n: int) -> bool:
    """Whether a gold answer lies within the first n characters of texts joined in order
    with SEPARATOR: what a reader who stops after n characters has read."""
    shown = SEPARATOR.join(texts)[:n]
    return any(answer in shown for answer in answers)


def score(
    questions: Sequence[Question], ranked: Sequence[Ranked], shown: int
) -> dict[str, float]:
    """read@N of the reply, answer recall@1/3/5 (within the reply for k <= shown, the number
    of quotes a reply shows; in the deeper list beyond), span recall@1, the top quote's median
    and mean length in characters, and the number of questions scored."""
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(float(value))

    for q, r in zip(questions, ranked, strict=True):
        texts = [hit[3] for hit in r.reply]
        for n in READ_AT:
            add(f"read@{n}", read_at(texts, q.answers, n))
        for k in KS:
            within = texts[:k] if k <= shown else r.deeper[:k]
            add(f"ans@{k}", any(ans in t for t in within for ans in q.answers))
        span = bool(r.reply) and r.reply[0][0] == q.article and any(
            r.reply[0][1] <= s and e <= r.reply[0][2] for s, e in q.spans)
        add("span@1", span)
        if texts:
            add("top1", len(texts[0]))
    out = {name: float(np.mean(v)) for name, v in figures.items() if name != "top1"}
    top1 = figures.get("top1", [0.0])
    out["top1 median"] = float(statistics.median(top1))
    out["top1 mean"] = float(np.mean(top1))
    out["n"] = float(len(questions))
    return out


def run_engine(
    engine: Engine, questions: Sequence[Question], shown: int
) -> tuple[list[Ranked], float]:
    """Every question's reply (top_k = shown, as the bot asks) and its first max(KS) quotes;
    returns the rankings and ms per question of the replies."""
    article_of = {d.rel: int(d.rel.split("_", 1)[0]) for d in engine.documents}
    replies = []
    t0 = time.perf_counter()
    for q in questions:
        replies.append(engine.answer(q.text, top_k=shown).quotes)
    ms = (time.perf_counter() - t0) * 1000 / max(len(questions), 1)
    ranked = [
        Ranked(tuple((article_of[x.document], x.start, x.end, x.text) for x in reply),
               tuple(x.text for x in engine.answer(q.text, top_k=max(KS)).quotes))
        for q, reply in zip(questions, replies, strict=True)
    ]
    return ranked, ms


def sentence_baseline(
    documents: Sequence[Document], questions: Sequence[Question], shown: int
) -> tuple[list[Ranked], float]:
    """rank_bm25's BM25Okapi (k1 0.6, b 0.75) over the same sentences, each analysed by
    quotebot's analyzer (word regex, English stopwords, Snowball stems); one sentence a hit,
    the best max(KS), the first `shown` of them the reply."""
    return _bm25_baseline(documents, questions, shown, DEFAULT_ANALYZER.terms, SENTENCE_K1)


def naive_baseline(
    documents: Sequence[Document], questions: Sequence[Question], shown: int
) -> tuple[list[Ranked], float]:
    """rank_bm25's BM25Okapi with its defaults over text.lower().split() of the same
    sentences, as sentence_baseline otherwise."""
    return _bm25_baseline(documents, questions, shown, lambda t: t.lower().split(), NAIVE_K1)


def _bm25_baseline(
    documents: Sequence[Document], questions: Sequence[Question], shown: int,
    tokenize: Callable[[str], list[str]], k1: float,
) -> tuple[list[Ranked], float]:
    """Scored with BM25Index, whose scores equal BM25Okapi's (tests/test_index.py proves it,
    tests/test_evaluation.py checks the rankings): rank_bm25 itself takes about 40 ms a
    question here. Ties go as rank_bm25's get_top_n orders them (argsort, reversed)."""
    rows = [(a, s.start, s.end) for a, d in enumerate(documents) for s in d.sentences]
    texts = [documents[a].text[s:e] for a, s, e in rows]
    index = BM25Index.build((tokenize(t) for t in texts), k1=k1, b=B, epsilon=EPSILON)
    ranked = []
    t0 = time.perf_counter()
    for q in questions:
        scores = index.get_scores(tokenize(q.text))
        top = np.argsort(scores)[::-1][: max(KS)]
        hits = tuple((*rows[i], texts[i]) for i in top.tolist())
        ranked.append(Ranked(hits[:shown], tuple(h[3] for h in hits)))
    ms = (time.perf_counter() - t0) * 1000 / max(len(questions), 1)
    return ranked, ms


COLUMNS = (*(f"read@{n}" for n in READ_AT), *(f"ans@{k}" for k in KS), "span@1",
           "top1 median", "top1 mean")


def evaluate(
    path: Path,
    settings: RetrievalSettings | None = None,
    baseline: bool = True,
    labels: Sequence[str] = LABELS,
    emit: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Run the benchmark for each label mode, print one table, return {row: figures} with
    rows named "retriever / labels / half". The baselines do not read labels: they run once,
    on the same sentences and questions, under labels "-"."""
    # Retrieval is measured without abstaining: the threshold has its own benchmark.
    settings = replace(settings or RetrievalSettings(), threshold=0.0)
    shown = settings.top_k
    runs: list[tuple[str, str, list[Question], tuple[list[Ranked], float]]] = []
    for mode in labels:
        documents, questions = load_squad(path, mode)
        t0 = time.perf_counter()
        engine = Engine(documents, settings)
        build_s = time.perf_counter() - t0
        if not runs:
            emit(f"SQuAD v1.1 dev: {len(documents)} articles, {engine.index.n_docs:,} "
                 f"sentences, {len(questions):,} questions; index built in {build_s:.1f} s")
        runs.append(("quotebot", mode, questions, run_engine(engine, questions, shown)))
    if baseline:
        runs.append(("bm25 sentence", "-", questions,
                     sentence_baseline(documents, questions, shown)))
        runs.append(("naive", "-", questions, naive_baseline(documents, questions, shown)))
    emit(f"read@N: a gold answer within the first N characters of the reply's {shown} quotes "
         f"joined with one '\\n' (1 char); ans@1/3 in the reply, ans@5 in the first 5 "
         f"quotes when 5 are asked for; top1: the first quote's length in characters")
    emit(f"{'retriever':14} {'labels':8} {'half':15} "
         + " ".join(f"{c.replace('top1 ', 't1 '):>8}" for c in COLUMNS) + f" {'ms/q':>6}")
    rows: dict[str, dict[str, float]] = {}
    for name, mode, questions, (ranked, ms) in runs:
        halves = {
            "all": list(range(len(questions))),
            "even (tuning)": [i for i, q in enumerate(questions) if q.article % 2 == 0],
            "odd (held out)": [i for i, q in enumerate(questions) if q.article % 2 == 1],
        }
        for half, idx in halves.items():
            if not idx:  # a file of one article has no odd half
                continue
            figures = score([questions[i] for i in idx], [ranked[i] for i in idx], shown)
            figures["ms"] = ms
            rows[f"{name} / {mode} / {half}"] = figures
            emit(f"{name:14} {mode:8} {half:15} " + " ".join(
                f"{figures[c]:8.0f}" if c.startswith("top1") else f"{figures[c]:8.3f}"
                for c in COLUMNS) + f" {ms:6.2f}")
    return rows

def abstention(
    path: Path,
    settings: RetrievalSettings | None = None,
    articles: int = 16,
    labels: Sequence[str] = LABELS,
    emit: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Does the bot refuse what the documents cannot answer? For a fixed sample of articles
    (evenly spaced, so half even and half odd), each article's questions are asked of an
    engine built without that article (unanswerable) and of the full corpus (answerable).
    Reports for each label mode, at the shipped threshold, the share of answerable questions
    answered and of unanswerable ones refused, and the ROC AUC of the confidence the decision
    uses; rows are named "labels / half"."""
    settings = settings or RetrievalSettings()
    probe = replace(settings, threshold=0.0)  # the confidence of every question, answered or not
    rows: dict[str, dict[str, float]] = {}
    for mode in labels:
        documents, questions = load_squad(path, mode)
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
        if not rows:
            emit(f"Abstention: {len(sample)} articles, {len(asked):,} questions asked with "
                 f"their article present and removed; threshold {settings.threshold:.2f}")
            emit(f"{'labels':8} {'half':15} {'answered':>9} {'refused':>8} {'AUC':>6} "
                 f"{'ms/q':>6}")
        article = np.array([q.article for q in asked])
        for half, keep in (("all", article >= 0), ("even (tuning)", article % 2 == 0),
                           ("odd (held out)", article % 2 == 1)):
            figures = {
                "answered": float((present[keep] >= settings.threshold).mean()),
                "refused": float((absent[keep] < settings.threshold).mean()),
                "auc": roc_auc(present[keep], absent[keep]),
            }
            rows[f"{mode} / {half}"] = figures
            emit(f"{mode:8} {half:15} {figures['answered']:9.1%} {figures['refused']:8.1%} "
                 f"{figures['auc']:6.3f} {ms:6.2f}")
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
