"""The frozen settings the rest of the bot reads: what config/ says, validated."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.core.extract.model import Limits

if TYPE_CHECKING:
    from bot.core.model import RetrievalSettings

DEFAULT_POLL_SECONDS = 30


# --- the settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadSettings:
    """`/quotebot add`: moderators' uploads, stored per guild under uploads_dir."""

    enabled: bool = True
    max_bytes: int = 10 * 1024**2  # one file
    collection: str = "uploads"  # a guild's private collection is "<collection>-<guild id>"
    max_total_bytes: int = 100 * 1024**2  # all of one guild's uploads
    per_hour: int = 20  # uploads per guild per hour

    def private_collection(self, guild_id: int) -> str:
        return f"{self.collection}-{guild_id}"


@dataclass(frozen=True)
class GapSettings:
    """Questions the bot could not answer, and answers marked not helpful."""

    enabled: bool = True
    keep_days: int = 90


@dataclass(frozen=True)
class Cooldown:
    rate: int  # at most this many questions per user ...
    per: float  # ... per this many seconds


@dataclass(frozen=True)
class Shards:
    """The gateway shards one process runs: `ids` out of `count`. Discord sends a guild's
    events to shard (guild_id >> 22) % count and DMs to shard 0, so processes that together
    run every id serve every guild once."""

    count: int
    ids: tuple[int, ...]


@dataclass(frozen=True)
class CollectionSettings:
    name: str
    folders: tuple[Path, ...]  # absolute, symlinks resolved, all inside the project root
    visibility: Literal["public"] | frozenset[int]  # or the guild ids that may quote it
    dms: bool
    # host:port of the `xapian-tcpsrv` servers holding the collection's shards (empty: the
    # embedded index searches it); see bot/core/xapianstage.py.
    shard_servers: tuple[str, ...] = ()

    def visible_in(self, guild_id: int | None) -> bool:
        """May this guild quote the collection? None is a DM."""
        if guild_id is None:
            return self.dms
        return self.visibility == "public" or guild_id in self.visibility


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int | None  # None: DMs, or the defaults
    prefix: str
    channels: frozenset[int] | None  # None: every channel
    collections: frozenset[str]  # resolved: the names this guild may quote
    moderator_roles: frozenset[int]
    cooldown: Cooldown
    top_k: int
    uploads: UploadSettings = UploadSettings()  # bot.yaml's `uploads:`, a guild file's over it
    gaps: GapSettings = GapSettings()

    def answers_in(self, channel_id: int) -> bool:
        return self.channels is None or channel_id in self.channels


@dataclass(frozen=True)
class Settings:
    root: Path
    config_dir: Path
    collections: Mapping[str, CollectionSettings]
    retrieval: RetrievalSettings
    aliases: Mapping[str, tuple[str, ...]]
    max_document_bytes: int
    document_limits: Limits  # extracting PDF, HTML and DOCX files; max_bytes as above
    index_dir: Path
    dms_enabled: bool
    dms_cooldown: Cooldown
    # The defaults section; its collections are the selected ones that are public, since
    # it speaks for no guild in particular. for_guild() resolves them for a real guild.
    defaults: GuildSettings
    default_collections: frozenset[str] | None  # the defaults' selection; None: all
    guilds: Mapping[int, GuildSettings]  # one per guild file
    state_dir: Path = Path(".quotebot-state")
    uploads_dir: Path | None = None  # None: <state_dir>/uploads
    # How often a process reads the uploads table to catch other processes' adds and removes.
    uploads_poll_seconds: int = DEFAULT_POLL_SECONDS
    # Collections of moderators' uploads, by the guild that owns them: quotable there only.
    owned: Mapping[int, frozenset[str]] = dataclasses.field(default_factory=dict)
    shards: Shards | None = None  # None: Discord's recommended count, all in this process

    @property
    def upload_root(self) -> Path:
        """Where moderators' uploads are kept: <upload_root>/<guild id>/<collection>/."""
        return self.uploads_dir or self.state_dir / "uploads"

    def for_guild(self, guild_id: int | None) -> GuildSettings:
        """The settings of a guild (its file, else the defaults); None gives the DM settings."""
        if guild_id is None:
            return dataclasses.replace(
                self.defaults,
                channels=None,
                moderator_roles=frozenset(),
                cooldown=self.dms_cooldown,
                # With DMs off nothing is quotable there, even if a caller forgets to check.
                collections=self._visible(self.default_collections, None)
                if self.dms_enabled
                else frozenset(),
            )
        owned = self.owned.get(guild_id, frozenset())
        if guild_id in self.guilds:
            mine = self.guilds[guild_id]
            if owned:
                return dataclasses.replace(mine, collections=mine.collections | owned)
            return mine
        return dataclasses.replace(
            self.defaults,
            guild_id=guild_id,
            collections=self._visible(self.default_collections, guild_id) | owned,
        )

    def _visible(self, selection: frozenset[str] | None, guild_id: int | None) -> frozenset[str]:
        return frozenset(
            name
            for name, coll in self.collections.items()
            if (selection is None or name in selection) and coll.visible_in(guild_id)
        )

    def redacted(self) -> dict:
        """Everything, JSON-able, for `quotebot config`. Ids are strings (JSON numbers lose
        digits past 2**53); paths are relative to the project root."""
        return {
            "collections": {n: self._collection_json(c, True) for n, c in self.collections.items()},
            "documents": self._documents_json(),
            "retrieval": _retrieval_json(self.retrieval),
            "aliases": {name: list(words) for name, words in self.aliases.items()},
            "defaults": {
                **_guild_json(self.defaults),
                "collections": "all"
                if self.default_collections is None
                else sorted(self.default_collections),
            },
            "dms": {"enabled": self.dms_enabled, **_guild_json(self.for_guild(None))},
            "index_dir": _shown(self.index_dir, self.root),
            "state_dir": _shown(self.state_dir, self.root),
            "uploads_dir": None if self.uploads_dir is None else _shown(self.uploads_dir,
                                                                         self.root),
            "uploads_poll_seconds": self.uploads_poll_seconds,
            "guilds": {str(g): _guild_json(s) for g, s in sorted(self.guilds.items())},
            "shards": None if self.shards is None else {
                "count": self.shards.count, "ids": list(self.shards.ids)},
        }

    def redacted_for(self, guild_id: int | None) -> dict:
        """What one guild's moderators may see (the `/quotebot config` command): its own
        settings and the collections it can quote, never another guild's."""
        mine = self.for_guild(guild_id)
        return {
            "guild": _guild_json(mine),
            "collections": {
                n: self._collection_json(self.collections[n], False)
                for n in sorted(mine.collections)
            },
            "documents": self._documents_json(),
            "retrieval": _retrieval_json(self.retrieval),
            "aliases": {name: list(words) for name, words in self.aliases.items()},
            "dms_enabled": self.dms_enabled,
        }

    def _documents_json(self) -> dict:
        return {"max_bytes": self.max_document_bytes, **dataclasses.asdict(self.document_limits)}

    def _collection_json(self, coll: CollectionSettings, ids: bool) -> dict:
        if coll.visibility == "public":
            visibility: str | list[str] = "public"
        else:
            visibility = sorted(str(g) for g in coll.visibility) if ids else "private"
        return {
            "folders": [_shown(p, self.root) for p in coll.folders],
            "visibility": visibility,
            "dms": coll.dms,
            **({"shard_servers": list(coll.shard_servers)} if ids and coll.shard_servers else {}),
        }


def _guild_json(g: GuildSettings) -> dict:
    return {
        "guild_id": None if g.guild_id is None else str(g.guild_id),
        "prefix": g.prefix,
        "channels": "all" if g.channels is None else sorted(str(c) for c in g.channels),
        "collections": sorted(g.collections),
        "moderator_roles": sorted(str(r) for r in g.moderator_roles),
        "cooldown": {"rate": g.cooldown.rate, "per": g.cooldown.per},
        "top_k": g.top_k,
        "uploads": dataclasses.asdict(g.uploads),
        "gaps": dataclasses.asdict(g.gaps),
    }


def _retrieval_json(retrieval: Any) -> dict:
    out = {}
    for f in dataclasses.fields(retrieval):
        value = getattr(retrieval, f.name)
        out[f.name] = value if isinstance(value, str | int | float | bool) else repr(value)
    return out


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)
