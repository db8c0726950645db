"""What Discord refuses in a message body, with its error shapes. discord.py checks none of
this, so a bot that oversteps only finds out from the server: here, in a test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CONTENT = 2000
EMBEDS = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_TOTAL = 6000  # all text of all embeds of one message
ROWS = 5
ROW_COMPONENTS = 5
BUTTON_LABEL = 80
CUSTOM_ID = 100

INVALID_FORM_BODY = 50035
EMPTY_MESSAGE = 50006
UNKNOWN_INTERACTION = 10062
UNKNOWN_WEBHOOK = 10015
ALREADY_ACKNOWLEDGED = 40060


class DiscordHTTPError(Exception):
    """An error response shaped like Discord's: {"code", "message"[, "errors"]}."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def flatten_errors(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """("embeds.0.description", message) pairs out of an "errors" tree."""
    for key, value in tree.items():
        if key == "_errors":
            for err in value:
                yield prefix.rstrip("."), err["message"]
        else:
            yield from flatten_errors(value, f"{prefix}{key}.")


def check_message(body: dict[str, Any]) -> None:
    """Raise Discord's 400 for a message body it would refuse."""
    problems: dict[tuple[Any, ...], str] = {}

    def at_most(path: tuple[Any, ...], value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            problems[path] = f"Must be {limit} or fewer in length."

    at_most(("content",), body.get("content"), CONTENT)
    embeds = body.get("embeds") or []
    at_most(("embeds",), embeds, EMBEDS)
    total = 0
    for i, embed in enumerate(embeds):
        at_most(("embeds", i, "title"), embed.get("title"), EMBED_TITLE)
        at_most(("embeds", i, "description"), embed.get("description"), EMBED_DESCRIPTION)
        fields = embed.get("fields") or []
        at_most(("embeds", i, "fields"), fields, EMBED_FIELDS)
        for j, fld in enumerate(fields):
            at_most(("embeds", i, "fields", j, "name"), fld.get("name"), FIELD_NAME)
            at_most(("embeds", i, "fields", j, "value"), fld.get("value"), FIELD_VALUE)
            total += len(fld.get("name") or "") + len(fld.get("value") or "")
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
    if total > EMBED_TOTAL:
        problems[("embeds",)] = f"Embed size exceeds maximum size of {EMBED_TOTAL}"
    _check_components(body.get("components") or [], problems, at_most)
    mentions = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (mentions.get("parse") or []) and mentions.get(kind):
            problems[("allowed_mentions",)] = f"parse:[\"{kind}\"] and {kind}: [ids] are exclusive"
    if problems:
        raise DiscordHTTPError(400, INVALID_FORM_BODY, "Invalid Form Body", _tree(problems))
    if not (body.get("content") or "").strip() and not embeds and not body.get("components"):
        raise DiscordHTTPError(400, EMPTY_MESSAGE, "Cannot send an empty message")


def _check_components(rows: list[dict[str, Any]], problems: dict, at_most: Any) -> None:
    at_most(("components",), rows, ROWS)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        children = row.get("components") or []
        if row.get("type") != 1 or not children:
            problems[("components", i)] = "A top-level component must be a non-empty action row."
        at_most(("components", i, "components"), children, ROW_COMPONENTS)
        for j, button in enumerate(children):
            path = ("components", i, "components", j)
            at_most((*path, "label"), button.get("label"), BUTTON_LABEL)
            custom_id = button.get("custom_id")
            at_most((*path, "custom_id"), custom_id, CUSTOM_ID)
            if custom_id is not None and custom_id in seen:
                problems[(*path, "custom_id")] = "Component custom id cannot be duplicated"
            seen.add(custom_id)


def _tree(problems: dict[tuple[Any, ...], str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, message in problems.items():
        node = tree
        for key in path:
            node = node.setdefault(str(key), {})
        node["_errors"] = [{"code": "BASE_TYPE_MAX_LENGTH", "message": message}]
    return tree
