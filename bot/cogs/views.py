"""The Context and More buttons as discord.py views: built from render's Buttons, and routed by
custom_id, so clicks keep working after a restart or once a view would have timed out."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.render import MORE_ID, NOT_HELPFUL_ID, Button

_BUTTON_ID = r"qb:(?P<action>ctx|more|bad)(?::(?P<n>\d{1,2}))?"


def make_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """A View of dynamic buttons (see cogs/buttons.py for what a click does)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in buttons:
        more = b.custom_id == MORE_ID
        style = discord.ButtonStyle.primary if more else discord.ButtonStyle.secondary
        if b.custom_id == NOT_HELPFUL_ID:
            style = discord.ButtonStyle.danger
        button = discord.ui.Button(label=b.label, custom_id=b.custom_id, style=style, row=b.row)
        view.add_item(QuoteButton(button))
    return view


class QuoteButton(discord.ui.DynamicItem[discord.ui.Button], template=_BUTTON_ID):
    """A Context, More or Not helpful button. A click is handed to listeners of
    `quotebot_button` with the action ("ctx", "more" or "bad") and the quote number parsed
    from the custom_id."""

    def __init__(self, item: discord.ui.Button, action: str = "", n: int = 0) -> None:
        super().__init__(item)
        self.action, self.n = action, n

    @classmethod
    async def from_custom_id(cls, interaction, item, match):  # type: ignore[override]
        return cls(item, match["action"], int(match["n"] or 0))

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch("quotebot_button", interaction, self.action, self.n)
