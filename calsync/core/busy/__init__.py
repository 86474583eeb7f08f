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
  (`icalendar` reports none) and notices broken nesting (`scan.py`);
* time zones resolved in a fixed order, independent of `icalendar`'s
  process-wide cache of VTIMEZONE definitions (two files may both define
  Office's "Customized Time Zone", differently): an IANA name, a Windows
  name (icalendar's mapping), the file's own VTIMEZONE, and failing those
  the calendar's X-WR-TIMEZONE or the plan's zone, with a warning (`zones.py`);
* per-event checks the libraries skip or "repair" silently (DTEND before
  DTSTART), and the repairs a reader can make said aloud (a bad RRULE or
  EXDATE ignored, a date DTSTART with a date-time DTEND read as midnight)
  (`reader.py`);
* bounds on recurrence: a rule with no COUNT is expanded only from just
  before the range, a rule that can give no instance is caught before
  dateutil searches for one until the year 9999, and an event may have at
  most `MAX_INSTANCES` instances in the range (and `MAX_BEFORE` before it)
  (`recurrence.py`);
* normalisation of every instance to an aware [start, end) in the plan's zone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from calsync.core.busy.reader import Reader
from calsync.core.busy.recurrence import MAX_BEFORE, MAX_INSTANCES, aware
from calsync.core.busy.scan import Scanner, Warn, check_header, decode, reason
from calsync.core.model import Busy, InputWarning
from calsync.errors import BusyFileError

__all__ = ["MAX_BEFORE", "MAX_INSTANCES", "BusyFileError", "BusyTime", "parse_busy"]


@dataclass(frozen=True)
class BusyTime:
    """What a busy calendar gives: its busy intervals and what had to be assumed."""

    busy: tuple[Busy, ...]
    warnings: tuple[InputWarning, ...] = ()


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
    start, end = aware(start, zone), aware(end, zone)
    warn = Warn(source)
    try:
        decoded = decode(text)
        check_header(decoded, source)
        found: set[Busy] = set()
        with warnings.catch_warnings():
            # icalendar and dateutil warn about guesses calsync makes (and
            # reports) itself; their warnings would only be noise on stderr.
            warnings.simplefilter("ignore")
            for block in Scanner(warn).scan(decoded):
                reader = Reader(source, start, end, zone, warn)
                calendar, events = reader.calendar(block)
                found |= reader.busy(calendar, events)
    except BusyFileError:
        raise
    except RecursionError as error:  # absurdly deep BEGIN nesting
        raise BusyFileError(source, "components nested too deeply") from error
    except Exception as error:  # libraries raise ValueError, KeyError, ... on odd input
        raise BusyFileError(source, f"cannot read calendar: {reason(error)}") from error
    ordered = tuple(sorted(found, key=lambda b: (b.start, b.end, b.title)))
    return BusyTime(ordered, warn.all())
