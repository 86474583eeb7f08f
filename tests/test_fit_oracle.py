"""The solver against the rule catalogue itself, on many small random weeks.

Each instance is a small plan with a `fit:` block, random rule levels and
parameters, sometimes a pinned day, a busy hour, and a week that repeats, starts
the plan, or follows a fixed day. The oracle tries every week the candidates
allow (every subset, no two starting together) and asks `expand`, with the
catalogue's rules, what each one breaks. The solver must reach the same optimum
on every step of the order (errors, warnings, sessions, preferences, ties),
agree on impossibility, find the same closest week when nothing fits, and say
exactly what the catalogue says its week breaks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.core.fit import best_week, check_against_catalogue, closest_week
from calsync.core.fit.highs import solve
from calsync.core.fit.model import build
from calsync.core.fit.problem import Problem, candidates
from calsync.core.fit.solve import _week, catalogue_claims, costs, entries_of, judge_entries
from calsync.core.loader import parse_plan
from calsync.core.model import Busy, Level

ZONE = ZoneInfo("Europe/Brussels")
STARTS = date(2026, 11, 30)
DAYS = ("mon", "tue", "wed", "sat", "sun")
TIMES = ("07:00", "09:00", "10:00", "12:00", "17:30", "20:00")
SESSIONS = {
    "legs": "{kind: strength, title: Legs, duration: %s, load: %s, focus: legs}",
    "upper": "{kind: strength, title: Upper body, duration: %s, load: %s, focus: upper}",
    "full": "{kind: strength, title: Full body, duration: %s, load: %s, focus: full}",
    "ride": "{kind: ride, title: Ride, duration: %s, load: %s}",
    "run": "{kind: run, title: Run, duration: %s, load: %s}",
}
RULES = {
    "order": [
        "",
        "first: strength, then: [ride, run]",
        "first: ride, then: strength",
        "first: [strength, ride], then: ride",  # a ride is both: each conflicts with itself
    ],
    "gap": ["min: 1h", "min: 3h", "min: 4h"],
    "overlap": [""],
    "max-per-day": ["count: 1", "count: 2"],
    "rest-days": ["min: 1", "min: 4", "min: 5", "min: 6"],
    "hard-then-easy": ["", "by: day", "by: muscles"],
    "legs-then-hard": ["", "kinds: [ride, run, strength]"],
    "hypertrophy-ride": ["max: 20m", "max: 1h", "max: 45m, kinds: [ride, run, strength]"],
    "deload": ["max: 1", "max: 1, cut: 30%", "max: 8"],
}


@st.composite
def instances(draw: st.DrawFn) -> tuple[str, str, date, tuple[Busy, ...]]:
    names = draw(st.lists(st.sampled_from(sorted(SESSIONS)), min_size=2, max_size=4, unique=True))
    library = "\n".join(
        f"  {name}: "
        + SESSIONS[name]
        % (
            draw(st.sampled_from(["30m", "1h", "1h30m", "2h30m"])),
            draw(st.sampled_from(["easy", "moderate", "hard"])),
        )
        for name in names
    )
    slots = draw(
        st.lists(
            st.tuples(st.sampled_from(names), st.sampled_from(DAYS), st.sampled_from(TIMES)),
            min_size=3,
            max_size=9,
            unique=True,
        )
    )
    when: dict[str, dict[str, list[str]]] = {}
    for name, day, at in slots:
        when.setdefault(name, {}).setdefault(day, []).append(at)
    wants = []
    for name in when:  # a wanted session needs start times (the loader says so otherwise)
        low = draw(st.sampled_from([1, 2, 0]))  # minimums make the rules bite
        high = draw(st.integers(low, 3))
        wants.append(f"    {name}: {{min: {low}, max: {high}}}")
    when_text = "\n".join(
        f"    {name}: {{{', '.join(f'{d}: [{chr(44).join(repr(t) for t in ts)}]' for d, ts in days.items())}}}"
        for name, days in when.items()
    )
    pin = ""
    if draw(st.booleans()):
        day = draw(st.sampled_from(DAYS))
        if draw(st.booleans()):
            pin = f"  pin: {{{day}: rest}}\n"
        else:
            pin = f"  pin: {{{day}: [{draw(st.sampled_from(names))} {draw(st.sampled_from(TIMES))}]}}\n"
    rules = []
    for rule, params in RULES.items():
        level = draw(st.sampled_from(["warn", "error", "off"]))
        extra = draw(st.sampled_from(params))
        rules.append(f"  {rule}: {{level: {level}{', ' + extra if extra else ''}}}")
    text = (
        "plan: oracle\ntimezone: Europe/Brussels\nstarts: 2026-11-30\n"
        f"goal: {draw(st.sampled_from(['hypertrophy', 'balanced']))}\n"
        f"sessions:\n{library}\n"
        f"fit:\n  per-week:\n{chr(10).join(wants)}\n  when:\n{when_text}\n{pin}"
        f"rules:\n{chr(10).join(rules)}\n"
        + draw(
            st.sampled_from(
                [
                    "",
                    "cycle: [{name: build, weeks: 1}, {name: easy, weeks: 1, scale: {ride: 0.5}}]\n",
                    "cycle: [{name: build, weeks: 1}, {name: easy, weeks: 1, scale: {strength: 0.5}}]\n",
                ]
            )
        )
    )
    before = draw(st.sampled_from(["starts", "wrap", "fixed"]))
    fixed = (
        f"{draw(st.sampled_from(names))} {draw(st.sampled_from(TIMES))}"
        if before == "fixed"
        else ""
    )
    monday = STARTS if before == "starts" else STARTS + timedelta(days=7)
    busy: tuple[Busy, ...] = ()
    if draw(st.booleans()):
        offset = draw(st.sampled_from([0, 1, 2, 5, 6]))
        hour = draw(st.sampled_from([9, 10, 19, 20]))
        start = datetime.combine(monday + timedelta(days=offset), datetime.min.time(), ZONE)
        start = start.replace(hour=hour, minute=30)
        busy = (Busy(start, start + timedelta(hours=1), "Dentist"),)
    return text, fixed, monday, busy


def problem_of(text: str, fixed: str, monday: date, busy: tuple[Busy, ...]) -> Problem:
    plan = parse_plan(text, "oracle.yaml")
    assert plan.fit is not None
    if not fixed:
        return Problem(plan, plan.fit, monday, busy, wrap=True)
    name, at = fixed.split()
    library = {s.name: s for s in plan.sessions}
    from calsync.core.model import Entry
    from calsync.core.units import parse_time

    entries = (Entry(library[name], at=parse_time(at)),)
    return Problem(
        plan, plan.fit, monday, busy, fixed=((monday - timedelta(days=1), entries),), wrap=False
    )


def brute_force(problem: Problem):
    """Every week the candidates allow, each judged by the catalogue."""
    found = candidates(problem)
    preference, tie = costs(problem, found)
    fixed = [i for i in found.items if i.fixed and i.offset >= 0]
    free = [i for i in found.items if not i.fixed and i.offset >= 0]
    best = closest = None
    for size in range(len(free) + 1):
        for subset in combinations(free, size):
            starts = [(i.offset, i.occurrence.start_utc) for i in subset]
            if len(set(starts)) != len(starts):
                continue  # fit never starts two sessions at one instant
            chosen = sorted([*fixed, *subset], key=lambda i: (i.offset, i.order))
            if any(
                sum(1 for i in subset if i.name == w.session)
                > max(w.high - sum(1 for i in fixed if i.name == w.session), 0)
                for w in problem.spec.wants
            ):
                continue  # fit never chooses more than a want's max
            counts = {
                w.session: sum(1 for i in chosen if i.name == w.session) for w in problem.spec.wants
            }
            schedule = judge_entries(problem, entries_of(problem, chosen))
            levels = [c.level for c in schedule.conflicts]
            errors, warnings = levels.count(Level.ERROR), levels.count(Level.WARN)
            missed = sum(
                max(0, w.low - counts[w.session], counts[w.session] - w.high)
                for w in problem.spec.wants
            )
            elastic = (errors, missed)  # rules first, then the wants
            closest = elastic if closest is None else min(closest, elastic)
            if errors or missed:
                continue
            key = (
                warnings,
                -sum(counts.values()),
                sum(preference[i.index] for i in subset),
                sum(tie[i.index] for i in subset),
            )
            best = key if best is None else min(best, key)
    return best, closest


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_the_solver_finds_the_optimum_the_catalogue_judges_best(instance) -> None:
    problem = problem_of(*instance)
    best, closest = brute_force(problem)
    week = best_week(problem)
    if best is None:
        assert week is None
        near = closest_week(problem)
        check_against_catalogue(near)  # what it says the closest week breaks, the catalogue says
        assert (near.score.errors, near.score.shortfall) == closest
        return
    assert week is not None
    check_against_catalogue(week)  # raises if the claims and the catalogue differ
    found = candidates(problem)
    preference, tie = costs(problem, found)
    chosen = [i for i in week.chosen if not i.fixed]
    reached = (
        week.score.warnings,
        -week.score.sessions,
        sum(preference[i.index] for i in chosen),
        sum(tie[i.index] for i in chosen),
    )
    assert reached == best


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances(), st.randoms(use_true_random=False))
def test_on_any_week_the_model_says_exactly_what_the_catalogue_says(instance, random) -> None:
    """Not just at the optimum: for any choice of sessions, every rule's model reports
    the same conflicts (rule, level, day, sessions, busy time) as the catalogue."""
    problem = problem_of(*instance)
    found = candidates(problem)
    model = build(problem, found, elastic=True)
    chosen: list = []
    for item in found.items:
        if item.fixed or item.offset < 0:
            continue
        taken = {(i.offset, i.occurrence.start_utc) for i in chosen}
        want = problem.spec.want(item.name)
        assert want is not None
        pinned = sum(1 for i in found.items if i.fixed and i.offset >= 0 and i.name == item.name)
        room = max(want.high - pinned, 0) - sum(1 for i in chosen if i.name == item.name)
        pick = (
            random.random() < 0.6
            and (item.offset, item.occurrence.start_utc) not in taken
            and room > 0  # fit never chooses more than a want's max
        )
        if pick:
            chosen.append(item)
        model.lower[item.index] = model.upper[item.index] = 1 if pick else 0
    values = solve(model, [(p.var, 1.0) for p in model.potentials])
    assert values is not None
    week = _week(problem, found, model, values, set())
    schedule = judge_entries(problem, week.entries)
    assert week.claims == catalogue_claims(schedule)
