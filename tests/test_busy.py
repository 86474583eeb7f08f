"""Busy time read from real-world shaped .ics exports (Google, Outlook)."""

from __future__ import annotations

import json
import pickle
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from calsync.cli.main import cli as main_cli
from calsync.core.busy import (
    MAX_BEFORE,
    MAX_INSTANCES,
    BusyFileError,
    BusyTime,
    parse_busy,
    read_busy,
)
from calsync.core.model import Busy, InputWarning

DATA = Path(__file__).parent / "data"
WORK = DATA / "work-calendar.ics"
OUTLOOK = DATA / "outlook-export.ics"
BRUSSELS = ZoneInfo("Europe/Brussels")
# The whole fixture period: Nov 2026 to Jan 2027, all of it CET (UTC+1).
START = datetime(2026, 11, 1, tzinfo=BRUSSELS)
END = datetime(2027, 2, 1, tzinfo=BRUSSELS)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BRUSSELS)


def work(start: datetime = START, end: datetime = END) -> tuple[Busy, ...]:
    read = read_busy(WORK, start, end, BRUSSELS)
    assert read.warnings == ()
    return read.busy


def titled(title: str, busy: tuple[Busy, ...] | None = None) -> list[Busy]:
    return [b for b in (work() if busy is None else busy) if b.title == title]


def calendar(*event_lines: str) -> str:
    """A minimal calendar holding one VEVENT with the given lines."""
    body = "".join(f"{line}\r\n" for line in event_lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:t@test\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def parse(text: bytes | str) -> tuple[Busy, ...]:
    """The busy intervals of a calendar that needs no assumption (no warnings)."""
    read = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert read.warnings == ()
    return read.busy


# --- the Google fixture -------------------------------------------------------


def test_standup_lands_on_every_tuesday_and_thursday_at_1730_local() -> None:
    moved = date(2026, 11, 18)
    regular = [b for b in titled("Team standup") if b.start.date() != moved]
    assert {b.start.strftime("%a %H:%M%z") for b in regular} == {"Tue 17:30+0100", "Thu 17:30+0100"}
    assert {b.end - b.start for b in regular} == {timedelta(hours=1)}
    # No DST change between November and January: always 16:30 UTC.
    assert {b.start.astimezone(UTC).strftime("%H:%M") for b in regular} == {"16:30"}


def test_standup_series_runs_until_its_until_date_minus_exceptions() -> None:
    days = [date(2026, 11, 3) + timedelta(days=n) for n in range(90)]
    series = {d for d in days if d.weekday() in (1, 3) and d <= date(2027, 1, 28)}
    exceptions = {date(2026, 11, 17), date(2026, 12, 24), date(2026, 12, 31)}
    moved_to = {date(2026, 11, 18)}
    assert {b.start.date() for b in titled("Team standup")} == series - exceptions | moved_to


def test_moved_standup_is_at_its_new_time_only() -> None:
    standups = titled("Team standup")
    assert Busy(local(2026, 11, 18, 8, 30), local(2026, 11, 18, 9, 30), "Team standup") in standups
    assert not [b for b in standups if b.start.date() == date(2026, 11, 17)]


def test_standup_removed_by_exdate_is_absent() -> None:
    assert not [b for b in titled("Team standup") if b.start.date() == date(2026, 12, 24)]


def test_standup_cancelled_by_override_is_absent() -> None:
    assert not [b for b in titled("Team standup") if b.start.date() == date(2026, 12, 31)]


def test_all_day_event_covers_the_local_day_in_brussels() -> None:
    (offsite,) = titled("Company offsite")
    assert (offsite.start, offsite.end) == (local(2026, 12, 11), local(2026, 12, 12))
    assert offsite.start.astimezone(UTC) == datetime(2026, 12, 10, 23, 0, tzinfo=UTC)


def test_multi_day_all_day_event_ends_before_its_exclusive_dtend() -> None:
    (conference,) = titled("Conference: Devs on Ice")
    assert (conference.start, conference.end) == (local(2027, 1, 13), local(2027, 1, 15))


def test_new_york_event_lands_at_the_right_utc_instant() -> None:
    # 10:00 EST (UTC-5; US DST ended on 2026-11-01), no VTIMEZONE in the file.
    (sync,) = titled("Roadmap sync with New York")
    assert sync.start.astimezone(UTC) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert sync.end - sync.start == timedelta(hours=1)


def test_utc_event_is_shown_in_local_time() -> None:
    (demo,) = titled("Vendor demo")
    assert demo.start == local(2026, 12, 3, 14, 0)
    assert demo.start.tzinfo == BRUSSELS


def test_transparent_event_is_not_busy() -> None:
    assert titled("Focus time (free)") == []


def test_cancelled_event_is_not_busy() -> None:
    assert titled("Quarterly review") == []


def test_results_are_sorted_aware_and_in_the_plan_zone() -> None:
    busy = work()
    assert list(busy) == sorted(busy, key=lambda b: (b.start, b.end, b.title))
    assert all(b.start.tzinfo == BRUSSELS and b.end.tzinfo == BRUSSELS for b in busy)


def test_range_keeps_only_intervals_overlapping_the_half_open_range() -> None:
    # Starts mid-way through the vendor demo, ends exactly when the offsite starts.
    busy = work(local(2026, 12, 3, 14, 30), local(2026, 12, 11))
    assert [(b.start, b.title) for b in busy] == [
        (local(2026, 12, 3, 14, 0), "Vendor demo"),
        (local(2026, 12, 3, 17, 30), "Team standup"),
        (local(2026, 12, 8, 17, 30), "Team standup"),
        (local(2026, 12, 10, 17, 30), "Team standup"),
    ]


def test_range_given_in_utc_selects_the_same_instants() -> None:
    assert work(START.astimezone(UTC), END.astimezone(UTC)) == work()


def test_empty_range_outside_the_calendar_is_empty() -> None:
    assert work(local(2027, 3, 1), local(2027, 4, 1)) == ()


def test_fixtures_are_valid_for_the_strict_ical_parser() -> None:
    for path in (WORK, OUTLOOK):
        parsed = IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))
        assert parsed.events


# --- the Outlook fixture ------------------------------------------------------


def outlook() -> tuple[Busy, ...]:
    read = read_busy(OUTLOOK, START, END, BRUSSELS)
    assert read.warnings == ()
    return read.busy


def test_outlook_windows_zone_events_land_at_local_time() -> None:
    meetings = titled("Projectoverleg", outlook())
    # Weekly on Wednesday from 4 Nov, COUNT=4, with 11 Nov excluded.
    assert [b.start for b in meetings] == [
        local(2026, 11, 4, 9),
        local(2026, 11, 18, 9),
        local(2026, 11, 25, 9),
    ]


def test_outlook_all_day_and_free_events() -> None:
    busy = outlook()
    assert Busy(local(2026, 11, 11), local(2026, 11, 12), "Wapenstilstand (feestdag)") in busy
    assert titled("Lunch (vrij)", busy) == []


def test_windows_zone_name_without_vtimezone_is_understood() -> None:
    text = calendar(
        "DTSTART;TZID=Romance Standard Time:20261104T090000",
        "DTEND;TZID=Romance Standard Time:20261104T100000",
    )
    assert [b.start for b in parse(text)] == [local(2026, 11, 4, 9)]


# --- single behaviours, on minimal calendars ----------------------------------


def test_floating_time_is_read_in_the_plan_zone() -> None:
    text = calendar("DTSTART:20261104T090000", "DTEND:20261104T100000")
    assert [(b.start, b.end) for b in parse(text)] == [
        (local(2026, 11, 4, 9), local(2026, 11, 4, 10))
    ]


def test_rdate_adds_an_instance_to_a_series() -> None:
    text = calendar(
        "DTSTART:20261104T080000Z",
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "RDATE:20261106T080000Z",
    )
    assert [b.start.date() for b in parse(text)] == [
        date(2026, 11, 4),
        date(2026, 11, 6),
        date(2026, 11, 11),
    ]


def test_date_without_dtend_lasts_one_day() -> None:
    (busy,) = parse(calendar("DTSTART;VALUE=DATE:20261104", "SUMMARY:Holiday"))
    assert (busy.start, busy.end) == (local(2026, 11, 4), local(2026, 11, 5))


def test_date_time_without_dtend_takes_no_time() -> None:
    assert parse(calendar("DTSTART:20261104T090000Z", "SUMMARY:Reminder")) == ()


def test_x_wr_timezone_is_the_zone_of_floating_times() -> None:
    # Google's calendar-wide zone, as honoured by recurring-ical-events.
    text = calendar("DTSTART:20261104T090000", "DTEND:20261104T100000").replace(
        "VERSION:2.0", "VERSION:2.0\r\nX-WR-TIMEZONE:America/New_York"
    )
    (busy,) = parse(text)
    assert busy.start == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)


def test_event_without_summary_is_called_busy() -> None:
    (busy,) = parse(calendar("DTSTART:20261104T090000Z", "DTEND:20261104T100000Z"))
    assert busy.title == "busy"


def test_str_bytes_and_byte_order_mark_give_the_same_result() -> None:
    text = WORK.read_text(encoding="utf-8")
    expected = work()
    assert parse(text) == expected
    assert parse(b"\xef\xbb\xbf" + text.encode()) == expected


def test_calendar_without_events_is_not_busy() -> None:
    assert parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n") == ()


# --- calendars as real clients write them ---------------------------------------

O365 = DATA / "office365-custom-zone.ics"
ODD_ZONES = DATA / "odd-timezones.ics"
RFC_ATTENDEES = DATA / "rfc5545-attendees.ics"
ONE_BROKEN = DATA / "one-broken-event.ics"


def read(path: Path) -> BusyTime:
    return read_busy(path, START, END, BRUSSELS)


def spans(busy: tuple[Busy, ...], title: str) -> list[tuple[datetime, datetime]]:
    return [(b.start, b.end) for b in busy if b.title == title]


def messages(found: BusyTime) -> list[tuple[int | None, str]]:
    return [(w.line, w.message) for w in found.warnings]


def test_office365_custom_zone_follows_the_files_own_vtimezone() -> None:
    found = read(O365)
    assert found.warnings == ()
    # Mondays 09:30 Brussels time until 21 Dec, without 7 Dec (EXDATE) and
    # with 16 Nov moved to 14:00 (RECURRENCE-ID).
    mondays = [2, 9, 23, 30]
    expected = [(local(2026, 11, d, 9, 30), local(2026, 11, d, 10, 30)) for d in mondays]
    expected[2:2] = [(local(2026, 11, 16, 14), local(2026, 11, 16, 15))]
    expected += [(local(2026, 12, d, 9, 30), local(2026, 12, d, 10, 30)) for d in (14, 21)]
    assert spans(found.busy, "Weekly planning") == expected


def test_office365_second_custom_zone_is_new_york_time() -> None:
    # 'Customized Time Zone 1' is defined as UTC-5 in winter: 10:00 there is 16:00 here.
    (review,) = spans(read(O365).busy, "Quarterly review with the New York office")
    assert review == (local(2026, 12, 3, 16), local(2026, 12, 3, 17, 30))


def test_office365_windows_zone_and_free_event() -> None:
    busy = read(O365).busy
    assert spans(busy, "Dentist") == [(local(2026, 11, 10, 16), local(2026, 11, 10, 16, 45))]
    assert spans(busy, "Team lunch") == []  # TRANSP:TRANSPARENT (Outlook's "free")


def test_two_files_may_define_the_same_custom_zone_differently() -> None:
    # icalendar caches a VTIMEZONE by its TZID for the whole process; each file
    # must still be read with its own definition (here: India, UTC+05:30).
    india = O365.read_text(encoding="utf-8").replace("+0200", "+0530").replace("+0100", "+0530")
    brussels_first = read(O365).busy
    kolkata = parse_busy(india, "india.ics", START, END, BRUSSELS).busy
    assert spans(kolkata, "Dentist") == spans(brussels_first, "Dentist")
    first = spans(kolkata, "Weekly planning")[0]
    assert first == (local(2026, 11, 2, 5), local(2026, 11, 2, 6))  # 09:30 IST is 05:00 CET
    assert read(O365).busy == brussels_first


def test_custom_zone_without_vtimezone_follows_x_wr_timezone_with_a_warning() -> None:
    text = calendar(
        "SUMMARY:Board meeting",
        "DTSTART;TZID=Customized Time Zone:20261104T090000",
        "DTEND;TZID=Customized Time Zone:20261104T100000",
    ).replace("VERSION:2.0", "VERSION:2.0\r\nX-WR-TIMEZONE:Europe/London")
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert spans(found.busy, "Board meeting") == [(local(2026, 11, 4, 10), local(2026, 11, 4, 11))]
    assert messages(found) == [
        (
            8,
            "unknown time zone 'Customized Time Zone' (no VTIMEZONE defines it): its times "
            "are read as local times in the calendar's X-WR-TIMEZONE Europe/London",
        )
    ]


def test_gmt_offset_and_made_up_tzids_are_read_in_the_plan_zone_with_one_warning_each() -> None:
    found = read(ODD_ZONES)
    busy = found.busy
    assert spans(busy, "Supplier call") == [
        (local(2026, 11, 5, 14), local(2026, 11, 5, 15)),
        (local(2026, 11, 12, 14), local(2026, 11, 12, 15)),
    ]
    assert spans(busy, "Site visit") == [(local(2026, 11, 6, 8, 30), local(2026, 11, 6, 9, 30))]
    assert spans(busy, "Early sync") == [(local(2026, 11, 5, 8), local(2026, 11, 5, 9))]
    assert messages(found)[:2] == [
        (
            8,
            "unknown time zone 'GMT-05.00/-04.00' (no VTIMEZONE defines it): its times "
            "are read as local times in the plan's zone Europe/Brussels",
        ),
        (
            24,
            "unknown time zone 'FOO' (no VTIMEZONE defines it): its times "
            "are read as local times in the plan's zone Europe/Brussels",
        ),
    ]


def test_globally_unique_tzid_is_read_as_the_iana_zone_it_ends_with() -> None:
    found = read(ODD_ZONES)
    london = spans(found.busy, "Call with the London team")
    assert london == [(local(2026, 11, 9, 10), local(2026, 11, 9, 11))]  # 09:00 GMT
    assert messages(found)[2:] == [
        (
            31,
            "time zone '/mozilla.org/20050126_1/Europe/London' has no VTIMEZONE; "
            "read as Europe/London",
        )
    ]


def test_rfc5545_attendee_folding_and_empty_parameters_are_harmless() -> None:
    found = read(RFC_ATTENDEES)
    assert found.busy == (
        Busy(local(2026, 11, 19, 14, 30), local(2026, 11, 19, 15, 30), "Annual Employee Review"),
        Busy(local(2026, 11, 24), local(2026, 11, 25), "Off-site planning day"),
    )
    # `NAME;PARAM-NAME=,` has no value at all: the line is dropped, and said so.
    assert messages(found) == [(25, "not an iCalendar content line, ignored: 'NAME;PARAM-NAME=,'")]


def test_one_unreadable_event_is_skipped_and_the_others_are_busy() -> None:
    found = read(ONE_BROKEN)
    assert [(b.start, b.title) for b in found.busy] == [
        (local(2026, 11, 4, 19), "Choir rehearsal"),
        (local(2026, 11, 11, 19), "Choir rehearsal"),
        (local(2026, 11, 14, 10), "Kids' swimming lesson"),
        (local(2026, 11, 18, 19), "Choir rehearsal"),
    ]
    assert messages(found) == [
        (
            33,
            'event "Parents\' evening" skipped: bad DTSTART: '
            "Wrong datetime format: 2026-11-12 18:00",
        )
    ]


def test_utf16_export_with_byte_order_mark_reads_like_utf8() -> None:
    text = ONE_BROKEN.read_text(encoding="utf-8")
    found = parse_busy(text.encode("utf-16"), "test.ics", START, END, BRUSSELS)
    assert (found.busy, messages(found)) == (read(ONE_BROKEN).busy, messages(read(ONE_BROKEN)))


GOOD = ("DTSTART:20261105T090000Z", "DTEND:20261105T100000Z", "SUMMARY:Good")

SKIPPED = [
    pytest.param(
        calendar("SUMMARY:Lunch"), 4, "event 'Lunch' skipped: it has no DTSTART", id="no-dtstart"
    ),
    pytest.param(
        calendar("DTSTART:20261104T100000Z", "DTEND:20261104T090000Z"),
        7,
        "event 'busy' skipped: DTEND 2026-11-04 09:00:00+00:00 is before DTSTART",
        id="end-before-start",
    ),
    pytest.param(
        calendar("DTSTART:2026-11-04", "DURATION:PT1H"),
        6,
        "event 'busy' skipped: bad DTSTART",
        id="bad-date",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z").replace("END:VEVENT", "END:VTODO"),
        4,
        "an event skipped: END:VTODO does not close BEGIN:VEVENT (line 4)",
        id="mismatched-end",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "BEGIN:VALARM", "ACTION:DISPLAY").replace(
            "END:VEVENT\r\n", ""
        ),
        4,
        "an event skipped: BEGIN:VEVENT is never closed",
        id="never-closed",
    ),
    pytest.param(
        calendar(
            "DTSTART:20261104T090000Z",
            "DURATION:PT1H",
            "RDATE;VALUE=PERIOD:20261105T090000Z/20261105T080000Z",
        ),
        4,
        "event 'busy' skipped: the event must start before it ends",
        id="rdate-period-ending-before-it-starts",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), SKIPPED)
def test_an_event_that_cannot_be_read_is_skipped_with_its_line(
    text: str, line: int, message: str
) -> None:
    # The same calendar with a good event after the broken one.
    text = text.replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:g@test\r\n"
        + "".join(f"{g}\r\n" for g in GOOD)
        + "END:VEVENT\r\nEND:VCALENDAR",
    )
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert found.busy == (Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good"),)
    ((where, said),) = messages(found)
    assert (where, said[: len(message)]) == (line, message)


REPAIRED = [
    pytest.param(
        ("SEQUENCE:abc",),
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "bad SEQUENCE ignored: Expected int, got: abc"),
        id="bad-sequence",
    ),
    pytest.param(
        ("RRULE:FREQ=SOMETIMES",),
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "bad RRULE ignored: Expected frequency, got: SOMETIMES"),
        id="bad-rrule",
    ),
    pytest.param(
        ("RRULE:",),  # as calendarlabs.com writes its holiday calendars
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "bad RRULE ignored, only DTSTART is busy: it has no FREQ"),
        id="empty-rrule",
    ),
    pytest.param(
        ("RRULE:FREQ=WEEKLY;BYDAY=TH, FR",),  # a space after the comma
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "bad RRULE ignored: Expected weekday abbreviation, got:  FR"),
        id="rrule-with-a-space",
    ),
    pytest.param(
        ("EXDATE:",),
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "bad EXDATE ignored: Expected datetime, date, or time. Got: ''"),
        id="empty-exdate",
    ),
    pytest.param(
        ("DURATION:PT2H",),
        [Busy(local(2026, 11, 5, 10), local(2026, 11, 5, 11), "Good")],
        (9, "event has both DTEND and DURATION: DURATION ignored"),
        id="dtend-and-duration",
    ),
]


@pytest.mark.parametrize(("extra", "busy", "warning"), REPAIRED)
def test_a_value_a_reader_can_do_without_is_ignored_and_the_event_stays_busy(
    extra: tuple[str, ...], busy: list[Busy], warning: tuple[int, str]
) -> None:
    found = parse_busy(calendar(*GOOD, *extra), "test.ics", START, END, BRUSSELS)
    assert list(found.busy) == busy
    assert messages(found) == [warning]


def test_a_date_dtstart_with_a_date_time_dtend_starts_at_local_midnight() -> None:
    # Seen in real exports: an all-day start with a timed end.
    text = calendar("SUMMARY:Leave", "DTSTART;VALUE=DATE:20261109", "DTEND:20261111T000000Z")
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert found.busy == (Busy(local(2026, 11, 9), local(2026, 11, 11, 1), "Leave"),)
    assert messages(found) == [
        (
            8,
            "DTSTART and DTEND are not both dates or both date-times: the date is read as "
            "midnight in the plan's zone Europe/Brussels",
        )
    ]


def test_truncated_file_keeps_the_events_it_has_and_says_so() -> None:
    text = calendar(*GOOD).removesuffix("END:VCALENDAR\r\n")
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert [b.title for b in found.busy] == ["Good"]
    assert messages(found) == [(1, "BEGIN:VCALENDAR is never closed: the file may be cut short")]


def test_unknown_x_wr_timezone_is_ignored_with_a_warning() -> None:
    text = calendar("DTSTART:20261104T090000", "DURATION:PT1H").replace(
        "VERSION:2.0", "VERSION:2.0\r\nX-WR-TIMEZONE:Europe/Brussel"
    )
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert [b.start for b in found.busy] == [local(2026, 11, 4, 9)]
    assert messages(found) == [
        (
            3,
            "unknown time zone 'Europe/Brussel' in X-WR-TIMEZONE ignored; times without a "
            "zone are read in the plan's zone Europe/Brussels",
        )
    ]


def test_a_broken_vtimezone_costs_only_its_zone() -> None:
    text = OUTLOOK.read_text(encoding="utf-8").replace("TZOFFSETTO:+0100", "TZOFFSETTO:one")
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    # 'Romance Standard Time' is also a Windows name: the meetings stay at 09:00.
    assert [b.start for b in titled("Projectoverleg", found.busy)][0] == local(2026, 11, 4, 9)
    ((line, message),) = messages(found)
    assert line == 16 and message.startswith("VTIMEZONE skipped: cannot read it:")


def test_second_calendar_in_the_same_file_is_read_too() -> None:
    text = calendar(*GOOD) + calendar(
        "DTSTART:20261106T090000Z", "DTEND:20261106T100000Z", "SUMMARY:Also good"
    )
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert [b.title for b in found.busy] == ["Good", "Also good"]
    assert found.warnings == ()


def test_many_problems_give_at_most_twenty_warnings_and_a_count() -> None:
    broken = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@test\r\nSUMMARY:No start {n}\r\nEND:VEVENT\r\n" for n in range(25)
    )
    text = calendar(*GOOD).replace("END:VCALENDAR", broken + "END:VCALENDAR")
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert [b.title for b in found.busy] == ["Good"]
    assert len(found.warnings) == 21
    assert found.warnings[-1] == InputWarning(
        "test.ics", None, "5 more warnings like these not shown"
    )


# --- not an iCalendar file: bad input ---------------------------------------------

NOT_ICALENDAR = [
    pytest.param(b"", None, "empty file; expected an iCalendar file", id="empty"),
    pytest.param(b"\r\n\r\n", None, "empty file; expected an iCalendar file", id="blank"),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00", None, "binary data; expected an iCalendar", id="png"
    ),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 1, "expected an iCalendar file", id="pdf"),
    pytest.param("BEGIN:VCARD\r\nFN:Els\r\nEND:VCARD\r\n", 1, "expected an iCalendar", id="vcard"),
    pytest.param(
        "BEGIN:VEVENT\r\nDTSTART:20261104T090000Z\r\nEND:VEVENT\r\n",
        1,
        "expected an iCalendar file (BEGIN:VCALENDAR)",
        id="no-vcalendar",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), NOT_ICALENDAR)
def test_a_file_that_is_not_icalendar_is_bad_input(
    text: bytes | str, line: int | None, message: str
) -> None:
    with pytest.raises(BusyFileError) as caught:
        parse_busy(text, "test.ics", START, END, BRUSSELS)
    error = caught.value
    assert (error.path, error.line) == ("test.ics", line)
    assert message in error.message
    assert str(error).startswith("test.ics:" if line is None else f"test.ics:{line}: ")


# --- bounded recurrence (issue 12, item 6) ------------------------------------------

# A four-week range, as `calsync plan` reads busy time by default.
WEEK_START, WEEK_END = local(2026, 11, 30), local(2026, 12, 28)


def recurring(*lines: str) -> BusyTime:
    text = calendar("SUMMARY:Ping", *lines)
    return parse_busy(text, "test.ics", WEEK_START, WEEK_END, BRUSSELS)


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        ("FREQ=SECONDLY", "20200101T000000Z"),
        ("FREQ=MINUTELY", "20261001T000000Z"),
        ("FREQ=MINUTELY;INTERVAL=4", "19990101T000000Z"),
    ],
)
def test_an_unbounded_fine_grained_rule_is_refused_past_the_instance_limit(
    rule: str, start: str
) -> None:
    with pytest.raises(BusyFileError) as caught:
        recurring(f"DTSTART:{start}", "DURATION:PT1S", f"RRULE:{rule}")
    assert caught.value.line == 9  # the RRULE
    assert caught.value.message == (
        f"event 'Ping' repeats more than {MAX_INSTANCES:,} times in the range 2026-11-30 to "
        f"2026-12-28 (RRULE:{rule}); calsync follows at most {MAX_INSTANCES:,} instances of "
        "one event in the range"
    )


def test_a_huge_count_before_the_range_is_refused() -> None:
    with pytest.raises(BusyFileError) as caught:
        recurring("DTSTART:20000101T000000Z", "DURATION:PT1M", "RRULE:FREQ=MINUTELY;COUNT=99999999")
    assert f"more than {MAX_BEFORE:,} times before the range" in caught.value.message


def test_a_half_hourly_rule_since_2015_gives_exactly_its_instances_in_the_range() -> None:
    found = recurring(
        "DTSTART;TZID=Europe/Brussels:20150105T080000",
        "DURATION:PT5M",
        "RRULE:FREQ=MINUTELY;INTERVAL=30;BYHOUR=8,9,10",
    )
    assert found.warnings == ()
    assert len(found.busy) == 28 * 6
    assert {b.start.strftime("%H:%M") for b in found.busy} == {
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
    }


def test_an_odd_interval_keeps_its_grid_when_calsync_skips_ahead() -> None:
    # Every 7919 seconds since 1970: the instances in the range are exactly the
    # ones counted from DTSTART.
    found = recurring(
        "DTSTART:19700101T000000Z", "DURATION:PT1M", "RRULE:FREQ=SECONDLY;INTERVAL=7919"
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert found.busy and all((b.start - epoch).total_seconds() % 7919 == 0 for b in found.busy)
    first = epoch + timedelta(seconds=7919 * -(-(WEEK_START - epoch).total_seconds() // 7919))
    assert found.busy[0].start == first
    assert len(found.busy) == int((WEEK_END - first).total_seconds() // 7919) + 1


def test_an_old_weekly_series_keeps_its_exceptions_when_calsync_skips_ahead() -> None:
    text = calendar(
        "SUMMARY:Team meeting",
        "DTSTART;TZID=Europe/Brussels:20190107T090000",
        "DTEND;TZID=Europe/Brussels:20190107T100000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO",
        "EXDATE;TZID=Europe/Brussels:20261207T090000",
    ).replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:t@test\r\nSUMMARY:Team meeting\r\n"
        "RECURRENCE-ID;TZID=Europe/Brussels:20261214T090000\r\n"
        "DTSTART;TZID=Europe/Brussels:20261215T130000\r\n"
        "DTEND;TZID=Europe/Brussels:20261215T140000\r\nEND:VEVENT\r\nEND:VCALENDAR",
    )
    found = parse_busy(text, "test.ics", WEEK_START, WEEK_END, BRUSSELS)
    assert found.warnings == ()
    assert [b.start for b in found.busy] == [
        local(2026, 11, 30, 9),
        local(2026, 12, 15, 13),
        local(2026, 12, 21, 9),
    ]


RULES = st.one_of(
    st.builds("FREQ=SECONDLY;INTERVAL={}".format, st.integers(7200, 90_000)),
    st.builds("FREQ=MINUTELY;INTERVAL={}".format, st.integers(120, 5000)),
    st.builds("FREQ=HOURLY;INTERVAL={}".format, st.integers(2, 100)),
    st.builds("FREQ=HOURLY;INTERVAL={};BYHOUR=7,13,19".format, st.integers(1, 30)),
    st.builds("FREQ=DAILY;INTERVAL={};BYDAY=MO,WE,SA".format, st.integers(1, 9)),
    st.builds("FREQ=WEEKLY;INTERVAL={};BYDAY=TU,SU".format, st.integers(1, 5)),
)


@settings(max_examples=40, deadline=None)
@given(
    rule=RULES,
    days_before=st.integers(3, 30),
    minute=st.integers(0, 24 * 60 - 1),
    length=st.integers(1, 180),
)
def test_skipping_ahead_gives_the_same_instances_as_expanding_from_dtstart(
    rule: str, days_before: int, minute: int, length: int
) -> None:
    first = WEEK_START - timedelta(days=days_before, minutes=-minute)
    week = WEEK_START + timedelta(weeks=1)
    text = calendar(
        f"DTSTART;TZID=Europe/Brussels:{first:%Y%m%dT%H%M%S}",
        f"DURATION:PT{length}M",
        f"RRULE:{rule}",
    )
    narrow = parse_busy(text, "test.ics", WEEK_START, week, BRUSSELS).busy
    # From DTSTART on, nothing is skipped: the same instances, cut to the range.
    wide = parse_busy(text, "test.ics", first - timedelta(days=2), week, BRUSSELS).busy
    assert narrow == tuple(b for b in wide if b.end > WEEK_START)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYSETPOS=5",  # one candidate a month: its 1st of December
        "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=3",
    ],
)
def test_a_rule_that_matches_no_day_leaves_only_dtstart(rule: str) -> None:
    # dateutil would search up to the year 9999 for the next instance.
    found = recurring("DTSTART:20261201T090000Z", "DURATION:PT1H", f"RRULE:{rule}")
    assert [b.start for b in found.busy] == [local(2026, 12, 1, 10)]
    assert messages(found) == [
        (9, "the RRULE of event 'Ping' matches no day at all: only its DTSTART is busy")
    ]


def test_last_workday_of_the_month_is_not_mistaken_for_a_rule_that_matches_no_day() -> None:
    text = calendar(
        "DTSTART:20261130T090000Z",
        "DURATION:PT1H",
        "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    )
    found = parse_busy(text, "test.ics", START, END, BRUSSELS)
    assert found.warnings == ()
    last = [local(2026, 11, 30, 10), local(2026, 12, 31, 10), local(2027, 1, 29, 10)]
    assert [b.start for b in found.busy] == last


def test_a_leap_day_rule_is_not_mistaken_for_one_that_matches_no_day() -> None:
    found = parse_busy(
        calendar(
            "SUMMARY:Leap",
            "DTSTART;VALUE=DATE:20240229",
            "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29",
        ),
        "test.ics",
        local(2028, 2, 1),
        local(2028, 3, 1),
        BRUSSELS,
    )
    assert found.warnings == ()
    assert [b.start for b in found.busy] == [local(2028, 2, 29)]


def test_bysetpos_on_a_daily_rule_is_skipped_with_a_warning() -> None:
    found = recurring("DTSTART:20261201T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;BYSETPOS=2")
    assert found.busy == ()
    assert messages(found) == [
        (9, "event 'Ping' skipped: BYSETPOS with FREQ=DAILY is not supported")
    ]


# --- errors -------------------------------------------------------------------


def test_missing_file_names_the_path_and_the_os_reason(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ics"
    with pytest.raises(BusyFileError) as caught:
        read_busy(missing, START, END, BRUSSELS)
    assert str(caught.value) == f"{missing}: No such file or directory"


def test_error_text_with_and_without_a_line() -> None:
    assert str(BusyFileError("a.ics", "bad")) == "a.ics: bad"
    assert str(BusyFileError("a.ics", "bad", 3)) == "a.ics:3: bad"


def test_error_survives_pickling_for_worker_processes() -> None:
    error = pickle.loads(pickle.dumps(BusyFileError("a.ics", "bad", 3)))
    assert (error.path, error.message, error.line) == ("a.ics", "bad", 3)


# --- properties: nothing but BusyFileError escapes ----------------------------


def parses_or_reports(data: bytes | str) -> None:
    try:
        found = parse_busy(data, "test.ics", START, END, BRUSSELS)
    except BusyFileError as error:
        assert error.path == "test.ics" and error.message
    else:
        assert all(b.start.tzinfo is not None and b.start < b.end for b in found.busy)
        assert all(w.path == "test.ics" and w.message for w in found.warnings)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500))
def test_random_bytes_never_raise_anything_but_busy_file_error(data: bytes) -> None:
    parses_or_reports(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_calendar_header_never_escape(data: bytes) -> None:
    parses_or_reports(b"BEGIN:VCALENDAR\r\n" + data)


# Characters that matter to iCalendar syntax, so mutations hit the parsers
# where they are fragile instead of producing plain garbage.
_ICAL_CHARS = st.sampled_from(list(':;=,"\r\n \tTZ0123456789-+/PDHMSWVBEGINDATRUL'))
_FIXTURE = WORK.read_text(encoding="utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_FIXTURE)),
            st.integers(0, 12),
            st.text(_ICAL_CHARS, max_size=8),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_google_export_never_raises_anything_but_busy_file_error(
    edits: list[tuple[int, int, str]],
) -> None:
    text = _FIXTURE
    for position, deleted, inserted in edits:
        text = text[:position] + inserted + text[position + deleted :]
    parses_or_reports(text)


# --- through the command line -------------------------------------------------------

CLI_PLAN = """\
plan: desk-job
timezone: Europe/Brussels
starts: 2026-11-02
windows:
  morning: "09:00-12:00"
sessions:
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
  legs: {kind: strength, title: Legs, duration: 1h, load: hard, focus: legs}
week:
  mon: [z2 morning]
  thu: [legs 16:30]
"""


def cli(tmp_path: Path, *args: str) -> Result:
    plan = tmp_path / "plan.yaml"
    plan.write_text(CLI_PLAN)
    command = ["plan", str(plan), "--json", "--from", "2026-11-30", "--weeks", "1", *args]
    return CliRunner().invoke(main_cli, command, catch_exceptions=False)


def test_an_office365_export_moves_sessions_instead_of_stopping_the_plan(tmp_path: Path) -> None:
    free, busy = cli(tmp_path), cli(tmp_path, "--busy", str(O365))
    assert (free.exit_code, busy.exit_code) == (0, 3)  # Thursday's legs now overlap
    sessions = {s["session"]: s["start"] for s in json.loads(busy.stdout)["sessions"]}
    # Monday's ride moves after the 09:30-10:30 planning meeting.
    assert sessions["z2"] == "2026-11-30T10:30:00+01:00"
    conflicts = json.loads(busy.stdout)["conflicts"]
    assert [(c["rule"], c["busy"][0]["title"]) for c in conflicts] == [
        ("overlap", "Quarterly review with the New York office")
    ]
    assert busy.stderr.count("warning") == 0


def test_warnings_reach_the_terminal_and_the_json(tmp_path: Path) -> None:
    result = cli(tmp_path, "--busy", str(ODD_ZONES), "--busy", str(ONE_BROKEN))
    assert result.exit_code == 0
    warned = json.loads(result.stdout)["input_warnings"]
    assert [(w["file"], w["line"]) for w in warned] == [
        (str(ODD_ZONES), 8),
        (str(ODD_ZONES), 24),
        (str(ODD_ZONES), 31),
        (str(ONE_BROKEN), 33),
    ]
    for w in warned:
        assert f"calsync: warning: {w['file']}:{w['line']}: {w['message']}" in result.stderr


def test_a_file_without_warnings_gives_an_empty_list(tmp_path: Path) -> None:
    result = cli(tmp_path, "--busy", str(WORK))
    assert json.loads(result.stdout)["input_warnings"] == []
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file; expected an iCalendar file (BEGIN:VCALENDAR)"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "binary data; expected an iCalendar file"),
        (b"Subject,Start Date,Start Time\r\nStandup,11/30/2026,9:00 AM\r\n", "expected an"),
    ],
    ids=["empty", "binary", "outlook-csv"],
)
def test_a_busy_file_that_is_not_icalendar_exits_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(content)
    result = cli(tmp_path, "--busy", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"calsync: {path}") and message in result.stderr
    assert "Traceback" not in result.output


def test_an_unbounded_recurrence_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pinger.ics"
    path.write_text(calendar("SUMMARY:Ping", "DTSTART:20200101T000000Z", "RRULE:FREQ=SECONDLY"))
    result = cli(tmp_path, "--busy", str(path))
    assert result.exit_code == 2
    assert f"calsync: {path}:8: event 'Ping' repeats more than 10,000 times" in result.stderr


_EVENTS = _FIXTURE.split("BEGIN:VEVENT\n")  # read_text() gives "\n" line ends
_UIDS = [line for line in _FIXTURE.splitlines() if line.startswith("UID:")]
# Events that are a series of their own (a moved instance belongs to its series).
_ALONE = [
    i for i, e in enumerate(_EVENTS) if i and sum(u in e for u in _UIDS if _UIDS.count(u) == 1)
]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_ALONE),
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 12), st.text(_ICAL_CHARS, max_size=8)),
        min_size=1,
        max_size=4,
    ),
)
def test_damaging_one_event_never_costs_the_busy_time_of_the_others(
    index: int, edits: list[tuple[float, int, str]]
) -> None:
    # Edits stay inside the event's own lines (between its BEGIN and END).
    body, tail = _EVENTS[index].split("END:VEVENT", 1)
    for where, deleted, inserted in edits:
        position = int(where * len(body))
        body = body[:position] + inserted + body[position + deleted :]
    before, after = _EVENTS[:index], _EVENTS[index + 1 :]
    damaged = "BEGIN:VEVENT\n".join([*before, body + "END:VEVENT" + tail, *after])
    without = "BEGIN:VEVENT\n".join([*before, *after]) + ("" if after else tail.lstrip("\n"))
    others = set(parse_busy(without, "t.ics", START, END, BRUSSELS).busy)
    assert others and others <= set(parse_busy(damaged, "t.ics", START, END, BRUSSELS).busy)


# --- the libraries' own test calendars ----------------------------------------------

# icalendar and recurring-ical-events ship the calendars their issues were
# filed with (Outlook, Google, Office 365, Lotus, Zimbra, fuzzers' finds).
_CORPUS = sorted(
    path
    for folder in (
        Path(icalendar.__file__).parent / "tests" / "calendars",
        Path(recurring_ical_events.__file__).parent / "test" / "calendars",
    )
    for path in folder.glob("*.ics")
)


def _a_calendar_for_icalendar(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = icalendar.Calendar.from_ical(path.read_bytes())
    except Exception:  # noqa: BLE001 - what icalendar cannot read is out of scope
        return False
    return isinstance(parsed, icalendar.Calendar) and parsed.name == "VCALENDAR"


@pytest.mark.skipif(not _CORPUS, reason="the libraries were installed without their tests")
@pytest.mark.parametrize("path", _CORPUS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_calendar_icalendar_reads_gives_busy_time(path: Path) -> None:
    if not _a_calendar_for_icalendar(path):
        pytest.skip("not a VCALENDAR for icalendar either")
    found = read_busy(path, local(2020, 1, 1), local(2020, 4, 1), BRUSSELS)
    assert all(b.start < b.end for b in found.busy)
    assert all(w.path == str(path) and w.message for w in found.warnings)
