"""Promises about the code itself: the pure core, lint, no secrets in files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_never_imports_discord_or_yaml() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "bot" / "core").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*(import|from)\s+(discord|yaml)\b", line)
    ]
    assert offenders == []


def test_ruff_is_clean() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    targets = [p for p in ("bot", "tests", "bench") if (ROOT / p).is_dir()]
    proc = subprocess.run([str(ruff if ruff.exists() else shutil.which("ruff")), "check",
                           *targets], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> list[str]:
    return [
        line.strip() for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(import|from)\s+\w", line)
    ]


def test_no_shell_module_over_400_lines() -> None:
    # The shell: everything in bot/ outside the core (which keeps its own stage modules).
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "bot").rglob("*.py")
        if "core" not in path.relative_to(ROOT / "bot").parts[:-1]
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_cogs_get_config_and_library_through_constructors() -> None:
    # app.py wires everything (reload loader included); a cog that loaded config or built a
    # library itself would bypass the snapshot swapped on /quotebot reload.
    offenders = [
        f"{path.name}: {line}"
        for path in (ROOT / "bot" / "cogs").glob("*.py")
        for line in _imports(path)
        if re.search(r"\b(load_settings|check_config|library_from_settings|build_library)\b", line)
    ]
    assert offenders == []


def test_wording_layout_and_asking_rules_need_no_discord() -> None:
    pure = ["messages.py", "render.py", "paginate.py", "markdown.py", "cogs/asker.py",
            "cogs/state.py", "state/store.py", "state/uploads.py", "state/migrations.py"]
    offenders = [
        f"{rel}: {line}" for rel in pure for line in _imports(ROOT / "bot" / rel)
        if re.match(r"(import|from)\s+discord\b", line)
    ]
    assert offenders == []
