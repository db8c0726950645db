"""Read the quotes back out of rendered messages, and check them against the document files.

A rendered quote is a frame line ("From *label*, paragraph N:"; the label may be a link
"[*label*](<url>)", a page or "heading" may follow it), then block-quote lines; a
quote continued in the next message ends with "(continues)" and resumes under a frame that
says "(continued)". Nothing here comes from the code under test: the text is taken as Discord
shows it, and paragraphs are counted in the file by the README's rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Discord (CommonMark) shows a backslash before ASCII punctuation as the character alone.
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
BLANK_LINE = re.compile(r"\n[ \t]*\n")

FRAME = re.compile(
    r"^From (?:\[\*(?P<linked>.*?)\*\]\(<(?P<link>[^<>\s]*)>\)|\*(?P<label>.*?)\*)"
    r"(?:, page (?P<page>\d+))?(?:, \"(?P<heading>.*?)\")?(?:, paragraph (?P<paragraph>\d+))?"
    r"(?: \(also in (?P<also>.*)\))?(?P<continued> \(continued\))?:$"
)


@dataclass
class ReadQuote:
    label: str
    paragraph: int | None
    text: str
    also: list[str] = field(default_factory=list)
    pieces: int = 1
    link: str | None = None
    page: int | None = None
    heading: str | None = None


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
                number, page = frame["paragraph"], frame["page"]
                quotes.append(ReadQuote(
                    unescape(frame["linked"] if frame["label"] is None else frame["label"]),
                    None if number is None else int(number), text, [unescape(a) for a in also],
                    link=frame["link"], page=None if page is None else int(page),
                    heading=None if frame["heading"] is None else unescape(frame["heading"]),
                ))
    return quotes


def assert_quoted_verbatim(quote: ReadQuote, documents: dict[str, Path]) -> None:
    """The quote is, character for character, in paragraph N of the file labelled so."""
    path = documents[quote.label]
    found = paragraphs(path.read_text(encoding="utf-8-sig"))
    assert 1 <= quote.paragraph <= len(found), (quote, len(found))
    paragraph = found[quote.paragraph - 1]
    assert quote.text and quote.text in paragraph, f"not verbatim in {path}: {quote}"


def unescape(text: str) -> str:
    """What Discord shows for Markdown-escaped text."""
    return ESCAPED.sub(r"\1", text)


def paragraphs(text: str) -> list[str]:
    """Blocks between blank lines; when there is one block only, each line (the README)."""
    blocks = [block for block in BLANK_LINE.split(text) if block.strip()]
    if len(blocks) == 1:
        blocks = [line for line in text.split("\n") if line.strip()]
    return blocks


def labels_of(folders: Sequence[Path]) -> dict[str, Path]:
    """label -> file, from each folder's sources.yaml (where it gives none, readme_label)."""
    import yaml

    out: dict[str, Path] = {}
    for folder in folders:
        meta_file = folder / "sources.yaml"
        meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".txt", ".md") and path.is_file():
                rel = path.relative_to(folder).as_posix()
                given = ((meta or {}).get(rel) or {}).get("label")
                out[given or readme_label(path, rel)] = path
    return out


def readme_label(path: Path, rel: str) -> str:
    """The label README gives a file without metadata, worked out here rather than by the
    code under test: a Markdown file's first heading, else the file name without its
    extension, `_` and `-` read as spaces. (A file the bot skips gets one all the same.)"""
    if path.suffix == ".md":
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        heading = re.search(r"^#{1,6}[ \t]+(.*?)[ \t#]*$", text, re.M)
        if heading and heading.group(1).strip():
            return " ".join(heading.group(1).split())
    return " ".join(re.sub(r"[_-]+", " ", path.stem).split()) or rel
