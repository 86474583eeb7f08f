"""Each rule's parameters are a typed value of its own, read from the plan with line numbers.

Every parameter of every rule in the catalogue is given a value other than its default in
a plan and read back as the field's type; a value of the wrong kind is refused with the
file, the line, the rule's path and what was expected.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta

import pytest

from calsync.core.loader import PlanError, parse_plan
from calsync.core.model import Goal, Kind
from calsync.core.rules import CATALOGUE, RULES

# Rule settings start on line 10.
PLAN = """\
plan: params
timezone: Europe/Brussels
starts: 2026-11-30
sessions:
  legs: {kind: strength, title: "Legs: squat, RDL", duration: 75m, load: hard, focus: legs}
  z2: {kind: ride, title: Zone 2 ride, duration: 1h, load: easy}
week:
  mon: [legs 10:00, z2 18:00]
rules:
"""

# (rule, parameter) -> what a plan writes, and what it means
GIVEN: dict[tuple[str, str], tuple[str, object]] = {
    ("order", "first"): ("[ride, run]", (Kind.RIDE, Kind.RUN)),
    ("order", "then"): ("strength", (Kind.STRENGTH,)),
    ("gap", "min"): ("1h30m", timedelta(minutes=90)),
    ("max-per-day", "count"): ("3", 3),
    ("rest-days", "min"): ("2", 2),
    ("hard-then-easy", "by"): ("day", "day"),
    ("legs-then-hard", "kinds"): ("[ride]", (Kind.RIDE,)),
    ("hypertrophy-ride", "kinds"): ("run", (Kind.RUN,)),
    ("hypertrophy-ride", "max"): ("30m", timedelta(minutes=30)),
    ("deload", "max"): ("6", 6),
    ("deload", "cut"): ("25%", 0.25),
}

# (rule, parameter) -> a value of the wrong kind, and what the message says was expected
WRONG: dict[tuple[str, str], tuple[str, str]] = {
    ("order", "first"): ("bike", "expected a kind or a list of kinds (strength, ride, run"),
    ("order", "then"): ("[]", "expected at least one kind"),
    ("gap", "min"): ("soon", "'soon' is not a duration (expected e.g. 45m, 1h, 1h30m or PT1H30M)"),
    ("max-per-day", "count"): ("two", "expected a whole number, 0 or more"),
    ("rest-days", "min"): ("[1]", "expected a whole number, 0 or more"),
    ("hard-then-easy", "by"): ("muscle", "expected one of: muscles, day"),
    ("legs-then-hard", "kinds"): ("[swim, bike]", "expected a kind or a list of kinds"),
    ("hypertrophy-ride", "kinds"): ("cycling", "expected a kind or a list of kinds"),
    ("hypertrophy-ride", "max"): ("long", "'long' is not a duration"),
    ("deload", "max"): ("60", "expected a number of weeks from 1 to 52"),
    ("deload", "cut"): (
        "150%",
        "'150%' is not a percentage (expected e.g. 20% or 20, from 1 to 99)",
    ),
}

PARAMS = [(rule.id, f.name) for rule in CATALOGUE for f in fields(rule.defaults)]


def with_rule(rule: str, param: str, value: str) -> str:
    return PLAN + f"  {rule}: {{{param}: {value}}}\n"


def test_every_parameter_of_the_catalogue_is_tried_here() -> None:
    assert sorted(GIVEN) == sorted(PARAMS)
    assert sorted(WRONG) == sorted(PARAMS)


@pytest.mark.parametrize(("rule", "param"), PARAMS, ids=[f"{r}.{p}" for r, p in PARAMS])
def test_a_parameter_is_read_as_its_own_type_and_the_others_keep_their_defaults(
    rule: str, param: str
) -> None:
    text, meant = GIVEN[(rule, param)]
    setting = parse_plan(with_rule(rule, param, text), "plan.yaml").rule(rule)
    defaults = RULES[rule].defaults
    assert setting.params == replace(defaults, **{param: meant})
    assert type(setting.params) is type(defaults)
    assert type(getattr(setting.params, param)) is type(getattr(defaults, param))


@pytest.mark.parametrize("goal", list(Goal))
def test_a_plan_without_rules_has_every_rule_at_its_defaults(goal: Goal) -> None:
    plan = parse_plan(PLAN.replace("rules:\n", f"goal: {goal}\n"), "plan.yaml")
    assert [(s.id, s.level, s.params) for s in plan.rules] == [
        (r.id, r.levels[goal], r.defaults) for r in CATALOGUE
    ]


def test_a_level_alone_keeps_the_parameters() -> None:
    plan = parse_plan(PLAN + "  gap: warn\n  deload: {level: off}\n", "plan.yaml")
    assert plan.rule("gap").params == RULES["gap"].defaults
    assert plan.rule("deload").params == RULES["deload"].defaults


@pytest.mark.parametrize(("rule", "param"), PARAMS, ids=[f"{r}.{p}" for r, p in PARAMS])
def test_a_parameter_of_the_wrong_kind_is_named_with_its_file_line_and_expectation(
    rule: str, param: str
) -> None:
    text, expected = WRONG[(rule, param)]
    with pytest.raises(PlanError) as raised:
        parse_plan(with_rule(rule, param, text), "plan.yaml")
    assert str(raised.value).startswith(f"plan.yaml:10: rules.{rule}.{param}: {expected}")
    assert len(raised.value.problems) == 1
