"""The question `calsync fit` answers, and the candidate sessions it chooses from.

A `Problem` is one week: the plan (its library, rules and cycle), the wants
(`fit:`), busy time, and what is already fixed (pinned entries, and for a
rolling refresh the days already lived). `candidates` turns it into `Item`s:
every session the week may hold, each built by `expand.place_day` exactly as
`calsync show` would build it (cycle scaling, wall-clock time, daylight saving).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from calsync.core.expand import _busy_on, place_day
from calsync.core.fitspec import FitSpec, Start
from calsync.core.model import Busy, Conflict, Entry, Level, Occurrence, Plan, RuleSetting, Session
from calsync.core.rules import day_order

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Problem:
    """One week to fit.

    `fixed` gives days whose sessions are already decided, as the plan's day entries
    would (the day before `monday`, so that hard-then-easy sees it, and any days of
    the week already lived). With `wrap`, the week repeats: the day before Monday is
    the week's own Sunday, as it is for a plan's `week:` after its first week.
    """

    plan: Plan
    spec: FitSpec
    monday: date
    busy: tuple[Busy, ...] = ()
    fixed: tuple[tuple[date, tuple[Entry, ...]], ...] = ()
    wrap: bool = True
    current: tuple[tuple[Entry, ...], ...] | None = None  # the plan's `week:`, to stay close to

    def __post_init__(self) -> None:
        if self.monday.weekday() != 0:
            raise ValueError(f"{self.monday} is not a Monday")
        if self.monday < self.plan.starts:
            raise ValueError(f"the week of {self.monday} is before the plan starts")
        if self.wrap and self.fixed:
            raise ValueError("a repeating week (wrap) has no fixed days")

    @property
    def settings(self) -> dict[str, RuleSetting]:
        return {s.id: s for s in self.plan.rules}

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.monday + i * DAY for i in range(7))

    @property
    def previous(self) -> str:
        """What stands before Monday: 'fixed', 'wrap' (the week's own Sunday) or 'none'."""
        before = self.monday - DAY
        if any(day == before for day, _ in self.fixed):
            return "fixed"
        if before < self.plan.starts:
            return "none"
        return "wrap" if self.wrap else "none"

    def with_rule(self, rule: str, level: Level) -> Problem:
        rules = tuple(replace(s, level=level) if s.id == rule else s for s in self.plan.rules)
        return replace(self, plan=replace(self.plan, rules=rules))

    def without_pin(self, weekday: int) -> Problem:
        pins = tuple(p for p in self.spec.pins if p[0] != weekday)
        return replace(self, spec=replace(self.spec, pins=pins))

    def with_want(self, session: str, low: int, high: int) -> Problem:
        wants = tuple(
            replace(w, low=low, high=high) if w.session == session else w for w in self.spec.wants
        )
        return replace(self, spec=replace(self.spec, wants=wants))


@dataclass(frozen=True)
class Item:
    """A session the week may hold: a candidate (chosen or not) or a fixed one."""

    index: int
    occurrence: Occurrence
    offset: int  # days from Monday: -1 for the day before, 0..6 for the week
    fixed: bool
    rank: int = 0  # its start's place in the user's `when` list: 0 is the preferred one

    @property
    def name(self) -> str:
        return self.occurrence.session.name

    @property
    def at(self) -> time:
        return self.occurrence.start.time()

    @property
    def order(self) -> tuple[datetime, str]:
        """Where it sorts in its day: the catalogue's one day order (start, then key)."""
        return day_order(self.occurrence)


@dataclass(frozen=True)
class Candidates:
    items: tuple[Item, ...]
    by_day: Mapping[int, tuple[Item, ...]]  # offset -> items sorted by `order`
    notes: tuple[Conflict, ...] = field(default=())  # expansion notes of fixed days (dst, unplaced)
    day_busy: Mapping[int, tuple[Busy, ...]] = field(default_factory=dict)


def starts_on(start: Start, duration: timedelta, step: timedelta) -> list[time]:
    """The wall-clock starts a `when` entry allows for a session of `duration`."""
    if start.until is None:
        return [start.at]
    times = []
    minute = start.at.hour * 60 + start.at.minute
    last = start.until.hour * 60 + start.until.minute - duration.total_seconds() / 60
    size = int(step.total_seconds() // 60)
    while minute <= last:
        times.append(time(minute // 60, minute % 60))
        minute += size
    return times


def _overlaps_busy(o: Occurrence, busy: tuple[Busy, ...]) -> bool:
    return any(o.start_utc < b.end and b.start < o.end_utc for b in busy)


def candidates(problem: Problem) -> Candidates:
    plan, spec, settings = problem.plan, problem.spec, problem.settings
    busy = tuple(sorted(problem.busy, key=lambda b: (b.start, b.end)))
    items: list[Item] = []
    notes: list[Conflict] = []
    day_busy: dict[int, tuple[Busy, ...]] = {}

    def add_fixed(day: date, offset: int, entries: tuple[Entry, ...]) -> set[datetime]:
        taken = _busy_on(busy, day, plan.zone)
        placed, found = place_day(plan, day, entries, taken, settings)
        if offset >= 0:
            notes.extend(found)
        for o in placed:
            items.append(Item(len(items), o, offset, fixed=True))
        return {o.start_utc for o in placed}

    fixed_days = dict(problem.fixed)
    if problem.previous == "fixed":
        add_fixed(problem.monday - DAY, -1, fixed_days[problem.monday - DAY])
    for offset, day in enumerate(problem.days):
        day_busy[offset] = _busy_on(busy, day, plan.zone)
        if day in fixed_days:
            add_fixed(day, offset, fixed_days[day])
            continue
        pinned = spec.pinned(offset)
        taken = add_fixed(day, offset, pinned) if pinned else set()
        if pinned is not None and not pinned:
            continue  # pinned as a rest day
        for want in spec.wants:
            if want.high == 0:
                continue
            session = next(s for s in plan.sessions if s.name == want.session)
            rank = 0
            seen: set[time] = set()
            for start in spec.starts(want.session, offset):
                for at in starts_on(start, _scaled_duration(problem, day, session), spec.step):
                    if at in seen:
                        continue
                    seen.add(at)
                    rank += 1
                    placed, found = place_day(plan, day, (Entry(session, at=at),), (), settings)
                    o = placed[0]
                    # A time daylight saving moves or repeats, busy time and a fixed
                    # session's start are never offered.
                    if found or _overlaps_busy(o, busy) or o.start_utc in taken:
                        continue
                    items.append(Item(len(items), o, offset, fixed=False, rank=rank - 1))
    by_day: dict[int, list[Item]] = {}
    for item in items:
        by_day.setdefault(item.offset, []).append(item)
    ordered = {k: tuple(sorted(v, key=lambda i: i.order)) for k, v in by_day.items()}
    return Candidates(tuple(items), ordered, tuple(notes), day_busy)


def _scaled_duration(problem: Problem, day: date, session: Session) -> timedelta:
    placed, _ = place_day(problem.plan, day, (Entry(session, at=time(12)),), (), problem.settings)
    return placed[0].session.duration
