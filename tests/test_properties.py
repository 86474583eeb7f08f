"""Properties of expansion over random valid plans, written as plan text a person could write."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calsync.core.expand import expand, monday
from calsync.core.loader import parse_plan
from calsync.core.model import WEEKDAYS, Busy, Level, Plan, Schedule
from calsync.core.rules import CATALOGUE, DayView, day_conflicts, span_conflicts

ZONES = ["Europe/Brussels", "America/New_York", "UTC", "Australia/Sydney"]
# Mondays, some of them in the week of a daylight-saving change
STARTS = [date(2026, 11, 30), date(2027, 3, 8), date(2027, 3, 22), date(2027, 10, 25)]
KINDS = ["strength", "ride", "run", "swim", "mobility", "other"]
LOADS = ["easy", "moderate", "hard"]
LEVELS = ["error", "warn", "off"]
RULE_IDS = [rule.id for rule in CATALOGUE]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plans(draw) -> str:
    """The text of a random, valid plan."""
    lines = [
        "plan: random-plan",
        f"timezone: {draw(st.sampled_from(ZONES))}",
        f"starts: {draw(st.sampled_from(STARTS)).isoformat()}",
        f"goal: {draw(st.sampled_from(['hypertrophy', 'endurance', 'balanced']))}",
    ]
    windows = {}
    for name in draw(
        st.lists(st.sampled_from(["early", "lunch", "evening"]), unique=True, max_size=2)
    ):
        opens = draw(st.integers(5 * 4, 20 * 4)) * 15
        closes = min(opens + draw(st.integers(2, 24)) * 15, 23 * 60 + 59)
        windows[name] = f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
    if windows:
        lines.append("windows:")
        lines += [f'  {name}: "{span}"' for name, span in windows.items()]
    names = [f"s{i}" for i in range(draw(st.integers(1, 5)))]
    lines.append("sessions:")
    for name in names:
        kind = draw(st.sampled_from(KINDS))
        minutes = draw(st.integers(1, 36)) * 5
        focus = ", focus: legs" if kind == "strength" and draw(st.booleans()) else ""
        lines.append(
            f"  {name}: {{kind: {kind}, title: Session {name}, duration: {minutes}m, "
            f"load: {draw(st.sampled_from(LOADS))}{focus}}}"
        )
    lines.append("week:")
    for day in WEEKDAYS:
        entries = []
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(names))
            if windows and draw(st.booleans()):
                entries.append(f"{name} {draw(st.sampled_from(sorted(windows)))}")
            else:
                hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))
                entries.append(f"{name} {hour:02d}:{minute:02d}")
        lines.append(f"  {day}: [{', '.join(entries)}]" if entries else f"  {day}: rest")
    rules = draw(st.dictionaries(st.sampled_from(RULE_IDS), st.sampled_from(LEVELS)))
    gap = draw(st.sampled_from([None, "1h", "2h", "4h"]))
    if rules or gap:
        lines.append("rules:")
        lines += [f"  {rule}: {level}" for rule, level in rules.items() if rule != "gap"]
        gap_level = rules.get("gap", "error")
        if gap:
            lines.append(f"  gap: {{min: {gap}, level: {gap_level}}}")
        elif "gap" in rules:
            lines.append(f"  gap: {gap_level}")
    if draw(st.booleans()):
        lines.append("cycle:")
        for i in range(draw(st.integers(1, 3))):
            factor = draw(
                st.sampled_from(["", ", scale: {strength: 0.6, ride: 0.8}", ", scale: {run: 1.2}"])
            )
            lines.append(f"  - {{name: phase{i}, weeks: {draw(st.integers(1, 3))}{factor}}}")
    return "\n".join(lines) + "\n"


@st.composite
def cases(draw) -> tuple[Plan, date, date, tuple[Busy, ...]]:
    plan = parse_plan(draw(plans()), "random.yaml")
    start = plan.starts + timedelta(days=draw(st.integers(-10, 40)))
    end = start + timedelta(days=draw(st.integers(0, 30)))
    zone = ZoneInfo(plan.timezone)
    busy = []
    for _ in range(draw(st.integers(0, 3))):
        day = start + timedelta(days=draw(st.integers(0, max(0, (end - start).days))))
        begins = datetime.combine(day, time(draw(st.integers(6, 20))), tzinfo=zone)
        busy.append(Busy(begins, begins + timedelta(minutes=draw(st.integers(1, 12)) * 15)))
    return plan, start, end, tuple(busy)


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
