"""The rule catalogue as linear constraints over (session, day, start) choices.

Every item gets a 0/1 variable x (1: the week holds it; fixed items are 1). Each
conflict the catalogue could report becomes a `Potential`: a 0/1 variable y that
the constraints force to 1 whenever the chosen items break the rule in exactly
the way `calsync/core/rules/` checks it, one y per conflict the check would yield:

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

from datetime import datetime, timedelta

from calsync.core.fit import rule_rows as r
from calsync.core.fit.lp import INF, ByDay, Model, Potential
from calsync.core.fit.problem import Candidates, Problem
from calsync.core.model import Level
from calsync.core.rules.params import (
    GapParams,
)

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
        starts: dict[datetime, list[int]] = {}
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
        "order": r.order,
        "gap": r.gap,
        "overlap": r.overlap,
        "max-per-day": r.max_per_day,
        "rest-days": r.rest_days,
        "hard-then-easy": r.hard_then_easy,
        "legs-then-hard": r.legs_then_hard,
        "hypertrophy-ride": r.hypertrophy_ride,
        "deload": r.deload,
    }
    soft_rules = elastic and rules_too
    packed = _pack(m, problem, by_day) if not soft_rules else ()
    for rule, make in builders.items():
        setting = settings[rule]
        if setting.level is Level.OFF or rule in packed:
            continue
        made = (
            r.overlap(problem, by_day, m, setting.params, packed=True)
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
    need = gap.typed(GapParams).min if gap.level is Level.ERROR else timedelta(0)
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


__all__ = ["INF", "MODELLED", "NOT_MODELLED", "Model", "Potential", "build"]
