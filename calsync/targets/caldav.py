"""The CalDAV backend: lists calsync's events and applies the engine's changes.

Imported only by the CalDAV commands, so other commands never pay for the
`caldav` library. It follows RFC 4791 (CalDAV: calendar-query and
calendar-multiget REPORTs, free-busy-query, MKCALENDAR, one VEVENT per
resource) and RFC 9110 preconditions (If-None-Match: * to create without
overwriting, If-Match: ETag to change only what was read).

The events are the ones `calsync ics` writes, rendered by its code (same UID,
X-CALSYNC-PLAN/KEY/HASH, VALARM, and the VTIMEZONE), so moving
from a subscribed feed to CalDAV leaves no duplicates. CalDAV keeps no
tombstones, so a small local state file remembers which keys calsync has put
into each calendar: a key that was there and is gone was deleted by the user.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

from caldav import DAVClient
from caldav.lib import error as dav_error
from caldav.lib.http_sync import requests as http
from icalendar import Calendar, Event
from lxml import etree

from calsync.core.content import EventContent
from calsync.core.instants import event_fingerprint as current_fingerprint
from calsync.core.instants import misread, read_instant
from calsync.core.model import Busy, uid_for
from calsync.errors import AuthRefused, BadInput, RateLimited, Rejected, TargetError, Unreachable
from calsync.io import limits
from calsync.io.atomic import WriteFailure, write_atomic
from calsync.sync import recheck
from calsync.sync.backend import Warn, counts_as_busy, warn_on_stderr
from calsync.sync.engine import Action, Change, Outcome, Progress, Remote, Result
from calsync.sync.run import quiet, sync_plan
from calsync.targets import secrets as secret_sources
from calsync.targets.ics import render_event
from calsync.targets.retry import RETRY_STATUSES, Again, Retry

if TYPE_CHECKING:
    from caldav.davclient import DAVResponse

    from calsync.core.model import Plan
    from calsync.sync.engine import ProgressFor, SyncReport
    from calsync.sync.request import SyncRequest

CALENDAR_TYPE = "{urn:ietf:params:xml:ns:caldav}calendar"
COLLECTION_TYPE = "{DAV:}collection"
HOME_SET = "{urn:ietf:params:xml:ns:caldav}calendar-home-set"
USER_PRINCIPAL = "{DAV:}current-user-principal"
DISPLAY_NAME = "{DAV:}displayname"
RESOURCE_TYPE = "{DAV:}resourcetype"
ICALENDAR = {"Content-Type": "text/calendar; charset=utf-8"}
# RFC 3986 pchar: what may stay unescaped in a path segment (hrefs arrive decoded).
PATH_SAFE = "/:@!$&'()*+,;=~"
KEYRING_SERVICE = "calsync:{host}"
# A CalDAV server answers or it does not: fewer, shorter waits than for Google's quotas.
CALDAV_RETRY = Retry(attempts=4, cap=16.0)


# The server refused or answered nonsense: one clear sentence, never a password. The
# transport raises the other kinds (errors.py): Unreachable, AuthRefused, RateLimited.
CalDAVFailure = Rejected


class PasswordError(BadInput):
    """The password could not be read from where the user said it is (bad input)."""


# --- reading remote events -----------------------------------------------------------


def _instant(value: date, zone: tzinfo) -> datetime:
    return read_instant(value, zone)


def _key_from_uid(uid: str, plan_id: str) -> str | None:
    """The session key behind one of calsync's UIDs (`Occurrence.uid` in reverse)."""
    found = re.fullmatch(rf"{re.escape(plan_id)}-(\d{{4}}-\d{{2}}-\d{{2}})-(.+)@calsync", uid)
    return f"{plan_id}/{found.group(1)}/{found.group(2)}" if found else None


# The fingerprint of an event of ours that cannot be read: never equal to a stored one.
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Seen:
    """What a write needs from a listed event beyond `Remote`: its UID and SEQUENCE."""

    remote: Remote
    uid: str
    sequence: int
    ours: bool  # our own UID and properties: preferred when a key has duplicates


def read_event(
    event: Event, href: str, etag: str | None, plan_id: str, zone: tzinfo
) -> Seen | None:
    """A managed event: X-CALSYNC-PLAN is the plan, or (for a client that dropped our
    properties on edit) the UID is one calsync derives from this plan's session keys.

    None for anything else, and for an event of ours whose start cannot be read; one
    whose other values cannot be read (a client wrote a bad SEQUENCE, say) is kept as
    edited, so it is neither overwritten nor taken for deleted."""
    if "DTSTART" not in event or "RECURRENCE-ID" in event:
        return None
    uid = str(event.get("UID", ""))
    tagged = str(event.get("X-CALSYNC-PLAN", "")) == plan_id and "X-CALSYNC-KEY" in event
    if tagged:
        key: str | None = str(event["X-CALSYNC-KEY"])
    elif "X-CALSYNC-PLAN" in event:
        return None  # another plan's event
    else:
        key = _key_from_uid(uid, plan_id)
    if key is None:
        return None
    try:
        start = _instant(event.decoded("DTSTART"), zone)
    except (ValueError, TypeError):
        return None
    stored = str(event.get("X-CALSYNC-HASH", "")) if tagged else ""
    try:
        current = current_fingerprint(event, zone)
        sequence = int(event.get("SEQUENCE", 0))
        if current != stored and misread(event, stored, zone):
            # Written by an older calsync with a repeated local time every reader takes
            # an hour early: not an edit. Equal, so not edited; not the plan's, so updated.
            current = stored = f"rewrite:{stored}"
    except (ValueError, TypeError):
        current, sequence = UNREADABLE, 0
    remote = Remote(
        key=key,
        ref=href,
        start=start,
        summary=str(event.get("SUMMARY", "")),
        stored=stored,
        current=current,
        etag=etag,
        cancelled=str(event.get("STATUS", "")).upper() == "CANCELLED",
    )
    return Seen(remote, uid, sequence, tagged and uid == uid_for(key))


def _vevents(data: str | None) -> list[Event]:
    if not data:
        return []
    try:
        return list(Calendar.from_ical(data).walk("VEVENT"))
    except ValueError:
        return []  # someone else's broken resource: not ours to judge


# --- HTTP: retries, one clear message --------------------------------------


def public_url(url: str) -> str:
    """The URL without any user:password@ part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return parts._replace(netloc=host).geturl()


def _server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


# What OpenSSL says when the other end answers a TLS hello in plain text (HTTP).
_PLAIN_TEXT = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "http request",
)


def _connection_message(url: str, err: Exception) -> str:
    if isinstance(err, http.exceptions.SSLError) and any(s in str(err) for s in _PLAIN_TEXT):
        plain = urlsplit(url)._replace(scheme="http").geturl()
        return (
            f"the server at {_server(url)} does not speak TLS at this address "
            f"(a plain-HTTP server? then the URL is {public_url(plain)})"
        )
    if isinstance(err, http.exceptions.SSLError):
        return (
            f"the TLS certificate of {_server(url)} could not be verified; fix the server's "
            "certificate (or, only on a network you trust, use --insecure)"
        )
    if isinstance(err, http.exceptions.Timeout):
        return f"the CalDAV server at {_server(url)} did not answer in time"
    return f"cannot reach the CalDAV server at {_server(url)} (is the URL right, is it up?)"


def _auth_message(url: str, err: dav_error.AuthorizationError) -> str:
    status = getattr(err, "status", None)
    if status == 403:
        return f"the CalDAV server refused access to {public_url(url)} (HTTP 403)"
    return (
        f"the CalDAV server at {_server(url)} refused the username or password (HTTP 401); "
        "check --username and the password source"
    )


def describe(answer: DAVResponse) -> str:
    return f"HTTP {answer.status} {answer.reason or ''}".strip()


class Transport:
    """Every request goes through here: retried when the server says so, fatal errors as
    a `TargetError` with one sentence, and nothing else escapes."""

    def __init__(self, client: DAVClient, retry: Retry = CALDAV_RETRY) -> None:
        self.client = client
        self.retry = retry

    def send(
        self,
        method: str,
        url: str,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> DAVResponse:
        def attempt(last: bool) -> DAVResponse:
            try:
                with limits.request(f"the CalDAV server at {_server(url)}"):
                    answer = self.client.request(url, method, body, dict(headers or {}))
            except dav_error.AuthorizationError as err:
                raise AuthRefused(_auth_message(url, err)) from None
            except dav_error.RateLimitError as err:
                slow = f"the CalDAV server at {_server(url)} keeps asking to slow down"
                raise Again(RateLimited(slow), err.retry_after_seconds) from None
            except http.exceptions.SSLError as err:
                raise Unreachable(_connection_message(url, err)) from None
            except (http.exceptions.RequestException, OSError) as err:
                # A lost answer is retried too: creates and updates are conditional,
                # so a write that landed answers 412 the second time, not a duplicate.
                raise Again(Unreachable(_connection_message(url, err))) from None
            except (etree.XMLSyntaxError, dav_error.DAVError) as err:
                # A body that claims to be XML and is not, or a reply caldav cannot parse.
                raise CalDAVFailure(
                    f"the server at {_server(url)} sent an answer to {method} that is not "
                    f"CalDAV ({type(err).__name__})"
                ) from None
            if answer.status in RETRY_STATUSES and not last:
                raise Again(CalDAVFailure(describe(answer)))  # never raised: the last returns
            return answer

        return self.retry.run(attempt)

    def url(self, href: str) -> str:
        """An absolute URL for a (decoded) href the server gave.

        The client sends the password with every request, so an absolute href that
        leads to another server, or from https:// down to http://, is refused."""
        base = str(self.client.url)
        if "://" not in href:
            return urljoin(base, quote(href, safe=PATH_SAFE))
        if _origin(href) != _origin(base):
            raise CalDAVFailure(
                f"the CalDAV server at {_server(base)} links to {public_url(href)} (another "
                f"server, or not https): refused, the password goes only to {_server(base)}"
            )
        return href


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, the port spelt out when it is the scheme's default."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = -1  # not a port: matches no real origin
    return scheme, parts.hostname or "", port


def _ok(answer: DAVResponse) -> bool:
    return 200 <= answer.status < 300


# --- XML bodies ------------------------------------------------------------------

_NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def query_body(start: datetime, end: datetime) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:calendar-query {_NS}>'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    )


def multiget_body(hrefs: Iterable[str]) -> str:
    refs = "".join(f"<d:href>{escape(quote(h, safe=PATH_SAFE))}</d:href>" for h in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget {_NS}>'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}</c:calendar-multiget>"
    )


def freebusy_body(start: datetime, end: datetime) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:free-busy-query {_NS}>'
        f'<c:time-range start="{_utc(start)}" end="{_utc(end)}"/></c:free-busy-query>'
    )


PROPFIND_BODY = (
    f'<?xml version="1.0" encoding="utf-8"?><d:propfind {_NS}><d:prop>'
    "<d:resourcetype/><d:displayname/><c:calendar-home-set/><d:current-user-principal/>"
    "</d:prop></d:propfind>"
)


def mkcalendar_body(name: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><c:mkcalendar {_NS}><d:set><d:prop>'
        f"<d:displayname>{escape(name)}</d:displayname>"
        '<c:supported-calendar-component-set><c:comp name="VEVENT"/>'
        "</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"
    )


# --- the local memory of what calsync created ----------------------------------------


def default_state_path(calendar_url: str) -> Path:
    from calsync.io.places import state_dir

    digest = hashlib.sha256(public_url(calendar_url).encode()).hexdigest()[:32]
    return state_dir() / "caldav" / f"{digest}.json"


class KnownEvents:
    """The keys calsync has put into one calendar, with where and when they are.

    CalDAV forgets a deleted event entirely; this file is how a later run tells
    "the user deleted it" (do not recreate) from "it was never there" (create).
    Losing it is safe: deleted sessions would be recreated, nothing duplicated.
    """

    VERSION = 1

    def __init__(self, path: Path | None, warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.warn = warn or warn_on_stderr
        if path is not None and path.exists():
            problem = self._load(path)
            if problem:
                # Start afresh (see the class note), and say so: sessions the user
                # deleted from this calendar before may come back on this run.
                self.warn(
                    f"the CalDAV state file {path} {problem}; calsync no longer knows which "
                    "sessions you deleted from this calendar, so they may come back"
                )

    def _load(self, path: Path) -> str | None:
        """Read the file; what is wrong with it, or None."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            return f"cannot be read ({err.strerror or err})"
        except ValueError as err:  # UnicodeDecodeError too
            return f"is damaged (not JSON: {err})"
        if not isinstance(document, dict) or not isinstance(document.get("events"), dict):
            return "is damaged (no 'events' object)"
        if document.get("version") != self.VERSION:
            return f"has an unknown version {document.get('version')!r}"
        events = document["events"]
        # An entry calsync cannot use is dropped, like a lost file (safe).
        self.entries = {k: e for k, e in events.items() if _usable(e)}
        dropped = len(events) - len(self.entries)
        if dropped:
            return f"is damaged ({dropped} unusable entr{'y' if dropped == 1 else 'ies'} dropped)"
        return None

    def remember(
        self, plan: str, remote_or_content: Remote | EventContent, href: str, sequence: int
    ) -> None:
        item = remote_or_content
        stored = item.stored if isinstance(item, Remote) else item.fingerprint
        entry = {
            "plan": plan,
            "href": href,
            "start": item.start.isoformat(),
            "summary": item.summary,
            "hash": stored,
            "sequence": sequence,
        }
        if self.entries.get(item.key) != entry:
            self.entries[item.key] = entry
            self.dirty = True

    def forget(self, key: str, href: str | None = None) -> None:
        """Forget a key; with `href`, only if that is where the key's event is (deleting
        a duplicate must not forget the event that stays)."""
        entry = self.entries.get(key)
        if entry is not None and (href is None or entry["href"] == href):
            del self.entries[key]
            self.dirty = True

    def clear(self) -> None:
        if self.entries:
            self.entries = {}
            self.dirty = True

    def missing(
        self, plan_id: str, start: datetime, end: datetime, present: set[str]
    ) -> dict[str, dict[str, Any]]:
        found = {}
        for key, entry in self.entries.items():
            if entry.get("plan") != plan_id or key in present:
                continue
            if start <= datetime.fromisoformat(entry["start"]) < end:
                found[key] = entry
        return found

    def prune(self, before: datetime) -> None:
        """Forget sessions long past: no run looks at them again."""
        for key in [
            k for k, e in self.entries.items() if datetime.fromisoformat(e["start"]) < before
        ]:
            self.forget(key)

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        document = {"version": self.VERSION, "events": dict(sorted(self.entries.items()))}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(document, indent=1, ensure_ascii=False).encode())
        except OSError as err:
            self.warn(f"cannot write the CalDAV state file {self.path}: {err.strerror or err}")
        except WriteFailure as err:
            # The calendar itself is in step; only the memory of deletions is not.
            self.warn(f"{err}; the next run may not know which sessions you delete")
        self.dirty = False


def _usable(entry: Any) -> bool:
    """A state entry with everything `missing`, `prune` and `_look_for` read."""
    if not isinstance(entry, dict):
        return False
    try:
        aware = datetime.fromisoformat(entry["start"]).tzinfo is not None
        int(entry.get("sequence", 0))
        return aware and all(isinstance(entry[n], str) for n in ("plan", "href", "summary", "hash"))
    except (KeyError, TypeError, ValueError):
        return False


# --- the backend -------------------------------------------------------------------


class CalDAVBackend:
    """The engine's Backend for one CalDAV calendar collection."""

    def __init__(
        self,
        transport: Transport,
        calendar_url: str,
        state_path: Path | None = None,
        *,
        stamp: datetime,
        zone: tzinfo = UTC,
        home_url: str | None = None,
        warn: Warn = warn_on_stderr,
    ) -> None:
        self.transport = transport
        self.warn = warn  # what the user should know and the run goes on after
        self.stamp = stamp.astimezone(UTC)  # DTSTAMP of what is written: the command's instant
        self.calendar_url = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
        self.known = KnownEvents(state_path or default_state_path(self.calendar_url), warn)
        self.zone = zone  # floating times and all-day dates of remote events are read here
        self.home_url = home_url
        self.fresh = False  # a calendar created in this run holds nothing yet
        self.label = "caldav"  # the target in reports; `caldav_target` names the calendar
        self._seen: dict[str, Seen] = {}  # by href: what a write needs beyond `Remote`
        self._listed: list[Listed] | None = None  # the home's calendars, for --busy names

    def href_for(self, uid: str) -> str:
        """The deterministic href of a new event, from its UID (decoded, like the hrefs a
        server lists; `Transport.url` quotes it). A "/" could not stay in one segment."""
        return unquote(urlsplit(self.calendar_url).path) + uid.replace("/", "-") + ".ics"

    # --- listing ---

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        if self.fresh:
            return []
        answer = self.transport.send(
            "REPORT", self.calendar_url, query_body(start, end), {"Depth": "1"}
        )
        if answer.status not in (200, 207):
            raise CalDAVFailure(
                f"the CalDAV server could not list the events of {public_url(self.calendar_url)} "
                f"({describe(answer)})"
            )
        seen = self._read(answer, plan_id)
        present = {s.remote.key for s in seen}
        gone = self.known.missing(plan_id, start, end, present)
        if gone:
            seen += self._look_for(gone, plan_id)
        # Ours first: when a key has duplicates the engine keeps the first live one and
        # deletes the others, so that first one is the one to remember.
        seen.sort(key=lambda s: (not s.ours, s.remote.ref))
        kept: set[str] = set()
        for item in seen:
            self._seen[item.remote.ref] = item
            if not item.remote.cancelled and item.remote.key not in kept:
                kept.add(item.remote.key)
                self.known.remember(plan_id, item.remote, item.remote.ref, item.sequence)
        self.known.prune(start - timedelta(days=400))
        return [s.remote for s in seen]

    def _read(self, answer: DAVResponse, plan_id: str) -> list[Seen]:
        found: list[Seen] = []
        for result in answer.parse_calendar_query():
            if result.status != 200:
                continue
            for event in _vevents(result.calendar_data):
                item = read_event(event, result.href, result.etag, plan_id, self.zone)
                if item is not None:
                    found.append(item)
        return found

    def _look_for(self, gone: Mapping[str, Mapping[str, Any]], plan_id: str) -> list[Seen]:
        """Known events missing from the range: moved out of it by the user, or deleted."""
        answer = self.transport.send(
            "REPORT", self.calendar_url, multiget_body(e["href"] for e in gone.values())
        )
        if answer.status not in (200, 207):
            # Without this answer a moved event cannot be told from a deleted one, and
            # taking all for deleted would report the user's sessions as deleted.
            raise CalDAVFailure(
                f"the CalDAV server could not read back the known events of "
                f"{public_url(self.calendar_url)} (calendar-multiget: {describe(answer)})"
            )
        moved = [s for s in self._read(answer, plan_id) if s.remote.key in gone]
        still = {s.remote.key for s in moved}
        deleted = [
            Seen(
                Remote(
                    key=key,
                    ref=entry["href"],
                    start=datetime.fromisoformat(entry["start"]),
                    summary=entry["summary"],
                    stored=entry["hash"],
                    current="",
                    etag=None,
                    cancelled=True,
                ),
                uid="",
                sequence=int(entry.get("sequence", 0)),
                ours=True,
            )
            for key, entry in gone.items()
            if key not in still
        ]
        return moved + deleted

    # --- writing ---

    def apply(self, changes: Sequence[Change], progress: Progress) -> list[Result]:
        results: list[Result] = []
        fatal: str | None = None
        try:
            for change in changes:
                if fatal is not None:
                    results.append(Result(change, Outcome.FAILED, f"not tried: {fatal}"))
                else:
                    try:
                        results.append(self._apply_one(change))
                    except TargetError as err:
                        # The server is gone or refuses us: every further write would too.
                        fatal = str(err)
                        results.append(Result(change, Outcome.FAILED, fatal))
                progress(1)
        finally:
            self.known.save()  # what landed is remembered even if the run is cut short
        return results

    def _apply_one(self, change: Change) -> Result:
        if change.action is Action.CREATE:
            return self._create(change)
        if change.action is Action.UPDATE:
            return self._update(change)
        return self._delete(change)

    def _create(self, change: Change) -> Result:
        content = change.content
        assert content is not None
        href = self.href_for(content.uid)
        answer = self._put(href, render_event(content, self.stamp), {"If-None-Match": "*"})
        if _ok(answer):
            self.known.remember(content.plan, content, href, 0)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            # Something is there: our own write whose answer was lost, or an event the
            # owner moved out of the listed range, or an older version of ours.
            return self._recheck(change)
        return Result(change, Outcome.FAILED, self._put_error(answer, content.uid))

    def _update(self, change: Change) -> Result:
        content, remote = change.content, change.remote
        assert content is not None and remote is not None
        seen = self._seen.get(remote.ref)
        sequence = seen.sequence if seen else 0
        if seen and seen.uid and seen.uid != content.uid:
            content = replace(content, uid=seen.uid)  # a resource's UID must never change
        body = render_event(content, self.stamp, sequence)
        if remote.etag:
            condition = {"If-Match": remote.etag}
        elif remote.cancelled:
            condition = {"If-None-Match": "*"}  # deleted by the user, restored on request
        else:
            condition = {}
        answer = self._put(remote.ref, body, condition)
        if _ok(answer):
            self.known.remember(content.plan, content, remote.ref, sequence + 1)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            return self._recheck(change)
        return Result(change, Outcome.FAILED, self._put_error(answer, content.uid))

    def _delete(self, change: Change) -> Result:
        remote = change.remote
        assert remote is not None
        headers = {"If-Match": remote.etag} if remote.etag else {}
        answer = self.transport.send("DELETE", self.transport.url(remote.ref), "", headers)
        if _ok(answer) or answer.status in (404, 410):
            self.known.forget(remote.key, remote.ref)
            return Result(change, Outcome.DONE)
        if answer.status == 412:
            return self._recheck(change)
        return Result(change, Outcome.FAILED, describe(answer))

    def _put(self, href: str, body: bytes, condition: Mapping[str, str]) -> DAVResponse:
        return self.transport.send(
            "PUT", self.transport.url(href), body, {**ICALENDAR, **condition}
        )

    def _put_error(self, answer: DAVResponse, uid: str) -> str:
        if answer.status == 409:
            return f"{describe(answer)}: another event in the calendar already has the UID {uid}"
        return describe(answer)

    def _recheck(self, change: Change) -> Result:
        """412: our own earlier write whose answer was lost, or an edit by someone else?
        The server's answer is read here; `landed` judges it."""
        content, remote = change.content, change.remote
        if remote is not None:
            ref = remote.ref
        else:
            assert content is not None  # a create: the href it would have
            ref = self.href_for(content.uid)
        answer = self.transport.send(
            "GET", self.transport.url(ref), "", {"Accept": "text/calendar"}
        )
        gone = answer.status in (404, 410)  # deleted by our write, or by the owner since
        if not gone and not _ok(answer):
            return Result(change, Outcome.FAILED, describe(answer))
        plan_id = content.plan if content is not None else change.key.split("/", 1)[0]
        events = [] if gone else _vevents(answer.raw)
        found = [s for e in events if (s := read_event(e, ref, None, plan_id, self.zone))]
        now = found[0] if found else None
        live = not gone and not (now is not None and now.remote.cancelled)
        outcome = recheck.landed(change, now.remote if now else None, live)
        if outcome is Outcome.DONE and change.action is Action.DELETE:
            self.known.forget(change.key, ref)
        elif outcome is Outcome.DONE and content is not None and now is not None:
            self.known.remember(content.plan, content, ref, now.sequence)
        return Result(change, outcome)

    # --- busy time from other calendars on the same server ---

    def busy(
        self, calendar_names: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """Busy time of other calendars, by name or URL, for placement and the overlap rule.

        The target calendar itself is read as events, leaving this plan's sessions
        out: free-busy cannot tell them from the owner's appointments, and each
        session would otherwise be busy time for itself on the next run.
        """
        found: list[Busy] = []
        for name in calendar_names:
            url = self._calendar_by_name(name)
            if _same_path(url, self.calendar_url):
                found += self._busy_from_events(url, name, start, end, skip_plan=plan_id)
            else:
                found += self._busy_of(url, name, start, end)
        return tuple(sorted(set(found), key=lambda b: (b.start, b.end, b.title)))

    def _calendar_by_name(self, name: str) -> str:
        if "://" in name or name.startswith("/"):
            return self.transport.url(name)
        if self._listed is None:
            if self.home_url is None:
                self.home_url = find_home(self.transport, self.calendar_url)
            self._listed = list_calendars(self.transport, self.home_url)
        match = pick_calendar(self._listed, name)
        if match is None:
            raise CalDAVFailure(f"no calendar named '{name}' for --busy on this server")
        return match

    def _busy_of(self, url: str, name: str, start: datetime, end: datetime) -> list[Busy]:
        answer = self.transport.send("REPORT", url, freebusy_body(start, end), {"Depth": "1"})
        if answer.status == 200:
            periods = freebusy_periods(answer.raw, start.tzinfo or UTC)
            if periods is not None:
                return [Busy(s, e, f"busy in {name}") for s, e in periods if s < end and e > start]
        # No free-busy REPORT here: read the events and expand them ourselves.
        return self._busy_from_events(url, name, start, end)

    def _busy_from_events(
        self, url: str, name: str, start: datetime, end: datetime, skip_plan: str = ""
    ) -> list[Busy]:
        from zoneinfo import ZoneInfo

        from calsync.core.busy import BusyFileError, parse_busy

        answer = self.transport.send("REPORT", url, query_body(start, end), {"Depth": "1"})
        if answer.status not in (200, 207):
            raise CalDAVFailure(f"cannot read the busy time of '{name}' ({describe(answer)})")
        zone = start.tzinfo if isinstance(start.tzinfo, ZoneInfo) else ZoneInfo("UTC")
        found: list[Busy] = []
        for result in answer.parse_calendar_query():
            data = result.calendar_data
            if not data or (skip_plan and not self._busy_here(data, result.href, skip_plan)):
                continue
            try:
                read = parse_busy(data, f"{name}:{result.href}", start, end, zone)
            except BusyFileError as err:
                self.warn(f"{err}; left out of the busy time")  # the rest of the calendar counts
                continue
            found += read.busy
            for warning in read.warnings:
                self.warn(str(warning))
        return [replace(b, title=f"busy in {name}") for b in found]

    def _busy_here(self, data: str, href: str, plan_id: str) -> bool:
        """Whether a resource of the target calendar is busy time (`counts_as_busy`); a
        session of this plan is recognised as `list_managed` does (by its properties or,
        when a client dropped them, by its UID)."""
        events = _vevents(data)
        if any(read_event(e, href, None, plan_id, self.zone) for e in events):
            return False  # one of ours, whatever else the resource holds
        return any(
            counts_as_busy(
                ours=False,
                transparent=str(e.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT",
                cancelled=str(e.get("STATUS", "")).upper() == "CANCELLED",
            )
            for e in events
        )


def freebusy_periods(data: str, zone: tzinfo) -> list[tuple[datetime, datetime]] | None:
    """The busy periods of a VFREEBUSY answer (FBTYPE=FREE left out); None: not one."""
    try:
        calendar = Calendar.from_ical(data)
    except ValueError:
        return None
    blocks = list(calendar.walk("VFREEBUSY"))
    if not blocks:
        return None
    periods: list[tuple[datetime, datetime]] = []
    for block in blocks:
        values = block.get("FREEBUSY", [])
        for prop in values if isinstance(values, list) else [values]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            periods += [
                (_aware(a).astimezone(zone), _aware(b).astimezone(zone)) for a, b in _periods(prop)
            ]
    return periods


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # FREEBUSY is UTC (RFC 5545)


def _periods(prop: Any) -> list[tuple[datetime, datetime]]:
    found = []
    for item in getattr(prop, "dts", [prop]):
        value = getattr(item, "dt", item)
        start, other = value
        end = start + other if isinstance(other, timedelta) else other
        found.append((start, end))
    return found


# --- finding the calendar ----------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    url: str
    name: str  # the display name, else the last path segment
    segment: str
    calendar: bool


def _props(transport: Transport, url: str, depth: int) -> tuple[int, list[Any]]:
    answer = transport.send("PROPFIND", url, PROPFIND_BODY, {"Depth": str(depth)})
    if answer.status not in (200, 207):
        return answer.status, []
    try:
        return answer.status, answer.parse_propfind()
    except Exception:  # an answer that is not a multistatus: not a DAV resource
        return answer.status, []


def _href(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _types(properties: Mapping[str, Any]) -> set[str]:
    value = properties.get(RESOURCE_TYPE) or []
    return set(value if isinstance(value, list) else [value])


def _same_path(a: str, b: str) -> bool:
    return urlsplit(a).path.rstrip("/") == urlsplit(b).path.rstrip("/")


def _home_from_principal(transport: Transport, principal: str) -> str | None:
    """The calendar-home-set href of a principal (decoded, as the server gave it)."""
    _, results = _props(transport, transport.url(principal), 0)
    return _href(results[0].properties.get(HOME_SET)) if results else None


def find_home(transport: Transport, url: str) -> str:
    """The calendar home of the user the client logs in as."""
    _, results = _props(transport, url, 0)
    properties = results[0].properties if results else {}
    home = _href(properties.get(HOME_SET))
    if home is None:
        principal = _href(properties.get(USER_PRINCIPAL))
        if principal is None:
            raise CalDAVFailure(f"cannot find the calendar home on the server of {public_url(url)}")
        home = _home_from_principal(transport, principal)
    if home is None:
        raise CalDAVFailure(f"the server of {public_url(url)} tells no calendar home for this user")
    return transport.url(home)


def list_calendars(transport: Transport, home: str) -> list[Listed]:
    status, results = _props(transport, home, 1)
    if status not in (200, 207):
        raise CalDAVFailure(f"cannot list the calendars in {public_url(home)} (HTTP {status})")
    found = []
    for result in results:
        if _same_path(result.href, home):
            continue
        segment = urlsplit(result.href).path.rstrip("/").rsplit("/", 1)[-1]
        name = str(result.properties.get(DISPLAY_NAME) or segment)
        found.append(
            Listed(
                transport.url(result.href),
                name,
                segment,
                CALENDAR_TYPE in _types(result.properties),
            )
        )
    return sorted(found, key=lambda c: c.url)


def pick_calendar(listed: Sequence[Listed], wanted: str) -> str | None:
    calendars = [c for c in listed if c.calendar]
    for match in (lambda c: c.name == wanted, lambda c: c.segment == wanted):
        for candidate in calendars:
            if match(candidate):
                return candidate.url
    return None


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "calendar"
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


@dataclass(frozen=True)
class Located:
    calendar_url: str | None  # None: missing, and not created (a dry run)
    name: str
    home_url: str | None
    created: bool


def _not_a_calendar(url: str) -> CalDAVFailure:
    return CalDAVFailure(
        f"{public_url(url)} is not a CalDAV calendar, principal or calendar home: give a "
        "calendar's URL, or a principal/home URL with --calendar NAME"
    )


def locate_calendar(
    transport: Transport, url: str, wanted: str | None, title: str, create: bool = True
) -> Located:
    """--url as a calendar, or as a principal/home where --calendar (default: the plan's
    title) is found by name, and made with MKCALENDAR when missing (unless a dry run)."""
    status, results = _props(transport, url, 0)
    if status == 404:
        raise CalDAVFailure(f"there is nothing at {public_url(url)} (HTTP 404): check --url")
    if not results:
        raise _not_a_calendar(url)
    properties = results[0].properties
    types = _types(properties)
    if CALENDAR_TYPE in types:
        name = str(properties.get(DISPLAY_NAME) or "")
        segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        if wanted and wanted not in (name, segment):
            raise CalDAVFailure(
                f"{public_url(url)} is the calendar '{name or segment}', not '{wanted}': "
                "leave out --calendar, or give the principal or home URL"
            )
        return Located(url if url.endswith("/") else url + "/", name or segment, None, False)
    home = _home_of(transport, url, properties, types)
    name = wanted or title
    listed = list_calendars(transport, home)
    found = pick_calendar(listed, name)
    if found is not None or not create:
        return Located(found, name, home, False)
    return Located(
        make_calendar(transport, home, name, {c.segment for c in listed}), name, home, True
    )


def _home_of(transport: Transport, url: str, properties: Mapping[str, Any], types: set[str]) -> str:
    home = _href(properties.get(HOME_SET))
    if home is not None:
        return transport.url(home)  # a principal
    if COLLECTION_TYPE not in types and urlsplit(url).path not in ("", "/"):
        raise _not_a_calendar(url)
    principal = _href(properties.get(USER_PRINCIPAL))
    home = _home_from_principal(transport, principal) if principal is not None else None
    if home is None:
        raise _not_a_calendar(url)
    # The server root leads to the user's home; any other collection must be that home.
    if urlsplit(url).path not in ("", "/") and not _same_path(home, url):
        raise _not_a_calendar(url)
    return transport.url(home)


def make_calendar(transport: Transport, home: str, name: str, taken: set[str]) -> str:
    url = urljoin(home if home.endswith("/") else home + "/", _slug(name, taken) + "/")
    answer = transport.send("MKCALENDAR", url, mkcalendar_body(name))
    if answer.status in (403, 405, 409):
        # "Something is there" (RFC 4791 and 4918 use 403 and 405, Radicale 409): most
        # likely our own MKCALENDAR, retried after its answer was lost. Use it if so.
        found = pick_calendar(list_calendars(transport, home), name)
        if found is not None:
            return found
    if answer.status != 201:
        raise CalDAVFailure(
            f"the CalDAV server refused to create the calendar '{name}' in "
            f"{public_url(home)} ({describe(answer)})"
        )
    return url


# --- the password ------------------------------------------------------------------


def resolve_password(
    password_file: Path | None,
    password_env: str | None,
    use_keyring: bool,
    username: str | None,
    url: str,
) -> str | None:
    """The password from a file, an environment variable or the system keyring (first
    given wins); None when none is given. Never from the command line itself."""
    if password_file is not None:
        return secret_sources.from_file(password_file, "password", PasswordError)
    if password_env:
        return secret_sources.from_env(password_env, PasswordError)
    if use_keyring:
        if not username:
            raise PasswordError("the keyring needs --username to know whose password to read")
        service = KEYRING_SERVICE.format(host=urlsplit(url).hostname or "")
        return secret_sources.from_keyring(service, username, "password", PasswordError)
    if username:
        raise PasswordError("no password given: use --password-file, --password-env or --keyring")
    return None


# --- one sync, as the command line runs it ------------------------------------------


def make_client(
    url: str, username: str | None, password: str | None, insecure: bool, timeout: int = 30
) -> DAVClient:
    return DAVClient(
        url=url,
        username=username,
        password=password,
        # credentials go with the first request, not only after a 401: a server that
        # lets anyone in (Radicale with auth none) otherwise never learns who the
        # user is, and the principal URL the user gave does not exist for nobody
        auth_type="basic" if username and password else None,
        ssl_verify_cert=not insecure,
        timeout=timeout,
        enable_rfc6764=False,  # the URL is given: no DNS discovery behind the user's back
    )


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"--url must be an http:// or https:// URL, not '{public_url(url)}'")
    if parts.password:
        raise BadInput(
            "--url holds a password: give it with a password file, an environment "
            "variable or the keyring instead"
        )


def caldav_target(
    plan: Plan,
    request: SyncRequest,
    url: str,
    calendar: str | None,
    username: str | None,
    password: str | None,
    busy_calendars: tuple[str, ...],
    insecure: bool,
    *,
    state_path: Path | None = None,
    client: DAVClient | None = None,
    retry: Retry = CALDAV_RETRY,
    progress: ProgressFor = quiet,
    warn: Warn = warn_on_stderr,
) -> SyncReport:
    """One CalDAV sync, for `calsync.targets.open` (which has checked the URL) and tests
    (the keyword-only arguments: a state file, a counting or failing client, no waits
    between retries). The state file is, by default, the one of the calendar found
    (see `CalDAVBackend`)."""
    from calsync.io.locks import writing

    if insecure:
        warn(
            "--insecure: the server's TLS certificate is NOT checked; anyone on the network "
            "path can read your password and calendar"
        )
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    elif (
        urlsplit(url).scheme == "http"
        and password
        and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1")
    ):
        warn(f"the password goes to {_server(url)} unencrypted (http://, not https://)")
    # One lock for the URL and calendar name given, whichever command writes them.
    identity = f"{public_url(url)}\n{calendar or ''}"
    label = f"the CalDAV calendar at {public_url(url)}" + (f" '{calendar}'" if calendar else "")
    with writing("caldav", identity, label, request.dry_run):
        transport = Transport(client or make_client(url, username, password, insecure), retry)
        located = locate_calendar(transport, url, calendar, plan.title, create=not request.dry_run)
        backend = CalDAVBackend(
            transport,
            located.calendar_url or url,
            state_path,
            stamp=request.now,
            zone=plan.zone,
            home_url=located.home_url,
            warn=warn,
        )
        backend.label = f"caldav:{located.name}"
        if located.created or located.calendar_url is None:
            backend.fresh = True
            backend.known.clear()  # a new calendar under an old URL holds none of the old keys
        return sync_plan(backend, plan, request, busy_calendars, progress)
