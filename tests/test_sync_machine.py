"""The sync engine and a backend as a state machine (hypothesis), like vdirsyncer's
`SyncMachine` (tests/unit/sync/test_sync.py).

The rules change the plan, let the owner edit, move, delete or cancel events
(or edit one between calsync's read and its write), make writes fail or lose
their answers, let time pass, and sync. Whatever the order, these hold:

- no owner edit is overwritten: an event the owner last touched stays as they
  left it (no sync here asks for --overwrite-edits or --restore-deleted);
- no session key is held by two live events;
- nothing that starts before the run's `not_before` is written;
- after a sync that met no fault, a second sync has nothing to do.

The backend is the in-memory one (fakes/memory.py); shorter runs drive the
Google fake through the real client (`GoogleMachine`) and a real Radicale
(`CalDAVMachine`): the owner edits, deletes and adds events, answers are lost,
time passes, the plan changes, and the owner's own events are never touched.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calsync.core.content import EventContent
from calsync.core.expand import expand
from calsync.core.model import Plan
from calsync.io.plans import load_plan
from calsync.sync.backend import Backend
from calsync.sync.engine import (
    Action,
    Policy,
    SyncReport,
    desired_events,
    run_sync,
)
from calsync.targets.caldav.memory import KnownEvents
from fakes.fakegoogle import FakeGoogleCalendar
from fakes.memory import Item, MemoryBackend, MemoryCalendar
from fakes.radicale_server import RadicaleServer
from tests.backend_contract import FIRST_INSTANT, PLAN_ID, START, TEMPLATE, WEEKS, Place, Shown
from tests.backend_contract import sync as contract_sync
from tests.places import read_by_owner

TEXT = TEMPLATE.read_text(encoding="utf-8")
VARIANTS = {
    "template": TEXT,
    "spin": TEXT.replace("title: Zone 2 ride", "title: Zone 2 spin"),
    "no-thursday": TEXT.replace("thu: [upper 10:00, z2 20:00]", "thu: rest"),
    "early-intervals": TEXT.replace("wed: [intervals 20:00]", "wed: [intervals 18:00]"),
    "extra-core": TEXT.replace("sat: rest", "sat: [core 09:00]"),
}
END = FIRST_INSTANT + timedelta(weeks=WEEKS)
RANGE = timedelta(weeks=WEEKS)
ACTIONS = st.sampled_from([None, Action.CREATE, Action.UPDATE, Action.DELETE])


def load_variants(folder: Path) -> dict[str, Plan]:
    plans = {}
    for name, text in VARIANTS.items():
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        plans[name] = load_plan(path)
    return plans


class SyncMachine(RuleBasedStateMachine):
    """Plan, owner, faults and time against the in-memory calendar."""

    plans: dict[str, Plan] = {}

    def __init__(self) -> None:
        super().__init__()
        self.calendar = MemoryCalendar()
        self.plan = self.plans["template"]
        self.now = FIRST_INSTANT
        self.touched: dict[str, Item] = {}  # ref -> the event as its owner last left it
        self.notes = 0

    # --- the backend and one run ---

    def backend(self) -> Backend:
        return MemoryBackend(self.calendar)

    def live(self) -> list[Item]:
        return [i for i in self.calendar.items.values() if i.plan == PLAN_ID and not i.cancelled]

    def desired(self) -> tuple[EventContent, ...]:
        return desired_events(expand(self.plan, START, START + timedelta(weeks=WEEKS)), True)

    def run(self) -> SyncReport:
        schedule = expand(self.plan, START, START + timedelta(weeks=WEEKS))
        return run_sync(schedule, self.backend(), "machine", self.now, Policy())

    def faults_pending(self) -> bool:
        return bool(self.calendar.faults)

    # --- rules ---

    @rule(name=st.sampled_from(sorted(VARIANTS)))
    def change_the_plan(self, name: str) -> None:
        self.plan = self.plans[name]

    @rule(hours=st.integers(1, 60))
    def time_passes(self, hours: int) -> None:
        self.now = min(self.now + timedelta(hours=hours), END)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), minutes=st.integers(-90, 90))
    def time_passes_to_near_a_session(self, data: st.DataObject, minutes: int) -> None:
        """Where `not_before` matters: just before or after a session starts, one that the
        plan has changed since it was written when there is one."""
        fingerprints = {c.key: c.fingerprint for c in self.desired()}
        stale = [i for i in self.live() if fingerprints.get(i.key or "") != i.stored]
        item = data.draw(st.sampled_from(sorted(stale or self.live(), key=lambda i: i.ref)))
        self.now = min(max(self.now, item.start + timedelta(minutes=minutes)), END)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), how=st.sampled_from(["edit", "move", "delete", "cancel"]))
    def the_owner_changes_an_event(self, data: st.DataObject, how: str) -> None:
        item = data.draw(st.sampled_from(sorted(self.live(), key=lambda i: i.ref)))
        assert item.key is not None
        self.notes += 1
        if how == "edit":
            self.calendar.edit(item.key, summary=f"Owner's note {self.notes}")
        elif how == "move":
            self.calendar.move(item.key, item.start + timedelta(hours=self.notes % 5 + 1))
        else:
            getattr(self.calendar, how)(item.key)
        self.touched[item.ref] = self.calendar.items[item.ref]

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def the_owner_edits_while_calsync_writes(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(sorted(self.live(), key=lambda i: i.ref)))
        assert item.key is not None
        self.calendar.race(item.key, summary=f"Changed during a sync {item.ref}")

    @rule(action=ACTIONS, times=st.integers(1, 3))
    def writes_fail(self, action: Action | None, times: int) -> None:
        self.calendar.fail(action, times=times)

    @rule(action=ACTIONS, times=st.integers(1, 3))
    def answers_are_lost(self, action: Action | None, times: int) -> None:
        self.calendar.lose(action, times=times)

    @rule()
    def sync(self) -> None:
        clean = not self.faults_pending()
        before = {r: i for r, i in self.calendar.items.items() if i.start < self.now}
        report = self.run()
        self.note_races()

        assert all(c.start >= self.now for c in report.changes.changes)
        after = {r: i for r, i in self.calendar.items.items() if i.start < self.now}
        assert after == before, "an event that starts before not_before was written"
        if clean and not report.failures:
            writes = self.calendar.writes
            again = self.run()
            assert again.changes.changes == (), "a second sync had something to do"
            assert self.calendar.writes == writes
        if report.failures and clean:
            raise AssertionError(f"a write failed with no fault injected: {report.failures}")

    def note_races(self) -> None:
        """A race's edit is the owner's too: from now on it must stay as they left it."""
        for ref, item in self.calendar.items.items():
            if item.summary.startswith("Changed during a sync") and ref not in self.touched:
                self.touched[ref] = item
        # a race whose write never came (the session was not written) is dropped
        self.calendar.faults = [f for f in self.calendar.faults if f.kind != "race"]

    # --- invariants ---

    @invariant()
    def no_owner_edit_is_overwritten(self) -> None:
        for ref, left in self.touched.items():
            assert self.calendar.items[ref] == left, f"the owner's {left.summary!r} was overwritten"

    @invariant()
    def no_key_is_held_twice(self) -> None:
        keys = [i.key for i in self.live()]
        assert len(keys) == len(set(keys)), "a session key is held by two live events"

    @invariant()
    def every_written_event_reads_as_calsync_wrote_it(self) -> None:
        for item in self.live():
            if item.ref not in self.touched:
                assert item.current == item.stored


MACHINE = settings(
    max_examples=100,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_the_engine_keeps_its_promises_over_the_memory_backend(tmp_path: Path) -> None:
    SyncMachine.plans = load_variants(tmp_path)
    run_state_machine_as_test(SyncMachine, settings=MACHINE)


# --- a few steps against real clients: the Google fake, a real Radicale ------------


class RealMachine(RuleBasedStateMachine):
    """The same promises over a place reached through a real client, with the contract's
    owner (tests/places.py): fewer rules and steps, since every sync is real HTTP."""

    plans: dict[str, Plan] = {}
    # Whether answers set to be lost are lost only to calsync's client: else the owner
    # waits for the next sync before acting (the Google fake's faults hit every client).
    faults_spare_the_owner = True

    def __init__(self) -> None:
        super().__init__()
        self.place = self.open_place()
        self.plan = self.plans["template"]
        self.now = FIRST_INSTANT
        self.touched: dict[str, Shown | None] = {}  # key -> as the owner left it (None: gone)
        self.own = 0
        self.losing = False

    def owner_may_act(self) -> bool:
        return self.faults_spare_the_owner or not self.losing

    def open_place(self) -> Place:
        raise NotImplementedError

    def clear_faults(self) -> None:
        """Answers are lost only in the run they were set up for."""

    @rule(name=st.sampled_from(sorted(VARIANTS)))
    def change_the_plan(self, name: str) -> None:
        self.plan = self.plans[name]

    @rule(hours=st.integers(6, 80))
    def time_passes(self, hours: int) -> None:
        self.now = min(self.now + timedelta(hours=hours), END)

    @precondition(lambda self: self.owner_may_act() and self.place.managed())
    @rule(data=st.data(), how=st.sampled_from(["edit", "delete"]))
    def the_owner_changes_an_event(self, data: st.DataObject, how: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.place.managed())))
        if how == "edit":
            self.place.edit(key, f"Owner's note {len(self.touched)}")
        else:
            self.place.delete(key)
        self.touched[key] = self.place.managed().get(key)

    @precondition(lambda self: self.owner_may_act())
    @rule(day=st.integers(0, 7 * WEEKS - 1))
    def the_owner_adds_an_appointment(self, day: int) -> None:
        start = FIRST_INSTANT + timedelta(days=day, hours=12)
        self.own += 1
        self.place.add_own(f"Dentist {self.own}", start, start + timedelta(hours=1))

    @rule(action=st.sampled_from([Action.CREATE, Action.UPDATE, Action.DELETE]))
    def answers_are_lost(self, action: Action) -> None:
        self.place.lose(action)
        self.losing = True

    @rule()
    def sync(self) -> None:
        before = {k: s for k, s in self.place.managed().items() if s.start < self.now}
        own = self.place.own()
        report = contract_sync(self.place, self.plan, not_before=self.now)
        after = {k: s for k, s in self.place.managed().items() if s.start < self.now}
        assert after == before and not report.failures
        assert self.place.own() == own  # the owner's own events are never touched
        self.clear_faults()
        self.losing = False
        writes = self.place.writes()
        again = contract_sync(self.place, self.plan, not_before=self.now)
        assert again.changes.changes == () and self.place.writes() == writes
        self.kept_is_the_calendar()

    def kept_is_the_calendar(self) -> None:
        """What the target keeps between runs is what reading the calendar gives now."""

    @invariant()
    def no_owner_edit_is_overwritten(self) -> None:
        shown = self.place.managed()  # fails on a key held twice
        for key, left in self.touched.items():
            assert shown.get(key) == left, f"the owner's change to {key} was undone"


class GoogleMachine(RealMachine):
    faults_spare_the_owner = False

    def open_place(self) -> Place:
        from tests.places import GooglePlace

        self.fake = FakeGoogleCalendar().__enter__()
        return GooglePlace(self.fake)

    def clear_faults(self) -> None:
        self.fake.clear_faults()

    def teardown(self) -> None:
        self.fake.__exit__(None, None, None)


class CalDAVMachine(RealMachine):
    """Every run over the same weeks, so a rerun goes by what changed since the last
    listing (RFC 6578): the owner's edits, deletions and new events must still be seen."""

    server: RadicaleServer | None = None
    folder: Path | None = None

    def open_place(self) -> Place:
        from tests.places import RadicalePlace

        assert self.server is not None and self.folder is not None
        return RadicalePlace(self.server, self.folder / f"{uuid.uuid4().hex}.json")

    def kept_is_the_calendar(self) -> None:
        """The listing kept after a clean run, as a rerun will take it on the server's word
        that nothing changed, is exactly what the owner's client reads in the range."""
        place = cast(Any, self.place)
        kept = KnownEvents(place.state).readings(PLAN_ID, str(self.plan.zone))
        start = self.plan.midnight(START)
        read = read_by_owner(place.other, place.url, self.plan, start, start + RANGE)
        assert kept == read


def test_the_engine_keeps_its_promises_over_the_google_fake(tmp_path: Path) -> None:
    GoogleMachine.plans = load_variants(tmp_path)
    run_state_machine_as_test(
        GoogleMachine, settings=settings(MACHINE, max_examples=15, stateful_step_count=5)
    )


def test_the_engine_keeps_its_promises_over_a_real_radicale(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    CalDAVMachine.plans = load_variants(tmp_path)
    CalDAVMachine.server, CalDAVMachine.folder = radicale, tmp_path
    run_state_machine_as_test(
        CalDAVMachine, settings=settings(MACHINE, max_examples=12, stateful_step_count=6)
    )
