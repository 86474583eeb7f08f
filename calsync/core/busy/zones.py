"""Time zones of one calendar, resolved in a fixed order.

An IANA name, a Windows name (icalendar's mapping), the file's own VTIMEZONE,
and failing those the calendar's X-WR-TIMEZONE or the plan's zone, with a
warning. This is independent of `icalendar`'s process-wide cache of VTIMEZONE
definitions (two files may both define Office's "Customized Time Zone",
differently).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calsync.core.busy.scan import Chunk, Span, Warn, described, reason, values_of

DATED = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


def iana(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, UnicodeError):  # ZoneInfoNotFoundError is a KeyError
        return None


def suffix_zone(tzid: str) -> ZoneInfo | None:
    """`/mozilla.org/20050126_1/Europe/Paris` and the like: the IANA name at the end."""
    parts = tzid.strip("/").split("/")
    for index in range(1, len(parts)):
        zone = iana("/".join(parts[index:]))
        if zone is not None:
            return zone
    return None


class CalendarZones:
    """The zones of one calendar's times: floating ones, TZIDs, its own VTIMEZONEs."""

    def __init__(
        self, zone: ZoneInfo, warn: Warn, calendar: icalendar.Calendar, span: Span
    ) -> None:
        self.zone = zone
        self.warn = warn
        self.zones: dict[str, tzinfo] = {}
        self.own: dict[str, tuple[Any, Chunk]] = {}
        self.xwr: tzinfo | None = None  # X-WR-TIMEZONE, when the calendar names a known one
        self.floating = self.calendar_zone(calendar, span)

    def calendar_zone(self, calendar: icalendar.Calendar, span: Span) -> tuple[tzinfo, str]:
        """The zone of floating times (and unresolvable TZIDs), and why it is that one."""
        # Google's X-WR-TIMEZONE is the zone of floating times, as
        # recurring-ical-events also reads it. It is applied here, once, and
        # removed so that the library does not apply it again.
        name = calendar.pop("X-WR-TIMEZONE", None)
        if name is not None:
            zone = iana(str(name))
            if zone is not None:
                self.xwr = zone
                return zone, f"the calendar's X-WR-TIMEZONE {zone.key}"
            self.warn(
                f"unknown time zone {str(name)!r} in X-WR-TIMEZONE ignored; "
                f"times without a zone are read in the plan's zone {self.zone.key}",
                span,
                "X-WR-TIMEZONE",
            )
        return self.zone, f"the plan's zone {self.zone.key}"

    def timezone(self, component: Any, chunk: Chunk) -> None:
        # Built only when an event needs it: a VTIMEZONE for an IANA name is
        # never used, so its oddities do not matter.
        self.own.setdefault(str(component.get("TZID", "")), (component, chunk))

    def own_zone(self, tzid: str) -> tzinfo | None:
        if tzid not in self.own:
            return None
        component, chunk = self.own[tzid]
        try:
            zone: tzinfo = component.to_tz(lookup_tzid=False)
            return zone
        except Exception as error:  # noqa: BLE001 - dateutil raises anything on odd input
            self.warn(f"{described(chunk, component)} cannot be read: {reason(error)}", chunk.span)
            return None

    def zone_for(self, tzid: str, span: Span, prop: str) -> tzinfo:
        if tzid in self.zones:
            return self.zones[tzid]
        zone = (
            iana(tzid)
            or iana(tzid.strip("/"))  # icalendar's reading of "/Europe/Stockholm"
            or iana(WINDOWS_TO_OLSON.get(tzid, ""))
            or self.own_zone(tzid)
        )
        if zone is None:
            guess = suffix_zone(tzid)
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

    def place(self, value: Any, tzid: str | None, span: Span, prop: str) -> Any:
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

    def localize(self, event: Any, span: Span) -> None:
        for prop in DATED:
            for value in values_of(event, prop):
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
