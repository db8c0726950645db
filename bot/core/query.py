"""Question -> weighted terms: the question's own terms, the moderators' aliases of them, near
spellings of its rare terms ("Seversk" also finds "Siversk"), the derived forms of its
names ("Ukraine" also finds "Ukrainian") and the other forms of its irregular verbs ("wrote"
also finds "written")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.core.analysis import STOPWORDS, Analyzer, find_words
from bot.core.corpus import Corpus
from bot.core.irregular import OTHER_FORMS
from bot.core.kinds import AGE_PHRASE
from bot.core.model import AnswerSettings
from bot.core.spelling import NearSpellings

# "How long", "how many", "what time"...: the last word asks for a kind of answer, it is not
# a topic ("8pm every Friday"; 1 of SQuAD dev's 13 "what time" questions' answers says
# "time", 16 of 642 "how many" ones "many", the sentences answering "what year", "what
# date", "what month" say it 14 of 266, 0 of 16, 1 of 10 times, and chat ends on the word:
# "cup final date?"; but 9 of 24 "how old" ones say "old" and 5 of 14 "what day" ones "day",
# which stay); nor is "happens" in "what happens if...", which the answer seldom says (2 of
# its 55 such questions' paragraphs hold "happen"): "Mass pinging triggers a timeout".
_QUESTION_PHRASES = re.compile(
    r"\bhow\s+(?:long|many|much|often|far|big|large|soon|late|early)\b|"
    r"\bwhat\s+times?\b|"
    r"\b(?:what|which)\s+(?:years?|dates?|months?|nights?)\b|\bdates?\W*$|"
    r"\bwhat\s+(?:(?:will|would|could|does|did|can)\s+)?happen(?:s|ed)?\b", re.I
)


# The stopwords' contractions typed without their apostrophe, as chat writes them ("whats",
# "dont", "im"): in a question they are the stopwords they stand for, not words the corpus
# lacks, which count as its rarest (the 'll and 'd forms are left alone: "well", "ill" and
# "shed" are words of their own).
_BARE = sorted(w.replace("'", "") for w in STOPWORDS if re.search(r"'(?:s|t|m|ve|re)$", w))
_BARE_CONTRACTIONS = re.compile(r"\b(?:" + "|".join(_BARE) + r")\b", re.I)


# What chat adds to a question and no document answers: greetings, thanks, "please", fillers
# ("hey guys how do i get the role pls", "whos the chair rn"), "anything", "anyone" and their
# kin ("do we have to pay anything"; not "everyone", which a server's rules name:
# "@everyone"), and "u"/"r"/"ur"/"rn"/"atm"/"w" typed for "you"/"are"/"your"/"right now"/
# "at the moment"/"with" (lower case only: "the U in UCLA", "an RN on duty", "the ATM by the
# door"; "w" before a pronoun or article: "come w me"). Unknown to the corpus, each counted as
# its rarest word and the question was refused.
_CHAT = re.compile(
    r"\b(?:(?i:hi|hey|heya|hello|hiya|yo|guys|y'?all|please|pls|plz|thanks|thank you|thx|ty|"
    r"tysm|lol|lmao|haha+|omg|ugh+|ngl|lmk|btw|tbh|tbf|imo|idk|idc|fyi|um+|uh+|hmm+|okay|ok|"
    r"yeah|yep|nope|tho|gonna|wanna|gotta|kinda|sorta|literally|honestly|basically|actually|"
    r"like(?= \d)|"
    r"quick (?:question|q)|"
    r"i was wondering|i'?m wondering|"
    r"(?:does|do) (?:anyone|anybody|someone|somebody) know|can (?:you|u|someone|anyone) tell me|"
    r"anything|anyone|anybody|something|someone|somebody)"
    r"|u|r|ur|rn|atm|w(?= (?:me|my|u|you|us|them|him|her|the|a|an|ur|your)\b))\b")
# A run of letters: the words QueryBuilder._joined may write as one.
_LETTERS = re.compile(r"[^\W\d_]+")


# Chat's short forms of words documents write out ("how many ppl", "pfps", "my sub"): one the
# corpus lacks stands for those of its words here that the corpus holds (unknown, it counted
# as the corpus's rarest word, and the question was refused); "sub" may be any of three.
_SHORT_FORMS = {
    "ppl": "people", "pic": "picture photo image", "pics": "pictures photos images",
    "pfp": "profile picture avatar", "pfps": "profile pictures avatars", "msg": "message",
    "msgs": "messages", "dm": "message", "dms": "messages", "info": "information",
    "pw": "password", "pwd": "password", "acc": "account", "acct": "account",
    "min": "minimum minutes", "mins": "minutes", "max": "maximum", "hr": "hours",
    "hrs": "hours", "yr": "years",
    "yrs": "years", "wk": "weeks", "wks": "weeks", "temp": "temperature", "dmg": "damage",
    "sub": "subscription substitute subscriber", "subs": "subscriptions substitutes subscribers",
    "mod": "moderator", "mods": "moderators", "vc": "voice", "tmrw": "tomorrow",
    "tmr": "tomorrow", "bday": "birthday", "req": "requirement", "reqs": "requirements",
    "approx": "approximately", "diff": "difference", "pref": "preference",
    "xmas": "christmas", "mtg": "meeting", "mtgs": "meetings", "specs": "specifications",
    # Months and days of the week as chat shortens them ("is quiz night still feb 7th?");
    # not "mar", "sat", "sun", "wed": words of their own.
    "jan": "january", "feb": "february", "apr": "april", "jun": "june", "jul": "july",
    "aug": "august", "sept": "september", "oct": "october", "nov": "november",
    "dec": "december", "mon": "monday", "tue": "tuesday", "tues": "tuesday",
    "weds": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday",
    "fri": "friday",
}
_SHORT_FORM = re.compile(r"\b(?:" + "|".join(sorted(_SHORT_FORMS, key=len, reverse=True))
                         + r")\b", re.I)


# A name and the word derived from it differ, as Snowball stems, by one of these endings
# after the name's own final vowel, if any: ukrain/ukrainian, russia/russian, china/chines,
# japan/japanes, europ/european, itali/italian, germani/german (no ending).
DERIVED_ENDINGS = ("n", "an", "ian", "ean", "es", "ese", "i", "ic", "ish", "")
_VOWELS = "aeiouy"
_SHORTEST_NAME = 4  # a stem shorter than this is too often another word's beginning
_DERIVED_CACHE = 50_000


def derived_forms(term: str, vocab: Mapping[str, object]) -> list[str]:
    """The terms of vocab (a corpus's own vocabulary) derived from the name `term` or that it
    is derived from, by the rule of DERIVED_ENDINGS: "ukrain" -> ["ukrainian"], "russian"
    -> ["russia"]. No list of names: a pair counts only when both stems are in the corpus."""
    forms: set[str] = set()
    bases = {term, term[:-1]} if term[-1:] in _VOWELS else {term}
    for base in bases:
        if len(base) >= _SHORTEST_NAME:
            forms.update(base + ending for ending in DERIVED_ENDINGS)
    for ending in DERIVED_ENDINGS[:-1]:
        base = term[: -len(ending)]
        if term.endswith(ending) and len(base) >= _SHORTEST_NAME:
            forms.update(base + vowel for vowel in ("", *_VOWELS))
    forms.discard(term)
    return sorted(f for f in forms if f in vocab)


@dataclass(frozen=True)
class Query:
    """A question's terms. exact: its own terms and their aliases, with weights; near: each
    term's near spellings and, for a name, its derived forms (found, they count as finding
    it); weights: exact, the near spellings at spelling_weight of their term's weight and the
    derived forms at derived_weight (what is searched)."""

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
        self._derived: dict[str, list[tuple[str, list[str]]]] = {}

    def query(self, question: str) -> Query:
        exact = self.terms(question, near=False)
        near = self.near_groups(exact)
        derived = self.derived_groups(question, exact)
        weights = self._with_near(exact, near)
        for term, forms in derived.items():
            for form in forms:
                weights.setdefault(form, exact[term] * self.settings.derived_weight)
        for term, forms in derived.items():
            near[term] = list(dict.fromkeys((*near.get(term, ()), *forms)))
        return Query(exact, near, weights)

    def derived_groups(
        self, question: str, exact: Mapping[str, float]
    ) -> dict[str, list[str]]:
        """Each name of the question (a capitalised word's term) -> the corpus terms derived
        from it or it from them (see derived_forms), and each irregular verb's term -> its
        other forms' terms in the corpus ("wrote": "write", "written"); only terms the
        question does not hold."""
        if not self.settings.derived_weight:
            return {}
        out: dict[str, list[str]] = {}
        for word in find_words(question):
            if word[0].isupper():
                found = self._derived_of(word)
            elif word.lower() in OTHER_FORMS:
                found = self._verb_forms(word.lower())
            else:
                continue
            for term, forms in found:
                new = [f for f in forms if f not in exact]
                if new and term in exact and term not in out:
                    out[term] = new
        return out

    def _derived_of(self, word: str) -> list[tuple[str, list[str]]]:
        """A capitalised word's terms, each with its derived forms in the corpus; remembered,
        since the same names come back (forgotten all at once past _DERIVED_CACHE; a dict's
        get and set are atomic, so threads answering at once may share it)."""
        found = self._derived.get(word)
        if found is None:
            if len(self._derived) >= _DERIVED_CACHE:
                self._derived.clear()
            vocab = self.index.vocab
            found = [(t, derived_forms(t, vocab)) for t in self.analyzer.terms(word)]
            self._derived[word] = found
        return found

    def _verb_forms(self, word: str) -> list[tuple[str, list[str]]]:
        vocab = self.index.vocab
        forms = [t for other in OTHER_FORMS[word] for t in self.analyzer.terms(other)]
        return [(t, [f for f in dict.fromkeys(forms) if f in vocab and f != t])
                for t in self.analyzer.terms(word)]

    def terms(self, question: str, near: bool = True) -> dict[str, float]:
        """Question terms with their weights (a repeated term counts again, as in BM25Okapi);
        moderator aliases add the other spellings at full weight, near spellings of a rare
        term (unless near=False) at spelling_weight of its weight."""
        # (The age first: "my 10 yo" is no greeting, "im 15" no bare contraction.)
        question = AGE_PHRASE.sub(self._age_words, question)
        question = _CHAT.sub(" ", _BARE_CONTRACTIONS.sub(" ", question))
        question = _SHORT_FORM.sub(self._written_out, question)
        question = self._joined(question)
        # ("how old do i have to be": with nothing but the phrase to search, its word is.)
        terms = (self.analyzer.terms(_QUESTION_PHRASES.sub(" ", question))
                 or self.analyzer.terms(question))
        weights: dict[str, float] = dict(Counter(terms))
        for term in list(weights):
            for other in self.aliases.get(term, ()):
                weights.setdefault(other, weights[term])
        return self._with_near(weights, self.near_groups(weights)) if near else weights

    def _joined(self, question: str) -> str:
        """question with two words written as one where the corpus writes them so and lacks
        one of them ("key fob": "The keyfob deposit is £15"): unknown, that word counted as
        the corpus's rarest, and the question was refused."""
        vocab, terms = self.index.vocab, self.analyzer.terms
        if all(t in vocab for t in terms(question)):  # (most questions: nothing to join)
            return question
        words = list(_LETTERS.finditer(question))
        known = [all(t in vocab for t in terms(w[0])) for w in words]
        out, at = [], 0
        for k, (first, second) in enumerate(pairwise(words)):
            if (known[k] and known[k + 1]) or first.start() < at or question[
                    first.end() : second.start()] not in (" ", "-"):
                continue
            joined = terms(first[0] + second[0])
            if len(joined) == 1 and joined[0] in vocab:
                out.append(question[at : first.start()] + first[0] + second[0])
                at = second.end()
        return "".join(out) + question[at:] if out else question

    def _age_words(self, phrase: re.Match[str]) -> str:
        """An age the question gives ("my 14 year old") stands for the word "age" where the
        corpus holds it: its number and "year" are seldom what a rule of age says ("under 16s
        must be accompanied"), and matched "14 miles" and "the club year"."""
        held = any(t in self.index.vocab for t in self.analyzer.terms("age"))
        return " age " if held else " "

    def _written_out(self, short: re.Match[str]) -> str:
        """A short form's words the corpus holds, when it lacks the short form itself."""
        vocab = self.index.vocab
        word = short.group(0)
        if any(t in vocab for t in self.analyzer.terms(word)):
            return word
        held = [w for w in _SHORT_FORMS[word.lower()].split()
                if any(t in vocab for t in self.analyzer.terms(w))]
        return " ".join(held) or word

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
