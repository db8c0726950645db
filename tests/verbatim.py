"""The one check every test that produces answers runs: rule 1, quotes are verbatim."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli import main


def document_text(path: Path) -> str:
    """A text file's text as Python reads it; a PDF, HTML or DOCX file's as `quotebot text`
    prints it (its words are checked against independent extractors in test_formats)."""
    if path.suffix.lower() in (".txt", ".md"):
        return path.read_text(encoding="utf-8-sig")
    out = io.StringIO()
    assert main(["text", str(path)], out) == 0
    return out.getvalue()


# What may differ between a quote and the same text in another document ("also in").
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def _comparable(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split())


def assert_verbatim(quote: dict, folder: Path) -> None:
    """quote (Quote.to_json() shape) equals its document's text at its offsets."""
    text = document_text(folder / quote["document"])
    assert text[quote["start"] : quote["end"]] == quote["text"], quote
    assert quote["text"].strip() == quote["text"] and quote["text"], quote


def assert_answer_verbatim(answer: dict, folders: list[Path] | Path) -> None:
    """Every quote is verbatim, and every document it names as "also in" holds its text at
    the offsets given (whitespace and typographic quotes aside)."""
    folders = [folders] if isinstance(folders, Path) else folders
    assert answer["answered"] == bool(answer["quotes"])
    for quote in answer["quotes"]:
        assert_verbatim(quote, _folder_of(quote["document"], folders))
        for other in quote.get("also", ()):
            assert other["document"] != quote["document"], quote
            path = _folder_of(other["document"], folders) / other["document"]
            held = document_text(path)[other["start"] : other["end"]]
            assert _comparable(held) == _comparable(quote["text"]), (quote, other, held)


def _folder_of(document: str, folders: list[Path]) -> Path:
    matches = [f for f in folders if (f / document).is_file()]
    assert matches, f"{document} is in none of {folders}"
    return matches[0]
