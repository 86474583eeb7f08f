"""Busy time read from real-world shaped .ics exports (Google, Outlook)."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from calsync.busy import BusyFileError, parse_busy, read_busy
from calsync.model import Busy

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


# --- errors -------------------------------------------------------------------

MALFORMED = [
    pytest.param(b"", None, "empty file; expected an iCalendar file", id="empty"),
    pytest.param(b"\x89PNG\r\n\x1a\n", 1, "expected an iCalendar file (BEGIN:VCALENDAR)", id="png"),
    pytest.param("BEGIN:VCARD\r\nFN:Els\r\nEND:VCARD\r\n", 1, "expected an iCalendar", id="vcard"),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "this line has no colon"),
        7,
        "not an iCalendar content line: 'this line has no colon'",
        id="broken-line",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z").replace("END:VEVENT", "END:VTODO"),
        7,
        "END:VTODO does not close BEGIN:VEVENT (line 4)",
        id="mismatched-end",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z").removesuffix("END:VCALENDAR\r\n"),
        1,
        "BEGIN:VCALENDAR is never closed",
        id="truncated",
    ),
    pytest.param(calendar("SUMMARY:Lunch"), 4, "event 'Lunch' has no DTSTART", id="no-dtstart"),
    pytest.param(
        calendar("DTSTART:20261104T100000Z", "DTEND:20261104T090000Z"),
        7,
        "DTEND 2026-11-04 09:00:00+00:00 is before DTSTART",
        id="end-before-start",
    ),
    pytest.param(
        calendar("DTSTART;TZID=Mars/Olympus:20261104T090000", "DURATION:PT1H"),
        6,
        "unknown time zone 'Mars/Olympus' in DTSTART",
        id="unknown-tzid",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "DURATION:PT1H", "RRULE:FREQ=SOMETIMES"),
        8,
        "bad RRULE in VEVENT: Expected frequency",
        id="bad-rrule",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "DURATION:PT1H", "RRULE:INTERVAL=2;COUNT=3"),
        8,
        "RRULE has no FREQ",
        id="rrule-without-freq",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "DURATION:PT1H").replace(
            "VERSION:2.0", "VERSION:2.0\r\nX-WR-TIMEZONE:Europe/Brussel"
        ),
        3,
        "unknown time zone 'Europe/Brussel' in X-WR-TIMEZONE",
        id="unknown-x-wr-timezone",
    ),
    pytest.param(
        OUTLOOK.read_text(encoding="utf-8").replace("TZOFFSETTO:+0100", "TZOFFSETTO:one"),
        22,
        "Expected UTC offset, got: one",
        id="broken-vtimezone",
    ),
    pytest.param(
        calendar("DTSTART:2026-11-04", "DURATION:PT1H"),
        6,
        "bad DTSTART in VEVENT",
        id="bad-date",
    ),
    pytest.param(
        calendar("DTSTART;VALUE=DATE:20261104", "DTEND:20261104T100000Z"),
        7,
        "DTSTART and DTEND must both be dates or both date-times",
        id="date-and-date-time",
    ),
    pytest.param(
        calendar("DTSTART:20261104T090000Z", "DURATION:PT1H") + "BEGIN:VCALENDAR\r\n",
        10,
        "content after END:VCALENDAR",
        id="two-calendars",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), MALFORMED)
def test_malformed_calendar_is_reported_with_file_line_and_reason(
    text: bytes | str, line: int | None, message: str
) -> None:
    with pytest.raises(BusyFileError) as caught:
        parse(text)
    error = caught.value
    assert (error.path, error.line) == ("test.ics", line)
    assert message in error.message
    assert str(error).startswith("test.ics:" if line is None else f"test.ics:{line}: ")


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
        busy = parse(data)
    except BusyFileError as error:
        assert error.path == "test.ics" and error.message
    else:
        assert all(b.start.tzinfo is not None and b.start < b.end for b in busy)


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
