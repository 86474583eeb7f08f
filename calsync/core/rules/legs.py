"""Checks of a leg day: no hard ride or run after heavy legs; for muscle growth, short and easy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from calsync.core.model import Conflict, Kind, Load, Occurrence, RuleSetting
from calsync.core.rules.common import DayView, conflict, span
from calsync.core.rules.params import HypertrophyRideParams, LegsThenHardParams
from calsync.core.units import format_duration

Settings = Mapping[str, RuleSetting]


def leg_sessions(view: DayView, hard_only: bool) -> Iterator[Occurrence]:
    """The day's strength sessions on the legs (focus legs or full), or only the hard ones."""
    for o in view.sessions:
        s = o.session
        trains_legs = "legs" in s.focus or "full" in s.focus
        if s.kind is Kind.STRENGTH and trains_legs and (s.load is Load.HARD or not hard_only):
            yield o


def check_legs_then_hard(
    view: DayView, setting: RuleSetting, settings: Settings
) -> Iterator[Conflict]:
    kinds = setting.typed(LegsThenHardParams).kinds
    for legs in leg_sessions(view, hard_only=True):
        for o in view.sessions:
            if (
                o.session.kind in kinds
                and o.session.load is Load.HARD
                and o.start_utc >= legs.start_utc
            ):
                yield conflict(
                    setting,
                    view.date,
                    f"hard {o.session.kind} {span(o)} after the leg session {span(legs)}",
                    legs,
                    o,
                    hint=f"move '{o.session.title}' to another day, or make it easy",
                )


def turns_legs_then_hard(
    view: DayView, length: timedelta, setting: RuleSetting, settings: Settings
) -> Iterator[datetime]:
    for o in view.sessions:
        yield o.start_utc  # a hard ride before or after the leg session


def check_hypertrophy_ride(
    view: DayView, setting: RuleSetting, settings: Settings
) -> Iterator[Conflict]:
    params = setting.typed(HypertrophyRideParams)
    kinds, longest = params.kinds, params.max
    legs = next(leg_sessions(view, hard_only=False), None)
    if legs is None:
        return
    for o in view.sessions:
        s = o.session
        too_long = s.duration > longest
        if s.kind in kinds and (s.load is not Load.EASY or too_long):
            length = format_duration(s.duration)
            what = f"is {s.load}, {length}," if s.load is not Load.EASY else f"lasts {length}"
            yield conflict(
                setting,
                view.date,
                f"{span(o)} {what} on a leg day: for muscle growth, at most an easy "
                f"{format_duration(longest)} {s.kind}",
                legs,
                o,
                hint=f"shorten '{s.title}' to an easy {format_duration(longest)}, "
                "or move it to the next day",
            )
