"""An every-week plan's sync: the target's events listed once, before planning, so the
arrangement they hold is preferred (calsync/core/fit/weekly.py), and handed to the
engine unchanged (`Listed`), so a sync reads them only once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from calsync.core.expand import expand
from calsync.core.expand import monday as monday_of
from calsync.core.model import Busy, Plan, Schedule
from calsync.core.weekly import arranged, every_week
from calsync.sync.engine import Progress, Remote, Result

if TYPE_CHECKING:
    from calsync.core.fit.weekly import Present

DAY = timedelta(days=1)


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
