"""A session as a Google event and back: the body calsync writes, the event it reads.

The session key, the plan and the fingerprint of what calsync wrote travel in the
event's private extended properties (Google's extended-properties guide); the event
id derives from the key, so a resent insert can never make a second event.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calsync.core.content import EventContent, fingerprint
from calsync.sync.engine import Remote
from calsync.targets.google.state import Held

PLAN, KEY, HASH = "calsyncPlan", "calsyncKey", "calsyncHash"
# What a listing of the plan's events needs (to_remote, current_fingerprint): Google's
# partial responses leave out the rest (links, creators, iCalUIDs: half of each event).
LIST_FIELDS = (
    "nextPageToken,nextSyncToken,items(id,etag,status,summary,description,location,"
    "start,end,reminders,extendedProperties/private)"
)


def event_id(key: str) -> str:
    """A valid Google event id (base32hex: 0-9 a-v) derived from the session key only."""
    return "cs" + hashlib.sha256(key.encode()).hexdigest()[:40]


def event_body(content: EventContent) -> dict[str, Any]:
    overrides = (
        [] if content.reminder is None else [{"method": "popup", "minutes": content.reminder}]
    )
    body: dict[str, Any] = {
        "summary": content.summary,
        "description": content.description,
        "start": {"dateTime": content.start.isoformat(), "timeZone": content.timezone},
        "end": {"dateTime": content.end.isoformat(), "timeZone": content.timezone},
        "reminders": {"useDefault": False, "overrides": overrides},
        "transparency": "opaque",
        "status": "confirmed",
        "extendedProperties": {
            "private": {PLAN: content.plan, KEY: content.key, HASH: content.fingerprint}
        },
    }
    body["location"] = content.location or ""
    return body


def instant(value: dict[str, Any], local: tzinfo = UTC) -> datetime:
    """An event's start or end as an aware instant.

    An all-day event's date begins at midnight in `local` (the plan's zone: the days
    the user lives in), and a time without an offset is in the event's own `timeZone`
    (else `local`), as the Calendar API defines them."""
    if "dateTime" in value:
        moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(value.get("timeZone")) or local)
        return moment
    return datetime.fromisoformat(value["date"]).replace(tzinfo=local)


def _zone(name: str | None) -> tzinfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a name this machine does not know: the plan's zone stands in


def current_fingerprint(event: dict[str, Any]) -> str:
    reminders = event.get("reminders") or {}
    minutes = [o.get("minutes") for o in reminders.get("overrides") or []]
    return fingerprint(
        event.get("summary", ""),
        event.get("description", ""),
        instant(event["start"]),
        instant(event["end"]),
        event.get("location"),
        min(minutes) if minutes else None,
    )


def to_held(event: dict[str, Any], plan_id: str) -> Held | None:
    """One of the plan's events as the picture keeps it (None: not the plan's)."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    remote = to_remote(event) if private.get(PLAN) == plan_id else None
    if remote is None:
        return None
    return Held(remote, instant(event["end"]) if "end" in event else remote.start)


def to_remote(event: dict[str, Any]) -> Remote | None:
    private = (event.get("extendedProperties") or {}).get("private") or {}
    if KEY not in private or "start" not in event:
        return None
    return Remote(
        key=private[KEY],
        ref=event["id"],
        start=instant(event["start"]),
        summary=event.get("summary", ""),
        stored=private.get(HASH, ""),
        current=current_fingerprint(event),
        etag=event.get("etag"),
        cancelled=event.get("status") == "cancelled",
    )
