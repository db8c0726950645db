"""PDF text layer -> paragraphs with page numbers (pypdf).

A page's end ends its paragraph, unless the sentence runs on over the break (see runs_on):
then the page's first words go on the paragraph before, and the page number changes inside
it. A quote's page is the page of its start."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from bot.core.extract.model import Extracted, ExtractError, Limits, TextBuilder, iso_date

log = logging.getLogger(__name__)

# A line this much shorter than the page's longest, ending a sentence, ends its paragraph:
# the text layer has lines, not paragraphs, and a paragraph's last line is the short one.
SHORT_LINE = 0.8
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’)\]]*$")
_BLANK = re.compile(r"\n[ \t]*\n")
RUN_ON_WORDS = 4
# A page number as a footer prints it: "12", "Page 1 of 2", "- 3 -", "4/10".
_FOOTER = re.compile(r"(?i)\s*(?:page\s+)?[-–—]?\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*[-–—]?\s*")


def extract_pdf(data: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        count = len(reader.pages)
        if count > limits.max_pages:
            raise ExtractError(
                f"too many pages ({count:,}, the limit is {limits.max_pages:,}): split the PDF "
                "or raise documents.max_pages in config/bot.yaml"
            )
        builder = TextBuilder()
        last = ""  # the previous page's last paragraph
        texts = without_running_lines([page.extract_text() or "" for page in reader.pages])
        tops = repeated_tops(texts)
        for number, page_text in enumerate(texts, start=1):
            builder.page(number)
            found = paragraphs(page_text)
            for i, (paragraph, heading) in enumerate(found):
                running = i == 0 and _masked(paragraph) in tops
                builder.add(paragraph, heading=heading and not running,
                            continues=i == 0 and runs_on(last, paragraph))
            last = found[-1][0] if found else ""
        meta = _meta(reader)
    except (FileNotDecryptedError, DependencyError) as exc:
        raise ExtractError(f"encrypted ({exc}): save an unencrypted copy") from None
    except RecursionError:
        raise ExtractError("damaged PDF: its objects are nested too deeply to read") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, OSError, AssertionError) as exc:
        if isinstance(exc, ExtractError):
            raise
        if isinstance(exc.__context__, RecursionError):  # pypdf wraps it
            raise ExtractError("damaged PDF: its objects are nested too deeply to read") from None
        raise ExtractError(
            f"damaged or truncated PDF ({type(exc).__name__}: {str(exc)[:120]}): "
            "save it again from the program that made it"
        ) from None
    return builder.build(meta)


def _decrypt(reader) -> None:  # reader: pypdf.PdfReader
    # Many PDFs are encrypted only to restrict printing or editing, with an empty password
    # for reading; those are read. One that needs a password is not.
    if not reader.decrypt(""):
        raise ExtractError("encrypted: it needs a password to open; save an unencrypted copy")


def _meta(reader) -> dict[str, str]:
    info = reader.metadata or {}
    title = str(info.get("/Title") or "").strip()
    date = iso_date(info.get("/CreationDate") or info.get("/ModDate") or "")
    return {"label": title, "date": date}


def runs_on(last: str, first: str) -> bool:
    """Whether a page's first paragraph goes on with the sentence the page before left
    unfinished: that one does not end a sentence and holds a few words (not a page number
    in a footer), and this one starts in lower case ("...opened in 1826 to" / "traffic
    crossing the estuary.")."""
    stripped = first.lstrip()
    tail = last.rstrip().rsplit("\n", 1)[-1]  # a footer is the page's last line
    return (len(last.split()) >= RUN_ON_WORDS and not _SENTENCE_END.search(last.rstrip())
            and not _FOOTER.fullmatch(tail) and stripped[:1].islower())


# A running header or footer: a line among a page's first or last EDGE_LINES lines that stands
# there, its digits aside ("Minutes, page 3"), on at least half the pages (two at least).
EDGE_LINES = 3
_DIGITS = re.compile(r"\d+")


def _masked(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()))


def without_running_lines(pages: list[str]) -> list[str]:
    """Each page's text without the running header and footer lines at its top and bottom:
    left in, they would join the first and last sentence of every page ("Harbour Committee
    Minutes 2 a contractor from Bodø...") and keep a sentence that runs on over the page
    break apart. A page that holds nothing else is kept whole (a form repeated page after
    page is text, not a header)."""
    if len(pages) < 2:
        return pages
    lines = [[line for line in page.splitlines() if line.strip()] for page in pages]
    seen: Counter[str] = Counter()
    for page in lines:
        seen.update({_masked(line) for line in page[:EDGE_LINES] + page[-EDGE_LINES:]})
    running = {m for m, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}
    if not running:
        return pages
    out = []
    for page, page_lines in zip(pages, lines, strict=True):
        top = 0
        while top < min(EDGE_LINES, len(page_lines)) and _masked(page_lines[top]) in running:
            top += 1
        bottom = len(page_lines)
        while (bottom > max(top, len(page_lines) - EDGE_LINES)
               and _masked(page_lines[bottom - 1]) in running):
            bottom -= 1
        if (top == 0 and bottom == len(page_lines)) or top >= bottom:
            out.append(page)  # nothing running, or nothing else on the page
        else:
            out.append("\n".join(page_lines[top:bottom]))
    return out


def repeated_tops(pages: list[str]) -> set[str]:
    """The first lines, digits aside, that stand first on more than one page: a chapter's
    running header ("Chapter 4: Function reference 13") that too few pages share to be left
    out (see without_running_lines) heads no section."""
    firsts = Counter(_masked(next((line for line in page.splitlines() if line.strip()), ""))
                     for page in pages)
    return {line for line, n in firsts.items() if n > 1 and line}


def paragraphs(page_text: str) -> list[tuple[str, bool]]:
    """A page's text layer cut into paragraphs, each with whether it is a heading: at blank
    lines, after a short line that ends a sentence, and around a line set apart (see
    _apart: "Harbour finances" / "The harbour fund received..." was one sentence; a table's
    short cells stay together). Such a line is a heading unless it reads as a sentence or a
    list item (see _heading). Lines stay joined by newlines; normalising turns them into
    spaces."""
    out: list[tuple[str, bool]] = []
    for block in _BLANK.split(page_text):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        longest = max(len(line.strip()) for line in lines)
        current: list[str] = []
        for i, line in enumerate(lines):
            apart = _apart(lines, i, longest, opening=not current)
            if apart and current:
                out.append(("\n".join(current), False))
                current = []
            current.append(line)
            stripped = line.strip()
            if apart or (len(stripped) < SHORT_LINE * longest and _SENTENCE_END.search(stripped)):
                out.append(("\n".join(current), apart and _heading(lines, i)))
                current = []
        if current:
            out.append(("\n".join(current), False))
    return out


def _apart(lines: list[str], i: int, longest: int, opening: bool) -> bool:
    """Whether line i is a paragraph of its own, where a heading stands: a short line that
    opens a paragraph (the one before ended, or the line before ends a sentence: a full last
    line, "...keep it somewhere handy." / "Plot fees"), ends in no comma or bracket, and
    stands over text that starts with a capital or a digit: a full line, or a paragraph of
    one shorter line that ends a sentence and is longer than this one ("Waiting list" /
    "Expect to wait a year.")."""
    line = lines[i].strip()
    after = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if (len(line) >= SHORT_LINE * longest or _NOT_HEADING_END.search(line)
            or not _STARTS_PARAGRAPH.match(after)
            or not (opening or _SENTENCE_END.search(lines[i - 1].strip()))):
        return False
    return len(after) >= SHORT_LINE * longest or (
        _SENTENCE_END.search(after) is not None and len(after) > len(line))


def _heading(lines: list[str], i: int) -> bool:
    """Whether line i, set apart as a paragraph of its own, heads the text under it: it
    starts with a capital or a digit (no bullet, no sentence running on), does not end a
    sentence (a question may: an FAQ's), holds no "=" (a line of code or a formula, "LEN =
    strlen(VALUE)+1"), and is no numbered item of a list (its number after the line before
    opens with one too: "2. No dogs" after "1. Be kind.")."""
    line = lines[i].strip()
    end = _SENTENCE_END.search(line)
    if (_STARTS_PARAGRAPH.match(line) is None or (end is not None and "?" not in end[0])
            or "=" in line):
        return False
    return not (_NUMBERED.match(line) and i > 0 and _NUMBERED.match(lines[i - 1].strip()))


_STARTS_PARAGRAPH = re.compile(r"[A-ZÀ-Þ0-9]")
# A line that ends so runs on into the next: a comma, a hyphen, an opening bracket or quote.
_NOT_HEADING_END = re.compile(r"[,;\-–—(\[“‘\"']$")
# A numbered item's opening: "2. ", "3) ", "(b) ".
_NUMBERED = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z])[.)][ \t]")
