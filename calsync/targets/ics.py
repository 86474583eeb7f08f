"""The .ics writer: an RFC 5545 calendar that imports and subscribes cleanly.

The previous file at the output path is the only state: an event whose
content fingerprint (`X-CALSYNC-HASH`) is unchanged keeps its `SEQUENCE` and
`DTSTAMP`, a changed one gets `SEQUENCE + 1` and a new `DTSTAMP`, so clients
apply updates and an unchanged plan regenerates the same bytes. Sessions
before the range that the previous file holds are kept as they were: the past
is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Timezone

from calsync.core.content import EventContent, event_content
from calsync.core.instants import as_written, event_fingerprint, misread
from calsync.core.model import Schedule
from calsync.errors import BadInput, Failure
from calsync.io.atomic import write_atomic

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
class PastEvent:
    """One of this plan's events before the new range, kept as it was written."""

    text: bytes  # from BEGIN:VEVENT to END:VEVENT, CRLF-terminated
    year: int  # of DTSTART, as written
    zones: frozenset[str]  # the TZIDs of DTSTART and DTEND


@dataclass(frozen=True)
class Previous:
    stamps: Mapping[str, Stamp]
    past: tuple[PastEvent, ...]  # this plan's events before the new range, kept verbatim
    # The exact text of this plan's other events by UID (from the scanner only): an
    # unchanged event is copied from here when it is what `_event` would write (`_plain`).
    written: Mapping[str, bytes] = field(default_factory=dict)


class DamagedFile(BadInput):
    """A file calsync wrote before is damaged; it is not overwritten (exit 2)."""


def read_previous(data: bytes, plan_id: str, range_start: datetime, source: str) -> Previous:
    """The state kept in a file calsync wrote before; NotOurFile for anything else,
    DamagedFile (naming the file, the line and the value) for one of ours it cannot use.

    A file in the plain form calsync writes is read by a line scanner (`scan_previous`);
    anything else (damage, hand edits, a repeated local time) by icalendar."""
    scanned = scan_previous(data, plan_id, range_start)
    return scanned if scanned is not None else parse_previous(data, plan_id, range_start, source)


def parse_previous(data: bytes, plan_id: str, range_start: datetime, source: str) -> Previous:
    """`read_previous` through icalendar objects: the reference the scanner agrees with,
    and the reader of any file the scanner leaves alone (with its file:line messages)."""
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, TypeError) as err:  # TypeError: a parameter icalendar cannot apply
        raise NotOurFile(f"{source} is not an iCalendar file ({err})") from None
    if not str(calendar.get("PRODID", "")).startswith("-//calsync//"):
        raise NotOurFile(f"{source} was not written by calsync; refusing to overwrite it")
    stamps: dict[str, Stamp] = {}
    past: list[PastEvent] = []
    for number, event in enumerate(calendar.walk("VEVENT")):
        if str(event.get("X-CALSYNC-PLAN", "")) != plan_id:
            continue
        uid, stamp, start = _checked(event, lambda name, n=number: _line_of(data, n, name), source)
        stamps[uid] = stamp
        if start < range_start:
            year = event.decoded("DTSTART").year
            past.append(PastEvent(event.to_ical(), year, frozenset(_zones_of(event))))
    return Previous(stamps, tuple(past))


_UTC = ZoneInfo("UTC")
_NAME = re.compile(r"[A-Za-z0-9-]+\Z")
_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)\Z")
_ZONE_VALUE = re.compile(r"(\d{8}T\d{6}(,\d{8}T\d{6})*|[+-]\d{4})\Z")
_WHOLE = re.compile(r"(0|[1-9]\d{0,8})\Z")  # as icalendar writes it back
_READ = frozenset(
    {"UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "X-CALSYNC-PLAN", "X-CALSYNC-HASH"}
)


def scan_previous(data: bytes, plan_id: str, range_start: datetime) -> Previous | None:
    """`read_previous` without building icalendar objects, for a file in the plain form
    calsync writes: CRLF lines, one VCALENDAR with calsync's PRODID, each event's UID,
    SEQUENCE, DTSTAMP, DTSTART, DTEND, X-CALSYNC-PLAN and X-CALSYNC-HASH written once,
    in the forms calsync writes them. None for anything else (damage, another writer, a
    repeated local time): the caller reads that file with icalendar (`parse_previous`)."""
    if not data.endswith(b"\r\n") or b"\n" in data.replace(b"\r\n", b""):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    raw = text.split("\r\n")[:-1]
    stamps: dict[str, Stamp] = {}
    past: list[PastEvent] = []
    written: dict[str, bytes] = {}
    offsets = [0]  # byte offset of each raw line, to copy an event verbatim
    for line in raw:
        offsets.append(offsets[-1] + len(line.encode("utf-8")) + 2)
    depth: list[str] = []
    prodid = ""
    top: set[str] = set()  # the calendar's own properties seen so far
    event: dict[str, tuple[str, str]] = {}
    begin = 0
    index = 0
    while index < len(raw):
        first = index
        logical = raw[index]
        index += 1
        while index < len(raw) and raw[index][:1] in (" ", "\t"):
            logical += raw[index][1:]
            index += 1
        if (index - first > 1 or len(logical) > 18) and "\r\n".join(raw[first:index]) != _fold(
            logical
        ):
            return None  # folded otherwise than icalendar folds it: it would write it back so
        head, colon, value = logical.partition(":")
        name, _, params = head.partition(";")
        if not colon or not _NAME.match(name) or name != name.upper() or '"' in params:
            return None
        if params and not (name in ("DTSTART", "DTEND") or params == "VALUE=DURATION"):
            return None  # calsync writes no other parameters
        if name in ("BEGIN", "END") and (value != value.upper() or params):
            return None
        if name == "BEGIN":
            if not depth and value != "VCALENDAR" or depth and value == "VCALENDAR":
                return None
            if value == "VEVENT":
                if depth != ["VCALENDAR"]:
                    return None
                event, begin = {}, first
            depth.append(value)
        elif name == "END":
            if not depth or depth.pop() != value:
                return None
            if value == "VEVENT":
                scanned = _scanned_event(event, plan_id)
                if scanned is None:
                    return None
                if scanned:
                    uid, stamp, start, zones = scanned
                    stamps[uid] = stamp
                    chunk = data[offsets[begin] : offsets[index]]
                    if start < range_start:
                        past.append(PastEvent(chunk, start.year, zones))
                    else:
                        written[uid] = chunk
            elif not depth and (index != len(raw) or not prodid.startswith("-//calsync//")):
                return None
        elif not depth:
            return None
        elif name == "REFRESH-INTERVAL" and not re.fullmatch(r"PT\d+H", value):
            return None  # a duration icalendar would refuse
        elif depth == ["VCALENDAR"] and name in top:
            return None  # a repeated calendar property: icalendar reads it as a list
        elif depth == ["VCALENDAR"]:
            top.add(name)
            if name == "PRODID":
                prodid = value
        elif name in ("DTSTART", "RDATE", "TZOFFSETFROM", "TZOFFSETTO") and depth[-1] in (
            "STANDARD",
            "DAYLIGHT",
        ):
            if not _ZONE_VALUE.match(value):
                return None  # a VTIMEZONE value icalendar would refuse
        elif depth[-1] == "VEVENT" and name in _READ:
            if name in event:
                return None
            event[name] = (params, value)
    if depth or not raw:
        return None
    return Previous(stamps, tuple(past), written)


def _scanned_event(
    event: Mapping[str, tuple[str, str]], plan_id: str
) -> tuple[str, Stamp, datetime, frozenset[str]] | tuple[()] | None:
    """What `_checked` finds in one scanned event; () for another plan's event; None
    when the event is not in the plain form (the whole file is then read by icalendar)."""
    plan = event.get("X-CALSYNC-PLAN", ("", ""))
    if plan[0] or "\\" in plan[1]:
        return None
    if plan[1] != plan_id:
        return ()
    uid, dtstamp, start = event.get("UID"), event.get("DTSTAMP"), event.get("DTSTART")
    sequence, fingerprint = event.get("SEQUENCE", ("", "0")), event.get("X-CALSYNC-HASH", ("", ""))
    if uid is None or dtstamp is None or start is None or dtstamp[0] or sequence[0]:
        return None
    if uid[0] or fingerprint[0] or "\\" in uid[1] + fingerprint[1]:
        return None
    if not _WHOLE.match(sequence[1]):
        return None
    stamp = _instant("", dtstamp[1])
    begins = _instant(*start)
    zones = frozenset(
        p.removeprefix("TZID=") for p in (start[0], event.get("DTEND", ("",))[0]) if p
    )
    if "DTEND" in event and _instant(*event["DTEND"]) is None:
        return None
    if stamp is None or stamp.tzinfo is not _UTC or begins is None:
        return None
    return uid[1], Stamp(fingerprint[1], int(sequence[1]), stamp), begins, zones


def _instant(params: str, value: str) -> datetime | None:
    """A DATE-TIME in UTC (`...Z`, no parameters) or local to `TZID=<IANA zone>`, unless
    it is a local time that occurs twice (see `instants.misread`); None for anything else."""
    match = _STAMP.match(value)
    if match is None or bool(match[7]) == bool(params):
        return None
    if params:
        if not params.startswith("TZID=") or ";" in params:
            return None
        try:
            zone = ZoneInfo(params.removeprefix("TZID="))
        except (ValueError, OSError, ZoneInfoNotFoundError):
            return None
    else:
        zone = _UTC
    try:
        instant = datetime(*(int(part) for part in match.groups()[:6]), tzinfo=zone)
    except ValueError:
        return None
    if instant.replace(fold=1).utcoffset() != instant.utcoffset():
        return None
    return instant


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        return False
    return True


def _checked(event: Event, line: Callable[[str], int], source: str) -> tuple[str, Stamp, datetime]:
    """UID, what the event says about itself, and its start; DamagedFile if any is unusable."""

    def damaged(name: str, problem: str) -> DamagedFile:
        return DamagedFile(
            f"{source}:{line(name)}: {problem}; calsync wrote this file but cannot read it "
            "back, so it did not overwrite it (restore it, or move it away to start afresh)"
        )

    for name in ("UID", "DTSTAMP", "DTSTART"):
        if name not in event:
            raise damaged(name, f"an event has no {name}")
    for name in ("DTSTART", "DTEND"):
        tzid = event[name].params.get("TZID") if name in event else None
        if tzid is not None and not _is_zone(str(tzid)):
            raise damaged(name, f"{name} names the time zone '{tzid}', which is not an IANA zone")
    values: dict[str, Any] = {}
    for name, kind in (("DTSTAMP", datetime), ("DTSTART", datetime), ("SEQUENCE", int)):
        raw = event.get(name)
        try:
            value = event.decoded(name) if raw is not None else 0
        except (ValueError, TypeError):
            value = None
        aware = not isinstance(value, datetime) or value.tzinfo is not None
        if not isinstance(value, kind) or isinstance(value, bool) or not aware:
            text = _text(raw)
            expected = "a whole number" if kind is int else "a date and time"
            raise damaged(name, f"{name} '{text}' is not {expected}")
        values[name] = value
    stored = str(event.get("X-CALSYNC-HASH", ""))
    if misread(event, stored) and event_fingerprint(event) != stored:  # cheap unless DST
        stored = ""  # a repeated local time an older calsync wrote: rewrite it, SEQUENCE + 1
    stamp = Stamp(stored, values["SEQUENCE"], values["DTSTAMP"])
    return str(event["UID"]), stamp, values["DTSTART"]


def _text(value: Any) -> str:
    """A property's value as written in the file."""
    written = value.to_ical() if hasattr(value, "to_ical") else value
    return written.decode(errors="replace") if isinstance(written, bytes) else str(written)


def _line_of(data: bytes, number: int, name: str) -> int:
    """The line (1-based) of property `name` in the file's `number`th VEVENT, else of
    that event's BEGIN line: to point the user at what is damaged."""
    lines = data.decode("utf-8", "replace").splitlines()
    seen = -1
    begin = 0
    for index, text in enumerate(lines, start=1):
        if text.startswith("BEGIN:VEVENT"):
            seen += 1
            begin = index
        elif seen == number:
            if text.startswith("END:VEVENT"):
                break
            if text.split(";", 1)[0].split(":", 1)[0].upper() == name:
                return index
    return begin


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
    written = previous.written if previous else {}
    chunks: list[bytes] = []
    years: set[int] = set()
    zones: set[str] = set()
    for event in previous.past if previous else ():
        chunks.append(event.text)
        years.add(event.year)
        zones.update(event.zones)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for occurrence in schedule.occurrences:
        content = event_content(occurrence, schedule.conflicts_for(occurrence.key))
        before = stamps.get(content.uid)
        old = written.get(content.uid)
        if old is not None and before is not None and before.fingerprint == content.fingerprint:
            plain = _plain(content, before)  # what `_event` writes, without its objects
            chunks.append(old if old == plain else _event(content, before, now).to_ical())
        else:
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
    event.add("DTSTART", as_written(content.start))
    event.add("DTEND", as_written(content.end))
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


def _plain(content: EventContent, before: Stamp) -> bytes:
    """The text `_event` writes for an unchanged event, predicted without building it.

    Only compared with the previous file's text of that event: equal, the old text is
    copied; a wrong prediction only costs the time of building the event."""
    lines = [
        "SUMMARY:" + _escaped(content.summary),
        "DTSTART" + _when(as_written(content.start)),
        "DTEND" + _when(as_written(content.end)),
        "DTSTAMP" + _when(before.dtstamp),
        "UID:" + _escaped(content.uid),
        f"SEQUENCE:{before.sequence}",
        "CATEGORIES:" + ",".join(_escaped(c) for c in content.categories),
        "DESCRIPTION:" + _escaped(content.description),
        *(["LOCATION:" + _escaped(content.location)] if content.location else []),
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "X-CALSYNC-HASH:" + _escaped(content.fingerprint),
        "X-CALSYNC-KEY:" + _escaped(content.key),
        "X-CALSYNC-PLAN:" + _escaped(content.plan),
    ]
    if content.reminder is not None:
        summary = _escaped(content.summary)
        trigger = _trigger(content.reminder)
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{summary}", trigger, "END:VALARM"]
    body = "".join(_fold(line) + "\r\n" for line in lines)
    return f"BEGIN:VEVENT\r\n{body}END:VEVENT\r\n".encode()


def _escaped(text: str) -> str:
    """A TEXT value as RFC 5545 3.3.11 escapes it (and as icalendar writes it: without
    one leading byte-order mark)."""
    return (
        text.removeprefix("\ufeff")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _when(value: datetime) -> str:
    """A DATE-TIME property's parameters and value: UTC as `...Z`, else with its TZID."""
    if value.tzinfo in (UTC, _UTC):
        return value.strftime(":%Y%m%dT%H%M%SZ")
    return f";TZID={value.tzinfo}:{value:%Y%m%dT%H%M%S}"


@lru_cache(maxsize=64)
def _trigger(minutes: int) -> str:
    alarm = Alarm()
    alarm.add("TRIGGER", timedelta(minutes=-minutes))
    return str(alarm.content_line("TRIGGER", alarm["TRIGGER"]))


def _fold(line: str) -> str:
    """A content line folded at 75 octets, never after a lone backslash (as icalendar does)."""
    if len(line) < 75 // 4 or len(line.encode()) < 75:
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= 75:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, size = [carried], len(carried.encode())
            else:
                parts.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def export(schedule: Schedule, path: Path, now: datetime) -> Export:
    """Render over the previous file at `path` (if calsync wrote it) and replace it atomically,
    holding the file's lock from the read to the rename (see `locks`).

    Only a regular file is a previous calendar. Anything else (/dev/stdout, a pipe,
    /dev/null) is simply written to, and a failed write is a `Failure` naming it.
    """
    from calsync.io.locks import writing

    special = _not_a_file(path)
    with writing("ics", str(path.expanduser().absolute()), str(path)):
        previous = None
        if path.exists() and not special:
            first = schedule.plan.midnight(schedule.start)
            previous = read_previous(path.read_bytes(), schedule.plan.id, first, str(path))
        data, counts = _build(schedule, now, previous)
        if special:
            _write_through(path, data)
        else:
            write_atomic(path, data)
        return counts


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
