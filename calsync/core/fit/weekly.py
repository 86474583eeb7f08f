"""Every week arranged around the calendar as it is (`fit: {every-week: true}`).

Each week of a range is fitted with `best_week` against its own busy time, with the
days before it fixed to what they hold (the week before as arranged in this run, or
what the target holds, or the usual week), so the rules that look across days see
the real previous days. Among the best weeks (steps 1 to 3 of `calsync fit`) the
solver then prefers, each held in turn:

1. the usual week: the best week with no busy time at all (for a plan whose `week:`
   is a best fit, that `week:`), a session at another time of its usual day costing
   1 and one on another day 2, so a week moves only as far as its busy time forces;
2. the arrangement the target holds now, so a rerun with nothing new changes nothing;
3. then `calsync fit`'s own preferences and tie-break (the `when` order, earlier days).

Nothing that began before `not_before`, and no session its owner edited in the
calendar, is moved: they are fixed where they are. Every week is judged again by the
rule catalogue (`check_against_catalogue`). A week no arrangement fits is kept as the
target holds it (else as the usual week) and reported.

Pure: no clock, no I/O; the same inputs give the same weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from calsync.core.expand import monday as monday_of
from calsync.core.expand import phase_of, plan_week
from calsync.core.fit import check_against_catalogue
from calsync.core.fit.problem import DAY, Candidates, Problem
from calsync.core.fit.solve import Week, best_week, closest_week
from calsync.core.fitspec import FitSpec
from calsync.core.model import Busy, Entry, Plan, Session

Days = tuple[tuple[Entry, ...], ...]  # seven days, Monday first


@dataclass(frozen=True)
class Present:
    """A session as the target holds it now: a managed event, or one in the previous .ics."""

    key: str
    session: str  # the library session's name
    start: datetime  # timezone-aware
    edited: bool = False  # changed in the calendar by its owner: never moved
    cancelled: bool = False  # deleted by its owner


@dataclass(frozen=True)
class ArrangedWeek:
    """One week as arranged: its seven days, and what it was solved from."""

    problem: Problem
    days: Days
    usual: Days | None  # None: the wants have no week even without busy time
    week: Week | None  # None: no arrangement fits (`unfit` says why); `days` kept as they were
    unfit: str | None = None

    @property
    def monday(self) -> date:
        return self.problem.monday


def usual_week(plan: Plan, spec: FitSpec, monday: date) -> Days | None:
    """The best week with no busy time, as the week repeats (the plan's `week:` when it is
    one of the best, since `calsync fit` prefers it)."""
    current = plan.week if any(plan.week) else None
    found = best_week(Problem(plan, spec, monday, (), wrap=True, current=current))
    return None if found is None else found.entries


def arrange_weeks(
    plan: Plan,
    start: date,
    end: date,
    busy: Sequence[Busy],
    present: Sequence[Present] | None,
    not_before: datetime,
) -> list[ArrangedWeek]:
    """Every week that overlaps [start, end), in order, each fitted around its busy time."""
    assert plan.fit is not None
    spec = replace(plan.fit, every_week=False)
    present = [replace(p, start=p.start.astimezone(plan.zone)) for p in present or ()]
    on_day = _present_by_day(plan, present)
    library = {s.name: s for s in plan.sessions}
    exceptions = dict(plan.exceptions)
    arranged: dict[date, tuple[Entry, ...]] = {}
    usual_cache: dict[tuple[str | None, bool], Days | None] = {}
    weeks: list[ArrangedWeek] = []
    monday = max(monday_of(start), plan.starts)
    while monday < end:
        phase = phase_of(plan, plan_week(plan, monday))
        cache_key = (phase.name if phase else None, monday - DAY < plan.starts)
        if cache_key not in usual_cache:
            usual_cache[cache_key] = usual_week(plan, spec, monday)
        usual = usual_cache[cache_key]

        def fallback(day: date, usual: Days | None = usual) -> tuple[Entry, ...]:
            """What a day holds when it cannot change: what it got, else the target's, else
            the plan's exception or usual week."""
            if day in arranged:
                return arranged[day]
            if day in on_day:
                return _entries(on_day[day], library, plan)
            if day in exceptions:
                return exceptions[day]
            return usual[day.weekday()] if usual else ()

        fixed: dict[date, tuple[Entry, ...]] = {}
        if monday - DAY >= plan.starts:
            fixed[monday - DAY] = fallback(monday - DAY)
        pins = dict(spec.pins)
        for offset in range(7):
            day = monday + offset * DAY
            if day < start or plan.midnight(day + DAY) <= not_before:
                fixed[day] = fallback(day)
                continue
            if day in exceptions:
                fixed[day] = exceptions[day]
                continue
            held = _held(plan, day, on_day.get(day), usual, not_before, library)
            if not held:
                continue
            if pins.get(offset) == ():  # a rest pin: the day holds only what cannot move
                fixed[day] = held
            else:
                pins[offset] = tuple(
                    sorted((*pins.get(offset, ()), *held), key=lambda e: (e.at, e.session.name))
                )
        week_spec = replace(spec, pins=tuple(sorted(pins.items())))
        week_busy = _busy_in(busy, plan, monday)
        problem = Problem(
            plan, week_spec, monday, week_busy, fixed=tuple(sorted(fixed.items())), wrap=False
        )
        result = _solve(problem, usual, on_day, library)
        for offset, entries in enumerate(result.days):
            arranged[monday + offset * DAY] = entries
        weeks.append(result)
        monday += 7 * DAY
    return weeks


def _solve(
    problem: Problem,
    usual: Days | None,
    on_day: Mapping[date, Sequence[Present]],
    library: Mapping[str, Session],
) -> ArrangedWeek:
    if usual is None:
        reason = "the fit: wants have no week even without busy time (see `calsync fit`)"
        return ArrangedWeek(problem, _kept(problem, on_day, library, None), None, None, reason)
    present = {
        (p.session, (p.start.date() - problem.monday).days, f"{p.start:%H:%M}")
        for day in problem.days
        for p in on_day.get(day, ())
        if not p.cancelled
    }

    def preferences(found: Candidates) -> list[dict[int, float]]:
        free = [i for i in found.items if not i.fixed and i.offset >= 0]
        steps = [{i.index: _distance(usual, i.name, i.offset, i.at) for i in free}]
        if present:
            steps.append(
                {i.index: float((i.name, i.offset, f"{i.at:%H:%M}") not in present) for i in free}
            )
        return [s for s in steps if any(s.values())]

    week = best_week(problem, preferences)
    if week is None:
        return ArrangedWeek(
            problem,
            _kept(problem, on_day, library, usual),
            usual,
            None,
            _shortfall(problem),
        )
    check_against_catalogue(week)
    return ArrangedWeek(problem, week.entries, usual, week)


def _distance(usual: Days, name: str, offset: int, at: time) -> float:
    """0 at one of the session's usual slots, 1 at another time of a usual day, else 2."""
    day = [e for e in usual[offset] if e.session.name == name]
    if any(e.at == at for e in day):
        return 0.0
    return 1.0 if day else 2.0


def _kept(
    problem: Problem,
    on_day: Mapping[date, Sequence[Present]],
    library: Mapping[str, Session],
    usual: Days | None,
) -> Days:
    """An unfit week as it was: fixed days as fixed, the rest as the target holds them
    (or, on a day where it holds nothing, the usual week)."""
    fixed = dict(problem.fixed)
    days: list[tuple[Entry, ...]] = []
    for offset, day in enumerate(problem.days):
        if day in fixed:
            days.append(fixed[day])
        elif day in on_day:
            days.append(_entries(on_day[day], library, problem.plan))
        else:
            days.append(usual[offset] if usual else ())
    return tuple(days)


def _shortfall(problem: Problem) -> str:
    """Which wanted sessions the closest week cannot place."""
    closest = closest_week(problem)
    library = {s.name: s for s in problem.plan.sessions}
    short = [
        f"{want.low - closest.count(want.session)} of {want.low} '{library[want.session].title}'"
        for want in problem.spec.wants
        if closest.count(want.session) < want.low
    ]
    missing = ", ".join(short) if short else "a session the rules need"
    return (
        f"no arrangement of the week of {problem.monday:%a %d %b %Y} fits around its busy "
        f"time and the rules at level error: no slot for {missing}; the week is left as it was"
    )


def _held(
    plan: Plan,
    day: date,
    present: Sequence[Present] | None,
    usual: Days | None,
    not_before: datetime,
    library: Mapping[str, Session],
) -> tuple[Entry, ...]:
    """What stays where it is on a day that may change: sessions that began before
    `not_before` and sessions their owner edited."""
    if present is not None:
        kept = [p for p in present if not p.cancelled and (p.edited or p.start < not_before)]
        return _entries(kept, library, plan)
    if plan.midnight(day) >= not_before or usual is None:
        return ()
    return tuple(
        e
        for e in usual[day.weekday()]
        if e.at is not None and datetime.combine(day, e.at, tzinfo=plan.zone) < not_before
    )


def _entries(
    present: Sequence[Present], library: Mapping[str, Session], plan: Plan
) -> tuple[Entry, ...]:
    entries = [
        Entry(library[p.session], at=p.start.astimezone(plan.zone).time().replace(tzinfo=None))
        for p in present
        if not p.cancelled and p.session in library
    ]
    return tuple(sorted(entries, key=lambda e: (e.at, e.session.name)))


def _present_by_day(plan: Plan, present: Sequence[Present]) -> dict[date, list[Present]]:
    found: dict[date, list[Present]] = {}
    for p in sorted(present, key=lambda p: (p.start, p.key)):
        found.setdefault(p.start.astimezone(plan.zone).date(), []).append(p)
    return found


def _busy_in(busy: Sequence[Busy], plan: Plan, monday: date) -> tuple[Busy, ...]:
    """Busy time that touches the week or the day before it (cross-day rules see that day)."""
    first, last = plan.midnight(monday - DAY), plan.midnight(monday + 7 * DAY)
    return tuple(sorted((b for b in busy if b.start < last and first < b.end), key=_busy_order))


def _busy_order(b: Busy) -> tuple[datetime, datetime, str]:
    return (b.start, b.end, b.title)


def session_of_key(key: str, library: Mapping[str, Session]) -> str | None:
    """The library session a key names (`plan/2026-12-09/z2-2` -> `z2`), if any."""
    name = key.rsplit("/", 1)[-1]
    if name in library:
        return name
    base, _, number = name.rpartition("-")
    return base if number.isdigit() and base in library else None
