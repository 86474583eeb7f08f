"""The CalDAV write pool on its own: order, failures, bounded waits (no server needed)."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from calsync.cli.main import cli
from calsync.errors import BadInput
from calsync.io import limits
from calsync.io.limits import DeadlineExceeded, Limits
from calsync.sync.engine import Action, Change, Outcome, Result
from calsync.targets.caldav.pool import (
    JOBS_VARIABLE,
    Fatal,
    Worker,
    apply_all,
    jobs_from_environ,
)

MONDAY = datetime(2026, 11, 30, 10, tzinfo=UTC)


def changes(count: int) -> list[Change]:
    return [
        Change(Action.CREATE, f"plan/2026-11-30/s{n:02d}", MONDAY + timedelta(hours=n), f"S{n}")
        for n in range(count)
    ]


def test_results_come_back_in_the_changes_order_whatever_finishes_first() -> None:
    rng = random.Random(7)
    delays = {c.key: rng.uniform(0, 0.02) for c in changes(24)}
    threads: set[str] = set()
    ticks: list[int] = []

    def worker_for() -> Worker:
        def write(change: Change) -> Result:
            threads.add(threading.current_thread().name)
            time.sleep(delays[change.key])
            return Result(change, Outcome.DONE)

        return write

    todo = changes(24)
    results = apply_all(todo, worker_for, ticks.append, 4, "a server")
    assert [r.change for r in results] == todo
    assert len(ticks) == 24 and len(threads) == 4  # every write counted; four threads wrote


def test_after_a_fatal_failure_nothing_new_is_started() -> None:
    started: list[str] = []
    lock = threading.Lock()

    def worker_for() -> Worker:
        def write(change: Change) -> Result:
            with lock:
                started.append(change.key)
            if change.key.endswith("s03"):
                raise Fatal("cannot reach the CalDAV server at http://127.0.0.1:9")
            time.sleep(0.01)
            return Result(change, Outcome.DONE)

        return write

    todo = changes(40)
    results = apply_all(todo, worker_for, lambda n: None, 4, "a server")
    by_key = {r.change.key: r for r in results}
    assert by_key[todo[3].key].error == "cannot reach the CalDAV server at http://127.0.0.1:9"
    not_tried = [r for r in results if (r.error or "").startswith("not tried: cannot reach")]
    assert len(started) < 40 and len(not_tried) == 40 - len(started)
    assert {r.change.key for r in not_tried}.isdisjoint(started)


def test_an_unexpected_error_is_raised_in_the_caller() -> None:
    def worker_for() -> Worker:
        def write(change: Change) -> Result:
            raise DeadlineExceeded("the run took longer than its deadline")

        return write

    with pytest.raises(DeadlineExceeded, match="deadline"):
        apply_all(changes(6), worker_for, lambda n: None, 4, "a server")


def test_a_write_that_never_comes_back_is_cut_off_at_the_request_limit() -> None:
    release = threading.Event()

    def worker_for() -> Worker:
        def write(change: Change) -> Result:
            release.wait(5)  # a server that never answers (bounded, so the test ends)
            return Result(change, Outcome.DONE)

        return write

    began = time.monotonic()
    with limits.run(Limits(request=0.3)), pytest.raises(DeadlineExceeded) as caught:
        apply_all(changes(4), worker_for, lambda n: None, 4, "the CalDAV server at http://x")
    release.set()
    assert time.monotonic() - began < 2
    assert str(caught.value) == (
        "the CalDAV server at http://x did not finish answering within 0.3 s; stopped "
        "(raise CALSYNC_REQUEST_TIMEOUT for a slow server)"
    )


def test_one_job_writes_in_the_calling_thread() -> None:
    names: set[str] = set()

    def worker_for() -> Worker:
        def write(change: Change) -> Result:
            names.add(threading.current_thread().name)
            return Result(change, Outcome.DONE)

        return write

    apply_all(changes(5), worker_for, lambda n: None, 1, "a server")
    assert names == {threading.current_thread().name}


def test_the_pool_size_comes_from_the_environment() -> None:
    assert jobs_from_environ({}) == 4
    assert jobs_from_environ({JOBS_VARIABLE: "1"}) == 1
    assert jobs_from_environ({JOBS_VARIABLE: " 8 "}) == 8
    for bad in ("0", "17", "four", "-2", "2.5"):
        with pytest.raises(BadInput, match=f"{JOBS_VARIABLE}='{bad}' is not a whole number"):
            jobs_from_environ({JOBS_VARIABLE: bad})


def test_a_bad_pool_size_is_bad_input_exit_2(templates_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "sync", "caldav", str(templates_dir) + "/hybrid-hypertrophy.yaml",
            "--url", "http://127.0.0.1:9/dav/", "--from", "2026-11-30",
        ],
        env={JOBS_VARIABLE: "many"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        f"calsync: {JOBS_VARIABLE}='many' is not a whole number from 1 to 16\n"
    )
