"""The .ics writer: an RFC 5545 calendar that imports and subscribes cleanly.

The previous file at the output path is the only state (see `previous`): an
unchanged event keeps its `SEQUENCE` and `DTSTAMP` and its very bytes, a changed
one gets `SEQUENCE + 1` and a new `DTSTAMP`, so clients apply updates and an
unchanged plan regenerates the same bytes. The past is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from icalendar import Calendar, Timezone

from calsync.core.content import EventContent, event_content
from calsync.core.dates import reads_once
from calsync.core.instants import as_written
from calsync.core.model import Schedule
from calsync.errors import Failure
from calsync.io.atomic import write_atomic
from calsync.targets.ics.memo import Written, forget, memo_path, recalled, remember
from calsync.targets.ics.previous import Previous, Stamp, read_previous
from calsync.targets.ics.text import event_text, in_utc, zones_of

PRODID = "-//calsync//calsync 1//EN"
REFRESH = timedelta(hours=12)


def render(schedule: Schedule, now: datetime, previous: Previous | None = None) -> bytes:
    """The whole calendar as bytes; pure, and deterministic for the same inputs."""
    return _build(schedule, now, previous).data


@dataclass(frozen=True)
class Export:
    """What one write of the file changed, for the summary line."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Built:
    data: bytes
    counts: Export
    events: list[Written]  # in file order, for the memo of the file
    first: int  # where the first event begins in `data`
    plain: bool  # every event in calsync's plain form (its past ones scanned as such)


def _build(schedule: Schedule, now: datetime, previous: Previous | None) -> Built:
    """Serialise event by event, straight to text (see `text`)."""
    plan = schedule.plan
    stamps = previous.stamps if previous else {}
    chunks: list[bytes] = []
    written: list[Written] = []
    years: set[int] = set()
    zones: set[str] = set()
    for event in previous.past if previous else ():
        chunks.append(event.text)
        years.add(event.year)
        zones.update(event.zones)
        stamp, size = stamps[event.uid], len(event.text)
        written.append(Written(event.uid, stamp, event.start, event.key, event.zones, size))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    plain = previous is None or previous.plain
    for occurrence in schedule.occurrences:
        content = event_content(occurrence, schedule.conflicts_for(occurrence.key))
        before = stamps.get(content.uid)
        chunk, stamp = _event(content, before, now)
        chunks.append(chunk)
        start = as_written(content.start).replace(microsecond=0)
        # the scanner leaves a time that does not read once to icalendar: no memo then
        plain = plain and reads_once(start) and reads_once(as_written(content.end))
        plain = plain and in_utc(stamp.dtstamp)  # a DTSTAMP with a TZID is not plain either
        kept = zones_of(content)
        written.append(Written(content.uid, stamp, start, content.key, frozenset(kept), len(chunk)))
        years.add(occurrence.start.year)
        zones.update(kept)
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
    head = _header(plan.title, plan.timezone).to_ical().removesuffix(_END) + b"".join(timezones)
    return Built(head + b"".join(chunks) + _END, Export(**counts), written, len(head), plain)


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


def _event(content: EventContent, before: Stamp | None, now: datetime) -> tuple[bytes, Stamp]:
    """A changed event gets SEQUENCE + 1 and DTSTAMP now; an unchanged one keeps both.
    Returns its text and the stamp written into it."""
    if before is None:
        stamp = Stamp(content.fingerprint, 0, now)
    elif before.fingerprint != content.fingerprint:
        stamp = Stamp(content.fingerprint, before.sequence + 1, now)
    else:
        stamp = Stamp(content.fingerprint, before.sequence, before.dtstamp)
    stamp = replace(stamp, dtstamp=stamp.dtstamp.replace(microsecond=0))
    return event_text(content, stamp.dtstamp, stamp.sequence), stamp


def export(schedule: Schedule, path: Path, now: datetime) -> Export:
    """Render over the previous file at `path` (if calsync wrote it) and replace it atomically,
    holding the file's lock from the read to the rename (see `locks`).

    Only a regular file is a previous calendar. Anything else (/dev/stdout, a pipe,
    /dev/null) is simply written to, and a failed write is a `Failure` naming it.
    """
    from calsync.io.locks import writing

    special = _not_a_file(path)
    plan_id = schedule.plan.id
    with writing("ics", str(path.expanduser().absolute()), str(path)):
        previous = None
        memo = memo_path(path)
        if path.exists() and not special:
            first = schedule.plan.midnight(schedule.start)
            data = path.read_bytes()
            previous = recalled(memo, data, plan_id, first) or read_previous(
                data, plan_id, first, str(path)
            )
        built = _build(schedule, now, previous)
        if special:
            _write_through(path, built.data)
            return built.counts
        write_atomic(path, built.data)
        if built.plain:
            remember(memo, built.data, plan_id, built.first, built.events)
        else:
            forget(memo)
        return built.counts


def _write_through(path: Path, data: bytes) -> None:
    try:
        with path.open("wb") as out:
            out.write(data)
    except BrokenPipeError:
        raise  # `-o /dev/stdout | head`: the reader has gone, not a failure
    except OSError as err:
        raise Failure(f"cannot write {path}: {err.strerror or err}") from None


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
    event = _event(content, before, now)[0]
    zones = b"".join(_vtimezone(zone, content.start.year) for zone in sorted(zones_of(content)))
    return _RESOURCE_HEAD + zones + event + _END


def _resource_head() -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")  # no METHOD: RFC 4791 4.1 forbids it in a resource
    text: bytes = calendar.to_ical()
    return text.removesuffix(_END)


_END = b"END:VCALENDAR\r\n"
_RESOURCE_HEAD = _resource_head()


@lru_cache(maxsize=32)
def _vtimezone(zone: str, year: int) -> bytes:
    """The same VTIMEZONE as in a whole file (whole years, two ahead), built once per year."""
    timezone = Timezone.from_tzid(zone, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))
    text: bytes = timezone.to_ical()
    return text
