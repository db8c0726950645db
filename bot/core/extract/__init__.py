"""Quotable text from PDF, HTML and DOCX files: one call, `extract(data, suffix, limits)`.

The text is normalised once here (whitespace, line-end hyphens, ligatures), and every offset
the rest of quotebot records indexes this extracted text, never the file's bytes: a quote is
`Extracted.text[start:end]`, and `quotebot text FILE` prints that text for anyone to check.

A file's type is decided by its content, not its name; a file whose content is another type
than its suffix says is refused as mislabelled (renaming it is the fix, and reading it as
what it is would make its name lie in every answer that quotes it).
"""

from __future__ import annotations

import logging
import re

from bot.core.extract.model import Extracted, ExtractError, Limits

log = logging.getLogger(__name__)

# Suffix -> the format its content must be.
FORMATS = {".pdf": "PDF", ".html": "HTML", ".htm": "HTML", ".docx": "DOCX"}
SUFFIXES = tuple(FORMATS)

__all__ = ["FORMATS", "SUFFIXES", "ExtractError", "Extracted", "Limits", "extract", "sniff"]

# A tag an HTML page or fragment starts with, near its beginning.
_HTML_TAG = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|link|script|style|p|div|h[1-6]|article"
    rb"|main|section|header|nav|span|a|table|ul|ol|br)[\s>/]",
    re.I,
)


def sniff(data: bytes) -> str:
    """The format of a file's content: "PDF", "DOCX", "ZIP" (another zip), "HTML" or "TEXT"."""
    head = data[:1024]
    if b"%PDF-" in head:  # the header may follow a few junk bytes; readers accept that
        return "PDF"
    if head.startswith(b"PK\x03\x04"):
        return "DOCX" if b"word/" in data[:65536] or b"[Content_Types].xml" in head else "ZIP"
    if _HTML_TAG.search(head):
        return "HTML"
    return "TEXT"


def extract(data: bytes, suffix: str, limits: Limits | None = None) -> Extracted:
    """The quotable text of a file's bytes; ExtractError with a reason the user can act on."""
    limits = limits or Limits()
    expected = FORMATS[suffix.lower()]
    if len(data) > limits.max_bytes:
        raise ExtractError(
            f"too large ({len(data):,} bytes, the limit is {limits.max_bytes:,}): "
            "split the file or raise documents.max_bytes in config/bot.yaml"
        )
    if not data.strip():
        raise ExtractError("empty: the file has no text to quote")
    actual = sniff(data)
    if actual != expected:
        what = {"TEXT": "plain text", "ZIP": "a zip archive but not a Word document"}
        raise ExtractError(
            f"mislabelled: the file is {what.get(actual, actual)}, not {expected}"
            + (f" (rename it to .{actual.lower()})" if actual in ("PDF", "HTML", "DOCX") else "")
        )
    if expected == "PDF":
        from bot.core.extract.pdf import extract_pdf as reader
    elif expected == "HTML":
        from bot.core.extract.html import extract_html as reader
    else:
        from bot.core.extract.docx import extract_docx as reader
    result = reader(data, limits)
    if not any(ch.isalnum() for ch in result.text):
        raise ExtractError(_NOTHING[expected])
    return result


_NOTHING = {
    "PDF": "no text layer: run OCR first (e.g. ocrmypdf), then add the OCRed PDF",
    "HTML": "no quotable text: the page holds only scripts, frames, navigation or boilerplate",
    "DOCX": "no quotable text: the document has no paragraphs or tables with words",
}
