"""The `retrieval:` section of bot.yaml: every field of the engine's RetrievalSettings is a
key, checked against a sane range."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.config.values import _flag, _number, _Section, _text, _whole
from bot.config.yamlfile import _BAD, _all_good, _got
from bot.core.model import TOP_K_RANGE

# Sane ranges of the retrieval knobs; a knob not listed gets _ANY_RANGE.
_RETRIEVAL_RANGES: dict[str, tuple[float, float]] = {
    "k1": (0, 10),
    "b": (0, 1),
    "epsilon": (0, 1),
    "top_k": TOP_K_RANGE,
    "threshold": (0, 1),
    "neighbour_weight": (0, 1),
    "paragraph_terms": (0, 10),
    "title_terms": (0, 10),
    "type_weight": (0, 1),
    "type_candidates": (1, 1_000),
    "diversity": (0, 1),
    "diversity_coverage": (0, 1),
    "candidates": (1, 10_000),
    "spelling_weight": (0, 1),
    "derived_weight": (0, 1),
    "spelling_rare": (0, 1_000_000),
    "rerank": (0, 1_000),
    "common_postings": (0, 100_000_000),
    "compiled_from": (0, 1_000_000_000),
}
_ANY_RANGE = (0, 1_000_000)


def _retrieval(sec: _Section | None) -> Any:
    # The engine owns the knobs: every field of RetrievalSettings is a key here, so the two
    # cannot drift. Imported late so that `import bot.config` stays light.
    from bot.core.model import RetrievalSettings

    if sec is None:
        return RetrievalSettings()
    knobs = _knobs(RetrievalSettings)
    sec.only(tuple(knobs))
    values: dict[str, Any] = {}
    for name, default in knobs.items():
        if name not in sec:
            continue
        spot, value = sec.spot(name), sec[name]
        lo, hi = _RETRIEVAL_RANGES.get(name, _ANY_RANGE)
        example = f"`{name}: {_got(default) if isinstance(default, bool) else default}`"
        if isinstance(default, bool):
            values[name] = _flag(spot, value, example)
        elif isinstance(default, int):
            values[name] = _whole(spot, value, lo, hi, example)
        elif isinstance(default, float):
            values[name] = _number(spot, value, lo, hi, example)
        else:
            values[name] = _text(spot, value, example)
    if not _all_good(*values.values()):
        return _BAD
    try:
        return RetrievalSettings(**values)
    except (TypeError, ValueError) as exc:
        sec.file.add(
            sec.data.line, sec.path, f"the retrieval settings do not fit together ({exc}): fix them"
        )
        return _BAD


def _knobs(cls: type) -> dict[str, bool | int | float | str]:
    """The fields of cls that YAML can set: those whose default is a bool, int, float or str."""
    knobs = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        if f.init and isinstance(default, bool | int | float | str):
            knobs[f.name] = default
    return knobs
