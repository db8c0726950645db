"""Where in its document an offset is: the page (PDF) and the section heading (HTML, DOCX,
Markdown, PDF), from the document's (start, end, value) region tables, and the link to its
source. Pure functions, for answers, JSON and rendering to name a quote's location."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.core.documents import clean_label, span_rows
from bot.core.links import quote_link, web_url
from bot.core.mdstructure import level_at
from bot.core.model import Location
from bot.core.visible import MARKDOWN, kind_of, visible

log = logging.getLogger(__name__)


def region_at(regions: Sequence[tuple[int, int, Any]], offset: int) -> Any | None:
    """The value of the region holding offset (regions sorted by start, not overlapping),
    or None when no region holds it."""
    region = _region(regions, offset)
    return None if region is None else region[2]


def _region(regions: Sequence[tuple[int, int, Any]], offset: int) -> tuple[int, int, Any] | None:
    """The last region by start that holds offset: a Markdown section's, or a <details>
    block's within it (mdstructure.markdown_headings)."""
    i = bisect_right([r[0] for r in regions], offset) - 1
    for region in regions[max(0, i - _NESTED) : i + 1][::-1]:
        if offset < region[1]:
            return region
    return None


# How many regions back the one holding an offset may start: a section's <details> blocks
# lie within it (an FAQ of a few dozen folded questions); other regions never overlap.
_NESTED = 256


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
    # Paragraphs are counted from the page's first, or from the first after the heading
    # (itself a paragraph, numbered None) where it stands on the page: that is where a
    # reader counts from ("page 2, "Animals", paragraph 1").
    under = section is not None and (page is None or section[0] >= page[0])
    place = section if under else page
    if place is not None:
        starts = span_rows(document.paragraphs, 2)[:paragraph, 0]
        first = int(np.searchsorted(starts, place[0])) + (1 if under else 0)
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
    version), or of a heading beside it ("Removed", once, beside a "Fixes" of each version),
    so that it says which one. Markdown only: other formats keep no levels."""
    title = str(section[2])
    if kind_of(document.rel) != MARKDOWN:
        return title
    starts, parents = _sections(document)
    parent = parents[bisect_right(starts, section[0]) - 1]
    return title if parent < 0 else f"{document.headings[parent][2]} › {title}"


# Each Markdown document's heading table as _named reads it, kept for the few documents
# quoted last: counting a heading's namesakes and finding its parent went through every
# heading of the document for each quote (20,000 sections: 6 ms a quote).
_SECTIONS: dict[int, tuple[Any, list[int], list[int]]] = {}
_SECTIONS_KEPT = 64


def _sections(document: Any) -> tuple[list[int], list[int]]:
    """The starts of document's headings, and the parent each is named with (the position
    of the nearest heading before it of a lower level), -1 for a heading named alone: one
    that no other section shares, nor any heading beside it (of the same parent)."""
    regions = document.headings
    kept = _SECTIONS.get(id(regions))
    if kept is not None and kept[0] is regions:
        return kept[1], kept[2]
    counts = Counter(r[2] for r in regions)
    parents = [-1] * len(regions)
    if any(n > 1 for n in counts.values()):
        text = document.text
        levels = [_level(text, r) for r in regions]
        below: list[int] = []  # the headings that may be a later one's parent
        for i, level in enumerate(levels):
            while below and levels[below[-1]] >= level:
                below.pop()
            parents[i] = below[-1] if below else -1
            below.append(i)
        shared = {parents[i] for i, r in enumerate(regions) if counts[r[2]] > 1}
        parents = [p if p in shared else -1 for p in parents]
    starts = [r[0] for r in regions]
    if len(_SECTIONS) >= _SECTIONS_KEPT:
        _SECTIONS.pop(next(iter(_SECTIONS)))
    _SECTIONS[id(regions)] = (regions, starts, parents)
    return starts, parents


def _level(text: str, section: tuple[int, int, Any]) -> int:
    return level_at(lambda a, b: text[a:b], section[0])


def _same(heading: Any, label: str) -> bool:
    return clean_label(str(heading)) == clean_label(label)
