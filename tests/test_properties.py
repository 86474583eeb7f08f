"""Properties of expansion over random valid plans, written as plan text a person could write."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given

from calsync.core.expand import expand, monday
from calsync.core.loader import parse_plan
from calsync.core.model import Level, Schedule
from calsync.core.rules import day_conflicts, span_conflicts
from calsync.core.rules.common import DayView
from tests.strategies import SETTINGS, cases, plans


def _ident(conflict) -> tuple:
    return (conflict.rule, conflict.level, conflict.date, conflict.keys)


@SETTINGS
@given(plans())
def test_random_plans_written_as_valid_text_load(text: str) -> None:
    plan = parse_plan(text, "random.yaml")
    assert len(plan.week) == 7


@SETTINGS
@given(cases())
def test_expansion_is_deterministic(case) -> None:
    plan, start, end, busy = case
    assert expand(plan, start, end, busy) == expand(plan, start, end, busy)


@SETTINGS
@given(cases())
def test_every_session_lies_in_the_range_and_keys_are_unique(case) -> None:
    plan, start, end, busy = case
    schedule = expand(plan, start, end, busy)
    assert all(start <= o.date < end for o in schedule.occurrences)
    assert all(o.date >= plan.starts for o in schedule.occurrences)
    keys = [o.key for o in schedule.occurrences]
    assert len(keys) == len(set(keys))
    assert all(o.end > o.start for o in schedule.occurrences)
    assert all(o.start.date() == o.date or o.start.tzinfo is not None for o in schedule.occurrences)


@SETTINGS
@given(cases())
def test_a_session_keeps_its_key_and_time_when_the_range_starts_later(case) -> None:
    plan, start, end, _ = case
    whole = expand(plan, start, end)
    later = start + (end - start) // 2
    tail = expand(plan, later, end)
    assert tail.occurrences == tuple(o for o in whole.occurrences if o.date >= later)


@SETTINGS
@given(cases())
def test_no_schedule_breaks_an_error_rule_without_a_matching_conflict(case) -> None:
    plan, start, end, busy = case
    schedule: Schedule = expand(plan, start, end, busy)
    settings_by_id = {s.id: s for s in plan.rules}
    returned = {_ident(c) for c in schedule.conflicts}
    by_day = defaultdict(list)
    for o in schedule.occurrences:
        by_day[o.date].append(o)
    for day, sessions in by_day.items():
        zone = ZoneInfo(plan.timezone)
        day_start = datetime.combine(day, time(), tzinfo=zone)
        taken = [b for b in busy if b.start < day_start + timedelta(days=1) and b.end > day_start]
        view = DayView(day, sorted(sessions, key=lambda o: o.start_utc), taken)
        for conflict in day_conflicts(view, settings_by_id):
            if conflict.level is Level.ERROR:
                assert _ident(conflict) in returned, conflict.message
    weeks = sorted({monday(d) for d in by_day})
    returned_days = {(c.rule, c.level, c.date) for c in schedule.conflicts}
    for conflict in span_conflicts(by_day, weeks, settings_by_id):
        if conflict.level is Level.ERROR:
            assert (conflict.rule, conflict.level, conflict.date) in returned_days


@SETTINGS
@given(cases())
def test_a_windowed_session_is_inside_its_window_or_reported_unplaced(case) -> None:
    plan, start, end, busy = case
    assume(plan.rule("unplaced").level is not Level.OFF)  # else a miss is silent, by design
    schedule = expand(plan, start, end, busy)
    windows = {w.name: w for w in plan.windows}
    unplaced = {k for c in schedule.conflicts if c.rule == "unplaced" for k in c.keys}
    for o in schedule.occurrences:
        if o.window is None or o.key in unplaced:
            continue
        window = windows[o.window]
        assert window.start <= o.start.timetz().replace(tzinfo=None)
        assert o.end.timetz().replace(tzinfo=None) <= window.end or o.end.date() > o.date
        # and it breaks no error-level rule that a start time could fix, unless the
        # other session is one that found no slot (and was emitted at its window start)
        timed = {"order", "gap", "overlap", "legs-then-hard"}
        errors = [
            c
            for c in schedule.conflicts
            if c.level is Level.ERROR
            and c.rule in timed
            and o.key in c.keys
            and not unplaced & set(c.keys)
        ]
        assert errors == [], [c.message for c in errors]
