"""Text-fragment links for quotes, against the WICG Text Fragments rules: the directive is
`text=[prefix-,]start[,end][,-suffix]`, each part percent-encoded, with '-', ',' and '&'
(which delimit it) and every character outside the explicit set encoded."""

from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from bot.core.links import fragment_link

# TextDirectiveExplicitChar: ASCII letters, digits and !$'()*+./:;=?@_~ ; then %XX escapes.
PART = re.compile(r"(?:[A-Za-z0-9!$'()*+./:;=?@_~]|%[0-9A-F]{2})+")


def parts(link: str) -> list[str]:
    directive = link.split("#", 1)[1].split(":~:text=", 1)[1]
    return directive.split(",")


def test_short_quote_is_matched_whole_with_delimiters_encoded() -> None:
    link = fragment_link("https://news.example/a",
                         "Repairs cost “about €2 million”,\nsaid Smith-Jones & Co.")
    assert link == (
        "https://news.example/a#:~:text=Repairs%20cost%20%E2%80%9Cabout%20%E2%82%AC2%20million"
        "%E2%80%9D%2C%20said%20Smith%2DJones%20%26%20Co."
    )


def test_long_quote_is_matched_by_its_first_and_last_words() -> None:
    quote = ("Russian forces have secured control of the eastern town of Siversk following "
             "a Ukrainian military withdrawal, marking another step.")
    link = fragment_link("https://x.example/p?id=3", quote)
    assert link == ("https://x.example/p?id=3#:~:text=Russian%20forces%20have%20secured,"
                    "withdrawal%2C%20marking%20another%20step.")


def test_non_ascii_and_existing_fragment() -> None:
    link = fragment_link("https://x.example/p#section-2", "Skarvøy's ferry – Zürich-bound")
    assert link.startswith("https://x.example/p#section-2:~:text=")
    [part] = parts(link)
    assert part == "Skarvøy's ferry – Zürich-bound".replace("ø", "%C3%B8").replace(
        " ", "%20").replace("–", "%E2%80%93").replace("ü", "%C3%BC").replace("-", "%2D")
    again = fragment_link(link, "other words")  # an old directive is replaced, not stacked
    assert again == "https://x.example/p#section-2:~:text=other%20words"


def test_empty_quote_leaves_the_url_alone() -> None:
    assert fragment_link("https://x.example/", " \n") == "https://x.example/"


@given(st.text(min_size=1).filter(lambda t: t.split()))
def test_every_part_is_spec_encoded_and_decodes_to_the_quote(quote: str) -> None:
    link = fragment_link("https://x.example/", quote)
    got = parts(link)
    assert all(PART.fullmatch(p) for p in got), link
    assert not any(ch in p for p in got for ch in "-&# ")
    words = quote.split()
    decoded = [unquote(p, errors="surrogatepass") for p in got]
    if len(got) == 1:
        assert decoded == [" ".join(words)]
    else:  # the first and last words: four, or more where four match earlier
        start, end = decoded
        assert len(start.split()) >= 4 and len(end.split()) >= 4
        assert " ".join(words).startswith(start) and " ".join(words).endswith(end)
        assert len(start.split()) + len(end.split()) <= len(words)


def highlighted(page: str, link: str) -> str:
    """What a browser highlights for link's text directive on a page whose visible text is
    `page` (one block a line): the first case-insensitive, word-bounded match of
    [prefix-,]start[,end][,-suffix], by a regex independent of bot/core/links.py."""
    terms = parts(link)
    prefix = unquote(terms.pop(0)[:-1]) if terms[0].endswith("-") else None
    suffix = unquote(terms.pop()[1:]) if terms[-1].startswith("-") else None
    start, end = (unquote(t) for t in terms) if len(terms) == 2 else (unquote(terms[0]), None)

    def term(text: str) -> str:
        edge = (r"(?<!\w)" if text[0].isalnum() else "", r"(?!\w)" if text[-1].isalnum() else "")
        return edge[0] + re.escape(text) + edge[1]

    pattern = ((rf"{term(prefix)}\s*" if prefix else "") + f"(?P<s>{term(start)})"
               + (rf"[\s\S]*?(?P<e>{term(end)})" if end else "")
               + (rf"(?=\s*{term(suffix)})" if suffix else ""))
    match = re.search(pattern, page, re.I)
    assert match, (pattern, page)
    return page[match.start("s"):match.end("e" if end else "s")]


def test_a_long_quote_ends_at_its_own_last_words_not_an_earlier_repeat() -> None:
    quote = "The harbour says the north pier closes in May and the south pier closes in May"
    link = fragment_link("https://x.example/", quote)
    assert highlighted(quote, link) == quote
    assert link.endswith("the,south%20pier%20closes%20in%20May")  # not "pier closes in May"
