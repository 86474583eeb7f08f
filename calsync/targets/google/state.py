"""What calsync remembers of one Google target between runs: the calendar's id, the
`nextSyncToken` of the last listing, and the plan's events as that listing showed them.

Google's "Synchronize resources efficiently" guide: a full listing ends with a
`nextSyncToken`; a later `events.list?syncToken=` returns only what changed since,
deletions included (as `status: cancelled`), and 410 `fullSyncRequired` when the
token is no longer good. The changes are laid over the remembered picture, so the
engine judges each event exactly as if the whole calendar had been listed: an event
the owner edited, moved or deleted since comes back in the changes and is seen as
such. Nothing here is a secret (no credentials, only ids, times, titles and
fingerprints), and losing the file costs one full listing, never a wrong write.

The picture is complete for the plan's events that end after `since` (the first
moment the full listing asked for; None: all of them): every such event was in that
listing or changed after it, and so came back in a later change list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from calsync.io.atomic import WriteFailure, write_atomic
from calsync.sync.backend import Warn
from calsync.sync.engine import Remote

VERSION = 1
Event = Mapping[str, Any]
# One remembered event, as a list (the file stays small): the order of these names.
COLUMNS = ("key", "start", "end", "summary", "stored", "current", "etag", "cancelled")


@dataclass(frozen=True)
class Held:
    """One of the plan's events as Google last showed it: what the engine judges, and
    its end (the listing's range is matched the way Google's timeMin/timeMax are)."""

    remote: Remote
    end: datetime


@dataclass
class Picture:
    """The plan's events in one calendar as of `token` (None: not listed yet)."""

    calendar_id: str
    plan: str
    token: str | None = None
    since: datetime | None = None
    events: dict[str, Held] = field(default_factory=dict)  # by Google event id

    def covers(self, calendar_id: str, plan: str, start: datetime) -> bool:
        """Whether changes since `token` complete this picture for a listing from `start`."""
        return (
            self.token is not None
            and self.calendar_id == calendar_id
            and self.plan == plan
            and (self.since is None or self.since <= start)
        )

    def within(self, start: datetime, end: datetime) -> list[Remote]:
        """The events a `timeMin=start, timeMax=end` listing returns: ending after start,
        starting before end."""
        return [h.remote for h in self.events.values() if h.end > start and h.remote.start < end]

    def absorb(self, event: Event, held: Held | None) -> None:
        """Lay one changed event over the picture; `held` is it as one of this plan's
        events (None: it is not, or not any more, or it is a bare deletion notice)."""
        ref = str(event.get("id", ""))
        bare = "extendedProperties" not in event and "start" not in event
        if held is not None:
            self.events[ref] = held
        elif bare and event.get("status") == "cancelled" and ref in self.events:
            # Deleted, and Google sent only the id and the status: still the plan's.
            old = self.events[ref]
            etag = event.get("etag", old.remote.etag)
            self.events[ref] = Held(replace(old.remote, cancelled=True, etag=etag), old.end)
        else:
            self.events.pop(ref, None)  # no longer this plan's event: not listed any more

    def prune(self, before: datetime) -> None:
        """Forget events that end before `before`; the picture stays complete from there."""
        if self.since is not None and self.since >= before:
            return
        self.events = {ref: h for ref, h in self.events.items() if h.end > before}
        self.since = before


def state_path(folder: Path, endpoint: str, account: str, calendar: str, plan: str) -> Path:
    """The file of one target: the server, the account (its token or service-account file),
    the calendar as named by the user and the plan."""
    identity = "\n".join((endpoint, account, calendar, plan))
    return folder / "google" / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.json"


def dump(picture: Picture) -> bytes:
    events = {
        ref: [
            h.remote.key,
            h.remote.start.isoformat(),
            h.end.isoformat(),
            h.remote.summary,
            h.remote.stored,
            h.remote.current,
            h.remote.etag,
            h.remote.cancelled,
        ]
        for ref, h in sorted(picture.events.items())
    }
    document = {
        "version": VERSION,
        "calendar": picture.calendar_id,
        "plan": picture.plan,
        "token": picture.token,
        "since": picture.since.isoformat() if picture.since else None,
        "columns": list(COLUMNS),
        "events": events,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class Damaged(ValueError):
    """The state file cannot be used; the message says what is wrong with it."""


def parse(data: bytes) -> Picture:
    try:
        document = json.loads(data)
    except ValueError as err:  # UnicodeDecodeError too
        raise Damaged(f"is damaged (not JSON: {err})") from None
    if not isinstance(document, dict):
        raise Damaged("is damaged (not a JSON object)")
    if document.get("version") != VERSION:
        raise Damaged(f"has an unknown version {document.get('version')!r}")
    calendar, plan, token = (document.get(k) for k in ("calendar", "plan", "token"))
    if not isinstance(calendar, str) or not calendar or not isinstance(plan, str):
        raise Damaged("is damaged (no calendar id or plan)")
    if token is not None and not isinstance(token, str):
        raise Damaged("is damaged (the sync token is not text)")
    if document.get("columns") != list(COLUMNS) or not isinstance(document.get("events"), dict):
        raise Damaged("is damaged (no 'events' of the expected columns)")
    try:
        since = _moment(document.get("since")) if document.get("since") is not None else None
        events = {str(ref): _held(str(ref), row) for ref, row in document["events"].items()}
    except (TypeError, ValueError) as err:
        raise Damaged(f"is damaged ({err})") from None
    return Picture(calendar, plan, token, since, events)


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"a time that is not text: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a time without its offset: {value!r}")
    return moment


def _held(ref: str, row: object) -> Held:
    if not isinstance(row, list) or len(row) != len(COLUMNS):
        raise ValueError(f"an event that is not a list of {len(COLUMNS)}: {str(row)[:60]}")
    key, start, end, summary, stored, current, etag, cancelled = row
    texts = (key, summary, stored, current)
    if not all(isinstance(t, str) for t in texts) or not isinstance(cancelled, bool):
        raise ValueError(f"an event with fields of the wrong kind: {str(row)[:60]}")
    if etag is not None and not isinstance(etag, str):
        raise ValueError(f"an event whose etag is not text: {str(row)[:60]}")
    remote = Remote(key, ref, _moment(start), summary, stored, current, etag, cancelled)
    return Held(remote, _moment(end))


def load(path: Path, warn: Warn) -> Picture | None:
    """The remembered picture; None (a full listing) when there is none or it is damaged,
    which is said once, naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        warn(f"the Google state file {path} cannot be read ({err.strerror or err}); {_AFTER}")
        return None
    try:
        picture = parse(data)
    except Damaged as err:
        warn(f"the Google state file {path} {err}; {_AFTER}")
        return None
    return picture


_AFTER = "calsync lists the whole calendar once instead (nothing is lost)"


def save(path: Path, picture: Picture, warn: Warn) -> None:
    """Write the picture atomically; a failure costs the next run a full listing only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, dump(picture))
    except OSError as err:
        warn(f"cannot write the Google state file {path}: {err.strerror or err}")
    except WriteFailure as err:
        warn(f"{err}; the next run lists the whole calendar once")
