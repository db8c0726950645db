"""The fixed phrases quotebot may say besides quotes. Nothing else is ever written by the bot;
the terminal and Discord renderers both take their wording from here."""

from __future__ import annotations

from bot.core.model import NO_MATCH, NO_TERMS

ABSTAIN = {
    NO_MATCH: "The documents do not answer this.",
    NO_TERMS: "That question has no words to search for: ask about a name, a place or an event.",
}
SEE_SOURCES = "Use /sources to see the documents I can quote."


def frame(label: str, paragraph: int) -> str:
    """The line above a quote: where it comes from."""
    return f"From {label}, paragraph {paragraph}:"
