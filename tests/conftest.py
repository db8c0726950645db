"""Fixtures shared by several test files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pgserver import PgServer, bindir, install

INSTALL_SECONDS = 900  # apt-get update and install postgresql, on a slow mirror


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test needing PostgreSQL waits for its installation when it is missing: more
    than the usual per-test timeout."""
    if bindir() is None:
        for item in items:
            # test_state.py's backend fixture asks for pg_url only for its postgresql cases
            if "pg_server" in getattr(item, "fixturenames", ()) or "[postgresql" in item.nodeid:
                item.add_marker(pytest.mark.timeout(INSTALL_SECONDS))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the session; the test fails (never skips) without it."""
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
