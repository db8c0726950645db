"""Read the quotes back out of rendered messages, and check them against the document files.

A rendered quote is a frame line ("From *label*, paragraph N:"), then block-quote lines; a
quote continued in the next message ends with "(continues)" and resumes under a frame that
says "(continued)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.documents import parse_document
from bot.render import unescape

FRAME = re.compile(
    r"^From \*(?P<label>.*?)\*, paragraph (?P<paragraph>\d+)"
    r"(?: \(also in (?P<also>.*)\))?(?P<continued> \(continued\))?:$"
)


@dataclass
class ReadQuote:
    label: str
    paragraph: int
    text: str
    also: list[str] = field(default_factory=list)
    pieces: int = 1


def read_quotes(contents: Iterable[str]) -> list[ReadQuote]:
    """Every quote in these message contents, in order, continued pieces joined."""
    quotes: list[ReadQuote] = []
    for content in contents:
        lines = content.split("\n")
        i = 0
        while i < len(lines):
            frame = FRAME.match(lines[i])
            i += 1
            if not frame:
                continue
            body = []
            while i < len(lines) and (lines[i].startswith("> ") or lines[i] == ">"):
                body.append(lines[i][2:])
                i += 1
            text = unescape("\n".join(body))
            if frame["continued"]:
                assert quotes, "a continued quote with no start"
                quotes[-1].text += text
                quotes[-1].pieces += 1
            else:
                also = re.findall(r"\*(.*?)\*(?:, |$)", frame["also"] or "")
                quotes.append(
                    ReadQuote(unescape(frame["label"]), int(frame["paragraph"]), text,
                              [unescape(a) for a in also])
                )
    return quotes


def assert_quoted_verbatim(quote: ReadQuote, documents: dict[str, Path]) -> None:
    """The quote is, character for character, in paragraph N of the file labelled so."""
    path = documents[quote.label]
    text = path.read_text(encoding="utf-8-sig")
    spans = parse_document(text, "", path.name, path).paragraphs
    assert 1 <= quote.paragraph <= len(spans), (quote, len(spans))
    span = spans[quote.paragraph - 1]
    start = text.find(quote.text, span.start, span.end)
    assert quote.text and start >= 0, f"not verbatim in {path} paragraph {quote.paragraph}: {quote}"
    assert text[start : start + len(quote.text)] == quote.text


def labels_of(folders: Sequence[Path]) -> dict[str, Path]:
    """label -> file, from each folder's sources.yaml (where it gives none, the label
    parse_document makes: a Markdown heading or the file name read as words)."""
    import yaml

    out: dict[str, Path] = {}
    for folder in folders:
        meta_file = folder / "sources.yaml"
        meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".txt", ".md") and path.is_file():
                rel = path.relative_to(folder).as_posix()
                given = ((meta or {}).get(rel) or {}).get("label")
                # (A file the bot skips as undecodable gets a label all the same.)
                text = path.read_text(encoding="utf-8-sig", errors="replace")
                out[given or parse_document(text, "", rel, path).label] = path
    return out
