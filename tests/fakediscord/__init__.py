"""fakediscord: a Discord-compatible server on loopback for end-to-end tests of the bot.

It serves what quotebot uses and enforces what Discord enforces there, so a bug that would
only show in production fails a test:
- REST: login (/users/@me, /oauth2/applications/@me), registering slash commands, channel
  messages (replies included), interaction callbacks (4: message, 5: "thinking") and followups
  (the first after a "thinking" defer replaces it). Message limits are refused with 400/50035
  (2,000 content characters; embed description 4,096, 25 fields, 6,000 in total; 5 rows of 5
  buttons, labels 80, custom ids 100), an empty message with 50006, a first callback later
  than `interaction_deadline` (3 s) with 404/10062. An unknown route answers 404 and fails the
  test (`assert_healthy`, run on leaving `async with`).
- Gateway: GET /gateway/bot (url and `recommended_shards`), READY and GUILD_CREATE, messages
  (blank without the Message Content intent unless the bot is mentioned or it is a DM),
  interactions; RESUME replays what a dropped connection
  missed; close codes 4010 (a shard outside the count) and 4014. Shards: IDENTIFY's
  `[shard_id, shard_count]` picks the guilds a session gets, `(guild_id >> 22) % shard_count`
  (GUILD_CREATE, messages and interactions of a guild go only there; DMs to shard 0);
  `add_guild(name, shard=(i, n))` places a guild on a shard.
- Faults: `fail_next` (429 with Via and retry_after, or 5xx), `drop_gateway`,
  `refuse_next_resume`, `send_reconnect`, `deny_intent`.
- Users act with `user_says`, `slash`, `click` (and `interact` for a hand-built interaction);
  `server.sent` records every bot write with its pings under Discord's mention rules.

Not served: attachments, reactions, edits, selects, modals, autocomplete, context menus,
channel permission overwrites, zstd. Point the bot at it with `server.env()`
(DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL, DISCORD_TOKEN); a plain discord.py client with
`point_discord_at(server)`.
"""

from __future__ import annotations

from .harness import point_discord_at, run_client, skip_identify_delay
from .limits import DiscordHTTPError, flatten_errors
from .model import (
    CallbackType,
    Channel,
    Guild,
    Intent,
    Interaction,
    InteractionType,
    Message,
    MessageFlag,
    Perm,
    Pings,
    Role,
    SentRecord,
    User,
)
from .server import FakeDiscord, UnrealisticAction

__all__ = [
    "CallbackType", "Channel", "DiscordHTTPError", "FakeDiscord", "Guild", "Intent",
    "Interaction", "InteractionType", "Message", "MessageFlag", "Perm", "Pings", "Role",
    "SentRecord", "UnrealisticAction", "User", "flatten_errors", "point_discord_at",
    "run_client", "skip_identify_delay",
]
