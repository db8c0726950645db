from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import documents
from bot.core.documents import DocumentFile, load_files, load_folder, parse_document
from bot.core.walk import walk_files

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def sentences(text: str) -> list[str]:
    doc = parse_document(text, "c", "doc.txt", Path("doc.txt"))
    return [text[s.start : s.end] for s in doc.sentences]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Gen. Smith met the U.S. envoy on Dec. 11 in Kyiv. The talks failed.",
            ["Gen. Smith met the U.S. envoy on Dec. 11 in Kyiv.", "The talks failed."],
        ),
        (
            "J. R. R. Tolkien wrote it. Mr. Baggins left.",
            ["J. R. R. Tolkien wrote it.", "Mr. Baggins left."],
        ),
        (
            "Cossack leaders had claimed to have ‘stormed’ Seversk. Kyiv denied it.",
            ["Cossack leaders had claimed to have ‘stormed’ Seversk.", "Kyiv denied it."],
        ),
        (
            'A heavily fortified "fortress belt." This belt is long.',
            ['A heavily fortified "fortress belt."', "This belt is long."],
        ),
        (
            "It is the “fortress belt.” Then what? Nobody knows! 2.5 years passed.",
            ["It is the “fortress belt.”", "Then what?", "Nobody knows!", "2.5 years passed."],
        ),
        ("No full stop at the end", ["No full stop at the end"]),
        ("The U.S. and e.g. the U.K. agreed.", ["The U.S. and e.g. the U.K. agreed."]),
        # A dotted word longer than the splitter's look-back window is still read whole.
        (
            "See (" + "a." * 30 + "b. Then more.\u2003Also " + "ab" * 30 + ". Done.",
            ["See (" + "a." * 30 + "b. Then more.", "Also " + "ab" * 30 + ".", "Done."],
        ),
        (" \t Padded.\x1c  Next one. \u00a0", ["Padded.", "Next one."]),
        # Two long clauses joined by a semicolon are quoted apart; a short one stays joined.
        (
            "The Ukrainian General Staff confirmed the pullback from the town on Tuesday morning; "
            "Russian troops are now positioned thirty kilometres east of the next defensive line."
            " Yes; but slowly.",
            ["The Ukrainian General Staff confirmed the pullback from the town on Tuesday morning;",
             "Russian troops are now positioned thirty kilometres east of the next defensive line.",
             "Yes; but slowly."],
        ),
        # A list item's number belongs to its item, and each item on a line of its own is a
        # sentence; a subscript on its own line ("O\n2." in SQuAD) is no item.
        (
            "Steps to follow:\n1. Open the gate at dawn.\n2. Close it at dusk.",
            ["Steps to follow:", "1. Open the gate at dawn.", "2. Close it at dusk."],
        ),
        ("Bring:\n- a lamp\n- two ropes", ["Bring:", "- a lamp", "- two ropes"]),
        ("1. Alone", ["1. Alone"]),
        ("Gas.\n\nthe formula O\n2. Diatomic gas", ["Gas.", "the formula O\n2.", "Diatomic gas"]),
        # Words that are abbreviations only before a number.
        (
            "The mayor said no. The council voted. See No. 5 and Art. 12. It is modern art. Yes.",
            ["The mayor said no.", "The council voted.", "See No. 5 and Art. 12.",
             "It is modern art.", "Yes."],
        ),
        ("Art. I, Sec. 8 gives Congress the power. See Vol. II. It is art. I like it.",
         ["Art. I, Sec. 8 gives Congress the power.", "See Vol. II.", "It is art.", "I like it."]),
        # A spaced closing guillemet stays with its sentence; an opening one starts the next
        # (German, Swedish); CJK stops need no space after them, but end no sentence inside a
        # quotation.
        ("Il a dit « Bonjour. » Puis il est parti.",
         ["Il a dit « Bonjour. »", "Puis il est parti."]),
        ("Er ging hinaus. »Komm her«, sagte sie.", ["Er ging hinaus.", "»Komm her«, sagte sie."]),
        ("Hon gick. ”Hej”, sa han.", ["Hon gick.", "”Hej”, sa han."]),
        ("我们去了北京。天气很好！你呢？", ["我们去了北京。", "天气很好！", "你呢？"]),
        ("「はい。」と彼は言った。次に行った。", ["「はい。」と彼は言った。", "次に行った。"]),
        ("「本当！？」と彼は言った。「はい。そうです。」次。",
         ["「本当！？」と彼は言った。", "「はい。そうです。」次。"]),
        ("他说：“我来了。你呢？”她没回答。", ["他说：“我来了。你呢？”她没回答。"]),
        # Other abbreviations stay abbreviations whatever follows.
        ("See Fig. S1 and vol. II, ch. IV, sec. A of it. Tel. +44 20 7946 0958. Article 5 "
         "para. (2) applies.", ["See Fig. S1 and vol. II, ch. IV, sec. A of it.",
                               "Tel. +44 20 7946 0958.", "Article 5 para. (2) applies."]),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_paragraphs_blank_lines_or_one_a_line() -> None:
    blocks = parse_document("One. Two.\nstill two.\n\nThree.", "c", "d.txt", Path("d.txt"))
    assert [p.start for p in blocks.paragraphs] == [0, 22]
    lines = parse_document("\n\nFirst line.\nSecond line.\n", "c", "d.txt", Path("d.txt"))
    assert len(lines.paragraphs) == 2
    assert [s.paragraph for s in lines.sentences] == [1, 2]


def test_seed_offsets_are_exact() -> None:
    docs, skipped = load_folder(SEEDS, "seeds")
    assert len(docs) == 2 and not skipped
    for doc in docs:
        text = doc.path.read_text(encoding="utf-8-sig")
        assert doc.text == text
        for s in doc.sentences:
            piece = text[s.start : s.end]
            assert piece and piece == piece.strip()
            para = doc.paragraphs[s.paragraph - 1]
            assert para.start <= s.start and s.end <= para.end
    assert sum(len(d.paragraphs) for d in docs) == 33


def test_loads_recursively_and_skips_bad_files(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("Alpha text here.", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "b.md").write_text(
        "---\ntitle: Bee Notes\ndate: 2024-01-02\n---\n# Bees\n\nBees make honey.\n",
        encoding="utf-8",
    )
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 au lait")
    (tmp_path / "empty.txt").write_text("  \n\n ", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02PNG")
    (tmp_path / "ignored.png").write_bytes(b"\x89PNG")
    (tmp_path / "stub.pdf").write_bytes(b"%PDF")
    docs, skipped = load_folder(tmp_path, "c")
    assert [d.rel for d in docs] == ["a.txt", "sub/deeper/b.md"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert set(reasons) == {"bad.txt", "empty.txt", "bin.txt", "stub.pdf"}
    assert "UTF-8" in reasons["bad.txt"] and "empty" in reasons["empty.txt"]
    assert "binary" in reasons["bin.txt"]
    md = docs[1]
    assert md.label == "Bee Notes" and md.date == "2024-01-02"
    quoted = [md.text[s.start : s.end] for s in md.sentences]
    assert quoted == ["# Bees", "Bees make honey."]  # front matter is never quoted


def test_files_read_in_worker_processes_give_the_same_documents_and_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(7):
        (tmp_path / f"d{i}.md").write_text(
            f"---\ntitle: Doc {i}\n---\n# Part {i}\n\nDr. Who came. He left; fine.\n\nEnd {i}.\n",
            encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 au lait")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "stub.pdf").write_bytes(b"%PDF")
    files = [DocumentFile("c", f.rel, f.path, {"label": "L"} if f.rel == "d3.md" else {})
             for f in walk_files(tmp_path)]
    monkeypatch.setattr(documents, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(documents, "BATCH_FILES", 2)
    alone = load_files(files, workers=1)
    pooled = load_files(files, workers=2)
    assert pooled == alone
    assert [d.rel for d in pooled[0]] == [f"d{i}.md" for i in range(7)]
    assert [s.path.name for s in pooled[1]] == ["bad.txt", "empty.txt", "stub.pdf"]


def test_crlf_bom_offsets_index_read_text(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeffFirst line here.\r\nSecond line.\r\n\r\nThird.\r".encode())
    docs, _ = load_folder(tmp_path, "c")
    text = path.read_text(encoding="utf-8-sig")
    assert [text[s.start : s.end] for s in docs[0].sentences] == [
        "First line here.",
        "Second line.",
        "Third.",
    ]


def test_labels_from_metadata(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("Some text.", encoding="utf-8")
    docs, _ = load_folder(tmp_path, "c", {"x.txt": {"label": "Ex", "source": "Wire"}})
    assert (docs[0].label, docs[0].source, docs[0].date) == ("Ex", "Wire", "")
    docs, _ = load_folder(tmp_path, "c")
    assert docs[0].label == "x"


def test_labels_without_metadata_are_readable(tmp_path: Path) -> None:
    files = {
        "titled.md": "---\ntitle: Front Matter Title\n---\n\n# A Heading\n\nText.",
        "headed.md": "Intro line.\n\n## The  Fall of Siversk ##\n\nText.",
        "plain.md": "No heading here. # not one either.",
        "sub/siversk_report-2025.txt": "# Not a heading in plain text\n\nText.",
        "__.txt": "Text.",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    docs, _ = load_folder(tmp_path, "c", {"plain.md": {"label": "Given"}})
    labels = {d.rel: d.label for d in docs}
    assert labels == {
        "titled.md": "Front Matter Title",
        "headed.md": "The Fall of Siversk",
        "plain.md": "Given",
        "sub/siversk_report-2025.txt": "siversk report 2025",
        "__.txt": "__.txt",  # nothing readable left: the path
    }
    docs, _ = load_folder(tmp_path, "c")
    assert {d.rel: d.label for d in docs}["plain.md"] == "plain"


def test_very_long_line_is_cut_into_verbatim_passages() -> None:
    text = "word " * 300_000
    doc = parse_document(text, "c", "long.txt", Path("long.txt"))
    assert len(doc.sentences) > 100
    assert all(s.end - s.start <= 3000 for s in doc.sentences)
    assert all(text[s.start : s.end].strip() == text[s.start : s.end] for s in doc.sentences)


def test_a_script_without_a_main_guard_builds_once_and_is_told_why(tmp_path: Path) -> None:
    """Spawned workers import the script that started them again: one that builds a library
    at its top level would build it in every worker too. The workers stop instead, and the
    script's own process reads, extracts and analyses alone, once, and logs what to change
    (without the tracebacks of workers that multiprocessing.Pool would restart for 30 s)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        (docs / f"d{i}.txt").write_text(f"Harbour {i} has a crane. It lifts boats.\n",
                                        encoding="utf-8")
    (docs / "e.html").write_text("<html><body><p>The crane was built in 1901.</p></body></html>",
                                 encoding="utf-8")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import logging, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "logging.basicConfig(level=logging.WARNING, format='%(name)s: %(message)s')\n"
        "from pathlib import Path\n"
        "from bot.core import chunks, documents\n"
        "from bot.library import build_library\n"
        "documents.PARALLEL_MIN_BYTES = chunks.PARALLEL_MIN_PASSAGES = 0  # workers even so\n"
        f"library = build_library([('c', Path({str(docs)!r}))], aliases={{}})\n"
        "print('built', len(library.engine.passages))\n",
        encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["built 9"]
    warned = [line for line in done.stderr.splitlines() if "worker processes failed" in line]
    assert len(warned) == 3 and all('if __name__ == "__main__":' in w for w in warned)
    assert any("a worker exited as it started" in w for w in warned)  # not a 30 s wait
    assert "Traceback" not in done.stderr


def test_first_paragraph_under_a_heading_that_repeats_the_label_is_paragraph_1(
    tmp_path: Path,
) -> None:
    """The heading is hidden (it would repeat the label), yet paragraphs are counted from it
    as under any other heading (a PDF's too, over a paragraph of one line); it was
    "paragraph 2"."""
    from docmaker import make_docx, make_pdf

    from bot.core.locations import locate

    (tmp_path / "a.html").write_text(
        "<html><head><title>Ferry Times</title></head><body><h1>Ferry Times</h1>"
        "<p>The ferry leaves at noon.</p><p>The last ferry leaves at nine.</p></body></html>")
    (tmp_path / "b.docx").write_bytes(make_docx("Ferry Times", [
        ("heading", "Ferry Times"), ("p", "The ferry leaves at noon."),
        ("p", "The last ferry leaves at nine.")]))
    (tmp_path / "c.md").write_text(
        "# Ferry Times\n\nThe ferry leaves at noon.\n\nThe last ferry leaves at nine.\n")
    (tmp_path / "d.pdf").write_bytes(make_pdf(
        [["Ferry Times", "The ferry leaves at noon.",
          "The last ferry of the day leaves the harbour at nine."]], title="Ferry Times"))
    docs, _ = load_folder(tmp_path, "c")
    assert len(docs) == 4
    for doc in docs:
        assert doc.label == "Ferry Times"
        places = [locate(doc, s.start, s.end, s.paragraph) for s in doc.sentences[1:]]
        assert [(p.heading, p.paragraph) for p in places] == [(None, 1), (None, 2)], doc.rel


def _markdown(text: str):
    doc = parse_document(text, "c", "guide.md", Path("guide.md"))
    return doc, [text[p.start : p.end] for p in doc.paragraphs], [h for _, _, h in doc.headings]


def test_markdown_heading_closing_sequence_needs_a_space() -> None:
    assert _markdown("# Learning C#\n\nThe compiler reads files.\n")[0].label == "Learning C#"
    assert _markdown("### Rottnest ###\n\nThe quokka hops.\n")[0].label == "Rottnest"
    assert _markdown("## C# #\n\nText.\n")[0].label == "C#"


def test_markdown_lines_in_fenced_code_are_never_headings() -> None:
    from bot.core.locations import locate

    text = ("# Guide\n\n## Setup\n\nFirst install the tools.\n\n```sh\n# Install the compiler\n"
            "\n# and the linker\n```\n\n~~~\n# A tilde fence\n```\n~~~\n\n"
            "The wombat digs burrows at night.\n")
    doc, _, titles = _markdown(text)
    assert titles == ["Guide", "Setup"]
    last = doc.sentences[-1]
    assert text[last.start : last.end] == "The wombat digs burrows at night."
    assert locate(doc, last.start, last.end, last.paragraph).heading == "Setup"
    # The fences' own lines are in no paragraph (nor any quote): the code between them is.
    assert _markdown(text)[1][3:6] == ["# Install the compiler", "# and the linker",
                                       "# A tilde fence\n```"]


def test_markdown_setext_headings() -> None:
    text = ("Setext Title Here\n=================\n\n"
            "The quokka lives on Rottnest Island near Perth.\n")
    doc, paragraphs, titles = _markdown(text)
    assert doc.label == "Setext Title Here"
    assert paragraphs == ["Setext Title Here", "The quokka lives on Rottnest Island near Perth."]
    assert titles == ["Setext Title Here"]
    # A `---` under paragraph text heads a section; after a blank line or a list item it is a
    # thematic break; in a file of one paragraph a line, the underline is no paragraph either.
    doc, paragraphs, titles = _markdown(
        "Intro.\n\nFerry times\nand fares\n---\nThe ferry leaves at noon.\n\n---\n\n"
        "- a list item\n---\n\nSecond Part\n===\n")
    assert titles == ["Ferry times and fares", "Second Part"]
    assert paragraphs == ["Intro.", "Ferry times\nand fares", "The ferry leaves at noon.", "---",
                          "- a list item\n---", "Second Part"]
    assert _markdown("Lines\n-----\nOne a line.\nAnother.\n")[1] == [
        "Lines", "One a line.", "Another."]
    # Indented code under a `---` is no heading (a paragraph never starts 4 spaces in).
    assert _markdown("Intro.\n\n    indented code line\n---\n\nThe cook makes soup.\n")[2] == []


@pytest.mark.parametrize(
    ("front", "label"),
    [
        ("title: >-\n  Folded over\n  two lines", "Folded over two lines"),
        ("title: |\n  Kept\n  lines", "Kept lines"),
        ("title: 'It''s here'", "It's here"),
        ('title: "Caf\\u00e9 \\"Nord\\""', 'Café "Nord"'),
        ("title: A plain title # a comment", "A plain title"),
        ("title: [x, y]", "Heading"),  # a list is no label: the first heading is
        ("label: " + "long " * 100, ("long " * 40)[:200].rstrip()),
        # escapes of no character, or of a lone surrogate, stay as written (they crashed)
        ('title: "a \\UFFFFFFFF b \\uD800 c"', "a \\UFFFFFFFF b \\uD800 c"),
    ],
)
def test_front_matter_scalars_read_as_yaml_reads_them(front: str, label: str) -> None:
    text = f"---\n{front}\n---\n# Heading\n\nThe ferry leaves at noon.\n"
    assert parse_document(text, "c", "a.md", Path("a.md")).label == label


def test_a_citation_mark_after_a_full_stop_ends_the_sentence(tmp_path: Path) -> None:
    """"Norway.[1] It had a population of 412" (a Wikipedia or Google Docs page) and "in
    2024.[^1] Pensioners pay half" (a Markdown footnote) were quoted as one sentence: the
    mark stays with the sentence it follows, and the next one is quoted alone."""
    import io
    import json

    from verbatim import assert_answer_verbatim

    from bot.cli import main

    (tmp_path / "island.html").write_text(
        "<html><body><p>Skarvøy is an island in Nordland, Norway.<sup>[1]</sup> It had a "
        "population of 412 in 2020.</p><p>A church was built in 1750.[citation needed] The "
        "bells were cast in Bergen.</p></body></html>", encoding="utf-8")
    (tmp_path / "fares.md").write_text(
        "The fare was raised in 2024.[^1] Pensioners pay half.\n\nGulls nest in spring.\n\n"
        "[^1]: The council approved the rise in May.\n", encoding="utf-8")
    for question, expected in [
        ("What was the population of Skarvøy in 2020?", "It had a population of 412 in 2020."),
        ("Where were the bells cast?", "The bells were cast in Bergen."),
        ("Who pays half the fare?", "Pensioners pay half."),
        ("When was the fare raised?", "The fare was raised in 2024.[^1]"),
    ]:
        out = io.StringIO()
        assert main(["ask", "--json", "--corpus", str(tmp_path), "--index-dir",
                     str(tmp_path / "index"), question], out) == 0
        answer = json.loads(out.getvalue())
        assert_answer_verbatim(answer, tmp_path)
        assert answer["quotes"][0]["text"] == expected, (question, answer["quotes"])


def test_utf16_text_is_named_as_such_not_binary(tmp_path: Path) -> None:
    """A .txt saved as Windows "Unicode" (UTF-16, with or without its byte-order mark) was
    skipped as "binary file (it contains NUL bytes)"; the reason now says what to do."""
    import io

    from bot.cli import main

    (tmp_path / "bom.txt").write_bytes("The ferry leaves at seven.\r\n".encode("utf-16"))
    (tmp_path / "bare.txt").write_bytes("The ferry leaves at nine.\n".encode("utf-16-le"))
    (tmp_path / "ok.txt").write_text("The bakery sells buns. Gulls nest in spring.\n")
    (tmp_path / "blob.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    out = io.StringIO()
    assert main(["sources", "--corpus", str(tmp_path), "--index-dir",
                 str(tmp_path / "index")], out) == 0
    listing = out.getvalue()
    for name in ("bom.txt", "bare.txt"):
        assert f"{name}: UTF-16 text (Windows \"Unicode\"): re-save the file as UTF-8" in listing
    assert "blob.txt: binary file (it contains NUL bytes)" in listing


def test_a_symlinked_folder_is_listed_as_skipped(tmp_path: Path) -> None:
    """A symlinked folder is not entered (a loop, or a way out of the collection); its
    documents were left out without a word, in answers and in `quotebot sources` alike."""
    import io

    from bot.cli import main

    corpus, other = tmp_path / "docs", tmp_path / "other"
    corpus.mkdir()
    other.mkdir()
    (corpus / "a.txt").write_text("The bakery sells buns. Gulls nest in spring.\n")
    (other / "l.txt").write_text("The lighthouse on Flesa was built in 1871.\n")
    (corpus / "linked").symlink_to(other, target_is_directory=True)
    (corpus / "loop").symlink_to(corpus / "loop")  # a loop: no folder, nothing to say
    out = io.StringIO()
    assert main(["sources", "--corpus", str(corpus), "--index-dir",
                 str(tmp_path / "index")], out) == 0
    listing = out.getvalue()
    assert f"skipped {corpus / 'linked'}: a symlinked folder is not entered" in listing
    assert "l.txt" not in listing and "loop" not in listing


def test_a_markdown_tables_rows_are_its_sentences() -> None:
    """A GFM table (pipes at the ends optional) is a paragraph of its own, cut from the text
    around it, each row a sentence but the delimiter row, which is in none; a full stop in a
    cell ends no sentence. Cells that do not match the delimiter's, or a fence around it,
    make no table."""
    text = ("Prices below.\n| Item | Price |\n|:-----|------:|\n| Tea. Green | 2.50 |\n"
            "Coffee | 3.00\n- A list item after it.\n\n"
            "Size | Cups\n--- | ---\nLarge | 3\n\n"
            "One | two | three\n--|--\n\n"
            "```\n| x | y |\n|---|---|\n| 1 | 2 |\n```\n")
    doc, paragraphs, _ = _markdown(text)
    assert paragraphs == [
        "Prices below.", "| Item | Price |\n|:-----|------:|\n| Tea. Green | 2.50 |\nCoffee | 3.00",
        "- A list item after it.", "Size | Cups\n--- | ---\nLarge | 3", "One | two | three\n--|--",
        "| x | y |\n|---|---|\n| 1 | 2 |"]
    assert [text[s.start : s.end] for s in doc.sentences] == [
        "Prices below.", "| Item | Price |", "| Tea. Green | 2.50 |", "Coffee | 3.00",
        "- A list item after it.", "Size | Cups", "Large | 3", "One | two | three\n--|--",
        "| x | y |\n|---|---|\n| 1 | 2 |"]


def _plain(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A .txt file's paragraphs and its sections (heading, last words of the section)."""
    doc = parse_document(text, "c", "notes.txt", Path("notes.txt"))
    return ([text[p.start : p.end] for p in doc.paragraphs],
            [(title, text[:end].split()[-1]) for _, end, title in doc.headings])


def test_plain_text_headings_underlined_or_in_capitals() -> None:
    """In a .txt file, a line over an underline row about as long as itself, and a short line
    of capitals that stands alone, head their sections; the underline is in no paragraph."""
    paragraphs, sections = _plain(
        "THE BAKE SWAP RULES\n-------------------\n1. Bring 12 portions.\n2. No shop-bought "
        "bakes!\n\nNext meetings\n=============\n* Thu 10 October\n\nSECTION 2: FEES\n\n"
        "The fee is £5.\n")
    assert paragraphs == ["THE BAKE SWAP RULES", "1. Bring 12 portions.\n2. No shop-bought bakes!",
                          "Next meetings", "* Thu 10 October", "SECTION 2: FEES", "The fee is £5."]
    assert sections == [("THE BAKE SWAP RULES", "bakes!"), ("Next meetings", "October"),
                        ("SECTION 2: FEES", "£5.")]
    # One paragraph a line: a line of capitals before text heads it; so does an underlined one.
    paragraphs, sections = _plain("ARTICLE III - MEMBERSHIP\nThe fee is £5.\nJoining\n-------\n"
                                  "Ask a committee member.\n")
    assert paragraphs == ["ARTICLE III - MEMBERSHIP", "The fee is £5.", "Joining",
                          "Ask a committee member."]
    assert sections == [("ARTICLE III - MEMBERSHIP", "£5."), ("Joining", "member.")]
    # A line of capitals that opens its block over a line of text heads it too ("JOINING"
    # over its text, found by an outside pass); the first line of shouted text does not.
    paragraphs, sections = _plain("Club news.\n\nJOINING\nMembership costs £6 a year.\n\n"
                                  "NO REFUNDS AFTER\nTHE FIRST MEETING.\n")
    assert paragraphs == ["Club news.", "JOINING", "Membership costs £6 a year.",
                          "NO REFUNDS AFTER\nTHE FIRST MEETING."]
    assert sections == [("JOINING", "MEETING.")]


@pytest.mark.parametrize("text", [
    # Shouted text, a long line of capitals, one letter, capitals inside a paragraph, a rule
    # under a paragraph's last line much longer than the rule, the last line of the file.
    "Intro.\n\nNO SHOP-BOUGHT BAKES!\n\nMore text.\n",
    "Intro.\n\n" + " ".join(["ALL CAPITALS"] * 6) + "\n\nMore text.\n",
    "Intro.\n\nA\n\nMore text.\n",
    "Intro.\nPLEASE NOTE\nMore text.\n\nAnd more.\n",
    "The committee meets every four weeks during term, in the church hall.\n----------\n",
    "Intro.\n\nMore text.\n\nTHE END\n",
])
def test_plain_text_that_is_no_heading(text: str) -> None:
    paragraphs, sections = _plain(text)
    assert sections == []
    assert "".join(paragraphs).replace("\n", "") == "".join(text.split("\n"))
