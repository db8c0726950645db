"""Question -> weighted terms: the question's own terms, the moderators' aliases of them, and
near spellings of its rare terms ("Seversk" also finds "Siversk")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.analysis import Analyzer
from bot.core.corpus import Corpus
from bot.core.model import AnswerSettings
from bot.core.spelling import NearSpellings

# "How long", "how many"...: the second word asks for a kind of answer, it is not a topic.
_QUESTION_PHRASES = re.compile(
    r"\bhow\s+(?:long|many|much|often|far|old|big|large|soon|late|early)\b", re.I
)


@dataclass(frozen=True)
class Query:
    """A question's terms. exact: its own terms and their aliases, with weights; near: each
    term's near spellings; weights: exact and the near spellings at spelling_weight of their
    term's weight (what is searched)."""

    exact: dict[str, float]
    near: dict[str, list[str]]
    weights: dict[str, float]


class QueryBuilder:
    def __init__(
        self,
        corpus: Corpus,
        analyzer: Analyzer,
        aliases: Mapping[str, Sequence[str]],
        settings: AnswerSettings,
    ) -> None:
        self.corpus, self.index, self.analyzer, self.settings = (
            corpus, corpus.index, analyzer, settings)
        self.aliases = alias_groups(aliases, analyzer)
        self._spellings = NearSpellings(self.index.vocab, table=corpus.deletions)
        self._terms_by_id = list(self.index.vocab)  # (ids are in insertion order)

    def query(self, question: str) -> Query:
        exact = self.terms(question, near=False)
        near = self.near_groups(exact)
        return Query(exact, near, self._with_near(exact, near))

    def terms(self, question: str, near: bool = True) -> dict[str, float]:
        """Question terms with their weights (a repeated term counts again, as in BM25Okapi);
        moderator aliases add the other spellings at full weight, near spellings of a rare
        term (unless near=False) at spelling_weight of its weight."""
        terms = self.analyzer.terms(_QUESTION_PHRASES.sub(" ", question))
        weights: dict[str, float] = dict(Counter(terms))
        for term in list(weights):
            for other in self.aliases.get(term, ()):
                weights.setdefault(other, weights[term])
        return self._with_near(weights, self.near_groups(weights)) if near else weights

    def _with_near(
        self, exact: dict[str, float], near: dict[str, list[str]]
    ) -> dict[str, float]:
        weights = dict(exact)
        for term, others in near.items():
            for other in others:
                weights.setdefault(other, exact[term] * self.settings.spelling_weight)
        return weights

    def near_groups(self, query: Mapping[str, float]) -> dict[str, list[str]]:
        """Corpus terms spelled nearly as each question term (see bot/core/spelling.py) that
        is rare in the corpus or absent: "Seversk" also finds "Siversk". A common term is
        left alone, since its near spellings are most often other words ("sever",
        "severe")."""
        if not self.settings.spelling_weight:
            return {}
        rare = max(self.settings.spelling_rare, self.index.n_docs // 1000)
        vocab, table = self.index.vocab, self.corpus.near
        out: dict[str, list[str]] = {}
        unknown = []  # terms the index lacks are looked up; the others' are in the table
        for term in query:
            if term not in vocab:
                unknown.append(term)
            elif self.index.df(term) > rare:
                continue
            elif (near := table.lookup(vocab[term])) is None:
                unknown.append(term)
            elif near:
                out[term] = [self._terms_by_id[i] for i in near]
        for term, near in self._spellings.lookup_many(unknown).items():
            out[term] = [other for other, _ in near]
        return {t: out[t] for t in query if t in out}


def alias_groups(
    aliases: Mapping[str, Sequence[str]], analyzer: Analyzer
) -> dict[str, tuple[str, ...]]:
    """term -> the terms of every other spelling in its group (aliases work both ways)."""
    out: dict[str, set[str]] = {}
    for name, others in aliases.items():
        group = {t for spelling in (name, *others) for t in analyzer.terms(spelling)}
        for term in group:
            out.setdefault(term, set()).update(group - {term})
    return {t: tuple(sorted(o)) for t, o in out.items()}
