"""One lock per target: two calsync commands never write the same calendar at once.

Every command that writes a target takes that target's lock first, the same
lock file whichever command it is (`sync google`, `sync caldav`, `ics`, or
`refresh` running that target), in the state folder's `locks/`. A second
command that finds it held stops at once (exit 75) with one line naming the
target and the run that holds it; `refresh` also takes `refresh.lock` for the
whole run.

The locks are flock-based: the kernel drops one when its process dies, so a
run killed with SIGKILL never blocks the next. Beside each lock, its holder
writes who it is (process id, start, deadline); a run that finds the lock held
for longer than the holder's own deadline says loudly that the holder is stuck
and exits 1, instead of quietly doing nothing forever.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from calsync.errors import EXIT_LOCKED, Failure
from calsync.io import places

GRACE = 60.0  # seconds past a holder's deadline before it is called stuck


class Locked(Failure):
    """Another calsync run holds the lock: exit 75, nothing done."""

    exit_code = EXIT_LOCKED


class StuckLock(Failure):
    """The lock has been held for longer than its holder's deadline: exit 1, loudly."""


@dataclass(frozen=True)
class Holder:
    pid: int
    started: float  # seconds since the epoch
    deadline: float  # the holder's run limit, seconds

    def since(self) -> str:
        return datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds")


def lock_file(kind: str, identity: str) -> Path:
    """The lock of one target: `kind` (google, caldav, ics) and what names the calendar."""
    digest = hashlib.sha256(f"{kind}\n{identity}".encode()).hexdigest()[:24]
    return places.state_dir() / "locks" / f"{kind}-{digest}.lock"


def _holder_file(lock: Path) -> Path:
    return lock.with_name(lock.name + ".json")


def read_holder(lock: Path) -> Holder | None:
    """Who holds `lock`, if it says so and its process is still there."""
    try:
        info = json.loads(_holder_file(lock).read_text(encoding="utf-8"))
        holder = Holder(int(info["pid"]), float(info["started"]), float(info["deadline"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if sys.platform != "win32":
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return None  # a killed run's note: the run that holds the lock has not written yet
        except PermissionError:
            pass
    return holder


@contextmanager
def holding(lock: Path, label: str, deadline: float, now: float | None = None) -> Iterator[None]:
    """Hold `lock` for the block; Locked (75) if another run holds it, StuckLock (1) if
    that run has held it past its deadline. `label` says what is locked, for messages."""
    from filelock import FileLock, Timeout

    from calsync.io.atomic import write_atomic

    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise Failure(f"cannot make the lock folder {lock.parent}: {err.strerror or err}") from None
    guard = FileLock(lock, timeout=0)
    try:
        guard.acquire()
    except Timeout:
        raise _held(lock, label, _wall() if now is None else now) from None
    try:
        started = _wall() if now is None else now
        note = {"pid": os.getpid(), "started": started, "deadline": deadline, "what": label}
        write_atomic(_holder_file(lock), json.dumps(note).encode())
        try:
            yield
        finally:
            _holder_file(lock).unlink(missing_ok=True)
    finally:
        guard.release()


def _wall() -> float:
    """The machine's clock, never --now: a lock's age is about processes, not the plan."""
    from calsync.io.clock import system_clock

    return system_clock().timestamp()


def _held(lock: Path, label: str, now: float) -> Failure:
    holder = read_holder(lock)
    if holder is not None and now - holder.started > holder.deadline + GRACE:
        minutes = (now - holder.started) / 60
        return StuckLock(
            f"ERROR: {label} has been locked since {holder.since()} ({minutes:.0f} min) by "
            f"calsync process {holder.pid}, longer than its deadline of "
            f"{holder.deadline:g} s: that run is stuck and nothing is being updated; "
            f"stop it (kill {holder.pid}) and run again (lock {lock})"
        )
    who = f" (process {holder.pid}, since {holder.since()})" if holder else ""
    return Locked(
        f"another calsync run is writing {label}{who}; this run did nothing (lock {lock})"
    )


@contextmanager
def writing(kind: str, identity: str, label: str, dry_run: bool = False) -> Iterator[None]:
    """A run that writes one target: its lock (none for a dry run, which writes nothing)
    and its deadline (see `limits`), the same for every command that writes it."""
    from calsync.io import limits

    bounds = limits.Limits.from_environ(os.environ)
    with limits.run(bounds):
        if dry_run:
            yield
            return
        with holding(lock_file(kind, identity), label, bounds.run):
            yield
