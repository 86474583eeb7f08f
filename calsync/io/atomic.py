"""The one atomic file writer of calsync: the .ics output, the CalDAV memory, the Google token.

A file is written to a temporary beside it, flushed to disk and renamed over
the target, so a reader sees the old file or the new one, never half of one.
The temporary is named `.NAME.PID-RANDOM.tmp`; a run killed between the two
steps (kill -9, a power cut) leaves it behind, and the next write of NAME
removes every such leftover whose process is gone (or that is older than a
day), and the unnamed ones older calsync versions left (`.NAME.RANDOM.tmp`,
after an hour). Every error names the user's file, never the temporary.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

from calsync.errors import Failure

STALE_UNKNOWN = 3600.0  # seconds: a leftover without a process id (older calsync)
STALE_ANY = 86400.0  # seconds: any leftover, whatever process id it names


class WriteFailure(Failure):
    """A file could not be written; the message names it and says why (exit 1)."""


def temporary_name(path: Path, pid: int | None = None) -> str:
    return f".{path.name}.{pid or os.getpid()}-{secrets.token_hex(4)}.tmp"


def _leftover(path: Path) -> re.Pattern[str]:
    # This calsync's names (with a pid); older versions' mkstemp ones (8 characters), and
    # the token writer's fixed `.NAME.tmp`.
    name = re.escape(path.name)
    return re.compile(rf"\.{name}(?:\.(\d+)-[0-9a-f]{{8}}|\.[a-z0-9_]{{8}}|)\.tmp")


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # no cheap check there: leftovers go by age only
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_leftovers(path: Path, now: float | None = None) -> list[Path]:
    """Delete the temporaries earlier writes of `path` left behind; returns them."""
    folder = path.parent if str(path.parent) else Path(".")
    pattern = _leftover(path)
    if now is None:
        from calsync.io.clock import system_clock

        now = system_clock().timestamp()  # file ages: the machine's clock, never --now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []  # the write itself will say what is wrong with the folder
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = found.group(1)
        if pid is None:
            stale = age > STALE_UNKNOWN
        else:
            stale = age > STALE_ANY or (int(pid) != os.getpid() and not _alive(int(pid)))
        if stale:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                continue
    return removed


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically with permissions `mode`; WriteFailure names `path`."""
    folder = path.parent if str(path.parent) else Path(".")
    remove_leftovers(path)
    temporary = folder / temporary_name(path)
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as err:
        raise WriteFailure(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)  # whatever the umask made of it
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise WriteFailure(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
