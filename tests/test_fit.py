"""`calsync fit`: the rider's question from issue 14 and calsync's answer, end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result

from calsync.cli.main import cli
from calsync.core.fit import Problem, best_week, check_against_catalogue
from calsync.core.fit.model import MODELLED, NOT_MODELLED
from calsync.core.loader import parse_plan
from calsync.core.model import Busy, Entry
from calsync.core.rules import CATALOGUE
from calsync.io.plans import load_plan

ROOT = Path(__file__).resolve().parent.parent
RIDER = ROOT / "templates" / "rider-fit.yaml"
WEEK2 = ["--from", "2026-12-07"]  # a week after the plan's first: the week repeats
BRUSSELS = ZoneInfo("Europe/Brussels")


def calsync(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def without_week(text: str) -> str:
    """The rider's plan as first written: wants, no week yet."""
    return re.sub(r"week: .*?\n\n", "", text, count=1, flags=re.S)


# The week the rider would type having read calsync's answer.
HAND_WRITTEN = without_week(RIDER.read_text(encoding="utf-8")).replace(
    "fit:   ",
    "week:\n  mon: [upper 10:00, z2 20:00]\n  tue: [upper 10:00, intervals 20:00]\n"
    "  wed: [core 10:00, z2 20:00]\n  thu: [intervals 20:00]\n  fri: [legs 10:00]\n"
    "  sun: [legs 08:00]\n\nfit:   ",
    1,
)


@pytest.fixture
def rider(tmp_path: Path) -> Path:
    path = tmp_path / "rider.yaml"
    path.write_text(without_week(RIDER.read_text(encoding="utf-8")), encoding="utf-8")
    return path


# --- the rider's question -------------------------------------------------------------------


def test_the_riders_wants_get_a_proven_best_week_with_one_unavoidable_warning(rider: Path) -> None:
    result = calsync("fit", rider, *WEEK2)
    assert result.exit_code == 0, result.output
    assert "Best week (proven optimal): every want met, no error, 1 warning" in result.stdout
    assert "legs 2, upper 2, core 1, intervals 2, z2 2 (of 1 to 6)" in result.stdout
    # Four hard days (two leg days, two interval days) in a repeating six-day week:
    # two of them always meet, whatever the arrangement.
    assert "one Legs: squat, RDL, curls (legs) fewer, 1 instead of 2: hard-then-easy gone" in (
        result.stdout
    )


def test_the_account_says_what_each_extra_zone_2_ride_costs(rider: Path) -> None:
    out = calsync("fit", rider, *WEEK2).stdout
    assert "Zone 2 ride (z2): 2 fit with 1 warning, the fewest possible." in out
    assert "a 3rd would cost 1 more warning (hypertrophy-ride)" in out
    assert "a 4th would cost 2 more warnings (hypertrophy-ride x2)" in out
    assert "a 5th cannot fit unless you give up one of: gap, the rest day on Sat" in out


def test_the_account_says_what_giving_up_each_rule_would_gain(rider: Path) -> None:
    out = calsync("fit", rider, *WEEK2).stdout
    assert "3 fit (1 warning) if you give up the rest day on Sat (fit.pin, rest-days)" in out
    assert (
        "4 fit (1 warning) if a ride/run on a leg day may be longer than 20m or harder than "
        "easy (hypertrophy-ride)" in out
    )
    assert "5 fit (0 warnings) if sessions on one day may be less than 4h apart (gap)" in out


def test_the_json_account_carries_the_week_counts_and_trade_offs(rider: Path) -> None:
    result = calsync("fit", rider, *WEEK2, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    fit = doc["fit"]
    assert fit["status"] == "best"
    assert fit["counts"]["z2"] == {"fit": 2, "min": 1, "max": 6}
    assert fit["week"]["sat"] == []
    assert doc["summary"] == {"sessions": 9, "errors": 0, "warnings": 1}
    (room,) = fit["rooms"]
    relaxed = {r["name"]: r["fit"] for r in room["relaxed"]}
    assert relaxed["sat"] == 3 and relaxed["hypertrophy-ride"] == 4 and relaxed["gap"] == 5


def test_the_shipped_template_holds_the_week_fit_finds(tmp_path: Path) -> None:
    copy = tmp_path / "rider-fit.yaml"
    copy.write_bytes(RIDER.read_bytes())
    result = calsync("fit", copy, *WEEK2, "--write", "--no-trade-offs")
    assert result.exit_code == 0
    assert "the week is already this one; nothing to write" in result.output
    assert copy.read_bytes() == RIDER.read_bytes()


# --- determinism ------------------------------------------------------------------------------


def test_the_same_plan_gives_the_same_bytes_in_separate_processes(rider: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "calsync.cli.main", "fit", str(rider), *WEEK2, "--json"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["fit"]["week"]["mon"]  # a real week, not an empty document


# --- --write ----------------------------------------------------------------------------------


def test_write_puts_the_week_in_and_keeps_every_other_byte(rider: Path) -> None:
    before = rider.read_text(encoding="utf-8")
    result = calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    assert result.exit_code == 0
    assert "+  mon: [upper 10:00, z2 20:00]" in result.stdout  # the diff is shown first
    after = rider.read_text(encoding="utf-8")
    assert without_week(after) == before
    assert "week:                           # made by calsync fit\n" in after


def test_the_written_week_validates_and_exports_like_a_hand_written_one(
    rider: Path, tmp_path: Path
) -> None:
    calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    by_hand = tmp_path / "by-hand.yaml"
    by_hand.write_text(HAND_WRITTEN, encoding="utf-8")
    assert calsync("validate", rider).exit_code == 0
    fitted = load_plan(rider)
    assert fitted.week == load_plan(by_hand).week
    exports = []
    for plan in (rider, by_hand):
        out = tmp_path / f"{plan.stem}.ics"
        result = calsync("ics", plan, "--from", "2026-11-30", "-o", out, "--now", "2026-11-26")
        assert result.exit_code == 0
        exports.append(out.read_bytes())
    assert exports[0] == exports[1]
    assert exports[0].count(b"BEGIN:VEVENT") == 36  # 9 sessions a week for four weeks


def test_the_written_week_syncs_to_google_like_a_hand_written_one(
    rider: Path, tmp_path: Path
) -> None:
    from fakes.fakegoogle import FakeGoogleCalendar
    from tests.google_helpers import calendar_named, desired, managed, matches, sync, write_token

    calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    by_hand = tmp_path / "by-hand.yaml"
    by_hand.write_text(HAND_WRITTEN, encoding="utf-8")
    token = write_token(tmp_path / "token.json")
    # The sync never touches the past: the clock is pinned to before the first week.
    pinned = time_machine.travel(datetime(2026, 11, 26, 8, tzinfo=BRUSSELS), tick=False)
    with pinned, FakeGoogleCalendar() as server:
        result = sync(server, rider, token)
        assert result.exit_code == 0, result.output
        have = managed(server, calendar_named(server, "Training"), plan_id="rider-fit")
    want = desired(by_hand)
    assert sorted(have) == sorted(want) and len(want) == 18  # two weeks of nine sessions
    assert all(matches(have[key], want[key]) for key in want)


def test_write_twice_changes_nothing_the_second_time(rider: Path) -> None:
    calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    once = rider.read_bytes()
    result = calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    assert "nothing to write" in result.output
    assert rider.read_bytes() == once


def test_write_keeps_the_file_mode(rider: Path) -> None:
    rider.chmod(0o640)
    calsync("fit", rider, *WEEK2, "--write", "--no-trade-offs")
    assert rider.stat().st_mode & 0o777 == 0o640


def test_a_plan_laid_out_as_one_flow_mapping_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    text = (
        "{plan: flow, timezone: Europe/Brussels, starts: 2026-11-30, sessions: {z2: {kind: ride, "
        "title: Z2, duration: 1h, load: easy}}, fit: {per-week: {z2: 1}, when: {ride: '20:00'}}}\n"
    )
    path.write_text(text, encoding="utf-8")
    result = calsync("fit", path, *WEEK2, "--write", "--no-trade-offs")
    assert result.exit_code == 2
    assert "cannot write the week back faithfully" in result.output
    assert path.read_text(encoding="utf-8") == text


# --- when nothing fits --------------------------------------------------------------------------


def test_wants_that_cannot_fit_name_the_collision_exit_3_and_write_nothing(rider: Path) -> None:
    text = rider.read_text(encoding="utf-8").replace("    legs: 2\n", "    legs: 4\n")
    rider.write_text(text, encoding="utf-8")
    result = calsync("fit", rider, *WEEK2, "--write")
    assert result.exit_code == 3
    assert "No week meets every want and every rule at level error." in result.stdout
    assert "Any one of these would let a week fit:" in result.stdout
    assert "if Legs: squat, RDL, curls were 3 a week instead of 4" in result.stdout
    assert "Nothing written" in result.stdout
    assert rider.read_text(encoding="utf-8") == text


def test_the_closest_week_is_reported_in_json_too(rider: Path) -> None:
    text = rider.read_text(encoding="utf-8").replace("    core: 1\n", "    core: 3\n")
    rider.write_text(text, encoding="utf-8")
    result = calsync("fit", rider, *WEEK2, "--json")
    assert result.exit_code == 3
    fit = json.loads(result.stdout)["fit"]
    assert fit["status"] == "impossible"
    assert fit["short"] or fit["broken"]
    assert fit["relaxations"]


# --- busy time ----------------------------------------------------------------------------------


def test_busy_time_is_never_overlapped(rider: Path, tmp_path: Path) -> None:
    busy = tmp_path / "work.ics"
    busy.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:standup@test\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART;TZID=Europe/Brussels:20261207T093000\r\n"
        "DTEND;TZID=Europe/Brussels:20261207T110000\r\nSUMMARY:Board meeting\r\n"
        "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    result = calsync("fit", rider, *WEEK2, "--busy", busy, "--json", "--no-trade-offs")
    doc = json.loads(result.stdout)
    # 10:00 is the only strength time on weekdays, and the meeting covers it all week.
    if doc["fit"]["status"] == "best":
        for s in doc["sessions"]:
            start = datetime.fromisoformat(s["start"])
            assert not (start.weekday() < 5 and s["kind"] == "strength")
    assert result.exit_code == 3  # five strength sessions cannot fit in two weekend mornings
    assert "your busy time" in json.dumps(doc["fit"]["relaxations"])


# --- the API for the rolling refresh (issue 19): a fixed day before Monday ----------------------


def test_a_hard_sunday_already_done_keeps_monday_easy() -> None:
    plan = load_plan(RIDER)
    assert plan.fit is not None
    library = {s.name: s for s in plan.sessions}
    monday = date(2026, 12, 7)
    sunday_intervals = ((monday - timedelta(days=1), (Entry(library["intervals"], at=time(20)),)),)
    problem = Problem(plan, plan.fit, monday, fixed=sunday_intervals, wrap=False)
    week = best_week(problem)
    assert week is not None
    schedule = check_against_catalogue(week)
    monday_sessions = [o for o in schedule.occurrences if o.date == monday]
    assert all(o.session.load.value != "hard" for o in monday_sessions)


def test_fitted_days_already_lived_stay_as_they_were() -> None:
    plan = load_plan(RIDER)
    assert plan.fit is not None
    library = {s.name: s for s in plan.sessions}
    monday = date(2026, 12, 7)
    lived = (
        (monday - timedelta(days=1), ()),
        (monday, (Entry(library["legs"], at=time(10)),)),
        (monday + timedelta(days=1), (Entry(library["z2"], at=time(21)),)),
    )
    week = best_week(Problem(plan, plan.fit, monday, fixed=lived, wrap=False))
    assert week is not None
    assert [(e.session.name, e.at) for e in week.entries[0]] == [("legs", time(10))]
    assert [(e.session.name, e.at) for e in week.entries[1]] == [("z2", time(21))]
    assert week.count("legs") == 2  # the lived leg day counts towards the week's two


# --- one definition of each rule -----------------------------------------------------------------


def test_every_rule_in_the_catalogue_is_modelled_or_cannot_arise_in_a_fit() -> None:
    assert {rule.id for rule in CATALOGUE} == set(MODELLED) | set(NOT_MODELLED)


def test_a_busy_interval_met_by_a_pinned_session_is_reported_as_the_catalogue_does() -> None:
    plan = parse_plan(
        "plan: pinned\ntimezone: Europe/Brussels\nstarts: 2026-11-30\n"
        "sessions:\n  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}\n"
        "fit:\n  per-week: {z2: 1}\n  when: {ride: '20:00'}\n  pin: {mon: [z2 18:00]}\n"
        "rules: {overlap: warn}\n",
        "pinned.yaml",
    )
    assert plan.fit is not None
    monday = date(2026, 12, 7)
    start = datetime(2026, 12, 7, 18, 30, tzinfo=BRUSSELS)
    dinner = (Busy(start, start + timedelta(hours=2), "Family dinner"),)
    week = best_week(Problem(plan, plan.fit, monday, dinner))
    assert week is not None
    schedule = check_against_catalogue(week)
    assert [c.rule for c in schedule.conflicts] == ["overlap"]
    assert [c.rule for c in week.claims] == ["overlap"]


# --- usage --------------------------------------------------------------------------------------


def test_a_plan_without_fit_is_a_usage_error() -> None:
    result = calsync("fit", ROOT / "templates" / "hybrid-hypertrophy.yaml", *WEEK2)
    assert result.exit_code == 2
    assert "no fit: block" in result.output


def test_a_week_before_the_plan_starts_is_a_usage_error(rider: Path) -> None:
    result = calsync("fit", rider, "--from", "2026-11-25")
    assert result.exit_code == 2
    assert "the week of 2026-11-23 is before the plan starts (2026-11-30)" in result.output


def test_a_week_written_in_block_style_is_replaced_whole() -> None:
    from calsync.core.fit.write import with_week

    text = (
        "plan: block\ntimezone: Europe/Brussels\nstarts: 2026-11-30\n"
        "sessions:\n  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}\n"
        "week:\n  mon:\n    - z2 20:00\n  tue:\n    - z2 18:00\n\n# the rules, by hand\n"
        "rules:\n  gap: {min: 4h}   # strength first\n"
        "fit:\n  per-week: {z2: 2}\n  when: {ride: '20:00'}\n"
    )
    plan = parse_plan(text, "block.yaml")
    z2 = plan.sessions[0]
    week = ((Entry(z2, at=time(20)),), (), (Entry(z2, at=time(20)),), (), (), (), ())
    new = with_week(text, week, plan.sessions, "block.yaml")
    assert new == (
        "plan: block\ntimezone: Europe/Brussels\nstarts: 2026-11-30\n"
        "sessions:\n  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}\n"
        "week:                           # made by calsync fit\n"
        "  mon: [z2 20:00]\n  tue: rest\n  wed: [z2 20:00]\n  thu: rest\n  fri: rest\n"
        "  sat: rest\n  sun: rest\n\n# the rules, by hand\n"
        "rules:\n  gap: {min: 4h}   # strength first\n"
        "fit:\n  per-week: {z2: 2}\n  when: {ride: '20:00'}\n"
    )
