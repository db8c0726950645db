"""Request-body validation with Discord's limits and Discord-shaped error bodies.

Everything here raises :class:`DiscordHTTPError`; the REST layer turns it into a response like
``{"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors": [...]}}}``.
Limits follow https://discord.com/developers/docs (messages, embeds, components, modals,
application commands).  Where Discord's exact ``code`` strings are unknown the closest
documented-style name is used; the top-level JSON code (50035, 50006, ...) is what matters.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from typing import Any

from .constants import SELECT_TYPES, ErrorCode, MessageFlag

Path = Sequence[str | int]


class DiscordHTTPError(Exception):
    """An HTTP error the fake returns to the client (status + Discord JSON error body)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def not_found(code: int, what: str) -> DiscordHTTPError:
    return DiscordHTTPError(404, code, f"Unknown {what}")


def forbidden(code: int = ErrorCode.MISSING_PERMISSIONS, message: str = "Missing Permissions"):
    return DiscordHTTPError(403, code, message)


class FormErrors:
    """Collects field errors into Discord's nested ``errors`` tree."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}
        self.count = 0

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
        self.count += 1

    def max_len(self, path: Path, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length(self, path: Path, value: Any, lo: int, hi: int, *, required: bool = True) -> None:
        if value is None:
            if required:
                self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return
        if not isinstance(value, str | list):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
            return
        if not lo <= len(value) <= hi:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")

    def text_required(self, path: Path, value: Any, limit: int) -> None:
        """A required string: Discord trims it, so whitespace-only counts as missing."""
        if not isinstance(value, str) or not value.strip():
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        else:
            self.max_len(path, value, limit)

    def raise_if_any(self) -> None:
        if self.count:
            raise DiscordHTTPError(400, ErrorCode.INVALID_FORM_BODY, "Invalid Form Body", self.tree)


def flatten_errors(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``("embeds.0.title", "BASE_TYPE_MAX_LENGTH")`` pairs from an errors tree."""
    for key, value in tree.items():
        if key == "_errors":
            for err in value:
                yield prefix or "_", err["code"]
        else:
            yield from flatten_errors(value, f"{prefix}.{key}" if prefix else key)


# --------------------------------------------------------------------------- messages


def validate_message_fields(body: dict[str, Any], errs: FormErrors) -> None:
    """Field-level checks of a create/edit message body (not the emptiness check)."""
    content = body.get("content")
    if content is not None:
        if not isinstance(content, str):
            errs.add(("content",), "BASE_TYPE_STRING", "Must be a string.")
        else:
            errs.max_len(("content",), content, 2000)
    flags = body.get("flags") or 0
    v2 = bool(flags & MessageFlag.IS_COMPONENTS_V2)
    embeds = body.get("embeds")
    if embeds:
        validate_embeds(embeds, errs)
    if v2:
        for key in ("content", "embeds", "poll", "sticker_ids"):
            if body.get(key):
                errs.add(
                    (key,),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    f"The '{key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                )
    components = body.get("components")
    if components:
        validate_components(components, errs, v2=v2)
    if body.get("allowed_mentions") is not None:
        validate_allowed_mentions(body["allowed_mentions"], errs)
    attachments = body.get("attachments")
    if isinstance(attachments, list) and len(attachments) > 10:
        errs.add(("attachments",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")


def message_is_empty(msg: dict[str, Any]) -> bool:
    """Discord's 50006 rule, applied to the resulting message (after edits are merged)."""
    content = msg.get("content") or ""
    return not (
        content.strip()
        or msg.get("embeds")
        or msg.get("components")
        or msg.get("attachments")
        or msg.get("sticker_ids")
        or msg.get("poll")
    )


def empty_message_error() -> DiscordHTTPError:
    return DiscordHTTPError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")


_EMBED_LIMITS = {"title": 256, "description": 4096}


def _check_url(errs: FormErrors, path: Path, url: Any, *, allow_attachment: bool) -> None:
    if url is None:
        return
    if not isinstance(url, str) or "://" not in url:
        errs.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    scheme = url.split("://", 1)[0].lower()
    allowed = ("http", "https", "attachment") if allow_attachment else ("http", "https")
    if scheme not in allowed:
        errs.add(
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{scheme}" is not supported. Scheme must be one of {allowed}.',
        )


def embed_text_length(embed: dict[str, Any]) -> int:
    """Characters counted towards the 6,000 total (title, description, fields, footer, author)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embeds(embeds: Any, errs: FormErrors) -> None:
    if not isinstance(embeds, list):
        errs.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errs.add(("embeds",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        p: tuple[str | int, ...] = ("embeds", i)
        if not isinstance(embed, dict):
            errs.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        for key, limit in _EMBED_LIMITS.items():
            errs.max_len((*p, key), embed.get(key), limit)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errs.add((*p, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            errs.text_required((*p, "fields", j, "name"), field.get("name"), 256)
            errs.text_required((*p, "fields", j, "value"), field.get("value"), 1024)
        footer = embed.get("footer")
        if footer is not None:
            errs.text_required((*p, "footer", "text"), footer.get("text"), 2048)
            _check_url(
                errs, (*p, "footer", "icon_url"), footer.get("icon_url"), allow_attachment=True
            )
        author = embed.get("author")
        if author is not None:
            errs.text_required((*p, "author", "name"), author.get("name"), 256)
            _check_url(errs, (*p, "author", "url"), author.get("url"), allow_attachment=False)
            _check_url(
                errs, (*p, "author", "icon_url"), author.get("icon_url"), allow_attachment=True
            )
        _check_url(errs, (*p, "url"), embed.get("url"), allow_attachment=False)
        for key in ("image", "thumbnail"):
            if embed.get(key) is not None:
                url = embed[key].get("url")
                if url is None:
                    errs.add((*p, key, "url"), "BASE_TYPE_REQUIRED", "This field is required")
                _check_url(errs, (*p, key, "url"), url, allow_attachment=True)
        color = embed.get("color")
        if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
            errs.add((*p, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.")
        ts = embed.get("timestamp")
        if ts is not None:
            try:
                datetime.datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
            except ValueError:
                errs.add((*p, "timestamp"), "DATE_TYPE_PARSE", "Could not parse timestamp.")
        total += embed_text_length(embed)
    if total > 6000:
        errs.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def validate_allowed_mentions(am: Any, errs: FormErrors) -> None:
    p = ("allowed_mentions",)
    if not isinstance(am, dict):
        errs.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    parse = am.get("parse", [])
    for i, item in enumerate(parse or []):
        if item not in ("users", "roles", "everyone"):
            errs.add(
                (*p, "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        ids = am.get(kind) or []
        if len(ids) > 100:
            errs.add((*p, kind), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        if ids and kind in (parse or []):
            errs.add(
                p,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


# --------------------------------------------------------------------------- components


def _validate_custom_id(errs: FormErrors, path: Path, comp: dict[str, Any], seen: set[str]) -> None:
    custom_id = comp.get("custom_id")
    errs.length((*path, "custom_id"), custom_id, 1, 100)
    if isinstance(custom_id, str):
        if custom_id in seen:
            errs.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)


def _validate_button(errs: FormErrors, path: Path, comp: dict[str, Any], seen: set[str]) -> None:
    style = comp.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errs.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
    errs.max_len((*path, "label"), comp.get("label"), 80)
    if style == 5:
        if comp.get("custom_id") is not None:
            errs.add(
                (*path, "custom_id"),
                "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID",
                "Link buttons cannot have a custom_id",
            )
        if not comp.get("url"):
            errs.add((*path, "url"), "BASE_TYPE_REQUIRED", "This field is required")
        errs.max_len((*path, "url"), comp.get("url"), 512)
    elif style == 6:
        if not comp.get("sku_id"):
            errs.add((*path, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _validate_custom_id(errs, path, comp, seen)
        if not comp.get("label") and not comp.get("emoji"):
            errs.add(
                path,
                "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                "Buttons must have a label or an emoji",
            )


def _validate_select(errs: FormErrors, path: Path, comp: dict[str, Any], seen: set[str]) -> None:
    _validate_custom_id(errs, path, comp, seen)
    errs.max_len((*path, "placeholder"), comp.get("placeholder"), 150)
    min_values = comp.get("min_values", 1)
    max_values = comp.get("max_values", 1)
    if not 0 <= min_values <= 25:
        errs.add((*path, "min_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 0.")
    if not 1 <= max_values <= 25:
        errs.add((*path, "max_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 1.")
    if min_values > max_values:
        errs.add(
            (*path, "min_values"),
            "SELECT_COMPONENT_MIN_GT_MAX",
            "min_values must be less than or equal to max_values",
        )
    if comp.get("type") == 3:
        options = comp.get("options")
        errs.length((*path, "options"), options, 1, 25)
        values: set[str] = set()
        for k, opt in enumerate(options or []):
            op = (*path, "options", k)
            errs.length((*op, "label"), opt.get("label"), 1, 100)
            errs.length((*op, "value"), opt.get("value"), 1, 100)
            errs.max_len((*op, "description"), opt.get("description"), 100)
            if opt.get("value") in values:
                errs.add(
                    (*op, "value"),
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Select options must have unique values",
                )
            values.add(opt.get("value"))
        if isinstance(options, list) and max_values > len(options):
            errs.add(
                (*path, "max_values"),
                "SELECT_COMPONENT_MAX_VALUES_EXCEEDS_OPTIONS",
                "max_values must be less than or equal to the number of options",
            )


def _validate_leaf(errs: FormErrors, path: Path, comp: dict[str, Any], seen: set[str]) -> None:
    ctype = comp.get("type")
    if ctype == 2:
        _validate_button(errs, path, comp, seen)
    elif ctype in SELECT_TYPES:
        _validate_select(errs, path, comp, seen)
    elif ctype == 4:
        errs.add(
            (*path, "type"), "COMPONENT_TYPE_INVALID", "Text inputs can only be used in modals"
        )


def validate_components(components: Any, errs: FormErrors, *, v2: bool = False) -> None:
    if not isinstance(components, list):
        errs.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if v2:
        _validate_v2(components, errs, seen)
        return
    if len(components) > 5:
        errs.add(("components",), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(components):
        p: tuple[str | int, ...] = ("components", i)
        if row.get("type") != 1:
            errs.add(
                (*p, "type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1} (set IS_COMPONENTS_V2 for layout components).",
            )
            continue
        inner = row.get("components") or []
        if not 1 <= len(inner) <= 5:
            errs.add(
                (*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        if len(inner) > 1 and any(c.get("type") in SELECT_TYPES for c in inner):
            errs.add(
                (*p, "components", 1),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, comp in enumerate(inner):
            _validate_leaf(errs, (*p, "components", j), comp, seen)


def _validate_v2(components: list[Any], errs: FormErrors, seen: set[str]) -> None:
    total = 0
    text = 0

    def walk(comp: dict[str, Any], path: tuple[str | int, ...]) -> None:
        nonlocal total, text
        total += 1
        ctype = comp.get("type")
        if ctype == 10:
            text += len(comp.get("content") or "")
        if ctype == 1:
            inner = comp.get("components") or []
            if not 1 <= len(inner) <= 5:
                errs.add(
                    (*path, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
        _validate_leaf(errs, path, comp, seen)
        for j, child in enumerate(comp.get("components") or []):
            walk(child, (*path, "components", j))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                walk(comp[key], (*path, key))

    for i, comp in enumerate(components):
        walk(comp, ("components", i))
    if total > 40:
        errs.add(
            ("components",),
            "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
            "The maximum number of components (40) was exceeded",
        )
    if text > 4000:
        errs.add(
            ("components",),
            "COMPONENT_MAX_TEXT_LENGTH_EXCEEDED",
            "The maximum text length (4000) across text displays was exceeded",
        )


def iter_components(components: list[dict[str, Any]] | None) -> Iterator[dict[str, Any]]:
    """Depth-first walk over every component (rows, containers, sections, labels included)."""
    for comp in components or []:
        yield comp
        yield from iter_components(comp.get("components"))
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from iter_components([comp[key]])


# --------------------------------------------------------------------------- modals etc.


def validate_modal(data: Any) -> None:
    errs = FormErrors()
    if not isinstance(data, dict):
        errs.add(("data",), "BASE_TYPE_REQUIRED", "This field is required")
        errs.raise_if_any()
        return
    p = ("data",)
    errs.length((*p, "custom_id"), data.get("custom_id"), 1, 100)
    errs.length((*p, "title"), data.get("title"), 1, 45)
    rows = data.get("components")
    errs.length((*p, "components"), rows, 1, 5)
    for i, row in enumerate(rows or []):
        rp = (*p, "components", i)
        rtype = row.get("type")
        if rtype == 1:
            inner = row.get("components") or []
            if len(inner) != 1:
                errs.add(
                    (*rp, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1 in length.",
                )
            for j, comp in enumerate(inner):
                _validate_text_input(errs, (*rp, "components", j), comp, label_required=True)
        elif rtype == 18:
            errs.length((*rp, "label"), row.get("label"), 1, 45)
            errs.max_len((*rp, "description"), row.get("description"), 100)
            comp = row.get("component") or {}
            if comp.get("type") == 4:
                _validate_text_input(errs, (*rp, "component"), comp, label_required=False)
            elif comp.get("type") in SELECT_TYPES:
                _validate_select(errs, (*rp, "component"), comp, set())
        elif rtype != 10:
            errs.add((*rp, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 10, 18}.")
    errs.raise_if_any()


def _validate_text_input(
    errs: FormErrors, path: Path, comp: dict[str, Any], *, label_required: bool
) -> None:
    if comp.get("type") != 4:
        errs.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {4}.")
        return
    errs.length((*path, "custom_id"), comp.get("custom_id"), 1, 100)
    if comp.get("style") not in (1, 2):
        errs.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    if label_required:
        errs.length((*path, "label"), comp.get("label"), 1, 45)
    errs.max_len((*path, "placeholder"), comp.get("placeholder"), 100)
    errs.max_len((*path, "value"), comp.get("value"), 4000)
    for key, lo in (("min_length", 0), ("max_length", 1)):
        val = comp.get(key)
        if val is not None and not lo <= val <= 4000:
            errs.add((*path, key), "NUMBER_TYPE_MAX", f"int value should be <= 4000 and >= {lo}.")


def validate_autocomplete(data: Any) -> None:
    errs = FormErrors()
    choices = (data or {}).get("choices")
    errs.length(("data", "choices"), choices, 0, 25)
    for i, choice in enumerate(choices or []):
        errs.length(("data", "choices", i, "name"), choice.get("name"), 1, 100)
        if isinstance(choice.get("value"), str):
            errs.max_len(("data", "choices", i, "value"), choice["value"], 100)
    errs.raise_if_any()


# --------------------------------------------------------------------------- app commands


def _valid_chat_name(name: Any) -> bool:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    if name != name.lower():
        return False
    return all(ch.isalnum() or ch in "-_'" for ch in name)


def _command_text_length(obj: dict[str, Any]) -> int:
    total = len(obj.get("name") or "") + len(obj.get("description") or "")
    for opt in obj.get("options") or []:
        total += _command_text_length(opt)
        for choice in opt.get("choices") or []:
            total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total


def _validate_options(
    errs: FormErrors, path: tuple[str | int, ...], options: Any, depth: int
) -> None:
    if options is None:
        return
    if len(options) > 25:
        errs.add((*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[str] = set()
    seen_optional = False
    kinds = {("sub" if o.get("type") in (1, 2) else "value") for o in options}
    if len(kinds) > 1:
        errs.add(
            (*path, "options"),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all "
            "other types",
        )
    for i, opt in enumerate(options):
        op = (*path, "options", i)
        otype = opt.get("type")
        if not _valid_chat_name(opt.get("name")):
            errs.add((*op, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if opt.get("name") in names:
            errs.add(
                (*op, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(opt.get("name"))
        errs.length((*op, "description"), opt.get("description"), 1, 100)
        if otype not in range(1, 12):
            errs.add((*op, "type"), "BASE_TYPE_CHOICES", "Value must be one of 1..11.")
        if otype in (1, 2):
            if depth >= (1 if otype == 2 else 2):
                errs.add(
                    (*op, "type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands cannot be nested this deep",
                )
            if otype == 2 and any(o.get("type") != 1 for o in opt.get("options") or []):
                errs.add(
                    (*op, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups may only contain sub-commands",
                )
            _validate_options(errs, op, opt.get("options"), depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                errs.add(
                    (*op, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = opt.get("choices")
        if choices:
            if len(choices) > 25:
                errs.add((*op, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if opt.get("autocomplete"):
                errs.add(
                    (*op, "autocomplete"),
                    "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES",
                    "Autocomplete and choices are mutually exclusive",
                )
            for k, choice in enumerate(choices):
                errs.length((*op, "choices", k, "name"), choice.get("name"), 1, 100)
                if isinstance(choice.get("value"), str):
                    errs.max_len((*op, "choices", k, "value"), choice["value"], 100)
        for key, lo in (("min_length", 0), ("max_length", 1)):
            val = opt.get(key)
            if val is not None and not lo <= val <= 6000:
                errs.add((*op, key), "NUMBER_TYPE_MAX", f"int value should be <= 6000 and >= {lo}.")


def validate_commands(commands: Any) -> None:
    """Validate a bulk-overwrite body (list of application commands)."""
    errs = FormErrors()
    if not isinstance(commands, list):
        errs.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errs.raise_if_any()
        return
    seen: set[tuple[int, str]] = set()
    counts: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        validate_command(cmd, errs, (i,))
        key = (cmd.get("type", 1), cmd.get("name"))
        if key in seen:
            errs.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        counts[key[0]] = counts.get(key[0], 0) + 1
    if counts.get(1, 0) > 100:
        errs.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer chat input commands.")
    for ctype in (2, 3):
        if counts.get(ctype, 0) > 15:
            errs.add((), "BASE_TYPE_MAX_LENGTH", "Must be 15 or fewer context menu commands.")
    errs.raise_if_any()


def validate_command(
    cmd: dict[str, Any], errs: FormErrors, path: tuple[str | int, ...] = ()
) -> None:
    ctype = cmd.get("type", 1)
    name = cmd.get("name")
    if ctype == 1:
        if not _valid_chat_name(name):
            errs.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        errs.length((*path, "description"), cmd.get("description"), 1, 100)
        _validate_options(errs, path, cmd.get("options"), 0)
        if _command_text_length(cmd) > 4000:
            errs.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (4000)")
    elif ctype in (2, 3):
        errs.length((*path, "name"), name, 1, 32)
        if cmd.get("description"):
            errs.add(
                (*path, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have a description",
            )
        if cmd.get("options"):
            errs.add(
                (*path, "options"),
                "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
                "Context menu commands cannot have options",
            )
    else:
        errs.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
