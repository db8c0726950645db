"""Session fixtures shared by several test modules."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

TCPSRV = "xapian-tcpsrv"


@pytest.fixture(scope="session")
def xapian_tcpsrv() -> str:
    """The path of Xapian's shard server, installed from Debian's xapian-tools when missing
    (CI runs as root on a fresh machine). Fails, never skips: a CI without it must be red."""
    found = shutil.which(TCPSRV)
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "xapian-tools"]
        for step in (["apt-get", "update", "-q"], install):
            subprocess.run(step, check=False, env=env, capture_output=True, timeout=600)
        found = shutil.which(TCPSRV)
    if found is None:
        pytest.fail(f"{TCPSRV} is missing and could not be installed: as root, run "
                    "`apt-get install xapian-tools` (Debian) and run the tests again")
    return found
