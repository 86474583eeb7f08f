"""What a workout on intervals.icu holds: the fields calsync writes, its last line
(`calsync: KEY HASH SEEN`), how a listed event is read back, and each session's type."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from calsync.core.content import EventContent
from calsync.core.model import Kind
from calsync.errors import BadInput
from calsync.sync.engine import Remote

if TYPE_CHECKING:
    from calsync.core.model import Plan

PREFIX = "calsync:"  # external_id = PREFIX + session key
MARKER = re.compile(r"^calsync: (\S+) ([0-9a-f]{20}) ([0-9a-f]{12})$")
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
