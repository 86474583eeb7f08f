"""`fit: {every-week: true}` through `calsync refresh`: Google (tests/fakegoogle.py, through
the real client) and CalDAV (a real Radicale), the way a cron job lives with it.

The plan is the shipped rider-fit template with the setting on; the target is the
calendar the meetings are in (`busy` names it), so meetings have titles. Every run
is pinned to Monday 7 December 2026, 04:00 UTC, and covers four weeks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import caldav
import pytest
from click.testing import CliRunner, Result
from icalendar import Calendar

from calsync.cli.main import cli
from calsync.core.expand import expand
from calsync.core.fit.weekly import session_of_key
from calsync.core.model import Busy, Entry, Level, Plan
from calsync.io.plans import load_plan
from fakes.fakegoogle import FakeGoogleCalendar, build_service
from fakes.radicale_server import RadicaleServer
from tests.google_helpers import instant, private, write_token
from tests.plan_texts import every_week_text

PLAN_ID = "rider-fit"
MONDAY = date(2026, 12, 7)
WEEKS = 4
ZONE = "Europe/Brussels"
GOOGLE = """
[[target]]
type = "google"
token = "token.json"
calendar = "primary"
busy = ["primary"]
"""


@dataclass
class Setup:
    folder: Path
    env: dict[str, str]

    @property
    def plan(self) -> Plan:
        return load_plan(self.folder / "plan.yaml")

    def write_config(self, targets: str) -> None:
        text = f'plan = "plan.yaml"\nweeks = {WEEKS}\n{targets}'
        (self.folder / "refresh.toml").write_text(text, encoding="utf-8")

    def refresh(self, *args: str) -> Result:
        command = ["refresh", "--config", str(self.folder / "refresh.toml")]
        command += ["--today", MONDAY.isoformat(), "--now", f"{MONDAY}T04:00:00+00:00", *args]
        return CliRunner().invoke(cli, command, env=self.env)


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as server:
        yield server


@pytest.fixture
def setup(tmp_path: Path, fake: FakeGoogleCalendar) -> Setup:
    (tmp_path / "plan.yaml").write_text(every_week_text(), encoding="utf-8")
    write_token(tmp_path / "token.json")
    env = {"CALSYNC_GOOGLE_ENDPOINT": fake.root_url, "CALSYNC_STATE_DIR": str(tmp_path / "state")}
    found = Setup(tmp_path, env)
    found.write_config(GOOGLE)
    return found


# --- reading the calendar -----------------------------------------------------------


def sessions(fake: FakeGoogleCalendar) -> dict[str, dict[str, Any]]:
    return {
        private(e)["calsyncKey"]: e
        for e in fake.events("primary")
        if private(e).get("calsyncPlan") == PLAN_ID
    }


def starts(fake: FakeGoogleCalendar) -> dict[str, datetime]:
    return {k: instant(e["start"]) for k, e in sessions(fake).items()}


def theirs(fake: FakeGoogleCalendar) -> dict[str, dict[str, Any]]:
    """The owner's own events, with their etags."""
    return {
        e["id"]: e
        for e in fake.events("primary", include_cancelled=True)
        if private(e).get("calsyncPlan") != PLAN_ID
    }


def notes(fake: FakeGoogleCalendar, key: str) -> list[str]:
    """The conflict lines at the top of a session's description."""
    return [line for line in sessions(fake)[key]["description"].splitlines() if line[:1] == "⚠"]


def body(fake: FakeGoogleCalendar, key: str) -> tuple[str, ...]:
    """A session's event without its conflict lines: what the plan says about it."""
    event = sessions(fake)[key]
    lines = [line for line in event["description"].splitlines() if line[:1] != "⚠"]
    return (event["summary"], event["start"]["dateTime"], *[x for x in lines if x])


def meeting(fake: FakeGoogleCalendar, summary: str, day: date, start: str, end: str) -> str:
    body = {
        "summary": summary,
        "start": {"dateTime": f"{day}T{start}:00+01:00", "timeZone": ZONE},
        "end": {"dateTime": f"{day}T{end}:00+01:00", "timeZone": ZONE},
    }
    return str(fake.add_event("primary", body)["id"])


def rule_errors(plan: Plan, held: dict[str, datetime], busy: tuple[Busy, ...]) -> list[str]:
    """The rule catalogue's verdict on what the calendar holds: its sessions as the plan's
    days, judged with the meetings as busy time."""
    library = {s.name: s for s in plan.sessions}
    days: dict[date, list[Entry]] = {}
    for key, start in held.items():
        name = session_of_key(key, library)
        assert name is not None, key
        local = start.astimezone(plan.zone)
        days.setdefault(local.date(), []).append(Entry(library[name], at=local.time()))
    first, end = MONDAY - timedelta(days=1), MONDAY + timedelta(weeks=WEEKS)
    exceptions = {first + timedelta(days=n): () for n in range((end - first).days)}
    exceptions.update({d: tuple(sorted(e, key=lambda x: x.at)) for d, e in days.items()})
    judged = replace(plan, exceptions=tuple(sorted(exceptions.items())))
    schedule = expand(judged, MONDAY, end, busy)
    return [c.message for c in schedule.conflicts if c.level is Level.ERROR]


def board_dinner(plan: Plan) -> Busy:
    day = MONDAY + timedelta(days=2)
    return Busy(
        datetime.combine(day, datetime.min.time().replace(hour=19), plan.zone),
        datetime.combine(day, datetime.min.time().replace(hour=22), plan.zone),
        "Board dinner",
    )


# --- Google -------------------------------------------------------------------------


def test_a_meeting_moves_what_it_must_and_its_removal_brings_the_usual_week_back(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    first = setup.refresh()
    assert first.exit_code == 0, first.output
    usual = starts(fake)
    assert len(usual) == 36  # four weeks of nine sessions

    dinner = meeting(fake, "Board dinner", MONDAY + timedelta(days=2), "19:00", "22:00")
    owners = theirs(fake)
    notes_before = {k: notes(fake, k) for k in usual}
    bodies_before = {k: body(fake, k) for k in usual}
    fake.reset_counters()
    moving = setup.refresh("--json")

    assert moving.exit_code == 0, moving.output
    after = starts(fake)
    moved = {k for k in usual if after[k] != usual[k]}
    assert moved and set(after) == set(usual)  # moved sessions keep their events
    # One update a moved session; and one for a session that stays but whose conflict
    # line names a neighbour that moved (the week's one hard-then-easy warning now
    # falls on Tuesday's intervals); nothing else.
    renoted = {k for k in usual if k not in moved and notes(fake, k) != notes_before[k]}
    assert fake.writes == len(moved) + len(renoted)
    assert all(body(fake, k) == bodies_before[k] for k in renoted)
    report = json.loads(moving.output)
    said = {c["sessions"][0]["key"] for c in report["conflicts"] if c["rule"] == "moved"}
    assert said == moved  # one line per move
    assert not [c for c in report["conflicts"] if c["level"] == "error"]
    assert rule_errors(setup.plan, after, (board_dinner(setup.plan),)) == []
    lines = [line for k in sorted(moved) for line in notes(fake, k) if " moved from " in line]
    assert len(lines) == len(moved) and all(x.startswith("⚠ warn moved: ") for x in lines)
    assert any(
        "Zone 2 ride moved from Wed 20:00 to" in line
        and line.endswith(": 'Board dinner' 19:00-22:00 on Wed")
        for line in lines
    ), lines
    assert theirs(fake) == owners  # the owner's events are only read

    fake.reset_counters()
    again = setup.refresh()
    assert again.exit_code == 0, again.output
    assert fake.writes == 0  # nothing new: nothing written

    build_service(fake).events().delete(calendarId="primary", eventId=dinner).execute()
    fake.reset_counters()
    back = setup.refresh()
    assert back.exit_code == 0, back.output
    assert starts(fake) == usual  # the usual week again
    assert {k: notes(fake, k) for k in usual} == notes_before  # and the same words
    assert fake.writes == len(moved) + len(renoted)

    fake.reset_counters()
    assert setup.refresh().exit_code == 0
    assert fake.writes == 0


def test_without_conflict_lines_writes_are_exactly_the_moves(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    plan = str(setup.folder / "plan.yaml")
    token = str(setup.folder / "token.json")
    command = ["sync", "google", plan, "--token", token, "--calendar", "primary"]
    command += ["--busy", "primary", "--from", MONDAY.isoformat(), "--weeks", str(WEEKS)]
    command += ["--now", f"{MONDAY}T05:00:00", "--no-annotate"]

    def run() -> Result:
        return CliRunner().invoke(cli, command, env=setup.env)

    assert run().exit_code == 0
    usual = starts(fake)
    meeting(fake, "Board dinner", MONDAY + timedelta(days=2), "19:00", "22:00")
    fake.reset_counters()
    moving = run()

    assert moving.exit_code == 0, moving.output
    moved = {k for k, start in starts(fake).items() if start != usual[k]}
    assert moved and fake.writes == len(moved)
    assert moving.output.count(" moved from ") == len(moved)
    fake.reset_counters()
    assert run().exit_code == 0
    assert fake.writes == 0


def test_a_session_its_owner_moved_stays_and_their_events_are_never_touched(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    assert setup.refresh().exit_code == 0
    key = f"{PLAN_ID}/2026-12-08/intervals"  # Tuesday's intervals, moved by hand to 18:00
    event = sessions(fake)[key]
    body = {
        "start": {"dateTime": "2026-12-08T18:00:00+01:00", "timeZone": ZONE},
        "end": {"dateTime": "2026-12-08T19:00:00+01:00", "timeZone": ZONE},
    }
    build_service(fake).events().patch(
        calendarId="primary", eventId=event["id"], body=body
    ).execute()
    edited = sessions(fake)[key]
    meeting(fake, "Board dinner", MONDAY + timedelta(days=2), "19:00", "22:00")
    meeting(fake, "Dentist", MONDAY + timedelta(days=3), "09:30", "10:30")
    owners = theirs(fake)

    result = setup.refresh()

    assert result.exit_code == 0, result.output
    assert sessions(fake)[key] == edited  # not moved, not rewritten (same etag)
    assert theirs(fake) == owners
    assert "was changed in the calendar; calsync left it as it is" in result.output
    held = starts(fake)
    assert held[key].hour == 18
    dinner = board_dinner(setup.plan)
    dentist = replace(
        dinner,
        start=dinner.start + timedelta(days=1, hours=-9.5),
        end=dinner.start + timedelta(days=1, hours=-8.5),
        title="Dentist",
    )
    assert rule_errors(setup.plan, held, (dinner, dentist)) == []


def test_a_week_too_busy_for_the_wants_is_reported_and_nothing_else_moves(
    setup: Setup, fake: FakeGoogleCalendar
) -> None:
    assert setup.refresh().exit_code == 0
    before = sessions(fake)
    second = MONDAY + timedelta(weeks=1)
    conference = {
        "summary": "Conference",
        "start": {"date": second.isoformat()},
        "end": {"date": (second + timedelta(days=5)).isoformat()},
    }
    fake.add_event("primary", conference)
    owners = theirs(fake)

    result = setup.refresh()

    assert result.exit_code == 3, result.output
    assert "no arrangement of the week of Mon 14 Dec 2026 fits around its busy time" in (
        " ".join(result.output.split())
    )
    after = sessions(fake)
    assert {k: instant(e["start"]) for k, e in after.items()} == {
        k: instant(e["start"]) for k, e in before.items()
    }
    changed = {k for k in after if after[k]["etag"] != before[k]["etag"]}
    week_two = {
        k for k in after if second <= instant(after[k]["start"]).date() < second + timedelta(days=5)
    }
    assert changed <= week_two  # only the conference's own sessions get its overlap note
    assert changed and all("⚠ error overlap" in after[k]["description"] for k in changed)
    assert theirs(fake) == owners


# --- CalDAV (Radicale) --------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    starts: dict[str, datetime]  # the plan's sessions
    notes: dict[str, list[str]]  # their conflict lines
    others: list[str]  # the titles of everything else


def held(calendar: caldav.Calendar) -> Held:
    found = Held({}, {}, [])
    for resource in calendar.events():
        for event in Calendar.from_ical(resource.data).walk("VEVENT"):
            if str(event.get("X-CALSYNC-PLAN", "")) == PLAN_ID:
                key = str(event["X-CALSYNC-KEY"])
                found.starts[key] = event.decoded("DTSTART")
                text = str(event.get("DESCRIPTION", ""))
                found.notes[key] = [x for x in text.splitlines() if x[:1] == "⚠"]
            else:
                found.others.append(str(event.get("SUMMARY")))
    found.others.sort()
    return found


def test_caldav_moves_around_a_meeting_and_back(
    setup: Setup,
    radicale: RadicaleServer,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(setup.folder / "xdg-state"))
    setup.env["CALDAV_TEST_PASSWORD"] = radicale.password
    name = f"Training {uuid.uuid4().hex[:8]}"
    setup.write_config(
        f'''
[[target]]
type = "caldav"
url = "{radicale.home}"
calendar = "{name}"
busy = ["{name}"]
username = "{radicale.user}"
password_env = "CALDAV_TEST_PASSWORD"
'''
    )
    first = setup.refresh()
    assert first.exit_code == 0, first.output
    phone = caldav.DAVClient(url=radicale.home, username=radicale.user, password=radicale.password)
    (calendar,) = [c for c in phone.principal().calendars() if c.get_display_name() == name]
    usual = held(calendar)
    assert len(usual.starts) == 36

    dinner = calendar.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VEVENT\r\n"
        "UID:board-dinner@phone\r\nDTSTAMP:20261201T000000Z\r\n"
        f"DTSTART;TZID={ZONE}:20261209T190000\r\nDTEND;TZID={ZONE}:20261209T220000\r\n"
        "SUMMARY:Board dinner\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    writes = radicale.writes()
    moving = setup.refresh()
    assert moving.exit_code == 0, moving.output
    after = held(calendar)
    moved = {k for k in usual.starts if after.starts[k] != usual.starts[k]}
    renoted = {k for k in usual.starts if k not in moved and after.notes[k] != usual.notes[k]}
    assert moved and set(after.starts) == set(usual.starts)
    assert radicale.writes() - writes == len(moved) + len(renoted)
    assert len(renoted) <= 1  # the week's one hard-then-easy warning, on its new pair
    # CalDAV busy time says only which calendar it is from, never the meeting's title.
    assert f"'busy in {name}' 19:00-22:00 on Wed" in " ".join(moving.output.split())
    assert moving.output.count(" moved from ") == len(moved)
    assert after.others == ["Board dinner"]
    assert rule_errors(setup.plan, after.starts, (board_dinner(setup.plan),)) == []

    writes = radicale.writes()
    assert setup.refresh().exit_code == 0
    assert radicale.writes() == writes

    dinner.delete()
    writes = radicale.writes()
    back = setup.refresh()
    assert back.exit_code == 0, back.output
    assert held(calendar) == usual
    assert radicale.writes() - writes == len(moved) + len(renoted)
    writes = radicale.writes()
    assert setup.refresh().exit_code == 0
    assert radicale.writes() == writes
