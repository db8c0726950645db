"""Reading a YAML file safely, keeping the line of every key and item, refusing unsafe
tags, alias bombs and deep nesting before anything is constructed."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.errors import ConfigProblem

MAX_FILE_BYTES = 1024 * 1024
# Aliases may add at most this many values beyond those written out in the file.
MAX_ALIAS_EXPANSION = 10_000
MAX_DEPTH = 20  # the schema needs 5 levels; deeper is a mistake or an attack
# Parsing stops at this depth: PyYAML's scanner slows down quadratically with flow nesting
# (`[[[[...`) and its composer recurses once per level.
MAX_PARSE_DEPTH = 100
MAX_NUMBER_CHARS = 64  # Python refuses to parse ints of 4,300+ digits; nothing needs 64


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


def _construct_timestamp(loader: _Loader, node: ScalarNode) -> Any:
    """A date or time as YAML reads it; one that is no real date (`2024-02-30`, `2024-13-01`)
    is the text written: PyYAML's own constructor raises ValueError there, which no caller
    expects from a loader (a traceback, not a problem at file:line)."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


_Loader.add_constructor(_YAML + "timestamp", _construct_timestamp)


@dataclass
class ConfigFile:
    """A file being read: its name as shown (relative to the project root) and where its
    problems go."""

    rel: str  # relative to the project root
    problems: list[ConfigProblem]

    def add(self, line: int | None, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.rel, line, key, message))


def read_mapping(path: Path, file: ConfigFile, example: str) -> _LineDict | None:
    """The file's top-level mapping (empty for an empty file), read safely with the line of
    every key; or None after recording in `file` why it cannot be used (too big, not UTF-8,
    not YAML, unsafe, not a mapping). example shows a valid first line."""
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
    return _parse(text, file, example)


def _parse(text: str, file: ConfigFile, example: str) -> _LineDict | None:
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

    def __init__(self, file: ConfigFile) -> None:
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
