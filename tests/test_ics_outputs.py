"""`calsync ics -o` at things that are not regular files: only a regular file is a
previous calendar; anything else is written to, and a failed write is one clear line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli

TEMPLATE = str(Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml")
ARGS = ["--from", "2026-11-30", "--now", "2026-11-29"]
needs_console_script = pytest.mark.skipif(shutil.which("calsync") is None, reason="not installed")


@needs_console_script
def test_dev_stdout_into_a_pipe_is_written_not_read_back() -> None:
    # it used to read its own output pipe as the previous file, and wait forever
    result = subprocess.run(
        ["calsync", "ics", TEMPLATE, *ARGS, "-o", "/dev/stdout"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"BEGIN:VCALENDAR\r\n")
    assert result.stdout.count(b"BEGIN:VEVENT") == 37


@needs_console_script
def test_a_full_disk_is_one_line_and_exit_1() -> None:
    result = subprocess.run(
        ["calsync", "ics", TEMPLATE, *ARGS, "-o", "/dev/full"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == b"calsync: cannot write /dev/full: No space left on device\n"


def test_dev_null_takes_the_calendar_and_is_not_judged_a_foreign_file() -> None:
    result = CliRunner().invoke(cli, ["ics", TEMPLATE, *ARGS, "-o", "/dev/null"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("wrote /dev/null: 37 created, 0 updated, 0 unchanged;")
    assert Path("/dev/null").is_char_device()  # still a device, not replaced by a file
