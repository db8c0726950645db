"""Xapian shard servers (`xapian-tcpsrv`) on loopback, started and killed by tests and bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShardServer:
    """One xapian-tcpsrv serving one shard on 127.0.0.1; keeps its port across restarts."""

    def __init__(self, binary: str, shard: Path, *options: str) -> None:
        self.binary, self.shard, self.port = binary, shard, free_port()
        self.options = options  # more xapian-tcpsrv options, e.g. ("--idle-timeout", "300")
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ShardServer:
        # Its own process group: xapian-tcpsrv forks a child per connection, which a kill
        # of the parent alone would leave serving.
        self.process = subprocess.Popen(
            [self.binary, "--interface", "127.0.0.1", "--port", str(self.port), "--quiet",
             *self.options, str(self.shard)], start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # (it reports every closed connection there)
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError as exc:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise RuntimeError(f"xapian-tcpsrv exited with {code}") from exc
                time.sleep(0.05)
        raise RuntimeError(f"xapian-tcpsrv did not listen on {self.address}")

    def pause(self) -> None:
        """Stop the server and its connections' processes: connections are accepted (by the
        kernel) and never answered, as a hung server's are."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
