"""tests/fakediscord against an unmodified discord.py client: each rule the fake enforces for
the bot's tests is shown here to hold (small bots defined in the tests, not the project's)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from fakediscord import (
    CallbackType,
    Channel,
    FakeDiscord,
    Guild,
    Intent,
    Message,
    MessageFlag,
    Perm,
    UnrealisticAction,
    User,
    flatten_errors,
    point_discord_at,
    run_client,
    skip_identify_delay,
)

pytestmark = pytest.mark.timeout(30)


@dataclass
class World:
    server: FakeDiscord
    guild: Guild
    chan: Channel
    alice: User
    bob: User


@pytest.fixture(autouse=True)
def no_logged_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs (rather than raises) what it cannot parse: a malformed payload from the
    fake only shows up here."""
    yield
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.get_records("call")
              if r.levelno >= logging.ERROR and r.name.startswith(("discord", "fakediscord"))]
    assert not errors, errors


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord() as server:
        guild = server.add_guild("G1")
        chan = server.add_text_channel(guild, "general")
        mods = server.add_role(guild, "Mods", permissions=Perm.MANAGE_GUILD)
        alice, bob = server.add_user("alice"), server.add_user("bob")
        server.add_member(guild, alice, roles=[mods])
        server.add_member(guild, bob)
        with point_discord_at(server):
            yield World(server, guild, chan, alice, bob)


def make_bot(*, message_content: bool = True, **options: int) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    return commands.Bot(command_prefix="!", intents=intents, help_command=None,
                        guild_ready_timeout=0.05, **options)


def echo_bot(**kwargs: int) -> commands.Bot:
    bot = make_bot(**kwargs)

    @bot.command()
    async def echo(ctx: commands.Context, *, text: str) -> None:
        await ctx.reply(text)

    @bot.command()
    async def quiet(ctx: commands.Context, *, text: str) -> None:
        await ctx.reply(text, allowed_mentions=discord.AllowedMentions.none())

    return bot


# --- connecting ----------------------------------------------------------------------------------


async def test_login_ready_guild_and_heartbeats(world: World) -> None:
    server = world.server
    server.heartbeat_interval = 50  # ms, so that heartbeats flow during the test
    bot = make_bot()
    async with run_client(bot, server):
        assert bot.user.id == server.bot_user.id and bot.application_id == server.application_id
        guild = bot.get_guild(world.guild.id)
        assert [c.name for c in guild.text_channels] == ["general"]
        assert {r.name for r in guild.roles} == {"@everyone", "quotebot", "Mods"}
        assert guild.me.guild_permissions.send_messages
        assert server.gateway.connections[0].zlib is not None  # discord.py asks for zlib-stream
        await server.wait_until(lambda: sum(op == 11 for _, op, _ in server.gateway.log) >= 3)


async def test_a_refused_token_and_an_ungranted_intent(world: World) -> None:
    server = world.server
    bot = make_bot()
    try:
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-token")  # REST: 401
    finally:
        await bot.close()
    server.deny_intent(Intent.MESSAGE_CONTENT)
    bot = make_bot(message_content=True)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(bot.start(server.token), 5)
    finally:
        await bot.close()
    assert server.gateway.close_codes == [4014]
    async with run_client(make_bot(message_content=False), server):
        pass  # without asking for it the same bot connects


# --- messages ------------------------------------------------------------------------------------


async def test_prefix_command_reply_and_its_pings(world: World) -> None:
    server, alice = world.server, world.alice
    async with run_client(echo_bot(), server):
        msg = await server.user_says(world.chan, alice, f"!echo hi {alice.mention} @everyone")
        rec = await server.wait_for_reply(msg)
        assert rec.content == f"hi {alice.mention} @everyone" and rec.message.reply_to is msg
        assert rec.allowed_mentions is None  # so Discord's defaults apply: all of them ping
        assert alice in rec.pings and rec.pings.everyone
        msg = await server.user_says(world.chan, alice, f"!quiet hi {alice.mention} @everyone")
        rec = await server.wait_for_reply(msg)
        assert rec.allowed_mentions == {"parse": []} and not rec.pings


async def test_pings_follow_discords_rules(world: World) -> None:
    server, alice = world.server, world.alice
    quiet = server.add_role(world.guild, "Quiet")  # not mentionable
    question = Message(1, world.chan.id, world.guild.id, world.bob, "?")
    text = f"{alice.mention} {quiet.mention} \\@everyone \\<@{world.bob.id}> @here"

    def pings(allowed: dict | None, reply_to: Message | None = None):
        msg = Message(2, world.chan.id, world.guild.id, server.bot_user, text, reply_to=reply_to)
        return server.pings(msg, allowed)

    everything = pings(None)
    assert alice in everything and quiet in everything and everything.everyone  # by @here
    assert world.bob not in everything  # an escaped mention is text
    assert not pings({"parse": []}) and not pings({"parse": []}, question)
    assert world.bob in pings(None, question)  # a reply pings its author by default
    assert world.bob in pings({"parse": [], "replied_user": True}, question)
    assert pings({"parse": [], "users": [str(alice.id)]}).users == {alice.id}
    world.guild.everyone.permissions &= ~Perm.MENTION_EVERYONE
    assert quiet not in pings(None) and not pings(None).everyone


async def test_without_message_content_guild_text_is_blank_unless_mentioned(world: World) -> None:
    server = world.server
    bot = make_bot(message_content=False)
    seen: list[discord.Message] = []

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    async with run_client(bot, server):
        dm = server.dm_channel(world.alice)
        said = [await server.user_says(world.chan, world.alice, "plain text"),
                await server.user_says(world.chan, world.alice, f"{server.bot_user.mention} hi"),
                await server.user_says(dm, world.alice, "in private")]
        await server.wait_until(lambda: len(seen) == 3)
    assert [m.content for m in seen] == ["", said[1].content, "in private"]
    assert seen[1].mentions[0].id == server.bot_user.id and seen[2].guild is None


@pytest.mark.parametrize(("body", "code", "paths"), [
    ({"content": "x" * 2001}, 50035, ["content"]),
    ({"content": " \n "}, 50006, []),
    ({"embeds": [{"description": "d" * 4097}]}, 50035, ["embeds.0.description"]),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, 50035, ["embeds.0.fields"]),
    ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, 50035, ["embeds"]),
    ({"components": [{"type": 1, "components": [{"type": 2, "label": "b", "custom_id": f"{i}"}]}
                     for i in range(6)]}, 50035, ["components"]),
    ({"components": [{"type": 1, "components": [{"type": 2, "label": "b", "custom_id": f"{i}"}
                                                for i in range(6)]}]},
     50035, ["components.0.components"]),
    ({"components": [{"type": 1, "components": [
        {"type": 2, "label": "l" * 81, "custom_id": "c" * 101}, {"type": 2, "custom_id": "c"},
        {"type": 2, "custom_id": "c"}]}]}, 50035,
     ["components.0.components.0.label", "components.0.components.0.custom_id",
      "components.0.components.2.custom_id"]),
    ({"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}, 50035,
     ["allowed_mentions"]),
])
async def test_message_limits(world: World, body: dict, code: int, paths: list[str]) -> None:
    server = world.server
    url = f"{server.api_url}/channels/{world.chan.id}/messages"
    headers = {"Authorization": f"Bot {server.token}"}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        data = await r.json()
    assert (r.status, data["code"]) == (400, code)
    assert sorted(p for p, _ in flatten_errors(data.get("errors", {}))) == sorted(paths)
    assert server.sent == []


async def test_a_429_is_retried_after_retry_after_and_lands_once(world: World) -> None:
    server = world.server
    fault = server.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.2)
    async with run_client(echo_bot(), server):
        msg = await server.user_says(world.chan, world.alice, "!echo hello")
        await server.wait_for_reply(msg)
        await asyncio.sleep(0.1)  # a duplicate would show now
    posts = [r for r in server.requests if r.method == "POST"]
    assert [(r.status, r.injected) for r in posts] == [(429, True), (200, False)]
    assert posts[1].at - posts[0].at >= 0.2 and fault.hits == 1
    assert [m.content for m in server.bot_messages()] == ["hello"]


# --- slash commands and buttons ------------------------------------------------------------------


def add_commands(bot: commands.Bot) -> None:
    @bot.tree.command(description="Ask")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=question == "secret")
        await interaction.followup.send(f"answer to {question}", wait=True)
        await interaction.followup.send("and more", wait=True)

    @bot.tree.command(description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("finally")

    @bot.tree.command(description="Buttons")
    async def menu(interaction: discord.Interaction) -> None:
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Go", custom_id="go"))
        await interaction.response.send_message("pick", view=view)

    group = app_commands.Group(name="admin", description="Admin")

    @group.command(description="Who")
    async def who(interaction: discord.Interaction) -> None:
        perms = interaction.permissions.manage_guild
        await interaction.response.send_message(f"manage_guild={perms}", ephemeral=True)

    bot.tree.add_command(group)

    @bot.listen()
    async def on_interaction(interaction: discord.Interaction) -> None:
        if interaction.data.get("custom_id") == "go":
            await interaction.response.send_message(f"went {interaction.user.name}")

    bot.setup_hook = bot.tree.sync  # type: ignore[method-assign,assignment]


async def test_slash_commands_defer_followups_and_subcommands(world: World) -> None:
    server, alice = world.server, world.alice
    bot = make_bot()
    add_commands(bot)
    async with run_client(bot, server):
        assert {c["name"] for c in server.commands} == {"ask", "slow", "menu", "admin"}
        inter = await server.slash(world.guild, world.chan, alice, "ask", {"question": "why"})
        await server.wait_until(lambda: len(server.interaction_responses(inter)) == 3)
        loading, first, second = server.interaction_responses(inter)
        assert inter.callbacks[0].type == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        assert loading.flags & MessageFlag.LOADING and loading.route == "callback"
        # the first followup replaces the "thinking" message; the next is a message of its own
        assert (first.op, first.message) == ("edit", loading.message)
        assert first.content == "answer to why"
        assert not first.flags & MessageFlag.LOADING and second.op == "create"
        inter = await server.slash(world.guild, world.chan, alice, "ask", {"question": "secret"})
        await server.wait_until(lambda: len(server.interaction_responses(inter)) == 3)
        assert [r.ephemeral for r in server.interaction_responses(inter)] == [True, True, False]
        for user, granted in [(alice, True), (world.bob, False)]:
            inter = await server.slash(world.guild, world.chan, user, "admin who")
            rec = await server.wait_for_reply(inter)
            assert rec.content == f"manage_guild={granted}" and rec.ephemeral
        dm = server.dm_channel(world.bob)
        inter = await server.slash(None, dm, world.bob, "ask", {"question": "dm"})
        await server.wait_until(lambda: len(server.interaction_responses(inter)) == 3)
        for bad in [("nope", {}), ("ask", {}), ("ask", {"question": "x", "extra": 1}),
                    ("admin nope", {})]:
            with pytest.raises(UnrealisticAction):
                await server.slash(world.guild, world.chan, alice, *bad)


async def test_a_late_first_callback_gets_unknown_interaction(world: World) -> None:
    server = world.server
    server.interaction_deadline = 0.2  # Discord: 3 s
    bot = make_bot()
    add_commands(bot)
    errors: list[Exception] = []

    @bot.tree.error
    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        errors.append(error)

    async with run_client(bot, server):
        inter = await server.slash(world.guild, world.chan, world.alice, "slow")
        callback = await server.wait_for_callback(inter)
        await server.wait_until(lambda: errors)
    assert (callback.status, callback.error_code) == (404, 10062) and callback.latency > 0.2
    assert isinstance(errors[0].original, discord.NotFound) and errors[0].original.code == 10062
    assert server.interaction_responses(inter) == []


async def test_a_button_click_is_an_interaction_answered_once(world: World) -> None:
    server = world.server
    bot = make_bot()
    add_commands(bot)
    async with run_client(bot, server):
        inter = await server.slash(world.guild, world.chan, world.alice, "menu")
        menu = await server.wait_for_reply(inter)
        assert menu.message.custom_ids == ["go"]
        click = await server.click(menu, "go", world.bob)
        assert (await server.wait_for_reply(click)).content == "went bob"
        with pytest.raises(UnrealisticAction):
            await server.click(menu, "not-there", world.bob)
        url = f"{server.api_url}/interactions/{click.id}/{click.token}/callback"
        async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as r:
            assert (r.status, (await r.json())["code"]) == (400, 40060)  # answered already


# --- the gateway failing -------------------------------------------------------------------------


async def test_a_dropped_gateway_resumes_and_replays_what_it_missed(world: World) -> None:
    server = world.server
    bot = echo_bot()
    async with run_client(bot, server):
        assert await server.drop_gateway(4000) == 1
        msg = await server.user_says(world.chan, world.alice, "!echo missed")  # while away
        assert (await server.wait_for_reply(msg)).content == "missed"
        assert server.resume_count == 1 and server.identify_count == 1
        sent = [event for way, _, event in server.gateway.log if way == "out" and event]
        assert sent[sent.index("RESUMED") - 1] == "MESSAGE_CREATE"  # replayed before RESUMED
        assert server.gateway.connections[-1].path == "/resume/"
        await server.send_reconnect()  # op 7: Discord asks the client to resume elsewhere
        await server.wait_until(lambda: server.resume_count == 2 and server.gateway.
                                connected_sessions)
        msg = await server.user_says(world.chan, world.alice, "!echo after")
        assert (await server.wait_for_reply(msg)).content == "after"


async def test_a_refused_resume_leads_to_a_new_identify(world: World) -> None:
    server = world.server
    bot = echo_bot()
    identifies = skip_identify_delay(bot)  # discord.py sleeps 5 s before a second IDENTIFY
    async with run_client(bot, server):
        server.refuse_next_resume()
        await server.drop_gateway(4000)
        await server.wait_for_session(count=2)
        assert server.resume_count == 0 and identifies == [True, False]
        msg = await server.user_says(world.chan, world.alice, "!echo still here")
        assert (await server.wait_for_reply(msg)).content == "still here"


async def test_unknown_routes_and_missing_auth_are_refused(world: World) -> None:
    server = world.server
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.api_url}/users/@me") as r:
            assert r.status == 401  # no "Authorization: Bot <token>"
        async with http.get(f"{server.api_url}/guilds/1/audit-logs") as r:
            assert (r.status, await r.json()) == (404, {"code": 0, "message": "404: Not Found"})
    with pytest.raises(AssertionError, match="audit-logs"):
        server.assert_healthy()  # what leaving `async with FakeDiscord()` runs
    server.problems.clear()


# --- shards --------------------------------------------------------------------------------------


def shard_bot(shard_id: int, count: int, seen: list[tuple[int, str]]) -> commands.Bot:
    """echo_bot connected as one shard of `count`; records (shard, what) it receives."""
    bot = echo_bot(shard_id=shard_id, shard_count=count)
    add_commands(bot)

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        seen.append((shard_id, f"message {message.content}"))

    @bot.listen("on_interaction")
    async def noted(interaction: discord.Interaction) -> None:
        seen.append((shard_id, f"interaction {interaction.guild_id}"))

    return bot


async def test_each_shard_gets_only_its_guilds_and_dms_go_to_shard_0(world: World) -> None:
    server, alice = world.server, world.alice
    g0, g1 = server.add_guild("S0", shard=(0, 2)), server.add_guild("S1", shard=(1, 2))
    c0, c1 = server.add_text_channel(g0, "zero"), server.add_text_channel(g1, "one")
    for guild in (g0, g1, world.guild):
        server.add_member(guild, alice)
    seen: list[tuple[int, str]] = []
    one = shard_bot(1, 2, seen)
    async with run_client(shard_bot(0, 2, seen), server) as _, run_client(one, server):
        assert sorted(s.shard for s in server.gateway.connected_sessions) == [(0, 2), (1, 2)]
        on = {g.id: (g.id >> 22) % 2 for g in (g0, g1, world.guild)}
        assert on[g0.id] == 0 and on[g1.id] == 1
        assert {g.id for g in one.guilds} == {g for g, s in on.items() if s == 1}
        for channel, shard in [(c0, 0), (c1, 1), (server.dm_channel(alice), 0)]:
            seen.clear()
            msg = await server.user_says(channel, alice, f"!echo to {channel.id}")
            assert (await server.wait_for_reply(msg)).content == f"to {channel.id}"
            await asyncio.sleep(0.1)  # a second reply or a stray delivery would show now
            assert len(server.records(after=msg)) == 1
            # the question and the bot's own reply, both to the shard holding the place only
            assert seen == [(shard, f"message !echo to {channel.id}"),
                            (shard, f"message to {channel.id}")]
        for guild, channel, shard in [(g0, c0, 0), (g1, c1, 1)]:
            seen.clear()
            inter = await server.slash(guild, channel, alice, "admin who")
            await server.wait_for_reply(inter)
            assert seen == [(shard, f"interaction {guild.id}")] and len(inter.callbacks) == 1


async def test_an_unsharded_auto_sharded_bot_takes_the_recommended_count(world: World) -> None:
    server = world.server
    server.recommended_shards = 2
    g0, g1 = server.add_guild("S0", shard=(0, 2)), server.add_guild("S1", shard=(1, 2))
    bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.default(),
                                  guild_ready_timeout=0.05)
    skip_identify_delay(bot)  # discord.py waits 5 s before each further shard's IDENTIFY
    async with run_client(bot, server):
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        assert {g.id for g in bot.guilds} == {world.guild.id, g0.id, g1.id}
        assert sorted(s.shard for s in server.gateway.connected_sessions) == [(0, 2), (1, 2)]
    assert [r.path for r in server.requests if r.path.startswith("/gateway")] == ["/gateway/bot"]


async def test_a_shard_outside_the_count_is_closed_with_4010(world: World) -> None:
    bot = echo_bot(shard_id=2, shard_count=2)
    try:
        with pytest.raises(discord.ConnectionClosed):
            await asyncio.wait_for(bot.start(world.server.token), 5)
    finally:
        await bot.close()
    assert world.server.gateway.close_codes == [4010]
