"""bot.yaml's `shards:` section: how many gateway shards in all, and which this process runs."""

from __future__ import annotations

from bot.config.settings import Shards
from bot.config.values import _Section, _whole
from bot.config.yamlfile import _BAD, _all_good, _got, _LineList

# Discord asks for about one shard per 1,000 guilds; this bound only catches typos.
MAX_SHARDS = 100_000


def _shards(sec: _Section) -> Shards | None:
    sec.only(("count", "ids"))
    if not sec.require("count", "`count: 2`"):
        return None
    count = _whole(sec.spot("count"), sec["count"], 1, MAX_SHARDS, "`count: 2`")
    if count is _BAD:
        return None
    if "ids" not in sec:
        return Shards(count, tuple(range(count)))  # every shard in this one process
    spot, value = sec.spot("ids"), sec["ids"]
    if not isinstance(value, _LineList) or not value:
        spot.problem(
            f"must be a list of one or more shard ids from 0 to {count - 1} (got {_got(value)}); "
            "write e.g. `ids: [0]`, or leave `ids` out to run every shard in this process"
        )
        return None
    example = f"`ids: [{min(1, count - 1)}]`"
    ids = [_whole(spot.item(value, i), item, 0, count - 1, example) for i, item in enumerate(value)]
    good = [i for i in ids if i is not _BAD]
    if len(set(good)) < len(good):  # (said beside any id out of range: every problem at once)
        spot.problem(f"lists a shard twice ({good}): list each shard id once")
        return None
    return Shards(count, tuple(ids)) if _all_good(*ids) else None
