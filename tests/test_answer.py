from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbatim import assert_answer_verbatim

from bot.core.answer import Engine
from bot.core.documents import parse_document
from bot.core.model import NO_MATCH, NO_TERMS, RetrievalSettings
from bot.core.quotes import _TYPOGRAPHIC, normal
from bot.library import build_library

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SIVERSK = "004_d8fea167cf4fdeb7.txt"
SEVERSK = "000_dcb24eba52aa9a74.txt"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return build_library([("seeds", SEEDS)], aliases={}).engine


def ask(engine: Engine, question: str, **kw) -> dict:
    answer = engine.answer(question, **kw).to_json()
    assert_answer_verbatim(answer, SEEDS)
    return answer


def test_withdrawal_question_quotes_the_general_staff(engine: Engine) -> None:
    answer = ask(engine, "Who announced the withdrawal from Siversk?")
    assert answer["answered"]
    hits = [q for q in answer["quotes"] if "The Ukrainian General Staff confirmed" in q["text"]]
    assert hits and hits[0]["document"] == SIVERSK
    assert hits[0]["label"] == "Siversk falls after Ukrainian withdrawal"
    assert hits[0]["paragraph"] == 1


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What is the boiling point of mercury?", NO_MATCH),
        ("what is it?", NO_TERMS),
        ("", NO_TERMS),
        ("?!?", NO_TERMS),
        ("photosynthesis chlorophyll", NO_MATCH),
    ],
)
def test_abstains(engine: Engine, question: str, reason: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered and answer.quotes == () and answer.reason == reason
    assert answer.to_json() == {"question": question, "answered": False, "quotes": []}


def test_quotes_from_both_sources_when_both_speak(engine: Engine) -> None:
    answer = ask(engine, "How long has the fighting gone on?")
    assert {q["document"] for q in answer["quotes"]} == {SIVERSK, SEVERSK}


def test_top_k_offset_and_more(engine: Engine) -> None:
    first = engine.answer("Russian forces capture town", top_k=2)
    assert len(first.quotes) == 2 and first.more
    nxt = engine.answer("Russian forces capture town", top_k=2, offset=2)
    # "More" shows what a longer answer would have shown next, and repeats nothing.
    assert engine.answer("Russian forces capture town", top_k=4).quotes == (
        first.quotes + nxt.quotes)
    shown = {(q.document, q.start) for q in first.quotes}
    assert len(nxt.quotes) == 2 and not shown & {(q.document, q.start) for q in nxt.quotes}


def test_collections_filter(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.txt").write_text("The secret Siversk plan is codenamed Bluebird.")
    engine = build_library([("seeds", SEEDS), ("private", private)]).engine
    assert engine.answer("Bluebird plan", collections={"private"}).answered
    public = engine.answer("Bluebird plan", collections={"seeds"})
    assert all(q.collection == "seeds" for q in public.quotes)
    assert not any("Bluebird" in q.text for q in public.quotes)


def test_paragraph_context_is_verbatim(engine: Engine) -> None:
    quote = engine.answer("Who announced the withdrawal from Siversk?").quotes[0]
    para = engine.paragraph(quote.collection, quote.document, quote.paragraph)
    assert para is not None and quote.text in para.text
    text = (SEEDS / para.document).read_text(encoding="utf-8-sig")
    assert text[para.start : para.end] == para.text
    assert engine.paragraph("seeds", SIVERSK, 99) is None


def test_identical_sentences_shown_once_with_both_labels(tmp_path: Path) -> None:
    for name, extra in (("a.txt", "Apples grow in Kent."), ("b.txt", "Pears grow in Essex.")):
        (tmp_path / name).write_text(f"The harbour closed on Monday after the storm. {extra}")
    # Enough other passages that the shared terms keep a positive IDF (see STYLE.md traps).
    (tmp_path / "c.txt").write_text(" ".join(f"Filler sentence number {i}." for i in range(12)))
    engine = build_library([("c", tmp_path)]).engine
    quotes = engine.answer("When did the harbour close after the storm?").quotes
    assert len([q for q in quotes if "harbour" in q.text]) == 1
    top = quotes[0]
    assert {top.document, *(s.document for s in top.also)} == {"a.txt", "b.txt"}



def test_aliases_match_other_spellings() -> None:
    engine = build_library([("seeds", SEEDS)], aliases={"Siversk": ["Seversk"]}).engine
    answer = engine.answer("What did the Cossacks claim about Siversk?")
    assert answer.quotes[0].document == SEVERSK and "Cossack" in answer.quotes[0].text


WORDS = (
    "Siversk Seversk Russian forces Ukraine General Staff capture war the of what who when "
    "‘stormed’ fortress belt Donbas 2.5 years @everyone <@123>"
).split()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.lists(
    st.sampled_from(WORDS),
    max_size=12,
).map(" ".join))
def test_every_answer_is_verbatim(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert_answer_verbatim(answer.to_json(), SEEDS)
    assert len(answer.quotes) <= engine.settings.top_k


# Sentences that documents share, copy with other spacing or quote marks, or change a figure
# of: the cases "also in" must tell apart.
SHARED = (
    "The governor said the “harbour” closed after 12 ships sank.",
    "Rescue crews searched the harbour at dawn.",
    "The port’s cranes were damaged in the storm.",
    "Officials said the harbour would reopen in 2026.",
)


def _variant(sentence: str, how: int) -> str:
    if how == 1:  # straight quotes and wider spacing: the same text
        return (sentence.replace("“", '"').replace("”", '"').replace("’", "'")
                .replace(" the ", "  the "))
    if how == 2:  # another figure: not the same text
        return sentence.replace("12", "15").replace("2026", "2027")
    return sentence


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F) | st.sampled_from(
    "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2033\u02bc\u00a0\u2003\u00e9"), max_size=40))
def test_normal_text_reads_typographic_quotes_as_ascii(text: str) -> None:
    # ASCII text skips the table (no typographic mark is ASCII): both ways give one answer.
    assert normal(text) == " ".join(text.translate(_TYPOGRAPHIC).split())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.integers(0, len(SHARED) - 1), st.integers(0, 2)),
                      min_size=1, max_size=4), min_size=2, max_size=4),
    st.lists(st.sampled_from("governor harbour closed ships sank crews dawn cranes storm "
                             "reopen 2026 15 port when how many".split()), min_size=1,
             max_size=6).map(" ".join),
)
def test_quotes_and_their_also_sources_are_verbatim(layout, question: str) -> None:
    texts = {f"d{i}.txt": "\n\n".join(_variant(SHARED[k], how) for k, how in doc)
             for i, doc in enumerate(layout)}
    texts |= {f"f{i}.txt": f"Filler sentence number {i} about nothing." for i in range(8)}
    engine = Engine([parse_document(t, "c", rel, Path(rel)) for rel, t in texts.items()])
    for quote in engine.answer(question, top_k=5).quotes:
        assert texts[quote.document][quote.start : quote.end] == quote.text
        for other in quote.also:
            held = texts[other.document][other.start : other.end]
            assert other.document != quote.document
            assert _plain(held) == _plain(quote.text), (quote, other)
            assert held.count("15") == quote.text.count("15")  # (a changed figure is not held)


def _plain(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").split())


# --- the fast answer path gives what the straightforward one gives ---------------------------


def _synthetic_documents(count: int = 12, seed: int = 3) -> list:
    """Documents of many short sentences over a small vocabulary, so that a question matches
    far more passages than RetrievalSettings.candidates and neighbours overlap."""
    import random

    from bot.core.documents import parse_document

    rng = random.Random(seed)
    words = [f"w{chr(97 + i)}{chr(97 + j)}" for i in range(8) for j in range(8)]
    docs = []
    for d in range(count):
        paragraphs = []
        for _ in range(12):
            sentences = [
                " ".join(rng.choice(words) for _ in range(rng.randint(3, 9))).capitalize() + "."
                for _ in range(rng.randint(1, 6))
            ]
            paragraphs.append(" ".join(sentences))
        text = "\n\n".join(paragraphs) + "\n"
        docs.append(parse_document(text, f"c{d % 2}", f"d{d}.txt", Path(f"d{d}.txt"),
                                   {"label": f"{words[d]} report"}))
    return docs


def _reference_context(engine: Engine, query: dict[str, float]) -> dict[int, float]:
    """Context scores of every matching passage and its neighbours, computed passage by
    passage the slow way (the definition FirstStage.score implements)."""
    s, p, index = engine.settings, engine.passages, engine.index
    bm25 = index.get_scores([])
    para_mass: dict[int, float] = {}
    title = [0.0] * len(engine.documents)
    for term, qw in query.items():
        ids, w = index.postings(term)
        bm25[ids] += w * qw
        mass = max(index.term_idf(term), 0.0) * qw
        for para in sorted(set(p.para_id[ids].tolist())):
            para_mass[para] = para_mass.get(para, 0.0) + mass
        for i, doc in enumerate(engine.documents):
            if term in engine.analyzer.terms(doc.label):
                title[i] += mass
    matched = {i for term in query for i in index.postings(term)[0].tolist()}
    around = set(matched)
    for i in matched:
        around |= {j for j in (i - 1, i + 1) if 0 <= j < len(p) and p.para_id[j] == p.para_id[i]}
    out = {}
    for i in around:
        c = bm25[i]
        for j in (i - 1, i + 1):
            same = 0 <= j < len(p) and p.para_id[j] == p.para_id[i]
            c += s.neighbour_weight * (bm25[j] if same else 0.0)
        c += s.paragraph_terms * para_mass.get(int(p.para_id[i]), 0.0)
        c += s.title_terms * title[int(p.doc[i])]
        out[i] = c
    return out


@pytest.mark.parametrize("candidates", [3, 20, 10_000])
@pytest.mark.parametrize("question", ["waa wbb wcc", "wab wab whh wqq", "wdd report", "wee"])
def test_candidates_are_the_best_by_context(candidates: int, question: str) -> None:
    """Left-out passages (pruned by the bound in _with_neighbours) never belong to the best."""
    from dataclasses import replace

    from bot.core.model import RetrievalSettings

    settings = replace(RetrievalSettings(), candidates=candidates, type_weight=0.0, rerank=0)
    engine = Engine(_synthetic_documents(), settings)
    query = engine.query_terms(question)
    expected = _reference_context(engine, query)
    assert len(expected) > 3 * 3  # far more than the smallest candidates
    ids, _, scores = engine.first.candidates(query, None, question)  # (rerank=0)
    best = sorted(expected.items(), key=lambda x: (-x[1], x[0]))[:candidates]
    assert ids.tolist() == [i for i, _ in best]
    assert scores.tolist() == pytest.approx([c for _, c in best], rel=1e-12)


def test_collections_filter_keeps_the_best_of_the_collection() -> None:
    from dataclasses import replace

    from bot.core.model import RetrievalSettings

    settings = replace(RetrievalSettings(), candidates=5, type_weight=0.0, rerank=0)
    engine = Engine(_synthetic_documents(), settings)
    query = engine.query_terms("waa wbb")
    allowed = engine.collections.index("c1")
    expected = {i: c for i, c in _reference_context(engine, query).items()
                if engine.passages.collection[i] == allowed}
    ids, _, _ = engine.first.candidates(query, {"c1"}, "waa wbb")  # (rerank=0)
    best = sorted(expected.items(), key=lambda x: (-x[1], x[0]))[:5]
    assert ids.tolist() == [i for i, _ in best]


def test_answers_are_the_same_from_many_threads() -> None:
    """Each thread scores in its own buffers, and leaves them clean."""
    from concurrent.futures import ThreadPoolExecutor

    engine = Engine(_synthetic_documents())
    questions = [f"w{a}{b} w{b}{a} report" for a in "abcdefgh" for b in "abcd"]
    alone = [engine.answer(q) for q in questions]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(engine.answer, questions * 3))
    assert together == alone * 3
    buffers = engine.first.buffers()
    assert not buffers.scores.any() and not buffers.paragraphs.any()


def test_common_terms_are_scored_only_around_the_rarer_terms_matches() -> None:
    """A term in more than `common_postings` passages adds to the passages a rarer question
    term matched (and their neighbours) exactly as a full scoring would, and a passage that
    holds only the common term is no candidate; a question of common terms only is scored
    in full."""
    texts = {f"f{i}.txt": f"The harbour was quiet on day {i}." for i in range(8)}
    texts["a.txt"] = "The harbour crane was built by Krupp. The crane lifted boats in the harbour."
    docs = [parse_document(t, "c", rel, Path(rel), {"label": "x"}) for rel, t in texts.items()]
    full = Engine(docs, replace(RetrievalSettings(), threshold=0.0, common_postings=0))
    pruned = Engine(full.corpus, replace(full.settings, common_postings=4))
    assert full.index.df("harbour") > 4 >= full.index.df("crane")
    query = full.query_terms("Who built the harbour crane?")
    ids_full, bm25_full, ctx_full = full.first.candidates(query, None, "")
    ids, bm25, ctx = pruned.first.candidates(query, None, "")
    a = next(i for i, d in enumerate(pruned.documents) if d.rel == "a.txt")
    assert set(pruned.passages.doc[ids].tolist()) == {a}
    exact = {int(i): (b, c) for i, b, c in zip(ids_full, bm25_full, ctx_full, strict=True)}
    assert [exact[int(i)] for i in ids] == list(zip(bm25, ctx, strict=True))
    assert len(ids_full) > len(ids)
    common_only = full.query_terms("harbour")
    assert [x.tolist() for x in pruned.first.candidates(common_only, None, "")] == [
        x.tolist() for x in full.first.candidates(common_only, None, "")]


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("onetwhfivx12090s _-'.,CcenturJanuaryMAY1999sé٣"
                                             ":apmPMFridyS")), max_size=40))
def test_answer_kind_tests_equal_their_patterns(text: str) -> None:
    # The date and number cues read word runs of ASCII text instead of running the patterns
    # (a number past a numbered rule's label: "6.1 " alone holds none).
    from bot.core import kinds

    assert kinds.has_kind("date", text, set()) == bool(kinds.DATE_PATTERN.search(text))
    assert kinds.has_kind("number", text, set()) == bool(
        kinds.NUMBER_PATTERN.search(kinds.CLAUSE_LABEL.sub("", text, count=1)))
