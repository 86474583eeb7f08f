"""The backend contract: one set of scenarios every sync target must pass.

As vdirsyncer's `tests/storage/__init__.py` `StorageTests` is subclassed by each of
its storages, `BackendContract` is subclassed in tests/test_contract.py for the
in-memory backend (fakes/memory.py), Google (fakes/fakegoogle.py through the
real googleapiclient) and CalDAV (a real Radicale). A subclass gives a `place`
fixture: a `Place`, one empty calendar on that target with its owner's hands
(the owner edits, moves, deletes and cancels events through another client, as
from a phone) and the faults that target can be made to show.

The plan is the shipped hybrid-hypertrophy template, two weeks from Monday
2026-11-30: 20 sessions.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calsync.cli.sync_report import sync_counts
from calsync.core.content import EventContent
from calsync.core.expand import expand
from calsync.core.model import Plan
from calsync.io.plans import load_plan
from calsync.sync.backend import Backend
from calsync.sync.engine import Action, Outcome, Policy, SyncReport, desired_events
from calsync.sync.request import Range, SyncRequest
from calsync.sync.run import sync_plan

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "hybrid-hypertrophy.yaml"
BRUSSELS = ZoneInfo("Europe/Brussels")
START = date(2026, 11, 30)  # the template's first Monday
WEEKS = 2
FIRST_INSTANT = datetime(2026, 11, 30, tzinfo=BRUSSELS)
PLAN_ID = "hybrid-hypertrophy"
WED_INTERVALS = f"{PLAN_ID}/2026-12-02/intervals"
TUE_CORE = f"{PLAN_ID}/2026-12-01/core"


@dataclass(frozen=True)
class Shown:
    """A live managed event as the target shows it."""

    ref: str
    summary: str
    start: datetime
    stored: str  # the fingerprint calsync wrote into it


class Place(abc.ABC):
    """One empty calendar on a target, its owner, and its faults."""

    busy_name: str  # what names the target calendar itself in `busy`

    @abc.abstractmethod
    def backend(self, plan: Plan) -> Backend:
        """A backend for this calendar, as one run of calsync opens it."""

    @abc.abstractmethod
    def managed(self) -> dict[str, Shown]:
        """The live events of the plan by session key; fails on a duplicate key."""

    @abc.abstractmethod
    def own(self) -> Any:
        """Everything about the events calsync does not manage (compared for equality)."""

    @abc.abstractmethod
    def writes(self) -> int:
        """Writes the target has seen, counted by the target, not by the client."""

    @abc.abstractmethod
    def reads(self) -> int:
        """Listings of the calendar's events the target has answered."""

    # the owner, through another client
    @abc.abstractmethod
    def edit(self, key: str, summary: str) -> None: ...

    @abc.abstractmethod
    def move(self, key: str, start: datetime) -> None: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def cancel(self, key: str) -> None: ...

    @abc.abstractmethod
    def add_own(self, summary: str, start: datetime, end: datetime) -> None: ...

    # faults
    @abc.abstractmethod
    def lose(self, action: Action) -> None:
        """The next run's writes of `action` land, but their first answers are lost."""


class Racing:
    """A backend whose calendar's owner acts on it between calsync's read and write."""

    def __init__(self, inner: Backend, meanwhile: Callable[[], None]) -> None:
        self.inner, self.meanwhile = inner, meanwhile

    def list_managed(self, *args: Any) -> Any:
        found = self.inner.list_managed(*args)
        self.meanwhile()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Plan:
    """The template with some text replaced: a plan change, as its owner would make it."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"plan-{len(list(tmp_path.glob('plan-*')))}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def wanted(plan: Plan) -> dict[str, EventContent]:
    schedule = expand(plan, START, START + timedelta(weeks=WEEKS))
    return {c.key: c for c in desired_events(schedule, True)}


def sync(
    place: Place,
    plan: Plan,
    policy: Policy | None = None,
    not_before: datetime = FIRST_INSTANT,
    busy: tuple[str, ...] = (),
    backend: Backend | None = None,
) -> SyncReport:
    """One run, as the command line makes it: open the backend, hand it to the engine."""
    policy = policy or Policy()
    request = SyncRequest(
        Range(START, WEEKS), FIRST_INSTANT, not_before, policy.overwrite_edits,
        policy.restore_deleted, annotate=True, dry_run=False,
    )  # fmt: skip
    return sync_plan(backend or place.backend(plan), plan, request, busy)


def counts(report: SyncReport) -> dict[str, int]:
    return {k: v for k, v in sync_counts(report).items() if v}


class BackendContract:
    """The scenarios; a subclass provides the `place` fixture."""

    @pytest.fixture
    def plan(self) -> Plan:
        return load_plan(TEMPLATE)

    def test_a_first_sync_creates_every_session_once(self, place: Place, plan: Plan) -> None:
        report = sync(place, plan)

        want = wanted(plan)
        assert counts(report) == {"created": len(want)} and len(want) == 20
        assert {k: s.stored for k, s in place.managed().items()} == {
            k: c.fingerprint for k, c in want.items()
        }
        assert place.managed()[WED_INTERVALS].summary == want[WED_INTERVALS].summary
        assert place.writes() == len(want)

    def test_a_rerun_writes_nothing(self, place: Place, plan: Plan) -> None:
        sync(place, plan)
        before, writes = place.managed(), place.writes()

        again = sync(place, plan)

        assert counts(again) == {"unchanged": 20}
        assert place.writes() == writes and place.managed() == before

    def test_a_plan_change_updates_exactly_the_changed_sessions_in_place(
        self, place: Place, plan: Plan, tmp_path: Path
    ) -> None:
        sync(place, plan)
        before, writes = place.managed(), place.writes()
        changed = variant(tmp_path, ("title: Zone 2 ride", "title: Zone 2 spin"))
        old, new = wanted(plan), wanted(changed)
        differ = {k for k in new if new[k].fingerprint != old[k].fingerprint}

        report = sync(place, changed)

        after = place.managed()
        assert counts(report) == {"updated": len(differ), "unchanged": 20 - len(differ)}
        assert {f"{PLAN_ID}/2026-12-01/z2", f"{PLAN_ID}/2026-12-08/z2"} <= differ
        assert {k for k in after if after[k] != before[k]} == differ
        assert all(
            after[k].ref == before[k].ref and after[k].stored == new[k].fingerprint for k in differ
        )
        assert place.writes() == writes + len(differ)

    def test_a_removed_session_is_deleted(self, place: Place, plan: Plan, tmp_path: Path) -> None:
        sync(place, plan)
        fewer = variant(tmp_path, ("thu: [upper 10:00, z2 20:00]", "thu: rest"))

        report = sync(place, fewer)

        gone = {f"{PLAN_ID}/{d}/{s}" for d in ("2026-12-03", "2026-12-10") for s in ("upper", "z2")}
        assert counts(report) == {"deleted": 4, "unchanged": 16}
        assert set(place.managed()) == set(wanted(plan)) - gone == set(wanted(fewer))
        assert counts(sync(place, fewer)) == {"unchanged": 16}

    def test_an_owner_edit_is_never_overwritten_and_is_reported(
        self, place: Place, plan: Plan, tmp_path: Path
    ) -> None:
        sync(place, plan)
        place.edit(WED_INTERVALS, "Intervals at the club")
        moved = variant(
            tmp_path, ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")
        )
        writes = place.writes()

        kept = sync(place, moved)

        assert counts(kept) == {"unchanged": 19, "kept_edited": 1}
        [conflict] = [c for c in kept.conflicts if c.rule == "edited"]
        assert "Intervals at the club" in conflict.message
        assert place.writes() == writes
        assert place.managed()[WED_INTERVALS].summary == "Intervals at the club"

        back = sync(place, moved, Policy(overwrite_edits=True))

        assert counts(back) == {"updated": 1, "unchanged": 19}
        assert place.managed()[WED_INTERVALS].stored == wanted(moved)[WED_INTERVALS].fingerprint
        assert counts(sync(place, moved)) == {"unchanged": 20}

    @pytest.mark.parametrize("how", ["delete", "cancel"])
    def test_an_owner_delete_is_not_recreated(self, place: Place, plan: Plan, how: str) -> None:
        sync(place, plan)
        getattr(place, how)(TUE_CORE)
        writes = place.writes()

        for _ in range(2):  # and it stays that way
            report = sync(place, plan)
            assert counts(report) == {"unchanged": 19, "kept_deleted": 1}
            assert [c.rule for c in report.conflicts if c.rule == "deleted"] == ["deleted"]
        assert place.writes() == writes and TUE_CORE not in place.managed()

        back = sync(place, plan, Policy(restore_deleted=True))

        assert counts(back) == {"updated": 1, "unchanged": 19}  # restored in place
        assert place.managed()[TUE_CORE].stored == wanted(plan)[TUE_CORE].fingerprint
        assert counts(sync(place, plan)) == {"unchanged": 20}

    def test_an_event_moved_out_of_the_range_is_kept_not_created_again(
        self, place: Place, plan: Plan
    ) -> None:
        sync(place, plan)
        place.move(WED_INTERVALS, datetime(2027, 6, 2, 18, 0, tzinfo=BRUSSELS))
        writes = place.writes()

        report = sync(place, plan)

        assert counts(report)["kept_edited"] == 1 and "created" not in counts(report)
        assert place.writes() == writes
        assert place.managed()[WED_INTERVALS].start == datetime(2027, 6, 2, 18, 0, tzinfo=BRUSSELS)

    def test_a_lost_create_answer_never_duplicates(self, place: Place, plan: Plan) -> None:
        place.lose(Action.CREATE)

        report = sync(place, plan)

        assert counts(report) == {"created": 20}
        assert set(place.managed()) == set(wanted(plan))  # and no key twice (managed checks)
        writes = place.writes()
        assert counts(sync(place, plan)) == {"unchanged": 20} and place.writes() == writes

    @pytest.mark.parametrize("action", [Action.UPDATE, Action.DELETE])
    def test_a_lost_answer_to_an_update_or_delete_is_recognised(
        self, place: Place, plan: Plan, tmp_path: Path, action: Action
    ) -> None:
        sync(place, plan)
        changed = variant(
            tmp_path,
            ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n  2026-12-03: rest\n"),
        )
        place.lose(action)

        report = sync(place, changed)

        assert counts(report) == {"updated": 1, "deleted": 2, "unchanged": 17}
        assert {k: s.stored for k, s in place.managed().items()} == {
            k: c.fingerprint for k, c in wanted(changed).items()
        }
        assert counts(sync(place, changed)) == {"unchanged": 18}

    def test_a_write_refused_for_a_moved_etag_is_reread_and_judged(
        self, place: Place, plan: Plan, tmp_path: Path
    ) -> None:
        """The owner edits an event between calsync's read and its write (412): kept."""
        sync(place, plan)
        moved = variant(
            tmp_path, ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")
        )
        racing = Racing(
            place.backend(moved), lambda: place.edit(WED_INTERVALS, "Intervals on the trainer")
        )

        report = sync(place, moved, backend=racing)

        assert [(r.change.key, r.outcome) for r in report.results] == [
            (WED_INTERVALS, Outcome.EDITED)
        ]
        assert [c.rule for c in report.conflicts if c.rule == "edited"] == ["edited"]
        shown = place.managed()[WED_INTERVALS]
        assert shown.summary == "Intervals on the trainer" and shown.start.hour == 20

    @pytest.mark.parametrize("how", ["delete", "cancel"])
    def test_an_owner_delete_between_read_and_write_is_kept_deleted(
        self, place: Place, plan: Plan, tmp_path: Path, how: str
    ) -> None:
        """The update meets 412 (or 404) and the re-check finds nothing live there: the
        owner's deletion, kept and reported, never counted as updated nor restored."""
        sync(place, plan)
        moved = variant(
            tmp_path, ("exceptions:\n", "exceptions:\n  2026-12-02: [intervals 18:00]\n")
        )
        racing = Racing(place.backend(moved), lambda: getattr(place, how)(WED_INTERVALS))

        report = sync(place, moved, backend=racing)

        assert [(r.change.key, r.outcome) for r in report.results] == [
            (WED_INTERVALS, Outcome.EDITED)
        ]
        assert WED_INTERVALS not in place.managed()
        assert counts(sync(place, moved)) == {"unchanged": 19, "kept_deleted": 1}

    def test_nothing_before_not_before_is_touched(
        self, place: Place, plan: Plan, tmp_path: Path
    ) -> None:
        sync(place, plan)
        before = place.managed()
        later = variant(
            tmp_path,
            ("title: Zone 2 ride", "title: Zone 2 spin"),
            ("thu: [upper 10:00, z2 20:00]", "thu: rest"),
        )
        second_week = datetime(2026, 12, 7, tzinfo=BRUSSELS)

        report = sync(place, later, not_before=second_week)

        after = place.managed()
        first_week = {k for k, s in before.items() if s.start < second_week}
        assert len(first_week) == 10 and {k: after[k] for k in first_week} == {
            k: before[k] for k in first_week
        }
        assert all(c.start >= second_week for c in report.changes.changes)
        assert counts(report)["deleted"] == 2 and counts(report)["updated"] >= 1

    def test_a_first_sync_after_not_before_creates_only_what_is_ahead(
        self, place: Place, plan: Plan
    ) -> None:
        report = sync(place, plan, not_before=datetime(2026, 12, 7, tzinfo=BRUSSELS))
        assert counts(report) == {"created": 10}
        assert all(
            s.start >= datetime(2026, 12, 7, tzinfo=BRUSSELS) for s in place.managed().values()
        )

    def test_the_owners_own_events_are_never_touched(
        self, place: Place, plan: Plan, tmp_path: Path
    ) -> None:
        place.add_own(
            "Dentist",
            datetime(2026, 12, 1, 8, tzinfo=BRUSSELS),
            datetime(2026, 12, 1, 9, tzinfo=BRUSSELS),
        )
        place.add_own(
            "🏋 Legs",
            datetime(2026, 12, 7, 10, tzinfo=BRUSSELS),
            datetime(2026, 12, 7, 11, tzinfo=BRUSSELS),
        )
        theirs = place.own()
        fewer = variant(tmp_path, ("mon: [legs 10:00]", "mon: rest"))

        runs = [sync(place, plan), sync(place, plan, busy=(place.busy_name,))]
        runs.append(sync(place, fewer, Policy(overwrite_edits=True, restore_deleted=True)))

        assert [counts(r).get("failed", 0) for r in runs] == [0, 0, 0]
        assert counts(runs[2])["deleted"] == 2
        assert place.own() == theirs

    def test_a_calendar_made_in_this_run_is_not_read(self, place: Place, plan: Plan) -> None:
        backend = place.backend(plan)
        backend.fresh = True  # as the opener says of a calendar it just made
        reads = place.reads()

        report = sync(place, plan, backend=backend)

        assert counts(report) == {"created": 20} and place.reads() == reads
        assert set(place.managed()) == set(wanted(plan))

    def test_busy_time_of_the_target_is_its_other_events(self, place: Place, plan: Plan) -> None:
        dentist = (
            datetime(2026, 12, 1, 8, tzinfo=BRUSSELS),
            datetime(2026, 12, 1, 9, tzinfo=BRUSSELS),
        )
        place.add_own("Dentist", *dentist)
        sync(place, plan)
        backend = place.backend(plan)
        start = FIRST_INSTANT

        busy = backend.busy([place.busy_name], start, start + timedelta(weeks=WEEKS), plan.id)

        assert [(b.start, b.end) for b in busy] == [dentist]  # the plan's own sessions left out
