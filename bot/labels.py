"""A document folder's `sources.yaml`: the label, source and date of each of its files,
read with the config's hardened YAML reader; every problem reported at file:line."""

from __future__ import annotations

from pathlib import Path

from bot.config.yamlfile import ConfigFile, read_mapping
from bot.core.walk import Skipped
from bot.errors import ConfigProblem
from bot.messages import LABEL_NOT_TEXT, LABELS_DOUBTFUL, LABELS_NOT_READ

LABELS_FILE = "sources.yaml"
LABELS_EXAMPLE = "`article.txt: {label: The capture of the town, source: BBC, date: 2024-05-01}`"


def read_labels(folder: Path) -> tuple[dict[str, dict[str, str]], list[Skipped]]:
    """Labels, sources and dates from folder/sources.yaml; a broken file is reported and the
    documents keep their file names as labels."""
    path = folder / LABELS_FILE
    if not path.is_file():
        return {}, []
    problems: list[ConfigProblem] = []
    # The config's hardened reader: size limit, no tags that run code, no alias bombs.
    file = ConfigFile(LABELS_FILE, problems)
    data = read_mapping(path, file, LABELS_EXAMPLE)
    if data is None:
        found = "; ".join(str(p) for p in problems)
        return {}, [Skipped(path, LABELS_NOT_READ.format(error=found))]
    labels = {}
    for name, fields in data.items():
        line = data.lines.get(name)
        if isinstance(fields, dict):
            labels[str(name)] = {str(k): "" if v is None else str(v) for k, v in fields.items()
                                 if _text_value(file, fields.lines.get(k, line), f"{name}.{k}", v)}
        elif _text_value(file, line, f"{name}.label", fields) and fields is not None:
            labels[str(name)] = {"label": str(fields)}
    found = "; ".join(str(p) for p in problems)
    return labels, [Skipped(path, LABELS_DOUBTFUL.format(error=found))] if problems else []


def _text_value(file: ConfigFile, line: int | None, key: str, value: object) -> bool:
    """Whether value can be shown as text (a label, source or date); a list or a mapping is
    reported, and the file's own label, source or date is used instead."""
    if not isinstance(value, (list, dict)):
        return True
    what = "a list" if isinstance(value, list) else "a mapping"
    file.add(line, key, LABEL_NOT_TEXT.format(what=what, field=key.rsplit(".", 1)[-1]))
    return False
