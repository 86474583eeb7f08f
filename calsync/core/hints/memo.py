"""A change's outcome, judged once for every week where it reads the same.

`outcome` (world.py) judges a change by the rule catalogue on the days it touches
and, for the rules across days, on their weeks and a day either side. What it
reads there is all a remembered outcome is keyed on, relative to the conflict's
Monday:

- the conflict: its rule, its date and its session keys;
- the change: each session's key, new day, wall-clock start and (changed) session;
- the days it touches, whole (`World.looks`: sessions, busy time), with their UTC
  offsets only where a daylight-saving change falls on the day: the day rules
  compare a day's instants only with each other, so one offset all day long is as
  good as another;
- the other days the rules across days read, only as they see them (`World.seen`,
  from each `DaysRule.sees`).

Two changes that agree on all of it, in whichever weeks, have the same outcome, so
a deload week, a summer week or a week after a holiday reuses what the weeks before
it found wherever their differences are out of the change's sight. The plain
`outcome` is the definition; tests/test_hints_memo.py holds them equal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date

from calsync.core.hints.world import (
    DAY,
    World,
    across_days,
    around,
    key_parts,
    monday,
    on_the_days,
)
from calsync.core.model import Change, Conflict

# what `outcome` says: None, or the rules a change adds warnings of
Verdict = tuple[str, ...] | None
Judge = Callable[[tuple[Change, ...]], Verdict]


class Outcomes:
    """The outcomes judged so far in one world, for every conflict of it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._known: dict[tuple[object, ...], Verdict] = {}
        self._days_say_no: set[tuple[object, ...]] = set()  # changes the day rules refuse
        self._ids: dict[Hashable, int] = {}  # each distinct look of a day, numbered
        self._whole: dict[date, int] = {}
        self._seen: dict[date, int] = {}
        self._weeks: dict[date, tuple[int, ...]] = {}
        self._arounds: dict[tuple[date, ...], tuple[int, ...]] = {}
        self._keys: dict[str, tuple[str, date]] = {}  # a session key: its name and its day

    def judge(self, conflict: Conflict) -> Judge:
        """`outcome(world, conflict, ...)`, remembered."""
        base = monday(conflict.date)
        about = (
            conflict.rule,
            (conflict.date - base).days,
            tuple(key_parts(k, base) for k in conflict.keys),
        )

        def judge_one(changes: tuple[Change, ...]) -> Verdict:
            where = self.world.where
            touched = tuple(sorted({c.date for c in changes} | {where[c.key] for c in changes}))
            on_days = (
                tuple(
                    (
                        self._key_parts(c.key, base),
                        (c.date - base).days,
                        c.start.time(),
                        c.start.fold,  # which a time does not compare
                        c.session,
                    )
                    for c in changes
                ),
                tuple(((d - base).days, self.whole(d)) for d in touched),
            )
            key = (about, on_days, self._around(touched))
            if key in self._known:
                return self._known[key]
            if on_days in self._days_say_no:
                return None
            judged = on_the_days(self.world, changes)
            if judged is None:
                self._days_say_no.add(on_days)
                return None
            self._known[key] = across_days(self.world, conflict, changes, judged)
            return self._known[key]

        return judge_one

    def whole(self, day: date) -> int:
        """The number of a day's look, its UTC offsets left out when it has one all day."""
        if day not in self._whole:
            sessions, busy, midnight, next_midnight = looks = self.world.looks(day)
            if midnight == next_midnight:
                plain = tuple((name, clock, session) for name, clock, _, session in sessions)
                self._whole[day] = self._number(("plain", plain, busy))
            else:
                self._whole[day] = self._number(("whole", looks))
        return self._whole[day]

    def week(self, monday: date) -> tuple[int, ...]:
        """`whole` of each day of a week."""
        if monday not in self._weeks:
            self._weeks[monday] = tuple(self.whole(monday + i * DAY) for i in range(7))
        return self._weeks[monday]

    def seen(self, day: date) -> int:
        """The number of what the rules across days read of a day."""
        if day not in self._seen:
            self._seen[day] = self._number(("seen", self.world.seen(day)))
        return self._seen[day]

    def _around(self, touched: tuple[date, ...]) -> tuple[int, ...]:
        """What the rules across days read of the other days around `touched`."""
        if touched not in self._arounds:
            others = sorted(around(set(touched)) - set(touched))
            self._arounds[touched] = tuple(self.seen(d) for d in others)
        return self._arounds[touched]

    def _key_parts(self, key: str, base: date) -> tuple[int, str]:
        """`key_parts`, each key read once."""
        if key not in self._keys:
            _, written, session = key.rsplit("/", 2)
            self._keys[key] = session, date.fromisoformat(written)
        name, day = self._keys[key]
        return (day - base).days, name

    def _number(self, look: Hashable) -> int:
        return self._ids.setdefault(look, len(self._ids))
