"""The rules of asking without a wire: bot.cogs.asker.Asker over a real config and library,
with no Discord at all. Where the bot answers, cooldowns, what a question must be, which
collections a guild or a DM may quote, and paging with More."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import messages
from bot.cogs.asker import MAX_QUESTION, Asker, Where
from bot.cogs.state import Cooldowns, Snapshot, State
from bot.config import load_settings
from bot.errors import Ignored, Refusal
from bot.library import library_from_settings
from bot.paginate import CONTENT_LIMIT, size

OWNER, STRANGER = 111111111111111111, 333333333333333333
GENERAL, OFFTOPIC, THREAD = 500000000000000001, 500000000000000002, 500000000000000003
ALICE = 600000000000000001

BOT_YAML = f"""\
defaults:
  prefix: "?"
  channels: [{GENERAL}]
  cooldown: {{rate: 2, per: 30}}
  top_k: 2
collections:
  public:
    folders: [public]
    visibility: public
  private:
    folders: [private]
    visibility: [{OWNER}]
"""
PUBLIC = [
    "The ferry to Lindholm leaves the harbour at noon. It returns at six in the evening.",
    "The ferry was painted green in spring. Its captain is Ada Lind.",
    "The harbour master counts the ferry passengers. The ferry carries forty people.",
]
PRIVATE = "The ferry strike is planned for Friday by the harbour union."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> State:
    root = tmp_path_factory.mktemp("project")
    for i, text in enumerate(PUBLIC):
        (root / "public").mkdir(exist_ok=True)
        (root / "public" / f"p{i}.txt").write_text(text + "\n", encoding="utf-8")
    (root / "private").mkdir()
    (root / "private" / "union.txt").write_text(PRIVATE + "\n", encoding="utf-8")
    (root / "config").mkdir()
    (root / "config" / "bot.yaml").write_text(BOT_YAML, encoding="utf-8")
    settings = load_settings(root / "config")
    return State(settings, library_from_settings(settings), loader=_no_reload)


def _no_reload(snapshot: object) -> object:
    raise AssertionError("these tests never reload")


@pytest.fixture
def asker(state: State) -> Asker:
    state.cooldowns = Cooldowns(clock=Clock())
    state.asked = type(state.asked)(100)
    return Asker(state)


def in_guild(guild: int = OWNER, channels: tuple[int, ...] = (GENERAL,), slash: bool = False):
    return Where(guild, ALICE, channels, slash)


DM = Where(None, ALICE, (), False)


def refusal(call, *args) -> str:
    with pytest.raises(Refusal) as info:
        call(*args)
    return str(info.value)


def test_channels_where_the_bot_does_not_answer(asker: Asker) -> None:
    asker.check_place(in_guild())
    asker.check_place(in_guild(channels=(THREAD, GENERAL)))  # a thread under #general
    with pytest.raises(Ignored):  # a prefix command or a mention elsewhere: silence
        asker.check_place(in_guild(channels=(OFFTOPIC,)))
    assert refusal(asker.check_place, in_guild(channels=(OFFTOPIC,), slash=True)) == (
        messages.NOT_HERE
    )
    asker.check_place(DM)  # DMs are on by default


def test_dms_off_refused_after_the_cooldown(asker: Asker, state: State) -> None:
    kept = state.now
    state.now = Snapshot(replace(kept.settings, dms_enabled=False), kept.library)
    try:
        assert refusal(asker.check_place, DM) == messages.DMS_OFF
        rate = state.now.settings.for_guild(None).cooldown.rate  # DMs have their own cooldown
        for _ in range(rate):
            assert refusal(asker.check_question, "who painted the ferry?", DM) == messages.DMS_OFF
        # The refusals count against the cooldown: then one "slow down", then silence.
        assert refusal(asker.check_question, "who?", DM).startswith("Slow down")
        with pytest.raises(Ignored):
            asker.check_question("who?", DM)
    finally:
        state.now = kept


def test_cooldown_notes_once_then_stays_silent_except_for_slash(asker: Asker) -> None:
    clock = asker.state.cooldowns.clock
    where, slash = in_guild(), in_guild(slash=True)
    asker.check_question("who painted the ferry?", where)
    asker.check_question("who painted the ferry?", where)
    assert refusal(asker.check_question, "again?", where) == messages.SLOW_DOWN.format(seconds=30)
    with pytest.raises(Ignored):
        asker.check_question("again?", where)
    assert refusal(asker.check_question, "again?", slash).startswith("Slow down")
    clock.now += 30.5
    asker.check_question("who painted the ferry?", where)
    asker.check_question("who painted the ferry?", in_guild(guild=STRANGER))  # another guild


def test_questions_that_are_not_searched(asker: Asker) -> None:
    empty = refusal(asker.check_question, " \u200b\u2060 ", in_guild())
    assert empty == messages.EMPTY_QUESTION.format(prefix="?")
    long = refusal(asker.check_question, "ferry " * MAX_QUESTION, in_guild())
    assert long == messages.TOO_LONG.format(limit=MAX_QUESTION)
    asker.check_question("x" * MAX_QUESTION, in_guild(guild=STRANGER))


def quoted(reply) -> str:
    return "\n".join(page.content for page in reply.pages)


def test_private_collection_quoted_only_in_its_guild(asker: Asker) -> None:
    question = "When is the ferry strike planned by the union?"
    assert "Friday" in quoted(asker.answer(question, in_guild()))
    for where in (in_guild(guild=STRANGER), DM):
        assert "Friday" not in quoted(asker.answer(question, where))
    # /sources lists what may be quoted here, nothing more.
    assert "union" in quoted(asker.sources(in_guild()))
    assert "union" not in quoted(asker.sources(DM))


def test_buttons_recheck_where_they_are_clicked(asker: Asker) -> None:
    reply = asker.answer("When is the ferry strike planned by the union?", in_guild())
    assert reply.asked is not None
    n = next(i for i, q in enumerate(reply.asked.quotes) if q.collection == "private")
    asker.remember(42, reply.asked)
    asked = asker.recall(42)
    assert asker.quote_ref(asked, n, in_guild(slash=True)).document == "union.txt"
    stranger = in_guild(guild=STRANGER, slash=True)
    assert refusal(asker.quote_ref, asked, n, stranger) == messages.HIDDEN
    assert refusal(asker.quote_ref, asked, 19, in_guild(slash=True)) == messages.EXPIRED
    assert refusal(asker.clicked, asker.recall(43), in_guild(slash=True)) == messages.EXPIRED
    offtopic = in_guild(channels=(OFFTOPIC,), slash=True)
    assert refusal(asker.clicked, asked, offtopic) == messages.NOT_HERE
    assert "Friday" in quoted(asker.context(asker.quote_ref(asked, n, in_guild(slash=True))))


def test_more_pages_on_without_repeating(asker: Asker) -> None:
    where = in_guild(guild=STRANGER)
    first = asker.answer("Tell me about the ferry", where)
    assert first.asked is not None and first.asked.shown == 2
    second = asker.answer(first.asked.question, where, first.asked.shown)
    assert second.asked is not None and second.asked.shown > 2
    # (A quote is one sentence: two of one paragraph may stand on two pages, never twice.)
    lines = [{ln for ln in quoted(r).splitlines() if ln.startswith("> ")} for r in (first, second)]
    assert lines[0] and lines[1] and not lines[0] & lines[1]
    for reply in (first, second):
        assert all(0 < size(p.content) <= CONTENT_LIMIT for p in reply.pages)


def test_no_answer_is_a_reply_without_buttons(asker: Asker) -> None:
    reply = asker.answer("What is the boiling point of mercury?", in_guild())
    assert reply.asked is None
    assert [p.content for p in reply.pages] == [messages.abstention("no_match")]


def test_unanswered_questions_past_keep_days_are_dropped_without_a_listing(
    state: State, tmp_path
) -> None:
    """`gaps.keep_days` drops a gap not asked for that long; it was dropped only when a
    moderator listed that guild's gaps (and DMs' only by `quotebot gaps --dms`), so a
    scope nobody lists kept every question in the database for good. Recording one drops
    them."""
    import sqlite3
    import time

    from bot.state import open_storage
    from bot.state.queued import QueuedGaps
    from bot.state.store import DB_FILE

    storage = QueuedGaps(open_storage(tmp_path))  # as build_bot wires it
    long_ago = time.time() - 200 * 86400  # the default keep_days is 90
    for n in range(3):
        storage.storage.record_gap(str(OWNER), f"old question {n}", now=long_ago)
    storage.storage.record_gap(str(OWNER), "recent question", now=time.time() - 80 * 86400)
    asker = Asker(state, storage)
    state.cooldowns = Cooldowns(clock=Clock())
    asker.answer("Where do the zeppelins of Quuxburg moor?", in_guild())

    def rows() -> list[tuple[str, str]]:
        with sqlite3.connect(tmp_path / DB_FILE) as db:
            return sorted(db.execute("SELECT scope, question FROM gaps").fetchall())

    deadline = time.monotonic() + 10
    while len(rows()) != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows() == [(str(OWNER), "recent question"),
                      (str(OWNER), "where do the zeppelins of quuxburg moor")]
