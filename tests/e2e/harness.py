"""A scene for end-to-end tests: a temp project (documents and a config naming the fake guilds),
the fake Discord server, and the real bot from bot.app.build_bot. Nothing here patches
discord.py: the bot finds the fake through DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL, read and
applied by bot/app.py as in production."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e.quotes import labels_of
from fakediscord import Channel, FakeDiscord, Guild, Intent, Perm, Role, User

from bot.app import QuoteBot, build_bot
from bot.config import Settings, load_settings
from bot.library import library_from_settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

# One sentence of about 2,800 characters (no full stop), Markdown characters included: its
# quote must be split over messages.
LONG = (
    "The glacier expedition chronicle records, day after day, "
    + ", ".join(
        f"camp {i} on the *ice* near ridge_{i} where the team | measured {i * 7} metres of snow"
        for i in range(1, 33)
    )
    + ", and it ends at the northern hut"
)
LANTERN = (
    "The harbour festival begins at dusk.\n\n"
    "Notice to @everyone and <@123>: the lantern parade starts at the **harbour** gate "
    "at nine; bring a `lantern` and _patience_.\n\n"
    "Stalls close at midnight."
)
VAULT = (
    "The vault beneath the observatory holds the zephyrium ledger of the old guild.\n\n"
    "Only the archivist keeps the key to the zephyrium ledger.\n\n"
    "The zephyrium ledger lists every debt of the harbour.\n\n"
    "A second zephyrium ledger was lost in the flood."
)
NEW_DOC = "The quarry bell rings twice when the basalt wagons arrive."


@dataclass
class Scene:
    server: FakeDiscord
    bot: QuoteBot
    root: Path
    settings: Settings
    g1: Guild  # sees the secret collection; answers only in #general
    g2: Guild  # public documents only
    g3: Guild  # a strict cooldown
    general: Channel
    offtopic: Channel
    lobby: Channel
    hall: Channel
    mods: Role
    alice: User  # member of g1 and g2
    bob: User  # moderator of g1 through a role
    carol: User  # member of g2
    dave: User  # member of g3
    eve: User  # plain member of g1
    task: asyncio.Task | None = None
    logs: list[logging.LogRecord] = field(default_factory=list)

    @property
    def documents(self) -> dict[str, Path]:
        """label -> file, for the verbatim checks."""
        return labels_of([self.root / "docs" / "public", self.root / "docs" / "secret"])

    def write_config(self, bot_yaml: str | None = None) -> None:
        config = self.root / "config"
        (config / "guilds").mkdir(parents=True, exist_ok=True)
        (config / "bot.yaml").write_text(bot_yaml or self.bot_yaml(), encoding="utf-8")
        (config / "guilds" / f"{self.g1.id}.yaml").write_text(
            f"channels: [{self.general.id}]\nmoderator_roles: [{self.mods.id}]\n", encoding="utf-8"
        )
        (config / "guilds" / f"{self.g2.id}.yaml").write_text('prefix: "?"\n', encoding="utf-8")
        (config / "guilds" / f"{self.g3.id}.yaml").write_text(
            "cooldown: {rate: 1, per: 30}\n", encoding="utf-8"
        )

    def bot_yaml(self) -> str:
        return f"""\
collections:
  public: {{folders: [docs/public], visibility: public, dms: true}}
  secret: {{folders: [docs/secret], visibility: [{self.g1.id}], dms: false}}
defaults:
  prefix: "!"
  channels: all
  collections: all
  moderator_roles: []
  cooldown: {{rate: 100, per: 1}}
  top_k: 2
dms:
  enabled: true
  cooldown: {{rate: 100, per: 1}}
index_dir: .cache
"""


def make_project(root: Path) -> None:
    public, secret = root / "docs" / "public", root / "docs" / "secret"
    shutil.copytree(SEEDS, public)
    secret.mkdir(parents=True)
    (public / "lantern.txt").write_text(LANTERN, encoding="utf-8")
    (public / "long.txt").write_text(LONG + ".\n", encoding="utf-8")
    labels = (SEEDS / "sources.yaml").read_text(encoding="utf-8")
    labels += '\nlantern.txt: {label: "Lantern notice"}\nlong.txt: {label: "The long chronicle"}\n'
    (public / "sources.yaml").write_text(labels, encoding="utf-8")
    (secret / "vault.txt").write_text(VAULT + "\n", encoding="utf-8")
    (secret / "sources.yaml").write_text('vault.txt: {label: "Vault ledger"}\n', encoding="utf-8")


def build_world(server: FakeDiscord, root: Path) -> Scene:
    g1, g2, g3 = server.add_guild("One"), server.add_guild("Two"), server.add_guild("Three")
    general = server.add_text_channel(g1, "general")
    offtopic = server.add_text_channel(g1, "offtopic")
    lobby = server.add_text_channel(g2, "lobby")
    hall = server.add_text_channel(g3, "hall")
    mods = server.add_role(g1, "Mods")  # no Manage Server: a moderator only by the config
    alice, bob, carol = server.add_user("alice"), server.add_user("bob"), server.add_user("carol")
    dave, eve = server.add_user("dave"), server.add_user("eve")
    for guild, user in [(g1, alice), (g2, alice), (g2, carol), (g3, dave), (g1, eve)]:
        server.add_member(guild, user)
    server.add_member(g1, bob, roles=[mods])
    scene = Scene(server, None, root, None, g1, g2, g3, general, offtopic, lobby, hall,  # type: ignore[arg-type]
                  mods, alice, bob, carol, dave, eve)
    make_project(root)
    scene.write_config()
    scene.settings = load_settings(root / "config")
    return scene


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def start_bot(scene: Scene) -> None:
    """Build the bot the way `quotebot run` does and connect it with the env variables."""
    library = await asyncio.to_thread(library_from_settings, scene.settings)
    with pytest.MonkeyPatch.context() as env:
        for key, value in scene.server.env().items():
            env.setenv(key, value)
        scene.bot = build_bot(scene.settings, library, guild_ready_timeout=0.1)
    scene.task = asyncio.create_task(scene.bot.start(scene.server.token))
    await asyncio.wait_for(scene.bot.wait_until_ready(), 10)


async def open_scene(tmp: Path, *, heartbeat_ms: int = 2000) -> Scene:
    """Start the server and build the world and the project; the bot is not started yet."""
    server = FakeDiscord(heartbeat_interval=heartbeat_ms)
    await server.start()
    scene = build_world(server, tmp)
    handler = _Keep(scene.logs)
    logging.getLogger().addHandler(handler)
    logging.getLogger("discord").setLevel(logging.DEBUG)
    scene._handler = handler  # type: ignore[attr-defined]
    return scene


async def close_scene(scene: Scene) -> None:
    if scene.bot is not None:
        await scene.bot.close()
    if scene.task is not None:
        await asyncio.wait_for(scene.task, 10)
    await scene.server.close()
    logging.getLogger().removeHandler(scene._handler)  # type: ignore[attr-defined]
    logging.getLogger("discord").setLevel(logging.NOTSET)
    scene.server.assert_healthy()


@contextlib.asynccontextmanager
async def running_scene(tmp: Path) -> AsyncIterator[Scene]:
    """A scene with the bot started, closed (and checked healthy) on the way out."""
    scene = await open_scene(tmp)
    try:
        await start_bot(scene)
        yield scene
    finally:
        await close_scene(scene)


__all__ = ["LANTERN", "LONG", "NEW_DOC", "VAULT", "Intent", "Perm", "Scene"]
