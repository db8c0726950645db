"""What the bot remembers between runs: uploaded documents' records, unanswered questions (gaps)
and "Not helpful" votes. `Storage` is the interface; `SqliteStorage` the one implementation
(a PostgreSQL one can follow it with the same SQL, issue #17)."""

from __future__ import annotations

from bot.state.store import (
    DMS,
    Gap,
    Storage,
    StorageError,
    Upload,
    normalise_question,
    open_storage,
)

__all__ = ["DMS", "Gap", "Storage", "StorageError", "Upload", "normalise_question", "open_storage"]
