"""Load config/bot.yaml and config/guilds/<guild id>.yaml once, validate, return frozen settings.

Every problem is collected, not just the first: load_settings raises one ConfigError listing
them all, check_config returns them. Each names the file (relative to the project root), the
line, the dotted key and the fix. Files are read with a safe loader that records line numbers;
before any value is built, the parsed nodes are checked so that tags other than plain values
(``!!python/...``), loops, deep nesting and anchors/aliases that expand hugely ("billion
laughs") are refused without being constructed.
"""

from __future__ import annotations

from bot.config.load import check_config, load_settings
from bot.config.settings import CollectionSettings, Cooldown, GuildSettings, Settings, Shards
from bot.config.yamlfile import MAX_FILE_BYTES

__all__ = [
    "MAX_FILE_BYTES",
    "CollectionSettings",
    "Cooldown",
    "GuildSettings",
    "Settings",
    "Shards",
    "check_config",
    "load_settings",
]
