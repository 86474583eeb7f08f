"""Each rule's parameters: one frozen dataclass per rule, its defaults and its parsers.

A field's `metadata["parse"]` reads the value a plan gives (a scalar as text, a
whole number as int, a list as a list) and returns the field's type, or raises
ValueError with what was expected; the loader adds the file, line and path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from datetime import timedelta
from typing import Any, Literal

from calsync.core.model import Kind, RuleParams
from calsync.core.units import parse_duration

ENDURANCE = (Kind.RIDE, Kind.RUN)
COMPARE = ("muscles", "day")  # what `hard-then-easy` compares two days by

Parse = Callable[[object], object]


def as_kinds(value: object) -> tuple[Kind, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("expected at least one kind")
    try:
        return tuple(Kind(str(item)) for item in items)
    except ValueError:
        raise ValueError(
            f"expected a kind or a list of kinds ({', '.join(k.value for k in Kind)})"
        ) from None


def as_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def as_duration(value: object) -> timedelta:
    return parse_duration(str(value))


def as_compare(value: object) -> Literal["muscles", "day"]:
    if value == "muscles":
        return "muscles"
    if value == "day":
        return "day"
    raise ValueError(f"expected one of: {', '.join(COMPARE)}")


def as_weeks(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 52:
        raise ValueError("expected a number of weeks from 1 to 52")
    return value


def as_percent(value: object) -> float:
    text = str(value).strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        number = -1
    if not 0 < number < 100:
        raise ValueError(f"'{value}' is not a percentage (expected e.g. 20% or 20, from 1 to 99)")
    return number / 100


def _param(default: Any, parse: Parse) -> Any:
    """A parameter field: its default and the parser of what a plan writes for it."""
    return field(default=default, metadata={"parse": parse})


def parser(of: Field[object]) -> Parse:
    """The parser of a parameter field."""
    parse: Parse = of.metadata["parse"]
    return parse


def param_fields(params: RuleParams) -> tuple[Field[object], ...]:
    """The parameters a rule takes, in the order a plan's rule settings name them."""
    return fields(params)


@dataclass(frozen=True)
class OrderParams(RuleParams):
    first: tuple[Kind, ...] = _param((Kind.STRENGTH,), as_kinds)
    then: tuple[Kind, ...] = _param(ENDURANCE, as_kinds)


@dataclass(frozen=True)
class GapParams(RuleParams):
    min: timedelta = _param(timedelta(hours=4), as_duration)


@dataclass(frozen=True)
class MaxPerDayParams(RuleParams):
    count: int = _param(2, as_count)


@dataclass(frozen=True)
class RestDaysParams(RuleParams):
    min: int = _param(1, as_count)


@dataclass(frozen=True)
class HardThenEasyParams(RuleParams):
    by: Literal["muscles", "day"] = _param("muscles", as_compare)


@dataclass(frozen=True)
class LegsThenHardParams(RuleParams):
    kinds: tuple[Kind, ...] = _param(ENDURANCE, as_kinds)


@dataclass(frozen=True)
class HypertrophyRideParams(RuleParams):
    kinds: tuple[Kind, ...] = _param(ENDURANCE, as_kinds)
    max: timedelta = _param(timedelta(minutes=20), as_duration)


@dataclass(frozen=True)
class DeloadParams(RuleParams):
    max: int = _param(8, as_weeks)
    cut: float = _param(0.2, as_percent)
