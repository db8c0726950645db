"""Guild settings, as written under bot.yaml's `defaults:` and in config/guilds/<id>.yaml:
prefix, channels, collections, moderator roles, cooldown, number of quotes."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bot.config import stateyaml
from bot.config.settings import Cooldown
from bot.config.values import _ID_EXAMPLE, _ids, _number, _Section, _Spot, _whole
from bot.config.yamlfile import _BAD, _all_good, _got, _LineDict, _LineList
from bot.core.model import TOP_K, TOP_K_RANGE

if TYPE_CHECKING:
    from bot.config.botyaml import _Global

MAX_PREFIX = 5
COOLDOWN_RATE = (1, 100)
COOLDOWN_PER = (1, 86_400)  # seconds
_GUILD_KEYS = ("prefix", "channels", "collections", "moderator_roles", "cooldown", "top_k")
# Set at the top of bot.yaml and overridden, key by key, in a guild file (not under defaults:).
_GUILD_FILE_KEYS = ("uploads", "gaps")
_BUILTIN_COOLDOWN = Cooldown(rate=3, per=30.0)
_BUILTIN_DEFAULTS: dict[str, Any] = {
    "prefix": "!",
    "channels": None,
    "collections": None,
    "moderator_roles": frozenset(),
    "cooldown": _BUILTIN_COOLDOWN,
    "top_k": TOP_K,
}


def _guild_layer(
    sec: _Section, glob: _Global, guild_id: int | None, hints: Mapping[str, str]
) -> dict[str, Any]:
    """The guild settings present in sec, validated; guild_id None skips visibility checks."""
    sec.only(_GUILD_KEYS + (_GUILD_FILE_KEYS if guild_id is not None else ()), hints)
    base_cooldown = glob.defaults["cooldown"]
    parsers: dict[str, Callable[[_Spot, Any], Any]] = {
        "prefix": _prefix,
        "channels": _channels,
        "collections": lambda spot, value: _selection(spot, value, glob, guild_id),
        "moderator_roles": _roles,
        "cooldown": lambda spot, value: _cooldown(spot, value, base_cooldown),
        "top_k": lambda spot, value: _whole(spot, value, *TOP_K_RANGE, f"`top_k: {TOP_K}`"),
        "uploads": lambda spot, value: stateyaml.parse_uploads(sec.section("uploads", (
            stateyaml.EXAMPLES["uploads"])), glob.uploads),
        "gaps": lambda spot, value: stateyaml.parse_gaps(sec.section("gaps", (
            stateyaml.EXAMPLES["gaps"])), glob.gaps),
    }
    if guild_id is None:
        for key in _GUILD_FILE_KEYS:
            parsers.pop(key)
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
