"""Hostile input: the questions in tests/hostile/questions.jsonl (one JSON object a line, so
control characters and line breaks survive) and documents that fight back.

Through the engine and the CLI every question gets exactly one answer whose quotes are
verbatim; through the real bot over the fake Discord server a sample of them, asked every way a
member can, gets one calm reply that fits Discord and pings no one.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from e2e.harness import Scene, running_scene
from e2e.talk import check, mention, replies
from fakediscord import UnrealisticAction
from verbatim import assert_answer_verbatim

from bot import messages, paginate, render
from bot.core.textsplit import MAX_PASSAGE_CHARS
from bot.library import Library, build_library, load_documents

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QUESTIONS = [json.loads(line) for line in
             (ROOT / "tests" / "hostile" / "questions.jsonl").read_text("utf-8").splitlines()]
KINDS = {"empty", "whitespace", "long", "stopwords", "punctuation", "emoji", "control",
         "scripts", "markdown", "mentions", "links", "slash"}


def test_the_question_file_covers_every_kind() -> None:
    assert len(QUESTIONS) >= 200
    assert {row["kind"] for row in QUESTIONS} >= KINDS
    assert any(len(row["q"]) >= 10_000 for row in QUESTIONS)


# --- hostile documents ---------------------------------------------------------------------------

MARKDOWN = (
    "# Notice to @everyone\n\n"
    "The **harbour** gate opens at nine; ask <@123456789012345678> or <@&42> in <#7>.\n\n"
    "```\ncode block with @here inside\n```\n\n"
    "> a block quote\n> [a link](https://example.com/@everyone) ||spoiler|| ~~gone~~\n"
)
# One line of 1 MB with no full stop; the one fact sits in the middle.
_FILLER = " ".join(f"tide{i}" for i in range(60_000))
ONE_LINE = _FILLER[:500_000] + " the lighthouse keeper lights the lamp at dusk " + _FILLER[:500_000]


@pytest.fixture(scope="module")
def hostile_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-docs")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b" \r\n\t\n")
    (folder / "binary.txt").write_bytes(b"GIF89a\x00\x01\x02" + bytes(range(256)) * 4)
    (folder / "invalid.txt").write_bytes(b"The ferry leaves at noon \xff\xfe and \x80 returns.\n")
    with (folder / "huge.txt").open("wb") as fh:  # 50 MB, sparse: the size check comes first
        fh.truncate(50 * 1024 * 1024)
    (folder / "oneline.txt").write_text(ONE_LINE, encoding="utf-8")
    (folder / "nospaces.txt").write_text("q" * 1_000_000 + "\n", encoding="utf-8")
    (folder / "crlf.txt").write_bytes(
        b"The windmill grinds barley on Mondays.\r\n\r\nThe miller sells flour on Fridays.\r\n")
    (folder / "mixed.txt").write_bytes(
        b"The orchard ripens in autumn.\r\rThe cider press runs in winter.\n\r\n"
        b"The beehives wake in spring.\r\n")
    (folder / "bom.txt").write_bytes("\ufeffThe granary stores oats for the winter.\n".encode())
    (folder / "notice.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "folder.txt").mkdir()  # a directory with a document's name is not a document
    return folder


def test_each_hostile_document_is_indexed_or_skipped_with_a_named_reason(
    hostile_docs: Path,
) -> None:
    documents, skipped = load_documents([("hostile", hostile_docs)])
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons.keys() == {"empty.txt", "blank.txt", "binary.txt", "invalid.txt", "huge.txt"}
    assert reasons["empty.txt"].startswith("empty") and reasons["blank.txt"].startswith("empty")
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["invalid.txt"].startswith("not valid UTF-8 (byte 25)")
    assert reasons["huge.txt"].startswith("too large (52,428,800 bytes, the limit is 20,971,520)")
    assert "documents.max_bytes" in reasons["huge.txt"]  # says how to fix it
    indexed = {d.rel: d for d in documents}
    assert indexed.keys() == {"oneline.txt", "nospaces.txt", "crlf.txt", "mixed.txt", "bom.txt",
                              "notice.md"}
    for doc in indexed.values():
        assert all(s.end - s.start <= MAX_PASSAGE_CHARS for s in doc.sentences), doc.rel
    assert len(indexed["oneline.txt"].sentences) > 300  # a 1 MB line is cut, not dropped
    assert not indexed["bom.txt"].text.startswith("\ufeff")


@pytest.mark.parametrize("question, document", [
    ("Who keeps the lighthouse?", "oneline.txt"),
    ("When does the windmill grind barley?", "crlf.txt"),
    ("When does the miller sell flour?", "crlf.txt"),
    ("When does the cider press run?", "mixed.txt"),
    ("When do the beehives wake?", "mixed.txt"),
    ("What does the granary store?", "bom.txt"),
    ("When does the harbour gate open?", "notice.md"),
    ("What is in the code block?", "notice.md"),
])
def test_quotes_from_hostile_documents_are_verbatim(
    hostile_docs: Path, question: str, document: str
) -> None:
    library = _library(hostile_docs)
    answer = library.engine.answer(question).to_json()
    assert answer["answered"] and answer["quotes"][0]["document"] == document, answer
    assert_answer_verbatim(answer, hostile_docs)
    for quote in answer["quotes"]:
        assert len(quote["text"]) <= MAX_PASSAGE_CHARS * 3
    for page in render.render_answer(library.engine.answer(question)):
        assert 0 < len(page.content) <= paginate.CONTENT_LIMIT
        assert "@everyone" not in page.content.replace("\\@everyone", "")


@functools.cache
def _library(folder: Path) -> Library:
    return build_library([("hostile", folder)])


# --- hostile questions through the engine and the CLI --------------------------------------------


def test_every_hostile_question_gets_one_verbatim_answer(hostile_docs: Path) -> None:
    library = build_library([("seeds", SEEDS), ("hostile", hostile_docs)])
    answered = 0
    for row in QUESTIONS:
        answer = library.engine.answer(row["q"])
        data = answer.to_json()
        assert data["question"] == row["q"]
        assert answer.answered or answer.reason in ("no_terms", "no_match"), row
        assert_answer_verbatim(data, [SEEDS, hostile_docs])
        pages = render.render_answer(answer)
        assert pages and all(0 < len(p.content) <= paginate.CONTENT_LIMIT for p in pages), row
        answered += answer.answered
    assert 0 < answered < len(QUESTIONS)  # some real questions answer, noise does not


def test_cli_answers_the_whole_file_one_json_line_each_in_order() -> None:
    # A line-based protocol cannot carry line breaks inside a question: they become spaces
    # (Python's universal newlines also split on a lone \r).
    lines = [row["q"].replace("\r", " ").replace("\n", " ") for row in QUESTIONS]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--corpus", str(SEEDS), "-"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, encoding="utf-8",
        cwd=ROOT, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    # JSON Lines are separated by "\n" only: str.splitlines() would also split on the raw
    # U+2028, U+2029 and U+0085 that ensure_ascii=False leaves inside strings.
    out = proc.stdout.removesuffix("\n").split("\n")
    assert len(out) == len(lines)
    for line, question in zip(out, lines, strict=True):
        answer = json.loads(line)
        assert answer["question"] == question
        assert_answer_verbatim(answer, SEEDS)


# --- a sample over the fake Discord server -------------------------------------------------------

SAMPLE = [row["q"] for row in QUESTIONS[::7]][:40]
WAYS = ("prefix", "mention", "slash", "dm")
CALM = (
    "From *",
    messages.ABSTAIN["no_terms"],
    messages.abstention("no_match"),
    messages.EMPTY_QUESTION.split("{")[0],
    messages.TOO_LONG.split("{")[0],
    messages.help_text("!"),
    "Slow down",
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory):
    async with running_scene(tmp_path_factory.mktemp("hostile-project")) as scene:
        yield scene


@pytest.mark.asyncio(loop_scope="module")
async def test_a_sample_asked_every_way_gets_calm_replies_that_ping_no_one(scene: Scene) -> None:
    server = scene.server
    errors = len(server.http_errors)
    users = [scene.alice, scene.eve, scene.bob]
    asked = refused = 0
    for i, question in enumerate(SAMPLE):
        way, user = WAYS[i % len(WAYS)], users[i % len(users)]
        try:
            if way == "slash":
                inter = await server.slash(scene.g1, scene.general, user, "ask",
                                           {"question": question})
                recs = await replies(scene, inter)
            else:
                channel = server.dm_channel(scene.alice) if way == "dm" else scene.general
                who = scene.alice if way == "dm" else user
                text = {"prefix": f"!ask {question}", "mention": f"{mention(scene)} {question}",
                        "dm": question}[way]
                msg = await server.user_says(channel, who, text)
                recs = await replies(scene, msg, channel)
        except UnrealisticAction:
            refused += 1  # e.g. an empty message or option: a real client cannot send it
            continue
        asked += 1
        check(scene, recs)  # within limits, allowed_mentions {"parse": []}, no pings, verbatim
        first = recs[0].content
        assert first.startswith(CALM) or first == messages.help_text("!"), (way, question, first)
        assert messages.OOPS not in first
        answers = [r for r in recs if r.content.startswith("From *")]
        assert len(recs) == 1 or len(answers) == len(recs), (way, question, recs)
    assert asked >= 35 and refused <= 5
    assert server.http_errors[errors:] == []
    assert not [r for r in scene.logs if r.levelname == "ERROR"]
