"""Expansion: placement, exceptions, cycles, stable keys, the shipped template, daylight saving."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calsync.core.expand import expand
from calsync.core.loader import parse_plan
from calsync.core.model import Busy, Level, Schedule
from calsync.io.plans import load_plan

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
BRUSSELS = ZoneInfo("Europe/Brussels")
MON = date(2026, 11, 30)
DAY = timedelta(days=1)

HEADER = """\
plan: {plan}
timezone: {zone}
starts: {starts}
goal: balanced
windows:
  morning: "07:00-12:00"
  midday: "12:00-18:00"
  lunch: "12:00-13:00"
  evening: "17:00-22:30"
sessions:
  legs:      {{kind: strength, title: "Legs: squat, RDL, curls", duration: 75m, load: hard, focus: legs}}
  upper:     {{kind: strength, title: Upper body, duration: 60m, load: moderate}}
  z2:        {{kind: ride, title: Zone 2 ride, duration: 1h, load: easy}}
  spin:      {{kind: ride, title: Recovery spin, duration: 20m, load: easy}}
  long:      {{kind: ride, title: Long ride, duration: 2h, load: moderate}}
  mob:       {{kind: mobility, title: Mobility, duration: 10m, load: easy}}
"""


def plan_text(
    body: str, plan: str = "p", zone: str = "Europe/Brussels", starts: str = "2026-11-30"
) -> str:
    return HEADER.format(plan=plan, zone=zone, starts=starts) + body


def expand_text(
    body: str, start: date = MON, days: int = 1, busy: tuple[Busy, ...] = (), **header: str
) -> Schedule:
    return expand(parse_plan(plan_text(body, **header)), start, start + days * DAY, busy)


def starts_of(schedule: Schedule) -> dict[str, str]:
    return {o.key.split("/", 2)[2]: f"{o.start:%H:%M}" for o in schedule.occurrences}


def local(day: date, hh: int, mm: int = 0, zone: ZoneInfo = BRUSSELS) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=zone)


# --- placement ----------------------------------------------------------------------------------


def test_a_session_with_a_time_is_placed_at_it() -> None:
    (legs,) = expand_text("week:\n  mon: [legs 10:00]\n").occurrences
    assert (legs.start, legs.end) == (local(MON, 10), local(MON, 11, 15))
    assert legs.window is None


def test_an_evening_ride_after_morning_legs_is_placed_when_the_window_opens() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 evening]\n")
    assert starts_of(schedule) == {"legs": "10:00", "z2": "17:00"}
    ride = schedule.occurrences[1]
    assert (ride.window, ride.end) == ("evening", local(MON, 18))
    assert [c for c in schedule.conflicts if c.level is Level.ERROR] == []


def test_a_midday_ride_waits_for_the_four_hour_gap_after_legs() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 midday]\n")
    assert starts_of(schedule) == {"legs": "10:00", "z2": "15:15"}
    assert schedule.conflicts == ()


def test_a_longer_gap_rule_moves_the_ride_further() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 midday]\nrules:\n  gap: {min: 5h}\n")
    assert starts_of(schedule)["z2"] == "16:15"


def test_a_gap_rule_at_warn_does_not_hold_placement_back() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 midday]\nrules:\n  gap: warn\n")
    # only error-level rules drive placement: the window opens at 12:00, legs end 11:15
    assert starts_of(schedule)["z2"] == "12:00"
    assert [(c.rule, c.level) for c in schedule.conflicts] == [("gap", Level.WARN)]


def test_busy_time_pushes_a_windowed_session_later() -> None:
    dentist = Busy(local(MON, 15), local(MON, 16, 30), "Dentist")
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 midday]\n", busy=(dentist,))
    assert starts_of(schedule)["z2"] == "16:30"
    assert schedule.conflicts == ()


def test_busy_time_at_the_window_opening_pushes_the_evening_ride() -> None:
    dinner = Busy(local(MON, 16, 30), local(MON, 19, 15), "Family dinner")
    schedule = expand_text("week:\n  mon: [z2 evening]\n", busy=(dinner,))
    assert starts_of(schedule) == {"z2": "19:15"}


def test_two_windowed_rides_keep_the_gap_between_them() -> None:
    schedule = expand_text("week:\n  sat: [z2 evening, spin evening]\n", start=MON + 5 * DAY)
    # z2 17:00-18:00, then the spin no earlier than 22:00 and it ends 22:20, inside 22:30
    assert starts_of(schedule) == {"z2": "17:00", "spin": "22:00"}
    assert schedule.conflicts == ()


def test_no_slot_in_the_window_emits_the_session_at_the_window_start_with_an_unplaced_error() -> (
    None
):
    schedule = expand_text("week:\n  mon: [legs 10:00, z2 lunch]\n")
    assert starts_of(schedule)["z2"] == "12:00"
    unplaced = [c for c in schedule.conflicts if c.rule == "unplaced"]
    assert len(unplaced) == 1
    (conflict,) = unplaced
    assert (conflict.level, conflict.date) == (Level.ERROR, MON)
    assert conflict.keys == ("p/2026-11-30/z2",)
    assert "no slot for 'Zone 2 ride' in window 'lunch' (12:00-13:00)" in conflict.message
    assert conflict.hint == "move 'Zone 2 ride' to 15:15, or move it to Tuesday 12:00"
    # the broken rule is reported as well, so the person sees why
    assert "gap" in {c.rule for c in schedule.conflicts}


def test_a_session_longer_than_its_window_is_unplaced_and_says_so() -> None:
    schedule = expand_text("week:\n  mon: [long lunch]\n")
    (conflict,) = schedule.conflicts
    assert conflict.rule == "unplaced"
    assert "longer than the window" in conflict.message
    assert starts_of(schedule) == {"long": "12:00"}


def test_unplaced_off_still_emits_the_session_but_reports_nothing_for_it() -> None:
    schedule = expand_text("week:\n  mon: [long lunch]\nrules:\n  unplaced: off\n")
    assert starts_of(schedule) == {"long": "12:00"}
    assert schedule.conflicts == ()


# --- ranges, dates and keys --------------------------------------------------------------------------


def test_the_range_end_is_exclusive() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00]\n  tue: [z2 18:00]\n", days=1)
    assert [o.date for o in schedule.occurrences] == [MON]


def test_dates_before_the_plan_starts_give_nothing() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00]\n", start=MON - 14 * DAY, days=14)
    assert schedule.occurrences == ()
    assert schedule.conflicts == ()


def test_a_range_across_the_plan_start_begins_with_week_one() -> None:
    schedule = expand_text("week:\n  mon: [legs 10:00]\n", start=MON - 7 * DAY, days=14)
    assert [(o.date, o.week) for o in schedule.occurrences] == [(MON, 1)]


def test_a_session_key_is_plan_date_and_name() -> None:
    (legs,) = expand_text("week:\n  mon: [legs 10:00]\n", plan="strength-2027").occurrences
    assert legs.key == "strength-2027/2026-11-30/legs"
    assert legs.uid == "strength-2027-2026-11-30-legs@calsync"


def test_a_session_keeps_its_key_and_time_whatever_the_range_starts_on() -> None:
    text = plan_text("week:\n  fri: [legs 10:00, z2 evening]\n")
    plan = parse_plan(text)
    friday = MON + 4 * DAY
    wide = expand(plan, MON, MON + 14 * DAY)
    narrow = expand(plan, friday, friday + DAY)
    late = expand(plan, friday - 2 * DAY, friday + 9 * DAY)
    on_friday = [o for o in wide.occurrences if o.date == friday]
    assert list(narrow.occurrences) == on_friday
    assert [o for o in late.occurrences if o.date == friday] == on_friday


def test_the_same_session_twice_on_a_day_gets_two_distinct_keys() -> None:
    schedule = expand_text("week:\n  sat: [mob 08:00, mob 20:00]\n", start=MON + 5 * DAY)
    assert [o.key for o in schedule.occurrences] == ["p/2026-12-05/mob", "p/2026-12-05/mob-2"]


def test_expansion_is_deterministic() -> None:
    plan = load_plan(TEMPLATE)
    assert expand(plan, MON, MON + 28 * DAY) == expand(plan, MON, MON + 28 * DAY)


# --- exceptions --------------------------------------------------------------------------------------


def test_a_rest_exception_clears_the_day() -> None:
    body = "week:\n  fri: [legs 10:00, z2 evening]\nexceptions:\n  2026-12-25: rest\n"
    schedule = expand_text(body, start=date(2026, 12, 25))
    assert schedule.occurrences == ()


def test_an_exception_replaces_the_whole_day() -> None:
    body = "week:\n  thu: [upper 10:00, z2 18:00]\nexceptions:\n  2026-12-24: [z2 09:00]\n"
    schedule = expand_text(body, start=date(2026, 12, 24))
    assert starts_of(schedule) == {"z2": "09:00"}


def test_an_exception_on_a_weekday_that_is_normally_rest_adds_sessions() -> None:
    body = "week:\n  mon: [legs 10:00]\nexceptions:\n  2026-12-26: [long 09:00]\n"
    schedule = expand_text(body, start=date(2026, 12, 26))
    assert starts_of(schedule) == {"long": "09:00"}


# --- cycles and scaling -----------------------------------------------------------------------------------

CYCLE = """\
week:
  mon: [legs 10:00]
  tue: [z2 18:00]
  wed: [mob 07:00]
cycle:
  - {name: build, weeks: 3}
  - {name: deload, weeks: 1, scale: {strength: 0.6, ride: 0.8, mobility: 0.1}}
"""


def _week_of(schedule: Schedule, week: int) -> dict[str, tuple[str | None, timedelta]]:
    return {
        o.session.name: (o.phase, o.session.duration)
        for o in schedule.occurrences
        if o.week == week
    }


def test_build_weeks_keep_the_library_durations() -> None:
    schedule = expand_text(CYCLE, days=21)
    for week in (1, 2, 3):
        assert _week_of(schedule, week) == {
            "legs": ("build", timedelta(minutes=75)),
            "z2": ("build", timedelta(hours=1)),
            "mob": ("build", timedelta(minutes=10)),
        }


def test_the_deload_week_scales_durations_rounded_to_five_minutes() -> None:
    schedule = expand_text(CYCLE, start=MON + 21 * DAY, days=7)
    assert _week_of(schedule, 4) == {
        "legs": ("deload", timedelta(minutes=45)),  # 75 x 0.6
        "z2": ("deload", timedelta(minutes=50)),  # 60 x 0.8 = 48
        "mob": ("deload", timedelta(minutes=5)),  # 10 x 0.1 = 1, never below 5
    }
    legs = schedule.occurrences[0]
    assert legs.end - legs.start == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("week", "phase"), [(5, "build"), (7, "build"), (8, "deload"), (12, "deload"), (13, "build")]
)
def test_the_cycle_repeats_from_the_plan_start(week: int, phase: str) -> None:
    monday = MON + (week - 1) * 7 * DAY
    schedule = expand_text(CYCLE, start=monday, days=7)
    assert {o.phase for o in schedule.occurrences} == {phase}
    assert {o.week for o in schedule.occurrences} == {week}


def test_without_a_cycle_there_is_no_phase() -> None:
    (legs,) = expand_text("week:\n  mon: [legs 10:00]\n").occurrences
    assert legs.phase is None


# --- the shipped template, as a coach reads it ------------------------------------------------------------


def test_the_template_first_four_weeks_give_exactly_the_conflicts_a_coach_expects() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, MON, MON + 28 * DAY)
    found = [(c.rule, c.level, c.date) for c in schedule.conflicts]
    warn = Level.WARN
    assert found == [
        # Friday: legs in the morning, then a 1 h zone-2 ride: too long for a leg day
        ("hypertrophy-ride", warn, date(2026, 12, 4)),
        # Sunday's evening intervals, then Monday's legs: two hard days in a row
        ("hard-then-easy", warn, date(2026, 12, 7)),
        ("hypertrophy-ride", warn, date(2026, 12, 11)),
        ("hard-then-easy", warn, date(2026, 12, 14)),
        ("hypertrophy-ride", warn, date(2026, 12, 18)),
        ("hard-then-easy", warn, date(2026, 12, 21)),
        # no hypertrophy-ride on Fri 12-25: Christmas is a rest day
    ]
    assert schedule.worst() is Level.WARN


def test_the_template_friday_ride_is_placed_at_the_evening_opening() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, date(2026, 12, 4), date(2026, 12, 5))
    assert [(o.session.name, f"{o.start:%H:%M}", o.window) for o in schedule.occurrences] == [
        ("legs", "10:00", None),
        ("z2", "17:00", "evening"),
    ]


def test_the_template_christmas_exceptions_are_applied() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, date(2026, 12, 24), date(2026, 12, 26))
    eve = [o for o in schedule.occurrences if o.date == date(2026, 12, 24)]
    assert [(o.session.name, f"{o.start:%H:%M}") for o in eve] == [("z2", "09:00")]
    assert eve[0].phase == "deload"
    assert eve[0].session.duration == timedelta(minutes=50)
    assert [o for o in schedule.occurrences if o.date == date(2026, 12, 25)] == []


def test_the_template_has_ten_sessions_a_normal_week() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, MON, MON + 7 * DAY)
    assert len(schedule.occurrences) == 10
    assert {o.phase for o in schedule.occurrences} == {"build"}


# --- daylight saving -------------------------------------------------------------------------------------

DST_BODY = """\
week:
  sat: [legs 10:00]
  sun: [z2 10:00]
  mon: [upper 10:00]
"""


@pytest.mark.parametrize(
    ("zone", "starts", "change", "offsets"),
    [
        ("Europe/Brussels", "2027-03-22", date(2027, 3, 28), (1, 2)),
        ("Europe/Brussels", "2027-10-25", date(2027, 10, 31), (2, 1)),
        ("America/New_York", "2027-03-08", date(2027, 3, 14), (-5, -4)),
        ("America/New_York", "2027-11-01", date(2027, 11, 7), (-4, -5)),
    ],
    ids=["brussels-spring", "brussels-autumn", "new-york-spring", "new-york-autumn"],
)
def test_a_ten_oclock_session_stays_at_ten_local_across_a_clock_change(
    zone: str, starts: str, change: date, offsets: tuple[int, int]
) -> None:
    schedule = expand_text(DST_BODY, start=change - DAY, days=3, zone=zone, starts=starts)
    assert [o.date for o in schedule.occurrences] == [change - DAY, change, change + DAY]
    assert [f"{o.start:%H:%M}" for o in schedule.occurrences] == ["10:00"] * 3
    before, on_the_day, after = (o.start.utcoffset() for o in schedule.occurrences)
    assert before == timedelta(hours=offsets[0])
    assert on_the_day == after == timedelta(hours=offsets[1])
    assert [c.rule for c in schedule.conflicts if c.rule == "dst"] == []
    # durations are real elapsed time
    assert all(o.end - o.start == o.session.duration for o in schedule.occurrences)


@pytest.mark.parametrize(
    ("zone", "starts", "change"),
    [
        ("Europe/Brussels", "2027-03-22", date(2027, 3, 28)),
        ("America/New_York", "2027-03-08", date(2027, 3, 14)),
    ],
    ids=["brussels", "new-york"],
)
def test_a_time_that_does_not_exist_on_spring_forward_day_moves_an_hour_later(
    zone: str, starts: str, change: date
) -> None:
    schedule = expand_text("week:\n  sun: [z2 02:30]\n", start=change, zone=zone, starts=starts)
    (ride,) = schedule.occurrences
    assert f"{ride.start:%H:%M}" == "03:30"
    assert ride.start.utcoffset() == ride.end.utcoffset()
    (note,) = schedule.conflicts
    assert (note.rule, note.level, note.date, note.keys) == ("dst", Level.WARN, change, (ride.key,))
    assert "02:30 does not exist" in note.message and "03:30" in note.message


def test_a_time_that_occurs_twice_on_fall_back_day_in_new_york_is_the_first_one() -> None:
    change = date(2027, 11, 7)
    schedule = expand_text(
        "week:\n  sun: [z2 01:30]\n", start=change, zone="America/New_York", starts="2027-11-01"
    )
    (ride,) = schedule.occurrences
    assert f"{ride.start:%H:%M}" == "01:30"
    assert ride.start.utcoffset() == timedelta(hours=-4), "still daylight time: the first 01:30"
    assert ride.start_utc == datetime(2027, 11, 7, 5, 30, tzinfo=ZoneInfo("UTC"))
    (note,) = schedule.conflicts
    assert (note.rule, note.level, note.date) == ("dst", Level.WARN, change)
    assert "occurs twice" in note.message and "first" in note.message


def test_a_repeated_time_in_brussels_autumn_is_also_a_warning() -> None:
    change = date(2027, 10, 31)
    schedule = expand_text(
        "week:\n  sun: [z2 02:30]\n", start=change, zone="Europe/Brussels", starts="2027-10-25"
    )
    (ride,) = schedule.occurrences
    assert ride.start.utcoffset() == timedelta(hours=2)
    assert [c.rule for c in schedule.conflicts] == ["dst"]


def test_dst_warnings_can_be_switched_off() -> None:
    schedule = expand_text(
        "week:\n  sun: [z2 02:30]\nrules:\n  dst: off\n",
        start=date(2027, 3, 28),
        starts="2027-03-22",
    )
    assert f"{schedule.occurrences[0].start:%H:%M}" == "03:30"
    assert schedule.conflicts == ()


def test_a_window_across_the_spring_change_places_the_ride_at_its_wall_clock_opening() -> None:
    schedule = expand_text(
        "week:\n  sun: [legs 07:00, z2 midday]\n", start=date(2027, 3, 28), starts="2027-03-22"
    )
    assert starts_of(schedule) == {"legs": "07:00", "z2": "12:15"}
    assert schedule.occurrences[1].start.utcoffset() == timedelta(hours=2)
