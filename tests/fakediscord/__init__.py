"""fakediscord -- a Discord-compatible fake server for end-to-end tests of discord.py bots.

It speaks enough of Discord's REST API v10 and gateway (JSON; zlib-stream, or zstd-stream
when discord.py finds a zstd module) that an
*unmodified* discord.py 2.7 ``Client``/``commands.Bot`` logs in, receives READY and
GUILD_CREATE, handles messages and interactions, and sends replies -- and it enforces the
rules real Discord enforces, so bugs that would only show up in production fail tests.

Import it as ``fakediscord`` (pytest's default rootdir/"prepend" import mode puts ``tests/``
on ``sys.path`` because ``tests/`` has no ``__init__.py``); the package uses only relative
imports, so ``tests.fakediscord`` works too if ``tests`` ever becomes a package.

Pointing discord.py at it
-------------------------
Two class attributes must change (see ``patching.py`` for the details)::

    discord.http.Route.BASE = server.api_url                        # also used by webhooks
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)

``point_discord_at(api_url, gateway_url)`` does both and returns an undo handle (callable,
or use it as a context manager); ``server.patch_discord()`` is the same for a server.
``server.env()`` gives ``DISCORD_API_BASE_URL``/``DISCORD_GATEWAY_URL``/``DISCORD_TOKEN``
for the real bot, which applies the same patch itself.  The client must log in with
``server.token``.  Tip: pass ``guild_ready_timeout=0.1`` to the client, otherwise discord.py
waits 2 s after the last GUILD_CREATE before ``on_ready``.

Usage
-----
::

    from fakediscord import CallbackType, FakeDiscord, Perm, point_discord_at, run_client

    async with FakeDiscord(interaction_deadline=3.0) as server:
        guild = server.add_guild("G1")                     # @everyone role + the bot (managed role)
        chan = server.add_text_channel(guild, "general")
        mods = server.add_role(guild, "Mods", permissions=Perm.MANAGE_GUILD)
        alice = server.add_user("alice")
        server.add_member(guild, alice, roles=[mods])      # users may join several guilds
        bot = make_the_bot(guild_ready_timeout=0.1)        # any discord.Client / commands.Bot
        with point_discord_at(server.api_url, server.gateway_url):
            async with run_client(bot, server):            # start(), wait for on_ready, close()
                msg = await server.user_says(chan, alice, "!ask who?")
                reply = await server.wait_for_reply(msg)   # -> SentRecord
                assert "who" in reply.content and not reply.pings

                inter = await server.slash(guild, chan, alice, "ask", {"question": "why?"})
                # subcommands: server.slash(guild, chan, alice, "quotebot reload")
                answer = await server.wait_for_reply(inter)  # skips the "thinking" message
                assert inter.callbacks[0].type == CallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
                await server.click(answer, "next_page", alice)  # button / select interaction

                dm = server.dm_channel(alice)
                await server.user_says(dm, alice, "hello")      # DMs; slash(None, dm, alice, ...)

``run_client`` re-raises startup failures (bad token, 4014, ...) instead of hanging.
``skip_identify_delay(bot)`` removes discord.py's 5 s sleep before a re-IDENTIFY (after a
refused resume) -- the real bot keeps it, so allow for it in timing-sensitive tests.

World building (sync): ``add_user``, ``add_guild``, ``add_role``, ``add_text_channel``
(``overwrites={role_or_user: (allow, deny)}``), ``add_member``, ``set_member_roles``,
``set_overwrite``, ``dm_channel``, ``bot_joins``; ``permissions_for(channel_or_guild, user)``.
After the bot connected these also dispatch CHANNEL_CREATE / GUILD_ROLE_CREATE /
GUILD_MEMBER_ADD / ... events.

Users acting (async, each returns once the event is on the wire): ``user_says``
(``reply_to=``, ``attachments=[(name, bytes)]``), ``user_edits``, ``user_deletes``,
``user_reacts``, ``slash`` (options typed & validated against the *registered* command,
``data.id``/``guild_id`` filled like Discord so discord.py's CommandTree finds it),
``autocomplete``, ``user_command``, ``message_command``, ``click``/``select`` (validates the
component exists, is enabled, values are options), ``submit_modal``.  Anything a real user
could not do raises :class:`UnrealisticAction` (an AssertionError): e.g. a command the bot
never synced (``require_registered_commands``), one hidden by ``default_member_permissions``,
missing USE_APPLICATION_COMMANDS or ``contexts``, or a channel the user cannot see.

Recording: ``server.sent`` -- a :class:`SentRecord` per bot write (op create/edit/delete,
route channel/callback/followup/original/webhook_message, content, embeds, components,
flags, raw ``allowed_mentions`` (None = absent), ``pings``, ``interaction``, ``at``);
``server.callbacks`` / ``interaction.callbacks`` (:class:`CallbackRecord`: type, status,
error code, latency); ``server.requests`` (every REST call) and ``server.http_errors``;
``server.messages_in(chan)``, ``server.bot_messages()``, ``server.interaction_responses(i)``,
``server.original_message(i)`` (``.loading`` if a defer was never followed up);
``server.gateway.log`` (every gateway frame); ``server.typing``; ``server.commands``.
Waiting: ``wait_for(pred, after=..., timeout=)``, ``wait_for_reply(msg_or_interaction)``,
``wait_for_callback(i)``, ``wait_for_session()``, generic ``wait_until(cond)``.  Timeouts
raise ``TimeoutError`` with a summary of recent traffic.

Mentions: ``record.pings`` / ``server.pings(msg)`` -> :class:`Pings` (users, roles,
everyone, here) computed with Discord's rules: no ``allowed_mentions`` = parse everything and
ping the replied-to author; with it only ``parse`` types / listed ids, ``replied_user``
defaults to false; @everyone/@here and non-mentionable roles need MENTION_EVERYONE; users
who cannot see the channel are not pinged.  For edits, pings are the mentions of the new
content (Discord highlights them without a push notification); edits never re-ping the
replied-to author.  ``record.would_ping(alice)``,
``alice in record.pings``, ``"everyone" in record.pings``.

What is enforced (HTTP errors shaped like Discord's)
----------------------------------------------------
* 400/50035 "Invalid Form Body" with an ``errors`` tree: content > 2000; > 10 embeds;
  title > 256, description > 4096, > 25 fields, field name > 256 / value > 1024 (and empty or
  whitespace-only name/value), footer > 2048, author name > 256, total embed text > 6000,
  non-http(s) URLs, bad colour; > 5 action rows, > 5 components per row, selects sharing a
  row, button label > 80, custom_id > 100 or duplicated, link buttons with custom_id, select
  option limits; Components V2 mixed with content/embeds, > 40 components; allowed_mentions
  ``parse`` vs explicit ids; unknown reply target; modal/autocomplete limits; application
  command names/descriptions/options (lowercase names, required-before-optional, ...).
* 400/50006 empty message (also whitespace-only content, also after an edit).
* Interactions: initial callback later than ``interaction_deadline`` (3 s) after dispatch
  -> 404/10062; second initial callback -> 400/40060; callback type not valid for the
  interaction type -> 400/50035; followups/edits before ack -> 404/10015, after
  ``followup_window`` -> 401/50027.  The first followup after a "thinking" defer replaces the
  loading message and keeps the defer's ephemerality (a classic surprise).
* Permissions: sending needs VIEW_CHANNEL (403/50001) and SEND_MESSAGES (403/50013), files
  need ATTACH_FILES, replies READ_MESSAGE_HISTORY; without EMBED_LINKS embeds are dropped;
  editing others' messages 403/50005; DMs to users with DMs closed / no shared guild
  403/50007; attachments > ``upload_limit`` 413/40005.
* Gateway: bad token 4004; intents missing/invalid 4013; privileged intents the portal did
  not grant (``deny_intent(Intent.MESSAGE_CONTENT)``) 4014; > 120 frames/minute 4008;
  events filtered by intents (GUILD_MESSAGES, DIRECT_MESSAGES, ...) and by whether the bot
  can view the channel; GUILD_CREATE member lists follow GUILD_PRESENCES, members come via
  REQUEST_GUILD_MEMBERS -> GUILD_MEMBERS_CHUNK; MESSAGE_CONTENT
  blanks content/embeds/attachments/components of guild messages unless the bot is
  mentioned (DMs and the bot's own messages are exempt; REST reads follow the portal grant).
* Auth: REST without ``Authorization: Bot <token>`` -> 401.  Unknown routes -> 404
  ``{"message": "404: Not Found", "code": 0}`` plus a log line; with ``strict=True`` (default)
  leaving ``async with`` raises listing them (also for internal errors of the fake).

Fault injection
---------------
``fail_next(method, "/channels/*/messages", status=429, retry_after=0.5, is_global=False,
times=1)`` (also 500/502/...); ``drop_gateway(code=4000)`` closes the websocket (client
RESUMEs at ``resume_gateway_url`` and gets the missed events replayed);
``refuse_next_resume()`` answers RESUME with INVALID_SESSION(false) so the client
re-IDENTIFYs; ``send_reconnect()`` (op 7); ``invalidate_session()``; ``deny_intent(bits)``.

Not simulated: voice, threads/forums, stickers, polls, presences beyond storage, audit
logs, webhooks other than interaction webhooks, per-route rate limits (only injected ones),
ETF encoding.  Requests for unknown routes are reported, not silently accepted.
"""

from __future__ import annotations

from .constants import (
    CallbackType,
    ChannelType,
    Close,
    ComponentType,
    ErrorCode,
    Intent,
    InteractionType,
    MessageFlag,
    OptionType,
    Perm,
)
from .gateway import GatewayEvent, GatewaySession
from .harness import run_client, skip_identify_delay
from .models import (
    Attachment,
    CallbackRecord,
    Channel,
    Guild,
    Interaction,
    Member,
    Message,
    Pings,
    RequestRecord,
    Role,
    SentRecord,
    User,
)
from .patching import DiscordPatch, point_discord_at
from .server import FakeDiscord, UnrealisticAction
from .validation import DiscordHTTPError, flatten_errors

__all__ = [
    "Attachment",
    "CallbackRecord",
    "CallbackType",
    "Channel",
    "ChannelType",
    "Close",
    "ComponentType",
    "DiscordHTTPError",
    "DiscordPatch",
    "ErrorCode",
    "FakeDiscord",
    "GatewayEvent",
    "GatewaySession",
    "Guild",
    "Intent",
    "Interaction",
    "InteractionType",
    "Member",
    "Message",
    "MessageFlag",
    "OptionType",
    "Perm",
    "Pings",
    "RequestRecord",
    "Role",
    "SentRecord",
    "UnrealisticAction",
    "User",
    "flatten_errors",
    "point_discord_at",
    "run_client",
    "skip_identify_delay",
]
