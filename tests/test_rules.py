"""The rule catalogue, one passing and one failing week per rule, built from real plan text."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from calsync.core.expand import expand
from calsync.core.loader import parse_plan
from calsync.core.model import Busy, Conflict, Level, Schedule

BRUSSELS = ZoneInfo("Europe/Brussels")
MON = date(2026, 11, 30)  # plan week 1
TUE, WED, SUN = MON + timedelta(1), MON + timedelta(2), MON + timedelta(6)

LIBRARY = """\
sessions:
  legs:      {kind: strength, title: "Legs: squat, RDL, curls", duration: 75m, load: hard, focus: legs}
  upper:     {kind: strength, title: Upper body, duration: 60m, load: moderate}
  core:      {kind: strength, title: Core, duration: 30m, load: easy}
  z2:        {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
  spin:      {kind: ride, title: Recovery spin, duration: 20m, load: easy}
  intervals: {kind: ride, title: Intervals, duration: 1h, load: hard}
  tempo:     {kind: run, title: Tempo run, duration: 45m, load: hard}
"""


def week_plan(week: str, goal: str = "balanced", rules: str = "") -> str:
    text = (
        "plan: rules-test\n"
        "timezone: Europe/Brussels\n"
        "starts: 2026-11-30\n"
        f"goal: {goal}\n" + LIBRARY + "week:\n" + week
    )
    return text + ("rules:\n" + rules if rules else "")


def run(
    week: str, goal: str = "balanced", rules: str = "", busy: tuple[Busy, ...] = ()
) -> Schedule:
    plan = parse_plan(week_plan(week, goal, rules), "rules-test.yaml")
    return expand(plan, MON, MON + timedelta(days=7), busy)


def of(schedule: Schedule, rule: str) -> list[Conflict]:
    return [c for c in schedule.conflicts if c.rule == rule]


def key(day: date, name: str) -> str:
    return f"rules-test/{day.isoformat()}/{name}"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS).replace(
        hour=hour, minute=minute
    )


# --- order: strength before the ride -------------------------------------------------------


def test_order_passes_when_the_lift_is_in_the_morning_and_the_ride_in_the_evening() -> None:
    schedule = run("  mon: [legs 10:00, z2 17:00]\n")
    assert of(schedule, "order") == []


def test_order_fails_when_the_ride_comes_before_the_lift() -> None:
    schedule = run("  mon: [z2 07:00, upper 12:00]\n")
    (conflict,) = of(schedule, "order")
    assert (conflict.level, conflict.date) == (Level.ERROR, MON)
    assert set(conflict.keys) == {key(MON, "upper"), key(MON, "z2")}
    assert "strength goes first" in conflict.message
    # the lift ends 13:00; with the 4 h gap the ride may start at 17:00
    assert conflict.hint == "move 'Zone 2 ride' to 17:00, or move 'Upper body' to Tuesday 12:00"


def test_order_then_run_only_leaves_an_early_ride_alone() -> None:
    schedule = run("  mon: [z2 07:00, upper 12:00]\n", rules="  order: {then: run}\n")
    assert of(schedule, "order") == []


def test_order_then_run_catches_an_early_run() -> None:
    schedule = run("  mon: [tempo 07:00, upper 12:00]\n", rules="  order: {then: run}\n")
    assert [c.keys for c in of(schedule, "order")] == [(key(MON, "upper"), key(MON, "tempo"))]


# --- gap: time between two sessions on one day -----------------------------------------------


def test_gap_passes_at_exactly_four_hours() -> None:
    schedule = run("  mon: [legs 10:00, z2 15:15]\n")
    assert of(schedule, "gap") == []


def test_gap_fails_below_four_hours_and_names_the_earliest_good_start() -> None:
    schedule = run("  mon: [legs 10:00, z2 14:00]\n")
    (conflict,) = of(schedule, "gap")
    assert (conflict.level, conflict.date) == (Level.ERROR, MON)
    assert conflict.keys == (key(MON, "legs"), key(MON, "z2"))
    assert "only 2h45m" in conflict.message and "at least 4h" in conflict.message
    assert conflict.hint == "move 'Zone 2 ride' to 15:15, or move it to Tuesday 14:00"


def test_gap_scalar_shorthand_makes_it_a_warning() -> None:
    schedule = run("  mon: [legs 10:00, z2 14:00]\n", rules="  gap: warn\n")
    assert [(c.rule, c.level) for c in of(schedule, "gap")] == [("gap", Level.WARN)]
    assert schedule.worst() is Level.WARN


def test_gap_level_off_disables_it() -> None:
    schedule = run("  mon: [legs 10:00, z2 14:00]\n", rules="  gap: {level: off}\n")
    assert of(schedule, "gap") == []


def test_gap_of_six_hours_moves_the_hint_and_catches_a_four_hour_gap() -> None:
    schedule = run("  mon: [legs 10:00, z2 16:00]\n", rules="  gap: {min: 6h}\n")
    (conflict,) = of(schedule, "gap")
    assert "at least 6h" in conflict.message
    assert conflict.hint == "move 'Zone 2 ride' to 17:15, or move it to Tuesday 16:00"


def test_gap_of_six_hours_passes_a_six_hour_gap() -> None:
    schedule = run("  mon: [legs 10:00, z2 17:15]\n", rules="  gap: {min: 6h}\n")
    assert of(schedule, "gap") == []


# --- overlap: sessions and busy time ---------------------------------------------------------


def test_overlap_passes_for_sessions_apart() -> None:
    schedule = run("  tue: [core 10:00, upper 15:00]\n")
    assert of(schedule, "overlap") == []


def test_overlap_fails_for_two_sessions_at_once() -> None:
    schedule = run("  tue: [core 10:00, upper 10:15]\n")
    (conflict,) = of(schedule, "overlap")
    assert (conflict.level, conflict.date) == (Level.ERROR, TUE)
    assert conflict.keys == (key(TUE, "core"), key(TUE, "upper"))
    # not 10:30, where the gap rule would then be broken: 4 h after Core ends
    assert conflict.hint == "move 'Upper body' to 14:30, or move it to Wednesday 10:15"


def test_overlap_passes_a_session_after_a_busy_interval() -> None:
    dinner = Busy(at(TUE, 16), at(TUE, 17), "Team meeting")
    schedule = run("  tue: [z2 18:00]\n", busy=(dinner,))
    assert of(schedule, "overlap") == []


def test_overlap_fails_a_session_during_a_busy_interval() -> None:
    dinner = Busy(at(TUE, 17, 30), at(TUE, 18, 30), "Family dinner")
    schedule = run("  tue: [z2 18:00]\n", busy=(dinner,))
    (conflict,) = of(schedule, "overlap")
    assert (conflict.level, conflict.date) == (Level.ERROR, TUE)
    assert conflict.keys == (key(TUE, "z2"),)
    assert conflict.busy == (dinner,)
    assert "Family dinner" in conflict.message
    assert conflict.hint == "move 'Zone 2 ride' to 18:30, or move it to Wednesday 18:00"


def test_overlap_level_warn_still_reports_busy_time_as_a_warning() -> None:
    dinner = Busy(at(TUE, 17, 30), at(TUE, 18, 30), "Family dinner")
    schedule = run("  tue: [z2 18:00]\n", rules="  overlap: warn\n", busy=(dinner,))
    assert [c.level for c in of(schedule, "overlap")] == [Level.WARN]


# --- max-per-day ----------------------------------------------------------------------------------


def test_max_per_day_passes_two_sessions() -> None:
    schedule = run("  tue: [core 07:00, z2 18:00]\n")
    assert of(schedule, "max-per-day") == []


def test_max_per_day_fails_three_sessions() -> None:
    schedule = run("  tue: [core 07:00, upper 12:00, z2 17:00]\n")
    (conflict,) = of(schedule, "max-per-day")
    assert (conflict.level, conflict.date) == (Level.ERROR, TUE)
    assert conflict.keys == (key(TUE, "core"), key(TUE, "upper"), key(TUE, "z2"))
    assert "3 sessions on one day: at most 2" in conflict.message
    assert conflict.hint == "move 'Zone 2 ride' to Wednesday 17:00"


def test_max_per_day_count_three_allows_three_sessions() -> None:
    schedule = run(
        "  tue: [core 07:00, upper 12:00, z2 17:00]\n", rules="  max-per-day: {count: 3}\n"
    )
    assert of(schedule, "max-per-day") == []


# --- rest-days --------------------------------------------------------------------------------------

EASY_EVERY_DAY = "".join(
    f"  {d}: [{'core 10:00' if i % 2 else 'z2 18:00'}]\n"
    for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
)


def test_rest_days_passes_a_week_with_a_day_off() -> None:
    schedule = run(EASY_EVERY_DAY.replace("  sun: [z2 18:00]\n", "  sun: rest\n"))
    assert of(schedule, "rest-days") == []


def test_rest_days_warns_about_a_week_without_a_day_off() -> None:
    schedule = run(EASY_EVERY_DAY)
    (conflict,) = of(schedule, "rest-days")
    assert (conflict.level, conflict.date) == (Level.WARN, MON)
    assert len(conflict.keys) == 7
    assert "0 rest days: at least 1" in conflict.message
    assert conflict.hint == "make Sunday a rest day: move 'Zone 2 ride' to Saturday 18:00"


def test_rest_days_min_two_warns_about_a_single_day_off() -> None:
    week = EASY_EVERY_DAY.replace("  sun: [z2 18:00]\n", "  sun: rest\n")
    schedule = run(week, rules="  rest-days: {min: 2}\n")
    assert "1 rest day: at least 2" in of(schedule, "rest-days")[0].message


# --- hard-then-easy ---------------------------------------------------------------------------------


def test_hard_then_easy_passes_hard_easy_hard() -> None:
    schedule = run("  mon: [legs 10:00]\n  tue: [z2 18:00]\n  wed: [intervals 18:00]\n")
    assert of(schedule, "hard-then-easy") == []


def test_hard_then_easy_warns_about_two_hard_days_in_a_row() -> None:
    schedule = run("  mon: [legs 10:00]\n  tue: [intervals 18:00]\n")
    (conflict,) = of(schedule, "hard-then-easy")
    assert (conflict.level, conflict.date) == (Level.WARN, TUE)
    assert conflict.keys == (key(MON, "legs"), key(TUE, "intervals"))
    assert conflict.hint == "move 'Intervals' to Wednesday 18:00, or swap Tuesday and Wednesday"


def test_hard_then_easy_off_is_silent() -> None:
    schedule = run(
        "  mon: [legs 10:00]\n  tue: [intervals 18:00]\n", rules="  hard-then-easy: off\n"
    )
    assert of(schedule, "hard-then-easy") == []


# --- legs-then-hard ------------------------------------------------------------------------------------


def test_legs_then_hard_passes_an_easy_ride_after_legs() -> None:
    schedule = run("  mon: [legs 10:00, z2 17:00]\n")
    assert of(schedule, "legs-then-hard") == []


def test_legs_then_hard_passes_a_hard_ride_after_an_upper_body_day() -> None:
    schedule = run("  mon: [upper 10:00, intervals 17:00]\n")
    assert of(schedule, "legs-then-hard") == []


def test_legs_then_hard_warns_about_intervals_after_legs_with_a_balanced_goal() -> None:
    schedule = run("  mon: [legs 10:00, intervals 17:00]\n")
    (conflict,) = of(schedule, "legs-then-hard")
    assert (conflict.level, conflict.date) == (Level.WARN, MON)
    assert conflict.keys == (key(MON, "legs"), key(MON, "intervals"))
    assert conflict.hint == "move 'Intervals' to Wednesday 17:00, or make it easy"


def test_legs_then_hard_catches_a_hard_run_too() -> None:
    schedule = run("  mon: [legs 07:00, tempo 17:00]\n", goal="endurance")
    assert [(c.level, c.keys) for c in of(schedule, "legs-then-hard")] == [
        (Level.WARN, (key(MON, "legs"), key(MON, "tempo")))
    ]


def test_legs_then_hard_is_an_error_when_the_goal_is_hypertrophy() -> None:
    schedule = run("  mon: [legs 10:00, intervals 17:00]\n", goal="hypertrophy")
    assert [c.level for c in of(schedule, "legs-then-hard")] == [Level.ERROR]
    assert schedule.worst() is Level.ERROR


def test_legs_then_hard_can_be_lowered_to_a_warning_for_hypertrophy() -> None:
    schedule = run(
        "  mon: [legs 10:00, intervals 17:00]\n",
        goal="hypertrophy",
        rules="  legs-then-hard: {level: warn}\n",
    )
    assert [c.level for c in of(schedule, "legs-then-hard")] == [Level.WARN]


# --- hypertrophy-ride ------------------------------------------------------------------------------------


def test_hypertrophy_ride_passes_a_short_easy_spin_on_a_leg_day() -> None:
    schedule = run("  mon: [legs 10:00, spin 17:00]\n", goal="hypertrophy")
    assert of(schedule, "hypertrophy-ride") == []


def test_hypertrophy_ride_warns_about_an_hour_of_zone_2_on_a_leg_day() -> None:
    schedule = run("  mon: [legs 10:00, z2 17:00]\n", goal="hypertrophy")
    (conflict,) = of(schedule, "hypertrophy-ride")
    assert (conflict.level, conflict.date) == (Level.WARN, MON)
    assert conflict.keys == (key(MON, "legs"), key(MON, "z2"))
    assert "1h" in conflict.message and "leg day" in conflict.message
    assert "20m" in conflict.message
    assert conflict.hint == "shorten 'Zone 2 ride' to an easy 20m, or move it to Tuesday 17:00"


def test_hypertrophy_ride_max_param_allows_a_longer_spin() -> None:
    schedule = run(
        "  mon: [legs 10:00, z2 17:00]\n",
        goal="hypertrophy",
        rules="  hypertrophy-ride: {max: 1h}\n",
    )
    assert of(schedule, "hypertrophy-ride") == []


def test_hypertrophy_ride_is_off_unless_the_goal_is_hypertrophy() -> None:
    for goal in ("balanced", "endurance"):
        schedule = run("  mon: [legs 10:00, z2 17:00]\n", goal=goal)
        assert of(schedule, "hypertrophy-ride") == [], goal


def test_hypertrophy_ride_can_be_switched_on_for_another_goal() -> None:
    schedule = run(
        "  mon: [legs 10:00, z2 17:00]\n", goal="balanced", rules="  hypertrophy-ride: warn\n"
    )
    assert [c.level for c in of(schedule, "hypertrophy-ride")] == [Level.WARN]


# --- every conflict is complete -----------------------------------------------------------------------------


def test_every_conflict_names_its_sessions_with_title_and_time() -> None:
    schedule = run("  mon: [z2 07:00, legs 09:00, intervals 10:00]\n", goal="hypertrophy")
    assert {c.rule for c in schedule.conflicts} >= {"order", "gap", "overlap", "max-per-day"}
    for conflict in schedule.conflicts:
        assert conflict.sessions, conflict
        assert conflict.message
        assert conflict.hint
        for occurrence in conflict.sessions:
            assert occurrence.session.title
            assert occurrence.start.tzinfo is not None
