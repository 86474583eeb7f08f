"""Writes to a CalDAV calendar several at a time: a small bounded pool of worker threads.

Every write stays what it is alone (a conditional PUT or DELETE, retried with
bounded waits, re-read after a 412); the pool only overlaps their round trips.
The main thread hands out the changes, counts the progress bar and gathers the
results, which come back in the order of the changes (the engine's order), not
in the order they finished, so a report never depends on timing.

The number of workers is `CALSYNC_CALDAV_JOBS` (default 4; 1 writes one at a
time in the main thread, as calsync did before). Past about 4 the servers
measured (Radicale, Xandikos) serialise writes anyway.

Every wait is bounded: a worker's request is bounded by the socket timeouts and
the run's deadline, and the main thread waits at most the request limit for the
next write to finish (`limits`), then fails the run; the workers are daemon
threads, so a server that never answers cannot hold the process open.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from calsync.errors import BadInput
from calsync.io import limits
from calsync.sync.engine import Change, Outcome, Progress, Result

JOBS_VARIABLE = "CALSYNC_CALDAV_JOBS"
DEFAULT_JOBS = 4
MAX_JOBS = 16


def jobs_from_environ(environ: Mapping[str, str]) -> int:
    """The pool size: `CALSYNC_CALDAV_JOBS`, a whole number from 1 to 16 (default 4)."""
    text = environ.get(JOBS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_JOBS
    if not text.isdigit() or not 1 <= int(text) <= MAX_JOBS:
        raise BadInput(f"{JOBS_VARIABLE}='{text}' is not a whole number from 1 to {MAX_JOBS}")
    return int(text)


def current_jobs() -> int:
    return jobs_from_environ(os.environ)


class Fatal(Exception):
    """Raised by a write when every further write would fail too (the server is gone)."""


@dataclass(frozen=True)
class _Done:
    index: int
    result: Result | None  # None: the write raised `error`
    error: BaseException | None = None


Worker = Callable[[Change], Result]  # one write; raises Fatal (or anything unexpected)


def apply_all(
    changes: Sequence[Change],
    worker_for: Callable[[], Worker],
    progress: Progress,
    jobs: int,
    what: str,
) -> list[Result]:
    """Apply every change with at most `jobs` writes in flight; results in `changes` order.

    `worker_for()` gives each thread its own write function (its own connection).
    After a `Fatal` no further write is started and the rest are "not tried"; any
    other exception is raised in the caller once the writes in flight are back,
    or at once when the request limit passes with none coming back."""
    if jobs <= 1 or len(changes) <= 1:
        return _one_at_a_time(changes, worker_for(), progress)
    todo: queue.Queue[int | None] = queue.Queue()
    done: queue.Queue[_Done] = queue.Queue()
    stop = threading.Event()
    for index in range(len(changes)):
        todo.put(index)
    workers = min(jobs, len(changes))
    for _ in range(workers):
        todo.put(None)

    def serve(write: Worker) -> None:
        while (index := todo.get()) is not None:
            if stop.is_set():
                done.put(_Done(index, None))  # not tried
                continue
            try:
                done.put(_Done(index, write(changes[index])))
            except BaseException as err:  # handed to the main thread, raised there
                stop.set()
                done.put(_Done(index, None, err))

    for number in range(workers):
        write = worker_for()  # made here: each worker has its own connection
        threading.Thread(
            target=serve, args=(write,), name=f"calsync-caldav-{number}", daemon=True
        ).start()
    return _gather(changes, done, progress, what)


def _one_at_a_time(changes: Sequence[Change], write: Worker, progress: Progress) -> list[Result]:
    results: list[Result] = []
    fatal: str | None = None
    for change in changes:
        if fatal is not None:
            results.append(Result(change, Outcome.FAILED, f"not tried: {fatal}"))
        else:
            try:
                results.append(write(change))
            except Fatal as err:
                fatal = str(err)
                results.append(Result(change, Outcome.FAILED, fatal))
        progress(1)
    return results


def _gather(
    changes: Sequence[Change], done: queue.Queue[_Done], progress: Progress, what: str
) -> list[Result]:
    found: dict[int, _Done] = {}
    while len(found) < len(changes):
        item = _next(done, what)
        found[item.index] = item
        progress(1)
    unexpected = [d.error for d in found.values() if d.error and not isinstance(d.error, Fatal)]
    if unexpected:
        raise unexpected[0]
    # The first fatal error in the changes' order: the one every "not tried" names.
    fatal = next((str(found[i].error) for i in sorted(found) if found[i].error), None)
    results = []
    for index, change in enumerate(changes):
        item = found[index]
        if item.result is not None:
            results.append(item.result)
        elif item.error is not None:
            results.append(Result(change, Outcome.FAILED, str(item.error)))
        else:
            results.append(Result(change, Outcome.FAILED, f"not tried: {fatal}"))
    return results


def _next(done: queue.Queue[_Done], what: str) -> _Done:
    """The next write back, waiting no longer than a request may take (nor past the run)."""
    limit = limits.current().request
    left = limits.remaining()
    run_bound = left is not None and left <= limit
    budget = max(min(limit, left) if left is not None else limit, 0.0)
    try:
        return done.get(timeout=budget)
    except queue.Empty:
        raise limits.overrun(what, run_bound) from None
