"""One calendar of an .ics file read into busy intervals: each event checked, repaired
aloud or skipped with a warning, then expanded by `recurring-ical-events`."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from calsync.core.busy.recurrence import Recurrence, aware, check_period, instance_end, rule_problem
from calsync.core.busy.scan import (
    Block,
    Chunk,
    Skip,
    Span,
    Warn,
    described,
    reason,
    title_of,
    values_of,
)
from calsync.core.busy.zones import CalendarZones
from calsync.core.model import Busy

# Properties whose broken values change when an event is busy. Broken values
# elsewhere (say a malformed ATTENDEE) are harmless here and are ignored, as
# real exports do carry such noise.
TIMING = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE"}
)


def calendar_of(properties: list[str]) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(
        "\r\n".join(["BEGIN:VCALENDAR", *properties, "END:VCALENDAR", ""])
    )


class Reader:
    """Reads the calendars of one file into busy time within [start, end)."""

    def __init__(
        self, source: str, start: datetime, end: datetime, zone: ZoneInfo, warn: Warn
    ) -> None:
        self.source = source
        self.start, self.end, self.zone = start, end, zone
        self.warn = warn
        self.recurrence = Recurrence(source, start, end, zone, warn)

    def calendar(self, block: Block) -> tuple[icalendar.Calendar, list[tuple[Any, Span]]]:
        """The calendar of one block and its events with their spans."""
        calendar = self.header(block)
        self.tz = CalendarZones(self.zone, self.warn, calendar, block.span)
        events: list[tuple[Any, Span]] = []
        for chunk in block.chunks:
            if chunk.span.name not in ("VEVENT", "VTIMEZONE"):
                continue  # to-dos, journals, free/busy: no busy time
            component = self.component(chunk)
            if component is None:
                continue
            if chunk.span.name == "VTIMEZONE":
                self.tz.timezone(component, chunk)
            else:
                events.append((component, chunk.span))
        kept = [(event, span) for event, span in events if self.event(event, span)]
        for event, _ in kept:
            calendar.add_component(event)
        return calendar, kept

    def header(self, block: Block) -> icalendar.Calendar:
        try:
            calendar = calendar_of(block.header)
        except Exception:  # noqa: BLE001 - icalendar raises anything on odd input
            # Keep the properties that can be read, one by one.
            calendar = icalendar.Calendar()
            for line in block.header:
                try:
                    calendar.update(calendar_of([line]))
                except Exception as error:  # noqa: BLE001
                    self.warn(f"calendar property ignored: {reason(error)}", block.span)
        scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
        if scale != "GREGORIAN":
            self.warn(f"CALSCALE {scale!r} read as GREGORIAN", block.span, "CALSCALE")
        calendar.pop("CALSCALE", None)
        return calendar

    def component(self, chunk: Chunk) -> Any | None:
        if chunk.problem is not None:
            self.warn(f"{described(chunk)} skipped: {chunk.problem}", chunk.span)
            return None
        try:
            component = icalendar.cal.Component.from_ical("\r\n".join([*chunk.lines, ""]))
        except Exception as error:  # noqa: BLE001 - icalendar raises anything on odd input
            self.warn(f"{described(chunk)} skipped: cannot read it: {reason(error)}", chunk.span)
            return None
        return component

    def event(self, event: Any, span: Span) -> bool:
        """Check and prepare one event; False (and a warning) if it cannot be used."""
        try:
            self.repair(event, span)
            self.tz.localize(event, span)
            self.period(event, span)
            check_period(event, self.zone)
            self.rules(event, span)
            self.recurrence.bound(event, span)
        except Skip as skip:
            self.warn(f"event {title_of(event)!r} skipped: {skip.message}", span, skip.prop)
            return False
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
            # What the libraries raise on values they parsed but cannot use.
            self.warn(f"event {title_of(event)!r} skipped: {reason(error)}", span)
            return False
        return True

    def repair(self, event: Any, span: Span) -> None:
        """Values icalendar could not parse: ignore what can be, else skip the event."""
        for prop, message in event.errors:
            if prop in ("SEQUENCE", "RRULE", "EXDATE", "RDATE"):
                # SEQUENCE only orders the overrides of a series; a rule or a
                # date list that cannot be read leaves the other instances.
                usable = icalendar.prop.vRecur if prop == "RRULE" else icalendar.prop.vDDDLists
                kept = [v for v in values_of(event, prop) if isinstance(v, usable)]
                event.pop(prop, None)
                if kept:
                    event[prop] = kept if len(kept) > 1 else kept[0]
                self.warn(f"bad {prop} ignored: {message}", span, prop)
            elif prop in TIMING:
                raise Skip(f"bad {prop}: {message}", prop)

    def period(self, event: Any, span: Span) -> None:
        """Read the two forms of an event's length that RFC 5545 forbids as best readers do."""
        if "DTEND" in event and "DURATION" in event and not isinstance(event["DTEND"], list):
            event.pop("DURATION")
            self.warn("event has both DTEND and DURATION: DURATION ignored", span, "DURATION")
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None or end is None or isinstance(start, list) or isinstance(end, list):
            return
        if isinstance(start.dt, datetime) != isinstance(end.dt, datetime):
            dated = start if not isinstance(start.dt, datetime) else end
            dated.dt = datetime.combine(dated.dt, time(), self.tz.floating[0])
            self.warn(
                "DTSTART and DTEND are not both dates or both date-times: "
                f"the date is read as midnight in {self.tz.floating[1]}",
                span,
                "DTEND",
            )

    def rules(self, event: Any, span: Span) -> None:
        """Leave out (with a warning) the RRULEs dateutil cannot use; DTSTART stays busy."""
        rules = values_of(event, "RRULE")
        kept = [rule for rule in rules if not self.bad_rule(event, rule, span)]
        if len(kept) != len(rules):
            event.pop("RRULE")
            if kept:
                event["RRULE"] = kept if len(kept) > 1 else kept[0]

    def bad_rule(self, event: Any, rule: Any, span: Span) -> bool:
        problem = rule_problem(rule, event["DTSTART"].dt)
        if problem is not None:
            self.warn(f"bad RRULE ignored, only DTSTART is busy: {problem}", span, "RRULE")
        return problem is not None

    def busy(self, calendar: icalendar.Calendar, events: list[tuple[Any, Span]]) -> set[Busy]:
        where = {str(event.get("UID", "")): (span, title_of(event)) for event, span in events[::-1]}
        # Widen by a day so nothing near the edges is lost to the library's own
        # rounding; the exact overlap test happens afterwards.
        low, high = self.start - timedelta(days=1), self.end + timedelta(days=1)
        found: set[Busy] = set()
        for series in self.series(calendar, events, where):
            try:
                instances = [o.as_component(False) for o in series.between(low, high)]
            except Exception as error:  # noqa: BLE001 - dateutil raises anything on odd rules
                span, title = where.get(str(series.uid), (None, str(series.uid)))
                self.warn(f"event {title!r} skipped: {reason(error)}", span, "RRULE")
                continue
            for instance in instances:
                busy = self.instance(instance)
                if busy is not None:
                    found.add(busy)
        return found

    def series(
        self,
        calendar: icalendar.Calendar,
        events: list[tuple[Any, Span]],
        where: dict[str, tuple[Span, str]],
    ) -> list[Any]:
        """recurring-ical-events' series, one UID at a time if the whole calendar fails."""
        try:
            found: list[Any] = recurring_ical_events.of(calendar, skip_bad_series=True).series
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
                    self.warn(f"event {title!r} skipped: {reason(error)}", span)
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
        start = aware(component["DTSTART"].dt, self.zone)
        end = aware(instance_end(component), self.zone)
        if start < end and start < self.end and end > self.start:
            return Busy(start, end, title_of(component))
        return None
