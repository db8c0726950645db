"""Answer quality beyond plain BM25: near spellings, several sources, near-duplicates, and an
abstention threshold that means the same on a small corpus and a large one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from verbatim import assert_answer_verbatim

from bot.core.answer import Engine
from bot.core.documents import parse_document
from bot.core.model import RetrievalSettings
from bot.core.spelling import NearSpellings, NearTable, edit_distance, max_edits
from bot.library import build_library

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SIVERSK = "004_d8fea167cf4fdeb7.txt"
SEVERSK = "000_dcb24eba52aa9a74.txt"
SQUAD = ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json"


@pytest.fixture(scope="module")
def seeds() -> Engine:
    return build_library([("seeds", SEEDS)], aliases={}).engine


def spellings_of(table: NearSpellings, term: str) -> list[tuple[str, int]]:
    """term's near spellings in table, nearest first."""
    return table.lookup_many([term]).get(term, [])


# Enough other passages that a question's terms keep a positive IDF (see STYLE.md traps).
FILLER = {f"f{i}.txt": f"Filler sentence number {i} about nothing." for i in range(12)}


def one_document(text: str) -> Engine:
    return Engine(docs({**FILLER, "a.txt": text}))


def docs(texts: dict[str, str]):
    return [parse_document(t, "c", rel, Path(rel), {"label": rel}) for rel, t in texts.items()]


# --- near spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "document", "words"),
    [
        ("What did Ukraine's General Staff say about Seversk?", SIVERSK, "General Staff"),
        ("What did the Cossacks claim about Siversk?", SEVERSK, "Cossack"),
    ],
)
def test_near_spelling_finds_the_other_spelling_without_aliases(
    seeds: Engine, question: str, document: str, words: str
) -> None:
    answer = seeds.answer(question).to_json()
    assert_answer_verbatim(answer, SEEDS)
    top = answer["quotes"][0]
    assert top["document"] == document and words in top["text"]


def test_near_spelling_weighs_less_than_the_exact_term(seeds: Engine) -> None:
    weights = seeds.query_terms("Siversk")
    assert weights["siversk"] == 1 and 0 < weights["seversk"] < 1
    assert "seversk" not in Engine(seeds.corpus, RetrievalSettings(spelling_weight=0)).query_terms(
        "Siversk"
    )


def test_near_spelling_skips_short_and_common_words() -> None:
    filler = {f"f{i}.txt": f"The river crossing number {i} was quiet." for i in range(30)}
    engine = Engine(docs({**filler, "x.txt": "The rivet factory closed. Cats nap."}))
    # "river" is in every passage: common, so "rivet" is not searched for it.
    assert "rivet" not in engine.query_terms("river")
    assert engine.query_terms("cat") == {"cat": 1}  # under five letters: exact only


def test_spelling_table_distances() -> None:
    table = NearSpellings(["siversk", "kramatorsk", "sever", "donbas", "kramatorskiy"])
    assert spellings_of(table, "seversk") == [("siversk", 1)]
    assert spellings_of(table, "donbass") == [("donbas", 1)]
    # Two letters fewer is found; two more is the table's accepted gap (bot/core/spelling.py).
    assert ("kramatorsk", 2) in spellings_of(table, "kramatorskiy")
    assert spellings_of(table, "kramtorsk") == [("kramatorsk", 1)]  # one letter dropped
    assert spellings_of(table, "sevrsk") == []  # too short for the two edits it would take
    assert spellings_of(table, "dogs") == []
    assert (max_edits("cat"), max_edits("donbas"), max_edits("kramatorsk")) == (0, 1, 2)
    assert edit_distance("siversk", "sievrsk", 1) == 1  # neighbours swapped: one edit
    assert edit_distance("abcdef", "uvwxyz", 2) == 3


def test_near_spellings_of_long_and_accented_terms() -> None:
    long = "a" * 70 + "bcd"  # past the cached deletion plans: hashed one string at a time
    table = NearSpellings(["kraków", "krakow", long, long[:-1] + "x"])
    assert spellings_of(table, "krakuw") == [("krakow", 1), ("kraków", 1)]
    assert spellings_of(table, long) == [(long[:-1] + "x", 1)]
    # A word longer than any corpus term by more than two letters is answered at once (its
    # two-letter deletions alone would be 12 million strings).
    assert spellings_of(table, "z" * 5000) == []
    assert edit_distance("abcdef", "abdcef", 1) == 1  # a swap inside common ends
    assert edit_distance("xaaay", "xbbby", 2) == 3


def test_near_table_equals_lookups_and_leaves_crowds_to_them() -> None:
    crowd = [f"tide{i}" for i in range(400)]  # each within two edits of dozens of others
    words = ["siversk", "seversk", "kramatorsk", "kramatorskiy", "donbas", "donbass",
             "kraków", "krakow", "cat", "9lives", "a" * 70 + "b", "a" * 70 + "c", *crowd]
    table = NearTable.build(words)
    live = NearSpellings(words)
    left = 0
    for i, word in enumerate(words):
        near = table.lookup(i)
        if near is None:
            left += 1
        else:
            assert [words[j] for j in near] == [w for w, _ in spellings_of(live, word)], word
    assert table.lookup(words.index("seversk")) == [words.index("siversk")]
    assert left >= len(crowd) // 2  # the crowd is left to lookups, which still find it
    engine = Engine(docs({"a.txt": " ".join(crowd[:200]) + ".", "b.txt": "The tide4000 turns."}))
    assert "tide4000" in engine.query_terms("What did tide400 do?")


def test_a_refusal_is_what_the_reranked_best_quote_would_say() -> None:
    """The answer is refused before reranking only when no candidate reranking could put
    first reaches the threshold: answered exactly when the best quote's confidence does."""
    engine = Engine(docs({**TOPICS, **_filler(200)}))
    probe = Engine(engine.corpus, RetrievalSettings(threshold=0.0))
    pool = ("market council harvest season railway museum festival garden library etna lava "
            "slope viaduct pylon valley violins varnish chemists sonata tower").split()
    questions = [*(" ".join(random.Random(i).sample(pool, 3)) for i in range(60)),
                 "How far did the lava flow from Etna?", "Who composed the Moonlight Sonata?",
                 "Millau viaduct museum", "violin varnish harvest"]
    answered = 0
    for question in questions:
        best = probe.answer(question)
        answer = engine.answer(question)
        assert answer.answered == (best.confidence >= engine.settings.threshold), question
        if answer.answered:
            answered += 1
            assert answer.quotes == best.quotes[: len(answer.quotes)]
        else:
            assert answer.confidence >= best.confidence - 1e-12
    assert 0 < answered < len(questions)


# --- a place and its adjective -------------------------------------------------------------


PLACES = {
    **FILLER,
    "a.txt": "Ukrainian forces denied the claim about the bridge.",
    "b.txt": "The mayor denied the claim about the bridge.",
    "c.txt": "Russia said the grain talks had failed.",
    "d.txt": "The grain talks failed.",
    "e.txt": "China signed the harbour deal in March.",
    "f.txt": "Chinese firms signed the harbour deal in March.",
    "g.txt": "China sold the copper mine.",
    "h.txt": "The copper mine was sold.",
}


@pytest.mark.parametrize(("question", "document"), [
    ("Did Ukraine deny the claim about the bridge?", "a.txt"),
    ("Did the Russian grain talks fail?", "c.txt"),  # (near spellings find this one too)
    ("Was the copper mine sold to Chinese buyers?", "g.txt"),
    ("Who signed the Chinese harbour deal?", "f.txt"),  # exact beats derived
    ("Did China sign the harbour deal?", "e.txt"),
])
def test_a_place_finds_its_adjective_and_the_other_way_round(question: str, document: str) -> None:
    engine = Engine(docs(PLACES))
    assert engine.answer(question).quotes[0].document == document


def test_derived_forms_come_from_the_corpus_vocabulary_and_weigh_less() -> None:
    engine = Engine(docs(PLACES))
    weights = engine.query.query("Did Ukraine deny it?").weights
    assert weights["ukrainian"] < weights["ukrain"]
    # A lower-case word is no name, and a form the corpus lacks is not searched.
    assert "ukrainian" not in engine.query.query("Did ukraine deny it?").weights
    assert "german" not in engine.query.query("Did Germany deny it?").weights


VERBS = {
    **FILLER,
    "a.txt": "The harbour charter was written by the town clerk in winter.",
    "b.txt": "The town clerk wrote letters about the harbour.",
    "c.txt": "The miners moved the ore to the smelter by boat.",
    "d.txt": "The miners took the ore to the smelter by cart.",
}


@pytest.mark.parametrize(("question", "document"), [
    ("Who wrote the harbour charter?", "a.txt"),
    ("How was the ore taken to the smelter?", "d.txt"),
])
def test_an_irregular_verb_finds_its_other_forms(question: str, document: str) -> None:
    engine = Engine(docs(VERBS))
    quotes = engine.answer(question).quotes
    assert all(VERBS[q.document][q.start : q.end] == q.text for q in quotes)
    assert quotes[0].document == document


def test_a_verbs_other_forms_weigh_less_and_come_from_the_corpus() -> None:
    weights = Engine(docs(VERBS)).query.query("Who wrote the charter?").weights
    assert weights["written"] < weights["wrote"]
    assert "writ" not in weights and "write" not in weights  # not in the corpus


# --- several sources and duplicates --------------------------------------------------------


def test_both_documents_quoted_when_both_speak(seeds: Engine) -> None:
    answer = seeds.answer("How long has the fighting gone on?")
    assert {q.document for q in answer.quotes} == {SIVERSK, SEVERSK}


def test_a_neighbour_without_a_question_term_does_not_join_the_quote(seeds: Engine) -> None:
    quotes = seeds.answer("How long has the fighting gone on?").quotes
    siversk = [q.text for q in quotes if q.text.startswith("The fight for Siversk")]
    assert siversk and "In conjunction with the ground offensive" not in siversk[0]


def test_the_answering_sentence_is_quoted_alone_and_first() -> None:
    engine = one_document("The lighthouse keeper rowed to the island. The keeper lit the "
                          "lighthouse lamp at dusk. Gulls nested on the cliffs.")
    top = engine.answer("When did the lighthouse keeper light the lamp?").quotes[0]
    assert top.text == "The keeper lit the lighthouse lamp at dusk."


def test_a_following_sentence_holding_the_rest_of_the_question_joins_the_quote() -> None:
    engine = one_document("The lighthouse keeper lit the great lamp. Dusk had fallen over the bay. "
                          "Gulls nested on the cliffs.")
    top = engine.answer("Did the lighthouse keeper light the lamp at dusk?").quotes[0]
    assert top.text == "The lighthouse keeper lit the great lamp. Dusk had fallen over the bay."


def test_a_sentence_leaning_on_the_one_before_brings_it_when_the_answer_is_there() -> None:
    engine = one_document("Tom Baker kept the old tower for forty years. He lit the "
                          "lighthouse lamp at dusk in 1901. Gulls nested on the cliffs.")
    who = engine.answer("Who lit the lighthouse lamp?").quotes[0]
    assert who.text.startswith("Tom Baker kept the old tower") and who.text.endswith("1901.")
    # Asked when, the sentence holds the answer itself: quoted alone.
    when = engine.answer("When was the lighthouse lamp lit?").quotes[0]
    assert when.text == "He lit the lighthouse lamp at dusk in 1901."


def test_a_sentence_lacking_the_kind_asked_for_brings_the_next_that_holds_it() -> None:
    text = ("Local businesses can sponsor a raffle prize or a stall at the fete. Contact Raj "
            "Mistry, our treasurer, to book. Gulls nested on the cliffs.")
    engine = one_document(text)
    who = engine.answer("who do i talk to about sponsoring a stall at the fete").quotes[0]
    assert who.text == text[: text.index(" Gulls")]
    # Asked for no kind, or for one the sentence holds itself, it is quoted alone.
    alone = "Local businesses can sponsor a raffle prize or a stall at the fete."
    assert engine.answer("can businesses sponsor a stall at the fete").quotes[0].text == alone
    dated = one_document("The fete runs on 14 June at the school. Contact Raj Mistry to book.")
    assert dated.answer("When is the fete at the school?").quotes[0].text == (
        "The fete runs on 14 June at the school.")
    # Not past COMPLETED_MAX characters together.
    long = one_document("Local businesses can sponsor a raffle prize or a stall at the fete. "
                        + "Contact Raj Mistry" + ", our treasurer" * 30 + ".")
    assert long.answer("who do i talk to about sponsoring a stall at the fete").quotes[0].text == (
        alone)


def test_a_weak_match_from_another_document_does_not_jump_the_queue() -> None:
    engine = Engine(docs({
        **FILLER,
        "a.txt": "The harbour crane lifted the red boat.\n\nThe harbour crane lifted the blue "
                 "boat.\n\nThe harbour crane lifted a green boat.",
        "b.txt": "A crane is a bird.",
    }), RetrievalSettings(diversity=0.1))
    quotes = engine.answer("Which boat did the harbour crane lift?", top_k=2).quotes
    assert [q.document for q in quotes] == ["a.txt", "a.txt"]


def test_two_reports_differing_in_a_number_are_not_one_quote() -> None:
    engine = Engine(docs({
        **FILLER,
        "a.txt": "The regional governor said the strike on the Odesa harbour killed 12 people "
                 "on Monday. Apples grow in Kent.",
        "b.txt": "Pears grow in Essex. The regional governor said the strike on the Odesa "
                 "harbour killed 15 people on Monday.",
    }))
    quotes = engine.answer("How many people did the strike on the Odesa harbour kill?").quotes
    strike = [q for q in quotes if "strike" in q.text]
    assert all(not q.also for q in quotes)
    assert {q.document for q in strike} == {"a.txt", "b.txt"}
    assert {q.text.split("killed ")[1][:2] for q in strike} == {"12", "15"}


def test_the_same_text_is_shown_once_with_the_other_documents_offsets(tmp_path: Path) -> None:
    same = ("The regional governor said the \u201charbour of Odesa\u201d closed on Monday after "
            "the overnight storm damaged the city\u2019s two piers.")
    texts = {
        "a.md": f"Apples grow in Kent.\n\n{same}",
        # The same text with straight quotes and other spacing.
        "b.txt": "Pears grow in Essex. " + same.replace("\u201c", '"').replace(
            "\u201d", '"').replace("\u2019", "'").replace(" closed", "   closed"),
        **{f"f{i}.txt": f"Filler sentence number {i} about nothing." for i in range(12)},
    }
    for rel, text in texts.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    engine = build_library([("c", tmp_path)]).engine
    answer = engine.answer("When did the Odesa harbour close after the storm?")
    quotes = [q for q in answer.quotes if "harbour" in q.text]
    assert len(quotes) == 1 and len(quotes[0].also) == 1
    other = quotes[0].also[0]
    assert {quotes[0].document, other.document} == {"a.md", "b.txt"}
    assert other.paragraph == (1 if other.document == "b.txt" else 2)
    assert_answer_verbatim(answer.to_json(), tmp_path)  # the also offsets checked too


def test_sources_side_by_side_where_their_figures_differ(seeds: Engine) -> None:
    quotes = seeds.answer("How many years has the war been going on?").quotes
    assert {q.document for q in quotes} == {SIVERSK, SEVERSK}
    assert any("four-year" in q.text for q in quotes)


# --- abstention on a small and a large corpus ----------------------------------------------


TOPICS = {
    "volcano.txt": "Mount Etna erupted in 2021, sending lava down its eastern slope. "
                   "Geologists measured the lava flow at two kilometres a day.",
    "bridge.txt": "The Millau viaduct crosses the Tarn valley in southern France. "
                  "Its tallest pylon rises 343 metres above the river.",
    "violin.txt": "Stradivari built his finest violins in Cremona around 1715. "
                  "Their varnish is still studied by chemists.",
}


def _filler(n: int) -> dict[str, str]:
    rng = random.Random(7)
    words = ("market council harvest season railway museum festival garden library "
             "engineer teacher village weather ferry orchard bakery choir harbour").split()
    return {
        f"z{i:04d}.txt": " ".join(
            " ".join(rng.choice(words) for _ in range(8)).capitalize() + "." for _ in range(3)
        )
        for i in range(n)
    }


@pytest.mark.parametrize("filler", [10, 1500], ids=["small", "large"])
def test_one_threshold_serves_small_and_large_corpora(filler: int) -> None:
    engine = Engine(docs({**TOPICS, **_filler(filler)}))
    for question in ("How far did the lava flow from Etna?", "Where does the Millau viaduct cross?",
                     "When did Stradivari build his violins?"):
        answer = engine.answer(question)
        assert answer.answered and answer.confidence >= 0.7, (question, answer.confidence)
    for question in ("When was the Eiffel Tower painted?", "Who composed the Moonlight Sonata?",
                     "How tall is the Burj Khalifa?"):
        answer = engine.answer(question)
        assert not answer.answered and answer.confidence < 0.3, (question, answer.confidence)


def test_confidence_does_not_drift_with_corpus_size() -> None:
    small = Engine(docs({**TOPICS, **_filler(10)}))
    large = Engine(docs({**TOPICS, **_filler(1500)}))
    for question in ("Etna lava slope chemists", "Millau viaduct museum", "violin varnish harvest"):
        a, b = small.answer(question), large.answer(question)
        assert abs(a.confidence - b.confidence) < 0.1, question
        assert a.answered == b.answered


# --- SQuAD, a few articles ------------------------------------------------------------------


@pytest.mark.skipif(not SQUAD.is_file(), reason="SQuAD dev set not found in ../shared")
def test_squad_sample_answers_and_abstains() -> None:
    from bot.evaluation import load_squad, roc_auc

    documents, questions = load_squad(SQUAD)
    documents = documents[:6]
    asked = [q for q in questions if q.article < 6][::6]
    full = Engine(documents)
    retrieval = Engine(full.corpus, RetrievalSettings(threshold=0.0))
    hits = [any(a in x.text for x in retrieval.answer(q.text).quotes for a in q.answers)
            for q in asked]
    assert sum(hits) / len(hits) >= 0.885  # measured 0.891 (319 of 358), one sentence a quote
    present = [full.answer(q.text).confidence for q in asked if q.article == 0]
    without = Engine(documents[1:])
    absent = [without.answer(q.text).confidence for q in asked if q.article == 0]
    assert roc_auc(*map(__import__("numpy").array, (present, absent))) >= 0.98  # 0.991
    assert sum(c >= full.settings.threshold for c in present) / len(present) >= 0.9  # 0.919
