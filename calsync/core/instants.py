"""Instants in iCalendar text: written so every reader gets them, read back as instants.

RFC 5545 (3.3.5) reads a local time with a TZID that occurs twice (clocks go
back) as its first occurrence, and one that does not exist (clocks go
forward) with the offset before the gap. A session's start or end that is the
second occurrence of a repeated local time (a 30-minute session from 02:30
ends at the second 02:00 when Brussels falls back) cannot be written as local
text at all: every reader would take the first 02:00, an hour earlier, and
put the end before the start. Such a value is written in UTC; every other
value keeps its TZID, so clients show the plan's wall-clock times.

The fingerprint of an event read back is built from instants, so a value
written in UTC and one written as local text compare equal when they denote
the same moment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from icalendar import Event

from calsync.core.content import fingerprint
from calsync.core.dates import reads_once


def as_written(value: datetime) -> datetime:
    """`value` itself when its local text denotes it for an RFC 5545 reader, else in UTC."""
    if value.tzinfo is None or value.tzinfo is UTC:
        return value
    read_back = value.replace(fold=0)  # how a reader resolves the wall-clock text
    if read_back.astimezone(UTC) == value.astimezone(UTC):
        return read_back
    return value.astimezone(UTC)


def read_instant(value: date, zone: tzinfo, second: bool = False) -> datetime:
    """A DATE-TIME or DATE as an aware datetime (floating ones and dates in `zone`);
    `second` reads a repeated local time as its second occurrence (see `misread`)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=zone)
        return aware.replace(fold=1) if second else aware
    return datetime.combine(value, datetime.min.time(), tzinfo=zone)


def event_end(event: Event, start: datetime, zone: tzinfo, second: bool = False) -> datetime:
    if "DTEND" in event:
        return read_instant(event.decoded("DTEND"), zone, second)
    if "DURATION" in event:
        # An exact duration (RFC 5545 3.3.6): added to the instant, not to the wall clock.
        exact: timedelta = event.decoded("DURATION")
        return (start.astimezone(UTC) + exact).astimezone(start.tzinfo)
    return start


def event_reminder(event: Event, start: datetime, end: datetime, zone: tzinfo) -> int | None:
    """Minutes before the start of the alarm nearest the start (as Google's backend counts)."""
    minutes: list[int] = []
    for alarm in event.walk("VALARM"):
        if "TRIGGER" not in alarm:
            continue
        trigger = alarm.decoded("TRIGGER")
        if isinstance(trigger, timedelta):
            related = str(alarm["TRIGGER"].params.get("RELATED", "START")).upper()
            moment = (end if related == "END" else start).astimezone(UTC) + trigger
        else:
            moment = read_instant(trigger, zone)
        minutes.append(round((start.astimezone(UTC) - moment).total_seconds() / 60))
    return min(minutes) if minutes else None


def event_fingerprint(
    event: Event, zone: tzinfo = UTC, second: tuple[bool, bool] = (False, False)
) -> str:
    """The fingerprint of what the event holds now, built like `EventContent.fingerprint`
    (`second`: read DTSTART, DTEND as the second occurrence of a repeated local time)."""
    start = read_instant(event.decoded("DTSTART"), zone, second[0])
    end = event_end(event, start, zone, second[1])
    location = str(event.get("LOCATION", "")) or None
    return fingerprint(
        str(event.get("SUMMARY", "")),
        str(event.get("DESCRIPTION", "")),
        start,
        end,
        location,
        event_reminder(event, start, end, zone),
    )


def misread(event: Event, stored: str, zone: tzinfo = UTC) -> bool:
    """An event calsync wrote before it wrote repeated local times in UTC: read with its
    repeated local times taken as their second occurrence, it matches what calsync stored.
    Such an event was never edited; it needs rewriting, so every reader gets its instants."""
    if not stored or not any(_repeated(event, name) for name in ("DTSTART", "DTEND")):
        return False
    readings = ((False, True), (True, False), (True, True))
    return any(event_fingerprint(event, zone, r) == stored for r in readings)


def _repeated(event: Event, name: str) -> bool:
    """The property is a local time that occurs twice (a cheap test before any fingerprint)."""
    if name not in event:
        return False
    value = event.decoded(name)
    if not isinstance(value, datetime) or value.tzinfo in (None, UTC):
        return False
    return not reads_once(value)
