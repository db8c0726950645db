"""Links that open a quote's source at the quote: URL text fragments (WICG Text Fragments,
https://wicg.github.io/scroll-to-text-fragment/), `url#:~:text=start,end`."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

log = logging.getLogger(__name__)

# The spec's TextDirectiveExplicitChar set, besides ASCII letters and digits: everything else,
# '-', ',' and '&' included (they delimit the directive), is percent-encoded as UTF-8.
_EXPLICIT = "!$'()*+./:;=?@_~"
# A quote of more words than this is matched by its first and last EDGE_WORDS words
# (textStart,textEnd): a long textStart makes a link long and brittle.
MAX_WHOLE_WORDS = 10
EDGE_WORDS = 4
LINK_SCHEMES = ("http", "https")
# Characters a URL may hold as they are (RFC 3986 reserved and unreserved, and '%' of its
# escapes), '@' aside: anything else (spaces, quotes, '<', '>', '\\', non-ASCII) is
# percent-encoded, so that a link cannot end early or break out of the Markdown around it.
_URL_SAFE = ":/?#[]!$&'()*+,;=-._~%"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def encode_text(text: str) -> str:
    """One text directive value, percent-encoded as the spec requires."""
    # quote() leaves '-' and '~' alone as unreserved; the spec reserves '-' (prefix-/-suffix).
    return quote(text, safe=_EXPLICIT).replace("-", "%2D")


def fragment_link(url: str, quote_text: str) -> str:
    """url with a text fragment that highlights quote_text: the whole quote when short, its
    first and last words (textStart,textEnd) when long. url unchanged for an empty quote."""
    words = quote_text.split()
    if not words:
        return url
    if len(words) <= MAX_WHOLE_WORDS:
        directive = encode_text(" ".join(words))
    else:
        start, end = " ".join(words[:EDGE_WORDS]), " ".join(words[-EDGE_WORDS:])
        directive = f"{encode_text(start)},{encode_text(end)}"
    # A fragment directive follows the URL's own fragment, if any, after ":~:".
    base, sep, fragment = url.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    return f"{base}#{fragment if sep else ''}:~:text={directive}"


@lru_cache(maxsize=4096)  # a document's source, asked again for each of its quotes
def web_url(value: str) -> str | None:
    """value as a link-safe http(s) URL, or None when it is not one: another scheme
    (`javascript:`, `data:`, `file:`), no host, a port outside 1-65535, or credentials in it
    (user:password@) are never linked. Characters outside the URL set are percent-encoded, and
    so is a '%' that begins no escape; so is every '@' after the host, which no mention
    ("@everyone") can then be read from."""
    text = value.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port  # ValueError past 65535 or not a number
    except ValueError:  # a malformed IPv6 host or port
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not host or "@" in parts.netloc:
        return None
    if port == 0:
        return None
    head, _, rest = text.partition(parts.netloc)
    url = (quote(head + parts.netloc, safe=_URL_SAFE)
           + quote(rest, safe=_URL_SAFE).replace("@", "%40"))
    return _STRAY_PERCENT.sub("%25", url)
