"""In-process fake of the intervals.icu API (events and athletes), driven through `requests`.

Written from the OpenAPI document of intervals.icu (https://intervals.icu/api/v1/docs;
the November 2025 copy kept as `openapi-spec.json` in github.com/eddmann/intervals-icu-mcp):

* security scheme `APIKey`: HTTP Basic, "Username is API_KEY, Password is your API key";
  athlete id `0` is the key's owner (intervals.icu API guide);
* `GET /api/v1/athlete/{id}` (getAthlete): the athlete, with `id` and `timezone`;
* `GET /api/v1/athlete/{id}/events{format}` (listEvents): `oldest` and `newest` are local
  dates, `newest` inclusive; `category` a comma-separated list; `limit`;
* `POST /api/v1/athlete/{id}/events` (createEvent), `POST .../events/bulk` (createMultipleEvents)
  with `upsert`: "Update events with matching external_id and created by the same OAuth
  application instead of creating new ones";
* `GET`/`PUT`/`DELETE /api/v1/athlete/{id}/events/{eventId}` (showEvent, updateEvent, deleteEvent);
* `PUT /api/v1/athlete/{id}/events/bulk-delete` (deleteEventsBulk): by `id` or `external_id`
  ("If external_id is supplied then the event must have been created by the calling OAuth
  application ... Events that do not exist are ignored"), answering `{"eventsDeleted": n}`.

Where the document is silent, this server's choices (each a pessimistic reading, so
calsync is tested against the harder case):

* A wrong or missing API key: 401 `{"status": 401, "error": "Unauthorized"}`. Another
  athlete's id: 403. An event id that does not exist: 404.
* A personal API key is no OAuth application: upsert and delete by external_id never
  match anything for it (users report external_id operations refused with API keys).
* `start_date_local` must be a local date-time without an offset (else 422); `category`
  is required on create (else 422). `end_date_local` is derived from `moving_time`.
* The server rewrites `moving_time` from workout steps it finds in the description
  (lines like "- 10m 60%"), as the intervals.icu editor does for structured workouts.
* PUT replaces the fields it is given and keeps the others.
* `listEvents` without `oldest` is refused (400): the real default is "today in the
  athlete's zone", and this server has no today (tests pin their dates).
* Rate limit (intervals.icu's forum: about 10 requests a second per address, with a short
  burst): a token bucket of `burst` requests refilled at `rate` a second; past it, 429 with
  `Retry-After: 1`. Its clock is `clock()`, which tests advance when calsync "sleeps".
* Answers are `application/json`; the JSON error body is `{"status": n, "error": text}`.

Faults: `inject(Fault(...))` for the next matching requests, `fail_at(n, Fault(...))` for
the n-th request from now: an HTTP status (with Retry-After), or a dropped connection
with the request applied (`apply=True`: the answer is lost) or not (the request is lost).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]
API_KEY = "k3y-for-tests-0123456789abcdef"  # a secret: no output of calsync may contain it
ATHLETE_ID = "i424242"
STEP = re.compile(r"^\s*-\s.*?\b(\d+)m\b", re.MULTILINE)


@dataclass
class Fault:
    """A failure for upcoming requests: `match` is a regex searched in "METHOD path"."""

    status: int = 503
    retry_after: float | None = None
    match: str | None = None
    drop: bool = False  # close the connection without an answer
    apply: bool = True  # with drop: the request took effect first (the answer is lost)
    times: int = 1
    message: str = "Service unavailable"  # the answer's {"error": ...}

    def matches(self, method: str, path: str) -> bool:
        return self.match is None or re.search(self.match, f"{method} {path}") is not None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reply = Reply(status, {"status": status, "error": message}, headers or {})


@dataclass
class Athlete:
    id: str
    name: str
    timezone: str | None
    events: dict[int, JSON] = field(default_factory=dict)


class FakeIntervals:
    """The server; use as a context manager. `root_url` is what CALSYNC_INTERVALS_ENDPOINT takes."""

    def __init__(
        self,
        api_key: str = API_KEY,
        timezone: str | None = "Europe/Brussels",
        rate: float = 10.0,
        burst: float = 20.0,
    ) -> None:
        self.api_key = api_key
        self.owner = Athlete(ATHLETE_ID, "Test Athlete", timezone)
        self.others = {"i777": Athlete("i777", "Someone else", "UTC")}
        self.rate, self.burst = rate, burst
        self._tokens = burst
        self._skew = 0.0  # seconds added to the real clock by `advance`
        self._last = self.clock()
        self._lock = threading.RLock()
        self._next_id = 1000
        self._faults: list[Fault] = []
        self._at: dict[int, Fault] = {}
        self.requests: list[tuple[str, str]] = []  # every request, in order
        self.writes = 0  # requests that changed something
        self.rate_limited = 0
        self._http = _Server(("127.0.0.1", 0), _Handler)
        self._http.fake = self
        # A short poll keeps `shutdown` quick: the fault sweep starts dozens of servers.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # --- lifecycle ---

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/"

    def __enter__(self) -> FakeIntervals:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.shutdown()
        self._http.server_close()

    # --- test controls ---

    def clock(self) -> float:
        return time.monotonic() + self._skew

    def advance(self, seconds: float) -> None:
        """What calsync's backoff would have waited, without waiting."""
        with self._lock:
            self._skew += seconds

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_at(self, n: int, fault: Fault) -> None:
        """The n-th request from now (0 = the next one) meets `fault`."""
        with self._lock:
            self._at[len(self.requests) + n] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._at.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.writes = 0
            self.rate_limited = 0
            self._at.clear()

    def calls(self, pattern: str) -> int:
        return sum(1 for m, p in self.requests if re.search(pattern, f"{m} {p}"))

    # --- the athlete, by hand (as on intervals.icu's own pages) ---

    def events(self) -> list[JSON]:
        with self._lock:
            return [copy.deepcopy(e) for _, e in sorted(self.owner.events.items())]

    def add_event(self, body: JSON) -> JSON:
        with self._lock:
            return copy.deepcopy(self._store(self.owner, body, oauth_client=None))

    def edit_event(self, event_id: int, **fields: Any) -> None:
        with self._lock:
            event = self.owner.events[event_id]
            event.update(fields)
            self._derive(event)

    def delete_event(self, event_id: int) -> None:
        with self._lock:
            del self.owner.events[event_id]

    # --- requests ---

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        path = parts.path.strip("/")
        with self._lock:
            index = len(self.requests)
            self.requests.append((method, path))
            fault = self._at.pop(index, None) or self._take_fault(method, path)
            if fault is not None and not fault.drop:
                reply = Reply(fault.status, {"status": fault.status, "error": fault.message})
                if fault.retry_after is not None:
                    reply.headers["Retry-After"] = f"{fault.retry_after:g}"
                return reply
            if fault is not None and not fault.apply:
                return Reply(0, drop=True)  # the request never arrived
            try:
                self._check_rate()
                self._check_auth(headers)
                reply = self._route(method, path, parse_qs(parts.query), body)
            except ApiError as err:
                reply = err.reply
            if fault is not None:
                return Reply(0, drop=True)  # done, and the answer is lost
            return reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def _check_rate(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            self.rate_limited += 1
            raise ApiError(429, "Too Many Requests", {"Retry-After": "1"})
        self._tokens -= 1

    def _check_auth(self, headers: dict[str, str]) -> None:
        expected = base64.b64encode(f"API_KEY:{self.api_key}".encode()).decode()
        if headers.get("authorization", "") != f"Basic {expected}":
            raise ApiError(401, "Unauthorized")

    def _athlete(self, athlete_id: str) -> Athlete:
        if athlete_id in ("0", self.owner.id):
            return self.owner
        raise ApiError(403, "Access denied")

    def _route(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Reply:
        found = re.fullmatch(r"api/v1/athlete/([^/]+)(/.*)?", path)
        if not found:
            raise ApiError(404, "Not Found")
        athlete = self._athlete(found.group(1))
        rest = found.group(2) or ""
        if rest == "" and method == "GET":
            return Reply(
                200, {"id": athlete.id, "name": athlete.name, "timezone": athlete.timezone}
            )
        if rest == "/events" and method == "GET":
            return Reply(200, self._list(athlete, query))
        if rest == "/events" and method == "POST":
            return self._write(200, self._create(athlete, _json(raw, dict), query))
        if rest == "/events/bulk" and method == "POST":
            upsert = _one(query, "upsert") == "true"
            items = _json(raw, list)
            made = [self._create(athlete, _object(item), query, upsert) for item in items]
            return self._write(200, made)
        if rest == "/events/bulk-delete" and method == "PUT":
            return self._write(200, {"eventsDeleted": self._bulk_delete(athlete, _json(raw, list))})
        one = re.fullmatch(r"/events/(\d+)", rest)
        if one:
            event_id = int(one.group(1))
            if event_id not in athlete.events:
                raise ApiError(404, f"Event {event_id} not found")
            if method == "GET":
                return Reply(200, copy.deepcopy(athlete.events[event_id]))
            if method == "PUT":
                event = athlete.events[event_id]
                changes = _json(raw, dict)
                for name in ("id", "athlete_id", "created_by_id", "oauth_client_id", "uid"):
                    changes.pop(name, None)
                _check_local(changes.get("start_date_local", event["start_date_local"]))
                event.update(copy.deepcopy(changes))
                self._derive(event)
                return self._write(200, copy.deepcopy(event))
            if method == "DELETE":
                del athlete.events[event_id]
                return self._write(200, {})
        raise ApiError(404, "Not Found")

    def _write(self, status: int, body: Any) -> Reply:
        self.writes += 1
        return Reply(status, copy.deepcopy(body))

    def _list(self, athlete: Athlete, query: dict[str, list[str]]) -> list[JSON]:
        oldest = _date(_one(query, "oldest"), "oldest")
        newest_text = _one(query, "newest")
        newest = _date(newest_text, "newest") if newest_text else oldest + timedelta(days=6)
        categories = {c for value in query.get("category", []) for c in value.split(",") if c}
        found = [
            copy.deepcopy(e)
            for e in athlete.events.values()
            if oldest <= datetime.fromisoformat(e["start_date_local"]).date() <= newest
            and (not categories or e["category"] in categories)
        ]
        found.sort(key=lambda e: (e["start_date_local"], e["id"]))
        limit = _one(query, "limit")
        return found[: int(limit)] if limit else found

    def _create(
        self, athlete: Athlete, body: JSON, query: dict[str, list[str]], upsert: bool = False
    ) -> JSON:
        if not body.get("category"):
            raise ApiError(422, "category is required")
        _check_local(body.get("start_date_local"))
        caller_app = None  # requests here carry an API key, which is no OAuth application
        if upsert and caller_app is not None and body.get("external_id"):
            for event in athlete.events.values():
                same = event["oauth_client_id"] == caller_app
                if same and event.get("external_id") == body["external_id"]:
                    event.update(copy.deepcopy(body))
                    self._derive(event)
                    return event
        return self._store(athlete, body, oauth_client=None)

    def _store(self, athlete: Athlete, body: JSON, oauth_client: int | None) -> JSON:
        self._next_id += 1
        event = {
            "id": self._next_id,
            "athlete_id": athlete.id,
            "uid": f"{self._next_id}@intervals.icu",
            "name": None,
            "description": None,
            "type": None,
            "moving_time": None,
            "external_id": None,
            **copy.deepcopy(body),
        }
        event.update(
            {"id": self._next_id, "created_by_id": athlete.id, "oauth_client_id": oauth_client}
        )
        self._derive(event)
        athlete.events[self._next_id] = event
        return event

    @staticmethod
    def _derive(event: JSON) -> None:
        steps = [int(m) for m in STEP.findall(event.get("description") or "")]
        if steps:
            event["moving_time"] = 60 * sum(steps)
        start = datetime.fromisoformat(event["start_date_local"])
        seconds = event.get("moving_time") or 0
        event["end_date_local"] = (start + timedelta(seconds=seconds)).isoformat()
        event["updated"] = datetime(2026, 11, 1).isoformat() + "Z"

    def _bulk_delete(self, athlete: Athlete, doomed: list[Any]) -> int:
        deleted = 0
        for item in map(_object, doomed):
            if item.get("external_id"):
                continue  # only the calling OAuth application's events: none for an API key
            event_id = item.get("id")
            if isinstance(event_id, int) and event_id in athlete.events:
                del athlete.events[event_id]
                deleted += 1
        return deleted


def _json(raw: bytes, kind: type) -> Any:
    try:
        value = json.loads(raw or b"null")
    except ValueError:
        raise ApiError(400, "Invalid JSON") from None
    if not isinstance(value, kind):
        raise ApiError(400, f"Expected a JSON {kind.__name__}")
    return value


def _object(value: Any) -> JSON:
    if not isinstance(value, dict):
        raise ApiError(400, "Expected a JSON object")
    return value


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _date(value: str | None, name: str) -> date:
    if not value:
        raise ApiError(400, f"{name} is required by this test server")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"Invalid {name}: {value}") from None


def _check_local(value: Any) -> None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is not None:
        raise ApiError(422, f"start_date_local must be a local date-time, not {value!r}")


# --- HTTP plumbing ---------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeIntervals

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a cut-off run, a timed-out request, a test's end) is
        part of the job; its traceback would land in whatever stderr a test captures."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' pool reuses connections
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake.handle(self.command, self.path, headers, body)
        if reply.drop:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
