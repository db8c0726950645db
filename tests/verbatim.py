"""The one check every test that produces answers runs: rule 1, quotes are verbatim."""

from __future__ import annotations

from pathlib import Path


def assert_verbatim(quote: dict, folder: Path) -> None:
    """quote (Quote.to_json() shape) equals its document file's text at its offsets."""
    text = (folder / quote["document"]).read_text(encoding="utf-8-sig")
    assert text[quote["start"] : quote["end"]] == quote["text"], quote
    assert quote["text"].strip() == quote["text"] and quote["text"], quote


def assert_answer_verbatim(answer: dict, folders: list[Path] | Path) -> None:
    folders = [folders] if isinstance(folders, Path) else folders
    assert answer["answered"] == bool(answer["quotes"])
    for quote in answer["quotes"]:
        matches = [f for f in folders if (f / quote["document"]).is_file()]
        assert matches, f"{quote['document']} is in none of {folders}"
        assert_verbatim(quote, matches[0])
