"""One builder per rule: the conflicts each rule of the catalogue could report in a
week, as `Potential`s over the choice variables (see `model`), each mirroring its check
in calsync/core/rules/ (the tests compare the two through a brute-force search)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import time, timedelta
from functools import partial
from itertools import product

from calsync.core.expand import _busy_on, cycle_weeks, plan_weeks_in, wall_clock
from calsync.core.fit.lp import ByDay, Clause, Members, Model, Params, Potential
from calsync.core.fit.problem import Item, Problem
from calsync.core.model import Busy, Entry, Level, Load, Occurrence, params_as
from calsync.core.rules.common import DayView
from calsync.core.rules.deload import check_deload
from calsync.core.rules.legs import leg_sessions
from calsync.core.rules.params import (
    GapParams,
    HardThenEasyParams,
    HypertrophyRideParams,
    LegsThenHardParams,
    MaxPerDayParams,
    OrderParams,
    RestDaysParams,
)
from calsync.core.rules.recovery import hard_groups


def _just(item: Item, chosen: Sequence[bool]) -> tuple[Item, ...]:
    return (item,)


def _chosen(items: Sequence[Item], chosen: Sequence[bool]) -> tuple[Item, ...]:
    return tuple(i for i in items if chosen[i.index])


# --- one builder per rule, each mirroring its check in calsync/core/rules/ -------------------


def order(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    first, then = params_as(params, OrderParams).first, params_as(params, OrderParams).then
    for k in range(7):
        for a in by_day[k]:
            if a.occurrence.session.kind not in first:
                continue
            for b in by_day[k]:
                if (
                    b.occurrence.session.kind in then
                    and b.occurrence.start_utc < a.occurrence.end_utc
                ):
                    present = (a.index,) if a is b else (a.index, b.index)
                    yield Potential(
                        "order", Level.ERROR, k, (Clause(present),), members=_pair(a, b)
                    )


def _pair(a: Item, b: Item) -> Members:
    return lambda chosen: (a, b)


def gap(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    need = params_as(params, GapParams).min
    for k in range(7):
        day = by_day[k]
        for i, a in enumerate(day):
            for j in range(i + 1, len(day)):
                b = day[j]
                rest = b.occurrence.start_utc - a.occurrence.end_utc
                if timedelta(0) <= rest < need:
                    between = tuple(c.index for c in day[i + 1 : j])
                    clause = Clause((a.index, b.index), between)
                    yield Potential("gap", Level.ERROR, k, (clause,), members=_pair(a, b))


def overlap(
    problem: Problem, by_day: ByDay, m: Model, params: Params, packed: bool = False
) -> Iterator[Potential]:
    found_busy = _busy(problem)
    for k in range(7):
        day = by_day[k]
        for i, a in enumerate(day if not packed else ()):
            for b in day[i + 1 :]:
                oa, ob = a.occurrence, b.occurrence
                if oa.start_utc < ob.end_utc and ob.start_utc < oa.end_utc:
                    yield Potential(
                        "overlap",
                        Level.ERROR,
                        k,
                        (Clause((a.index, b.index)),),
                        members=_pair(a, b),
                    )
        for a in day:  # only fixed items can meet busy time: candidates that do are never offered
            for busy in found_busy.get(k, ()):
                o = a.occurrence
                if o.start_utc < busy.end and busy.start < o.end_utc:
                    yield Potential(
                        "overlap",
                        Level.ERROR,
                        k,
                        (Clause((a.index,)),),
                        members=partial(_just, a),
                        busy=(busy,),
                    )


def _busy(problem: Problem) -> dict[int, tuple[Busy, ...]]:
    ordered = sorted(problem.busy, key=lambda b: (b.start, b.end))
    return {k: _busy_on(ordered, day, problem.plan.zone) for k, day in enumerate(problem.days)}


def max_per_day(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    count = params_as(params, MaxPerDayParams).count
    for k in range(7):
        day = by_day[k]
        if len(day) > count:
            yield Potential(
                "max-per-day",
                Level.ERROR,
                k,
                counted=tuple(i.index for i in day),
                limit=count,
                members=partial(_chosen, day),
            )


def rest_days(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    need = params_as(params, RestDaysParams).min
    used = [m.any_of([i.index for i in by_day[k]]) if by_day[k] else None for k in range(7)]
    counted = tuple(u for u in used if u is not None)
    week = [i for k in range(7) for i in by_day[k]]
    limit = 7 - need  # a conflict when more than 7 - min days have a session
    if len(counted) > limit:
        yield Potential(
            "rest-days",
            Level.WARN,
            0,
            counted=counted,
            limit=limit,
            members=lambda chosen: _chosen(week, chosen),
        )


def hard_then_easy(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    """A day breaks hard-then-easy with the day before when both load one muscle group hard
    (with `by: day`, the group is the day itself): one OR per group and day."""
    by = params_as(params, HardThenEasyParams).by
    groups = {i.index: hard_groups([i.occurrence], by) for k in range(-1, 7) for i in by_day[k]}
    loaded: dict[tuple[int, str], int] = {}
    for k in range(-1, 7):
        for group in sorted({g for i in by_day[k] for g in groups[i.index]}):
            items = [i.index for i in by_day[k] if group in groups[i.index]]
            loaded[k, group] = m.any_of(items)
    previous = problem.previous
    for k in range(7):
        before = (
            k - 1 if k > 0 else (-1 if previous == "fixed" else 6 if previous == "wrap" else None)
        )
        if before is None:
            continue
        shared = sorted(g for (day, g) in loaded if day == k and (before, g) in loaded)
        if not shared:
            continue
        clauses = tuple(Clause((loaded[before, g], loaded[k, g])) for g in shared)
        shifted = k == 0 and previous == "wrap"

        def members(
            chosen: Sequence[bool], k: int = k, before: int = before, shifted: bool = shifted
        ) -> tuple[Item, ...]:
            earlier, today = _chosen(by_day[before], chosen), _chosen(by_day[k], chosen)
            common = frozenset().union(*(groups[i.index] for i in earlier)) & frozenset().union(
                *(groups[i.index] for i in today)
            )
            involved = [i for i in (*earlier, *today) if groups[i.index] & common]
            # the week's own Sunday stands for the Sunday before this Monday
            return tuple(_a_week_earlier(i) if shifted and i.offset == 6 else i for i in involved)

        yield Potential("hard-then-easy", Level.WARN, k, clauses, members=members)


def deload(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    """Deload looks at how much the week holds, not where: its conflict is a function of how
    many of each wanted session the week has. The catalogue is asked for every such count
    (a handful), and the counts it faults become clauses."""
    setting = problem.settings["deload"]
    week = [i for k in range(7) for i in by_day[k]]
    free: dict[str, list[int]] = {}
    for i in week:
        if not i.fixed:
            free.setdefault(i.name, []).append(i.index)
    names = sorted(free)
    library = {s.name: s for s in problem.plan.sessions}
    weeks = plan_weeks_in(problem.plan, problem.monday, problem.monday + timedelta(days=7))
    base = [e for day in _fixed_entries(problem) for e in day]

    def breaks(counts: tuple[int, ...]) -> bool:
        entries = base + [
            Entry(library[name], at=time(12))
            for name, n in zip(names, counts, strict=True)
            for _ in range(n)
        ]
        plan = replace(problem.plan, week=(tuple(entries), (), (), (), (), (), ()))
        return any(True for _ in check_deload(cycle_weeks(plan), weeks, setting))

    ranges = [_free_counts(problem, week, name, elastic=m.elastic) for name in names]
    faulted = [counts for counts in product(*ranges) if breaks(counts)]
    if not faulted:
        return
    if len(faulted) == len(list(product(*ranges))):
        yield Potential("deload", Level.WARN, 0, (Clause(()),))
        return
    exactly: dict[tuple[str, int], int] = {}
    for name, span in zip(names, ranges, strict=True):
        for n in span:
            exactly[name, n] = m.var()
        m.row([(exactly[name, n], 1.0) for n in span], 1, 1)
        m.row(
            [*((exactly[name, n], float(n)) for n in span), *((v, -1.0) for v in free[name])], 0, 0
        )
    clauses = tuple(
        Clause(tuple(exactly[name, n] for name, n in zip(names, counts, strict=True)))
        for counts in faulted
    )
    yield Potential("deload", Level.WARN, 0, clauses)


def _free_counts(problem: Problem, week: Sequence[Item], name: str, elastic: bool) -> range:
    """How many chosen (not fixed) sessions of `name` a week may hold."""
    want = problem.spec.want(name)
    assert want is not None, "only wanted sessions are chosen"
    pinned = sum(1 for i in week if i.name == name and i.fixed)
    offered = sum(1 for i in week if i.name == name and not i.fixed)
    most = min(max(want.high - pinned, 0), offered)
    least = 0 if elastic else min(max(want.low - pinned, 0), most)
    return range(least, most + 1)


def _fixed_entries(problem: Problem) -> list[tuple[Entry, ...]]:
    """The week's entries that are not chosen: pinned ones, and fixed days' (as written)."""
    fixed_days = dict(problem.fixed)
    return [
        fixed_days[day] if day in fixed_days else (problem.spec.pinned(offset) or ())
        for offset, day in enumerate(problem.days)
    ]


def _a_week_earlier(item: Item) -> Item:
    o = item.occurrence
    week = timedelta(days=7)
    start, _ = wall_clock(o.date - week, o.start.time(), o.start.tzinfo)  # type: ignore[arg-type]  # an occurrence is always zoned
    moved = replace(o, date=o.date - week, start=start, end=start + (o.end - o.start))
    return replace(item, occurrence=moved, offset=-1)


def _is_leg(o: Occurrence, hard_only: bool) -> bool:
    """Asks the catalogue's own test of a leg session."""
    return any(True for _ in leg_sessions(DayView(o.date, [o], ()), hard_only=hard_only))


def legs_then_hard(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    kinds = params_as(params, LegsThenHardParams).kinds
    for k in range(7):
        for legs in by_day[k]:
            if not _is_leg(legs.occurrence, hard_only=True):
                continue
            for o in by_day[k]:
                s = o.occurrence.session
                if (
                    s.kind in kinds
                    and s.load is Load.HARD
                    and o.occurrence.start_utc >= legs.occurrence.start_utc
                ):
                    present = (legs.index,) if legs is o else (legs.index, o.index)
                    yield Potential(
                        "legs-then-hard", Level.ERROR, k, (Clause(present),), members=_pair(legs, o)
                    )


def hypertrophy_ride(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    kinds, longest = (
        params_as(params, HypertrophyRideParams).kinds,
        params_as(params, HypertrophyRideParams).max,
    )
    for k in range(7):
        legs = tuple(i for i in by_day[k] if _is_leg(i.occurrence, hard_only=False))
        if not legs:
            continue
        leg_day = m.any_of([leg.index for leg in legs])
        for o in by_day[k]:
            s = o.occurrence.session
            if s.kind in kinds and (s.load is not Load.EASY or s.duration > longest):
                clauses = (Clause((o.index, leg_day)),)

                def members(
                    chosen: Sequence[bool], legs: Sequence[Item] = legs, o: Item = o
                ) -> tuple[Item, ...]:
                    return (_chosen(legs, chosen)[0], o)

                yield Potential("hypertrophy-ride", Level.WARN, k, clauses, members=members)
