"""The intervals.icu backend: the plan's sessions as planned workouts on the athlete's calendar.

Imported only by the intervals commands. It follows the intervals.icu API as its
OpenAPI document describes it (https://intervals.icu/api/v1/docs):

- HTTP Basic auth, user name `API_KEY`, the athlete's API key as the password;
  athlete id `0` is the key's owner;
- `GET /api/v1/athlete/{id}`: the athlete, with the `timezone` that every
  `start_date_local` is written in;
- `GET /api/v1/athlete/{id}/events?oldest=&newest=&category=WORKOUT` (local dates,
  `newest` inclusive), `POST .../events/bulk?upsert=true`, `GET`/`PUT .../events/{id}`,
  `PUT .../events/bulk-delete` (by id; ids that no longer exist are ignored).

The documents do not settle idempotency: upsert by `external_id` only matches events
"created by the same OAuth application", which a personal API key is not. So calsync
does not rely on it. Its workouts carry `external_id = calsync:KEY` and a last line in
the description, `calsync: KEY HASH SEEN`, with the fingerprint of the plan's version
(HASH, what the engine compares with the plan) and of the fields written (SEEN: name,
description, start, type, category). A workout whose fields no longer give SEEN was
edited by the athlete. A bulk create whose answer was lost is never simply resent:
the range is listed again first, and only the sessions still missing are sent.

intervals.icu deletes events outright, so (as for CalDAV) a small state file remembers
which workouts calsync made: one that is gone was deleted by the athlete and is not
recreated (unless --restore-deleted). Losing the file is safe: deleted sessions come
back, nothing is duplicated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from calsync.core.content import EventContent
from calsync.core.model import Busy, Kind
from calsync.errors import AuthRefused, BadInput, Rejected, TargetError, Unreachable, for_status
from calsync.io import limits
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.sync.run import quiet, sync_plan
from calsync.targets import secrets as secret_sources
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

if TYPE_CHECKING:
    from calsync.core.model import Plan
    from calsync.sync.engine import ProgressFor, SyncReport
    from calsync.sync.request import SyncRequest

ENDPOINT_VARIABLE = "CALSYNC_INTERVALS_ENDPOINT"
INTERVALS_ROOT = "https://intervals.icu/"
USER = "API_KEY"  # the literal Basic-auth user name for a personal API key
KEYRING_SERVICE = "calsync:intervals.icu"
PREFIX = "calsync:"  # external_id = PREFIX + session key
MARKER = re.compile(r"^calsync: (\S+) ([0-9a-f]{20}) ([0-9a-f]{12})$")
ATHLETE = re.compile(r"0|i?[0-9]+")  # fullmatch: it becomes part of every URL
LOCAL = "%Y-%m-%dT%H:%M:%S"  # start_date_local: a wall-clock time, no offset
TYPES = {
    Kind.STRENGTH: "WeightTraining",
    Kind.RIDE: "Ride",
    Kind.RUN: "Run",
    Kind.SWIM: "Swim",
    Kind.MOBILITY: "Yoga",
    Kind.OTHER: "Workout",
}
RIDE_TYPES = ("Ride", "VirtualRide")
BULK_LIMIT = 50  # workouts a bulk request; the API names no limit, this keeps requests small
TIMEOUT = (10.0, 60.0)  # seconds to connect, seconds to wait for an answer
INTERVALS_RETRY = Retry()


# intervals.icu refused: one sentence, never the API key. The client raises the other
# kinds (errors.py: Unreachable, AuthRefused, RateLimited) from what it was answered.
IntervalsFailure = Rejected


class ApiKeyError(BadInput):
    """The API key could not be read from where the user said it is (bad input)."""


# --- what a workout holds ------------------------------------------------------------


def seen_hash(name: str, description: str, start_local: str, kind: str, category: str) -> str:
    """The fingerprint of the fields calsync writes and the athlete can change."""
    fields = [
        name.strip(),
        description.replace("\r\n", "\n").strip(),
        start_local,
        kind,
        category,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:12]


def split_marker(description: str) -> tuple[str, re.Match[str] | None]:
    """The description without calsync's last line, and that line's match (None if absent)."""
    text = description.replace("\r\n", "\n").rstrip()
    head, _, last = text.rpartition("\n")
    found = MARKER.match(last.strip())
    return (head, found) if found else (text, None)


def local_text(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime(LOCAL)


def workout_body(content: EventContent, kind: str, zone: tzinfo) -> dict[str, Any]:
    """The event calsync writes for one session: a planned workout on the athlete's calendar."""
    start = local_text(content.start, zone)
    seen = seen_hash(content.summary, content.description, start, kind, "WORKOUT")
    marker = f"calsync: {content.key} {content.fingerprint} {seen}"
    return {
        "category": "WORKOUT",
        "start_date_local": start,
        "type": kind,
        "name": content.summary,
        "description": f"{content.description.rstrip()}\n\n{marker}",
        "moving_time": int((content.end - content.start).total_seconds()),
        "external_id": PREFIX + content.key,
    }


def _local(value: Any, zone: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=None).replace(tzinfo=zone)


def read_workout(event: Mapping[str, Any], plan_id: str, zone: tzinfo) -> Remote | None:
    """A workout calsync made for this plan (by its external_id, else by its last line);
    None for everything else, which is never written to."""
    description = event.get("description") or ""
    if not isinstance(description, str):
        description = ""
    text, marker = split_marker(description)
    external = event.get("external_id")
    if isinstance(external, str) and external.startswith(PREFIX):
        key: str | None = external[len(PREFIX) :]
    else:
        key = marker.group(1) if marker else None
    start = _local(event.get("start_date_local"), zone)
    if key is None or not key.startswith(plan_id + "/") or start is None or "id" not in event:
        return None
    if marker is not None and marker.group(1) != key:
        marker = None  # another session's line pasted in: not a record of this one
    stored = marker.group(2) if marker else ""
    now = seen_hash(
        str(event.get("name") or ""),
        text,
        start.strftime(LOCAL),
        str(event.get("type") or ""),
        str(event.get("category") or ""),
    )
    untouched = marker is not None and marker.group(3) == now
    return Remote(
        key=key,
        ref=str(event["id"]),
        start=start,
        summary=str(event.get("name") or ""),
        stored=stored,
        current=stored if untouched else f"changed:{now}",
    )


def session_name(key: str, names: Iterable[str]) -> str:
    """The library name in a session key (`plan/2026-11-30/z2-2` -> `z2`)."""
    last = key.rsplit("/", 1)[-1]
    known = set(names)
    if last in known:
        return last
    return re.sub(r"-\d+$", "", last)


@dataclass(frozen=True)
class Types:
    """Which intervals.icu type each session gets: by kind, rides Ride or VirtualRide."""

    ride: str = "Ride"
    indoor: frozenset[str] = frozenset()  # session names that are indoor rides
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # the plan's library: name -> kind

    def _type(self, kind: Kind, name: str) -> str:
        if kind is Kind.RIDE:
            return "VirtualRide" if name in self.indoor else self.ride
        return TYPES[kind]

    def of(self, content: EventContent) -> str:
        kind = Kind(content.categories[0]) if content.categories else Kind.OTHER
        return self._type(kind, session_name(content.key, self.kinds))

    def of_key(self, key: str) -> str | None:
        """The type a session key's workout gets now (None: no such session in the plan)."""
        name = session_name(key, self.kinds)
        return self._type(self.kinds[name], name) if name in self.kinds else None


# --- HTTP ------------------------------------------------------------------------------


def endpoint() -> str:
    root = os.environ.get(ENDPOINT_VARIABLE) or INTERVALS_ROOT
    parts = urlsplit(root)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.password:
        raise BadInput(f"{ENDPOINT_VARIABLE} must be a root URL such as https://intervals.icu/")
    if parts.scheme == "http" and not loopback:
        raise BadInput(
            f"{ENDPOINT_VARIABLE} must be https:// (plain http only on this machine): "
            "the API key goes with every request"
        )
    return root if root.endswith("/") else root + "/"


def _retry_after(answer: requests.Response) -> float | None:
    """Retry-After in seconds (an HTTP date is left to the backoff); Retry.wait bounds it."""
    try:
        seconds = float(answer.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def describe(answer: requests.Response) -> str:
    """The status, and for a refusal the server's own reason (`{"error": ...}`), one line."""
    text = f"HTTP {answer.status_code} {answer.reason or ''}".strip()
    if 400 <= answer.status_code < 500:
        try:
            reason = answer.json().get("error")
        except (ValueError, AttributeError):
            reason = None
        if isinstance(reason, str) and reason.strip():
            text += ": " + " ".join(reason.split())[:200]
    return text


class Partial(IntervalsFailure):
    """A bulk create that gave up part-way: what is known of each session so far."""

    def __init__(self, why: str, results: list[Result]) -> None:
        super().__init__(why)
        self.results = results


class Lost(Exception):
    """A request whose answer never came (or was an error worth retrying)."""

    def __init__(
        self, why: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(why)
        self.retry_after = retry_after
        self.status = status  # None: no answer at all

    def failure(self) -> TargetError:
        """What it becomes when no retry is left (errors.py)."""
        kind = Unreachable if self.status is None else for_status(self.status)
        return kind(str(self))


class Client:
    """Every request goes through here: Basic auth, bounded waits, retries, clear errors."""

    def __init__(
        self,
        root: str,
        api_key: str,
        retry: Retry = INTERVALS_RETRY,
        session: requests.Session | None = None,
    ) -> None:
        self.root = root
        self.retry = retry
        self.session = session or requests.Session()
        self.session.auth = (USER, api_key)
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str) -> str:
        return urljoin(self.root, path.lstrip("/"))

    def once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """One attempt: the answer, or `Lost` for what may be retried; fatal errors raise."""
        try:
            with limits.request("intervals.icu"):  # the whole answer, within the request limit
                answer = self.session.request(
                    method,
                    self.url(path),
                    params=params,
                    json=body,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
        except requests.exceptions.SSLError:
            raise Unreachable(
                f"the TLS certificate of {_server(self.root)} could not be verified"
            ) from None
        except (requests.exceptions.RequestException, OSError) as err:
            raise Lost(f"no answer from {_server(self.root)} ({type(err).__name__})") from None
        if answer.status_code in RETRY_STATUSES:
            raise Lost(
                f"intervals.icu: {describe(answer)}", _retry_after(answer), answer.status_code
            )
        if answer.status_code == 401:
            raise AuthRefused(
                f"intervals.icu refused the API key ({describe(answer)}); check it in "
                "intervals.icu Settings, Developer Settings"
            )
        return answer

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """A request that may be sent twice (GET, PUT): retried when the server says so."""

        def attempt(last: bool) -> requests.Response:
            try:
                return self.once(method, path, params, body)
            except Lost as lost:
                raise Again(lost.failure(), lost.retry_after) from None

        return self.retry.run(attempt)

    def json(self, method: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        answer = self.send(method, path, params)
        if answer.status_code != 200:
            raise IntervalsFailure(f"intervals.icu: {method} {path}: {describe(answer)}")
        try:
            return answer.json()
        except ValueError:
            raise IntervalsFailure(
                f"intervals.icu sent an answer to {path} that is not JSON"
            ) from None


def _server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


# --- what calsync made: the state file ------------------------------------------------


def default_state_path(root: str, athlete_id: str) -> Path:
    from calsync.io.places import state_dir

    digest = hashlib.sha256(f"{_server(root)} {athlete_id}".encode()).hexdigest()[:32]
    return state_dir() / "intervals" / f"{digest}.json"


class Made:
    """The workouts calsync has made on one athlete's calendar: key -> id, start, name, hash."""

    VERSION = 1

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, str]] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                if document.get("version") == self.VERSION:
                    self.entries = {
                        k: e for k, e in document.get("events", {}).items() if _usable(e)
                    }
            except (OSError, ValueError, AttributeError):
                self.entries = {}  # unreadable: start afresh (see the module note)

    def remember(
        self, plan: str, key: str, ref: str, start: datetime, name: str, hash_: str
    ) -> None:
        entry = {
            "plan": plan,
            "id": ref,
            "start": start.isoformat(),
            "name": name,
            "hash": hash_,
        }
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self.dirty = True

    def forget(self, key: str, ref: str) -> None:
        if self.entries.get(key, {}).get("id") == ref:
            del self.entries[key]
            self.dirty = True

    def missing(
        self, plan_id: str, start: datetime, end: datetime, present: set[str]
    ) -> dict[str, dict[str, str]]:
        return {
            key: entry
            for key, entry in self.entries.items()
            if entry["plan"] == plan_id
            and key not in present
            and start <= datetime.fromisoformat(entry["start"]) < end
        }

    def prune(self, before: datetime) -> None:
        for key in [
            k for k, e in self.entries.items() if datetime.fromisoformat(e["start"]) < before
        ]:
            del self.entries[key]
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        from calsync.io.atomic import write_atomic  # WriteFailure (exit 1) names the file

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"version": self.VERSION, "events": dict(sorted(self.entries.items()))}
        write_atomic(self.path, json.dumps(document, indent=1, ensure_ascii=False).encode())
        self.dirty = False


def _usable(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    try:
        aware = datetime.fromisoformat(entry["start"]).tzinfo is not None
        return aware and all(isinstance(entry[n], str) for n in ("plan", "id", "name", "hash"))
    except (KeyError, TypeError, ValueError):
        return False


# --- the backend -----------------------------------------------------------------------


@dataclass(frozen=True)
class Athlete:
    id: str  # the real id ("i12345"), also when the command named athlete 0
    zone: tzinfo  # the athlete's zone; the plan's when the athlete's settings have none


def fetch_athlete(client: Client, athlete: str, plan_zone: tzinfo) -> Athlete:
    answer = client.send("GET", f"api/v1/athlete/{athlete}")
    if answer.status_code in (403, 404):
        raise IntervalsFailure(
            f"intervals.icu has no athlete {athlete} this API key may use ({describe(answer)})"
        )
    if answer.status_code != 200:
        raise IntervalsFailure(f"intervals.icu: reading athlete {athlete}: {describe(answer)}")
    try:
        document = answer.json()
    except ValueError:
        raise IntervalsFailure("intervals.icu sent an athlete that is not JSON") from None
    real = str(document.get("id") or athlete) if isinstance(document, dict) else athlete
    name = document.get("timezone") if isinstance(document, dict) else None
    try:
        return Athlete(real, ZoneInfo(name) if isinstance(name, str) else plan_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return Athlete(real, plan_zone)


class IntervalsBackend:
    """The engine's Backend for one athlete's intervals.icu calendar."""

    def __init__(
        self, client: Client, athlete: Athlete, types: Types, state_path: Path | None
    ) -> None:
        self.client = client
        self.athlete = athlete
        self.types = types
        self.made = Made(state_path)
        self.base = f"api/v1/athlete/{athlete.id}/events"
        self.label = "intervals"  # the target in reports; `intervals_target` names the athlete
        self.fresh = False  # an athlete's calendar always exists: never made by a run

    def busy(
        self, calendars: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """intervals.icu holds workouts, not appointments: there is no busy time to read
        (`sync intervals` has no --busy, and refresh's config allows none)."""
        if calendars:
            raise BadInput("intervals.icu has no calendars to read busy time from")
        return ()

    # --- listing ---

    def _events(self, first: date, last: date) -> list[dict[str, Any]]:
        params = {"oldest": first.isoformat(), "newest": last.isoformat(), "category": "WORKOUT"}
        found = self.client.json("GET", self.base, params)
        if not isinstance(found, list):
            raise IntervalsFailure("intervals.icu sent a list of events that is not a list")
        return [e for e in found if isinstance(e, dict)]

    def _listed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        zone = self.athlete.zone
        first = start.astimezone(zone).date()
        last = (end - timedelta(microseconds=1)).astimezone(zone).date()
        found = []
        for event in self._events(first, last):
            remote = self._read(event, plan_id)
            if remote is not None and start <= remote.start < end:
                found.append(remote)
        return found

    def _read(self, event: Mapping[str, Any], plan_id: str) -> Remote | None:
        remote = read_workout(event, plan_id, self.athlete.zone)
        if remote is None or remote.edited:
            return remote
        wanted = self.types.of_key(remote.key)
        if wanted is not None and event.get("type") != wanted:
            # Untouched, but the ride type asked for changed (--ride-type, --indoor): what
            # it records is not what calsync would write now, so the engine updates it.
            stale = f"type {event.get('type')}"
            return replace(remote, stored=stale, current=stale)
        return remote

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        remotes = self._listed(plan_id, start, end)
        gone = self.made.missing(plan_id, start, end, {r.key for r in remotes})
        for key, entry in sorted(gone.items()):
            remotes.append(self._look_for(key, entry, plan_id))
        # Of copies of one key the engine keeps an untouched one; that is the one remembered.
        remembered: set[str] = set()
        for remote in sorted(remotes, key=lambda r: (r.cancelled, r.edited, r.ref)):
            if not remote.cancelled and remote.key not in remembered:
                remembered.add(remote.key)
                self.made.remember(
                    plan_id, remote.key, remote.ref, remote.start, remote.summary, remote.stored
                )
        self.made.prune(start - timedelta(days=400))
        return remotes  # saved by `apply`: a dry run writes nothing, not even this file

    def _look_for(self, key: str, entry: Mapping[str, str], plan_id: str) -> Remote:
        """A workout calsync made that is not in the range now: moved out of it, or deleted."""
        answer = self.client.send("GET", f"{self.base}/{entry['id']}")
        if answer.status_code == 200:
            try:
                event = answer.json()
            except ValueError:
                event = None
            remote = self._read(event, plan_id) if isinstance(event, dict) else None
            if remote is not None and remote.key == key:
                return remote  # moved by the athlete: edited
        elif answer.status_code not in (404, 410):
            # Without this answer a moved workout cannot be told from a deleted one.
            raise IntervalsFailure(
                f"intervals.icu: reading workout {entry['id']}: {describe(answer)}"
            )
        return Remote(
            key=key,
            ref=entry["id"],
            start=datetime.fromisoformat(entry["start"]),
            summary=entry["name"],
            stored=entry["hash"],
            current="",
            cancelled=True,
        )

    # --- writing ---

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        results: dict[int, Result] = {}
        fatal: str | None = None
        creates = [i for i, c in enumerate(changes) if c.action is Action.CREATE]
        deletes = [i for i, c in enumerate(changes) if c.action is Action.DELETE]
        updates = [i for i, c in enumerate(changes) if c.action is Action.UPDATE]
        steps: list[tuple[Callable[[list[Change]], list[Result]], list[int]]] = []
        steps += [(self._delete, chunk) for chunk in _chunks(deletes, BULK_LIMIT)]
        steps += [(self._create, chunk) for chunk in _chunks(creates, BULK_LIMIT)]
        steps += [(self._update, [i]) for i in updates]
        try:
            for step, chunk in steps:
                batch = [changes[i] for i in chunk]
                if fatal is None:
                    try:
                        done = step(batch)
                    except TargetError as err:
                        # The server is gone or refuses us: every further write would too.
                        fatal = str(err)
                        done = getattr(err, "results", None) or [
                            Result(c, Outcome.FAILED, fatal) for c in batch
                        ]
                else:
                    done = [Result(c, Outcome.FAILED, f"not tried: {fatal}") for c in batch]
                results.update(zip(chunk, done, strict=True))
                progress(len(chunk))
        finally:
            self.made.save()  # what landed is remembered even if the run is cut short
        return [results[i] for i in range(len(changes))]

    def _body(self, content: EventContent) -> dict[str, Any]:
        return workout_body(content, self.types.of(content), self.athlete.zone)

    def _remember(self, content: EventContent, ref: str) -> None:
        self.made.remember(
            content.plan, content.key, ref, content.start, content.summary, content.fingerprint
        )

    def _create(self, batch: list[Change]) -> list[Result]:
        """One bulk create. A create is not idempotent here, so after a failed attempt the
        range is listed again and only the sessions still missing are sent once more."""
        outcome: dict[str, Result] = {}

        def known(error: str) -> list[Result]:
            return [outcome.get(c.key) or Result(c, Outcome.FAILED, error) for c in batch]

        try:
            for attempt in range(self.client.retry.attempts):
                pending = [c for c in batch if c.key not in outcome]
                if not pending:
                    break
                try:
                    answer = self.client.once(
                        "POST",
                        f"{self.base}/bulk",
                        {"upsert": "true"},
                        [self._body(c.content) for c in pending],  # type: ignore[arg-type]
                    )
                except Lost as lost:
                    if attempt == self.client.retry.attempts - 1:
                        raise lost.failure() from None
                    self.client.retry.wait(attempt, lost.retry_after)
                    outcome.update(self._landed(pending))
                    continue
                if answer.status_code != 200:
                    return known(describe(answer))
                outcome.update(self._created(pending, answer))
        except TargetError as err:
            raise Partial(str(err), known(str(err))) from None
        return known("not created")

    def _created(self, pending: Sequence[Change], answer: requests.Response) -> dict[str, Result]:
        try:
            made = answer.json()
        except ValueError:
            made = None
        if not isinstance(made, list) or len(made) != len(pending):
            # Created, but which id is which cannot be read: the listing tells.
            return self._landed(pending)
        found: dict[str, Result] = {}
        for change, event in zip(pending, made, strict=True):
            if isinstance(event, dict) and "id" in event:
                self._remember(change.content, str(event["id"]))  # type: ignore[arg-type]
            found[change.key] = Result(change, Outcome.DONE)
        return found

    def _landed(self, pending: Sequence[Change]) -> dict[str, Result]:
        """Which of these creates took effect after all (their answer was lost)."""
        contents = [c.content for c in pending if c.content is not None]
        start = min(c.start for c in contents)
        end = max(c.start for c in contents) + timedelta(seconds=1)
        plan = contents[0].plan
        found: dict[str, Result] = {}
        by_key = {c.key: c for c in pending}
        for remote in self._listed(plan, start, end):
            change = by_key.get(remote.key)
            if change is None or change.key in found or change.content is None:
                continue
            if remote.stored == change.content.fingerprint and not remote.edited:
                self._remember(change.content, remote.ref)
                found[change.key] = Result(change, Outcome.DONE)
        return found

    def _update(self, batch: list[Change]) -> list[Result]:
        (change,) = batch
        assert change.content is not None and change.remote is not None
        if change.remote.cancelled:  # deleted by the athlete, restored on request
            return self._create(batch)
        answer = self.client.send(
            "PUT", f"{self.base}/{change.remote.ref}", body=self._body(change.content)
        )
        if answer.status_code == 200:
            self._remember(change.content, change.remote.ref)
            return [Result(change, Outcome.DONE)]
        if answer.status_code in (404, 410):
            # Deleted by the athlete between our read and our write: theirs to decide.
            self.made.forget(change.key, change.remote.ref)
            return [Result(change, Outcome.EDITED)]
        return [Result(change, Outcome.FAILED, describe(answer))]

    def _delete(self, batch: list[Change]) -> list[Result]:
        # Forgotten (on disk) before they are sent: a delete that lands while its answer is
        # lost, and the run then breaks, must not read as the athlete's deletion next time
        # (the session would never come back if the plan wanted it again). A workout the
        # delete missed is listed again by the next run and remembered again.
        for change in batch:
            assert change.remote is not None
            self.made.forget(change.key, change.remote.ref)
        self.made.save()
        # Ids that no longer exist are ignored, so a resent delete is harmless.
        doomed = [{"id": int(c.remote.ref)} for c in batch if c.remote is not None]
        answer = self.client.send("PUT", f"{self.base}/bulk-delete", body=doomed)
        if answer.status_code != 200:
            return [Result(c, Outcome.FAILED, describe(answer)) for c in batch]
        return [Result(c, Outcome.DONE) for c in batch]


def _chunks(items: Sequence[int], size: int) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# --- the API key -----------------------------------------------------------------------


def resolve_api_key(key_file: Path | None, key_env: str | None, use_keyring: bool) -> str:
    """The API key from a file (its first line), an environment variable or the system
    keyring; never from the command line, where `ps` and the shell history would show it."""
    given = [n for n, v in (("file", key_file), ("env", key_env), ("keyring", use_keyring)) if v]
    if len(given) != 1:
        raise ApiKeyError(
            "give the intervals.icu API key with exactly one of --api-key-file FILE, "
            "--api-key-env NAME or --keyring"
        )
    if key_file is not None:
        return secret_sources.from_file(key_file, "API key", ApiKeyError, strip=True)
    if key_env:
        return secret_sources.from_env(key_env, ApiKeyError, strip=True)
    return secret_sources.from_keyring(KEYRING_SERVICE, USER, "API key", ApiKeyError)


def check_athlete(athlete: str) -> str:
    if not ATHLETE.fullmatch(athlete):
        raise BadInput(
            f"--athlete must be 0 (the API key's owner) or an athlete id such as i12345, "
            f"not '{athlete}'"
        )
    return athlete


def types_for(plan: Plan, ride: str, indoor: Sequence[str]) -> Types:
    kinds = {s.name: s.kind for s in plan.sessions}
    names = frozenset(kinds)
    unknown = sorted(set(indoor) - names)
    if unknown:
        raise BadInput(
            f"--indoor names no session of the plan: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(names))})"
        )
    if ride not in RIDE_TYPES:
        raise BadInput(f"the ride type must be {' or '.join(RIDE_TYPES)}, not '{ride}'")
    return Types(ride, frozenset(indoor), kinds)


# --- one sync, as the command line and refresh run it ---------------------------------


def intervals_target(
    plan: Plan,
    request: SyncRequest,
    athlete: str,
    api_key: str,
    ride: str = "Ride",
    indoor: Sequence[str] = (),
    *,
    state_path: Path | None = None,
    retry: Retry = INTERVALS_RETRY,
    progress: ProgressFor = quiet,
) -> SyncReport:
    """One intervals.icu sync, for `calsync.targets.open` (which has checked the athlete,
    see `check_athlete`) and tests (the keyword-only arguments: a state file, no waits
    between retries)."""
    from calsync.io.locks import writing

    types = types_for(plan, ride, indoor)
    root = endpoint()
    client = Client(root, api_key, retry)
    try:
        with limits.run(limits.Limits.from_environ(os.environ)):
            found = fetch_athlete(client, athlete, plan.zone)
            # One lock per athlete and server, whichever command writes there (see `locks`).
            label = f"the intervals.icu calendar of athlete {found.id}"
            with writing("intervals", f"{_server(root)}\n{found.id}", label, request.dry_run):
                backend = IntervalsBackend(
                    client, found, types, state_path or default_state_path(root, found.id)
                )
                backend.label = f"intervals:{found.id}"
                return sync_plan(backend, plan, request, (), progress)
    finally:
        client.session.close()
