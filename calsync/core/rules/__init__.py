"""The rule catalogue: what a week of combined strength and endurance training must respect.

Each rule has an id, a default level (which may depend on the plan's goal), typed
parameters (calsync/core/rules/params.py) and a check. Checks are pure functions
from sessions to conflicts, one module per family: timing (order, gap, overlap,
max-per-day), legs, recovery (rest days, hard-then-easy) and deload. This module
is the one definition of each rule; placement, hints and the solver reason from
it. The reasoning behind every default is in the README ("The rules") and in the
training research the project follows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar, Protocol

from calsync.core.model import Conflict, Goal, Level, Occurrence, RuleParams, RuleSetting
from calsync.core.rules.common import DayView
from calsync.core.rules.deload import CycleWeek, check_deload
from calsync.core.rules.legs import (
    check_hypertrophy_ride,
    check_legs_then_hard,
    turns_legs_then_hard,
)
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
from calsync.core.rules.recovery import (
    check_hard_then_easy,
    check_rest_days,
    sees_hard_then_easy,
    sees_rest_days,
)
from calsync.core.rules.timing import (
    check_gap,
    check_max_per_day,
    check_order,
    check_overlap,
    turns_gap,
    turns_order,
    turns_overlap,
)

Settings = Mapping[str, RuleSetting]
DayCheck = Callable[[DayView, RuleSetting, Settings], Iterator[Conflict]]


class DaysCheck(Protocol):
    """A check across days; `worded=False` asks for the same conflicts without a message
    or hint where wording them costs more than finding them (for judging many changes)."""

    def __call__(
        self,
        days: Mapping[date, Sequence[Occurrence]],
        weeks: Sequence[date],
        setting: RuleSetting,
        *,
        worded: bool = True,
    ) -> Iterator[Conflict]: ...


PlanCheck = Callable[
    [Sequence[CycleWeek], Sequence[tuple[int, date]], RuleSetting], Iterator[Conflict]
]
# The starts at which a timed rule's verdict on one more session of a given length can
# change, given the day's other sessions and busy time: between two neighbouring
# instants the verdict is the same (tested against the checks in tests/test_placement.py).
Turns = Callable[[DayView, timedelta, RuleSetting, Settings], Iterable[datetime]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule: its id, what it asks, its parameters with their defaults, its levels."""

    scope: ClassVar[str] = "expansion"  # judged while expanding: no check of its own

    id: str
    summary: str
    levels: Mapping[Goal, Level]
    defaults: RuleParams = RuleParams()  # an instance of the rule's own parameter class

    @property
    def timed(self) -> bool:
        """Whether a session's start time can change the outcome: placement only tries
        to satisfy these, as no slot can fix the others."""
        return False

    def default_setting(self, goal: Goal) -> RuleSetting:
        return RuleSetting(self.id, self.levels[goal], self.defaults)


@dataclass(frozen=True, kw_only=True)
class DayRule(Rule):
    """A rule about one day's sessions and busy time."""

    scope: ClassVar[str] = "day"
    check: DayCheck
    turns: Turns | None = None  # set for every timed rule

    @property
    def timed(self) -> bool:
        return self.turns is not None


@dataclass(frozen=True, kw_only=True)
class DaysRule(Rule):
    """A rule about neighbouring days or the weeks in range.

    `sees` is all its check reads of one day's sessions besides their names (the last
    part of their keys): days that have the same names and `sees` day by day get the
    same conflicts (rule, level, dates, session names), whatever their times and
    lengths (tested against the check in tests/test_hints_memo.py). Hints use it to know
    two weeks alike when only what the check cannot see differs around them.
    """

    scope: ClassVar[str] = "days"
    check: DaysCheck
    sees: Callable[[Sequence[Occurrence], RuleSetting], Hashable]


@dataclass(frozen=True, kw_only=True)
class PlanRule(Rule):
    """A rule about the plan's repeating cycle, checked over the plan weeks in range."""

    scope: ClassVar[str] = "plan"
    check: PlanCheck


def _all(level: Level) -> Mapping[Goal, Level]:
    return dict.fromkeys(Goal, level)


CATALOGUE: tuple[Rule, ...] = (
    DayRule(
        id="order",
        summary="on a day with both, every `first` session ends before any `then` session starts",
        defaults=OrderParams(),
        levels=_all(Level.ERROR),
        check=check_order,
        turns=turns_order,
    ),
    DayRule(
        id="gap",
        summary="from the end of one session to the start of the next on the same day: "
        "at least `min`",
        defaults=GapParams(),
        levels=_all(Level.ERROR),
        check=check_gap,
        turns=turns_gap,
    ),
    DayRule(
        id="overlap",
        summary="no two sessions overlap; no session overlaps busy time",
        levels=_all(Level.ERROR),
        check=check_overlap,
        turns=turns_overlap,
    ),
    DayRule(
        id="max-per-day",
        summary="at most `count` sessions a day",
        defaults=MaxPerDayParams(),
        levels=_all(Level.ERROR),
        check=check_max_per_day,
    ),
    DaysRule(
        id="rest-days",
        summary="at least `min` days a week with no session",
        defaults=RestDaysParams(),
        levels=_all(Level.WARN),
        check=check_rest_days,
        sees=sees_rest_days,
    ),
    DaysRule(
        id="hard-then-easy",
        summary="a day with a hard session is not followed by a day with a hard session "
        "on the same muscles (`by: day`: on any muscles)",
        defaults=HardThenEasyParams(),
        levels=_all(Level.WARN),
        check=check_hard_then_easy,
        sees=sees_hard_then_easy,
    ),
    DayRule(
        id="legs-then-hard",
        summary="no hard ride/run later on a day with a hard strength session with focus legs "
        "(or full)",
        defaults=LegsThenHardParams(),
        levels={**_all(Level.WARN), Goal.HYPERTROPHY: Level.ERROR},
        check=check_legs_then_hard,
        turns=turns_legs_then_hard,
    ),
    DayRule(
        id="hypertrophy-ride",
        summary="on a leg day, a ride/run is easy and at most `max` long",
        defaults=HypertrophyRideParams(),
        levels={**_all(Level.OFF), Goal.HYPERTROPHY: Level.WARN},
        check=check_hypertrophy_ride,
    ),
    PlanRule(
        id="deload",
        summary="at most `max` weeks in a row without a week at least `cut` lighter than the "
        "heaviest",
        defaults=DeloadParams(),
        levels=_all(Level.WARN),
        check=check_deload,
    ),
    Rule(
        id="unplaced",
        summary="a session given a window found a slot in it",
        levels=_all(Level.ERROR),
    ),
    Rule(
        id="dst",
        summary="a wall-clock time exists exactly once on its day (daylight-saving changes)",
        levels=_all(Level.WARN),
    ),
)

RULES: Mapping[str, Rule] = {rule.id: rule for rule in CATALOGUE}
DAY_RULES = tuple(rule for rule in CATALOGUE if isinstance(rule, DayRule))
DAYS_RULES = tuple(rule for rule in CATALOGUE if isinstance(rule, DaysRule))


def day_conflicts(
    view: DayView, settings: Settings, timed_only: bool = False
) -> Iterator[Conflict]:
    for rule in DAY_RULES:
        setting = settings[rule.id]
        if setting.level is Level.OFF or (timed_only and not rule.timed):
            continue
        yield from rule.check(view, setting, settings)


def placement_starts(view: DayView, length: timedelta, settings: Settings) -> set[datetime]:
    """The starts worth trying for one more session of `length` on the day of `view`.

    The verdicts of the error-level timed rules on it are the same between two
    neighbouring turns, so the earliest whole-minute start that breaks none of them
    is a turn or the first whole minute after one (or where the search begins).
    """
    starts: set[datetime] = set()
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if not isinstance(rule, DayRule) or rule.turns is None or setting.level is not Level.ERROR:
            continue
        for turn in rule.turns(view, length, setting, settings):
            starts.add(turn)
            starts.add(turn.replace(second=0, microsecond=0) + timedelta(minutes=1))
    return starts


def span_conflicts(
    days: Mapping[date, Sequence[Occurrence]],
    weeks: Iterable[date],
    settings: Settings,
    worded: bool = True,
) -> Iterator[Conflict]:
    """The conflicts of the rules across days; `worded=False`: see `DaysCheck`."""
    weeks = tuple(weeks)
    for rule in DAYS_RULES:
        setting = settings[rule.id]
        if setting.level is not Level.OFF:
            yield from rule.check(days, weeks, setting, worded=worded)


def span_sees(sessions: Sequence[Occurrence], settings: Settings) -> tuple[Hashable, ...]:
    """All the rules across days read of one day's sessions besides their names (`sees`)."""
    return tuple(
        rule.sees(sessions, settings[rule.id])
        for rule in DAYS_RULES
        if settings[rule.id].level is not Level.OFF
    )


def plan_conflicts(
    cycle: Sequence[CycleWeek], weeks: Sequence[tuple[int, date]], settings: Settings
) -> Iterator[Conflict]:
    """Rules about the plan's cycle, checked over the plan weeks in range."""
    for rule in CATALOGUE:
        setting = settings[rule.id]
        if isinstance(rule, PlanRule) and setting.level is not Level.OFF:
            yield from rule.check(cycle, weeks, setting)
