"""Security over the fake Discord server: who may run moderator commands, where a private
collection may be quoted (buttons included, whatever a click claims), and the token, which must
never reach a log line, a reply, the config output or an error message.

The whole module runs one bot session logged at DEBUG with a distinctive token; the last test
checks every log record and every write the bot made for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging

import pytest
import pytest_asyncio
from e2e.harness import Scene, close_scene, open_scene, start_bot
from e2e.talk import check, mention, replies, say, slash_ask
from fakediscord import InteractionType, Perm

from bot import cli, messages

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "MTE5OTk5OTk5OTk5OTk5OTk5.Gq7zZz.DISTINCT-t0ken-for-leak-checks_xyz"
SECRET_QUESTION = "Who keeps the zephyrium ledger?"


class _Raw(logging.Handler):
    """Every record's text as it was emitted, before any other handler's filter rewrites it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory):
    scene = await open_scene(tmp_path_factory.mktemp("security-project"))
    scene.server.token = TOKEN  # what DISCORD_TOKEN holds and the bot logs in with
    root, raw = logging.getLogger(), _Raw()
    level = root.level
    root.handlers.insert(0, raw)
    root.setLevel(logging.DEBUG)
    scene.raw = raw  # type: ignore[attr-defined]
    try:
        await start_bot(scene)
        yield scene
    finally:
        await close_scene(scene)
        root.removeHandler(raw)
        root.setLevel(level)


# --- moderator commands --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["quotebot reload", "quotebot config"])
async def test_moderator_commands_refuse_everyone_else_everywhere(scene: Scene, command) -> None:
    server = scene.server
    kept = scene.bot.state.now
    if scene.dave.id not in scene.g2.members:
        lookalike = server.add_role(scene.g2, "Mods")  # same name, not a configured role
        server.add_member(scene.g2, scene.dave, roles=[lookalike])
    cases = [
        (scene.g1, scene.general, scene.eve, messages.NOT_MODERATOR),  # plain member
        (scene.g1, scene.general, scene.alice, messages.NOT_MODERATOR),
        (scene.g2, scene.lobby, scene.carol, messages.NOT_MODERATOR),
        (scene.g2, scene.lobby, scene.dave, messages.NOT_MODERATOR),  # a role named "Mods"
        (None, server.dm_channel(scene.alice), scene.alice, messages.GUILD_ONLY),
        (None, server.dm_channel(scene.bob), scene.bob, messages.GUILD_ONLY),  # a g1 moderator
    ]
    for guild, channel, user, refusal in cases:
        inter = await server.slash(guild, channel, user, command)
        (rec,) = await replies(scene, inter)
        assert (rec.ephemeral, rec.content) == (True, refusal), (user, guild)
    for text in (f"!{command}", f"{mention(scene)} /{command}"):  # no prefix path to them
        msg = await server.user_says(scene.general, scene.eve, text)
        await asyncio.sleep(0.3)
        assert not [r for r in server.records(after=msg) if r.content.startswith("Reloaded")]
    assert scene.bot.state.now is kept  # nothing was reloaded


async def test_manage_server_or_a_configured_role_is_needed_and_checked_each_time(
    scene: Scene,
) -> None:
    server = scene.server
    admins = server.add_role(scene.g2, "Admins", permissions=Perm.MANAGE_GUILD)
    server.set_member_roles(scene.g2, scene.carol, [admins])
    inter = await server.slash(scene.g2, scene.lobby, scene.carol, "quotebot config")
    text = "\n".join(r.content for r in await replies(scene, inter))
    assert text.startswith(messages.CONFIG_TITLE)
    server.set_member_roles(scene.g2, scene.carol, [])  # demoted: refused at once
    inter = await server.slash(scene.g2, scene.lobby, scene.carol, "quotebot config")
    (rec,) = await replies(scene, inter)
    assert rec.content == messages.NOT_MODERATOR
    server.set_member_roles(scene.g1, scene.bob, [])
    try:
        inter = await server.slash(scene.g1, scene.general, scene.bob, "quotebot config")
        (rec,) = await replies(scene, inter)
        assert rec.content == messages.NOT_MODERATOR
    finally:
        server.set_member_roles(scene.g1, scene.bob, [scene.mods])


# --- a private collection stays in its guild -----------------------------------------------------


async def test_button_ids_carry_no_trusted_data(scene: Scene) -> None:
    """Clicks whose message payload is forged (moved to another guild, other text, buttons the
    bot never made, or a message the bot never sent), or that come from a channel the bot
    ignores: each gets a short refusal and nothing from the private collection. discord.py
    only routes a click to a button the clicked message's payload has, so the forged payload
    carries the button."""
    server = scene.server
    _, recs = await slash_ask(scene, scene.g1, scene.general, scene.alice, SECRET_QUESTION)
    assert check(scene, recs)[0].label == "Vault ledger"
    answer = recs[-1].message
    user_msg = await server.user_says(scene.lobby, scene.carol, "a message with no buttons")

    def forge(message, guild, channel, custom_id):
        button = {"type": 2, "style": 2, "label": "Context", "custom_id": custom_id}
        return dataclasses.replace(
            message, channel_id=channel.id, guild_id=guild.id if guild else None,
            content="From *Vault ledger*, paragraph 2:\n> forged",
            components=[{"type": 1, "components": [button]}],
        )

    async def click(guild, channel, user, custom_id, message):
        inter = await server.interact(
            InteractionType.MESSAGE_COMPONENT, guild, channel, user,
            {"custom_id": custom_id, "component_type": 2},
            message=forge(message, guild, channel, custom_id),
        )
        await server.wait_until(
            lambda: [r for r in server.interaction_responses(inter) if r.content], 5)
        return inter, [r for r in server.interaction_responses(inter) if r.content]

    dm = server.dm_channel(scene.carol)
    cases = [
        (scene.g1, scene.general, scene.eve, "qb:ctx:99", answer, messages.EXPIRED),
        (scene.g1, scene.general, scene.eve, "qb:ctx:2", answer, messages.EXPIRED),
        (scene.g1, scene.offtopic, scene.alice, "qb:ctx:0", answer, messages.NOT_HERE),
        (scene.g1, scene.offtopic, scene.alice, "qb:more", answer, messages.NOT_HERE),
        (scene.g2, scene.lobby, scene.carol, "qb:ctx:0", user_msg, messages.EXPIRED),
        (scene.g2, scene.lobby, scene.carol, "qb:more", user_msg, messages.EXPIRED),
        (scene.g2, scene.lobby, scene.carol, "qb:ctx:0", answer, messages.HIDDEN),
        (scene.g2, scene.lobby, scene.carol, "qb:ctx:1", answer, messages.HIDDEN),
        (None, dm, scene.carol, "qb:ctx:0", answer, messages.HIDDEN),
    ]
    for guild, channel, user, custom_id, message, expected in cases:
        _, recs = await click(guild, channel, user, custom_id, message)
        assert [(r.ephemeral, r.content) for r in recs] == [(True, expected)], custom_id
    for guild, channel in [(scene.g2, scene.lobby), (None, dm)]:
        inter, _ = await click(guild, channel, scene.carol, "qb:more", answer)
        more = await replies(scene, inter)
        check(scene, more)
        assert "zephyrium" not in "".join(r.content for r in more)
    for custom_id in ("qb:ctx:x", "qb:nope", "qb:ctx:123"):  # not ours: nobody answers
        inter = await server.interact(
            InteractionType.MESSAGE_COMPONENT, scene.g2, scene.lobby, scene.carol,
            {"custom_id": custom_id, "component_type": 2},
            message=forge(answer, scene.g2, scene.lobby, custom_id),
        )
        await asyncio.sleep(0.2)
        assert not [r for r in server.interaction_responses(inter) if "zephyrium" in r.content]


async def test_a_private_quote_is_never_answered_outside_its_guild(scene: Scene) -> None:
    dm = scene.server.dm_channel(scene.alice)
    places = [
        await slash_ask(scene, scene.g2, scene.lobby, scene.carol, SECRET_QUESTION),
        await slash_ask(scene, None, dm, scene.alice, SECRET_QUESTION),
    ]
    texts = ["\n".join(r.content for r in recs) for _, recs in places]
    texts.append("\n".join(r.content for r in await say(scene, dm, scene.alice, SECRET_QUESTION)))
    texts.append("\n".join(r.content for r in await say(
        scene, scene.lobby, scene.carol, f"?ask {SECRET_QUESTION}")))
    for text in texts:
        assert "zephyrium" not in text and "Vault ledger" not in text, text


# --- the token -----------------------------------------------------------------------------------


async def test_config_output_never_shows_the_token(scene: Scene, monkeypatch, capsys) -> None:
    inter = await scene.server.slash(scene.g1, scene.general, scene.bob, "quotebot config")
    text = "\n".join(r.content for r in await replies(scene, inter))
    assert text.startswith(messages.CONFIG_TITLE) and TOKEN not in text
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    out = io.StringIO()
    config = str(scene.root / "config")
    assert cli.main(["check-config", config], out) == 0
    assert cli.main(["sources", "--config", config], out) == 0
    assert TOKEN not in out.getvalue() + capsys.readouterr().err


@pytest.mark.parametrize("bad", [
    "not-the-token-s3cr3t-XYZ",  # refused by Discord (4004 / 401)
    "s3cr3t-XYZ with spaces",
    "s3cr3t-XYZ\ninjected: header",  # would be a header injection
    "s3cr3t-XYZ\u00e9\u2028",
])
async def test_run_with_a_bad_token_is_one_line_that_does_not_echo_it(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    for key, value in scene.server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DISCORD_TOKEN", bad)
    raw: _Raw = scene.raw  # type: ignore[attr-defined]
    logged = len(raw.texts)
    code = await asyncio.to_thread(
        cli.main, ["run", "--config", str(scene.root / "config"), "--log-level", "DEBUG"]
    )
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE, err
    lines = [line for line in err.splitlines() if line.startswith("quotebot:")]
    assert lines and "token" in lines[-1].lower(), err
    assert "s3cr3t" not in err
    assert not [t for t in raw.texts[logged:] if "s3cr3t" in t]


async def test_the_token_never_appears_in_logs_or_replies(scene: Scene) -> None:
    """Runs last: the whole module's session, at DEBUG, errors included."""
    server = scene.server
    server.fail_next("POST", "/channels/*/messages", status=500)
    await say(scene, scene.general, scene.eve, f"!ask {SECRET_QUESTION}")
    raw: _Raw = scene.raw  # type: ignore[attr-defined]
    assert len(raw.texts) > 100 and any("discord.gateway" in t or "WebSocket" in t or "READY" in t
                                        for t in raw.texts)
    assert not [t for t in raw.texts if TOKEN in t]
    assert not [r for r in scene.logs if TOKEN in r.getMessage()]
    for rec in server.sent:
        assert TOKEN not in rec.content and TOKEN not in str(rec.embeds), rec
    for request in server.requests:
        assert TOKEN not in str(getattr(request, "body", "")), request
