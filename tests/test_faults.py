"""Faults over the fake Discord server: the gateway drops and refuses to resume, Discord answers
429 and 5xx, a reload meets a broken config, a missing folder, an unreadable document or a
damaged saved index. The user still gets exactly one reply, and the bot keeps serving the last
good state and tells the moderator. (A process killed mid-save is tests/test_store.py's
test_killed_save_keeps_previous.)
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from e2e.harness import Scene, running_scene
from e2e.talk import QUESTION, check, final, mention, replies, say, slash_ask
from fakediscord import skip_identify_delay

from bot import messages

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[1]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory):
    async with running_scene(tmp_path_factory.mktemp("faults-project")) as scene:
        # discord.py sleeps 5 s before a re-IDENTIFY; the real bot keeps that sleep.
        scene.identifies = skip_identify_delay(scene.bot)  # type: ignore[attr-defined]
        yield scene


async def answered_once(scene: Scene, channel=None, user=None) -> None:
    channel, user = channel or scene.general, user or scene.eve
    msg = await scene.server.user_says(channel, user, f"{mention(scene)} {QUESTION}")
    recs = await replies(scene, msg, channel)
    await asyncio.sleep(0.3)
    assert len(scene.server.records(op="create", channel=channel, after=msg)) == len(recs) == 1
    check(scene, recs)


# --- the gateway ---------------------------------------------------------------------------------


async def test_a_dropped_gateway_resumes_and_answers_again(scene: Scene) -> None:
    server = scene.server
    resumes = server.resume_count
    assert await server.drop_gateway(4000) == 1
    await server.wait_until(lambda: server.resume_count > resumes and server.gateway.
                            connected_sessions, 10, what="a RESUME")
    await answered_once(scene)
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    check(scene, recs)


async def test_a_refused_resume_identifies_again_and_answers_again(scene: Scene) -> None:
    server = scene.server
    identifies = server.identify_count
    server.refuse_next_resume()
    await server.drop_gateway(4000)
    await server.wait_for_session(15, count=identifies + 1)
    await scene.bot.wait_until_ready()
    assert scene.identifies == [False]  # type: ignore[attr-defined]
    await answered_once(scene)
    await answered_once(scene, server.dm_channel(scene.alice), scene.alice)


async def test_a_dropped_gateway_while_asked_still_answers_once(scene: Scene) -> None:
    server = scene.server
    resumes = server.resume_count
    drop = asyncio.create_task(server.drop_gateway(4000))
    msg = await server.user_says(scene.general, scene.eve, f"{mention(scene)} {QUESTION}")
    await drop
    await server.wait_until(lambda: server.resume_count > resumes, 10, what="a RESUME")
    recs = await replies(scene, msg, scene.general)  # replayed on RESUME, answered once
    await asyncio.sleep(0.3)
    assert len(server.records(op="create", channel=scene.general, after=msg)) == len(recs) == 1


# --- REST errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status, is_global", [(429, True), (500, False), (502, False)])
async def test_a_failed_send_is_retried_and_the_user_gets_one_reply(
    scene: Scene, status: int, is_global: bool
) -> None:
    server = scene.server
    errors = len(server.http_errors)
    server.fail_next("POST", "/channels/*/messages", status=status, retry_after=0.2,
                     is_global=is_global)
    await answered_once(scene)
    server.fail_next("POST", "/webhooks/**", status=status, retry_after=0.2, is_global=is_global)
    inter, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve)
    await asyncio.sleep(0.3)
    assert len(recs) == 1 and len(final(server.interaction_responses(inter))) == 1
    check(scene, recs)
    assert [r.status for r in server.http_errors[errors:]] == [status, status]


async def test_a_rate_limited_interaction_callback_still_answers_once(scene: Scene) -> None:
    server = scene.server
    errors = len(server.http_errors)
    server.fail_next("POST", "/interactions/**", status=429, retry_after=0.3)
    inter, recs = await slash_ask(scene, scene.g1, scene.general, scene.eve)
    await asyncio.sleep(0.3)
    assert len(recs) == 1 and len(final(server.interaction_responses(inter))) == 1
    assert inter.callbacks[-1].status == 200 and inter.callbacks[-1].latency < 3.0
    check(scene, recs)
    assert [r.status for r in server.http_errors[errors:]] == [429]


async def test_when_discord_never_recovers_it_is_logged_and_the_bot_serves_on(
    scene: Scene,
) -> None:
    """discord.py tries a request five times; when all five fail the answer is lost, the log
    says so with its traceback, the member gets the short apology, and the bot answers the
    next question as usual."""
    server = scene.server
    logs = len(scene.logs)
    server.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.05, times=5)
    msg = await server.user_says(scene.general, scene.eve, f"{mention(scene)} {QUESTION}")

    def failed() -> list[logging.LogRecord]:
        return [r for r in scene.logs[logs:]
                if r.levelno >= logging.ERROR and r.name.startswith("bot.")]

    await server.wait_until(lambda: failed(), 10, what="the failure in the log")
    assert failed()[0].exc_info is not None  # with its traceback
    recs = await replies(scene, msg, scene.general)
    assert [r.content for r in recs] == [messages.OOPS]
    await answered_once(scene)


async def test_an_expired_interaction_is_one_warning_and_the_bot_serves_on(
    scene: Scene,
) -> None:
    """A slash command the bot could not acknowledge within Discord's 3 s (a starved host)
    cannot be answered at all: one warning line, no traceback, no second failed reply, and the
    next question is answered as usual."""
    server = scene.server
    logs = len(scene.logs)
    server.interaction_deadline = 0.0
    try:
        inter = await server.slash(scene.g1, scene.general, scene.alice, "ask",
                                   {"question": QUESTION})
        cb = await server.wait_for_callback(inter)
        assert (cb.status, cb.error_code) == (404, 10062)

        def warned() -> list[logging.LogRecord]:
            return [r for r in scene.logs[logs:] if r.name.startswith("bot.")
                    and "expired" in r.getMessage()]

        await server.wait_until(warned, 10, what="the warning")
        await asyncio.sleep(0.3)
    finally:
        server.interaction_deadline = 3.0
    mine = [r for r in scene.logs[logs:] if r.name.startswith("bot.")]
    assert [r.levelno for r in mine] == [logging.WARNING]
    assert mine[0].exc_info is None
    assert server.interaction_responses(inter) == []
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice)
    check(scene, recs)


# --- reloads that fail ---------------------------------------------------------------------------


async def reload(scene: Scene) -> str:
    inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot reload")
    recs = await replies(scene, inter)
    assert all(r.ephemeral for r in recs)
    return "\n".join(r.content for r in recs)


def _about_siversk(text: str) -> bool:
    # (either document's spelling: the one without aliases is found by its near spelling)
    return "Siversk" in text or "Seversk" in text


async def still_serving(scene: Scene) -> None:
    quotes = check(scene, await say(scene, scene.general, scene.bob, f"!ask {QUESTION}"))
    assert quotes and _about_siversk(quotes[0].text)


async def test_a_missing_corpus_folder_keeps_the_last_good_state(scene: Scene) -> None:
    public = scene.root / "docs" / "public"
    kept = scene.bot.state.now
    public.rename(public.with_name("moved"))
    try:
        text = await reload(scene)
        assert text.startswith(messages.RELOAD_FAILED) and "docs/public" in text, text
        assert scene.bot.state.now is kept
        recs = await say(scene, scene.general, scene.bob, f"!ask {QUESTION}")
    finally:
        public.with_name("moved").rename(public)
    assert _about_siversk(check(scene, recs)[0].text)  # served from memory meanwhile


async def test_an_unreadable_document_is_skipped_and_the_moderator_told(scene: Scene) -> None:
    public = scene.root / "docs" / "public"
    (public / "broken.txt").write_bytes(b"The mill \xff\xfe burned.\n")
    (public / "gone.txt").mkdir()  # a document replaced by a folder is no document
    try:
        text = await reload(scene)
        assert text.startswith("Reloaded:") and "broken.txt" in text, text
        assert "not valid UTF-8" in text and "re-save the file as UTF-8" in text
        await still_serving(scene)
    finally:
        (public / "broken.txt").unlink()
        (public / "gone.txt").rmdir()


async def test_a_damaged_saved_index_is_rebuilt_not_trusted(scene: Scene) -> None:
    cache = scene.root / ".cache"
    saved = [p for p in cache.rglob("*") if p.is_file() and p.suffix == ".npy"]
    assert saved, "the bot saves its index in index_dir"
    for path in saved:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    text = await reload(scene)
    assert text.startswith("Reloaded:"), text
    await still_serving(scene)


async def test_an_index_dir_that_became_a_file_is_refused_by_name(scene: Scene) -> None:
    cache = scene.root / ".cache"
    shutil.rmtree(cache)
    cache.write_text("not a folder\n", encoding="utf-8")
    try:
        text = await reload(scene)
        assert text.startswith(messages.RELOAD_FAILED) and "index_dir" in text, text
        assert "is a file" in text
        await still_serving(scene)
    finally:
        cache.unlink()
