"""An answer for a terminal (`quotebot ask`): quotes under their frame lines, or one JSON
object a line."""

from __future__ import annotations

import json

from bot import messages
from bot.core.model import Answer, Location


def shown(text: str) -> str:
    """text with the control characters a terminal would act on (an escape sequence that
    retitles the window or colours what follows, a backspace) written as \\xNN: a document or
    a file name holding one cannot rewrite what the reader sees. Newlines and tabs stay."""
    return text.translate(_CONTROLS)


def named(text: str) -> str:
    """A file name, label or heading for one line of the terminal: as shown(), its newlines
    written as \\x0a too (a file named "a\\n[b.txt, characters 0-5].txt" made a location
    line of two lines, the second one forged)."""
    return text.translate(_CONTROLS_AND_LINES)


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10)}
_CONTROLS_AND_LINES = {**_CONTROLS, 10: "\\x0a", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def format_answer(answer: Answer) -> str:
    """An answer for a terminal: each quote under its frame line, indented with '> '; no
    control character reaches the terminal (see shown)."""
    lines = [messages.CLI_QUESTION.format(question=answer.question), ""]
    if not answer.answered:
        lines.append(messages.abstention(answer.reason, see_sources=False))
        return shown("\n".join(lines)) + "\n"
    for quote in answer.quotes:
        where = quote.location or Location(paragraph=quote.paragraph)
        heading = named(where.heading) if where.heading else where.heading
        lines.append(messages.frame(
            named(quote.label), messages.place(where.paragraph, where.page, heading),
            tuple(named(s.label) for s in quote.also),
        ))
        lines.extend(f"> {line}" for line in quote.text.splitlines() or [""])
        lines.append(messages.CLI_LOCATION.format(
            document=named(quote.document), start=quote.start, end=quote.end
        ))
        # Each other document's own place, so that "also in" can be checked like the quote.
        lines.extend(messages.CLI_ALSO.format(
            label=named(s.label), document=named(s.document), paragraph=s.paragraph,
            start=s.start, end=s.end,
        ) for s in quote.also)
        if where.link:
            lines.append(messages.CLI_LINK.format(link=where.link))
        lines.append("")
    return shown("\n".join(lines))


def json_line(answer: Answer) -> str:
    """One JSON object on one line: the Unicode line separators that ensure_ascii=False would
    leave raw (and str.splitlines() splits on) are escaped too."""
    text = json.dumps(answer.to_json(), ensure_ascii=False)
    return text.translate(_LINE_SEPARATORS) + "\n"


_LINE_SEPARATORS = {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\u0085"}
