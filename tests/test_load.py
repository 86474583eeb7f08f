"""The weekly training load, with every number worked out by hand in the comments."""

from __future__ import annotations

import json
import math
import statistics
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from calsync.cli.main import cli
from calsync.core.expand import expand
from calsync.core.load import monotony, session_load, weekly_load
from calsync.core.loader import parse_plan
from calsync.core.model import Kind
from calsync.io.plans import load_plan

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
MON = date(2026, 11, 30)

# Everything moderate (RPE 5), so each day's load is 5 x its minutes:
# Mon, Wed, Fri 60m of lifting = 300; Tue, Thu, Sat a 20m spin = 100; Sun a 40m ride = 200.
WAVE = """\
plan: wave
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  gym:    {kind: strength, title: Full body, duration: 1h, load: moderate, focus: full}
  spin:   {kind: ride, title: Spin, duration: 20m, load: moderate}
  ride40: {kind: ride, title: Tempo-ish ride, duration: 40m, load: moderate}
week:
  mon: [gym 07:00]
  tue: [spin 18:00]
  wed: [gym 07:00]
  thu: [spin 18:00]
  fri: [gym 07:00]
  sat: [spin 10:00]
  sun: [ride40 10:00]
"""


def calsync(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_session_load_is_rpe_times_minutes() -> None:
    plan = parse_plan(
        WAVE.replace("load: moderate, focus: full", "load: hard, focus: full, rpe: 7.5"), "w.yaml"
    )
    library = {s.name: s for s in plan.sessions}
    assert session_load(library["gym"]) == 7.5 * 60  # its own RPE wins over hard's 8
    assert session_load(library["spin"]) == 5 * 20  # moderate: RPE 5


def test_a_day_can_override_the_rpe_of_its_session() -> None:
    plan = parse_plan(
        WAVE.replace("sun: [ride40 10:00]", "sun: [{session: ride40, at: '10:00', rpe: 9}]")
    )
    (week,) = weekly_load(
        expand(plan, MON, MON + timedelta(7)).occurrences, MON, MON + timedelta(7), MON
    )
    assert week.daily[6] == 9 * 40


def test_a_wave_week_by_hand() -> None:
    plan = parse_plan(WAVE, "wave.yaml")
    schedule = expand(plan, MON, MON + timedelta(7))
    (week,) = weekly_load(schedule.occurrences, MON, MON + timedelta(7), MON)
    assert week.daily == (300, 100, 300, 100, 300, 100, 200)
    assert week.load == 1400
    # mean 200; six days are 100 away from it and Sunday 0 away, so the population
    # standard deviation is sqrt(6 * 100^2 / 7) = 92.58 and monotony 200 / 92.58 = 2.160.
    assert math.isclose(week.monotony, 200 / math.sqrt(6 * 100**2 / 7))
    assert round(week.monotony, 3) == 2.160
    assert round(week.strain) == 3024  # 1400 x 2.160
    assert week.minutes_by_kind == ((Kind.STRENGTH, 180), (Kind.RIDE, 100))
    assert (week.hard_days, week.double_days, week.rest_days) == (0, 0, 0)
    assert week.closest_gap is None
    assert week.change is None  # nothing before it in the range


def test_monotony_has_no_value_when_every_day_is_the_same() -> None:
    assert monotony([420.0] * 7) is None  # no spread: unbounded
    assert monotony([0.0] * 7) is None  # no load at all


def test_the_template_build_week_by_hand() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, MON, MON + timedelta(weeks=4))
    weeks = weekly_load(schedule.occurrences, schedule.start, schedule.end, plan.starts)
    build = weeks[0]
    # Mon legs 75m hard 8x75 = 600; Tue core 30m easy 3x30 + z2 1h easy 3x60 = 270;
    # Wed intervals 1h hard 480; Thu upper 1h moderate 300 + z2 180 = 480;
    # Fri legs 600 + z2 180 = 780; Sat rest; Sun upper 300 + intervals 480 = 780.
    assert build.daily == (600, 270, 480, 480, 780, 0, 780)
    assert build.load == 3390
    assert round(build.monotony, 2) == 1.87  # 484.29 / 258.68
    assert round(build.strain) == 6344
    assert (build.hard_days, build.double_days, build.rest_days) == (4, 4, 1)
    # Friday: legs end 11:15, the ride is placed at 17:00 (the evening window opens)
    assert build.closest_gap == timedelta(hours=5, minutes=45)
    assert build.minutes_by_kind == ((Kind.STRENGTH, 300), (Kind.RIDE, 300))


def test_the_deload_week_drops_by_half_by_hand() -> None:
    plan = load_plan(TEMPLATE)
    schedule = expand(plan, MON, MON + timedelta(weeks=5))
    weeks = weekly_load(schedule.occurrences, schedule.start, schedule.end, plan.starts)
    assert [w.phase for w in weeks] == ["build", "build", "build", "deload", "build"]
    deload = weeks[3]
    # Strength x0.6, rides x0.8, rounded to 5 minutes; 24 Dec is a lone z2, 25 Dec rest:
    # Mon legs 45m 360; Tue core 20m 60 + z2 50m 150; Wed intervals 50m 400;
    # Thu 24 Dec z2 50m 150; Fri, Sat rest; Sun upper 35m 175 + intervals 400.
    assert deload.daily == (360, 210, 400, 150, 0, 0, 575)
    assert deload.load == 1695
    assert deload.change == -0.5  # 1695 against 3390
    assert weeks[1].change == 0 and weeks[4].change == 1.0


def test_show_ends_each_week_with_two_load_lines() -> None:
    result = calsync("show", TEMPLATE, "--from", "2026-11-30", "--weeks", "4")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    first = blocks[0].splitlines()
    assert first[-2] == (
        "  Load  10h: strength 5h, ride 5h; 4 hard days, 4 double days "
        "(closest 5h45m apart), 1 rest day"
    )
    assert first[-1] == "        3,390 AU, monotony 1.87, strain 6,344"
    second = blocks[1].splitlines()
    assert second[-1].endswith("; same as the week before")
    deload = blocks[3].splitlines()
    assert deload[0].startswith("Week 4 (deload)")
    assert deload[-2].startswith("  Load  5h: strength 1h40m, ride 3h20m; 3 hard days")
    assert deload[-1] == "        1,695 AU, monotony 1.22, strain 2,066; -50% on the week before"


def test_a_week_cut_by_the_range_has_no_monotony() -> None:
    result = calsync("show", TEMPLATE, "--from", "2026-12-02", "--weeks", "1")
    first = result.stdout.split("\n\n")[0].splitlines()
    assert "part week (5 of 7 days): no monotony" in first[-1]


def test_check_and_validate_end_with_the_weekly_trend() -> None:
    for args in (["check", TEMPLATE, "--from", "2026-11-30"], ["validate", TEMPLATE]):
        lines = calsync(*args).stdout.splitlines()
        table = lines[lines.index(next(x for x in lines if x.startswith("Load by week"))) :]
        assert "easy = RPE 3, moderate = RPE 5, hard = RPE 8" in table[0]
        rows = [row.split() for row in table[2:6]]
        assert [r[:2] for r in rows] == [
            ["1", "build"],
            ["2", "build"],
            ["3", "build"],
            ["4", "deload"],
        ]
        assert [r[6] for r in rows] == ["3,390", "3,390", "3,390", "1,695"]
        assert rows[3][9] == "-50%"
        assert len(rows[3][10]) == len(rows[0][10]) // 2  # the bar halves with the load


def test_the_json_has_the_same_numbers_as_the_text() -> None:
    doc = json.loads(calsync("check", TEMPLATE, "--from", "2026-11-30", "--json").stdout)
    load = doc["load"]
    assert load["rpe"] == {"easy": 3, "moderate": 5, "hard": 8}
    first, deload = load["weeks"][0], load["weeks"][3]
    assert first == {
        "week": 1,
        "phase": "build",
        "from": "2026-11-30",
        "days": 7,
        "minutes": {"strength": 300, "ride": 300},
        "sessions": 10,
        "hard_days": 4,
        "double_days": 4,
        "closest_gap_minutes": 345,
        "rest_days": 1,
        "daily_load": [600, 270, 480, 480, 780, 0, 780],
        "load": 3390,
        "monotony": 1.87,
        "strain": 6344,
        "change": None,
    }
    assert (deload["phase"], deload["load"], deload["change"]) == ("deload", 1695, -0.5)


def test_plan_json_gives_each_session_its_focus_groups_and_rpe() -> None:
    doc = json.loads(
        calsync("plan", TEMPLATE, "--from", "2026-11-30", "--weeks", "1", "--json").stdout
    )
    legs = doc["sessions"][0]
    assert (legs["focus"], legs["focus_groups"], legs["rpe"]) == ("legs", ["legs"], 8)
    core = doc["sessions"][1]
    assert (core["focus"], core["focus_groups"], core["rpe"]) == (None, [], 3)


# --- the plan file: focus lists and rpe ----------------------------------------------------------


def test_focus_may_be_one_group_or_a_list(write_plan) -> None:
    plan = load_plan(
        write_plan(
            WAVE.replace("focus: full", "focus: [Upper, core]").replace(
                "spin:   {kind: ride, title: Spin, duration: 20m, load: moderate}",
                "spin:   {kind: ride, title: Spin, duration: 20m, load: moderate, focus: legs}",
            )
        )
    )
    library = {s.name: s for s in plan.sessions}
    assert library["gym"].focus == ("upper", "core")
    assert library["gym"].focus_text == "upper, core"
    assert library["spin"].focus == ("legs",)


def test_a_focus_or_rpe_that_is_not_known_names_the_line(write_plan) -> None:
    text = WAVE.replace("focus: full", "focus: [legs, arms], rpe: 11").replace(
        "mon: [gym 07:00]", "mon: [{session: gym, at: '07:00', rpe: easy}]"
    )
    path = write_plan(text)
    result = calsync("validate", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:5: sessions.gym.focus: unknown value 'arms' "
        "(expected one of: legs, upper, core, full)",
        f"{path}:5: sessions.gym.rpe: '11' is not a session RPE "
        "(expected a number from 1 to 10, e.g. 3 or 7.5)",
        f"{path}:9: week.mon[0].rpe: 'easy' is not a session RPE "
        "(expected a number from 1 to 10, e.g. 3 or 7.5)",
    ]


def test_validate_says_how_much_lighter_the_deload_week_is() -> None:
    lines = calsync("validate", TEMPLATE).stdout.splitlines()
    # The deload week of the plan as written (no exceptions): strength x0.6, rides x0.8
    # is 2,380 AU against 3,390 in a build week, 30% lighter.
    assert lines[-1] == (
        "Deload: week 4 (deload) 30% lighter than the heaviest week of the 4-week cycle; "
        "at most 3 heavy weeks in a row (the deload rule allows 8)"
    )


def test_validate_of_a_plan_without_a_cycle_says_there_is_no_deload(write_plan) -> None:
    lines = calsync("validate", write_plan(WAVE)).stdout.splitlines()
    assert lines[-1] == (
        "Deload: none: the plan has no cycle, so every week carries the same load; "
        "the deload rule warns from week 9"
    )


@given(st.lists(st.floats(0, 2000, allow_nan=False), min_size=7, max_size=7))
def test_monotony_is_the_mean_over_the_population_standard_deviation(daily: list[float]) -> None:
    spread = statistics.pstdev(daily)
    found = monotony(daily)
    if spread > 1e-6:
        assert found is not None
        assert math.isclose(found, statistics.fmean(daily) / spread, rel_tol=1e-9)
        # a week twice as long in every session is just as monotonous
        assert math.isclose(monotony([2 * d for d in daily]), found, rel_tol=1e-9)


def test_show_ends_with_the_trend_and_the_deload_weeks_drop() -> None:
    lines = calsync("show", TEMPLATE, "--from", "2026-11-30", "--weeks", "8").stdout.splitlines()
    # Week 4 also holds the Christmas exceptions (-50%); week 8 is the deload as written
    # (-30%: 2,380 against 3,390).
    assert lines[-1] == (
        "Load by week (AU): 3,390 → 3,390 → 3,390 → 1,695 (deload, -50%) → "
        "3,390 → 3,390 → 3,390 → 2,380 (deload, -30%)"
    )
