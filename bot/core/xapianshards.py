"""Xapian shards of a collection, written for the first stage that searches them
(bot/core/xapianstage.py): build_shards and what a shard records of how it was built.

Each Xapian document is one passage (sentence) holding the terms quotebot's analyzer makes of
it, so query terms, aliases and near spellings match as in the embedded index. Its document
id is the passage's number in its collection, which maps it to the bot's passage table (the
bot keeps the documents because it quotes their text verbatim); its data says where it comes
from (collection, document, start, end, paragraph) for people reading a shard.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.analysis import Analyzer
from bot.core.documents import Document, span_rows
from bot.core.model import IndexSettings, SearchUnavailable

log = logging.getLogger(__name__)

# Shard metadata key: the JSON of what the shard's scores depend on (SHARD_FORMAT, index
# settings, analyzer). A shard whose entry differs from the bot's is refused, not searched.
META_KEY = "quotebot"
# Shard metadata key: the JSON of which collection the shard holds and a digest of the
# documents it was built from (their names, texts and sentences). A shard's document ids are
# the passages' numbers in the collection (1-based, in document order), so a match maps to
# the bot's passage table without fetching the document; the digest proves the numbering
# is the bot's.
LAYOUT_KEY = "quotebot.layout"
SHARD_FORMAT = 1
COLLECTION_PREFIX = "XC"  # boolean term naming a passage's collection (Xapian's X prefix)
MAX_TERM_BYTES = 240  # Xapian refuses terms over 245 bytes


def xapian_bindings() -> Any:
    """The xapian module (an optional dependency: `pip install 'quotebot[xapian]'`)."""
    try:
        import xapian
    except ImportError as exc:
        raise SearchUnavailable(
            "the Xapian Python bindings are not installed: pip install 'quotebot[xapian]'"
        ) from exc
    return xapian


def shard_identity(settings: IndexSettings, analyzer: Analyzer) -> dict[str, Any]:
    """What a shard's terms and scores depend on, as stored in its metadata."""
    from bot.core.storekey import analyzer_identity

    return {"format": SHARD_FORMAT, "k1": settings.k1, "b": settings.b,
            "epsilon": settings.epsilon, "analyzer": analyzer_identity(analyzer)}


def build_shards(
    documents: Sequence[Document],
    analyzer: Analyzer,
    settings: IndexSettings,
    count: int,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write documents' passages into out/shard-0 .. shard-{count-1}, a document's passages
    all in one shard (documents dealt round the shards in turn). Existing shards there are
    replaced. Returns the shard folders."""
    xapian = xapian_bindings()
    if count < 1:
        raise ValueError(f"the shard count must be at least 1, got {count}")
    collections = {d.collection for d in documents}
    if len(collections) != 1:
        raise ValueError(f"shards hold one collection, not {sorted(collections)}: build each "
                         "collection's shards apart")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"shard-{i}" for i in range(count)]
    for path in paths:
        if path.exists():
            shutil.rmtree(path)
    dbs = [xapian.WritableDatabase(str(p), xapian.DB_CREATE_OR_OVERWRITE) for p in paths]
    total = sum(len(d.sentences) for d in documents)
    number = 0
    for i, doc in enumerate(documents):
        db = dbs[i % count]
        for sentence in doc.sentences:
            number += 1  # the passage's number in the collection is its document id
            db.replace_document(number, _passage(xapian, doc, sentence.start, sentence.end,
                                                 sentence.paragraph, analyzer))
        if progress is not None:
            progress(number, total)
    layout = {"collection": collections.pop(), "documents": layout_digest(documents)}
    for i, db in enumerate(dbs):
        db.set_metadata(META_KEY, json.dumps(shard_identity(settings, analyzer), sort_keys=True))
        db.set_metadata(LAYOUT_KEY, json.dumps(layout, sort_keys=True))
        db.set_metadata("shard", f"{i}/{count}")
        db.commit()
        db.close()
    return paths


def layout_digest(documents: Sequence[Document]) -> str:
    """Digest of one collection's documents as passages: names, texts and sentence spans."""
    h = hashlib.blake2b(digest_size=16)
    for doc in documents:
        h.update(json.dumps([doc.rel, len(doc.text)]).encode())
        h.update(doc.text.encode("utf-8", "surrogatepass"))
        h.update(np.ascontiguousarray(span_rows(doc.sentences, 3), dtype=np.int64).tobytes())
    return h.hexdigest()


def _passage(
    xapian: Any, doc: Document, start: int, end: int, paragraph: int, analyzer: Analyzer
) -> Any:
    item = xapian.Document()
    for term in analyzer.terms(doc.text[start:end]):
        if len(term.encode("utf-8")) <= MAX_TERM_BYTES:
            item.add_term(term)  # once per occurrence: wdf is the term frequency
        else:
            log.warning("term of %d characters in %s left out of its shard", len(term), doc.rel)
    item.add_boolean_term(COLLECTION_PREFIX + doc.collection)
    item.set_data(json.dumps([doc.collection, doc.rel, start, end, paragraph]))
    return item
