"""A real Radicale CalDAV server for the tests: a subprocess on 127.0.0.1.

Each test module that uses the `radicale` fixture (tests/conftest.py) gets one server (on a
free port, with its own storage folder, htpasswd file and log file), stopped
when the module is done. Tests use a fresh calendar each, so they stay
independent without paying for a server start each.

Writes are counted from Radicale's own log, where every request is one line
("PUT request for '/user/cal/x.ics' received from ..."), so a test can prove
that a rerun wrote nothing without trusting the client's own bookkeeping.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

USER = "athlete"
WRITE_METHODS = ("PUT", "DELETE", "MKCALENDAR", "MKCOL", "PROPPATCH", "MOVE")
_REQUEST_LINE = re.compile(r"\b([A-Z]+) request for '([^']*)'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RadicaleServer:
    """One Radicale process; `start` it, use `url`, `stop` it (or restart on the same storage)."""

    folder: Path
    port: int = field(default_factory=free_port)
    user: str = USER
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    auth: str = "htpasswd"  # or "none": anyone may log in as anyone
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def home(self) -> str:
        """The user's calendar home (Radicale puts it at /USER/)."""
        return f"{self.root}{self.user}/"

    @property
    def log(self) -> Path:
        return self.folder / "radicale.log"

    @property
    def storage(self) -> Path:
        return self.folder / "collections"

    @classmethod
    def in_memory(cls, folder: Path) -> RadicaleServer:
        """Storage on a RAM disk when the machine has one: Radicale fsyncs every write,
        and its PUT cost grows with the calendar, so this halves the suite's time."""
        shm = Path("/dev/shm")
        if shm.is_dir() and os.access(shm, os.W_OK):
            folder = Path(tempfile.mkdtemp(prefix="calsync-radicale-", dir=shm))
        return cls(folder)

    def cleanup(self) -> None:
        """Remove a RAM-disk folder (pytest removes its own temporary folders)."""
        if str(self.folder).startswith("/dev/shm/"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def _config(self) -> Path:
        users = self.folder / "users"
        users.write_text(f"{self.user}:{self.password}\n", encoding="utf-8")
        config = self.folder / "config"
        config.write_text(
            "\n".join(
                [
                    "[server]",
                    f"hosts = 127.0.0.1:{self.port}",
                    "[auth]",
                    f"type = {self.auth}",
                    f"htpasswd_filename = {users}",
                    "htpasswd_encryption = plain",
                    "delay = 0",  # no brute-force delay: the 401 test stays fast
                    "[rights]",
                    "type = owner_only",
                    "[storage]",
                    f"filesystem_folder = {self.storage}",
                    "[logging]",
                    "level = info",
                    "mask_passwords = True",
                    "[web]",
                    "type = none",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        return config

    def start(self, timeout: float = 20) -> None:
        config = self._config()
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"radicale exited: {self.log.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(self.root, timeout=1).close()  # noqa: S310 (127.0.0.1)
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer (401, 404) means it is serving
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"radicale did not answer on {self.root} within {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    # --- counting what the server saw ---

    def requests(self) -> Counter[str]:
        """Requests by method, as Radicale logged them since it first started."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return Counter(match.group(1) for match in _REQUEST_LINE.finditer(text))

    def writes(self) -> int:
        seen = self.requests()
        return sum(seen[method] for method in WRITE_METHODS)
