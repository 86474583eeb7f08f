"""Every wait bounded: one request, one wait between retries, one whole run.

- A request (Google or CalDAV, the answer read to its last byte) may take at most
  `request` seconds: a server that trickles its answer is cut off.
- A wait between retries is at most `wait` seconds, whatever a server's
  `Retry-After` asks (Google's 429 and its inner-batch 429s, CalDAV's 503).
- A whole command (`sync google`, `sync caldav`, `refresh`) may take at most
  `run` seconds; a wait or a request that would end past it fails at once.

Each is set by an environment variable (seconds, a positive number), so cron
jobs, systemd units and the tests can change them:

    CALSYNC_REQUEST_TIMEOUT (default 120), CALSYNC_MAX_WAIT (default 60),
    CALSYNC_RUN_TIMEOUT (default 1800)

Passing a limit is a `DeadlineExceeded` failure (exit 1) with one line that
says which limit and how to change it. Requests are cut off with SIGALRM, so
on a platform without it (Windows) only the socket timeouts and the run's
checks between requests apply.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from calsync.errors import BadInput, Failure

VARIABLES = {
    "request": "CALSYNC_REQUEST_TIMEOUT",
    "wait": "CALSYNC_MAX_WAIT",
    "run": "CALSYNC_RUN_TIMEOUT",
}


class DeadlineExceeded(Failure):
    """A request, a wait or the whole run would pass its limit (exit 1)."""


@dataclass(frozen=True)
class Limits:
    request: float = 120.0
    wait: float = 60.0
    run: float = 1800.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Limits:
        values: dict[str, float] = {}
        for field, variable in VARIABLES.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise BadInput(f"{variable}='{text}' is not a number of seconds above 0")
            values[field] = value
        return cls(**values)


def _seconds(value: float) -> str:
    return f"{value:g} s"


@dataclass
class _Run:
    limits: Limits
    end: float  # time.monotonic() at which the run must be over


_current: list[_Run] = []  # the runs in progress, innermost last (a refresh, then a target)
_clock: Callable[[], float] = time.monotonic


def current() -> Limits:
    return _current[-1].limits if _current else Limits.from_environ(os.environ)


def remaining() -> float | None:
    """Seconds left in the run in progress (None: no run)."""
    return _current[-1].end - _clock() if _current else None


@contextmanager
def run(limits: Limits) -> Iterator[Limits]:
    """A run bounded by `limits.run` (and by any run it is part of)."""
    end = _clock() + limits.run
    if _current:
        end = min(end, _current[-1].end)
    _current.append(_Run(limits, end))
    try:
        yield limits
    finally:
        _current.pop()


def _run_over() -> DeadlineExceeded:
    limits = current()
    return DeadlineExceeded(
        f"the run took longer than its deadline of {_seconds(limits.run)} and was stopped; "
        f"the next run repairs what this one left (raise {VARIABLES['run']} if it needs longer)"
    )


def bounded_wait(wanted: float) -> float:
    """How long to wait for `wanted` seconds: at most the wait limit, and never past the run."""
    limits = current()
    wait = min(max(wanted, 0.0), limits.wait)
    left = remaining()
    if left is not None and wait >= left:
        raise _run_over()
    return wait


def overrun(what: str, run_bound: bool) -> DeadlineExceeded:
    """The failure of a request to `what` that took too long: past the request limit, or
    (`run_bound`) past the end of the run."""
    if run_bound:
        return _run_over()
    return DeadlineExceeded(
        f"{what} did not finish answering within {_seconds(current().request)}; stopped "
        f"(raise {VARIABLES['request']} for a slow server)"
    )


def request_budget() -> tuple[float, bool]:
    """Seconds one request may take from now (the request limit, or what is left of the
    run if less), and whether it is the run's end that bounds it; past the run: fails."""
    limits = current()
    left = remaining()
    if left is not None and left <= 0:
        raise _run_over()
    if left is None or left > limits.request:
        return limits.request, False
    return left, True


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def request(what: str) -> Iterator[None]:
    """One request to `what` (e.g. "Google Calendar"), cut off at the request limit or at
    the end of the run, whichever comes first."""
    limits = current()
    budget = limits.request
    left = remaining()
    if left is not None:
        if left <= 0:
            raise _run_over()
        budget = min(budget, left)
    if not _can_alarm():
        yield
        return
    run_bound = left is not None and left <= limits.request

    def expired(signum: int, frame: FrameType | None) -> None:
        raise overrun(what, run_bound)

    previous = signal.signal(signal.SIGALRM, expired)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, budget)
    started = _clock()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an enclosing alarm keeps what is left of its time (at least a tick)
            signal.setitimer(signal.ITIMER_REAL, max(outer - (_clock() - started), 0.001))
