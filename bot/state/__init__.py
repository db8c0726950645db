"""What the bot remembers between runs: uploaded documents' records, unanswered questions (gaps)
and "Not helpful" votes. `Storage` is the interface; `open_storage` gives SQLite (one machine) or
PostgreSQL (several machines, when DATABASE_URL_ENV is set)."""

from __future__ import annotations

from bot.state.store import (
    DATABASE_URL_ENV,
    DMS,
    Gap,
    Storage,
    StorageError,
    Upload,
    normalise_question,
    open_storage,
)

__all__ = [
    "DATABASE_URL_ENV", "DMS", "Gap", "Storage", "StorageError", "Upload", "normalise_question",
    "open_storage",
]
