"""What a saved corpus is kept under: its key (fingerprint: the format, folders, settings and
analyzer, any change to which is a full rebuild) and each document's digest (its file's bytes
and labels entry, which decide what an update adds and removes)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from bot.core import filedigests
from bot.core.analysis import Analyzer
from bot.core.checkedfiles import canonical, digest
from bot.core.extract.model import Limits
from bot.core.filedigests import FileDigests
from bot.core.model import IndexSettings

# The saved index's format. Bump it with any change to what is saved or what it means (how
# text is split and analysed, the index's arrays, Corpus's fields): the key below holds it,
# so saves of the old format are then rebuilt. A release that leaves it alone keeps every
# user's saved index (the key holds no code).
# 2: documents keep their pages and headings; 3: per-document digests and a delta segment;
# 4: the documents' texts in one buffer (documents.texts); 5: long semicolon clauses are
# sentences of their own, and "1950s" is analysed as "1950"; 6: SHA-256 checksums; 7: each
# posting's paragraph (Corpus.posting_para); 8: Markdown and HTML headings, HTML rows, labels;
# 9: "two" to "twelve" are analysed as their digits; 10: Markdown code fences' lines in no
# paragraph; 11 (session 15, one rebuild for all): a one- or two-sentence collection's IDF;
# what a rendered Markdown page hides, its tables' rows, "5.2" items; PDF and text headings;
# HTML labels without the site's name; 12: "Section 2." opens its clause's sentence; 13: numbered
# sections' titles of text files ("Section 4. Membership" over "4.1 ...") are headings
INDEX_FORMAT = 13


def fingerprint(
    folders: Sequence[tuple[str, Path]],
    analyzer: Analyzer,
    settings: IndexSettings,
    max_bytes: int,
    limits: Limits | None = None,
) -> str:
    """Key of a saved corpus: INDEX_FORMAT, the folders (each one's collection and path), the
    largest file read, the extraction limits (default Limits(max_bytes)), the index settings
    and the analyzer's identity. A change to any of them is a new key, hence a full rebuild;
    a change to the documents is not (their digests, document_digest, decide what an update
    adds and removes), nor one to the code alone (that is what INDEX_FORMAT is for)."""
    key = {
        "format": INDEX_FORMAT,
        "index": dataclasses.asdict(settings),
        "analyzer": analyzer_identity(analyzer),
        "max_bytes": max_bytes,
        # Which PDF, HTML and DOCX files are read (or skipped as past a limit) depends on them.
        "limits": dataclasses.asdict(limits or Limits(max_bytes=max_bytes)),
        "folders": [[collection, str(folder.resolve())] for collection, folder in folders],
    }
    return hashlib.blake2b(canonical(key), digest_size=16).hexdigest()


def document_digest(
    path: Path, max_bytes: int, labels: dict[str, str] | None = None,
    known: FileDigests | None = None, stat: os.stat_result | None = None,
) -> str:
    """A document's digest: its file's bytes and its entry in the labels file, so that a
    changed label re-reads the document as a changed text does. "unreadable" when the file
    cannot be read (it is reported and skipped). With known, a file whose stat is recorded
    there is not read (bot/core/filedigests.py) and one that is hashed is recorded. stat:
    the file's, when the caller has it."""
    found = filedigests.file_digest(path, max_bytes, known, stat)
    if found is None:
        return "unreadable"
    return digest(canonical([found, labels or {}]))


def analyzer_identity(analyzer: Analyzer) -> str:
    """The analyzer's class and settings (stemming, stopwords), as text."""
    state = {
        k: sorted(v) if isinstance(v, frozenset | set) else v
        for k, v in sorted(vars(analyzer).items())
        if isinstance(v, str | int | float | bool | frozenset | set | tuple | type(None))
    }
    return repr((type(analyzer).__qualname__, state))
