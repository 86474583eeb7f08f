"""In-process fake of the Google Calendar API v3, driven by the real ``googleapiclient``.

The server speaks plain HTTP on 127.0.0.1 (free port) from a daemon thread and
implements the subset of Calendar v3 a sync client uses, following these pages:

* https://developers.google.com/calendar/api/v3/reference/events/list
  (timeMin/timeMax, privateExtendedProperty/sharedExtendedProperty, showDeleted,
  singleEvents, orderBy, maxResults default 250 / cap 2500, nextPageToken,
  nextSyncToken; syncToken cannot be combined with iCalUID, orderBy,
  privateExtendedProperty, q, sharedExtendedProperty, timeMin, timeMax, updatedMin)
* https://developers.google.com/calendar/api/v3/reference/events/insert
* https://developers.google.com/calendar/api/v3/reference/events/patch
* https://developers.google.com/calendar/api/v3/reference/events/update
* https://developers.google.com/calendar/api/v3/reference/events/delete
* https://developers.google.com/calendar/api/v3/reference/freebusy/query
* https://developers.google.com/calendar/api/v3/reference/calendarList/list
* https://developers.google.com/calendar/api/v3/reference/calendars/insert
* https://developers.google.com/calendar/api/v3/reference/calendars/delete
* https://developers.google.com/calendar/api/guides/sync
  (incremental sync with syncToken; expired token -> 410 GONE, full sync required)
* https://developers.google.com/calendar/api/guides/batch
  (multipart/mixed, parts of type application/http, at most 50 calls per batch)
* https://developers.google.com/calendar/api/guides/errors
  (JSON error shape; 403 rateLimitExceeded/userRateLimitExceeded, 429, 5xx backendError,
  409 duplicate, 410 deleted/fullSyncRequired, 412 conditionNotMet)
* https://developers.google.com/calendar/api/concepts/events-calendars
  (event ids: base32hex characters a-v and 0-9, length 5..1024, unique per calendar;
  a duplicate id -> 409 "duplicate")
* https://developers.google.com/calendar/api/guides/extended-properties
  (patch merges private/shared properties key by key; a null value deletes a key)

URL layout. The bundled discovery document has rootUrl ``https://www.googleapis.com/``,
servicePath ``calendar/v3/`` and batchPath ``batch/calendar/v3``. When
``client_options={"api_endpoint": root_url}`` is passed to ``build()`` the endpoint
*replaces* rootUrl+servicePath, so requests arrive as ``/calendars/primary/events``;
requests with the real ``/calendar/v3/`` prefix are accepted too. ``new_batch_http_request()``
ignores api_endpoint (it always targets googleapis.com), so batches must be built with
``BatchHttpRequest(batch_uri=server.batch_uri)``.

Deliberate simplifications: recurring events are not expanded, ``fields`` (partial
responses) is ignored, and only one user ("owner") exists, who owns every calendar.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from email import message_from_bytes, message_from_string
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

JSON = dict[str, Any]
Query = dict[str, list[str]]

API_PREFIX = ("calendar", "v3")
BATCH_PATH = "batch/calendar/v3"
MAX_BATCH_PARTS = 50
DEFAULT_PAGE_SIZE = 250
MAX_PAGE_SIZE = 2500
CALENDAR_LIST_PAGE_SIZE = 100
CALENDAR_LIST_MAX_PAGE_SIZE = 250
EVENT_ID_RE = re.compile(r"[a-v0-9]{5,1024}")
# Sync tokens must not be mixed with these (events.list reference, syncToken parameter).
SYNC_INCOMPATIBLE = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
# Server-managed fields: clients may echo them back from a GET, but cannot set them.
READ_ONLY_EVENT_FIELDS = ("kind", "etag", "id", "created", "updated", "htmlLink", "creator")
USAGE_LIMIT_REASONS = {
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "dailyLimitExceeded",
    "quotaExceeded",
}
DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("notFound", "Not Found"),
    409: ("duplicate", "The requested identifier already exists."),
    410: ("deleted", "Resource has been deleted"),
    412: ("conditionNotMet", "Precondition Failed"),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    503: ("backendError", "The service is currently unavailable."),
}


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answered in Google's JSON error shape."""

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        message: str | None = None,
        domain: str | None = None,
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        default_reason, default_message = DEFAULT_ERRORS.get(status, ("backendError", "Error"))
        self.status = status
        self.reason = reason or default_reason
        self.message = message or default_message
        self.domain = domain or ("usageLimits" if self.reason in USAGE_LIMIT_REASONS else "global")
        self.location = location
        self.headers = headers or {}
        super().__init__(f"{status} {self.reason}: {self.message}")

    def body(self) -> JSON:
        detail: JSON = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location:
            detail["locationType"] = "header" if self.location[0].isupper() else "parameter"
            detail["location"] = self.location
        return {"error": {"code": self.status, "message": self.message, "errors": [detail]}}

    def reply(self) -> Reply:
        return Reply(self.status, self.body(), dict(self.headers))


@dataclass
class Fault:
    """A failure to apply to upcoming API calls (see ``inject`` and ``fail_at``).

    ``match`` selects calls: None = any call, a str is a regex searched in
    ``"METHOD path"`` (e.g. ``"^POST calendars/[^/]+/events$"``), or a callable
    ``(method, path) -> bool``. Paths have no ``calendar/v3/`` prefix and no query.
    ``drop`` closes the connection without an answer; ``apply`` says whether the call
    is executed first (answer lost) or not at all (request lost).
    ``times`` is how many matching calls the fault hits.
    """

    status: int = 503
    reason: str | None = None
    message: str | None = None
    retry_after: float | None = None
    match: str | Callable[[str, str], bool] | None = None
    drop: bool = False
    apply: bool = True
    times: int = 1
    domain: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(method, path))
        return re.search(self.match, f"{method} {path}") is not None

    def reply(self) -> Reply:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            seconds = self.retry_after
            headers["Retry-After"] = str(int(seconds)) if seconds == int(seconds) else str(seconds)
        error = ApiError(self.status, self.reason, self.message, self.domain, headers=headers)
        return error.reply()


@dataclass
class Reply:
    """The outcome of one API call (also of one inner batch call)."""

    status: int
    body: JSON | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    raw: bytes | None = None  # pre-encoded non-JSON body (batch answers)


# --------------------------------------------------------------------------- storage


@dataclass
class _EventRecord:
    body: JSON
    idx: int  # creation order: gives the "unspecified, stable order" of events.list
    seq: int  # global change counter at the last modification: drives sync tokens
    updated_at: datetime


@dataclass
class _Calendar:
    id: str
    summary: str
    time_zone: str
    description: str = ""
    primary: bool = False
    etag: str = '"0"'
    events: dict[str, _EventRecord] = field(default_factory=dict)
    token_generation: int = 0  # raised to expire this calendar's sync tokens

    def resource(self) -> JSON:
        return {
            "kind": "calendar#calendar",
            "etag": self.etag,
            "id": self.id,
            "summary": self.summary,
            "description": self.description,
            "timeZone": self.time_zone,
        }

    def list_entry(self) -> JSON:
        entry = self.resource() | {
            "kind": "calendar#calendarListEntry",
            "accessRole": "owner",
            "selected": True,
            "defaultReminders": [],
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
        }
        if self.primary:
            entry["primary"] = True
        return entry


# --------------------------------------------------------------------------- time helpers


def _parse_rfc3339(value: str, location: str) -> datetime:
    """Parse a query timestamp; the API insists on an explicit offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(
            400, "badRequest", f"Bad Request: invalid {location}", location=location
        ) from None
    if parsed.tzinfo is None:
        raise ApiError(400, "badRequest", f"{location} needs a time zone offset", location=location)
    return parsed


def _zone(name: str, location: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, "invalid", f"Invalid time zone definition for {location}.") from None


def _event_point(body: JSON, which: str, calendar_tz: str) -> datetime:
    """Absolute instant of an event's start/end; all-day dates use the calendar's zone."""
    point = body.get(which)
    if not isinstance(point, dict) or not ("dateTime" in point or "date" in point):
        raise ApiError(400, "required", f"Missing {which} time.")
    try:
        if "dateTime" in point:
            parsed = datetime.fromisoformat(point["dateTime"])
            if parsed.tzinfo is None:
                zone_name = point.get("timeZone")
                if not zone_name:
                    raise ApiError(400, "required", f"Missing time zone definition for {which}.")
                parsed = parsed.replace(tzinfo=_zone(zone_name, which))
            return parsed
        day = date.fromisoformat(point["date"])
    except (TypeError, ValueError):
        raise ApiError(400, "invalid", f"Invalid {which} time.") from None
    return datetime.combine(day, dtime(), _zone(point.get("timeZone") or calendar_tz, which))


def _event_bounds(body: JSON, calendar_tz: str) -> tuple[datetime, datetime]:
    start = _event_point(body, "start", calendar_tz)
    end = _event_point(body, "end", calendar_tz)
    if end < start:
        raise ApiError(
            400, "timeRangeEmpty", "The specified time range is empty.", "calendar", "end"
        )
    return start, end


def _utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------- token helpers


def _encode_token(payload: JSON) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> JSON | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _query_fingerprint(query: Query) -> str:
    """Ties a page token to the query that produced it, like the real API does."""
    relevant = sorted((k, v) for k, v in query.items() if k not in ("pageToken", "maxResults"))
    return hashlib.sha1(json.dumps(relevant).encode()).hexdigest()[:12]


def _new_event_id() -> str:
    # 26 base32hex characters, i.e. a UUID in the alphabet the API requires.
    return base64.b32hexencode(uuid.uuid4().bytes).decode().lower().rstrip("=")


# --------------------------------------------------------------------------- query helpers


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _flag(query: Query, name: str) -> bool:
    return (_one(query, name) or "false").lower() == "true"


def _page_size(query: Query, default: int, cap: int) -> int:
    raw = _one(query, "maxResults")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"Invalid value '{raw}'.", location="maxResults") from None
    if size < 1:
        raise ApiError(400, "invalid", f"Invalid value '{raw}'.", location="maxResults")
    return min(size, cap)


def _property_filters(query: Query, name: str) -> list[tuple[str, str]]:
    filters = []
    for constraint in query.get(name, []):
        key, sep, value = constraint.partition("=")
        if not sep or not key:
            raise ApiError(400, "invalid", f"Invalid {name} '{constraint}'.", location=name)
        filters.append((key, value))
    return filters


def _read_json(body: bytes) -> JSON:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "parseError", "Parse Error") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return parsed


def _path_segments(path: str) -> list[str]:
    # Split before unquoting: calendar ids contain '@' and may contain '%2F'.
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    if tuple(segments[:2]) == API_PREFIX:
        segments = segments[2:]
    return segments


# --------------------------------------------------------------------------- partial response


def _parse_fields(spec: str) -> JSON:
    """The `fields` parameter (performance guide, "Partial response") as a tree:
    `a,b/c,d(e,f)` -> {"a": {}, "b": {"c": {}}, "d": {"e": {}, "f": {}}}; {} selects all."""
    tree: JSON = {}
    stack: list[JSON] = [tree]
    path: list[JSON] = []  # the nodes a/b/c walked so far in the current selector
    name = ""

    def close_name() -> None:
        nonlocal name
        if name:
            node = (path[-1] if path else stack[-1]).setdefault(name.strip(), {})
            path.append(node)
        name = ""

    for char in spec + ",":
        if char == "/":
            close_name()
        elif char == "(":
            close_name()
            if not path:
                raise ApiError(400, "invalidParameter", f"Invalid field selection {spec}")
            stack.append(path[-1])
            path = []
        elif char in ",)":
            close_name()
            path = []
            if char == ")":
                if len(stack) == 1:
                    raise ApiError(400, "invalidParameter", f"Invalid field selection {spec}")
                stack.pop()
        else:
            name += char
    if len(stack) != 1:
        raise ApiError(400, "invalidParameter", f"Invalid field selection {spec}")
    return tree


def _select(value: Any, tree: JSON) -> Any:
    """Keep only the selected fields of `value` (lists: of each element)."""
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [_select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: _select(value[key], sub) for key, sub in tree.items() if key in value}


# --------------------------------------------------------------------------- event logic


def _merge_patch(stored: JSON, patch: JSON) -> None:
    """Patch semantics: given top-level fields replace, extended properties merge per key."""
    for key, value in patch.items():
        if key in READ_ONLY_EVENT_FIELDS:
            continue
        if key == "extendedProperties" and isinstance(value, dict):
            _merge_extended_properties(stored, value)
        elif value is None:
            stored.pop(key, None)
        else:
            stored[key] = copy.deepcopy(value)


def _merge_extended_properties(stored: JSON, patch: JSON) -> None:
    properties = stored.setdefault("extendedProperties", {})
    for scope in ("private", "shared"):
        if scope not in patch:
            continue
        current = properties.setdefault(scope, {})
        for key, value in (patch[scope] or {}).items():
            # The extended-properties guide deletes a key by patching it to null.
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value


def _has_properties(body: JSON, scope: str, wanted: list[tuple[str, str]]) -> bool:
    have = (body.get("extendedProperties") or {}).get(scope) or {}
    return all(have.get(key) == value for key, value in wanted)


def _with_properties(scope: str, wanted: list[tuple[str, str]]) -> Callable[[_EventRecord], bool]:
    return lambda record: _has_properties(record.body, scope, wanted)


def _matches_text(body: JSON, text: str) -> bool:
    haystack = " ".join(str(body.get(f, "")) for f in ("summary", "description", "location"))
    return text.lower() in haystack.lower()


def _timing_changed(before: JSON, after: JSON) -> bool:
    return any(before.get(f) != after.get(f) for f in ("start", "end", "recurrence"))


# --------------------------------------------------------------------------- the fake


class FakeGoogleCalendar:
    """Google Calendar v3 look-alike serving on ``root_url`` until ``stop()``."""

    def __init__(
        self,
        owner: str = "athlete@example.com",
        time_zone: str = "UTC",
        latency: float = 0.0,
    ) -> None:
        self.owner = owner
        self.time_zone = time_zone
        self.latency = latency
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.round_trips = 0
        self.api_calls: list[tuple[str, str]] = []
        self.api_queries: list[Query] = []  # the query of each call in api_calls
        self.writes = 0
        # Body bytes of every HTTP request and answer (batch envelopes whole), as a
        # client downloads them; headers are not counted.
        self.bytes_up = 0
        self.bytes_down = 0
        self.auth_headers: list[str | None] = []
        self._lock = threading.RLock()
        self._faults: list[list[Any]] = []  # [Fault, remaining hits]
        self._scheduled: dict[int, Fault] = {}
        self._seq = 0
        self._token_generation = 0
        self._next_idx = 0
        self._calendars: dict[str, _Calendar] = {}
        self._add_calendar(_Calendar(owner, owner, time_zone, primary=True))
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.01,), name="fakegoogle", daemon=True
        )
        self._thread.start()
        port = self._httpd.server_address[1]
        self.root_url = f"http://127.0.0.1:{port}/"
        self.batch_uri = self.root_url + BATCH_PATH

    # ----------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGoogleCalendar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- instrumentation

    @property
    def authorized(self) -> bool:
        """True when every HTTP request so far carried an ``Authorization: Bearer`` header."""
        return bool(self.auth_headers) and all(
            (h or "").startswith("Bearer ") for h in self.auth_headers
        )

    def reset_counters(self) -> None:
        with self._lock:
            self.round_trips = 0
            self.api_calls = []
            self.api_queries = []
            self.writes = 0
            self.bytes_up = self.bytes_down = 0
            self.auth_headers = []

    def inject(self, fault: Fault) -> None:
        """Queue ``fault`` for the next ``fault.times`` API calls it matches."""
        with self._lock:
            self._faults.append([fault, fault.times])

    def fail_at(self, n: int, fault: Fault) -> None:
        """Hit the n-th API call (1-based, counted like ``api_calls``) with ``fault``.

        ``fault.match`` is ignored for call n; with ``times > 1`` the remaining hits
        are queued for the following matching calls (useful to beat httplib2's
        silent resend of a dropped request).
        """
        with self._lock:
            self._scheduled[n] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._scheduled.clear()

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Invalidate the sync tokens handed out so far (next use -> 410 fullSyncRequired):
        every calendar's, or only those of `calendar_id`."""
        with self._lock:
            if calendar_id is None:
                self._token_generation += 1
            else:
                self._calendar(calendar_id).token_generation += 1

    # ----------------------------------------------------------------- direct data access

    def add_calendar(
        self, summary: str, time_zone: str | None = None, description: str | None = None
    ) -> JSON:
        with self._lock:
            body = {"summary": summary, "timeZone": time_zone, "description": description}
            return self._insert_calendar(body)

    def add_event(self, calendar_id: str, body: JSON) -> JSON:
        """Seed an event without counting it; raises ApiError like the API would."""
        with self._lock:
            return copy.deepcopy(self._insert_event(self._calendar(calendar_id), body))

    def events(self, calendar_id: str, include_cancelled: bool = False) -> list[JSON]:
        with self._lock:
            records = sorted(self._calendar(calendar_id).events.values(), key=lambda r: r.idx)
            return [
                copy.deepcopy(r.body)
                for r in records
                if include_cancelled or r.body["status"] != "cancelled"
            ]

    def event(self, calendar_id: str, event_id: str) -> JSON | None:
        with self._lock:
            record = self._calendar(calendar_id).events.get(event_id)
            return copy.deepcopy(record.body) if record else None

    def calendar_ids(self) -> list[str]:
        with self._lock:
            return list(self._calendars)

    # ----------------------------------------------------------------- HTTP entry points

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """One HTTP round trip: either a batch envelope or a single API call."""
        with self._lock:
            self.round_trips += 1
            self.bytes_up += len(body)
            self.auth_headers.append(headers.get("authorization"))
        if self.latency:
            time.sleep(self.latency)
        path = urlsplit(target).path.strip("/")
        if method == "POST" and path in (BATCH_PATH, "batch"):
            return self._handle_batch(headers, body)
        return self.api_call(method, target, headers, body)

    def api_call(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Record, fault-check and execute one API call (possibly inside a batch)."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        method, body = self._method_override(method, headers, body, query)
        segments = _path_segments(split.path)
        path = "/".join(segments)
        with self._lock:
            self.api_calls.append((method, path))
            self.api_queries.append(query)
            fault = self._take_fault(method, path)
            if fault is not None and not fault.drop:
                return fault.reply()
            if fault is not None and not fault.apply:
                return Reply(0, drop=True)
            try:
                reply = self._dispatch(method, segments, query, headers, body)
                fields = _one(query, "fields")
                if fields and reply.body is not None and reply.status < 300:
                    reply.body = _select(reply.body, _parse_fields(fields))
            except ApiError as error:
                reply = error.reply()
            # A drop fault that applies the call loses only the answer.
            reply.drop = fault is not None
            return reply

    @staticmethod
    def _method_override(
        method: str, headers: dict[str, str], body: bytes, query: Query
    ) -> tuple[str, bytes]:
        # googleapiclient turns GETs with URIs over 2048 chars into form-encoded POSTs.
        override = headers.get("x-http-method-override")
        if method != "POST" or not override:
            return method, body
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            for key, values in parse_qs(body.decode(), keep_blank_values=True).items():
                query.setdefault(key, []).extend(values)
            body = b""
        return override.upper(), body

    def _take_fault(self, method: str, path: str) -> Fault | None:
        scheduled = self._scheduled.pop(len(self.api_calls), None)
        if scheduled is not None:
            if scheduled.times > 1:
                self._faults.insert(0, [scheduled, scheduled.times - 1])
            return scheduled
        for entry in self._faults:
            fault: Fault = entry[0]
            remaining: int = entry[1]
            if fault.matches(method, path):
                entry[1] = remaining - 1
                if entry[1] <= 0:
                    self._faults.remove(entry)
                return fault
        return None

    # ----------------------------------------------------------------- routing

    def _dispatch(
        self, method: str, segments: list[str], query: Query, headers: dict[str, str], body: bytes
    ) -> Reply:
        match segments:
            case ["users", "me", "calendarList"] if method == "GET":
                return Reply(200, self._calendar_list(query))
            case ["users", "me", "calendarList", calendar_id] if method == "GET":
                return Reply(200, self._calendar(calendar_id).list_entry())
            case ["calendars"] if method == "POST":
                return self._write(200, self._insert_calendar(_read_json(body)))
            case ["calendars", calendar_id] if method == "GET":
                return Reply(200, self._calendar(calendar_id).resource())
            case ["calendars", calendar_id] if method == "DELETE":
                self._delete_calendar(calendar_id)
                return self._write(204, None)
            case ["calendars", calendar_id, "events"] if method == "GET":
                return Reply(200, self._list_events(self._calendar(calendar_id), query))
            case ["calendars", calendar_id, "events"] if method == "POST":
                calendar = self._calendar(calendar_id)
                return self._write(200, self._insert_event(calendar, _read_json(body)))
            case ["calendars", calendar_id, "events", event_id]:
                return self._event_call(method, calendar_id, event_id, headers, body)
            case ["freeBusy"] if method == "POST":
                return Reply(200, self._free_busy(_read_json(body)))
        path = "/".join(segments)
        raise ApiError(400, "notImplemented", f"fakegoogle does not implement {method} {path}")

    def _event_call(
        self, method: str, calendar_id: str, event_id: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        calendar = self._calendar(calendar_id)
        record = calendar.events.get(event_id)
        if record is None:
            raise ApiError(404)
        if method == "GET":
            if headers.get("if-none-match") == record.body["etag"]:
                return Reply(304, None, {"ETag": record.body["etag"]})
            return Reply(200, copy.deepcopy(record.body))
        if method not in ("PATCH", "PUT", "DELETE"):
            raise ApiError(400, "notImplemented", f"fakegoogle does not implement {method}")
        self._check_if_match(headers, record)
        if method == "DELETE":
            self._delete_event(record)
            return self._write(204, None)
        new_body = _read_json(body)
        if method == "PATCH":
            return self._write(200, self._patch_event(calendar, record, new_body))
        return self._write(200, self._update_event(calendar, record, new_body))

    def _write(self, status: int, body: JSON | None) -> Reply:
        self.writes += 1
        return Reply(status, copy.deepcopy(body) if body is not None else None)

    @staticmethod
    def _check_if_match(headers: dict[str, str], record: _EventRecord) -> None:
        expected = headers.get("if-match")
        if expected is not None and expected not in ("*", record.body["etag"]):
            raise ApiError(412, location="If-Match")

    # ----------------------------------------------------------------- calendars

    def _calendar(self, calendar_id: str) -> _Calendar:
        resolved = self.owner if calendar_id == "primary" else calendar_id
        calendar = self._calendars.get(resolved)
        if calendar is None:
            raise ApiError(404)
        return calendar

    def _add_calendar(self, calendar: _Calendar) -> _Calendar:
        self._seq += 1
        calendar.etag = f'"{self._seq}"'
        self._calendars[calendar.id] = calendar
        return calendar

    def _insert_calendar(self, body: JSON) -> JSON:
        summary = body.get("summary")
        if not summary:
            raise ApiError(400, "required", "Missing title.", location="summary")
        time_zone = body.get("timeZone") or self.time_zone
        _zone(time_zone, "calendar")
        calendar_id = f"c_{secrets.token_hex(16)}@group.calendar.google.com"
        calendar = _Calendar(calendar_id, summary, time_zone, body.get("description") or "")
        return self._add_calendar(calendar).resource()

    def _delete_calendar(self, calendar_id: str) -> None:
        """calendars.delete: a secondary calendar goes with its events; the primary cannot
        be deleted (that is calendars.clear)."""
        calendar = self._calendar(calendar_id)
        if calendar.primary:
            raise ApiError(400, "cannotDeletePrimaryCalendar", "Cannot delete primary calendar.")
        del self._calendars[calendar.id]
        self._seq += 1

    def _calendar_list(self, query: Query) -> JSON:
        size = _page_size(query, CALENDAR_LIST_PAGE_SIZE, CALENDAR_LIST_MAX_PAGE_SIZE)
        token = _one(query, "pageToken")
        offset = int((_decode_token(token) or {}).get("o", 0)) if token else 0
        entries = [c.list_entry() for c in self._calendars.values()]
        page: JSON = {
            "kind": "calendar#calendarList",
            "etag": f'"{self._seq}"',
            "items": entries[offset : offset + size],
        }
        if offset + size < len(entries):
            page["nextPageToken"] = _encode_token({"o": offset + size})
        else:
            page["nextSyncToken"] = _encode_token({"g": self._token_generation, "s": self._seq})
        return page

    # ----------------------------------------------------------------- event writes

    def _touch(self, record: _EventRecord) -> None:
        """Every change gets a new etag, `updated` stamp and sync sequence number."""
        self._seq += 1
        record.seq = self._seq
        record.updated_at = self.clock()
        record.body["etag"] = f'"{3_000_000_000_000_000 + self._seq}"'
        record.body["updated"] = _utc_millis(record.updated_at)

    def _insert_event(self, calendar: _Calendar, body: JSON) -> JSON:
        event_id = body.get("id")
        if event_id is None:
            event_id = _new_event_id()
        elif not isinstance(event_id, str) or not EVENT_ID_RE.fullmatch(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.", location="id")
        elif event_id in calendar.events:
            # Also for cancelled events: a deleted id stays taken.
            raise ApiError(409)
        _event_bounds(body, calendar.time_zone)
        self._check_ical_uid(calendar, body.get("iCalUID"))
        stored = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY_EVENT_FIELDS}
        now = _utc_millis(self.clock())
        stored.update(self._server_fields(calendar, event_id, now))
        stored.setdefault("status", "confirmed")
        stored.setdefault("iCalUID", f"{event_id}@google.com")
        stored.setdefault("sequence", 0)
        stored.setdefault("eventType", "default")
        stored.setdefault("reminders", {"useDefault": True})
        self._next_idx += 1
        record = _EventRecord(stored, self._next_idx, 0, self.clock())
        calendar.events[event_id] = record
        self._touch(record)
        return record.body

    def _server_fields(self, calendar: _Calendar, event_id: str, created: str) -> JSON:
        eid = base64.urlsafe_b64encode(f"{event_id} {calendar.id}".encode()).decode().rstrip("=")
        return {
            "kind": "calendar#event",
            "id": event_id,
            "created": created,
            "htmlLink": f"https://www.google.com/calendar/event?eid={eid}",
            "creator": {"email": self.owner},
            "organizer": {"email": calendar.id, "self": True},
        }

    def _check_ical_uid(self, calendar: _Calendar, ical_uid: str | None) -> None:
        # events.insert refuses a second live event with the same iCalUID (import is for that).
        if ical_uid is None:
            return
        for record in calendar.events.values():
            if record.body.get("iCalUID") == ical_uid and record.body["status"] != "cancelled":
                raise ApiError(409)

    def _patch_event(self, calendar: _Calendar, record: _EventRecord, patch: JSON) -> JSON:
        new_body = copy.deepcopy(record.body)
        _merge_patch(new_body, patch)
        return self._replace_body(calendar, record, new_body)

    def _update_event(self, calendar: _Calendar, record: _EventRecord, body: JSON) -> JSON:
        kept = {k: record.body[k] for k in READ_ONLY_EVENT_FIELDS if k in record.body}
        new_body = {k: copy.deepcopy(v) for k, v in body.items() if k not in kept}
        new_body.update(copy.deepcopy(kept))
        new_body.setdefault("status", "confirmed")
        new_body.setdefault("iCalUID", record.body["iCalUID"])
        new_body.setdefault("organizer", record.body["organizer"])
        new_body.setdefault("sequence", record.body["sequence"])
        new_body.setdefault("eventType", "default")
        return self._replace_body(calendar, record, new_body)

    def _replace_body(self, calendar: _Calendar, record: _EventRecord, new_body: JSON) -> JSON:
        _event_bounds(new_body, calendar.time_zone)
        sequence = max(int(new_body.get("sequence") or 0), int(record.body["sequence"]))
        if _timing_changed(record.body, new_body):
            sequence += 1
        new_body["sequence"] = sequence
        record.body = new_body
        self._touch(record)
        return record.body

    def _delete_event(self, record: _EventRecord) -> None:
        if record.body["status"] == "cancelled":
            raise ApiError(410)
        record.body["status"] = "cancelled"
        self._touch(record)

    # ----------------------------------------------------------------- events.list

    def _list_events(self, calendar: _Calendar, query: Query) -> JSON:
        size = _page_size(query, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        since = self._sync_since(calendar, query)
        page_state = self._page_state(query)
        snapshot = int(page_state["s"]) if page_state else self._seq
        sort_key = self._sort_key(query, calendar)
        selected = self._select_events(calendar, query, since)
        if page_state:
            after = tuple(page_state["k"])
            selected = [r for r in selected if tuple(sort_key(r)) > after]
        selected.sort(key=sort_key)
        page = selected[:size]
        result = self._events_envelope(calendar, page)
        if len(selected) > size:
            key = list(sort_key(page[-1]))
            state = {"k": key, "s": snapshot, "h": _query_fingerprint(query)}
            result["nextPageToken"] = _encode_token(state)
        else:
            # Changes made while paging have seq > snapshot, so the next sync repeats them.
            token = {
                "g": self._token_generation,
                "cg": calendar.token_generation,
                "c": calendar.id,
                "s": snapshot,
            }
            result["nextSyncToken"] = _encode_token(token)
        return result

    def _events_envelope(self, calendar: _Calendar, page: list[_EventRecord]) -> JSON:
        return {
            "kind": "calendar#events",
            "etag": f'"{self._seq}"',
            "summary": calendar.summary,
            "description": calendar.description,
            "updated": _utc_millis(self.clock()),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": [copy.deepcopy(r.body) for r in page],
        }

    def _sync_since(self, calendar: _Calendar, query: Query) -> int | None:
        token = _one(query, "syncToken")
        if token is None:
            return None
        clashing = [name for name in SYNC_INCOMPATIBLE if name in query]
        # "deleted events will always be in the result set and it is not allowed to set
        # showDeleted to False" (events.list, syncToken).
        if (_one(query, "showDeleted") or "").lower() == "false":
            clashing.append("showDeleted=false")
        if clashing:
            raise ApiError(
                400,
                "invalid",
                f"Sync token cannot be combined with {', '.join(clashing)}.",
                location="syncToken",
            )
        state = _decode_token(token)
        valid = (
            state is not None
            and state.get("g") == self._token_generation
            and state.get("c") == calendar.id
            and state.get("cg") == calendar.token_generation
            and isinstance(state.get("s"), int)
            and state["s"] <= self._seq
        )
        if not valid or state is None:
            raise ApiError(
                410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
            )
        return int(state["s"])

    def _page_state(self, query: Query) -> JSON | None:
        token = _one(query, "pageToken")
        if token is None:
            return None
        state = _decode_token(token)
        if state is None or state.get("h") != _query_fingerprint(query):
            raise ApiError(400, "invalid", "Invalid page token value.", location="pageToken")
        return state

    def _sort_key(
        self, query: Query, calendar: _Calendar
    ) -> Callable[[_EventRecord], tuple[object, ...]]:
        order = _one(query, "orderBy")
        if order is None:
            return lambda r: (r.idx,)
        if order == "updated":
            return lambda r: (r.seq, r.idx)
        if order == "startTime" and _flag(query, "singleEvents"):
            tz = calendar.time_zone
            return lambda r: (_event_point(r.body, "start", tz).timestamp(), r.idx)
        raise ApiError(
            400,
            "badRequest",
            "The requested ordering is not available for the particular query.",
            location="orderBy",
        )

    def _select_events(
        self, calendar: _Calendar, query: Query, since: int | None
    ) -> list[_EventRecord]:
        predicates = self._list_predicates(calendar, query, since)
        return [r for r in calendar.events.values() if all(p(r) for p in predicates)]

    def _list_predicates(
        self, calendar: _Calendar, query: Query, since: int | None
    ) -> list[Callable[[_EventRecord], bool]]:
        predicates: list[Callable[[_EventRecord], bool]] = []
        if since is not None:
            # Incremental sync always reports deletions, whatever showDeleted says.
            predicates.append(lambda r: r.seq > since)
            return predicates
        updated_min = _one(query, "updatedMin")
        floor = _parse_rfc3339(updated_min, "updatedMin") if updated_min else None
        if floor is not None:
            predicates.append(lambda r: r.updated_at >= floor)
        if not _flag(query, "showDeleted") and floor is None:
            predicates.append(lambda r: r.body["status"] != "cancelled")
        predicates.extend(self._range_predicates(calendar, query))
        for scope, name in (
            ("private", "privateExtendedProperty"),
            ("shared", "sharedExtendedProperty"),
        ):
            wanted = _property_filters(query, name)
            if wanted:
                predicates.append(_with_properties(scope, wanted))
        ical_uid = _one(query, "iCalUID")
        if ical_uid is not None:
            predicates.append(lambda r: r.body.get("iCalUID") == ical_uid)
        text = _one(query, "q")
        if text:
            predicates.append(lambda r: _matches_text(r.body, text))
        return predicates

    def _range_predicates(
        self, calendar: _Calendar, query: Query
    ) -> list[Callable[[_EventRecord], bool]]:
        raw_min, raw_max = _one(query, "timeMin"), _one(query, "timeMax")
        low = _parse_rfc3339(raw_min, "timeMin") if raw_min else None
        high = _parse_rfc3339(raw_max, "timeMax") if raw_max else None
        if low and high and high <= low:
            raise ApiError(
                400, "timeRangeEmpty", "The specified time range is empty.", "calendar", "timeMax"
            )
        tz = calendar.time_zone
        predicates: list[Callable[[_EventRecord], bool]] = []
        # Bounds are exclusive: timeMin against the end, timeMax against the start.
        if low is not None:
            predicates.append(lambda r: _event_bounds(r.body, tz)[1] > low)
        if high is not None:
            predicates.append(lambda r: _event_bounds(r.body, tz)[0] < high)
        return predicates

    # ----------------------------------------------------------------- freeBusy

    def _free_busy(self, body: JSON) -> JSON:
        if not body.get("timeMin") or not body.get("timeMax"):
            raise ApiError(400, "required", "Missing timeMin or timeMax.")
        low = _parse_rfc3339(body["timeMin"], "timeMin")
        high = _parse_rfc3339(body["timeMax"], "timeMax")
        if high <= low:
            raise ApiError(
                400, "timeRangeEmpty", "The specified time range is empty.", "calendar", "timeMax"
            )
        calendars: JSON = {}
        for item in body.get("items") or []:
            calendar_id = item.get("id", "")
            calendars[calendar_id] = self._busy_for(calendar_id, low, high)
        return {
            "kind": "calendar#freeBusy",
            "timeMin": _utc_millis(low),
            "timeMax": _utc_millis(high),
            "calendars": calendars,
        }

    def _busy_for(self, calendar_id: str, low: datetime, high: datetime) -> JSON:
        try:
            calendar = self._calendar(calendar_id)
        except ApiError:
            return {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
        spans = sorted(
            (max(start, low), min(end, high))
            for start, end in self._busy_spans(calendar)
            if end > low and start < high
        )
        return {"busy": [{"start": _utc_z(s), "end": _utc_z(e)} for s, e in _merged(spans)]}

    @staticmethod
    def _busy_spans(calendar: _Calendar) -> Iterator[tuple[datetime, datetime]]:
        for record in calendar.events.values():
            body = record.body
            if body["status"] == "cancelled" or body.get("transparency") == "transparent":
                continue
            yield _event_bounds(body, calendar.time_zone)

    # ----------------------------------------------------------------- batch

    def _handle_batch(self, headers: dict[str, str], body: bytes) -> Reply:
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/mixed"):
            return ApiError(400, "badRequest", "Batch requests must be multipart/mixed.").reply()
        envelope = message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        parts = envelope.get_payload()
        if not isinstance(parts, list) or not parts:
            return ApiError(400, "badRequest", "Empty batch request.").reply()
        if len(parts) > MAX_BATCH_PARTS:
            message = f"A batch may contain at most {MAX_BATCH_PARTS} calls."
            return ApiError(400, "badRequest", message).reply()
        # Every inner call runs (and counts) even if one of them loses the whole answer.
        replies = [self._batch_part(part) for part in parts if isinstance(part, Message)]
        if any(reply.drop for reply in replies):
            return Reply(0, drop=True)
        answers = [
            _format_part(p.get("Content-ID", ""), r) for p, r in zip(parts, replies, strict=True)
        ]
        boundary = f"batch_{uuid.uuid4().hex}"
        text = "".join(f"--{boundary}\r\n{answer}\r\n" for answer in answers)
        text += f"--{boundary}--\r\n"
        content_type = f"multipart/mixed; boundary={boundary}"
        return Reply(200, None, {"Content-Type": content_type}, raw=text.encode())

    def _batch_part(self, part: Message) -> Reply:
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(part.get_payload())
        request_line, _, rest = text.lstrip("\r\n").partition("\n")
        pieces = request_line.strip().split(" ")
        if len(pieces) < 2:
            return ApiError(400, "badRequest", "Malformed batch part.").reply()
        inner = message_from_string(rest)
        inner_headers = {k.lower(): v for k, v in inner.items()}
        payload = inner.get_payload()
        inner_body = payload.encode() if isinstance(payload, str) else b""
        return self.api_call(pieces[0].upper(), pieces[1], inner_headers, inner_body)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _format_part(content_id: str, reply: Reply) -> str:
    # googleapiclient splits the inner answer at the first "\r\n\r\n", so at least
    # one header must precede the blank line even for bodiless answers.
    inner_id = content_id.strip()
    inner_id = f"<response-{inner_id[1:]}" if inner_id.startswith("<") else f"response-{inner_id}"
    payload = json.dumps(reply.body) if reply.body is not None else ""
    phrase = http.HTTPStatus(reply.status).phrase
    head = [
        f"HTTP/1.1 {reply.status} {phrase}",
        "Content-Type: application/json; charset=UTF-8",
        f"Content-Length: {len(payload.encode())}",
    ]
    head += [f"{k}: {v}" for k, v in reply.headers.items()]
    return (
        f"Content-Type: application/http\r\nContent-ID: {inner_id}\r\n\r\n"
        + "\r\n".join(head)
        + "\r\n\r\n"
        + payload
    )


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGoogleCalendar

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a cut-off run, a timed-out request, a test's end) is
        part of the job; its traceback would land in whatever stderr a test captures."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as httplib2 reuses connections; this also makes drops realistic.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms a round trip) on a fake that claims latency=0.
    disable_nagle_algorithm = True
    timeout = 60
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep pytest output clean

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake.handle_http(self.command, self.path, headers, body)
        if reply.drop:
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        headers = dict(reply.headers)
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is not None:
            payload = json.dumps(reply.body).encode()
            headers["Content-Type"] = "application/json; charset=UTF-8"
        else:
            payload = b""
        with self.server.fake._lock:
            self.server.fake.bytes_down += len(payload)
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def build_service(server: FakeGoogleCalendar, token: str = "test-token", timeout: float = 5) -> Any:
    """A real googleapiclient Calendar service pointed at ``server``."""
    import google_auth_httplib2
    import httplib2
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    authed = google_auth_httplib2.AuthorizedHttp(
        Credentials(token=token),  # type: ignore[no-untyped-call]  # google-auth's constructor has no hints
        http=httplib2.Http(timeout=timeout),
    )
    return build(
        "calendar",
        "v3",
        http=authed,
        static_discovery=True,
        client_options={"api_endpoint": server.root_url},
    )


# --------------------------------------------------------------------------- a token file

# What `calsync auth google` saves, valid for decades: a run never tries to refresh it.
TOKEN = {
    "token": "ya29.test-access-token",
    "refresh_token": "1//test-refresh-token",
    "client_id": "test-client.apps.googleusercontent.com",
    "client_secret": "GOCSPX-test-client-secret",
    "expiry": "2099-01-01T00:00:00Z",
}


def write_token(path: Path, **changes: Any) -> Path:
    """A token file calsync accepts for this server (fields in `changes` replaced)."""
    path.write_text(json.dumps(TOKEN | changes), encoding="utf-8")
    return path
