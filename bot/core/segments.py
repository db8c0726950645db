"""Incremental updates: a saved main segment plus one delta segment, as Lucene keeps them.

The main segment is a whole Corpus saved under its key (bot/core/store.py). The delta holds
what turned it into the present corpus: which of its documents were removed (tombstones,
by number) and the documents added since, each with its digest and its analysed passages.
Loading applies the delta to the main segment (Corpus.updated: a few passes over the
postings arrays, no analysis), with the changes found since in the same splice; an update
analyses only the documents added or changed and extends the delta. When the delta outgrows
MERGE_SHARE of the main segment, the present corpus is saved as the new main segment
instead (a merge: no document is analysed again).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.analysis import Analyzer
from bot.core.chunks import Chunk, analyse_chunk
from bot.core.corpus import Corpus
from bot.core.documents import Document, span_rows

log = logging.getLogger(__name__)

# The delta's passages (added, and removed from the main segment) past this share of the
# main segment's: the next save merges them into a new main segment.
MERGE_SHARE = 0.1

# (collection, the file's path): a collection's folders may hold files of the same relative
# path, which are different documents.
DocKey = tuple[str, str]


def doc_key(document: Document) -> DocKey:
    return (document.collection, str(document.path))


@dataclass(frozen=True)
class Delta:
    """The difference between a main segment and the present corpus."""

    removed: tuple[int, ...] = ()  # main segment document numbers, ascending
    added: tuple[Document, ...] = ()
    digests: tuple[str, ...] = ()  # of added
    analysed: tuple[Chunk, ...] = ()  # of added: analyse_chunk() over its sentences
    removed_passages: int = 0

    @property
    def passages(self) -> int:
        """Passages the delta adds or removes: how far the corpus is from its main segment."""
        return self.removed_passages + sum(len(d.sentences) for d in self.added)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)


@dataclass(frozen=True)
class Segments:
    """A corpus and how it is saved: its main segment's key, identity and size, and the
    delta that applied to that main segment gives the corpus."""

    corpus: Corpus
    key: str
    main_id: str
    main_documents: int
    main_passages: int
    delta: Delta = Delta()

    def due_for_merge(self) -> bool:
        return self.delta.passages > MERGE_SHARE * max(self.main_passages, 1)


def apply(main: Corpus, delta: Delta) -> Corpus:
    """The corpus the delta makes of its main segment."""
    if not delta:
        return main
    return main.updated(delta.removed, delta.added, delta.analysed, delta.digests)


def present(main: Corpus, delta: Delta) -> tuple[Sequence[Document], Sequence[str]]:
    """The documents and digests of apply(main, delta), without making it: a start that
    finds more changes applies them and the saved delta in one splice of the postings."""
    gone = set(delta.removed)
    kept = [i for i in range(len(main.documents)) if i not in gone]
    return ([*(main.documents[i] for i in kept), *delta.added],
            [*(main.digests[i] for i in kept), *delta.digests])


def analyse(document: Document, analyzer: Analyzer) -> Chunk:
    """A document's passages analysed as Corpus.build analyses them."""
    texts = [document.text[s:e] for s, e in span_rows(document.sentences, 3)[:, :2].tolist()]
    return analyse_chunk(texts, analyzer)


@dataclass(frozen=True)
class Changes:
    """What differs between a corpus and the files: its documents to remove (by number) and
    the files to read."""

    removed: tuple[int, ...]
    to_read: tuple[DocKey, ...]


def changes(
    documents: Sequence[Document], held_digests: Sequence[str], digests: Mapping[DocKey, str]
) -> Changes:
    """Documents (with their held_digests) whose file is gone or has another digest (removed;
    a changed one is removed and read again), and the files (with their digests) no document
    holds."""
    held = {doc_key(d): (i, g)
            for i, (d, g) in enumerate(zip(documents, held_digests, strict=True))}
    removed = [i for key, (i, digest) in held.items() if digests.get(key) != digest]
    to_read = [key for key, digest in digests.items()
               if key not in held or held[key][1] != digest]
    return Changes(tuple(sorted(removed)), tuple(to_read))


def updated(
    segments: Segments, removed: Sequence[int], added: Sequence[Document],
    digests: Sequence[str], analyzer: Analyzer,
) -> Segments:
    """segments with the corpus's documents numbered in removed taken out and added put in
    (only they are analysed); the delta grows by as much."""
    analysed = tuple(analyse(d, analyzer) for d in added)
    corpus = segments.corpus.updated(removed, added, analysed, digests)
    delta = grown(segments.main_documents, segments.delta, segments.corpus.documents,
                  removed, added, digests, analysed)
    return Segments(corpus, segments.key, segments.main_id, segments.main_documents,
                    segments.main_passages, delta)


def loaded(
    main: Corpus, key: str, main_id: str, delta: Delta, analyzer: Analyzer,
    removed: Sequence[int] = (), added: Sequence[Document] = (), digests: Sequence[str] = (),
) -> Segments:
    """The segments of a saved main segment and its delta, with the documents numbered in
    removed (of present(main, delta)) taken out and added (only they are analysed) put in:
    the postings are spliced once, from main, whatever the delta held."""
    if removed or added:
        analysed = tuple(analyse(d, analyzer) for d in added)
        delta = grown(len(main.documents), delta, present(main, delta)[0], removed, added,
                      digests, analysed)
    return Segments(apply(main, delta), key, main_id, len(main.documents), len(main.passages),
                    delta)


def grown(
    main_documents: int, old: Delta, documents: Sequence[Document], removed: Sequence[int],
    added: Sequence[Document], digests: Sequence[str], analysed: Sequence[Chunk],
) -> Delta:
    """The delta of a main segment of main_documents that old, applied, made documents of,
    once those numbered in removed are taken out and added (digests, analysed) put in."""
    # The present documents are the main segment's kept ones, then the delta's added ones:
    # a removed number names one or the other.
    old_removed = set(old.removed)
    main_kept = [i for i in range(main_documents) if i not in old_removed]
    gone = set(removed)
    dropped = {main_kept[i] for i in gone if i < len(main_kept)}
    stays = [j for j in range(len(old.added)) if len(main_kept) + j not in gone]
    lost = sum(len(documents[i].sentences) for i in gone if i < len(main_kept))
    return Delta(
        tuple(sorted({*old.removed, *dropped})),
        (*(old.added[j] for j in stays), *added),
        (*(old.digests[j] for j in stays), *digests),
        (*(old.analysed[j] for j in stays), *analysed),
        old.removed_passages + lost,
    )
