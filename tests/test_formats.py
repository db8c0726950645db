"""PDF, HTML and DOCX documents: extracted text against independent extractors, locations,
metadata, bad files reported by name, answers quoted verbatim from the extracted text."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docmaker import (
    HTML_BOILERPLATE,
    HTML_PAGE,
    SCRIPTS_ONLY_HTML,
    docx_xml_paragraphs,
    encrypt_pdf,
    make_docx,
    make_pdf,
    zip_bomb_docx,
)
from verbatim import assert_answer_verbatim, document_text

from bot.cli import main
from bot.core.extract import Limits
from bot.core.extract.batch import extract_files
from bot.core.locations import heading_of, page_of
from bot.library import build_library

PDF_PAGES = [
    ["Storm report for the northern coast, November 2026.",
     "The storm damaged the eastern pier on the first of November,",
     "and the harbour master closed the quay to all ferries for three",
     "weeks while engineers exam-",
     "ined the pilings and the (old) timber supports.",
     "Repairs began at once."],
    ["The lighthouse keeper recorded winds of 140 kilometres per hour",
     "on the night of the storm, the strongest since 1987.",
     "The council voted to pay for the repairs from its reserve fund."],
    ["Appendix: tide tables are kept at the harbour office."],
]
DOCX_BLOCKS = [
    ("heading", "Museum notes"),
    ("p", "The museum of fishing opens its new wing on 12 January, the curator said."),
    ("p", "The wing shows boats built in the village since 1850."),
    ("heading", "Opening hours"),
    ("table", [["Day", "Hours"], ["Monday", "closed"], ["Tuesday – Sunday", "10:00–17:00"]]),
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "storm.pdf").write_bytes(
        make_pdf(PDF_PAGES, title="Storm report", date="D:20261101120000Z"))
    (folder / "harbour.html").write_text(HTML_PAGE, encoding="utf-8")
    (folder / "museum.docx").write_bytes(make_docx("Museum notes", DOCX_BLOCKS))
    return folder


def words(text: str) -> list[str]:
    """Words, ignoring whitespace and hyphens at line ends ("exam-\\nined" is one word)."""
    return re.findall(r"\w+", re.sub(r"-[ \t]*\n\s*", "", text))


def in_order(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(w in it for w in part)


def test_pdf_words_match_pdftotext(corpus: Path, pdftotext: str) -> None:
    ours = document_text(corpus / "storm.pdf")
    theirs = subprocess.run([pdftotext, str(corpus / "storm.pdf"), "-"], capture_output=True,
                            text=True, check=True).stdout
    assert words(ours) == words(theirs)
    assert "engineers examined the pilings" in ours  # the line-end hyphen joined once


def test_pdf_pages_metadata_and_paragraphs(corpus: Path) -> None:
    library = build_library([("c", corpus)])
    pdf = next(d for d in library.engine.sources() if d.rel == "storm.pdf")
    assert (pdf.label, pdf.date) == ("Storm report", "2026-11-01")
    assert [page for _, _, page in pdf.pages] == [1, 2, 3]
    for start, end, page in pdf.pages:
        assert words(pdf.text[start:end]) == words("\n".join(PDF_PAGES[page - 1]))
    winds = pdf.text.index("The lighthouse keeper")
    assert page_of(pdf, winds) == 2 and page_of(pdf, 0) == 1 and heading_of(pdf, 0) is None
    assert page_of(pdf, len(pdf.text)) is None
    # A short line that ends a sentence ends its paragraph.
    paragraphs = [pdf.text[p.start : p.end] for p in pdf.paragraphs]
    assert paragraphs[1] == "Repairs began at once."


class _Visible(HTMLParser):
    """The independent reading of HTML: all text outside script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def test_html_main_text_in_visible_order(corpus: Path) -> None:
    ours = document_text(corpus / "harbour.html")
    visible = _Visible()
    visible.feed(HTML_PAGE.replace("ﬁ", "fi"))  # ligatures are spelled out once, on purpose
    theirs = words(" ".join(visible.parts))
    assert in_order(words(ours), theirs)
    assert len(words(ours)) >= 0.6 * len(theirs)
    for boilerplate in HTML_BOILERPLATE:
        assert boilerplate not in ours
    assert "the storm damaged its pier" in ours  # &nbsp; is a space; lines joined
    assert "the council's finance office" in ours  # the ligature ﬁ spelled out
    assert "Harbour – Skarvøy | Thursday 07:15" in ours  # a table row


def test_html_wrapper_named_like_boilerplate_is_kept(tmp_path: Path) -> None:
    body = "".join(f"<p>Paragraph {n} of the article itself.</p>" for n in range(20))
    (tmp_path / "p.html").write_text(
        f'<html><body><div class="layout has-sidebar">{body}'
        '<div class="sidebar">Related SIDEBARTEXT</div></div></body></html>')
    text = document_text(tmp_path / "p.html")
    assert "Paragraph 19 of the article itself." in text and "SIDEBARTEXT" not in text


@pytest.mark.parametrize(("data", "expected"), [
    ("<html><body><p>Skarvøy – café “x”</p></body></html>".encode(), "Skarvøy – café “x”"),
    ("<html><body><p>café “x”</p></body></html>".encode("cp1252"), "café “x”"),
    ('<html><head><meta charset="iso-8859-1"></head><body><p>Skarvøy</p></body></html>'
     .encode("latin-1"), "Skarvøy"),
])
def test_html_encoding_declared_or_not(tmp_path: Path, data: bytes, expected: str) -> None:
    (tmp_path / "p.html").write_bytes(data)
    assert document_text(tmp_path / "p.html") == expected


def test_html_metadata_and_headings(corpus: Path) -> None:
    library = build_library([("c", corpus)])
    page = next(d for d in library.engine.sources() if d.rel == "harbour.html")
    assert page.label == "The harbour reopens after the storm"  # og:title over <title>
    assert page.source == "https://news.example/harbour-reopens"
    assert page.date == "2026-11-30"
    sections = {title: page.text[s:e] for s, e, title in page.headings}
    assert list(sections) == ["The harbour reopens after the storm",
                              "What the ferry company said"]
    assert "sailings resume on Thursday" in sections["What the ferry company said"]
    assert "sailings resume" not in sections["The harbour reopens after the storm"]
    at = page.text.index("sailings resume")
    assert heading_of(page, at) == "What the ferry company said" and page_of(page, at) is None


@pytest.mark.parametrize(("head", "body", "label"), [
    # The page's <h1> says which side of the title is its own.
    ("<title>Garden news, March 2025 | Greenway Community Garden</title>",
     "<h1>Garden news, March 2025</h1>", "Garden news, March 2025"),
    ("<title>Greenway Community Garden \u2014 Plot rules</title>", "<h1>Plot rules</h1>",
     "Plot rules"),
    # So does og:site_name.
    ('<title>Plot rules - Greenway</title><meta property="og:site_name" content="Greenway">',
     "<h1>Rules for plots</h1>", "Plot rules"),
    # Nothing says which side is the site's: the title as written.
    ("<title>Questions | Answers</title>", "<h1>Our FAQ</h1>", "Questions | Answers"),
])
def test_an_html_pages_label_leaves_out_its_sites_name(
    tmp_path: Path, head: str, body: str, label: str,
) -> None:
    """An outside pass saw "Garden news, March 2025 | Greenway Community Garden" framing every
    quote of a page: the site's name is no part of the page's label."""
    (tmp_path / "p.html").write_text(f"<html><head>{head}</head><body>{body}<p>The plots are "
                                     "dug in March.</p></body></html>", encoding="utf-8")
    [doc] = build_library([("c", tmp_path)]).engine.sources()
    assert doc.label == label


def test_docx_paragraphs_match_document_xml(corpus: Path) -> None:
    data = (corpus / "museum.docx").read_bytes()
    ours = document_text(corpus / "museum.docx")
    theirs = [p for p in docx_xml_paragraphs(data) if p.strip()]
    assert words(ours) == words(" ".join(theirs))
    assert "Tuesday – Sunday | 10:00–17:00" in ours.split("\n\n")  # a table row, one paragraph
    library = build_library([("c", corpus)])
    doc = next(d for d in library.engine.sources() if d.rel == "museum.docx")
    assert doc.label == "Museum notes"
    assert [title for _, _, title in doc.headings] == ["Museum notes", "Opening hours"]
    s, e, _ = doc.headings[1]
    assert doc.text[s:e].startswith("Opening hours") and "Monday | closed" in doc.text[s:e]


def test_markdown_headings(tmp_path: Path) -> None:
    (tmp_path / "n.md").write_text("# One\n\nFirst part.\n\n## Two\n\nSecond part.\n")
    doc = build_library([("c", tmp_path)]).engine.sources()[0]
    assert [(doc.text[s:e], t) for s, e, t in doc.headings] == [
        ("# One\n\nFirst part.", "One"), ("## Two\n\nSecond part.", "Two")]


@pytest.mark.parametrize(("question", "document", "expected"), [
    ("What winds did the lighthouse keeper record?", "storm.pdf", "140 kilometres per hour"),
    ("When do Nordline sailings to Skarvøy resume?", "harbour.html", "sailings resume on"),
    ("When does the museum of fishing open its new wing?", "museum.docx", "12 January"),
])
def test_ask_quotes_each_format_verbatim(corpus: Path, question: str, document: str,
                                         expected: str) -> None:
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(corpus), question], out) == 0
    answer = json.loads(out.getvalue())
    assert_answer_verbatim(answer, corpus)
    top = answer["quotes"][0]
    assert top["document"] == document and expected in top["text"]


def test_text_command_by_name_and_errors(corpus: Path) -> None:
    by_path, by_name = io.StringIO(), io.StringIO()
    assert main(["text", str(corpus / "museum.docx")], by_path) == 0
    assert main(["text", "--corpus", str(corpus), "docs/museum.docx"], by_name) == 0
    assert by_path.getvalue() == by_name.getvalue() != ""
    assert main(["text", "--corpus", str(corpus), "nothing.pdf"], io.StringIO()) == 2


def test_bad_files_are_reported_by_name(corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    good_pdf = (corpus / "storm.pdf").read_bytes()
    good_docx = (corpus / "museum.docx").read_bytes()
    bad = {
        "locked.pdf": encrypt_pdf(good_pdf, "secret"),
        "scanned.pdf": make_pdf([[], []]),
        "nested.pdf": make_pdf([["Deep."]], page_extra=b"/Nest " + b"[" * 5000 + b"]" * 5000),
        "huge.pdf": make_pdf([["p"]] * 2001),
        "bomb.docx": zip_bomb_docx(210 * 1024 * 1024),
        "cut.docx": good_docx[: len(good_docx) // 2],
        "frames.html": SCRIPTS_ONLY_HTML.encode(),
        "really-html.pdf": HTML_PAGE.encode(),
        "really-pdf.docx": good_pdf,
    }
    for name, data in bad.items():
        (corpus / name).write_bytes(data)
    (corpus / "cut.pdf").write_bytes(good_pdf[: len(good_pdf) * 2 // 3])
    (corpus / "cut.html").write_text(HTML_PAGE[: HTML_PAGE.index("What the ferry")])
    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        assert main(["sources", "--corpus", str(corpus)], out) == 0
    listing = out.getvalue()
    reasons = dict(re.findall(r"^skipped .*/([^/:]+): (.*)$", listing, re.M))
    expected = {
        "locked.pdf": "encrypted",
        "scanned.pdf": "no text layer: run OCR first",
        "nested.pdf": "nested too deeply",
        "huge.pdf": "too many pages (2,001, the limit is 2,000)",
        "bomb.docx": "unpacks to 220,200,968 bytes",
        "cut.docx": "damaged or truncated DOCX",
        "frames.html": "no quotable text",
        "really-html.pdf": "mislabelled: the file is HTML, not PDF",
        "really-pdf.docx": "mislabelled: the file is PDF, not DOCX",
    }
    for name, reason in expected.items():
        assert reason in reasons.get(name, ""), (name, listing)
        assert any(name in r.getMessage() and reason in r.getMessage() for r in caplog.records)
    # A truncated PDF is read as far as it goes, or reported; never a crash.
    assert "cut.pdf" in reasons or "docs/cut.pdf" in listing
    for good in ("storm.pdf", "harbour.html", "museum.docx", "cut.html"):
        assert f"docs/{good}:" in listing


def test_time_limit_stops_a_slow_extraction(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([PDF_PAGES[1]] * 400))
    [outcome] = extract_files([path], Limits(max_seconds=0.05)).values()
    assert isinstance(outcome, str) and outcome.startswith("took longer than 0.05 s")


def test_memory_limit_stops_a_large_extraction(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text("<html><body>" + "<p>Many words in a paragraph.</p>" * 100_000)
    limits = Limits(max_memory=32 * 2**20)  # less than the worker holds once started
    [outcome] = extract_files([path], limits).values()
    assert isinstance(outcome, str) and outcome.startswith("needs more than 33,554,432 bytes")
    [outcome] = extract_files([path]).values()  # the default limit reads it
    assert not isinstance(outcome, str) and outcome.text.count("Many words") == 100_000


def test_extraction_cache_reextracts_only_changed_files(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    stale = index / "extracted" / "0123.json"  # unused for 40 days: pruned at the next write
    stale.parent.mkdir(parents=True)
    stale.write_text('{"error": "old"}')
    os.utime(stale, (time.time() - 40 * 86400,) * 2)

    def age(*paths: Path) -> None:
        """Written an hour ago: a start trusts such a file from its stat (filedigests.py)."""
        for path in paths:
            os.utime(path, ns=(time.time_ns() - 3600 * 10**9,) * 2)

    age(*corpus.iterdir())
    with caplog.at_level(logging.INFO, logger="bot.core.extract.batch"):
        build_library([("c", corpus)], index_dir=index)
        first = [m for m in caplog.messages if m.startswith("extracted")]
        assert not stale.exists()
        caplog.clear()
        (corpus / "harbour.html").write_text(HTML_PAGE.replace("Thursday", "Friday"))
        age(corpus / "harbour.html")  # its stat changed all the same
        library = build_library([("c", corpus)], index_dir=index)
        second = [m for m in caplog.messages if m.startswith("extracted")]
        caplog.clear()
        restarted = build_library([("c", corpus)], index_dir=index)
        third = [m for m in caplog.messages if m.startswith("extracted")]
        caplog.clear()
        for entry in (index / "extracted").glob("*.json"):
            entry.write_text('{"ok": {"text": "damaged"')  # a damaged cache is read again
        again = build_library([("c", corpus)], index_dir=index)
        fourth = [m for m in caplog.messages if m.startswith("extracted")]
    assert first == ["extracted 3 of 3 files (0 from the cache)"]
    # Loading the saved index finds the changed page from its digest, unread; the update
    # that follows extracts it, alone and once. The unchanged files, trusted from their
    # stat, are still extracted (from the cache) and compared: the extraction code may have
    # changed since their texts were saved.
    assert second == ["extracted 0 of 2 files (2 from the cache)",
                      "extracted 1 of 1 files (0 from the cache)"]
    assert third == ["extracted 0 of 3 files (3 from the cache)"]  # the saved index's texts
    assert fourth == ["extracted 3 of 3 files (0 from the cache)"]
    page = next(d for d in restarted.engine.sources() if d.rel == "harbour.html")
    assert "resume on Friday" in page.text and page.headings
    assert [d.text for d in restarted.engine.sources()] == [
        d.text for d in library.engine.sources()] == [d.text for d in again.engine.sources()]


# --- locations and links in answers ------------------------------------------------------------


def ask_json(corpus: Path, question: str, *extra: str) -> dict:
    out = io.StringIO()
    assert main(["ask", "--json", *extra, "--corpus", str(corpus), question], out) == 0
    answer = json.loads(out.getvalue())
    assert_answer_verbatim(answer, corpus)
    return answer


def test_json_names_the_page_of_a_pdf_quote(corpus: Path) -> None:
    top = ask_json(corpus, "What winds did the lighthouse keeper record?")["quotes"][0]
    assert top["document"] == "storm.pdf" and top["page"] == 2
    assert "heading" not in top and "link" not in top  # no heading line here, no source
    out = io.StringIO()
    assert main(["ask", "--corpus", str(corpus), "What winds did the lighthouse keeper record?"],
                out) == 0
    assert "From Storm report, page 2, paragraph 1:\n> The lighthouse keeper" in out.getvalue()


def test_json_names_the_heading_and_links_an_html_quote_to_its_place(corpus: Path) -> None:
    top = ask_json(corpus, "When do Nordline sailings to Skarvøy resume?")["quotes"][0]
    assert top["document"] == "harbour.html" and "page" not in top
    assert top["heading"] == "What the ferry company said"
    # The canonical link, with a text fragment of the quote's first and last words.
    assert top["link"] == ("https://news.example/harbour-reopens#:~:text=Nordline%2C%20which"
                           "%20runs%20the,sailings%20resume%20on%20Thursday.")
    out = io.StringIO()
    assert main(["ask", "--corpus", str(corpus), "When do Nordline sailings resume?"], out) == 0
    assert ('From The harbour reopens after the storm, "What the ferry company said", '
            "paragraph 1:\n> Nordline") in out.getvalue()
    assert f"\n  {top['link']}\n" in out.getvalue()


HANDBOOK_PAGES = [
    ["Keeping your plot",
     "At least two-thirds of your plot must be cultivated from April to October, or the",
     "committee sends a first warning.",
     "Sheds and structures",
     "You may put up one shed no larger than 6 ft by 4 ft, and one greenhouse or",
     "polytunnel, with written permission from the committee."],
    ["Bonfires are not permitted, and green waste goes in the compost bays behind the",
     "shed, bay 1 for fresh material and bay 3 for finished compost.",
     "Animals",
     "Dogs must be kept on a lead and are not allowed on other people's plots. Chickens",
     "may be kept on full plots only."],
]


@pytest.mark.parametrize(("question", "quoted", "page", "heading"), [
    # The heading matches best: it is answered by the text under it, named with it.
    ("How big can my shed be?", "You may put up one shed no larger than 6 ft by 4 ft, and one "
     "greenhouse or polytunnel, with written permission from the committee.",
     1, "Sheds and structures"),
    # A section that runs on over the page break: counted from the page's top.
    ("Can I have a bonfire?", "Bonfires are not permitted, and green waste goes in the compost "
     "bays behind the shed, bay 1 for fresh material and bay 3 for finished compost.",
     2, "Sheds and structures"),
])
def test_a_pdf_heading_names_its_section_and_answers_with_the_text_under_it(
    tmp_path: Path, question: str, quoted: str, page: int, heading: str,
) -> None:
    """A PDF's heading line was quoted as the answer ("Sheds and structures" for "How big can
    my shed be?"), and the text under it named no section, as an HTML, DOCX or Markdown
    heading's does."""
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(HANDBOOK_PAGES, title="Handbook"))
    top = ask_json(tmp_path, question)["quotes"][0]
    assert (top["text"], top["page"], top["heading"], top["paragraph"]) == (
        quoted, page, heading, 3 + page)  # counted from the document's start
    out = io.StringIO()
    assert main(["ask", "--corpus", str(tmp_path), question], out) == 0
    assert f'From Handbook, page {page}, "{heading}", paragraph 1:\n> {quoted}' in out.getvalue()


def test_markdown_heading_and_front_matter_source(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text(
        "---\ntitle: Ferry notes\nsource: https://notes.example/ferry?id=7\n---\n\n"
        "# Timetable\n\nThe first ferry leaves at seven.\n\n## Prices\n\nA crossing costs "
        "twelve kroner for adults.\n\nChildren under twelve travel free of charge.\n")
    top = ask_json(tmp_path, "Do children travel free of charge?")["quotes"][0]
    assert top["heading"] == "Prices" and top["paragraph"] == 5 and "page" not in top
    assert top["link"] == ("https://notes.example/ferry?id=7#:~:text=Children%20under%20twelve"
                           "%20travel%20free%20of%20charge.")
    out = io.StringIO()
    assert main(["ask", "--corpus", str(tmp_path), "Do children travel free of charge?"],
                out) == 0
    assert 'From Ferry notes, "Prices", paragraph 2:' in out.getvalue()  # counted from "Prices"


@pytest.mark.parametrize("source", [
    "javascript:alert(document.cookie)", "JavaScript://news.example/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "BBC News",
    "https://user:secret@news.example/a", "vbscript:msgbox(1)",
])
def test_only_http_sources_become_links(tmp_path: Path, source: str) -> None:
    (tmp_path / "a.txt").write_text("The ferry to Skarvøy sails at noon on Thursdays.\n")
    (tmp_path / "b.txt").write_text("The museum opens in January.\n\nThe pier was repaired.\n")
    (tmp_path / "sources.yaml").write_text(json.dumps({"a.txt": {"label": "A", "source": source}}))
    top = ask_json(tmp_path, "When does the ferry to Skarvøy sail?")["quotes"][0]
    assert "link" not in top
    out = io.StringIO()
    assert main(["ask", "--corpus", str(tmp_path), "When does the ferry sail?"], out) == 0
    assert source.split(":")[0] not in out.getvalue().split("> ")[0]


def test_configured_extraction_limits_reach_every_file(tmp_path: Path) -> None:
    """documents: limits in bot.yaml bound extraction, and a changed limit is a new index
    (the saved one, built under the old limit, is not reused)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "storm.pdf").write_bytes(make_pdf(PDF_PAGES, title="Storm report"))
    (tmp_path / "docs" / "note.txt").write_text("The harbour office keeps the tide tables.\n")
    (tmp_path / "config").mkdir()
    bot_yaml = ("collections:\n  docs: {folders: [docs], visibility: public}\n"
                "documents:\n  max_pages: %d\n  max_seconds: 30\n")
    config = ["--config", str(tmp_path / "config")]
    shown = []
    for max_pages in (2, 3):
        (tmp_path / "config" / "bot.yaml").write_text(bot_yaml % max_pages)
        check, out = io.StringIO(), io.StringIO()
        assert main(["check-config", *config], check) == 0, check.getvalue()
        assert main(["sources", *config], out) == 0
        shown.append(out.getvalue())
        pdf = str(tmp_path / "docs" / "storm.pdf")  # `quotebot text` reads it the same way
        assert main(["text", *config, pdf], io.StringIO()) == (2 if max_pages == 2 else 0)
    assert "storm.pdf: too many pages (3, the limit is 2): split the PDF or raise " \
        "documents.max_pages in config/bot.yaml" in shown[0]
    assert "Storm report" in shown[1] and "skipped" not in shown[1]
