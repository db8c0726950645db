"""Load config/bot.yaml and config/guilds/<guild id>.yaml once, validate, return frozen settings.

Every problem is collected, not just the first: load_settings raises one ConfigError listing
them all, check_config returns them. Each names the file (relative to the project root), the
line, the dotted key and the fix. Files are read with a safe loader that records line numbers;
before any value is built, the parsed nodes are checked so that tags other than plain values
(``!!python/...``), loops, deep nesting and anchors/aliases that expand hugely ("billion
laughs") are refused without being constructed.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.documents import DEFAULT_MAX_BYTES
from bot.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from bot.core.answer import RetrievalSettings

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1024 * 1024
# Aliases may add at most this many values beyond those written out in the file.
MAX_ALIAS_EXPANSION = 10_000
MAX_DEPTH = 20  # the schema needs 5 levels; deeper is a mistake or an attack
# Parsing stops at this depth: PyYAML's scanner slows down quadratically with flow nesting
# (`[[[[...`) and its composer recurses once per level.
MAX_PARSE_DEPTH = 100
MAX_NUMBER_CHARS = 64  # Python refuses to parse ints of 4,300+ digits; nothing needs 64
MAX_PREFIX = 5
TOP_K = (1, 10)
COOLDOWN_RATE = (1, 100)
COOLDOWN_PER = (1, 86_400)  # seconds
MAX_BYTES = (1024, 1024**3)
DEFAULT_INDEX_DIR = ".quotebot-cache"
_SNOWFLAKE = re.compile(r"[1-9][0-9]{16,19}")  # Discord ids are 17-20 digits, below 2**64
_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_ID_EXAMPLE = "123456789012345678"
_COLLECTIONS_EXAMPLE = "`collections: {seeds: {folders: [seeds], visibility: public}}`"
# Sane ranges of the retrieval knobs; a knob not listed gets _ANY_RANGE.
_RETRIEVAL_RANGES: dict[str, tuple[float, float]] = {
    "k1": (0, 10),
    "b": (0, 1),
    "epsilon": (0, 1),
    "top_k": TOP_K,
    "threshold": (0, 1),
    "neighbour_weight": (0, 1),
    "paragraph_terms": (0, 10),
    "title_terms": (0, 10),
    "type_weight": (0, 1),
    "type_candidates": (1, 1_000),
    "diversity": (0, 1),
    "diversity_coverage": (0, 1),
    "candidates": (1, 10_000),
    "duplicate": (0, 1),
    "spelling_weight": (0, 1),
    "spelling_rare": (0, 1_000_000),
    "rerank": (0, 1_000),
}
_ANY_RANGE = (0, 1_000_000)


# --- the settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cooldown:
    rate: int  # at most this many questions per user ...
    per: float  # ... per this many seconds


@dataclass(frozen=True)
class CollectionSettings:
    name: str
    folders: tuple[Path, ...]  # absolute, symlinks resolved, all inside the project root
    visibility: Literal["public"] | frozenset[int]  # or the guild ids that may quote it
    dms: bool

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
    index_dir: Path
    dms_enabled: bool
    dms_cooldown: Cooldown
    # The defaults section; its collections are the selected ones that are public, since
    # it speaks for no guild in particular. for_guild() resolves them for a real guild.
    defaults: GuildSettings
    default_collections: frozenset[str] | None  # the defaults' selection; None: all
    guilds: Mapping[int, GuildSettings]  # one per guild file

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
        if guild_id in self.guilds:
            return self.guilds[guild_id]
        return dataclasses.replace(
            self.defaults,
            guild_id=guild_id,
            collections=self._visible(self.default_collections, guild_id),
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
            "documents": {"max_bytes": self.max_document_bytes},
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
            "guilds": {str(g): _guild_json(s) for g, s in sorted(self.guilds.items())},
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
            "documents": {"max_bytes": self.max_document_bytes},
            "retrieval": _retrieval_json(self.retrieval),
            "aliases": {name: list(words) for name, words in self.aliases.items()},
            "dms_enabled": self.dms_enabled,
        }

    def _collection_json(self, coll: CollectionSettings, ids: bool) -> dict:
        if coll.visibility == "public":
            visibility: str | list[str] = "public"
        else:
            visibility = sorted(str(g) for g in coll.visibility) if ids else "private"
        return {
            "folders": [_shown(p, self.root) for p in coll.folders],
            "visibility": visibility,
            "dms": coll.dms,
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


# --- reading YAML safely, with line numbers -------------------------------------------------

_YAML = "tag:yaml.org,2002:"
_MERGE = _YAML + "merge"
_PLAIN_TAGS = frozenset(
    _YAML + t for t in ("null", "bool", "int", "float", "str", "seq", "map", "value", "timestamp")
)


class _Bad:
    """The value of a setting that had a problem (already recorded)."""

    def __repr__(self) -> str:
        return "<bad>"


_BAD: Any = _Bad()


def _all_good(*values: object) -> bool:
    return not any(v is _BAD for v in values)


class _LineDict(dict):
    """A YAML mapping that knows the line it starts on, the line of each of its keys and how
    each key was written (YAML reads `No` as false; a message should say `No`)."""

    line: int = 1
    lines: Mapping[Any, int] = MappingProxyType({})
    raw: Mapping[Any, str] = MappingProxyType({})


class _LineList(list):
    """A YAML list that knows the line it starts on, and the line and text of each item."""

    line: int = 1
    lines: Sequence[int] = ()
    raw: Sequence[str | None] = ()


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and lists remember their lines. The pure-Python one, since
    the shape check runs between composing the nodes and constructing the values."""

    depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_PARSE_DEPTH:
                raise _TooDeep(self.get_mark().line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def fetch_flow_collection_start(self, token_class: type) -> None:
        if self.flow_level >= MAX_PARSE_DEPTH:
            raise _TooDeep(self.get_mark().line + 1)
        super().fetch_flow_collection_start(token_class)


def _construct_map(loader: _Loader, node: MappingNode) -> Iterator[_LineDict]:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))  # resolves `<<` merge keys first
    # After the merge the node's own keys come last, so their lines win.
    keys = [(loader.construct_object(k), k) for k, _ in node.value]
    data.lines = {key: k.start_mark.line + 1 for key, k in keys}
    data.raw = {key: k.value for key, k in keys if isinstance(k, ScalarNode)}


def _construct_seq(loader: _Loader, node: SequenceNode) -> Iterator[_LineList]:
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.lines = [item.start_mark.line + 1 for item in node.value]
    data.raw = [item.value if isinstance(item, ScalarNode) else None for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_Loader.add_constructor(_YAML + "map", _construct_map)
_Loader.add_constructor(_YAML + "seq", _construct_seq)
# A bare `=` resolves to the !!value tag, which SafeLoader cannot build; it is just text.
_Loader.add_constructor(_YAML + "value", yaml.SafeLoader.construct_yaml_str)


@dataclass
class _File:
    rel: str  # relative to the project root
    problems: list[ConfigProblem]

    def add(self, line: int | None, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.rel, line, key, message))


def _read(path: Path, file: _File, example: str) -> _Section | None:
    """The file's top-level mapping (empty for an empty file), or None after recording why
    it cannot be used; example shows a valid first line."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        file.add(None, "", f"cannot be read ({exc.strerror}): check that it is a readable file")
        return None
    if len(raw) > MAX_FILE_BYTES:
        file.add(
            None, "",
            f"is larger than {MAX_FILE_BYTES:,} bytes, the limit for a config file: "
            "a config this big is a mistake; keep long alias lists short",
        )
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        file.add(line, "", f"is not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8")
        return None
    data = _parse(text, file, example)
    return None if data is None else _Section(file, data)


def _parse(text: str, file: _File, example: str) -> _LineDict | None:
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character, found before parsing
        line = text[: exc.position].count("\n") + 1
        file.add(
            line, "",
            f"contains the control character #x{exc.character:02x}, which YAML does not allow: "
            "delete it (your editor may not show it)",
        )
        return None
    try:
        node = loader.get_single_node()
        if node is None:  # an empty file, or only comments
            return _LineDict()
        if not _Shape(file).check(node):
            return None
        data = loader.construct_document(node)
        if data is None or isinstance(data, _LineDict):
            return _LineDict() if data is None else data
        file.add(
            node.start_mark.line + 1, "",
            f"the top level must be a mapping of `key: value` lines (got {_got(data)}); "
            f"write e.g. {example}",
        )
    except yaml.MarkedYAMLError as exc:
        line, message = _syntax(exc)
        file.add(line, "", message)
    except yaml.YAMLError as exc:
        file.add(None, "", f"cannot be read as YAML ({exc}): fix the YAML syntax")
    except (_TooDeep, RecursionError) as exc:
        line = exc.line if isinstance(exc, _TooDeep) else loader.get_mark().line + 1
        file.add(
            line, "",
            f"is nested far too deeply (no setting needs more than {MAX_DEPTH} levels): "
            "check the brackets and indentation",
        )
    finally:
        loader.dispose()
    return None


def _syntax(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    what = exc.problem or "invalid YAML"
    if exc.context:
        start = exc.context_mark.line + 1 if exc.context_mark else None
        started = f" (started on line {start})" if start and start != line else ""
        what = f"{exc.context}{started}{',' if what.startswith('but ') else ':'} {what}"
    if "'\\t'" in what:
        what += " (YAML does not allow tabs for indentation: use spaces)"
    if "<block end>" in what:
        what += " (check the indentation: the keys of one mapping must line up)"
    if "mapping values are not allowed" in what:
        what += " (is a space missing after a colon, here or on the line above?)"
    if "could not determine a constructor" in what:
        return line, f"{what}: remove the tag"
    near = f" near line {line}" if line else ""
    return line, f"YAML syntax error: {what}; fix the YAML syntax{near}"


class _Shape:
    """One walk over the composed nodes, before any value is built. Refuses tags that are not
    plain values, loops, deep nesting and alias bombs; reports keys written twice.

    An alias is the same node object as its anchor, so a node's expanded size is computed
    once and reused: the walk costs the size of the file, not of the expansion."""

    def __init__(self, file: _File) -> None:
        self.file = file
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()
        self.ok = True

    def check(self, root: Node) -> bool:
        total = self._size(root, "", 0)
        if self.ok and total - len(self.sizes) > MAX_ALIAS_EXPANSION:
            line, name = root.start_mark.line + 1, ""
            if isinstance(root, MappingNode) and root.value:
                key, _ = max(root.value, key=lambda kv: self.sizes.get(id(kv[1]), 0))
                line, name = key.start_mark.line + 1, str(key.value)
            self._stop(
                line, name,
                f"anchors (&) and aliases (*) expand to {total:,} values, more than "
                f"{MAX_ALIAS_EXPANSION:,} beyond those written out: refusing a possible "
                '"billion laughs" file; write the values out instead of nesting aliases',
            )
        return self.ok

    def _stop(self, line: int, name: str, message: str) -> int:
        self.file.add(line, name, message)
        self.ok = False
        return 1

    def _size(self, node: Node, name: str, depth: int) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        line = node.start_mark.line + 1
        if id(node) in self.open:
            return self._stop(
                line, name,
                "an alias (*) here points back into the list or mapping that contains it, "
                "which never ends: remove the alias",
            )
        if depth > MAX_DEPTH:
            return self._stop(
                line, name,
                f"is nested more than {MAX_DEPTH} levels deep, which no setting needs: "
                "check the indentation",
            )
        if node.tag not in _PLAIN_TAGS:
            return self._stop(line, name, _tag_message(node, name))
        if node.tag in (_YAML + "int", _YAML + "float") and len(node.value) > MAX_NUMBER_CHARS:
            return self._stop(
                line, name,
                f"is a number {len(node.value):,} characters long: no setting needs more than "
                "20 digits; fix the number",
            )
        self.open.add(id(node))
        total = 1
        if isinstance(node, MappingNode):
            total += self._mapping(node, name, depth)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                total += self._size(item, f"{name}[{i}]", depth + 1)
        self.open.discard(id(node))
        self.sizes[id(node)] = total
        return total

    def _mapping(self, node: MappingNode, name: str, depth: int) -> int:
        total = 0
        seen: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if key.tag == _MERGE:  # `<<: *anchor` merges a mapping into this one
                total += self._size(value, name, depth + 1)
                continue
            label = str(key.value) if isinstance(key, ScalarNode) else "?"
            child = f"{name}.{label}" if name else label
            line = key.start_mark.line + 1
            if isinstance(key, ScalarNode):
                first = seen.get((key.tag, key.value))
                if first is not None:
                    self.file.add(
                        line, child,
                        f"is written twice in the same mapping (lines {first} and {line}) and "
                        "only the last would count: remove one",
                    )
                seen.setdefault((key.tag, key.value), line)
            total += self._size(key, child, depth + 1) + self._size(value, child, depth + 1)
        return total


def _tag_message(node: Node, name: str) -> str:
    tag = node.tag
    shown = "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag
    message = (
        f"the tag {shown} is not allowed: config files hold only text, numbers, true/false, "
        "lists and mappings, and nothing in them is ever run; remove the tag"
    )
    if isinstance(node, ScalarNode) and not shown.startswith("!!"):
        text = f"{shown} {node.value}".strip()
        leaf = name.rsplit(".", 1)[-1] or "key"
        message += f' (if you meant the text {text}, put it in quotes: `{leaf}: "{text}"`)'
    return message


# --- validating values ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Spot:
    """Where a value sits: file, line and dotted key, for its problems."""

    file: _File
    line: int | None
    name: str

    def problem(self, message: str) -> Any:
        self.file.add(self.line, self.name, message)
        return _BAD

    def item(self, items: _LineList, i: int) -> _Spot:
        line = items.lines[i] if i < len(items.lines) else self.line
        return _Spot(self.file, line, f"{self.name}[{i}]")

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class _Section:
    """A mapping being validated, with its dotted path."""

    def __init__(self, file: _File, data: _LineDict, path: str = "") -> None:
        self.file, self.data, self.path = file, data, path

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def spot(self, key: object) -> _Spot:
        line = self.data.lines.get(key, self.data.line)
        label = key if isinstance(key, str) else self.data.raw.get(key, str(key))
        return _Spot(self.file, line, f"{self.path}.{label}" if self.path else label)

    def only(self, allowed: Sequence[str], hints: Mapping[str, str] | None = None) -> None:
        """Report every key not in allowed, suggesting the nearest valid one."""
        for key in self.data:
            if key in allowed:
                continue
            hint = (hints or {}).get(key) if isinstance(key, str) else None
            if hint is None:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                mean = f" (did you mean '{close[0]}'?)" if close else ""
                hint = f"unknown key{mean}; the keys allowed here are: {', '.join(allowed)}"
            self.spot(key).problem(hint)

    def require(self, key: str, example: str) -> bool:
        if key in self.data:
            return True
        others = [str(k) for k in self.data]
        if difflib.get_close_matches(key, others, n=1):
            return False  # only() already said "did you mean ..." for the misspelt key
        spot = self.spot(key)
        _Spot(self.file, self.data.line, spot.name).problem(f"missing: add it, e.g. {example}")
        return False

    def section(self, key: str, example: str) -> _Section | None:
        """The mapping under key (an empty value counts as an empty mapping)."""
        value = self.data[key]
        spot = self.spot(key)
        if value is None:
            value = _LineDict()
            value.line = spot.line or 1
        if isinstance(value, _LineDict):
            return _Section(self.file, value, spot.name)
        spot.problem(f"must be a mapping of keys (got {_got(value)}); write e.g. {example}")
        return None


def _got(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = str(value)
        return digits if len(digits) <= 24 else f"{digits[:12]}… ({len(digits)} digits)"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        return (".inf" if value > 0 else "-.inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value})"  # e.g. a date: YAML reads 2024-01-01 as one


def _why(value: object) -> str:
    """Why YAML read something that looks like a number as text."""
    if not isinstance(value, str):
        return ""
    if re.fullmatch(r"[-+]?[0-9]+(\.[0-9]*)?", value.strip()):
        return ": a number in quotes is text, remove the quotes"
    if re.fullmatch(r"[-+]?[0-9.]+[eE][-+]?[0-9]+", value.strip()):
        return ": YAML reads this as text, write the number out"
    return ""


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _whole(spot: _Spot, value: Any, lo: float, hi: float, example: str) -> Any:
    kind = "a positive integer" if lo >= 1 else "a whole number"
    if isinstance(value, bool):
        return spot.problem(
            f"must be {kind}, not true/false (got {_got(value)}); write e.g. {example}"
        )
    if not isinstance(value, int) or not lo <= value <= hi:
        return spot.problem(
            f"must be {kind} from {_fmt(lo)} to {_fmt(hi)} (got {_got(value)}{_why(value)}); "
            f"write e.g. {example}"
        )
    return value


def _number(spot: _Spot, value: Any, lo: float, hi: float, example: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return spot.problem(
            f"must be a number (got {_got(value)}{_why(value)}); write e.g. {example}"
        )
    if not math.isfinite(value) or not lo <= value <= hi:
        return spot.problem(
            f"must be a finite number from {_fmt(lo)} to {_fmt(hi)} (got {_got(value)}); "
            f"write e.g. {example}"
        )
    return float(value)


def _flag(spot: _Spot, value: Any, example: str) -> Any:
    if isinstance(value, bool):
        return value
    return spot.problem(f"must be true or false (got {_got(value)}); write e.g. {example}")


def _text(spot: _Spot, value: Any, example: str) -> Any:
    if isinstance(value, str) and value.strip():
        return value
    return spot.problem(f"must be text (got {_got(value)}); write e.g. {example}")


def _as_snowflake(value: object) -> int | None:
    """Ids may be written as numbers or as quoted strings of digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    return int(text) if _SNOWFLAKE.fullmatch(text) and int(text) < 2**64 else None


def _ids(spot: _Spot, value: _LineList) -> Any:
    ids, ok = set(), True
    for i, item in enumerate(value):
        n = _as_snowflake(item)
        if n is None:
            ok = False
            spot.item(value, i).problem(
                f"must be a Discord id, a 17 to 20 digit number like {_ID_EXAMPLE} "
                f"(got {_got(item)}): in Discord turn on Developer Mode, then right-click "
                "and Copy ID (names are not accepted)"
            )
        else:
            ids.add(n)
    return frozenset(ids) if ok else _BAD


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
    "top_k": 3,
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
    from bot.core.answer import RetrievalSettings

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
        "top_k": lambda spot, value: _whole(spot, value, *TOP_K, "`top_k: 3`"),
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
