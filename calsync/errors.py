"""Every error calsync raises on purpose, in one tree, and the one rule for exit statuses.

    Exception
    ├── BadInput (exit 2): input the user can fix
    │   ├── InputProblems: a file with a list of problems, one line each
    │   │   ├── PlanError: the plan (core/loader.py)
    │   │   └── ConfigError: the refresh config (cli/config.py)
    │   └── BusyFileError: a busy calendar (core/busy.py)
    └── Failure (exit 1): anything outside the user's input
        └── TargetError: a sync target (targets/*) could not do its job
            ├── Unreachable: no answer, a timeout, TLS that does not hold
            ├── AuthRefused: the server refused the credentials or the access
            ├── RateLimited: still asked to slow down after every retry
            └── Rejected: any other refusal, or an answer that makes no sense

Modules elsewhere add their own leaves (io/atomic.py `WriteFailure`, io/locks.py
`Locked` with exit 75, io/limits.py `DeadlineExceeded`, ...). The command line
(cli/main.py `CalsyncGroup`) prints any of them as one message and exits with its
`exit_code`; nothing here imports anything, so importing it is free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFLICTS, EXIT_LOCKED = 0, 1, 2, 3, 75


class Failure(Exception):
    """A failure outside the user's input (network, disk, a server): exit 1.

    Raised by io/ (atomic writes, locks, limits), core/fit (the solver) and, as a
    `TargetError`, by every sync target."""

    exit_code = EXIT_FAILURE


class BadInput(Exception):
    """Input the user can fix (a file, an option value): exit 2.

    Raised by the loaders (as `PlanError`, `ConfigError`, `BusyFileError`), by the
    commands for option values, and by targets/ for a secret that cannot be read
    where the user said it is."""

    exit_code = EXIT_USAGE


# --- bad input ------------------------------------------------------------------------


class Located(Protocol):
    """One problem of an input file: printed as it is, ordered by its line."""

    @property
    def line(self) -> int: ...


class InputProblems(BadInput):
    """A file that cannot be used, with every problem found in it, ordered by line.

    The command line prints each problem on its own line (no "calsync:" prefix) and
    exits 2; refresh reports the first one. Raised as one of its two subclasses."""

    def __init__(self, problems: Sequence[Located]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(map(str, self.problems)))


class PlanError(InputProblems):
    """The plan file (YAML): raised by core/loader.py (and read_plan's callers)."""


class ConfigError(InputProblems):
    """The refresh config (TOML): raised by cli/config.py."""


class BusyFileError(BadInput):
    """A busy calendar could not be read; says which file, where and why.

    Raised by core/busy.py for a --busy file (and caught by the CalDAV target,
    which leaves an unreadable event of another calendar out of the busy time)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        # Passing every field to Exception keeps the error picklable
        # (pytest-xdist, multiprocessing) since unpickling calls cls(*args).
        super().__init__(path, message, line)
        self.path = path
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


# --- failures of a sync target ------------------------------------------------------


class TargetError(Failure):
    """A sync target (Google, CalDAV, intervals.icu) could not do its job.

    One clear sentence, never a password, token or key. Raised by targets/ only;
    each backend turns its HTTP statuses into these in one place (`for_status`).
    The engine keeps going where it can (a write that fails is reported with its
    session); the command line prints the sentence and exits 1; refresh marks the
    target failed and runs the others."""


class Unreachable(TargetError):
    """No answer (refused, reset, timed out) or a TLS connection that cannot be trusted.

    Raised by each target's one HTTP place once its retries are spent."""


class AuthRefused(TargetError):
    """The server refused the credentials (401), the access (403), or a token expired.

    Raised by each target's one HTTP place (and by Google's token refresh)."""


class RateLimited(TargetError):
    """The server still asks to slow down (429, a quota) after every retry.

    Raised by each target's one HTTP place once its retries are spent."""


class Rejected(TargetError):
    """Any other refusal (an HTTP status the target cannot use), or an answer that is
    not what the protocol promises. Raised by the targets (as `GoogleFailure`,
    `CalDAVFailure`, `IntervalsFailure`, the names each module gives it)."""


def for_status(status: int) -> type[TargetError]:
    """The kind of failure an HTTP status means, the same for every backend."""
    if status in (401, 403):
        return AuthRefused
    if status == 429:
        return RateLimited
    return Rejected


# --- the exit status ------------------------------------------------------------------


def exit_status(
    levels: Iterable[int] = (), threshold: int | None = None, failed: bool = False
) -> int:
    """The one rule for a command's exit status, from what it found.

    `levels` are the ranks of the conflicts found (`Level.rank`: warn 1, error 2),
    `threshold` the rank from which a conflict fails the run (--fail-on; None: no
    conflict does), `failed` whether something outside the user's input failed.
    A failure (1) hides more than conflicts (3), which hide nothing (0). Bad input
    (2) and a held lock (75) never get here: they are errors, raised."""
    if failed:
        return EXIT_FAILURE
    if threshold is not None and any(level >= threshold for level in levels):
        return EXIT_CONFLICTS
    return EXIT_OK
