"""A progress bar on a terminal when many writes are due; nothing of it for cron."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakegoogle import FakeGoogleCalendar
from tests.google_helpers import write_token

pytestmark = pytest.mark.any_date  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def token(tmp_path: Path) -> Path:
    return write_token(tmp_path / "token.json")


def sync(
    server: FakeGoogleCalendar, token: Path, stderr: int
) -> subprocess.CompletedProcess[bytes]:
    args = [sys.executable, "-m", "calsync.cli.main", "sync", "google", str(ROOT / "templates" / "hybrid-hypertrophy.yaml"),
            "--token", str(token), "--from", "2026-11-30", "--now", "2026-11-30T00:00", "--weeks", "2"]  # fmt: skip
    env = {**os.environ, "CALSYNC_GOOGLE_ENDPOINT": server.root_url}
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=stderr, env=env, timeout=60)


def test_a_terminal_sees_a_progress_bar_while_writing(token: Path) -> None:
    leader, follower = pty.openpty()
    with FakeGoogleCalendar() as server:
        done = sync(server, token, follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal is closed and drained
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"writing" in shown and b"100%" in shown
    assert b"writing" not in done.stdout


def test_cron_gets_plain_lines_and_no_bar(token: Path) -> None:
    with FakeGoogleCalendar() as server:
        done = sync(server, token, subprocess.PIPE)
    assert done.returncode == 0
    assert b"writing" not in done.stderr + done.stdout
    assert done.stdout.decode().startswith("google:Training: 20 created")
