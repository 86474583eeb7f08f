"""The plan's fields that stand alone: rule settings, the cycle, and scalar values.

Each reader takes the node reader (calsync/core/yamlread.py), reports what is
wrong at the node's line, and returns None for a value that cannot be used.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial

from yaml.nodes import Node, ScalarNode

from calsync.core.model import Goal, Kind, Level, Phase, RuleSetting
from calsync.core.rules import RULES
from calsync.core.rules.params import param_fields, parser
from calsync.core.yamlread import NodeReader, all_read, plain


def read_rules(r: NodeReader, node: Node | None, goal: Goal) -> tuple[RuleSetting, ...]:
    settings = {rule.id: rule.default_setting(goal) for rule in RULES.values()}
    given = r.mapping(node, "rules") if node is not None else {}
    for rule_id, value in (given or {}).items():
        path = f"rules.{rule_id}"
        if rule_id not in RULES:
            r.fail(value, path, f"unknown rule '{rule_id}' (known: {', '.join(RULES)})")
            continue
        setting = _rule(r, settings[rule_id], value, path)
        if setting is not None:
            settings[rule_id] = setting
    return tuple(settings.values())


def _rule(r: NodeReader, default: RuleSetting, node: Node, path: str) -> RuleSetting | None:
    if isinstance(node, ScalarNode):
        level = r.choice(node, f"{path}", Level)
        return None if level is None else replace(default, level=level)
    params = param_fields(default.params)
    fields = r.mapping(node, path, optional=("level", *(p.name for p in params)))
    if fields is None:
        return None
    level = (
        r.choice(fields["level"], f"{path}.level", Level) if "level" in fields else default.level
    )
    values: dict[str, object] = {}
    for param in params:
        if param.name in fields:
            raw = plain(fields[param.name])
            parse = parser(param)
            values[param.name] = r.attempt(
                fields[param.name], f"{path}.{param.name}", partial(parse, raw)
            )
    if level is None or None in values.values():
        return None
    return RuleSetting(default.id, level, replace(default.params, **values))


def read_cycle(r: NodeReader, node: Node) -> tuple[Phase, ...] | None:
    items = r.items(node, "cycle")
    if items is None:
        return None
    if not items:
        r.fail(node, "cycle", "expected at least one phase, e.g. {name: build, weeks: 3}")
        return None
    return all_read(_phase(r, item, f"cycle[{i}]") for i, item in enumerate(items))


def _phase(r: NodeReader, node: Node, path: str) -> Phase | None:
    fields = r.mapping(node, path, required=("name", "weeks"), optional=("scale",))
    if fields is None:
        return None
    name = r.text(fields["name"], f"{path}.name") if "name" in fields else None
    weeks = r.integer(fields["weeks"], f"{path}.weeks", 1, 52) if "weeks" in fields else None
    scale: list[tuple[Kind, float]] = []
    factors = r.mapping(fields["scale"], f"{path}.scale") if "scale" in fields else {}
    for kind_name, value in (factors or {}).items():
        where = f"{path}.scale.{kind_name}"
        kind = r.attempt(value, where, partial(kind_named, kind_name))
        factor = r.parsed(value, where, scale_factor)
        if kind is not None and factor is not None:
            scale.append((kind, factor))
    if name is None or weeks is None:
        return None
    return Phase(name, weeks, tuple(scale))


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD)") from None


def kind_named(name: str) -> Kind:
    try:
        return Kind(name)
    except ValueError:
        raise ValueError(f"unknown kind '{name}' (expected one of: {', '.join(Kind)})") from None


def rpe(text: str) -> float:
    """A session RPE on Foster's 0-10 scale (CR-10): a number from 1 to 10, halves allowed."""
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 10 or value * 2 != int(value * 2):
        raise ValueError(
            f"'{text}' is not a session RPE (expected a number from 1 to 10, e.g. 3 or 7.5)"
        )
    return int(value) if value == int(value) else value


def scale_factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0.1 <= value <= 2.0:
        raise ValueError(f"'{text}' is not a scale factor (expected a number from 0.1 to 2.0)")
    return value
