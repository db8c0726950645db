"""The schema: bot.yaml and guild files turned into Settings, every problem collected."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.config.settings import CollectionSettings, Cooldown, GuildSettings, Settings, _shown
from bot.config.values import (
    _ID_EXAMPLE,
    _as_snowflake,
    _flag,
    _ids,
    _number,
    _read,
    _Section,
    _Spot,
    _text,
    _whole,
)
from bot.config.yamlfile import _BAD, _all_good, _File, _got, _LineDict, _LineList
from bot.core.documents import DEFAULT_MAX_BYTES
from bot.core.model import TOP_K, TOP_K_RANGE
from bot.errors import ConfigError, ConfigProblem

log = logging.getLogger(__name__)


MAX_PREFIX = 5
COOLDOWN_RATE = (1, 100)
COOLDOWN_PER = (1, 86_400)  # seconds
MAX_BYTES = (1024, 1024**3)
DEFAULT_INDEX_DIR = ".quotebot-cache"
_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_COLLECTIONS_EXAMPLE = "`collections: {seeds: {folders: [seeds], visibility: public}}`"
# Sane ranges of the retrieval knobs; a knob not listed gets _ANY_RANGE.
_RETRIEVAL_RANGES: dict[str, tuple[float, float]] = {
    "k1": (0, 10),
    "b": (0, 1),
    "epsilon": (0, 1),
    "top_k": TOP_K_RANGE,
    "threshold": (0, 1),
    "neighbour_weight": (0, 1),
    "paragraph_terms": (0, 10),
    "title_terms": (0, 10),
    "type_weight": (0, 1),
    "type_candidates": (1, 1_000),
    "diversity": (0, 1),
    "diversity_coverage": (0, 1),
    "candidates": (1, 10_000),
    "spelling_weight": (0, 1),
    "derived_weight": (0, 1),
    "spelling_rare": (0, 1_000_000),
    "rerank": (0, 1_000),
    "common_postings": (0, 100_000_000),
}
_ANY_RANGE = (0, 1_000_000)



# --- entry points --------------------------------------------------------------------------


def load_settings(config_dir: Path, root: Path | None = None) -> Settings:
    """Read and validate the config; ConfigError lists every problem found."""
    settings, problems = _load(Path(config_dir), root)
    if problems or settings is None:
        raise ConfigError(problems)
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
    main = _File(_shown((config_dir / "bot.yaml").resolve(), root), problems)
    glob = _parse_bot_yaml(config_dir / "bot.yaml", main, root)
    layers = {}
    for path in _guild_files(config_dir / "guilds", root, problems):
        gid, layer = _parse_guild(path, _File(_shown(path.resolve(), root), problems), glob)
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
        values = {**glob.defaults, **layer}
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
        index_dir=glob.index_dir or root / DEFAULT_INDEX_DIR,
        dms_enabled=glob.dms_enabled,
        dms_cooldown=glob.dms_cooldown,
        defaults=GuildSettings(guild_id=None, collections=public, **base),
        default_collections=selection,
        guilds=MappingProxyType({g: resolve(g, layer) for g, layer in sorted(layers.items())}),
    )



# --- bot.yaml ------------------------------------------------------------------------------

_TOP_KEYS = ("collections", "documents", "retrieval", "aliases", "defaults", "dms", "index_dir")
_GUILD_KEYS = ("prefix", "channels", "collections", "moderator_roles", "cooldown", "top_k")
_SECTION_EXAMPLES = {
    "documents": "`documents: {max_bytes: 20971520}`",
    "retrieval": "`retrieval: {k1: 1.2, b: 0.75}`",
    "aliases": "`aliases: {Kyiv: [Kiev]}`",
    "defaults": '`defaults: {prefix: "!", top_k: 3}`',
    "dms": "`dms: {enabled: true}`",
}
_BUILTIN_COOLDOWN = Cooldown(rate=3, per=30.0)
_BUILTIN_DEFAULTS: dict[str, Any] = {
    "prefix": "!",
    "channels": None,
    "collections": None,
    "moderator_roles": frozenset(),
    "cooldown": _BUILTIN_COOLDOWN,
    "top_k": TOP_K,
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
    index_dir: Path | None = None
    dms_enabled: bool = True
    dms_cooldown: Cooldown = _BUILTIN_COOLDOWN
    defaults: dict[str, Any] = field(default_factory=lambda: dict(_BUILTIN_DEFAULTS))


def _parse_bot_yaml(path: Path, file: _File, root: Path) -> _Global:
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
    }
    for key, parse in sections.items():
        if key in top and (sec := top.section(key, _SECTION_EXAMPLES[key])) is not None:
            parse(sec)
    if glob.retrieval is None:
        glob.retrieval = _retrieval(None)
    if "index_dir" in top:
        glob.index_dir = _index_dir(top.spot("index_dir"), top["index_dir"], root)
    return glob


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
    return catalog


def _collection(sec: _Section, name: str, root: Path) -> CollectionSettings | None:
    sec.only(("folders", "visibility", "dms"))
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
    if not _all_good(folders, visibility, dms):
        return None
    return CollectionSettings(name=name, folders=folders, visibility=visibility, dms=dms)


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
    sec.only(("max_bytes",))
    if "max_bytes" in sec:
        value = _whole(sec.spot("max_bytes"), sec["max_bytes"], *MAX_BYTES, "`max_bytes: 20971520`")
        if value is not _BAD:
            glob.max_bytes = value


def _retrieval(sec: _Section | None) -> Any:
    # The engine owns the knobs: every field of RetrievalSettings is a key here, so the two
    # cannot drift. Imported late so that `import bot.config` stays light.
    from bot.core.model import RetrievalSettings

    if sec is None:
        return RetrievalSettings()
    knobs = _knobs(RetrievalSettings)
    sec.only(tuple(knobs))
    values: dict[str, Any] = {}
    for name, default in knobs.items():
        if name not in sec:
            continue
        spot, value = sec.spot(name), sec[name]
        lo, hi = _RETRIEVAL_RANGES.get(name, _ANY_RANGE)
        example = f"`{name}: {_got(default) if isinstance(default, bool) else default}`"
        if isinstance(default, bool):
            values[name] = _flag(spot, value, example)
        elif isinstance(default, int):
            values[name] = _whole(spot, value, lo, hi, example)
        elif isinstance(default, float):
            values[name] = _number(spot, value, lo, hi, example)
        else:
            values[name] = _text(spot, value, example)
    if not _all_good(*values.values()):
        return _BAD
    try:
        return RetrievalSettings(**values)
    except (TypeError, ValueError) as exc:
        sec.file.add(
            sec.data.line, sec.path, f"the retrieval settings do not fit together ({exc}): fix them"
        )
        return _BAD


def _knobs(cls: type) -> dict[str, bool | int | float | str]:
    """The fields of cls that YAML can set: those whose default is a bool, int, float or str."""
    knobs = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        if f.init and isinstance(default, bool | int | float | str):
            knobs[f.name] = default
    return knobs


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
    if not isinstance(value, str) or not value.strip():
        spot.problem(
            f"must be a folder path, relative to the project root or absolute (got {_got(value)}); "
            f"write e.g. `index_dir: {DEFAULT_INDEX_DIR}`"
        )
        return None
    given = Path(value)
    try:
        path = (given if given.is_absolute() else root / given).resolve()
        is_file = path.exists() and not path.is_dir()
    except (OSError, ValueError) as exc:
        spot.problem(f"{value!r} is not a usable path ({exc}): fix the path")
        return None
    if is_file:
        spot.problem(f"{value!r} is a file, but the index needs a folder there: fix the path")
        return None
    return path


# --- guild settings (bot.yaml `defaults:` and guild files) -----------------------------------


def _guild_layer(
    sec: _Section, glob: _Global, guild_id: int | None, hints: Mapping[str, str]
) -> dict[str, Any]:
    """The guild settings present in sec, validated; guild_id None skips visibility checks."""
    sec.only(_GUILD_KEYS, hints)
    base_cooldown = glob.defaults["cooldown"]
    parsers: dict[str, Callable[[_Spot, Any], Any]] = {
        "prefix": _prefix,
        "channels": _channels,
        "collections": lambda spot, value: _selection(spot, value, glob, guild_id),
        "moderator_roles": _roles,
        "cooldown": lambda spot, value: _cooldown(spot, value, base_cooldown),
        "top_k": lambda spot, value: _whole(spot, value, *TOP_K_RANGE, f"`top_k: {TOP_K}`"),
    }
    layer = {key: parse(sec.spot(key), sec[key]) for key, parse in parsers.items() if key in sec}
    return {key: value for key, value in layer.items() if value is not _BAD}


def _prefix(spot: _Spot, value: Any) -> Any:
    spaced = isinstance(value, str) and any(c.isspace() for c in value)
    if isinstance(value, str) and 0 < len(value) <= MAX_PREFIX and not spaced:
        return value
    hint = ": a prefix starting with ! or # must be in quotes" if value is None else ""
    return spot.problem(
        f"must be 1 to {MAX_PREFIX} characters without spaces (got {_got(value)}{hint}); "
        'write e.g. `prefix: "!"`'
    )


def _channels(spot: _Spot, value: Any) -> Any:
    if value == "all":
        return None
    if isinstance(value, _LineList) and value:
        return _ids(spot, value)
    if isinstance(value, _LineList):
        return spot.problem(
            "is an empty list, so the bot would answer in no channel: list channel ids or "
            "write `channels: all`"
        )
    return spot.problem(
        f"must be `all` or a list of channel ids (got {_got(value)}); write `channels: all` "
        f"or `channels: [{_ID_EXAMPLE}]`"
    )


def _roles(spot: _Spot, value: Any) -> Any:
    if isinstance(value, _LineList):
        return _ids(spot, value)
    return spot.problem(
        f"must be a list of role ids (got {_got(value)}); write e.g. "
        f"`moderator_roles: [{_ID_EXAMPLE}]`, or `moderator_roles: []` for none"
    )


def _cooldown(spot: _Spot, value: Any, base: Cooldown) -> Any:
    """Keys left out keep base's value, so a guild may override just `rate` or just `per`."""
    if not isinstance(value, _LineDict):
        return spot.problem(
            f"must be a mapping (got {_got(value)}); write e.g. `cooldown: {{rate: 3, per: 30}}`"
        )
    sec = _Section(spot.file, value, spot.name)
    sec.only(("rate", "per"))
    rate, per = base.rate, base.per
    if "rate" in sec:
        rate = _whole(sec.spot("rate"), value["rate"], *COOLDOWN_RATE, "`rate: 3`")
    if "per" in sec:
        per = _number(sec.spot("per"), value["per"], *COOLDOWN_PER, "`per: 30`")
    return Cooldown(rate=rate, per=float(per)) if _all_good(rate, per) else _BAD


def _selection(spot: _Spot, value: Any, glob: _Global, guild_id: int | None) -> Any:
    """`all` (None) or the listed collection names, each known and visible to guild_id."""
    if value == "all":
        return None
    if not isinstance(value, _LineList) or not value:
        return spot.problem(
            f"must be `all` or a list of one or more collection names (got {_got(value)}); "
            "write `collections: all` or e.g. `collections: [seeds]`"
        )
    checked = [_chosen(spot.item(value, i), item, glob, guild_id) for i, item in enumerate(value)]
    return frozenset(checked) if _all_good(*checked) else _BAD


def _chosen(spot: _Spot, name: Any, glob: _Global, guild_id: int | None) -> Any:
    if not isinstance(name, str):
        return spot.problem(f"must be a collection name (got {_got(name)}); write e.g. `seeds`")
    catalog = glob.catalog
    if catalog is None or catalog == {}:  # bot.yaml is unusable: its problems say why
        return name
    if name not in catalog:
        close = difflib.get_close_matches(name, list(catalog), n=1)
        mean = f" (did you mean '{close[0]}'?)" if close else ""
        return spot.problem(
            f"{name!r} is not a collection{mean}; the collections defined in {glob.file} are: "
            f"{', '.join(catalog)}"
        )
    coll = catalog[name]
    if coll is not None and guild_id is not None and not coll.visible_in(guild_id):
        owners = ", ".join(str(g) for g in sorted(coll.visibility))
        guilds = "guild" if len(coll.visibility) == 1 else "guilds"
        return spot.problem(
            f"{name!r} is private to {guilds} {owners}, so guild {guild_id} may not quote it: "
            f"remove it here, or add {guild_id} to collections.{name}.visibility in {glob.file}"
        )
    return name


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


def _parse_guild(path: Path, file: _File, glob: _Global) -> tuple[int | None, dict[str, Any]]:
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
    bot_only = f"can only be set in {glob.file}; a guild file may set: {', '.join(_GUILD_KEYS)}"
    hints = {k: bot_only for k in _TOP_KEYS if k not in _GUILD_KEYS}
    named = "is not needed: the file name is the guild id"
    hints.update(dict.fromkeys(("guild_id", "id", "guild"), named))
    return guild_id, _guild_layer(top, glob, guild_id, hints)
