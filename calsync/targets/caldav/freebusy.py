"""Busy time from calendars on the CalDAV server, for placement and the overlap rule.

Another calendar is asked with a free-busy-query REPORT (RFC 4791 7.10); a server
without one has its events read and expanded here. The target calendar itself
is always read as events, leaving this plan's sessions out: free-busy cannot
tell them from the owner's appointments, and each session would otherwise be
busy time for itself on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from icalendar import Calendar

from calsync.core.model import Busy
from calsync.sync.backend import counts_as_busy
from calsync.targets.caldav.discovery import (
    Listed,
    find_home,
    list_calendars,
    pick_calendar,
    same_path,
)
from calsync.targets.caldav.events import read_event, vevents
from calsync.targets.caldav.http import CalDAVFailure, Transport, describe
from calsync.targets.caldav.names import Warn
from calsync.targets.caldav.xml import freebusy_body, query_body


class BusyReader:
    """Reads busy time on one server, for one target calendar (left out of its sessions)."""

    def __init__(
        self,
        transport: Transport,
        calendar_url: str,
        home_url: str | None,
        zone: tzinfo,
        warn: Warn,
    ) -> None:
        self.transport = transport
        self.calendar_url = calendar_url
        self.home_url = home_url
        self.zone = zone  # floating times and all-day dates of this plan's sessions
        self.warn = warn
        self._listed: list[Listed] | None = None  # the home's calendars, for names

    def busy(
        self, calendar_names: Sequence[str], start: datetime, end: datetime, plan_id: str
    ) -> tuple[Busy, ...]:
        """Busy time of other calendars, by name or URL, for placement and the overlap rule.

        The target calendar itself is read as events, leaving this plan's sessions
        out: free-busy cannot tell them from the owner's appointments, and each
        session would otherwise be busy time for itself on the next run.
        """
        found: list[Busy] = []
        for name in calendar_names:
            url = self._calendar_by_name(name)
            if same_path(url, self.calendar_url):
                found += self._busy_from_events(url, name, start, end, skip_plan=plan_id)
            else:
                found += self._busy_of(url, name, start, end)
        return tuple(sorted(set(found), key=lambda b: (b.start, b.end, b.title)))

    def _calendar_by_name(self, name: str) -> str:
        if "://" in name or name.startswith("/"):
            return self.transport.url(name, self.calendar_url)
        if self._listed is None:
            if self.home_url is None:
                self.home_url = find_home(self.transport, self.calendar_url)
            self._listed = list_calendars(self.transport, self.home_url)
        match = pick_calendar(self._listed, name)
        if match is None:
            raise CalDAVFailure(
                f"no calendar named '{name}' for {self.transport.names.busy} on this server"
            )
        return match

    def _busy_of(self, url: str, name: str, start: datetime, end: datetime) -> list[Busy]:
        answer = self.transport.send("REPORT", url, freebusy_body(start, end), {"Depth": "1"})
        if answer.status == 200:
            periods = freebusy_periods(answer.raw, start.tzinfo or UTC)
            if periods is not None:
                return [Busy(s, e, f"busy in {name}") for s, e in periods if s < end and e > start]
        # No free-busy REPORT here: read the events and expand them ourselves.
        return self._busy_from_events(url, name, start, end)

    def _busy_from_events(
        self, url: str, name: str, start: datetime, end: datetime, skip_plan: str = ""
    ) -> list[Busy]:
        from zoneinfo import ZoneInfo

        from calsync.core.busy import BusyFileError, parse_busy

        answer = self.transport.send("REPORT", url, query_body(start, end), {"Depth": "1"})
        if answer.status not in (200, 207):
            raise CalDAVFailure(f"cannot read the busy time of '{name}' ({describe(answer)})")
        zone = start.tzinfo if isinstance(start.tzinfo, ZoneInfo) else ZoneInfo("UTC")
        found: list[Busy] = []
        for result in answer.parse_calendar_query():
            data = result.calendar_data
            if not data or (skip_plan and not self._busy_here(data, result.href, skip_plan)):
                continue
            try:
                read = parse_busy(data, f"{name}:{result.href}", start, end, zone)
            except BusyFileError as err:
                self.warn(f"{err}; left out of the busy time")  # the rest of the calendar counts
                continue
            found += read.busy
            for warning in read.warnings:
                self.warn(str(warning))
        return [replace(b, title=f"busy in {name}") for b in found]

    def _busy_here(self, data: str, href: str, plan_id: str) -> bool:
        """Whether a resource of the target calendar is busy time (`counts_as_busy`); a
        session of this plan is recognised as `list_managed` does (by its properties or,
        when a client dropped them, by its UID)."""
        events = vevents(data)
        if any(read_event(e, href, None, plan_id, self.zone) for e in events):
            return False  # one of ours, whatever else the resource holds
        return any(
            counts_as_busy(
                ours=False,
                transparent=str(e.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT",
                cancelled=str(e.get("STATUS", "")).upper() == "CANCELLED",
            )
            for e in events
        )


def freebusy_periods(data: str, zone: tzinfo) -> list[tuple[datetime, datetime]] | None:
    """The busy periods of a VFREEBUSY answer (FBTYPE=FREE left out); None: not one."""
    try:
        calendar = Calendar.from_ical(data)
    except ValueError:
        return None
    blocks = list(calendar.walk("VFREEBUSY"))
    if not blocks:
        return None
    periods: list[tuple[datetime, datetime]] = []
    for block in blocks:
        values = block.get("FREEBUSY", [])
        for prop in values if isinstance(values, list) else [values]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            periods += [
                (_aware(a).astimezone(zone), _aware(b).astimezone(zone)) for a, b in _periods(prop)
            ]
    return periods


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # FREEBUSY is UTC (RFC 5545)


def _periods(prop: Any) -> list[tuple[datetime, datetime]]:
    found = []
    for item in getattr(prop, "dts", [prop]):
        value = getattr(item, "dt", item)
        start, other = value
        end = start + other if isinstance(other, timedelta) else other
        found.append((start, end))
    return found
