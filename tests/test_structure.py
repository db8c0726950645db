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
