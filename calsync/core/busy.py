"""Busy time from other calendars: any .ics export becomes busy intervals and warnings.

Busy time is advisory input, and a user's exported work calendar is what it
is, so this module reads it the way the best readers do: one odd event costs
that event (with a warning naming its line), never the whole calendar. Only a
file that is not an iCalendar file at all (empty, binary, no BEGIN:VCALENDAR)
is refused, as is a recurrence that would take unbounded work.

Parsing is done by `icalendar` (one top-level component at a time, so one
broken component cannot take the others with it) and recurrence expansion by
`recurring-ical-events`. This module adds what those libraries leave to the
caller:

* a structural scan that finds the components and their line numbers
  (`icalendar` reports none) and notices broken nesting;
* time zones resolved in a fixed order, independent of `icalendar`'s
  process-wide cache of VTIMEZONE definitions (two files may both define
  Office's "Customized Time Zone", differently): an IANA name, a Windows
  name (icalendar's mapping), the file's own VTIMEZONE, and failing those
  the calendar's X-WR-TIMEZONE or the plan's zone, with a warning;
* per-event checks the libraries skip or "repair" silently (DTEND before
  DTSTART), and the repairs a reader can make said aloud (a bad RRULE or
  EXDATE ignored, a date DTSTART with a date-time DTEND read as midnight);
* bounds on recurrence: a rule with no COUNT is expanded only from just
  before the range, a rule that can give no instance is caught before
  dateutil searches for one until the year 9999, and an event may have at
  most `MAX_INSTANCES` instances in the range (and `MAX_BEFORE` before it);
* normalisation of every instance to an aware [start, end) in the plan's zone.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calsync.core.model import Busy, InputWarning
from calsync.errors import BusyFileError

__all__ = ["MAX_BEFORE", "MAX_INSTANCES", "BusyFileError", "BusyTime", "parse_busy", "read_busy"]

# The most instances of one recurring event calsync follows up to the end of
# the range (documented in the README, "Busy time"). Ten years of a daily
# meeting is 3,650; an event every minute for four weeks is 40,320.
MAX_INSTANCES = 10_000
# The most instances before the range calsync follows to reach it (a rule with
# no COUNT starts just before the range; one with COUNT starts at DTSTART).
MAX_BEFORE = 100_000
# Warnings shown per file; the rest are counted in one last warning.
MAX_WARNINGS = 20


@dataclass(frozen=True)
class BusyTime:
    """What a busy calendar gives: its busy intervals and what had to be assumed."""

    busy: tuple[Busy, ...]
    warnings: tuple[InputWarning, ...] = ()


# --- structural scan ----------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[A-Za-z0-9-]+")
_NOT_ICALENDAR = "expected an iCalendar file (BEGIN:VCALENDAR)"
_TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"})


@dataclass
class _Span:
    """Where one component sits in the file, to put line numbers on warnings."""

    name: str
    begin: int
    properties: dict[str, int]  # first line of each direct property


@dataclass
class _Chunk:
    """One top-level component of a calendar (a VEVENT, a VTIMEZONE, ...)."""

    span: _Span
    lines: list[str]
    problem: str | None = None


@dataclass
class _Block:
    """One BEGIN:VCALENDAR ... END:VCALENDAR."""

    span: _Span
    header: list[str] = field(default_factory=list)
    chunks: list[_Chunk] = field(default_factory=list)


def _unfold(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, logical line), joining folded continuation lines."""
    pending: tuple[int, str] | None = None
    for index, raw in enumerate(_NEWLINE.split(text), start=1):
        if raw[:1] in (" ", "\t") and pending is not None:
            pending = (pending[0], pending[1] + raw[1:])
        elif raw:
            if pending is not None:
                yield pending
            pending = (index, raw)
        # blank lines are skipped, as icalendar does (folding continues over them)
    if pending is not None:
        yield pending


def _split(line: str) -> tuple[str, str | None]:
    """The upper-cased property name and the value (None: the line has no colon)."""
    match = _NAME.match(line)
    name = match[0].upper() if match else ""
    # The value starts at the first colon outside a quoted parameter value.
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return name, line[index + 1 :]
    return name, None


def _check_header(text: str, source: str) -> None:
    """Say "not iCalendar" for an empty file, a JPEG or a vCard."""
    for number, logical in _unfold(text):
        if logical.strip().upper() != "BEGIN:VCALENDAR":
            if "\x00" in text[:1024]:
                raise BusyFileError(source, f"binary data; {_NOT_ICALENDAR}")
            raise BusyFileError(source, _NOT_ICALENDAR, number)
        return
    raise BusyFileError(source, f"empty file; {_NOT_ICALENDAR}")


class _Scanner:
    """Cuts a file into calendars and their top-level components, leniently."""

    def __init__(self, warn: _Warn) -> None:
        self.warn = warn
        self.blocks: list[_Block] = []
        self.block: _Block | None = None
        self.chunk: _Chunk | None = None
        self.stack: list[_Span] = []
        self.outside_warned = False

    def scan(self, text: str) -> list[_Block]:
        for number, line in _unfold(text):
            self.line(number, line)
        if self.chunk is not None:
            self.chunk.problem = self.chunk.problem or "the file ends before its END"
            self.finish_chunk()
        if self.block is not None:
            self.warn("BEGIN:VCALENDAR is never closed: the file may be cut short", self.block.span)
        return self.blocks

    def line(self, number: int, line: str) -> None:
        name, value = _split(line)
        what = (value or "").strip().upper()
        if self.block is None:
            if name == "BEGIN" and what == "VCALENDAR":
                self.block = _Block(_Span("VCALENDAR", number, {}))
                self.blocks.append(self.block)
            elif not self.outside_warned:
                self.outside_warned = True
                self.warn("content outside BEGIN:VCALENDAR and END:VCALENDAR ignored", number)
            return
        if value is None or not name:
            self.warn(f"not an iCalendar content line, ignored: {line[:60]!r}", number)
            return
        if self.chunk is None:
            self.top_level(number, line, name, what)
        else:
            self.inside(number, line, name, what)

    def top_level(self, number: int, line: str, name: str, what: str) -> None:
        assert self.block is not None
        if name == "BEGIN" and what != "VCALENDAR":
            span = _Span(what, number, {})
            self.chunk = _Chunk(span, [line])
            self.stack = [span]
        elif name == "END" and what == "VCALENDAR":
            self.block = None
        elif name in ("BEGIN", "END"):
            self.warn(f"{line.strip()} out of place, ignored", number)
        else:
            self.block.header.append(line)
            self.block.span.properties.setdefault(name, number)

    def inside(self, number: int, line: str, name: str, what: str) -> None:
        chunk = self.chunk
        assert chunk is not None
        if name == "END" and what == "VCALENDAR":
            chunk.problem = chunk.problem or f"BEGIN:{chunk.span.name} is never closed"
            self.finish_chunk()
            self.block = None
            return
        if name == "BEGIN" and what in _TOP_LEVEL:
            # These never nest: the component before was never closed.
            chunk.problem = chunk.problem or f"BEGIN:{chunk.span.name} is never closed"
            self.finish_chunk()
            self.top_level(number, line, name, what)
            return
        chunk.lines.append(line)
        if name == "BEGIN":
            self.stack.append(_Span(what, number, {}))
        elif name == "END":
            names = [span.name for span in self.stack]
            if what != names[-1]:
                inner = self.stack[-1]
                problem = f"END:{what} does not close BEGIN:{inner.name} (line {inner.begin})"
                chunk.problem = chunk.problem or problem
            # Close up to the component this END names, or the innermost one.
            depth = len(names) - 1 - names[::-1].index(what) if what in names else len(names) - 1
            del self.stack[depth:]
            if not self.stack:
                self.finish_chunk()
        elif len(self.stack) == 1:
            chunk.span.properties.setdefault(name, number)

    def finish_chunk(self) -> None:
        assert self.block is not None and self.chunk is not None
        self.block.chunks.append(self.chunk)
        self.chunk = None
        self.stack = []


# --- warnings -----------------------------------------------------------------


class _Warn:
    """Collects the warnings of one file, at most MAX_WARNINGS of them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[InputWarning] = []
        self.more = 0

    def __call__(self, message: str, where: _Span | int | None = None, prop: str = "") -> None:
        if isinstance(where, _Span):
            where = where.properties.get(prop, where.begin)
        if len(self.found) < MAX_WARNINGS:
            self.found.append(InputWarning(self.source, where, message))
        else:
            self.more += 1

    def all(self) -> tuple[InputWarning, ...]:
        if self.more:
            more = f"{self.more} more warning{'s' * (self.more != 1)} like these not shown"
            return (*self.found, InputWarning(self.source, None, more))
        return tuple(self.found)


class _Skip(Exception):
    """This event cannot be used; the rest of the calendar can."""

    def __init__(self, message: str, prop: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.prop = prop


# --- time zones -----------------------------------------------------------------


def _iana(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, UnicodeError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _suffix_zone(tzid: str) -> ZoneInfo | None:
    """`/mozilla.org/20050126_1/Europe/Paris` and the like: the IANA name at the end."""
    parts = tzid.strip("/").split("/")
    for index in range(1, len(parts)):
        zone = _iana("/".join(parts[index:]))
        if zone is not None:
            return zone
    return None


# --- parsing --------------------------------------------------------------------

# Properties whose broken values change when an event is busy. Broken values
# elsewhere (say a malformed ATTENDEE) are harmless here and are ignored, as
# real exports do carry such noise.
_TIMING = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE"}
)
_DATED = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


def _decode(text: bytes | str) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark (Exchange)
        return text.decode("utf-16", errors="replace")
    # RFC 5545 text is UTF-8. Stray bytes (legacy Windows exports) only ever
    # damage titles, so they are replaced rather than rejecting the file.
    return text.decode("utf-8-sig", errors="replace")


def _calendar_of(properties: list[str]) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(
        "\r\n".join(["BEGIN:VCALENDAR", *properties, "END:VCALENDAR", ""])
    )


def _reason(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _title(event: icalendar.cal.Component) -> str:
    return str(event.get("SUMMARY", "")).strip() or "busy"


def _what(chunk: _Chunk, component: icalendar.cal.Component | None = None) -> str:
    if chunk.span.name == "VEVENT":
        return f"event {_title(component)!r}" if component is not None else "an event"
    if chunk.span.name == "VTIMEZONE" and component is not None:
        return f"time zone {str(component.get('TZID', '?'))!r}"
    return chunk.span.name


def _values(component: icalendar.cal.Component, prop: str) -> list[Any]:
    values = component.get(prop)
    if values is None:
        return []
    return values if isinstance(values, list) else [values]


def _aware(value: date, zone: tzinfo) -> datetime:
    """A date means local midnight in `zone`; a floating time is read in `zone`."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def _instance_end(event: icalendar.cal.Component) -> date:
    """The end of one instance, with RFC 5545's defaults."""
    start = event["DTSTART"].dt
    if "DTEND" in event:
        return event["DTEND"].dt
    if "DURATION" in event:
        return start + event["DURATION"].dt
    # No DTEND nor DURATION: a date lasts one day, a date-time no time at all.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _check_period(event: icalendar.cal.Component, zone: ZoneInfo) -> None:
    if "DTSTART" not in event:
        raise _Skip("it has no DTSTART")
    for prop in ("DTSTART", "DTEND", "DURATION"):
        if isinstance(event.get(prop), list):  # icalendar keeps repeats as a list
            raise _Skip(f"it has more than one {prop}", prop)
    start = event["DTSTART"].dt
    if "DURATION" in event:
        duration = event["DURATION"]
        if not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0):
            raise _Skip(f"DURATION must not be negative: {duration.to_ical().decode()}", "DURATION")
    if "DTEND" in event:
        end = event["DTEND"].dt
        if _aware(end, zone) < _aware(start, zone):
            raise _Skip(f"DTEND {end} is before DTSTART {start}", "DTEND")


_UNTIL = re.compile(r"UNTIL=[^;]*;?")


def _rule_problem(rule: Any, start: date) -> str | None:
    """Why dateutil cannot use this RRULE, or None."""
    # recurring-ical-events hides dateutil's reason behind "UNTIL parameter is
    # missing" for any bad rule, so try each rule here first. UNTIL is dropped
    # because icalendar has checked its syntax already, and its zone may
    # legitimately differ from DTSTART's (recurring-ical-events fixes that up).
    if "FREQ" not in rule:  # dateutil would only say "missing argument"
        return "it has no FREQ"
    text = _UNTIL.sub("", rule.to_ical().decode()).rstrip(";")
    naive = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    try:
        rrulestr(text, dtstart=naive)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"{text!r}: {error}"
    return None


# --- bounded recurrence -----------------------------------------------------------

_PERIOD_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 604800}
_FINER_THAN_WEEKLY = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY")
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
# Every day filter repeats with the Gregorian calendar's 400-year cycle (146,097
# days, a whole number of weeks), so a rule that matches no day from here to
# the year 9999 (where dateutil stops) matches no day ever.
_PROBE_START = datetime(9600, 1, 1)


def _freq(rule: Any) -> str:
    return str(rule["FREQ"][0]).upper()


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _matches_no_day(rule: Any, start: date) -> bool:
    """True if the rule can never give an instance (its filters never all hold).

    dateutil checks UNTIL only when an instance passes the filters, so such a
    rule would make it walk every period (day, week, second) to the year 9999.
    The probe is the rule from the year 9600 on, with the parts dateutil would
    take from DTSTART written out, so it looks at one whole 400-year cycle.
    """
    parts = {name: rule[name] for name in _DAY_PARTS if name in rule}
    freq = _freq(rule)
    if not parts and ("BYSETPOS" not in rule or freq not in ("YEARLY", "MONTHLY", "WEEKLY")):
        return False  # every period has an instance
    probe = icalendar.prop.vRecur(parts)
    if freq in ("YEARLY", "MONTHLY", "WEEKLY"):
        probe["FREQ"] = [freq]
        for name in ("BYSETPOS", "WKST", "BYHOUR", "BYMINUTE", "BYSECOND"):
            if name in rule:
                probe[name] = rule[name]
        moment = start if isinstance(start, datetime) else datetime.combine(start, time())
        if not parts:  # dateutil's defaults, as in its rrule constructor
            if freq == "WEEKLY":
                probe["BYDAY"] = [_WEEKDAYS[moment.weekday()]]
            else:
                probe["BYMONTHDAY"] = [moment.day]
                if freq == "YEARLY" and "BYMONTH" not in rule:
                    probe["BYMONTH"] = [moment.month]
        for name, value in (("BYHOUR", moment.hour), ("BYMINUTE", moment.minute)):
            probe.setdefault(name, [value])
        probe.setdefault("BYSECOND", [moment.second])
    else:
        # Day filters of a finer rule pick the same days as in a yearly one;
        # dateutil ignores the ordinals of BYDAY there, and so does the probe.
        probe["FREQ"] = ["YEARLY"]
        if "BYDAY" in parts:
            probe["BYDAY"] = [re.sub(r"^[+-]?\d+", "", str(day)) for day in parts["BYDAY"]]
    found = rrulestr(probe.to_ical().decode(), dtstart=_PROBE_START)
    return found.after(_PROBE_START, inc=True) is None


def _until_text(value: date, start: date) -> str:
    """UNTIL in the form dateutil needs next to this DTSTART."""
    if not isinstance(start, datetime):
        if isinstance(value, datetime):
            value = value.date()
        return value.strftime("%Y%m%d")
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if start.tzinfo is None:
        return value.replace(tzinfo=None).strftime("%Y%m%dT%H%M%S")
    if value.tzinfo is None:
        value = value.replace(tzinfo=start.tzinfo)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- one file -------------------------------------------------------------------


class _Reader:
    def __init__(
        self, source: str, start: datetime, end: datetime, zone: ZoneInfo, warn: _Warn
    ) -> None:
        self.source = source
        self.start, self.end, self.zone = start, end, zone
        self.warn = warn

    # calendar level

    def calendar(self, block: _Block) -> tuple[icalendar.Calendar, list[tuple[Any, _Span]]]:
        """The calendar of one block and its events with their spans."""
        calendar = self.header(block)
        self.floating = self.calendar_zone(calendar, block.span)
        self.zones: dict[str, tzinfo] = {}
        self.own: dict[str, tuple[Any, _Chunk]] = {}
        events: list[tuple[Any, _Span]] = []
        for chunk in block.chunks:
            if chunk.span.name not in ("VEVENT", "VTIMEZONE"):
                continue  # to-dos, journals, free/busy: no busy time
            component = self.component(chunk)
            if component is None:
                continue
            if chunk.span.name == "VTIMEZONE":
                self.timezone(component, chunk)
            else:
                events.append((component, chunk.span))
        kept = [(event, span) for event, span in events if self.event(event, span)]
        for event, _ in kept:
            calendar.add_component(event)
        return calendar, kept

    def header(self, block: _Block) -> icalendar.Calendar:
        try:
            calendar = _calendar_of(block.header)
        except Exception:  # noqa: BLE001 - icalendar raises anything on odd input
            # Keep the properties that can be read, one by one.
            calendar = icalendar.Calendar()
            for line in block.header:
                try:
                    calendar.update(_calendar_of([line]))
                except Exception as error:  # noqa: BLE001
                    self.warn(f"calendar property ignored: {_reason(error)}", block.span)
        scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
        if scale != "GREGORIAN":
            self.warn(f"CALSCALE {scale!r} read as GREGORIAN", block.span, "CALSCALE")
        calendar.pop("CALSCALE", None)
        return calendar

    def calendar_zone(self, calendar: icalendar.Calendar, span: _Span) -> tuple[tzinfo, str]:
        """The zone of floating times (and unresolvable TZIDs), and why it is that one."""
        # Google's X-WR-TIMEZONE is the zone of floating times, as
        # recurring-ical-events also reads it. It is applied here, once, and
        # removed so that the library does not apply it again.
        name = calendar.pop("X-WR-TIMEZONE", None)
        if name is not None:
            zone = _iana(str(name))
            if zone is not None:
                self.xwr: tzinfo | None = zone
                return zone, f"the calendar's X-WR-TIMEZONE {zone.key}"
            self.warn(
                f"unknown time zone {str(name)!r} in X-WR-TIMEZONE ignored; "
                f"times without a zone are read in the plan's zone {self.zone.key}",
                span,
                "X-WR-TIMEZONE",
            )
        self.xwr = None
        return self.zone, f"the plan's zone {self.zone.key}"

    def component(self, chunk: _Chunk) -> Any | None:
        if chunk.problem is not None:
            self.warn(f"{_what(chunk)} skipped: {chunk.problem}", chunk.span)
            return None
        try:
            component = icalendar.cal.Component.from_ical("\r\n".join([*chunk.lines, ""]))
        except Exception as error:  # noqa: BLE001 - icalendar raises anything on odd input
            self.warn(f"{_what(chunk)} skipped: cannot read it: {_reason(error)}", chunk.span)
            return None
        return component

    def timezone(self, component: Any, chunk: _Chunk) -> None:
        # Built only when an event needs it: a VTIMEZONE for an IANA name is
        # never used, so its oddities do not matter.
        self.own.setdefault(str(component.get("TZID", "")), (component, chunk))

    def own_zone(self, tzid: str) -> tzinfo | None:
        if tzid not in self.own:
            return None
        component, chunk = self.own[tzid]
        try:
            return component.to_tz(lookup_tzid=False)
        except Exception as error:  # noqa: BLE001 - dateutil raises anything on odd input
            self.warn(f"{_what(chunk, component)} cannot be read: {_reason(error)}", chunk.span)
            return None

    # time zones

    def zone_for(self, tzid: str, span: _Span, prop: str) -> tzinfo:
        if tzid in self.zones:
            return self.zones[tzid]
        zone = (
            _iana(tzid)
            or _iana(tzid.strip("/"))  # icalendar's reading of "/Europe/Stockholm"
            or _iana(WINDOWS_TO_OLSON.get(tzid, ""))
            or self.own_zone(tzid)
        )
        if zone is None:
            guess = _suffix_zone(tzid)
            if guess is not None:
                zone = guess
                self.warn(f"time zone {tzid!r} has no VTIMEZONE; read as {guess.key}", span, prop)
            else:
                zone, why = self.floating
                self.warn(
                    f"unknown time zone {tzid!r} (no VTIMEZONE defines it): "
                    f"its times are read as local times in {why}",
                    span,
                    prop,
                )
        self.zones[tzid] = zone
        return zone

    def place(self, value: Any, tzid: str | None, span: _Span, prop: str) -> Any:
        if isinstance(value, tuple):  # an RDATE period: (start, end or duration)
            return tuple(self.place(part, tzid, span, prop) for part in value)
        if not isinstance(value, datetime):
            return value
        if tzid is not None:
            return value.replace(tzinfo=self.zone_for(tzid, span, prop))
        if value.tzinfo is None:
            return value.replace(tzinfo=self.floating[0])
        if self.xwr is not None:  # aware without TZID: a UTC time ("Z")
            # Google writes UTC times in a calendar whose zone is X-WR-TIMEZONE:
            # recurrences follow that zone's wall clock across DST.
            return value.astimezone(self.xwr)
        return value

    def localize(self, event: Any, span: _Span) -> None:
        for prop in _DATED:
            for value in _values(event, prop):
                tzid = value.params.get("TZID")
                tzid = str(tzid) if tzid is not None else None
                items = getattr(value, "dts", [value])  # EXDATE/RDATE hold lists
                for item in items:
                    item.dt = self.place(item.dt, tzid, span, prop)
                if prop in ("EXDATE", "RDATE"):
                    dated = [i for i in items if isinstance(i.dt, date | tuple)]
                    if len(dated) != len(items):
                        value.dts = dated
                        self.warn(f"{prop} values that are not dates ignored", span, prop)

    # events

    def event(self, event: Any, span: _Span) -> bool:
        """Check and prepare one event; False (and a warning) if it cannot be used."""
        try:
            self.repair(event, span)
            self.localize(event, span)
            self.period(event, span)
            _check_period(event, self.zone)
            self.rules(event, span)
            self.bound(event, span)
        except _Skip as skip:
            self.warn(f"event {_title(event)!r} skipped: {skip.message}", span, skip.prop)
            return False
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
            # What the libraries raise on values they parsed but cannot use.
            self.warn(f"event {_title(event)!r} skipped: {_reason(error)}", span)
            return False
        return True

    def repair(self, event: Any, span: _Span) -> None:
        """Values icalendar could not parse: ignore what can be, else skip the event."""
        for prop, message in event.errors:
            if prop in ("SEQUENCE", "RRULE", "EXDATE", "RDATE"):
                # SEQUENCE only orders the overrides of a series; a rule or a
                # date list that cannot be read leaves the other instances.
                usable = icalendar.prop.vRecur if prop == "RRULE" else icalendar.prop.vDDDLists
                kept = [v for v in _values(event, prop) if isinstance(v, usable)]
                event.pop(prop, None)
                if kept:
                    event[prop] = kept if len(kept) > 1 else kept[0]
                self.warn(f"bad {prop} ignored: {message}", span, prop)
            elif prop in _TIMING:
                raise _Skip(f"bad {prop}: {message}", prop)

    def period(self, event: Any, span: _Span) -> None:
        """Read the two forms of an event's length that RFC 5545 forbids as best readers do."""
        if "DTEND" in event and "DURATION" in event and not isinstance(event["DTEND"], list):
            event.pop("DURATION")
            self.warn("event has both DTEND and DURATION: DURATION ignored", span, "DURATION")
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None or end is None or isinstance(start, list) or isinstance(end, list):
            return
        if isinstance(start.dt, datetime) != isinstance(end.dt, datetime):
            dated = start if not isinstance(start.dt, datetime) else end
            dated.dt = datetime.combine(dated.dt, time(), self.floating[0])
            self.warn(
                "DTSTART and DTEND are not both dates or both date-times: "
                f"the date is read as midnight in {self.floating[1]}",
                span,
                "DTEND",
            )

    def rules(self, event: Any, span: _Span) -> None:
        """Leave out (with a warning) the RRULEs dateutil cannot use; DTSTART stays busy."""
        rules = _values(event, "RRULE")
        kept = [rule for rule in rules if not self.bad_rule(event, rule, span)]
        if len(kept) != len(rules):
            event.pop("RRULE")
            if kept:
                event["RRULE"] = kept if len(kept) > 1 else kept[0]

    def bad_rule(self, event: Any, rule: Any, span: _Span) -> bool:
        problem = _rule_problem(rule, event["DTSTART"].dt)
        if problem is not None:
            self.warn(f"bad RRULE ignored, only DTSTART is busy: {problem}", span, "RRULE")
        return problem is not None

    def bound(self, event: Any, span: _Span) -> None:
        """Keep the expansion of the event's rules inside the range, or refuse it."""
        rules = _values(event, "RRULE")
        if not rules:
            return
        kept = []
        for rule in rules:
            freq = _freq(rule)
            if "BYSETPOS" in rule and freq in _FINER_THAN_WEEKLY:
                raise _Skip(f"BYSETPOS with FREQ={freq} is not supported", "RRULE")
            if _matches_no_day(rule, event["DTSTART"].dt):
                self.warn(
                    f"the RRULE of event {_title(event)!r} matches no day at all: "
                    "only its DTSTART is busy",
                    span,
                    "RRULE",
                )
            else:
                kept.append(rule)
        del event["RRULE"]
        if kept:
            event["RRULE"] = kept if len(kept) > 1 else kept[0]
        if len(kept) == 1 and "COUNT" not in kept[0] and _freq(kept[0]) in _PERIOD_SECONDS:
            self.skip_ahead(event, kept[0])
        for rule in kept:
            self.count(event, rule, span)

    def skip_ahead(self, event: Any, rule: Any) -> None:
        """Move DTSTART of a rule with no COUNT to just before the range.

        It moves by whole periods of the rule's own grid that are also whole
        days, so every instance from there on is the same (BY* filters name
        days, months and times of day, which whole days keep).
        """
        start = event["DTSTART"].dt
        first = _aware(start, self.zone)
        length = _aware(_instance_end(event), self.zone) - first
        target = self.start - length - timedelta(days=1)
        if first >= target:
            return
        period = _PERIOD_SECONDS[_freq(rule)] * int(rule.get("INTERVAL", [1])[0])
        if any(name.startswith("BY") for name in rule):
            step = timedelta(days=math.lcm(period, 86400) // 86400)
        else:  # no filter: every period from DTSTART is an instance
            step = timedelta(seconds=period)
        shift = step * ((target - first) // step)
        if shift:
            event["DTSTART"].dt = start + shift
            if "DTEND" in event:
                event["DTEND"].dt = event["DTEND"].dt + shift

    def count(self, event: Any, rule: Any, span: _Span) -> None:
        """Refuse the file if the rule takes more than the documented work to expand.

        At most MAX_INSTANCES instances in the range, and MAX_BEFORE before it
        (only a rule with COUNT, which cannot skip ahead, gets near that).
        """
        start = event["DTSTART"].dt
        text = _UNTIL.sub("", rule.to_ical().decode()).rstrip(";")
        if "UNTIL" in rule:
            text += f";UNTIL={_until_text(rule['UNTIL'][0], start)}"
        low, high = self.start - timedelta(days=1), self.end + timedelta(days=1)
        base = start if isinstance(start, datetime) else datetime.combine(start, time())
        if base.tzinfo is None:
            low, high = low.replace(tzinfo=None), high.replace(tzinfo=None)
        before = inside = 0
        try:
            for instance in rrulestr(text, dtstart=base):
                if instance > high:
                    return
                if instance < low:
                    before += 1
                else:
                    inside += 1
                if inside > MAX_INSTANCES or before > MAX_BEFORE:
                    where = "in" if inside > MAX_INSTANCES else "before"
                    most = MAX_INSTANCES if inside > MAX_INSTANCES else MAX_BEFORE
                    raise BusyFileError(
                        self.source,
                        f"event {_title(event)!r} repeats more than {most:,} times {where} "
                        f"the range {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} (RRULE:{text}); "
                        f"calsync follows at most {most:,} instances of one event {where} "
                        "the range",
                        span.properties.get("RRULE", span.begin),
                    )
        except (ValueError, TypeError, OverflowError) as error:
            raise _Skip(f"its RRULE cannot be expanded: {error}", "RRULE") from error

    # expansion

    def busy(self, calendar: icalendar.Calendar, events: list[tuple[Any, _Span]]) -> set[Busy]:
        where = {str(event.get("UID", "")): (span, _title(event)) for event, span in events[::-1]}
        # Widen by a day so nothing near the edges is lost to the library's own
        # rounding; the exact overlap test happens afterwards.
        low, high = self.start - timedelta(days=1), self.end + timedelta(days=1)
        found: set[Busy] = set()
        for series in self.series(calendar, events, where):
            try:
                instances = [o.as_component(False) for o in series.between(low, high)]
            except Exception as error:  # noqa: BLE001 - dateutil raises anything on odd rules
                span, title = where.get(str(series.uid), (None, str(series.uid)))
                self.warn(f"event {title!r} skipped: {_reason(error)}", span, "RRULE")
                continue
            for instance in instances:
                busy = self.instance(instance)
                if busy is not None:
                    found.add(busy)
        return found

    def series(
        self,
        calendar: icalendar.Calendar,
        events: list[tuple[Any, _Span]],
        where: dict[str, tuple[_Span, str]],
    ) -> list[Any]:
        """recurring-ical-events' series, one UID at a time if the whole calendar fails."""
        try:
            found = recurring_ical_events.of(calendar, skip_bad_series=True).series
        except Exception:  # noqa: BLE001 - then find the series that fails
            found = []
            for uid in dict.fromkeys(str(event.get("UID", "")) for event, _ in events):
                alone = icalendar.Calendar()
                for event, _ in events:
                    if str(event.get("UID", "")) == uid:
                        alone.add_component(event)
                try:
                    found += recurring_ical_events.of(alone, skip_bad_series=True).series
                except Exception as error:  # noqa: BLE001
                    span, title = where.get(uid, (None, uid))
                    self.warn(f"event {title!r} skipped: {_reason(error)}", span)
        # The library leaves out, silently, a series it cannot use: say so.
        for uid in where.keys() - {str(series.uid) for series in found}:
            if uid:
                span, title = where[uid]
                self.warn(f"event {title!r} skipped: its recurrences cannot be read", span)
        return found

    def instance(self, component: Any) -> Busy | None:
        transparent = str(component.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
        cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
        if transparent or cancelled:
            return None
        start = _aware(component["DTSTART"].dt, self.zone)
        end = _aware(_instance_end(component), self.zone)
        if start < end and start < self.end and end > self.start:
            return Busy(start, end, _title(component))
        return None


# --- public API ---------------------------------------------------------------


def parse_busy(
    text: bytes | str, source: str, start: datetime, end: datetime, zone: ZoneInfo
) -> BusyTime:
    """The busy intervals of an .ics calendar that overlap [start, end), and warnings.

    `source` names the file in messages only. Dates, floating times and naive
    `start`/`end` are read in `zone` (the plan's zone), except that a
    Google-style X-WR-TIMEZONE, when the file has one, is the zone of its
    floating times. Every returned datetime is aware and expressed in `zone`.
    Transparent ("free") and cancelled events or instances take no time and
    are left out, as are zero-length events. Identical intervals (same start,
    end and title) are reported once.

    An event that cannot be read is left out with a warning naming its line;
    a time zone nothing resolves is read as local time with a warning. Raises
    `BusyFileError` only for a file that is not an iCalendar file, or for an
    event with more than `MAX_INSTANCES` instances up to `end`.
    """
    start, end = _aware(start, zone), _aware(end, zone)
    warn = _Warn(source)
    try:
        decoded = _decode(text)
        _check_header(decoded, source)
        found: set[Busy] = set()
        with warnings.catch_warnings():
            # icalendar and dateutil warn about guesses calsync makes (and
            # reports) itself; their warnings would only be noise on stderr.
            warnings.simplefilter("ignore")
            for block in _Scanner(warn).scan(decoded):
                reader = _Reader(source, start, end, zone, warn)
                calendar, events = reader.calendar(block)
                found |= reader.busy(calendar, events)
    except BusyFileError:
        raise
    except RecursionError as error:  # absurdly deep BEGIN nesting
        raise BusyFileError(source, "components nested too deeply") from error
    except Exception as error:  # libraries raise ValueError, KeyError, ... on odd input
        raise BusyFileError(source, f"cannot read calendar: {_reason(error)}") from error
    ordered = tuple(sorted(found, key=lambda b: (b.start, b.end, b.title)))
    return BusyTime(ordered, warn.all())


def read_busy(path: Path, start: datetime, end: datetime, zone: ZoneInfo) -> BusyTime:
    """Read an .ics file and return its busy intervals and warnings (see `parse_busy`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BusyFileError(str(path), error.strerror or str(error)) from error
    return parse_busy(data, str(path), start, end, zone)
