"""Proves an unmodified discord.py 2.7 client works against tests/fakediscord.

The bots here are minimal discord.py bots defined in the tests (not the project's bot).
"""

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
    MessageFlag,
    Perm,
    Pings,
    Role,
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
    mods: Role


@pytest.fixture(autouse=True)
def no_logged_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs (rather than raises) errors from event parsing and handlers: a
    malformed payload from the fake would only show up here."""
    yield
    errors = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and r.name.startswith(("discord", "fakediscord"))
    ]
    assert not errors, errors


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as srv:
        with point_discord_at(srv.api_url, srv.gateway_url):
            yield srv


@pytest.fixture
def world(server: FakeDiscord) -> World:
    guild = server.add_guild("G1")
    chan = server.add_text_channel(guild, "general")
    mods = server.add_role(guild, "Mods", permissions=Perm.MANAGE_GUILD)
    alice = server.add_user("alice")
    bob = server.add_user("bob")
    server.add_member(guild, alice, roles=[mods])
    server.add_member(guild, bob)
    return World(server, guild, chan, alice, bob, mods)


def make_bot(*, message_content: bool = True, **kwargs: object) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    kwargs.setdefault("guild_ready_timeout", 0.05)  # on_ready 50 ms after the last GUILD_CREATE
    return commands.Bot(command_prefix="!", intents=intents, help_command=None, **kwargs)


async def wait_ready_again(bot: discord.Client, server: FakeDiscord) -> None:
    await server.wait_until(lambda: bot.is_ready() and bot.ws and bot.ws.open, timeout=5)


# ---------------------------------------------------------------------------- connection


async def test_login_ready_and_guild_create_populate_cache(world: World) -> None:
    server = world.server
    server.heartbeat_interval = 100  # ms, so heartbeats flow during the test
    bot = make_bot()
    async with run_client(bot, server):
        assert bot.user is not None and bot.user.id == server.bot_user.id
        assert bot.application_id == server.application_id
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.name == "G1"
        assert [c.name for c in guild.text_channels] == ["general"]
        assert {r.name for r in guild.roles} == {"@everyone", "quotebot", "Mods"}
        me = guild.me
        assert me.id == server.bot_user.id
        assert [r.name for r in me.roles if not r.is_default()] == ["quotebot"]
        assert me.guild_permissions.send_messages and not me.guild_permissions.administrator
        # login = GET /users/@me + GET /oauth2/applications/@me; plain Bot never calls /gateway
        assert [(r.method, r.path) for r in server.requests] == [
            ("GET", "/users/@me"),
            ("GET", "/oauth2/applications/@me"),
        ]
        # zlib-stream (or zstd-stream when discord.py finds a zstd module)
        assert server.gateway.connections[0].compress in ("zlib-stream", "zstd-stream")
        await server.wait_until(
            lambda: sum(e.op == 11 for e in server.gateway.log) >= 3, what="3 heartbeat ACKs"
        )
        assert bot.latency < 1


async def test_prefix_command_round_trip_and_reply_pings(world: World) -> None:
    server = world.server
    bot = make_bot()

    @bot.command()
    async def ping(ctx: commands.Context) -> None:
        await ctx.reply("pong")

    @bot.command()
    async def quiet(ctx: commands.Context) -> None:
        await ctx.reply(f"hi {ctx.author.mention}", allowed_mentions=discord.AllowedMentions.none())

    async with run_client(bot, server):
        msg = await server.user_says(world.chan, world.alice, "!ping")
        rec = await server.wait_for_reply(msg)
        assert (rec.op, rec.route, rec.content) == ("create", "channel", "pong")
        assert rec.message_reference and rec.message_reference["message_id"] == str(msg.id)
        assert rec.allowed_mentions is None  # discord.py sent none: Discord's defaults apply
        assert rec.would_ping(world.alice)  # a reply pings the replied-to author by default

        msg2 = await server.user_says(world.chan, world.alice, "!quiet")
        rec2 = await server.wait_for_reply(msg2)
        assert rec2.allowed_mentions == {"parse": []}  # AllowedMentions.none()
        assert not rec2.pings
        assert [m.content for m in server.messages_in(world.chan)] == [
            "!ping",
            "pong",
            "!quiet",
            f"hi <@{world.alice.id}>",
        ]


# ---------------------------------------------------------------------------- content intent


async def test_message_content_blank_without_intent_unless_mentioned(world: World) -> None:
    server = world.server
    bot = make_bot(message_content=False)
    seen: list[discord.Message] = []

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    async with run_client(bot, server):
        plain = await server.user_says(world.chan, world.alice, "secret plain text")
        mention = await server.user_says(
            world.chan, world.alice, f"<@{server.bot_user.id}> can you see this?"
        )
        await server.wait_until(lambda: len(seen) == 2, what="two on_message events")
    by_id = {m.id: m for m in seen}
    assert by_id[plain.id].content == ""
    assert by_id[mention.id].content == f"<@{server.bot_user.id}> can you see this?"
    assert by_id[mention.id].mentions[0].id == server.bot_user.id


async def test_dm_content_visible_without_intent(world: World) -> None:
    server = world.server
    bot = make_bot(message_content=False)

    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if message.guild is None and not message.author.bot:
            await message.channel.send(f"echo: {message.content}")

    async with run_client(bot, server):
        dm = server.dm_channel(world.alice)
        msg = await server.user_says(dm, world.alice, "hello in private")
        rec = await server.wait_for_reply(msg)
        assert rec.content == "echo: hello in private"
        assert rec.channel_id == dm.id and rec.guild_id is None


# ---------------------------------------------------------------------------- interactions


def add_ask_commands(bot: commands.Bot, calls: list[str]) -> None:
    @bot.tree.command(description="Ask a question")
    @app_commands.describe(question="What to ask")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        calls.append(question)
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send(f"answer to {question!r}")

    group = app_commands.Group(
        name="quotebot",
        description="Admin commands",
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @group.command(description="Reload documents")
    async def reload(interaction: discord.Interaction) -> None:
        perms = interaction.permissions
        await interaction.response.send_message(
            f"reloaded (manage_guild={perms.manage_guild})", ephemeral=True
        )

    bot.tree.add_command(group)

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]


async def test_slash_command_defer_then_followup(world: World) -> None:
    server = world.server
    bot = make_bot()
    calls: list[str] = []
    add_ask_commands(bot, calls)

    async with run_client(bot, server):
        assert sorted(c["name"] for c in server.commands[None]) == ["ask", "quotebot"]
        inter = await server.slash(world.guild, world.chan, world.alice, "ask", {"question": "why"})
        rec = await server.wait_for_reply(inter)
        assert calls == ["why"]
        assert [cb.type for cb in inter.callbacks] == [
            CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        ]
        assert inter.callbacks[0].latency < 1
        # the first followup after a thinking-defer replaces the loading message
        assert (rec.op, rec.route) == ("edit", "followup")
        assert rec.content == "answer to 'why'" and not rec.flags & MessageFlag.LOADING
        assert rec.message_id == inter.original_message_id
        assert [r.route for r in server.interaction_responses(inter)] == ["callback", "followup"]

        # subcommand in a group, as a member with MANAGE_GUILD via the Mods role
        sub = await server.slash(world.guild, world.chan, world.alice, "quotebot reload")
        rec = await server.wait_for_reply(sub)
        assert rec.content == "reloaded (manage_guild=True)" and rec.ephemeral
        assert sub.payload["member"]["permissions"] == str(
            server.permissions_for(world.chan, world.alice)
        )
        # bob lacks MANAGE_GUILD: Discord would not even show him the command
        with pytest.raises(UnrealisticAction, match="default_member_permissions"):
            await server.slash(world.guild, world.chan, world.bob, "quotebot reload")

        # same command in a DM: `user` instead of `member`, context 1
        dm = server.dm_channel(world.bob)
        inter = await server.slash(None, dm, world.bob, "ask", {"question": "dm?"})
        rec = await server.wait_for_reply(inter)
        assert rec.content == "answer to 'dm?'" and rec.channel_id == dm.id
        assert inter.payload["context"] == 1 and "user" in inter.payload
        assert "member" not in inter.payload


async def test_reply_after_deadline_gets_unknown_interaction(world: World) -> None:
    server = world.server
    server.interaction_deadline = 0.2  # real Discord: 3 s
    bot = make_bot()
    errors: list[app_commands.AppCommandError] = []

    @bot.tree.command(description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.4)
        await interaction.response.send_message("finally")

    @bot.tree.error
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError):
        errors.append(error)

    bot.setup_hook = bot.tree.sync  # type: ignore[method-assign,assignment]

    async with run_client(bot, server):
        inter = await server.slash(world.guild, world.chan, world.alice, "slow")
        cb = await server.wait_for_callback(inter)
        assert (cb.status, cb.error_code) == (404, 10062)
        assert cb.latency > 0.2
        await server.wait_until(lambda: errors)
    original = getattr(errors[0], "original", None)
    assert isinstance(original, discord.NotFound) and original.code == 10062
    assert not inter.acknowledged and server.interaction_responses(inter) == []


async def test_button_click_updates_message_and_double_ack_is_rejected(world: World) -> None:
    server = world.server
    bot = make_bot()

    class Counter(discord.ui.View):
        count = 0

        @discord.ui.button(label="+1", custom_id="inc")
        async def inc(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            self.count += 1
            await interaction.response.edit_message(content=f"count={self.count}", view=self)

    @bot.command()
    async def counter(ctx: commands.Context) -> None:
        await ctx.send("count=0", view=Counter())

    async with run_client(bot, server):
        msg = await server.user_says(world.chan, world.alice, "!counter")
        sent = await server.wait_for_reply(msg)
        assert sent.message.custom_ids == ["inc"]
        click = await server.click(sent, "inc", world.bob)
        rec = await server.wait_for(lambda r: r.interaction is click)
        assert (rec.op, rec.route, rec.content) == ("edit", "callback", "count=1")
        assert click.callbacks[0].type == CallbackType.UPDATE_MESSAGE
        with pytest.raises(UnrealisticAction):
            await server.click(sent, "does-not-exist", world.bob)

        # a second initial response to the same interaction: 400 / 40060
        url = f"{server.api_url}/interactions/{click.id}/{click.token}/callback"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp,
        ):
            body = await resp.json()
        assert (resp.status, body["code"]) == (400, 40060)


async def test_modal_round_trip(world: World) -> None:
    server = world.server
    bot = make_bot()

    class Feedback(discord.ui.Modal, title="Feedback"):
        text = discord.ui.TextInput(label="Your feedback", custom_id="text")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"thanks for: {self.text.value}")

    @bot.tree.command(description="Give feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    bot.setup_hook = bot.tree.sync  # type: ignore[method-assign,assignment]

    async with run_client(bot, server):
        inter = await server.slash(world.guild, world.chan, world.alice, "feedback")
        await server.wait_until(lambda: inter.modal, what="a modal")
        with pytest.raises(UnrealisticAction, match="required"):
            await server.submit_modal(inter, {})
        submit = await server.submit_modal(inter, {"text": "great bot"})
        rec = await server.wait_for_reply(submit)
        assert rec.content == "thanks for: great bot"


# ---------------------------------------------------------------------------- REST errors


async def test_too_long_content_and_embed_get_invalid_form_body(world: World) -> None:
    server = world.server
    bot = make_bot()
    caught: list[discord.HTTPException] = []

    @bot.command()
    async def long(ctx: commands.Context, what: str) -> None:
        try:
            if what == "content":
                await ctx.send("x" * 2001)
            elif what == "embed":
                await ctx.send(embed=discord.Embed(title="t" * 257).add_field(name="n", value=""))
            else:
                await ctx.send("   ")
        except discord.HTTPException as exc:
            caught.append(exc)

    async with run_client(bot, server):
        await server.user_says(world.chan, world.alice, "!long content")
        await server.user_says(world.chan, world.alice, "!long embed")
        await server.user_says(world.chan, world.alice, "!long blank")
        await server.wait_until(lambda: len(caught) == 3, what="three HTTPExceptions")
    content, embed, blank = caught
    assert (content.status, content.code) == (400, 50035)
    assert "content" in content.text and "2000" in content.text
    assert (embed.status, embed.code) == (400, 50035)
    assert "embeds.0.title" in embed.text and "embeds.0.fields.0.value" in embed.text
    assert (blank.status, blank.code) == (400, 50006)
    assert server.bot_messages() == []


async def test_429_is_retried_and_message_lands_once(world: World) -> None:
    server = world.server
    bot = make_bot()

    @bot.command()
    async def hello(ctx: commands.Context) -> None:
        await ctx.send("hello!")

    fault = server.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.3)
    async with run_client(bot, server):
        msg = await server.user_says(world.chan, world.alice, "!hello")
        rec = await server.wait_for_reply(msg)
        await asyncio.sleep(0.1)  # any duplicate would show up now
    assert rec.content == "hello!" and fault.hits == 1
    posts = [r for r in server.requests if r.method == "POST"]
    assert [(r.status, r.injected) for r in posts] == [(429, True), (200, False)]
    assert posts[1].at - posts[0].at >= 0.3
    assert [m.content for m in server.bot_messages(world.chan)] == ["hello!"]


async def test_500_is_retried(world: World) -> None:
    server = world.server
    bot = make_bot()

    @bot.command()
    async def hello(ctx: commands.Context) -> None:
        await ctx.send("hello!")

    server.fail_next("POST", "/channels/*/messages", status=500)
    async with run_client(bot, server):
        msg = await server.user_says(world.chan, world.alice, "!hello")
        await server.wait_for_reply(msg, timeout=5)  # discord.py waits 1 s before retrying
    assert [r.status for r in server.requests if r.method == "POST"] == [500, 200]


# ---------------------------------------------------------------------------- gateway faults


def echo_bot(**kwargs: object) -> commands.Bot:
    bot = make_bot(**kwargs)

    @bot.command()
    async def echo(ctx: commands.Context, *, text: str) -> None:
        await ctx.send(text)

    return bot


async def test_gateway_drop_resumes_and_replays_missed_events(world: World) -> None:
    server = world.server
    bot = echo_bot()
    resumed: list[bool] = []

    @bot.listen()
    async def on_resumed() -> None:
        resumed.append(True)

    async with run_client(bot, server):
        assert await server.drop_gateway(4000) == 1
        # posted while the bot is disconnected: buffered and replayed on RESUME
        msg = await server.user_says(world.chan, world.alice, "!echo missed")
        rec = await server.wait_for_reply(msg)
        assert rec.content == "missed"
        assert server.resume_count == 1 and server.identify_count == 1
        sent = [e.t for e in server.gateway.log if e.direction == "out" and e.t]
        assert sent[sent.index("RESUMED") - 1] == "MESSAGE_CREATE"  # replayed before RESUMED
        assert server.gateway.connections[-1].path == "/resume/"  # used resume_gateway_url
        await server.wait_until(lambda: resumed, what="on_resumed")
        msg = await server.user_says(world.chan, world.alice, "!echo after")
        assert (await server.wait_for_reply(msg)).content == "after"


async def test_refused_resume_leads_to_new_identify(world: World) -> None:
    server = world.server
    bot = echo_bot()
    identifies = skip_identify_delay(bot)  # discord.py sleeps 5 s before a re-IDENTIFY
    async with run_client(bot, server):
        first = server.sessions[0]
        server.refuse_next_resume()
        await server.drop_gateway(4000)
        await server.wait_for_session(count=2)
        await wait_ready_again(bot, server)
        assert server.resume_count == 0 and not first.alive
        assert identifies == [True, False]
        assert any(e.op == 9 and e.d is False for e in server.gateway.log)
        msg = await server.user_says(world.chan, world.alice, "!echo still here")
        assert (await server.wait_for_reply(msg)).content == "still here"


async def test_disallowed_privileged_intent_closes_4014(world: World) -> None:
    server = world.server
    server.deny_intent(Intent.MESSAGE_CONTENT)
    bot = make_bot(message_content=True)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(bot.start(server.token), 5)
    finally:
        await bot.close()
    assert server.gateway.close_codes == [4014]
    # without asking for the intent the same bot connects fine
    bot = make_bot(message_content=False)
    async with run_client(bot, server):
        assert bot.get_guild(world.guild.id) is not None


# ---------------------------------------------------------------------------- pure fake checks


async def test_pings_follow_discord_rules(world: World) -> None:
    server = world.server
    quiet = server.add_role(world.guild, "Quiet")  # not mentionable
    staff = server.add_text_channel(
        world.guild, "staff", overwrites={world.guild: (0, Perm.VIEW_CHANNEL)}
    )

    def pings(content: str, am: dict | None, chan: Channel = world.chan) -> Pings:
        return server.world.compute_pings(
            channel=chan, author_id=server.bot_user.id, content=content, allowed_mentions=am
        )

    alice = world.alice.mention
    assert world.alice in pings(alice, None)  # no allowed_mentions: everything parses
    assert world.alice not in pings(alice, {"parse": ["roles"]})
    assert world.alice in pings(alice, {"parse": [], "users": [str(world.alice.id)]})
    assert world.alice not in pings(alice, None, staff)  # she cannot see #staff
    # @everyone and non-mentionable roles need MENTION_EVERYONE (default @everyone has it)
    assert pings("@everyone look", None).everyone
    assert not pings("@everyone look", {"parse": ["users", "roles"]}).everyone
    assert quiet in pings(quiet.mention, None)
    world.guild.everyone.permissions &= ~Perm.MENTION_EVERYONE
    assert quiet not in pings(quiet.mention, None)
    assert not pings("@everyone look", None)


@pytest.mark.parametrize(
    ("body", "code", "paths"),
    [
        ({"content": "x" * 2001}, 50035, ["content"]),
        ({"content": "   "}, 50006, []),
        ({"embeds": [{"title": "t"}] * 11}, 50035, ["embeds"]),
        ({"embeds": [{"description": "d" * 4097}]}, 50035, ["embeds.0.description"]),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, 50035, ["embeds.0.fields"]),
        (
            {"embeds": [{"fields": [{"name": "n" * 257, "value": "v" * 1025}]}]},
            50035,
            ["embeds.0.fields.0.name", "embeds.0.fields.0.value"],
        ),
        (
            {"embeds": [{"footer": {"text": "f" * 2049}, "author": {"name": "a" * 257}}]},
            50035,
            ["embeds.0.footer.text", "embeds.0.author.name"],
        ),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, 50035, ["embeds"]),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"c{i}"}],
                    }
                    for i in range(6)
                ]
            },
            50035,
            ["components"],
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "label": "b", "custom_id": f"c{i}"}
                            for i in range(6)
                        ],
                    }
                ]
            },
            50035,
            ["components.0.components"],
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "label": "l" * 81, "custom_id": "c" * 101}
                        ],
                    }
                ]
            },
            50035,
            ["components.0.components.0.label", "components.0.components.0.custom_id"],
        ),
        (
            {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
            50035,
            ["allowed_mentions"],
        ),
    ],
)
async def test_message_limits_are_enforced(
    world: World, body: dict, code: int, paths: list[str]
) -> None:
    server = world.server
    url = f"{server.api_url}/channels/{world.chan.id}/messages"
    headers = {"Authorization": f"Bot {server.token}"}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        assert r.status == 400 and r.headers["Content-Type"] == "application/json"
        data = await r.json()
    assert data["code"] == code
    assert sorted(p for p, _ in flatten_errors(data.get("errors", {}))) == sorted(paths)
    assert server.bot_messages() == []


async def test_unknown_route_auth_and_strict_mode(world: World) -> None:
    server = world.server
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.api_url}/users/@me") as r:
            assert r.status == 401  # no "Authorization: Bot <token>"
        headers = {"Authorization": f"Bot {server.token}"}
        async with http.get(f"{server.api_url}/guilds/1/audit-logs", headers=headers) as r:
            assert (r.status, await r.json()) == (404, {"message": "404: Not Found", "code": 0})
    assert server.unhandled_routes == ["GET /api/v10/guilds/1/audit-logs"]
    with pytest.raises(AssertionError, match="audit-logs"):
        server.assert_healthy()  # what `async with FakeDiscord()` runs on exit (strict=True)
    server.unhandled_routes.clear()
    bot = make_bot()
    try:
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-token")
    finally:
        await bot.close()
