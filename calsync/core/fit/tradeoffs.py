"""Trade-offs in plain words, each found by solving again with one thing given up.

* For each want with room (min < max): how many fit, what each extra one would
  cost (more warnings, and from which rules, or which error rule stands in the
  way), and how many would fit if one rule, one pinned day or the busy time
  were given up.
* For the warnings left in the best week (none of which any week with these
  wants can avoid): which want, one session fewer, would make one go away.
* When no week meets the wants: the closest week (the fewest rules and
  minimums broken) and every single relaxation that would make a week possible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from calsync.core.fit.highs import solve
from calsync.core.fit.model import build
from calsync.core.fit.problem import Problem, candidates
from calsync.core.fit.solve import Week, _week, best_week, closest_week
from calsync.core.model import WEEKDAYS, Kind, Level
from calsync.core.rules import RULES
from calsync.core.rules.params import (
    DeloadParams,
    GapParams,
    HardThenEasyParams,
    HypertrophyRideParams,
    LegsThenHardParams,
    MaxPerDayParams,
    OrderParams,
    RestDaysParams,
)
from calsync.core.units import format_duration


@dataclass(frozen=True)
class Relaxation:
    kind: str  # "rule", "pin", "busy" or "want"
    name: str  # the rule id, the pinned weekday, "busy", or the wanted session
    words: str  # what giving it up means, in plain words
    problem: Problem
    short: str = ""  # the same in a few words, for lists

    @property
    def label(self) -> str:
        return self.short or self.name


@dataclass(frozen=True)
class Extra:
    """What the n-th session of a want costs beyond the best week."""

    number: int
    warnings: int  # warnings added (when it fits with every error rule kept)
    rules: tuple[tuple[str, int], ...]  # rule -> warnings added by it
    blocked_by: tuple[str, ...] = ()  # when it cannot fit: error rules that, given up, let it
    fits: bool = True


@dataclass(frozen=True)
class Room:
    """One want with room between its min and max."""

    session: str
    title: str
    fit: int  # with the fewest warnings possible
    warnings: int
    extras: tuple[Extra, ...]
    relaxed: tuple[tuple[Relaxation, int, int], ...]  # relaxation, how many fit, warnings


@dataclass(frozen=True)
class Cause:
    """A want whose minimum, one lower, would remove warnings from the best week."""

    session: str
    title: str
    low: int
    warnings: int  # the fewest warnings with one fewer
    removed: tuple[tuple[str, int], ...]  # rule -> warnings that go away


@dataclass(frozen=True)
class Explanation:
    rooms: tuple[Room, ...]
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class Diagnosis:
    """No week meets the wants: the closest one, and what would make one possible."""

    closest: Week
    short: tuple[tuple[str, int], ...]  # want -> sessions below its min (< 0) or above its max
    broken: tuple[tuple[str, int], ...]  # error rule -> conflicts in the closest week
    relaxations: tuple[tuple[Relaxation, str], ...]  # each single change that would be enough


def rule_words(problem: Problem, rule: str) -> str:
    """What giving up a rule means for this plan, in plain words."""
    setting = problem.settings[rule]

    def kinds(of: tuple[Kind, ...]) -> str:
        return "/".join(str(k) for k in of)

    if rule == "order":
        order = setting.typed(OrderParams)
        words = f"if {kinds(order.then)} may come before {kinds(order.first)} on the same day"
    elif rule == "gap":
        gap = setting.typed(GapParams).min
        words = f"if sessions on one day may be less than {format_duration(gap)} apart"
    elif rule == "overlap":
        words = "if sessions may overlap"
    elif rule == "max-per-day":
        words = f"if a day may hold more than {setting.typed(MaxPerDayParams).count} sessions"
    elif rule == "rest-days":
        rest = setting.typed(RestDaysParams).min
        words = f"if the week may have fewer than {rest} rest day{'s' * (rest != 1)}"
    elif rule == "hard-then-easy":
        by = setting.typed(HardThenEasyParams).by
        same = " on the same muscles" if by == "muscles" else ""
        words = f"if hard days{same} may follow each other"
    elif rule == "deload":
        words = f"if more than {setting.typed(DeloadParams).max} heavy weeks may follow each other"
    elif rule == "legs-then-hard":
        legs = setting.typed(LegsThenHardParams)
        words = f"if a hard {kinds(legs.kinds)} may follow a leg session on the same day"
    elif rule == "hypertrophy-ride":
        ride = setting.typed(HypertrophyRideParams)
        words = (
            f"if a {kinds(ride.kinds)} on a leg day may be longer than "
            f"{format_duration(ride.max)} or harder than easy"
        )
    else:
        words = "without it"
    return f"{words} ({rule})"


def relaxations(problem: Problem) -> list[Relaxation]:
    """Everything that could be given up: each rule that could conflict in this week
    (a rule nothing here could break costs nothing), each pinned day, the busy time.

    Overlap is never offered: two sessions at once is no week anyone can train.
    """
    everything = build(problem, candidates(problem), elastic=True)
    can_conflict = {p.rule for p in everything.potentials} - {"overlap"}
    found = []
    for setting in problem.plan.rules:
        if setting.id in can_conflict and setting.level is not Level.OFF:
            found.append(
                Relaxation(
                    "rule",
                    setting.id,
                    rule_words(problem, setting.id),
                    problem.with_rule(setting.id, Level.OFF),
                )
            )
    for day, entries in problem.spec.pins:
        name = WEEKDAYS[day].capitalize()
        if entries:
            words, relaxed = f"if {name}'s pinned sessions could move (fit.pin)", problem
            short = f"the pinned sessions on {name}"
        elif problem.settings["rest-days"].level is not Level.OFF:
            # Giving up a rest day is giving up both the pin and the rule that wants one.
            words = f"if you give up the rest day on {name} (fit.pin, rest-days)"
            relaxed = problem.with_rule("rest-days", Level.OFF)
            short = f"the rest day on {name}"
        else:
            words, relaxed = f"if {name} were not kept free (fit.pin)", problem
            short = f"the free {name}"
        found.append(Relaxation("pin", WEEKDAYS[day], words, relaxed.without_pin(day), short))
    if problem.busy:
        found.append(
            Relaxation(
                "busy",
                "busy",
                "if your busy time were free",
                replace(problem, busy=()),
                "your busy time",
            )
        )
    return found


def _most(
    problem: Problem,
    session: str | None,
    at_least: int = 0,
    max_warnings: int | None = None,
) -> Week | None:
    """One solve: the fewest warnings, then the most of `session` (of every want when None).

    With `max_warnings`: the most of `session` with at most that many warnings, then
    the fewest warnings.
    """
    found = candidates(problem)
    model = build(problem, found)
    counted = (
        model.counts[session]
        if session
        else [v for w in problem.spec.wants for v in model.counts[w.session]]
    )
    warn = [p.var for p in model.potentials if p.level is Level.WARN]
    rows = [([(v, 1.0) for v in counted], float(at_least), float("inf"))] if at_least else []
    if max_warnings is None:
        weight = float(len(counted) + 1)
        objective = [(v, weight) for v in warn] + [(v, -1.0) for v in counted]
    else:
        weight = float(len(warn) + 1)
        objective = [(v, 1.0) for v in warn] + [(v, -weight) for v in counted]
        rows.append(([(v, 1.0) for v in warn], -float("inf"), float(max_warnings)))
    values = solve(model, objective, rows)
    if values is None:
        return None
    return _week(problem, found, model, values, set())


def _feasible_with(problem: Problem, session: str, at_least: int) -> bool:
    found = candidates(problem)
    model = build(problem, found)
    rows = [([(v, 1.0) for v in model.counts[session]], float(at_least), float("inf"))]
    return solve(model, [], rows) is not None


def _by_rule(week: Week, level: str = "warn") -> Counter[str]:
    return Counter(c.rule for c in week.claims if c.level == level)


def explain(problem: Problem, best: Week) -> Explanation:
    library = {s.name: s for s in problem.plan.sessions}
    options = relaxations(problem)
    rooms = []
    for want in problem.spec.wants:
        if want.high <= want.low:
            continue
        base = _most(problem, want.session)
        assert base is not None, "the best week exists, so this does"
        fit, warnings = base.count(want.session), base.score.warnings
        extras = []
        for number in range(fit + 1, want.high + 1):
            more = _most(problem, want.session, at_least=number)
            if more is not None:
                added = _by_rule(more) - _by_rule(base)
                extras.append(
                    Extra(
                        number,
                        more.score.warnings - warnings,
                        tuple(sorted(added.items())),
                    )
                )
                continue
            blockers = tuple(
                r.label
                for r in options
                if (r.kind != "rule" or problem.settings[r.name].level is Level.ERROR)
                and _feasible_with(r.problem, want.session, number)
            )
            extras.append(Extra(number, 0, (), blockers, fits=False))
            break
        relaxed = []
        for option in options:
            week = _most(option.problem, want.session, max_warnings=warnings)
            if week is not None and week.count(want.session) > fit:
                relaxed.append((option, week.count(want.session), week.score.warnings))
        rooms.append(
            Room(
                want.session,
                library[want.session].title,
                fit,
                warnings,
                tuple(extras),
                tuple(relaxed),
            )
        )
    causes = []
    if best.score.warnings:
        for want in problem.spec.wants:
            if want.low == 0:
                continue
            fewer = _most(problem.with_want(want.session, want.low - 1, want.high), None)
            if fewer is not None and fewer.score.warnings < best.score.warnings:
                removed = _by_rule(best) - _by_rule(fewer)
                causes.append(
                    Cause(
                        want.session,
                        library[want.session].title,
                        want.low,
                        fewer.score.warnings,
                        tuple(sorted(removed.items())),
                    )
                )
    return Explanation(tuple(rooms), tuple(causes))


def diagnose(problem: Problem) -> Diagnosis:
    closest = closest_week(problem)
    short = tuple(
        (
            w.session,
            closest.count(w.session) - (w.low if closest.count(w.session) < w.low else w.high),
        )
        for w in problem.spec.wants
        if not w.low <= closest.count(w.session) <= w.high
    )
    broken = tuple(sorted(_by_rule(closest, "error").items()))
    enough: list[tuple[Relaxation, str]] = []
    for option in relaxations(problem):
        if option.kind == "rule" and problem.settings[option.name].level is not Level.ERROR:
            continue  # warnings never make a week impossible
        if best_week(option.problem) is not None:
            enough.append((option, ""))
    library = {s.name: s for s in problem.plan.sessions}
    for want in problem.spec.wants:
        if want.low == 0:
            continue
        lowered = problem.with_want(want.session, 0, want.high)
        most = _most_possible(lowered, want.session)
        if most is not None and most < want.low:
            words = f"if {library[want.session].title} were {most} a week instead of {want.low}"
            enough.append((Relaxation("want", want.session, words, lowered), str(most)))
    return Diagnosis(closest, short, broken, tuple(enough))


def _most_possible(problem: Problem, session: str) -> int | None:
    found = candidates(problem)
    model = build(problem, found)
    values = solve(model, [(v, -1.0) for v in model.counts[session]])
    if values is None:
        return None
    return sum(values[v] for v in model.counts[session])


__all__ = ["Diagnosis", "Explanation", "diagnose", "explain", "relaxations", "RULES"]
