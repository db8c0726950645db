"""Where in its document an offset is: the page (PDF) and the section heading (HTML, DOCX,
Markdown), from the document's (start, end, value) region tables. Pure functions, for
answers, JSON and rendering to name a quote's location."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


def region_at(regions: Sequence[tuple[int, int, Any]], offset: int) -> Any | None:
    """The value of the region holding offset (regions sorted by start, not overlapping),
    or None when no region holds it."""
    i = bisect_right([r[0] for r in regions], offset) - 1
    if i >= 0 and regions[i][0] <= offset < regions[i][1]:
        return regions[i][2]
    return None


def page_of(document: Any, offset: int) -> int | None:
    """The PDF page number holding offset; None for other formats."""
    return region_at(document.pages, offset)


def heading_of(document: Any, offset: int) -> str | None:
    """The heading of the section holding offset; None before the first heading or where the
    document has none."""
    return region_at(document.headings, offset)
