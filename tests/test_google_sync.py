"""`calsync sync google` against the in-process Calendar v3 fake (fakes/fakegoogle.py).

Every test runs the real googleapiclient through calsync's CLI (or, for finer
control, `run_sync` with `GoogleBackend`) and asserts on what the server holds
and counted: events, etags, round trips, API calls, writes. The promises every
backend shares (reruns, plan changes, the owner's edits and deletions, lost
answers, 412s, not_before) are the contract's: tests/backend_contract.py.
"""

from __future__ import annotations

import json
import math
import re
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

import calsync.targets.google as g
from calsync.errors import Unreachable
from fakes.fakegoogle import FakeGoogleCalendar, Fault
from tests.google_helpers import (
    JSON,
    PLAN_ID,
    TOKEN,
    assert_holds_plan,
    calendar_named,
    calendars,
    desired,
    edit,
    instant,
    managed,
    owner,
    private,
    seed_work_week,
    snapshot,
    sync,
    unmanaged,
    write_token,
)

# any_date and retry_sleeps: see tests/conftest.py
pytestmark = [pytest.mark.any_date, pytest.mark.usefixtures("retry_sleeps")]

BRUSSELS = ZoneInfo("Europe/Brussels")
INSERT = r"^POST calendars/[^/]+/events$"
WED_INTERVALS = f"{PLAN_ID}/2026-12-02/intervals"


# --- fixtures ---------------------------------------------------------------------


def calls(server: FakeGoogleCalendar, pattern: str) -> int:
    return sum(1 for method, path in server.api_calls if re.search(pattern, f"{method} {path}"))


def first_sync(server: FakeGoogleCalendar, plan: Path, token: Path, *args: str) -> str:
    result = sync(server, plan, token, *args)
    assert result.exit_code == 0, result.output
    server.reset_counters()
    return calendar_named(server, "Training")


# --- first sync, no-op, plan changes ------------------------------------------------


def test_first_sync_creates_the_plan_in_a_new_calendar(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(google_fake, hybrid_plan, google_token)

    want = desired(hybrid_plan)
    assert result.exit_code == 0, result.output
    assert f"google:Training: {len(want)} created, 0 updated, 0 deleted" in result.output
    entry = next(c for c in calendars(google_fake) if c["summary"] == "Training")
    assert entry["timeZone"] == "Europe/Brussels" and not entry.get("primary")
    calendar = entry["id"]
    assert_holds_plan(google_fake, calendar, want)
    assert len(want) == 20  # 2 weeks of the template: 10 + 10 sessions
    legs = managed(google_fake, calendar)[f"{PLAN_ID}/2026-11-30/legs"]
    assert legs["summary"] == "🏋 Legs: squat, RDL, curls"
    assert legs["start"] == {"dateTime": "2026-11-30T10:00:00+01:00", "timeZone": "Europe/Brussels"}
    assert instant(legs["end"]) == datetime(2026, 11, 30, 11, 15, tzinfo=BRUSSELS)
    assert legs["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 30}],
    }
    assert set(private(legs)) == {"calsyncPlan", "calsyncKey", "calsyncHash"}
    assert legs["id"] == g.event_id(f"{PLAN_ID}/2026-11-30/legs")
    assert google_fake.events("primary") == []  # primary only when named
    assert google_fake.authorized
    assert google_fake.writes == 1 + len(want)  # the calendar and its events
    assert google_fake.round_trips <= 2 + math.ceil(len(want) / 50)


def test_a_year_of_the_template_within_the_round_trip_budget(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(google_fake, hybrid_plan, google_token, weeks=52)
    first = google_fake.round_trips
    google_fake.reset_counters()
    again = sync(google_fake, hybrid_plan, google_token, weeks=52)

    want = desired(hybrid_plan, weeks=52)
    assert result.exit_code == 0 and again.exit_code == 0, result.output + again.output
    assert_holds_plan(google_fake, calendar_named(google_fake, "Training"), want)
    assert len(want) == 517
    assert first <= 2 + math.ceil(len(want) / 50)  # 13
    assert google_fake.round_trips <= 2 and google_fake.writes == 0
    assert f"0 created, 0 updated, 0 deleted, {len(want)} unchanged" in again.output


# --- the owner's edits and deletions ----------------------------------------------


# --- what calsync did not create -------------------------------------------------


def test_events_calsync_did_not_create_are_never_touched(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    mine = google_fake.add_calendar("Training", "Europe/Brussels")["id"]  # made by the user
    for monday in (date(2026, 11, 30), date(2026, 12, 7)):
        seed_work_week(google_fake, mine, monday)
        seed_work_week(google_fake, "primary", monday)
    earlier = google_fake.add_event(  # left by a sync before --from: the past is never changed
        mine,
        {
            "summary": "🏋 Legs",
            "start": {"dateTime": "2026-11-23T10:00:00+01:00", "timeZone": "Europe/Brussels"},
            "end": {"dateTime": "2026-11-23T11:15:00+01:00", "timeZone": "Europe/Brussels"},
            "extendedProperties": {
                "private": {"calsyncPlan": PLAN_ID, "calsyncKey": f"{PLAN_ID}/2026-11-23/legs"}
            },
        },
    )
    theirs, primary = unmanaged(google_fake, mine), snapshot(google_fake, "primary")

    runs = [
        sync(google_fake, hybrid_plan, google_token),
        sync(google_fake, hybrid_plan, google_token, "--busy", "primary"),
    ]
    edit(hybrid_plan, "thu: [upper 10:00, z2 20:00]", "thu: rest")
    runs.append(
        sync(google_fake, hybrid_plan, google_token, "--overwrite-edits", "--restore-deleted")
    )

    assert [r.exit_code for r in runs] == [0, 3, 0], [r.output for r in runs]
    assert len(calendars(google_fake)) == 2  # no calendar created: the user's "Training" is used
    assert unmanaged(google_fake, mine) == theirs  # bodies and etags
    assert snapshot(google_fake, "primary") == primary
    assert google_fake.event(mine, earlier["id"]) == earlier
    assert_holds_plan(google_fake, mine, desired(hybrid_plan), also={f"{PLAN_ID}/2026-11-23/legs"})


def test_primary_is_used_only_when_named(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    seed_work_week(google_fake, "primary", date(2026, 11, 30))
    theirs = snapshot(google_fake, "primary")

    result = sync(google_fake, hybrid_plan, google_token, "--calendar", "primary")

    assert result.exit_code == 0, result.output
    assert "google:primary: 20 created" in result.output
    assert len(calendars(google_fake)) == 1  # nothing created
    assert_holds_plan(google_fake, "primary", desired(hybrid_plan))
    assert {i: e for i, e in snapshot(google_fake, "primary").items() if i in theirs} == theirs


def test_a_calendar_is_found_by_name_or_id(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    sport = google_fake.add_calendar("Sport", "Europe/Brussels")["id"]
    google_fake.add_calendar("Training (old)", "UTC")

    by_name = sync(google_fake, hybrid_plan, google_token, "--calendar", "Sport")
    google_fake.reset_counters()
    by_id = sync(google_fake, hybrid_plan, google_token, "--calendar", sport)

    assert by_name.exit_code == 0 and by_id.exit_code == 0, by_name.output + by_id.output
    assert len(calendars(google_fake)) == 3
    assert_holds_plan(google_fake, sport, desired(hybrid_plan))
    assert google_fake.writes == 0  # the same calendar either way


def test_an_unknown_calendar_id_is_an_error(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(
        google_fake, hybrid_plan, google_token, "--calendar", "nobody@group.calendar.google.com"
    )

    assert result.exit_code == 1
    assert "no calendar with id 'nobody@group.calendar.google.com'" in result.output
    assert google_fake.writes == 0


# --- busy time, conflicts in the calendar -------------------------------------------


def test_busy_time_from_freebusy_places_and_checks_sessions(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    def meeting(summary: str, day: str, start: str, end: str) -> None:
        zone = "Europe/Brussels"
        google_fake.add_event(
            "primary",
            {
                "summary": summary,
                "start": {"dateTime": f"{day}T{start}:00", "timeZone": zone},
                "end": {"dateTime": f"{day}T{end}:00", "timeZone": zone},
            },
        )

    meeting("Client call", "2026-12-01", "10:00", "11:00")  # on Tuesday's 10:00 core session
    meeting("Team drinks", "2026-12-04", "17:00", "18:30")  # where Friday's z2 would go

    result = sync(google_fake, hybrid_plan, google_token, "--busy", "primary")

    assert result.exit_code == 3, result.output  # overlap is an error
    assert calls(google_fake, r"^POST freeBusy$") == 1
    assert "overlap" in result.output and "busy in primary" in result.output
    assert "Client call" not in result.output  # freebusy gives no titles
    events = managed(google_fake, calendar_named(google_fake, "Training"))
    z2 = events[f"{PLAN_ID}/2026-12-04/z2"]
    assert instant(z2["start"]) == datetime(2026, 12, 4, 18, 30, tzinfo=BRUSSELS)
    assert instant(events[f"{PLAN_ID}/2026-12-11/z2"]["start"]).hour == 17
    core = events[f"{PLAN_ID}/2026-12-01/core"]
    assert core["description"].startswith("⚠ error overlap:")
    assert "busy in primary" in core["description"].splitlines()[0]


def test_busy_time_of_the_target_calendar_leaves_out_the_plans_own_sessions(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    first = sync(
        google_fake, hybrid_plan, google_token, "--calendar", "primary", "--busy", "primary"
    )
    google_fake.reset_counters()
    again = sync(
        google_fake, hybrid_plan, google_token, "--calendar", "primary", "--busy", "primary"
    )

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert google_fake.writes == 0
    assert_holds_plan(google_fake, "primary", desired(hybrid_plan))


def test_an_all_day_event_is_busy_from_midnight_to_midnight_where_the_plan_lives(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    day = {"start": {"date": "2026-12-03"}, "end": {"date": "2026-12-04"}}
    google_fake.add_event("primary", {"summary": "Family day", **day})
    google_fake.add_event(
        "primary",
        {
            "summary": "Dentist",
            "start": {"dateTime": "2026-12-04T09:30:00", "timeZone": "Europe/Brussels"},
            "end": {"dateTime": "2026-12-04T10:30:00", "timeZone": "Europe/Brussels"},
        },
    )
    result = sync(
        google_fake,
        hybrid_plan,
        google_token,
        "--calendar",
        "primary",
        "--busy",
        "primary",
        "--json",
    )

    busy = {
        b["title"]: (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
        for c in json.loads(result.stdout)["conflicts"]
        for b in c["busy"]
    }
    brussels = ZoneInfo("Europe/Brussels")
    assert busy["Family day"] == (
        datetime(2026, 12, 3, tzinfo=brussels),
        datetime(2026, 12, 4, tzinfo=brussels),
    )
    assert busy["Dentist"] == (
        datetime(2026, 12, 4, 9, 30, tzinfo=brussels),
        datetime(2026, 12, 4, 10, 30, tzinfo=brussels),
    )


def test_conflict_warnings_are_written_into_events_and_removed(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = first_sync(google_fake, hybrid_plan, google_token)
    events = managed(google_fake, calendar)
    warned = {
        k for k, e in events.items() if e["description"].startswith("⚠ warn hypertrophy-ride:")
    }
    fridays = {
        f"{PLAN_ID}/{day}/{name}" for day in ("2026-12-04", "2026-12-11") for name in ("legs", "z2")
    }
    assert warned == fridays  # the leg day and its ride, both
    assert "⚠" not in events[f"{PLAN_ID}/2026-12-01/z2"]["description"]

    edit(hybrid_plan, "rules:", "rules:\n  hypertrophy-ride: {level: off}")
    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    assert "0 created, 4 updated, 0 deleted" in result.output and google_fake.writes == 4
    after = managed(google_fake, calendar)
    assert {k for k in after if after[k] != events[k]} == fridays
    assert all("hypertrophy-ride" not in after[k]["description"] for k in fridays)
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))


def test_no_annotate_leaves_descriptions_alone(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(google_fake, hybrid_plan, google_token, "--no-annotate")

    calendar = calendar_named(google_fake, "Training")
    assert result.exit_code == 0 and "hypertrophy-ride" in result.output  # still reported
    assert all("⚠" not in e["description"] for e in managed(google_fake, calendar).values())
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan, annotate=False))


# --- dry run, json -------------------------------------------------------------------


def test_dry_run_writes_nothing(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(google_fake, hybrid_plan, google_token, "--dry-run")

    assert result.exit_code == 0, result.output
    assert google_fake.writes == 0 and len(calendars(google_fake)) == 1  # no calendar either
    assert "  create  Mon 2026-11-30 10:00  🏋 Legs: squat, RDL, curls" in result.output
    assert "  create  Fri 2026-12-04 17:00  🚴 Zone 2 ride" in result.output
    assert "google:Training: 20 would be created" in result.output


def test_dry_run_on_a_synced_calendar_shows_updates_and_deletes(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = first_sync(google_fake, hybrid_plan, google_token)
    before = snapshot(google_fake, calendar)
    edit(
        hybrid_plan,
        "exceptions:\n",
        "exceptions:\n  2026-12-02: [intervals 18:00]\n  2026-12-03: rest\n",
    )

    result = sync(google_fake, hybrid_plan, google_token, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "  update  Wed 2026-12-02 18:00  🚴 Intervals" in result.output
    assert "  delete  Thu 2026-12-03 20:00  🚴 Zone 2 ride" in result.output
    assert "1 would be updated, 2 would be deleted" in result.output
    assert google_fake.writes == 0 and snapshot(google_fake, calendar) == before


def test_json_report(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    result = sync(google_fake, hybrid_plan, google_token, "--json")

    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["target"] == "google:Training" and report["dry_run"] is False
    assert report["counts"]["created"] == 20 and report["counts"]["failed"] == 0
    assert len(report["changes"]) == 20
    assert {c["action"] for c in report["changes"]} == {"create"}
    assert {"hypertrophy-ride", "hard-then-easy"} <= {c["rule"] for c in report["conflicts"]}


# --- paging -------------------------------------------------------------------------


def test_reading_the_managed_events_pages(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("calsync.targets.google.backend.PAGE_SIZE", 7)
    calendar = first_sync(google_fake, hybrid_plan, google_token)
    owner(google_fake).delete(calendarId=calendar, eventId=g.event_id(WED_INTERVALS)).execute()
    google_fake.reset_counters()

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    assert calls(google_fake, r"^GET calendars/[^/]+/events$") == 3  # 20 events, 7 a page
    assert "0 created, 0 updated, 0 deleted, 19 unchanged" in result.output
    assert "1 deleted by you" in result.output and google_fake.writes == 0


# --- faults ---------------------------------------------------------------------------


def test_rate_limits_and_server_errors_on_single_calls_are_retried(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    retry_sleeps: list[float],
) -> None:
    google_fake.inject(Fault(403, reason="rateLimitExceeded", match=r"^GET users/me/calendarList$"))
    google_fake.inject(Fault(429, retry_after=3, match=r"^POST calendars$"))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    # calendarList: refused, answered, and once more before resending calendars.insert
    # (not idempotent: a failed insert may have made the calendar all the same)
    assert calls(google_fake, r"^GET users/me/calendarList$") == 3
    assert calls(google_fake, r"^POST calendars$") == 2
    assert len(calendars(google_fake)) == 2  # the refused insert made nothing
    assert len(retry_sleeps) == 2 and max(retry_sleeps) >= 3  # Retry-After honoured
    calendar = calendar_named(google_fake, "Training")
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))

    google_fake.reset_counters()
    google_fake.inject(Fault(503, match=r"^GET calendars/[^/]+/events$"))
    google_fake.inject(Fault(500, match=r"^GET calendars/[^/]+/events$"))
    again = sync(google_fake, hybrid_plan, google_token)

    assert again.exit_code == 0 and "20 unchanged" in again.output, again.output
    assert calls(google_fake, r"^GET calendars/[^/]+/events$") == 3 and google_fake.writes == 0


def test_failed_calls_inside_a_batch_are_retried_alone(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    retry_sleeps: list[float],
) -> None:
    google_fake.inject(Fault(500, match=INSERT, times=2))
    google_fake.inject(Fault(503, match=INSERT))
    google_fake.inject(Fault(403, reason="userRateLimitExceeded", match=INSERT))
    google_fake.inject(Fault(429, retry_after=2, match=INSERT))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    assert "20 created" in result.output
    assert calls(google_fake, INSERT) == 20 + 5  # only the five failed calls again
    assert google_fake.round_trips == 4  # calendarList, calendars.insert, two batches
    assert len(retry_sleeps) == 1 and retry_sleeps[0] >= 2
    assert_holds_plan(google_fake, calendar_named(google_fake, "Training"), desired(hybrid_plan))


def test_an_error_that_is_not_retried_fails_only_its_session(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    google_fake.inject(Fault(400, reason="invalid", message="Invalid value", match=INSERT))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 1
    assert "19 created" in result.output and "1 FAILED" in result.output
    assert "failed  Mon 2026-11-30 10:00  🏋 Legs: squat, RDL, curls: HTTP 400" in result.output
    assert calls(google_fake, INSERT) == 20  # a 400 is not retried
    assert "Traceback" not in result.output

    again = sync(google_fake, hybrid_plan, google_token)
    assert again.exit_code == 0 and "1 created" in again.output, again.output
    assert_holds_plan(google_fake, calendar_named(google_fake, "Training"), desired(hybrid_plan))


def test_a_persistent_failure_is_one_clear_message(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    retry_sleeps: list[float],
) -> None:
    google_fake.inject(Fault(503, match=r"^GET users/me/calendarList$", times=100))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 1
    assert result.output == "calsync: Google Calendar: HTTP 503 backendError\n"
    assert calls(google_fake, r"calendarList") == g.Retry().attempts and len(retry_sleeps) == 5


def test_a_persistent_failure_inside_batches_fails_cleanly(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    google_fake.inject(Fault(500, match=INSERT, times=1000))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 1
    assert "0 created" in result.output and "20 FAILED" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert calls(google_fake, INSERT) == 20 * g.Retry().attempts
    calendar = calendar_named(google_fake, "Training")
    assert managed(google_fake, calendar) == {}

    google_fake.clear_faults()
    again = sync(google_fake, hybrid_plan, google_token)
    assert again.exit_code == 0 and "20 created" in again.output, again.output
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))


def test_a_batch_whose_answer_is_lost_makes_no_duplicates(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    # Applied on the server, answer lost twice (httplib2 resends once by itself, then
    # calsync retries): the inserts meet 409 for ids that exist, which means done.
    # Calls 3-22 are the first batch's inserts, 23-42 httplib2's resend of it.
    google_fake.fail_at(3, Fault(drop=True))
    google_fake.fail_at(23, Fault(drop=True))

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    assert "20 created" in result.output
    assert calls(google_fake, INSERT) == 3 * 20
    calendar = calendar_named(google_fake, "Training")
    assert len(google_fake.events(calendar, include_cancelled=True)) == 20
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))

    google_fake.reset_counters()
    again = sync(google_fake, hybrid_plan, google_token)
    assert "20 unchanged" in again.output and google_fake.writes == 0


def test_a_connection_that_hangs_is_bounded_by_a_timeout(google_fake: FakeGoogleCalendar) -> None:
    google_fake.latency = 1.0
    service = g.build_service(Credentials(token="t"), google_fake.root_url, timeout=0.2)

    with pytest.raises(Unreachable, match="timed out"):
        g.find_or_create_calendar(
            service, "Training", "UTC", g.Retry(attempts=2, sleep=lambda s: None)
        )


# --- a fault at every call, then a clean rerun -------------------------------------------

FAULTS = {
    "outage from call n on": lambda: Fault(500, times=100),
    "answer lost once": lambda: Fault(drop=True),  # httplib2 resends it by itself
    "answer lost twice": lambda: Fault(drop=True, times=2),  # calsync retries it
    "request lost twice": lambda: Fault(drop=True, apply=False, times=2),
}


def scan(
    seed: Callable[[FakeGoogleCalendar], Any],
    plan: Path,
    token: Path,
    check: Callable[[FakeGoogleCalendar, Any], None],
) -> list[str]:
    """For each fault and each call n of a clean run: a run with the fault at call n
    (which may fail), then a clean run, then `check(server, seed(server))` on what the
    server holds."""
    with FakeGoogleCalendar() as clean:
        seed(clean)
        assert sync(clean, plan, token).exit_code == 0
        total = len(clean.api_calls)
    problems = []
    for name, fault in FAULTS.items():
        for n in range(1, total + 1):
            with FakeGoogleCalendar() as server:
                seeded = seed(server)
                server.reset_counters()
                server.fail_at(n, fault())
                sync(server, plan, token)
                server.clear_faults()
                rerun = sync(server, plan, token)
                try:
                    assert rerun.exit_code == 0, rerun.output
                    check(server, seeded)
                except AssertionError as error:
                    problems.append(f"{name} at call {n} of {total}: {str(error)[:300]}")
    return problems


def holding_events(server: FakeGoogleCalendar, summary: str = "Training") -> list[str]:
    return [
        c["id"]
        for c in calendars(server)
        if c["summary"] == summary and server.events(c["id"], include_cancelled=True)
    ]


def test_a_first_sync_cut_off_at_any_call_is_repaired_by_the_next(
    hybrid_plan: Path, google_token: Path
) -> None:
    want = desired(hybrid_plan)

    def seed(server: FakeGoogleCalendar) -> dict[str, JSON]:
        seed_work_week(server, "primary", date(2026, 11, 30))
        return snapshot(server, "primary")

    def check(server: FakeGoogleCalendar, work: dict[str, JSON]) -> None:
        assert snapshot(server, "primary") == work, "the owner's events changed"
        holding = holding_events(server)
        assert len(holding) == 1, f"{len(holding)} calendars hold events"
        assert_holds_plan(server, holding[0], want)

    assert scan(seed, hybrid_plan, google_token, check) == []


def test_a_changing_sync_cut_off_at_any_call_is_repaired_by_the_next(
    hybrid_plan: Path, google_token: Path, tmp_path: Path
) -> None:
    """From the synced plan to an edited one (updates, deletes, creates) in a calendar
    where the owner edited one session and deleted another: those stay as they are."""
    edited, deleted = f"{PLAN_ID}/2026-12-01/core", f"{PLAN_ID}/2026-12-08/core"
    with FakeGoogleCalendar() as first:
        seed_work_week(first, "primary", date(2026, 11, 30))
        calendar = first_sync(first, hybrid_plan, google_token)
        phone = owner(first)
        body = {"summary": "Core (gym at work)"}
        phone.patch(calendarId=calendar, eventId=g.event_id(edited), body=body).execute()
        phone.delete(calendarId=calendar, eventId=g.event_id(deleted)).execute()
        primary_events = first.events("primary", include_cancelled=True)
        training_events = first.events(calendar, include_cancelled=True)
    edit(
        hybrid_plan,
        "exceptions:\n",
        "exceptions:\n  2026-12-02: [intervals 18:00]\n  2026-12-03: rest\n",
    )
    edit(hybrid_plan, "sat: rest", "sat: [z2 09:00]")
    want = {k: v for k, v in desired(hybrid_plan).items() if k not in (edited, deleted)}

    def seed(server: FakeGoogleCalendar) -> dict[str, JSON]:
        # The state the first sync and the owner left, copied event by event (ids kept).
        training = server.add_calendar("Training", "Europe/Brussels")["id"]
        for body in primary_events:
            server.add_event("primary", body)
        for body in training_events:
            server.add_event(training, body)
        return {
            "primary": snapshot(server, "primary"),
            "edited": server.event(training, g.event_id(edited)),
        }

    def check(server: FakeGoogleCalendar, before: dict[str, JSON]) -> None:
        assert snapshot(server, "primary") == before["primary"], "the owner's events changed"
        [training] = holding_events(server)
        assert server.event(training, g.event_id(edited)) == before["edited"]
        assert server.event(training, g.event_id(deleted))["status"] == "cancelled"
        have = managed(server, training)
        assert sorted(have) == sorted([*want, edited]), "sessions missing or extra"
        assert_holds_plan(server, training, want, also={edited})

    assert scan(seed, hybrid_plan, google_token, check) == []


# --- tokens ---------------------------------------------------------------------------


class TokenEndpoint:
    """Google's OAuth token endpoint refusing a refresh the way it does for a revoked grant."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
                body = json.dumps(
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    }
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def token_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenEndpoint]:
    # google-auth always refreshes an authorized-user token at Google's endpoint, whatever
    # token_uri the file names, so the endpoint constant itself is pointed here.
    endpoint = TokenEndpoint()
    monkeypatch.setattr("google.oauth2.credentials._GOOGLE_OAUTH2_TOKEN_ENDPOINT", endpoint.url)
    yield endpoint
    endpoint.stop()


def _no_secrets(text: str) -> None:
    for secret in (TOKEN["token"], TOKEN["refresh_token"], TOKEN["client_secret"]):
        assert secret not in text


def test_an_expired_token_that_cannot_be_refreshed(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    tmp_path: Path,
    token_endpoint: TokenEndpoint,
) -> None:
    stale = write_token(
        tmp_path / "token.json", expiry="2000-01-01T00:00:00Z"
    )  # long past on any clock
    content = stale.read_text()

    result = sync(google_fake, hybrid_plan, stale)

    assert result.exit_code == 1
    assert "run `calsync auth google` again" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert len(token_endpoint.requests) == 1 and b"refresh_token" in token_endpoint.requests[0]
    _no_secrets(result.output)
    assert stale.read_text() == content and google_fake.round_trips == 0


def test_a_revoked_token_refused_by_the_api(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    token_endpoint: TokenEndpoint,
) -> None:
    google_fake.inject(Fault(401, times=5))  # the access token was revoked: refresh, which fails

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 1
    assert "run `calsync auth google` again" in result.output
    assert token_endpoint.requests and "Traceback" not in result.output
    _no_secrets(result.output)
    assert google_fake.writes == 0


def test_a_refresh_that_cannot_reach_google(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = TokenEndpoint()
    closed.stop()  # nothing listens on that port any more
    monkeypatch.setattr("google.oauth2.credentials._GOOGLE_OAUTH2_TOKEN_ENDPOINT", closed.url)
    stale = write_token(
        tmp_path / "token.json", expiry="2000-01-01T00:00:00Z"
    )  # long past on any clock

    result = sync(google_fake, hybrid_plan, stale)

    assert result.exit_code == 1
    assert result.output.startswith("calsync: cannot reach Google to refresh the token")
    assert "Traceback" not in result.output
    _no_secrets(result.output)


def test_a_missing_token_says_how_to_get_one(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, tmp_path: Path
) -> None:
    result = sync(google_fake, hybrid_plan, tmp_path / "none.json")

    assert result.exit_code == 1 and "run `calsync auth google` first" in result.output


def test_tokens_are_saved_readable_by_the_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "config" / "calsync" / "google-token.json"
    g.save_token(target, json.dumps(TOKEN))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == TOKEN

    target.chmod(0o644)  # an older file, too open: replaced by a private one
    g.save_token(target, json.dumps(TOKEN | {"token": "new"}))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["token"] == "new"
    assert [p.name for p in target.parent.iterdir()] == ["google-token.json"]  # no temp file left
