"""The best week, in the order the README states:

1. no rule at level error broken, no busy time overlapped, every want's minimum met
   (hard constraints: a week that cannot have them all is not a fit);
2. the fewest warnings;
3. the most sessions (the optional ones, between a want's min and max);
4. the preferences: the earliest-listed start times, then the fewest sessions
   away from the plan's current `week:`;
5. ties broken the same way on every run: earlier days and times first (and HiGHS
   is deterministic: one thread, a fixed seed).

Each step is solved to a proven optimum and then held while the next is
optimised. The week found is then handed to the rule catalogue (`expand`), and
what the solver says the week breaks must be exactly what the catalogue reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from calsync.core.expand import expand
from calsync.core.fit.highs import solve
from calsync.core.fit.model import Model, build
from calsync.core.fit.problem import DAY, Candidates, Item, Problem, candidates
from calsync.core.model import Conflict, Entry, Level, Plan, Schedule


@dataclass(frozen=True, order=True)
class Claim:
    """One conflict, reduced to what identifies it: the same from the solver and the catalogue."""

    date: date
    rule: str
    level: str
    sessions: tuple[tuple[str, str, str], ...]  # (session, date, HH:MM), sorted
    busy: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_conflict(cls, c: Conflict) -> Claim:
        return cls(
            c.date,
            c.rule,
            c.level.value,
            tuple(
                sorted((o.session.name, o.date.isoformat(), f"{o.start:%H:%M}") for o in c.sessions)
            ),
            tuple(sorted((b.start.isoformat(), b.end.isoformat()) for b in c.busy)),
        )


@dataclass(frozen=True)
class Score:
    errors: int  # only an elastic (closest) week has any
    shortfall: int  # sessions below a want's min or above its max (closest week only)
    warnings: int
    sessions: int  # sessions of the wanted kinds in the week
    preference: int  # sum of the chosen starts' places in the `when` lists
    changes: int  # chosen sessions not in the plan's current `week:`


@dataclass(frozen=True)
class Week:
    problem: Problem
    chosen: tuple[Item, ...]  # the week's sessions (fixed ones included), by day and time
    entries: tuple[tuple[Entry, ...], ...]  # seven days: what `week:` gets
    claims: tuple[Claim, ...]  # what the solver says the week breaks
    score: Score
    counts: tuple[tuple[str, int], ...]  # per want, how many the week holds

    def count(self, session: str) -> int:
        return dict(self.counts).get(session, 0)


# Objectives solved after steps 1 to 3 and before step 4, each held in turn: what a
# caller (the weekly arrangement, calsync/core/fit/weekly.py) wants first among the best weeks.
Steps = Callable[[Candidates], Sequence[Mapping[int, float]]]


def best_week(problem: Problem, first: Steps | None = None) -> Week | None:
    """The best week the rules allow, or None when no week meets the hard constraints."""
    found = candidates(problem)
    model = build(problem, found)
    return _optimise(problem, found, model, elastic=False, first=first)


def closest_week(problem: Problem) -> Week:
    """When no week fits: every rule kept and as few wanted sessions missed as possible;
    only when even that is impossible (fixed sessions break a rule), the fewest rules
    at level error broken first."""
    found = candidates(problem)
    week = _optimise(problem, found, build(problem, found, elastic=True, rules_too=False), True)
    if week is None:
        week = _optimise(problem, found, build(problem, found, elastic=True), True)
    assert week is not None, "a fully elastic model always has a solution"
    return week


def _optimise(
    problem: Problem, found: Candidates, model: Model, elastic: bool, first: Steps | None = None
) -> Week | None:
    wanted = [v for want in problem.spec.wants for v in model.counts[want.session]]
    warn = [p.var for p in model.potentials if p.level is Level.WARN]
    most = len(wanted) + 1
    steps: list[list[tuple[int, float]]] = []
    if elastic:
        err = [p.var for p in model.potentials if p.level is Level.ERROR]
        missed = [*model.shortfall.values(), *model.excess.values()]
        most_missed = float(sum(model.upper[v] for v in missed) + 1)
        steps.append([(v, most_missed) for v in err] + [(v, 1.0) for v in missed])
    steps.append([(v, float(most)) for v in warn] + [(v, -1.0) for v in wanted])
    current = _current(problem)
    preference, tie = costs(problem, found)
    for extra in first(found) if first else ():
        steps.append(sorted(extra.items()))
    steps.append(sorted(preference.items()))
    steps.append(sorted(tie.items()))
    held: list[tuple[list[tuple[int, float]], float, float]] = []
    values: list[int] | None = None
    for objective in steps:
        values = solve(model, objective, held)
        if values is None:
            return None
        reached = sum(coef * values[v] for v, coef in objective)
        held.append((objective, -float("inf"), reached + 0.5))
    assert values is not None
    return _week(problem, found, model, values, current)


def costs(problem: Problem, found: Candidates) -> tuple[dict[int, float], dict[int, float]]:
    """What steps 4 and 5 minimise, per chosen candidate.

    Preference: its start's place in the `when` list, then (as the smaller unit)
    whether it is away from the current `week:`. Ties: its place in the order of
    days, times and names, squared, so that two weeks that swap sessions do not tie.
    """
    free = [i for i in found.items if not i.fixed and i.offset >= 0]
    current = _current(problem)
    unit = len(free) + 1
    preference = {i.index: float(i.rank * unit + (_key(i) not in current)) for i in free}
    ordered = sorted(free, key=lambda i: (i.offset, i.at, i.name))
    tie = {i.index: float((n + 1) ** 2) for n, i in enumerate(ordered)}
    return preference, tie


def _key(item: Item) -> tuple[str, int, str]:
    return (item.name, item.offset, f"{item.at:%H:%M}")


def _current(problem: Problem) -> set[tuple[str, int, str]]:
    if not problem.current:
        return set()
    return {
        (e.session.name, day, f"{e.at:%H:%M}")
        for day, entries in enumerate(problem.current)
        for e in entries
        if e.at is not None
    }


def _week(
    problem: Problem,
    found: Candidates,
    model: Model,
    values: Sequence[int],
    current: set[tuple[str, int, str]],
) -> Week:
    chosen_flags = [bool(v) for v in values]
    chosen = tuple(
        sorted(
            (i for i in found.items if chosen_flags[i.index] and i.offset >= 0),
            key=lambda i: (i.offset, i.order),
        )
    )
    claims = [Claim.of_conflict(c) for c in found.notes]
    for p in model.potentials:
        if values[p.var]:
            members = p.members(chosen_flags)
            day = problem.monday + timedelta(days=p.offset)
            claims.append(
                Claim(
                    day,
                    p.rule,
                    p.level.value,
                    tuple(
                        sorted(
                            (i.name, i.occurrence.date.isoformat(), f"{i.at:%H:%M}")
                            for i in members
                        )
                    ),
                    tuple(sorted((b.start.isoformat(), b.end.isoformat()) for b in p.busy)),
                )
            )
    free = [i for i in chosen if not i.fixed]
    counts = tuple(
        (w.session, sum(values[v] for v in model.counts[w.session])) for w in problem.spec.wants
    )
    score = Score(
        errors=sum(values[p.var] for p in model.potentials if p.level is Level.ERROR),
        shortfall=sum(values[v] for v in [*model.shortfall.values(), *model.excess.values()]),
        warnings=sum(values[p.var] for p in model.potentials if p.level is Level.WARN),
        sessions=sum(n for _, n in counts),
        preference=sum(i.rank for i in free),
        changes=sum(1 for i in free if _key(i) not in current),
    )
    return Week(problem, chosen, entries_of(problem, chosen), tuple(sorted(claims)), score, counts)


def entries_of(problem: Problem, chosen: Sequence[Item]) -> tuple[tuple[Entry, ...], ...]:
    """The `week:` the chosen sessions make: pinned entries as written, the rest at their times."""
    fixed_days = dict(problem.fixed)
    library = {s.name: s for s in problem.plan.sessions}
    days: list[tuple[Entry, ...]] = []
    for offset, day in enumerate(problem.days):
        if day in fixed_days:
            days.append(fixed_days[day])
            continue
        pinned = list(problem.spec.pinned(offset) or ())
        fitted = [
            Entry(library[i.name], at=i.at) for i in chosen if i.offset == offset and not i.fixed
        ]
        days.append(tuple(sorted([*pinned, *fitted], key=lambda e: (e.at, e.session.name))))
    return tuple(days)


def judged_plan(problem: Problem, entries: Sequence[Sequence[Entry]]) -> Plan:
    """The plan as `calsync show` would see it with this week: what the catalogue judges."""
    exceptions = dict(problem.fixed)
    before = problem.monday - DAY
    if problem.previous == "none" and before >= problem.plan.starts:
        exceptions[before] = ()  # nothing before this Monday
    week = tuple(tuple(day) for day in entries)
    return replace(problem.plan, week=week, exceptions=tuple(sorted(exceptions.items())))


def judge_entries(problem: Problem, entries: Sequence[Sequence[Entry]]) -> Schedule:
    """The rule catalogue's verdict on a week (the one definition of every rule)."""
    plan = judged_plan(problem, entries)
    return expand(plan, problem.monday, problem.monday + 7 * DAY, problem.busy)


def judge(week: Week) -> Schedule:
    return judge_entries(week.problem, week.entries)


def catalogue_claims(schedule: Schedule) -> tuple[Claim, ...]:
    return tuple(sorted(Claim.of_conflict(c) for c in schedule.conflicts))
