"""`fit: {every-week: true}`: each week arranged around its busy time (calsync/core/fit/weekly.py,
calsync/core/fit/moves.py), without any server. The syncs are in tests/test_every_week_sync.py.

The plan is the shipped rider-fit template (whose `week:` is its best fit) with the
setting turned on; every date is pinned.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.cli.main import cli
from calsync.cli.weekly import present_of_ics
from calsync.core.expand import expand
from calsync.core.fit.moves import arranged_schedule, week_moves
from calsync.core.fit.weekly import Present, arrange_weeks, usual_week
from calsync.core.model import Busy, Level, Plan, Schedule
from calsync.io.plans import load_plan
from calsync.targets.ics import parse_previous, scan_previous
from tests.plan_texts import RIDER, every_week_text

TEMPLATE = RIDER
FIRST = date(2026, 12, 7)  # plan week 2 of rider-fit


def load_every_week() -> Plan:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rider.yaml"
        path.write_text(every_week_text(), encoding="utf-8")
        loaded = load_plan(path)
    assert loaded.fit is not None and loaded.fit.every_week
    return loaded


PLAN = load_every_week()


@pytest.fixture
def plan() -> Plan:
    return PLAN


def at(plan: Plan, day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=plan.zone)


def busy(plan: Plan, day: date, start: str, end: str, title: str) -> Busy:
    return Busy(at(plan, day, start), at(plan, day, end), title)


def arrange(
    plan: Plan,
    first: date,
    weeks: int,
    meetings: tuple[Busy, ...] = (),
    present: list[Present] | None = None,
) -> Schedule:
    return arranged_schedule(
        plan, first, first + timedelta(weeks=weeks), meetings, present, plan.midnight(first)
    )


def slots(schedule: Schedule) -> dict[str, datetime]:
    return {o.key: o.start for o in schedule.occurrences}


def present_of(schedule: Schedule) -> list[Present]:
    return [Present(o.key, o.session.name, o.start) for o in schedule.occurrences]


# --- the setting --------------------------------------------------------------------


def test_every_week_is_read_from_the_fit_block(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(every_week_text().replace("every-week: true", "every-week: sometimes"))

    result = CliRunner().invoke(cli, ["validate", str(path)])

    assert result.exit_code == 2
    line = every_week_text().splitlines().index("  every-week: true") + 1
    assert f"plan.yaml:{line}: fit.every-week: 'sometimes' is not true or false" in result.output
    assert "Traceback" not in result.output


BOARD_DINNER = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//work//EN\r\nBEGIN:VEVENT\r\n"
    "UID:board-dinner@work\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Europe/Brussels:20261209T190000\r\n"
    "DTEND;TZID=Europe/Brussels:20261209T220000\r\n"
    "SUMMARY:Board dinner\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize("every_week", [False, True])
def test_the_setting_decides_between_an_overlap_and_a_move(
    tmp_path: Path, every_week: bool
) -> None:
    text = every_week_text()
    path = tmp_path / "plan.yaml"
    path.write_text(text if every_week else text.replace("  every-week: true\n", ""))
    work = tmp_path / "work.ics"
    work.write_text(BOARD_DINNER, encoding="utf-8")

    result = CliRunner().invoke(
        cli, ["check", str(path), "--from", FIRST.isoformat(), "--weeks", "1", "--busy", str(work)]
    )

    if every_week:
        assert result.exit_code == 0, result.output
        assert "moved            Zone 2 ride moved from Wed 20:00 to " in result.output
        assert "overlap" not in result.output
    else:
        assert result.exit_code == 3, result.output
        assert "overlap" in result.output and "moved" not in result.output


# --- the usual week -----------------------------------------------------------------


@settings(max_examples=6, deadline=None)
@given(first=st.integers(1, 11), weeks=st.integers(1, 3))
def test_with_no_busy_time_every_week_is_the_usual_week(first: int, weeks: int) -> None:
    """rider-fit's `week:` is its best fit (with its Sunday before its Monday): with
    nothing in the way, the arrangement is the plan as written, key for key, build and
    deload weeks alike."""
    monday = PLAN.starts + timedelta(weeks=first)
    end = monday + timedelta(weeks=weeks)
    arranged = arranged_schedule(PLAN, monday, end, (), None, PLAN.midnight(monday))
    written = expand(PLAN, monday, end)

    assert slots(arranged) == slots(written)
    assert not [c for c in arranged.conflicts if c.rule in ("moved", "dropped", "unfit")]


def test_the_first_week_has_its_own_usual_week() -> None:
    """Nothing stands before the plan's first Monday, so its best week may differ from
    `week:` (here it has no warning at all); that is its usual week, and it is kept."""
    assert PLAN.fit is not None
    usual = usual_week(PLAN, PLAN.fit, PLAN.starts)
    weeks = arrange_weeks(
        PLAN, PLAN.starts, PLAN.starts + timedelta(weeks=1), (), None, PLAN.midnight(PLAN.starts)
    )
    assert usual is not None and weeks[0].days == usual
    assert weeks[0].week is not None and weeks[0].week.score.warnings == 0


# --- moving around busy time --------------------------------------------------------


def test_a_board_dinner_moves_the_wednesday_ride_and_says_why(plan: Plan) -> None:
    dinner = busy(plan, FIRST + timedelta(days=2), "19:00", "22:00", "Board dinner")

    schedule = arrange(plan, FIRST, 1, (dinner,))

    assert not [c for c in schedule.conflicts if c.level is Level.ERROR]
    assert all(
        not (o.start_utc < dinner.end and dinner.start < o.end_utc) for o in schedule.occurrences
    )
    moved = [c for c in schedule.conflicts if c.rule == "moved"]
    messages = [c.message for c in moved]
    assert any(
        m.startswith("Zone 2 ride moved from Wed 20:00 to ")
        and m.endswith(": 'Board dinner' 19:00-22:00 on Wed")
        for m in messages
    ), messages
    # One conflict per session away from its usual slot, on that session.
    usual = slots(expand(plan, FIRST, FIRST + timedelta(weeks=1)))
    away = {k for k, start in slots(schedule).items() if usual.get(k) != start}
    assert {c.sessions[0].key for c in moved} == away
    assert set(slots(schedule)) == set(usual)  # a moved session keeps its key


@settings(max_examples=8, deadline=None)
@given(
    day=st.integers(0, 6),
    hour=st.sampled_from(["07:00", "09:30", "12:00", "18:30", "19:00", "20:30"]),
    hours=st.integers(1, 4),
)
def test_a_rerun_with_the_present_arrangement_returns_it(day: int, hour: str, hours: int) -> None:
    plan = PLAN
    start = at(plan, FIRST + timedelta(days=day), hour)
    meeting = Busy(start, start + timedelta(hours=hours), "Offsite")
    first = arrange(plan, FIRST, 2, (meeting,))

    again = arrange(plan, FIRST, 2, (meeting,), present_of(first))

    assert slots(again) == slots(first)
    assert again.conflicts == first.conflicts  # the same words in the same events


def test_the_meeting_gone_the_week_returns_to_the_usual_week(plan: Plan) -> None:
    dinner = busy(plan, FIRST + timedelta(days=2), "19:00", "22:00", "Board dinner")
    moved = arrange(plan, FIRST, 1, (dinner,))

    back = arrange(plan, FIRST, 1, (), present_of(moved))

    assert slots(back) == slots(expand(plan, FIRST, FIRST + timedelta(weeks=1)))
    assert not [c for c in back.conflicts if c.rule == "moved"]


def test_a_session_its_owner_edited_stays_where_they_put_it(plan: Plan) -> None:
    usual = expand(plan, FIRST, FIRST + timedelta(weeks=1))
    intervals = next(o for o in usual.occurrences if o.key.endswith("2026-12-08/intervals"))
    by_hand = intervals.start.replace(hour=18)
    present = [
        Present(o.key, o.session.name, by_hand if o is intervals else o.start, o is intervals)
        for o in usual.occurrences
    ]
    dinner = busy(plan, FIRST + timedelta(days=2), "19:00", "22:00", "Board dinner")

    schedule = arrange(plan, FIRST, 1, (dinner,), present)

    assert slots(schedule)[intervals.key] == by_hand
    assert not [c for c in schedule.conflicts if c.rule == "moved" and intervals.key in c.keys]


def test_nothing_that_began_before_now_moves(plan: Plan) -> None:
    usual = expand(plan, FIRST, FIRST + timedelta(weeks=1))
    present = [Present(o.key, o.session.name, o.start) for o in usual.occurrences]
    # Wednesday 12:00: Monday, Tuesday and Wednesday morning are lived; the dinner is tonight.
    now = at(plan, FIRST + timedelta(days=2), "12:00")
    dinner = busy(plan, FIRST + timedelta(days=2), "19:00", "22:00", "Board dinner")
    end = FIRST + timedelta(weeks=1)

    schedule = arranged_schedule(plan, FIRST, end, (dinner,), present, now)

    before = {k: s for k, s in slots(usual).items() if s < now}
    assert before and all(slots(schedule)[k] == s for k, s in before.items())
    assert not [c for c in schedule.conflicts if c.level is Level.ERROR]


def test_a_week_too_busy_for_the_wants_is_reported_and_left_as_it_was(plan: Plan) -> None:
    # A conference every weekday of the second week: five strength sessions and no room.
    second = FIRST + timedelta(weeks=1)
    conference = tuple(
        busy(plan, second + timedelta(days=d), "07:00", "23:00", "Conference") for d in range(5)
    )
    usual = arrange(plan, FIRST, 3)

    schedule = arrange(plan, FIRST, 3, conference, present_of(usual))

    unfit = [c for c in schedule.conflicts if c.rule == "unfit"]
    assert [c.level for c in unfit] == [Level.ERROR]
    assert unfit[0].message.startswith("no arrangement of the week of Mon 14 Dec 2026 fits")
    assert "no slot for" in unfit[0].message and "left as it was" in unfit[0].message
    assert slots(schedule) == slots(usual)  # nothing else disturbed, that week included


def test_week_moves_pairs_sessions_in_time_order(plan: Plan) -> None:
    weeks = arrange_weeks(plan, FIRST, FIRST + timedelta(weeks=1), (), None, plan.midnight(FIRST))
    usual = weeks[0].days
    assert week_moves(usual, usual) == ([], {})
    shifted = (usual[0], usual[1], (), *usual[3:])  # Wednesday emptied
    moves, dropped = week_moves(shifted, usual)
    assert moves == []
    assert dropped == {"core": 1, "z2": 1}


# --- the .ics file ------------------------------------------------------------------


def test_ics_reruns_give_the_same_bytes_and_keep_the_previous_arrangement(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(every_week_text(), encoding="utf-8")
    work = tmp_path / "work.ics"
    work.write_text(BOARD_DINNER, encoding="utf-8")
    out = tmp_path / "training.ics"
    command = ["ics", str(path), "--from", FIRST.isoformat(), "--now", f"{FIRST}T05:00"]
    command += ["-o", str(out), "--busy", str(work)]

    first = CliRunner().invoke(cli, command)
    written = out.read_bytes()
    again = CliRunner().invoke(cli, command)

    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert out.read_bytes() == written
    assert "0 created, 0 updated, 36 unchanged" in again.output
    assert b"Zone 2 ride moved from Wed 20:00 to" in written.replace(b"\r\n ", b"")


def write_ics(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """The plan, the .ics file written for two weeks from FIRST, and the command."""
    path = tmp_path / "plan.yaml"
    path.write_text(every_week_text(), encoding="utf-8")
    out = tmp_path / "training.ics"
    command = ["ics", str(path), "--from", FIRST.isoformat(), "--weeks", "2"]
    command += ["--now", f"{FIRST}T05:00", "-o", str(out)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return path, out, command


def test_the_previous_files_sessions_are_read_by_the_ics_targets_own_reader(
    tmp_path: Path,
) -> None:
    plan_path, out, _ = write_ics(tmp_path)
    plan = load_plan(plan_path)
    written = expand(plan, FIRST, FIRST + timedelta(weeks=2))
    expected = [Present(o.key, o.session.name, o.start) for o in written.occurrences]
    data = out.read_bytes()

    read = present_of_ics(plan, out)

    assert read == expected and len(read) == 18
    assert all(p.start.tzinfo == plan.zone for p in read)  # the zone its DTSTART names
    first = plan.midnight(FIRST)
    # The line scanner read it, and says what icalendar says.
    scanned = scan_previous(data, plan.id, first)
    assert scanned is not None and scanned == parse_previous(data, plan.id, first, "x")
    # A file in another form (LF line ends) goes through icalendar: the same sessions.
    out.write_bytes(data.replace(b"\r\n", b"\n"))
    assert present_of_ics(plan, out) == expected


@pytest.mark.parametrize(
    "damage, message",
    [
        ((b"SEQUENCE:0\r\n", b"SEQUENCE:abc\r\n"), "SEQUENCE 'abc' is not a whole number"),
        ((b"PRODID:-//calsync//", b"PRODID:-//phone//"), "was not written by calsync"),
        ((b"BEGIN:VCALENDAR", b"not a calendar"), "is not an iCalendar file"),
    ],
)
def test_a_damaged_or_foreign_previous_file_is_refused_and_left_as_it_is(
    tmp_path: Path, damage: tuple[bytes, bytes], message: str
) -> None:
    plan_path, out, command = write_ics(tmp_path)
    out.write_bytes(out.read_bytes().replace(*damage, 1))
    before = out.read_bytes()

    result = CliRunner().invoke(cli, command)

    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert out.read_bytes() == before
    assert present_of_ics(load_plan(plan_path), out) == []
