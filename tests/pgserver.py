"""A real PostgreSQL server for the tests: Debian's postgresql package (installed when missing),
a cluster in a temporary folder on a free loopback port, run as the package's `postgres` user
when the tests run as root (postgres refuses root). One server a session, a database a test;
password authentication on, so a wrong or leaked password would show."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "quotebot"
SYSTEM_USER = "postgres"  # created by Debian's postgresql package
APT = (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"])


def bindir() -> Path | None:
    """The newest installed server's bin folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def install() -> Path:
    """The server's bin folder, apt-installing the package when missing (as root)."""
    found = bindir()
    if found is None and os.geteuid() == 0:
        for command in APT:
            subprocess.run(command, capture_output=True, timeout=600, check=False)
        found = bindir()
    if found is None:
        raise RuntimeError("PostgreSQL is missing and `apt-get install -y postgresql` failed "
                           "(run the tests as root, or install postgresql)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bin_folder: Path) -> None:
        self.bin = bin_folder
        self.folder = Path(tempfile.mkdtemp(prefix="quotebot-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self._databases = 0
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password)
        self._as_server_user = os.geteuid() == 0
        if self._as_server_user:
            entry = pwd.getpwnam(SYSTEM_USER)
            for path in (self.folder, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                  "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        self.start()

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_server_user:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{tail}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                  "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        self._databases += 1
        name = f"test{self._databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
