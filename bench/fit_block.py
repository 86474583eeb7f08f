"""Fit four weeks of the rider-fit template in a row, each with its own busy time.

    python bench/fit_block.py [--weeks 4]

Each week is fitted as the rolling refresh will (issue 19): the day before its
Monday is fixed to what the week before got, and its busy time is its own (a
different evening meeting, an early shift, a weekend away, a late dinner).
Prints one line per week and the total; bench/run.py times it as a whole.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calsync.core.fit import Problem, best_week, check_against_catalogue  # noqa: E402
from calsync.core.model import Busy  # noqa: E402
from calsync.io.plans import load_plan  # noqa: E402

TEMPLATE = ROOT / "templates" / "rider-fit.yaml"
FIRST = date(2026, 12, 7)


def busy_for(week: int, monday: date, zone) -> tuple[Busy, ...]:
    """A different shape of busy week each time (offset from Monday, start hour, hours)."""
    shapes = [
        [(1, 19, 3, "Team dinner"), (3, 19.5, 2, "Choir")],
        [(1, 19.5, 2.5, "Late shift"), (3, 19.5, 2.5, "Late shift"), (2, 9, 3, "Workshop")],
        [(5, 0, 24, "Weekend away"), (6, 0, 24, "Weekend away")],
        [(0, 20, 2, "Parents' evening"), (2, 9.5, 1.5, "Dentist")],
    ]

    def at(offset: int, hour: float) -> datetime:
        day = datetime.combine(monday + timedelta(days=offset), datetime.min.time(), zone)
        return day + timedelta(hours=hour)

    return tuple(
        Busy(at(o, h), at(o, h) + timedelta(hours=n), title) for o, h, n, title in shapes[week % 4]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=4)
    options = parser.parse_args()
    plan = load_plan(TEMPLATE)
    assert plan.fit is not None
    began = time.perf_counter()
    sunday: tuple = ()
    for week in range(options.weeks):
        monday = FIRST + timedelta(weeks=week)
        fixed = ((monday - timedelta(days=1), sunday),)
        problem = Problem(
            plan, plan.fit, monday, busy_for(week, monday, plan.zone), fixed=fixed, wrap=False
        )
        found = best_week(problem)
        if found is None:
            print(f"week of {monday}: no week fits")
            sunday = ()
            continue
        schedule = check_against_catalogue(found)
        warnings = sum(1 for c in schedule.conflicts if c.level.value == "warn")
        print(f"week of {monday}: {found.count('z2')} zone-2 rides, {warnings} warnings")
        sunday = found.entries[6]
    print(f"total {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    main()
