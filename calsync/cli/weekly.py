"""`fit: {every-week: true}` and the .ics file: the previous file's arrangement preferred.

`calsync ics -o FILE` and a refresh's ics targets arrange the weeks (calsync/core/weekly.py)
preferring the sessions the file already holds, so a rerun writes the same bytes. The
syncs do the same with the target's events (calsync/sync/weekly.py).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from calsync.core.model import Plan, Schedule
from calsync.core.weekly import arranged, every_week

if TYPE_CHECKING:  # the solver is imported only for an every-week plan
    from calsync.core.fit.weekly import Present


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
