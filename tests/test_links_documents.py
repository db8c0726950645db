"""A quote's link, made against its whole document: the fragment matches the words a reader
of the rendered page sees (no Markdown syntax, no table pipes), its first match on that page
is the quote itself, and the URL it is made on is a valid one. The quote stays verbatim."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_links import highlighted
from verbatim import assert_answer_verbatim

from bot.cli import main
from bot.core.documents import parse_document
from bot.core.links import web_url
from bot.core.locations import locate

HARBOUR_MD = """---
source: https://example.com/harbour
---
# Harbour news

The **ferry company** said the [new timetable](https://example.com/t) starts in *March* for all
routes.

- The northern route will run twice a day from the old pier.

> Officials expect the harbour to be busier than ever this summer.

| Route | Ferries | Start |
|---|---|---|
| Northern ferry route | two boats | March |

<!-- The editor wants a note about the southern ferry route here. -->
"""
# The same page as a browser shows it, one block a line: what a text fragment must match.
HARBOUR_SEEN = """Harbour news
The ferry company said the new timetable starts in March for all routes.
The northern route will run twice a day from the old pier.
Officials expect the harbour to be busier than ever this summer.
Route
Ferries
Start
Northern ferry route
two boats
March"""


def link_of(text: str, rel: str, quote: str, source: str = "") -> str | None:
    doc = parse_document(text, "c", rel, Path(rel), {"source": source} if source else None)
    start = text.rindex(quote)
    return locate(doc, start, start + len(quote), 1).link


@pytest.mark.parametrize(("quote", "seen"), [
    ("The **ferry company** said the [new timetable](https://example.com/t) starts in *March* "
     "for all\nroutes.",
     "The ferry company said the new timetable starts in March for all routes."),
    ("- The northern route will run twice a day from the old pier.",
     "The northern route will run twice a day from the old pier."),
    ("> Officials expect the harbour to be busier than ever this summer.",
     "Officials expect the harbour to be busier than ever this summer."),
    ("# Harbour news", "Harbour news"),
    ("| Route | Ferries | Start |\n|---|---|---|\n| Northern ferry route | two boats | March |",
     "Route\nFerries\nStart\nNorthern ferry route\ntwo boats\nMarch"),
])
def test_a_markdown_quote_links_to_the_words_its_page_shows(quote: str, seen: str) -> None:
    link = link_of(HARBOUR_MD, "harbour.md", quote)
    assert link and link.startswith("https://example.com/harbour#:~:text=")
    fragment = link.split(":~:text=")[1]
    assert not any(mark in fragment for mark in ("*", "%5B", "%7C", "%3E", "%23", "](")), link
    assert highlighted(HARBOUR_SEEN, link) == seen


def test_a_markdown_comment_is_not_linked() -> None:
    quote = "<!-- The editor wants a note about the southern ferry route here. -->"
    assert link_of(HARBOUR_MD, "harbour.md", quote) is None


def test_a_short_quote_inside_an_earlier_sentence_is_told_apart() -> None:
    text = "Oil prices rose.\n\nPrices rose.\n"
    link = link_of(text, "prices.txt", "Prices rose.", "https://x.example/p")
    assert link and link.split(":~:text=")[1] != "Prices%20rose."
    page = "Oil prices rose.\nPrices rose."
    assert highlighted(page, link) == "Prices rose."
    assert page.index(highlighted(page, link)) == page.rindex("Prices rose.")


def ask_json(corpus: Path, question: str) -> dict:
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(corpus), question], out) == 0
    answer = json.loads(out.getvalue())
    assert_answer_verbatim(answer, corpus)
    return answer


def test_a_quote_whose_first_words_open_an_earlier_paragraph_links_to_itself(
    tmp_path: Path,
) -> None:
    (tmp_path / "minutes.html").write_text(
        '<html><head><link rel="canonical" href="https://council.example.org/minutes"></head>'
        "<body><p>According to the report, the weather was fine.</p>"
        "<p>The library opened late.</p><p>According to the report, the new bridge over the "
        "river will cost eleven million crowns and open in May.</p></body></html>")
    top = ask_json(tmp_path, "How much will the new bridge cost?")["quotes"][0]
    assert top["text"].startswith("According to the report, the new bridge")
    page = ("According to the report, the weather was fine.\nThe library opened late.\n"
            f"{top['text']}")
    assert highlighted(page, top["link"]) == top["text"]


def test_a_table_row_links_to_its_cells_without_the_separator(tmp_path: Path) -> None:
    (tmp_path / "costs.html").write_text(
        '<html><head><link rel="canonical" href="https://council.example.org/costs"></head>'
        "<body><p>The costs of the works, as agreed.</p><table><tr><th>Work</th><th>Cost</th>"
        "</tr><tr><td>New bridge</td><td>eleven million crowns</td><td>opens in May</td></tr>"
        "</table></body></html>")
    top = ask_json(tmp_path, "What does the new bridge cost in crowns?")["quotes"][0]
    assert "|" in top["text"] and "New bridge" in top["text"]  # the quote: verbatim, as before
    assert "%7C" not in top["link"]
    page = "The costs of the works, as agreed.\nWork\nCost\nNew bridge\neleven million crowns\n" \
           "opens in May"
    assert " ".join(highlighted(page, top["link"]).split()) == " ".join(
        top["text"].replace("|", " ").split())


def test_a_relative_canonical_link_is_resolved_against_og_url(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="canonical" href="/relative/page">'
        '<meta property="og:url" content="https://news.example/section/page"></head>'
        "<body><p>The ferry to Skarvøy sails at noon on Thursdays.</p></body></html>")
    (tmp_path / "b.txt").write_text("The museum opens in January.\n\nThe pier was repaired.\n")
    top = ask_json(tmp_path, "When does the ferry to Skarvøy sail?")["quotes"][0]
    assert top["link"].startswith("https://news.example/relative/page#:~:text=The%20ferry")


@pytest.mark.parametrize(("source", "url"), [
    ("https://example.com:99999/a", None),
    ("https://example.com:0/a", None),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/a%2Fb%zz", "https://example.com/a%2Fb%25zz"),
])
def test_a_source_url_is_linked_only_when_valid(source: str, url: str | None) -> None:
    assert web_url(source) == url
    link = link_of("The pier was repaired in March.\n", "a.txt", "The pier", source)
    assert link == (None if url is None else f"{url}#:~:text=The%20pier")


def test_a_very_large_document_links_by_its_quotes_own_words(
    tmp_path: Path, monkeypatch
) -> None:
    """Past LINK_WHOLE_MAX characters the whole document is not read as rendered for each
    quote (0.3 s a megabyte): the fragment is the quote's own words, Markdown aside."""
    import bot.core.locations as locations

    text = "---\nsource: https://example.com/harbour\n---\nThe **ferry company** sails at noon.\n"
    doc = parse_document(text, "c", "a.md", tmp_path / "a.md")
    start = text.index("The **ferry")
    end = text.index("noon.") + len("noon.")
    whole = locate(doc, start, end, 1).link
    monkeypatch.setattr(locations, "LINK_WHOLE_MAX", 10)
    alone = locate(doc, start, end, 1).link
    assert alone == whole == ("https://example.com/harbour#:~:text="
                              "The%20ferry%20company%20sails%20at%20noon.")
