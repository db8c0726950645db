"""Documents made at test time: PDFs written by hand (the format's own syntax, so no PDF
library vouches for its own output), DOCX by python-docx, HTML as text. PROVENANCE: all of
it is generated here; nothing is downloaded or shipped."""

from __future__ import annotations

import io
import zipfile


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(
    pages: list[list[str]], title: str | None = None, date: str | None = None,
    page_extra: bytes = b"",
) -> bytes:
    """A valid PDF 1.4: one page per list of lines, in Helvetica (WinAnsi), 14 pt leading.
    A page with no lines draws a grey box and no text (like a scanned page). page_extra is
    added to every page dictionary (to plant hostile objects)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        if lines:
            ops = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
            ops += [_pdf_string(line) + b" Tj T*" for line in lines]
            ops.append(b"ET")
        else:
            ops = [b"0.5 g 72 72 468 648 re f"]
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> %s>>" % (tree, content, font, page_extra)
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info_fields = b""
    if title:
        info_fields += b"/Title " + _pdf_string(title) + b" "
    if date:
        info_fields += b"/CreationDate " + _pdf_string(date) + b" "
    info = add(b"<< " + info_fields + b">>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, info, xref))
    return out.getvalue()


def encrypt_pdf(data: bytes, password: str) -> bytes:
    """The PDF encrypted with a user password, by pypdf (a real tool)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner",
                   algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(title: str, blocks: list[tuple[str, object]]) -> bytes:
    """A DOCX by python-docx: ("heading", text), ("p", text) or ("table", [[cell, ...], ...])."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for kind, value in blocks:
        if kind == "heading":
            document.add_heading(value, level=1)
        elif kind == "p":
            document.add_paragraph(value)
        else:
            rows = value
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(inflated_bytes: int) -> bytes:
    """A zip named like a DOCX whose document.xml inflates to inflated_bytes (of spaces)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(inflated_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def docx_xml_paragraphs(data: bytes) -> list[str]:
    """The independent reading of a DOCX: every w:p's w:t texts, from word/document.xml with
    zipfile and the standard library's XML parser."""
    import xml.etree.ElementTree as ET

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ET.fromstring(archive.read("word/document.xml"))
    return ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p")]


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Harbour report | Example News</title>
<meta property="og:title" content="The harbour reopens after the storm">
<meta property="article:published_time" content="2026-11-30T08:00:00Z">
<link rel="canonical" href="https://news.example/harbour-reopens">
<style>body { font-family: serif } .x::after { content: "STYLETEXT" }</style>
<script>var tracker = "SCRIPTTEXT"; document.write("SCRIPTTEXT");</script>
</head><body>
<header class="site-header"><a href="/">Example News HEADERTEXT</a></header>
<nav><ul><li><a href="/world">World NAVTEXT</a></li><li>Sport NAVTEXT</li></ul></nav>
<div id="cookie-banner" class="cookie-consent">We use cookies COOKIETEXT.
<button>Accept</button></div>
<main>
<article>
<nav class="crumbs">Home NAVTEXT &gt; Coast NAVTEXT</nav>
<div class="gdpr-notice">Your privacy COOKIETEXT</div>
<h1>The harbour reopens after the storm</h1>
<p>The harbour master said on Monday that the <em>eastern</em> quay would reopen to ferries,
   three weeks after the storm&nbsp;damaged its pier. Repairs cost the town “about €2 million”,
   according to the council's ﬁnance office.</p>
<h2>What the ferry company said</h2>
<p>Nordline, which runs the crossing to Skarvøy, said sailings resume on Thursday.<br>
   Tickets bought for cancelled sailings remain valid.</p>
<div class="share-buttons">Share on SHARETEXT</div>
<table><tr><th>Route</th><th>First sailing</th></tr>
<tr><td>Harbour – Skarvøy</td><td>Thursday 07:15</td></tr></table>
<aside>Related ASIDETEXT</aside>
<iframe src="https://ads.example/frame">IFRAMETEXT</iframe>
</article>
</main>
<footer>Copyright FOOTERTEXT</footer>
<script>console.log("SCRIPTTEXT")</script>
</body></html>
"""

# Words that appear only in boilerplate: none may be extracted.
HTML_BOILERPLATE = ("STYLETEXT", "SCRIPTTEXT", "HEADERTEXT", "NAVTEXT", "COOKIETEXT",
                    "SHARETEXT", "ASIDETEXT", "IFRAMETEXT", "FOOTERTEXT", "Accept")

SCRIPTS_ONLY_HTML = "<html><head><script>" + "var a = 1;" * 2000 + "</script></head><body>" + (
    '<iframe src="https://x.example/"></iframe><script>document.write("x")</script>' * 200
) + "</body></html>"
