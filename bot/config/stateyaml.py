"""bot.yaml's `uploads:`, `gaps:`, `state_dir:`, `uploads_dir:` and `uploads_poll_seconds:`
(moderators' uploads, unanswered questions, the folders that hold their database and files, and
how often a process looks for other processes' upload changes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.config.settings import GapSettings, UploadSettings
from bot.config.values import _flag, _Section, _Spot, _text, _whole, _work_folder
from bot.config.yamlfile import _BAD, _got

DEFAULT_STATE_DIR = ".quotebot-state"
UPLOAD_BYTES = (1024, 100 * 1024**2)
TOTAL_BYTES = (1024, 100 * 1024**3)
POLL_SECONDS = (0, 86_400)  # 0: never poll
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,11}")
EXAMPLES = {
    "uploads": "`uploads: {enabled: true, max_bytes: 10485760, collection: uploads}`",
    "gaps": "`gaps: {enabled: true, keep_days: 90}`",
}


def parse_uploads(sec: _Section | None, base: UploadSettings | None = None) -> Any:
    """`uploads:` over base (bot.yaml's, for a guild file); _BAD when a value is wrong."""
    if sec is None:
        return _BAD
    sec.only(("enabled", "max_bytes", "collection", "max_total_bytes", "per_hour"))
    d = base or UploadSettings()
    enabled = _flag(sec.spot("enabled"), sec["enabled"], "`enabled: true`") if (
        "enabled" in sec) else d.enabled
    max_bytes = _whole(sec.spot("max_bytes"), sec["max_bytes"], *UPLOAD_BYTES,
                       "`max_bytes: 10485760`") if "max_bytes" in sec else d.max_bytes
    total = _whole(sec.spot("max_total_bytes"), sec["max_total_bytes"], *TOTAL_BYTES,
                   "`max_total_bytes: 104857600`") if "max_total_bytes" in sec else (
        d.max_total_bytes)
    per_hour = _whole(sec.spot("per_hour"), sec["per_hour"], 1, 10_000, "`per_hour: 20`") if (
        "per_hour" in sec) else d.per_hour
    collection = _collection(sec.spot("collection"), sec["collection"]) if (
        "collection" in sec) else d.collection
    values = (enabled, max_bytes, collection, total, per_hour)
    if any(v is _BAD for v in values):
        return _BAD
    return UploadSettings(*values)


def _collection(spot: _Spot, value: Any) -> Any:
    if _text(spot, value, "`collection: uploads`") is _BAD:
        return _BAD
    if not _PREFIX.fullmatch(value):
        return spot.problem(
            f"must be 1 to 12 letters, digits, '-' or '_', starting with a letter (got "
            f"{_got(value)}): each guild's private collection is named <this>-<guild id>; "
            "write e.g. `collection: uploads`"
        )
    return value


def parse_gaps(sec: _Section | None, base: GapSettings | None = None) -> Any:
    if sec is None:
        return _BAD
    sec.only(("enabled", "keep_days"))
    d = base or GapSettings()
    enabled = _flag(sec.spot("enabled"), sec["enabled"], "`enabled: true`") if (
        "enabled" in sec) else d.enabled
    keep = _whole(sec.spot("keep_days"), sec["keep_days"], 1, 3650, "`keep_days: 90`") if (
        "keep_days" in sec) else d.keep_days
    if enabled is _BAD or keep is _BAD:
        return _BAD
    return GapSettings(enabled, keep)


def parse_state_dir(spot: _Spot, value: Any, root: Path) -> Path | None:
    return _work_folder(spot, value, root, f"`state_dir: {DEFAULT_STATE_DIR}`",
                        "the database and uploads need")


def parse_uploads_dir(spot: _Spot, value: Any, root: Path) -> Path | None:
    return _work_folder(spot, value, root, "`uploads_dir: /mnt/shared/quotebot-uploads`",
                        "the uploaded files need")


def parse_poll_seconds(spot: _Spot, value: Any) -> Any:
    return _whole(spot, value, *POLL_SECONDS, "`uploads_poll_seconds: 30`")
