"""The bot end to end: real discord.py, the real bot.app.build_bot wiring, over the fake Discord
server (tests/fakediscord), which enforces Discord's limits, the 3 s interaction deadline and
the message-content intent. Every quote in every reply is checked verbatim against its file."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from e2e.harness import (
    LANTERN,
    LONG,
    NEW_DOC,
    VAULT,
    Scene,
    close_scene,
    open_scene,
    running_scene,
)
from e2e.quotes import read_quotes
from e2e.talk import QUESTION, check, final, mention, replies, say, silence, slash_ask
from fakediscord import Intent, MessageFlag, Perm, skip_identify_delay

from bot import markdown, messages
from bot.app import Redact, build_bot, run
from bot.cogs.state import AskedMemory, Cooldowns, Snapshot
from bot.errors import UsageError
from bot.library import Library, library_from_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory):
    async with running_scene(tmp_path_factory.mktemp("project")) as scene:
        yield scene


# --- asking --------------------------------------------------------------------------------------


async def test_slash_ask_defers_then_follows_up_with_buttons(scene: Scene) -> None:
    inter, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    callback = inter.callbacks[0]
    assert callback.type == 5 and callback.status == 200 and callback.latency < 1.0
    quotes = check(scene, recs)
    assert len(quotes) == 2 and not recs[-1].ephemeral
    ids = [c["custom_id"] for row in recs[-1].components for c in row["components"]]
    assert ids == ["qb:ctx:0", "qb:ctx:1", "qb:more", "qb:bad"]


async def test_prefix_command_and_mention_in_a_guild_channel(scene: Scene) -> None:
    for text in (f"!ask {QUESTION}", f"{mention(scene)} {QUESTION}"):
        recs = await say(scene, scene.general, scene.alice, text)
        assert len(check(scene, recs)) == 2


async def test_any_dm_is_a_question(scene: Scene) -> None:
    dm = scene.server.dm_channel(scene.alice)
    recs = await say(scene, dm, scene.alice, "What did Gerasimov tell Putin?")
    quotes = check(scene, recs)
    assert any("Gerasimov" in q.text for q in quotes)
    _, recs = await slash_ask(scene, None, dm, scene.alice, "What did Gerasimov tell Putin?")
    check(scene, recs)


async def test_with_dms_off_a_dm_gets_a_polite_fixed_reply(scene: Scene) -> None:
    kept = scene.bot.state.now
    scene.bot.state.now = Snapshot(replace(kept.settings, dms_enabled=False), kept.library)
    try:
        dm = scene.server.dm_channel(scene.carol)
        recs = await say(scene, dm, scene.carol, QUESTION)
        assert [r.content for r in recs] == [messages.DMS_OFF]
        _, recs = await slash_ask(scene, None, dm, scene.carol)
        assert [(r.ephemeral, r.content) for r in recs] == [(True, messages.DMS_OFF)]
    finally:
        scene.bot.state.now = kept


async def test_an_unanswerable_question_gets_the_fixed_abstention(scene: Scene) -> None:
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, "What is a hovercraft?")
    assert [r.content for r in recs] == [messages.abstention("no_match")]
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, "what is it?")
    first = recs[0].content
    assert first.startswith(messages.ABSTAIN["no_terms"]) and "/sources" in first


async def test_sources_lists_what_this_place_may_quote(scene: Scene) -> None:
    server = scene.server
    inter = await server.slash(scene.g1, scene.general, scene.alice, "sources")
    g1 = "\n".join(r.content for r in await replies(scene, inter))
    inter = await server.slash(scene.g2, scene.lobby, scene.carol, "sources")
    g2_recs = await replies(scene, inter)
    g2 = "\n".join(r.content for r in g2_recs)
    dm = "\n".join(r.content for r in await say(scene, server.dm_channel(scene.carol), scene.carol,
                                                 "!sources"))
    assert g2_recs[0].ephemeral
    labels = ("Lantern notice", "The long chronicle", "Siversk falls after Ukrainian withdrawal")
    for label in labels:
        assert f"*{markdown.escape(label, False)}*" in g1 and label in g2 and label in dm
    assert "Vault ledger" in g1 and "Vault ledger" not in g2 and "Vault ledger" not in dm


async def test_help_says_how_to_ask(scene: Scene) -> None:
    inter = await scene.server.slash(scene.g2, scene.lobby, scene.carol, "help")
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content == messages.help_text("?")


# --- buttons -------------------------------------------------------------------------------------


async def test_context_shows_the_whole_paragraph_to_the_clicker_only(scene: Scene) -> None:
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    first = read_quotes(r.content for r in recs)[0]
    click = await scene.server.click(recs[-1], "qb:ctx:0", scene.eve)
    ctx = await replies(scene, click)
    assert click.callbacks[0].type == 5 and all(r.ephemeral for r in ctx)
    (paragraph,) = check(scene, ctx)
    assert first.text in paragraph.text and paragraph.paragraph == first.paragraph


async def test_more_shows_the_next_quotes(scene: Scene) -> None:
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    shown = {q.text for q in read_quotes(r.content for r in recs)}
    click = await scene.server.click(recs[-1], "qb:more", scene.alice)
    more = check(scene, await replies(scene, click))
    assert more and not shown & {q.text for q in more}


# --- buttons after the documents changed -----------------------------------------------------


async def _reload(scene: Scene) -> None:
    inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
    (rec,) = await replies(scene, inter)
    assert rec.content.startswith("Reloaded"), rec.content


async def test_context_and_more_stay_true_after_the_documents_change(scene: Scene) -> None:
    """Context finds the quote's own document (one of two files of one name in a collection)
    and says so when the document changed under it; More never shows a quote again, also
    after a reload reordered the answer."""
    server, root = scene.server, scene.root
    extra = root / "docs" / "extra"
    extra.mkdir()
    (extra / "lantern.txt").write_text(
        "The lighthouse keeper counted the moth ships at dawn.\n\nNobody else counted them.\n",
        encoding="utf-8")
    (extra / "sources.yaml").write_text('lantern.txt: {label: "Keeper log"}\n', encoding="utf-8")
    bot_yaml = root / "config" / "bot.yaml"
    good = bot_yaml.read_text(encoding="utf-8")
    both = good.replace("folders: [docs/public]", "folders: [docs/public, docs/extra]")
    bot_yaml.write_text(both, encoding="utf-8")
    lantern = root / "docs" / "public" / "lantern.txt"
    notice = lantern.read_text(encoding="utf-8")
    capture = root / "docs" / "public" / "capture.txt"
    try:
        await _reload(scene)
        _, recs = await slash_ask(scene, scene.g2, scene.lobby, scene.carol,
                                  "Who counted the moth ships at dawn?")
        keeper = (extra / "lantern.txt").read_text(encoding="utf-8")
        first = read_quotes(r.content for r in recs)[0]  # (check() knows the scene's own files)
        assert first.label == "Keeper log" and first.text in keeper
        click = await server.click(recs[-1], "qb:ctx:0", scene.carol)
        (para,) = read_quotes(r.content for r in await replies(scene, click))
        assert para.label == "Keeper log" and first.text in para.text and para.text in keeper

        _, recs = await slash_ask(scene, scene.g2, scene.lobby, scene.carol,
                                  "When do stalls close?")
        shown = check(scene, recs)
        n = [q.label for q in shown].index("Lantern notice")
        lantern.write_text("A new opening paragraph about tides.\n\n" + notice, encoding="utf-8")
        await _reload(scene)
        click = await server.click(recs[-1], f"qb:ctx:{n}", scene.carol)
        assert [r.content for r in await replies(scene, click)] == [messages.CHANGED]

        _, recs = await slash_ask(scene, scene.g2, scene.lobby, scene.carol,
                                  "Who captured Siversk?")
        before = {q.text for q in check(scene, recs)}
        capture.write_text("Russian forces captured Siversk, the Cossacks said.\n",
                           encoding="utf-8")
        await _reload(scene)
        click = await server.click(recs[-1], "qb:more", scene.carol)
        more = check(scene, await replies(scene, click))
        assert more and not before & {q.text for q in more}
    finally:
        bot_yaml.write_text(good, encoding="utf-8")
        lantern.write_text(notice, encoding="utf-8")
        capture.unlink(missing_ok=True)
        await _reload(scene)


async def test_a_forgotten_answer_says_its_buttons_expired(scene: Scene) -> None:
    kept = scene.bot.state.asked
    scene.bot.state.asked = AskedMemory(1)
    try:
        old = await say(scene, scene.general, scene.alice, f"!ask {QUESTION}")
        await say(scene, scene.general, scene.alice, "!ask What did Gerasimov tell Putin?")
        click = await scene.server.click(old[-1], "qb:ctx:0", scene.alice)
        (rec,) = await replies(scene, click)
        assert rec.ephemeral and rec.content == messages.EXPIRED
    finally:
        scene.bot.state.asked = kept


# --- documents that fight back -------------------------------------------------------------------


async def test_everyone_and_user_mentions_are_quoted_without_a_ping(scene: Scene) -> None:
    recs = await say(scene, scene.general, scene.alice, "!ask when does the lantern parade start")
    quotes = check(scene, recs)  # no pings, allowed_mentions {"parse": []}
    assert any("@everyone and <@123>" in q.text for q in quotes)
    assert "\\@everyone and \\<@123>" in recs[0].content
    assert any(q.text in LANTERN for q in quotes)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, "lantern parade gate")
    check(scene, recs)


async def test_a_very_long_quote_is_split_within_limits(scene: Scene) -> None:
    errors = len(scene.server.http_errors)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice,
                              "What does the glacier expedition chronicle record?")
    quotes = check(scene, recs)
    assert len(recs) >= 2 and quotes[0].pieces >= 2 and quotes[0].text == LONG + "."
    assert recs[0].content.endswith("\n" + messages.CONTINUES)
    assert "(continued):" in recs[1].content
    assert scene.server.http_errors[errors:] == []  # every message was accepted


# --- who may see what ----------------------------------------------------------------------------


async def test_a_private_collection_stays_in_its_guild(scene: Scene) -> None:
    question = "Who keeps the zephyrium ledger?"
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, question)
    quotes = check(scene, recs)
    assert quotes[0].label == "Vault ledger" and quotes[0].text in VAULT
    assert recs[-1].message.component("qb:more")  # so More can be clicked from elsewhere
    _, other = await slash_ask(scene, scene.g2, scene.lobby, scene.alice, question)
    dm = await say(scene, scene.server.dm_channel(scene.alice), scene.alice, question)
    for reply in (other, dm):
        check(scene, reply)
        assert "zephyrium" not in "".join(r.content for r in reply)

    # The same buttons, clicked from another guild or a DM (as a forged or relayed click
    # would be): the bot re-checks for the clicker's place and refuses.
    from fakediscord import InteractionType

    server, message = scene.server, recs[-1].message
    for guild, channel, user in [(scene.g2, scene.lobby, scene.carol),
                                 (None, server.dm_channel(scene.alice), scene.alice)]:
        for custom_id in ("qb:ctx:0", "qb:more"):
            click = await server.interact(
                InteractionType.MESSAGE_COMPONENT, guild, channel, user,
                {"custom_id": custom_id, "component_type": 2}, message=message,
            )
            recs = await replies(scene, click)
            check(scene, recs)
            assert "zephyrium" not in "".join(r.content for r in recs)
            if custom_id == "qb:ctx:0":
                assert [(r.ephemeral, r.content) for r in recs] == [(True, messages.HIDDEN)]


async def test_a_channel_not_in_the_list_is_ignored(scene: Scene) -> None:
    inter = await scene.server.slash(scene.g1, scene.offtopic, scene.alice, "ask",
                                     {"question": QUESTION})
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content == messages.NOT_HERE
    msg = await scene.server.user_says(scene.offtopic, scene.alice, f"!ask {QUESTION}")
    await scene.server.user_says(scene.offtopic, scene.alice, f"{mention(scene)} {QUESTION}")
    await silence(scene, msg)


# --- limits and failures -------------------------------------------------------------------------


async def test_cooldown_says_slow_down_once_and_queues_nothing(scene: Scene) -> None:
    check(scene, await say(scene, scene.hall, scene.dave, f"!ask {QUESTION}"))
    (note,) = await say(scene, scene.hall, scene.dave, f"!ask {QUESTION}")
    assert note.content.startswith("Slow down: try again in ")
    msg = await scene.server.user_says(scene.hall, scene.dave, f"!ask {QUESTION}")
    await silence(scene, msg)  # one note per window, no queued answer
    inter = await scene.server.slash(scene.g3, scene.hall, scene.dave, "ask", {"question": "x"})
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content.startswith("Slow down")


async def test_help_sources_and_a_bare_ask_count_against_the_cooldown(scene: Scene) -> None:
    """`!help`, `!sources` and `!ask` with no question post in the channel: each counts like a
    question, so repeating one cannot make the bot post without limit."""
    kept = scene.bot.state.cooldowns
    try:
        for text in ("!help", "!sources", "!ask"):
            scene.bot.state.cooldowns = Cooldowns()  # g3 allows 1 question per 30 s
            (first, *_) = await say(scene, scene.hall, scene.dave, text)
            assert not first.content.startswith("Slow down"), first.content
            (note,) = await say(scene, scene.hall, scene.dave, text)
            assert note.content.startswith("Slow down: try again in "), (text, note.content)
            msg = await scene.server.user_says(scene.hall, scene.dave, text)
            await silence(scene, msg)  # one note per window
        for command in ("sources", "help"):
            inter = await scene.server.slash(scene.g3, scene.hall, scene.dave, command)
            (rec,) = await replies(scene, inter)
            assert rec.ephemeral and rec.content.startswith("Slow down"), rec.content
    finally:
        scene.bot.state.cooldowns = kept


async def test_a_rate_limited_send_is_retried_and_answered_once(scene: Scene) -> None:
    server = scene.server
    server.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.3)
    errors = len(server.http_errors)
    msg = await server.user_says(scene.general, scene.eve, f"{mention(scene)} {QUESTION}")
    recs = await replies(scene, msg, scene.general)
    await asyncio.sleep(0.35)  # a second send would come within one retry_after
    assert len(server.records(op="create", channel=scene.general, after=msg)) == len(recs) == 1
    assert [r.status for r in server.http_errors[errors:]] == [429]
    check(scene, recs)
    server.fail_next("POST", "/webhooks/**", status=429, retry_after=0.3)
    inter, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve)
    await asyncio.sleep(0.35)  # a second send would come within one retry_after
    assert len(recs) == 1 and len(final(server.interaction_responses(inter))) == 1
    assert [r.status for r in server.http_errors[errors:]] == [429, 429]
    check(scene, recs)


async def test_a_channel_the_bot_may_not_post_in_is_one_warning_and_no_apology(
    scene: Scene, caplog
) -> None:
    """A 403 (missing permissions) is the server's setting: a warning that says which, no
    traceback, and no apology sent where it would be refused too."""
    server = scene.server
    server.fail_next("POST", "/channels/*/messages", status=403, times=2)
    caplog.set_level("WARNING")
    msg = await server.user_says(scene.general, scene.eve, f"{mention(scene)} {QUESTION}")
    await server.wait_until(lambda: "may not reply there" in caplog.text, 5)
    await asyncio.sleep(0.2)
    assert "Send Messages" in caplog.text and "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert server.records(op="create", channel=scene.general, after=msg) == []
    server.rest.faults.clear()


async def test_hostile_input_gets_a_calm_reply(scene: Scene) -> None:
    errors = len(scene.server.http_errors)
    at = mention(scene)
    empty, too_long = messages.EMPTY_QUESTION.split("{")[0], messages.TOO_LONG.split("{")[0]
    cases = [
        (at, empty),
        (f"{at} \u200b\u200d\u2060", empty),
        (f"{at} " + "siversk " * 1250, too_long),
        (f"{at} ?!", messages.ABSTAIN["no_terms"]),
        # "everyone" is a word of the lantern notice: an answer, its mentions quoted as text
        (f"{at} **@everyone** <@123> `x` ||y|| <#1> @here ~~", "From *Lantern notice*"),
    ]
    for text, start in cases:
        recs = await say(scene, scene.general, scene.eve, text)
        assert recs[0].content.startswith(start), recs[0].content
        quotes = check(scene, recs)
        if start.startswith("From *"):
            assert any("@everyone" in q.text for q in quotes), quotes
        else:
            assert len(recs) == 1 and not quotes, recs
    inter = await scene.server.slash(scene.g1, scene.general, scene.eve, "ask",
                                     {"question": "why " * 1500})
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content.startswith(messages.TOO_LONG.split("{")[0])
    assert scene.server.http_errors[errors:] == []


class Broken:
    """An engine that fails: with a QuotebotError (shown) or a bug (logged, apology)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def answer(self, *args, **kwargs):
        raise self.error


async def test_errors_get_a_short_reply_and_the_bot_keeps_serving(scene: Scene) -> None:
    kept = scene.bot.state.now
    try:
        for error, shown in [(UsageError("the index is being rebuilt_now"),
                              "the index is being rebuilt\\_now"),
                             (RuntimeError("boom"), messages.OOPS)]:
            scene.bot.state.now = Snapshot(kept.settings, Library(Broken(error), ()))
            (rec,) = await say(scene, scene.general, scene.eve, f"{mention(scene)} {QUESTION}")
            assert rec.content == shown
            _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve)
            assert [r.content for r in recs] == [shown]
    finally:
        scene.bot.state.now = kept
    assert any(r.levelno == logging.ERROR and r.exc_info for r in scene.logs)
    check(scene, await say(scene, scene.general, scene.eve, f"{mention(scene)} {QUESTION}"))


async def test_prefix_commands_and_buttons_report_errors_the_same_way(scene: Scene) -> None:
    _, answer = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    kept, cooldowns = scene.bot.state.now, scene.bot.state.cooldowns
    scene.bot.state.cooldowns = Cooldowns()
    try:
        for error, shown in [(UsageError("the index is being rebuilt_now"),
                              "the index is being rebuilt\\_now"),
                             (RuntimeError("boom"), messages.OOPS)]:
            scene.bot.state.now = Snapshot(kept.settings, Library(Broken(error), ()))
            recs = await say(scene, scene.general, scene.bob, f"!ask {QUESTION}")
            assert [r.content for r in recs] == [shown]
            click = await scene.server.click(answer[-1], "qb:more", scene.bob)
            # More defers publicly ("thinking..."), so Discord turns the first followup into
            # that public message: the error replaces it, ephemeral or not.
            recs = await replies(scene, click)
            assert [r.content for r in recs] == [shown]
    finally:
        scene.bot.state.now, scene.bot.state.cooldowns = kept, cooldowns


async def test_run_with_a_refused_token_says_how_to_fix_it(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in scene.server.env().items():
        monkeypatch.setenv(key, value)
    with pytest.raises(UsageError, match="refused the token") as caught:
        await asyncio.to_thread(run, scene.settings, "not-the-token-s3cr3t")
    assert "s3cr3t" not in str(caught.value)
    assert not [r for r in scene.logs if "s3cr3t" in r.getMessage()]


async def test_the_token_is_redacted_from_log_lines_and_tracebacks() -> None:
    redact = Redact("s3cr3t-token")
    try:
        raise ValueError("bad s3cr3t-token")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", ("s3cr3t-token",),
                                   sys.exc_info())
    assert redact.filter(record)
    text = logging.Formatter().format(record)
    assert "s3cr3t" not in text and "[token]" in text


# --- moderators ----------------------------------------------------------------------------------


async def test_non_moderators_are_refused(scene: Scene) -> None:
    server = scene.server
    inter = await server.slash(scene.g1, scene.general, scene.eve, "quotebot reload")
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content == messages.NOT_MODERATOR
    inter = await server.slash(None, server.dm_channel(scene.alice), scene.alice, "quotebot config")
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content == messages.GUILD_ONLY


async def test_moderator_sees_this_guilds_config(scene: Scene) -> None:
    inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot config")
    text = "\n".join(r.content for r in await replies(scene, inter))
    assert str(scene.general.id) in text and "secret" in text
    assert str(scene.g2.id) not in text and str(scene.g3.id) not in text


async def test_reload_swaps_in_new_documents_and_a_broken_config_keeps_serving(
    scene: Scene,
) -> None:
    server, question = scene.server, "When does the quarry bell ring?"
    before = await say(scene, scene.general, scene.bob, f"!ask {question}")
    assert [r.content for r in before] == [messages.abstention("no_match")]

    (scene.root / "docs" / "public" / "quarry.txt").write_text(NEW_DOC + "\n", encoding="utf-8")
    inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and rec.content.startswith("Reloaded: 6 documents in 2 collections")
    now = check(scene, await say(scene, scene.general, scene.bob, f"!ask {question}"))
    assert now[0].text == NEW_DOC

    good = (scene.root / "config" / "bot.yaml").read_text(encoding="utf-8")
    broken = good.replace("  top_k: 2\n", "  top_k: [2\n")
    (scene.root / "config" / "bot.yaml").write_text(broken, encoding="utf-8")
    try:
        inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
        text = "\n".join(r.content for r in await replies(scene, inter))
        assert text.startswith(messages.RELOAD_FAILED) and "config/bot.yaml:" in text
        after = await say(scene, scene.general, scene.bob, f"!ask {question}")
        assert check(scene, after)[0].text == NEW_DOC  # still the last good config
    finally:
        (scene.root / "config" / "bot.yaml").write_text(good, encoding="utf-8")


async def test_a_reload_shows_a_guilds_moderators_nothing_of_another_guilds(
    scene: Scene,
) -> None:
    """Like /quotebot config, a reload's reply keeps to the moderator's guild: another guild's
    file's problems are only counted, and skipped files are listed (relative to the project)
    only from collections this guild may quote."""
    server, root = scene.server, scene.root
    guilds = root / "config" / "guilds"
    g1_file, g2_file = guilds / f"{scene.g1.id}.yaml", guilds / f"{scene.g2.id}.yaml"
    g1_good, g2_good = g1_file.read_text(encoding="utf-8"), g2_file.read_text(encoding="utf-8")
    admins = server.add_role(scene.g2, "Admins", permissions=Perm.MANAGE_GUILD)
    server.set_member_roles(scene.g2, scene.carol, [admins])
    secret_empty = root / "docs" / "secret" / "merger plans.txt"
    public_empty = root / "docs" / "public" / "blank.txt"
    try:
        g2_file.write_text(g2_good + "channels: [12]\n", encoding="utf-8")
        g1_file.write_text(g1_good + "top_k: 99\n", encoding="utf-8")
        inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
        text = "\n".join(r.content for r in await replies(scene, inter))
        assert text.startswith(messages.RELOAD_FAILED)
        assert f"config/guilds/{scene.g1.id}.yaml:" in text and "top_k" in text
        assert str(scene.g2.id) not in text and "channels" not in text
        assert "1 problem(s) in other servers' files" in text

        g1_file.write_text(g1_good, encoding="utf-8")
        g2_file.write_text(g2_good, encoding="utf-8")
        secret_empty.write_text("", encoding="utf-8")
        public_empty.write_text("", encoding="utf-8")
        for guild, channel, user in [(scene.g1, scene.general, scene.bob),
                                     (scene.g2, scene.lobby, scene.carol)]:
            inter = await server.slash(guild, channel, user, "quotebot reload")
            text = "\n".join(r.content for r in await replies(scene, inter))
            assert text.startswith("Reloaded") and str(root) not in text, text
            assert "docs/public/blank.txt: empty" in text, text
            assert ("merger plans" in text) == (guild is scene.g1), text
    finally:
        g1_file.write_text(g1_good, encoding="utf-8")
        g2_file.write_text(g2_good, encoding="utf-8")
        secret_empty.unlink(missing_ok=True)
        public_empty.unlink(missing_ok=True)
        server.set_member_roles(scene.g2, scene.carol, [])
        await _reload(scene)


async def test_a_quote_links_to_its_source_without_a_preview(scene: Scene) -> None:
    """A document with a web source: the label links to the quoted sentence there, in angle
    brackets and with embeds suppressed; a javascript: source is never a link."""
    public = scene.root / "docs" / "public"
    labels = (public / "sources.yaml").read_text(encoding="utf-8")
    (public / "ferry.txt").write_text("The night ferry to Skarvøy leaves at 23:40.\n")
    (public / "toll.txt").write_text("The bridge toll to Skarvøy is waived on Sundays.\n")
    (public / "sources.yaml").write_text(
        labels + '\nferry.txt: {label: "Ferry [times]", source: "https://ferry.example/t"}\n'
        'toll.txt: {label: "Toll notice", source: "javascript:alert(1)"}\n', encoding="utf-8")
    try:
        inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
        await replies(scene, inter)
        recs = await say(scene, scene.general, scene.alice, "!ask When does the night ferry leave?")
        [quote] = [q for q in check(scene, recs) if q.label == "Ferry [times]"]
        assert quote.link == "https://ferry.example/t#:~:text=The%20night%20ferry%20to%20Skarv" \
            "%C3%B8y%20leaves%20at%2023:40."
        assert "From [*Ferry \\[times\\]*](<https://ferry.example/t#:~:text=" in recs[0].content
        assert all(r.flags & MessageFlag.SUPPRESS_EMBEDS for r in recs)
        recs = await say(scene, scene.general, scene.alice, "!ask Is the bridge toll waived?")
        [quote] = [q for q in check(scene, recs) if q.label == "Toll notice"]
        assert quote.link is None and "javascript" not in recs[0].content
    finally:
        (public / "ferry.txt").unlink()
        (public / "toll.txt").unlink()
        (public / "sources.yaml").write_text(labels, encoding="utf-8")
        inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
        await replies(scene, inter)


# --- connection ----------------------------------------------------------------------------------


async def _quotebot_run(scene: Scene, *args: str) -> asyncio.subprocess.Process:
    quotebot = Path(sys.executable).with_name("quotebot")
    return await asyncio.create_subprocess_exec(
        quotebot, "run", "--config", str(scene.root / "config"), *args,
        env={**os.environ, **scene.server.env()}, stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process, logs: dict[int, str],
                how: signal.Signals = signal.SIGINT) -> None:
    """Ctrl+C (or `how`) once, a clean exit expected; its log into logs[pid]."""
    if proc.pid in logs:
        return
    proc.send_signal(how)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    logs[proc.pid] = err.decode()
    assert proc.returncode == 0, logs[proc.pid]


async def test_quotebot_run_in_its_own_process_answers_without_message_content(
    tmp_path: Path,
) -> None:
    """`quotebot run` as a user starts it: its own process, the token and the endpoints only in
    its environment, so bot/app.py's endpoint setup is all that points it at the fake. The
    portal refuses the Message Content intent: it says how to enable it, connects without it,
    and still answers DMs, mentions and slash commands (a prefix command it cannot read)."""
    scene = await open_scene(tmp_path)
    server = scene.server
    server.deny_intent(Intent.MESSAGE_CONTENT)
    proc, logs = await _quotebot_run(scene), {}
    try:
        await server.wait_until(lambda: server.commands and server.gateway.connected_sessions,
                                20, what="the process to connect")
        gateway = server.gateway
        assert gateway.close_codes == [4014] and gateway.identify_count == 1
        assert not [s for s in gateway.sessions.values() if s.intents & Intent.MESSAGE_CONTENT]
        dm = server.dm_channel(scene.alice)
        quotes = check(scene, await say(scene, dm, scene.alice, "What did Gerasimov tell Putin?"))
        assert any("Gerasimov" in q.text for q in quotes)
        check(scene, await say(scene, scene.general, scene.alice, f"{mention(scene)} {QUESTION}"))
        check(scene, (await slash_ask(scene, scene.g1, scene.general, scene.alice))[1])
        msg = await server.user_says(scene.general, scene.alice, f"!ask {QUESTION}")
        await silence(scene, msg)  # the bot cannot read it, so it cannot answer it
    finally:
        await _stop(proc, logs)
        await close_scene(scene)
    text = logs[proc.pid]
    warned = [line for line in text.splitlines() if messages.MESSAGE_CONTENT_HELP in line]
    assert len(warned) == 1 and "WARNING" in warned[0], text
    assert server.token not in text


async def test_two_shard_processes_each_answer_only_their_guilds(tmp_path: Path) -> None:
    """`quotebot run --shard-count 2 --shard-ids 0` and `--shard-ids 1` side by side: a
    question in a guild of either shard is answered exactly once, a DM once; with shard 1's
    process stopped its guild goes unanswered while shard 0's guild and DMs still are, so
    each answer came from the process holding the guild's shard."""
    scene = await open_scene(tmp_path)
    server, alice = scene.server, scene.alice
    places = []
    for shard in (0, 1):
        guild = server.add_guild(f"Shard {shard}", shard=(shard, 2))
        server.add_member(guild, alice)
        places.append((guild, server.add_text_channel(guild, f"on-shard-{shard}")))
    dm = server.dm_channel(alice)

    def connected(shard: int) -> bool:
        return any(s.shard == (shard, 2) for s in server.gateway.connected_sessions)

    async def answered_once(channel) -> None:
        msg = await server.user_says(channel, alice, f"!ask {QUESTION}")
        check(scene, await replies(scene, msg, channel))
        await asyncio.sleep(0.5)  # a second process's answer would be in by now
        assert len(server.records(after=msg)) == 1, server.records(after=msg)

    procs, logs = [], {}
    try:
        for shard in (0, 1):  # one after the other: the first builds the index the second loads
            procs.append(await _quotebot_run(scene, "--shard-count", "2", "--shard-ids",
                                             str(shard)))
            await server.wait_until(lambda shard=shard: connected(shard), 30,
                                    what=f"shard {shard}'s process to connect")
        assert server.identify_count == 2 and server.commands  # shard 0's process synced
        for guild, channel in places:
            await answered_once(channel)
            inter, recs = await slash_ask(scene, guild, channel, alice)
            check(scene, recs)
            await asyncio.sleep(0.3)
            assert [c.status for c in inter.callbacks] == [200]  # not acknowledged twice
        await answered_once(dm)
        await _stop(procs[1], logs, signal.SIGTERM)  # as systemd or docker stop it
        await server.wait_until(lambda: not connected(1), 10, what="shard 1 to go")
        msg = await server.user_says(places[1][1], alice, f"!ask {QUESTION}")
        await silence(scene, msg, 1.0)
        await answered_once(places[0][1])
        await answered_once(dm)
    finally:
        for proc in procs:
            await _stop(proc, logs)
        await close_scene(scene)
    texts = [logs[proc.pid] for proc in procs]
    assert all(server.token not in text for text in texts)
    assert "on shard(s) 0 of 2" in texts[0] and "on shard(s) 1 of 2" in texts[1]


async def test_without_shard_settings_it_runs_discords_recommended_count(tmp_path: Path) -> None:
    """No `shards` in bot.yaml: the bot asks GET /gateway/bot and runs every recommended shard
    in its one process, so guilds of both shards and DMs are answered."""
    scene = await open_scene(tmp_path)
    server, alice = scene.server, scene.alice
    server.recommended_shards = 2
    places = []
    for shard in (0, 1):
        guild = server.add_guild(f"Shard {shard}", shard=(shard, 2))
        server.add_member(guild, alice)
        places.append(server.add_text_channel(guild, f"on-shard-{shard}"))
    library = await asyncio.to_thread(library_from_settings, scene.settings)
    scene.bot = build_bot(scene.settings, library, env=server.env(), guild_ready_timeout=0.1)
    skip_identify_delay(scene.bot)  # discord.py waits 5 s before each further shard's IDENTIFY
    scene.task = asyncio.create_task(scene.bot.start(server.token))
    try:
        await asyncio.wait_for(scene.bot.wait_until_ready(), 10)
        assert scene.bot.shard_count == 2 and sorted(scene.bot.shards) == [0, 1]
        assert sorted(s.shard for s in server.gateway.connected_sessions) == [(0, 2), (1, 2)]
        for channel in [*places, server.dm_channel(alice)]:
            check(scene, await say(scene, channel, alice, f"!ask {QUESTION}"))
    finally:
        await close_scene(scene)


async def test_the_token_never_reaches_the_logs(scene: Scene) -> None:
    assert len(scene.logs) > 50  # discord.py logged at DEBUG all along
    assert not [r for r in scene.logs if scene.server.token in r.getMessage()]

