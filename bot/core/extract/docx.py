"""DOCX -> paragraphs and headings in document order, tables one paragraph a row
(python-docx). The zip is checked before anything is inflated."""

from __future__ import annotations

import io
import logging
import zipfile

from bot.core.extract.model import Extracted, ExtractError, Limits, TextBuilder, iso_date

log = logging.getLogger(__name__)

CELL_SEPARATOR = " | "
HEADING_STYLES = ("Heading", "Title", "Subtitle")


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip bomb by its directory, before inflating a byte: a member cannot inflate
    past its declared size (zipfile stops there and fails the CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractError(f"damaged or truncated DOCX ({exc}): save it again from Word") from None
    if len(members) > limits.max_members:
        raise ExtractError(
            f"too many parts ({len(members):,}, the limit is {limits.max_members:,}): "
            "not a document Word writes"
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked:
        raise ExtractError(
            f"unpacks to {unpacked:,} bytes (the limit is {limits.max_unpacked:,}): "
            "a zip bomb, or a document to split (or raise documents.max_unpacked in "
            "config/bot.yaml)"
        )
    if not any(m.filename == "word/document.xml" for m in members):
        raise ExtractError("not a Word document: the zip has no word/document.xml")


def extract_docx(data: bytes, limits: Limits) -> Extracted:
    import docx
    from docx.table import Table

    check_zip(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        builder = TextBuilder()
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in _rows(block):
                    builder.add(row)
            else:
                style = block.style.name if block.style is not None else ""
                builder.add(block.text, heading=style.startswith(HEADING_STYLES))
        props = document.core_properties
        meta = {"label": (props.title or "").strip(), "date": iso_date(props.created)}
    except (KeyError, ValueError, zipfile.BadZipFile, OSError, AttributeError) as exc:
        raise ExtractError(
            f"damaged DOCX ({type(exc).__name__}: {str(exc)[:120]}): save it again from Word"
        ) from None
    except Exception as exc:  # lxml's XMLSyntaxError and kin: a malformed part
        if type(exc).__module__.startswith("lxml"):
            raise ExtractError(f"damaged DOCX (malformed XML: {str(exc)[:120]})") from None
        raise
    return builder.build(meta)


def _rows(table) -> list[str]:
    """Each row's cells, a cell spanning several columns once, nested tables flattened."""
    rows = []
    for row in table.rows:
        seen, cells = set(), []
        for cell in row.cells:
            if id(cell._tc) in seen:  # python-docx repeats a merged cell once per column
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text for p in cell.paragraphs))
        rows.append(CELL_SEPARATOR.join(c for c in cells if c.strip()))
    return rows
