"""What a chosen passage is quoted with: a heading by the text under it, a question a
document asks by its answer, a sentence too short to stand alone or one that leads in ("Steps:")
by what follows it, list items and table rows kept apart from their siblings. Passages are
numbered as in the corpus; a body is a run of consecutive ones, so its quote is a verbatim
slice (nothing a document hides lies between them: see Bodies.adjoins)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.corpus import Corpus, PassageTexts
from bot.core.documents import clean_label
from bot.core.extract.model import CELL_SEPARATOR
from bot.core.mdstructure import level_at
from bot.core.textsplit import item_depth
from bot.core.visible import MARKDOWN, TABLES, kind_of

# A heading chosen is quoted by the sentences under it, from the first until the quote holds
# this many characters ("No." alone answers nothing; "No. Invite links are removed." does).
BODY_MIN = 80
# A chosen sentence shorter than this ("Yes.", "A: No.") is quoted with the next of its
# paragraph, as many as reach BODY_MIN characters.
SHORT = 20
# A sentence that leads in to what follows it ("Steps:", "- Dodge roll:"): the list items
# after it are its own.
LEADS_IN = re.compile(r":\s*$")
# A Markdown table's row: a sentence that fills its line and holds a cell border ("| 103 |
# Marcus Reed |"); a body that reaches one has ended, as at a list item.
CELL_BORDER = "|"
# A sentence that asks: a question mark at its end, before any closing marks.
ASKS = re.compile(r"\?[\s\"'*_)\]\u2019\u201d\u00bb]*$")
# An FAQ's marks of a question and of its answer, opening a paragraph or a sentence ("Q:",
# "**Q:**", "Question:"; "A:"): what a marked question says up to its answer asks, with or
# without a question mark ("**Q:** The game crashes as soon as I start it.").
Q_MARK = re.compile(r"[*_]{0,2}(?:Q|Question)[*_]{0,2}:", re.I)
A_MARK = re.compile(r"[*_]{0,2}(?:A|Answer)[*_]{0,2}:", re.I)
# A marked question is read as one up to this many characters: past it, a "Q:" paragraph of
# thousands of sentences was quoted whole.
MARKED_MAX = 300
# How far into its section a chosen heading looks for the kind of answer asked for (see
# Bodies.holding), in passages from the first under it.
SECTION_LOOK = 12


class Bodies:
    def __init__(self, corpus: Corpus) -> None:
        self.documents, self.passages = corpus.documents, corpus.passages
        self._heading_cache: dict[int, tuple[frozenset[int], int]] = {}  # see headings

    def of(self, pid: int, texts: PassageTexts) -> tuple[list[int] | None, bool]:
        """The run that quotes chosen passage pid (None: pid alone), and whether pid is a
        question the run answers."""
        if (body := self.under_heading(pid, texts)) is not None:
            return body, False
        if (body := self.answer_after(pid, texts)) is not None:
            return body, True
        if len(text := texts(pid, pid)) < SHORT or LEADS_IN.search(text):
            return self.body([], pid, texts), False
        return None, False

    def under_heading(self, pid: int, texts: PassageTexts) -> list[int] | None:
        """The passages that quote the section passage pid heads, if it is (part of) a
        heading: the first sentences of the paragraph after it, as many as reach BODY_MIN
        characters; None for any other passage (a heading quoted alone says what a section
        is about, not what it says). A Markdown heading followed by deeper ones ("## Version
        2.3.0", "### New") is quoted by the text under the first of them; a heading followed
        by one of its own level or higher has no text to quote: None. In other formats,
        which keep no levels, a heading followed by others is quoted by the text under them
        (a DOCX's "Lunches" over "How do I pay?")."""
        p = self.passages
        doc = int(p.doc[pid])
        starts = self.headings(doc)[0]
        if not starts:
            return None
        para = int(p.para_id[pid])
        head, after = int(p.para_start[para]), int(p.para_start[para + 1])
        if int(p.start[head]) not in starts:
            return None
        level = None
        while after < len(p) and int(p.doc[after]) == doc and int(p.start[after]) in starts:
            if level is None:
                level = self._level(doc, int(p.start[head]))
            # (Where headings keep no levels, PDF, HTML, DOCX, text, one straight after
            # another is read as the first's own: a section is seldom empty.)
            if level is not None and self._level(doc, int(p.start[after])) <= level:
                return None
            after = int(p.para_start[int(p.para_id[after]) + 1])
        if after >= len(p) or int(p.doc[after]) != doc:
            return None
        return self.body([], after, texts, section=True)

    def holding(self, pid: int, holds: Callable[[str], bool], texts: PassageTexts) -> int:
        """pid, or, if it is a heading whose body (under_heading) lacks the kind of answer the
        question asks for (holds: kinds.KindTest's test), the first passage of its section,
        within SECTION_LOOK of the body's first, that holds one: "how much is membership"
        asks the section "Membership" for its price, and the sentence opening it ("Membership
        is open to anyone over 16.") names none."""
        body = self.under_heading(pid, texts)
        if body is None or any(holds(texts(b, b)) for b in body):
            return pid
        p = self.passages
        doc, starts = int(p.doc[pid]), self.headings(int(p.doc[pid]))[0]
        for q in range(body[-1] + 1, min(body[0] + SECTION_LOOK + 1, len(p))):
            if int(p.doc[q]) != doc or int(p.start[q]) in starts:
                break
            if holds(texts(q, q)):
                return q
        return pid

    def _level(self, doc: int, start: int) -> int | None:
        """The level of document doc's heading at start (Markdown only: other formats keep
        no levels)."""
        document = self.documents[doc]
        if kind_of(document.rel) != MARKDOWN:
            return None
        return level_at(document.span, start)

    def answer_after(self, pid: int, texts: PassageTexts) -> list[int] | None:
        """The passages that quote passage pid if it asks a question and the text after it
        (in its paragraph, else the next, in its section) does not: pid and as many of the
        sentences after it as reach BODY_MIN characters. A question marked as an FAQ's
        ("Q: ...") asks in all its sentences up to its answer ("**Q:** How do I turn off
        illness? My settlers keep getting sick."): any of them is quoted with all of them and
        the answer. None for any other passage."""
        p = self.passages
        run = self._marked_question(pid, texts)
        if run is None:
            if not ASKS.search(texts(pid, pid)):
                return None
            run = [pid]
        after = run[-1] + 1
        doc = int(p.doc[pid])
        if (after >= len(p) or int(p.doc[after]) != doc
                or int(p.start[after]) in self.headings(doc)[0]
                or ASKS.search(texts(after, after)) or not self.adjoins(run[-1])):
            return None
        return self.body(run, after, texts)

    def _marked_question(self, pid: int, texts: PassageTexts) -> list[int] | None:
        """The sentences of the marked question (Q_MARK) passage pid is part of: from the
        marked one, the first of its paragraph, up to the answer's mark or the paragraph's
        end, within MARKED_MAX characters; None when pid is in none."""
        p = self.passages
        para = int(p.para_id[pid])
        first, end = int(p.para_start[para]), int(p.para_start[para + 1])
        if not Q_MARK.match(texts(first, first)):
            return None
        run = [first]
        while (run[-1] + 1 < end and p.end[run[-1] + 1] - p.start[first] <= MARKED_MAX
               and self.adjoins(run[-1]) and not A_MARK.match(texts(run[-1] + 1, run[-1] + 1))):
            run.append(run[-1] + 1)
        return run if pid <= run[-1] else None  # (else pid is in the answer)

    def body(
        self, run: list[int], first: int, texts: PassageTexts, section: bool = False,
    ) -> list[int]:
        """run followed by passage first and the next of its paragraph (with section, of its
        section: the next paragraphs' sentences too, while they keep the whole within twice
        BODY_MIN and nothing hidden lies between them; so too a paragraph that opens an item
        under first's), until those from first on hold BODY_MIN characters, or the next is a
        table's row, or opens a list item that is not first's own: one no deeper than
        first's (a changelog's "- Fixed a bug that let players duplicate coins." is quoted
        without the item after it), or, after a sentence that is no item, any item unless
        that sentence leads in to it ("Steps:", "- Dodge roll:" takes "  - i-frames reduced
        from 12 to 9."): then the list's items are the run's, in its paragraph or the next
        ("Right now we most need:" over a blank line and "1. peanut butter")."""
        p = self.passages
        run, end = [*run, first], int(p.para_start[int(p.para_id[first]) + 1])
        doc, headings = int(p.doc[first]), self.headings(int(p.doc[first]))[0]
        depth = self._item_depth(first)
        led = None  # the depth of the list's items that a sentence of the run leads in to
        while p.end[run[-1]] - p.start[first] < BODY_MIN:
            if run[-1] + 1 == end:  # (an HTML page's steps, "<li>Tap Billing.</li>", are a
                # paragraph each: a section's body goes on into its next paragraph; so does a
                # sentence that leads in to a list, "Right now we most need:", into the list)
                if not (end < len(p) and int(p.doc[end]) == doc
                        and int(p.start[end]) not in headings and self.adjoins(end - 1)
                        and p.end[end] - p.start[first] <= 2 * BODY_MIN
                        and (section or self._led_to(end, led, depth, run[-1], texts))):
                    break
                end = int(p.para_start[int(p.para_id[end]) + 1])
            if not self.adjoins(run[-1]) or self._is_row(run[-1] + 1):
                break
            item = self._item_depth(run[-1] + 1)
            if item is not None:
                if not self._led_to(run[-1] + 1, led, depth, run[-1], texts):
                    break
                if depth is None and led is None:
                    led = item
            run.append(run[-1] + 1)
        return run

    def _led_to(
        self, pid: int, led: tuple[int, int] | None, depth: tuple[int, int] | None,
        before: int, texts: PassageTexts,
    ) -> bool:
        """Whether passage pid opens a list item that belongs to the run (see body): deeper
        than the run's first item (depth), or one of the list a sentence of the run leads in
        to (led: its items' depth, None until one is taken), or the first item after such a
        sentence (passage before)."""
        item = self._item_depth(pid)
        if item is None:
            return False
        if depth is not None:
            return item > depth
        if led is not None:
            return item >= led
        return LEADS_IN.search(texts(before, before)) is not None

    def adjoins(self, pid: int) -> bool:
        """Whether only whitespace lies between passage pid and the next: a quote of both
        shows nothing the document hides (a code fence's line, an HTML comment, a Markdown
        table's delimiter row: in no sentence, so in no quote)."""
        p = self.passages
        return not self.documents[int(p.doc[pid])].span(
            int(p.end[pid]), int(p.start[pid + 1])).strip()

    def _item_depth(self, pid: int) -> tuple[int, int] | None:
        """How deep the list item passage pid opens lies (textsplit.item_depth), or None."""
        p = self.passages
        start = int(p.start[pid])
        lo = max(0, start - 80)
        text = self.documents[int(p.doc[pid])].span(lo, start + 12)  # (not the whole text)
        if "\n" not in text[: start - lo] and lo > 0:
            return None  # (more than 80 characters of its line before it: no item's indent)
        return item_depth(text, start - lo)

    def _is_row(self, pid: int) -> bool:
        """Whether passage pid is a table's row: it fills its line and holds a cell border."""
        p = self.passages
        start, end = int(p.start[pid]), int(p.end[pid])
        document = self.documents[int(p.doc[pid])]
        text = document.span(start, end + 1)  # (a passage holds at most MAX_PASSAGE_CHARS)
        return (CELL_BORDER in text and text[end - start :] in ("", "\n", "\r")
                and document.span(max(0, start - 80), start).rstrip(" \t")[-1:] in ("", "\n"))

    def heads_table(self, pid: int, texts: PassageTexts) -> bool:
        """Whether passage pid is a table's header row: in Markdown, a table's delimiter row
        follows it in its paragraph (see adjoins); in an HTML or DOCX file, whose rows are a
        paragraph each, cells joined by " | ", it is a row with a row after it and none
        before it."""
        p = self.passages
        if pid + 1 >= len(p) or int(p.doc[pid + 1]) != int(p.doc[pid]):
            return False
        if p.same_para[pid + 1]:
            return not self.adjoins(pid)
        if kind_of(self.documents[int(p.doc[pid])].rel) != TABLES or p.same_para[pid]:
            return False
        first = pid == 0 or int(p.doc[pid - 1]) != int(p.doc[pid])
        return (CELL_SEPARATOR in texts(pid, pid) and CELL_SEPARATOR in texts(pid + 1, pid + 1)
                and (first or CELL_SEPARATOR not in texts(pid - 1, pid - 1)))

    def headings(self, doc: int) -> tuple[frozenset[int], int]:
        """Where document doc's headings start, and where the one that repeats its label does
        (-1 if none does)."""
        if doc not in self._heading_cache:
            document = self.documents[doc]
            label = clean_label(document.label)
            self._heading_cache[doc] = (
                frozenset(r[0] for r in document.headings),
                next((r[0] for r in document.headings if clean_label(str(r[2])) == label), -1))
        return self._heading_cache[doc]
