"""HTML -> the page's main text (lxml): navigation, scripts, styles, banners and footers
dropped; headings kept as paragraphs of their own; tables as one paragraph a row."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

from bot.core.extract.model import (
    CELL_SEPARATOR,
    Extracted,
    ExtractError,
    Limits,
    TextBuilder,
    iso_date,
)

log = logging.getLogger(__name__)

# Never quoted: code, frames, form controls, media and the page's chrome. Not <form> itself:
# ASP.NET WebForms pages (many council and government sites) wrap the whole body in one.
DROPPED_TAGS = frozenset("""
    script style noscript template iframe frame frameset object embed applet svg math canvas
    video audio picture map button select input textarea label nav aside footer dialog
    menu head
""".split())
DROPPED_ROLES = frozenset(
    "navigation banner contentinfo complementary search dialog alertdialog menu menubar "
    "toolbar".split()
)
# Class or id words of boilerplate blocks (cookie banners, share bars, related links, a wiki's
# "[edit]" links beside its headings...).
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(cookie|cookies|consent|gdpr|banner|newsletter|subscribe|share|sharing|"
    r"social|related|breadcrumbs?|menu|navbar|nav|sidebar|footer|advert|ads|promo|popup|"
    r"modal|comments?|paywall|skip-link|editsection)(?:$|[\s_-])",
    re.I,
)
_KEPT = frozenset(("html", "body", "main", "article"))
# Phrasing elements sit inside sentences: a class or id ("related-name", "share-link") or
# aria-hidden (a screen reader skips the brackets around "(in 2021)"; readers see them) never
# removes one, or a quote would read "The dean, , leads services." Blocks named so still go.
INLINE_TAGS = frozenset("""
    a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark nobr q rp rt
    ruby s samp small span strike strong sub sup time tt u var
""".split())
BLOCK_TAGS = frozenset("""
    p div section article main header h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre
    figure figcaption table thead tbody tfoot tr caption address hr center details summary
    form fieldset legend
""".split())
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def extract_html(data: bytes, limits: Limits) -> Extracted:
    import lxml.html
    from lxml import etree

    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True,
                                  huge_tree=False, default_doctype=False,
                                  encoding=_encoding(data))
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"unreadable HTML ({exc})") from None
    meta = _meta(root)
    _drop_boilerplate(root)
    builder = TextBuilder()
    _Walker(builder).walk(_main(root))
    return builder.build(meta)


_DECLARED = re.compile(rb"<meta[^>]+charset\s*=", re.I)


def _encoding(data: bytes) -> str | None:
    """None where the page says its encoding (a BOM or a meta charset: libxml2 reads those);
    otherwise UTF-8 if the bytes are UTF-8, else windows-1252, the HTML standard's fallback.
    (libxml2 alone would read undeclared UTF-8 as Latin-1: "SkarvÃ¸y".)"""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _DECLARED.search(
        data[:4096]
    ):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _meta(root) -> dict[str, str]:
    def first(xpath: str) -> str:
        values = root.xpath(xpath)
        return str(values[0]).strip() if values else ""

    title = first("//meta[@property='og:title']/@content") or _page_title(
        first("//title/text()"), first("//meta[@property='og:site_name']/@content"),
        " ".join(" ".join(root.xpath("//h1[1]//text()")).split()))
    source = _page_url(
        first("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"),
        first("//meta[@property='og:url']/@content"),
    )
    date = iso_date(
        first("//meta[@property='article:published_time']/@content")
        or first("//meta[@name='date' or @name='dc.date' or @name='DC.date']/@content")
        or first("//time/@datetime")
    )
    return {"label": " ".join(title.split()), "source": source, "date": date}


# What joins a page's own title and its site's name in <title>: "Garden news | Greenway".
_TITLE_SEPARATORS = (" | ", " - ", " \u2013 ", " \u2014 ", " \u00b7 ", " :: ", " \u00bb ")


def _page_title(title: str, site: str, h1: str) -> str:
    """<title> without its site's name ("Garden news, March 2025 | Greenway Community
    Garden"), where the page says which part that is: og:site_name is one side, or the
    page's first <h1> is the other. Otherwise the title as written."""
    title = " ".join(title.split())
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head and tail:
            if (site and tail == site) or (h1 and head == h1):
                return head
            if (site and head == site) or (h1 and tail == h1):
                return tail
    return title


def _page_url(canonical: str, og_url: str) -> str:
    """The page's address: its canonical link where absolute; a relative one ("/page") names
    no page alone, so it is resolved against an absolute og:url, else passed over."""
    if _absolute(canonical):
        return canonical
    if _absolute(og_url):
        return urljoin(og_url, canonical) if canonical else og_url
    return og_url


def _absolute(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


# A block named like boilerplate but holding more than this share of the page's text is the
# page's own wrapper ("layout has-sidebar"), not boilerplate.
MAX_BOILERPLATE_SHARE = 0.5


def _drop_boilerplate(root) -> None:
    doomed, named = [], []
    total = len(root.text_content())
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in _KEPT:
            continue
        # An inline element named like boilerplate stays only inside a sentence, with text on
        # both sides ("The dean, <span class=related-name>Anna Berg</span>, leads"); a "Share on
        # Twitter" link after the text, or a skip link alone, is boilerplate.
        block = tag not in INLINE_TAGS or not _within_text(el)
        if (
            tag in DROPPED_TAGS
            or (tag == "header" and not _inside(el, ("article", "main")))
            or (el.get("role") or "").lower() in DROPPED_ROLES
            or el.get("hidden") is not None
            or _HIDDEN_STYLE.search(el.get("style") or "")
            or (block and el.get("aria-hidden") == "true")
        ):
            doomed.append(el)
        elif block and (words := _boilerplate_words(el)):
            named.append((el, words))
    doomed += _named_boilerplate(named, total)
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            _remove_keep_tail(el)


def _boilerplate_words(el) -> set[str]:
    """The boilerplate words an element's class and id hold, singular ("comments" is
    "comment")."""
    tokens = re.split(r"[\s_-]+", f"{el.get('class', '')} {el.get('id', '')}".lower())
    return {t.removesuffix("s") for t in tokens if t and _BOILERPLATE.fullmatch(t)}


def _named_boilerplate(named: list, total: int) -> list:
    """The elements named like boilerplate that are boilerplate. Beside one holding more than
    MAX_BOILERPLATE_SHARE of the page's text (a wrapper named "layout has-sidebar"), the
    elements a word names that hold no other it names (a thread's posts, not the "comments"
    around them) and together hold that share name the page's content, not its chrome: a
    forum thread's posts, each a <div class="comment"> under half the page, were dropped
    one by one, the thread read as its title alone."""
    outer: set = set()  # (element, word): holds another element the word names
    words_of = dict(named)
    for el, words in named:
        missing = set(words)  # the nearest ancestor of a word is enough: it marks its own
        for a in el.iterancestors():
            if a in words_of and (found := missing & words_of[a]):
                outer.update((a, w) for w in found)
                missing -= found
                if not missing:
                    break
    share: dict[str, int] = {}
    for el, words in named:
        for word in words:
            if (el, word) not in outer:
                share[word] = share.get(word, 0) + len(el.text_content())
    limit = MAX_BOILERPLATE_SHARE * total
    return [el for el, words in named
            if len(el.text_content()) <= limit and any(share.get(w, 0) <= limit for w in words)]


def _within_text(el) -> bool:
    """Whether an element has text of its parent's on both sides of it."""
    prev = el.getprevious()
    before = prev.tail if prev is not None else el.getparent().text
    return bool((before or "").strip()) and bool((el.tail or "").strip())


def _inside(el, tags: tuple[str, ...]) -> bool:
    return any(isinstance(a.tag, str) and a.tag.lower() in tags for a in el.iterancestors())


# Characters lxml reads in a page but refuses to set back (U+FFFE, U+FFFF, C0 controls): not
# text, and left in, one dropped element's tail would lose the whole page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _remove_keep_tail(el) -> None:
    # The text after an element (its tail) belongs to its parent, so it stays.
    parent, tail = el.getparent(), _NOT_XML.sub("", el.tail or "")
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _main(root):
    for xpath in ("//main", "//*[@role='main']", "//article"):
        found = root.xpath(xpath)
        if len(found) == 1:
            return found[0]
    body = root.find("body")
    return body if body is not None else root


# A row whose cells each hold at most this many characters is a row of data, read as one
# paragraph ("Island route | Eighteen kroner") even where its cells hold <p> or <div>; a
# longer cell is a layout table's column of paragraphs, which stay paragraphs.
MAX_CELL_CHARS = 500
CELLS = ("td", "th")


class _Walker:
    """Text of inline elements gathers into the current paragraph; a block element starts
    a new one, except inside a heading or a row of data, which are one paragraph each (a
    block there is a space). Iterative, so a page nested ten thousand deep cannot exhaust
    the stack."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.buffer: list[str] = []
        self.heading = self.visible = False
        self.checked = 0  # buffer pieces has_text looked at
        self.joining = 0  # headings and cells of data rows open around the current element
        # <tr> -> whether it is a row of data. Keyed by the element, not id(): lxml makes a
        # new proxy for an element no one holds, and a freed proxy's id is reused.
        self.rows: dict[object, bool] = {}

    def flush(self) -> None:
        if self.buffer:
            self.builder.add("".join(self.buffer), heading=self.heading)
        self.buffer, self.heading = [], False
        self.visible, self.checked = False, 0

    def has_text(self) -> bool:
        """Whether the paragraph so far shows any text (looking at each piece once)."""
        if not self.visible:
            self.visible = any(p.strip() for p in self.buffer[self.checked:])
            self.checked = len(self.buffer)
        return self.visible

    def walk(self, top) -> None:
        # (element, None) to enter it; (element, whether it opened a joined paragraph) to leave.
        stack: list[tuple[object, bool | None]] = [(top, None)]
        while stack:
            el, opened = stack.pop()
            if opened is not None:
                self._leave(el, opened)
                continue
            tag = el.tag.lower() if isinstance(el.tag, str) else ""
            opened = False
            if tag in BLOCK_TAGS and self.joining:
                self.buffer.append(" ")
            elif tag in BLOCK_TAGS:
                self.flush()
                self.heading = opened = tag in HEADINGS
            elif tag in CELLS:
                if el.getprevious() is not None and self.has_text():
                    self.buffer.append(CELL_SEPARATOR)
                opened = not self.joining and self._data_row(el.getparent())
            elif tag == "br":
                self.buffer.append("\n")
            self.joining += opened
            if tag and el.text:
                self.buffer.append(el.text)
            stack.append((el, opened))
            stack.extend((child, None) for child in reversed(el))
        self.flush()  # text after the last block in <body> ("<p>...</p>The ferry left.")

    def _leave(self, el, opened: bool) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        self.joining -= opened
        if tag in BLOCK_TAGS:
            if self.joining:
                self.buffer.append(" ")
            else:
                self.flush()
        if el.tail:
            self.buffer.append(el.tail)


    def _data_row(self, row) -> bool:
        """Whether row is a <tr> of data; decided once a row (a row of 10,000 cells would
        otherwise be measured 10,000 times)."""
        if row is None or not isinstance(row.tag, str) or row.tag.lower() != "tr":
            return False
        if row not in self.rows:
            cells = [c for c in row if isinstance(c.tag, str) and c.tag.lower() in CELLS]
            self.rows[row] = all(
                len(c.text_content()) <= MAX_CELL_CHARS and next(c.iter("table"), None) is None
                for c in cells)
        return self.rows[row]
