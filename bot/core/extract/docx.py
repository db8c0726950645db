"""DOCX -> paragraphs and headings in document order, tables one paragraph a row
(python-docx). The zip is checked before anything is inflated.

Text is read from the XML, not from python-docx's `Paragraph.text` or `iter_inner_content()`:
those skip runs inside content controls (w:sdt), tracked insertions (w:ins), smart tags and
custom XML, and block-level content controls, so a quote would leave out words the document
shows ("opened in by Lord Penrhyn"). Only what Word shows with changes accepted is read:
deleted and moved-away text (w:del, w:moveFrom) stays out."""

from __future__ import annotations

import io
import logging
import zipfile

from bot.core.extract.model import (
    CELL_SEPARATOR,
    Extracted,
    ExtractError,
    Limits,
    TextBuilder,
    iso_date,
)

log = logging.getLogger(__name__)

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
    from docx.text.paragraph import Paragraph

    check_zip(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        builder = TextBuilder()
        for block in _blocks(document.element.body):
            if block.tag == _TABLE:
                for row in _rows(block):
                    builder.add(row)
            else:
                style = Paragraph(block, document).style
                heading = style is not None and (style.name or "").startswith(HEADING_STYLES)
                builder.add(_text(block), heading=heading)
                for box in _text_boxes(block):  # after the paragraph they are anchored in
                    builder.add(box)
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


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARAGRAPH, _TABLE, _ROW, _CELL, _RUN = (_W + n for n in ("p", "tbl", "tr", "tc", "r"))
# Wrappers whose content Word shows in their place: content controls, custom XML, smart tags,
# hyperlinks, simple fields, tracked insertions and moved-here text. Anything else is not
# entered: properties, deletions (w:del, w:moveFrom), bookmarks, drawings (a text box's
# paragraphs are read apart, after the paragraph holding it: _text_boxes).
_SHOWN = frozenset(_W + n for n in (
    "sdt sdtContent customXml smartTag hyperlink fldSimple ins moveTo dir bdo".split()))


def _within(parent, tags: tuple[str, ...]):
    """The elements of these tags among parent's children, looking through _SHOWN wrappers."""
    stack = list(reversed(parent))
    while stack:
        el = stack.pop()
        if el.tag in tags:
            yield el
        elif el.tag in _SHOWN:
            stack.extend(reversed(el))


def _blocks(parent):
    return _within(parent, (_PARAGRAPH, _TABLE))


def _text(paragraph) -> str:
    # python-docx's CT_R.text renders a run's w:t, w:tab, w:br, w:cr as Paragraph.text does.
    return "".join(run.text for run in _within(paragraph, (_RUN,)))


_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_TEXT_BOX, _FALLBACK = _W + "txbxContent", _MC + "Fallback"


def _text_boxes(paragraph) -> list[str]:
    """The paragraphs of the text boxes (a callout, a sidebar, a pull quote) anchored in a
    paragraph's runs, once each: Word writes a box twice, as a drawing and as its VML
    fallback, and only the drawing is read. A box's own tables are read row by row."""
    out = []
    for box in paragraph.iter(_TEXT_BOX):
        between = []  # box's ancestors up to the paragraph
        for a in box.iterancestors():
            if a is paragraph:
                break
            between.append(a.tag)
        if _FALLBACK in between or _TEXT_BOX in between:
            continue  # the VML copy; a box inside a box is read with that box
        for block in _blocks(box):
            if block.tag == _TABLE:
                out += _rows(block)
            else:
                out.append(_text(block))
                out += _text_boxes(block)
    return out


def _rows(table) -> list[str]:
    """Each row's cells, a cell spanning several columns once, a vertically merged cell in
    each row it spans (as python-docx gives it), nested tables flattened into their cell.
    Recursion is bounded: lxml refuses XML nested over 256 deep."""
    rows, started = [], {}  # grid column -> text of the cell whose vertical merge starts there
    for tr in _within(table, (_ROW,)):
        column, cells = tr.grid_before, []
        for tc in _within(tr, (_CELL,)):
            if tc.vMerge == "continue":
                text = started.get(column, "")
            else:
                text = started[column] = _cell_text(tc)
            cells.append(text)
            column += tc.grid_span
        rows.append(CELL_SEPARATOR.join(c for c in cells if c.strip()))
    return rows


def _cell_text(cell) -> str:
    parts = []
    for block in _blocks(cell):
        if block.tag == _TABLE:
            parts.append(CELL_SEPARATOR.join(r for r in _rows(block) if r.strip()))
        else:
            parts.append(_text(block))
    return " ".join(parts)
