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
    """A refresh's .ics target: for an every-week plan, the weeks of `schedule` arranged
    (once) preferring the previous file at `path`, nothing that began before `now` moved;
    any other plan's `schedule` as it is."""
    if not every_week(plan):
        return schedule
    return arranged(plan, schedule.start, schedule.end, (), ics_present(plan, path), now)


def ics_present(plan: Plan, path: Path | None) -> list[Present] | None:
    """For an every-week plan, the sessions of the previous .ics file at `path`."""
    if not every_week(plan) or path is None or str(path) == "-" or not path.is_file():
        return None
    return present_of_ics(plan, path)


def present_of_ics(plan: Plan, path: Path) -> list[Present]:
    """This plan's sessions in a .ics file calsync wrote, read as the .ics target reads
    its previous file (empty for a file it refuses: writing it then says why)."""
    from calsync.core.fit.weekly import Present, session_of_key
    from calsync.errors import BadInput
    from calsync.targets.ics import read_previous

    try:
        previous = read_previous(path.read_bytes(), plan.id, plan.midnight(plan.starts), str(path))
    except (OSError, BadInput):
        return []
    library = {s.name: s for s in plan.sessions}
    found = []
    for held in previous.held:
        name = session_of_key(held.key, library)
        if name is not None:
            found.append(Present(held.key, name, held.start))
    return found
