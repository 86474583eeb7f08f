"""Every wait bounded (issue 12, item 4): Retry-After is capped, a request and a run have
deadlines, and passing one is one clear line, exit 1.

What was seen: `Retry-After: 3600` (a Google 429, an inner-batch 429, a CalDAV 503) was
obeyed as given, and a server trickling one byte a second was never cut off. The
limits are environment variables (calsync/limits.py, the README); the tests set them
low so each case ends in seconds, and check that it ends within the limit set.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from calsync.errors import BadInput
from calsync.io import limits
from calsync.io.limits import Limits
from tests.fakegoogle import FakeGoogleCalendar, Fault
from tests.google_helpers import TEMPLATE, write_token

INSERT = r"^POST calendars/[^/]+/events$"


@pytest.fixture(autouse=True)
def a_fixed_date() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 11, 26, 8, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copyfile(TEMPLATE, tmp_path / "plan.yaml")
    write_token(tmp_path / "token.json")
    return tmp_path


def google(folder: Path, root: str, **limits_env: str) -> tuple[Result, float]:
    args = ["sync", "google", str(folder / "plan.yaml"), "--token", str(folder / "token.json")]
    args += ["--from", "2026-11-30", "--weeks", "2"]
    started = time.monotonic()
    result = CliRunner().invoke(cli, args, env={"CALSYNC_GOOGLE_ENDPOINT": root, **limits_env})
    return result, time.monotonic() - started


def test_a_google_retry_after_of_an_hour_is_capped(folder: Path, fake: FakeGoogleCalendar) -> None:
    fake.inject(Fault(429, retry_after=3600, times=100))
    result, took = google(folder, fake.root_url, CALSYNC_MAX_WAIT="0.2", CALSYNC_RUN_TIMEOUT="20")
    assert result.exit_code == 1
    assert result.stderr == "calsync: Google Calendar: HTTP 429 rateLimitExceeded\n"
    assert took < 6 * 0.2 + 5  # six attempts, five capped waits: nowhere near an hour
    assert len(fake.api_calls) == 6


def test_an_inner_batch_retry_after_of_an_hour_is_capped(
    folder: Path, fake: FakeGoogleCalendar
) -> None:
    fake.inject(Fault(429, retry_after=3600, times=1000, match=INSERT))
    result, took = google(folder, fake.root_url, CALSYNC_MAX_WAIT="0.2", CALSYNC_RUN_TIMEOUT="20")
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("  failed ")]
    assert len(failed) == 20 and all(
        line.endswith(": HTTP 429 rateLimitExceeded") for line in failed
    )
    assert took < 6 * 0.2 + 5


def test_a_wait_past_the_run_deadline_fails_at_once(folder: Path, fake: FakeGoogleCalendar) -> None:
    fake.inject(Fault(429, retry_after=3600, times=100))
    result, took = google(folder, fake.root_url, CALSYNC_MAX_WAIT="60", CALSYNC_RUN_TIMEOUT="2")
    assert result.exit_code == 1
    assert result.stderr == (
        "calsync: the run took longer than its deadline of 2 s and was stopped; the next run "
        "repairs what this one left (raise CALSYNC_RUN_TIMEOUT if it needs longer)\n"
    )
    assert took < 2 + 3  # it did not sleep the minute the wait limit allows


# --- a server that trickles its answer ----------------------------------------------


class Trickle:
    """Answers every request with headers promising 100 kB, then one byte every 50 ms."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.stopping = threading.Event()
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _serve(self) -> None:
        self.socket.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        self.requests += 1
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n{"
                )
                for _ in range(2000):  # bounded: 100 s at most, far past any test's limit
                    if self.stopping.wait(0.05):
                        return
                    connection.sendall(b" ")
            except OSError:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.socket.close()


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle()
    yield server
    server.stop()


def test_a_google_server_that_trickles_is_cut_off(folder: Path, trickle: Trickle) -> None:
    result, took = google(folder, trickle.root, CALSYNC_REQUEST_TIMEOUT="1")
    assert result.exit_code == 1
    assert result.stderr == (
        "calsync: Google Calendar did not finish answering within 1 s; stopped "
        "(raise CALSYNC_REQUEST_TIMEOUT for a slow server)\n"
    )
    assert took < 1 + 5
    assert trickle.requests == 1


def test_a_caldav_server_that_trickles_is_cut_off(
    folder: Path, trickle: Trickle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("DAV_PASSWORD", "secret")
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "sync", "caldav", str(folder / "plan.yaml"), "--url", trickle.root + "dav/",
            "--username", "me", "--password-env", "DAV_PASSWORD", "--from", "2026-11-30",
        ],
    )  # fmt: skip
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"calsync: the CalDAV server at {trickle.root.rstrip('/')} did not finish answering "
        "within 1 s; stopped (raise CALSYNC_REQUEST_TIMEOUT for a slow server)\n"
    )
    assert took < 1 + 5


class SlowDown:
    """A CalDAV server that answers every request 503 with Retry-After: 3600."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def handle_one_request(self) -> None:
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline or not self.parse_request():
                    return
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(503)
                self.send_header("Retry-After", "3600")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_caldav_retry_after_of_an_hour_is_capped(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SlowDown()
    try:
        monkeypatch.setenv("CALSYNC_MAX_WAIT", "0.2")
        monkeypatch.setenv("DAV_PASSWORD", "secret")
        started = time.monotonic()
        result = CliRunner().invoke(
            cli,
            [
                "sync", "caldav", str(folder / "plan.yaml"), "--url", server.root + "dav/",
                "--username", "me", "--password-env", "DAV_PASSWORD", "--from", "2026-11-30",
            ],
        )  # fmt: skip
        took = time.monotonic() - started
    finally:
        server.stop()
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"calsync: the CalDAV server at {server.root.rstrip('/')} keeps asking to slow down\n"
    )
    assert took < 4 * 0.2 + 5 and server.requests == 4


# --- the limits themselves -----------------------------------------------------------


def test_the_defaults_are_the_documented_ones() -> None:
    assert Limits.from_environ({}) == Limits(request=120, wait=60, run=1800)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for line in ("`CALSYNC_REQUEST_TIMEOUT` | 120", "`CALSYNC_MAX_WAIT` | 60"):
        assert line in readme
    assert "`CALSYNC_RUN_TIMEOUT` | 1800" in readme


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf", "nan"])
def test_a_bad_limit_is_bad_input_naming_the_variable(value: str) -> None:
    with pytest.raises(BadInput, match=f"CALSYNC_RUN_TIMEOUT='{value}' is not a number"):
        Limits.from_environ({"CALSYNC_RUN_TIMEOUT": value})


def test_a_run_inside_a_run_ends_with_the_outer_one() -> None:
    with limits.run(Limits(run=1)), limits.run(Limits(run=1000)):
        left = limits.remaining()
        assert left is not None and left <= 1
    assert limits.remaining() is None


def test_a_wait_is_capped_and_never_passes_the_run() -> None:
    with limits.run(Limits(wait=5, run=100)):
        assert limits.bounded_wait(3600) == 5
        assert limits.bounded_wait(1.5) == 1.5
    with (
        limits.run(Limits(wait=50, run=10)),
        pytest.raises(limits.DeadlineExceeded, match="deadline of 10 s"),
    ):
        limits.bounded_wait(30)


def test_a_request_inside_a_request_keeps_the_outer_deadline() -> None:
    with (
        limits.run(Limits(request=0.3, run=100)),
        pytest.raises(limits.DeadlineExceeded),
        limits.request("the outer server"),
    ):
        with limits.request("the inner server"):
            pass  # finishes at once: the outer alarm must still fire
        time.sleep(5)
