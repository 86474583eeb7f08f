"""Helpers for the Google sync tests: run calsync against fakes/fakegoogle.py, read the result.

The expected calendar is computed from the plan with calsync's own expansion
(`expand` + `desired_events`, which the rule and loader tests cover); what the
Google tests check is that the server ends up holding exactly that, and that
nothing else on the server changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from calsync.cli.main import cli
from calsync.core.content import EventContent
from calsync.core.expand import expand
from calsync.core.model import Busy
from calsync.io.plans import load_plan
from calsync.sync.engine import desired_events
from fakes.fakegoogle import TOKEN as TOKEN  # re-exported for the tests
from fakes.fakegoogle import FakeGoogleCalendar, build_service
from fakes.fakegoogle import write_token as write_token

JSON = dict[str, Any]
START = "2026-11-30"  # the template's first Monday
NOW = f"{START}T00:00:00"  # the syncs run as if at its first instant (the plan's zone)
PLAN_ID = "hybrid-hypertrophy"
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"


def sync(server: FakeGoogleCalendar, plan: Path, token: Path, *args: str, weeks: int = 2) -> Result:
    """`calsync sync google PLAN --from START --weeks N ARGS` against the fake server, run
    at NOW unless ARGS give their own --now."""
    command = ["sync", "google", str(plan), "--token", str(token), "--from", START]
    command += ["--weeks", str(weeks), *args]
    if "--now" not in args:
        command += ["--now", NOW]
    return CliRunner().invoke(cli, command, env={"CALSYNC_GOOGLE_ENDPOINT": server.root_url})


def edit(plan: Path, old: str, new: str) -> None:
    """Change the plan file's text (the old text must be there)."""
    text = plan.read_text(encoding="utf-8")
    assert old in text
    plan.write_text(text.replace(old, new), encoding="utf-8")


def desired(plan: Path, weeks: int = 2, busy: tuple[Busy, ...] = (), annotate: bool = True):
    """What the plan says the calendar holds: key -> EventContent."""
    loaded = load_plan(plan)
    first = date.fromisoformat(START)
    schedule = expand(loaded, first, first + timedelta(weeks=weeks), busy)
    return {c.key: c for c in desired_events(schedule, annotate)}


def owner(server: FakeGoogleCalendar) -> Any:
    """The calendar's owner, on their phone: the same API, another client."""
    return build_service(server).events()


def calendars(server: FakeGoogleCalendar) -> list[JSON]:
    """Every calendar's list entry, without an API call (so the counters stay untouched)."""
    with server._lock:
        return [c.list_entry() for c in server._calendars.values()]


def calendar_named(server: FakeGoogleCalendar, summary: str) -> str:
    found = [c["id"] for c in calendars(server) if c["summary"] == summary]
    assert len(found) == 1, f"{len(found)} calendars named {summary!r}"
    return found[0]


def private(event: JSON) -> JSON:
    return (event.get("extendedProperties") or {}).get("private") or {}


def managed(
    server: FakeGoogleCalendar, calendar_id: str, plan_id: str = PLAN_ID
) -> dict[str, JSON]:
    """The live events calsync manages for the plan, by session key; fails on duplicates."""
    events = [e for e in server.events(calendar_id) if private(e).get("calsyncPlan") == plan_id]
    keys = Counter(private(e)["calsyncKey"] for e in events)
    duplicated = [k for k, n in keys.items() if n > 1]
    assert not duplicated, f"duplicate events for {duplicated}"
    return {private(e)["calsyncKey"]: e for e in events}


def instant(point: JSON) -> datetime:
    return datetime.fromisoformat(point["dateTime"].replace("Z", "+00:00"))


def matches(event: JSON, content: EventContent) -> bool:
    minutes = [o["minutes"] for o in event["reminders"].get("overrides", [])]
    return (
        event["summary"] == content.summary
        and event.get("description", "") == content.description
        and instant(event["start"]) == content.start
        and instant(event["end"]) == content.end
        and event["start"].get("timeZone") == content.timezone
        and (minutes[0] if minutes else None) == content.reminder
        and private(event).get("calsyncHash") == content.fingerprint
    )


def assert_holds_plan(
    server: FakeGoogleCalendar,
    calendar_id: str,
    want: dict[str, EventContent],
    also: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """The calendar holds exactly the plan's sessions, each as the plan says (and the
    managed events in `also`, not checked here)."""
    have = managed(server, calendar_id)
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want) - set(also))
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    wrong = [key for key in want if not matches(have[key], want[key])]
    assert not wrong, f"events differ from the plan: {wrong}"


def snapshot(server: FakeGoogleCalendar, calendar_id: str) -> dict[str, JSON]:
    """Every event of a calendar (cancelled ones too), by id, with its etag."""
    return {e["id"]: e for e in server.events(calendar_id, include_cancelled=True)}


def unmanaged(server: FakeGoogleCalendar, calendar_id: str) -> dict[str, JSON]:
    return {
        e["id"]: e
        for e in server.events(calendar_id, include_cancelled=True)
        if private(e).get("calsyncPlan") != PLAN_ID
    }


# --- a realistic work calendar --------------------------------------------------------


def _at(day: date, hhmm: str, zone: str = "Europe/Brussels") -> JSON:
    return {"dateTime": f"{day.isoformat()}T{hhmm}:00", "timeZone": zone}


def seed_work_week(server: FakeGoogleCalendar, calendar_id: str, monday: date) -> list[str]:
    """A work week the way people have them: stand-ups, a series, meetings, an all-day event,
    a transparent reminder, and another tool's tagged events. Returns the ids."""
    bodies: list[JSON] = []
    for offset in range(5):
        day = monday + timedelta(days=offset)
        bodies.append(
            {
                "summary": "Daily stand-up",
                "start": _at(day, "09:30"),
                "end": _at(day, "09:45"),
                "recurringEventId": "standupseries01",
                "originalStartTime": _at(day, "09:30"),
                "attendees": [{"email": "team@example.com"}, {"email": "athlete@example.com"}],
            }
        )
    bodies += [
        {
            "summary": "1:1 with Sam",
            "start": _at(monday + timedelta(days=1), "14:00"),
            "end": _at(monday + timedelta(days=1), "14:30"),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU"],
            "location": "Room 4.12",
        },
        {
            "summary": "Quarterly planning",
            "description": "Agenda in the doc.\nBring numbers.",
            "start": _at(monday + timedelta(days=2), "13:00", "UTC"),
            "end": _at(monday + timedelta(days=2), "16:00", "UTC"),
            "reminders": {"useDefault": False, "overrides": [{"method": "email", "minutes": 60}]},
        },
        {
            "summary": "Conference (all day)",
            "start": {"date": (monday + timedelta(days=3)).isoformat()},
            "end": {"date": (monday + timedelta(days=5)).isoformat()},
        },
        {
            "summary": "Pay rent",
            "start": {"date": (monday + timedelta(days=4)).isoformat()},
            "end": {"date": (monday + timedelta(days=5)).isoformat()},
            "transparency": "transparent",
        },
        {
            "summary": "Dentist",
            "start": _at(monday + timedelta(days=4), "08:00"),
            "end": _at(monday + timedelta(days=4), "09:00"),
            "extendedProperties": {"private": {"otherApp": "x1"}},
        },
        {
            # Another calsync plan's event: not this plan's, so not calsync's to touch here.
            "summary": "🏃 Easy run (other plan)",
            "start": _at(monday + timedelta(days=5), "08:00"),
            "end": _at(monday + timedelta(days=5), "08:45"),
            "extendedProperties": {
                "private": {
                    "calsyncPlan": "other-plan",
                    "calsyncKey": f"other-plan/{(monday + timedelta(days=5)).isoformat()}/run",
                    "calsyncHash": "0123456789abcdef0123",
                }
            },
        },
    ]
    return [server.add_event(calendar_id, body)["id"] for body in bodies]
