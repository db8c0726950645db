"""Where in its document an offset is: the page (PDF) and the section heading (HTML, DOCX,
Markdown), from the document's (start, end, value) region tables, and the link to its
source. Pure functions, for answers, JSON and rendering to name a quote's location."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.core.documents import clean_label, span_rows
from bot.core.links import quote_link, web_url
from bot.core.mdstructure import LEVEL_SPAN, heading_level
from bot.core.model import Location
from bot.core.visible import MARKDOWN, kind_of, visible

log = logging.getLogger(__name__)


def region_at(regions: Sequence[tuple[int, int, Any]], offset: int) -> Any | None:
    """The value of the region holding offset (regions sorted by start, not overlapping),
    or None when no region holds it."""
    region = _region(regions, offset)
    return None if region is None else region[2]


def _region(regions: Sequence[tuple[int, int, Any]], offset: int) -> tuple[int, int, Any] | None:
    i = bisect_right([r[0] for r in regions], offset) - 1
    if i >= 0 and regions[i][0] <= offset < regions[i][1]:
        return regions[i]
    return None


def page_of(document: Any, offset: int) -> int | None:
    """The PDF page number holding offset; None for other formats."""
    return region_at(document.pages, offset)


def heading_of(document: Any, offset: int) -> str | None:
    """The heading of the section holding offset; None before the first heading or where the
    document has none."""
    return region_at(document.headings, offset)


def locate(document: Any, start: int, end: int, paragraph: int) -> Location:
    """The Location of document.text[start:end], which begins in paragraph `paragraph`
    (1-based, counted over the whole document)."""
    page = _region(document.pages, start)
    section = _region(document.headings, start)
    # A heading that repeats the label is not named again, but paragraphs are still counted
    # from it, as under any other heading: the first after it is paragraph 1.
    heading = None if section is not None and _same(section[2], document.label) else section
    number: int | None = paragraph
    place = page or section
    if place is not None:
        # Paragraphs are counted from the page's first, or from the first after the
        # heading (itself a paragraph, numbered None): that is where a reader counts from.
        starts = span_rows(document.paragraphs, 2)[:paragraph, 0]
        first = int(np.searchsorted(starts, place[0])) + (1 if page is None else 0)
        number = paragraph - first if paragraph > first else None
    url = web_url(document.source)
    return Location(
        page=None if page is None else int(page[2]),
        heading=None if heading is None else _named(document, heading),
        paragraph=number,
        url=url,
        link=_link(document, url, start, end) if url else None,
    )


# Past this many characters a document's quotes link by their own words alone: reading the
# whole document as rendered takes about 0.3 s a megabyte, in the answer's thread.
LINK_WHOLE_MAX = 1_000_000


def _link(document: Any, url: str, start: int, end: int) -> str | None:
    """The quote's link: matched against the whole document as a reader sees it, so that its
    first match is this quote (none where no fragment can be sure of that)."""
    kind = kind_of(document.rel)
    if len(document.text) <= LINK_WHOLE_MAX:
        return quote_link(url, visible(document.text, kind), start, end)
    text = document.text[start:end]
    return quote_link(url, visible(text, kind), 0, len(text))


def _named(document: Any, section: tuple[int, int, Any]) -> str:
    """The section's heading as a quote names it: with its parent's ("Version 2.2.1 › Fixes")
    where the document has other sections of that heading (a changelog's "Fixes" under each
    version), so that it says which one. Markdown only: other formats keep no levels."""
    title = str(section[2])
    regions = document.headings
    if kind_of(document.rel) != MARKDOWN or sum(r[2] == section[2] for r in regions) < 2:
        return title
    level = _level(document, section)
    i = bisect_right([r[0] for r in regions], section[0]) - 1
    for r in reversed(regions[:i]):
        if _level(document, r) < level:
            return f"{r[2]} \u203a {title}"
    return title


def _level(document: Any, section: tuple[int, int, Any]) -> int:
    return heading_level(document.span(section[0], min(section[1], section[0] + LEVEL_SPAN)))


def _same(heading: Any, label: str) -> bool:
    return clean_label(str(heading)) == clean_label(label)
