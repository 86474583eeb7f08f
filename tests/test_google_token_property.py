"""Never the token over the calendar: whatever the owner (or another client) does between
runs, the plan's events as calsync sees them through a sync token (the kept picture with
the changes laid over it) equal what a full listing of the range shows, field for field.

Driven through the real client against tests/fakegoogle.py; the instants are fixed, so
the clock does not enter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calsync.targets.google as g
from calsync.sync.engine import Remote
from calsync.targets.google.events import to_held
from calsync.targets.google.state import Picture
from fakes.fakegoogle import FakeGoogleCalendar, build_service

PLAN = "hybrid-hypertrophy"
START = datetime(2026, 11, 30, tzinfo=UTC)
SESSIONS = 8  # one a day from START


def at(day: float, hours: float = 1) -> dict[str, Any]:
    begin = START + timedelta(days=day)
    return {
        "start": {"dateTime": begin.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (begin + timedelta(hours=hours)).isoformat(), "timeZone": "UTC"},
    }


def session(n: int, plan: str = PLAN) -> dict[str, Any]:
    key = f"{plan}/{n}"
    private = {g.PLAN: plan, g.KEY: key, g.HASH: f"{n:020d}"}
    body = {"id": g.event_id(key), "summary": f"Session {n}", **at(n)}
    return body | {"extendedProperties": {"private": private}}


# What may happen to the calendar between two runs: (name, event number, a number).
Op = tuple[str, int, int]
OPS = st.tuples(
    st.sampled_from(["edit", "move", "delete", "copy", "foreign", "unplan", "restore", "other"]),
    st.integers(0, SESSIONS - 1),
    st.integers(-10, 20),
)


def apply(server: FakeGoogleCalendar, calendar: str, op: Op) -> None:
    events = build_service(server).events()
    name, n, number = op
    ref = g.event_id(f"{PLAN}/{n}")
    if server.event(calendar, ref) is None:
        return
    cancelled = server.event(calendar, ref)["status"] == "cancelled"
    actions: dict[str, Callable[[], Any]] = {
        "edit": lambda: events.patch(calendarId=calendar, eventId=ref, body={"summary": "mine"}),
        "move": lambda: events.patch(calendarId=calendar, eventId=ref, body=at(number, 2)),
        "delete": lambda: events.delete(calendarId=calendar, eventId=ref),
        "restore": lambda: events.patch(
            calendarId=calendar, eventId=ref, body={"status": "confirmed"}
        ),
        "unplan": lambda: events.patch(
            calendarId=calendar,
            eventId=ref,
            body={"extendedProperties": {"private": {g.PLAN: "another-plan"}}},
        ),
    }
    if name in actions and not (cancelled and name in ("edit", "move", "delete", "unplan")):
        actions[name]().execute()
    elif name == "copy":
        body = {k: v for k, v in session(n).items() if k != "id"} | at(number / 3)
        server.add_event(calendar, body)
    elif name == "foreign":
        server.add_event(calendar, {"summary": "Dentist", **at(number / 2)})
    elif name == "other":
        other = session(n + number + 100, plan="another-plan")
        server.add_event(calendar, {k: v for k, v in other.items() if k != "id"})


def full_listing(service: Any, calendar: str, start: datetime, end: datetime) -> list[Remote]:
    """What calsync listed before sync tokens: the range, filtered by the plan, deleted too."""
    page = (
        service.events()
        .list(
            calendarId=calendar,
            privateExtendedProperty=f"{g.PLAN}={PLAN}",
            timeMin=start.isoformat(),
            timeMax=end.isoformat(),
            showDeleted=True,
            singleEvents=True,
            maxResults=2500,
        )
        .execute()
    )
    return sorted(filter(None, map(g.to_remote, page["items"])), key=lambda r: r.ref)


def through_token(
    service: Any, server: FakeGoogleCalendar, calendar: str, kept: Picture | None, **span: Any
) -> tuple[list[Remote], Picture]:
    backend = g.GoogleBackend(service, calendar, server.batch_uri, g.Retry(), kept)
    found = backend.list_managed(PLAN, span["start"], span["end"])
    assert backend.picture is not None
    return sorted(found, key=lambda r: r.ref), backend.picture


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.lists(OPS, max_size=6),
    second=st.lists(OPS, max_size=6),
    later=st.integers(0, 3),
    expire=st.booleans(),
)
def test_the_picture_through_a_token_equals_a_full_listing(
    first: list[Op], second: list[Op], later: int, expire: bool
) -> None:
    with FakeGoogleCalendar() as server:
        calendar = server.add_calendar("Training", "UTC")["id"]
        for n in range(SESSIONS):
            server.add_event(calendar, session(n))
        service = g.build_service(_token(), server.root_url)
        span = {"start": START, "end": START + timedelta(days=14)}
        _, kept = through_token(service, server, calendar, None, **span)
        for op in first:
            apply(server, calendar, op)
        _, kept = through_token(service, server, calendar, kept, **span)
        for op in second:
            apply(server, calendar, op)
        if expire:
            server.expire_sync_tokens(calendar)
        kept.prune(START)
        moved = {"start": START + timedelta(days=later), "end": START + timedelta(days=14 + later)}
        server.reset_counters()

        seen, _ = through_token(service, server, calendar, kept, **moved)
        asked = server.round_trips

        assert seen == full_listing(service, calendar, **moved)
        assert asked == (2 if expire else 1)  # 410, then in full


def _token() -> Any:
    from google.oauth2.credentials import Credentials

    return Credentials(token="test-token")


def test_a_bare_deletion_notice_marks_a_kept_event_cancelled() -> None:
    """Google may report a deleted event with its id and status only: it stays the plan's
    event, now cancelled (so a session the owner deleted is not recreated)."""
    event = session(3) | {"etag": '"1"', "status": "confirmed"}
    held = to_held(event, PLAN)
    assert held is not None
    picture = Picture("cal", PLAN, "token", START, {held.remote.ref: held})

    picture.absorb({"id": held.remote.ref, "status": "cancelled", "etag": '"2"'}, None)
    picture.absorb({"id": "unknown0001", "status": "cancelled"}, None)

    (kept,) = picture.events.values()
    assert kept.remote.cancelled and kept.remote.etag == '"2"' and kept.end == held.end
    assert kept.remote.key == f"{PLAN}/3" and not kept.remote.edited
