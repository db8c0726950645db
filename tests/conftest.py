"""Session fixtures shared by several test modules: the real programs and servers some tests
need (PostgreSQL, Xapian's shard server, poppler's pdftotext), installed from Debian's packages
when missing (CI runs as root on a fresh machine). They fail, never skip: a CI without them
must be red."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from pgserver import PgServer, bindir, install

INSTALL_SECONDS = 900  # apt-get update and install, on a slow mirror
# fixture -> (the program it gives, the Debian package that has it)
APT_TOOLS = {
    "xapian_tcpsrv": ("xapian-tcpsrv", "xapian-tools"),
    "pdftotext": ("pdftotext", "poppler-utils"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test needing something that is missing waits for its installation: more than
    the usual per-test timeout."""
    missing = {name for name, (program, _) in APT_TOOLS.items() if shutil.which(program) is None}
    if bindir() is None:
        missing.add("pg_server")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        # test_state.py's backend fixture asks for pg_url only for its postgresql cases
        if "pg_server" in missing and "[postgresql" in item.nodeid:
            fixtures.add("pg_server")
        if fixtures & missing:
            item.add_marker(pytest.mark.timeout(INSTALL_SECONDS))


def _installed(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
            subprocess.run(step, check=False, env=env, capture_output=True, timeout=600)
        found = shutil.which(program)
    if found is None:
        pytest.fail(f"{program} is missing and could not be installed: as root, run "
                    f"`apt-get install {package}` (Debian) and run the tests again")
    return found


@pytest.fixture(scope="session")
def xapian_tcpsrv() -> str:
    """The path of Xapian's shard server."""
    return _installed(*APT_TOOLS["xapian_tcpsrv"])


@pytest.fixture(scope="session")
def pdftotext() -> str:
    """The path of poppler's pdftotext, the PDF tests' independent extractor."""
    return _installed(*APT_TOOLS["pdftotext"])


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
