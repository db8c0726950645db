"""The schema's entry points: bot.yaml (botyaml.py) and the guild files (guilds.py) turned
into Settings, every problem collected and ordered by file and line."""

from __future__ import annotations

import logging
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.config.botyaml import _TOP_KEYS, DEFAULT_INDEX_DIR, _Global, _parse_bot_yaml
from bot.config.guilds import _GUILD_FILE_KEYS, _GUILD_KEYS, _guild_layer
from bot.config.settings import GuildSettings, Settings, _shown
from bot.config.stateyaml import DEFAULT_STATE_DIR
from bot.config.values import _ID_EXAMPLE, _as_snowflake, _read
from bot.config.yamlfile import ConfigFile
from bot.core.extract.model import Limits
from bot.errors import ConfigError, ConfigProblem

log = logging.getLogger(__name__)


def load_settings(config_dir: Path, root: Path | None = None) -> Settings:
    """Read and validate the config; ConfigError lists every problem found."""
    settings, problems = _load(Path(config_dir), root)
    if problems or settings is None:
        raise ConfigError(problems)
    # Moderators' uploads are collections too (bot/state/uploads.py); late import: the config
    # package stays free of the storage code for `check-config`.
    from bot.state.uploads import with_uploads

    settings = with_uploads(settings)
    log.info(
        "config: %d collections, %d guild files", len(settings.collections), len(settings.guilds)
    )
    return settings


def check_config(config_dir: Path, root: Path | None = None) -> list[ConfigProblem]:
    """Every problem in the config ([] when it is fine); never raises for bad content."""
    return _load(Path(config_dir), root)[1]


def _load(config_dir: Path, root: Path | None) -> tuple[Settings | None, list[ConfigProblem]]:
    root = (config_dir.parent if root is None else Path(root)).resolve()
    problems: list[ConfigProblem] = []
    if not root.is_dir():
        problems.append(ConfigProblem(str(root), None, "", "the project root does not exist"))
        return None, problems
    if not config_dir.is_dir():
        problems.append(
            ConfigProblem(
                _shown(config_dir.resolve(), root), None, "",
                "the config folder does not exist: create it with a bot.yaml inside",
            )
        )
        return None, problems
    main = ConfigFile(_shown((config_dir / "bot.yaml").resolve(), root), problems)
    glob = _parse_bot_yaml(config_dir / "bot.yaml", main, root)
    layers = {}
    for path in _guild_files(config_dir / "guilds", root, problems):
        gid, layer = _parse_guild(path, ConfigFile(_shown(path.resolve(), root), problems), glob)
        if gid is not None:
            layers[gid] = layer
    order = {file: n for n, file in enumerate(dict.fromkeys(p.file for p in problems))}
    problems.sort(key=lambda p: (order[p.file], p.line or 0))
    if problems:
        return None, problems
    return _build(root, config_dir.resolve(), glob, layers), []


def _build(root: Path, config_dir: Path, glob: _Global, layers: dict) -> Settings:
    collections = {n: c for n, c in (glob.catalog or {}).items() if c is not None}
    base = dict(glob.defaults)
    selection = base.pop("collections")

    def resolve(gid: int, layer: dict[str, Any]) -> GuildSettings:
        values = {"uploads": glob.uploads, "gaps": glob.gaps, **glob.defaults, **layer}
        chosen = values.pop("collections")
        names = frozenset(
            n
            for n, c in collections.items()
            if (chosen is None or n in chosen) and c.visible_in(gid)
        )
        return GuildSettings(guild_id=gid, collections=names, **values)

    public = frozenset(
        n for n, c in collections.items()
        if c.visibility == "public" and (selection is None or n in selection)
    )
    return Settings(
        root=root,
        config_dir=config_dir,
        collections=MappingProxyType(collections),
        retrieval=glob.retrieval,
        aliases=MappingProxyType(glob.aliases),
        max_document_bytes=glob.max_bytes,
        document_limits=Limits(max_bytes=glob.max_bytes, **glob.extract_limits),
        index_dir=glob.index_dir or root / DEFAULT_INDEX_DIR,
        dms_enabled=glob.dms_enabled,
        dms_cooldown=glob.dms_cooldown,
        defaults=GuildSettings(guild_id=None, collections=public, uploads=glob.uploads,
                               gaps=glob.gaps, **base),
        default_collections=selection,
        guilds=MappingProxyType({g: resolve(g, layer) for g, layer in sorted(layers.items())}),
        state_dir=glob.state_dir or root / DEFAULT_STATE_DIR,
        uploads_dir=glob.uploads_dir,
        uploads_poll_seconds=glob.uploads_poll_seconds,
        shards=glob.shards,
    )


# --- guild files -----------------------------------------------------------------------------


def _guild_files(folder: Path, root: Path, problems: list[ConfigProblem]) -> list[Path]:
    """The guild files in folder; other files (README, example.yaml.sample) are ignored."""
    if not folder.exists():
        return []  # no guild overrides
    if not folder.is_dir():
        problems.append(
            ConfigProblem(
                _shown(folder.resolve(), root), None, "", "must be a folder of guild files"
            )
        )
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix == ".yml":
            problems.append(
                ConfigProblem(
                    _shown(path.resolve(), root), None, "",
                    f"is ignored because only .yaml files are read: rename it to {path.stem}.yaml",
                )
            )
        elif path.suffix == ".yaml":
            files.append(path)
    return files


def _parse_guild(path: Path, file: ConfigFile, glob: _Global) -> tuple[int | None, dict[str, Any]]:
    guild_id = _as_snowflake(path.stem)
    if guild_id is None:
        file.add(
            None, "",
            f"the file name must be the guild's id, a 17 to 20 digit number (got {path.name!r}): "
            f"rename it to e.g. {_ID_EXAMPLE}.yaml; files not ending in .yaml are ignored",
        )
    top = _read(path, file, '`prefix: "?"`')
    if top is None:
        return None, {}
    allowed = (*_GUILD_KEYS, *_GUILD_FILE_KEYS)
    bot_only = f"can only be set in {glob.file}; a guild file may set: {', '.join(allowed)}"
    hints = {k: bot_only for k in _TOP_KEYS if k not in allowed}
    named = "is not needed: the file name is the guild id"
    hints.update(dict.fromkeys(("guild_id", "id", "guild"), named))
    return guild_id, _guild_layer(top, glob, guild_id, hints)
