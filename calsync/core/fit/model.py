"""The rule catalogue as linear constraints over (session, day, start) choices.

Every item gets a 0/1 variable x (1: the week holds it; fixed items are 1). Each
conflict the catalogue could report becomes a `Potential`: a 0/1 variable y that
the constraints force to 1 whenever the chosen items break the rule in exactly
the way `calsync/rules.py` checks it, one y per conflict the check would yield:

* a *clause* conflict holds when all of `present` are chosen and none of
  `absent` is: y >= sum(present) - (len(present) - 1) - sum(absent);
  several clauses mean "any of them" (hypertrophy-ride: any leg session that day);
* a *threshold* conflict holds when more than `limit` of `counted` are 1:
  y * (len(counted) - limit) >= sum(counted) - limit.

At level error a potential is a hard constraint (y = 0); at level warn, y counts
as a warning, and since y only ever appears in a count that is minimised, at an
optimum y is 1 exactly when the conflict is there. The tests check every model
against the catalogue itself (a brute-force search judged by `expand`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from itertools import product

from calsync.core.expand import _busy_on, cycle_weeks, plan_weeks_in, wall_clock
from calsync.core.fit.problem import Candidates, Item, Problem
from calsync.core.model import Busy, Entry, Level, Load, Occurrence
from calsync.core.rules import DayView, _hard_groups, _leg_sessions, check_deload

# Rules `fit` never lets happen: it offers no window (so nothing is unplaced) and
# no time daylight saving moves or repeats (so no dst). They can only come from
# fixed days, and are then reported as they are.
NOT_MODELLED = ("unplaced", "dst")
MODELLED = (
    "order",
    "gap",
    "overlap",
    "max-per-day",
    "rest-days",
    "hard-then-easy",
    "legs-then-hard",
    "hypertrophy-ride",
    "deload",
)


Members = Callable[[Sequence[bool]], tuple[Item, ...]]  # the sessions a conflict names
ByDay = Mapping[int, tuple[Item, ...]]  # offset from Monday (-1: the day before) -> items
Params = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Clause:
    present: tuple[int, ...]  # variables that must all be 1
    absent: tuple[int, ...] = ()  # variables that must all be 0


@dataclass
class Potential:
    rule: str
    level: Level
    offset: int  # the day it is dated on, from Monday
    clauses: tuple[Clause, ...] = ()
    counted: tuple[int, ...] = ()  # threshold form
    limit: int = 0
    members: Members = field(default=lambda chosen: ())
    busy: tuple[Busy, ...] = ()
    var: int = -1


@dataclass
class Model:
    """A 0/1 linear model, independent of the solver that runs it."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[tuple[list[tuple[int, float]], float, float]] = field(default_factory=list)
    items: tuple[Item, ...] = ()
    potentials: list[Potential] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # want -> item variables
    shortfall: dict[str, int] = field(default_factory=dict)  # want -> sessions below its min
    excess: dict[str, int] = field(default_factory=dict)  # want -> sessions above its max
    elastic: bool = False

    def var(self, lower: float = 0, upper: float = 1) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def row(self, terms: list[tuple[int, float]], low: float, high: float) -> None:
        self.rows.append((terms, low, high))

    def any_of(self, variables: Sequence[int]) -> int:
        """A variable that is 1 exactly when one of `variables` is."""
        u = self.var()
        for v in variables:
            self.row([(u, 1), (v, -1)], 0, INF)
        self.row([(u, 1), *((v, -1) for v in variables)], -INF, 0)
        return u

    @property
    def size(self) -> int:
        return len(self.lower)


INF = float("inf")


def build(
    problem: Problem, found: Candidates, elastic: bool = False, rules_too: bool = True
) -> Model:
    """The model of a problem: choices, wants, and every rule not switched off.

    With `elastic`, the wants' minimums and maximums may be missed, and (with
    `rules_too`) error-level rules broken, each miss and break counted: to find
    the closest week when none meets everything.
    """
    m = Model(items=found.items, elastic=elastic)
    for item in found.items:
        m.var(1 if item.fixed else 0, 1)
    settings = problem.settings
    by_day = {k: found.by_day.get(k, ()) for k in range(-1, 7)}
    week = [i for k in range(7) for i in by_day[k]]

    # Never two sessions starting at the same instant, so each day has one order.
    for k in range(7):
        starts: dict = {}
        for item in by_day[k]:
            if not item.fixed:
                starts.setdefault(item.occurrence.start_utc, []).append(item.index)
        for group in starts.values():
            if len(group) > 1:
                m.row([(v, 1) for v in group], -INF, 1)

    for want in problem.spec.wants:
        chosen = [i.index for i in week if i.name == want.session]
        m.counts[want.session] = chosen
        terms = [(v, 1.0) for v in chosen]
        if elastic:  # pinned sessions may even exceed the max; chosen ones never do
            short, over = m.var(0, want.low), m.var(0, len(chosen))
            m.shortfall[want.session] = short
            m.excess[want.session] = over
            m.row([*terms, (short, 1.0)], want.low, INF)
            m.row([*terms, (over, -1.0)], -INF, want.high)
            free = [(i.index, 1.0) for i in week if i.name == want.session and not i.fixed]
            pinned = sum(1 for i in week if i.name == want.session and i.fixed)
            m.row(free, -INF, max(want.high - pinned, 0))
        else:
            m.row(terms, want.low, want.high)

    builders = {
        "order": _order,
        "gap": _gap,
        "overlap": _overlap,
        "max-per-day": _max_per_day,
        "rest-days": _rest_days,
        "hard-then-easy": _hard_then_easy,
        "legs-then-hard": _legs_then_hard,
        "hypertrophy-ride": _hypertrophy_ride,
        "deload": _deload,
    }
    soft_rules = elastic and rules_too
    packed = _pack(m, problem, by_day) if not soft_rules else ()
    for rule, make in builders.items():
        setting = settings[rule]
        if setting.level is Level.OFF or rule in packed:
            continue
        made = (
            _overlap(problem, by_day, m, setting.params, packed=True)
            if rule == "overlap" and "overlap-sessions" in packed
            else make(problem, by_day, m, setting.params)
        )
        for potential in made:
            potential.level = setting.level
            _constrain(m, potential, hard=setting.level is Level.ERROR and not soft_rules)
    return m


def _pack(m: Model, problem: Problem, by_day: ByDay) -> tuple[str, ...]:
    """When overlap is an error (and gap too), sessions are intervals that may not meet.

    Two sessions both running (or, with gap at level error, within `min` of their
    end) at one instant overlap, or leave less than the gap between them (directly,
    or through the session between them, which is then too close to the first): so
    at each start, at most one such interval may be chosen. These rows say exactly
    what the pairwise overlap and gap conflicts say, and far more tightly for the
    solver; the pairwise form is then left out. Returns the rules so expressed.
    """
    settings = problem.settings
    if settings["overlap"].level is not Level.ERROR:
        return ()
    gap = settings["gap"]
    need = gap.param("min") if gap.level is Level.ERROR else timedelta(0)
    for k in range(7):
        day = by_day[k]
        for t in sorted({i.occurrence.start_utc for i in day}):
            covering = [
                i.index for i in day if i.occurrence.start_utc <= t < i.occurrence.end_utc + need
            ]
            if len(covering) > 1:
                m.row([(v, 1.0) for v in covering], -INF, 1)
    # Busy time met by a fixed session is still reported by the overlap rule below.
    return ("gap", "overlap-sessions") if gap.level is Level.ERROR else ("overlap-sessions",)


def _constrain(m: Model, p: Potential, hard: bool) -> None:
    p.var = m.var(0, 0 if hard else 1)
    y = p.var
    for clause in p.clauses:
        terms = [(v, 1.0) for v in clause.present] + [(v, -1.0) for v in clause.absent]
        m.row([(y, -1.0), *terms], -INF, len(clause.present) - 1)
    if p.counted:
        spare = len(p.counted) - p.limit
        if p.limit < 0:
            m.row([(y, 1.0)], 1, INF)
        elif spare > 0:
            m.row([(y, -float(spare)), *((v, 1.0) for v in p.counted)], -INF, p.limit)
    m.potentials.append(p)


def _chosen(items: Sequence[Item], chosen: Sequence[bool]) -> tuple[Item, ...]:
    return tuple(i for i in items if chosen[i.index])


# --- one builder per rule, each mirroring its check in calsync/rules.py -------------------


def _order(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    first, then = dict(params)["first"], dict(params)["then"]
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


def _gap(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    need: timedelta = dict(params)["min"]
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


def _overlap(
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
                        members=lambda chosen, a=a: (a,),
                        busy=(busy,),
                    )


def _busy(problem: Problem) -> dict[int, tuple[Busy, ...]]:
    ordered = sorted(problem.busy, key=lambda b: (b.start, b.end))
    return {k: _busy_on(ordered, day, problem.plan.zone) for k, day in enumerate(problem.days)}


def _max_per_day(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    count = dict(params)["count"]
    for k in range(7):
        day = by_day[k]
        if len(day) > count:
            yield Potential(
                "max-per-day",
                Level.ERROR,
                k,
                counted=tuple(i.index for i in day),
                limit=count,
                members=lambda chosen, day=day: _chosen(day, chosen),
            )


def _rest_days(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
    need = dict(params)["min"]
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


def _hard_then_easy(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    """A day breaks hard-then-easy with the day before when both load one muscle group hard
    (with `by: day`, the group is the day itself): one OR per group and day."""
    by = dict(params)["by"]
    groups = {i.index: _hard_groups([i.occurrence], by) for k in range(-1, 7) for i in by_day[k]}
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


def _deload(problem: Problem, by_day: ByDay, m: Model, params: Params) -> Iterator[Potential]:
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
    start, _ = wall_clock(o.date - week, o.start.time(), o.start.tzinfo)  # type: ignore[arg-type]
    moved = replace(o, date=o.date - week, start=start, end=start + (o.end - o.start))
    return replace(item, occurrence=moved, offset=-1)


def _is_leg(o: Occurrence, hard_only: bool) -> bool:
    """Asks the catalogue's own test of a leg session."""
    return any(True for _ in _leg_sessions(DayView(o.date, [o], ()), hard_only=hard_only))


def _legs_then_hard(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    kinds = dict(params)["kinds"]
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


def _hypertrophy_ride(
    problem: Problem, by_day: ByDay, m: Model, params: Params
) -> Iterator[Potential]:
    kinds, longest = dict(params)["kinds"], dict(params)["max"]
    for k in range(7):
        legs = tuple(i for i in by_day[k] if _is_leg(i.occurrence, hard_only=False))
        if not legs:
            continue
        leg_day = m.any_of([leg.index for leg in legs])
        for o in by_day[k]:
            s = o.occurrence.session
            if s.kind in kinds and (s.load is not Load.EASY or s.duration > longest):
                clauses = (Clause((o.index, leg_day)),)

                def members(chosen, legs=legs, o=o):
                    return (_chosen(legs, chosen)[0], o)

                yield Potential("hypertrophy-ride", Level.WARN, k, clauses, members=members)


__all__ = ["MODELLED", "NOT_MODELLED", "Model", "Potential", "build"]
