"""Reading CalDAV events: which are calsync's, and what a write needs to know of them.

An event is calsync's when X-CALSYNC-PLAN names the plan or, for a client that
dropped our properties on edit, when its UID is one calsync derives from this
plan's session keys. What is read of it (`Seen`) can be kept between runs
(`seen_to_json`, `seen_from_json`), so a rerun need not read an event whose
ETag has not moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event

from calsync.core.content import EventContent
from calsync.core.instants import event_fingerprint as current_fingerprint
from calsync.core.instants import misread, read_instant
from calsync.core.model import uid_for
from calsync.sync.engine import Remote

__all__ = ["UNREADABLE", "Reading", "Seen", "current_fingerprint", "read_event", "seen_from_json"]


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


# What is kept of one href: the ETag it was read at, and its events of this plan.
Reading = tuple[str, list[Seen]]


def vevents(data: str | None) -> list[Event]:
    if not data:
        return []
    try:
        return [e for e in Calendar.from_ical(data).walk("VEVENT") if isinstance(e, Event)]
    except ValueError:
        return []  # someone else's broken resource: not ours to judge


# --- what is kept of a listed event between runs -------------------------------------

# Bumped whenever `read_event` would read the same event differently: kept readings of
# another version are read afresh.
READER = 1


def written(content: EventContent, href: str, etag: str, uid: str, sequence: int) -> Seen:
    """What `read_event` reads from the event calsync has just written (`render_event`
    with this content, UID and SEQUENCE), without parsing it back."""
    remote = Remote(
        key=content.key,
        ref=href,
        start=content.start,
        summary=content.summary,
        stored=content.fingerprint,
        current=content.fingerprint,
        etag=etag,
    )
    return Seen(remote, uid, sequence, uid == uid_for(content.key))


def seen_to_json(seen: Seen) -> dict[str, Any]:
    r = seen.remote
    return {
        "key": r.key,
        "start": r.start.isoformat(),
        "zone": getattr(r.start.tzinfo, "key", None),
        "summary": r.summary,
        "stored": r.stored,
        "current": r.current,
        "cancelled": r.cancelled,
        "uid": seen.uid,
        "sequence": seen.sequence,
        "ours": seen.ours,
    }


def seen_from_json(item: Any, href: str, etag: str) -> Seen:
    """The reading kept by `seen_to_json`; ValueError, KeyError or TypeError if damaged."""
    if not isinstance(item, dict):
        raise TypeError("not an object")
    start = datetime.fromisoformat(item["start"])
    if start.tzinfo is None:
        raise ValueError("a start without its offset")
    zone = item.get("zone")
    if zone is not None:
        try:
            start = start.astimezone(ZoneInfo(str(zone)))
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown zone {zone!r}") from err
    texts = [item[n] for n in ("key", "summary", "stored", "current", "uid")]
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("a text field that is not text")
    flags = [item[n] for n in ("cancelled", "ours")]
    if not all(isinstance(f, bool) for f in flags) or type(item["sequence"]) is not int:
        raise TypeError("a flag or a sequence of the wrong type")
    key, summary, stored, current, uid = texts
    remote = Remote(key, href, start, summary, stored, current, etag, flags[0])
    return Seen(remote, uid, item["sequence"], flags[1])
