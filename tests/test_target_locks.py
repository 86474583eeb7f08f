"""One lock per target, whichever command writes it (issue 12, item 2).

What was seen: two `calsync sync google PLAN` started together against a server
with 300 ms latency and only the primary calendar both reported "40 created" and
left two "Training" calendars with every session twice; `refresh` plus a manual
`sync` did the same. The commands run here as real processes, as a user's shell
and cron would start them, against tests/fakegoogle.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.cli.refresh import lock_path
from calsync.io.locks import holding, lock_file
from tests.fakegoogle import FakeGoogleCalendar
from tests.google_helpers import (
    TEMPLATE,
    assert_holds_plan,
    calendar_named,
    calendars,
    desired,
    write_token,
)

# Each process runs on 2026-11-26 (the clock ticking from there), so the sessions from
# 2026-11-30 are all still ahead whatever today's date is.
AT_A_FIXED_DATE = """
import sys, time_machine
from calsync.cli.main import main
sys.argv = ["calsync", *sys.argv[1:]]
with time_machine.travel("2026-11-26T08:00:00+00:00", tick=True):
    main()
"""


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(TEMPLATE, tmp_path / "plan.yaml")
    write_token(tmp_path / "token.json")
    return tmp_path


def spawn(fake: FakeGoogleCalendar, state: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CALSYNC_GOOGLE_ENDPOINT": fake.root_url, "CALSYNC_STATE_DIR": str(state)}
    return subprocess.Popen(
        [sys.executable, "-c", AT_A_FIXED_DATE, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sync_args(folder: Path) -> list[str]:
    return [
        "sync", "google", str(folder / "plan.yaml"), "--token", str(folder / "token.json"),
        "--from", "2026-11-30", "--weeks", "2",
    ]  # fmt: skip


def overlapping(
    fake: FakeGoogleCalendar, runs: list[subprocess.Popen[str]]
) -> list[tuple[str, str]]:
    """Let the runs finish, making sure they overlap however loaded the machine is: the
    server holds every request until one run has ended (or 60 s have passed). A run
    that respects the lock ends without a request; without the lock both would wait,
    then both write."""
    released = threading.Event()
    answer = fake.handle_http

    def held(*args: Any) -> Any:
        released.wait(60)
        return answer(*args)

    fake.handle_http = held  # type: ignore[method-assign]
    try:
        deadline = time.monotonic() + 60
        while all(run.poll() is None for run in runs) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        released.set()
    return [run.communicate(timeout=120) for run in runs]


def training_calendars(fake: FakeGoogleCalendar) -> list[str]:
    return [c["id"] for c in calendars(fake) if c["summary"] == "Training"]


def test_two_google_syncs_started_together_make_one_calendar_with_single_events(
    fake: FakeGoogleCalendar, folder: Path, state_dir: Path
) -> None:
    fake.latency = 0.3  # every call is slow, as on a real network
    runs = [spawn(fake, state_dir, *sync_args(folder)) for _ in range(2)]
    outputs = overlapping(fake, runs)
    codes = sorted(run.returncode for run in runs)

    assert codes == [0, 75], outputs
    (_, loser_err) = outputs[[run.returncode for run in runs].index(75)]
    lock = lock_file("google", f"{fake.root_url}\nTraining")
    assert re.fullmatch(
        r"calsync: another calsync run is writing the Google calendar 'Training'"
        r"( \(process \d+, since [-0-9T:+]+\))?; this run did nothing "
        rf"\(lock {re.escape(str(lock))}\)\n",
        loser_err,
    ), loser_err
    assert len(training_calendars(fake)) == 1
    assert_holds_plan(fake, calendar_named(fake, "Training"), desired(folder / "plan.yaml"))


def test_a_refresh_and_a_manual_sync_share_the_targets_lock(
    fake: FakeGoogleCalendar, folder: Path, state_dir: Path
) -> None:
    config = folder / "refresh.toml"
    config.write_text(
        'plan = "plan.yaml"\nweeks = 2\n[[target]]\ntype = "google"\ntoken = "token.json"\n'
    )
    fake.latency = 0.3
    refresh = spawn(fake, state_dir, "refresh", "--config", str(config), "--today", "2026-11-30")
    manual = spawn(fake, state_dir, *sync_args(folder))
    (refresh_out, refresh_err), (_, manual_err) = overlapping(fake, [refresh, manual])
    outcomes = {refresh.returncode, manual.returncode}
    # Whichever came second stopped: the manual sync with 75, or the refresh's target
    # failed (exit 1) naming the lock; the other wrote the calendar.
    assert 0 in outcomes and outcomes <= {0, 1, 75}, (refresh_out, refresh_err, manual_err)
    said = refresh_out + refresh_err + manual_err
    assert "another calsync run is writing the Google calendar 'Training'" in said
    assert len(training_calendars(fake)) == 1
    assert_holds_plan(fake, calendar_named(fake, "Training"), desired(folder / "plan.yaml"))


def test_an_ics_export_waits_for_no_one_and_overwrites_nothing_while_locked(
    folder: Path,
) -> None:
    out = folder / "training.ics"
    out.write_bytes(b"")  # whatever is there stays
    lock = lock_file("ics", str(out.absolute()))
    with holding(lock, str(out), 1800):
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, ["ics", str(folder / "plan.yaml"), "-o", str(out), "--from", "2026-11-30"]
        )
        assert time.monotonic() - started < 10
    assert result.exit_code == 75
    assert result.stderr.startswith(f"calsync: another calsync run is writing {out} (process ")
    assert out.read_bytes() == b""


def test_a_caldav_sync_takes_the_same_lock_as_the_refresh_of_that_calendar(
    folder: Path,
) -> None:
    url = "https://caldav.example.com/dav/calendars/me/"
    with holding(lock_file("caldav", f"{url}\nTraining"), "x", 1800):
        password = folder / "password"
        password.write_text("secret\n")
        result = CliRunner().invoke(
            cli,
            [
                "sync", "caldav", str(folder / "plan.yaml"), "--url", url,
                "--calendar", "Training", "--username", "me", "--password-file", str(password),
            ],
        )  # fmt: skip
    assert result.exit_code == 75, result.output  # before any request to the server
    assert result.stderr.startswith(
        f"calsync: another calsync run is writing the CalDAV calendar at {url} 'Training' "
    )


def test_a_refresh_stuck_past_its_deadline_is_said_loudly_and_fails(
    folder: Path, state_dir: Path
) -> None:
    """What was seen: a hung refresh kept the lock and every later one printed
    "another calsync refresh is running" and exited 75, which systemd counts as success."""
    config = folder / "refresh.toml"
    config.write_text('plan = "plan.yaml"\n[[target]]\ntype = "ics"\npath = "training.ics"\n')
    two_hours_ago = time.time() - 7200
    with holding(lock_path(), "the refresh", 1800, now=two_hours_ago):
        run = subprocess.run(
            [sys.executable, "-m", "calsync.cli.main", "refresh", "--config", str(config)],
            env={**os.environ, "CALSYNC_STATE_DIR": str(state_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert line.startswith("calsync: ERROR: the refresh has been locked since ")
    assert f"(120 min) by calsync process {os.getpid()}, longer than its deadline of 1800 s" in line
    assert f"kill {os.getpid()}" in line
    assert not (folder / "training.ics").exists()


def test_a_refresh_locked_within_the_deadline_still_exits_75(folder: Path, state_dir: Path) -> None:
    config = folder / "refresh.toml"
    config.write_text('plan = "plan.yaml"\n[[target]]\ntype = "ics"\npath = "training.ics"\n')
    with holding(lock_path(), "the refresh", 1800, now=time.time() - 600):
        run = subprocess.run(
            [sys.executable, "-m", "calsync.cli.main", "refresh", "--config", str(config)],
            env={**os.environ, "CALSYNC_STATE_DIR": str(state_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 75
    assert "another calsync refresh is running" in run.stderr


def test_a_refresh_fails_only_the_target_another_command_is_writing(folder: Path) -> None:
    out = folder / "training.ics"
    config = folder / "refresh.toml"
    config.write_text('plan = "plan.yaml"\n[[target]]\ntype = "ics"\npath = "training.ics"\n')
    with holding(lock_file("ics", str(out.absolute())), str(out), 1800):
        result = CliRunner().invoke(
            cli, ["refresh", "--config", str(config), "--today", "2026-11-30"]
        )
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"ics {out}: FAILED: another calsync run is writing {out} (process {os.getpid()}, since "
    )
    assert not out.exists()
