"""render.py: Discord's limits, verbatim quotes (escaped so they show the document's exact
characters, and un-escaped back), continuation markers, no pings, fixed messages."""

from __future__ import annotations

import re

import discord
import pytest
from e2e.quotes import read_quotes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import markdown, messages, paginate, render
from bot.cogs.shared import NO_PINGS
from bot.cogs.views import make_view
from bot.core.documents import Document
from bot.core.model import NO_MATCH, NO_TERMS, Answer, Location, Quote, Source

# Text that exercises every escape: Markdown, mentions, links, list and heading starts.
TOKENS = [*"*_~|`<>[]()#-+.@:/\\ \n\t1aZé\u200b\u0301", "@everyone", "@here", "<@123>", "<#9>",
          "<@&5>", "https://x.org/a_b*c", "||", "```", "👍🏽", "1. ", "-# ", "> "]
MARKDOWN = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000)


def quote(text: str, label: str = "Doc", paragraph: int = 1, **kw) -> Quote:
    return Quote(text, "doc.txt", label, paragraph, 0, len(text), 1.0, "seeds", **kw)


def answer(*quotes: Quote, more: bool = False) -> Answer:
    return Answer("q?", True, tuple(quotes), None, 0.9, more)


def check_limits(pages: list[render.Page], limit: int = paginate.CONTENT_LIMIT) -> None:
    for page in pages:
        assert 0 < paginate.size(page.content) <= limit
        assert len(page.buttons) <= 25
        assert all(len(b.custom_id) <= 100 and 0 < len(b.label) <= 80 for b in page.buttons)
        rows = [b.row for b in page.buttons]
        assert all(0 <= r < 5 and rows.count(r) <= 5 for r in rows)


# --- escaping ----------------------------------------------------------------------------------


@given(MARKDOWN)
@example("  - item\n1. one\n# h\n> q\n-# small")
@example("<https://x.org> [a](https://b.org) \\*")
def test_unescape_inverts_escape(text: str) -> None:
    assert markdown.unescape(markdown.escape(text)) == text
    assert markdown.unescape(markdown.escape(text, line_start=False)) == text


@given(MARKDOWN)
def test_escaped_text_has_no_live_markdown_or_mentions(text: str) -> None:
    out = markdown.escape(text)
    links = [m.span() for m in re.finditer(r"https?://[^\s<\\]+", out)]  # left as they are
    i = 0
    while i < len(out):
        if out[i] == "\\":
            i += 2
            continue
        if not any(a <= i < b for a, b in links):
            assert out[i] not in "*_~|`<[", (out, i)
            assert not out.startswith(("@everyone", "@here"), i), (out, i)
        i += 1
    for line in out.split("\n"):
        line = line.lstrip(" \t")
        assert not line.startswith(tuple(">#+-")) and not re.match(r"\d+\.(\s|$)", line)


@given(MARKDOWN)
@example("**Q:** Can I?\n**A:** Yes, `IG-403` ~~no~~ **<@1>** `<@2>` **a\\**")
def test_a_quote_keeps_its_own_bold_and_code_and_reads_back_exactly(text: str) -> None:
    """A document's "**Q:**", "~~old~~" and "`code`" show as bold, struck and code (members
    saw literal asterisks); what is shown still reads back to the exact text and nothing in
    it can mention anyone."""
    out = markdown.block_quote(text)
    assert markdown.unescape("\n".join(line[2:] for line in out.split("\n"))) == text
    assert not re.search(r"(?<!\\)(?:@everyone|@here|<@)", out), out


def test_a_quotes_channel_mentions_show_as_channels_and_others_stay_escaped() -> None:
    """Members saw "<#884120222233445566>" where the document names a channel; a channel's
    mention pings no one, a user's or a role's stays escaped."""
    shown = markdown.block_quote("Bots go in <#884120222233445566>, ask <@&55> or <@12>.")
    assert shown == "> Bots go in <#884120222233445566>, ask \\<@&55> or \\<@12>."


def test_a_quotes_emphasis_is_shown_as_emphasis_and_the_rest_as_written() -> None:
    shown = markdown.block_quote("**Q:** Can I use `IG-403` in a __main__ or a * b ** c?")
    assert shown == "> **Q:** Can I use `IG-403` in a \\_\\_main\\_\\_ or a \\* b \\*\\* c?"
    assert markdown.escape("**Q:**") == "\\*\\*Q:\\*\\*"  # a label or a question: as written


def test_mentions_are_escaped() -> None:
    assert markdown.escape("hi @everyone and <@123>") == "hi \\@everyone and \\<@123>"


# --- answers -----------------------------------------------------------------------------------


def test_quote_is_a_framed_block_quote() -> None:
    pages = render.render_answer(answer(quote("It *was* taken.", "The capture", 3)))
    assert pages[0].content == "From *The capture*, paragraph 3:\n> It \\*was\\* taken."
    assert [q.text for q in read_quotes(p.content for p in pages)] == ["It *was* taken."]


def test_every_label_of_a_shared_quote_is_shown() -> None:
    q = quote("Same words.", "A", 2, also=(Source("seeds", "b.txt", "B", 1, 0, 11),
                                         Source("seeds", "c.txt", "C_c", 3, 40, 51)))
    content = render.render_answer(answer(q))[0].content
    assert content.startswith("From *A*, paragraph 2 (also in *B*, *C\\_c*):\n")
    assert read_quotes([content])[0].also == ["B", "C_c"]


@pytest.mark.parametrize("reason", [NO_MATCH, NO_TERMS])
def test_abstention_is_a_fixed_phrase_pointing_to_sources(reason: str) -> None:
    pages = render.render_answer(Answer("q?", False, reason=reason))
    assert pages == [render.Page(f"{messages.ABSTAIN[reason]} {messages.SEE_SOURCES}")]
    assert "/sources" in pages[0].content


def test_abstentions_differ_by_reason() -> None:
    assert messages.abstention(NO_MATCH) != messages.abstention(NO_TERMS)


def test_buttons_context_per_quote_and_more_only_when_more() -> None:
    two = [quote("One.", "A", 1), quote("Two.", "B" * 200, 7)]
    pages = render.render_answer(answer(*two, more=True))
    ids = [b.custom_id for b in pages[-1].buttons]
    assert ids == ["qb:ctx:0", "qb:ctx:1", "qb:more", "qb:bad"]
    assert pages[-1].buttons[1].label.endswith(", paragraph 7")
    check_limits(pages)
    without_more = [b.custom_id for b in render.render_answer(answer(*two))[-1].buttons]
    assert without_more == ["qb:ctx:0", "qb:ctx:1", "qb:bad"]


def test_quotes_of_one_paragraph_share_one_context_button() -> None:
    """Three quotes of one list had three Context buttons of one label showing one paragraph."""
    same = [quote("- Level 5: colours.", "Roles", 3), quote("- Level 20: images.", "Roles", 3),
            quote("Other.", "Roles", 4), quote("- Level 10: links.", "Roles", 3)]
    ids = [b.custom_id for b in render.render_answer(answer(*same))[-1].buttons]
    assert ids == ["qb:ctx:0", "qb:ctx:2", "qb:bad"]


def test_buttons_fit_discord_rows() -> None:
    pages = render.render_answer(answer(*(quote(f"Q{i}.", paragraph=i + 1) for i in range(25)),
                                        more=True))
    check_limits(pages)
    assert sum(b.custom_id.startswith("qb:ctx:") for b in pages[-1].buttons) == 20


async def test_view_round_trips_through_discord_py() -> None:
    pages = render.render_answer(answer(quote("A."), quote("B.", paragraph=2), more=True))
    view = make_view(pages[-1].buttons)
    rows = view.to_components()
    assert len(rows) <= 5
    ids = [c["custom_id"] for row in rows for c in row["components"]]
    assert ids == ["qb:ctx:0", "qb:ctx:1", "qb:more", "qb:bad"]
    assert make_view(()) is None


def test_no_pings_means_none() -> None:
    assert NO_PINGS.to_dict() == discord.AllowedMentions.none().to_dict()
    assert NO_PINGS.to_dict()["parse"] == []


def test_long_quote_continues_with_markers_outside_the_quote() -> None:
    text = " ".join(f"word{i}" for i in range(900))  # about 7,000 characters
    pages = render.render_answer(answer(quote(text, "Long", 4)))
    check_limits(pages)
    assert len(pages) >= 4
    for page in pages[:-1]:
        assert page.content.endswith("\n" + messages.CONTINUES)
    for page in pages[1:]:
        assert page.content.startswith("From *Long*, paragraph 4 (continued):\n> ")
    read = read_quotes(p.content for p in pages)
    assert [(q.text, q.pieces) for q in read] == [(text, len(pages))]
    # cut at whitespace: every piece but the last ends with the space it was cut after
    pieces = [re.search(r"(?s)\n> (.*?)(\n\(continues\))?$", p.content)[1] for p in pages]
    assert all(p.endswith(" ") for p in pieces[:-1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.one_of(MARKDOWN, WORDS, MARKDOWN.map(lambda s: s * 40)), min_size=1,
                   max_size=4),
    limit=st.sampled_from([400, 700, paginate.CONTENT_LIMIT]),
    label=st.text(max_size=150),
)
def test_any_answer_fits_and_reads_back_verbatim(texts: list[str], limit: int, label: str) -> None:
    texts = [t for t in texts if t.strip()] or ["x"]
    quotes = [quote(t, label or "L", i + 1) for i, t in enumerate(texts)]
    pages = render.render_answer(answer(*quotes, more=True), limit=limit)
    check_limits(pages, limit)
    assert [q.text for q in read_quotes(p.content for p in pages)] == texts
    assert all(not re.search(r"(?<!\\)@everyone|(?<!\\)<@", p.content) for p in pages)


def test_a_huge_paragraph_shows_its_start_and_says_it_continues() -> None:
    text = "x " * 50_000
    pages = render.render_context(quote(text, "Big", 2))
    check_limits(pages)
    assert len(pages) == paginate.MAX_PAGES
    assert pages[-1].content.endswith(messages.CONTINUES_IN_DOCUMENT)
    assert text.startswith(read_quotes(p.content for p in pages)[0].text)


def test_context_shows_the_whole_paragraph() -> None:
    para = "First sentence. Second *one* with @here."
    pages = render.render_context(quote(para, "Doc", 5))
    assert read_quotes(p.content for p in pages)[0].text == para


# --- other replies -----------------------------------------------------------------------------


def doc(label: str, collection: str = "seeds", source: str = "", date: str = "") -> Document:
    return Document(collection, f"{label}.txt", None, "t", label, source, date)  # type: ignore[arg-type]


def test_sources_list_labels_escaped_and_grouped() -> None:
    pages = render.render_sources([doc("b_doc", "x"), doc("A *doc*", "y", "BBC", "2024")])
    assert pages[0].content == "**x**\n- *b\\_doc*\n**y**\n- *A \\*doc\\** (BBC, 2024)"
    assert render.render_sources([]) == [render.Page(messages.NO_SOURCES)]
    # An address is shown only as a link may be: never its credentials, never javascript:.
    shown = render.render_sources([
        doc("Safe", source="https://council.example.org/minutes?id=4"),
        doc("Secret", source="https://alice:hunter2@intranet.example/beacon"),
        doc("Script", source="javascript:alert(1)")])[0].content
    assert shown.splitlines() == ["- *Safe* (<https://council.example.org/minutes?id=4>)",
                                  "- *Script*", "- *Secret*"]


def test_many_sources_are_paged_and_counted() -> None:
    pages = render.render_sources([doc(f"Document number {i:05}" + "x" * 60) for i in range(2000)])
    check_limits(pages)
    assert len(pages) == paginate.MAX_PAGES
    assert re.search(r"… and [\d,]+ more documents\.$", pages[-1].content)


def test_problems_are_shown_in_code_blocks_that_cannot_be_closed_early() -> None:
    problem = "config/bot.yaml:3: top_k: must be 1 to 10 ```oops```\n" * 200
    pages = render.render_problem(problem)
    check_limits(pages)
    assert pages[0].content.startswith(messages.RELOAD_FAILED + "\n```\n")
    for page in pages:
        assert page.content.count("```") == 2


def test_config_is_rendered_within_limits() -> None:
    shown = {"guild": {"prefix": "!", "channels": "all", "collections": ["a", "b"]},
             "aliases": {f"k{i}": ["x" * 50] for i in range(200)}}
    pages = render.render_config(shown)
    check_limits(pages)
    assert "prefix: !" in pages[0].content


def test_an_error_reply_goes_through_the_same_paginator() -> None:
    short = "config/bot.yaml:3: prefix: must be 1 to 5 characters (got '*_*')"
    assert [p.content for p in render.render_error(short)] == [markdown.escape(short)]
    long = "\n".join(f"guilds/{i}.yaml:1: top_k: must be 1 to 10, got <@{i}>" for i in range(400))
    pages = render.render_error(long)
    check_limits(pages)
    assert len(pages) == paginate.MAX_PAGES
    assert re.search(r"… and [\d,]+ more lines\.$", pages[-1].content)
    shown = "\n".join(p.content for p in pages).splitlines()[:-1]
    assert shown == markdown.escape(long).splitlines()[: len(shown)]


def test_help_is_three_lines_with_the_guild_prefix() -> None:
    text = messages.help_text("?")
    assert len(text.splitlines()) == 3
    assert "?ask" in text and "/ask" in text and "/sources" in text


# --- locations and links -----------------------------------------------------------------------

LINK = "https://news.example/a_(b)*c?x=1#:~:text=It%20was%20taken."


def located(text: str, label: str = "Doc", **where) -> Quote:
    return quote(text, label, 9, location=Location(**where))


def test_page_heading_and_paragraph_in_the_frame() -> None:
    pdf = render.render_answer(answer(located("It was taken.", page=4, paragraph=3)))
    assert pdf[0].content == "From *Doc*, page 4, paragraph 3:\n> It was taken."
    assert pdf[0].buttons[0].label == "Context: Doc, page 4, paragraph 3"
    html = render.render_answer(answer(located("It was taken.", heading="Who", paragraph=2)))
    assert html[0].content.startswith('From *Doc*, "Who", paragraph 2:\n')
    top = render.render_answer(answer(located("Who", heading="Who", paragraph=None)))
    assert top[0].content.startswith('From *Doc*, "Who":\n')  # the heading quoted itself


def test_heading_is_escaped_and_never_pings() -> None:
    heading = "@everyone <@123> **[bold](https://x.example) b** " + "long " * 40
    pages = render.render_answer(answer(located("It was taken.", heading=heading, paragraph=1)))
    check_limits(pages)
    content = pages[0].content
    assert not re.search(r"(?<!\\)@everyone|(?<!\\)<@|(?<!\\)\*\*|(?<!\\)\[", content)
    [read] = read_quotes([content])
    assert read.heading == markdown.unescape(markdown.inline(heading, render.HEADING_LIMIT))
    assert read.heading.startswith("@everyone <@123> **[bold]") and read.heading.endswith("…")


def test_label_links_to_the_quote_without_a_preview() -> None:
    label = "Report ] [x](https://evil.example) @here"
    q = located("It was taken.", label, page=2, paragraph=1, url="https://news.example/a",
                link=LINK)
    pages = render.render_answer(answer(q))
    check_limits(pages)
    content = pages[0].content
    # The link in angle brackets (no embed), its parentheses encoded (it cannot end early).
    assert "(<https://news.example/a_%28b%29*c?x=1#:~:text=It%20was%20taken.>)" in content
    assert not re.search(r"(?<![<(\\])https://", content)  # no bare link Discord would embed
    assert not re.search(r"(?<!\\)@here|(?<!\\)\](?!\(<)", content)
    [read] = read_quotes(p.content for p in pages)
    assert (read.label, read.page, read.paragraph, read.text) == (label, 2, 1, "It was taken.")
    assert read.link == LINK.replace("(", "%28").replace(")", "%29")


def test_a_long_link_falls_back_to_the_source_or_to_none() -> None:
    long_link = "https://news.example/a#:~:text=" + "word%20" * 200
    fallback = located("It was taken.", url="https://news.example/a", link=long_link,
                       paragraph=1)
    [read] = read_quotes(p.content for p in render.render_answer(answer(fallback)))
    assert read.link == "https://news.example/a"
    both_long = located("It was taken.", url=long_link, link=long_link, paragraph=1)
    pages = render.render_answer(answer(both_long))
    assert pages[0].content.startswith("From *Doc*, paragraph 1:\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(MARKDOWN, WORDS), min_size=1, max_size=4),
       limit=st.sampled_from([400, 700, paginate.CONTENT_LIMIT]),
       label=st.text(min_size=1, max_size=150), heading=MARKDOWN)
def test_linked_answers_fit_and_read_back_verbatim(
    texts: list[str], limit: int, label: str, heading: str
) -> None:
    texts = [t for t in texts if t.strip()] or ["x"]
    link = "https://x.example/" + "p" * render.MAX_LINK  # over the cap: the url is linked
    quotes = [located(t, label, heading=heading, paragraph=i, url="https://x.example/p",
                      link=link) for i, t in enumerate(texts)]
    pages = render.render_answer(answer(*quotes, more=True), limit=limit)
    check_limits(pages, limit)
    read = read_quotes(p.content for p in pages)
    assert [q.text for q in read] == texts
    assert {q.link for q in read} == {"https://x.example/p"}
    assert all(not re.search(r"(?<!\\)@everyone|(?<!\\)<@", p.content) for p in pages)
