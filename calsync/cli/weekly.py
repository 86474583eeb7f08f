"""Where `fit: {every-week: true}` meets the commands: the schedule every target syncs.

For a plan without the setting, every function here is plain `expand`. With it, the
range is arranged week by week (`calsync.core.fit.moves.arranged_schedule`) around the
busy time the command collected, preferring what the target holds now: its managed
events (sync) or the previous .ics file (ics). The target's events are listed once,
here, and handed to the engine unchanged (`Listed`), so a sync reads them only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calsync.core.expand import expand
from calsync.core.expand import monday as monday_of
from calsync.core.model import Busy, Plan, Schedule
from calsync.sync.engine import Progress, Remote, Result

if TYPE_CHECKING:  # the solver is imported only for an every-week plan
    from calsync.core.fit.weekly import Present

DAY = timedelta(days=1)


def every_week(plan: Plan) -> bool:
    return plan.fit is not None and plan.fit.every_week


def arranged(
    plan: Plan,
    start: date,
    end: date,
    busy: Sequence[Busy] = (),
    present: Sequence[Present] | None = None,
    not_before: datetime | None = None,
) -> Schedule:
    """`expand`, or for an every-week plan the weeks arranged around `busy`."""
    if not every_week(plan):
        return expand(plan, start, end, busy)
    from calsync.core.fit.moves import arranged_schedule

    moment = not_before or plan.midnight(start)
    return arranged_schedule(plan, start, end, busy, present, moment)


class Listed:
    """A backend whose managed events were listed once before planning; the engine gets
    that same list, and everything else goes to the backend."""

    def __init__(self, backend: Any, remotes: list[Remote]):
        self.backend = backend
        self.remotes = remotes

    def list_managed(self, plan_id: str, start: datetime, end: datetime) -> list[Remote]:
        return list(self.remotes)

    def apply(self, changes: Sequence[Any], progress: Progress) -> list[Result]:
        result: list[Result] = self.backend.apply(changes, progress)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def for_sync(
    plan: Plan, start: date, end: date, busy: Sequence[Busy], backend: Any, not_before: datetime
) -> tuple[Schedule, Any]:
    """The schedule a sync target gets, and the backend to hand the engine.

    An every-week plan lists the target's events from the day before the first week
    (so the days already lived are what the target holds), once."""
    if not every_week(plan):
        return expand(plan, start, end, busy), backend
    first = plan.midnight(monday_of(start) - DAY)
    remotes = list(backend.list_managed(plan.id, first, plan.midnight(end)))
    present = present_of_remotes(plan, remotes)
    return arranged(plan, start, end, busy, present, not_before), Listed(backend, remotes)


def present_of_remotes(plan: Plan, remotes: Sequence[Remote]) -> list[Present]:
    from calsync.core.fit.weekly import Present, session_of_key

    library = {s.name: s for s in plan.sessions}
    found = []
    for r in remotes:
        name = session_of_key(r.key, library)
        if name is not None:
            found.append(Present(r.key, name, r.start, r.edited, r.cancelled))
    return found


def for_ics(plan: Plan, schedule: Schedule, path: Path, now: datetime) -> Schedule:
    """A refresh's .ics target: an every-week schedule arranged again preferring the
    previous file at `path` (nothing that began before `now` moves); else as it is."""
    present = ics_present(plan, path)
    if not present:
        return schedule
    return arranged(plan, schedule.start, schedule.end, (), present, now)


def ics_present(plan: Plan, path: Path | None) -> list[Present] | None:
    """For an every-week plan, the sessions of the previous .ics file at `path`."""
    if not every_week(plan) or path is None or str(path) == "-" or not path.is_file():
        return None
    return present_of_ics(plan, path)


def present_of_ics(plan: Plan, path: Path) -> list[Present]:
    """This plan's sessions in a .ics file calsync wrote (empty for any other file)."""
    from icalendar import Calendar

    from calsync.core.fit.weekly import Present, session_of_key

    try:
        calendar = Calendar.from_ical(path.read_bytes())
    except (OSError, ValueError, TypeError):
        return []  # the writer says what is wrong with it
    library = {s.name: s for s in plan.sessions}
    found = []
    for event in calendar.walk("VEVENT"):
        key = str(event.get("X-CALSYNC-KEY", ""))
        if str(event.get("X-CALSYNC-PLAN", "")) != plan.id or not key:
            continue
        name = session_of_key(key, library)
        try:
            start = event.decoded("DTSTART")
        except (KeyError, ValueError):
            continue
        if name is not None and isinstance(start, datetime) and start.tzinfo is not None:
            found.append(Present(key, name, start))
    return found
