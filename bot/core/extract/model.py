"""What extraction returns, its limits and its error; the text builder all formats share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

# (start, end, value) rows over the extracted text: a page number, or a heading's text.
Region = tuple[int, int, Any]

PARAGRAPH_BREAK = "\n\n"  # between paragraphs, so the blank-line splitter finds them too
CELL_SEPARATOR = " | "  # between a table row's cells (HTML, DOCX): a row is one paragraph


class ExtractError(ValueError):
    """A file that cannot be quoted; str() is the reason, fit to show a moderator."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one file's extraction. A file past one is skipped with the reason."""

    max_bytes: int = 20 * 1024 * 1024  # the file itself
    max_pages: int = 2000  # PDF pages
    max_unpacked: int = 200 * 1024 * 1024  # DOCX: all zip members, checked before inflating
    max_members: int = 5000  # DOCX: zip members
    max_seconds: float = 60.0  # wall time, enforced in the worker process
    max_memory: int = 2 * 1024 * 1024 * 1024  # address space of a worker process


@dataclass(frozen=True)
class Extracted:
    text: str
    paragraphs: tuple[tuple[int, int], ...]
    pages: tuple[Region, ...] = ()  # (start, end, page number), PDF only
    headings: tuple[Region, ...] = ()  # (start, end, heading text): the section it heads
    meta: dict[str, str] = field(default_factory=dict)  # label, source, date from the file

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "paragraphs": [list(p) for p in self.paragraphs],
                "pages": [list(p) for p in self.pages],
                "headings": [list(h) for h in self.headings], "meta": dict(self.meta)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Extracted:
        """ValueError/KeyError/TypeError when value is not what to_json made."""
        text = value["text"]
        rows = [tuple(p) for p in value["paragraphs"]]
        if not isinstance(text, str) or not all(
            len(r) == 2 and 0 <= r[0] <= r[1] <= len(text) for r in rows
        ):
            raise ValueError("extracted paragraphs do not fit the text")
        return cls(
            text, tuple(rows), tuple(tuple(p) for p in value["pages"]),
            tuple(tuple(h) for h in value["headings"]),
            {str(k): str(v) for k, v in value["meta"].items()},
        )


# --- normalising: once, as text is taken from a file ----------------------------------------

LIGATURES = str.maketrans({
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "st", "\ufb06": "st",
    "\u00ad": None, "\u200b": None, "\ufeff": None,  # soft hyphen, zero-width space, BOM
})
# A word broken at a line end: "exam-\nple" -> "example"; before a capital or a digit the
# hyphen is a real one ("Jean-\nPaul" -> "Jean-Paul").
_BROKEN_WORD = re.compile(r"(?<=\w)-[ \t]*\r?\n\s*(?=[a-zß-ÿ])")
_KEPT_HYPHEN = re.compile(r"(?<=\w-)[ \t]*\r?\n\s*(?=[A-Z0-9À-Þ])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


def clean(raw: str) -> str:
    """One paragraph's text as quoted: NFC, ligatures spelled out, line-end hyphens joined,
    every run of whitespace one space."""
    text = unicodedata.normalize("NFC", raw.translate(LIGATURES))
    text = _KEPT_HYPHEN.sub("", _BROKEN_WORD.sub("", text))
    return _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()


class TextBuilder:
    """Paragraphs in, one text with exact paragraph, page and heading offsets out."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.paragraphs: list[tuple[int, int]] = []
        self._pages: list[tuple[int, int]] = []  # (start, number)
        self._headings: list[tuple[int, str]] = []
        self._page: int | None = None

    def page(self, number: int) -> None:
        """Paragraphs added from now on are on page `number`."""
        self._page = number

    def add(self, raw: str, heading: bool = False, continues: bool = False) -> None:
        """A paragraph; with continues, the rest of the last one (a sentence that runs on
        over a page break), joined to it by a space."""
        text = clean(raw)
        if not text:
            return
        joined = continues and bool(self.paragraphs)
        if self.parts:
            self.parts.append(" " if joined else PARAGRAPH_BREAK)
            self.size += 1 if joined else len(PARAGRAPH_BREAK)
        start = self.size
        self.parts.append(text)
        self.size += len(text)
        if joined:
            self.paragraphs[-1] = (self.paragraphs[-1][0], self.size)
        else:
            self.paragraphs.append((start, self.size))
        if self._page is not None and (not self._pages or self._pages[-1][1] != self._page):
            self._pages.append((start, self._page))
        if heading:
            self._headings.append((start, text))

    def build(self, meta: dict[str, str]) -> Extracted:
        text = "".join(self.parts)
        return Extracted(
            text, tuple(self.paragraphs),
            tuple(self._regions(self._pages, text)), tuple(self._regions(self._headings, text)),
            {k: v for k, v in meta.items() if v},
        )

    def _regions(self, starts: list[tuple[int, Any]], text: str) -> list[Region]:
        """Each region runs from its start to the end of the paragraph before the next one's."""
        if not starts:
            return []
        # (A page may start inside a paragraph: then one space, not a break, lies between.)
        ends = [s - (len(PARAGRAPH_BREAK) if text[s - 1] == "\n" else 1)
                for s, _ in starts[1:]] + [self.size]
        return [(s, e, v) for (s, v), e in zip(starts, ends, strict=True)]


_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def iso_date(value: object) -> str:
    """YYYY-MM-DD from a date, datetime or a string that starts with one, else ""."""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    match = _DATE.match(str(value or "").strip().removeprefix("D:"))
    return "-".join(match.groups()) if match else ""
