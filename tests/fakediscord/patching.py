"""Point an unmodified discord.py 2.x at another REST base URL and gateway.

What discord.py 2.7 hard-codes, and what has to change:

* ``discord.http.Route.BASE`` (``"https://discord.com/api/v10"``): every REST call builds its
  URL as ``Route.BASE + path``.  Interaction callbacks and followups go through
  ``discord.webhook.async_.AsyncWebhookAdapter``, which imports the *same* ``Route`` class
  from ``discord.http`` (``/interactions/{id}/{token}/callback``, ``/webhooks/{app}/{token}``
  ...), so patching ``Route.BASE`` covers them too; there is no separate webhook BASE.
  (``Webhook.url`` still *prints* ``https://discord.com/api/webhooks/...`` -- cosmetic only.
  ``discord.http._set_api_version()`` would reset ``Route.BASE``; nothing calls it by default.)
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (``yarl.URL("wss://gateway.discord.gg/")``):
  a plain ``Client``/``commands.Bot`` connects there directly (no ``GET /gateway/bot``), adding
  ``?v=10&encoding=json&compress=zlib-stream``.  After READY it reconnects/resumes at READY's
  ``resume_gateway_url``; after INVALID_SESSION it falls back to ``DEFAULT_GATEWAY``.
  ``AutoShardedClient`` instead uses the ``url`` returned by ``GET /gateway/bot``.

CDN assets (``discord.asset.Asset.BASE``) are not patched: the fake serves attachment
files itself and users have no avatars.
"""

from __future__ import annotations

from typing import Any


class DiscordPatch:
    """Undo handle returned by :func:`point_discord_at`; also a context manager."""

    def __init__(self, saved: list[tuple[Any, str, Any]]) -> None:
        self._saved = saved

    def undo(self) -> None:
        for obj, attr, value in reversed(self._saved):
            setattr(obj, attr, value)
        self._saved = []

    __call__ = undo

    def __enter__(self) -> DiscordPatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()

    async def __aenter__(self) -> DiscordPatch:  # usable in ``async with a, b:`` chains
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.undo()


def point_discord_at(api_url: str, gateway_url: str) -> DiscordPatch:
    """Patch discord.py so REST goes to ``api_url`` and the gateway to ``gateway_url``.

    ``api_url`` includes the version, e.g. ``http://127.0.0.1:1234/api/v10``.  Returns a
    :class:`DiscordPatch`: call it (or ``.undo()``) to restore, or use it in ``with``.
    """
    import discord.gateway
    import discord.http
    import yarl

    route = discord.http.Route
    ws = discord.gateway.DiscordWebSocket
    saved = [(route, "BASE", route.BASE), (ws, "DEFAULT_GATEWAY", ws.DEFAULT_GATEWAY)]
    route.BASE = api_url.rstrip("/")
    ws.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return DiscordPatch(saved)
