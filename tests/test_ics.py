"""The .ics export: valid for strict parsers, stable across runs, honest about changes."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner
from ical.calendar_stream import IcsCalendarStream

from calsync.cli.main import cli
from calsync.core.expand import expand
from calsync.io.plans import load_plan

pytestmark = pytest.mark.any_date  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").glob("*.yaml"))
WORK = ROOT / "tests" / "data" / "work-calendar.ics"
GOLDEN = ROOT / "tests" / "golden" / "small-plan.ics"
NOW = "2026-11-26T08:00:00Z"

SMALL_PLAN = """\
# A small plan for the golden file: one lift and one ride on Monday.
plan: golden
title: Golden week
timezone: Europe/Brussels
starts: 2026-11-30
reminder: 15
windows:
  evening: "17:00-21:00"
sessions:
  squat: {kind: strength, title: Squat day, duration: 1h, load: hard, focus: legs, location: Gym}
  spin: {kind: ride, title: Easy spin, duration: 45m, load: easy, notes: "Cadence 90+"}
week:
  mon: [squat 09:00, spin evening]
  wed: [spin 07:00]
"""


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def export(plan: Path, out: Path, *extra: str):
    return run("ics", str(plan), "-o", str(out), "--now", NOW, *extra)


def strict_events(path: Path):
    """Events as the independent strict parser (allenporter's `ical`) reads them."""
    return IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8")).events


def vevents(path: Path) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def small_plan(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    return path


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_exports_what_the_plan_says(template: Path, tmp_path: Path) -> None:
    out = tmp_path / "training.ics"
    result = export(template, out, "--from", "2026-11-30", "--weeks", "8")
    assert result.exit_code == 0, result.output
    plan = load_plan(template)
    schedule = expand(plan, date(2026, 11, 30), date(2027, 1, 25))
    expected = {o.uid: (o.start, o.end, o.session.title) for o in schedule.occurrences}
    strict = {e.uid: (e.dtstart, e.dtend, e.summary.split(" ", 1)[1]) for e in strict_events(out)}
    assert strict == expected
    for uid, event in vevents(out).items():
        assert event["DTSTART"].params["TZID"] == plan.timezone
        assert event.decoded("DTSTART") == expected[uid][0]


def test_the_golden_file_is_reproduced_byte_for_byte(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    assert export(small_plan, out, "--from", "2026-11-30", "--weeks", "1").exit_code == 0
    assert out.read_bytes() == GOLDEN.read_bytes()


def test_the_calendar_carries_what_subscribers_need(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30", "--weeks", "1")
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    assert calendar["VERSION"] == "2.0"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["NAME"] == calendar["X-WR-CALNAME"] == "Golden week"
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT12H"
    assert calendar["X-PUBLISHED-TTL"] == "PT12H"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]


def test_an_event_carries_title_notes_alarm_and_categories(
    small_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30", "--weeks", "1")
    spin = vevents(out)["golden-2026-12-02-spin@calsync"]
    assert spin["SUMMARY"] == "🚴 Easy spin"
    assert "Cadence 90+" in spin["DESCRIPTION"]
    assert "Plan week 1" in spin["DESCRIPTION"]
    assert [str(c) for c in spin["CATEGORIES"].cats] == ["ride", "easy"]
    (alarm,) = spin.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-15)
    squat = vevents(out)["golden-2026-11-30-squat@calsync"]
    assert squat["LOCATION"] == "Gym"


def test_conflicts_are_written_into_the_description(small_plan: Path, tmp_path: Path) -> None:
    # Monday's spin lands at 17:00 (after the 4 h gap) but the goal is hypertrophy:
    # a ride on a leg day longer than 20 minutes is worth a warning in the event.
    text = small_plan.read_text().replace("reminder: 15", "reminder: 15\ngoal: hypertrophy")
    small_plan.write_text(text)
    out = tmp_path / "small.ics"
    result = export(small_plan, out, "--from", "2026-11-30", "--weeks", "1")
    assert result.exit_code == 0
    description = str(vevents(out)["golden-2026-11-30-spin@calsync"]["DESCRIPTION"])
    assert description.startswith("⚠ warn hypertrophy-ride:")
    assert "hypertrophy-ride" in result.stderr


def test_wall_clock_times_survive_both_dst_changes(tmp_path: Path) -> None:
    plan = tmp_path / "dst.yaml"
    plan.write_text(
        SMALL_PLAN.replace("starts: 2026-11-30", "starts: 2027-03-22").replace(
            "mon: [squat 09:00, spin evening]", "mon: [squat 10:00]\n  sun: [squat 10:00]"
        )
    )
    out = tmp_path / "dst.ics"
    assert export(plan, out, "--from", "2027-03-22", "--weeks", "34").exit_code == 0
    events = {e.dtstart.date(): e for e in strict_events(out)}
    brussels = ZoneInfo("Europe/Brussels")
    for day in (date(2027, 3, 22), date(2027, 3, 28), date(2027, 10, 25), date(2027, 10, 31)):
        start = events[day].dtstart
        assert (start.hour, start.minute) == (10, 0)
    assert events[date(2027, 3, 22)].dtstart.utcoffset() == timedelta(hours=1)
    assert events[date(2027, 3, 28)].dtstart.utcoffset() == timedelta(hours=2)
    assert events[date(2027, 10, 25)].dtstart.utcoffset() == timedelta(hours=2)
    assert events[date(2027, 10, 31)].dtstart.utcoffset() == timedelta(hours=1)
    assert events[date(2027, 3, 28)].dtstart == datetime(2027, 3, 28, 10, tzinfo=brussels)


def test_regenerating_an_unchanged_plan_changes_no_byte(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30", "--weeks", "2")
    first = out.read_bytes()
    run(
        "ics",
        str(small_plan),
        "-o",
        str(out),
        "--from",
        "2026-11-30",
        "--weeks",
        "2",
        "--now",
        "2027-01-01",
    )
    assert out.read_bytes() == first


def test_source_date_epoch_sets_the_stamp(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    run(
        "ics",
        str(small_plan),
        "-o",
        str(out),
        "--from",
        "2026-11-30",
        env={"SOURCE_DATE_EPOCH": "1780000000"},
    )
    stamps = {e.decoded("DTSTAMP") for e in vevents(out).values()}
    assert stamps == {datetime.fromtimestamp(1780000000, ZoneInfo("UTC"))}


def test_changing_one_session_changes_only_its_event(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30", "--weeks", "2")
    before = vevents(out)
    small_plan.write_text(small_plan.read_text() + "exceptions:\n  2026-12-09: [spin 07:30]\n")
    run(
        "ics",
        str(small_plan),
        "-o",
        str(out),
        "--from",
        "2026-11-30",
        "--weeks",
        "2",
        "--now",
        "2026-11-27T08:00:00Z",
    )
    after = vevents(out)
    assert after.keys() == before.keys()
    changed = {uid for uid in after if after[uid].to_ical() != before[uid].to_ical()}
    assert changed == {"golden-2026-12-09-spin@calsync"}
    moved = after["golden-2026-12-09-spin@calsync"]
    assert moved["SEQUENCE"] == before["golden-2026-12-09-spin@calsync"]["SEQUENCE"] + 1
    assert moved.decoded("DTSTAMP") == datetime(2026, 11, 27, 8, tzinfo=ZoneInfo("UTC"))
    assert moved.decoded("DTSTART").hour == 7


def test_past_sessions_stay_in_the_file_when_the_range_moves_on(
    small_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30", "--weeks", "1")
    first_week = vevents(out)
    export(small_plan, out, "--from", "2026-12-07", "--weeks", "1")
    both = vevents(out)
    assert set(first_week) < set(both)
    assert all(both[uid].to_ical() == first_week[uid].to_ical() for uid in first_week)


def test_dash_writes_the_calendar_to_stdout(small_plan: Path) -> None:
    result = run("ics", str(small_plan), "-o", "-", "--from", "2026-11-30", "--now", NOW)
    assert result.exit_code == 0
    assert result.stdout.startswith("BEGIN:VCALENDAR")
    assert IcsCalendarStream.calendar_from_ics(result.stdout).events


def test_a_file_calsync_did_not_write_is_not_overwritten(small_plan: Path, tmp_path: Path) -> None:
    precious = tmp_path / "work.ics"
    shutil.copy(WORK, precious)
    result = export(small_plan, precious)
    assert result.exit_code == 2
    assert "not written by calsync" in result.stderr
    assert precious.read_bytes() == WORK.read_bytes()


def test_no_temporary_file_is_left_behind(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.ics"
    export(small_plan, out, "--from", "2026-11-30")
    assert {p.name for p in tmp_path.iterdir()} == {"small.yaml", "small.ics"}


def test_error_conflicts_exit_3_after_the_file_is_written(tmp_path: Path) -> None:
    plan = tmp_path / "clash.yaml"
    plan.write_text(SMALL_PLAN.replace("spin evening", "spin 11:00"))
    out = tmp_path / "clash.ics"
    result = export(plan, out, "--from", "2026-11-30", "--weeks", "1")
    assert result.exit_code == 3
    assert "gap" in result.stderr
    assert "golden-2026-11-30-spin@calsync" in vevents(out)


# --- busy time from a real-world calendar export -----------------------------------------

BUSY_PLAN = """\
plan: busy-weeks
timezone: Europe/Brussels
starts: 2026-11-16
windows:
  morning: "08:00-12:00"
  evening: "17:30-22:00"
sessions:
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
  legs: {kind: strength, title: Legs, duration: 1h, load: hard, focus: legs}
week:
  tue: [z2 evening]
  wed: [z2 morning]
  thu: [z2 evening]
  fri: [legs 10:00]
"""


def placed(path: Path, *extra: str) -> dict[date, str]:
    result = run("plan", str(path), "--json", "--from", "2026-11-16", "--weeks", "7", *extra)
    import json

    return {
        date.fromisoformat(s["date"]): s["start"][11:16]
        for s in json.loads(result.stdout)["sessions"]
    }


@pytest.fixture
def busy_plan(tmp_path: Path) -> Path:
    path = tmp_path / "busy.yaml"
    path.write_text(BUSY_PLAN)
    return path


def test_windowed_sessions_move_around_a_recurring_meeting(busy_plan: Path) -> None:
    free, busy = placed(busy_plan), placed(busy_plan, "--busy", str(WORK))
    assert free[date(2026, 11, 24)] == "17:30"
    assert busy[date(2026, 11, 24)] == "18:30"  # after the Tuesday standup
    assert busy[date(2026, 11, 26)] == "18:30"  # and the Thursday one


def test_a_moved_instance_frees_its_old_slot_and_takes_its_new_one(busy_plan: Path) -> None:
    busy = placed(busy_plan, "--busy", str(WORK))
    assert busy[date(2026, 11, 17)] == "17:30"  # the standup moved away from this Tuesday
    assert busy[date(2026, 11, 18)] == "09:30"  # ...to Wednesday 08:30-09:30
    assert busy[date(2026, 11, 25)] == "08:00"


def test_cancelled_instances_leave_the_evening_free(busy_plan: Path) -> None:
    busy = placed(busy_plan, "--busy", str(WORK))
    assert busy[date(2026, 12, 24)] == "17:30"  # EXDATE
    assert busy[date(2026, 12, 31)] == "17:30"  # cancelled override


def test_a_meeting_in_another_zone_or_in_utc_is_busy_at_the_right_time(busy_plan: Path) -> None:
    # Vendor demo: 13:00Z is 14:00 in Brussels; the window opens at 13:30 but the demo holds 14:00-15:00.
    text = busy_plan.read_text().replace('"08:00-12:00"', '"13:30-16:30"')
    busy_plan.write_text(text.replace("thu: [z2 evening]", "thu: [z2 morning]"))
    busy = placed(busy_plan, "--busy", str(WORK))
    assert busy[date(2026, 12, 3)] == "15:00"
    assert busy[date(2026, 12, 10)] == "13:30"


def test_a_fixed_session_during_an_all_day_event_is_an_overlap_naming_it(busy_plan: Path) -> None:
    result = run(
        "check", str(busy_plan), "--from", "2026-12-07", "--weeks", "1", "--busy", str(WORK)
    )
    assert result.exit_code == 3
    assert "overlap" in result.stdout
    assert "'Company offsite' (all day)" in result.stdout  # not (00:00-00:00)


def test_a_windowed_session_with_no_free_time_is_unplaced(tmp_path: Path, busy_plan: Path) -> None:
    busy_plan.write_text(busy_plan.read_text().replace("fri: [legs 10:00]", "fri: [z2 morning]"))
    result = run(
        "check",
        str(busy_plan),
        "--json",
        "--from",
        "2026-12-07",
        "--weeks",
        "1",
        "--busy",
        str(WORK),
    )
    import json

    rules = {(c["rule"], c["date"]) for c in json.loads(result.stdout)["conflicts"]}
    assert ("unplaced", "2026-12-11") in rules
    assert result.exit_code == 3


def test_a_busy_file_that_is_not_icalendar_is_bad_input_and_nothing_is_written(
    small_plan: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ics"
    broken.write_text("BEGIN:VEVENT\nSUMMARY:no calendar around it\nEND:VEVENT\n")
    out = tmp_path / "out.ics"
    result = export(small_plan, out, "--busy", str(broken))
    assert result.exit_code == 2
    assert str(broken) in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
