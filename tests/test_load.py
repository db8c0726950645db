"""bench/load.py, shortened: a run over the fake Discord server loses and doubles nothing, and
its memory check can fail the script."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench_load():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["bench_load"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("fake_in_process", [False, True])
@pytest.mark.asyncio(loop_scope="function")
async def test_a_short_load_loses_and_doubles_nothing(tmp_path: Path, fake_in_process) -> None:
    load = _bench_load()
    (result,) = await load.run(total=100, seconds=4.0, rounds=1, root=tmp_path,
                               fake_in_process=fake_in_process)
    assert result.lost == [] and result.doubled == []
    assert sum(result.replies.values()) == 100 and result.http_errors == 0
    assert result.replies["answer"] and result.replies["abstention"]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_load_over_synthetic_passages_reuses_its_workdir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load = _bench_load()
    for _ in range(2):  # the second run finds the corpus and the saved index of the first
        caplog.clear()
        (result,) = await load.run(total=60, seconds=3.0, rounds=1, root=tmp_path, passages=2000)
        assert result.lost == [] and result.doubled == [] and result.http_errors == 0
        assert sum(result.replies.values()) == 60 and result.replies["answer"]
    assert len(list((tmp_path / "synth2000").glob("*.txt"))) == 10
    assert "building the whole index" not in caplog.text


def test_the_load_script_fails_when_memory_grows_past_its_bound(capsys) -> None:
    # A bound no run can meet: the memory check must be able to fail the script.
    load = _bench_load()
    status = load.main(["--questions", "40", "--seconds", "1.5", "--warmup", "0",
                        "--rounds", "2", "--max-growth=-1e9"])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "memory: round 1 -> round 2" in out and "GROWS" in out, out
    assert "lost 0, doubled 0" in out, out


@pytest.mark.asyncio(loop_scope="function")
async def test_a_short_load_over_two_shard_processes_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    load = _bench_load()
    (result,) = await load.run(total=60, seconds=3.0, rounds=1, root=tmp_path, shards=2)
    assert result.lost == [] and result.doubled == [] and result.http_errors == 0
    assert sum(result.replies.values()) == 60 and result.replies["answer"]
    assert result.rss_after > 0  # the two processes' RSS, read while they run
