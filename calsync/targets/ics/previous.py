"""The previous .ics file: the only state of the .ics target.

An event whose content fingerprint (`X-CALSYNC-HASH`) is unchanged keeps its
`SEQUENCE` and `DTSTAMP`; sessions before the new range are kept verbatim; each
session's key and start are what an every-week plan prefers (calsync/cli/weekly.py). A file
in the plain form calsync writes is read by a line scanner (`scan_previous`);
anything else by icalendar (`parse_previous`), which the scanner agrees with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event

from calsync.core.dates import reads_once
from calsync.core.instants import event_fingerprint, misread
from calsync.errors import BadInput
from calsync.targets.ics.text import fold


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
    uid: str
    start: datetime  # as written
    key: str  # X-CALSYNC-KEY, "" for none


@dataclass(frozen=True)
class Held:
    """One of this plan's sessions in the file: its `X-CALSYNC-KEY` and its start."""

    key: str
    start: datetime  # aware, in the zone its DTSTART names (UTC for a `Z` time)


@dataclass(frozen=True)
class Previous:
    stamps: Mapping[str, Stamp]
    past: tuple[PastEvent, ...]  # this plan's events before the new range, kept verbatim
    held: tuple[Held, ...] = ()  # this plan's events that carry a session key, in file order
    # read from calsync's plain form (the scanner, or its memo): how, not what
    plain: bool = field(default=False, compare=False)


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
    held: list[Held] = []
    events = [e for e in calendar.walk("VEVENT") if isinstance(e, Event)]
    for number, event in enumerate(events):
        if str(event.get("X-CALSYNC-PLAN", "")) != plan_id:
            continue

        def line(name: str, number: int = number) -> int:
            return _line_of(data, number, name)

        uid, stamp, start = _checked(event, line, source)
        stamps[uid] = stamp
        key = str(event.get("X-CALSYNC-KEY", ""))
        if key:
            held.append(Held(key, start))
        if start < range_start:
            year = event.decoded("DTSTART").year
            zones = frozenset(_zones_of(event))
            past.append(PastEvent(event.to_ical(), year, zones, uid, start, key))
    return Previous(stamps, tuple(past), tuple(held))


_UTC = ZoneInfo("UTC")
_NAME = re.compile(r"[A-Za-z0-9-]+\Z")
_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)\Z")
_ZONE_VALUE = re.compile(r"(\d{8}T\d{6}(,\d{8}T\d{6})*|[+-]\d{4})\Z")
_WHOLE = re.compile(r"(0|[1-9]\d{0,8})\Z")  # as icalendar writes it back
_READ = frozenset(
    {"UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE"}
    | {"X-CALSYNC-PLAN", "X-CALSYNC-HASH", "X-CALSYNC-KEY"}
)


def scan_previous(data: bytes, plan_id: str, range_start: datetime) -> Previous | None:
    """`read_previous` without building icalendar objects, for a file in the plain form
    calsync writes: CRLF lines, one VCALENDAR with calsync's PRODID, each event's UID,
    SEQUENCE, DTSTAMP, DTSTART, DTEND and X-CALSYNC-PLAN, -HASH and -KEY written once,
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
    held: list[Held] = []
    # the byte offset of each raw line, to copy an event verbatim
    offsets = [0, *accumulate(len(line) + 2 for line in data.split(b"\r\n")[:-1])]
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
        if (index - first > 1 or len(logical) > 18) and "\r\n".join(raw[first:index]) != fold(
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
                    key = event.get("X-CALSYNC-KEY", ("", ""))[1]
                    if key:
                        held.append(Held(key, start))
                    if start < range_start:
                        chunk = data[offsets[begin] : offsets[index]]
                        past.append(PastEvent(chunk, start.year, zones, uid, start, key))
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
    return Previous(stamps, tuple(past), tuple(held), plain=True)


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
    key = event.get("X-CALSYNC-KEY", ("", ""))
    if uid is None or dtstamp is None or start is None or dtstamp[0] or sequence[0]:
        return None
    if uid[0] or fingerprint[0] or key[0] or "\\" in uid[1] + fingerprint[1] + key[1]:
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
        year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
        instant = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
    if not reads_once(instant):
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


def _zones_of(event: Event) -> set[str]:
    return {
        str(event[name].params["TZID"])
        for name in ("DTSTART", "DTEND")
        if name in event and "TZID" in event[name].params
    }
