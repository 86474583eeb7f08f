"""Google reruns on a sync token (issue 15): `calsync sync google` against tests/fakegoogle.py.

After a run that listed the calendar, the calendar id, Google's `nextSyncToken` and the
plan's events as listed are kept in the state folder; the next run asks only for what
changed since (`events.list?syncToken=`) and lays that over what it kept. These tests
count the requests that costs and check that the engine judges every event as it does
after a full listing: the owner's edits and deletions are seen through the token.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result

import calsync.targets.google as g
from fakes.fakegoogle import FakeGoogleCalendar, Fault
from tests.google_helpers import (
    PLAN_ID,
    TEMPLATE,
    assert_holds_plan,
    calendar_named,
    desired,
    edit,
    owner,
    seed_work_week,
    snapshot,
    sync,
    write_token,
)

# any_date and retry_sleeps: see tests/conftest.py
pytestmark = [pytest.mark.any_date, pytest.mark.usefixtures("retry_sleeps")]

LIST = r"^GET calendars/[^/]+/events$"
WED_INTERVALS = f"{PLAN_ID}/2026-12-02/intervals"
MOVE_WEDNESDAY = ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def settled(server: FakeGoogleCalendar, plan: Path, token: Path, *args: str) -> str:
    """The first sync (which makes the calendar) and the run after it (which looks it up by
    name once more and lists it in full): from then on reruns go by the token."""
    ok(sync(server, plan, token, *args))
    ok(sync(server, plan, token, *args))
    server.reset_counters()
    return calendar_named(server, "Training")


def state_files(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "google").glob("*.json"))


def incremental(server: FakeGoogleCalendar) -> list[bool]:
    """For each events.list call, whether it went by a sync token."""
    return [
        "syncToken" in query
        for (method, path), query in zip(server.api_calls, server.api_queries, strict=True)
        if re.search(LIST, f"{method} {path}")
    ]


# --- what a rerun costs --------------------------------------------------------------


def test_a_no_op_rerun_is_one_small_request(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    before = snapshot(google_fake, calendar)

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "0 created, 0 updated, 0 deleted, 20 unchanged" in output
    assert google_fake.round_trips == 1 and google_fake.api_calls == [
        ("GET", f"calendars/{calendar}/events")
    ]
    assert incremental(google_fake) == [True]
    assert google_fake.bytes_down < 1000 and google_fake.writes == 0
    assert snapshot(google_fake, calendar) == before


def test_the_runs_that_settle_a_new_calendar(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path, state_dir: Path
) -> None:
    """The run that makes the calendar keeps nothing; the next looks it up by name (an empty
    twin made by a lost answer is removed there) and lists it in full; then one request."""
    ok(sync(google_fake, hybrid_plan, google_token))
    assert state_files(state_dir) == []
    google_fake.reset_counters()

    ok(sync(google_fake, hybrid_plan, google_token))
    second = list(google_fake.api_calls)
    google_fake.reset_counters()
    ok(sync(google_fake, hybrid_plan, google_token))

    assert [m for m, _ in second] == ["GET", "GET"] and "calendarList" in second[0][1]
    assert len(state_files(state_dir)) == 1
    assert google_fake.round_trips == 1 and incremental(google_fake) == [True]


def test_one_change_is_one_listing_and_one_write(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    edit(hybrid_plan, *MOVE_WEDNESDAY)

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "0 created, 1 updated, 0 deleted, 19 unchanged" in output
    assert google_fake.round_trips == 2 and google_fake.writes == 1
    assert [m for m, _ in google_fake.api_calls] == ["GET", "PATCH"] and incremental(
        google_fake
    ) == [True]
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))

    google_fake.reset_counters()
    again = ok(
        sync(google_fake, hybrid_plan, google_token)
    )  # the patch comes back as a change: ours, current
    assert "0 updated" in again and "kept" not in again
    assert google_fake.round_trips == 1 and google_fake.writes == 0


def test_a_year_reruns_on_one_request(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    ok(sync(google_fake, hybrid_plan, google_token, weeks=52))
    ok(sync(google_fake, hybrid_plan, google_token, weeks=52))
    google_fake.reset_counters()

    output = ok(sync(google_fake, hybrid_plan, google_token, weeks=52))

    assert "517 unchanged" in output
    assert google_fake.round_trips == 1 and google_fake.bytes_down < 1000


# --- never the token over the calendar -----------------------------------------------


def test_an_owner_edit_between_runs_is_seen_and_kept(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    body = {"summary": "Intervals @ club"}
    owner(google_fake).patch(
        calendarId=calendar, eventId=g.event_id(WED_INTERVALS), body=body
    ).execute()
    edit(hybrid_plan, *MOVE_WEDNESDAY)  # the plan moves it too
    google_fake.reset_counters()

    kept = ok(sync(google_fake, hybrid_plan, google_token))

    assert "kept 1 edited, 0 deleted by you" in kept and "Intervals @ club" in kept
    assert google_fake.round_trips == 1 and google_fake.writes == 0
    assert google_fake.event(calendar, g.event_id(WED_INTERVALS))["summary"] == "Intervals @ club"

    google_fake.reset_counters()
    still = ok(
        sync(google_fake, hybrid_plan, google_token)
    )  # nothing changed since: the kept picture says so
    assert "kept 1 edited" in still and google_fake.round_trips == 1 and google_fake.writes == 0

    put_back = ok(sync(google_fake, hybrid_plan, google_token, "--overwrite-edits"))
    assert "1 updated" in put_back
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))


def test_an_owner_deletion_between_runs_is_seen_and_not_undone(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    owner(google_fake).delete(calendarId=calendar, eventId=g.event_id(WED_INTERVALS)).execute()
    google_fake.reset_counters()

    kept = ok(sync(google_fake, hybrid_plan, google_token))

    assert "0 created" in kept and "kept 0 edited, 1 deleted by you" in kept
    assert google_fake.round_trips == 1 and google_fake.writes == 0
    assert google_fake.event(calendar, g.event_id(WED_INTERVALS))["status"] == "cancelled"

    restored = ok(sync(google_fake, hybrid_plan, google_token, "--restore-deleted"))
    assert "1 updated" in restored or "1 created" in restored
    assert google_fake.event(calendar, g.event_id(WED_INTERVALS))["status"] == "confirmed"


def test_an_event_moved_out_of_the_range_is_kept(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    moved = {
        "start": {"dateTime": "2027-01-13T18:00:00+01:00", "timeZone": "Europe/Brussels"},
        "end": {"dateTime": "2027-01-13T19:00:00+01:00", "timeZone": "Europe/Brussels"},
    }
    owner(google_fake).patch(
        calendarId=calendar, eventId=g.event_id(WED_INTERVALS), body=moved
    ).execute()
    before = snapshot(google_fake, calendar)

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "0 created" in output and "kept 1 edited" in output
    assert snapshot(google_fake, calendar) == before


def test_a_copy_of_a_session_made_behind_calsyncs_back_is_removed_as_after_a_full_listing(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    """An importer copies an event with its private properties: a second live event for one
    key, which the engine deletes (it is not edited); it arrives as a change."""
    calendar = settled(google_fake, hybrid_plan, google_token)
    original = google_fake.event(calendar, g.event_id(WED_INTERVALS))
    copy = {k: v for k, v in original.items() if k not in ("id", "iCalUID", "etag")}
    google_fake.add_event(calendar, copy)
    google_fake.reset_counters()

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "1 deleted" in output and google_fake.round_trips == 2
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))


# --- when the token or the state cannot be used ----------------------------------------


def test_an_expired_token_means_a_full_listing_and_a_right_result(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    edit(hybrid_plan, *MOVE_WEDNESDAY)
    google_fake.expire_sync_tokens(calendar)

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "1 updated" in output
    assert incremental(google_fake) == [True, False]  # 410 fullSyncRequired, then in full
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))
    google_fake.reset_counters()
    ok(sync(google_fake, hybrid_plan, google_token))
    assert google_fake.round_trips == 1 and incremental(google_fake) == [True]


def test_a_calendar_deleted_between_runs_is_found_by_name_as_on_a_first_run(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    old = settled(google_fake, hybrid_plan, google_token)
    with google_fake._lock:
        google_fake._delete_calendar(old)

    output = ok(sync(google_fake, hybrid_plan, google_token))

    assert "20 created" in output
    new = calendar_named(google_fake, "Training")
    assert new != old
    assert_holds_plan(google_fake, new, desired(hybrid_plan))


DAMAGE = {
    "not JSON": (lambda text: text[: len(text) // 2], "is damaged (not JSON"),
    "unknown version": (lambda text: text.replace('"version":1', '"version":7'), "unknown version"),
    "a broken event": (
        lambda text: re.sub(r'"cs[0-9a-v]+":\[', '"x":[1,', text, count=1),
        "is damaged (an event",
    ),
    "a time without offset": (
        lambda text: re.sub(r'"since":"([^"+]*)\+01:00"', r'"since":"\1"', text),
        "without its offset",
    ),
    "token not text": (lambda text: re.sub(r'"token":"[^"]*"', '"token":42', text), "not text"),
    "no calendar": (lambda text: re.sub(r'"calendar":"[^"]*"', '"calendar":""', text), "calendar"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_state_file_is_one_warning_and_a_full_listing(
    google_fake: FakeGoogleCalendar,
    hybrid_plan: Path,
    google_token: Path,
    state_dir: Path,
    damage: str,
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    change, problem = DAMAGE[damage]
    (path,) = state_files(state_dir)
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    edit(hybrid_plan, *MOVE_WEDNESDAY)

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"calsync: WARNING: the Google state file {path} ") and problem in line
    assert "1 updated" in result.stdout and incremental(google_fake) == [False]
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))
    json.loads(path.read_text(encoding="utf-8"))  # written afresh
    google_fake.reset_counters()
    assert ok(sync(google_fake, hybrid_plan, google_token)) and google_fake.round_trips == 1


def test_a_missing_state_file_is_a_full_listing_without_a_word(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path, state_dir: Path
) -> None:
    calendar = settled(google_fake, hybrid_plan, google_token)
    (path,) = state_files(state_dir)
    path.unlink()
    edit(hybrid_plan, *MOVE_WEDNESDAY)

    result = sync(google_fake, hybrid_plan, google_token)

    assert result.exit_code == 0 and result.stderr == "", result.output
    assert "1 updated" in result.stdout and incremental(google_fake) == [False]
    assert_holds_plan(google_fake, calendar, desired(hybrid_plan))
    assert state_files(state_dir) == [path]


def test_a_dry_run_keeps_nothing(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path, state_dir: Path
) -> None:
    settled(google_fake, hybrid_plan, google_token)
    (path,) = state_files(state_dir)
    before = path.read_bytes()
    owner_calendar = calendar_named(google_fake, "Training")
    owner(google_fake).delete(
        calendarId=owner_calendar, eventId=g.event_id(WED_INTERVALS)
    ).execute()

    output = ok(sync(google_fake, hybrid_plan, google_token, "--dry-run"))

    assert "1 deleted by you" in output and path.read_bytes() == before


def test_a_run_from_an_earlier_day_than_the_kept_picture_lists_in_full(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path
) -> None:
    """The picture is complete from the day the full listing began; a run from before it
    cannot trust it."""
    settled(google_fake, hybrid_plan, google_token, "--from", "2026-12-07", "--weeks", "1")

    output = ok(sync(google_fake, hybrid_plan, google_token))  # from 2026-11-30, two weeks

    assert "10 created" in output and incremental(google_fake) == [False]


# --- two targets ------------------------------------------------------------------------


def test_two_targets_keep_separate_tokens(
    google_fake: FakeGoogleCalendar, hybrid_plan: Path, google_token: Path, state_dir: Path
) -> None:
    for name in ("Training", "Training copy"):
        ok(sync(google_fake, hybrid_plan, google_token, "--calendar", name))
        ok(sync(google_fake, hybrid_plan, google_token, "--calendar", name))
    training, copy = (
        calendar_named(google_fake, "Training"),
        calendar_named(google_fake, "Training copy"),
    )
    assert len(state_files(state_dir)) == 2
    owner(google_fake).delete(calendarId=copy, eventId=g.event_id(WED_INTERVALS)).execute()
    google_fake.reset_counters()

    first = ok(sync(google_fake, hybrid_plan, google_token, "--calendar", "Training"))
    second = ok(sync(google_fake, hybrid_plan, google_token, "--calendar", "Training copy"))

    assert "deleted by you" not in first
    assert "kept 0 edited, 1 deleted by you" in second
    assert google_fake.round_trips == 2 and incremental(google_fake) == [True, True]
    assert {p for _, p in google_fake.api_calls} == {
        f"calendars/{training}/events",
        f"calendars/{copy}/events",
    }


# --- faults with tokens in place ------------------------------------------------------------

FAULTS = {
    "outage from call n on": lambda: Fault(500, times=100),
    "answer lost once": lambda: Fault(drop=True),  # httplib2 resends it by itself
    "answer lost twice": lambda: Fault(drop=True, times=2),  # calsync retries it
    "request lost twice": lambda: Fault(drop=True, apply=False, times=2),
    "410 gone": lambda: Fault(410, reason="fullSyncRequired"),
}


@pytest.mark.clocks("real-clock", "during-the-plans")
def test_a_changing_rerun_on_a_token_cut_off_at_any_call_is_repaired_by_the_next(
    tmp_path: Path,
) -> None:
    """A synced calendar with a token kept; the owner edits one session and deletes another,
    and the plan changes (updates, deletes, creates); the run on the token meets a fault at
    call n, then a clean run: the owner's events and changes stay, the plan is in the
    calendar, once."""
    edited, deleted = f"{PLAN_ID}/2026-12-01/core", f"{PLAN_ID}/2026-12-08/core"

    def attempt(fault: Fault | None, n: int, label: str = "clean") -> int:
        # Its own plan and account (so its own state file) each time.
        plan = tmp_path / f"plan-{label}-{n}.yaml"
        shutil.copyfile(TEMPLATE, plan)
        token = write_token(tmp_path / f"token-{label}-{n}.json")
        with FakeGoogleCalendar() as server:
            work = seed_work_week(server, "primary", date(2026, 11, 30))
            # Made by the owner: the first sync lists it and keeps a token (its own
            # inserts come back as changes on the run under test).
            calendar = server.add_calendar("Training", "Europe/Brussels")["id"]
            ok(sync(server, plan, token))
            events = owner(server)
            body = {"summary": "Core (gym at work)"}
            events.patch(calendarId=calendar, eventId=g.event_id(edited), body=body).execute()
            events.delete(calendarId=calendar, eventId=g.event_id(deleted)).execute()
            kept = server.event(calendar, g.event_id(edited))
            primary = snapshot(server, "primary")
            edit(plan, "exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")
            edit(plan, "thu: [upper 10:00, z2 20:00]", "thu: [upper 10:00]")
            edit(plan, "sat: rest", "sat: [z2 09:00]")
            server.reset_counters()
            if fault is not None:
                server.fail_at(n, fault)
            sync(server, plan, token)
            calls = len(server.api_calls)
            server.clear_faults()
            assert ok(sync(server, plan, token))
            assert snapshot(server, "primary") == primary and len(work) == len(primary)
            assert server.event(calendar, g.event_id(edited)) == kept
            assert server.event(calendar, g.event_id(deleted))["status"] == "cancelled"
            want = {k: v for k, v in desired(plan).items() if k not in (edited, deleted)}
            assert_holds_plan(server, calendar, want, also={edited})
        return calls

    total = attempt(None, 0)
    assert total >= 10  # the listing and the writes
    problems = []
    for name, fault in FAULTS.items():
        for n in range(1, total + 1):
            try:
                attempt(fault(), n, name.replace(" ", "-"))
            except AssertionError as error:
                problems.append(f"{name} at call {n} of {total}: {str(error)[:300]}")
    assert problems == []
