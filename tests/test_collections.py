"""The library kept out of the cyclic garbage collector (bot/cogs/state.py): frozen when the
bot's state is made and after each reload, so that a full collection under load does not walk a
large library's objects; and a reload still frees the library it replaced."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from bot.app import load_from_disk
from bot.cogs.state import Snapshot, State
from bot.config import load_settings
from bot.library import library_from_settings

DOCS = ["The ferry leaves at noon.", "The museum closes on Mondays.", "The bakery sells rye."]


def _settings(root: Path):
    (root / "docs").mkdir()
    for n, text in enumerate(DOCS):
        (root / "docs" / f"d{n}.txt").write_text(text + "\n", encoding="utf-8")
    (root / "config").mkdir()
    (root / "config" / "bot.yaml").write_text(
        "collections: {docs: {folders: [docs], visibility: public}}\n", encoding="utf-8")
    return load_settings(root / "config")


def _collected(obj: object) -> bool:
    """Whether the collector's generations hold obj (frozen objects are in none of them)."""
    return any(o is obj for o in gc.get_objects())


async def test_the_library_is_frozen_at_start_and_after_a_reload(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    state = State(settings, library_from_settings(settings), load_from_disk)
    first = state.now.library
    assert not _collected(first.engine) and not _collected(first.engine.corpus)

    (tmp_path / "docs" / "d3.txt").write_text("The harbour opens at dawn.\n", encoding="utf-8")
    await state.reload()
    now = state.now.library
    assert now is not first and len(now.engine.corpus.documents) == 4
    assert not _collected(now.engine) and not _collected(now.engine.corpus)


class _CyclicLibrary:
    """Stands for a library in a reference cycle (a cache pointing back at its owner, say):
    only the collector can free it, and it cannot free what is frozen."""

    def __init__(self) -> None:
        self.itself = self


async def test_a_reload_frees_the_library_it_replaced_even_in_a_cycle(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    old, new = _CyclicLibrary(), _CyclicLibrary()
    state = State(settings, old, lambda _: Snapshot(settings, new))  # type: ignore[arg-type]
    gone = weakref.ref(old)
    del old
    await state.reload()
    gc.collect()
    assert gone() is None
    assert state.now.library is new and not _collected(new)
