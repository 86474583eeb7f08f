"""Bounds on recurrence: a rule expands only as far as the range needs, or is refused.

A rule with no COUNT is expanded only from just before the range, a rule that
can give no instance is caught before dateutil searches for one until the year
9999, and an event may have at most `MAX_INSTANCES` instances in the range (and
`MAX_BEFORE` before it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

from calsync.core.busy.scan import Component, Skip, Span, Warn, title_of, values_of
from calsync.errors import BusyFileError

# The most instances of one recurring event calsync follows up to the end of
# the range (documented in the README, "Busy time"). Ten years of a daily
# meeting is 3,650; an event every minute for four weeks is 40,320.
MAX_INSTANCES = 10_000
# The most instances before the range calsync follows to reach it (a rule with
# no COUNT starts just before the range; one with COUNT starts at DTSTART).
MAX_BEFORE = 100_000


def aware(value: date, zone: tzinfo) -> datetime:
    """A date means local midnight in `zone`; a floating time is read in `zone`."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def instance_end(event: Component) -> date:
    """The end of one instance, with RFC 5545's defaults."""
    start: date = event["DTSTART"].dt
    if "DTEND" in event:
        end: date = event["DTEND"].dt
        return end
    if "DURATION" in event:
        duration: timedelta = event["DURATION"].dt
        return start + duration
    # No DTEND nor DURATION: a date lasts one day, a date-time no time at all.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def check_period(event: Component, zone: ZoneInfo) -> None:
    if "DTSTART" not in event:
        raise Skip("it has no DTSTART")
    for prop in ("DTSTART", "DTEND", "DURATION"):
        if isinstance(event.get(prop), list):  # icalendar keeps repeats as a list
            raise Skip(f"it has more than one {prop}", prop)
    start = event["DTSTART"].dt
    if "DURATION" in event:
        duration = event["DURATION"]
        if not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0):
            raise Skip(f"DURATION must not be negative: {duration.to_ical().decode()}", "DURATION")
    if "DTEND" in event:
        end = event["DTEND"].dt
        if aware(end, zone) < aware(start, zone):
            raise Skip(f"DTEND {end} is before DTSTART {start}", "DTEND")


UNTIL = re.compile(r"UNTIL=[^;]*;?")


def rule_problem(rule: Any, start: date) -> str | None:
    """Why dateutil cannot use this RRULE, or None."""
    # recurring-ical-events hides dateutil's reason behind "UNTIL parameter is
    # missing" for any bad rule, so try each rule here first. UNTIL is dropped
    # because icalendar has checked its syntax already, and its zone may
    # legitimately differ from DTSTART's (recurring-ical-events fixes that up).
    if "FREQ" not in rule:  # dateutil would only say "missing argument"
        return "it has no FREQ"
    text = UNTIL.sub("", rule.to_ical().decode()).rstrip(";")
    naive = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    try:
        rrulestr(text, dtstart=naive)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"{text!r}: {error}"
    return None


PERIOD_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 604800}
FINER_THAN_WEEKLY = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY")
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
# Every day filter repeats with the Gregorian calendar's 400-year cycle (146,097
# days, a whole number of weeks), so a rule that matches no day from here to
# the year 9999 (where dateutil stops) matches no day ever.
_PROBE_START = datetime(9600, 1, 1)


def freq_of(rule: Any) -> str:
    return str(rule["FREQ"][0]).upper()


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def matches_no_day(rule: Any, start: date) -> bool:
    """True if the rule can never give an instance (its filters never all hold).

    dateutil checks UNTIL only when an instance passes the filters, so such a
    rule would make it walk every period (day, week, second) to the year 9999.
    The probe is the rule from the year 9600 on, with the parts dateutil would
    take from DTSTART written out, so it looks at one whole 400-year cycle.
    """
    parts = {name: rule[name] for name in _DAY_PARTS if name in rule}
    freq = freq_of(rule)
    if not parts and ("BYSETPOS" not in rule or freq not in ("YEARLY", "MONTHLY", "WEEKLY")):
        return False  # every period has an instance
    probe: Any = icalendar.prop.vRecur(parts)  # icalendar leaves vRecur.to_ical unannotated
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


def until_text(value: date, start: date) -> str:
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


@dataclass(frozen=True)
class Recurrence:
    """The expansion of one file's recurring events, kept to [start, end)."""

    source: str
    start: datetime
    end: datetime
    zone: ZoneInfo
    warn: Warn

    def bound(self, event: Any, span: Span) -> None:
        """Keep the expansion of the event's rules inside the range, or refuse it."""
        rules = values_of(event, "RRULE")
        if not rules:
            return
        kept = []
        for rule in rules:
            freq = freq_of(rule)
            if "BYSETPOS" in rule and freq in FINER_THAN_WEEKLY:
                raise Skip(f"BYSETPOS with FREQ={freq} is not supported", "RRULE")
            if matches_no_day(rule, event["DTSTART"].dt):
                self.warn(
                    f"the RRULE of event {title_of(event)!r} matches no day at all: "
                    "only its DTSTART is busy",
                    span,
                    "RRULE",
                )
            else:
                kept.append(rule)
        del event["RRULE"]
        if kept:
            event["RRULE"] = kept if len(kept) > 1 else kept[0]
        if len(kept) == 1 and "COUNT" not in kept[0] and freq_of(kept[0]) in PERIOD_SECONDS:
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
        first = aware(start, self.zone)
        length = aware(instance_end(event), self.zone) - first
        target = self.start - length - timedelta(days=1)
        if first >= target:
            return
        period = PERIOD_SECONDS[freq_of(rule)] * int(rule.get("INTERVAL", [1])[0])
        if any(name.startswith("BY") for name in rule):
            step = timedelta(days=math.lcm(period, 86400) // 86400)
        else:  # no filter: every period from DTSTART is an instance
            step = timedelta(seconds=period)
        shift = step * ((target - first) // step)
        if shift:
            event["DTSTART"].dt = start + shift
            if "DTEND" in event:
                event["DTEND"].dt = event["DTEND"].dt + shift

    def count(self, event: Any, rule: Any, span: Span) -> None:
        """Refuse the file if the rule takes more than the documented work to expand.

        At most MAX_INSTANCES instances in the range, and MAX_BEFORE before it
        (only a rule with COUNT, which cannot skip ahead, gets near that).
        """
        start = event["DTSTART"].dt
        text = UNTIL.sub("", rule.to_ical().decode()).rstrip(";")
        if "UNTIL" in rule:
            text += f";UNTIL={until_text(rule['UNTIL'][0], start)}"
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
                        f"event {title_of(event)!r} repeats more than {most:,} times {where} "
                        f"the range {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} (RRULE:{text}); "
                        f"calsync follows at most {most:,} instances of one event {where} "
                        "the range",
                        span.properties.get("RRULE", span.begin),
                    )
        except (ValueError, TypeError, OverflowError) as error:
            raise Skip(f"its RRULE cannot be expanded: {error}", "RRULE") from error

    # expansion
