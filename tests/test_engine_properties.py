"""Properties of the change engine and of the .ics export, over random calendars and plans.

The engine is pure, so its promises are checked on any calendar state at all:
applying its changes makes the calendar hold the plan, it never touches the
past, never overwrites an edit or revives a deletion unless asked, and a
second pass over its own result has nothing left to do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from calsync.core.content import EventContent
from calsync.core.expand import expand
from calsync.core.loader import parse_plan
from calsync.sync.engine import Action, ChangeSet, Policy, Remote, plan_changes
from calsync.targets.ics import render
from tests.strategies import plans

BASE = datetime(2026, 11, 30, tzinfo=UTC)
NOW = BASE + timedelta(days=3)
KEYS = [f"p/2026-12-{day:02d}/s{n}" for day in range(1, 8) for n in range(2)]
SETTINGS = settings(max_examples=150, deadline=None)


def content(key: str, version: int) -> EventContent:
    start = BASE + timedelta(days=int(key.split("-")[-1].split("/")[0]), hours=version % 5 + 6)
    return EventContent(
        uid=key.replace("/", "-") + "@calsync",
        key=key,
        plan="p",
        summary=f"Session {key} v{version}",
        description="",
        start=start,
        end=start + timedelta(hours=1),
        timezone="UTC",
        location=None,
        categories=(),
        reminder=None,
    )


def as_remote(c: EventContent, edited: bool = False, cancelled: bool = False) -> Remote:
    return Remote(
        key=c.key,
        ref=c.key,
        start=c.start,
        summary=c.summary,
        stored=c.fingerprint,
        current="changed by the owner" if edited else c.fingerprint,
        cancelled=cancelled,
    )


@st.composite
def states(draw) -> tuple[list[EventContent], list[Remote]]:
    """A plan's desired events and what a calendar holds: stale, edited, deleted, extra."""
    desired = [content(k, draw(st.integers(0, 3))) for k in draw(st.sets(st.sampled_from(KEYS)))]
    present = []
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=len(KEYS) + 3)):
        state = draw(st.sampled_from(["same-as-plan", "stale", "edited", "cancelled"]))
        wanted = next((c for c in desired if c.key == key), None)
        shown = (
            wanted if state == "same-as-plan" and wanted else content(key, draw(st.integers(4, 6)))
        )
        present.append(as_remote(shown, edited=state == "edited", cancelled=state == "cancelled"))
    return desired, present


def apply(present: list[Remote], changes: ChangeSet) -> list[Remote]:
    """What a faithful backend leaves behind after applying the change set."""
    after = list(present)
    for change in changes.changes:
        if change.action is not Action.CREATE:
            after.remove(change.remote)  # type: ignore[arg-type]
        if change.action is not Action.DELETE:
            after.append(as_remote(change.content))  # type: ignore[arg-type]
    return after


@SETTINGS
@given(states(), st.booleans(), st.booleans())
def test_applying_the_changes_leaves_the_plan_and_only_what_the_owner_made(
    state, overwrite: bool, restore: bool
) -> None:
    desired, present = state
    policy = Policy(overwrite_edits=overwrite, restore_deleted=restore)
    changes = plan_changes(desired, present, NOW, policy)
    after = apply(present, changes)
    future_plan = {c.key: c.fingerprint for c in desired if c.start >= NOW}
    live = [r for r in after if not r.cancelled and r.start >= NOW]
    kept_by_owner = {r.key for r in changes.kept_edited} | {r.key for r in changes.kept_deleted}
    for key, fingerprint in future_plan.items():
        if key not in kept_by_owner:
            assert [r.current for r in live if r.key == key] == [fingerprint]
    assert all(r.key in future_plan or r.edited for r in live)
    # Nothing in the past is ever changed.
    assert all(c.start >= NOW for c in changes.changes)


@SETTINGS
@given(states())
def test_without_permission_edits_and_deletions_are_never_undone(state) -> None:
    desired, present = state
    changes = plan_changes(desired, present, NOW, Policy())
    touched = {id(c.remote) for c in changes.changes if c.remote is not None}
    for remote in present:
        if remote.edited or (remote.cancelled and remote.key in {c.key for c in desired}):
            assert id(remote) not in touched
    revived = {c.key for c in changes.of(Action.CREATE)}
    assert not revived & {r.key for r in present}


@SETTINGS
@given(states(), st.booleans(), st.booleans())
def test_a_second_pass_has_nothing_left_to_do(state, overwrite: bool, restore: bool) -> None:
    desired, present = state
    policy = Policy(overwrite_edits=overwrite, restore_deleted=restore)
    after = apply(present, plan_changes(desired, present, NOW, policy))
    assert plan_changes(desired, after, NOW, policy).changes == ()


@SETTINGS
@given(states())
def test_a_create_is_only_planned_for_a_key_the_calendar_does_not_hold(state) -> None:
    desired, present = state
    creates = plan_changes(desired, present, NOW, Policy(restore_deleted=True)).of(Action.CREATE)
    assert {c.key for c in creates}.isdisjoint({r.key for r in present})
    assert len({c.key for c in creates}) == len(creates)


# --- the .ics export round-trips through a strict parser for any valid plan -------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_any_plan_exports_to_a_file_a_strict_parser_reads_back_exactly(text: str) -> None:
    plan = parse_plan(text)
    schedule = expand(plan, plan.starts, plan.starts + timedelta(weeks=2))
    data = render(schedule, datetime(2026, 11, 26, tzinfo=UTC))
    events = IcsCalendarStream.calendar_from_ics(data.decode("utf-8")).events
    # Compared as instants: within one zone Python ignores `fold`, so a DTEND read back
    # as the first 02:00 would pass for the second 02:00 the session really ends at.
    assert sorted((e.uid, _utc(e.dtstart), _utc(e.dtend)) for e in events) == sorted(
        (o.uid, _utc(o.start), _utc(o.end)) for o in schedule.occurrences
    )
    assert render(schedule, datetime(2027, 1, 1, tzinfo=UTC)).count(b"BEGIN:VEVENT") == len(events)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def test_the_states_strategy_covers_every_kind_of_remote() -> None:
    # A sanity check on the generator itself: the properties above see each case.
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None)
    @given(states())
    def look(state) -> None:
        for remote in state[1]:
            seen.add("edited" if remote.edited else "cancelled" if remote.cancelled else "live")

    look()
    assert seen == {"edited", "cancelled", "live"}


def test_with_duplicates_the_current_event_is_kept_whatever_the_listing_order() -> None:
    # Found by the property above: an edited copy listed before the plan's own event
    # once made the second run delete the plan's event.
    wanted = content("p/2026-12-03/s0", 0)
    edited = as_remote(content("p/2026-12-03/s0", 4), edited=True)
    for present in ([edited, as_remote(wanted)], [as_remote(wanted), edited]):
        changes = plan_changes([wanted], present, NOW)
        assert changes.changes == ()
        assert changes.kept_edited == (edited,)
