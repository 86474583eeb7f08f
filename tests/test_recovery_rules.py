"""hard-then-easy by muscle group, its "no order of the week avoids this", and the deload rule."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from itertools import permutations
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.core.expand import expand
from calsync.core.loader import parse_plan
from calsync.core.model import (
    WEEKDAYS,
    Conflict,
    Kind,
    Level,
    Load,
    Occurrence,
    RuleSetting,
    Session,
)
from calsync.core.rules import RULES, _hard_groups, hard_clash, muscle_groups, week_can_be_ordered

MON = date(2026, 11, 30)
BRUSSELS = ZoneInfo("Europe/Brussels")

LIBRARY = """\
sessions:
  legs:      {kind: strength, title: "Legs: squat, RDL", duration: 75m, load: hard, focus: legs}
  upper:     {kind: strength, title: "Upper: bench, rows", duration: 60m, load: hard, focus: upper}
  core:      {kind: strength, title: Core, duration: 30m, load: hard, focus: core}
  lift:      {kind: strength, title: Lift, duration: 60m, load: hard}
  full:      {kind: strength, title: Full body, duration: 60m, load: hard, focus: full}
  upcore:    {kind: strength, title: "Upper + core", duration: 60m, load: hard, focus: [upper, core]}
  intervals: {kind: ride, title: Intervals, duration: 1h, load: hard}
  tempo:     {kind: run, title: Tempo run, duration: 45m, load: hard}
  z2:        {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
"""


def plan_text(week: str, rules: str = "", cycle: str = "") -> str:
    return (
        "plan: recovery\ntimezone: Europe/Brussels\nstarts: 2026-11-30\n"
        + LIBRARY
        + "week:\n"
        + week
        + ("rules:\n" + rules if rules else "")
        + ("cycle:\n" + cycle if cycle else "")
    )


def conflicts(
    week: str, rules: str = "", weeks: int = 2, cycle: str = "", rule: str = "hard-then-easy"
) -> list[Conflict]:
    plan = parse_plan(plan_text(week, rules, cycle), "recovery.yaml")
    schedule = expand(plan, MON, MON + timedelta(weeks=weeks))
    return [c for c in schedule.conflicts if c.rule == rule]


# --- muscle groups ------------------------------------------------------------------------------------


def test_an_upper_body_day_then_a_leg_day_is_a_normal_split() -> None:
    assert conflicts("  thu: [upper 10:00]\n  fri: [legs 10:00]\n") == []


def test_the_old_rule_is_kept_by_comparing_by_day() -> None:
    (conflict,) = conflicts(
        "  thu: [upper 10:00]\n  fri: [legs 10:00]\n",
        rules="  hard-then-easy: {by: day}\n",
        weeks=1,
    )
    assert conflict.message.startswith("two hard days in a row: 'Upper: bench, rows' (Thu 10:00)")
    assert conflict.date == MON + timedelta(4)


def test_legs_the_day_after_hard_intervals_still_counts() -> None:
    (conflict,) = conflicts("  tue: [intervals 18:00]\n  wed: [legs 10:00]\n", weeks=1)
    assert conflict.message.startswith(
        "two hard days in a row on the legs: 'Intervals' (Tue 18:00)"
    )
    # Thursday is free: swapping it with Wednesday leaves an easy day between them.
    assert conflict.hint == (
        "move 'Legs: squat, RDL' to Thursday 10:00, or swap Wednesday and Thursday"
    )


def test_hard_intervals_the_day_after_legs_count_too() -> None:
    assert len(conflicts("  tue: [legs 10:00]\n  wed: [intervals 18:00]\n", weeks=1)) == 1


def test_a_hard_run_after_a_hard_ride_shares_the_legs() -> None:
    assert len(conflicts("  tue: [intervals 18:00]\n  wed: [tempo 07:00]\n", weeks=1)) == 1


def test_core_then_legs_share_nothing() -> None:
    assert conflicts("  tue: [core 10:00]\n  wed: [legs 10:00]\n", weeks=1) == []


def test_a_list_of_groups_clashes_on_the_group_it_shares() -> None:
    (conflict,) = conflicts("  tue: [upcore 10:00]\n  wed: [core 10:00]\n", weeks=1)
    assert "in a row on the core:" in conflict.message


def test_full_body_clashes_with_everything() -> None:
    for other in ("legs", "upper", "core", "intervals"):
        (conflict,) = conflicts(f"  tue: [full 10:00]\n  wed: [{other} 18:00]\n", weeks=1)
        assert "on the " in conflict.message, other


def test_a_lift_with_no_focus_is_taken_to_load_every_group() -> None:
    (conflict,) = conflicts("  tue: [lift 10:00]\n  wed: [upper 10:00]\n", weeks=1)
    assert "in a row on the upper:" in conflict.message


def test_only_the_sessions_that_share_a_group_are_named() -> None:
    # Tuesday: hard upper in the morning, hard intervals in the evening; Wednesday: legs.
    (conflict,) = conflicts("  tue: [upper 07:00, intervals 18:00]\n  wed: [legs 10:00]\n", weeks=1)
    assert [o.session.name for o in conflict.sessions] == ["intervals", "legs"]


def test_muscle_groups_of_each_kind() -> None:
    def groups(kind: Kind, focus: tuple[str, ...] = ()) -> set[str]:
        return set(muscle_groups(Session("s", kind, "S", timedelta(hours=1), Load.HARD, focus)))

    assert groups(Kind.RIDE) == {"legs"}
    assert groups(Kind.RUN, ("core",)) == {"legs", "core"}
    assert groups(Kind.STRENGTH, ("upper",)) == {"upper"}
    assert groups(Kind.STRENGTH, ("full",)) == {"legs", "upper", "core"}
    assert groups(Kind.SWIM) == {"legs", "upper", "core"}  # says nothing: every group


# --- when no order of the week avoids it (issue 16, item 6) -------------------------------------------------

# Four days hard on the legs and a rest day: in a repeating week of 7 days at most 3
# days can each be followed by an easier one, so no order of the days avoids it.
FOUR_LEG_DAYS = (
    "  mon: [legs 10:00]\n  tue: [z2 18:00]\n  wed: [intervals 18:00]\n  thu: [upper 10:00]\n"
    "  fri: [legs 10:00]\n  sat: rest\n  sun: [intervals 17:00]\n"
)


def test_four_leg_days_in_seven_cannot_be_kept_apart_and_it_says_so() -> None:
    found = conflicts(FOUR_LEG_DAYS)
    assert [c.date for c in found] == [MON + timedelta(7)]  # Sunday's intervals, then Monday
    (conflict,) = found
    assert conflict.message.endswith(
        "; no order of the week's days avoids this (4 of its 7 days are hard on the legs, "
        "and at most 3 can each have an easier day after them)"
    )
    # no swap of days is offered; moving the one session to a leg day already hard is
    # (checked by calsync/hints.py against the catalogue)
    assert conflict.hint == "move 'Legs: squat, RDL' to Friday 15:15, or make it easy"


def test_three_leg_days_can_be_kept_apart_and_the_hint_says_how() -> None:
    week = FOUR_LEG_DAYS.replace(
        "  sun: [intervals 17:00]\n", "  sun: [intervals 17:00]\n"
    ).replace("  wed: [intervals 18:00]\n", "  wed: [z2 18:00]\n")
    week = week.replace("  fri: [legs 10:00]\n", "  fri: rest\n").replace(
        "  sat: rest\n", "  sat: [legs 10:00]\n"
    )
    # Mon legs, Sat legs, Sun intervals: three leg days, two of them back to back twice.
    found = conflicts(week, weeks=1)
    assert found and all("no order" not in c.message for c in found)
    assert all(re.search(r", or swap \w+day and \w+day$", c.hint) for c in found)


def test_the_same_four_hard_days_by_day_say_so_too() -> None:
    week = FOUR_LEG_DAYS.replace("  fri: [legs 10:00]\n", "  fri: [upper 10:00]\n")
    week = week.replace("  thu: [upper 10:00]\n", "  thu: [z2 10:00]\n")
    # By muscles: Mon legs, Wed intervals, Fri upper, Sun intervals are 3 leg days: fine to order.
    assert all("no order" not in c.message for c in conflicts(week))
    by_day = conflicts(week, rules="  hard-then-easy: {by: day}\n")
    assert by_day and all("4 of its 7 days are hard, and at most 3" in c.message for c in by_day)


def swapped_week(week: str, a: str, b: str) -> str:
    """The plan's week with two days' entries exchanged (day names as in the hint)."""
    days = dict(re.findall(r"  (\w{3}): (.*)\n", week))
    x, y = a[:3].lower(), b[:3].lower()
    days[x], days[y] = days.get(y, "rest"), days.get(x, "rest")
    return "".join(f"  {d}: {days.get(d, 'rest')}\n" for d in WEEKDAYS)


def test_applying_the_swap_hint_removes_the_conflict_and_adds_none() -> None:
    week = "  mon: [legs 10:00]\n  tue: [intervals 18:00]\n  thu: [upper 10:00]\n"
    (conflict,) = conflicts(week, weeks=1)
    assert conflict.hint == "move 'Intervals' to Wednesday 18:00, or swap Tuesday and Wednesday"
    a, b = re.search(r"swap (\w+day) and (\w+day)$", conflict.hint).groups()
    assert conflicts(swapped_week(week, a, b)) == []


# The property, checked against the catalogue: "no order of the week avoids it" is said
# exactly when every order of the week's days, run through the hard-then-easy rule
# itself, still draws a warning; and a swap hint, applied, clears its own day.

SESSIONS = [
    Session("legs", Kind.STRENGTH, "Legs", timedelta(hours=1), Load.HARD, ("legs",)),
    Session("upper", Kind.STRENGTH, "Upper", timedelta(hours=1), Load.HARD, ("upper",)),
    Session("core", Kind.STRENGTH, "Core", timedelta(minutes=30), Load.HARD, ("core",)),
    Session("full", Kind.STRENGTH, "Full", timedelta(hours=1), Load.HARD, ("full",)),
    Session("vo2", Kind.RIDE, "VO2", timedelta(hours=1), Load.HARD),
    Session("z2", Kind.RIDE, "Z2", timedelta(hours=1), Load.EASY),
]


def occurrences_on(day: date, names: tuple[str, ...]) -> list[Occurrence]:
    library = {s.name: s for s in SESSIONS}
    found = []
    for i, name in enumerate(names):
        start = datetime.combine(day, time(7 + 6 * i), tzinfo=BRUSSELS)
        found.append(
            Occurrence(
                f"p/{day}/{name}-{i}",
                "p",
                day,
                start,
                start + timedelta(hours=1),
                library[name],
                1,
                None,
            )
        )
    return found


def repeated(week: tuple[tuple[str, ...], ...], times: int = 2) -> dict[date, list[Occurrence]]:
    return {
        MON + timedelta(days=d): occurrences_on(MON + timedelta(days=d), week[d % 7])
        for d in range(7 * times)
        if week[d % 7]
    }


def catalogue_conflicts(week: tuple[tuple[str, ...], ...], by: str) -> list[Conflict]:
    rule = RULES["hard-then-easy"]
    setting = RuleSetting(rule.id, Level.WARN, (("by", by),))
    days = repeated(week)
    return list(rule.check(days, [MON, MON + timedelta(7)], setting))


day_entries = st.lists(st.sampled_from([s.name for s in SESSIONS]), max_size=2).map(tuple)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week=st.tuples(*[day_entries] * 7), by=st.sampled_from(["muscles", "day"]))
def test_no_order_is_claimed_exactly_when_every_order_breaks_the_rule(
    week: tuple[tuple[str, ...], ...], by: str
) -> None:
    pattern = tuple(_hard_groups(occurrences_on(MON, names), by) for names in week)
    # Every cyclic order: the first day fixed, the other six in every order.
    some_order_works = any(
        not catalogue_conflicts((week[0], *rest), by) for rest in set(permutations(week[1:]))
    )
    assert week_can_be_ordered(pattern) == some_order_works
    for conflict in catalogue_conflicts(week, by):
        assert ("no order of the week's days avoids this" in conflict.message) == (
            not some_order_works
        )
        swap = re.search(r"swap (\w+)day and (\w+)day$", conflict.hint or "")
        if swap:
            names = [d.strftime("%a")[:3] for d in (MON + timedelta(i) for i in range(7))]
            i, j = names.index(swap[1][:3]), names.index(swap[2][:3])
            moved = list(week)
            moved[i], moved[j] = moved[j], moved[i]
            after = catalogue_conflicts(tuple(moved), by)
            assert all(c.date.weekday() != conflict.date.weekday() for c in after)
            assert (
                len({c.date.weekday() for c in after})
                < len({c.date.weekday() for c in catalogue_conflicts(week, by)})
                or not after
            )


# --- deload ------------------------------------------------------------------------------------------------

EASY_WEEK = "  mon: [z2 18:00]\n  wed: [legs 10:00]\n  fri: [z2 18:00]\n"


def test_a_plan_without_a_cycle_is_warned_once_in_week_nine() -> None:
    assert conflicts(EASY_WEEK, weeks=8, rule="deload") == []
    (conflict,) = conflicts(EASY_WEEK, weeks=20, rule="deload")
    assert conflict.level is Level.WARN
    assert conflict.date == MON + timedelta(weeks=8)  # Monday of week 9
    assert conflict.message.startswith(
        "week 9 is the 9th week in a row without a lighter week: the plan has no cycle"
    )
    assert "athletes deload every 5.6 ± 2.3 weeks, at most 8 heavy weeks wanted" in conflict.message
    assert conflict.sessions == ()  # about the plan: no event carries it


def test_a_range_that_starts_late_is_warned_on_its_first_week() -> None:
    plan = parse_plan(plan_text(EASY_WEEK), "recovery.yaml")
    later = MON + timedelta(weeks=30, days=2)  # a Wednesday in week 31
    (conflict,) = [
        c for c in expand(plan, later, later + timedelta(weeks=2)).conflicts if c.rule == "deload"
    ]
    assert conflict.date == later and conflict.message.startswith("week 31 is the 31st week")


def test_a_three_to_one_cycle_is_never_warned() -> None:
    cycle = "  - {name: build, weeks: 3}\n  - {name: deload, weeks: 1, scale: {strength: 0.6, ride: 0.8}}\n"
    assert conflicts(EASY_WEEK, weeks=52, cycle=cycle, rule="deload") == []


def test_a_ten_week_build_is_warned_in_its_ninth_week() -> None:
    cycle = "  - {name: build, weeks: 10}\n  - {name: deload, weeks: 1, scale: {strength: 0.5, ride: 0.5}}\n"
    (conflict,) = conflicts(EASY_WEEK, weeks=11, cycle=cycle, rule="deload")
    assert conflict.date == MON + timedelta(weeks=8)
    assert "its cycle (build, deload) has 10 heavy weeks in a row" in conflict.message
    assert conflict.hint == "shorten the heavy phases to at most 8 weeks in a row"


def test_a_deload_that_barely_cuts_is_not_a_lighter_week() -> None:
    # 0.9 of every duration: 10% lighter, below the 20% a week must drop to count.
    cycle = "  - {name: build, weeks: 3}\n  - {name: deload, weeks: 1, scale: {strength: 0.9, ride: 0.9}}\n"
    (conflict,) = conflicts(EASY_WEEK, weeks=12, cycle=cycle, rule="deload")
    assert "no week of its 4-week cycle is 20% lighter than the heaviest" in conflict.message
    assert (
        conflicts(EASY_WEEK, weeks=12, cycle=cycle, rule="deload", rules="  deload: {cut: 5%}\n")
        == []
    )


def test_max_and_level_are_parameters() -> None:
    cycle = "  - {name: build, weeks: 3}\n  - {name: deload, weeks: 1, scale: {strength: 0.6, ride: 0.8}}\n"
    (conflict,) = conflicts(
        EASY_WEEK, weeks=4, cycle=cycle, rule="deload", rules="  deload: {max: 2}\n"
    )
    assert conflict.date == MON + timedelta(weeks=2)  # week 3, the third build week
    assert conflicts(EASY_WEEK, weeks=20, rule="deload", rules="  deload: off\n") == []


def test_bad_deload_parameters_name_the_line() -> None:
    text = plan_text(EASY_WEEK, rules="  deload: {max: 0, cut: 120%}\n")
    try:
        parse_plan(text, "recovery.yaml")
    except Exception as err:  # PlanError
        problems = [str(p) for p in err.problems]  # type: ignore[attr-defined]
    assert any("rules.deload.max: expected a number of weeks from 1 to 52" in p for p in problems)
    assert any("rules.deload.cut: '120%' is not a percentage" in p for p in problems)


def test_the_deload_hint_for_a_plan_without_a_cycle_works_when_applied() -> None:
    (conflict,) = conflicts(EASY_WEEK, weeks=12, rule="deload")
    assert conflict.hint == (
        "add a lighter week to the cycle, e.g. "
        "{name: deload, weeks: 1, scale: {ride: 0.6, strength: 0.6}} (40% shorter sessions)"
    )
    suggested = conflict.hint.split("e.g. ")[1].split(" (")[0]
    cycle = f"  - {{name: build, weeks: 3}}\n  - {suggested}\n"
    assert conflicts(EASY_WEEK, weeks=52, cycle=cycle, rule="deload") == []


@settings(max_examples=60, deadline=None)
@given(before=day_entries, after=day_entries, by=st.sampled_from(["muscles", "day"]))
def test_the_pairwise_clash_agrees_with_the_rule(
    before: tuple[str, ...], after: tuple[str, ...], by: str
) -> None:
    days = {
        MON: occurrences_on(MON, before),
        MON + timedelta(1): occurrences_on(MON + timedelta(1), after),
    }
    days = {d: o for d, o in days.items() if o}
    rule = RULES["hard-then-easy"]
    found = list(rule.check(days, [MON], RuleSetting(rule.id, Level.WARN, (("by", by),))))
    library = {s.name: s for s in SESSIONS}
    pairs = any(hard_clash(library[a], library[b], by) for a in before for b in after)
    assert bool(found) == pairs


def test_a_full_body_lift_is_a_leg_day_for_the_same_day_rules() -> None:
    (conflict,) = conflicts(
        "  tue: [full 07:00, intervals 18:00]\n", weeks=1, rule="legs-then-hard"
    )
    assert [o.session.name for o in conflict.sessions] == ["full", "intervals"]
    assert (
        conflicts("  tue: [upcore 07:00, intervals 18:00]\n", weeks=1, rule="legs-then-hard") == []
    )
