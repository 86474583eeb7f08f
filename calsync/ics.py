"""The .ics writer: an RFC 5545 calendar that imports and subscribes cleanly.

The previous file at the output path is the only state: an event whose
content fingerprint (`X-CALSYNC-HASH`) is unchanged keeps its `SEQUENCE` and
`DTSTAMP`, a changed one gets `SEQUENCE + 1` and a new `DTSTAMP`, so clients
apply updates and an unchanged plan regenerates the same bytes. Sessions
before the range that the previous file holds are kept as they were: the past
is never rewritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from icalendar import Alarm, Calendar, Event, Timezone

from .content import EventContent, event_content
from .errors import BadInput, Failure
from .model import Schedule

PRODID = "-//calsync//calsync 1//EN"
REFRESH = timedelta(hours=12)


class NotOurFile(BadInput):
    """The output path holds a file calsync did not write; it is not overwritten."""


@dataclass(frozen=True)
class Stamp:
    """What the previous file says about one event."""

    fingerprint: str
    sequence: int
    dtstamp: datetime


@dataclass(frozen=True)
class Previous:
    stamps: Mapping[str, Stamp]
    past: tuple[Event, ...]  # this plan's events before the new range, kept verbatim


def read_previous(data: bytes, plan_id: str, range_start: datetime, source: str) -> Previous:
    """The state kept in a file calsync wrote before; NotOurFile for anything else."""
    try:
        calendar = Calendar.from_ical(data)
    except ValueError as err:
        raise NotOurFile(f"{source} is not an iCalendar file ({err})") from None
    if not str(calendar.get("PRODID", "")).startswith("-//calsync//"):
        raise NotOurFile(f"{source} was not written by calsync; refusing to overwrite it")
    stamps: dict[str, Stamp] = {}
    past: list[Event] = []
    for event in calendar.walk("VEVENT"):
        if str(event.get("X-CALSYNC-PLAN", "")) != plan_id:
            continue
        uid = str(event["UID"])
        stamps[uid] = Stamp(
            str(event.get("X-CALSYNC-HASH", "")),
            int(event.get("SEQUENCE", 0)),
            event.decoded("DTSTAMP"),
        )
        if event.decoded("DTSTART") < range_start:
            past.append(event)
    return Previous(stamps, tuple(past))


def render(schedule: Schedule, now: datetime, previous: Previous | None = None) -> bytes:
    """The whole calendar as bytes; pure, and deterministic for the same inputs."""
    return _build(schedule, now, previous)[0]


@dataclass(frozen=True)
class Export:
    """What one write of the file changed, for the summary line."""

    created: int
    updated: int
    unchanged: int


def _build(schedule: Schedule, now: datetime, previous: Previous | None) -> tuple[bytes, Export]:
    """Serialise event by event, so a ten-year file never holds every event object at once."""
    plan = schedule.plan
    stamps = previous.stamps if previous else {}
    chunks: list[bytes] = []
    years: set[int] = set()
    zones: set[str] = set()
    for event in previous.past if previous else ():
        chunks.append(event.to_ical())
        years.add(event.decoded("DTSTART").year)
        zones.update(_zones_of(event))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for occurrence in schedule.occurrences:
        content = event_content(occurrence, schedule.conflicts_for(occurrence.key))
        before = stamps.get(content.uid)
        chunks.append(_event(content, before, now).to_ical())
        years.add(occurrence.start.year)
        zones.add(content.timezone)
        if before is None:
            counts["created"] += 1
        else:
            counts["updated" if before.fingerprint != content.fingerprint else "unchanged"] += 1
    # Whole years of transitions, so a client moving an event a few weeks still
    # finds the right offset; derived from the events, so the output stays stable.
    first, last = date(min(years, default=2000), 1, 1), date(max(years, default=2000) + 2, 1, 1)
    timezones = [
        Timezone.from_tzid(z, first_date=first, last_date=last).to_ical() for z in sorted(zones)
    ]
    head = _header(plan.title, plan.timezone).to_ical().removesuffix(_END)
    return head + b"".join(timezones) + b"".join(chunks) + _END, Export(**counts)


def _header(title: str, timezone: str) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("NAME", title)
    calendar.add("X-WR-CALNAME", title)
    calendar.add("X-WR-TIMEZONE", timezone)
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", "PT12H")  # a text property, not a typed duration
    return calendar


def _zones_of(event: Event) -> set[str]:
    return {
        str(event[name].params["TZID"])
        for name in ("DTSTART", "DTEND")
        if name in event and "TZID" in event[name].params
    }


def _event(content: EventContent, before: Stamp | None, now: datetime) -> Event:
    changed = before is None or before.fingerprint != content.fingerprint
    sequence = 0 if before is None else before.sequence + (1 if changed else 0)
    event = Event()
    event.add("UID", content.uid)
    event.add("DTSTAMP", now if changed else before.dtstamp)  # type: ignore[union-attr]
    event.add("SEQUENCE", sequence)
    event.add("DTSTART", content.start)
    event.add("DTEND", content.end)
    event.add("SUMMARY", content.summary)
    event.add("DESCRIPTION", content.description)
    if content.location:
        event.add("LOCATION", content.location)
    event.add("CATEGORIES", list(content.categories))
    event.add("STATUS", "CONFIRMED")
    event.add("TRANSP", "OPAQUE")
    event.add("X-CALSYNC-PLAN", content.plan)
    event.add("X-CALSYNC-KEY", content.key)
    event.add("X-CALSYNC-HASH", content.fingerprint)
    if content.reminder is not None:
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", content.summary)
        alarm.add("TRIGGER", timedelta(minutes=-content.reminder))
        event.add_component(alarm)
    return event


def export(schedule: Schedule, path: Path, now: datetime) -> Export:
    """Render over the previous file at `path` (if calsync wrote it) and replace it atomically.

    Only a regular file is a previous calendar. Anything else (/dev/stdout, a pipe,
    /dev/null) is simply written to, and a failed write is a `Failure` naming it.
    """
    previous = None
    special = _not_a_file(path)
    if path.exists() and not special:
        first = schedule.plan.midnight(schedule.start)
        previous = read_previous(path.read_bytes(), schedule.plan.id, first, str(path))
    data, counts = _build(schedule, now, previous)
    if special:
        try:
            with path.open("wb") as out:
                out.write(data)
        except BrokenPipeError:
            raise  # `-o /dev/stdout | head`: the reader has gone, not a failure
        except OSError as err:
            raise Failure(f"cannot write {path}: {err.strerror or err}") from None
    else:
        write_atomic(path, data)
    return counts


def _not_a_file(path: Path) -> bool:
    """A device, a pipe or a terminal, under whatever name (/dev/stdout links to /proc)."""
    if path.exists() and not path.is_file():
        return True
    return str(path.resolve()).startswith(("/dev/", "/proc/"))


def render_event(content: EventContent, now: datetime, sequence: int | None = None) -> bytes:
    """One session as a standalone VCALENDAR (a CalDAV resource): its VEVENT and VTIMEZONE.

    `sequence` is the remote event's SEQUENCE on an update; the new one is one
    more (an update always changes what a client should show). None: a new event.
    """
    # A fingerprint of "" never matches, so `_event` bumps SEQUENCE and DTSTAMP.
    before = None if sequence is None else Stamp("", sequence, now)
    event = _event(content, before, now)
    zones = b"".join(_vtimezone(zone, content.start.year) for zone in sorted(_zones_of(event)))
    return _RESOURCE_HEAD + zones + event.to_ical() + _END


def _resource_head() -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")  # no METHOD: RFC 4791 4.1 forbids it in a resource
    return calendar.to_ical().removesuffix(_END)


_END = b"END:VCALENDAR\r\n"
_RESOURCE_HEAD = _resource_head()


@lru_cache(maxsize=32)
def _vtimezone(zone: str, year: int) -> bytes:
    """The same VTIMEZONE as in a whole file (whole years, two ahead), built once per year."""
    return Timezone.from_tzid(
        zone, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1)
    ).to_ical()


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: a reader sees the old file or the new one."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def now_from(option: datetime | None, environ: Mapping[str, str]) -> datetime:
    """--now, else SOURCE_DATE_EPOCH (reproducible builds), else the clock; always UTC."""
    if option is not None:
        return option.replace(tzinfo=option.tzinfo or UTC).astimezone(UTC)
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)
