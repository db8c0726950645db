"""Moderators' documents end to end over the fake Discord (issue #16): /quotebot add, remove,
documents and gaps, "Save to quotebot", "Not helpful". Quotes of an uploaded file are checked
against the bytes the test sent (a PDF's against `quotebot text`, run as its own process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_asyncio
from docmaker import make_pdf, zip_bomb_docx
from e2e.harness import Scene, close_scene, open_scene, start_bot
from e2e.quotes import ReadQuote, assert_quoted_verbatim, read_quotes
from e2e.talk import replies, slash_ask
from fakediscord import InteractionType, SentRecord

from bot import messages
from bot.config import load_settings
from bot.state import StorageError

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAX_BYTES = 512 * 1024
BEACON = (
    "The copper beacon on Marrow Island was lit by the keeper Ondine in 1887.\n\n"
    "Ondine kept the beacon burning through the winter storms.\n"
)
CAUSEWAY = ["The granite causeway to Marrow Island floods at every spring tide.",
            "Walkers must cross before the bell of the tide tower rings."]
UPLOADS_YAML = f"""
uploads: {{enabled: true, max_bytes: {MAX_BYTES}, collection: uploads}}
gaps: {{enabled: true, keep_days: 30}}
state_dir: state
"""
BEACON_Q = "Who lit the copper beacon?"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory):
    scene = await open_scene(tmp_path_factory.mktemp("uploads"))
    logging.getLogger("bot.state").setLevel(logging.INFO)  # the adds and removes it logs
    try:
        scene.write_config(scene.bot_yaml() + UPLOADS_YAML)
        scene.settings = load_settings(scene.root / "config")
        await start_bot(scene)
        yield scene
    finally:
        logging.getLogger("bot.state").setLevel(logging.NOTSET)
        await close_scene(scene)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """label -> the text each upload's quotes must come from, made without the bot's code
    (the PDF's by `quotebot text` in its own process)."""
    folder = tmp_path_factory.mktemp("originals")
    (folder / "beacon.txt").write_text(BEACON, encoding="utf-8")
    pdf = folder / "causeway.pdf"
    pdf.write_bytes(make_pdf([CAUSEWAY]))
    text = subprocess.run([sys.executable, "-m", "bot", "text", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    assert all(line in text for line in CAUSEWAY)
    (folder / "causeway.txt").write_text(text, encoding="utf-8")
    return {"Beacon log": folder / "beacon.txt", "Causeway notes": folder / "causeway.txt"}


async def command(scene: Scene, user, name: str, options=None, *, dm: bool = False) -> str:
    """A /quotebot command in g1's #general (or the user's DM); its ephemeral reply's text."""
    where = (None, scene.server.dm_channel(user)) if dm else (scene.g1, scene.general)
    inter = await scene.server.slash(*where, user, name, options)
    return await command_reply(scene, inter)


async def command_reply(scene: Scene, inter) -> str:
    recs = await replies(scene, inter)
    assert all(r.ephemeral for r in recs) and all(not r.pings for r in recs)
    return "\n".join(r.content for r in recs)


async def add(scene: Scene, filename: str, data: bytes, user=None, **options) -> str:
    file = scene.server.attach(filename, data, **options.pop("attach", {}))
    return await command(scene, user or scene.bob, "quotebot add", {"file": file, **options})


def quoted(scene: Scene, recs: list[SentRecord], originals: dict[str, Path]) -> list[ReadQuote]:
    quotes = read_quotes(r.content for r in recs)
    for q in quotes:
        if q.label in originals:
            assert_quoted_verbatim(q, originals)
    return quotes


def upload_files(scene: Scene) -> list[str]:
    return sorted(p.name for p in (scene.root / "state" / "uploads").rglob("*.*")
                  if p.name != "sources.yaml")


# --- adding, asking, seeing ----------------------------------------------------------------------


async def test_a_moderator_adds_a_text_file_and_a_pdf_and_members_get_quotes(
    scene: Scene, originals: dict[str, Path]
) -> None:
    text = await add(scene, "beacon.txt", BEACON.encode(), label="Beacon log")
    assert text.startswith("Added `beacon.txt` as *Beacon log* to collection "
                           f"`uploads-{scene.g1.id}`: 2 paragraphs, 2 sentences")
    text = await add(scene, "causeway.pdf", make_pdf([CAUSEWAY]), label="Causeway notes")
    assert "*Causeway notes*" in text and "sentences" in text
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, BEACON_Q)
    assert quoted(scene, recs, originals)[0].label == "Beacon log"
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve,
                              "When does the granite causeway flood?")
    top = quoted(scene, recs, originals)[0]
    assert top.label == "Causeway notes" and "spring tide" in top.text


async def test_another_guild_and_dms_never_see_a_guilds_uploads(scene: Scene) -> None:
    server = scene.server
    for guild, channel, user in [(scene.g2, scene.lobby, scene.alice),
                                 (None, server.dm_channel(scene.alice), scene.alice)]:
        _, recs = await slash_ask(scene, guild, channel, user, BEACON_Q)
        text = "\n".join(r.content for r in recs)
        assert "Beacon log" not in text and "Ondine" not in text
        inter = await server.slash(guild, channel, user, "sources")
        assert "Beacon log" not in "\n".join(r.content for r in await replies(scene, inter))


# --- gaps and feedback ---------------------------------------------------------------------------


async def test_refused_questions_show_in_gaps_with_counts(scene: Scene) -> None:
    for question in ("What is a hovercraft?", "what is a  HOVERCRAFT"):
        await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
    await slash_ask(scene, scene.g2, scene.lobby, scene.carol, "Where is the zeppelin hangar?")
    text = await command(scene, scene.bob, "quotebot gaps")
    assert "2x what is a hovercraft" in text and "zeppelin" not in text
    out = subprocess.run(
        [sys.executable, "-m", "bot", "gaps", "--config", str(scene.root / "config"),
         "--guild", str(scene.g2.id)], capture_output=True, text=True, check=True).stdout
    assert "1x where is the zeppelin hangar" in out and "hovercraft" not in out


async def test_mentions_are_no_words_and_no_user_id_reaches_the_gaps(scene: Scene) -> None:
    for only in ("<@&1> <#2> <@3>", "<:smile:123> <a:dance:456> <t:1700000000:R>"):
        _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, only)
        assert [r.content for r in recs] == [messages.EMPTY_QUESTION.format(prefix="!")]
    await slash_ask(scene, scene.g1, scene.general, scene.eve,
                    f"Where did <@{scene.alice.id}> park the zeppelin?")
    text = await command(scene, scene.bob, "quotebot gaps")
    assert "where did park the zeppelin" in text and str(scene.alice.id) not in text


async def test_not_helpful_counts_one_vote_a_member_and_shows_in_documents(
    scene: Scene,
) -> None:
    server = scene.server
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, BEACON_Q)
    for user, expected in [(scene.eve, messages.THANKS), (scene.eve, messages.ALREADY_VOTED),
                           (scene.alice, messages.THANKS)]:
        click = await server.click(recs[-1], "qb:bad", user)
        (rec,) = await replies(scene, click)
        assert rec.ephemeral and rec.content == expected
    text = await command(scene, scene.bob, "quotebot documents")
    beacon = next(line for line in text.splitlines() if "`beacon.txt`" in line)
    assert "*Beacon log*" in beacon and "2 not helpful" in beacon and f"<@{scene.bob.id}>" in beacon
    assert "not helpful" not in next(line for line in text.splitlines() if "causeway" in line)
    # each member's mark counts the question once more
    assert "2x who lit the copper beacon" in await command(scene, scene.bob, "quotebot gaps")


async def test_a_mark_from_where_the_answer_cannot_be_quoted_is_refused(scene: Scene) -> None:
    """A "Not helpful" click relayed from another guild or a DM counts nothing against g1's
    upload, and adds nothing to that guild's gaps (rule 5: gaps show the question)."""
    server = scene.server
    question = "Who kept the beacon burning through the winter storms?"
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
    assert read_quotes(r.content for r in recs)[0].label == "Beacon log"
    for guild, channel in [(scene.g2, scene.lobby), (None, server.dm_channel(scene.alice))]:
        click = await server.interact(
            InteractionType.MESSAGE_COMPONENT, guild, channel, scene.alice,
            {"custom_id": "qb:bad", "component_type": 2}, message=recs[-1].message)
        assert [(r.ephemeral, r.content) for r in await replies(scene, click)] == [
            (True, messages.NOT_MARKABLE)]
    out = subprocess.run(
        [sys.executable, "-m", "bot", "gaps", "--config", str(scene.root / "config"),
         "--guild", str(scene.g2.id)], capture_output=True, text=True, check=True).stdout
    assert "winter storms" not in out
    assert "winter storms" not in await command(scene, scene.bob, "quotebot gaps")
    text = await command(scene, scene.bob, "quotebot documents")
    beacon = next(line for line in text.splitlines() if "`beacon.txt`" in line)
    assert "2 not helpful" in beacon  # the two marks of the test before, no more


async def test_with_gaps_off_an_answer_has_no_not_helpful_button(scene: Scene) -> None:
    """gaps.enabled false: neither unanswered questions nor marks are recorded, so no answer
    offers the button, and a click on an older one records nothing."""
    server = scene.server
    _, old = await slash_ask(scene, scene.g1, scene.general, scene.eve, BEACON_Q)
    guild_file = scene.root / "config" / "guilds" / f"{scene.g1.id}.yaml"
    good = guild_file.read_text(encoding="utf-8")
    guild_file.write_text(good + "gaps: {enabled: false}\n", encoding="utf-8")
    try:
        assert (await command(scene, scene.bob, "quotebot reload")).startswith("Reloaded")
        _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, BEACON_Q)
        assert read_quotes(r.content for r in recs)[0].label == "Beacon log"
        assert recs[-1].message.component("qb:ctx:0")
        assert not recs[-1].message.component("qb:bad")
        click = await server.click(old[-1], "qb:bad", scene.bob)
        assert [(r.ephemeral, r.content) for r in await replies(scene, click)] == [
            (True, messages.MARKS_OFF)]
    finally:
        guild_file.write_text(good, encoding="utf-8")
        assert (await command(scene, scene.bob, "quotebot reload")).startswith("Reloaded")
    text = await command(scene, scene.bob, "quotebot documents")
    assert "2 not helpful" in next(line for line in text.splitlines() if "`beacon.txt`" in line)


# --- saving a message ----------------------------------------------------------------------------


async def test_save_to_quotebot_stores_a_message_linked_to_it(scene: Scene) -> None:
    server = scene.server
    msg = await server.user_says(scene.general, scene.eve,
                                 "The ferry to Marrow Island leaves at dawn from pier four.")
    inter = await server.message_command(scene.g1, scene.general, scene.bob,
                                         "Save to quotebot", msg)
    (rec,) = await replies(scene, inter)
    assert rec.ephemeral and f"`message-{msg.id}.txt`" in rec.content
    assert "*Message in #general, " in rec.content
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve,
                              "When does the ferry leave?")
    top = read_quotes(r.content for r in recs)[0]
    assert top.label.startswith("Message in #general") and top.text == msg.content
    inter = await server.slash(scene.g1, scene.general, scene.eve, "sources")
    sources = "\n".join(r.content for r in await replies(scene, inter))
    assert f"/channels/{scene.g1.id}/{scene.general.id}/{msg.id}" in sources


# --- removing ------------------------------------------------------------------------------------


async def test_a_removed_document_is_never_quoted_again_not_even_by_old_buttons(
    scene: Scene,
) -> None:
    server = scene.server
    inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot remove",
                               {"document": "BEA"}, focused="document")
    await server.wait_until(lambda: inter.choices is not None, what="autocomplete")
    assert [c["value"] for c in inter.choices] == ["beacon.txt"]
    _, old = await slash_ask(scene, scene.g1, scene.general, scene.alice, BEACON_Q)
    assert read_quotes(r.content for r in old)[0].label == "Beacon log"

    text = await command(scene, scene.bob, "quotebot remove", {"document": "beacon.txt"})
    assert text.startswith("Removed `beacon.txt` (*Beacon log*)")
    assert "beacon.txt" not in upload_files(scene)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, BEACON_Q)
    assert "Beacon log" not in "\n".join(r.content for r in recs)
    click = await server.click(old[-1], "qb:ctx:0", scene.alice)
    assert [r.content for r in await replies(scene, click)] == [messages.GONE]
    if "qb:more" in old[-1].message.custom_ids:
        click = await server.click(old[-1], "qb:more", scene.alice)
        assert "Beacon log" not in "\n".join(r.content for r in await replies(scene, click))
    assert "beacon.txt" not in await command(scene, scene.bob, "quotebot documents")
    logged = [r.getMessage() for r in scene.logs if r.name == "bot.state.uploads"]
    who = f"guild {scene.g1.id}, moderator {scene.bob.id}, document uploads-{scene.g1.id}/"
    assert f"upload added: {who}beacon.txt (" in "\n".join(logged)
    assert f"upload removed: {who}beacon.txt" in logged
    again = await command(scene, scene.bob, "quotebot remove", {"document": "beacon.txt"})
    assert again == messages.UPLOAD_UNKNOWN.format(name="beacon.txt")


async def test_removal_is_immediate_while_the_library_is_still_rebuilding(scene: Scene) -> None:
    server, state = scene.server, scene.bot.state
    await add(scene, "lamp.txt", b"The brass lamp of the lighthouse burns whale oil.\n",
              label="Lamp notes")
    question = "What does the brass lamp burn?"
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
    assert read_quotes(r.content for r in recs)[0].label == "Lamp notes"
    loader = state.loader

    def slow(snapshot):
        time.sleep(1.5)
        return loader(snapshot)

    state.loader = slow
    try:
        inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot remove",
                                   {"document": "lamp.txt"})
        await server.wait_until(lambda: "lamp.txt" not in upload_files(scene), what="removal")
        assert not any(r.content.startswith("Removed") for r in server.interaction_responses(
            inter)), "the reload was meant to be still running"
        _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
        assert "Lamp notes" not in "\n".join(r.content for r in recs)
        assert (await command_reply(scene, inter)).startswith("Removed `lamp.txt`")
    finally:
        state.loader = loader


# --- who may, and bad input ----------------------------------------------------------------------


async def test_non_moderators_are_refused_every_command(scene: Scene) -> None:
    server, eve = scene.server, scene.eve
    file = server.attach("x.txt", b"Some text.")
    for name, options in [("quotebot add", {"file": file}), ("quotebot documents", None),
                          ("quotebot remove", {"document": "causeway.pdf"}),
                          ("quotebot gaps", None)]:
        assert await command(scene, eve, name, options) == messages.NOT_MODERATOR
    msg = await server.user_says(scene.general, eve, "Please save me.")
    inter = await server.message_command(scene.g1, scene.general, eve, "Save to quotebot", msg)
    assert [r.content for r in await replies(scene, inter)] == [messages.NOT_MODERATOR]
    inter = await server.slash(scene.g1, scene.general, eve, "quotebot remove",
                               {"document": ""}, focused="document")
    await server.wait_until(lambda: inter.choices is not None, what="autocomplete")
    assert inter.choices == []
    for name in ("quotebot documents", "quotebot gaps"):
        assert await command(scene, scene.alice, name, dm=True) == messages.GUILD_ONLY
    assert "causeway.pdf" in await command(scene, scene.bob, "quotebot documents")


@contextlib.asynccontextmanager
async def guild_config(scene: Scene, more: str):
    """g1's guild file with more lines, reloaded, for the length of a block."""
    guild_file = scene.root / "config" / "guilds" / f"{scene.g1.id}.yaml"
    good = guild_file.read_text(encoding="utf-8")
    guild_file.write_text(good + more, encoding="utf-8")
    try:
        await reload(scene)
        yield
    finally:
        guild_file.write_text(good, encoding="utf-8")
        await reload(scene)


async def reload(scene: Scene) -> None:
    assert (await command(scene, scene.bob, "quotebot reload")).startswith("Reloaded")


async def test_refused_files_do_not_use_up_the_hours_uploads(scene: Scene) -> None:
    """per_hour counts uploads: a file refused for its name before the download is none."""
    cog = scene.bot.get_cog("Moderation")
    clock = cog.uploads.clock
    cog.uploads.clock = lambda: time.time() + 7200  # this module's earlier uploads, long ago
    try:
        async with guild_config(scene, "uploads: {per_hour: 1}\n"):
            for n in range(3):
                assert f"bad{n}.exe cannot be added" in await add(scene, f"bad{n}.exe", b"MZ")
            assert "is already here" in await add(scene, "causeway.pdf", make_pdf([["Again."]]))
            text = await add(scene, "heron.txt", b"The grey heron nests on the tide tower.\n")
            assert text.startswith("Added `heron.txt`") and text.endswith(messages.QUOTABLE_NOW)
            text = await add(scene, "egret.txt", b"The egret fishes at the weir.\n")
            assert text == messages.UPLOAD_RATE.format(limit=1, minutes=60)
    finally:
        cog.uploads.clock = clock
    assert "Removed `heron.txt`" in await command(scene, scene.bob, "quotebot remove",
                                                   {"document": "heron.txt"})


async def test_with_uploads_off_what_was_added_can_still_be_removed(scene: Scene) -> None:
    question = "Where does the kestrel hover?"
    await add(scene, "kestrel.txt", b"The kestrel hovers over the salt marsh at noon.\n")
    async with guild_config(scene, "uploads: {enabled: false}\n"):
        assert "Uploads are turned off" in await add(scene, "wren.txt", b"The wren sings.")
        _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
        assert "salt marsh" in "".join(r.content for r in recs)
        text = await command(scene, scene.bob, "quotebot remove", {"document": "kestrel.txt"})
        assert text.startswith("Removed `kestrel.txt`")
        _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve, question)
        assert "salt marsh" not in "".join(r.content for r in recs)


async def test_an_add_with_a_broken_config_says_it_is_not_quoted_yet(scene: Scene) -> None:
    bot_yaml = scene.root / "config" / "bot.yaml"
    good = bot_yaml.read_text(encoding="utf-8")
    bot_yaml.write_text(good.replace("  top_k: 2\n", "  top_k: [2\n"), encoding="utf-8")
    try:
        text = await add(scene, "plover.txt", b"The plover runs along the shingle.\n")
    finally:
        bot_yaml.write_text(good, encoding="utf-8")
    assert text.startswith("Added `plover.txt`") and messages.QUOTABLE_NOW not in text
    assert "The library could not be rebuilt yet" in text and "Stored" not in text
    await reload(scene)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve,
                              "Where does the plover run?")
    assert "shingle" in "".join(r.content for r in recs)
    assert (await command(scene, scene.bob, "quotebot remove", {"document": "plover.txt"})
            ).startswith("Removed")


BAD = [
    ("big.txt", b"Small.", {"attach": {"size": MAX_BYTES + 1}}, "That file is too large"),
    ("liar.txt", b"word " * MAX_BYTES, {"attach": {"size": 10}}, "That file is too large"),
    ("tool.exe", b"MZ\x90\x00", {}, "tool.exe cannot be added: only .txt"),
    ("notes.txt", make_pdf([["Hidden."]]), {}, "notes.txt is not plain text (its content is PDF)"),
    ("page.txt", b"\n<!DOCTYPE html><html><body><p>A page.</p></body></html>", {},
     "page.txt is not plain text (its content is HTML)"),
    ("report.pdf", b"Just words, no PDF.", {}, "mislabelled"),
    ("empty.txt", b"   \n", {}, "empty.txt was not added: empty"),
    ("bomb.docx", zip_bomb_docx(30 * 1024 * 1024), {}, "a zip bomb"),
    ("outside.txt", b"Quotable words here.", {"collection": "public"}, "private to this server"),
]


@pytest.mark.parametrize("filename, data, options, reason", BAD, ids=[b[0] for b in BAD])
async def test_bad_uploads_get_their_reason_and_store_nothing(
    scene: Scene, filename: str, data: bytes, options: dict, reason: str
) -> None:
    before = upload_files(scene)
    text = await add(scene, filename, data, **dict(options))
    assert reason in text, text
    assert upload_files(scene) == before


async def test_a_failed_or_slow_download_gets_its_reason(scene: Scene) -> None:
    server = scene.server
    gone = server.attach("gone.txt", b"Text.")
    del server.files[int(gone["id"])]
    text = await command(scene, scene.bob, "quotebot add", {"file": gone})
    assert text == messages.UPLOAD_DOWNLOAD.format(error="HTTP 404")
    cog = scene.bot.get_cog("Moderation")
    cog.download_seconds = 0.3
    try:
        slow = server.attach("slow.txt", b"Text.", delay=1.0)
        text = await command(scene, scene.bob, "quotebot add", {"file": slow})
    finally:
        del cog.download_seconds
    assert text == messages.UPLOAD_DOWNLOAD.format(error="timed out")
    assert "slow.txt" not in upload_files(scene)


class BrokenStorage:
    """A database whose disk is full."""

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise StorageError("database or disk is full")
        return fail


async def test_a_database_error_tells_the_moderator_and_the_bot_keeps_answering(
    scene: Scene, originals: dict[str, Path]
) -> None:
    cog = scene.bot.get_cog("Moderation")
    kept = cog.storage, cog.uploads.storage
    cog.storage = cog.uploads.storage = BrokenStorage()
    try:
        text = await add(scene, "late.txt", b"The late ferry waits for nobody.")
        assert text == messages.UPLOAD_STORAGE.format(error="StorageError")
        text = await command(scene, scene.bob, "quotebot documents")
        assert text == messages.STORAGE_READ.format(error="StorageError")
    finally:
        cog.storage, cog.uploads.storage = kept
    assert "late.txt" not in upload_files(scene)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve,
                              "When does the granite causeway flood?")
    assert quoted(scene, recs, originals)[0].label == "Causeway notes"
    await asyncio.sleep(0)
