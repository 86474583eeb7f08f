"""The change engine shared by every sync target: desired versus present.

A backend only lists the events calsync manages and applies changes; what to
change is decided here, the same way for Google and CalDAV:

- a session with no event is created (the event's id/UID derives from the
  session key, so a resend or a rerun can never duplicate it);
- an event whose content no longer matches the fingerprint calsync stored in
  it was edited by its owner: it is kept as it is and reported, unless
  `overwrite_edits`;
- an event the owner deleted is not recreated and is reported, unless
  `restore_deleted`;
- an event whose stored fingerprint differs from the plan's is updated;
- a managed event the plan no longer has is deleted (an edited one is kept);
- nothing that starts before `not_before` is ever changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from calsync.core.content import EventContent, event_content
from calsync.core.model import Conflict, Level, Schedule

if TYPE_CHECKING:
    from calsync.sync.backend import Backend  # the one contract of a target


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Remote:
    """A managed event as the target holds it now."""

    key: str
    ref: str  # the backend's handle: a Google event id, a CalDAV href
    start: datetime
    summary: str
    stored: str  # the fingerprint calsync wrote into it
    current: str  # the fingerprint of what it holds now
    etag: str | None = None
    cancelled: bool = False

    @property
    def edited(self) -> bool:
        return not self.cancelled and self.current != self.stored


@dataclass(frozen=True)
class Change:
    action: Action
    key: str
    start: datetime
    summary: str
    content: EventContent | None = None  # what to write (create, update)
    remote: Remote | None = None  # what is there (update, delete)


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...] = ()
    kept_edited: tuple[Remote, ...] = ()
    kept_deleted: tuple[Remote, ...] = ()
    unchanged: int = 0

    def of(self, action: Action) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is action)


@dataclass(frozen=True)
class Policy:
    overwrite_edits: bool = False
    restore_deleted: bool = False
    annotate: bool = True


def desired_events(schedule: Schedule, annotate: bool) -> tuple[EventContent, ...]:
    return tuple(
        event_content(o, schedule.conflicts_for(o.key), annotate) for o in schedule.occurrences
    )


def plan_changes(
    desired: Sequence[EventContent],
    present: Iterable[Remote],
    not_before: datetime,
    policy: Policy = Policy(),
) -> ChangeSet:
    """Decide every write; pure, so it is tested without any server."""
    by_key: dict[str, list[Remote]] = {}
    for item in present:
        by_key.setdefault(item.key, []).append(item)
    changes: list[Change] = []
    edited: list[Remote] = []
    deleted: list[Remote] = []
    unchanged = 0
    wanted = {content.key for content in desired}
    for content in desired:
        if content.start < not_before:
            continue
        remotes = by_key.get(content.key, [])
        # The one to keep is the least disputed: untouched and current before edited or stale,
        # so the choice does not depend on the order a server lists events in.
        live = sorted(
            (r for r in remotes if not r.cancelled),
            key=lambda r: (r.edited, r.stored != content.fingerprint),
        )
        # Two live events for one key can only come from outside (a copy, an import):
        # the extras are deleted unless someone edited them.
        for extra in live[1:]:
            if extra.edited and not policy.overwrite_edits:
                edited.append(extra)
            else:
                changes.append(_change(Action.DELETE, extra))
        remote = live[0] if live else (remotes[0] if remotes else None)
        if remote is None:
            changes.append(
                Change(Action.CREATE, content.key, content.start, content.summary, content)
            )
        elif remote.cancelled and not policy.restore_deleted:
            deleted.append(remote)
        elif remote.edited and not policy.overwrite_edits:
            edited.append(remote)
        elif remote.cancelled or remote.edited or remote.stored != content.fingerprint:
            changes.append(
                Change(Action.UPDATE, content.key, content.start, content.summary, content, remote)
            )
        else:
            unchanged += 1
    for key, remotes in by_key.items():
        if key in wanted:
            continue
        for remote in remotes:
            if remote.cancelled or remote.start < not_before:
                continue
            if remote.edited and not policy.overwrite_edits:
                edited.append(remote)
            else:
                changes.append(_change(Action.DELETE, remote))
    changes.sort(key=lambda c: (c.start, c.key, c.action))
    return ChangeSet(tuple(changes), tuple(edited), tuple(deleted), unchanged)


def _change(action: Action, remote: Remote) -> Change:
    return Change(action, remote.key, remote.start, remote.summary, remote=remote)


# --- applying and reporting ----------------------------------------------------------


class Outcome(StrEnum):
    DONE = "done"
    EDITED = "edited"  # the event changed on the server between our read and our write
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    change: Change
    outcome: Outcome
    error: str | None = None


Progress = Callable[[int], None]


class Silent:
    """A progress display that shows nothing (cron, pipes, a handful of writes)."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, done: int) -> None:
        return None


ProgressFor = Callable[[int], AbstractContextManager[Any]]  # writes due -> a display with .update


@dataclass
class SyncReport:
    target: str
    changes: ChangeSet
    results: list[Result] = field(default_factory=list)
    conflicts: tuple[Conflict, ...] = ()
    dry_run: bool = False
    warnings: tuple[str, ...] = ()  # what the target said along the way (busy time left out...)

    def count(self, action: Action) -> int:
        if self.dry_run:
            return len(self.changes.of(action))
        return sum(
            1 for r in self.results if r.change.action is action and r.outcome is Outcome.DONE
        )

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


def sync_conflicts(changes: ChangeSet, results: Sequence[Result]) -> tuple[Conflict, ...]:
    """Edits and deletions by the calendar's owner, reported like rule conflicts."""
    # A write refused because the owner changed (or moved) the event since it was read.
    raced = [r.change for r in results if r.outcome is Outcome.EDITED]
    kept = [(r.start, r.summary) for r in changes.kept_edited] + [
        (c.start, c.summary) for c in raced
    ]
    found = [
        Conflict(
            "edited",
            Level.WARN,
            start.date(),
            f"'{summary}' at {start:%Y-%m-%d %H:%M} was changed in the calendar; "
            "calsync left it as it is",
            hint="run with --overwrite-edits to put the plan's version back",
        )
        for start, summary in kept
    ]
    found += [
        Conflict(
            "deleted",
            Level.WARN,
            remote.start.date(),
            f"'{remote.summary}' at {remote.start:%Y-%m-%d %H:%M} was deleted in the calendar; "
            "calsync did not recreate it",
            hint="run with --restore-deleted to bring it back",
        )
        for remote in changes.kept_deleted
    ]
    return tuple(sorted(found, key=lambda c: (c.date, c.message)))


def run_sync(
    schedule: Schedule,
    backend: Backend,
    target: str,
    not_before: datetime,
    policy: Policy = Policy(),
    dry_run: bool = False,
    progress: ProgressFor = lambda writes: Silent(),
) -> SyncReport:
    """List, decide, apply: one sync of one schedule to one target."""
    start, end = schedule.plan.midnight(schedule.start), schedule.plan.midnight(schedule.end)
    present = backend.list_managed(schedule.plan.id, start, end)
    desired = desired_events(schedule, policy.annotate)
    changes = plan_changes(desired, present, not_before, policy)
    results: list[Result] = []
    if not dry_run:
        with progress(len(changes.changes)) as display:
            results = backend.apply(changes.changes, display.update)
    conflicts = schedule.conflicts + sync_conflicts(changes, results)
    return SyncReport(target, changes, results, conflicts, dry_run)
