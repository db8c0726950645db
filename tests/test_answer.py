from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verbatim import assert_answer_verbatim

from bot.core.answer import NO_MATCH, NO_TERMS, Engine
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
    assert not {q.start for q in first.quotes} & {q.start for q in nxt.quotes} or any(
        q.document != p.document for q in first.quotes for p in nxt.quotes
    )


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
