"""What the core's stages pass between them and hand back: the settings, Answer, Quote, Source
and the reason codes of a refusal. No logic beyond turning an answer into JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

# Why an Answer has no quotes. These are codes, not text: the shell picks the fixed phrase.
NO_TERMS = "no_terms"  # nothing searchable in the question ("what is it?")
NO_MATCH = "no_match"  # nothing in the documents scores above the threshold
UNAVAILABLE = "unavailable"  # the search backend (remote shards) could not be reached


class SearchUnavailable(Exception):
    """The first stage cannot search right now (a shard server down or refused); str() says
    why, for the log. The answer is then a refusal with reason UNAVAILABLE."""


# How many quotes an answer holds: the one default and the one range of the engine, the
# CLI's --top-k, and config's `top_k:` (retrieval, guild defaults, a guild's own file).
TOP_K = 3
TOP_K_RANGE = (1, 10)


def check_top_k(value: int) -> int:
    """value, or ValueError (saying what to pass) when it is outside TOP_K_RANGE."""
    lo, hi = TOP_K_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"top_k must be a whole number from {lo} to {hi}, got {value!r}")
    return value


@dataclass(frozen=True)
class IndexSettings:
    """What a built (and saved) index depends on: BM25's k1, b and epsilon."""

    # Tuned on SQuAD v1.1 dev, even articles (`quotebot eval`): sentences are short, so term
    # frequency saturates early.
    k1: float = 0.6
    b: float = 0.75
    epsilon: float = 0.25


@dataclass(frozen=True)
class AnswerSettings:
    """Every knob of answering a question over a built index."""

    top_k: int = TOP_K
    # Minimum confidence (0..1, see confidence.Confidence.of) of the best quote for
    # an answer.
    threshold: float = 0.4
    # A sentence's score adds: this share of each neighbouring sentence's BM25 score; and,
    # in IDF units, the question terms found anywhere in its paragraph and in its document's
    # label (title), each times its weight here.
    neighbour_weight: float = 0.3
    paragraph_terms: float = 1.5
    title_terms: float = 1.0
    # The best `type_candidates` sentences that hold what the question asks for (a date for
    # "when", a number for "how many", a name for "who") score this share more.
    type_weight: float = 0.1
    type_candidates: int = 20
    # A quote from a document not yet quoted is preferred while its score is at least this
    # share of the best remaining quote's, and it holds this share of the question
    # (confidence.py).
    diversity: float = 0.75
    diversity_coverage: float = 0.8
    # The first stage's best this many candidates (by context score) are all the answer path
    # looks at: the reranker takes the first `rerank`, the quotes and "More" pages the rest.
    # 50 for 200 (session 19): every answer of bench/same_answers.py the same (13,570, "More"
    # pages and a collection's alone included), 4-5% off the whole answer at 1M passages
    # (bench/stages.py, both orders), a higher floor for what the first stage may leave out.
    candidates: int = 50
    # A term in more passages than this, or than 0.2% of them where that is more (a common
    # word of a large corpus), is scored only in and around the passages a rarer question
    # term matched, when one did (FirstStage.score); 0 scores every term everywhere. SQuAD's
    # most widespread term is in 543 sentences. Against full scoring, over 400 synthetic
    # questions: at 100k passages (limit 1,000) 398 top quotes and 388 whole answers the
    # same (2,000: 398 and 391), at 1M (limit 2,000) 397 and 385; no refusal either way.
    common_postings: int = 1_000
    # When every question term is common, the one whose score (with its context share) can
    # add least is scored only in the paragraphs the others matched, if that provably keeps
    # the best `candidates` (prune.Planner.plan); False scores every term everywhere.
    prune_common: bool = True
    # From this many passages on, the first stage's inner loops run compiled by numba
    # (bot/core/kernels.py; the same scores to the last bit); 0: always. numba's import
    # costs about a second and 100 MB, which a small index does not win back.
    compiled_from: int = 200_000
    # Near spellings of a rare question term (in at most max(spelling_rare, 0.1% of the
    # passages)) are searched too, at this share of its weight; 0 turns this off.
    spelling_weight: float = 0.7
    spelling_rare: int = 10
    # A name's derived forms in the corpus ("Ukraine": "Ukrainian", see query.derived_forms)
    # are searched too, at this share of its weight; 0 turns this off.
    derived_weight: float = 0.3
    # The best this many candidates are reordered by bot/core/rerank.py's fitted linear
    # score (features and weights there, fitted at this depth); 0 turns it off.
    rerank: int = 25

    def __post_init__(self) -> None:
        check_top_k(self.top_k)


@dataclass(frozen=True)
class RetrievalSettings(AnswerSettings, IndexSettings):
    """config/bot.yaml's `retrieval:` section: the index's settings and the answer path's, one
    key a field. The engine builds an index with `.index` and answers with the rest."""

    @property
    def index(self) -> IndexSettings:
        return IndexSettings(**{f.name: getattr(self, f.name) for f in fields(IndexSettings)})


@dataclass(frozen=True)
class Source:
    """Another document holding a quote's text (whitespace and typographic quotes aside), and
    where: its own text[start:end] is the quote, so the claim can be checked like a quote."""

    collection: str
    document: str
    label: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True)
class Location:
    """Where a reader finds a quote: its page (PDF) and the heading of its section (HTML,
    DOCX, Markdown, PDF), the paragraph counted from the later of that page's and section's
    start (from the document's start where neither is known; None for the heading itself),
    and a link that opens the document's http(s) source at the quote (`url` is that source
    alone). A heading that is the document's label (a page's title) is not named twice:
    None."""

    page: int | None = None
    heading: str | None = None
    paragraph: int | None = None
    url: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Quote:
    text: str
    document: str  # path relative to the corpus folder
    label: str
    paragraph: int
    start: int
    end: int
    score: float
    collection: str = ""
    also: tuple[Source, ...] = ()  # other documents holding the same text
    location: Location | None = None  # None: the paragraph number is all that is known

    def to_json(self) -> dict:
        out = {
            "text": self.text,
            "collection": self.collection,
            "document": self.document,
            "label": self.label,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
        }
        if (where := self.location) is not None:
            known = {"page": where.page, "heading": where.heading, "link": where.link}
            out.update((k, v) for k, v in known.items() if v is not None)
        if self.also:
            out["also"] = [asdict(s) for s in self.also]
        return out


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    reason: str | None = None  # NO_TERMS or NO_MATCH when not answered
    confidence: float = 0.0
    more: bool = False  # further quotes exist past these (for a "More" button)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "quotes": [q.to_json() for q in self.quotes],
        }
