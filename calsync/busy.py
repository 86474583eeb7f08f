"""Busy time from other calendars: any .ics export becomes a tuple of `Busy`.

Parsing is done by `icalendar` and recurrence expansion by
`recurring-ical-events`; this module adds what those libraries leave to the
caller:

* a small structural pre-scan, because `icalendar` is lenient (it records
  broken lines on `component.errors` instead of raising, accepts `END:VTODO`
  closing a `VEVENT`, and never reports line numbers);
* per-event checks the libraries skip or "repair" silently (an unknown TZID
  becomes a naive datetime, DTEND before DTSTART is swapped);
* normalisation of every instance to an aware [start, end) in the plan's zone.

Whatever goes wrong, callers only ever see `BusyFileError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr

from calsync.errors import BusyFileError
from calsync.model import Busy

__all__ = ["BusyFileError", "parse_busy", "read_busy"]


# --- structural pre-scan ------------------------------------------------------

# RFC 5545 section 3.1: name *(";" param) ":" value, where a param value is
# either a quoted string or text without DQUOTE, ";", ":" or ",".
_PARAM_VALUE = r'(?:"[^"]*"|[^";:,]*)'
_CONTENT_LINE = re.compile(
    rf"(?P<name>[A-Za-z0-9-]+)(?:;[A-Za-z0-9-]+={_PARAM_VALUE}(?:,{_PARAM_VALUE})*)*:"
)
_NEWLINE = re.compile(r"\r?\n")  # the same line breaks icalendar accepts
_NOT_ICALENDAR = "expected an iCalendar file (BEGIN:VCALENDAR)"


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based physical line where this (unfolded) content line starts
    name: str  # upper-cased property name
    value: str


@dataclass
class _Span:
    """Where one component sits in the file, to put line numbers on errors."""

    name: str
    begin: int
    properties: dict[str, int]  # first line of each direct property


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


def _content_lines(text: str, source: str) -> Iterator[_Line]:
    for number, logical in _unfold(text):
        match = _CONTENT_LINE.match(logical)
        if match is None:
            raise BusyFileError(source, f"not an iCalendar content line: {logical[:60]!r}", number)
        yield _Line(number, match["name"].upper(), logical[match.end() :])


def _check_header(text: str, source: str) -> None:
    """Say "not iCalendar" rather than "bad line 1" for a JPEG or a vCard."""
    for number, logical in _unfold(text):
        if logical.strip().upper() != "BEGIN:VCALENDAR":
            raise BusyFileError(source, _NOT_ICALENDAR, number)
        return
    raise BusyFileError(source, f"empty file; {_NOT_ICALENDAR}")


def _scan(text: str, source: str) -> list[_Span]:
    """Check syntax and BEGIN/END nesting; return components in document order.

    Document order is the order of `Component.walk()`, which is how spans are
    matched to parsed components later.
    """
    _check_header(text, source)
    spans: list[_Span] = []
    stack: list[_Span] = []
    closed = False
    for line in _content_lines(text, source):
        if closed:
            raise BusyFileError(source, "content after END:VCALENDAR", line.number)
        if line.name == "BEGIN":
            span = _Span(line.value.strip().upper(), line.number, {})
            spans.append(span)
            stack.append(span)
        elif line.name == "END":
            _close(stack, line, source)
            closed = not stack
        else:
            stack[-1].properties.setdefault(line.name, line.number)
    if stack:
        open_ = stack[-1]
        raise BusyFileError(source, f"BEGIN:{open_.name} is never closed", open_.begin)
    return spans


def _close(stack: list[_Span], line: _Line, source: str) -> None:
    name = line.value.strip().upper()
    if not stack:
        raise BusyFileError(source, f"END:{name} without BEGIN", line.number)
    if stack[-1].name != name:
        message = f"END:{name} does not close BEGIN:{stack[-1].name} (line {stack[-1].begin})"
        raise BusyFileError(source, message, line.number)
    stack.pop()


# --- parsing and per-event checks ---------------------------------------------

# Properties whose broken values change when an event is busy. Broken values
# elsewhere (say a malformed CREATED) are harmless for us and are ignored, as
# real exports do carry such noise.
# SEQUENCE is in because recurring-ical-events compares it between overrides.
_TIMING = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE"}
)
_TIMEZONE_PARTS = frozenset({"VTIMEZONE", "STANDARD", "DAYLIGHT"})
_DATED = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


@dataclass(frozen=True)
class _Where:
    """Reports errors about one component, with line numbers when known."""

    source: str
    span: _Span | None

    def error(self, message: str, prop: str | None = None) -> BusyFileError:
        if self.span is None:
            return BusyFileError(self.source, message)
        line = self.span.properties.get(prop, self.span.begin) if prop else self.span.begin
        return BusyFileError(self.source, message, line)


def _decode(text: bytes | str) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    # RFC 5545 text is UTF-8. Stray bytes (legacy Windows exports) only ever
    # damage titles, so they are replaced rather than rejecting the file.
    return text.decode("utf-8-sig", errors="replace")


def _parse_calendar(text: str, source: str) -> tuple[icalendar.Calendar, list[_Where]]:
    spans = _scan(text, source)
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as error:  # icalendar raises bare ValueError & co.
        line = _guess_line(text, str(error))
        raise BusyFileError(source, f"invalid iCalendar data: {error}", line) from error
    if not isinstance(calendar, icalendar.Calendar):
        raise BusyFileError(source, _NOT_ICALENDAR)
    components = calendar.walk()
    # Should icalendar ever build components differently from our scan, the
    # spans would be misattributed: then give errors without line numbers.
    if [c.name for c in components] != [s.name for s in spans]:
        return calendar, [_Where(source, None) for _ in components]
    return calendar, [_Where(source, span) for span in spans]


_QUOTED_VALUE = re.compile(r"got:? '?(?P<value>[^']+?)'?$", re.IGNORECASE)


def _guess_line(text: str, message: str) -> int | None:
    """The line holding the value an icalendar exception quotes, if unique.

    icalendar raises (rather than records) errors in VTIMEZONE data, and its
    messages end with "got: <value>" but carry no position.
    """
    match = _QUOTED_VALUE.search(message)
    if match is None:
        return None
    found = [number for number, line in _unfold(text) if match["value"] in line]
    return found[0] if len(found) == 1 else None


def _check_broken(component: icalendar.cal.Component, where: _Where) -> None:
    """Turn the errors icalendar recorded (instead of raising) into ours."""
    for prop, message in component.errors:
        if prop is None:
            raise where.error(f"broken content line: {message}")
        if component.name in _TIMEZONE_PARTS or (component.name == "VEVENT" and prop in _TIMING):
            raise where.error(f"bad {prop} in {component.name}: {message}", prop)


def _dated_values(
    component: icalendar.cal.Component, prop: str
) -> Iterator[tuple[object, str | None]]:
    """Yield (python value, TZID or None) for each value of a date property."""
    values = component.get(prop)
    if values is None:
        return
    for value in values if isinstance(values, list) else [values]:
        tzid = value.params.get("TZID")
        for item in getattr(value, "dts", [value]):  # EXDATE/RDATE hold lists
            dt = item.dt
            yield (dt[0] if isinstance(dt, tuple) else dt), tzid  # RDATE periods


def _check_zones(event: icalendar.cal.Component, where: _Where) -> None:
    # icalendar resolves a TZID from a VTIMEZONE, the IANA database or the
    # Windows zone names; failing all three it silently returns a naive
    # (floating) time, which would be off by hours. Refuse instead.
    for prop in _DATED:
        for value, tzid in _dated_values(event, prop):
            if tzid is not None and isinstance(value, datetime) and value.tzinfo is None:
                message = f"unknown time zone {tzid!r} in {prop} (no VTIMEZONE defines it)"
                raise where.error(message, prop)


def _aware(value: date, zone: ZoneInfo) -> datetime:
    """A date means local midnight in `zone`; a floating time is read in `zone`."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def _check_period(event: icalendar.cal.Component, where: _Where, zone: ZoneInfo) -> None:
    if "DTSTART" not in event:
        raise where.error(f"event {_title(event)!r} has no DTSTART")
    for prop in ("DTSTART", "DTEND", "DURATION"):
        if isinstance(event.get(prop), list):  # icalendar keeps repeats as a list
            raise where.error(f"event has more than one {prop}", prop)
    start = event["DTSTART"].dt
    if "DTEND" in event and "DURATION" in event:
        raise where.error("event has both DTEND and DURATION", "DURATION")
    if "DURATION" in event:
        duration = event["DURATION"]
        if not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0):
            text = duration.to_ical().decode()
            raise where.error(f"DURATION must not be negative: {text}", "DURATION")
    if "DTEND" in event:
        end = event["DTEND"].dt
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise where.error("DTSTART and DTEND must both be dates or both date-times", "DTEND")
        if _aware(end, zone) < _aware(start, zone):
            raise where.error(f"DTEND {end} is before DTSTART {start}", "DTEND")


_UNTIL = re.compile(r"UNTIL=[^;]*;?")


def _check_rules(event: icalendar.cal.Component, where: _Where) -> None:
    # recurring-ical-events hides dateutil's reason behind "UNTIL parameter is
    # missing" for any bad rule, so try each rule here first. UNTIL is dropped
    # because icalendar has checked its syntax already, and its zone may
    # legitimately differ from DTSTART's (recurring-ical-events fixes that up).
    rules = event.get("RRULE", [])
    start = event["DTSTART"].dt
    naive = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    for rule in rules if isinstance(rules, list) else [rules]:
        if "FREQ" not in rule:  # dateutil would only say "missing argument"
            raise where.error("RRULE has no FREQ", "RRULE")
        text = _UNTIL.sub("", rule.to_ical().decode()).rstrip(";")
        try:
            rrulestr(text, dtstart=naive)
        except (ValueError, TypeError, KeyError) as error:
            raise where.error(f"bad RRULE {text!r}: {error}", "RRULE") from error


def _check_calendar_zone(calendar: icalendar.Calendar, where: _Where) -> None:
    # Google's X-WR-TIMEZONE is honoured by recurring-ical-events (floating
    # times are read in it), which fails obscurely if the name is unknown.
    name = calendar.get("X-WR-TIMEZONE")
    if name is None:
        return
    try:
        ZoneInfo(str(name))
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        message = f"unknown time zone {str(name)!r} in X-WR-TIMEZONE"
        raise where.error(message, "X-WR-TIMEZONE") from error


def _check_calscale(calendar: icalendar.Calendar, where: _Where) -> None:
    # recurring-ical-events refuses other scales; say where the scale is set.
    scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
    if scale != "GREGORIAN":
        raise where.error(f"unsupported CALSCALE {scale!r} (only GREGORIAN)", "CALSCALE")


def _check(calendar: icalendar.Calendar, wheres: list[_Where], zone: ZoneInfo) -> None:
    _check_calendar_zone(calendar, wheres[0])
    _check_calscale(calendar, wheres[0])
    for component, where in zip(calendar.walk(), wheres, strict=True):
        _check_broken(component, where)
        if component.name == "VEVENT":
            _check_zones(component, where)
            _check_period(component, where, zone)
            _check_rules(component, where)


# --- expansion ----------------------------------------------------------------


def _title(event: icalendar.cal.Component) -> str:
    return str(event.get("SUMMARY", "")).strip() or "busy"


def _takes_time(event: icalendar.cal.Component) -> bool:
    transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    return not (transparent or cancelled)


def _instance_end(event: icalendar.cal.Component) -> date:
    """The end of one expanded instance, with RFC 5545's defaults."""
    start = event["DTSTART"].dt
    if "DTEND" in event:
        return event["DTEND"].dt
    if "DURATION" in event:
        return start + event["DURATION"].dt
    # No DTEND nor DURATION: a date lasts one day, a date-time no time at all.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _busy(event: icalendar.cal.Component, zone: ZoneInfo) -> Busy:
    start = _aware(event["DTSTART"].dt, zone)
    end = _aware(_instance_end(event), zone)
    return Busy(start, end, _title(event))


def _expand(
    calendar: icalendar.Calendar, start: datetime, end: datetime, zone: ZoneInfo
) -> Iterable[icalendar.cal.Component]:
    # Query in the plan's zone so recurring-ical-events reads floating times
    # and dates there too, and widen by a day so nothing near the edges is
    # lost to its own rounding; the exact overlap test happens afterwards.
    margin = timedelta(days=1)
    query = recurring_ical_events.of(calendar)
    return query.between(start.astimezone(zone) - margin, end.astimezone(zone) + margin)


def _collect(
    calendar: icalendar.Calendar, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[Busy, ...]:
    found: set[Busy] = set()
    for event in _expand(calendar, start, end, zone):
        if not _takes_time(event):
            continue
        busy = _busy(event, zone)
        if busy.start < busy.end and busy.start < end and busy.end > start:
            found.add(busy)
    return tuple(sorted(found, key=lambda b: (b.start, b.end, b.title)))


# --- public API ---------------------------------------------------------------


def parse_busy(
    text: bytes | str, source: str, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[Busy, ...]:
    """The busy intervals of an .ics calendar that overlap [start, end).

    `source` names the file in error messages only. Dates, floating times and
    naive `start`/`end` are read in `zone` (the plan's zone), except that a
    Google-style X-WR-TIMEZONE, when the file has one, is the zone of its
    floating times. Every returned datetime is aware and expressed in `zone`.
    Transparent ("free") and cancelled events or instances take no time and
    are left out, as are zero-length events. Identical intervals (same start, end and title) are
    reported once. Raises only `BusyFileError`.
    """
    start, end = _aware(start, zone), _aware(end, zone)
    try:
        calendar, wheres = _parse_calendar(_decode(text), source)
        _check(calendar, wheres, zone)
        return _collect(calendar, start, end, zone)
    except BusyFileError:
        raise
    except RecursionError as error:  # absurdly deep BEGIN nesting
        raise BusyFileError(source, "components nested too deeply") from error
    except Exception as error:  # libraries raise ValueError, KeyError, ... on odd input
        raise BusyFileError(source, f"cannot read calendar: {error}") from error


def read_busy(path: Path, start: datetime, end: datetime, zone: ZoneInfo) -> tuple[Busy, ...]:
    """Read an .ics file and return its busy intervals (see `parse_busy`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BusyFileError(str(path), error.strerror or str(error)) from error
    return parse_busy(data, str(path), start, end, zone)
