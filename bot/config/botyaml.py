"""bot.yaml: collections, documents, retrieval, aliases, guild defaults, DMs, index folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import stateyaml
from bot.config.guilds import (
    _BUILTIN_COOLDOWN,
    _BUILTIN_DEFAULTS,
    _GUILD_KEYS,
    _cooldown,
    _guild_layer,
)
from bot.config.retrieval import _retrieval
from bot.config.settings import (
    DEFAULT_POLL_SECONDS,
    CollectionSettings,
    Cooldown,
    GapSettings,
    Shards,
    UploadSettings,
    _shown,
)
from bot.config.shards import _shards
from bot.config.values import (
    _ID_EXAMPLE,
    _as_snowflake,
    _flag,
    _ids,
    _number,
    _read,
    _Section,
    _shard_servers,
    _Spot,
    _whole,
    _work_folder,
)
from bot.config.yamlfile import _BAD, ConfigFile, _all_good, _got, _LineDict, _LineList
from bot.core.documents import DEFAULT_MAX_BYTES
from bot.core.extract.model import Limits

MAX_BYTES = (1024, 1024**3)
# documents: keys bounding a PDF, HTML or DOCX file's extraction (bot/core/extract/model.py
# Limits): (lowest, highest). Below 256 MiB of memory a worker cannot start its readers.
_EXTRACT_LIMITS: dict[str, tuple[float, float]] = {
    "max_pages": (1, 100_000),
    "max_unpacked": (1024**2, 64 * 1024**3),
    "max_seconds": (1, 3600),
    "max_memory": (256 * 1024**2, 1024**4),
}
DEFAULT_INDEX_DIR = ".quotebot-cache"
_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_COLLECTIONS_EXAMPLE = "`collections: {seeds: {folders: [seeds], visibility: public}}`"
_TOP_KEYS = (
    "collections", "documents", "retrieval", "aliases", "defaults", "dms", "index_dir",
    "state_dir", "uploads", "gaps", "shards", "uploads_dir", "uploads_poll_seconds",
)
_SECTION_EXAMPLES = {
    "documents": "`documents: {max_bytes: 20971520}`",
    "retrieval": "`retrieval: {k1: 1.2, b: 0.75}`",
    "aliases": "`aliases: {Kyiv: [Kiev]}`",
    "defaults": '`defaults: {prefix: "!", top_k: 3}`',
    "dms": "`dms: {enabled: true}`",
    **stateyaml.EXAMPLES,
    "shards": "`shards: {count: 2, ids: [0]}`",
}


@dataclass
class _Global:
    """bot.yaml as validated; a part with problems keeps its built-in default."""

    file: str
    root: Path
    catalog: dict[str, CollectionSettings | None] | None = None  # None: bot.yaml unusable
    retrieval: Any = None
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_bytes: int = DEFAULT_MAX_BYTES
    extract_limits: dict[str, int | float] = field(default_factory=dict)  # documents: keys set
    index_dir: Path | None = None
    dms_enabled: bool = True
    dms_cooldown: Cooldown = _BUILTIN_COOLDOWN
    shards: Shards | None = None
    defaults: dict[str, Any] = field(default_factory=lambda: dict(_BUILTIN_DEFAULTS))
    state_dir: Path | None = None
    uploads_dir: Path | None = None
    uploads_poll_seconds: int = DEFAULT_POLL_SECONDS
    uploads: UploadSettings = field(default_factory=UploadSettings)
    gaps: GapSettings = field(default_factory=GapSettings)


def _parse_bot_yaml(path: Path, file: ConfigFile, root: Path) -> _Global:
    glob = _Global(file.rel, root)
    if not path.is_file():
        yml = path.with_suffix(".yml").exists()
        hint = " (there is a bot.yml: rename it to bot.yaml)" if yml else ""
        file.add(
            None, "",
            f"is missing{hint}: create it; the bot.yaml shipped with quotebot describes every key",
        )
        return glob
    top = _read(path, file, _COLLECTIONS_EXAMPLE)
    if top is None:
        return glob
    moved = "is a guild setting: put it under `defaults:` (or in a guild file)"
    top.only(_TOP_KEYS, {k: moved for k in _GUILD_KEYS})
    glob.catalog = _collections(top, root)
    sections: dict[str, Callable[[_Section], None]] = {
        "documents": lambda s: _documents(s, glob),
        "retrieval": lambda s: setattr(glob, "retrieval", _retrieval(s)),
        "aliases": lambda s: setattr(glob, "aliases", _aliases(s)),
        "defaults": lambda s: glob.defaults.update(_defaults(s, glob)),
        "dms": lambda s: _dms(s, glob),
        "uploads": lambda s: _keep(glob, "uploads", stateyaml.parse_uploads(s)),
        "gaps": lambda s: _keep(glob, "gaps", stateyaml.parse_gaps(s)),
        "shards": lambda s: setattr(glob, "shards", _shards(s)),
    }
    for key, parse in sections.items():
        if key in top and (sec := top.section(key, _SECTION_EXAMPLES[key])) is not None:
            parse(sec)
    if glob.retrieval is None:
        glob.retrieval = _retrieval(None)
    if "index_dir" in top:
        glob.index_dir = _index_dir(top.spot("index_dir"), top["index_dir"], root)
    if "state_dir" in top:
        glob.state_dir = stateyaml.parse_state_dir(top.spot("state_dir"), top["state_dir"], root)
    if "uploads_dir" in top:
        glob.uploads_dir = stateyaml.parse_uploads_dir(top.spot("uploads_dir"),
                                                       top["uploads_dir"], root)
    if "uploads_poll_seconds" in top:
        _keep(glob, "uploads_poll_seconds", stateyaml.parse_poll_seconds(
            top.spot("uploads_poll_seconds"), top["uploads_poll_seconds"]))
    return glob


def _keep(glob: _Global, name: str, value: Any) -> None:
    if value is not _BAD:  # a part with problems keeps its built-in default
        setattr(glob, name, value)


def _collections(top: _Section, root: Path) -> dict[str, CollectionSettings | None]:
    if "collections" not in top or top["collections"] is None or top["collections"] == {}:
        top.spot("collections").problem(
            f"missing or empty: define at least one collection of documents, e.g. "
            f"{_COLLECTIONS_EXAMPLE}"
        )
        return {}
    sec = top.section("collections", _COLLECTIONS_EXAMPLE)
    if sec is None:
        return {}
    catalog: dict[str, CollectionSettings | None] = {}
    for name, value in sec.data.items():
        spot = sec.spot(name)
        if not isinstance(name, str) or not _COLLECTION.fullmatch(name):
            spot.problem(
                "a collection name must be 1 to 32 letters, digits, '-' or '_' "
                f"(got {_got(name)}): rename it, e.g. `ops-notes:`"
            )
            if isinstance(name, str):
                catalog[name] = None
        elif name == "all":
            spot.problem("'all' is reserved (`collections: all` means every collection): rename it")
            catalog[name] = None
        elif isinstance(value, _LineDict):
            catalog[name] = _collection(_Section(sec.file, value, spot.name), name, root)
        else:
            spot.problem(
                f"must be a mapping (got {_got(value)}); write e.g. "
                f"`{name}: {{folders: [{name}], visibility: public}}`"
            )
            catalog[name] = None  # known, so guild files naming it get no second problem
    _shard_servers_everywhere(sec, catalog)
    return catalog


def _shard_servers_everywhere(sec: _Section, catalog: dict[str, CollectionSettings | None]) -> None:
    """Shards serve all collections or none: BM25 statistics from shards and from the
    embedded index would not be comparable within one answer."""
    good = {n: c for n, c in catalog.items() if c is not None}
    sharded = [n for n, c in good.items() if c.shard_servers]
    if sharded:
        for name in (n for n, c in good.items() if not c.shard_servers):
            sec.spot(name).problem(
                f"names no `shard_servers:` while {', '.join(sharded)} does: shard servers "
                f"serve every collection or none; build this one's with `quotebot xapian-shards "
                f"build --collection {name}` and list their servers, e.g. "
                f"`shard_servers: [10.0.0.5:7100]`"
            )


def _collection(sec: _Section, name: str, root: Path) -> CollectionSettings | None:
    sec.only(("folders", "visibility", "dms", "shard_servers"))
    folders = _folders(sec.spot("folders"), sec["folders"], root) if sec.require(
        "folders", f"`folders: [{name}]`"
    ) else _BAD
    visibility = _visibility(sec.spot("visibility"), sec["visibility"]) if sec.require(
        "visibility", f"`visibility: public` or `visibility: [{_ID_EXAMPLE}]`"
    ) else _BAD
    if "dms" in sec:
        dms = _flag(sec.spot("dms"), sec["dms"], "`dms: false`")
    else:  # only public collections are quotable in DMs unless the config says so
        dms = visibility == "public"
    servers = (_shard_servers(sec.spot("shard_servers"), sec["shard_servers"])
               if "shard_servers" in sec else ())
    if not _all_good(folders, visibility, dms, servers):
        return None
    return CollectionSettings(name=name, folders=folders, visibility=visibility, dms=dms,
                              shard_servers=servers)


def _folders(spot: _Spot, value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return spot.problem(
            f"must be a list of folders (got {_got(value)}); write `folders: [{value}]`"
        )
    if not isinstance(value, _LineList) or not value:
        return spot.problem(
            f"must be a list of one or more folders relative to the project root "
            f"(got {_got(value)}); write e.g. `folders: [seeds]`"
        )
    paths = [_folder(spot.item(value, i), item, root) for i, item in enumerate(value)]
    return tuple(dict.fromkeys(paths)) if _all_good(*paths) else _BAD


def _folder(spot: _Spot, value: Any, root: Path) -> Any:
    if not isinstance(value, str) or not value.strip():
        return spot.problem(
            f"must be a folder path relative to the project root (got {_got(value)}); "
            "write e.g. `seeds`"
        )
    given = Path(value)
    try:
        path = (given if given.is_absolute() else root / given).resolve()
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError) as exc:
        return spot.problem(f"{value!r} is not a usable path ({exc}): fix the path")
    if not path.is_relative_to(root):
        if ".." in given.parts:
            how = "'..' climbs out of it"
        elif given.is_absolute():
            how = "it is an absolute path elsewhere"
        else:
            how = "a symbolic link on the way leads out of it"
        return spot.problem(
            f"{value!r} is outside the project root ({how}): documents must live inside the "
            "project; move them there and write the path relative to the root, e.g. `seeds`"
        )
    if path == root:
        return spot.problem(
            f"{value!r} is the project root itself, which would make every .txt and .md file "
            "of the project quotable: point at a folder of documents, e.g. `seeds`"
        )
    if not is_dir:
        what = "is a file, not a folder" if exists else "does not exist"
        return spot.problem(
            f"{value!r} {what} (looked for {_shown(path, root)} in the project root): "
            "create the folder or fix the path"
        )
    return path


def _visibility(spot: _Spot, value: Any) -> Any:
    if value == "public":
        return "public"
    if isinstance(value, _LineList) and value:
        return _ids(spot, value)
    if isinstance(value, _LineList):
        return spot.problem(
            "is an empty list, which lets no guild quote the collection: list guild ids, "
            f"e.g. `visibility: [{_ID_EXAMPLE}]`, or write `visibility: public`"
        )
    example = value if _as_snowflake(value) is not None else _ID_EXAMPLE
    return spot.problem(
        f"must be `public` or a list of guild ids (got {_got(value)}); write "
        f"`visibility: public` or `visibility: [{example}]`"
    )


def _documents(sec: _Section, glob: _Global) -> None:
    sec.only(("max_bytes", *_EXTRACT_LIMITS))
    if "max_bytes" in sec:
        value = _whole(sec.spot("max_bytes"), sec["max_bytes"], *MAX_BYTES, "`max_bytes: 20971520`")
        if value is not _BAD:
            glob.max_bytes = value
    defaults = Limits()
    for name, (lo, hi) in _EXTRACT_LIMITS.items():
        if name not in sec:
            continue
        default = getattr(defaults, name)
        check = _number if isinstance(default, float) else _whole
        example = f"`{name}: {default:g}`" if check is _number else f"`{name}: {default}`"
        value = check(sec.spot(name), sec[name], lo, hi, example)
        if value is not _BAD:
            glob.extract_limits[name] = value


def _aliases(sec: _Section) -> dict[str, tuple[str, ...]]:
    aliases = {}
    for name, words in sec.data.items():
        spot = sec.spot(name)
        ok = _word(spot, name, f"`'{spot.leaf}': [...]`")
        if isinstance(words, str):
            spot.problem(
                f"must be a list of other spellings (got {_got(words)}); write `{name}: [{words}]`"
            )
            continue
        if not isinstance(words, _LineList) or not words:
            spot.problem(
                f"must be a list of one or more other spellings (got {_got(words)}); "
                "write e.g. `Kyiv: [Kiev]`"
            )
            continue
        checked = [
            _word(spot.item(words, i), w, f'`"{_raw(words, i)}"`') for i, w in enumerate(words)
        ]
        if ok and all(checked):
            aliases[name] = tuple(words)
    return aliases


def _raw(items: _LineList, i: int) -> str:
    return (items.raw[i] if i < len(items.raw) else None) or str(items[i])


def _word(spot: _Spot, value: Any, quoted: str) -> bool:
    if isinstance(value, str) and value.strip():
        return True
    if isinstance(value, bool | int | float):
        spot.problem(
            f"YAML reads this as {_got(value)}, not as a word (yes/no/on/off are true/false, "
            f"digits are numbers): put it in quotes, e.g. {quoted}"
        )
    else:
        spot.problem(f"must be a word or name (got {_got(value)})")
    return False


def _defaults(sec: _Section, glob: _Global) -> dict[str, Any]:
    moved = "is a top-level setting, not a guild default: move it out of `defaults:`"
    return _guild_layer(sec, glob, None, {k: moved for k in _TOP_KEYS})


def _dms(sec: _Section, glob: _Global) -> None:
    sec.only(("enabled", "cooldown"))
    if "enabled" in sec:
        enabled = _flag(sec.spot("enabled"), sec["enabled"], "`enabled: true`")
        glob.dms_enabled = True if enabled is _BAD else enabled
    if "cooldown" in sec:
        cooldown = _cooldown(sec.spot("cooldown"), sec["cooldown"], _BUILTIN_COOLDOWN)
        glob.dms_cooldown = _BUILTIN_COOLDOWN if cooldown is _BAD else cooldown


def _index_dir(spot: _Spot, value: Any, root: Path) -> Path | None:
    return _work_folder(spot, value, root, f"`index_dir: {DEFAULT_INDEX_DIR}`", "the index needs")
