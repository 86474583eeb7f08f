"""`calsync fit`, the pure part: from a plan's wants to the proven-best week the rules allow.

    problem = Problem(plan, plan.fit, monday, busy)     # one week to fit
    week = best_week(problem)                          # None: no week meets the wants
    schedule = check_against_catalogue(week)           # the rule catalogue's verdict
    explanation = explain(problem, week)               # what each rule costs
    diagnosis = diagnose(problem)                      # when there is no week

The solver's answer is always judged by the rule catalogue (calsync/rules.py, through
`expand`); `check_against_catalogue` fails loudly if the two ever disagree.
"""

from __future__ import annotations

from calsync.core.fit.model import MODELLED, NOT_MODELLED
from calsync.core.fit.problem import Problem
from calsync.core.fit.solve import Claim, Week, best_week, catalogue_claims, closest_week, judge
from calsync.core.fit.tradeoffs import Diagnosis, Explanation, diagnose, explain
from calsync.core.model import Schedule
from calsync.errors import Failure


def check_against_catalogue(week: Week) -> Schedule:
    """The catalogue's schedule of the week; it must report exactly what the solver claims."""
    schedule = judge(week)
    found = catalogue_claims(schedule)
    if found != week.claims:
        unknown = sorted({c.rule for c in found} - set(MODELLED) - set(NOT_MODELLED))
        if unknown:
            raise Failure(
                f"calsync fit has no model of the rule(s) {', '.join(unknown)} yet, and the "
                "fitted week breaks them; set them to off in rules: to fit"
            )
        missed = sorted(set(found) - set(week.claims))
        extra = sorted(set(week.claims) - set(found))
        raise Failure(
            "the solver and the rule catalogue disagree about the fitted week (a bug; please "
            f"report it): catalogue only {missed}; solver only {extra}"
        )
    return schedule


__all__ = [
    "Claim",
    "Diagnosis",
    "Explanation",
    "Problem",
    "Week",
    "best_week",
    "check_against_catalogue",
    "closest_week",
    "diagnose",
    "explain",
    "judge",
]
