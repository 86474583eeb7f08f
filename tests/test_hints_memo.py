"""Hints are worked out once for all the weeks that look alike, and each change is judged
once wherever it reads the same: the results are those of the plain path, which works out
every conflict's fixes on its own with `outcome`, and the shortcuts they take (unworded
rules across days, what each of them `sees` of a day) agree with the rule catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import calsync.core.expand as expansion
from calsync.core.hints import HINTED, fixes_for, with_hints
from calsync.core.hints.candidates import candidates
from calsync.core.hints.memo import Outcomes
from calsync.core.hints.world import World, monday, outcome
from calsync.core.loader import parse_plan
from calsync.core.model import (
    Busy,
    Conflict,
    Goal,
    Kind,
    Level,
    Load,
    Occurrence,
    Plan,
    RuleSetting,
    Session,
)
from calsync.core.rules import CATALOGUE, span_conflicts, span_sees
from calsync.core.rules.params import HardThenEasyParams, RestDaysParams
from calsync.io.plans import load_plan
from tests.strategies import cases, plans

DAY = timedelta(days=1)
MON = date(2027, 3, 22)  # the week before clocks go forward in Brussels
BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the plain path, and the world expansion judged hints in -------------------------------------


@contextmanager
def hints_seen() -> Iterator[list[tuple[tuple[Conflict, ...], World]]]:
    """Each call expansion makes to `with_hints`: its conflicts and its world."""
    seen: list[tuple[tuple[Conflict, ...], World]] = []

    def spy(conflicts: tuple[Conflict, ...], world: World) -> tuple[Conflict, ...]:
        conflicts = tuple(conflicts)
        seen.append((conflicts, world))
        return with_hints(conflicts, world)

    with mock.patch.object(expansion, "with_hints", spy):
        yield seen


def fresh(world: World) -> World:
    """The same world with nothing remembered yet."""
    return World(world.settings, world.days, world.busy, world.first, world.zone)


def plainly(conflicts: tuple[Conflict, ...], world: World) -> list[tuple[object, ...]]:
    """Every conflict's fixes worked out on their own, judged by the plain `outcome`."""
    found = []
    for c in conflicts:
        if c.rule not in HINTED:
            continue
        alone = fresh(world)
        fixes = fixes_for(alone, c, lambda changes, c=c, w=alone: outcome(w, c, changes))
        found.append((c.rule, c.date, c.keys, fixes))
    return found


def as_hinted(conflicts: tuple[Conflict, ...]) -> list[tuple[object, ...]]:
    return [(c.rule, c.date, c.keys, c.fixes) for c in conflicts if c.rule in HINTED]


@st.composite
def long_cases(draw: st.DrawFn) -> tuple[Plan, date, date, tuple[Busy, ...]]:
    """A random plan over several weeks, with a day off or two and busy time that repeats
    every week or not."""
    text = draw(plans())
    starts = date.fromisoformat(text.split("starts: ", 1)[1][:10])
    days_off = draw(st.lists(st.integers(0, 8 * 7), max_size=3, unique=True))
    if days_off:
        text += "exceptions:\n" + "".join(
            f"  {(starts + n * DAY).isoformat()}: rest\n" for n in days_off
        )
    plan = parse_plan(text, "random.yaml")
    start = plan.starts + timedelta(days=draw(st.integers(-3, 20)))
    end = start + timedelta(days=draw(st.integers(7, 70)))
    zone = ZoneInfo(plan.timezone)
    busy = []
    weekly = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(6, 20)), max_size=2))
    for weekday, hour in weekly:
        day = monday(start) + weekday * DAY
        while day < end:
            begins = datetime.combine(day, time(hour), tzinfo=zone)
            busy.append(Busy(begins, begins + timedelta(minutes=90), "meeting"))
            day += 7 * DAY
    return plan, start, end, tuple(busy)


# --- the results are the plain path's -------------------------------------------------------------


def test_a_year_of_the_shipped_plan_gets_the_fixes_the_plain_path_finds() -> None:
    plan = load_plan(TEMPLATE)
    start = date(2026, 11, 30)  # a first week, a holiday, deloads and both clock changes
    with hints_seen() as seen:
        schedule = expansion.expand(plan, start, start + 52 * 7 * DAY)
    ((conflicts, world),) = seen
    assert len(as_hinted(schedule.conflicts)) > 100
    assert as_hinted(schedule.conflicts) == plainly(conflicts, world)


ONE_DAY_OFF = """\
plan: rider
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  intervals: {kind: ride, title: Intervals, duration: 1h, load: hard}
  z2:        {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  mon: [intervals 18:00]
  tue: [intervals 18:00]
  wed: [z2 18:00]
  thu: [z2 18:00]
  fri: [z2 18:00]
  sat: [z2 18:00]
  sun: rest
rules:
  max-per-day: {count: 1, level: error}
  hard-then-easy: error
  rest-days: off
exceptions:
  2026-12-14: rest
"""


def test_a_week_before_a_day_off_is_not_taken_for_the_weeks_like_it_inside() -> None:
    # Weeks 2 and 4 are the same inside; only the Monday after week 2 is a day off, so
    # only there can Tuesday's intervals go to Sunday without two hard days in a row.
    plan = parse_plan(ONE_DAY_OFF, "rider.yaml")
    with hints_seen() as seen:
        schedule = expansion.expand(plan, date(2026, 11, 30), date(2026, 12, 28))
    hints = {c.date: c.hint for c in schedule.conflicts if c.rule == "hard-then-easy"}
    assert hints[date(2026, 12, 8)] == (
        "move 'Intervals' to Sunday 18:00, or swap Tuesday and Wednesday"
    )
    assert hints[date(2026, 12, 22)] == "swap Tuesday and Wednesday, or swap Monday and Thursday"
    ((conflicts, world),) = seen
    assert as_hinted(schedule.conflicts) == plainly(conflicts, world)


NIGHTS = """\
plan: night
timezone: Europe/Brussels
starts: 2027-03-01
sessions:
  ride: {kind: ride, title: Night ride, duration: 1h, load: easy}
  run:  {kind: run, title: Night run, duration: 1h, load: easy}
week:
  mon: [ride 01:00]
  tue: [ride 01:00]
  wed: [ride 01:00]
  thu: [ride 01:00]
  fri: [ride 01:00]
  sat: [ride 01:00, run 01:30]
  sun: [ride 04:00]
rules:
  gap: {min: 2h, level: error}
  rest-days: off
"""


def test_the_day_clocks_go_forward_is_not_taken_for_a_day_with_the_same_times() -> None:
    # On 28 March 2027 an hour goes missing at 02:00: a run from 01:00 to 02:00 ends
    # one hour, not two, before the 04:00 ride, so Sunday 01:00 is no fix that week.
    plan = parse_plan(NIGHTS, "night.yaml")
    with hints_seen() as seen:
        schedule = expansion.expand(plan, date(2027, 3, 1), date(2027, 4, 5))
    hints = {c.date: c.hint for c in schedule.conflicts}
    assert hints[date(2027, 3, 20)] == "move 'Night run' to 04:00, or move it to Sunday 01:00"
    assert hints[date(2027, 3, 27)] == (
        "move 'Night run' to 04:00, or move 'Night ride' to Sunday 07:00"
    )
    ((conflicts, world),) = seen
    assert as_hinted(schedule.conflicts) == plainly(conflicts, world)


@SLOW
@given(long_cases())
def test_fixes_worked_out_once_for_weeks_alike_are_the_plain_paths(case) -> None:
    plan, start, end, busy = case
    with hints_seen() as seen:
        schedule = expansion.expand(plan, start, end, busy)
    ((conflicts, world),) = seen
    assert as_hinted(schedule.conflicts) == plainly(conflicts, world)


@SLOW
@given(st.one_of(cases(), long_cases()))
@example((parse_plan(ONE_DAY_OFF, "rider.yaml"), date(2026, 11, 30), date(2026, 12, 28), ()))
@example((parse_plan(NIGHTS, "night.yaml"), date(2027, 3, 1), date(2027, 4, 5), ()))
def test_a_remembered_outcome_is_the_outcome(case) -> None:
    plan, start, end, busy = case
    with hints_seen() as seen:
        expansion.expand(plan, start, end, busy)
    ((conflicts, world),) = seen
    outcomes = Outcomes(fresh(world))  # one for every conflict: later weeks reuse earlier ones
    for c in conflicts:
        if c.rule not in HINTED:
            continue
        judge = outcomes.judge(c)
        for kind in candidates(world, c):
            for _, changes in islice(kind, 12):
                assert judge(changes) == outcome(fresh(world), c, changes), changes


# --- the rules across days: unworded, and what they see of a day ---------------------------------


@SLOW
@given(cases())
def test_the_rules_across_days_unworded_find_the_same_conflicts(case) -> None:
    plan, start, end, busy = case
    schedule = expansion.expand(plan, start, end, busy)
    days: dict[date, list[Occurrence]] = {}
    for o in schedule.occurrences:
        days.setdefault(o.date, []).append(o)
    weeks = sorted({monday(d) for d in days})
    settings_by_id = {s.id: s for s in plan.rules}
    worded = list(span_conflicts(days, weeks, settings_by_id))
    unworded = list(span_conflicts(days, weeks, settings_by_id, worded=False))
    assert [(c.rule, c.level, c.date, c.keys) for c in worded] == [
        (c.rule, c.level, c.date, c.keys) for c in unworded
    ]
    for w, u in zip(worded, unworded, strict=True):
        if w.rule == "rest-days":  # its words are what makes it the same week's conflict
            assert (u.message, u.hint) == (w.message, w.hint)


def session(name: str, kind: Kind, minutes: int, load: Load, *focus: str) -> Session:
    return Session(name, kind, name.title(), timedelta(minutes=minutes), load, focus)


# Sessions that differ in what the rules across days cannot see (length, kind, title)
# as often as in what they can (load, muscles).
LIBRARY = (
    session("legs", Kind.STRENGTH, 75, Load.HARD, "legs"),
    session("legs", Kind.STRENGTH, 45, Load.HARD, "legs"),  # a deload week's
    session("squat", Kind.STRENGTH, 60, Load.HARD, "full"),
    session("upper", Kind.STRENGTH, 60, Load.MODERATE, "upper"),
    session("upper", Kind.STRENGTH, 60, Load.HARD, "upper"),
    session("ride", Kind.RIDE, 60, Load.HARD),
    session("ride", Kind.RIDE, 50, Load.HARD),
    session("ride", Kind.RUN, 45, Load.HARD, "core"),
    session("ride", Kind.RIDE, 60, Load.EASY),
    session("core", Kind.STRENGTH, 30, Load.EASY, "core"),
    session("core", Kind.MOBILITY, 20, Load.EASY),
)
hours = st.integers(6, 21)
day_plan = st.lists(st.tuples(st.sampled_from(LIBRARY), hours), max_size=3)


def occurrences(day: date, entries: list[tuple[Session, int]]) -> list[Occurrence]:
    found = []
    for i, (s, hour) in enumerate(entries):
        start = datetime.combine(day, time(hour), tzinfo=BRUSSELS)
        key = f"p/{day.isoformat()}/{s.name}-{i}"
        found.append(Occurrence(key, "p", day, start, start + s.duration, s, 1, None))
    return found


@settings(max_examples=150, deadline=None)
@given(
    week=st.lists(day_plan, min_size=16, max_size=16),
    which=st.integers(0, 15),
    by=st.sampled_from(["muscles", "day"]),
    rest=st.integers(0, 3),
    data=st.data(),
)
def test_days_the_rules_across_days_see_alike_get_the_same_conflicts(
    week: list[list[tuple[Session, int]]], which: int, by: str, rest: int, data: st.DataObject
) -> None:
    rules = {
        **{rule.id: rule.default_setting(Goal.BALANCED) for rule in CATALOGUE},
        "rest-days": RuleSetting("rest-days", Level.WARN, RestDaysParams(rest)),
        "hard-then-easy": RuleSetting("hard-then-easy", Level.WARN, HardThenEasyParams(by)),
    }
    first = MON - DAY  # two weeks and a day either side, as hints judge them
    days = {
        first + i * DAY: occurrences(first + i * DAY, entries) for i, entries in enumerate(week)
    }
    changed_day = first + which * DAY
    # the same session names, each maybe another session of that name at another time
    other = [
        (data.draw(st.sampled_from([t for t in LIBRARY if t.name == s.name])), data.draw(hours))
        for s, _ in week[which]
    ]
    twin = occurrences(changed_day, other)
    assume(span_sees(twin, rules) == span_sees(days[changed_day], rules))
    weeks = [MON, MON + 7 * DAY]

    def found(days: dict[date, list[Occurrence]]) -> list[tuple[object, ...]]:
        return sorted(
            (c.rule, c.level, c.date, c.keys, c.message if c.rule == "rest-days" else "")
            for c in span_conflicts(days, weeks, rules, worded=False)
        )

    assert found({**days, changed_day: twin}) == found(days)
