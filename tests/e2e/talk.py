"""Talking to the bot through the fake server, and the checks every reply must pass."""

from __future__ import annotations

import asyncio

from e2e.harness import Scene
from e2e.quotes import ReadQuote, assert_quoted_verbatim, read_quotes
from fakediscord import MessageFlag, SentRecord

from bot import messages

QUESTION = "Who captured Siversk?"


def check(scene: Scene, records: list[SentRecord]) -> list[ReadQuote]:
    """Every reply fits Discord, pings no one, and quotes its documents verbatim."""
    assert records, "no reply"
    for rec in records:
        assert 0 < len(rec.content) <= 2000
        assert rec.allowed_mentions == {"parse": []}, rec  # sent explicitly, every time
        assert not rec.pings, rec
    quotes = read_quotes(r.content for r in records)
    for quote in quotes:
        assert_quoted_verbatim(quote, scene.documents)
    return quotes


def final(records: list[SentRecord]) -> list[SentRecord]:
    """The last state of each message, in the order the messages appeared."""
    last: dict[int, SentRecord] = {}
    for rec in records:
        if rec.op != "delete" and not rec.flags & MessageFlag.LOADING:
            last[rec.message_id] = rec
    return list(last.values())


async def replies(scene: Scene, to, channel=None) -> list[SentRecord]:
    """All messages answering a user message or an interaction, once the last one is in: a
    public answer ends with its buttons, a split quote says it continues."""
    server = scene.server

    def current() -> list[SentRecord]:
        if hasattr(to, "token"):  # an interaction
            return final(server.interaction_responses(to))
        return final(server.records(op="create", channel=channel, after=to))

    def done() -> bool:
        recs = current()
        if not recs or recs[-1].content.endswith(messages.CONTINUES):
            return False
        last = recs[-1]
        return bool(last.components) or last.ephemeral or not last.content.startswith("From *")

    await server.wait_until(done, 8, what="a complete reply")
    await asyncio.sleep(0.05)  # nothing more should follow; callers check counts
    return current()


async def slash_ask(scene: Scene, guild, channel, user, question: str = QUESTION):
    inter = await scene.server.slash(guild, channel, user, "ask", {"question": question})
    return inter, await replies(scene, inter)


async def say(scene: Scene, channel, user, text: str) -> list[SentRecord]:
    msg = await scene.server.user_says(channel, user, text)
    return await replies(scene, msg, channel)


def mention(scene: Scene) -> str:
    return f"<@{scene.server.bot_user.id}>"


async def silence(scene: Scene, after, seconds: float = 0.4) -> None:
    await asyncio.sleep(seconds)
    assert scene.server.records(after=after) == []
