"""`calsync sync intervals` against the in-process intervals.icu server (fakes/fakeintervals.py).

Every test runs calsync's command line (and so the real `requests` client) against the
server on 127.0.0.1 and checks what the athlete's calendar holds and what the server
counted: requests, writes, rate-limited calls. The clock is pinned to 2026-11-26, before
the template's first session, so every session in the range is in the future.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

import calsync.targets.retry as retry
from calsync.cli.main import cli
from calsync.core.content import EventContent
from calsync.targets.google import KEY
from calsync.targets.intervals import KEYRING_SERVICE, read_workout, split_marker, workout_body
from fakes.fakegoogle import FakeGoogleCalendar
from fakes.fakeintervals import API_KEY, ATHLETE_ID, FakeIntervals, Fault
from tests.google_helpers import PLAN_ID, START, TEMPLATE, desired, write_token

BULK = r"^POST api/v1/athlete/[^/]+/events/bulk$"
LIST = r"^GET api/v1/athlete/[^/]+/events$"
ATHLETE = r"^GET api/v1/athlete/[^/]+$"
PUT_ONE = r"^PUT api/v1/athlete/[^/]+/events/\d+$"
BULK_DELETE = r"^PUT api/v1/athlete/[^/]+/events/bulk-delete$"
TARGET = f"intervals:{ATHLETE_ID}"
TUE_Z2 = f"{PLAN_ID}/2026-12-01/z2"


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """Thursday before the plan starts: every session of the two weeks is still to come."""
    with time_machine.travel(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def server() -> Iterator[FakeIntervals]:
    with FakeIntervals() as fake:
        yield fake


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> list[float]:
    """Backoff waits are recorded, never slept; the server's rate-limit clock moves on by them."""
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        if "server" in request.fixturenames:
            request.getfixturevalue("server").advance(seconds)

    monkeypatch.setattr(retry, "time", types.SimpleNamespace(sleep=sleep))
    return waited


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    shutil.copyfile(TEMPLATE, path)
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "intervals-key"
    path.write_text(API_KEY + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def env(server: FakeIntervals, tmp_path: Path) -> dict[str, str]:
    return {"CALSYNC_INTERVALS_ENDPOINT": server.root_url, "CALSYNC_STATE_DIR": str(tmp_path)}


def sync(plan: Path, key_file: Path, env: dict[str, str], *args: str) -> Result:
    command = ["sync", "intervals", str(plan), "--api-key-file", str(key_file)]
    command += ["--from", START, "--weeks", "2", *args]
    return CliRunner().invoke(cli, command, env=env)


def managed(server: FakeIntervals) -> dict[str, dict[str, Any]]:
    """calsync's workouts of the plan by session key; fails on a duplicate."""
    found: dict[str, dict[str, Any]] = {}
    for event in server.events():
        external = event.get("external_id") or ""
        if external.startswith(f"calsync:{PLAN_ID}/"):
            key = external.removeprefix("calsync:")
            assert key not in found, f"two workouts for {key}"
            found[key] = event
    return found


def by_key(server: FakeIntervals, key: str) -> dict[str, Any]:
    return managed(server)[key]


def first_sync(server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]) -> None:
    result = sync(plan, key_file, env)
    assert result.exit_code == 0, result.output
    server.reset_counters()


def edit(plan: Path, old: str, new: str) -> None:
    text = plan.read_text(encoding="utf-8")
    assert old in text
    plan.write_text(text.replace(old, new), encoding="utf-8")


def holds_plan(server: FakeIntervals, plan: Path) -> None:
    want = desired(plan)
    held = managed(server)
    assert set(held) == set(want)
    for key, content in want.items():
        assert held[key]["name"] == content.summary
        assert held[key]["description"].startswith(content.description)


# --- first sync, rerun, changes ----------------------------------------------------


def test_first_sync_puts_every_session_in_the_calendar_once_as_a_planned_workout(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert f"{TARGET}: 20 created, 0 updated, 0 deleted, 0 unchanged" in result.output
    holds_plan(server, plan)
    legs = by_key(server, f"{PLAN_ID}/2026-11-30/legs")
    assert legs["category"] == "WORKOUT" and legs["type"] == "WeightTraining"
    assert legs["start_date_local"] == "2026-11-30T10:00:00"  # Brussels, the athlete's zone
    assert legs["name"] == "🏋 Legs: squat, RDL, curls" and legs["moving_time"] == 75 * 60
    assert legs["description"].splitlines()[-1].startswith(f"calsync: {PLAN_ID}/2026-11-30/legs ")
    intervals = by_key(server, f"{PLAN_ID}/2026-12-02/intervals")
    assert intervals["type"] == "Ride" and "5x4 min at 110% FTP" in intervals["description"]
    # the athlete, then the range, then one bulk create: three requests, one write
    assert [server.calls(p) for p in (ATHLETE, LIST, BULK)] == [1, 1, 1]
    assert len(server.requests) == 3 and server.writes == 1


def test_a_rerun_with_nothing_changed_writes_nothing(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert f"{TARGET}: 0 created, 0 updated, 0 deleted, 20 unchanged" in result.output
    assert server.writes == 0 and len(server.requests) == 2


def test_a_changed_session_is_one_write_and_a_structured_workout_stays_unchanged_after(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    # Tuesday's ride becomes a structured workout; intervals.icu reads its steps and
    # rewrites the workout's moving time from them (45 min instead of the plan's hour).
    edit(
        plan,
        "exceptions:",
        'exceptions:\n  2026-12-01: [core 10:00, {session: z2, at: "20:00", notes: "- 45m 65%"}]',
    )

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 deleted, 19 unchanged" in result.output
    assert server.writes == 1 and server.calls(PUT_ONE) == 1
    tuesday = by_key(server, TUE_Z2)
    assert "- 45m 65%" in tuesday["description"] and tuesday["moving_time"] == 45 * 60

    server.reset_counters()
    again = sync(plan, key_file, env)
    assert "20 unchanged" in again.output and server.writes == 0


def test_a_session_moved_in_the_plan_is_a_create_and_a_delete_and_the_warnings_it_changes(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    edit(plan, "2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]")

    result = sync(plan, key_file, env)

    # Wednesday's intervals give way to a morning ride; the hard-then-easy warning in the
    # two workouts it names (Sun 6 Dec, Mon 7 Dec) changes its hint (as on Google and CalDAV).
    assert result.exit_code == 0, result.output
    assert "1 created, 2 updated, 1 deleted, 17 unchanged" in result.output
    assert server.calls(BULK) == server.calls(BULK_DELETE) == 1 and server.calls(PUT_ONE) == 2
    assert server.writes == 4
    holds_plan(server, plan)


def test_a_run_while_another_writes_the_same_calendar_exits_75_and_writes_nothing(
    server: FakeIntervals,
    plan: Path,
    key_file: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from calsync.io.locks import holding, lock_file

    monkeypatch.setenv("CALSYNC_STATE_DIR", env["CALSYNC_STATE_DIR"])
    root = server.root_url.rstrip("/")
    with holding(lock_file("intervals", f"{root}\n{ATHLETE_ID}"), "another run", 600):
        result = sync(plan, key_file, env)

    assert result.exit_code == 75, result.output
    assert "intervals.icu calendar of athlete i424242" in result.output
    assert server.writes == 0 and server.events() == []
    assert sync(plan, key_file, env).exit_code == 0  # released: the next run writes


def test_dry_run_lists_the_changes_and_writes_nothing(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    result = sync(plan, key_file, env, "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        "20 would be created" in result.output and "create  Mon 2026-11-30 10:00" in result.output
    )
    assert server.writes == 0 and server.events() == []


# --- the athlete's edits, deletions and own events --------------------------------------


def test_a_workout_the_athlete_edited_is_kept_until_overwrite_edits(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    tuesday = by_key(server, TUE_Z2)
    server.edit_event(tuesday["id"], name="Z2 with Anna", type="VirtualRide")
    edit(plan, "title: Zone 2 ride", "title: Endurance ride")  # the plan changes it too

    result = sync(plan, key_file, env)

    assert result.exit_code in (0, 3), result.output
    assert "kept 1 edited, 0 deleted by you" in result.output
    assert "edited" in result.output and "'Z2 with Anna' at 2026-12-01 20:00" in result.output
    assert by_key(server, TUE_Z2)["name"] == "Z2 with Anna"
    # the five other rides, and the two Friday leg days whose warning names the ride
    assert "0 created, 7 updated" in result.output and server.calls(PUT_ONE) == 7

    restored = sync(plan, key_file, env, "--overwrite-edits")
    assert "1 updated" in restored.output, restored.output
    assert by_key(server, TUE_Z2)["name"] == "🚴 Endurance ride"
    assert by_key(server, TUE_Z2)["type"] == "Ride"


def test_a_workout_the_athlete_moved_to_another_day_stays_there(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    tuesday = by_key(server, TUE_Z2)
    server.edit_event(tuesday["id"], start_date_local="2026-12-19T09:00:00")  # out of range

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert "kept 1 edited" in result.output and server.writes == 0
    assert by_key(server, TUE_Z2)["start_date_local"] == "2026-12-19T09:00:00"


def test_a_workout_the_athlete_deleted_is_not_recreated_until_restore_deleted(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    server.delete_event(by_key(server, TUE_Z2)["id"])

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 0 deleted, 19 unchanged" in result.output
    assert "kept 0 edited, 1 deleted by you" in result.output
    assert "'🚴 Zone 2 ride' at 2026-12-01 20:00 was deleted" in result.output
    assert TUE_Z2 not in managed(server) and server.writes == 0

    restored = sync(plan, key_file, env, "--restore-deleted")
    # the engine counts a restored session as an update (Google un-deletes the same way)
    assert "0 created, 1 updated" in restored.output, restored.output
    assert server.calls(BULK) == 1
    holds_plan(server, plan)


def test_a_damaged_state_file_is_one_warning_in_the_output_and_the_json(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str], tmp_path: Path
) -> None:
    first_sync(server, plan, key_file, env)
    [state] = (tmp_path / "intervals").glob("*.json")
    state.write_text('{"version": 1, "events": {', encoding="utf-8")  # cut off mid-write

    result = sync(plan, key_file, env, "--json")

    assert result.exit_code == 0, result.output
    (warning,) = json.loads(result.stdout)["warnings"]
    assert warning.startswith(f"the intervals.icu state file {state} is damaged (not JSON")
    assert f"calsync: WARNING: {warning}" in result.stderr
    assert server.writes == 0  # nothing doubled: the workouts are known by their marker
    assert len(json.loads(state.read_text(encoding="utf-8"))["events"]) == len(managed(server))


def test_the_athletes_own_events_are_never_touched(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    own = [
        server.add_event(
            {"category": "NOTE", "start_date_local": "2026-12-02T00:00:00", "name": "Physio"}
        ),
        server.add_event(
            {
                "category": "WORKOUT",
                "type": "Ride",
                "start_date_local": "2026-12-05T08:00:00",
                "name": "Club ride",
                "description": "- 2h 65%",
            }
        ),
        server.add_event(
            {
                "category": "WORKOUT",
                "type": "Run",
                "start_date_local": "2026-12-03T07:00:00",
                "name": "Coach's run",
                "external_id": "trainingpeaks:991",
            }
        ),
        server.add_event(  # another plan's session, from another calsync plan file
            {
                "category": "WORKOUT",
                "type": "Swim",
                "start_date_local": "2026-12-01T07:00:00",
                "name": "Swim",
                "external_id": "calsync:swim-plan/2026-12-01/swim",
            }
        ),
    ]
    sync(plan, key_file, env)
    edit(plan, "2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]")
    sync(plan, key_file, env, "--overwrite-edits", "--restore-deleted")

    after = {e["id"]: e for e in server.events()}
    assert [after[e["id"]] for e in own] == own
    holds_plan(server, plan)


# --- faults: nothing lost, nothing doubled -----------------------------------------------


def test_a_lost_answer_to_the_bulk_create_never_makes_a_duplicate(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    server.inject(Fault(match=BULK, drop=True, apply=True))  # created, answer lost

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert "20 created" in result.output
    assert server.calls(BULK) == 1  # the range was listed again: nothing left to send
    assert server.calls(LIST) == 2
    holds_plan(server, plan)
    assert len(server.events()) == 20


def test_a_lost_bulk_create_request_is_sent_again(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    server.inject(Fault(match=BULK, drop=True, apply=False))  # never arrived

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert server.calls(BULK) == 2 and len(server.events()) == 20
    holds_plan(server, plan)


def test_calsyncs_own_delete_whose_answer_was_lost_is_not_taken_for_the_athletes(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    """Found by the state machine: the delete lands, its answer is lost, the server stays
    down. When the plan wants the session back, it must come back."""
    first_sync(server, plan, key_file, env)
    template = plan.read_text(encoding="utf-8")
    edit(plan, "2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]")
    server.fail_at(2, Fault(drop=True, apply=True))  # after the athlete and the listing
    for later in range(3, 60):
        server.fail_at(later, Fault(500))
    broken = sync(plan, key_file, env)
    assert server.requests[2] == ("PUT", f"api/v1/athlete/{ATHLETE_ID}/events/bulk-delete")
    assert broken.exit_code == 1 and f"{PLAN_ID}/2026-12-09/intervals" not in managed(server)

    server.clear_faults()
    plan.write_text(template, encoding="utf-8")
    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and "deleted by you" not in result.output
    holds_plan(server, plan)


def test_server_errors_and_429_are_retried_honouring_retry_after(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str], sleeps: list[float]
) -> None:
    server.inject(Fault(503, match=ATHLETE))
    server.inject(Fault(502, match=LIST))
    server.inject(Fault(429, retry_after=7, match=BULK))

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert len(sleeps) == 3 and max(sleeps) >= 7
    assert server.calls(BULK) == 2 and len(server.events()) == 20
    holds_plan(server, plan)


def test_a_retry_after_of_an_hour_is_waited_a_minute_at_most(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str], sleeps: list[float]
) -> None:
    server.inject(Fault(429, retry_after=3600, match=LIST, times=2))

    result = sync(plan, key_file, env)

    assert result.exit_code == 0, result.output
    assert sleeps == [60.0, 60.0] and len(server.events()) == 20


def test_the_rate_limit_is_waited_out(
    plan: Path, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeIntervals(rate=1, burst=4) as strict:
        monkeypatch.setattr(retry, "time", types.SimpleNamespace(sleep=strict.advance))
        env = {"CALSYNC_INTERVALS_ENDPOINT": strict.root_url, "CALSYNC_STATE_DIR": str(tmp_path)}
        first_sync(strict, plan, key_file, env)

        result = sync(plan, key_file, env, "--ride-type", "VirtualRide")  # a PUT for each ride

        assert result.exit_code == 0, result.output
        # a ride type asked for differently is a change to every ride: 6 zone-2 rides, 4 interval days
        assert "0 created, 10 updated" in result.output and strict.rate_limited > 0
        rides = [e for e in managed(strict).values() if e["name"].startswith("🚴")]
        assert len(rides) == 10 and {e["type"] for e in rides} == {"VirtualRide"}
        strict.reset_counters()
        again = sync(plan, key_file, env, "--ride-type", "VirtualRide")
        assert "20 unchanged" in again.output and strict.writes == 0


def test_a_refused_create_fails_its_sessions_with_the_servers_reason_and_the_rest_goes_on(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    first_sync(server, plan, key_file, env)
    edit(plan, "2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]")
    server.inject(Fault(422, match=BULK, message="type 'Rde' is not a sport"))

    result = sync(plan, key_file, env)

    assert result.exit_code == 1
    assert "0 created, 2 updated, 1 deleted, 17 unchanged; 1 FAILED" in result.output
    assert (
        "failed  Wed 2026-12-09 07:00  🚴 Zone 2 ride: HTTP 422 Unprocessable Entity: "
        "type 'Rde' is not a sport" in result.output
    )
    assert server.calls(BULK) == 1  # a refusal is not retried
    again = sync(plan, key_file, env)
    assert "1 created" in again.output and again.exit_code == 0, again.output
    holds_plan(server, plan)


def test_a_server_that_keeps_failing_is_one_clear_line_and_exit_1(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str], sleeps: list[float]
) -> None:
    server.inject(Fault(503, match=ATHLETE, times=100))

    result = sync(plan, key_file, env)

    assert result.exit_code == 1
    assert result.output == "calsync: intervals.icu: HTTP 503 Service Unavailable\n"
    assert server.calls(ATHLETE) == retry.Retry().attempts and len(sleeps) == 5
    assert max(sleeps) <= retry.Retry().cap


def sweep_stage(
    plan: Path, key_file: Path, state: Path, stage: str, fault: Fault, at: int | None, *, once: bool
) -> int:
    """One run of `stage` on a fresh server with `fault` at request `at` (None: no fault):
    `once`, a passing fault the run must get over by itself; else the server stays broken
    from there on, the run fails, and a clean rerun must repair everything. Either way every
    session ends up in the calendar once. Returns the number of requests of the run."""
    shutil.copyfile(TEMPLATE, plan)
    with FakeIntervals() as fake:
        env = {"CALSYNC_INTERVALS_ENDPOINT": fake.root_url, "CALSYNC_STATE_DIR": str(state)}
        if stage == "change":  # a run with a create, a delete and updates to make
            first_sync(fake, plan, key_file, env)
            edit(plan, "2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]")
            edit(plan, "title: Core", "title: Core and mobility")
        if at is not None:
            for later in range(at, at + (1 if once else 60)):
                fake.fail_at(later, fault)
        run = sync(plan, key_file, env)
        requests = len(fake.requests)
        if at is None or once:
            assert run.exit_code == 0, (stage, at, run.output)
        else:
            assert run.exit_code == 1 and "Traceback" not in run.output, run.output
            fake.reset_counters()
            clean = sync(plan, key_file, env)
            assert clean.exit_code == 0, (stage, at, clean.output)
        holds_plan(fake, plan)  # every session once, none twice
        assert len(fake.events()) == 20
        return requests


@pytest.mark.parametrize("once", [True, False], ids=["passing", "for-good"])
@pytest.mark.parametrize("fault", ["lost-answer", "lost-request", "error"])
def test_a_fault_at_any_request_never_loses_or_doubles_a_session(
    plan: Path, key_file: Path, tmp_path: Path, fault: str, once: bool
) -> None:
    """The fault sweep: a fault at request n of a run (the first sync, then a run with a
    create, updates and a delete), for every n: passing, or the server broken from there on."""
    broken = {
        "lost-answer": Fault(drop=True, apply=True),
        "lost-request": Fault(drop=True, apply=False),
        "error": Fault(500),
    }[fault]
    for stage in ("first", "change"):
        count = sweep_stage(
            plan, key_file, tmp_path / f"{stage}-clean", stage, broken, None, once=once
        )
        # the athlete, the listing, then the writes: one bulk create; or a bulk delete, a bulk
        # create and four updates (two Core sessions, two changed warnings)
        assert count == {"first": 3, "change": 8}[stage]
        for n in range(count):
            state = tmp_path / f"{stage}-{n}"
            sweep_stage(plan, key_file, state, stage, broken, n, once=once)


def test_intervals_and_google_hold_the_same_sessions_and_report_the_same_conflicts(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """One more backend of the engine: the same plan gives the same sessions (key, instant,
    title, length) and the same conflicts as on Google (its test server)."""
    token = write_token(tmp_path / "google-token.json")
    with FakeGoogleCalendar() as google:
        on_google = CliRunner().invoke(
            cli,
            ["sync", "google", str(plan), "--token", str(token), "--from", START, "--weeks", "2"]
            + ["--json"],
            env={"CALSYNC_GOOGLE_ENDPOINT": google.root_url},
        )
        (calendar,) = [c for c in google.calendar_ids() if c != google.owner]
        google_held = {
            (
                e["extendedProperties"]["private"][KEY],
                datetime.fromisoformat(e["start"]["dateTime"]),
                datetime.fromisoformat(e["end"]["dateTime"]),
                e["summary"],
            )
            for e in google.events(calendar)
        }
    on_intervals = sync(plan, key_file, env, "--json")

    assert on_google.exit_code == on_intervals.exit_code == 0, on_intervals.output
    google_report, intervals_report = json.loads(on_google.stdout), json.loads(on_intervals.stdout)
    assert intervals_report["counts"] == google_report["counts"]
    assert intervals_report["conflicts"] == google_report["conflicts"]
    brussels = ZoneInfo("Europe/Brussels")
    intervals_held = set()
    for key, event in managed(server).items():
        start = datetime.fromisoformat(event["start_date_local"]).replace(tzinfo=brussels)
        end = start + timedelta(seconds=event["moving_time"])
        intervals_held.add((key, start, end, event["name"]))
    assert intervals_held == google_held and len(google_held) == 20


# --- secrets ---------------------------------------------------------------------------


def test_a_wrong_api_key_is_one_line_that_never_shows_a_key(
    server: FakeIntervals, plan: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    wrong = tmp_path / "wrong-key"
    wrong.write_text("not-the-key-5f0e\n", encoding="utf-8")

    result = sync(plan, wrong, env)

    assert result.exit_code == 1
    assert result.output.startswith("calsync: intervals.icu refused the API key (HTTP 401")
    assert len(result.output.splitlines()) == 1
    assert "not-the-key-5f0e" not in result.output and API_KEY not in result.output


def test_the_api_key_is_never_printed_stored_or_taken_from_the_command_line(
    server: FakeIntervals, plan: Path, env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["sync", "intervals", str(plan), "--from", START, "--weeks", "2"]
    outputs = []
    for extra in (["--dry-run"], ["--json"], [], ["--json", "--dry-run"]):
        done = runner.invoke(
            cli,
            [*base, "--api-key-env", "INTERVALS_KEY", *extra],
            env={**env, "INTERVALS_KEY": API_KEY},
        )
        assert done.exit_code == 0, done.output
        outputs.append(done.output)
    assert json.loads(outputs[1])["counts"]["created"] == 20
    assert not any(API_KEY in text for text in outputs)
    state = list(tmp_path.rglob("*.json"))
    assert state and not any(API_KEY in p.read_text(encoding="utf-8") for p in state)
    assert all(API_KEY not in json.dumps(e) for e in server.events())

    no_option = runner.invoke(cli, base, env=env)
    assert (
        no_option.exit_code == 2 and "--api-key-file FILE, --api-key-env NAME" in no_option.output
    )
    assert "--api-key " not in runner.invoke(cli, ["sync", "intervals", "--help"]).output
    unset = runner.invoke(cli, [*base, "--api-key-env", "NOT_SET_ANYWHERE"], env=env)
    assert unset.exit_code == 2 and "NOT_SET_ANYWHERE is not set" in unset.output


def test_the_api_key_can_come_from_the_keyring(
    server: FakeIntervals,
    plan: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str]] = []
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: asked.append((service, user)) or API_KEY  # type: ignore[attr-defined]
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = RuntimeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)

    command = ["sync", "intervals", str(plan), "--keyring", "--from", START, "--weeks", "2"]
    result = CliRunner().invoke(cli, command, env=env)

    assert result.exit_code == 0, result.output
    assert asked == [(KEYRING_SERVICE, "API_KEY")] and len(server.events()) == 20


# --- types and zones ---------------------------------------------------------------------


def test_indoor_sessions_are_virtual_rides(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    result = sync(plan, key_file, env, "--indoor", "intervals")

    assert result.exit_code == 0, result.output
    held = managed(server)
    assert {e["type"] for k, e in held.items() if k.endswith("/intervals")} == {"VirtualRide"}
    assert {e["type"] for k, e in held.items() if k.endswith("/z2")} == {"Ride"}

    unknown = sync(plan, key_file, env, "--indoor", "zwift")
    assert (
        unknown.exit_code == 2 and "--indoor names no session of the plan: zwift" in unknown.output
    )


def test_start_times_are_written_in_the_athletes_zone(
    plan: Path, key_file: Path, tmp_path: Path
) -> None:
    with FakeIntervals(timezone="America/New_York") as far:
        env = {"CALSYNC_INTERVALS_ENDPOINT": far.root_url, "CALSYNC_STATE_DIR": str(tmp_path)}
        first_sync(far, plan, key_file, env)
        assert (
            by_key(far, f"{PLAN_ID}/2026-11-30/legs")["start_date_local"] == "2026-11-30T04:00:00"
        )
        again = sync(plan, key_file, env)
        assert "20 unchanged" in again.output and far.writes == 0


def test_a_bad_athlete_or_endpoint_is_refused_before_any_request(
    server: FakeIntervals, plan: Path, key_file: Path, env: dict[str, str]
) -> None:
    bad = sync(plan, key_file, env, "--athlete", "../admin")
    assert bad.exit_code == 2 and "--athlete must be 0" in bad.output

    remote_http = {**env, "CALSYNC_INTERVALS_ENDPOINT": "http://intervals.example/"}
    plain = sync(plan, key_file, remote_http)
    assert plain.exit_code == 2 and "must be https://" in plain.output
    assert server.requests == []

    other = sync(plan, key_file, env, "--athlete", "i777")
    assert other.exit_code == 1 and "no athlete i777 this API key may use" in other.output


# --- the workout's record of itself (pure) --------------------------------------------------

texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@st.composite
def contents(draw: st.DrawFn) -> EventContent:
    start = datetime(
        2026, 11, 30, draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30])), tzinfo=UTC
    )
    end = start.replace(hour=min(start.hour + 1, 23), minute=59)
    return EventContent(
        uid="p-2026-11-30-s@calsync",
        key="p/2026-11-30/s",
        plan="p",
        summary=draw(texts),
        description=draw(texts),
        start=start,
        end=end,
        timezone="UTC",
        location=draw(st.none() | texts),
        categories=("ride", "easy"),
        reminder=draw(st.none() | st.integers(0, 120)),
    )


@settings(max_examples=200, deadline=None)
@given(content=contents(), change=st.sampled_from(["none", "name", "description", "start", "type"]))
def test_a_written_workout_reads_back_untouched_and_any_edit_shows(
    content: EventContent, change: str
) -> None:
    event = {"id": 1, **workout_body(content, "Ride", UTC)}
    edits = {
        "none": {},
        "name": {"name": event["name"] + " (moved)"},
        "description": {"description": "Felt tired\n" + event["description"]},
        "start": {"start_date_local": "2026-12-01T07:00:00"},
        "type": {"type": "VirtualRide"},
    }
    event.update(edits[change])

    remote = read_workout(event, "p", UTC)

    assert remote is not None and remote.key == content.key
    assert remote.stored == content.fingerprint
    assert remote.edited is (change != "none")
    assert split_marker(event["description"])[1] is not None
    assert read_workout(event, "q", UTC) is None  # another plan's workout is not this one's
