"""Checking single values (numbers, flags, ids, text) at a spot in a file, recording a
problem that names file, line, key and the fix."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config.yamlfile import (
    _BAD,
    ConfigFile,
    _all_good,
    _got,
    _LineDict,
    _LineList,
    read_mapping,
)
from bot.core.xapianstage import parse_address

_SNOWFLAKE = re.compile(r"[1-9][0-9]{16,19}")  # Discord ids are 17-20 digits, below 2**64
_ID_EXAMPLE = "123456789012345678"



# --- validating values ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Spot:
    """Where a value sits: file, line and dotted key, for its problems."""

    file: ConfigFile
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

    def __init__(self, file: ConfigFile, data: _LineDict, path: str = "") -> None:
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


def _read(path: Path, file: ConfigFile, example: str) -> _Section | None:
    """The file's top-level mapping (empty for an empty file), or None after recording why
    it cannot be used; example shows a valid first line."""
    data = read_mapping(path, file, example)
    return None if data is None else _Section(file, data)


def _work_folder(spot: _Spot, value: Any, root: Path, example: str, needs: str) -> Path | None:
    """A folder the bot writes to (created if missing), relative to the root or absolute."""
    if not isinstance(value, str) or not value.strip():
        spot.problem(
            f"must be a folder path, relative to the project root or absolute (got {_got(value)}); "
            f"write e.g. {example}"
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
        spot.problem(f"{value!r} is a file, but {needs} a folder there: fix the path")
        return None
    return path


def _shard_servers(spot: _Spot, value: Any) -> Any:
    """host:port of each shard server; a bare port or host is refused, so a shard is never
    looked for on a host nobody chose."""
    if not isinstance(value, _LineList) or not value:
        return spot.problem(
            f"must be a list of shard servers as host:port (got {_got(value)}); write e.g. "
            "`shard_servers: [10.0.0.5:7100, 10.0.0.6:7100]`"
        )
    found = []
    for i, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError(f"got {_got(item)}")
            parse_address(item)
        except ValueError as exc:
            found.append(spot.item(value, i).problem(
                f"must be host:port of a shard server ({exc}); write e.g. `10.0.0.5:7100`"
            ))
        else:
            found.append(item)
    return tuple(dict.fromkeys(found)) if _all_good(*found) else _BAD
