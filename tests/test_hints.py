"""Hints are checked before they are offered: each one, applied, clears its conflict and
breaks no rule at level error. The rule catalogue is the judge, over random plans."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, time, timedelta

from hypothesis import given

from calsync.core.expand import expand, monday
from calsync.core.hints import HINTED
from calsync.core.loader import parse_plan
from calsync.core.model import Busy, Change, Conflict, Level, Occurrence, Plan, Schedule
from calsync.core.rules import day_conflicts, span_conflicts
from calsync.core.rules.common import DayView
from tests.strategies import SETTINGS, cases

DAY = timedelta(days=1)
TEMPLATE_WEEK = """\
plan: rider
timezone: Europe/Brussels
starts: 2026-11-30
goal: hypertrophy
sessions:
  legs:      {kind: strength, title: "Legs: squat, RDL, curls", duration: 75m, load: hard, focus: legs}
  upper:     {kind: strength, title: Upper body, duration: 60m, load: moderate}
  core:      {kind: strength, title: Core, duration: 30m, load: easy}
  z2:        {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
  intervals: {kind: ride, title: Intervals, duration: 1h, load: hard}
week:
  mon: [MONDAY]
  tue: [core 10:00, z2 20:00]
  wed: [intervals 20:00]
  thu: [upper 10:00, z2 20:00]
  fri: [legs 10:00, z2 17:00]
  sat: rest
  sun: [upper 10:00, intervals 17:00]
"""
MON = date(2026, 11, 30)


# --- an independent judge: the catalogue over every day of a wide range --------------------------


def world(plan: Plan, start: date, end: date, busy: Sequence[Busy]) -> dict[date, list]:
    """The plan's sessions on whole weeks around the range, by day: what a hint may touch."""
    wide = expand(plan, monday(start) - 14 * DAY, monday(end) + 21 * DAY, busy)
    days: dict[date, list[Occurrence]] = defaultdict(list)
    for o in wide.occurrences:
        days[o.date].append(o)
    return days


def applied(days: dict[date, list[Occurrence]], changes: Iterable[Change]) -> dict:
    changed = {c.key: c for c in changes}
    result: dict[date, list[Occurrence]] = defaultdict(list)
    for day in days.values():
        for o in day:
            c = changed.get(o.key)
            if c is not None:
                end = (c.start.astimezone(UTC) + c.session.duration).astimezone(c.start.tzinfo)
                o = replace(o, date=c.date, start=c.start, end=end, session=c.session)
            result[o.date].append(o)
    return result


def everything(
    plan: Plan, days: dict[date, list[Occurrence]], busy: Sequence[Busy], start: date, end: date
) -> list:
    settings = {s.id: s for s in plan.rules}
    found: list[Conflict] = []
    for day, sessions in days.items():
        midnight = plan.midnight(day)
        taken = [b for b in busy if b.start < midnight + DAY and b.end > midnight]
        view = DayView(day, sorted(sessions, key=lambda o: (o.start_utc, o.key)), taken)
        found += day_conflicts(view, settings)
    # the weeks a hint may touch, each with a day either side inside the world
    first, last = monday(start) - 7 * DAY, monday(end) + 7 * DAY
    weeks = [first + i * 7 * DAY for i in range((last - first).days // 7 + 1)]
    found += span_conflicts(days, weeks, settings)
    return found


def ident(c: Conflict) -> tuple:
    return (c.rule, c.date, c.message if c.rule == "rest-days" else frozenset(c.keys))


def still_there(conflict: Conflict, after: list[Conflict], changes: Sequence[Change]) -> bool:
    keys = set(conflict.keys)
    if conflict.rule == "unplaced":  # settled by a time of its own that breaks no error rule
        moved = keys & {c.key for c in changes}
        return not moved or any(c.level is Level.ERROR and keys & set(c.keys) for c in after)
    same = [c for c in after if (c.rule, c.date) == (conflict.rule, conflict.date)]
    if conflict.rule == "rest-days":
        return bool(same)
    if conflict.rule in ("max-per-day", "hard-then-easy"):
        return any(keys & set(c.keys) for c in same)
    return any(set(c.keys) == keys for c in same)


# --- the property ----------------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_every_hint_applied_clears_its_conflict_and_adds_no_error(case) -> None:
    hints_hold(case)


def hints_hold(case: tuple[Plan, date, date, tuple[Busy, ...]]) -> None:
    plan, start, end, busy = case
    schedule = expand(plan, start, end, busy)
    days = world(plan, start, end, busy)
    before = everything(plan, days, busy, start, end)
    errors_before = {ident(c) for c in before if c.level is Level.ERROR}
    own_time = {o.key: o.start.time() for day in days.values() for o in day}
    for conflict in schedule.conflicts:
        if conflict.rule in HINTED:  # every rule whose fix is a change of dated sessions
            assert (conflict.hint is None) == (not conflict.fixes), conflict
        for fix in conflict.fixes:
            for change in fix.changes:  # a new time never spills into the next day
                local = change.start.astimezone(plan.zone)
                assert local.date() == change.date, fix.text
                if local.time() != own_time[change.key]:
                    assert local + change.session.duration <= plan.midnight(change.date + DAY)
            after = everything(plan, applied(days, fix.changes), busy, start, end)
            assert not still_there(conflict, after, fix.changes), (conflict.message, fix.text)
            new = [c for c in after if ident(c) not in {ident(b) for b in before}]
            assert {ident(c) for c in after if c.level is Level.ERROR} <= errors_before, (
                fix.text,
                [c.message for c in new if c.level is Level.ERROR],
            )
            assert set(fix.adds) == {c.rule for c in new}, (fix.text, [c.message for c in new])


# --- the cases a new user met ------------------------------------------------------------------------


def rider(monday_entries: str, weeks: int = 1) -> Schedule:
    plan = parse_plan(TEMPLATE_WEEK.replace("MONDAY", monday_entries), "rider.yaml")
    return expand(plan, MON, MON + weeks * 7 * DAY)


def hint_of(schedule: Schedule, rule: str, day: date = MON) -> str | None:
    (conflict,) = [c for c in schedule.conflicts if (c.rule, c.date) == (rule, day)]
    return conflict.hint


def test_two_evening_rides_get_a_same_day_time_not_one_after_midnight() -> None:
    # z2 20:00-21:00 then intervals at 21:00: 4 h apart would be 01:00, the next day
    hint = hint_of(rider("z2 20:00, intervals 21:00"), "gap")
    assert "01:00" not in hint
    assert hint == "move 'Zone 2 ride' to 16:00, or move 'Intervals' to Wednesday 15:00"


def test_move_to_another_day_skips_full_days_and_the_rest_day() -> None:
    # Tuesday already has two sessions (max-per-day) and Saturday is the rest day
    schedule = rider("z2 20:00, intervals 21:00")
    (conflict,) = [c for c in schedule.conflicts if c.rule == "gap"]
    (_, other_day) = conflict.fixes
    (change,) = other_day.changes
    assert change.date.strftime("%A") not in ("Tuesday", "Saturday", "Monday")


def test_a_change_that_only_adds_a_warning_says_so() -> None:
    # Two sessions every day but Saturday, three on Monday: the only day with room is
    # the rest day, so the hint says what moving there costs
    text = (
        TEMPLATE_WEEK.split("week:")[0]
        + "week:\n  mon: [core 07:00, upper 12:00, z2 20:00]\n"
        + "".join(f"  {d}: [core 10:00, z2 20:00]\n" for d in ("tue", "wed", "thu", "fri", "sun"))
    )
    schedule = expand(parse_plan(text, "full.yaml"), MON, MON + 7 * DAY)
    assert hint_of(schedule, "max-per-day") == (
        "move 'Zone 2 ride' to Saturday 20:00 (adds a rest-days warning)"
    )


def test_hypertrophy_ride_offers_the_coaches_fix_first_then_a_checked_day() -> None:
    schedule = rider("legs 10:00")
    friday = MON + 4 * DAY
    assert hint_of(schedule, "hypertrophy-ride", friday) == (
        "shorten 'Zone 2 ride' to an easy 20m, or move it to Wednesday 15:00"
    )


def test_a_conflict_no_change_clears_gets_no_hint() -> None:
    # A week-long offsite: every time on every day of the week is taken
    plan = parse_plan(TEMPLATE_WEEK.replace("MONDAY", "legs 10:00"), "rider.yaml")
    offsite = Busy(plan.midnight(MON), plan.midnight(MON + 7 * DAY), "Offsite")
    schedule = expand(plan, MON, MON + 7 * DAY, (offsite,))
    overlaps = [c for c in schedule.conflicts if c.rule == "overlap"]
    assert len(overlaps) == len(schedule.occurrences) == 10
    assert all(c.hint is None and c.fixes == () for c in overlaps)


def test_two_hard_days_in_a_row_get_a_day_that_stays_clear() -> None:
    # Monday legs after Sunday intervals: the hint moves a hard session to a day whose
    # neighbours are easy, so no new pair of hard days appears
    schedule = rider("legs 10:00", weeks=2)
    hint = hint_of(schedule, "hard-then-easy", MON + 7 * DAY)
    (conflict,) = [c for c in schedule.conflicts if c.rule == "hard-then-easy"]
    assert conflict.fixes[0].adds == ()
    assert hint == ("move 'Intervals' to Wednesday 15:00, or make 'Legs: squat, RDL, curls' easy")


def test_hints_keep_the_time_of_day_the_plan_uses() -> None:
    schedule = rider("z2 20:00, intervals 21:00")
    for conflict in schedule.conflicts:
        for fix in conflict.fixes:
            for change in fix.changes:
                local = change.start.astimezone(change.start.tzinfo).time()
                assert time(6) <= local, fix.text


def test_every_rule_about_sessions_has_its_hints_checked() -> None:
    from calsync.core.rules import CATALOGUE

    about_sessions = {r.id for r in CATALOGUE if r.scope in ("day", "days")} | {"unplaced"}
    assert about_sessions <= HINTED
