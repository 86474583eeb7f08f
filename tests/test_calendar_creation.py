"""Creating the Google calendar converges to one (issue 12, item 3).

What was seen: a lost answer to `calendars.insert` (httplib2 resends the insert by
itself) left a second, empty "Training" calendar. calsync marks the calendars it
creates; the next run adopts the one holding the sessions and removes the empty
twins it made, and never touches a calendar it did not make.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from calsync.targets import google as g
from tests.fakegoogle import FakeGoogleCalendar, Fault
from tests.google_helpers import (
    TEMPLATE,
    assert_holds_plan,
    calendars,
    desired,
    sync,
    write_token,
)

CREATE_CALENDAR = r"^POST calendars$"
MARKED = f"Training sessions kept in step with a plan by calsync {g.MARK}"


@pytest.fixture(autouse=True)
def a_fixed_date() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 11, 26, 8, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def server() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    shutil.copyfile(TEMPLATE, tmp_path / "plan.yaml")
    return tmp_path / "plan.yaml"


@pytest.fixture
def token(tmp_path: Path) -> Path:
    return write_token(tmp_path / "token.json")


def named(server: FakeGoogleCalendar, summary: str = "Training") -> list[dict]:
    return [c for c in calendars(server) if c["summary"] == summary]


def test_a_calendar_calsync_creates_is_marked(
    server: FakeGoogleCalendar, plan: Path, token: Path
) -> None:
    assert sync(server, plan, token).exit_code == 0
    (calendar,) = named(server)
    assert g.MARK in calendar["description"]


def test_a_lost_answer_to_the_calendar_insert_converges_to_one_calendar(
    server: FakeGoogleCalendar, plan: Path, token: Path
) -> None:
    # Applied on the server, answer lost: httplib2 sends the insert again by itself.
    server.inject(Fault(drop=True, match=CREATE_CALENDAR))
    first = sync(server, plan, token)
    assert first.exit_code == 0, first.output
    twins = named(server)
    assert len(twins) == 2  # what was seen: a second, empty "Training"
    assert sorted(len(server.events(c["id"])) for c in twins) == [0, 20]

    again = sync(server, plan, token)

    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 0 deleted, 20 unchanged" in again.output
    (kept,) = named(server)
    assert_holds_plan(server, kept["id"], desired(plan))


def test_empty_twins_calsync_made_are_removed_and_one_is_adopted(
    server: FakeGoogleCalendar, plan: Path, token: Path
) -> None:
    """Three empty calendars calsync made (say, three runs cut off before any event):
    the next run adopts the first and removes the other two."""
    made = [server.add_calendar("Training", description=MARKED)["id"] for _ in range(3)]

    result = sync(server, plan, token)

    assert result.exit_code == 0, result.output
    assert [c["id"] for c in named(server)] == [made[0]]
    assert_holds_plan(server, made[0], desired(plan))


def test_a_calendar_calsync_did_not_make_is_never_removed(
    server: FakeGoogleCalendar, plan: Path, token: Path
) -> None:
    theirs = server.add_calendar("Training")["id"]  # the user's own, empty, no mark
    ours = server.add_calendar("Training", description=MARKED)["id"]
    server.add_event(
        ours,
        {
            "summary": "placeholder",
            "start": {"dateTime": "2026-11-30T07:00:00+01:00"},
            "end": {"dateTime": "2026-11-30T07:30:00+01:00"},
        },
    )

    result = sync(server, plan, token)

    assert result.exit_code == 0, result.output
    assert {c["id"] for c in named(server)} == {theirs, ours}
    assert server.events(theirs) == []  # untouched, and still there
    assert_holds_plan(server, ours, desired(plan))


def test_a_dry_run_removes_nothing(server: FakeGoogleCalendar, plan: Path, token: Path) -> None:
    for _ in range(2):
        server.add_calendar("Training", description=MARKED)
    assert sync(server, plan, token, "--dry-run").exit_code == 0
    assert len(named(server)) == 2 and server.writes == 0
