"""Session fixtures shared by several test modules: the real servers some tests need
(PostgreSQL, Xapian's shard server), installed from Debian's packages when missing (CI runs as
root on a fresh machine). They fail, never skip: a CI without them must be red."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from pgserver import PgServer, bindir, install

INSTALL_SECONDS = 900  # apt-get update and install, on a slow mirror
TCPSRV = "xapian-tcpsrv"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test needing a server that is missing waits for its installation: more than
    the usual per-test timeout."""
    pg_missing, xapian_missing = bindir() is None, shutil.which(TCPSRV) is None
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        # test_state.py's backend fixture asks for pg_url only for its postgresql cases
        needs_pg = "pg_server" in fixtures or "[postgresql" in item.nodeid
        if (pg_missing and needs_pg) or (xapian_missing and "xapian_tcpsrv" in fixtures):
            item.add_marker(pytest.mark.timeout(INSTALL_SECONDS))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the session."""
    try:
        server = PgServer(install())
    except (RuntimeError, OSError, KeyError) as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}")
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh database on the session's server."""
    return pg_server.new_database()


@pytest.fixture(scope="session")
def xapian_tcpsrv() -> str:
    """The path of Xapian's shard server (Debian's xapian-tools)."""
    found = shutil.which(TCPSRV)
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install_tools = ["apt-get", "install", "-y", "-q", "xapian-tools"]
        for step in (["apt-get", "update", "-q"], install_tools):
            subprocess.run(step, check=False, env=env, capture_output=True, timeout=600)
        found = shutil.which(TCPSRV)
    if found is None:
        pytest.fail(f"{TCPSRV} is missing and could not be installed: as root, run "
                    "`apt-get install xapian-tools` (Debian) and run the tests again")
    return found
