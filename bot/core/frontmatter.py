"""A Markdown file's front matter: its `key: value` scalars, read as YAML reads them (the
core never imports yaml), and where its body starts."""

from __future__ import annotations

import re

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_BLOCK = re.compile(r"[|>](?:[+-]?\d?|\d[+-])[ \t]*(?:#.*)?$")
_NESTED = re.compile(r"[ \t]*(?:-(?:[ \t]|$)|[^\s:#]+[ \t]*:(?:[ \t]|$))")
_SINGLE = re.compile(r"'((?:[^']|'')*)'", re.S)
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
            "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029", "\n": ""}
_NULLS = frozenset(("~", "null", "Null", "NULL"))


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """The `key: value` front matter of a Markdown file (keys lower-cased, values stripped of
    surrounding whitespace), and where the body starts. Values are read as YAML reads the
    common scalars: plain (a ` #` starts a comment), 'single' ('' is a quote), "double"
    (backslash escapes), block (| or >, the indented lines after it), each over several
    lines; a list or mapping is no value and is left out."""
    match = _FRONT.match(text)
    if not match:
        return {}, 0
    lines = match.group(1).split("\n")
    fields: dict[str, str] = {}
    i = 0
    while i < len(lines):
        kv = _FRONT_LINE.match(lines[i])
        i += 1
        if not kv:
            continue
        more = []
        while i < len(lines) and (not lines[i].strip() or lines[i][:1] in " \t"):
            more.append(lines[i])
            i += 1
        value = _scalar(kv.group(2), more)
        if value is not None:
            fields[kv.group(1).lower()] = value.strip()
    return fields, match.end()


def _scalar(first: str, more: list[str]) -> str | None:
    """The value of a key whose line holds `first` after the colon and whose value goes on
    in the lines `more` (indented or blank); None for a list or a mapping."""
    if _BLOCK.match(first):
        return _block(first[0], more)
    if first.startswith(("'", '"')):
        joined = "\n".join([first, *more])
        quoted = (_SINGLE if first[0] == "'" else _DOUBLE).match(joined)
        if quoted and first[0] == "'":
            return _fold(quoted.group(1)).replace("''", "'")
        if quoted:
            body = re.sub(r"(?<!\\)((?:\\\\)*)\\\n[ \t]*", r"\1", quoted.group(1))
            return _ESCAPE.sub(_unescape, _fold(body))
    nested = next((m for m in more if m.strip()), "")
    if first.startswith(("[", "{")) or (not first and _NESTED.match(nested)):
        return None
    value = _fold("\n".join([first, *more]))
    value = re.split(r"(?:^|[ \t])#", value, maxsplit=1)[0].strip()  # a comment
    return "" if value in _NULLS else value


def _block(style: str, more: list[str]) -> str:
    """A block scalar's lines: kept (|) or folded into one (>). Its chomping (-, +) and the
    indentation given are not needed: values are stripped, lines dedented as written."""
    while more and not more[-1].strip():
        more = more[:-1]
    indent = min((len(m) - len(m.lstrip()) for m in more if m.strip()), default=0)
    lines = [m[indent:] for m in more]
    return "\n".join(lines) if style == "|" else _fold("\n".join(lines))


def _fold(value: str) -> str:
    """YAML's line folding: a line break between text is a space, a blank line a newline."""
    lines = [line.strip() for line in value.split("\n")]
    out = lines[0]
    for line in lines[1:]:
        out += line if out.endswith("\n") or not out else (" " + line if line else "\n")
    return out


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:
        point = int(code[1:], 16)
        # (No character, or a lone surrogate no text may hold: kept as written.)
        return match.group(0) if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF else chr(point)
    return _ESCAPES.get(code, match.group(0))
