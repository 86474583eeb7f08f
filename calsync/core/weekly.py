"""`expand`, or for a plan with `fit: {every-week: true}` every week arranged around its
busy time (calsync/core/fit/weekly.py): the one schedule every command and target uses.

The solver is imported only for an every-week plan, so other plans load as fast as ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from calsync.core.expand import expand
from calsync.core.model import Busy, Plan, Schedule

if TYPE_CHECKING:
    from calsync.core.fit.weekly import Present


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
    """`expand`, or for an every-week plan the weeks arranged around `busy`, preferring
    `present` (what the target holds), moving nothing that began before `not_before`."""
    if not every_week(plan):
        return expand(plan, start, end, busy)
    from calsync.core.fit.moves import arranged_schedule

    moment = not_before or plan.midnight(start)
    return arranged_schedule(plan, start, end, busy, present, moment)
