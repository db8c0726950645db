"""Markup that must not cost a document its words: DOCX runs inside content controls, tracked
insertions, smart tags and nested tables; HTML pages inside a <form>; inline elements named
like boilerplate in the middle of a sentence; a PDF sentence that runs on over a page break.
Each file is made here and read as `quotebot text` prints it, the text every quote's offsets
index."""

from __future__ import annotations

import io
from pathlib import Path

from verbatim import document_text

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _xml(markup: str):
    from docx.oxml import parse_xml

    head, _, rest = markup.partition(">")  # the w: namespace declared on the first element
    return parse_xml(f"{head} {W_NS}>{rest}")


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _docx(tmp_path: Path, build) -> Path:
    import docx

    document = docx.Document()
    build(document)
    path = tmp_path / "d.docx"
    out = io.BytesIO()
    document.save(out)
    path.write_bytes(out.getvalue())
    return path


def _paragraph(document, *markup: str) -> None:
    """A paragraph of runs given as XML (runs, or wrappers holding runs)."""
    p = document.add_paragraph()
    for part in markup:
        p._p.append(_xml(part))


def test_docx_keeps_runs_inside_controls_insertions_smart_tags_and_links(
    tmp_path: Path,
) -> None:
    def build(document) -> None:
        _paragraph(document, _run("The Bangor pier was opened in "),
                   f"<w:sdt><w:sdtPr><w:alias w:val='Year'/></w:sdtPr><w:sdtContent>"
                   f"{_run('1896')}</w:sdtContent></w:sdt>", _run(" by Lord Penrhyn."))
        _paragraph(document, _run("The harbour in Conwy has "),
                   f"<w:ins w:id='1' w:author='x'>{_run('forty')}</w:ins>",
                   "<w:del w:id='2' w:author='x'><w:r><w:delText>thirty</w:delText></w:r>"
                   "</w:del>", _run(" moorings."))
        _paragraph(document, _run("The ferry to "),
                   f"<w:smartTag w:uri='urn:x' w:element='place'>{_run('Anglesey')}</w:smartTag>",
                   _run(" sails from "),
                   f"<w:hyperlink w:anchor='x'><w:ins w:id='3' w:author='x'>{_run('Holyhead')}"
                   "</w:ins></w:hyperlink>", _run(" daily."))

    text = document_text(_docx(tmp_path, build))
    assert "The Bangor pier was opened in 1896 by Lord Penrhyn." in text
    assert "The harbour in Conwy has forty moorings." in text  # the deleted word stays out
    assert "thirty" not in text
    assert "The ferry to Anglesey sails from Holyhead daily." in text


def test_docx_keeps_block_controls_and_nested_tables(tmp_path: Path) -> None:
    def build(document) -> None:
        document.add_paragraph("Intro about the Menai bridge.")
        document.element.body.insert(
            len(document.element.body) - 1,  # before the section properties
            _xml(f"<w:sdt><w:sdtContent><w:p>{_run('The bridge opened in 1826.')}</w:p>"
                 "</w:sdtContent></w:sdt>"))
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "Conwy mussels"
        table.cell(0, 1).add_table(rows=1, cols=2).cell(0, 0).text = "harvested by hand"
        table.cell(1, 0).text = "Season"
        tc = table.cell(1, 1)._tc
        tc.append(_xml(f"<w:sdt><w:sdtContent><w:p>{_run('September to April')}</w:p>"
                       "</w:sdtContent></w:sdt>"))

    paragraphs = document_text(_docx(tmp_path, build)).split("\n\n")
    assert paragraphs == ["Intro about the Menai bridge.", "The bridge opened in 1826.",
                          "Conwy mussels | harvested by hand", "Season | September to April"]


def test_docx_text_box_is_read_once_after_its_paragraph(tmp_path: Path) -> None:
    """A text box (a callout or sidebar: a drawing, with its VML copy as the fallback) was
    never read: its words could not be quoted. It is read once, after the paragraph it is
    anchored in, a box inside it after its own paragraph."""
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'

    def box(*paragraphs: str) -> str:
        return "<w:txbxContent>" + "".join(f"<w:p>{p}</w:p>" for p in paragraphs) + (
            "</w:txbxContent>")

    inner = box(_run("The inner box names the architect, Ada Holm."))
    sidebar = box(_run("The toll bridge closed in 1999."),
                  f"<w:r><mc:AlternateContent {mc}><mc:Choice Requires='wps'><w:drawing>"
                  f"{inner}</w:drawing></mc:Choice></mc:AlternateContent></w:r>"
                  + _run("Tolls ended with it."))

    def build(document) -> None:
        _paragraph(document, _run("The bridge opened in 1826."),
                   f"<w:r><mc:AlternateContent {mc}><mc:Choice Requires='wps'><w:drawing>"
                   f"{sidebar}</w:drawing></mc:Choice><mc:Fallback><w:pict>{sidebar}"
                   "</w:pict></mc:Fallback></mc:AlternateContent></w:r>")
        document.add_paragraph("The museum keeps the old toll board.")

    paragraphs = document_text(_docx(tmp_path, build)).split("\n\n")
    assert paragraphs == ["The bridge opened in 1826.", "The toll bridge closed in 1999.",
                          "Tolls ended with it.", "The inner box names the architect, Ada Holm.",
                          "The museum keeps the old toll board."]


def test_docx_merged_cells_read_as_before(tmp_path: Path) -> None:
    def build(document) -> None:
        table = document.add_table(rows=3, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "Route"
        table.cell(0, 2).text = "Boats"
        table.cell(1, 0).merge(table.cell(2, 0)).text = "Bangor"
        for row, (where, boats) in enumerate([("Beaumaris", "3"), ("Caernarfon", "5")], 1):
            table.cell(row, 1).text = where
            table.cell(row, 2).text = boats

    paragraphs = document_text(_docx(tmp_path, build)).split("\n\n")
    assert paragraphs == ["Route | Boats", "Bangor | Beaumaris | 3", "Bangor | Caernarfon | 5"]


def _html(tmp_path: Path, page: str) -> str:
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    return document_text(tmp_path / "p.html")


def test_html_forum_thread_of_comment_blocks_is_read(tmp_path: Path) -> None:
    """A forum thread whose posts are each a <div class="comment"> was read as its title
    alone: each post, under half the page, was dropped as a comment section. Posts that make
    up the page together are its text; an article's own comment section still goes."""
    posts = [("olsen77", "Does anyone know why the morning ferry was cancelled today?"),
             ("harbourlady", "The engine broke down at Nordvika, and repairs take two days."),
             ("kari_h", "They put on a replacement boat from Bodø at noon.")]
    thread = "".join(f'<div class="comment" id="p{n}"><div class="author">{who}</div>'
                     f'<div class="comment-body"><p>{post}</p></div></div>'
                     for n, (who, post) in enumerate(posts))
    text = _html(tmp_path, '<html><head><title>Ferry cancelled?</title></head><body>'
                 '<div class="navbar">Home NAVTEXT</div><h1>Ferry to Skarvøy cancelled?</h1>'
                 f'<div class="comments">{thread}</div><div class="footer">FOOTERTEXT</div>'
                 '</body></html>')
    for _, post in posts:
        assert post in text, text
    assert "NAVTEXT" not in text and "FOOTERTEXT" not in text
    article = "".join(f"<p>Paragraph {n} of the story tells how the ferry was rebuilt in the "
                      "yard at Bodø over the long winter.</p>" for n in range(6))
    comments = "".join(f'<div class="comment"><p>Comment {n}: COMMENTTEXT.</p></div>'
                       for n in range(4))
    text = _html(tmp_path, f'<html><body><div class="story">{article}</div>'
                 f'<section class="comments">{comments}</section></body></html>')
    assert "Paragraph 5 of the story" in text and "COMMENTTEXT" not in text


def test_html_page_inside_a_form_is_read(tmp_path: Path) -> None:
    # An ASP.NET WebForms page: the whole body is one <form>; its chrome still goes.
    text = _html(tmp_path, """<html><head><title>Notice</title></head><body>
<form method="post" action="./notice.aspx" id="form1">
<input type="hidden" name="__VIEWSTATE" value="VIEWSTATETEXT">
<nav><a href="/">Home NAVTEXT</a></nav>
<div class="search"><label for="q">Search SEARCHTEXT</label>
<input id="q" name="q"><button>Go BUTTONTEXT</button></div>
<div><h1>Road closure</h1>
<p>The High Street in Wells will be closed from 3 June for resurfacing.</p></div>
<fieldset><legend>Your details</legend><label>Name LABELTEXT</label><input name="n"></fieldset>
<footer>Council FOOTERTEXT</footer>
</form>
<form role="search" action="/search"><input name="q"><button>Go</button></form>
<form action="/subscribe"><input name="email"><button>Subscribe</button></form>
</body></html>""")
    assert text.split("\n\n") == [
        "Road closure", "The High Street in Wells will be closed from 3 June for resurfacing.",
        "Your details"]


def test_html_inline_elements_named_like_boilerplate_stay_in_their_sentence(
    tmp_path: Path,
) -> None:
    text = _html(tmp_path, """<html><body><main>
<p>The dean, <span class="related-name">Dr John Davies</span>, leads services.</p>
<p>The spa was opened by <a class="share-link" href="/m">Mayor Green</a> in 2003.</p>
<p>The population was 12,000 <span aria-hidden="true">(</span>in 2021<span
 aria-hidden="true">)</span>.</p>
<p>The <em id="nav-term">quay</em> reopens<span hidden> HIDDENTEXT</span><span
 style="display:none"> NONETEXT</span> on Monday.</p>
<div class="share-bar"><a class="share-link" href="/s">Share SHARETEXT</a></div>
<div aria-hidden="true">Decoration ARIATEXT</div>
<ul class="related-links"><li><a href="/r">More RELATEDTEXT</a></li></ul>
<p>The ferry now leaves at seven. <a class="share-link" href="/s">Share on Twitter</a></p>
<p>Rated <span aria-hidden="true">STARS</span></p>
</main><a class="skip-link" href="#c">Skip to content</a></body></html>""")
    # ... and one beside no sentence (a share link after it, a skip link alone) still goes.
    assert text.split("\n\n") == [
        "The dean, Dr John Davies, leads services.",
        "The spa was opened by Mayor Green in 2003.",
        "The population was 12,000 (in 2021).",
        "The quay reopens on Monday.",
        "The ferry now leaves at seven.", "Rated"]


def test_pdf_sentence_runs_on_over_a_page_break(tmp_path: Path) -> None:
    """Cut at the page's end, the quote read "...opened in 1826 to". A page number in a
    footer, or a sentence that ends, still ends its paragraph."""
    from docmaker import make_pdf

    from bot.core.locations import locate, page_of
    from bot.library import build_library

    pages = [["The Conwy suspension bridge was designed by Thomas Telford and",
              "opened in 1826 to"],
             ["traffic crossing the estuary.",
              "Tolls were charged on the bridge and its approach road until 1958."],
             ["12"], ["lower case after a page number."]]
    (tmp_path / "bridge.pdf").write_bytes(make_pdf(pages))
    text = document_text(tmp_path / "bridge.pdf")
    sentence = ("The Conwy suspension bridge was designed by Thomas Telford and opened in 1826 "
                "to traffic crossing the estuary.")
    assert text.startswith(sentence + "\n\nTolls were charged on")
    assert text.endswith("1958.\n\n12\n\nlower case after a page number.")
    doc = build_library([("c", tmp_path)], aliases={}).engine.documents[0]
    assert next(doc.text[s.start : s.end] for s in doc.sentences) == sentence
    assert page_of(doc, 0) == 1 and page_of(doc, text.index("traffic")) == 2
    assert [p for _, _, p in doc.pages] == [1, 2, 3, 4]
    # A footer's page number on the page's last line ends the paragraph as before.
    pages = [["The town's growing ferry traffic of the town and the", "Page 1 of 2"],
             ["traffic crossing the estuary."]]
    (tmp_path / "bridge.pdf").write_bytes(make_pdf(pages))
    assert document_text(tmp_path / "bridge.pdf").endswith("2\n\ntraffic crossing the estuary.")
    tolls = text.index("Tolls")
    assert locate(doc, tolls, tolls + 5, 2).paragraph == 1  # page 2's first paragraph of its own


def test_pdf_running_header_and_footer_join_no_sentence(tmp_path: Path) -> None:
    """A header and a page-number footer on every page were read into the text: the first
    sentence of each page began "Harbour Committee Minutes 2 a contractor from Bodø", and
    the one running on over the break was quoted as "...will be built by Page 1"."""
    import json

    from docmaker import make_pdf

    from bot.cli import main
    from bot.core.locations import page_of
    from bot.library import build_library

    header = "Skarvøy Municipal Council  Harbour Committee Minutes"
    pages = [[header, "The harbour committee met on 4 March to discuss the timetable.",
              "The new breakwater at Nordvika, approved last year, will be built by", "Page 1"],
             [header, "a contractor from Bodø before the winter storms.",
              "The mayor said the project was the largest in the island's history.", "Page 2"],
             [header, "The ferry fares stay as they are.", "Page 3"]]
    (tmp_path / "minutes.pdf").write_bytes(make_pdf(pages))
    (tmp_path / "note.txt").write_text("The bakery sells buns.\n\nGulls nest in spring.\n")
    text = document_text(tmp_path / "minutes.pdf")
    assert "Minutes" not in text and "Page" not in text, text
    sentence = ("The new breakwater at Nordvika, approved last year, will be built by a "
                "contractor from Bodø before the winter storms.")
    assert text.startswith("The harbour committee met on 4 March")
    doc = next(d for d in build_library([("c", tmp_path)], aliases={}).engine.documents
               if d.rel == "minutes.pdf")
    assert sentence in [doc.text[s.start : s.end] for s in doc.sentences]
    assert page_of(doc, text.index(sentence)) == 1 and page_of(doc, text.index("The mayor")) == 2
    assert page_of(doc, text.index("The ferry fares")) == 3
    out = io.StringIO()
    assert main(["ask", "--json", "--corpus", str(tmp_path), "--index-dir",
                 str(tmp_path / "index"), "Who will build the breakwater at Nordvika?"], out) == 0
    quote = json.loads(out.getvalue())["quotes"][0]
    assert quote["text"] == sentence and text[quote["start"] : quote["end"]] == sentence
    # Pages that hold nothing but the same lines (a form repeated) keep them.
    (tmp_path / "forms.pdf").write_bytes(make_pdf([["Name of the boat owner:", "Signed."]] * 3))
    assert document_text(tmp_path / "forms.pdf").count("Name of the boat owner:") == 3


def test_pdf_heading_line_is_a_paragraph_of_its_own(tmp_path: Path) -> None:
    """A heading line over a section's text was read into its first sentence: "Harbour
    finances The harbour fund received 4.2 million kroner from the state in March." A
    table's short cells stay in one paragraph with the text after them, as before (the text
    layer has no cells to tell)."""
    from docmaker import make_pdf

    pages = [["Harbour finances",
              "The harbour fund received 4.2 million kroner from the state in March, and",
              "the council set aside half of it.",
              "Fares",
              "Route", "Fare", "Skarvøy to Nordvika", "45 kr",
              "The fares were last raised in 2024, by the council's decision of 3 May."]]
    (tmp_path / "report.pdf").write_bytes(make_pdf(pages))
    paragraphs = document_text(tmp_path / "report.pdf").split("\n\n")
    assert paragraphs[:2] == ["Harbour finances", "The harbour fund received 4.2 million "
                              "kroner from the state in March, and the council set aside half "
                              "of it."]
    assert paragraphs[2:] == ["Fares Route Fare Skarvøy to Nordvika 45 kr The fares were last "
                              "raised in 2024, by the council's decision of 3 May."]


def test_pdf_heading_line_heads_its_section(tmp_path: Path) -> None:
    """A PDF's heading line was a paragraph of its own but headed nothing: the text under it
    named no section, and a question that matched the heading was answered by the heading.
    It heads its section now, to the paragraph before the next heading, as in Markdown;
    short lines that are no headings stay as they were: a sentence, a list's items, a
    chapter's running header over the page."""
    from docmaker import make_pdf

    from bot.library import build_library

    pages = [["Sheds and structures",
              "You may put up one shed no larger than 6 ft by 4 ft, and one greenhouse or",
              "polytunnel, with written permission from the committee.",
              "Please read this page before you start digging.",
              "Tools are kept in the shed, which the warden locks at dusk and opens again at",
              "eight in the morning.",
              "- Gloves.",
              "- A spade",
              "Green waste goes in the compost bays behind the shed, bay 1 for fresh waste and",
              "bay 3 for finished compost.",
              "1. Be kind to your neighbours.",
              "2. No bonfires",
              "Hosepipes are not allowed at any time, as the garden pays for its water by the",
              "litre."],
             ["Animals",
              "Dogs must be kept on a lead and are not allowed on other people's plots, and",
              "chickens may be kept on full plots only."]]
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(pages))
    text = document_text(tmp_path / "handbook.pdf")
    doc = build_library([("c", tmp_path)], aliases={}).engine.documents[0]
    assert [(text[s:e], title) for s, e, title in doc.headings] == [
        (text[: text.index("\n\nAnimals")], "Sheds and structures"),
        (text[text.index("Animals") :], "Animals")]
    paragraphs = [text[p.start : p.end] for p in doc.paragraphs]
    assert paragraphs[2:] == [
        "Please read this page before you start digging.",
        "Tools are kept in the shed, which the warden locks at dusk and opens again at eight "
        "in the morning.", "- Gloves.", "- A spade",
        "Green waste goes in the compost bays behind the shed, bay 1 for fresh waste and bay 3 "
        "for finished compost.", "1. Be kind to your neighbours.", "2. No bonfires",
        "Hosepipes are not allowed at any time, as the garden pays for its water by the litre.",
        "Animals",
        "Dogs must be kept on a lead and are not allowed on other people's plots, and chickens "
        "may be kept on full plots only."]

    def body(month: str, part: str) -> list[str]:
        return [f"The harbour fund received 4.2 million kroner from the state in {month}, and",
                f"the council set aside {part} of it for the new pier."]

    # A chapter's header over two of five pages (too few to be left out as running) heads
    # nothing; a heading that stands first on one page heads its section.
    pages = [["Chapter 4: Finances 12", *body("March", "half")],
             ["Chapter 4: Finances 13", *body("May", "a third")],
             ["Ferry fares", *body("June", "a quarter")], ["Notes:"], ["The end."]]
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(pages))
    doc = build_library([("c", tmp_path)], aliases={}).engine.documents[0]
    assert [title for _, _, title in doc.headings] == ["Ferry fares"]
    assert doc.text.startswith("Chapter 4: Finances 12\n\nThe harbour fund")
    # A line of code over the text that explains it heads nothing (a manual read "LEN =
    # strlen(VALUE)+1" as the heading of the next value's description).
    pages = [["The length of a value is set as follows for every string type of the library:",
              "LEN = strlen(VALUE)+1",
              "UTCTime: VALUE will be a null terminated string in one of these two formats."]]
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(pages))
    doc = build_library([("c", tmp_path)], aliases={}).engine.documents[0]
    assert doc.text.split("\n\n")[1] == "LEN = strlen(VALUE)+1" and not doc.headings


def test_pdf_heading_after_a_full_last_line_or_over_a_one_line_paragraph(
    tmp_path: Path,
) -> None:
    """A heading after a paragraph whose last line is full ("...keep it somewhere handy.")
    or over a paragraph of one short line was read into the prose: "...somewhere handy.
    Plot fees A full plot costs £45". A paragraph's last line that ends no sentence, after a
    line that ends none either, stays in its paragraph."""
    from docmaker import make_pdf

    from bot.library import build_library

    pages = [["Welcome to the garden. This handbook sets out what we expect of every plot",
              "holder. Please read it before you start digging, and keep it somewhere handy.",
              "Plot fees",
              "A full plot costs £45 per year and a half plot costs £25, and fees are due by",
              "the end of March.",
              "Waiting list",
              "Expect to wait a year or more.",
              "Open day",
              "The open day is on 7 June, when the committee shows visitors round the plots",
              "from ten until four"]]
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(pages))
    text = document_text(tmp_path / "handbook.pdf")
    assert text.split("\n\n") == [
        "Welcome to the garden. This handbook sets out what we expect of every plot holder. "
        "Please read it before you start digging, and keep it somewhere handy.",
        "Plot fees",
        "A full plot costs £45 per year and a half plot costs £25, and fees are due by the end "
        "of March.",
        "Waiting list", "Expect to wait a year or more.", "Open day",
        "The open day is on 7 June, when the committee shows visitors round the plots from ten "
        "until four"]
    doc = build_library([("c", tmp_path)], aliases={}).engine.documents[0]
    assert [title for _, _, title in doc.headings] == ["Plot fees", "Waiting list", "Open day"]
    # On a page whose longest line is far longer than its text's, a line broken in the middle
    # of a sentence is short too: the end of that sentence, shorter, is no paragraph under it.
    pages = [["The committee agreed the rules on 3 March 2025 (see https://greenway.example/"
              "minutes/2025-03-03/rules-and-fees).",
              "The gate is locked at dusk.",
              "Keys are kept by the warden, Mr",
              "Patel, at plot 12."]]
    (tmp_path / "handbook.pdf").write_bytes(make_pdf(pages))
    assert document_text(tmp_path / "handbook.pdf").endswith(
        "\n\nKeys are kept by the warden, Mr Patel, at plot 12.")


def test_html_heading_holding_a_block_and_cells_holding_paragraphs(tmp_path: Path) -> None:
    """<h2><div>...</div></h2> is still a heading; a row of cells that hold <p> elements is
    one paragraph, as a row of bare cells is (it was "Island route", "|", "Eighteen kroner").
    A layout table's long column keeps its paragraphs."""
    from bot.core.documents import load_folder

    long = "The harbour master keeps the keys of the pier. " * 12
    text = _html(tmp_path, f"""<html><body><main>
<h2><div>Fares and <span>prices</span></div></h2>
<table><tr><td><p>Island route</p></td><td><p>Eighteen kroner</p></td></tr>
<tr><td><div>Harbour</div><div>loop</div></td><td>Ten kroner</td></tr></table>
<table><tr><td><p>Menu</p></td><td><p>{long}</p><p>The pier opens at dawn.</p></td></tr></table>
</main></body></html>""")
    assert text.split("\n\n") == [
        "Fares and prices", "Island route | Eighteen kroner", "Harbour loop | Ten kroner",
        "Menu", long.strip(), "The pier opens at dawn."]
    (doc,), _ = load_folder(tmp_path, "c")
    assert [h for _, _, h in doc.headings] == ["Fares and prices"]


def test_html_text_after_the_last_block_and_noncharacters_are_kept(tmp_path: Path) -> None:
    """Text straight in <body> after its last block was lost (a page of only such text was
    'no quotable text'); a U+FFFF after a dropped element made lxml refuse the whole page."""
    assert _html(tmp_path, "<html><body><p>The mayor spoke.</p>The ferry left at noon."
                 "</body></html>") == "The mayor spoke.\n\nThe ferry left at noon."
    assert _html(tmp_path, "<html><body>The ferry left.</body></html>") == "The ferry left."
    assert _html(tmp_path, "<p>The mayor spoke <span hidden>x</span> about \uffff the bridge."
                 "</p>") == "The mayor spoke about the bridge."


def test_html_wiki_headings_lose_their_edit_links(tmp_path: Path) -> None:
    """A page saved from a wiki (MediaWiki, old and new markup) framed its quotes with the
    heading "History[edit]"."""
    edit = ('<span class="mw-editsection"><span class="mw-editsection-bracket">[</span>'
            '<a href="/w/index.php?action=edit&amp;section=1">edit</a>'
            '<span class="mw-editsection-bracket">]</span></span>')
    text = _html(tmp_path, '<html><body><h1>Skarvøy</h1><p>Skarvøy is an island.</p>'
                 f'<h2><span class="mw-headline" id="History">History</span>{edit}</h2>'
                 '<p>A church was built in 1750.</p>'
                 f'<div class="mw-heading mw-heading2"><h2 id="Economy">Economy</h2>{edit}</div>'
                 '<p>Fishing is the main trade.</p></body></html>')
    assert text.split("\n\n") == ["Skarvøy", "Skarvøy is an island.", "History",
                                  "A church was built in 1750.", "Economy",
                                  "Fishing is the main trade."]
