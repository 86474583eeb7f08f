"""The one atomic writer (issue 12, item 7): a killed export leaves a temporary that the
next write removes, and every error names the user's file, never the temporary."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from calsync.io import atomic
from calsync.io.atomic import WriteFailure, remove_leftovers, write_atomic
from tests.google_helpers import TEMPLATE

EXPORT = ["--from", "2026-11-30", "--weeks", "52", "--now", "2026-11-26T08:00:00Z"]


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    shutil.copyfile(TEMPLATE, path)
    return path


def export(plan: Path, out: Path) -> Result:
    return CliRunner().invoke(cli, ["ics", str(plan), "-o", str(out), *EXPORT])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# A calsync export that hangs after writing its temporary, as if killed right then.
HANGING = """
import os, sys, time
rename = os.replace
def hang(source, target):
    if str(target).endswith("training.ics"):
        print("written", flush=True)  # the temporary is whole: the moment to kill
        time.sleep(120)
    rename(source, target)
os.replace = hang
from calsync.cli.main import main
sys.argv = ["calsync", *sys.argv[1:]]
main()
"""


def test_an_export_killed_mid_write_is_cleaned_up_by_the_next(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "training.ics"
    assert export(plan, out).exit_code == 0
    before = out.read_bytes()
    run = subprocess.Popen(
        [sys.executable, "-c", HANGING, "ics", str(plan), "-o", str(out), *EXPORT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert run.stdout is not None
    assert run.stdout.readline() == "written\n"  # bounded: the export itself takes seconds
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    run.stdout.close()
    (left,) = leftovers(tmp_path)
    assert left.startswith(".training.ics.") and (tmp_path / left).stat().st_size > 100_000
    assert out.read_bytes() == before  # the reader never saw half a file

    assert export(plan, out).exit_code == 0
    assert leftovers(tmp_path) == []
    assert out.read_bytes() == before


def test_only_calsyncs_own_dead_leftovers_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "training.ics"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **OUT)
    dead = int(finished.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            f".training.ics.{dead}-0123abcd.tmp": True,  # its writer was killed
            ".training.ics.e17waftk.tmp": True,  # an older calsync's, two hours old
            f".training.ics.{alive.pid}-0123abcd.tmp": False,  # being written right now
            ".training.ics.q0ntpdmf.tmp.keep": False,  # not a name calsync gives
            ".other.ics.e17waftk.tmp": False,  # another file's
            "training.ics.e17waftk.tmp": False,  # not hidden: not calsync's
        }
        # Ages are set from the clock calsync reads, not left to the file system's.
        now = time.time()
        for name in names:
            (tmp_path / name).write_text("partial")
            os.utime(tmp_path / name, (now, now))
        os.utime(tmp_path / ".training.ics.e17waftk.tmp", (now - 7200, now - 7200))
        fresh_old_style = tmp_path / ".training.ics.zz9waftk.tmp"  # could still be writing
        fresh_old_style.write_text("partial")
        os.utime(fresh_old_style, (now, now))

        write_atomic(out, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

        kept = {p.name for p in tmp_path.iterdir()}
        assert kept == {n for n, gone in names.items() if not gone} | {
            "training.ics",
            fresh_old_style.name,
        }
    finally:
        alive.kill()
        alive.wait()


OUT = {"capture_output": True, "text": True, "check": True}


def test_any_leftover_older_than_a_day_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / f".training.ics.{os.getppid()}-0123abcd.tmp"  # a live pid, reused
    stale.write_text("partial")
    assert remove_leftovers(tmp_path / "training.ics", now=time.time() + 2 * 86400) == [stale]


def test_a_missing_folder_names_the_users_file(plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "public_html" / "training.ics"
    result = export(plan, out)
    assert result.exit_code == 1
    assert result.stderr == f"calsync: cannot write {out}: No such file or directory\n"


def test_disk_full_names_the_users_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    out = tmp_path / "training.ics"
    out.write_bytes(b"the previous version")
    with pytest.raises(WriteFailure) as caught:
        write_atomic(out, b"x" * 1000)
    assert str(caught.value) == f"cannot write {out}: No space left on device"
    assert out.read_bytes() == b"the previous version" and leftovers(tmp_path) == []


def _small_file_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_a_file_size_limit_hit_mid_write_names_the_users_file(plan: Path, tmp_path: Path) -> None:
    """A real write failing half-way (the kernel's file size limit, as a full disk would)."""
    out = tmp_path / "training.ics"
    done = subprocess.run(
        [sys.executable, "-m", "calsync.cli.main", "ics", str(plan), "-o", str(out), *EXPORT],
        capture_output=True,
        text=True,
        preexec_fn=_small_file_limit,
    )
    assert done.returncode == 1
    assert done.stderr == f"calsync: cannot write {out}: File too large\n"
    assert not out.exists() and leftovers(tmp_path) == []


def test_the_token_is_written_by_the_same_writer_owner_only(tmp_path: Path) -> None:
    from calsync.targets.google import save_token

    token = tmp_path / "google-token.json"
    (tmp_path / ".google-token.json.tmp").write_text('{"token": "old"}')  # an older calsync's
    os.utime(tmp_path / ".google-token.json.tmp", (0, 0))
    save_token(token, '{"token": "new"}')
    assert token.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path) == []
