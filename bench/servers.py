"""The servers the benchmarks run against, all on 127.0.0.1: Radicale, Xandikos, fake Google.

The Radicale launcher and the fake Google Calendar come from fakes/, which the
tests use as well; bench/ imports nothing from tests/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fakes.fakegoogle import TOKEN, FakeGoogleCalendar
from fakes.radicale_server import RadicaleServer, free_port

__all__ = ["TOKEN", "CalDAVServer", "FakeGoogleCalendar", "caldav_server", "write_token"]

USER = "athlete"


@dataclass(frozen=True)
class CalDAVServer:
    """A running CalDAV server: `root` is its own address (the proxy's upstream), `home`
    the user's calendar home below it, where calendars are made."""

    name: str
    root: str
    home: str  # a path below root, e.g. "athlete/"
    user: str
    password: str


def write_token(path: Path) -> Path:
    """A Google token file the fake server accepts and the client never refreshes."""
    path.write_text(json.dumps(TOKEN), encoding="utf-8")
    path.chmod(0o600)
    return path


def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Poll `url` until the server answers anything (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - 127.0.0.1 only
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _xandikos(folder: Path, timeout: float = 30) -> Iterator[CalDAVServer]:
    """`xandikos serve` on a free port over a fresh folder, creating the user's home."""
    port = free_port()
    log = folder / "xandikos.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "xandikos", "serve", "--directory", str(folder / "data"),
             "--autocreate", "--listen-address", "127.0.0.1", "--port", str(port),
             "--current-user-principal", f"/{USER}/", "--no-detect-systemd"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        root = f"http://127.0.0.1:{port}/"
        _wait_until_serving(root, process, log, timeout)
        # No authentication (xandikos asks for TLS before Basic auth): clients send
        # their credentials anyway, and the server ignores them.
        yield CalDAVServer("Xandikos", root, f"{USER}/calendars/", USER, "unused")
    finally:
        _stop(process)


@contextmanager
def _radicale(folder: Path) -> Iterator[CalDAVServer]:
    server = RadicaleServer.in_memory(folder)
    server.folder.mkdir(parents=True, exist_ok=True)
    server.start()
    try:
        yield CalDAVServer("Radicale", server.root, f"{server.user}/", server.user, server.password)
    finally:
        server.stop()
        server.cleanup()


@contextmanager
def caldav_server(name: str) -> Iterator[CalDAVServer]:
    """Radicale or Xandikos, started over an empty temporary folder and stopped after."""
    folder = Path(tempfile.mkdtemp(prefix=f"calsync-bench-{name.lower()}-"))
    try:
        if name == "Radicale":
            with _radicale(folder) as server:
                yield server
        elif name == "Xandikos":
            with _xandikos(folder) as server:
                yield server
        else:
            raise ValueError(f"unknown CalDAV server {name!r}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def environment(**extra: str) -> dict[str, str]:
    """The environment for a client subprocess: this one's, plus `extra`."""
    return {**os.environ, **extra}
