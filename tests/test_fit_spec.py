"""The `fit:` block: read as written, and every mistake named with its file and line."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from calsync.core.fitspec import Start, Want, parse_days
from calsync.core.loader import PlanError, parse_plan

# Line numbers used below:  8 fit  9 per-week  10 legs  11 z2  12 when  13 strength  14 ride  15 pin
PLAN = """\
plan: wants
timezone: Europe/Brussels
starts: 2026-11-30
windows: {evening: "17:00-21:00"}
sessions:
  legs: {kind: strength, title: Legs, duration: 75m, load: hard, focus: legs}
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
fit:
  per-week:
    legs: 2
    z2: {min: 1, max: 6}
  when:
    strength: {mon-fri: "10:00", sat-sun: "08:00-12:00"}
    ride: {all: ["20:00", evening]}
  pin: {sat: rest, sun: [legs 09:00]}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "wants.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_wants_are_read_as_written() -> None:
    plan = parse_plan(PLAN, "wants.yaml")
    spec = plan.fit
    assert spec is not None
    assert spec.wants == (Want("legs", 2, 2), Want("z2", 1, 6))
    assert spec.starts("legs", 0) == (Start(time(10)),)
    assert spec.starts("legs", 6) == (Start(time(8), time(12)),)
    assert spec.starts("z2", 3) == (Start(time(20)), Start(time(17), time(21)))
    assert spec.pinned(5) == ()
    assert [(e.session.name, e.at) for e in spec.pinned(6) or ()] == [("legs", time(9))]
    assert spec.pinned(0) is None
    assert spec.step == timedelta(minutes=15)


def test_a_plan_with_wants_needs_no_week_yet() -> None:
    plan = parse_plan(PLAN, "wants.yaml")
    assert plan.week == ((),) * 7


def test_a_plan_with_neither_week_nor_fit_says_so() -> None:
    text = PLAN[: PLAN.index("fit:")]
    assert problems(text) == [
        "wants.yaml:1: missing required key 'week' (or 'fit', to have one made)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    legs: 2\n",
            "    lgs: 2\n",
            "wants.yaml:10: fit.per-week.lgs: unknown session 'lgs' (known: legs, z2)",
        ),
        (
            "{min: 1, max: 6}",
            "{min: 6, max: 1}",
            "wants.yaml:11: fit.per-week.z2: max 1 is below min 6",
        ),
        (
            "{min: 1, max: 6}",
            "{min: 1}",
            "wants.yaml:11: fit.per-week.z2: missing required key 'max'",
        ),
        (
            "    legs: 2\n",
            "    legs: two\n",
            "wants.yaml:10: fit.per-week.legs: expected a whole number from 0 to 21, found 'two'",
        ),
        (
            "mon-fri",
            "fri-mon",
            "wants.yaml:13: fit.when.strength.fri-mon: 'fri-mon' runs backwards (expected e.g. mon-fri)",
        ),
        ("sat-sun", "fri-sun", "wants.yaml:13: fit.when.strength.fri-sun: fri is given twice"),
        (
            '"08:00-12:00"',
            '"12:00-08:00"',
            "wants.yaml:13: fit.when.strength.sat-sun: window '12:00-08:00' ends before it starts (expected start < end, same day)",
        ),
        (
            "evening]",
            "night]",
            "wants.yaml:14: fit.when.ride.all[1]: 'night' is not a start (expected HH:MM, a span HH:MM-HH:MM or a window: evening)",
        ),
        (
            "[legs 09:00]",
            "[legs evening]",
            "wants.yaml:15: fit.pin.sun: a pinned session needs a time (expected 'NAME HH:MM')",
        ),
        (
            "pin: {sat: rest,",
            "pin: {saturday: rest,",
            "wants.yaml:15: fit.pin.saturday: 'saturday' is not a set of days (expected all, weekdays, weekend, a day like mon, a range like mon-fri, or a list like mon,wed)",
        ),
        (
            "  pin:",
            "  step: 7m\n  pin:",
            "wants.yaml:15: fit.step: '7m' is not a step (expected a divisor of an hour from 5m to 60m)",
        ),
    ],
)
def test_every_mistake_names_the_file_the_line_and_what_was_expected(
    old: str, new: str, expected: str
) -> None:
    assert PLAN.count(old) == 1
    assert problems(PLAN.replace(old, new)) == [expected]


def test_a_misspelt_kind_leaves_its_sessions_without_start_times() -> None:
    assert problems(PLAN.replace("    ride: {", "    bike: {")) == [
        "wants.yaml:11: fit.per-week.z2: no start times for 'z2' "
        "(expected fit.when.z2 or fit.when.ride)",
        "wants.yaml:14: fit.when.bike: 'bike' is neither a kind nor a session "
        "(known: mobility, other, ride, run, strength, swim, legs, z2)",
    ]


def test_a_wanted_session_without_start_times_is_named() -> None:
    text = PLAN.replace('    ride: {all: ["20:00", evening]}\n', "")
    assert problems(text) == [
        "wants.yaml:11: fit.per-week.z2: no start times for 'z2' "
        "(expected fit.when.z2 or fit.when.ride)"
    ]


def test_all_the_mistakes_are_reported_at_once() -> None:
    text = PLAN.replace("    legs: 2\n", "    legs: -1\n").replace("sat: rest", "sat: resting")
    assert [p.split(":")[1] for p in problems(text)] == ["10", "15"]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("all", (0, 1, 2, 3, 4, 5, 6)),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("weekend", (5, 6)),
        ("tue", (1,)),
        ("mon,wed,fri", (0, 2, 4)),
        ("mon-wed, sat", (0, 1, 2, 5)),
    ],
)
def test_days_are_written_as_a_coach_would(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days
