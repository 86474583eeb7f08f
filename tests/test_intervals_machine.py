"""The intervals.icu backend as a state machine: plan changes, the athlete's edits and
deletions, and runs broken at any request, in any order (hypothesis).

After every clean run the athlete's calendar holds each planned session exactly once,
except those the athlete deleted (gone for good) or edited (as the athlete left them),
and nothing the athlete made is ever touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from calsync.core.expand import expand
from calsync.errors import Failure
from calsync.io.plans import load_plan
from calsync.sync.engine import desired_events
from calsync.sync.request import SyncRequest
from calsync.targets.intervals import ENDPOINT_VARIABLE, intervals_target
from calsync.targets.retry import Retry
from fakes.fakeintervals import API_KEY, FakeIntervals, Fault
from tests.google_helpers import PLAN_ID, TEMPLATE

START = date(2026, 11, 30)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # before the first session: all are to come
TEXT = TEMPLATE.read_text(encoding="utf-8")
PLANS = {
    "template": TEXT,
    "moved": TEXT.replace("2026-12-24: [z2 09:00]", "2026-12-09: [z2 07:00]"),
    "retitled": TEXT.replace("title: Core", "title: Core and mobility"),
    "shorter": TEXT.replace("duration: 75m", "duration: 60m"),
    "lisbon": TEXT.replace("timezone: Europe/Brussels", "timezone: Europe/Lisbon"),  # all move
    "gym-2": TEXT.replace("load: easy}", 'load: easy, location: "Gym 2"}')
    .replace("load: hard}", 'load: hard, location: "Gym 2"}')
    .replace("load: moderate}", 'load: moderate, location: "Gym 2"}'),
}
FAULTS = {
    "lost-answer": Fault(drop=True, apply=True),
    "lost-request": Fault(drop=True, apply=False),
    "error": Fault(500),
}
OWN = [
    {"category": "NOTE", "start_date_local": "2026-12-02T00:00:00", "name": "Physio"},
    {
        "category": "WORKOUT",
        "type": "Ride",
        "start_date_local": "2026-12-05T08:00:00",
        "name": "Club ride",
        "description": "- 2h 65%",
    },
    {
        "category": "WORKOUT",
        "type": "Run",
        "start_date_local": "2026-12-03T07:00:00",
        "name": "Coach's run",
        "external_id": "trainingpeaks:991",
    },
]


class IntervalsCalendar(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.plan_path = Path(self.folder.name) / "plan.yaml"
        self.server = FakeIntervals().__enter__()
        self.previous = os.environ.get(ENDPOINT_VARIABLE)
        os.environ[ENDPOINT_VARIABLE] = self.server.root_url
        self.own = [self.server.add_event(e) for e in OWN]
        self.edited: dict[str, str] = {}  # key -> the name the athlete gave it
        self.deleted: set[str] = set()
        self.known = True  # calsync has seen every workout it made (no run broke since)

    def teardown(self) -> None:
        self.server.__exit__(None, None, None)
        if self.previous is None:
            os.environ.pop(ENDPOINT_VARIABLE, None)
        else:
            os.environ[ENDPOINT_VARIABLE] = self.previous
        self.folder.cleanup()

    # --- what happens ---

    def sync(self, fault: Fault | None = None, at: int = 0, times: int = 0) -> Any:
        """One run, with `fault` at its requests `at` .. `at + times - 1`."""
        self.server.reset_counters()  # and no fault left over from a shorter run
        for n in range(at, at + times):
            self.server.fail_at(n, fault or Fault())
        plan = load_plan(self.plan_path)
        request = SyncRequest.window(plan, START, 2, NOW)
        return intervals_target(
            plan,
            request,
            "0",
            API_KEY,
            state_path=Path(self.folder.name) / "made.json",
            retry=Retry(attempts=3, sleep=self.server.advance),
        )

    @initialize(
        variant=st.sampled_from(sorted(PLANS)),
        fault=st.none() | st.sampled_from(sorted(FAULTS)),
        at=st.integers(0, 2),  # the athlete, the listing, the bulk create
    )
    def first_sync(self, variant: str, fault: str | None, at: int) -> None:
        self.plan_path.write_text(PLANS[variant], encoding="utf-8")
        self.clean_run(FAULTS[fault] if fault else None, at, times=1 if fault else 0)

    @rule(variant=st.sampled_from(sorted(PLANS)))
    def change_plan(self, variant: str) -> None:
        self.plan_path.write_text(PLANS[variant], encoding="utf-8")

    @rule(fault=st.sampled_from(sorted(FAULTS)), at=st.integers(0, 6))
    def broken_run(self, fault: str, at: int) -> None:
        with contextlib.suppress(Failure):  # a run that breaks fails cleanly, or recovers
            self.sync(FAULTS[fault], at, times=40)
        self.known = False

    @rule(fault=st.sampled_from(sorted(FAULTS)), at=st.integers(0, 6))
    def run_with_a_passing_fault(self, fault: str, at: int) -> None:
        self.clean_run(FAULTS[fault], at, times=1)

    @rule()
    def clean_run(self, fault: Fault | None = None, at: int = 0, times: int = 0) -> None:
        report = self.sync(fault, at, times)
        assert not report.failures
        self.known = True
        self.check_holds_plan()

    @precondition(lambda self: self.known)
    @rule(data=st.data())
    def athlete_edits(self, data: st.DataObject) -> None:
        free = sorted(set(self.ours()) - set(self.edited))
        if free:
            key = data.draw(st.sampled_from(free))
            name = f"Moved to the lunch break {len(self.edited)}"
            self.server.edit_event(self.ours()[key]["id"], name=name)
            self.edited[key] = name

    @precondition(lambda self: self.known)
    @rule(data=st.data())
    def athlete_deletes(self, data: st.DataObject) -> None:
        present = sorted(self.ours())
        if present:
            key = data.draw(st.sampled_from(present))
            self.server.delete_event(self.ours()[key]["id"])
            self.deleted.add(key)
            self.edited.pop(key, None)

    # --- what must hold ---

    def ours(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for event in self.server.events():
            external = event.get("external_id") or ""
            if external.startswith(f"calsync:{PLAN_ID}/"):
                key = external.removeprefix("calsync:")
                assert key not in found, f"two workouts for {key}"
                found[key] = event
        return found

    @invariant()
    def no_duplicates_and_the_athletes_own_untouched(self) -> None:
        self.ours()
        held = {e["id"]: e for e in self.server.events()}
        assert [held.get(e["id"]) for e in self.own] == self.own

    def check_holds_plan(self) -> None:
        plan = load_plan(self.plan_path)
        schedule = expand(plan, START, date(2026, 12, 14))
        want = {c.key: c for c in desired_events(schedule, annotate=True)}
        held = self.ours()
        for key in self.deleted:
            assert key not in held, f"{key} deleted by the athlete came back"
        for key, name in self.edited.items():
            assert held[key]["name"] == name, f"{key} edited by the athlete was overwritten"
        for key, content in want.items():
            if key in self.deleted or key in self.edited:
                continue
            assert held[key]["name"] == content.summary
            assert held[key]["description"].startswith(content.description)
        extra = set(held) - set(want) - set(self.edited)
        assert not extra, f"workouts the plan no longer has: {sorted(extra)}"


IntervalsCalendar.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_intervals_calendar = IntervalsCalendar.TestCase
