"""Chosen candidates -> quotes: which to quote (best first, a second document's close one
promoted), the same text in other documents named as "also in" with their own offsets, a
neighbouring sentence added only where the chosen one needs it, and a chosen heading replaced
by the sentences under it. Every Quote's text is ``document.text[start:end]``; every ``also``
source's text at its own offsets is the same but for whitespace and typographic quotes (see
normal)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.bodies import Bodies
from bot.core.corpus import Corpus, PassageTexts
from bot.core.kinds import KindTest
from bot.core.model import AnswerSettings, Quote, Source
from bot.core.visible import MARKDOWN, kind_of

# A sentence that opens with one of these leans on the sentence before it ("He resigned in
# 1990.", "However, the figure was disputed."): quoted alone, it does not say who or what.
LEANS = re.compile(
    r"(?:it|its|this|that|these|those|he|she|they|his|her|their|him|them|such|there|"
    r"however|but|yet|also|thus|therefore|instead|meanwhile|moreover|furthermore|"
    r"nevertheless|still|then|afterwards|later)\b", re.I)
# A chosen sentence lacking the kind of answer asked for takes the next one that holds it
# while the two keep within this many characters (see QuoteMaker._completed).
COMPLETED_MAX = 400
# A Markdown (ATX) heading: its opening #s, its words, any closing #s.
ATX = re.compile(r"#{1,6}[ \t]+(.*?\S)(?:[ \t]+#+)?[ \t]*", re.S)
# Typographic quotes and apostrophes read as their ASCII forms when texts are compared.
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                              "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
                              "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
                              "\u2033": '"'})


def normal(text: str) -> str:
    """text as compared for "also in": two quotes say the same when they are the same
    character for character but for whitespace and typographic quotes; only then may one
    name the other's document."""
    if not text.isascii():  # (every typographic mark is non-ASCII: no table to apply)
        text = text.translate(_TYPOGRAPHIC)
    return " ".join(text.split())


class QuoteMaker:
    def __init__(self, corpus: Corpus, analyzer: Analyzer, settings: AnswerSettings) -> None:
        self.analyzer, self.settings = analyzer, settings
        self.documents, self.passages, self.index = corpus.documents, corpus.passages, corpus.index
        self.bodies = Bodies(corpus)

    def select(
        self, ids: np.ndarray, scores: np.ndarray, cover: np.ndarray, count: int,
        rivals: Mapping[int, float] | None = None, depth: int = 0,
    ) -> list[tuple[int, float]]:
        """Best first, but a close-scoring passage from a document not yet quoted goes ahead,
        so that two documents that speak to a question both appear. Only a passage that holds
        most of the question (IDF coverage >= diversity_coverage) may jump the queue: a
        sentence from another document that shares one common word with the question is not
        a second source, and promoting it pushes a better quote of the first document out.

        Sources side by side: rivals maps each of the first `depth` candidates that holds the
        kind of answer asked for (a number for "how many"...) to its coverage. Once a pick
        holds one, the best candidate of a document not yet quoted that holds one too and
        covers as much of the question goes next, whatever its score: where two documents
        give different figures for the same thing, the reader sees both."""
        s = self.settings
        eligible = set(ids[: len(cover)][cover >= s.diversity_coverage].tolist())
        rival = dict(rivals or {})
        window = max(len(cover), depth if rival else 0)
        if rival:
            pids = np.fromiter(rival, dtype=np.int64, count=len(rival))
            rival_docs = set(self.passages.doc[pids].tolist())
        # A pick is the first remaining passage or one of the first `window`: all count
        # picks lie among the first count + window.
        ids, scores = ids[: count + window], scores[: count + window]
        remaining = list(zip(ids.tolist(), scores.tolist(), self.passages.doc[ids].tolist(),
                             strict=True))
        picked: list[tuple[int, float]] = []
        seen_docs: set[int] = set()
        figure: float | None = None  # the coverage of the first pick holding a figure
        while remaining and len(picked) < count:
            choice = 0
            if remaining[0][2] in seen_docs:
                if figure is not None and rival_docs <= seen_docs:
                    figure = None  # no other document holds a figure: no more to look for
                choice = self._other_source(remaining, seen_docs, eligible, rival, figure)
            pid, score, doc = remaining.pop(choice)
            picked.append((pid, score))
            seen_docs.add(doc)
            if figure is None and pid in rival:
                figure = rival[pid]
        return picked

    def _other_source(
        self, remaining: list[tuple[int, float, int]], seen_docs: set[int],
        eligible: set[int], rival: dict[int, float], figure: float | None,
    ) -> int:
        """The position in remaining of the next pick when its first is of a document
        already quoted (see select)."""
        floor = remaining[0][1] * self.settings.diversity
        for i, (pid, score, doc) in enumerate(remaining):
            if score < floor:
                break
            if pid in eligible and doc not in seen_docs:
                return i
        if figure is not None:
            for i, (pid, _, doc) in enumerate(remaining):
                if doc not in seen_docs and rival.get(pid, -1.0) >= figure - 1e-9:
                    return i
        return 0

    def quotes(
        self, picked: list[tuple[int, float]], asked: frozenset[str | int],
        kind: KindTest | None, texts: PassageTexts,
    ) -> list[Quote]:
        """Quotes in rank order, each the sentence chosen. It takes the sentence before it
        (same paragraph) only when it needs it (see _leans; kind is the question's
        kinds.KindTest), and the sentence after it when that one was chosen too and holds a
        question term (asked: the question's terms and their ids) the quote lacks: the answer
        may span the two. A chosen sentence already quoted is not repeated; one of another
        document whose text is the same (see normal) is named in the quote's `also`, with
        its own offsets; a near copy that differs (a death toll of 12 against 15) is a quote
        of its own. texts: the answer's passage texts."""
        p = self.passages
        # A chosen heading is quoted by what it heads (by the first sentence of its section
        # holding the kind of answer asked for, when what it heads holds none: Bodies.holding),
        # a chosen question (an FAQ's "Q: ...?") with what answers it: the sentences after it.
        # So is a sentence too short to say anything alone ("Yes."). A heading that repeats
        # its document's label (its title, which every quote of it names) goes last: short,
        # it outscores the sentences that speak to the question. So does a table's header
        # row, which holds every column's name ("| # | Title | Guest | Length |") and says
        # nothing of any row.
        bodies: dict[int, list[int]] = {}  # the first passage of each such run -> the run
        moved, late = [], []
        questions: set[int] = set()  # the chosen sentences that ask
        for pid, score in picked:
            if kind is not None and kind[0] is not None:
                pid = self.bodies.holding(pid, kind[1], texts)
            label_heading = self.bodies.headings(int(self.passages.doc[pid]))[1] == int(
                self.passages.start[pid])
            body, asks = self.bodies.of(pid, texts)
            if body is not None:
                bodies.setdefault(body[0], body)
                pid = body[0]  # (a heading's: the first passage under it)
                if asks:
                    questions.add(pid)
            goes_last = label_heading or self.bodies.heads_table(pid, texts)
            (late if goes_last else moved).append((pid, score))
        picked = moved + late
        # The document and length of each chosen passage and the ones before and after it (a
        # quote's first and last passages), gathered once as Python values for _copy_of.
        chosen = [pid for pid, _ in picked]
        at = np.array(list({*chosen, *(max(pid - 1, 0) for pid in chosen),
                            *(min(pid + 1, len(p) - 1) for pid in chosen),
                            *(b for body in bodies.values() for b in body)}), dtype=np.int64)
        facts = dict(zip(at.tolist(), zip(p.doc[at].tolist(), (p.end[at] - p.start[at]).tolist(),
                                          strict=True), strict=True))
        runs: list[list[int]] = []  # the passages of each quote, in order
        scores: list[float] = []
        # Each quote's sentences of other documents with its text: (passage, position in it).
        also: list[list[tuple[int, int]]] = []
        sources: list[set[int]] = []  # each quote's documents: its own and its also's
        terms: dict[int, frozenset[str | int]] = {}  # passage -> _terms(), when needed
        normals: dict[int, str] = {}  # passage -> normal() of its text, when needed
        quoted: set[int] = set()
        for pid, score in picked:
            if pid in quoted:
                continue
            copy = self._copy_of(pid, runs, facts, normals, texts)
            if copy is not None:
                # Named once a document: a sentence its own document (or one already named)
                # repeats is not quoted again.
                if facts[pid][0] not in sources[copy[0]]:
                    also[copy[0]].append((pid, copy[1]))
                    sources[copy[0]].add(facts[pid][0])
                quoted.add(pid)
                continue
            joined = False
            for i, run in enumerate(runs):
                if (pid == run[-1] + 1 and p.same_para[pid] and not also[i]
                        and self.bodies.adjoins(pid - 1) and (self._terms(pid, terms) & asked)
                        - frozenset().union(*(self._terms(r, terms) for r in run))):
                    run.append(pid)
                    quoted.add(pid)
                    joined = True
                    break
            if joined:
                continue
            run = list(bodies.get(pid, [pid]))
            if quoted.intersection(run):
                # What follows it is quoted already ("A: Yes." before "We ship to Canada.",
                # "Q: ...?" before its answer): it opens that quote. A question is not
                # shown otherwise; a short sentence alone.
                after = next((r for r, o in zip(runs, also, strict=True)
                              if len(run) > 1 and r[0] == run[1] and not o), None)
                if after is not None:
                    after.insert(0, pid)
                if after is not None or pid in questions:
                    quoted.add(pid)
                    continue
                run = [pid]
            if (p.same_para[pid] and pid - 1 not in quoted and self.bodies.adjoins(pid - 1)
                    and self._leans(pid, kind, texts)):
                run.insert(0, pid - 1)
            elif (len(run) == 1 and p.same_para[pid + 1] and pid + 1 not in quoted
                    and self.bodies.adjoins(pid) and self._completed(pid, kind, texts)):
                run.append(pid + 1)
            runs.append(run)
            scores.append(score)
            also.append([])
            sources.append({facts[pid][0]})
            quoted.update(run)
        return [self._quote(run, score, others, texts)
                for run, score, others in zip(runs, scores, also, strict=True)]

    def _quote(
        self, run: list[int], score: float, others: list[tuple[int, int]], texts: PassageTexts,
    ) -> Quote:
        """The quote of consecutive passages run, and the other documents holding its text."""
        p = self.passages
        first, last = run[0], run[-1]
        d = int(p.doc[first])
        doc, text = self.documents[d], texts(first, last)
        start, end = int(p.start[first]), int(p.end[last])
        if (start in self.bodies.headings(d)[0] and kind_of(doc.rel) == MARKDOWN
                and (marks := ATX.fullmatch(text))):
            # A Markdown heading quoted alone (no text under it): its words, not its #s.
            # (Another document's heading of the same words is not named: its offsets
            # would hold the #s.)
            start, end, others = start + marks.start(1), start + marks.end(1), []
            text = marks[1]
        return Quote(
            text, doc.rel, doc.label, int(p.paragraph[first]), start, end, score,
            doc.collection, tuple(self._sources(run, others, texts)),
        )

    def _leans(self, pid: int, kind: KindTest | None, texts: PassageTexts) -> bool:
        """Whether passage pid needs the sentence before it: it opens leaning on it, and the
        question asks for a kind of answer (a name for "who"...) it does not hold. On SQuAD's
        even articles, adding the sentence before every leaning one cost 2.5 points of
        read@150 (it comes before the answer); this rule costs none, and serves "He resigned."
        for "Who resigned?"."""
        if kind is None or kind[0] is None:
            return False
        text = texts(pid, pid)
        return LEANS.match(text) is not None and not kind[1](text)

    def _completed(self, pid: int, kind: KindTest | None, texts: PassageTexts) -> bool:
        """Whether passage pid needs the sentence after it (same paragraph): the question
        asks for a kind of answer (a name for "who"...) that pid lacks and the next sentence
        holds, and the two stay within COMPLETED_MAX characters: "Yes. Local businesses can
        sponsor a stall." then "Contact Raj Mistry, our treasurer." for "who do i talk to
        about sponsoring a stall". (On SQuAD dev's even articles, at 250 / 300 / 400
        characters, ans@3 +0.0002 / +0.0002 / +0.0006, read@150 unchanged.)"""
        if kind is None or kind[0] is None:
            return False
        p = self.passages
        return (p.end[pid + 1] - p.start[pid] <= COMPLETED_MAX
                and not kind[1](texts(pid, pid)) and kind[1](texts(pid + 1, pid + 1)))

    def _copy_of(
        self, pid: int, runs: list[list[int]], facts: dict[int, tuple[int, int]],
        normals: dict[int, str], texts: PassageTexts,
    ) -> tuple[int, int] | None:
        """(quote, position in it) of a sentence quoted already with passage pid's text (see
        normal), if any. facts: each passage's (document, length); normals: the passages'
        normal texts found so far (a quoted sentence is compared with many)."""
        length = facts[pid][1]
        for i, run in enumerate(runs):
            for k, other in enumerate(run):
                # Whitespace and quote marks aside, the same text has about the same length.
                if 4 * abs(length - facts[other][1]) > length:
                    continue
                if _normal(pid, normals, texts) == _normal(other, normals, texts):
                    return i, k
        return None

    def _sources(
        self, run: list[int], others: list[tuple[int, int]], texts: PassageTexts,
    ) -> list[Source]:
        """The other documents holding the whole of run's text, each with its own offsets:
        a sentence matching the quote's k-th stands for the same number of sentences around
        it in its paragraph, and counts only if their text is the quote's too."""
        p, out = self.passages, []
        if not others:
            return out
        text = normal(texts(run[0], run[-1]))
        for other, k in others:
            first, last = other - k, other + len(run) - 1 - k
            if (first < 0 or last >= len(p)
                    or not p.para_id[first] == p.para_id[other] == p.para_id[last]
                    or normal(texts(first, last)) != text):
                continue
            doc = self.documents[int(p.doc[other])]
            out.append(Source(doc.collection, doc.rel, doc.label, int(p.paragraph[other]),
                              int(p.start[first]), int(p.end[last])))
        return out

    def _terms(self, pid: int, cache: dict[int, frozenset[str | int]]) -> frozenset[str | int]:
        """Passage pid's term ids, from the forward index."""
        if pid not in cache:
            cache[pid] = frozenset(self.index.terms_of(pid).tolist())
        return cache[pid]


def _normal(pid: int, cache: dict[int, str], texts: PassageTexts) -> str:
    """normal() of passage pid's text, kept in cache."""
    if pid not in cache:
        cache[pid] = normal(texts(pid, pid))
    return cache[pid]
